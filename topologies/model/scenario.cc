#include "scenario.h"

#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "tcp-pmtu-adapter.h"

#include "ns3/application-container.h"
#include "ns3/boolean.h"
#include "ns3/bulk-send-application.h"
#include "ns3/bulk-send-helper.h"
#include "ns3/config.h"
#include "ns3/global-value.h"
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

struct Builder
{
    const char* name;
    Topology (*build)(const TopologyParameters&);
};

const std::vector<Builder>&
Builders()
{
    static const std::vector<Builder> builders = {
        {"host-to-host-transport", &BuildHostToHostTransport},
        {"gateway-tunnel", &BuildGatewayTunnel},
    };
    return builders;
}

std::string
NodeName(const Topology& t, uint32_t nodeId)
{
    for (uint32_t i = 0; i < t.nodes.GetN(); ++i)
    {
        if (t.nodes.Get(i)->GetId() == nodeId && i < t.nodeNames.size())
        {
            return t.nodeNames[i];
        }
    }
    return "node" + std::to_string(nodeId);
}
} // namespace

std::vector<std::string>
ScenarioNames()
{
    std::vector<std::string> names;
    for (const auto& b : Builders())
    {
        names.push_back(b.name);
    }
    return names;
}

bool
RunScenario(const ScenarioOptions& options, ScenarioResult* result, std::string* error)
{
    const Builder* builder = nullptr;
    for (const auto& b : Builders())
    {
        if (options.scenario == b.name)
        {
            builder = &b;
        }
    }
    if (!builder)
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
    const auto wallStart = std::chrono::steady_clock::now();
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    RngSeedManager::SetSeed(options.seed);
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(options.tcpSegmentSize));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(256 * 1024));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(256 * 1024));
    Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(MilliSeconds(200)));

    TopologyParameters parameters;
    parameters.mode = options.mode;
    parameters.linkRate = options.linkRate;
    parameters.linkDelay = options.linkDelay;
    parameters.lifetime.softByteLimit = options.softByteLimit;
    parameters.lifetime.hardByteLimit = options.hardByteLimit;
    Topology topology = builder->build(parameters);

    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(options.seed);
    if (!km->AddConnection(topology.connection, error))
    {
        Simulator::Destroy();
        return false;
    }

    result->scenario = topology.name;
    result->mode = IpsecRunModeName(options.mode);
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
    BulkSendHelper bulk("ns3::TcpSocketFactory",
                        InetSocketAddress(topology.receiverAddress, kTcpPort));
    bulk.SetAttribute("SendSize", UintegerValue(options.tcpSegmentSize));
    ApplicationContainer tcpApp = bulk.Install(topology.sender);
    tcpApp.Start(start);
    tcpApp.Stop(stop);
    PacketSinkHelper tcpSinkHelper("ns3::TcpSocketFactory",
                                   InetSocketAddress(Ipv4Address::GetAny(), kTcpPort));
    ApplicationContainer tcpSink = tcpSinkHelper.Install(topology.receiver);
    tcpSink.Start(Seconds(0));
    Ptr<TcpPmtuAdapter> pmtu;
    Simulator::Schedule(start + MicroSeconds(1),
                        [&pmtu, &tcpApp]() {
                            pmtu = TcpPmtuAdapter::Attach(
                                DynamicCast<BulkSendApplication>(tcpApp.Get(0))->GetSocket());
                        });

    // UDP constant bit rate.
    OnOffHelper onOff("ns3::UdpSocketFactory",
                      InetSocketAddress(topology.receiverAddress, kUdpPort));
    onOff.SetConstantRate(options.udpRate, options.udpPayloadSize);
    ApplicationContainer udpApp = onOff.Install(topology.sender);
    udpApp.Start(start);
    udpApp.Stop(stop);
    uint64_t udpSent = 0;
    udpApp.Get(0)->TraceConnectWithoutContext(
        "Tx", MakeCallback(+[](uint64_t* n, Ptr<const Packet>) { ++*n; }).Bind(&udpSent));
    PacketSinkHelper udpSinkHelper("ns3::UdpSocketFactory",
                                   InetSocketAddress(Ipv4Address::GetAny(), kUdpPort));
    ApplicationContainer udpSink = udpSinkHelper.Install(topology.receiver);
    udpSink.Start(Seconds(0));
    uint64_t udpDelivered = 0;
    udpSink.Get(0)->TraceConnectWithoutContext(
        "Rx", MakeCallback(+[](uint64_t* n, Ptr<const Packet>, const Address&) {
                  ++*n;
              }).Bind(&udpDelivered));
    uint64_t tcpSegmentsDelivered = 0;
    tcpSink.Get(0)->TraceConnectWithoutContext(
        "Rx", MakeCallback(+[](uint64_t* n, Ptr<const Packet>, const Address&) {
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
        sa.nodeName = NodeName(topology, record.nodeId);
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
        const std::string name = NodeName(topology, node->GetId());
        if (Ptr<XfrmStack> stack = node->GetObject<XfrmStack>())
        {
            for (const auto& [counter, value] : stack->GetStats())
            {
                if (value != 0)
                {
                    result->stackCounters[name][counter] = value;
                }
            }
        }
        for (uint32_t d = 0; d < node->GetNDevices(); ++d)
        {
            Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(node->GetDevice(d));
            if (!nic)
            {
                continue;
            }
            for (const auto& [counter, value] : nic->GetCounters())
            {
                if (value != 0)
                {
                    result->nicCounters[name + "/dev" + std::to_string(d)][counter] = value;
                }
            }
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
