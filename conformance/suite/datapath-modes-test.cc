// The data paths end to end, differential by default: the same UDP (both ways) and TCP traffic
// runs through software IPsec and through the mode under test, in transport mode (host to
// host) and tunnel mode (gateway to gateway), and must deliver the same plaintext. For packet
// offload it also checks the split of the work: the stack hands the device plaintext and the
// device adds all of ESP (PKT-TX-ENCAP-BY-DEVICE); the device removes ESP and the stack gets
// plaintext that bypasses XFRM (PKT-RX-PLAINTEXT). What the stack hands down and gets up is
// read from the node's IPv4 ("Tx" and "Rx" traces), what the device puts on the wire from the
// link, and ESP is opened by Scapy's, never by the device.

#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"
#include "tcp-transfer.h"

#include "ns3/ipv4-l3-protocol.h"

#include <gtest/gtest.h>
#include <map>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint32_t kTcpBytes = 24000;

// ---------------------------------------------------------------------------------------------
// Traffic

/// What a node's IPv4 exchanges with one device: "Tx" after the stack, before the device;
/// "Rx" after the device, before the stack. Whole IPv4 packets.
std::shared_ptr<std::vector<Bytes>>
CaptureIpv4(Ptr<Node> node, Ptr<NetDevice> dev, const std::string& trace)
{
    Ptr<Ipv4L3Protocol> ipv4 = node->GetObject<Ipv4L3Protocol>();
    const uint32_t interface = ipv4->GetInterfaceForDevice(dev);
    auto packets = std::make_shared<std::vector<Bytes>>();
    std::vector<Bytes>* raw = packets.get();
    ipv4->TraceConnectWithoutContext(
        trace,
        Callback<void, Ptr<const Packet>, Ptr<Ipv4>, uint32_t>(
            [raw, interface](Ptr<const Packet> p, Ptr<Ipv4>, uint32_t i) {
                if (i == interface)
                {
                    raw->push_back(PacketBytes(p));
                }
            }));
    return packets;
}

std::string
Describe(const Bytes& ip)
{
    return offloadlab::ScapyPacketCrafter::Describe(ip);
}

Bytes
L4Of(const Bytes& ip)
{
    return Bytes(ip.begin() + std::min<size_t>(IpHeaderLength(ip), ip.size()), ip.end());
}

/// The IPv4 addresses of a packet, "src > dst".
std::string
AddressesOf(const Bytes& ip)
{
    if (ip.size() < 20)
    {
        return "?";
    }
    return Dotted(Ipv4Address(ReadBe32(ip.data() + 12))) + " > " +
           Dotted(Ipv4Address(ReadBe32(ip.data() + 16)));
}

// ---------------------------------------------------------------------------------------------
// MODE-TRANSPORT, MODE-TUNNEL: one mode against software IPsec

/// What one run delivered, kept as plain data so that the simulation can go.
struct Delivered
{
    std::vector<Bytes> udpAB;
    std::vector<Bytes> udpBA;
    Bytes tcp;
    std::vector<Bytes> atHostB; //!< tunnel: every IPv4 packet host B received from its gateway
    std::vector<std::string> drops;
};

struct Sent
{
    std::vector<Bytes> udpAB{Datagrams(40, 0)};
    std::vector<Bytes> udpBA{Datagrams(12, 5000)};
    Bytes tcp;
};

