// One emulation run, start to end: the topology's real hosts (Mininet), their ns-3 nodes and
// wires in a real-time simulation, real charons keying the nodes, real traffic, the results,
// and a teardown that leaves nothing behind, also on failure and on SIGINT/SIGTERM.
#ifndef EMULATION_RUN_H
#define EMULATION_RUN_H

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace ns3
{

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
};

/// The modes `offloadlab emulate` takes, and the topologies there are scripts for.
const std::vector<std::string>& EmulationModes();
std::vector<std::string> EmulationTopologies();

/// Runs it; results (also written to outDir/results.json) even when it failed, with "ok" and
/// "error". False with the reason if something failed.
bool RunEmulation(const EmulationOptions& options, nlohmann::json* results, std::string* error);

} // namespace ns3

#endif // EMULATION_RUN_H
