// Conformance: packets an offloaded SA may not be able to process (xfrm_device.rst,
// xdo_dev_offload_ok: "IPv4 or IPv6, no IPv4 options, etc"), and the allowance that crypto
// offload runs such a packet, or a whole SA, in software; and IPv6 in every tunnel shape.
//
// Device-independent: the device is only asked through the driver interface (offload_ok) and
// judged by the wire (Scapy's ESP decrypts every ESP packet), the sockets and the stack's
// counters, often against a software IPsec run of the same traffic.
#include "conformance-case.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"
#include "tcp-transfer.h"

#include <algorithm>
#include <map>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint16_t kCraftedSourcePort = 5555;

uint16_t
Ipv4Checksum(const uint8_t* header, uint32_t length)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < length; i += 2)
    {
        sum += uint32_t(header[i]) << 8 | header[i + 1];
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return uint16_t(~sum);
}

/// The ESP packets one end put on the wire, in order, with fragments reassembled (the stack
/// fragments ESP that is too big for the link; Scapy decrypts whole packets only).
std::vector<Bytes>
WholeEspFrom(const WireCapture& wire, bool fromA)
{
    std::vector<Bytes> whole;
    std::map<uint16_t, std::vector<const Bytes*>> pending; // by IP identification
    for (const WirePacket* w : wire.From(fromA))
    {
        if (IpProtocol(w->ip) != kProtoEsp)
        {
            continue;
        }
        if (!IsFragment(w->ip))
        {
            whole.push_back(w->ip);
            continue;
        }
        const uint16_t id = uint16_t(w->ip[4] << 8 | w->ip[5]);
        auto& pieces = pending[id];
        pieces.push_back(&w->ip);
        auto offset = [](const Bytes* b) { return uint32_t(((*b)[6] & 0x1f) << 8 | (*b)[7]) * 8; };
        std::sort(pieces.begin(), pieces.end(), [&](const Bytes* a, const Bytes* b) {
            return offset(a) < offset(b);
        });
        Bytes data;
        bool complete = false;
        for (const Bytes* piece : pieces)
        {
            const uint32_t ihl = IpHeaderLength(*piece);
            if (offset(piece) != data.size())
            {
                break; // a hole: wait for more
            }
            data.insert(data.end(), piece->begin() + ihl, piece->end());
            complete = ((*piece)[6] & 0x20) == 0;
        }
        if (!complete)
        {
            continue;
        }
        const Bytes& first = *pieces.front();
        const uint32_t ihl = IpHeaderLength(first);
        Bytes packet(first.begin(), first.begin() + ihl);
        packet.insert(packet.end(), data.begin(), data.end());
        packet[2] = uint8_t(packet.size() >> 8);
        packet[3] = uint8_t(packet.size());
        packet[6] &= 0x40; // keep DF, clear MF and the offset
        packet[7] = 0;
        packet[10] = packet[11] = 0;
        const uint16_t sum = Ipv4Checksum(packet.data(), ihl);
        packet[10] = uint8_t(sum >> 8);
        packet[11] = uint8_t(sum);
        whole.push_back(packet);
        pending.erase(id);
    }
    return whole;
}

/// What Scapy's ESP makes of one ESP packet of the A->B SA: the protected IPv4 packet
/// (transport: rebuilt around the payload; tunnel: the inner packet), or a failure.
testing::AssertionResult
ScapyDecryptAB(const Topology& t, const Bytes& esp, Bytes* inner)
{
    ScapyEspOracle oracle(t.algAB,
                          t.spiAB,
                          t.Tunnel(),
                          Dotted(t.endAddrA),
                          Dotted(t.endAddrB),
                          t.opt.esn);
    std::string error;
    if (!oracle.IsValid(&error) || !oracle.Decrypt(esp, 0, inner, &error))
    {
        return testing::AssertionFailure()
               << "Scapy cannot decrypt ESP seq " << EspSeqOf(esp) << ": " << error;
    }
    return testing::AssertionSuccess();
}

