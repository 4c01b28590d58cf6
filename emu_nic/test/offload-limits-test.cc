// The edges of the data paths in real simulations: fragments (TX and RX), the PMTU check of
// packet offload, soft/hard lifetimes in packets and bytes on either side, update_stats,
// advance_esn, ESN across the 2^32 boundary and sequence number exhaustion without ESN.

#include "reference-offload-engine.h"
#include "simulation-test.h"

#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

const auto kAllPaths = testing::ValuesIn(AllPaths());

/// Largest plaintext IPv4 packet that still fits a 1500-byte MTU after rfc4106(gcm(aes)) ESP
/// (8 header + 8 IV + 4-byte alignment of payload + 2 trailer + 16 ICV), as Linux's
/// xfrm_state_mtu computes it.
uint32_t
GcmInnerMtu(XfrmMode ipMode)
{
    const uint32_t mtu = 1500;
    if (ipMode == XfrmMode::Transport)
    {
        return ((mtu - 16 - 16 - 20) & ~3u) + 20 - 2; // net_adj = 20: the header is not encrypted
    }
    return ((mtu - 36 - 16) & ~3u) - 2; // header_len includes the outer IPv4 header
}

// ---- TX fragments ----

using TxFragmentTest = SimulationTest<PathParam>;

TEST_P(TxFragmentTest, FragmentedDatagramOnlyWithoutPacketOffload)
{
    const PathParam param = GetParam();
    auto [t, wire, sink, sender] = BuildUdpRig(param.mode, param.ipMode);
    ASSERT_TRUE(t->outA);
    const Bytes big = DatagramPayload(1, 3000);
    const Bytes small = DatagramPayload(2, 500);
    ScheduleDatagram(sender, Seconds(1), big);
    ScheduleDatagram(sender, Seconds(1.1), small);
    RunUntil(Seconds(2));

    // 3008 bytes of UDP in 1480-byte fragments.
    const uint64_t fragments = (3008 + 1479) / 1480;
    if (param.mode == XfrmOffloadType::Packet)
    {
        ASSERT_EQ(sink->received.size(), 1u);
        EXPECT_EQ(sink->received[0], small);
        EXPECT_EQ(t->devA->GetDropCount(EmuNicDrop::TxFragment), fragments);
        EXPECT_EQ(Counter(t->devA, "PacketOffloadTxPackets"), 1u);
        for (const WirePacket* w : wire->From(true))
        {
            EXPECT_EQ(IpProtocol(w->ip), kProtoEsp) << "plaintext fragment leaked";
        }
    }
    else
    {
        ASSERT_EQ(sink->received.size(), 2u);
        EXPECT_EQ(sink->received[0], big);
        EXPECT_EQ(sink->received[1], small);
        EXPECT_EQ(t->devA->GetDropCount(EmuNicDrop::TxFragment), 0u);
        uint32_t espFragments = 0;
        for (const WirePacket* w : wire->From(true))
        {
            EXPECT_EQ(IpProtocol(w->ip), kProtoEsp);
            EXPECT_FALSE(Contains(w->ip, PlaintextMarker()));
            espFragments += IsFragment(w->ip) ? 1 : 0;
        }
        EXPECT_GE(espFragments, 2u) << "the big datagram crosses the link as ESP fragments";
        if (param.mode == XfrmOffloadType::Crypto)
        {
            // Too big for the device: encrypted in software, fragmented after ESP. Transport:
            // only the small datagram was offloaded. Tunnel: the gateway protects each fragment
            // it forwards as its own inner packet; the two full-size ones do not fit after ESP,
            // the 68-byte last one does and is offloaded too.
            EXPECT_EQ(Counter(t->devA, "CryptoTxPackets"),
                      param.ipMode == XfrmMode::Transport ? 1u : 2u);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, TxFragmentTest, kAllPaths, PathName);

// ---- RX fragments ----

using RxFragmentTest = SimulationTest<XfrmOffloadType>;

TEST_P(RxFragmentTest, EspFragmentsDroppedOnlyByPacketOffload)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->inB);
    auto sink = InstallUdpSink(t->hostB);

    // A valid ESP packet for B's inbound SA, split by hand into two IPv4 fragments.
    const Bytes data = DatagramPayload(9, 1200);
    const Bytes udp = UdpDatagramBytes(t->hostAddrA, t->hostAddrB, 5555, kUdpPort, data);
    const Bytes frame = SealEspFrame(t->algAB, t->spiAB, 1, false, udp, kProtoUdp);
    ASSERT_GT(frame.size(), 800u);
    const Bytes first(frame.begin(), frame.begin() + 800);
    const Bytes second(frame.begin() + 800, frame.end());
    const Bytes frag1 =
        PacketBytes(Ipv4PacketOf(t->endAddrA, t->endAddrB, kProtoEsp, first, 0x777, true, 0));
    const Bytes frag2 =
        PacketBytes(Ipv4PacketOf(t->endAddrA, t->endAddrB, kProtoEsp, second, 0x777, false, 800));
    ASSERT_TRUE(IsFragment(frag1));
    ASSERT_TRUE(IsFragment(frag2));
    ScheduleInject(Seconds(1), t->devA, t->devB, frag1);
    ScheduleInject(Seconds(1.001), t->devA, t->devB, frag2);
    RunUntil(Seconds(2));

    if (mode == XfrmOffloadType::Packet)
    {
        EXPECT_TRUE(sink->received.empty());
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxFragment), 2u)
            << "the NIC drops every ESP fragment to an address with an offloaded inbound SA";
        EXPECT_EQ(Counter(t->devB, "PacketOffloadRxPackets"), 0u);
    }
    else
    {
        // The stack reassembles and decrypts (crypto offload cannot do fragments: software).
        ASSERT_EQ(sink->received.size(), 1u);
        EXPECT_EQ(sink->received[0], data);
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxFragment), 0u);
        EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), 0u);
        EXPECT_EQ(t->inB->GetCurrent().packets, 1u);
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         RxFragmentTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

