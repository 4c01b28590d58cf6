// Conformance: anti-replay (RFC 4303 3.4.3) and extended sequence numbers (RFC 4304).
//
// ESP sealed independently with the SA's keys and chosen sequence numbers is sent to B from A's
// device, one table of (sequence number, expected verdict) per case: new numbers inside the
// window are accepted once (REPLAY-IN-WINDOW), duplicates and numbers left of the window are
// dropped and counted (REPLAY-DUPLICATE, REPLAY-TOO-OLD), with exact edges for windows of 32 to
// 4096 packets with and without ESN (REPLAY-WINDOW-SIZES). Traffic crosses 2^32 with ESN, and the
// high-order bits are authenticated (ESN-HIGH-ORDER); a crypto-offload receiver decrypts across
// 2^32 only if its device follows the stack through advance_esn (ESN-ADVANCE-DEVICE).
// Whoever keeps the window counts the drop: the stack (software, crypto offload) or the device
// (packet offload); the SA's own counters, read through update_stats, must agree.

#include "conformance-case.h"
#include "scapy-esp-oracle.h"

#include <functional>
#include <gtest/gtest.h>
#include <sstream>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint64_t kTwo32 = 1ull << 32;

enum class Verdict : uint8_t
{
    Accept,
    Replay,   //!< a duplicate (Linux xfrm_stats.replay)
    TooOld,   //!< left of the window (xfrm_stats.replay_window)
    AuthFail, //!< the ICV does not verify with the high bits the receiver infers
};

/// One crafted packet: the 64-bit sequence number it is sealed with (the wire carries the low 32
/// bits; with ESN the high 32 enter the ICV) and what the receiver must do with it.
struct Step
{
    uint64_t seq;
    Verdict verdict;
};

const char*
VerdictName(Verdict v)
{
    switch (v)
    {
    case Verdict::Accept:
        return "accept";
    case Verdict::Replay:
        return "replay";
    case Verdict::TooOld:
        return "too-old";
    case Verdict::AuthFail:
        return "auth-fail";
    }
    return "?";
}

std::string
StepsText(const std::vector<Step>& steps)
{
    std::ostringstream os;
    for (const Step& s : steps)
    {
        os << "0x" << std::hex << s.seq << std::dec << ":" << VerdictName(s.verdict) << " ";
    }
    return os.str();
}

TopologyOptions
OptionsOf(const Case& c, uint32_t window)
{
    TopologyOptions opt = conformance::OptionsOf(c);
    opt.replayWindow = window;
    return opt;
}

/// Drop counts of the receiver, from whoever keeps its window.
struct ReceiverDrops
{
    uint64_t replay{0}; //!< duplicates and too old: one MIB counter (XfrmInStateSeqError)
    uint64_t tooOld{0}; //!< of them, left of the window (expected only)
    uint64_t auth{0};
    uint64_t other{0}; //!< every other drop of B's stack and device
};

ReceiverDrops
DropsOfB(const Topology& t)
{
    ReceiverDrops d;
    for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
    {
        const EmuNicDrop drop = EmuNicDrop(i);
        const uint64_t n = t.devB->GetDropCount(drop);
        (drop == EmuNicDrop::RxReplay     ? d.replay
         : drop == EmuNicDrop::RxAuthFail ? d.auth
                                          : d.other) += n;
    }
    for (size_t i = 0; i < size_t(XfrmDrop::Count); ++i)
    {
        const XfrmDrop stat = XfrmDrop(i);
        const uint64_t n = t.stackB->GetDropCount(stat);
        (stat == XfrmDrop::InStateSeqError     ? d.replay
         : stat == XfrmDrop::InStateProtoError ? d.auth
                                               : d.other) += n;
    }
    return d;
}