/// The datagram inside a decrypted IPv4/UDP packet.
Bytes
UdpDataOf(const Bytes& ip)
{
    const uint32_t start = IpHeaderLength(ip) + 8;
    return ip.size() >= start ? Bytes(ip.begin() + start, ip.end()) : Bytes{};
}

/// An IPv4/UDP datagram from host A to host B's sink, built by Scapy, with a Router Alert
/// option (24-byte header) when withOption.
Bytes
ScapyUdpAB(const Topology& t, const Bytes& data, bool withOption)
{
    Bytes udp;
    Bytes out;
    std::string error;
    EXPECT_TRUE(ScapyPacketCrafter::UdpDatagram(Dotted(t.hostAddrA),
                                                Dotted(t.hostAddrB),
                                                kCraftedSourcePort,
                                                kUdpPort,
                                                data,
                                                false,
                                                &udp,
                                                &error))
        << error;
    if (!withOption)
    {
        return udp;
    }
    EXPECT_TRUE(ScapyPacketCrafter::WithIpOptions(udp, &out, &error)) << error;
    return out;
}

/// The IPv4 header of a packet as the stack hands it to offload_ok (ns-3's Ipv4Header).
Ipv4Header
HeaderOf(const Bytes& ip, Ptr<Packet>* payload)
{
    Ptr<Packet> p = Create<Packet>(ip.data(), ip.size());
    Ipv4Header h;
    p->RemoveHeader(h);
    *payload = p;
    return h;
}

uint64_t
TxDrops(Ptr<EmuNicNetDevice> dev)
{
    uint64_t sum = 0;
    for (EmuNicDrop d : {EmuNicDrop::TxFragment,
                         EmuNicDrop::TxPmtu,
                         EmuNicDrop::TxNoState,
                         EmuNicDrop::TxSeqOverflow,
                         EmuNicDrop::TxExpired,
                         EmuNicDrop::TxUnsupported})
    {
        sum += dev->GetDropCount(d);
    }
    return sum;
}

/// TX drops of A's device plus the packets A's core refused before its device
/// (xfrm_dev_offload_ok: too big after ESP, IPv4 options): a packet-offload packet that did not
/// leave is counted in one of them.
uint64_t
RefusedOrDropped(const Topology& t)
{
    return TxDrops(t.devA) + t.stackA->GetDropCount(XfrmDrop::OutError);
}

// ---- OFFLOAD-OK-IPV4-OPTIONS -------------------------------------------------------------

using OFFLOAD_OK_IPV4_OPTIONS = SimulationTest<Case>;

// Crypto offload: asked about a packet whose header carries an option (Router Alert, built by
// Scapy), the device refuses unless it can parse options; a plain header of the same flow it
// accepts. (The simulated stack's sockets never send options, so the question is asked
// through the driver interface the stack uses.)
void
CryptoOffloadOkRefusesOptions(const Case& c, bool* accepted)
{
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->outA->IsOffloaded(XfrmOffloadType::Crypto));
    Ptr<Packet> payload;
    const Bytes data = DatagramPayload(1, 100);
    const Ipv4Header plain = HeaderOf(ScapyUdpAB(*t, data, false), &payload);
    ASSERT_EQ(plain.GetSerializedSize(), 20u);
    EXPECT_TRUE(t->devA->OffloadOk(plain, payload, t->outA))
        << "offload_ok refused a plain IPv4/UDP packet of the SA's own flow";
    const Bytes withOption = ScapyUdpAB(*t, data, true);
    const Ipv4Header options = HeaderOf(withOption, &payload);
    ASSERT_EQ(options.GetSerializedSize(), 24u) << ScapyPacketCrafter::Describe(withOption);
    *accepted = t->devA->OffloadOk(options, payload, t->outA);
    RecordEvidence("offload_ok_options", *accepted ? 1 : 0);
    Simulator::Destroy();
}

