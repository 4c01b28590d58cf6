// Hostile and broken ESP on the wire, in each data path: crafted packets sent from the peer's
// device (a raw IPv4 packet with protocol 50) at a host whose inbound SA is software, crypto
// offloaded or packet offloaded. Each must be dropped, counted by the right layer under the
// right name, never reach the UDP socket, and leave the SA working for valid traffic.

#include "simulation-test.h"

#include "ns3/error-model.h"
#include "ns3/pointer.h"

#include <gtest/gtest.h>
#include <random>

using namespace offloadtest;

namespace
{

class MalformedTest : public testing::TestWithParam<XfrmOffloadType>
{
  protected:
    void SetUp() override
    {
        TopologyOptions opt;
        opt.mode = GetParam();
        t = BuildTestTopology(opt);
        ASSERT_TRUE(t->outA && t->inB);
        wire = CaptureWire(t->devA, t->devB);
        sink = InstallUdpSink(t->hostB);
        sender = InstallUdpSender(t->hostA, t->hostAddrB);
    }

    void TearDown() override
    {
        Simulator::Destroy();
    }

    /// Valid datagrams from A's socket; they must all arrive.
    void ScheduleValid(Time start, uint32_t count)
    {
        std::vector<Bytes> payloads;
        for (uint32_t i = 0; i < count; ++i)
        {
            payloads.push_back(DatagramPayload(uint32_t(expected.size()), 30 + 17 * i));
            expected.push_back(payloads.back());
        }
        ScheduleDatagrams(sender, payloads, start, MilliSeconds(1));
    }

    /// Sends an ESP payload (anything from the SPI on) as IPv4 protocol 50 from A's device.
    void InjectEsp(Time at, const Bytes& esp)
    {
        ScheduleInject(at, t->devA, t->devB, Ipv4Bytes(t->endAddrA, t->endAddrB, kProtoEsp, esp));
    }

    /// A UDP datagram to B's sink, as the payload of a transport-mode ESP packet.
    Bytes CraftedUdp(uint32_t dataLength) const
    {
        return UdpDatagramBytes(t->hostAddrA,
                                t->hostAddrB,
                                5555,
                                kUdpPort,
                                DatagramPayload(7777, dataLength));
    }

    /// The inbound SA's error counters on B, from the device in packet offload.
    XfrmStateStats InboundStats()
    {
        t->stackB->UpdateStats(t->inB);
        return t->inB->GetStats();
    }

    uint64_t StackDrops() const
    {
        uint64_t sum = 0;
        for (XfrmDrop s : {XfrmDrop::InHdrError,
                           XfrmDrop::InNoStates,
                           XfrmDrop::InStateProtoError,
                           XfrmDrop::InBufferError,
                           XfrmDrop::InStateSeqError,
                           XfrmDrop::InStateExpired,
                           XfrmDrop::InNoPols,
                           XfrmDrop::InPolBlock,
                           XfrmDrop::InTmplMismatch})
        {
            sum += t->stackB->GetDropCount(s);
        }
        return sum;
    }

    uint64_t NicRxDrops() const
    {
        uint64_t sum = 0;
        for (EmuNicDrop d : {EmuNicDrop::RxFragment,
                             EmuNicDrop::RxAuthFail,
                             EmuNicDrop::RxBadPadding,
                             EmuNicDrop::RxMalformed,
                             EmuNicDrop::RxReplay,
                             EmuNicDrop::RxExpired,
                             EmuNicDrop::RxPolicyMismatch})
        {
            sum += t->devB->GetDropCount(d);
        }
        return sum;
    }

    /// Only the valid datagrams arrived, all of them, intact and in order.
    void ExpectOnlyValidDelivered() const
    {
        ASSERT_EQ(sink->received.size(), expected.size())
            << "a malformed packet was delivered or valid traffic was lost";
        for (size_t i = 0; i < expected.size(); ++i)
        {
            EXPECT_EQ(sink->received[i], expected[i]) << "datagram " << i;
        }
    }

    bool IsPacketMode() const
    {
        return GetParam() == XfrmOffloadType::Packet;
    }

    std::unique_ptr<Topology> t;
    std::shared_ptr<WireCapture> wire;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
    std::vector<Bytes> expected;
};

// ---- truncated ESP: 0..27 bytes ----

TEST_P(MalformedTest, Truncated)
{
    ScheduleValid(Seconds(1), 3);
    Time at = Seconds(2);
    for (uint32_t length = 0; length <= 27; ++length)
    {
        Bytes esp(28);
        WriteBe32(esp.data(), t->spiAB);
        WriteBe32(esp.data() + 4, 1000 + length); // a fresh sequence number
        for (uint32_t i = 8; i < esp.size(); ++i)
        {
            esp[i] = uint8_t(i * 29 + length);
        }
        esp.resize(length);
        InjectEsp(at, esp);
        at += MilliSeconds(1);
    }
    ScheduleValid(Seconds(3), 3);
    RunUntil(Seconds(4));

    ExpectOnlyValidDelivered();
    // Shorter than SPI + sequence number: the stack cannot even name the SA.
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InHdrError), 8u);
    const XfrmStateStats stats = InboundStats();
    EXPECT_EQ(stats.integrityFailures, 0u);
    EXPECT_EQ(stats.replayDrops, 0u);
    if (IsPacketMode())
    {
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxMalformed), 20u);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 0u);
    }
    else if (GetParam() == XfrmOffloadType::Crypto)
    {
        // The device reports OLAB_RX_TRUNCATED (CRYPTO_INVALID_PACKET_SYNTAX): xfrm_input counts
        // XfrmInBufferError.
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InBufferError), 20u);
        EXPECT_EQ(NicRxDrops(), 0u) << "crypto offload reports, the stack drops";
    }
    else
    {
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 20u);
    }
    EXPECT_EQ(StackDrops() + NicRxDrops(), 28u);
}

