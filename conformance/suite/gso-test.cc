// Conformance: ESP segmentation offload (GSO / TSO) as Linux does it.
//
// A TCP sender hands down segments far larger than the path allows (ns-3 TCP with a 60,000-byte
// segment size, a Linux GSO skb). They leave as MSS-sized ESP packets, each a TCP segment of its
// own (sequence number advanced, checksum right) with its own ESP sequence number, IV, trailer
// and ICV: cut by the stack before ESP (software GSO: skb_gso_segment / tcp_gso_segment, then
// xfrm_output per segment, as xfrm_output_gso does), or by a device that declares
// OLAB_FEATURE_GSO_ESP (NETIF_F_GSO_ESP), which gets one ESP frame with the first of gso_segs
// reserved sequence numbers (esp_xmit, xfrm_replay_overflow_offload: xo->seq.low + n) in crypto
// offload, or the plaintext super-packet in packet offload. RFC 4303 3.3.3: a sequence number
// is never sent twice under one SA; RFC 4106 3.1: nor is a GCM IV.
//
// The wire is checked by Scapy: every frame A sends is no larger than the MTU and decrypts with
// Scapy's ESP; the TCP segments inside are exactly the super-packets TCP handed down, cut at one
// MSS, in order; the receiver reads the stream unchanged.

#include "conformance-case.h"
#include "ipv4-packet-util.h"
#include "scapy-esp-oracle.h"

#include "ns3/boolean.h"
#include "ns3/tcp-header.h"
#include "ns3/tcp-socket-base.h"

#include <gtest/gtest.h>
#include <map>
#include <set>

using namespace offloadtest;
using namespace conformance;
using offloadlab::ScapyEspOracle;

namespace
{

/// The sender's TCP segment size: one super-packet is 40 MSS-sized segments or more.
constexpr uint32_t kSuperSegment = 60000;
/// Three full super-packets and a 7,000-byte one (still several segments).
constexpr uint32_t kTransfer = 3 * kSuperSegment + 7000;

bool
DeviceOffersGso()
{
    return (DeviceUnderTest().GetCapabilities().features & OLAB_FEATURE_GSO_ESP) != 0;
}

/// Skips an offload case of a device without OLAB_FEATURE_GSO_ESP: nothing of it to certify.
#define SKIP_UNLESS_DEVICE_SEGMENTS(c)                                                             \
    if ((c).mode != XfrmOffloadType::None && !DeviceOffersGso())                                   \
    {                                                                                              \
        GTEST_SKIP()                                                                               \
            << "the device does not offer ESP segmentation offload (OLAB_FEATURE_GSO_ESP)";        \
    }

/// A data segment: as TCP handed it down, or as it came out of ESP on the wire.
struct TcpSegment
{
    uint32_t seq{0};
    uint32_t length{0};
    uint8_t flags{0};