// Crypto offload, tunnel mode: a packet with an option forwarded into the tunnel. Whatever
// offload_ok answers, what reaches the wire is valid ESP carrying exactly what software IPsec
// carries for the same packet, and the core never hands it to the device (Linux's
// xfrm_dev_offload_ok refuses IPv4 options itself).
// Plain traffic before and after on the same SA is offloaded and delivered.
void
CryptoForwardedOptionsPacketSameAsSoftware(const Case& c)
{
    struct Run
    {
        Bytes inner;           //!< what Scapy decrypted from the options packet's ESP
        uint64_t deviceTx{0};  //!< packets the stack handed to the device
        uint32_t delivered{0}; //!< plain datagrams delivered
        bool offloadOk{false}; //!< offload_ok's answer for the options header
        uint32_t plaintext{0}; //!< wire packets showing test plaintext
    };

    const Bytes data = DatagramPayload(2, 120);
    const auto plainBefore = std::vector<Bytes>{DatagramPayload(3, 80), DatagramPayload(4, 90)};
    const auto plainAfter = std::vector<Bytes>{DatagramPayload(5, 70), DatagramPayload(6, 60)};
    auto run = [&](XfrmOffloadType mode) {
        Run r;
        auto t = BuildTestTopology(OptionsOf(Case{mode, c.alg, c.ipMode, c.esn}));
        EXPECT_TRUE(t->outA);
        auto wire = CaptureWire(t->devA, t->devB);
        KeepPcap(*t, std::string(DataPathName(mode)) + "-ipsec-link");
        KeepKeys(*t, std::string(DataPathName(mode)) + "-esp_sa");
        auto sink = InstallUdpSink(t->hostB);
        auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
        const Bytes withOption = ScapyUdpAB(*t, data, true);
        ScheduleDatagrams(sender, plainBefore, MilliSeconds(10), MilliSeconds(1));
        ScheduleInject(MilliSeconds(20), t->lanDevices[0], t->lanDevices[1], withOption);
        ScheduleDatagrams(sender, plainAfter, MilliSeconds(30), MilliSeconds(1));
        RunUntil(MilliSeconds(100));
        Ptr<Packet> payload;
        if (mode == XfrmOffloadType::Crypto && t->outA)
        {
            r.offloadOk = t->devA->OffloadOk(HeaderOf(withOption, &payload), payload, t->outA);
        }
        r.deviceTx = t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets);
        r.delivered = Delivered(*sink, plainBefore) + Delivered(*sink, plainAfter);
        for (const WirePacket* w : wire->From(true))
        {
            r.plaintext += Contains(w->ip, PlaintextMarker()) ? 1 : 0;
        }
        const auto esp = WholeEspFrom(*wire, true);
        EXPECT_EQ(esp.size(), plainBefore.size() + 1 + plainAfter.size());
        if (esp.size() > plainBefore.size())
        {
            EXPECT_TRUE(ScapyDecryptAB(*t, esp[plainBefore.size()], &r.inner));
        }
        Simulator::Destroy();
        return r;
    };
    const Run software = run(XfrmOffloadType::None);
    const Run crypto = run(XfrmOffloadType::Crypto);
    EXPECT_FALSE(crypto.inner.empty());
    // The stack itself mangles a forwarded packet with options, in every mode: ns-3's
    // Ipv4Header writes a 20-byte header (IHL 5, option lost) into the 24 bytes the header
    // took and leaves 4 bytes unwritten. Compare everything the stack did write.
    auto written = [](Bytes inner) {
        for (size_t i = 20; i < 24 && i < inner.size(); ++i)
        {
            inner[i] = 0;
        }
        return inner;
    };
    EXPECT_EQ(written(crypto.inner), written(software.inner))
        << "crypto offload protected the options packet differently from software IPsec";
    EXPECT_EQ(crypto.delivered, plainBefore.size() + plainAfter.size());
    EXPECT_EQ(crypto.plaintext, 0u);
    const uint64_t plainCount = plainBefore.size() + plainAfter.size();
    // The core never offloads a packet with options, whatever offload_ok would answer
    // (xfrm_dev_offload_ok: ihl != 5 before the driver is asked).
    EXPECT_EQ(crypto.deviceTx, plainCount) << "the core handed a packet with options to the device";
    RecordEvidence("offload_ok_options", crypto.offloadOk ? 1 : 0);
    RecordEvidence("device_tx", crypto.deviceTx);
    RecordEvidence("delivered", crypto.delivered);
}

