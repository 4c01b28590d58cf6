#include "scenario.h"

#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "tcp-pmtu-adapter.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/bulk-send-application.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/inet-socket-address.h"
#include "ns3/on-off-helper.h"
#include "ns3/packet-sink-helper.h"
#include "ns3/packet-sink.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

#include <chrono>
#include <sstream>

namespace ns3
{

namespace
{
constexpr uint16_t kTcpPort = 5001;
constexpr uint16_t kUdpPort = 5002;

/// The built-in scenarios: a name for each shape of the topology builder.
struct Scenario
{
    const char* name;
    XfrmMode ipMode;
};

const std::vector<Scenario>&
Scenarios()
{
    static const std::vector<Scenario> scenarios = {
        {"host-to-host-transport", XfrmMode::Transport},
        {"gateway-tunnel", XfrmMode::Tunnel},
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
IpsecConnectionConfig
ConnectionOf(const Topology& t, const XfrmLifetimeConfig& lifetime)
{
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
        c.left = {t.endA, t.endAddrA, t.hostAddrA, 32, t.devA, offload};
        c.right = {t.endB, t.endAddrB, t.hostAddrB, 32, t.devB, offload};
    }
    else
    {
        c.name = "gwA-gwB";
        c.keyBits = 256;
        c.left = {t.endA, t.endAddrA, t.netA, 24, t.devA, offload};
        c.right = {t.endB, t.endAddrB, t.netB, 24, t.devB, offload};
    }
    return c;
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

    TopologyOptions topologyOptions;
    topologyOptions.mode = options.mode;
    topologyOptions.ipMode = scenario->ipMode;
    topologyOptions.dataRate = options.linkRate;
    topologyOptions.delay = options.linkDelay;
    topologyOptions.queueSize = "";
    topologyOptions.installIpsec = false; // the key manager installs the SAs and policies
    std::unique_ptr<Topology> built = BuildTopology(topologyOptions);
    const Topology& topology = *built;
    XfrmLifetimeConfig lifetime;
    lifetime.softByteLimit = options.softByteLimit;
    lifetime.hardByteLimit = options.hardByteLimit;
    lifetime.softAddSeconds = options.rekeySeconds;
    lifetime.hardAddSeconds = options.lifeSeconds;

    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(options.seed);
    if (!km->AddConnection(ConnectionOf(topology, lifetime), error))
    {
        Simulator::Destroy();
        return false;
    }

    result->scenario = topology.name;
    result->mode = DataPathName(options.mode);
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
    // TCP bulk transfer, with PMTU discovery on the sending socket.
    BulkSendHelper bulk("ns3::TcpSocketFactory", InetSocketAddress(topology.hostAddrB, kTcpPort));
    bulk.SetAttribute("SendSize", UintegerValue(options.tcpSegmentSize));
    ApplicationContainer tcpApp = bulk.Install(topology.hostA);
    tcpApp.Start(start);
    tcpApp.Stop(stop);
    PacketSinkHelper tcpSinkHelper("ns3::TcpSocketFactory",
                                   InetSocketAddress(Ipv4Address::GetAny(), kTcpPort));
    ApplicationContainer tcpSink = tcpSinkHelper.Install(topology.hostB);
    tcpSink.Start(Seconds(0));
    Ptr<TcpPmtuAdapter> pmtu;
    Simulator::Schedule(start + MicroSeconds(1), [&pmtu, &tcpApp]() {
        pmtu = TcpPmtuAdapter::Attach(DynamicCast<BulkSendApplication>(tcpApp.Get(0))->GetSocket());
    });

    // UDP constant bit rate.
    OnOffHelper onOff("ns3::UdpSocketFactory", InetSocketAddress(topology.hostAddrB, kUdpPort));
    onOff.SetConstantRate(options.udpRate, options.udpPayloadSize);
    ApplicationContainer udpApp = onOff.Install(topology.hostA);
    udpApp.Start(start);
    udpApp.Stop(stop);
    uint64_t udpSent = 0;
    udpApp.Get(0)->TraceConnectWithoutContext(
        "Tx",
        MakeCallback(+[](uint64_t* n, Ptr<const Packet>) { ++*n; }).Bind(&udpSent));
    PacketSinkHelper udpSinkHelper("ns3::UdpSocketFactory",
                                   InetSocketAddress(Ipv4Address::GetAny(), kUdpPort));
    ApplicationContainer udpSink = udpSinkHelper.Install(topology.hostB);
    udpSink.Start(Seconds(0));
    uint64_t udpDelivered = 0;
    udpSink.Get(0)->TraceConnectWithoutContext(
        "Rx",
        MakeCallback(+[](uint64_t* n, Ptr<const Packet>, const Address&) {
            ++*n;
        }).Bind(&udpDelivered));
    uint64_t tcpSegmentsDelivered = 0;
    tcpSink.Get(0)->TraceConnectWithoutContext(
        "Rx",
        MakeCallback(+[](uint64_t* n, Ptr<const Packet>, const Address&) {
            ++*n;
        }).Bind(&tcpSegmentsDelivered));

    const Time end = stop + Seconds(0.5); // let queues and retransmissions drain
    Simulator::Stop(end);
    Simulator::Run();

    const double active = (stop - start).GetSeconds();
    ScenarioTraffic tcp;
    tcp.protocol = "tcp";
    tcp.bytesDelivered = DynamicCast<PacketSink>(tcpSink.Get(0))->GetTotalRx();
    tcp.packetsDelivered = tcpSegmentsDelivered;
    tcp.goodputMbps = tcp.bytesDelivered * 8.0 / active / 1e6;
    tcp.pmtuAdaptations = pmtu ? pmtu->GetAdaptations() : 0;
    ScenarioTraffic udp;
    udp.protocol = "udp";
    udp.packetsSent = udpSent;
    udp.packetsDelivered = udpDelivered;
    udp.bytesDelivered = DynamicCast<PacketSink>(udpSink.Get(0))->GetTotalRx();
    udp.goodputMbps = udp.bytesDelivered * 8.0 / active / 1e6;
    result->traffic = {tcp, udp};

    for (const auto& record : km->GetSaRecords())
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
        for (uint32_t d = 0; d < node->GetNDevices(); ++d)
        {
            Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(node->GetDevice(d));
            if (!nic)
            {
                continue;
            }
            const std::string dev = name + "/dev" + std::to_string(d);
            KeepNonZero(nic->GetDropCounts(), &result->nicDrops[dev]);
            KeepNonZero(nic->GetEventCounts(), &result->nicEvents[dev]);
        }
    }
    result->rekeys = km->GetRekeyCount();
    result->events = km->GetEvents();
    result->wirePackets = wirePackets;
    result->simulatedSeconds = end.GetSeconds();
    km->Dispose();
    Simulator::Destroy();
    result->wallSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    return true;
}

} // namespace ns3
