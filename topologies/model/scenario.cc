#include "scenario.h"

#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "nat-topology.h"
#include "tcp-pmtu-adapter.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/bulk-send-application.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/inet-socket-address.h"
#include "ns3/inet6-socket-address.h"
#include "ns3/on-off-helper.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/queue-disc.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/traffic-control-layer.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <chrono>
#include <sstream>

namespace ns3
{

namespace
{
constexpr uint16_t kTcpPort = 5001;
constexpr uint16_t kUdpPort = 5002;
constexpr uint32_t kLimitShare = 4;      //!< many tunnels: the limits are divided by tunnels / 4
const Time kStagger = MilliSeconds(100); //!< many flows: their starts spread over this
/// Many tunnels: how long a packet may be in flight (queued) after its SA was replaced.
const Time kManyTunnelsInFlight = Seconds(2);

/// The built-in scenarios: a name for each shape of the topology builder.
struct Scenario
{
    const char* name;
    XfrmMode ipMode;
    uint32_t tunnels; //!< subnet pairs between the gateways (tunnel mode)
    bool defaultRun;  //!< run when no scenario is named
    bool nat;         //!< gwA behind a NAT (nat-topology.h): ESP-in-UDP on port 4500
    XfrmAddress::Family inner{XfrmAddress::Family::Ipv4}; //!< the hosts' traffic
    XfrmAddress::Family outer{XfrmAddress::Family::Ipv4}; //!< ESP's outer header
};

constexpr XfrmAddress::Family kV6 = XfrmAddress::Family::Ipv6;

const std::vector<Scenario>&
Scenarios()
{
    static const std::vector<Scenario> scenarios = {
        {"host-to-host-transport", XfrmMode::Transport, 1, true, false},
        {"gateway-tunnel", XfrmMode::Tunnel, 1, true, false},
        {"gateway-tunnel-nat", XfrmMode::Tunnel, 1, true, true},
        {"host-to-host-transport-v6", XfrmMode::Transport, 1, true, false, kV6, kV6},
        {"gateway-tunnel-v6", XfrmMode::Tunnel, 1, true, false, kV6, kV6},
        // Many SAs: a few times the wall time of the others, so only when asked for.
        {"gateway-tunnel-1000", XfrmMode::Tunnel, 1000, false, false},
    };
    return scenarios;
}

void
KeepNonZero(const std::map<std::string, uint64_t>& counters, std::map<std::string, uint64_t>* into)
{
    for (const auto& [name, value] : counters)
    {
        if (value != 0)
        {
            (*into)[name] = value;
        }
    }
}

/// The scenario's one connection for the key manager: transport between the hosts with
/// AES-128-GCM, or a tunnel between the gateways for the two LANs with AES-256-GCM. ESN stays off
/// because tshark 4.0 (Debian 12) cannot check ESN ICVs; ESN is covered by the codec tests.
/// With many tunnels, connection i is the tunnel for the i-th pair of subnets. Behind a NAT
/// (natAddress set: what gwB sees gwA as), ESP-in-UDP on port 4500, as IKE chooses on finding
/// the NAT.
IpsecConnectionConfig
ConnectionOf(const Topology& t,
             const XfrmLifetimeConfig& lifetime,
             size_t tunnel,
             Ipv4Address natAddress)
{
    const XfrmAddress hostA = t.HostAddr(true);
    IpsecConnectionConfig c;
    const XfrmOffloadType offload = t.opt.mode;
    c.mode = t.opt.ipMode;
    c.esn = false;
    c.replayWindow = 64;
    c.lifetime = lifetime;
    if (!t.Tunnel())
    {
        c.name = "hostA-hostB";
        c.keyBits = 128;
        const uint8_t host = hostA.GetMaxPrefixLength();
        c.left = {t.endA, t.EndAddr(true), hostA, host, t.devA, offload};
        c.right = {t.endB, t.EndAddr(false), t.HostAddr(false), host, t.devB, offload};
    }
    else if (t.tunnelNetsA.empty())
    {
        c.name = "gwA-gwB";
        c.keyBits = 256;
        c.left = {t.endA, t.EndAddr(true), t.Net(true), t.NetPrefix(), t.devA, offload};
        c.right = {t.endB, t.EndAddr(false), t.Net(false), t.NetPrefix(), t.devB, offload};
        if (natAddress != Ipv4Address::GetAny())
        {
            c.name = "gwA-gwB-nat";
            c.udpEncap = true;
            c.left.seenAs = natAddress;
        }
    }
    else
    {
        c.name = "gwA-gwB-" + std::to_string(tunnel);
        c.keyBits = 256;
        c.left = {t.endA, t.endAddrA, t.tunnelNetsA[tunnel], 16, t.devA, offload};
        c.right = {t.endB, t.endAddrB, t.tunnelNetsB[tunnel], 24, t.devB, offload};
        // A thousand TCP flows keep the WAN queue deep: packets spend far longer in flight than
        // with one tunnel, so the old inbound SA stays longer after a rekey (strongSwan keeps
        // it for seconds).
        c.oldInboundGrace = kManyTunnelsInFlight;
    }
    return c;
}

/// The traffic's end points: one pair per tunnel (its hosts, the B address in its subnet, ports
/// of its own: ns-3 looks at every socket of a port for each packet), or the two hosts.
struct FlowEnds
{
    Ptr<Node> fromNode;
    Ptr<Node> toNode;
    XfrmAddress to;
    uint16_t tcpPort;
    uint16_t udpPort;
};

std::vector<FlowEnds>
FlowsOf(const Topology& t)
{
    std::vector<FlowEnds> flows;
    for (size_t i = 0; i < t.tunnelHostsB.size(); ++i)
    {
        flows.push_back({t.tunnelNodesA[i],
                         t.tunnelNodesB[i],
                         t.tunnelHostsB[i],
                         uint16_t(10000 + i),
                         uint16_t(20000 + i)});
    }
    if (flows.empty())
    {
        flows.push_back({t.hostA, t.hostB, t.HostAddr(false), kTcpPort, kUdpPort});
    }
    return flows;
}

/// A socket address of to's family.
Address
SocketAddressOf(const XfrmAddress& to, uint16_t port)
{
    if (to.IsIpv6())
    {
        return Inet6SocketAddress(to.GetIpv6(), port);
    }
    return InetSocketAddress(to.GetIpv4(), port);
}

/// Where a sink for traffic to `to` listens: any address of its family.
Address
AnyAddressLike(const XfrmAddress& to, uint16_t port)
{
    if (to.IsIpv6())
    {
        return Inet6SocketAddress(Ipv6Address::GetAny(), port);
    }
    return InetSocketAddress(Ipv4Address::GetAny(), port);
}
} // namespace

std::vector<std::string>
ScenarioNames()
{
    std::vector<std::string> names;
    for (const auto& s : Scenarios())
    {
        names.push_back(s.name);
    }
    return names;
}

std::vector<std::string>
DefaultScenarioNames()
{
    std::vector<std::string> names;
    for (const auto& s : Scenarios())
    {
        if (s.defaultRun)
        {
            names.push_back(s.name);
        }
    }
    return names;
}

bool
ScenarioUsesUdpEncap(const std::string& name)
{
    for (const auto& s : Scenarios())
    {
        if (name == s.name)
        {
            return s.nat;
        }
    }
    return false;
}

std::vector<std::string>
ScenarioModeNames()
{
    return {"plain",
            DataPathName(XfrmOffloadType::None),
            DataPathName(XfrmOffloadType::Crypto),
            DataPathName(XfrmOffloadType::Packet)};
}

bool
SetScenarioMode(const std::string& name, ScenarioOptions* options)
{
    if (name == "plain")
    {
        options->plain = true;
        options->mode = XfrmOffloadType::None;
        return true;
    }
    XfrmOffloadType mode;
    if (!ParseDataPath(name, &mode))
    {
        return false;
    }
    options->plain = false;
    options->mode = mode;
    return true;
}

std::string
ScenarioModeName(const ScenarioOptions& options)
{
    return options.plain ? "plain" : DataPathName(options.mode);
}

bool
RunScenario(const ScenarioOptions& options, ScenarioResult* result, std::string* error)
{
    const Scenario* scenario = nullptr;
    for (const auto& s : Scenarios())
    {
        if (options.scenario == s.name)
        {
            scenario = &s;
        }
    }
    if (!scenario)
    {
        *error = "scenario: unknown name '" + options.scenario + "'";
        return false;
    }
    if (options.duration <= Seconds(0.2))
    {
        *error = "duration: " + std::to_string(options.duration.GetSeconds()) +
                 " s is too short (traffic starts at 0.1 s)";
        return false;
    }
    if (options.softByteLimit > options.hardByteLimit)
    {
        *error = "softByteLimit: " + std::to_string(options.softByteLimit) +
                 " above hardByteLimit " + std::to_string(options.hardByteLimit);
        return false;
    }
    if (options.rekeySeconds && options.lifeSeconds && options.rekeySeconds >= options.lifeSeconds)
    {
        *error = "rekeySeconds: " + std::to_string(options.rekeySeconds) +
                 " not below lifeSeconds " + std::to_string(options.lifeSeconds);
        return false;
    }
    const auto wallStart = std::chrono::steady_clock::now();
    RngSeedManager::SetSeed(options.seed);
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(options.tcpSegmentSize));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(256 * 1024));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(256 * 1024));
    Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(MilliSeconds(200)));

    const uint32_t tunnels = scenario->tunnels;
    TopologyOptions topologyOptions;
    topologyOptions.mode = options.mode;
    topologyOptions.ipMode = scenario->ipMode;
    topologyOptions.dataRate = options.linkRate;
    topologyOptions.delay = options.linkDelay;
    topologyOptions.queueSize = "";
    topologyOptions.installIpsec = false; // the key manager installs the SAs and policies
    topologyOptions.tunnels = tunnels;
    topologyOptions.innerFamily = scenario->inner;
    topologyOptions.outerFamily = scenario->outer;
    if (tunnels > 1)
    {
        // Each tunnel's SAs, their rekeyed successors and those awaiting state_free; packet
        // offload puts the in and out policies of every tunnel on the device.
        topologyOptions.saCapacity = 8 * tunnels + 64;
        topologyOptions.policyCapacity = 2 * tunnels + 64;
    }
    std::unique_ptr<Topology> built;
    Ipv4Address natAddress = Ipv4Address::GetAny();
    Ptr<NatRouting> nat;
    if (scenario->nat)
    {
        NatTopology n = BuildNatTopology(topologyOptions);
        built = std::move(n.t);
        natAddress = n.natAddress;
        nat = n.nat;
    }
    else
    {
        built = BuildTopology(topologyOptions);
    }
    const Topology& topology = *built;
    if (!topology.errors.empty())
    {
        *error = topology.errors.front();
        Simulator::Destroy();
        return false;
    }
    if (tunnels > 1)
    {
        // Packets queued behind a thousand flows still hold their deleted crypto-offload SA when
        // the NIC sends them (an skb holds its xfrm_state in Linux, for as long as it takes).
        for (const auto& stack : {topology.stackA, topology.stackB})
        {
            stack->SetAttribute("StateFreeDelay", TimeValue(kManyTunnelsInFlight));
        }
    }
    // Many tunnels share the traffic, so they share the limits: a quarter of the tunnels' count
    // (a tunnel's 1/1000 of the run's limits would be four packets), so that a tunnel of average
    // traffic rekeys about once.
    const uint32_t share = std::max(1u, tunnels / kLimitShare);
    XfrmLifetimeConfig lifetime;
    lifetime.softByteLimit = options.softByteLimit / share;
    lifetime.hardByteLimit = options.hardByteLimit / share;
    lifetime.softAddSeconds = options.rekeySeconds;
    lifetime.hardAddSeconds = options.lifeSeconds;

    // Plain runs the same traffic with no IPsec at all: no key manager, no policy, no SA.
    Ptr<IpsecKeyManager> km;
    if (!options.plain)
    {
        km = CreateObject<IpsecKeyManager>();
        km->SetSeed(options.seed);
        for (uint32_t i = 0; i < tunnels; ++i)
        {
            if (!km->AddConnection(ConnectionOf(topology, lifetime, i, natAddress), error))
            {
                Simulator::Destroy();
                return false;
            }
        }
    }

    result->scenario = topology.name;
    result->mode = ScenarioModeName(options);
    if (!options.pcapDir.empty())
    {
        EmuNicHelper pcap;
        for (const auto& link : topology.links)
        {
            const std::string file = topology.name + "-" + result->mode + "-" + link.name + ".pcap";
            pcap.EnablePcap(options.pcapDir + "/" + file, link.captureDevice, false, true);
            result->pcaps.push_back(file);
        }
    }
    uint64_t wirePackets = 0;
    for (uint32_t i = 0; i < topology.devices.GetN(); ++i)
    {
        topology.devices.Get(i)->TraceConnectWithoutContext(
            "PhyTxBegin",
            MakeCallback(+[](uint64_t* n, Ptr<const Packet>) { ++*n; }).Bind(&wirePackets));
    }

    const Time start = Seconds(0.1);
    const Time stop = options.duration;
    const std::vector<FlowEnds> flows = FlowsOf(topology);
    // TCP bulk transfer per flow, with PMTU discovery on each sending socket.
    ApplicationContainer tcpApps;
    ApplicationContainer tcpSinks;
    for (const FlowEnds& f : flows)
    {
        BulkSendHelper bulk("ns3::TcpSocketFactory", SocketAddressOf(f.to, f.tcpPort));
        bulk.SetAttribute("SendSize", UintegerValue(options.tcpSegmentSize));
        tcpApps.Add(bulk.Install(f.fromNode));
        PacketSinkHelper sink("ns3::TcpSocketFactory", AnyAddressLike(f.to, f.tcpPort));
        tcpSinks.Add(sink.Install(f.toNode));
    }
    // Many flows start spread over kStagger, as independent sources would: a thousand at one
    // instant would be one burst (slow start, and CBR sources in phase).
    auto startOf = [&](uint32_t i) { return start + kStagger * double(i) / flows.size(); };
    std::vector<Ptr<TcpPmtuAdapter>> pmtu;
    for (uint32_t i = 0; i < tcpApps.GetN(); ++i)
    {
        tcpApps.Get(i)->SetStartTime(startOf(i));
        // The socket exists once the application started.
        Ptr<BulkSendApplication> app = DynamicCast<BulkSendApplication>(tcpApps.Get(i));
        Simulator::Schedule(startOf(i) + MicroSeconds(1), [&pmtu, app]() {
            pmtu.push_back(TcpPmtuAdapter::Attach(app->GetSocket()));
        });
    }
    tcpApps.Stop(stop);
    tcpSinks.Start(Seconds(0));

    // UDP constant bit rate, shared out over the flows.
    ApplicationContainer udpApps;
    ApplicationContainer udpSinks;
    for (const FlowEnds& f : flows)
    {
        OnOffHelper onOff("ns3::UdpSocketFactory", SocketAddressOf(f.to, f.udpPort));
        onOff.SetConstantRate(DataRate(options.udpRate.GetBitRate() / flows.size()),
                              options.udpPayloadSize);
        udpApps.Add(onOff.Install(f.fromNode));
        PacketSinkHelper sink("ns3::UdpSocketFactory", AnyAddressLike(f.to, f.udpPort));
        udpSinks.Add(sink.Install(f.toNode));
    }
    for (uint32_t i = 0; i < udpApps.GetN(); ++i)
    {
        udpApps.Get(i)->SetStartTime(startOf(i));
    }
    udpApps.Stop(stop);
    udpSinks.Start(Seconds(0));
    uint64_t udpSent = 0;
    for (uint32_t i = 0; i < udpApps.GetN(); ++i)
    {
        udpApps.Get(i)->TraceConnectWithoutContext(
            "Tx",
            MakeCallback(+[](uint64_t* n, Ptr<const Packet>) { ++*n; }).Bind(&udpSent));
    }
    uint64_t udpDelivered = 0;
    uint64_t tcpSegmentsDelivered = 0;
    for (auto [sinks, count] : {std::make_pair(&udpSinks, &udpDelivered),
                                std::make_pair(&tcpSinks, &tcpSegmentsDelivered)})
    {
        for (uint32_t i = 0; i < sinks->GetN(); ++i)
        {
            sinks->Get(i)->TraceConnectWithoutContext(
                "Rx",
                MakeCallback(+[](uint64_t* n, Ptr<const Packet>, const Address&) {
                    ++*n;
                }).Bind(count));
        }
    }

    const Time end = stop + Seconds(0.5); // let queues and retransmissions drain
    Simulator::Stop(end);
    Simulator::Run();

    const double active = (stop - start).GetSeconds();
    ScenarioTraffic tcp;
    tcp.protocol = "tcp";
    for (uint32_t i = 0; i < tcpSinks.GetN(); ++i)
    {
        tcp.bytesDelivered += DynamicCast<PacketSink>(tcpSinks.Get(i))->GetTotalRx();
    }
    tcp.packetsDelivered = tcpSegmentsDelivered;
    tcp.goodputMbps = tcp.bytesDelivered * 8.0 / active / 1e6;
    for (const auto& adapter : pmtu)
    {
        tcp.pmtuAdaptations += adapter ? adapter->GetAdaptations() : 0;
    }
    ScenarioTraffic udp;
    udp.protocol = "udp";
    udp.packetsSent = udpSent;
    udp.packetsDelivered = udpDelivered;
    for (uint32_t i = 0; i < udpSinks.GetN(); ++i)
    {
        udp.bytesDelivered += DynamicCast<PacketSink>(udpSinks.Get(i))->GetTotalRx();
    }
    udp.goodputMbps = udp.bytesDelivered * 8.0 / active / 1e6;
    result->traffic = {tcp, udp};

    const std::vector<IpsecSaRecord> none;
    for (const auto& record : km ? km->GetSaRecords() : none)
    {
        ScenarioSa sa;
        sa.record = record;
        sa.nodeName = topology.NodeName(record.nodeId);
        if (record.alive)
        {
            record.stack->UpdateStats(record.state);
        }
        sa.current = record.state->GetCurrent();
        sa.stats = record.state->GetStats();
        sa.lastSeq = record.state->GetLastSeq();
        result->sas.push_back(sa);
    }
    for (uint32_t i = 0; i < topology.nodes.GetN(); ++i)
    {
        Ptr<Node> node = topology.nodes.Get(i);
        const std::string name = topology.NodeName(node->GetId());
        if (Ptr<XfrmStack> stack = node->GetObject<XfrmStack>())
        {
            KeepNonZero(stack->GetDropCounts(), &result->stackDrops[name]);
            KeepNonZero(stack->GetEventCounts(), &result->stackEvents[name]);
        }
        Ptr<TrafficControlLayer> tc = node->GetObject<TrafficControlLayer>();
        for (uint32_t d = 0; d < node->GetNDevices(); ++d)
        {
            Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(node->GetDevice(d));
            if (!nic)
            {
                continue;
            }
            const std::string dev = name + "/dev" + std::to_string(d);
            Ptr<QueueDisc> qdisc = tc ? tc->GetRootQueueDiscOnDevice(nic) : nullptr;
            if (uint32_t dropped = qdisc ? qdisc->GetStats().nTotalDroppedPackets : 0)
            {
                result->queueDrops[dev] = dropped;
            }
            KeepNonZero(nic->GetDropCounts(), &result->nicDrops[dev]);
            KeepNonZero(nic->GetEventCounts(), &result->nicEvents[dev]);
        }
    }
    if (nat)
    {
        result->nat = true;
        for (size_t r = 0; r < size_t(NatDrop::Count); ++r)
        {
            if (uint64_t n = nat->GetDropCount(NatDrop(r)))
            {
                result->natDrops[NatDropName(NatDrop(r))] = n;
            }
        }
        result->natTranslated = nat->GetTranslated();
        result->natUdpMappings = nat->GetMappings().size();
        result->natTcpMappings = nat->GetTcpMappings().size();
    }
    if (km)
    {
        result->rekeys = km->GetRekeyCount();
        result->events = km->GetEvents();
        km->Dispose();
    }
    result->wirePackets = wirePackets;
    result->simulatedSeconds = end.GetSeconds();
    Simulator::Destroy();
    result->wallSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    return true;
}

} // namespace ns3