// Packet offload: the stack hands the device a plaintext packet with an option that the
// device's out policy selects (the device parses packets itself; there is no offload_ok
// fallback). It must drop it, counted, or protect it exactly; never send it in plaintext or
// mangled. Plain packets of the same flow around it are protected.
void
PacketDeviceDropsOrProtectsExactly(const Case& c)
{
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->outA->IsOffloaded(XfrmOffloadType::Packet));
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    KeepKeys(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    const Bytes data = DatagramPayload(7, 150);
    const Bytes withOption = ScapyUdpAB(*t, data, true);
    const std::vector<Bytes> before{DatagramPayload(8, 40)};
    const std::vector<Bytes> after{DatagramPayload(9, 50)};
    ScheduleDatagrams(sender, before, MilliSeconds(10), MilliSeconds(1));
    // As a raw socket (transport) or the forwarding path (tunnel) hands it to XFRM: the core's
    // checks come first (Linux's xfrm_dev_offload_ok refuses IPv4 options), then the device.
    Simulator::Schedule(MilliSeconds(20), [&t, withOption]() {
        t->stackA->OutputRaw(Create<Packet>(withOption.data(), withOption.size()));
    });
    ScheduleDatagrams(sender, after, MilliSeconds(30), MilliSeconds(1));
    RunUntil(MilliSeconds(100));

    EXPECT_EQ(Delivered(*sink, before) + Delivered(*sink, after), 2u);
    for (const WirePacket* w : wire->From(true))
    {
        EXPECT_FALSE(Contains(w->ip, PlaintextMarker())) << "plaintext on the wire";
    }
    const auto esp = WholeEspFrom(*wire, true);
    ASSERT_GE(esp.size(), 2u);
    if (esp.size() == 2)
    {
        EXPECT_GE(RefusedOrDropped(*t), 1u) << "the options packet vanished without a drop count";
        EXPECT_EQ(Delivered(*sink, {data}), 0u);
    }
    else
    {
        ASSERT_EQ(esp.size(), 3u);
        Bytes inner;
        ASSERT_TRUE(ScapyDecryptAB(*t, esp[1], &inner));
        if (t->Tunnel())
        {
            EXPECT_EQ(inner, withOption) << "the inner packet was changed";
        }
        else
        {
            // Transport: Scapy rebuilds the header; the option and the datagram must be there.
            EXPECT_EQ(IpHeaderLength(inner), 24u) << "the option was lost";
            EXPECT_EQ(UdpDataOf(inner), data);
        }
    }
    RecordEvidence("esp_from_a", esp.size());
    RecordEvidence("tx_unsupported_drops", t->devA->GetDropCount(EmuNicDrop::TxUnsupported));
}