Delivered
RunOnce(const Case& c, Sent* sent)
{
    auto t = BuildTestTopology(OptionsOf(c));
    auto sinkA = InstallUdpSink(t->hostA);
    auto sinkB = InstallUdpSink(t->hostB);
    auto senderA = InstallUdpSender(t->hostA, t->hostAddrB);
    auto senderB = InstallUdpSender(t->hostB, t->hostAddrA);
    std::shared_ptr<std::vector<Bytes>> atHostB;
    if (t->Tunnel())
    {
        atHostB = CaptureIpv4(t->hostB, t->hostB->GetDevice(1), "Rx");
    }
    ScheduleDatagrams(senderA, sent->udpAB, Seconds(1), MicroSeconds(500));
    ScheduleDatagrams(senderB, sent->udpBA, Seconds(1) + MicroSeconds(250), MicroSeconds(500));
    auto tcp = StartTcp(t->hostA, t->hostB, t->hostAddrB, kTcpBytes, Seconds(1.5));
    RunUntil(Seconds(3));

    Delivered d;
    d.udpAB = sinkB->received;
    d.udpBA = sinkA->received;
    d.tcp = tcp->received;
    sent->tcp = tcp->sent;
    if (atHostB)
    {
        d.atHostB = *atHostB;
    }
    for (Ptr<XfrmStack> stack : {t->stackA, t->stackB})
    {
        for (const auto& [name, value] : stack->GetDropCounts())
        {
            if (value != 0)
            {
                d.drops.push_back(name + " " + std::to_string(value));
            }
        }
    }
    for (Ptr<EmuNicNetDevice> dev : {t->devA, t->devB})
    {
        for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
        {
            if (const uint64_t n = dev->GetDropCount(EmuNicDrop(i)))
            {
                d.drops.push_back(std::string(EmuNicDropName(EmuNicDrop(i))) + "Drop " +
                                  std::to_string(n));
            }
        }
    }
    tcp.reset();
    Simulator::Destroy();
    return d;
}

/// Runs the case and its software twin; the mode must deliver what was sent, as software does.
void
ExpectSameAsSoftware(const Case& c)
{
    Sent sent;
    Case sw = c;
    sw.mode = XfrmOffloadType::None;
    const Delivered reference = RunOnce(sw, &sent);
    const Delivered d = c.mode == XfrmOffloadType::None ? reference : RunOnce(c, &sent);

    EXPECT_TRUE(SameDatagrams(d.udpAB, sent.udpAB)) << "UDP A -> B";
    EXPECT_TRUE(SameDatagrams(d.udpBA, sent.udpBA)) << "UDP B -> A";
    EXPECT_TRUE(SameStream(d.tcp, sent.tcp)) << "TCP A -> B";
    EXPECT_TRUE(d.drops.empty()) << "drops: " << testing::PrintToString(d.drops);
    // Software IPsec itself delivered everything: the comparison means something.
    ASSERT_TRUE(SameDatagrams(reference.udpAB, sent.udpAB)) << "software IPsec";
    ASSERT_TRUE(SameStream(reference.tcp, sent.tcp)) << "software IPsec";
    // Tunnel: every inner packet reaches host B exactly as software IPsec delivers it.
    EXPECT_EQ(d.atHostB.size(), reference.atHostB.size()) << "packets at host B";
    size_t differ = 0;
    for (size_t i = 0; i < d.atHostB.size() && i < reference.atHostB.size(); ++i)
    {
        if (d.atHostB[i] != reference.atHostB[i] && ++differ == 1)
        {
            ADD_FAILURE() << "packet " << i << " at host B differs from software IPsec's:\n  "
                          << Describe(d.atHostB[i]) << "\n  " << Describe(reference.atHostB[i]);
        }
    }
    EXPECT_EQ(differ, 0u) << "inner packets at host B that differ from software IPsec's";
}

/// Software with each algorithm, each offload mode with each algorithm it can offload; ESN
/// off and on.
std::vector<Case>
ModeCases(XfrmMode ipMode)
{
    auto all = Cases({XfrmOffloadType::None},
                     {Alg::Gcm128, Alg::Gcm256, Alg::CbcSha256},
                     {ipMode},
                     {false, true});
    const auto offloaded = Cases({XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                                 {Alg::Gcm128, Alg::Gcm256},
                                 {ipMode},
                                 {false, true});
    all.insert(all.end(), offloaded.begin(), offloaded.end());
    return all;
}

class MODE_TRANSPORT : public SimulationTest<Case>
{
};

TEST_P(MODE_TRANSPORT, SamePlaintextAsSoftware)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    ExpectSameAsSoftware(GetParam());
}

INSTANTIATE_TEST_SUITE_P(,
                         MODE_TRANSPORT,
                         testing::ValuesIn(ModeCases(XfrmMode::Transport)),
                         CaseName);

class MODE_TUNNEL : public SimulationTest<Case>
{
};