// ---- PMTU ----

using PmtuTest = SimulationTest<PathParam>;

TEST_P(PmtuTest, TooBigAfterEspOverhead)
{
    const PathParam param = GetParam();
    auto [t, wire, sink, sender] = BuildUdpRig(param.mode, param.ipMode);
    ASSERT_TRUE(t->outA);
    // 1470 + 28 = 1498 fits the MTU in plaintext but not after ESP; 1400 fits after ESP too.
    const Bytes tooBig = DatagramPayload(1, 1470);
    const Bytes fits = DatagramPayload(2, 1400);
    ASSERT_LE(28 + tooBig.size(), 1500u);
    ASSERT_GT(28 + tooBig.size(), GcmInnerMtu(param.ipMode));
    ASSERT_LE(28 + fits.size(), GcmInnerMtu(param.ipMode));
    ScheduleDatagram(sender, Seconds(1), tooBig);
    ScheduleDatagram(sender, Seconds(1.1), fits);
    RunUntil(Seconds(2));

    if (param.mode == XfrmOffloadType::Packet)
    {
        ASSERT_EQ(sink->received.size(), 1u);
        EXPECT_EQ(sink->received[0], fits);
        // The core refuses it before the device sees it (xfrm_dev_offload_ok).
        EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutError), 1u);
        EXPECT_EQ(t->devA->GetDropCount(EmuNicDrop::TxPmtu), 0u);
        EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::LocalPmtuErrors), 1u);
        // The sender learns the MTU it must use: a local error (transport) or an ICMP
        // "fragmentation needed" from the gateway (tunnel).
        ASSERT_EQ(sender->icmp.size(), 1u);
        EXPECT_EQ(sender->icmp[0].type, Icmpv4Header::ICMPV4_DEST_UNREACH);
        EXPECT_EQ(sender->icmp[0].code, Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED);
        EXPECT_EQ(sender->icmp[0].info, GcmInnerMtu(param.ipMode));
        for (const WirePacket* w : wire->From(true))
        {
            EXPECT_LE(w->ip.size(), 1500u);
            EXPECT_FALSE(IsFragment(w->ip));
        }
    }
    else
    {
        ASSERT_EQ(sink->received.size(), 2u);
        EXPECT_EQ(sink->received[0], tooBig);
        EXPECT_EQ(sink->received[1], fits);
        EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutError), 0u);
        EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::LocalPmtuErrors), 0u);
        EXPECT_TRUE(sender->icmp.empty());
        uint32_t fragments = 0;
        for (const WirePacket* w : wire->From(true))
        {
            fragments += IsFragment(w->ip) ? 1 : 0;
        }
        EXPECT_EQ(fragments, 2u) << "the too-big datagram is fragmented after ESP";
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, PmtuTest, kAllPaths, PathName);

// ---- lifetimes ----

enum class Limit : uint8_t
{
    Packets,
    Bytes,
};

