// A child process that runs the conformance suite: started with posix_spawn in a process group
// of its own (so that a Ctrl-C at the terminal reaches only certify, which then stops every
// child with whatever it started), its output in files, polled without blocking, killed by its
// process group when it overstays.
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
        bool interrupted{false}; //!< stopped by Stop (certify was interrupted)

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
    /// Ends a running child's process group with SIGKILL (it is marked as timed out) and reaps
    /// the child.
    void KillForTimeout();
    /// Ends a running child's process group: SIGTERM, then SIGKILL when it is still there
    /// after graceSeconds; reaps the child. It is marked as interrupted.
    void Stop(double graceSeconds);
    /// Seconds since Start.
    double Elapsed() const;
    pid_t GetPid() const;
    const Status& GetStatus() const;

    /// Starts, waits at most timeoutSeconds (then kills), and returns how it ended; a pending
    /// interrupt (CertifyInterrupt) stops it.
    static Status Run(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const std::string& stdoutPath,
                      const std::string& stderrPath,
                      double timeoutSeconds,
                      std::string* error);

  private:
    /// SIGKILL to the child's process group; a child still running is reaped and its status
    /// says killed by SIGKILL.
    void KillGroup();

    pid_t m_pid{-1};
    bool m_running{false};
    Status m_status;
    std::chrono::steady_clock::time_point m_start;
};

} // namespace offloadlab

#endif // CHILD_PROCESS_H
