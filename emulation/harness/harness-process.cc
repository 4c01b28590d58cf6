#include "harness-process.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ns3
{

std::atomic<bool> g_emulationInterrupted{false};

pid_t
SpawnChild(const std::vector<std::string>& argv, const ChildOptions& options, std::string* error)
{
    if (argv.empty())
    {
        *error = "nothing to run";
        return -1;
    }
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<std::string> strings = argv;
    std::vector<char*> args;
    for (auto& a : strings)
    {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    std::vector<std::string> envStrings;
    for (char** e = environ; *e; ++e)
    {
        envStrings.emplace_back(*e);
    }
    for (const auto& e : options.env)
    {
        envStrings.push_back(e);
    }
    std::vector<char*> envp;
    for (auto& e : envStrings)
    {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    const std::string out = options.outPath.empty() ? "/dev/null" : options.outPath;
    int errorPipe[2];
    if (pipe2(errorPipe, O_CLOEXEC) != 0)
    {
        *error = std::string("pipe: ") + std::strerror(errno);
        return -1;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0)
    {
        *error = std::string("fork: ") + std::strerror(errno);
        close(errorPipe[0]);
        close(errorPipe[1]);
        return -1;
    }
    if (pid == 0)
    {
        if (options.dieWithParent)
        {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
            {
                _exit(127); // the parent is already gone
            }
        }
        const int in = options.stdinFd >= 0 ? options.stdinFd : open("/dev/null", O_RDONLY);
        const int o = options.stdoutFd >= 0 ? options.stdoutFd
                                            : open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
        {
            const int e = errno;
            (void)!write(errorPipe[1], &e, sizeof(e));
            _exit(127);
        }
        // Back to the default dispositions the harness changed.
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execvpe(args[0], args.data(), envp.data());
        const int e = errno;
        (void)!write(errorPipe[1], &e, sizeof(e));
        _exit(127);
    }
    close(errorPipe[1]);
    int childErrno = 0;
    const ssize_t n = read(errorPipe[0], &childErrno, sizeof(childErrno));
    close(errorPipe[0]);
    if (n == sizeof(childErrno))
    {
        waitpid(pid, nullptr, 0);
        *error = argv[0] + ": " + std::strerror(childErrno);
        return -1;
    }
    return pid;
}

bool
WaitChild(pid_t pid, std::chrono::milliseconds timeout, int* status)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true)
    {
        int s = 0;
        const pid_t r = waitpid(pid, &s, WNOHANG);
        if (r == pid)
        {
            if (status)
            {
                *status = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
            }
            return true;
        }
        if (r < 0 && errno != EINTR)
        {
            if (status)
            {
                *status = -1;
            }
            return true; // not our child (any more)
        }
        if (std::chrono::steady_clock::now() >= until || g_emulationInterrupted)
        {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

int
StopChild(pid_t pid, std::chrono::milliseconds grace)
{
    if (pid <= 0)
    {
        return -1;
    }
    int status = -1;
    kill(pid, SIGTERM);
    const bool interrupted = g_emulationInterrupted.exchange(false);
    if (!WaitChild(pid, grace, &status))
    {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        status = 128 + SIGKILL;
    }
    if (interrupted)
    {
        g_emulationInterrupted = true;
    }
    return status;
}

int
RunChild(const std::vector<std::string>& argv,
         std::chrono::milliseconds timeout,
         const std::string& outPath,
         std::string* output)
{
    std::string error;
    ChildOptions options;
    options.outPath = outPath;
    const pid_t pid = SpawnChild(argv, options, &error);
    if (pid < 0)
    {
        if (output)
        {
            *output = error;
        }
        return -1;
    }
    int status = -1;
    if (!WaitChild(pid, timeout, &status))
    {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        status = -1;
    }
    if (output)
    {
        *output = ReadWholeFile(outPath);
    }
    return status;
}

bool
ProcessGone(pid_t pid)
{
    if (kill(pid, 0) != 0)
    {
        return true;
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
    {
        return true;
    }
    const size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

double
ProcessCpuSeconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
    {
        return -1;
    }
    // Fields after the command name (which may hold spaces) in parentheses.
    const size_t close = line.rfind(')');
    if (close == std::string::npos)
    {
        return -1;
    }
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; fields >> field; ++i)
    {
        if (i == 14)
        {
            utime = std::stoull(field);
        }
        else if (i == 15)
        {
            stime = std::stoull(field);
            break;
        }
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

std::string
ReadWholeFile(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string
ShellOutput(const std::string& command)
{
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (!p)
    {
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    {
        out.append(buf, n);
    }
    pclose(p);
    return out;
}

} // namespace ns3