TEST_P(MODE_TUNNEL, SameInnerPacketsAsSoftware)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    ExpectSameAsSoftware(GetParam());
}

// The outer IPv4 header of tunnel mode carries the route's hop limit as its TTL (Linux
// xfrm4_tunnel_encap_add: ip4_dst_hoplimit, the default 64 unless the route says otherwise;
// mlx5's packet offload writes the same 64), never the inner packet's TTL (63 here: the gateway
// forwarded it) nor 1. In this topology the route's hop limit is the gateway's default TTL.
class TUNNEL_OUTER_TTL : public SimulationTest<Case>
{
};

TEST_P(TUNNEL_OUTER_TTL, RouteHopLimitNotInnerTtl)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->outB);
    auto wire = CaptureWire(t->devA, t->devB);
    auto sinkA = InstallUdpSink(t->hostA);
    auto sinkB = InstallUdpSink(t->hostB);
    auto senderA = InstallUdpSender(t->hostA, t->hostAddrB);
    auto senderB = InstallUdpSender(t->hostB, t->hostAddrA);
    const auto sentAB = Datagrams(6, 0);
    const auto sentBA = Datagrams(6, 100);
    ScheduleDatagrams(senderA, sentAB, MilliSeconds(10), MilliSeconds(1));
    ScheduleDatagrams(senderB, sentBA, MilliSeconds(10) + MicroSeconds(500), MilliSeconds(1));
    RunTo(MilliSeconds(50));

    EXPECT_TRUE(SameDatagrams(sinkB->received, sentAB));
    EXPECT_TRUE(SameDatagrams(sinkA->received, sentBA));
    for (bool fromA : {true, false})
    {
        UintegerValue hopLimit;
        (fromA ? t->endA : t->endB)
            ->GetObject<Ipv4L3Protocol>()
            ->GetAttribute("DefaultTtl", hopLimit);
        uint32_t esp = 0;
        std::map<uint32_t, uint32_t> ttls;
        for (const WirePacket* w : wire->From(fromA))
        {
            if (IpProtocol(w->ip) == kProtoEsp)
            {
                ++esp;
                ++ttls[w->ip[8]];
            }
        }
        EXPECT_EQ(esp, fromA ? sentAB.size() : sentBA.size());
        const auto right = ttls.find(hopLimit.Get());
        EXPECT_EQ(right == ttls.end() ? 0u : right->second, esp)
            << (fromA ? "A" : "B") << " sent outer TTLs " << testing::PrintToString(ttls)
            << ", not the route's hop limit " << hopLimit.Get();
        RecordEvidence(std::string(fromA ? "a" : "b") + "_outer_ttls",
                       testing::PrintToString(ttls));
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         TUNNEL_OUTER_TTL,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet},
                                                 {Alg::Gcm128},
                                                 {XfrmMode::Tunnel})),
                         CaseName);

INSTANTIATE_TEST_SUITE_P(, MODE_TUNNEL, testing::ValuesIn(ModeCases(XfrmMode::Tunnel)), CaseName);

// ---------------------------------------------------------------------------------------------
// PKT-TX-ENCAP-BY-DEVICE

class PKT_TX_ENCAP_BY_DEVICE : public SimulationTest<Case>
{
};

