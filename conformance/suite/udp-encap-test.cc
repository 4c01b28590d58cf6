// Conformance: ESP-in-UDP (UDPENC-ESP-IN-UDP, RFC 3948) as Linux does it.
//
// Software IPsec carries an encapsulated SA's ESP in UDP from port 4500 to 4500 with a zero UDP
// checksum (esp_output_udp_encap); the receiver's port-4500 socket (UDP_ENCAP_ESPINUDP) takes
// ESP, eats NAT keepalives (one 0xff byte) and hands IKE, behind its four-byte non-ESP marker,
// to the socket (__xfrm4_udp_encap_rcv); a non-zero outer checksum must be right
// (udp_lib_checksum_complete before encap_rcv); plain ESP for an encapsulated SA is a state
// mismatch (xfrm_input). Crypto offload of an encapsulated SA is refused, the SA not added
// (xfrm_dev_state_add, 6.1 to 6.10: "Encapsulation and TFC padding can't be offloaded"; from
// 6.11 the driver decides). Packet offload of such SAs came
// with 6.6 for drivers that can: a device declares it
// (udp_encap, ABI v3), and then puts the same frames on the wire and takes them apart the same
// way; the port-4500 rules then hold with the device in front of the host.
//
// The wire is checked by Scapy: every frame A sends is UDP 4500 -> 4500 with checksum 0, and
// the ESP inside it decrypts with Scapy's ESP under the SA's keys.

#include "conformance-case.h"
#include "ipv4-packet-util.h"
#include "scapy-esp-oracle.h"

#include "ns3/inet-socket-address.h"
#include "ns3/ppp-header.h"
#include "ns3/udp-socket-factory.h"

#include <gtest/gtest.h>

using namespace offloadtest;
using namespace conformance;
using offloadlab::ScapyEspOracle;

namespace
{

constexpr uint16_t kNatT = 4500;
/// A's port: not 4500, as a peer behind a NAT is seen, so that a device that writes 4500
/// instead of the SA's ports, or swaps them, is caught.
constexpr uint16_t kPortA = 4501;

uint16_t
Be16(const uint8_t* p)
{
    return uint16_t(p[0] << 8 | p[1]);
}

/// A UDP socket bound to B's port 4500: what IKE (charon) holds there.
struct IkeSocket
{
    Ptr<Socket> socket;
    std::vector<Bytes> received;
};

std::shared_ptr<IkeSocket>
BindIke(Ptr<Node> node)
{
    auto ike = std::make_shared<IkeSocket>();
    ike->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    ike->socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), kNatT));
    IkeSocket* raw = ike.get();
    ike->socket->SetRecvCallback(MakeCallback(+[](IkeSocket* s, Ptr<Socket> socket) {
                                     while (Ptr<Packet> p = socket->Recv())
                                     {
                                         s->received.push_back(PacketBytes(p));
                                     }
                                 }).Bind(raw));
    return ike;
}

/// A UDP datagram from A's port to B's (or `dport`) as an IPv4 packet; the UDP checksum right,
/// or zero, or wrong.
Bytes
UdpToB(const Topology& t,
       const Bytes& data,
       bool checksum,
       bool corrupt = false,
       uint16_t dport = kNatT)
{
    Bytes udp = UdpDatagramBytes(t.endAddrA, t.endAddrB, kPortA, dport, data);
    if (!checksum)
    {
        udp[6] = udp[7] = 0;
    }
    if (corrupt)
    {
        udp[7] ^= 0x5a;
    }
    return Ipv4Bytes(t.endAddrA, t.endAddrB, kProtoUdp, udp);
}

/// Puts an IPv4 packet on B's side of the wire at `at`: B's device receives it as if A had sent
/// it, but A's device never sees it (a packet-offload policy there would protect it again).
void
ScheduleArrivalAtB(Time at, const Topology& t, const Bytes& ip)
{
    Ptr<EmuNicNetDevice> devB = t.devB;
    Simulator::Schedule(at, [devB, ip]() {
        Ptr<Packet> p = Create<Packet>(ip.data(), ip.size());
        PppHeader ppp;
        ppp.SetProtocol(0x0021); // IPv4
        p->AddHeader(ppp);
        devB->Receive(p);
    });
}

TopologyOptions
EncapOptions(const Case& c)
{
    TopologyOptions opt = OptionsOf(c);
    opt.udpEncap = true;
    opt.encapPortA = kPortA;
    return opt;
}

