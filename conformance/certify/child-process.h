// A child process that runs the conformance suite: started with posix_spawn, its output in
// files, polled without blocking, killed by its PID when it overstays.
#ifndef CHILD_PROCESS_H
#define CHILD_PROCESS_H

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace offloadlab
{

class ChildProcess
{
  public:
    /// How a child ended.
    struct Status
    {
        bool exited{false}; //!< ended by exit(): exitCode is valid
        int exitCode{-1};
        int signal{0}; //!< ended by this signal
        bool timedOut{false};

        /// "exited with code 1", "killed by signal 11 (Segmentation fault)", ...
        std::string Describe() const;
    };

    ChildProcess() = default;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// A child still running is killed and reaped.
    ~ChildProcess();

    /// Starts argv (argv[0] is a path) with the environment of this process plus env (added or
    /// replaced), stdin from /dev/null and stdout / stderr into the files named. False with a
    /// message when it could not start.
    bool Start(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env,
               const std::string& stdoutPath,
               const std::string& stderrPath,
               std::string* error);
    /// Without blocking: true once the child has ended (GetStatus() then says how).
    bool Poll();
    /// Ends a running child with SIGKILL (it is marked as timed out) and reaps it.
    void KillForTimeout();
    /// Seconds since Start.
    double Elapsed() const;
    pid_t GetPid() const;
    const Status& GetStatus() const;

    /// Starts, waits at most timeoutSeconds (then kills), and returns how it ended.
    static Status Run(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const std::string& stdoutPath,
                      const std::string& stderrPath,
                      double timeoutSeconds,
                      std::string* error);

  private:
    pid_t m_pid{-1};
    bool m_running{false};
    Status m_status;
    std::chrono::steady_clock::time_point m_start;
};

} // namespace offloadlab

#endif // CHILD_PROCESS_H