TEST_P(OFFLOAD_OK_IPV4_OPTIONS, RefusedOrProcessedExactly)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (c.mode == XfrmOffloadType::Packet)
    {
        PacketDeviceDropsOrProtectsExactly(c);
        return;
    }
    bool accepted = false;
    CryptoOffloadOkRefusesOptions(c, &accepted);
    if (HasFatalFailure())
    {
        return;
    }
    if (c.ipMode == XfrmMode::Tunnel)
    {
        CryptoForwardedOptionsPacketSameAsSoftware(c);
    }
    else if (accepted && !HasFailure())
    {
        GTEST_SKIP() << "the device accepts IPv4 options; in transport mode the simulated "
                        "stack cannot send a packet with options through crypto offload";
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         OFFLOAD_OK_IPV4_OPTIONS,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

// ---- OFFLOAD-OK-IPV6 ----------------------------------------------------------------------

/// Link control IPv6 sends on its own (router solicitations, neighbour discovery: ICMPv6 from a
/// link-local or to a multicast address), which no policy covers and Linux sends in the clear.
bool
IsIpv6LinkControl(const Bytes& ip)
{
    return ip.size() >= 40 && ip[0] >> 4 == 6 && ip[6] == 58 && (ip[8] == 0xfe || ip[24] == 0xff);
}

/// Whether the UDP datagram inside the inner packet (IPv4, or IPv6 without extension headers)
/// carries a checksum that verifies with its family's pseudo-header; *data gets its payload.
bool
InnerUdpVerifies(const Bytes& inner, Bytes* data)
{
    const bool v6 = !inner.empty() && inner[0] >> 4 == 6;
    const uint32_t ihl = v6 ? 40 : IpHeaderLength(inner);
    if (ihl == 0 || inner.size() < ihl + 8 || (v6 ? inner[6] : inner[9]) != kProtoUdp)
    {
        return false;
    }
    Bytes udp(inner.begin() + ihl, inner.end());
    *data = Bytes(udp.begin() + 8, udp.end());
    const uint16_t sent = uint16_t(udp[6] << 8 | udp[7]);
    udp[6] = udp[7] = 0;
    const uint16_t sum = v6 ? L4ChecksumV6(Ipv6SourceOf(inner.data()),
                                           Ipv6DestinationOf(inner.data()),
                                           kProtoUdp,
                                           udp.data(),
                                           udp.size())
                            : L4Checksum(Ipv4Address(ReadBe32(inner.data() + 12)),
                                         Ipv4Address(ReadBe32(inner.data() + 16)),
                                         kProtoUdp,
                                         udp.data(),
                                         udp.size());
    return sent == sum;
}

using OFFLOAD_OK_IPV6 = SimulationTest<Case>;

// IPv6 through the device in every shape (transport over IPv6; IPv6-in-IPv6, IPv4-in-IPv6 and
// IPv6-in-IPv4 tunnels): datagrams of every padding length up to the largest that fits the link
// after ESP. Every packet from A is ESP of the outer family that Scapy's ESP decrypts to exactly
// the datagram sent, in order, with an inner UDP checksum that verifies over its own family's
// pseudo-header (the device fills it under HW_ESP_TX_CSUM); B gets every datagram. Crypto
// offload may run any of them in software (offload_ok refused it); packet offload has no
// software path, so refusing them would lose them.
TEST_P(OFFLOAD_OK_IPV6, Ipv6PacketsRefusedOrProcessed)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    // A device may not offer a tunnel between families: state_add's -EOPNOTSUPP runs a crypto
    // offload SA in software, and fails a packet-offload one back to the key manager (Linux's
    // xfrm_dev_state_add). That shape is then not offered, not failed; any other refusal fails.
    std::vector<std::string> refused;
    auto t = BuildTestTopology(OptionsOf(c),
                               [&refused](const std::string& error) { refused.push_back(error); });
    const bool crossFamily = c.inner != c.outer;
    for (const std::string& error : refused)
    {
        if (!(crossFamily && c.mode == XfrmOffloadType::Packet &&
              error.find("not-supported") != std::string::npos))
        {
            ADD_FAILURE() << error;
        }
    }
    if (!refused.empty() && !HasFailure())
    {
        GTEST_SKIP() << "the device does not offload this cross-family tunnel in packet offload "
                        "(state_add: "
                     << refused.front() << ")";
    }
    ASSERT_TRUE(t->outA && t->inB) << "the IPv6 SAs of the test pair were refused";
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    KeepKeys(*t);
    const bool inner6 = c.inner == Family::Ipv6;
    const bool outer6 = c.outer == Family::Ipv6;
    auto sink = inner6 ? InstallUdpSink6(t->hostB) : InstallUdpSink(t->hostB);
    auto sender = inner6 ? InstallUdpSender(t->hostA, t->HostAddr(false).GetIpv6())
                         : InstallUdpSender(t->hostA, t->HostAddr(false).GetIpv4());
    // The largest datagram whose ESP packet fits the link: the outer header, then ESP of the
    // UDP segment (transport) or of the whole inner packet (tunnel).
    const uint32_t outerHeader = outer6 ? 40 : 20;
    const uint32_t carried = 8 + (t->Tunnel() ? (inner6 ? 40 : 20) : 0);
    uint32_t fit = 0;
    while (outerHeader + t->outA->GetTransform().GetFrameLength(carried + fit + 1) <=
           t->devA->GetMtu())
    {
        ++fit;
    }
    std::vector<Bytes> sent;
    for (uint32_t size : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 15u, 16u, 17u, 600u, fit})
    {
        sent.push_back(DatagramPayload(uint32_t(sent.size()), size));
    }
    RunUntil(ScheduleDatagrams(sender, sent, MilliSeconds(10), MilliSeconds(1)) + MilliSeconds(50));

    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->EndAddr(true)),
                          Dotted(t->EndAddr(false)),
                          c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    size_t next = 0;
    for (const WirePacket* w : wire->From(true))
    {
        if (IsIpv6LinkControl(w->ip))
        {
            continue;
        }
        ASSERT_EQ(w->ip[0] >> 4, outer6 ? 6 : 4) << "a packet of the wrong family on the link";
        ASSERT_EQ(outer6 ? w->ip[6] : w->ip[9], kProtoEsp) << "plaintext on the wire";
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(w->ip, 0, &inner, &error))
            << "Scapy cannot decrypt ESP seq " << ReadBe32(w->ip.data() + outerHeader + 4) << ": "
            << error;
        Bytes data;
        EXPECT_TRUE(InnerUdpVerifies(inner, &data))
            << "datagram " << next << ": the inner UDP checksum does not verify";
        ASSERT_LT(next, sent.size()) << "more ESP packets than datagrams";
        EXPECT_EQ(data, sent[next])
            << "datagram " << next << " (" << sent[next].size() << " bytes) was mangled";
        ++next;
    }
    EXPECT_EQ(next, sent.size()) << "datagrams missing from the wire";
    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    const uint64_t byDevice = c.mode == XfrmOffloadType::Crypto
                                  ? t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets)
                                  : t->devA->GetEventCount(EmuNicEvent::PacketOffloadTxPackets);
    RecordEvidence("processed_by_device", byDevice);
    RecordEvidence("refused_by_offload_ok", t->devA->GetEventCount(EmuNicEvent::OffloadOkRejected));

    if (c.mode == XfrmOffloadType::Packet)
    {
        EXPECT_EQ(byDevice, sent.size()) << "packet offload carries what its policy selects";
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         OFFLOAD_OK_IPV6,
                         testing::ValuesIn(Ipv6Cases({XfrmOffloadType::Crypto,
                                                      XfrmOffloadType::Packet})),
                         CaseName);