/// Sends the steps to B, 1 ms apart, through a fresh topology, and checks the verdicts: the
/// accepted ones are delivered, in order, exactly once; the others are dropped and counted by
/// reason, by the receiver and in the SA's own counters.
void
RunSteps(const Case& c,
         uint32_t window,
         const std::vector<Step>& steps,
         const std::function<void(const Topology&, size_t accepted)>& alsoCheck = nullptr)
{
    SCOPED_TRACE("window " + std::to_string(window) + (c.esn ? " esn" : "") + ": " +
                 StepsText(steps));
    auto t = BuildTestTopology(OptionsOf(c, window));
    ASSERT_TRUE(t->inB);
    auto sink = InstallUdpSink(t->hostB);
    std::vector<Bytes> expected;
    ReceiverDrops want;
    Time at = Seconds(1);
    for (size_t i = 0; i < steps.size(); ++i)
    {
        const Bytes data = DatagramPayload(uint32_t(i), 40 + uint32_t(i % 50));
        ScheduleInject(at, t->devA, t->devB, EspToB(*t, steps[i].seq, data, uint16_t(100 + i)));
        at += MilliSeconds(1);
        switch (steps[i].verdict)
        {
        case Verdict::Accept:
            expected.push_back(data);
            break;
        case Verdict::Replay:
            ++want.replay;
            break;
        case Verdict::TooOld:
            ++want.replay;
            ++want.tooOld;
            break;
        case Verdict::AuthFail:
            ++want.auth;
            break;
        }
    }
    RunUntil(at + MilliSeconds(100));

    EXPECT_EQ(sink->received.size(), expected.size()) << "accepted packets";
    for (size_t i = 0; i < std::min(sink->received.size(), expected.size()); ++i)
    {
        EXPECT_EQ(sink->received[i], expected[i]) << "delivered datagram " << i;
    }
    const ReceiverDrops got = DropsOfB(*t);
    EXPECT_EQ(got.replay, want.replay) << "replay drops counted";
    EXPECT_EQ(got.auth, want.auth) << "authentication failures counted";
    EXPECT_EQ(got.other, 0u) << "drops for another reason";
    t->stackB->UpdateStats(t->inB);
    EXPECT_EQ(t->inB->GetStats().replayDrops, want.replay) << "the SA's replay counters";
    if (c.mode != XfrmOffloadType::Packet)
    {
        // The stack keeps the window: it splits the drops as xfrm_replay_check does (a
        // packet-offload device reports only their sum).
        EXPECT_EQ(t->inB->GetStats().replayWindow, want.tooOld)
            << "the SA's replay_window counter (too old)";
    }
    EXPECT_EQ(t->inB->GetStats().integrityFailures, want.auth) << "the SA's integrity counter";
    EXPECT_EQ(t->inB->GetCurrent().packets, expected.size()) << "the SA's packet counter";
    if (alsoCheck)
    {
        alsoCheck(*t, expected.size());
    }
    RecordEvidence("steps.w" + std::to_string(window), StepsText(steps));
    RecordEvidence("replayDrops.w" + std::to_string(window), got.replay);
    Simulator::Destroy();
}

std::vector<Case>
AllModes(std::vector<bool> esn = {false})
{
    return Cases({XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                 {Alg::Gcm128},
                 {XfrmMode::Transport, XfrmMode::Tunnel},
                 esn);
}

constexpr Verdict A = Verdict::Accept;
constexpr Verdict R = Verdict::Replay;
constexpr Verdict O = Verdict::TooOld;
constexpr Verdict F = Verdict::AuthFail;

// ---- REPLAY-IN-WINDOW ----

using REPLAY_IN_WINDOW = SimulationTest<Case>;

// Window 32, top 100: numbers not yet seen from 69 (the left edge) to 99 are accepted, once.
TEST_P(REPLAY_IN_WINDOW, NewNumbersAcceptedOnce)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    RunSteps(GetParam(),
             32,
             {{100, A}, {90, A}, {69, A}, {95, A}, {101, A}, {70, A}, {90, R}, {99, A}, {99, R}});
}

INSTANTIATE_TEST_SUITE_P(, REPLAY_IN_WINDOW, testing::ValuesIn(AllModes()), CaseName);

// ---- REPLAY-DUPLICATE ----

using REPLAY_DUPLICATE = SimulationTest<Case>;

// Duplicates of the top, of the middle and of the first packet are dropped and counted.
TEST_P(REPLAY_DUPLICATE, DroppedAndCounted)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    RunSteps(GetParam(),
             32,
             {{1, A},
              {2, A},
              {3, A},
              {4, A},
              {5, A},
              {6, A},
              {7, A},
              {8, A},
              {8, R},
              {3, R},
              {1, R},
              {9, A},
              {9, R},
              {5, R}});
}

INSTANTIATE_TEST_SUITE_P(, REPLAY_DUPLICATE, testing::ValuesIn(AllModes()), CaseName);

// ---- REPLAY-TOO-OLD ----

using REPLAY_TOO_OLD = SimulationTest<Case>;

// Window 32, top 200: 169 is the left edge, 168 is left of the window; after 201 the edge moves.
TEST_P(REPLAY_TOO_OLD, LeftOfWindowDroppedAndCounted)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    RunSteps(
        GetParam(),
        32,
        {{200, A}, {169, A}, {168, O}, {100, O}, {1, O}, {201, A}, {169, O}, {170, A}, {171, A}});
}