    bool operator==(const TcpSegment& o) const
    {
        return seq == o.seq && length == o.length;
    }
};

std::ostream&
operator<<(std::ostream& os, const TcpSegment& s)
{
    return os << "seq " << s.seq << " len " << s.length << " flags 0x" << std::hex
              << unsigned(s.flags) << std::dec;
}

/// One ESP frame A sent.
struct EspFrame
{
    uint32_t spi{0};
    uint32_t seq{0};
    uint64_t iv{0};
    uint32_t size{0};
};

struct GsoRun
{
    std::unique_ptr<Topology> t;
    std::shared_ptr<WireCapture> wire;
    std::unique_ptr<TcpTransfer> tcp;
    std::vector<TcpSegment> handedDown; //!< data segments TCP gave its stack, in order
};

void
RecordHandedDown(std::vector<TcpSegment>* out,
                 Ptr<const Packet> payload,
                 const TcpHeader& header,
                 Ptr<const TcpSocketBase>)
{
    if (payload->GetSize() > 0)
    {
        out->push_back(TcpSegment{header.GetSequenceNumber().GetValue(),
                                  payload->GetSize(),
                                  header.GetFlags()});
    }
}

/// A TCP transfer of kTransfer bytes from A to B with super-packets; deviceGso false turns the
/// feature off on both NICs (the stack segments in software).
GsoRun
RunGso(const Case& c, bool deviceGso, const TopologyOptions* options = nullptr)
{
    GsoRun run;
    run.t = BuildTestTopology(options ? *options : OptionsOf(c));
    for (Ptr<EmuNicNetDevice> dev : {run.t->devA, run.t->devB})
    {
        dev->SetAttribute("GsoEspOffload", BooleanValue(deviceGso));
    }
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    run.tcp = StartTcp(run.t->hostA,
                       run.t->hostB,
                       run.t->hostAddrB,
                       kTransfer,
                       Seconds(1),
                       kSuperSegment);
    run.tcp->client->TraceConnectWithoutContext(
        "Tx",
        MakeBoundCallback(&RecordHandedDown, &run.handedDown));
    RunUntil(Seconds(4));
    return run;
}

/// The ESP frames A sent, in wire order.
std::vector<EspFrame>
EspFramesOfA(const WireCapture& wire)
{
    std::vector<EspFrame> frames;
    for (const WirePacket* w : wire.From(true))
    {
        if (IpProtocol(w->ip) != kProtoEsp)
        {
            continue;
        }
        const uint32_t ihl = IpHeaderLength(w->ip);
        const uint8_t* esp = w->ip.data() + ihl;
        EspFrame f;
        f.spi = ReadBe32(esp);
        f.seq = ReadBe32(esp + 4);
        f.iv = uint64_t(ReadBe32(esp + 8)) << 32 | ReadBe32(esp + 12);
        f.size = w->ip.size();
        frames.push_back(f);
    }
    return frames;
}

/// What checking the wire found: the TCP data segments inside A's ESP, in wire order.
struct WireCheck
{
    std::vector<TcpSegment> segments;
    size_t frames{0};
    uint64_t l4Bytes{0};   //!< every frame's TCP segment, header included (what an SA counts)
    uint32_t tcpHeader{0}; //!< the data segments' TCP header length (one flow: one length)
};

/// Every ESP frame of A: no larger than mtu, decrypted by Scapy, a TCP segment of the flow whose
/// checksum is right.
WireCheck
CheckWire(const GsoRun& run, uint32_t mtu)
{
    WireCheck result;
    const Topology& t = *run.t;
    ScapyEspOracle oracle(t.algAB,
                          t.spiAB,
                          t.Tunnel(),
                          Dotted(t.endAddrA),
                          Dotted(t.endAddrB),
                          false);
    std::string error;
    EXPECT_TRUE(oracle.IsValid(&error)) << error;
    for (const WirePacket* w : run.wire->From(true))
    {
        if (IpProtocol(w->ip) != kProtoEsp)
        {
            ADD_FAILURE() << "A sent a frame outside ESP (protocol " << unsigned(IpProtocol(w->ip))
                          << ")";
            continue;
        }
        ++result.frames;
        EXPECT_LE(w->ip.size(), mtu) << "an ESP frame larger than the MTU";
        std::vector<uint8_t> inner;
        if (!oracle.Decrypt(w->ip, 0, &inner, &error))
        {
            ADD_FAILURE() << "Scapy cannot decrypt frame " << result.frames << ": " << error;
            continue;
        }
        const uint32_t ihl = IpHeaderLength(inner);
        if (IpProtocol(inner) != ns3::kIpProtoTcp || inner.size() < ihl + 20)
        {
            ADD_FAILURE() << "frame " << result.frames << " does not carry TCP";
            continue;
        }
        std::vector<uint8_t> tcp(inner.begin() + ihl, inner.end());
        result.l4Bytes += tcp.size();
        const uint32_t header = ns3::TcpHeaderLength(tcp.data(), tcp.size());
        if (header == 0)
        {
            ADD_FAILURE() << "frame " << result.frames << ": no TCP header";
            continue;
        }
        const uint16_t sum = uint16_t(tcp[16] << 8 | tcp[17]);
        tcp[16] = tcp[17] = 0;
        EXPECT_EQ(
            sum,
            ns3::L4Checksum(t.hostAddrA, t.hostAddrB, ns3::kIpProtoTcp, tcp.data(), tcp.size()))
            << "TCP checksum of frame " << result.frames;
        if (tcp.size() > header)
        {
            result.tcpHeader = header;
            result.segments.push_back(
                TcpSegment{ReadBe32(tcp.data() + 4), uint32_t(tcp.size() - header), tcp[13]});
        }
    }
    return result;
}

/// The segments TCP's super-packets must leave as: each cut at mss, in order.
std::vector<TcpSegment>
Expected(const std::vector<TcpSegment>& handedDown, uint32_t mss)
{
    std::vector<TcpSegment> all;
    for (const TcpSegment& s : handedDown)
    {
        for (uint32_t off = 0; off < s.length; off += mss)
        {
            all.push_back(TcpSegment{s.seq + off, std::min(mss, s.length - off), 0});
        }
    }
    return all;
}

/// The checks of GSO-SEGMENTS on one run; mss is the payload of the first segment of the
/// first super-packet.
void
CheckSegments(const GsoRun& run)
{
    const uint32_t mtu = run.t->devA->GetMtu();
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    ASSERT_FALSE(run.handedDown.empty());
    EXPECT_GT(run.handedDown.front().length + 40, mtu) << "TCP handed down no super-packet";
    const WireCheck wire = CheckWire(run, mtu);
    ASSERT_FALSE(wire.segments.empty());
    const uint32_t mss = wire.segments.front().length;
    EXPECT_LT(mss, run.handedDown.front().length) << "the super-packet left whole";
    const std::vector<TcpSegment> expected = Expected(run.handedDown, mss);
    EXPECT_EQ(wire.segments.size(), expected.size())
        << "ceil(length / mss) segments per super-packet, mss " << mss;
    for (size_t i = 0; i < std::min(expected.size(), wire.segments.size()); ++i)
    {
        if (!(wire.segments[i] == expected[i]))
        {
            ADD_FAILURE() << "segment " << i << " is " << wire.segments[i] << ", expected "
                          << expected[i];
            break;
        }
    }
    // The MSS is the largest the path allows after ESP: one more 4-byte unit (GCM's
    // alignment) would not fit.
    uint32_t largest = 0;
    for (const EspFrame& f : EspFramesOfA(*run.wire))
    {
        largest = std::max(largest, f.size);
    }
    EXPECT_GT(largest + 4, mtu) << "segments smaller than the MTU allows";
    // Every segment is a packet of the SA, with its own bytes: in software (each segment goes
    // through xfrm_output) and in packet offload (the device counts what it puts on the wire).
    // Crypto offload of a whole super-packet counts it once, as xfrm_output_one counts the skb:
    // one packet, one TCP header and the payload.
    Ptr<XfrmState> out = run.t->outA;
    const bool wholeToCryptoDevice =
        out->IsOffloaded(XfrmOffloadType::Crypto) && Counter(run.t->devA, "GsoTxPackets") != 0;
    run.t->stackA->UpdateStats(out);
    uint64_t packets = wire.frames;
    uint64_t bytes = wire.l4Bytes;
    if (wholeToCryptoDevice)
    {
        // A super-packet of k segments is one packet of one TCP header and its payload.
        for (const TcpSegment& s : run.handedDown)
        {
            const uint64_t k = (s.length + mss - 1) / mss;
            packets -= k - 1;
            bytes -= (k - 1) * wire.tcpHeader;
        }
    }
    EXPECT_EQ(out->GetCurrent().packets, packets) << "packets counted by the SA";
    EXPECT_EQ(out->GetCurrent().bytes, bytes) << "bytes counted by the SA";
    RecordEvidence("mss", mss);
    RecordEvidence("segments", wire.segments.size());
    RecordEvidence("superPackets", run.handedDown.size());
    EXPECT_EQ(run.t->devA->GetDropCount(EmuNicDrop::TxOversize), 0u);
}

using GSO_SEGMENTS = SimulationTest<Case>;

// The device segments (crypto and packet offload with OLAB_FEATURE_GSO_ESP); software IPsec's
// stack segments before ESP.
TEST_P(GSO_SEGMENTS, SuperPacketLeavesAsMssSegments)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    SKIP_UNLESS_DEVICE_SEGMENTS(c);
    const GsoRun run = RunGso(c, true);
    CheckSegments(run);
    if (c.mode == XfrmOffloadType::None)
    {
        EXPECT_GT(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
    }
    else
    {
        EXPECT_GT(Counter(run.t->devA, "GsoTxPackets"), 0u) << "the device was not asked";
        EXPECT_EQ(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
    }
}

// Without the feature (any device: the example and netdevsim-like have none; here it is turned
// off on the NIC) the stack segments, and each segment is offloaded as a packet of its size.
TEST_P(GSO_SEGMENTS, StackSegmentsWithoutTheFeature)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    const GsoRun run = RunGso(c, false);
    CheckSegments(run);
    EXPECT_GT(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
    EXPECT_EQ(Counter(run.t->devA, "GsoTxPackets"), 0u);
}

// tcp_gso_segment's flag rules, on a super-packet TCP would rarely make here (ns-3 TCP sets no
// PSH or CWR, and FIN only when closing): one crafted with CWR, ACK, PSH and FIN, handed to A's
// stack as TCP hands its segments down. Every segment keeps ACK; only the first keeps CWR, only
// the last FIN and PSH; sequence numbers advance by the bytes before them; checksums verify.
TEST_P(GSO_SEGMENTS, FlagsFollowTcpGsoSegment)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    GsoRun run;
    run.t = BuildTestTopology(OptionsOf(c));
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    const Topology& t = *run.t;
    constexpr uint32_t kPayload = 9000;
    constexpr uint32_t kSeq = 0xfffff000u; // wraps within the super-packet
    std::vector<uint8_t> tcp(20 + kPayload);
    for (uint32_t i = 0; i < kPayload; ++i)
    {
        tcp[20 + i] = uint8_t(i * 13 + 5);
    }
    const uint16_t sport = 40001;
    const uint16_t dport = kTcpPort;
    tcp[0] = uint8_t(sport >> 8);
    tcp[1] = uint8_t(sport);
    tcp[2] = uint8_t(dport >> 8);
    tcp[3] = uint8_t(dport);
    for (int i = 0; i < 4; ++i)
    {
        tcp[4 + i] = uint8_t(kSeq >> (24 - 8 * i));
    }
    tcp[12] = 5 << 4;
    tcp[13] = 0x80 | 0x10 | 0x08 | 0x01; // CWR, ACK, PSH, FIN
    tcp[14] = 0xff;
    tcp[15] = 0xff;
    const uint16_t sum = ns3::L4Checksum(t.hostAddrA,
                                         t.hostAddrB,
                                         ns3::kIpProtoTcp,
                                         tcp.data(),
                                         uint32_t(tcp.size()));
    tcp[16] = uint8_t(sum >> 8);
    tcp[17] = uint8_t(sum);
    Simulator::Schedule(Seconds(1), [&t, &tcp]() {
        Ipv4Header h;
        h.SetSource(t.hostAddrA);
        h.SetDestination(t.hostAddrB);
        h.SetProtocol(ns3::kIpProtoTcp);
        Socket::SocketErrno err;
        Ptr<Ipv4> ipv4 = t.hostA->GetObject<Ipv4>();
        Ptr<Ipv4Route> route =
            ipv4->GetRoutingProtocol()->RouteOutput(Create<Packet>(), h, nullptr, err);
        t.stackA->OutputFromL4(Create<Packet>(tcp.data(), tcp.size()),
                               t.hostAddrA,
                               t.hostAddrB,
                               ns3::kIpProtoTcp,
                               route);
    });
    RunUntil(Seconds(2));
    const WireCheck wire = CheckWire(run, run.t->devA->GetMtu());
    ASSERT_GE(wire.segments.size(), 6u) << "9,000 bytes in MSS-sized segments";
    uint32_t offset = 0;
    std::vector<uint8_t> payload;
    for (size_t i = 0; i < wire.segments.size(); ++i)
    {
        const TcpSegment& seg = wire.segments[i];
        SCOPED_TRACE("segment " + std::to_string(i));
        EXPECT_EQ(seg.seq, uint32_t(kSeq + offset));
        EXPECT_TRUE(seg.flags & 0x10) << "ACK";
        EXPECT_EQ(bool(seg.flags & 0x80), i == 0) << "CWR only on the first";
        EXPECT_EQ(bool(seg.flags & 0x08), i + 1 == wire.segments.size()) << "PSH only on the last";
        EXPECT_EQ(bool(seg.flags & 0x01), i + 1 == wire.segments.size()) << "FIN only on the last";
        offset += seg.length;
    }
    EXPECT_EQ(offset, kPayload) << "the segments carry the super-packet's bytes";
    RecordEvidence("segments", wire.segments.size());
}

INSTANTIATE_TEST_SUITE_P(,
                         GSO_SEGMENTS,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet},
                                                 {Alg::Gcm128},
                                                 {XfrmMode::Transport})),
                         CaseName);