enum class Side : uint8_t
{
    Tx, //!< limits on the sender's outbound SA
    Rx, //!< limits on the receiver's inbound SA
};

struct LifetimeParam
{
    XfrmOffloadType mode;
    Limit limit;
    Side side;
};

class LifetimeTest : public testing::TestWithParam<std::tuple<XfrmOffloadType, Limit, Side>>
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

struct ExpireEvent
{
    Ptr<XfrmState> x;
    bool hard;
    Time at;
};

TEST_P(LifetimeTest, SoftOnceHardOnceThenDrop)
{
    const LifetimeParam param{std::get<0>(GetParam()),
                              std::get<1>(GetParam()),
                              std::get<2>(GetParam())};
    constexpr uint32_t kSent = 20;
    constexpr uint32_t kPayload = 100;
    constexpr uint64_t kCounted = 8 + kPayload; // per packet, as Linux counts transport mode
    XfrmLifetimeConfig lifetime;
    if (param.limit == Limit::Packets)
    {
        lifetime.softPacketLimit = 5;
        lifetime.hardPacketLimit = 10;
    }
    else
    {
        lifetime.softByteLimit = 5 * kCounted;
        lifetime.hardByteLimit = 10 * kCounted;
    }
    TopologyOptions opt;
    opt.mode = param.mode;
    (param.side == Side::Tx ? opt.lifetimeOutA : opt.lifetimeInB) = lifetime;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    const bool tx = param.side == Side::Tx;
    Ptr<XfrmStack> stack = tx ? t->stackA : t->stackB;
    Ptr<XfrmState> limited = tx ? t->outA : t->inB;
    Ptr<EmuNicNetDevice> dev = tx ? t->devA : t->devB;

    std::vector<ExpireEvent> events;
    stack->SetExpireCallback(XfrmStack::ExpireCallback([&events](Ptr<XfrmState> x, bool hard) {
        events.push_back(ExpireEvent{x, hard, Simulator::Now()});
    }));

    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < kSent; ++i)
    {
        payloads.push_back(DatagramPayload(i, kPayload));
    }
    const Time start = Seconds(1);
    const Time gap = MilliSeconds(1);
    ScheduleDatagrams(sender, payloads, start, gap);
    RunUntil(Seconds(2));

    ASSERT_EQ(sink->received.size(), 10u) << "exactly the packets below the hard limit pass";
    for (size_t i = 0; i < sink->received.size(); ++i)
    {
        EXPECT_EQ(sink->received[i], payloads[i]);
    }
    uint32_t soft = 0;
    uint32_t hard = 0;
    for (const ExpireEvent& e : events)
    {
        EXPECT_EQ(e.x, limited) << "expire event for another state";
        // Soft when the 6th packet finds 5 counted, hard when the 11th finds 10.
        const Time lo = start + gap * (e.hard ? 10 : 5);
        EXPECT_GE(e.at, lo) << (e.hard ? "hard" : "soft") << " expire too early";
        EXPECT_LT(e.at, lo + gap) << (e.hard ? "hard" : "soft") << " expire too late";
        (e.hard ? hard : soft)++;
    }
    EXPECT_EQ(soft, 1u) << "soft expire must fire exactly once";
    EXPECT_EQ(hard, 1u) << "hard expire must fire exactly once";
    EXPECT_TRUE(limited->IsHardExpired());
    EXPECT_FALSE(stack->FindState(limited->GetConfig().daddr, limited->GetSpi()))
        << "a hard-expired state is deleted";

    // The 11th packet meets the expired state; once it is deleted (Linux deletes a hard-expired
    // state at once) the remaining ones find no state at all.
    const uint64_t rest = kSent - 10;
    if (param.mode == XfrmOffloadType::Packet)
    {
        const EmuNicDrop expired = tx ? EmuNicDrop::TxExpired : EmuNicDrop::RxExpired;
        const uint64_t expiredDrops = dev->GetDropCount(expired);
        // TX: once the state is gone the core finds none for the policy (xfrm_state_find) and
        // drops before the device.
        const uint64_t noState = tx ? dev->GetDropCount(EmuNicDrop::TxNoState) +
                                          stack->GetDropCount(XfrmDrop::OutNoStates)
                                    : t->stackB->GetDropCount(XfrmDrop::InNoStates);
        EXPECT_GE(expiredDrops, 1u) << EmuNicDropName(expired) << "Drop";
        EXPECT_EQ(expiredDrops + noState, rest);
    }
    else
    {
        const uint64_t expiredDrops =
            stack->GetDropCount(tx ? XfrmDrop::OutStateExpired : XfrmDrop::InStateExpired);
        const uint64_t noState =
            stack->GetDropCount(tx ? XfrmDrop::OutNoStates : XfrmDrop::InNoStates);
        EXPECT_GE(expiredDrops, 1u);
        EXPECT_EQ(expiredDrops + noState, rest);
        EXPECT_EQ(limited->GetStats().expiredDrops, expiredDrops);
    }
    EXPECT_EQ(limited->GetCurrent().packets, 10u);
    EXPECT_EQ(limited->GetCurrent().bytes, 10 * kCounted);
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    LifetimeTest,
    testing::Combine(
        testing::Values(XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
        testing::Values(Limit::Packets, Limit::Bytes),
        testing::Values(Side::Tx, Side::Rx)),
    [](const testing::TestParamInfo<std::tuple<XfrmOffloadType, Limit, Side>>& info) {
        return std::string(DataPathName(std::get<0>(info.param))) + "_" +
               (std::get<1>(info.param) == Limit::Packets ? "packets" : "bytes") + "_" +
               (std::get<2>(info.param) == Side::Tx ? "tx" : "rx");
    });

