// One emulation run, start to end: the topology's real hosts (Mininet), their ns-3 nodes and
// wires in a real-time simulation, real charons keying the nodes, real traffic, the results,
// and a teardown that leaves nothing behind, also on failure and on SIGINT/SIGTERM.
#ifndef EMULATION_RUN_H
#define EMULATION_RUN_H

#include "emulated-host.h"

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace ns3
{

/// A running emulation as a scenario sees it, between the CHILD_SA's installation and teardown.
class EmulationSession
{
  public:
    virtual ~EmulationSession() = default;
    /// argv in the host's network namespace; its exit status, output into *out.
    virtual int Exec(const std::string& host,
                     const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout,
                     std::string* out) = 0;
    /// argv in the host's network namespace with its NETLINK_XFRM sockets sent to the host's
    /// node (the preload charon runs with), as `ip xfrm` is run there.
    virtual int ExecXfrm(const std::string& host,
                         const std::vector<std::string>& argv,
                         std::string* out) = 0;
    /// fn in the simulator thread with every emulated host by its short name.
    virtual void InSimulator(
        const std::function<void(const std::map<std::string, Ptr<EmulatedHost>>&)>& fn) = 0;
    virtual int Swanctl(const std::string& host,
                        const std::vector<std::string>& args,
                        std::string* out) = 0;
    virtual std::string CharonLog(const std::string& host) const = 0;
    /// The topology's description (hosts, emulated interfaces, traffic endpoints).
    virtual const nlohmann::json& Topology() const = 0;
    /// results.json as it is so far; a scenario may add its own findings.
    virtual nlohmann::json& Results() = 0;
    /// The standard traffic: ping, iperf3 both ways, the 1 kHz probe.
    virtual bool Traffic(std::string* error) = 0;
    /// Waits until every IKE host's node holds its CHILD_SA pair (offloaded as the mode asks);
    /// false after timeout.
    virtual bool WaitChildSas(std::chrono::milliseconds timeout) = 0;
    /// The 1 kHz UDP probe alone from the traffic client to its server, for `seconds`, with
    /// `during` run in this thread while it goes; its report (sent, received, max_gap_ms).
    virtual nlohmann::json Probe(double seconds, const std::function<void()>& during) = 0;
};

struct EmulationOptions
{
    std::string topology{"h2h"}; //!< a script in topologies/emulation (NAME.py)
    std::string mode{"sw"};   //!< plain (no IPsec), sw, crypto (charon's hw_offload = yes), packet
                              //!< (the same requests, made packet offload by the endpoint)
    std::string outDir;       //!< results.json, pcaps, esp_sa, charon logs
    double trafficSeconds{3}; //!< each iperf3 direction
    std::string iperfBitrate; //!< iperf3 -b ("": as fast as it goes)
    double rekeySeconds{0};   //!< the initiator's CHILD_SA rekey_time (0: none in the run)
    int hardLimitMs{100};     //!< the real-time simulator's HardLimit
    std::ostream* progress{nullptr};
    /// More lines for the initiator's CHILD_SA (lifetimes by bytes); replaces what
    /// rekeySeconds would set.
    std::string initiatorChildExtra;
    /// More connections in every charon's swanctl.conf (shunts, for example).
    std::string swanctlConnectionsExtra;
    /// The initiator's CHILD_SA is a trap (start_action = trap): no swanctl --initiate; charon
    /// installs its policies without SAs, and the first packet they select makes the node send
    /// charon an ACQUIRE, which starts the IKE_SA. A scenario then waits for the CHILD_SA.
    bool trap{false};
    /// Run instead of the standard traffic once the CHILD_SA is installed (not in plain mode);
    /// false with the reason fails the run.
    std::function<bool(EmulationSession&, std::string*)> scenario;
};

/// The modes `offloadlab emulate` takes, and the topologies there are scripts for.
const std::vector<std::string>& EmulationModes();
std::vector<std::string> EmulationTopologies();

/// Why an emulation cannot run on this machine ("" when it can): root, /dev/net/tun and the
/// programs a run starts (ci/setup installs them). For tests, to skip with the reason.
std::string EmulationUnavailable();

/// Why this machine's kernel cannot be a kernel-IPsec peer ("" when it can): it must hold an ESP
/// SA with AES-GCM (a probe in a namespace of its own). A topology whose host has "stack":
/// "kernel" needs it; without it the run fails with this reason and tests skip with it.
std::string KernelEspUnavailable();

/// Runs it; results (also written to outDir/results.json) even when it failed, with "ok" and
/// "error". False with the reason if something failed.
bool RunEmulation(const EmulationOptions& options, nlohmann::json* results, std::string* error);

} // namespace ns3

#endif // EMULATION_RUN_H