// ---- bad ICV: a real packet from the wire with one bit flipped ----

TEST_P(MalformedTest, BadIcv)
{
    ScheduleValid(Seconds(1), 3);
    // Capture one real packet that B never accepts: B's receiver drops everything for a moment.
    Ptr<RateErrorModel> blackhole = CreateObject<RateErrorModel>();
    blackhole->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
    blackhole->SetRate(1.0);
    blackhole->Disable();
    t->devB->SetAttribute("ReceiveErrorModel", PointerValue(blackhole));
    Simulator::Schedule(Seconds(1.5), [blackhole]() { blackhole->Enable(); });
    const Bytes held = DatagramPayload(4242, 333);
    ScheduleDatagram(sender, Seconds(1.6), held);
    Simulator::Schedule(Seconds(1.7), [blackhole]() { blackhole->Disable(); });

    auto captured = std::make_shared<Bytes>();
    Simulator::Schedule(Seconds(1.8), [this, captured]() {
        const auto fromA = wire->From(true);
        ASSERT_FALSE(fromA.empty());
        *captured = fromA.back()->ip;
        EXPECT_EQ(EspSeqOf(*captured), 4u);
    });
    const size_t ihl = 20;
    // One bit of ciphertext, then one bit of the ICV.
    for (int variant = 0; variant < 2; ++variant)
    {
        Simulator::Schedule(Seconds(2) + MilliSeconds(variant), [this, captured, variant, ihl]() {
            ASSERT_GT(captured->size(), ihl + 16 + 16);
            Bytes bad = *captured;
            const size_t at = variant == 0 ? ihl + 16 + 5 : bad.size() - 1;
            bad[at] ^= 0x10;
            InjectFrom(t->devA, t->devB, Create<Packet>(bad.data(), bad.size()));
        });
    }
    // The untouched original still verifies: the flips, not the packet, failed the ICV.
    Simulator::Schedule(Seconds(2.5), [this, captured]() {
        InjectFrom(t->devA, t->devB, Create<Packet>(captured->data(), captured->size()));
    });
    expected.push_back(held);
    ScheduleValid(Seconds(3), 3);
    RunUntil(Seconds(4));

    ExpectOnlyValidDelivered();
    const XfrmStateStats stats = InboundStats();
    EXPECT_EQ(stats.integrityFailures, 2u);
    EXPECT_EQ(stats.replayDrops, 0u);
    if (IsPacketMode())
    {
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxAuthFail), 2u);
    }
    else
    {
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 2u);
    }
    EXPECT_EQ(StackDrops() + NicRxDrops(), 2u);
}

// ---- replayed and too-old packets ----

TEST_P(MalformedTest, Replay)
{
    ScheduleValid(Seconds(1), 40); // window 32: seq 1..8 are now left of it
    auto replays = std::make_shared<std::vector<Bytes>>();
    Simulator::Schedule(Seconds(1.9), [this, replays]() {
        const auto fromA = wire->From(true);
        ASSERT_EQ(fromA.size(), 40u);
        for (size_t index : {size_t(0), size_t(38), size_t(39)}) // seq 1 (too old), 39, 40
        {
            replays->push_back(fromA[index]->ip);
        }
    });
    Simulator::Schedule(Seconds(2), [this, replays]() {
        for (const Bytes& ip : *replays)
        {
            InjectFrom(t->devA, t->devB, Create<Packet>(ip.data(), ip.size()));
        }
        // The newest once more.
        InjectFrom(t->devA,
                   t->devB,
                   Create<Packet>(replays->back().data(), replays->back().size()));
    });
    ScheduleValid(Seconds(3), 3);
    RunUntil(Seconds(4));

    ExpectOnlyValidDelivered();
    const XfrmStateStats stats = InboundStats();
    EXPECT_EQ(stats.replayDrops, 4u);
    EXPECT_EQ(stats.integrityFailures, 0u);
    if (IsPacketMode())
    {
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxReplay), 4u);
    }
    else
    {
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateSeqError), 4u);
    }
    EXPECT_EQ(StackDrops() + NicRxDrops(), 4u);
}

// ---- bad padding under a valid ICV ----