/// Packet offload of encapsulated SAs is for devices that declare it (olab_capabilities
/// udp_encap, ABI v3); the NIC refuses such SAs for the others.
#define SkipPacketOffload(c)                                                                       \
    do                                                                                             \
    {                                                                                              \
        if ((c).mode == XfrmOffloadType::Packet && !DeviceUnderTest().GetCapabilities().udp_encap) \
        {                                                                                          \
            GTEST_SKIP() << "the device does not offload ESP-in-UDP SAs (udp_encap 0)";            \
        }                                                                                          \
    } while (false)

using UDPENC_ESP_IN_UDP = SimulationTest<Case>;

// Datagrams both ways through ESP-in-UDP; every frame on the wire is UDP 4500 -> 4500 with a
// zero checksum and a length that covers the datagram, and its ESP opens with Scapy.
TEST_P(UDPENC_ESP_IN_UDP, Rfc3948EncapsulationBothWays)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    SkipPacketOffload(c);
    auto [t, wire, sink, sender] = BuildUdpRig(EncapOptions(c));
    ASSERT_TRUE(t->outA && t->inB && t->outB && t->inA);
    auto sinkA = InstallUdpSink(t->hostA);
    auto senderB = InstallUdpSender(t->hostB, t->hostAddrA);
    std::vector<Bytes> ab;
    std::vector<Bytes> ba;
    for (uint32_t i = 0; i < 12; ++i)
    {
        ab.push_back(DatagramPayload(i, 37 * i));
        ba.push_back(DatagramPayload(100 + i, 900 - 41 * i));
    }
    ScheduleDatagrams(sender, ab, Seconds(1), MilliSeconds(2));
    ScheduleDatagrams(senderB, ba, Seconds(1.001), MilliSeconds(2));
    RunUntil(Seconds(2));
    EXPECT_TRUE(SameDatagrams(sink->received, ab));
    EXPECT_TRUE(SameDatagrams(sinkA->received, ba));

    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          false);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    size_t checked = 0;
    for (const WirePacket* w : wire->From(true))
    {
        const Bytes& ip = w->ip;
        ASSERT_EQ(IpProtocol(ip), kProtoUdp) << "a frame left A outside UDP";
        const uint32_t ihl = IpHeaderLength(ip);
        ASSERT_GE(ip.size(), ihl + 8 + 8);
        const uint8_t* udp = ip.data() + ihl;
        EXPECT_EQ(Be16(udp), kPortA) << "source port: the SA's encap_sport";
        EXPECT_EQ(Be16(udp + 2), kNatT) << "destination port: the SA's encap_dport";
        EXPECT_EQ(Be16(udp + 4), ip.size() - ihl) << "UDP length";
        // RFC 3948 2.1: the checksum SHOULD be zero; a receiver must not depend on that, and
        // Linux accepts a right one. A wrong one it drops.
        const uint16_t sum = Be16(udp + 6);
        if (sum != 0)
        {
            Bytes segment(udp, ip.data() + ip.size());
            segment[6] = segment[7] = 0;
            EXPECT_EQ(sum,
                      ns3::L4Checksum(t->endAddrA,
                                      t->endAddrB,
                                      kProtoUdp,
                                      segment.data(),
                                      uint32_t(segment.size())))
                << "a non-zero UDP checksum must be right";
        }
        EXPECT_EQ(ReadBe32(udp + 8), t->spiAB) << "no non-ESP marker before ESP";
        std::vector<uint8_t> inner;
        EXPECT_TRUE(oracle.Decrypt(WithoutUdpEncap(ip), 0, &inner, &error)) << error;
        ++checked;
    }
    EXPECT_EQ(checked, ab.size());
    for (const WirePacket* w : wire->From(false))
    {
        const uint8_t* udp = w->ip.data() + IpHeaderLength(w->ip);
        ASSERT_EQ(IpProtocol(w->ip), kProtoUdp) << "a frame left B outside UDP";
        EXPECT_EQ(Be16(udp), kNatT) << "B's source port: its SA's encap_sport";
        EXPECT_EQ(Be16(udp + 2), kPortA) << "B's destination port: A's port, its SA's encap_dport";
    }
    RecordEvidence("framesChecked", checked);
    if (c.mode == XfrmOffloadType::None)
    {
        EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::UdpEncapTxPackets), ab.size());
        EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::UdpEncapRxPackets), ab.size());
    }
    else
    {
        EXPECT_EQ(Counter(t->devA, "PacketOffloadTxPackets"), ab.size()) << "the device encrypts";
    }
}