// ---- OFFLOAD-OK-UNSUPPORTED --------------------------------------------------------------

/// Datagram sizes that stress framing: empty, every padding length, the largest that fits the
/// link once ESP is added, and one byte more (which cannot be offloaded whole).
std::vector<Bytes>
EdgeDatagrams(const Topology& t, uint32_t* tooBigIndex)
{
    std::string error;
    auto transform = EspTransform::Create(t.algAB, &error);
    EXPECT_TRUE(transform) << error;
    const uint32_t overhead = t.Tunnel() ? 28 : 8; // what the ESP payload holds besides data
    uint32_t fit = 0;
    while (transform && 20 + transform->GetFrameLength(overhead + fit + 1) <= t.devA->GetMtu())
    {
        ++fit;
    }
    std::vector<Bytes> sent;
    for (uint32_t size : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 15u, 16u, 17u})
    {
        sent.push_back(DatagramPayload(uint32_t(sent.size()), size));
    }
    sent.push_back(DatagramPayload(uint32_t(sent.size()), fit));
    *tooBigIndex = uint32_t(sent.size());
    sent.push_back(DatagramPayload(uint32_t(sent.size()), fit + 1));
    return sent;
}

using OFFLOAD_OK_UNSUPPORTED = SimulationTest<Case>;

