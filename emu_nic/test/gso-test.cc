// TCP super-packets (GSO) in the stack and the NIC: the ABI v4 feature bit is refused where it
// cannot be, devices without it get software GSO, plain traffic is segmented and never
// fragmented, an over-MTU frame from a device never reaches the wire, and the sequence number
// space is reserved for a whole super-packet or not at all (xfrm_replay_overflow_offload,
// xmit_xfrm_check_overflow).
#include "builtin-offload-device.h"
#include "ipv4-packet-util.h"
#include "offload-device-type.h"
#include "reference-offload-engine.h"
#include "simulation-test.h"

#include "ns3/boolean.h"
#include "ns3/string.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <set>

using namespace offloadtest;

namespace
{

constexpr uint32_t kSuperSegment = 60000;
constexpr uint32_t kTransfer = 2 * kSuperSegment + 9000;

/// The reference's capabilities as a v3 device would give them: no GSO_ESP, abi_version 3.
const olab_capabilities*
V3Capabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.abi_version = 3;
        c.name = "reference-abi-v3";
        c.features &= ~OLAB_FEATURE_GSO_ESP;
        return c;
    }();
    return &caps;
}

/// GSO_ESP claimed by a v3 device: a bit its ABI does not have.
const olab_capabilities*
V3ClaimingGso()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.abi_version = 3;
        c.name = "v3-claiming-gso";
        return c;
    }();
    return &caps;
}

/// GSO_ESP without HW_ESP.
const olab_capabilities*
GsoWithoutHwEsp()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.name = "gso-without-hw-esp";
        c.features = OLAB_FEATURE_GSO_ESP;
        return c;
    }();
    return &caps;
}

std::unique_ptr<BuiltinOffloadDevice>
CreateReference(const olab_host& host, const olab_config& config, std::string* error)
{
    return ReferenceOffloadEngine::Create(host, config, error);
}

const OffloadDeviceRegistration g_v3("test:reference-abi-v3",
                                     BuiltinDeviceOps<&V3Capabilities, &CreateReference>(),
                                     920);
const OffloadDeviceRegistration g_v3Gso("test:v3-claiming-gso",
                                        BuiltinDeviceOps<&V3ClaimingGso, &CreateReference>(),
                                        921);
const OffloadDeviceRegistration g_noHw("test:gso-without-hw-esp",
                                       BuiltinDeviceOps<&GsoWithoutHwEsp, &CreateReference>(),
                                       922);

TEST(GsoAbi, TheFeatureNeedsAbiV4AndHwEsp)
{
    std::string error;
    EXPECT_FALSE(OffloadDeviceType::Open("test:v3-claiming-gso", &error));
    EXPECT_NE(error.find("OLAB_FEATURE_GSO_ESP needs ABI v4"), std::string::npos) << error;
    error.clear();
    EXPECT_FALSE(OffloadDeviceType::Open("test:gso-without-hw-esp", &error));
    EXPECT_NE(error.find("GSO_ESP without OLAB_FEATURE_HW_ESP"), std::string::npos) << error;
    ASSERT_TRUE(OffloadDeviceType::Open("reference", &error)) << error;
    EXPECT_TRUE(OffloadDeviceType::Open("reference", &error)->GetCapabilities().features &
                OLAB_FEATURE_GSO_ESP);
}

