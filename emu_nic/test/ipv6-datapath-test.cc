// IPv6 through each data path (software IPsec, crypto offload, packet offload) end to end in real
// ns-3 simulations: transport mode between IPv6 hosts, and tunnel mode between gateways as
// IPv6-in-IPv6, IPv4-in-IPv6 and IPv6-in-IPv4, with real AES-GCM. In crypto offload the stack
// frames ESP and the device encrypts and fills the inner checksum. Checks what the receiver gets,
// what the wire carries (ESP only, in the outer family, from the SA endpoints, sequence numbers in
// order), what the SAs count, that the inbound and forward policies refuse plaintext, and that a
// gateway answers a forwarded packet too big for the tunnel with ICMPv6 Packet Too Big. tshark
// decrypts these flows in offloadlab run's v6 scenarios (run-command-test).

#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "simulation-test.h"

#include "ns3/icmpv6-header.h"

#include <gtest/gtest.h>
#include <map>

using namespace offloadtest;

namespace
{

using Family = XfrmAddress::Family;

struct V6Param
{
    XfrmMode ipMode;
    Family inner;
    Family outer;
    XfrmOffloadType mode{XfrmOffloadType::None};
};

std::string
V6Label(const V6Param& p)
{
    const char* in = p.inner == Family::Ipv6 ? "6" : "4";
    const char* out = p.outer == Family::Ipv6 ? "6" : "4";
    const char* mode = p.mode == XfrmOffloadType::Crypto   ? "Crypto"
                       : p.mode == XfrmOffloadType::Packet ? "Packet"
                                                           : "Sw";
    return (p.ipMode == XfrmMode::Transport ? std::string("Transport") + in
                                            : std::string("Tunnel") + in + "in" + out) +
           mode;
}

void
PrintTo(const V6Param& p, std::ostream* os)
{
    *os << V6Label(p);
}

std::string
V6Name(const testing::TestParamInfo<V6Param>& info)
{
    return V6Label(info.param);
}

constexpr uint32_t kDatagrams = 120;

std::vector<Bytes>
MakePayloads()
{
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < kDatagrams; ++i)
    {
        const uint32_t size = i == 0 ? 1 : i == 1 ? 1300 : 1 + (i * 653 + i / 7) % 1300;
        payloads.push_back(DatagramPayload(i, size));
    }
    return payloads;
}

TopologyOptions
OptionsOf(const V6Param& p)
{
    TopologyOptions opt;
    opt.mode = p.mode;
    opt.ipMode = p.ipMode;
    opt.innerFamily = p.inner;
    opt.outerFamily = p.outer;
    return opt;
}

struct V6Run
{
    std::unique_ptr<Topology> t;
    std::vector<Bytes> sent;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
    std::shared_ptr<WireCapture> wire;
};

std::shared_ptr<UdpSender>
SenderTo(const Topology& t, Ptr<Node> from, const XfrmAddress& to)
{
    return to.IsIpv6() ? InstallUdpSender(from, to.GetIpv6())
                       : InstallUdpSender(from, to.GetIpv4());
}

V6Run
Prepare(const V6Param& p)
{
    V6Run run;
    run.t = BuildTestTopology(OptionsOf(p));
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    run.sink =
        p.inner == Family::Ipv6 ? InstallUdpSink6(run.t->hostB) : InstallUdpSink(run.t->hostB);
    run.sender = SenderTo(*run.t, run.t->hostA, run.t->HostAddr(false));
    return run;
}

V6Run
RunSend(const V6Param& p)
{
    V6Run run = Prepare(p);
    run.sent = MakePayloads();
    const Time end = ScheduleDatagrams(run.sender, run.sent, Seconds(1), MicroSeconds(500));
    RunUntil(end + Seconds(1));
    return run;
}

bool
IsIpv6(const Bytes& ip)
{
    return !ip.empty() && (ip[0] >> 4) == 6;
}

/// Control traffic IPv6 sends on its own (router solicitations, neighbour discovery): ICMPv6
/// between link-local or multicast addresses, which no policy here covers.
bool
IsLinkControl(const Bytes& ip)
{
    return IsIpv6(ip) && ip.size() >= 40 && ip[6] == 58 && (ip[8] == 0xfe || ip[24] == 0xff);
}