// ---- update_stats ----

using UpdateStatsTest = SimulationTest<XfrmOffloadType>;

TEST_P(UpdateStatsTest, StackLearnsTheDeviceCounters)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    constexpr uint32_t kN = 25;
    std::vector<Bytes> payloads;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < kN; ++i)
    {
        payloads.push_back(DatagramPayload(i, 10 + 37 * i));
        bytes += 8 + payloads.back().size(); // the UDP segment, as Linux counts transport mode
    }
    ScheduleDatagrams(sender, payloads, Seconds(1), MilliSeconds(1));
    RunUntil(Seconds(2));
    ASSERT_EQ(sink->received.size(), kN);

    if (mode == XfrmOffloadType::Packet)
    {
        // Only the NIC saw the packets.
        EXPECT_EQ(t->outA->GetCurrent().packets, 0u);
        EXPECT_EQ(t->outA->GetCurrent().bytes, 0u);
        EXPECT_EQ(t->inB->GetCurrent().packets, 0u);
    }
    const uint64_t callsA = Counter(t->devA, "StateUpdateStats");
    const uint64_t callsB = Counter(t->devB, "StateUpdateStats");
    t->stackA->UpdateStats(t->outA);
    t->stackB->UpdateStats(t->inB);
    EXPECT_EQ(t->outA->GetCurrent().packets, kN);
    EXPECT_EQ(t->outA->GetCurrent().bytes, bytes);
    EXPECT_EQ(t->inB->GetCurrent().packets, kN);
    EXPECT_EQ(t->inB->GetCurrent().bytes, bytes);
    EXPECT_EQ(t->outA->GetLastSeq(), kN);
    if (mode == XfrmOffloadType::None)
    {
        EXPECT_EQ(Counter(t->devA, "StateUpdateStats"), 0u) << "no device behind a software SA";
    }
    else
    {
        EXPECT_EQ(Counter(t->devA, "StateUpdateStats"), callsA + 1);
        EXPECT_EQ(Counter(t->devB, "StateUpdateStats"), callsB + 1);
    }
    // Idempotent: reading again changes nothing.
    t->stackA->UpdateStats(t->outA);
    EXPECT_EQ(t->outA->GetCurrent().packets, kN);
    EXPECT_EQ(t->outA->GetCurrent().bytes, bytes);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         UpdateStatsTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

// ---- advance_esn ----

struct EsnParam
{
    XfrmOffloadType mode;
    bool esn;
};

using AdvanceEsnTest = SimulationTest<EsnParam>;

