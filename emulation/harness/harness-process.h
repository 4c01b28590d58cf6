// The processes an emulation run starts (the topology script, charon, swanctl, ping, iperf3):
// started by fork and exec, known by PID only, stopped by PID only.
#ifndef HARNESS_PROCESS_H
#define HARNESS_PROCESS_H

#include <atomic>
#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ns3
{

/// Set by the harness's SIGINT/SIGTERM handler: every wait gives up, and cleanup runs.
extern std::atomic<bool> g_emulationInterrupted;

struct ChildOptions
{
    std::string outPath;          //!< stdout and stderr go here ("": /dev/null)
    std::vector<std::string> env; //!< "NAME=value" added to this process's environment
    bool dieWithParent{true};     //!< PR_SET_PDEATHSIG SIGTERM: a killed harness
                                  //!< leaves no charon running
    int stdinFd{-1};              //!< dup'ed to stdin (else /dev/null)
    int stdoutFd{-1};             //!< dup'ed to stdout instead of outPath
};

/// Starts argv[0] (found on PATH). The PID, or -1 with the reason in *error.
pid_t SpawnChild(const std::vector<std::string>& argv,
                 const ChildOptions& options,
                 std::string* error);

/// Waits for pid to end, at most timeout (or until interrupted). True with its exit status
/// (128 + signal when killed) if it ended; false if it is still running.
bool WaitChild(pid_t pid, std::chrono::milliseconds timeout, int* status);

/// SIGTERM, up to grace for it to end, then SIGKILL; reaps it. Its exit status.
int StopChild(pid_t pid, std::chrono::milliseconds grace);

/// Runs argv to its end (at most timeout; killed after): its exit status, -1 if it could not
/// start or was killed; its output in *output when given.
int RunChild(const std::vector<std::string>& argv,
             std::chrono::milliseconds timeout,
             const std::string& outPath,
             std::string* output = nullptr);

/// True when pid is no process, or only a zombie waiting for its parent (its resources gone).
bool ProcessGone(pid_t pid);

/// CPU time (user + system) a live process has used, from /proc/<pid>/stat; -1 if unknown.
double ProcessCpuSeconds(pid_t pid);

std::string ReadWholeFile(const std::string& path);

/// What `sh -c command` writes to its standard output (for checks in tests).
std::string ShellOutput(const std::string& command);

} // namespace ns3

#endif // HARNESS_PROCESS_H
