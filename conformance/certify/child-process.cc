#include "child-process.h"

#include "certify-interrupt.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace offloadlab
{

std::string
ChildProcess::Status::Describe() const
{
    if (timedOut)
    {
        return "timed out and was killed";
    }
    if (interrupted)
    {
        return "was stopped: certify was interrupted";
    }
    if (signal != 0)
    {
        return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    }
    return "exited with code " + std::to_string(exitCode);
}

ChildProcess::~ChildProcess()
{
    if (m_running)
    {
        KillForTimeout();
    }
}

bool
ChildProcess::Start(const std::vector<std::string>& argv,
                    const std::map<std::string, std::string>& env,
                    const std::string& stdoutPath,
                    const std::string& stderrPath,
                    std::string* error)
{
    std::vector<std::string> envStrings;
    for (char** e = environ; e && *e; ++e)
    {
        const std::string entry(*e);
        if (!env.count(entry.substr(0, entry.find('='))))
        {
            envStrings.push_back(entry);
        }
    }
    for (const auto& [name, value] : env)
    {
        envStrings.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& s : envStrings)
    {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args(argv);
    std::vector<char*> argp;
    for (auto& s : args)
    {
        argp.push_back(s.data());
    }
    argp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions,
                                     STDOUT_FILENO,
                                     stdoutPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions,
                                     STDERR_FILENO,
                                     stderrPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    // Its own process group: the child and everything it starts (the embedded Python catches
    // SIGINT itself) are stopped together, by certify, never by the terminal.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    m_start = std::chrono::steady_clock::now();
    // glibc's posix_spawn reports a failed exec (missing file, no permission) as its result.
    const int rc = posix_spawn(&m_pid, argp[0], &actions, &attributes, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0)
    {
        *error = "cannot start " + argv[0] + ": " + std::strerror(rc);
        m_pid = -1;
        return false;
    }
    m_running = true;
    m_status = Status{};
    return true;
}

bool
ChildProcess::Poll()
{
    if (!m_running)
    {
        return true;
    }
    int status = 0;
    pid_t r;
    do
    {
        r = waitpid(m_pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0)
    {
        return false;
    }
    m_running = false;
    if (r < 0)
    {
        m_status.signal = 0;
        m_status.exitCode = -1;
        return true;
    }
    if (WIFEXITED(status))
    {
        m_status.exited = true;
        m_status.exitCode = WEXITSTATUS(status);
    }
    else if (WIFSIGNALED(status))
    {
        m_status.signal = WTERMSIG(status);
    }
    return true;
}

void
ChildProcess::KillForTimeout()
{
    if (!m_running)
    {
        return;
    }
    KillGroup();
    m_status.timedOut = true;
}

void
ChildProcess::KillGroup()
{
    kill(-m_pid, SIGKILL);
    if (!m_running)
    {
        return;
    }
    int status = 0;
    while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    m_running = false;
    m_status = Status{};
    m_status.signal = SIGKILL;
}

void
ChildProcess::Stop(double graceSeconds)
{
    if (!m_running)
    {
        return;
    }
    kill(-m_pid, SIGTERM);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(graceSeconds);
    while (!Poll() && std::chrono::steady_clock::now() < deadline)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The group may outlive its leader (a grandchild that ignores SIGTERM).
    KillGroup();
    m_status.interrupted = true;
}

double
ChildProcess::Elapsed() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

pid_t
ChildProcess::GetPid() const
{
    return m_pid;
}

const ChildProcess::Status&
ChildProcess::GetStatus() const
{
    return m_status;
}

ChildProcess::Status
ChildProcess::Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env,
                  const std::string& stdoutPath,
                  const std::string& stderrPath,
                  double timeoutSeconds,
                  std::string* error)
{
    ChildProcess child;
    if (!child.Start(argv, env, stdoutPath, stderrPath, error))
    {
        return Status{};
    }
    while (!child.Poll())
    {
        if (CertifyInterrupt::Pending())
        {
            child.Stop(CertifyInterrupt::kGraceSeconds);
            break;
        }
        if (child.Elapsed() > timeoutSeconds)
        {
            child.KillForTimeout();
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return child.GetStatus();
}

} // namespace offloadlab