std::vector<V6Param>
AllShapesAndModes()
{
    std::vector<V6Param> params;
    for (XfrmOffloadType mode :
         {XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
    {
        params.push_back({XfrmMode::Transport, Family::Ipv6, Family::Ipv6, mode});
        params.push_back({XfrmMode::Tunnel, Family::Ipv6, Family::Ipv6, mode});
        params.push_back({XfrmMode::Tunnel, Family::Ipv4, Family::Ipv6, mode});
        params.push_back({XfrmMode::Tunnel, Family::Ipv6, Family::Ipv4, mode});
    }
    return params;
}

class Ipv6DatapathTest : public SimulationTest<V6Param>
{
};

TEST_P(Ipv6DatapathTest, UdpDeliveredWithIdenticalPayloads)
{
    V6Run run = RunSend(GetParam());
    ASSERT_TRUE(run.t->outA && run.t->inB) << "the SAs of the test pair were refused";
    EXPECT_EQ(run.sender->sendFailures, 0u);
    EXPECT_TRUE(SameDatagrams(run.sink->received, run.sent));
}

TEST_P(Ipv6DatapathTest, WireCarriesOnlyEspOfTheOuterFamily)
{
    V6Run run = RunSend(GetParam());
    const Topology& t = *run.t;
    const bool outer6 = GetParam().outer == Family::Ipv6;
    EXPECT_EQ(run.wire->nonIp, 0u);
    std::map<uint32_t, uint32_t> lastSeq;
    uint32_t espFromA = 0;
    for (const WirePacket& w : run.wire->packets)
    {
        if (IsLinkControl(w.ip))
        {
            continue;
        }
        ASSERT_EQ(IsIpv6(w.ip), outer6) << "an IPv" << (w.ip[0] >> 4) << " packet on the wire";
        EXPECT_FALSE(Contains(w.ip, PlaintextMarker())) << "plaintext payload visible on the wire";
        const uint32_t headerLength = outer6 ? 40 : 20;
        ASSERT_GE(w.ip.size(), headerLength + 8);
        const uint8_t proto = outer6 ? w.ip[6] : w.ip[9];
        ASSERT_EQ(proto, 50) << "protocol " << unsigned(proto) << " on the IPsec link";
        const XfrmAddress src = outer6 ? XfrmAddress(Ipv6SourceOf(w.ip.data()))
                                       : XfrmAddress(Ipv4Address(ReadBe32(w.ip.data() + 12)));
        const XfrmAddress dst = outer6 ? XfrmAddress(Ipv6DestinationOf(w.ip.data()))
                                       : XfrmAddress(Ipv4Address(ReadBe32(w.ip.data() + 16)));
        EXPECT_EQ(src, t.EndAddr(w.fromA));
        EXPECT_EQ(dst, t.EndAddr(!w.fromA));
        const uint32_t spi = ReadBe32(w.ip.data() + headerLength);
        const uint32_t seq = ReadBe32(w.ip.data() + headerLength + 4);
        EXPECT_EQ(spi, w.fromA ? t.spiAB : t.spiBA);
        EXPECT_EQ(seq, lastSeq[spi] + 1) << "SPI 0x" << std::hex << spi;
        lastSeq[spi] = seq;
        espFromA += w.fromA ? 1 : 0;
    }
    EXPECT_EQ(espFromA, kDatagrams);
}

TEST_P(Ipv6DatapathTest, StatesCountWhatLinuxCounts)
{
    V6Run run = RunSend(GetParam());
    const Topology& t = *run.t;
    ASSERT_TRUE(t.outA && t.inB);
    ASSERT_EQ(run.sink->received.size(), kDatagrams);
    // The UDP segment in transport mode, the whole inner packet (its own family's header) in
    // tunnel mode.
    const uint32_t innerHeader = GetParam().inner == Family::Ipv6 ? 40 : 20;
    const uint32_t header = GetParam().ipMode == XfrmMode::Tunnel ? innerHeader + 8 : 8;
    uint64_t bytes = 0;
    for (const auto& p : run.sent)
    {
        bytes += header + p.size();
    }
    if (GetParam().mode == XfrmOffloadType::Packet)
    {
        // The device counts; the host learns it through update_stats (xfrm_state_update_stats
        // before Linux reports or checks a packet-offload state's lifetime).
        t.stackA->UpdateStats(t.outA);
        t.stackB->UpdateStats(t.inB);
    }
    EXPECT_EQ(t.outA->GetCurrent().packets, kDatagrams);
    EXPECT_EQ(t.outA->GetCurrent().bytes, bytes);
    EXPECT_EQ(t.inB->GetCurrent().packets, kDatagrams);
    EXPECT_EQ(t.inB->GetCurrent().bytes, bytes);
    for (Ptr<XfrmStack> s : {t.stackA, t.stackB})
    {
        for (const auto& [name, count] : s->GetDropCounts())
        {
            EXPECT_EQ(count, 0u) << name;
        }
    }
}

TEST_P(Ipv6DatapathTest, EachModeEncryptsWhereItShould)
{
    // Every datagram fits the link after ESP, so crypto offload encrypts all of them in the
    // device (the stack framed them), packet offload does everything there, and software IPsec
    // never touches the device's crypto.
    V6Run run = RunSend(GetParam());
    const Topology& t = *run.t;
    ASSERT_EQ(run.sink->received.size(), kDatagrams);
    const XfrmOffloadType mode = GetParam().mode;
    const uint64_t crypto = mode == XfrmOffloadType::Crypto ? kDatagrams : 0;
    const uint64_t packet = mode == XfrmOffloadType::Packet ? kDatagrams : 0;
    EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), crypto);
    EXPECT_EQ(t.devA->GetEventCount(EmuNicEvent::CryptoTxPackets), crypto);
    EXPECT_EQ(t.devB->GetEventCount(EmuNicEvent::CryptoRxPackets), crypto);
    EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), crypto);
    EXPECT_EQ(t.devA->GetEventCount(EmuNicEvent::PacketOffloadTxPackets), packet);
    EXPECT_EQ(t.devB->GetEventCount(EmuNicEvent::PacketOffloadRxPackets), packet);
    if (mode == XfrmOffloadType::Crypto)
    {
        // UDP: HW_ESP_TX_CSUM leaves each inner checksum to the device, also of forwarded
        // packets (the receiver's delivery above proves it filled them right: ns-3 checks UDP
        // checksums here).
        EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), kDatagrams);
    }
}

