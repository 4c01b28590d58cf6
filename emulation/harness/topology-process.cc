#include "topology-process.h"

#include "harness-process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ns3
{

TopologyProcess::~TopologyProcess()
{
    Stop();
}

bool
TopologyProcess::Start(const std::string& script,
                       const std::string& prefix,
                       const std::string& logPath,
                       nlohmann::json* topology,
                       std::string* error)
{
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
    {
        *error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    m_log = logPath;
    ChildOptions options;
    options.stdinFd = in[0];
    options.stdoutFd = out[1];
    options.env = {"LOG=" + logPath};
    // Debian's Python with Mininet (never a pyenv interpreter on PATH), its stderr to the log.
    const std::vector<std::string> shell = {
        "/bin/sh",
        "-c",
        "unset PYTHONPATH PYTHONHOME; exec /usr/bin/python3 \"$0\" --prefix \"$1\" 2>\"$LOG\"",
        script,
        prefix};
    m_pid = SpawnChild(shell, options, error);
    close(in[0]);
    close(out[1]);
    m_toScript = in[1];
    m_fromScript = out[0];
    if (m_pid < 0)
    {
        return false;
    }
    if (!ReadLine(topology, std::chrono::seconds(30), error))
    {
        return false;
    }
    if (topology->contains("error"))
    {
        *error = "topology script: " + (*topology)["error"].get<std::string>();
        return false;
    }
    return true;
}

bool
TopologyProcess::ReadLine(nlohmann::json* message,
                          std::chrono::milliseconds timeout,
                          std::string* error)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true)
    {
        const size_t newline = m_buffer.find('\n');
        if (newline != std::string::npos)
        {
            const std::string line = m_buffer.substr(0, newline);
            m_buffer.erase(0, newline + 1);
            *message = nlohmann::json::parse(line, nullptr, false);
            if (message->is_discarded())
            {
                *error = "topology script: not JSON: " + line;
                return false;
            }
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0 || g_emulationInterrupted)
        {
            *error = g_emulationInterrupted
                         ? "interrupted"
                         : "topology script: no answer in time; its log: " + ReadWholeFile(m_log);
            return false;
        }
        pollfd p{m_fromScript, POLLIN, 0};
        if (poll(&p, 1, int(std::min<long>(left.count(), 100))) > 0)
        {
            char chunk[4096];
            const ssize_t n = read(m_fromScript, chunk, sizeof(chunk));
            if (n <= 0)
            {
                *error = "topology script ended; its log: " + ReadWholeFile(m_log);
                return false;
            }
            m_buffer.append(chunk, size_t(n));
        }
    }
}

bool
TopologyProcess::Configure(std::string* error)
{
    const std::string request = "{\"op\": \"configure\"}\n";
    if (write(m_toScript, request.data(), request.size()) != ssize_t(request.size()))
    {
        *error = std::string("topology script: ") + std::strerror(errno);
        return false;
    }
    nlohmann::json answer;
    if (!ReadLine(&answer, std::chrono::seconds(30), error))
    {
        return false;
    }
    if (!answer.value("configured", false))
    {
        *error = "topology script could not configure the TAPs: " + answer.dump();
        return false;
    }
    return true;
}

void
TopologyProcess::Stop(std::chrono::milliseconds grace)
{
    if (m_toScript >= 0)
    {
        close(m_toScript);
        m_toScript = -1;
    }
    if (m_pid > 0)
    {
        int status = 0;
        if (!WaitChild(m_pid, grace, &status))
        {
            StopChild(m_pid, std::chrono::seconds(10));
        }
        m_pid = -1;
    }
    if (m_fromScript >= 0)
    {
        close(m_fromScript);
        m_fromScript = -1;
    }
}

pid_t
TopologyProcess::GetPid() const
{
    return m_pid;
}

} // namespace ns3