// Every packet either comes out as ESP that Scapy decrypts to exactly what was sent, or (packet
// offload, which has no software path) is dropped and counted; none leaves malformed or in
// plaintext. Crypto offload delivers everything, the packet too big for the device through
// software IPsec and fragmentation.
TEST_P(OFFLOAD_OK_UNSUPPORTED, EdgePacketsProcessedExactlyOrRefused)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    KeepKeys(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    uint32_t tooBig = 0;
    const auto sent = EdgeDatagrams(*t, &tooBig);
    RunUntil(ScheduleDatagrams(sender, sent, MilliSeconds(10), MilliSeconds(1)) + MilliSeconds(50));

    for (const WirePacket* w : wire->From(true))
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp) << "plaintext on the wire";
    }
    // Match each decrypted ESP packet to a datagram sent, in order.
    size_t next = 0;
    std::vector<bool> onWire(sent.size(), false);
    for (const Bytes& esp : WholeEspFrom(*wire, true))
    {
        Bytes inner;
        EXPECT_TRUE(ScapyDecryptAB(*t, esp, &inner));
        const Bytes data = UdpDataOf(inner);
        while (next < sent.size() && sent[next] != data)
        {
            ++next;
        }
        ASSERT_LT(next, sent.size())
            << "ESP seq " << EspSeqOf(esp) << " carries no datagram that was sent, in order";
        onWire[next++] = true;
    }
    for (size_t i = 0; i < sent.size(); ++i)
    {
        if (c.mode == XfrmOffloadType::Crypto || i != tooBig)
        {
            EXPECT_TRUE(onWire[i]) << "datagram " << i << " (" << sent[i].size() << " bytes)";
            EXPECT_EQ(Delivered(*sink, {sent[i]}), 1u)
                << "datagram " << i << " (" << sent[i].size() << " bytes)";
        }
        else if (!onWire[i])
        {
            EXPECT_GE(RefusedOrDropped(*t), 1u)
                << "the too-big packet vanished without a drop count";
        }
    }
    if (c.mode == XfrmOffloadType::Crypto)
    {
        EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), sent.size() - 1)
            << "all but the too-big packet fit the device";
    }
    RecordEvidence("sent", sent.size());
    RecordEvidence("delivered", Delivered(*sink, sent));
    RecordEvidence("esp_from_a", WholeEspFrom(*wire, true).size());
    RecordEvidence("device_tx_drops", TxDrops(t->devA));
}