INSTANTIATE_TEST_SUITE_P(, REPLAY_TOO_OLD, testing::ValuesIn(AllModes()), CaseName);

// ---- REPLAY-WINDOW-SIZES ----

/// The same edges for every window size W around a top T: T - W + 1 is in, T - W is out, the
/// edge is single-use, and a jump by W moves the edge to T + 1. With ESN, T lies above 2^32 (the
/// receiver is walked there through 2^31) so that every ICV carries high bits 1; a number left of
/// the window then belongs to the next subspace (RFC 4304 A.2, Linux's xfrm_replay_seqhi) and
/// fails authentication instead of the replay check: dropped all the same.
std::vector<Step>
EdgeTable(uint32_t w, bool esn)
{
    const uint64_t top = (esn ? kTwo32 : 0) + w + 1000;
    const Verdict left = esn ? F : O;
    std::vector<Step> steps;
    if (esn)
    {
        steps.push_back({kTwo32 / 2, A});
    }
    const std::vector<Step> edges{{top, A},
                                  {top - w + 1, A},
                                  {top - w, left},
                                  {top - w + 1, R},
                                  {top - 1, A},
                                  {top + w, A},
                                  {top + 1, A},
                                  {top, left},
                                  {top + w, R}};
    steps.insert(steps.end(), edges.begin(), edges.end());
    return steps;
}

using REPLAY_WINDOW_SIZES = SimulationTest<Case>;

TEST_P(REPLAY_WINDOW_SIZES, EdgesOf32To4096)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const uint32_t deviceMax = DeviceUnderTest().GetCapabilities().max_replay_window;
    uint32_t run = 0;
    for (uint32_t w : {32u, 64u, 128u, 1024u, 4096u})
    {
        if (c.mode == XfrmOffloadType::Packet && w > deviceMax)
        {
            // The device keeps the window in packet offload; a larger one is refused at state_add.
            RecordEvidence("skipped.w" + std::to_string(w), "above max_replay_window");
            continue;
        }
        RunSteps(c, w, EdgeTable(w, c.esn));
        // A failed ASSERT leaves RunSteps early: its simulation must go before the next one.
        Simulator::Destroy();
        if (HasFatalFailure())
        {
            return;
        }
        ++run;
    }
    if (run == 0)
    {
        GTEST_SKIP() << "device max_replay_window " << deviceMax << " is below 32";
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         REPLAY_WINDOW_SIZES,
                         testing::ValuesIn(AllModes({false, true})),
                         CaseName);

// ---- ESN-HIGH-ORDER ----

/// From 2^31 (so that the window lies in subspace 0) across 2^32 to 2^32 + 0x18, then the
/// high-bit checks: low bits of the old subspace inside the window are a replay, not a packet of
/// the next subspace; a packet sealed with the wrong high bits fails authentication and does not
/// move the window.
std::vector<Step>
AcrossTwo32()
{
    std::vector<Step> steps{{kTwo32 / 2, A}};
    for (uint64_t s = kTwo32 - 15; s <= kTwo32 + 0x18; ++s)
    {
        steps.push_back({s, A});
    }
    steps.push_back({kTwo32 - 4, R});
    steps.push_back({0x19, F}); // wire 0x19 with high bits 0; the receiver must infer 1
    steps.push_back({kTwo32 + 0x19, A});
    steps.push_back({kTwo32 + 0x1a, A});
    return steps;
}

using ESN_HIGH_ORDER = SimulationTest<Case>;

// The receiver (stack or device) infers and authenticates the high-order bits across 2^32.
TEST_P(ESN_HIGH_ORDER, ReceiverCrossesTwoTo32)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    RunSteps(GetParam(), 32, AcrossTwo32());
}