TEST_P(PKT_TX_ENCAP_BY_DEVICE, StackHandsPlaintextDeviceAddsAllOfEsp)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string why;
    ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);
    auto handed = CaptureIpv4(t->endA, t->devA, "Tx");
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    const std::vector<Bytes> sent = Datagrams(30, 0);
    ScheduleDatagrams(sender, sent, Seconds(1), MicroSeconds(500));
    RunUntil(Seconds(2));

    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), 0u)
        << "the stack asked for crypto offload";
    ASSERT_EQ(handed->size(), sent.size()) << "packets the stack handed to the device";
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), handed->size()) << "the device dropped or added packets";
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    for (size_t i = 0; i < fromA.size(); ++i)
    {
        SCOPED_TRACE("packet " + std::to_string(i));
        const Bytes& plain = (*handed)[i];
        const Bytes& esp = fromA[i]->ip;
        // The stack's part: the plaintext packet, no ESP.
        ASSERT_EQ(IpProtocol(plain), kProtoUdp) << "the stack handed down " << Describe(plain);
        // The device's part: ESP between the endpoints with its own numbers ...
        ASSERT_EQ(IpProtocol(esp), kProtoEsp) << "the device sent " << Describe(esp);
        EXPECT_EQ(AddressesOf(esp), Dotted(t->endAddrA) + " > " + Dotted(t->endAddrB));
        EXPECT_EQ(EspSpiOf(esp), t->spiAB);
        EXPECT_EQ(EspSeqOf(esp), i + 1);
        // ... whose IV, padding, trailer and ICV Scapy accepts, around exactly that plaintext.
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(esp, 0, &inner, &error)) << error;
        if (t->Tunnel())
        {
            EXPECT_TRUE(inner == plain) << "the tunnel carries another packet than the stack's:\n  "
                                        << Describe(inner) << "\n  " << Describe(plain);
        }
        else
        {
            EXPECT_EQ(AddressesOf(inner), AddressesOf(plain));
            EXPECT_EQ(IpProtocol(inner), IpProtocol(plain));
            EXPECT_TRUE(L4Of(inner) == L4Of(plain)) << "the device protected another payload";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_TX_ENCAP_BY_DEVICE,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet},
                                                 {Alg::Gcm128, Alg::Gcm256})),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// PKT-RX-PLAINTEXT

class PKT_RX_PLAINTEXT : public SimulationTest<Case>
{
};

TEST_P(PKT_RX_PLAINTEXT, StackGetsPlaintextBypassingXfrm)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string why;
    ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB);
    auto handed = CaptureIpv4(t->endA, t->devA, "Tx");
    auto received = CaptureIpv4(t->endB, t->devB, "Rx");
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    std::vector<Bytes> expected = Datagrams(20, 0);
    ScheduleDatagrams(sender, expected, Seconds(1), MicroSeconds(500));
    // ESP from an implementation nobody here wrote, numbered after A's: the device opens it too.
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    std::vector<Bytes> crafted; // the plaintext packets Scapy protected
    for (uint32_t i = 0; i < 5; ++i)
    {
        const Bytes data = DatagramPayload(700 + i, 30 + 41 * i);
        const Bytes plain = ScapyUdpAToB(*t, data);
        ASSERT_FALSE(plain.empty());
        Bytes esp;
        ASSERT_TRUE(oracle.Encrypt(plain, expected.size() + 1 + i, &esp, &error)) << error;
        ScheduleInject(Seconds(2) + MilliSeconds(i), t->devA, t->devB, esp);
        crafted.push_back(plain);
        expected.push_back(data);
    }
    RunUntil(Seconds(3));

    EXPECT_TRUE(SameDatagrams(sink->received, expected));
    // What B's stack got from the device: plaintext only, exactly what was protected.
    ASSERT_EQ(received->size(), expected.size()) << "packets B's device handed up";
    for (size_t i = 0; i < received->size(); ++i)
    {
        SCOPED_TRACE("packet " + std::to_string(i));
        const Bytes& got = (*received)[i];
        const Bytes& want = i < handed->size() ? (*handed)[i] : crafted[i - handed->size()];
        ASSERT_NE(IpProtocol(got), kProtoEsp) << "the stack was handed ESP: " << Describe(got);
        if (t->Tunnel())
        {
            EXPECT_TRUE(got == want)
                << "the inner packet changed:\n  " << Describe(got) << "\n  " << Describe(want);
        }
        else
        {
            EXPECT_EQ(AddressesOf(got), AddressesOf(want));
            EXPECT_EQ(IpProtocol(got), kProtoUdp);
            EXPECT_TRUE(L4Of(got) == L4Of(want)) << "the device delivered another payload";
        }
    }
    // XFRM was bypassed: B's stack processed no ESP and dropped nothing.
    EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), 0u);
    for (const auto& [name, value] : t->stackB->GetDropCounts())
    {
        EXPECT_EQ(value, 0u) << name;
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_RX_PLAINTEXT,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet},
                                                 {Alg::Gcm128, Alg::Gcm256})),
                         CaseName);

} // namespace