/// Per SPI: the sequence numbers are exactly 1..n once each, and no IV repeats.
void
CheckNumbers(const std::vector<EspFrame>& frames, size_t* spis)
{
    std::map<uint32_t, std::vector<uint32_t>> seqs;
    std::map<uint32_t, std::set<uint64_t>> ivs;
    for (const EspFrame& f : frames)
    {
        seqs[f.spi].push_back(f.seq);
        EXPECT_TRUE(ivs[f.spi].insert(f.iv).second)
            << "IV 0x" << std::hex << f.iv << " repeated under SPI 0x" << f.spi;
    }
    for (auto& [spi, list] : seqs)
    {
        std::vector<uint32_t> sorted = list;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < sorted.size(); ++i)
        {
            if (sorted[i] != i + 1)
            {
                ADD_FAILURE() << "SPI 0x" << std::hex << spi << std::dec << ": sequence number "
                              << sorted[i] << " where " << i + 1
                              << " belongs (repeated or skipped), of " << sorted.size();
                break;
            }
        }
    }
    *spis = seqs.size();
}

using GSO_SEQ_UNIQUE = SimulationTest<Case>;

// Super-packets and datagrams through one SA: the segments' sequence numbers and the
// datagrams' together are 1..n, none twice, none skipped; no IV twice.
TEST_P(GSO_SEQ_UNIQUE, ConsecutiveAcrossSegmentsAndPackets)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    SKIP_UNLESS_DEVICE_SEGMENTS(c);
    GsoRun run;
    run.t = BuildTestTopology(OptionsOf(c));
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    auto sink = InstallUdpSink(run.t->hostB);
    auto sender = InstallUdpSender(run.t->hostA, run.t->hostAddrB);
    std::vector<Bytes> datagrams;
    for (uint32_t i = 0; i < 40; ++i)
    {
        datagrams.push_back(DatagramPayload(i, 200 + 20 * i));
    }
    ScheduleDatagrams(sender, datagrams, Seconds(1), MicroSeconds(250));
    run.tcp = StartTcp(run.t->hostA,
                       run.t->hostB,
                       run.t->hostAddrB,
                       kTransfer,
                       Seconds(1),
                       kSuperSegment);
    RunUntil(Seconds(4));
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    EXPECT_TRUE(SameDatagrams(sink->received, datagrams));
    const std::vector<EspFrame> frames = EspFramesOfA(*run.wire);
    size_t spis = 0;
    CheckNumbers(frames, &spis);
    EXPECT_EQ(spis, 1u);
    EXPECT_GT(frames.size(), kTransfer / 1500 + datagrams.size());
    RecordEvidence("frames", frames.size());
}

