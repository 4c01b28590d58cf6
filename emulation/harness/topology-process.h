// A Mininet topology script (topologies/emulation/*.py) as the harness runs it: the real hosts'
// side of an emulation topology, spoken to in JSON lines (see emutopo.py).
#ifndef TOPOLOGY_PROCESS_H
#define TOPOLOGY_PROCESS_H

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>

namespace ns3
{

class TopologyProcess
{
  public:
    ~TopologyProcess();

    /// Runs script with Debian's Python under prefix; returns once it described the topology
    /// (into *topology), false with the reason (its stderr included) otherwise.
    bool Start(const std::string& script,
               const std::string& prefix,
               const std::string& logPath,
               nlohmann::json* topology,
               std::string* error);
    /// Asks it to address the TAPs the harness opened; false with its errors.
    bool Configure(std::string* error);
    /// Closes its stdin (it stops the network and exits), waits up to grace, then kills it.
    void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
    pid_t GetPid() const;

  private:
    bool ReadLine(nlohmann::json* message, std::chrono::milliseconds timeout, std::string* error);

    pid_t m_pid{-1};
    int m_toScript{-1};
    int m_fromScript{-1};
    std::string m_buffer;
    std::string m_log;
};

} // namespace ns3

#endif // TOPOLOGY_PROCESS_H