TEST_P(Ipv6DatapathTest, PlaintextWherePolicyRequiresEspIsDropped)
{
    V6Run run = Prepare(GetParam());
    Topology& t = *run.t;
    // A's out policy goes: its traffic leaves in plaintext, and B's in (transport) or fwd
    // (tunnel) policy must refuse it (__xfrm_policy_check: no secpath where a template is due).
    for (Ptr<XfrmPolicy> p : t.policiesA)
    {
        if (p->GetConfig().dir == XfrmDir::Out)
        {
            ASSERT_TRUE(t.stackA->DeletePolicy(p));
        }
    }
    run.sent = MakePayloads();
    run.sent.resize(20);
    const Time end = ScheduleDatagrams(run.sender, run.sent, Seconds(1), MicroSeconds(500));
    RunUntil(end + Seconds(1));
    EXPECT_TRUE(run.sink->received.empty());
    EXPECT_EQ(t.stackB->GetDropCount(XfrmDrop::InTmplMismatch), run.sent.size());
}

INSTANTIATE_TEST_SUITE_P(Ipv6, Ipv6DatapathTest, testing::ValuesIn(AllShapesAndModes()), V6Name);

class Ipv6PmtuTest : public SimulationTest<V6Param>
{
};

TEST_P(Ipv6PmtuTest, GatewayAnswersTooBigAndTheSenderFragmentsAfterIt)
{
    V6Run run = Prepare(GetParam());
    const Topology& t = *run.t;
    ASSERT_TRUE(t.outA);
    // What ip6_forward allows through the tunnel: the SA's MTU on the 1500-byte link (at
    // least IPv6's 1280).
    const uint32_t outerHeader = GetParam().outer == Family::Ipv6 ? 40 : 20;
    const uint32_t mtu = t.outA->GetTransform().GetMtu(1500, true, outerHeader);
    const Bytes big = DatagramPayload(1, mtu - 40 - 8 + 1); // one byte too many
    const Bytes fits = DatagramPayload(2, mtu - 40 - 8);
    ScheduleDatagram(run.sender, Seconds(1), big);
    ScheduleDatagram(run.sender, Seconds(1.1), fits);
    ScheduleDatagram(run.sender, Seconds(1.2), big); // after the error: fragmented at the source
    RunUntil(Seconds(2));
    ASSERT_EQ(run.sender->icmp.size(), 1u) << "one Packet Too Big for the first datagram";
    EXPECT_EQ(run.sender->icmp[0].type, Icmpv6Header::ICMPV6_ERROR_PACKET_TOO_BIG);
    EXPECT_EQ(run.sender->icmp[0].info, mtu);
    EXPECT_FALSE(run.sender->icmp[0].source6.IsAny()) << "the error comes from gwA";
    EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::LocalPmtuErrors), 1u);
    ASSERT_EQ(run.sink->received.size(), 2u);
    EXPECT_EQ(run.sink->received[0], fits);
    EXPECT_EQ(run.sink->received[1], big);
}