// RFC 3948 2.2 and 2.3 on B's port 4500: a keepalive is eaten, IKE behind the non-ESP marker
// reaches the socket (marker included, as Linux hands it to charon), and neither touches ESP.
TEST_P(UDPENC_ESP_IN_UDP, KeepaliveEatenIkeToTheSocket)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    SkipPacketOffload(c);
    auto t = BuildTestTopology(EncapOptions(c));
    auto ike = BindIke(t->endB);
    const Bytes ikeMessage = {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
    ScheduleArrivalAtB(Seconds(1), *t, UdpToB(*t, {0xff}, true));
    ScheduleArrivalAtB(Seconds(1.01), *t, UdpToB(*t, ikeMessage, true));
    ScheduleArrivalAtB(Seconds(1.02), *t, UdpToB(*t, {0xff}, false));
    RunUntil(Seconds(2));
    ASSERT_EQ(ike->received.size(), 1u) << "IKE must reach the socket, keepalives must not";
    EXPECT_EQ(ike->received[0], ikeMessage);
    if (c.mode == XfrmOffloadType::None)
    {
        // Who eats a keepalive is the host's business in software; a device in front of it may
        // eat it too, so in packet offload only the socket is judged.
        EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::UdpEncapKeepalives), 2u);
        EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::UdpEncapToSocket), 1u);
        EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::UdpEncapRxPackets), 0u);
    }
}

// The outer checksum: zero or right is accepted, a wrong non-zero one is dropped; plain ESP
// for an encapsulated SA is a state mismatch.
TEST_P(UDPENC_ESP_IN_UDP, ChecksumRulesAndPlainEspMismatch)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    SkipPacketOffload(c);
    auto [t, wire, sink, sender] = BuildUdpRig(EncapOptions(c));
    auto esp = [&](uint64_t seq, uint32_t i) {
        const Bytes ip = EspToB(*t, seq, DatagramPayload(i, 60), uint16_t(500 + i));
        return Bytes(ip.begin() + IpHeaderLength(ip), ip.end());
    };
    ScheduleArrivalAtB(Seconds(1), *t, UdpToB(*t, esp(1, 0), false));
    ScheduleArrivalAtB(Seconds(1.01), *t, UdpToB(*t, esp(2, 1), true));
    ScheduleArrivalAtB(Seconds(1.02), *t, UdpToB(*t, esp(3, 2), true, true));
    ScheduleArrivalAtB(Seconds(1.03), *t, EspToB(*t, 4, DatagramPayload(3, 60), 504));
    // ESP-in-UDP to a port that is not the SA's: not for the SA (nobody listens there).
    ScheduleArrivalAtB(Seconds(1.04), *t, UdpToB(*t, esp(5, 4), false, false, 4600));
    RunUntil(Seconds(2));
    ASSERT_EQ(sink->received.size(), 2u)
        << "only ESP-in-UDP to the SA's port with a zero or right checksum may pass";
    EXPECT_EQ(sink->received[0], DatagramPayload(0, 60)) << "zero checksum";
    EXPECT_EQ(sink->received[1], DatagramPayload(1, 60)) << "right non-zero checksum";
    if (c.mode == XfrmOffloadType::None)
    {
        // In packet offload the device may drop these itself; the sink is the judge there.
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::UdpInCsumErrors), 1u);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateMismatch), 1u)
            << "ESP outside UDP for an encapsulated SA";
    }
}

// Linux 6.1 to 6.10 refuse to offload an encapsulated SA to crypto offload: the add fails with its
// message and nothing is installed (a key manager retries without offload, as strongSwan's
// hw_offload=auto does).
INSTANTIATE_TEST_SUITE_P(,
                         UDPENC_ESP_IN_UDP,
                         testing::ValuesIn(Cases({XfrmOffloadType::None, XfrmOffloadType::Packet})),
                         CaseName);

using UDPENC_CRYPTO_REFUSED = SimulationTest<Case>;

TEST_P(UDPENC_CRYPTO_REFUSED, SaNotAddedDeviceNotAsked)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    TopologyOptions opt = EncapOptions(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    std::string error;
    const uint64_t adds = Counter(t->devA, "StateAdd");
    EXPECT_FALSE(t->stackA->AddState(t->SaConfig(true, true, XfrmOffloadType::Crypto), &error));
    EXPECT_EQ(error, "offload: Encapsulation and TFC padding can't be offloaded");
    EXPECT_EQ(Counter(t->devA, "StateAdd"), adds) << "the device must not be asked";
    EXPECT_EQ(t->stackA->GetStates().GetN(), 0u);
    RecordEvidence("error", error);
}

INSTANTIATE_TEST_SUITE_P(,
                         UDPENC_CRYPTO_REFUSED,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto})),
                         CaseName);

} // namespace
