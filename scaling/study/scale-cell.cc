#include "scale-cell.h"

#include "imix-sender.h"
#include "scale-net-device.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"

#include <algorithm>
#include <chrono>

namespace ns3
{

namespace
{
constexpr uint16_t kPortBase = 5201;
// Linux's GSO limit: a super-packet is at most 64 KiB with its headers (gso_max_size).
constexpr uint32_t kGsoMaxSize = 65536;

Ptr<ScaleNetDevice>
AddDevice(Ptr<Node> node,
          Ptr<ScaleHost> host,
          const ScaleWire& wire,
          bool isSender,
          const ScaleCellConfig& config)
{
    Ptr<ScaleNetDevice> dev = CreateObject<ScaleNetDevice>();
    dev->SetAttribute("DataRate", DataRateValue(DataRate(uint64_t(config.linkGbps * 1e9))));
    dev->SetAttribute("CryptoCap", DataRateValue(DataRate(uint64_t(config.cryptoCapGbps * 1e9))));
    dev->SetAddress(Mac48Address::Allocate());
    dev->Setup(host, wire, isSender);
    node->AddDevice(dev);
    return dev;
}

void
AddAddress(Ptr<Node> node, Ptr<NetDevice> dev, const char* address)
{
    Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
    const int32_t index = ipv4->AddInterface(dev);
    ipv4->AddAddress(index, Ipv4InterfaceAddress(Ipv4Address(address), Ipv4Mask("/24")));
    ipv4->SetUp(index);
}

std::vector<ScaleCoreLoad>
LoadsOf(Ptr<ScaleHost> host, Time measured)
{
    std::vector<ScaleCoreLoad> loads;
    for (uint32_t i = 0; i < host->GetCoreCount(); ++i)
    {
        Ptr<CpuCore> core = host->GetCore(i);
        loads.push_back(ScaleCoreLoad{core->GetBusy().GetSeconds() / measured.GetSeconds(),
                                      core->GetSpun().GetSeconds() / measured.GetSeconds()});
    }
    return loads;
}
} // namespace

const char*
ScaleMixName(bool imix)
{
    return imix ? "imix" : "fixed";
}

bool
ParseScaleMix(const std::string& text, bool* imix)
{
    if (text != ScaleMixName(false) && text != ScaleMixName(true))
    {
        return false;
    }
    *imix = text == ScaleMixName(true);
    return true;
}

double
ScaleFrequency::GhzFor(uint32_t busyCores) const
{
    if (!turbo)
    {
        return baseGhz;
    }
    if (busyCores <= 2 || socketCores <= 2)
    {
        return maxTurboGhz;
    }
    const double share = double(std::min(busyCores, socketCores) - 2) / (socketCores - 2);
    return maxTurboGhz - share * (maxTurboGhz - allCoreTurboGhz);
}

ScaleCellResult
RunScaleCell(const ScaleCellConfig& config)
{
    const auto wallStart = std::chrono::steady_clock::now();
    const uint32_t flows = config.flows == 0 ? config.cpus : config.flows;
    const ScaleWire wire(config.mode, config.encap, config.mtu);
    const uint32_t mss = wire.GetMss();
    const uint32_t segmentPackets =
        std::max(1u, (kGsoMaxSize - ScaleWire::kIpHeader - ScaleWire::kTcpHeader) / mss);

    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(segmentPackets * mss));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(config.receiveBufferBytes));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(config.receiveBufferBytes));
    // Linux ACKs at once a GRO packet of more than one MSS (__tcp_ack_snd_check): one ACK per
    // segment.
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(1));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(10));

    NodeContainer nodes;
    nodes.Create(2);
    InternetStackHelper internet;
    internet.Install(nodes);

    ScaleHostConfig hc;
    hc.mode = config.mode;
    hc.cores = config.cpus;
    hc.hz = config.frequency.GhzFor(config.cpus) * 1e9;
    hc.costs = config.costs;
    hc.rss = config.rss;
    hc.rssAfterDecrypt = config.rssAfterDecrypt;
    hc.sas = config.sas;
    hc.llcContention = config.llcContention;
    hc.ddioBytes = config.ddioMegabytes * 1e6;
    hc.dramBytesPerSecond = config.dramGbytesPerSecond * 1e9;
    Ptr<ScaleHost> sender = CreateObject<ScaleHost>();
    sender->Setup(hc, wire);
    Ptr<ScaleHost> receiver = CreateObject<ScaleHost>();
    receiver->Setup(hc, wire);

    Ptr<ScaleChannel> channel = CreateObject<ScaleChannel>();
    Ptr<ScaleNetDevice> txDev = AddDevice(nodes.Get(0), sender, wire, true, config);
    Ptr<ScaleNetDevice> rxDev = AddDevice(nodes.Get(1), receiver, wire, false, config);
    txDev->Attach(channel);
    rxDev->Attach(channel);
    AddAddress(nodes.Get(0), txDev, "10.1.0.1");
    AddAddress(nodes.Get(1), rxDev, "10.1.0.2");

    std::vector<Ptr<PacketSink>> sinks;
    const std::vector<uint32_t> payloads = ImixUdpPayloads(wire.GetInnerMtu());
    for (uint32_t i = 0; i < flows; ++i)
    {
        const uint16_t port = uint16_t(kPortBase + i);
        PacketSinkHelper sink(config.imix ? "ns3::UdpSocketFactory" : "ns3::TcpSocketFactory",
                              InetSocketAddress(Ipv4Address::GetAny(), port));
        ApplicationContainer a = sink.Install(nodes.Get(1));
        sinks.push_back(DynamicCast<PacketSink>(a.Get(0)));
        if (config.imix)
        {
            Ptr<ImixSender> app = CreateObject<ImixSender>();
            app->Setup(sender,
                       i,
                       InetSocketAddress(Ipv4Address("10.1.0.2"), port),
                       payloads,
                       config.udpWindow);
            nodes.Get(0)->AddApplication(app);
            app->SetStartTime(MicroSeconds(1 + i));
            continue;
        }
        BulkSendHelper bulk("ns3::TcpSocketFactory",
                            InetSocketAddress(Ipv4Address("10.1.0.2"), port));
        bulk.SetAttribute("MaxBytes", UintegerValue(0));
        bulk.SetAttribute("SendSize", UintegerValue(segmentPackets * mss));
        ApplicationContainer b = bulk.Install(nodes.Get(0));
        // Staggered by a microsecond, as separately started iperf3 processes are.
        b.Start(MicroSeconds(1 + i));
    }

    const Time warmup = Seconds(config.warmupMs / 1e3);
    const Time end = warmup + Seconds(config.measureMs / 1e3);
    std::vector<uint64_t> atWarmup(flows, 0);
    uint64_t datagramsAtWarmup = 0;
    uint64_t datagrams = 0;
    if (config.imix)
    {
        for (const Ptr<PacketSink>& sink : sinks)
        {
            sink->TraceConnectWithoutContext(
                "Rx",
                Callback<void, Ptr<const Packet>, const Address&>(
                    [&datagrams](Ptr<const Packet>, const Address&) { ++datagrams; }));
        }
    }
    Simulator::Schedule(warmup, [&]() {
        datagramsAtWarmup = datagrams;
        for (uint32_t i = 0; i < flows; ++i)
        {
            atWarmup[i] = sinks[i]->GetTotalRx();
        }
        sender->ResetStats();
        receiver->ResetStats();
        txDev->ResetStats();
        rxDev->ResetStats();
    });
    ScaleCellResult r;
    Simulator::Schedule(end, [&]() {
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < flows; ++i)
        {
            bytes += sinks[i]->GetTotalRx() - atWarmup[i];
        }
        const double seconds = (end - warmup).GetSeconds();
        r.gbps = bytes * 8 / seconds / 1e9;
        r.wireGbps = txDev->GetWireBytes() * 8 / seconds / 1e9;
        r.mpps = txDev->GetWirePackets() / seconds / 1e6;
        r.deliveredMpps = config.imix ? (datagrams - datagramsAtWarmup) / seconds / 1e6
                                      : bytes / double(mss) / seconds / 1e6;
        r.receiverCores = LoadsOf(receiver, end - warmup);
        r.senderCores = LoadsOf(sender, end - warmup);
        r.drops = txDev->GetDrops() + rxDev->GetDrops() + receiver->GetRxDrops();
        r.residentMegabytes = receiver->GetMaxResidentBytes() / 1e6;
        r.llcMissShare = receiver->GetLlcMissShare();
        for (uint32_t i = 0; i < flows; ++i)
        {
            r.rxCoreOfFlow.push_back(receiver->RxCoreOf(i, true));
        }
        Simulator::Stop();
    });
    Simulator::Run(); // until the end event stops it
    Simulator::Destroy();
    sender->Dispose(); // their cores' queued jobs hold packets and callbacks
    receiver->Dispose();
    r.ghz = hc.hz / 1e9;
    r.mss = mss;
    r.segmentPackets = segmentPackets;
    r.wallSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    return r;
}

} // namespace ns3