INSTANTIATE_TEST_SUITE_P(Ipv6,
                         Ipv6PmtuTest,
                         testing::Values(V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv6},
                                         V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv4}),
                         V6Name);

/// A UDP datagram from src to dst behind an 8-byte Hop-by-Hop header (one PadN option) with its
/// checksum right: what a raw IPv6 socket with a Hop-by-Hop option sends.
Bytes
Udp6WithHopByHop(Ipv6Address src, Ipv6Address dst, const Bytes& data)
{
    const uint32_t udpLength = 8 + uint32_t(data.size());
    Bytes p(kIpv6HeaderLength + 8 + udpLength, 0);
    WriteIpv6Header(p.data(), src, dst, kIpProtoHopByHop, uint16_t(8 + udpLength), 64);
    uint8_t* hbh = p.data() + kIpv6HeaderLength;
    hbh[0] = kIpProtoUdp;
    hbh[2] = 1; // PadN
    hbh[3] = 4;
    uint8_t* udp = hbh + 8;
    const uint16_t ports[2] = {5555, kUdpPort};
    for (int i = 0; i < 2; ++i)
    {
        udp[2 * i] = uint8_t(ports[i] >> 8);
        udp[2 * i + 1] = uint8_t(ports[i]);
    }
    udp[4] = uint8_t(udpLength >> 8);
    udp[5] = uint8_t(udpLength);
    std::copy(data.begin(), data.end(), udp + 8);
    const uint16_t sum = L4ChecksumV6(src, dst, kIpProtoUdp, udp, udpLength);
    udp[6] = uint8_t(sum >> 8);
    udp[7] = uint8_t(sum);
    return p;
}

class Ipv6ExtensionHeaderTest : public SimulationTest<V6Param>
{
};

TEST_P(Ipv6ExtensionHeaderTest, NoDeviceIsHandedExtensionHeaders)
{
    // xfrm_dev_offload_ok refuses an IPv6 packet whose first next header is an extension
    // header (net/xfrm/xfrm_device.c, "Check for IPv6 extensions"): crypto offload falls back
    // to software ESP, packet offload drops the packet and counts XfrmOutError.
    V6Run run = Prepare(GetParam());
    Topology& t = *run.t;
    ASSERT_TRUE(t.outA && t.inB) << "the SAs of the test pair were refused";
    const bool tunnel = GetParam().ipMode == XfrmMode::Tunnel;
    const Ipv6Address src = t.HostAddr(true).GetIpv6();
    const Ipv6Address dst = t.HostAddr(false).GetIpv6();
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 10; ++i)
    {
        sent.push_back(DatagramPayload(i, 20 + 137 * i));
        const Bytes packet = Udp6WithHopByHop(src, dst, sent.back());
        Ptr<XfrmStack> stackA = t.stackA;
        Ptr<NetDevice> host = tunnel ? t.lanDevices[0] : nullptr;
        Ptr<NetDevice> gateway = tunnel ? t.lanDevices[1] : nullptr;
        Simulator::Schedule(Seconds(1) + MilliSeconds(i), [=]() {
            if (tunnel)
            {
                InjectFrom(host, gateway, Create<Packet>(packet.data(), packet.size()));
            }
            else
            {
                stackA->OutputRaw(Create<Packet>(packet.data(), packet.size()));
            }
        });
    }
    RunUntil(Seconds(2));
    EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), 0u);
    EXPECT_EQ(t.devA->GetEventCount(EmuNicEvent::CryptoTxPackets), 0u);
    EXPECT_EQ(t.devA->GetEventCount(EmuNicEvent::PacketOffloadTxPackets), 0u);
    EXPECT_EQ(t.devA->GetEventCount(EmuNicEvent::OffloadOkRejected), 0u)
        << "the device's offload_ok was asked";
    uint32_t fromA = 0;
    for (const WirePacket* w : run.wire->From(true))
    {
        fromA += IsLinkControl(w->ip) ? 0 : 1;
    }
    if (GetParam().mode == XfrmOffloadType::Packet)
    {
        EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutError), sent.size());
        EXPECT_EQ(fromA, 0u) << "packets left A";
        EXPECT_TRUE(run.sink->received.empty());
    }
    else
    {
        EXPECT_EQ(fromA, sent.size()) << "software ESP from A";
        EXPECT_TRUE(SameDatagrams(run.sink->received, sent));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Ipv6,
    Ipv6ExtensionHeaderTest,
    testing::Values(
        V6Param{XfrmMode::Transport, Family::Ipv6, Family::Ipv6, XfrmOffloadType::Packet},
        V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv6, XfrmOffloadType::Packet},
        V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv6, XfrmOffloadType::Crypto},
        V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv4, XfrmOffloadType::Crypto}),
    V6Name);