// tcp_gso_segment's rules on one crafted super-packet (FIN, PSH, CWR and ACK set, 12 option
// bytes, 2,500 payload bytes, sequence number near 2^32): each segment's header is the
// super-packet's with the sequence number advanced (modulo 2^32), FIN and PSH only on the last,
// CWR only on the first, ACK on all, and a checksum that verifies.
TEST(TcpGsoSegment, SequenceFlagsAndChecksumOfEverySegment)
{
    const Ipv4Address src("10.0.0.1");
    const Ipv4Address dst("10.0.0.2");
    constexpr uint32_t kHeader = 32;
    constexpr uint32_t kPayload = 2500;
    constexpr uint32_t kMss = 1000;
    std::vector<uint8_t> tcp(kHeader + kPayload);
    for (uint32_t i = 0; i < kPayload; ++i)
    {
        tcp[kHeader + i] = uint8_t(i * 7 + 3);
    }
    const uint32_t seq = 0xffffff00u;
    tcp[0] = 0x1f; // ports 8080 -> 9100
    tcp[1] = 0x90;
    tcp[2] = 0x23;
    tcp[3] = 0x8c;
    tcp[4] = uint8_t(seq >> 24);
    tcp[5] = uint8_t(seq >> 16);
    tcp[6] = uint8_t(seq >> 8);
    tcp[7] = uint8_t(seq);
    tcp[12] = uint8_t(kHeader / 4) << 4;
    tcp[13] = 0x80 | 0x10 | 0x08 | 0x01; // CWR, ACK, PSH, FIN
    for (uint32_t i = 20; i < kHeader; ++i)
    {
        tcp[i] = 1; // NOP options
    }
    ASSERT_EQ(TcpGsoSegmentCount(tcp.data(), tcp.size(), kMss), 3u);
    for (uint32_t n = 0; n < 3; ++n)
    {
        std::vector<uint8_t> out;
        const uint32_t length = WriteTcpGsoSegment(tcp.data(), tcp.size(), kMss, n, src, dst, out);
        const uint32_t payload = n < 2 ? kMss : kPayload - 2 * kMss;
        ASSERT_EQ(length, kHeader + payload);
        ASSERT_EQ(out.size(), length);
        EXPECT_EQ(ReadBe32(out.data() + 4), seq + n * kMss) << "segment " << n;
        EXPECT_EQ(bool(out[13] & 0x80), n == 0) << "CWR on segment " << n;
        EXPECT_EQ(bool(out[13] & 0x09), n == 2) << "FIN/PSH on segment " << n;
        EXPECT_TRUE(out[13] & 0x10) << "ACK on segment " << n;
        EXPECT_TRUE(std::equal(out.begin() + 20, out.begin() + kHeader, tcp.begin() + 20));
        EXPECT_TRUE(std::equal(out.begin() + kHeader, out.end(), tcp.begin() + kHeader + n * kMss));
        const uint16_t sum = uint16_t(out[16] << 8 | out[17]);
        out[16] = out[17] = 0;
        EXPECT_EQ(sum, L4Checksum(src, dst, 6, out.data(), out.size()));
    }
    std::vector<uint8_t> none;
    EXPECT_EQ(WriteTcpGsoSegment(tcp.data(), tcp.size(), kMss, 3, src, dst, none), 0u);
}

/// A transfer with super-packets through `device` in `mode`; what left A.
struct GsoRun
{
    std::unique_ptr<Topology> t;
    std::shared_ptr<WireCapture> wire;
    std::unique_ptr<TcpTransfer> tcp;
};

GsoRun
RunTransfer(const std::string& device, XfrmOffloadType mode, bool installIpsec = true)
{
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue(device));
    TopologyOptions opt;
    opt.mode = mode;
    opt.installIpsec = installIpsec;
    GsoRun run;
    run.t = BuildTopology(opt);
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    run.tcp = StartTcp(run.t->hostA,
                       run.t->hostB,
                       run.t->hostAddrB,
                       kTransfer,
                       Seconds(1),
                       kSuperSegment);
    RunUntil(Seconds(3));
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("reference"));
    return run;
}

class GsoTest : public testing::Test
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