// The SA pair starts just below 2^32, as a migrated SA does (Linux XFRMA_REPLAY_ESN_VAL: the
// sender's oseq, the receiver's seq), so whoever numbers the packets, stack or device, crosses
// 2^32 on real socket traffic: every datagram arrives, the wire carries the low bits, and Scapy's
// ESP verifies each ICV with the high bits of its side of 2^32 and refuses it with the other.
TEST_P(ESN_HIGH_ORDER, SenderCrossesTwoTo32)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string why;
    if (!ScapyEspOracle::IsAvailable(&why))
    {
        GTEST_SKIP() << "Scapy ESP oracle unavailable: " << why;
    }
    constexpr uint64_t kFirst = kTwo32 - 15; // the first sequence number sent
    TopologyOptions opt = OptionsOf(c, 32);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    const XfrmOffloadType type = c.mode;
    std::string error;
    XfrmStateConfig out = t->SaConfig(true, true, type);
    out.replayOseq = kFirst - 1;
    t->outA = t->stackA->AddState(out, &error);
    ASSERT_TRUE(t->outA) << error;
    XfrmStateConfig in = t->SaConfig(true, false, type);
    in.replaySeq = kFirst - 5;
    t->inB = t->stackB->AddState(in, &error);
    ASSERT_TRUE(t->inB) << error;
    t->outB = t->AddSa(false, true, type, XfrmLifetimeConfig{});
    t->inA = t->AddSa(false, false, type, XfrmLifetimeConfig{});
    for (bool onA : {true, false})
    {
        t->AddPolicy(onA, XfrmDir::Out, type);
        t->AddPolicy(onA, XfrmDir::In, type);
        if (t->Tunnel())
        {
            t->AddPolicy(onA, XfrmDir::Fwd, XfrmOffloadType::None);
        }
    }
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 40; ++i)
    {
        sent.push_back(DatagramPayload(i, 50 + 13 * i));
    }
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(1));
    RunUntil(Seconds(2));

    EXPECT_EQ(sink->received, sent) << "datagrams lost or changed across 2^32";
    t->stackA->UpdateStats(t->outA); // packet offload: the device reports its counter
    EXPECT_EQ(t->outA->GetLastSeq(), kFirst + sent.size() - 1);
    const ReceiverDrops drops = DropsOfB(*t);
    EXPECT_EQ(drops.replay + drops.auth + drops.other, 0u);
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), sent.size());
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          true);
    ASSERT_TRUE(oracle.IsValid(&why)) << why;
    for (size_t i = 0; i < fromA.size(); ++i)
    {
        const uint64_t seq = kFirst + i;
        EXPECT_EQ(EspSeqOf(fromA[i]->ip), uint32_t(seq)) << "low bits of packet " << i;
        const uint32_t hi = uint32_t(seq >> 32);
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(fromA[i]->ip, hi, &inner, &error))
            << "packet " << i << " seq 0x" << std::hex << seq << ": " << error;
        ASSERT_GE(inner.size(), 28u + sent[i].size());
        EXPECT_TRUE(std::equal(sent[i].begin(), sent[i].end(), inner.end() - sent[i].size()))
            << "plaintext of packet " << i;
        if (i == 0 || i == fromA.size() - 1)
        {
            EXPECT_FALSE(oracle.Decrypt(fromA[i]->ip, hi ^ 1, &inner, &error))
                << "the ICV of packet " << i << " does not cover the high-order bits";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         ESN_HIGH_ORDER,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet},
                                                 {Alg::Gcm128},
                                                 {XfrmMode::Transport, XfrmMode::Tunnel},
                                                 {true})),
                         CaseName);

// ---- ESN-ADVANCE-DEVICE ----

using ESN_ADVANCE_DEVICE = SimulationTest<Case>;

// Crypto offload: the device decrypts, so it must infer the high bits itself from the window the
// stack keeps and hands it through advance_esn. Across 2^32 every packet is decrypted by the
// device (not in software) and verifies.
TEST_P(ESN_ADVANCE_DEVICE, DeviceDecryptsAcrossTwoTo32)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::vector<Step> steps{{kTwo32 / 2, A}, {kTwo32 / 2 + 100, A}};
    for (uint64_t s = kTwo32 - 20; s <= kTwo32 + 20; ++s)
    {
        steps.push_back({s, A});
    }
    // On to the next boundary, in steps RFC 4304 can follow (less than 2^31 at a time).
    for (uint64_t s : {kTwo32 + kTwo32 / 2, 2 * kTwo32 - 10, 2 * kTwo32 + 5, 2 * kTwo32 + 6})
    {
        steps.push_back({s, A});
    }
    RunSteps(c, 64, steps, [](const Topology& t, size_t accepted) {
        EXPECT_TRUE(t.inB->IsOffloaded(XfrmOffloadType::Crypto));
        EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), accepted)
            << "every packet must be decrypted by the device";
    });
}

// Only meaningful with ESN and crypto offload (packet offload keeps ESN in the device alone).
INSTANTIATE_TEST_SUITE_P(,
                         ESN_ADVANCE_DEVICE,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto},
                                                 {Alg::Gcm128},
                                                 {XfrmMode::Transport, XfrmMode::Tunnel},
                                                 {true})),
                         CaseName);

} // namespace