INSTANTIATE_TEST_SUITE_P(,
                         OFFLOAD_OK_UNSUPPORTED,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

// ---- ALLOW-CRYPTO-SW-FALLBACK ------------------------------------------------------------

using ALLOW_CRYPTO_SW_FALLBACK = SimulationTest<Case>;

// Differential: the same traffic through software IPsec and through crypto offload, where the
// stack runs some packets (too big for the device) or the whole SA (an algorithm the device
// cannot offload) in software. The receiver gets the same datagrams and the wire the same ESP
// (SPI, sequence numbers, lengths, fragments, and what Scapy decrypts); only who did the work
// differs.
TEST_P(ALLOW_CRYPTO_SW_FALLBACK, SameWireAndPlaintextAsSoftware)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (c.alg == Alg::CbcSha256)
    {
        // A failure instead of not-supported (Linux: any error but -EOPNOTSUPP) fails the add:
        // nothing runs in software to compare; STATE-ADD-UNSUPPORTED-ALGO checks that case.
        bool offloaded = false;
        const std::string failure = AddFailure(c, &offloaded);
        if (!failure.empty())
        {
            GTEST_SKIP() << "the device refuses cbc(aes)+hmac(sha256) with a failure, so "
                            "nothing falls back: "
                         << failure;
        }
    }

    struct Run
    {
        std::vector<Bytes> received;
        std::vector<std::string> shape; //!< SPI, seq, length, fragment fields per wire packet
        std::vector<Bytes> inner;       //!< Scapy's plaintext per whole ESP packet
        uint64_t deviceTx{0};
        uint64_t fallbacks{0};
        uint64_t stackCounted{0};
    };

    uint32_t tooBig = 0;
    std::vector<Bytes> sent;
    auto run = [&](XfrmOffloadType mode) {
        Run r;
        auto t = BuildTestTopology(OptionsOf(Case{mode, c.alg, c.ipMode, c.esn}));
        EXPECT_TRUE(t->outA);
        auto wire = CaptureWire(t->devA, t->devB);
        KeepPcap(*t, std::string(DataPathName(mode)) + "-ipsec-link");
        KeepKeys(*t, std::string(DataPathName(mode)) + "-esp_sa");
        auto sink = InstallUdpSink(t->hostB);
        auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
        if (sent.empty())
        {
            sent = EdgeDatagrams(*t, &tooBig);
            sent.push_back(DatagramPayload(99, sent.back().size() + 29)); // too big as well
        }
        RunUntil(ScheduleDatagrams(sender, sent, MilliSeconds(10), MilliSeconds(1)) +
                 MilliSeconds(50));
        r.received = sink->received;
        for (const WirePacket* w : wire->From(true))
        {
            std::ostringstream os;
            // A later fragment has no ESP header: only its fragment fields and length count.
            const bool laterFragment = ((w->ip[6] & 0x1f) | w->ip[7]) != 0;
            os << std::hex << (laterFragment ? 0 : EspSpiOf(w->ip)) << "/" << std::dec
               << (laterFragment ? 0 : EspSeqOf(w->ip)) << "/" << w->ip.size() << "/"
               << unsigned(w->ip[6] & 0x3f) << "." << unsigned(w->ip[7]);
            r.shape.push_back(os.str());
        }
        for (const Bytes& esp : WholeEspFrom(*wire, true))
        {
            Bytes inner;
            EXPECT_TRUE(ScapyDecryptAB(*t, esp, &inner));
            r.inner.push_back(inner);
        }
        r.deviceTx = t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets);
        r.fallbacks = t->stackA->GetEventCount(XfrmEvent::CryptoOffloadFallback);
        r.stackCounted = t->outA ? t->outA->GetCurrent().packets : 0;
        Simulator::Destroy();
        return r;
    };
    const Run software = run(XfrmOffloadType::None);
    const Run crypto = run(XfrmOffloadType::Crypto);
    EXPECT_EQ(crypto.received, software.received);
    EXPECT_EQ(software.received.size(), sent.size());
    EXPECT_EQ(crypto.shape, software.shape);
    EXPECT_EQ(crypto.inner, software.inner);
    EXPECT_EQ(crypto.stackCounted, software.stackCounted);
    // The one allowed difference: who encrypted.
    EXPECT_EQ(software.deviceTx, 0u);
    if (c.alg == Alg::CbcSha256 &&
        !(DeviceUnderTest().GetCapabilities().algorithms & (1u << OLAB_ALG_AES_CBC_SHA256)))
    {
        EXPECT_EQ(crypto.deviceTx, 0u) << "the not-supported SA ran in software";
        EXPECT_EQ(crypto.fallbacks, 2u) << "A's out and in SAs both run in software";
    }
    else
    {
        EXPECT_EQ(crypto.deviceTx, sent.size() - 2) << "all but the two too-big packets";
    }
    RecordEvidence("sent", sent.size());
    RecordEvidence("crypto_device_tx", crypto.deviceTx);
    RecordEvidence("crypto_software_tx", crypto.stackCounted - crypto.deviceTx);
    RecordEvidence("wire_packets", crypto.shape.size());
}

INSTANTIATE_TEST_SUITE_P(,
                         ALLOW_CRYPTO_SW_FALLBACK,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto},
                                                 {Alg::Gcm128, Alg::CbcSha256})),
                         CaseName);

} // namespace