TEST_P(AdvanceEsnTest, CalledPerReceivedPacketOnlyForCryptoEsn)
{
    const EsnParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.esn = param.esn;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->inB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    constexpr uint32_t kN = 30;
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < kN; ++i)
    {
        payloads.push_back(DatagramPayload(i, 64 + i));
    }
    ScheduleDatagrams(sender, payloads, Seconds(1), MilliSeconds(1));
    RunUntil(Seconds(2));
    ASSERT_EQ(sink->received.size(), kN);

    const uint64_t calls = Counter(t->devB, "StateAdvanceEsn");
    if (param.mode == XfrmOffloadType::Crypto && param.esn)
    {
        // xfrm_replay_advance_esn -> xdo_dev_state_advance_esn for each accepted packet.
        EXPECT_GE(calls, kN);
        const ReferenceSa* sa =
            ReferenceOffloadEngine::Of(t->devB)->GetSa(t->inB->GetOffload().handle);
        ASSERT_NE(sa, nullptr);
        EXPECT_GE(sa->advanceEsnCalls, kN);
        // The NIC's ESN state machine follows the stack's window.
        EXPECT_EQ(t->inB->GetReplayWindow().GetTop(), kN);
        EXPECT_EQ(sa->replay.GetTop(), kN);
    }
    else
    {
        // Software has no device; packet offload keeps ESN in the NIC; no ESN, nothing to do.
        EXPECT_EQ(calls, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Cases,
                         AdvanceEsnTest,
                         testing::Values(EsnParam{XfrmOffloadType::Crypto, true},
                                         EsnParam{XfrmOffloadType::Crypto, false},
                                         EsnParam{XfrmOffloadType::None, true},
                                         EsnParam{XfrmOffloadType::Packet, true}),
                         [](const testing::TestParamInfo<EsnParam>& info) {
                             return std::string(DataPathName(info.param.mode)) +
                                    (info.param.esn ? "_esn" : "_noesn");
                         });

// ---- ESN across 2^32 (TX side) ----

// Software and crypto offload: the stack numbers the packets and SetLastSeq starts it near 2^32.
// Packet offload across 2^32 on TX is the conformance suite's ESN-HIGH-ORDER (it starts the
// device's SA at a migrated oseq); EsnRxWrapTest below covers the NIC's RX window here.
using EsnTxWrapTest = SimulationTest<XfrmOffloadType>;

TEST_P(EsnTxWrapTest, DeliveredAcrossTheBoundary)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    opt.esn = true;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);

    // First one packet at 2^31 so that the receiver's window lies in subspace 0 (with the window
    // at 0, RFC 4304 A would place 0xFFFFFFF1 in the subspace below and reject it), then jump
    // to just below 2^32.
    t->outA->SetLastSeq(0x7FFFFFFFull);
    std::vector<Bytes> payloads{DatagramPayload(0, 200)};
    ScheduleDatagram(sender, Seconds(1), payloads[0]);
    Simulator::Schedule(Seconds(1.5), [&t]() { t->outA->SetLastSeq(0xFFFFFFF0ull); });
    std::vector<Bytes> rest;
    for (uint32_t i = 1; i <= 40; ++i)
    {
        rest.push_back(DatagramPayload(i, 50 + 13 * i));
    }
    ScheduleDatagrams(sender, rest, Seconds(2), MilliSeconds(1));
    payloads.insert(payloads.end(), rest.begin(), rest.end());
    RunUntil(Seconds(3));

    ASSERT_EQ(sink->received.size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i)
    {
        EXPECT_EQ(sink->received[i], payloads[i]) << "datagram " << i;
    }
    EXPECT_EQ(t->outA->GetLastSeq(), 0x100000018ull);
    EXPECT_EQ(t->inB->GetReplayWindow().GetTop(), 0x100000018ull);
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), payloads.size());
    EXPECT_EQ(EspSeqOf(fromA[0]->ip), 0x80000000u);
    for (size_t i = 1; i < fromA.size(); ++i)
    {
        // Low 32 bits on the wire: 0xFFFFFFF1 .. 0xFFFFFFFF, 0, 1, .. 0x18.
        EXPECT_EQ(EspSeqOf(fromA[i]->ip), uint32_t(0xFFFFFFF0ull + i)) << "packet " << i;
    }
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 0u);
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateSeqError), 0u);
    if (mode == XfrmOffloadType::Crypto)
    {
        EXPECT_EQ(Counter(t->devA, "CryptoTxPackets"), payloads.size());
        EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), payloads.size());
        // TX crossed into new high-order bits: the driver was told.
        EXPECT_GE(Counter(t->devA, "StateAdvanceEsn"), 1u);
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EsnTxWrapTest,
                         testing::Values(XfrmOffloadType::None, XfrmOffloadType::Crypto),
                         DataPathOnly);

// ---- ESN across 2^32 (RX side, crafted), every mode ----

using EsnRxWrapTest = SimulationTest<XfrmOffloadType>;