// A v1..v3 device never sees a super-packet: the stack segments, the device encrypts each.
TEST_F(GsoTest, AV3DeviceGetsSoftwareGso)
{
    GsoRun run = RunTransfer("test:reference-abi-v3", XfrmOffloadType::Crypto);
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    EXPECT_EQ(Counter(run.t->devA, "GsoTxPackets"), 0u);
    EXPECT_GT(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
    EXPECT_GT(Counter(run.t->devA, "CryptoTxPackets"), kTransfer / 1500);
}

// Without IPsec the stack cuts super-packets too: no IPv4 fragment, no frame over the MTU,
// every segment its own IPv4 identification.
TEST_F(GsoTest, PlainTrafficIsSegmentedNeverFragmented)
{
    GsoRun run = RunTransfer("reference", XfrmOffloadType::None, false);
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    std::set<uint16_t> ids;
    size_t frames = 0;
    for (const WirePacket* w : run.wire->From(true))
    {
        ++frames;
        EXPECT_LE(w->ip.size(), run.t->devA->GetMtu());
        EXPECT_EQ(w->ip[6] & 0x3f, 0) << "more fragments or an offset";
        EXPECT_EQ(w->ip[7], 0);
        EXPECT_EQ(w->ip[9], 6) << "TCP";
        ids.insert(uint16_t(w->ip[4] << 8 | w->ip[5]));
    }
    EXPECT_GT(frames, kTransfer / 1500);
    EXPECT_EQ(ids.size(), frames) << "an IPv4 identification used twice";
    EXPECT_GT(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
}

// A device whose segments exceed the MTU: the NIC drops them with a reason, never sends them.
TEST_F(GsoTest, OverMtuSegmentsNeverReachTheWire)
{
    GsoRun run = RunTransfer("mutant:gso-oversize-segments", XfrmOffloadType::Crypto);
    EXPECT_GT(run.t->devA->GetDropCount(EmuNicDrop::TxOversize), 0u);
    for (const WirePacket* w : run.wire->From(true))
    {
        EXPECT_LE(w->ip.size(), run.t->devA->GetMtu());
    }
    EXPECT_LT(run.tcp->received.size(), run.tcp->sent.size());
}

/// Crypto offload with A's outbound SA starting at `oseq` (and B's inbound window there).
GsoRun
RunFromOseq(uint64_t oseq, bool esn)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Crypto;
    opt.installIpsec = false;
    opt.esn = esn;
    GsoRun run;
    run.t = BuildTopology(opt);
    Topology& t = *run.t;
    std::string error;
    XfrmStateConfig out = t.SaConfig(true, true, XfrmOffloadType::Crypto);
    out.replayOseq = oseq;
    t.outA = t.stackA->AddState(out, &error);
    EXPECT_TRUE(t.outA) << error;
    XfrmStateConfig in = t.SaConfig(true, false, XfrmOffloadType::Crypto);
    in.replaySeq = oseq;
    t.inB = t.stackB->AddState(in, &error);
    EXPECT_TRUE(t.inB) << error;
    t.outB = t.AddSa(false, true, XfrmOffloadType::Crypto, XfrmLifetimeConfig{});
    t.inA = t.AddSa(false, false, XfrmOffloadType::Crypto, XfrmLifetimeConfig{});
    for (bool onA : {true, false})
    {
        t.AddPolicy(onA, XfrmDir::Out, XfrmOffloadType::Crypto);
        t.AddPolicy(onA, XfrmDir::In, XfrmOffloadType::Crypto);
    }
    run.wire = CaptureWire(t.devA, t.devB);
    run.tcp = StartTcp(t.hostA, t.hostB, t.hostAddrB, kTransfer, Seconds(1), kSuperSegment);
    RunUntil(Seconds(3));
    return run;
}

std::vector<uint32_t>
EspSeqsOfA(const WireCapture& wire)
{
    std::vector<uint32_t> seqs;
    for (const WirePacket* w : wire.From(true))
    {
        if (IpProtocol(w->ip) == kProtoEsp)
        {
            seqs.push_back(ReadBe32(w->ip.data() + IpHeaderLength(w->ip) + 4));
        }
    }
    return seqs;
}

// Without ESN a super-packet whose last segment would need a number past 2^32 - 1 is refused
// whole (xfrm_replay_overflow_offload: -EOVERFLOW), and no number is used twice or wraps.
TEST_F(GsoTest, WithoutEsnASuperPacketPastTheLastNumberIsRefusedWhole)
{
    const uint64_t start = 0xffffffffull - 20;
    GsoRun run = RunFromOseq(start, false);
    EXPECT_GT(run.t->stackA->GetDropCount(XfrmDrop::OutStateSeqError), 0u);
    const std::vector<uint32_t> seqs = EspSeqsOfA(*run.wire);
    ASSERT_FALSE(seqs.empty());
    std::set<uint32_t> unique(seqs.begin(), seqs.end());
    EXPECT_EQ(unique.size(), seqs.size());
    EXPECT_GT(*unique.begin(), start) << "a sequence number wrapped";
    EXPECT_LE(run.t->outA->GetLastSeq(), 0xffffffffull);
    EXPECT_EQ(Counter(run.t->devA, "GsoTxPackets"), 0u) << "no super-packet fits the space left";
}

// With ESN a super-packet whose low 32 bits would wrap is segmented in software
// (xmit_xfrm_check_overflow), each segment with its own high bits; the stream arrives whole.
TEST_F(GsoTest, WithEsnABurstAcrossTheLowWrapIsSegmentedInSoftware)
{
    const uint64_t start = 0xffffffffull - 20;
    GsoRun run = RunFromOseq(start, true);
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    EXPECT_GT(run.t->stackA->GetEventCount(XfrmEvent::GsoSoftwareSegments), 0u);
    EXPECT_GT(Counter(run.t->devA, "GsoTxPackets"), 0u) << "later super-packets go whole";
    EXPECT_GT(run.t->outA->GetLastSeq(), 0xffffffffull);
    const std::vector<uint32_t> seqs = EspSeqsOfA(*run.wire);
    std::set<uint32_t> unique(seqs.begin(), seqs.end());
    EXPECT_EQ(unique.size(), seqs.size());
}

} // namespace