// A rekey in the middle of the transfer (the key manager's soft byte limit): each SA numbers
// its own packets from 1 and never repeats one or an IV, and the stream arrives whole.
TEST_P(GSO_SEQ_UNIQUE, NeverRepeatedAcrossRekeys)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    SKIP_UNLESS_DEVICE_SEGMENTS(c);
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    // Slow enough that the new SA (2 ms after the soft expire) carries part of the stream.
    opt.dataRate = DataRate("50Mbps");
    GsoRun run;
    run.t = BuildTestTopology(opt);
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(7);
    IpsecConnectionConfig conn = TestConnection(*run.t, c.mode, "gso");
    conn.lifetime.softByteLimit = 80000;
    conn.lifetime.hardByteLimit = 400000;
    std::string error;
    ASSERT_TRUE(km->AddConnection(conn, &error)) << error;
    run.tcp = StartTcp(run.t->hostA,
                       run.t->hostB,
                       run.t->hostAddrB,
                       kTransfer,
                       Seconds(1),
                       kSuperSegment);
    RunUntil(Seconds(4));
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    EXPECT_GE(km->GetRekeyCount(), 1u);
    size_t spis = 0;
    CheckNumbers(EspFramesOfA(*run.wire), &spis);
    EXPECT_GE(spis, 2u) << "no rekey during the transfer";
    RecordEvidence("rekeys", km->GetRekeyCount());
    km->Dispose();
}

INSTANTIATE_TEST_SUITE_P(,
                         GSO_SEQ_UNIQUE,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet},
                                                 {Alg::Gcm128},
                                                 {XfrmMode::Transport})),
                         CaseName);

} // namespace