TEST_P(EsnRxWrapTest, CraftedPacketsAcrossTheBoundaryDelivered)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    opt.esn = true;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->inB);
    auto sink = InstallUdpSink(t->hostB);

    // ESP for B's inbound SA sealed independently with the SA's keys and the full 64-bit
    // sequence number, sent from A's device as a raw packet.
    std::vector<uint64_t> seqs{0x80000000ull};
    for (uint64_t s = 0xFFFFFFF1ull; s <= 0x100000018ull; ++s)
    {
        seqs.push_back(s);
    }
    std::vector<Bytes> payloads;
    Time at = Seconds(1);
    for (size_t i = 0; i < seqs.size(); ++i)
    {
        payloads.push_back(DatagramPayload(uint32_t(i), 40 + uint32_t(i)));
        const Bytes udp =
            UdpDatagramBytes(t->hostAddrA, t->hostAddrB, 5555, kUdpPort, payloads.back());
        const Bytes frame = SealEspFrame(t->algAB, t->spiAB, seqs[i], true, udp, kProtoUdp);
        ScheduleInject(at, t->devA, t->devB, Ipv4Bytes(t->endAddrA, t->endAddrB, kProtoEsp, frame));
        at += MilliSeconds(1);
    }
    // Low bits of the old subspace that are still inside the window (top 0x100000018, window 32:
    // 0xFFFFFFF9 .. 0x100000018) belong to subspace 0: 0xFFFFFFFC is a replay, not 0x1FFFFFFFC.
    {
        const Bytes udp =
            UdpDatagramBytes(t->hostAddrA, t->hostAddrB, 5555, kUdpPort, DatagramPayload(999, 40));
        const Bytes frame = SealEspFrame(t->algAB, t->spiAB, 0xFFFFFFFCull, true, udp, kProtoUdp);
        ScheduleInject(at, t->devA, t->devB, Ipv4Bytes(t->endAddrA, t->endAddrB, kProtoEsp, frame));
    }
    RunUntil(at + Seconds(1));

    ASSERT_EQ(sink->received.size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i)
    {
        EXPECT_EQ(sink->received[i], payloads[i]) << "datagram " << i;
    }
    if (mode == XfrmOffloadType::Packet)
    {
        const ReferenceSa* sa =
            ReferenceOffloadEngine::Of(t->devB)->GetSa(t->inB->GetOffload().handle);
        ASSERT_NE(sa, nullptr);
        EXPECT_EQ(sa->replay.GetTop(), 0x100000018ull);
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxReplay), 1u);
        EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxAuthFail), 0u);
        EXPECT_EQ(Counter(t->devB, "PacketOffloadRxPackets"), payloads.size());
    }
    else
    {
        EXPECT_EQ(t->inB->GetReplayWindow().GetTop(), 0x100000018ull);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateSeqError), 1u);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 0u);
        if (mode == XfrmOffloadType::Crypto)
        {
            EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), payloads.size() + 1);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EsnRxWrapTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

// ---- sequence number exhaustion without ESN ----

// Software and crypto offload: the stack numbers the packets. Packet offload's exhaustion (the
// device's own counter, started near 2^32 through the ABI's oseq) is the conformance suite's
// SEQ-OVERFLOW-NO-CYCLE.
using SeqOverflowTest = SimulationTest<XfrmOffloadType>;

TEST_P(SeqOverflowTest, NoCyclingWithoutEsn)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA);
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    t->outA->SetLastSeq(0xFFFFFFFEull);
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < 6; ++i)
    {
        payloads.push_back(DatagramPayload(i, 80));
    }
    ScheduleDatagrams(sender, payloads, Seconds(1), MilliSeconds(1));
    RunUntil(Seconds(2));

    ASSERT_EQ(sink->received.size(), 1u) << "only seq 0xFFFFFFFF may be sent";
    EXPECT_EQ(sink->received[0], payloads[0]);
    EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutStateSeqError), 5u);
    EXPECT_EQ(t->outA->GetStats().seqOverflow, 5u);
    EXPECT_EQ(t->outA->GetLastSeq(), 0xFFFFFFFFull);
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), 1u);
    EXPECT_EQ(EspSeqOf(fromA[0]->ip), 0xFFFFFFFFu);
    if (mode == XfrmOffloadType::Crypto)
    {
        EXPECT_EQ(Counter(t->devA, "CryptoTxPackets"), 1u);
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         SeqOverflowTest,
                         testing::Values(XfrmOffloadType::None, XfrmOffloadType::Crypto),
                         DataPathOnly);

} // namespace
