#ifndef SCENARIO_H
#define SCENARIO_H

#include "ipsec-key-manager.h"
#include "topology.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ns3
{

/// What one run does: a named topology in one mode, with TCP and UDP traffic.
struct ScenarioOptions
{
    std::string scenario{"host-to-host-transport"};
    XfrmOffloadType mode{XfrmOffloadType::None}; //!< the data path, unless plain
    /// The unprotected baseline: no policies, no SAs, no key manager (the stack is there but
    /// empty, as on a Linux host without xfrm configuration); mode is not used.
    bool plain{false};
    Time duration{Seconds(2)};
    DataRate linkRate{"100Mbps"};
    Time linkDelay{MilliSeconds(1)};
    uint32_t tcpSegmentSize{1360}; //!< fits every mode's ESP overhead at MTU 1500
    DataRate udpRate{"10Mbps"};
    uint32_t udpPayloadSize{1000};
    uint64_t softByteLimit{6000000}; //!< crossed during a 2 s run, so the SAs rekey
    uint64_t hardByteLimit{9000000};
    /// Soft and hard add-time limits of every CHILD_SA in seconds, strongSwan's rekey_time and
    /// life_time; 0 for none.
    uint64_t rekeySeconds{0};
    uint64_t lifeSeconds{0};
    uint64_t seed{1};
    std::string pcapDir; //!< empty: no pcaps
};

struct ScenarioTraffic
{
    std::string protocol;
    uint64_t packetsSent{0}; //!< UDP only (TCP retransmits make it meaningless)
    uint64_t packetsDelivered{0};
    uint64_t bytesDelivered{0};
    double goodputMbps{0};
    uint32_t pmtuAdaptations{0};
};

struct ScenarioSa
{
    IpsecSaRecord record;
    std::string nodeName;
    XfrmLifetimeCurrent current;
    XfrmStateStats stats;
    uint64_t lastSeq{0};
};

struct ScenarioResult
{
    std::string scenario;
    std::string mode;
    double simulatedSeconds{0};
    double wallSeconds{0};
    uint64_t wirePackets{0}; //!< packets that entered a wire, all links
    std::vector<ScenarioTraffic> traffic;
    std::vector<ScenarioSa> sas;
    /// Non-zero counters: of each node's IPsec layer (by node name) and each NIC (node/devN).
    std::map<std::string, std::map<std::string, uint64_t>> stackDrops;
    std::map<std::string, std::map<std::string, uint64_t>> stackEvents;
    std::map<std::string, std::map<std::string, uint64_t>> nicDrops;
    std::map<std::string, std::map<std::string, uint64_t>> nicEvents;
    /// Packets each device's root queue disc (ns-3's default FqCoDel) dropped, non-zero only,
    /// by node/devN: congestion, not IPsec, so apart from the drop counters above.
    std::map<std::string, uint64_t> queueDrops;
    /// Behind a NAT: its drops by reason (non-zero) and what it translated.
    bool nat{false};
    std::map<std::string, uint64_t> natDrops;
    uint64_t natTranslated{0};
    size_t natUdpMappings{0};
    size_t natTcpMappings{0};
    uint32_t rekeys{0};
    std::vector<IpsecKmEvent> events;
    std::vector<std::string> pcaps; //!< file names within pcapDir
};

/// The built-in scenario names, in run order.
std::vector<std::string> ScenarioNames();
/// The ones a run without named scenarios runs (gateway-tunnel-1000 only when named).
std::vector<std::string> DefaultScenarioNames();
/// True for a scenario whose SAs are ESP-in-UDP (gateway-tunnel-nat).
bool ScenarioUsesUdpEncap(const std::string& name);

/// The mode names of `offloadlab run`, in run order: "plain", then the data paths "sw",
/// "crypto", "packet". Plain is no XfrmOffloadType on purpose: the catalog and certify know the
/// three data paths only.
std::vector<std::string> ScenarioModeNames();
/// Sets options->plain and options->mode from a mode name; false when it names no mode.
bool SetScenarioMode(const std::string& name, ScenarioOptions* options);
/// "plain", or the data path's name.
std::string ScenarioModeName(const ScenarioOptions& options);

/// Builds, runs and measures one scenario; false with the reason on bad options.
bool RunScenario(const ScenarioOptions& options, ScenarioResult* result, std::string* error);

} // namespace ns3

#endif // SCENARIO_H