class Ipv6EncapTest : public SimulationTest<V6Param>
{
};

TEST_P(Ipv6EncapTest, SixInFourTravelsInEspInUdp)
{
    // RFC 3948 encapsulates ESP whatever it carries: IPv6 inside an IPv4 tunnel crosses a NAT
    // in UDP on port 4500 as IPv4 does.
    TopologyOptions opt = OptionsOf(GetParam());
    opt.udpEncap = true;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB) << "the SAs of the test pair were refused";
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink6(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->HostAddr(false).GetIpv6());
    std::vector<Bytes> sent = MakePayloads();
    sent.resize(30);
    const Time end = ScheduleDatagrams(sender, sent, Seconds(1), MicroSeconds(500));
    RunUntil(end + Seconds(1));
    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    uint32_t fromA = 0;
    for (const WirePacket* w : wire->From(true))
    {
        ASSERT_FALSE(IsIpv6(w->ip)) << "IPv6 on the IPv4 tunnel's link";
        ASSERT_GE(w->ip.size(), 20u + 8 + 8);
        ASSERT_EQ(w->ip[9], 17) << "protocol " << unsigned(w->ip[9]) << ", not UDP";
        EXPECT_EQ(uint16_t(w->ip[20] << 8 | w->ip[20 + 1]), opt.encapPortA);
        EXPECT_EQ(uint16_t(w->ip[22] << 8 | w->ip[22 + 1]), opt.encapPortB);
        EXPECT_EQ(uint16_t(w->ip[26] << 8 | w->ip[26 + 1]), 0)
            << "RFC 3948 3.1.1: UDP checksum zero";
        EXPECT_EQ(ReadBe32(w->ip.data() + 28), t->spiAB) << "the SPI right after the UDP header";
        EXPECT_FALSE(Contains(w->ip, PlaintextMarker()));
        ++fromA;
    }
    EXPECT_EQ(fromA, sent.size());
}

INSTANTIATE_TEST_SUITE_P(
    Ipv6,
    Ipv6EncapTest,
    testing::Values(V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv4, XfrmOffloadType::None},
                    V6Param{XfrmMode::Tunnel, Family::Ipv6, Family::Ipv4, XfrmOffloadType::Packet}),
    V6Name);

TEST(Ipv6Datapath, EspInUdpOverIpv6IsRefusedByName)
{
    TopologyOptions opt;
    opt.innerFamily = Family::Ipv6;
    opt.outerFamily = Family::Ipv6;
    opt.udpEncap = true;
    auto t = BuildTopology(opt);
    EXPECT_FALSE(t->outA);
    ASSERT_FALSE(t->errors.empty());
    EXPECT_NE(t->errors[0].find("encap.type"), std::string::npos) << t->errors[0];
    Simulator::Destroy();
}

TEST(Ipv6Datapath, TransportNeedsOneFamily)
{
    TopologyOptions opt;
    opt.innerFamily = Family::Ipv6;
    opt.outerFamily = Family::Ipv4;
    auto t = BuildTopology(opt);
    ASSERT_EQ(t->errors.size(), 1u);
    EXPECT_NE(t->errors[0].find("innerFamily"), std::string::npos) << t->errors[0];
    Simulator::Destroy();
}

} // namespace