TEST_P(MalformedTest, BadPadding)
{
    ScheduleValid(Seconds(1), 3);
    std::string error;
    auto transform = EspTransform::Create(t->algAB, &error);
    ASSERT_TRUE(transform) << error;
    const Bytes udp = CraftedUdp(3); // 11 bytes: 3 bytes of padding before pad length + next header
    ASSERT_EQ(transform->GetPaddingLength(udp.size()), 3u);
    const uint32_t padStart = EspTransform::kHeaderLength + transform->GetIvLength() + udp.size();
    // Linux's esp_remove_trailer refuses only a pad length that leaves no payload: variant 0
    // covers the payload exactly (an empty payload), variant 1 reaches beyond it.
    for (uint32_t variant = 0; variant < 2; ++variant)
    {
        Bytes frame;
        transform->BuildFrame(t->spiAB, 20 + variant, udp.data(), udp.size(), kProtoUdp, frame);
        ASSERT_EQ(frame[padStart + 1], 2u);
        if (variant == 0)
        {
            frame[padStart + 3] = uint8_t(udp.size() + 3); // pad length byte
        }
        else
        {
            frame[padStart + 3] = 200; // pad length byte
        }
        transform->Seal(frame.data(), frame.size(), 0, false);
        InjectEsp(Seconds(2) + MilliSeconds(variant), frame);
    }
    // The same frame built correctly is accepted: only the pad length was wrong. (Sequence number
    // 30 keeps A's next ones, 4..6, inside the 32-packet window.)
    {
        Bytes frame;
        transform->Encapsulate(t->spiAB, 30, false, udp.data(), udp.size(), kProtoUdp, frame);
        InjectEsp(Seconds(2.5), frame);
        expected.push_back(DatagramPayload(7777, 3));
    }
    ScheduleValid(Seconds(3), 3);
    RunUntil(Seconds(4));

    ExpectOnlyValidDelivered();
    // Linux keeps no per-SA counter for a bad trailer (only the MIB's); the reference device
    // still counts it in packet offload.
    const XfrmStateStats stats = InboundStats();
    EXPECT_EQ(stats.badPadding, IsPacketMode() ? 2u : 0u);
    EXPECT_EQ(stats.integrityFailures, 0u);
    if (IsPacketMode())
    {
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxBadPadding), 2u);
    }
    else
    {
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 2u);
        if (GetParam() == XfrmOffloadType::Crypto)
        {
            // The NIC verified the ICV and decrypted; the stack found the padding bad.
            EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), 3u + 3u + 3u);
        }
    }
    EXPECT_EQ(StackDrops() + NicRxDrops(), 2u);
}

// ---- unknown SPI ----

TEST_P(MalformedTest, UnknownSpi)
{
    ScheduleValid(Seconds(1), 3);
    const Bytes udp = CraftedUdp(20);
    // An SPI nobody uses, and the SPI of the reverse SA (B's outbound: daddr A, not B).
    InjectEsp(Seconds(2), SealEspFrame(t->algAB, 0xdeadbeef, 1, false, udp, kProtoUdp));
    InjectEsp(Seconds(2.001), SealEspFrame(t->algBA, t->spiBA, 1, false, udp, kProtoUdp));
    ScheduleValid(Seconds(3), 3);
    RunUntil(Seconds(4));

    ExpectOnlyValidDelivered();
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InNoStates), 2u);
    EXPECT_EQ(StackDrops() + NicRxDrops(), 2u);
}

// ---- fuzz ----

TEST_P(MalformedTest, RandomPayloadsNeverDelivered)
{
    constexpr uint32_t kFuzz = 3000;
    ScheduleValid(Seconds(1), 3);
    std::mt19937 rng(20240601u + uint32_t(GetParam()));
    std::uniform_int_distribution<uint32_t> lengthDist(0, 300);
    std::uniform_int_distribution<uint32_t> byteDist(0, 255);
    Time at = Seconds(2);
    for (uint32_t i = 0; i < kFuzz; ++i)
    {
        Bytes esp(lengthDist(rng));
        for (auto& b : esp)
        {
            b = uint8_t(byteDist(rng));
        }
        Bytes spi(4);
        WriteBe32(spi.data(), t->spiAB);
        std::copy(spi.begin(), spi.begin() + std::min<size_t>(4, esp.size()), esp.begin());
        InjectEsp(at, esp);
        at += MicroSeconds(10);
    }
    ScheduleValid(at + Seconds(1), 3);
    RunUntil(at + Seconds(2));

    ExpectOnlyValidDelivered();
    // Every random packet was dropped, and counted exactly once by exactly one layer.
    EXPECT_EQ(StackDrops() + NicRxDrops(), kFuzz);
    if (IsPacketMode())
    {
        EXPECT_EQ(Counter(t->devB, "PacketOffloadRxPackets"), 6u);
    }
    EXPECT_EQ(t->inB->GetCurrent().packets, IsPacketMode() ? 0u : 6u);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         MalformedTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

} // namespace
