// Conformance: SA lifetimes, the counters behind them, and rekeying.
//
// Soft and hard limits by packets and by bytes, on the sender's outbound SA and on the
// receiver's inbound SA (LFT-*): exactly one soft and one hard expire reach the stack's key
// manager subscription, and traffic past the hard limit stops. Bytes are counted as Linux
// counts skb->len (xfrm_output_one, xfrm_input): the L4 segment in transport mode, the inner
// packet in tunnel mode. When the expire may come is what Linux accepts: software and crypto
// offload check before they count (xfrm_state_check_expire), so exactly at the packet after the
// limit; a packet-offload device that reports OLAB_LIFETIME_EXACT with the packet that reaches
// the limit or the next one (mlx5's counter event, or check before count); one that reports
// OLAB_LIFETIME_POLLED within one declared poll period of the crossing, the host's poll (mlx5's
// once-a-second work). In packet offload the device counts and its expire check starts without
// anybody asking for its counters (LFT-DEVICE-COUNTS), and update_stats reports exactly what
// was carried (STATS-UPDATE-EXACT, ALLOW-OFFLOAD-COUNTERS). The key manager rekeys
// make-before-break without losing a datagram, with the same events in every mode
// (REKEY-MAKE-BEFORE-BREAK).

#include "conformance-case.h"
#include "ipsec-key-manager.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <tuple>

using namespace offloadtest;
using namespace conformance;

namespace
{

constexpr uint32_t kSent = 20;
constexpr uint32_t kSoftAt = 5;  //!< the soft limit is reached by the first 5 packets
constexpr uint32_t kHardAt = 10; //!< the hard limit is reached by the first 10 packets
const Time kStart = Seconds(1);
const Time kGap = MilliSeconds(1);
/// Room for the links' delay between a datagram's send time and its processing.
const Time kSlack = MilliSeconds(1);

/// UDP data of datagram i: sizes differ, so that byte and packet limits fall apart.
Bytes
Payload(uint32_t i)
{
    return DatagramPayload(i, 40 + 17 * i);
}

/// What a lifetime counts for a UDP datagram of `size` data bytes, as Linux counts skb->len
/// once the outer IP header is pulled: the UDP segment in transport mode, the inner IPv4 packet
/// in tunnel mode.
uint64_t
CountedLength(XfrmMode ipMode, size_t size)
{
    return (ipMode == XfrmMode::Tunnel ? 20 + 8 : 8) + size;
}

/// Bytes counted for the first n datagrams.
uint64_t
BytesOfFirst(XfrmMode ipMode, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; ++i)
    {
        sum += CountedLength(ipMode, Payload(i).size());
    }
    return sum;
}

enum class Limit : uint8_t
{
    Packets,
    Bytes,
};

/// When Linux lets an expire of one kind of limit come in a case's data path.
struct ExpireBound
{
    bool device{false}; //!< packet offload: the device counts (else the stack, check-then-count)
    bool polled{false}; //!< the device declares OLAB_LIFETIME_POLLED: the host polls
    Time period;        //!< the declared poll period

    std::string Describe() const
    {
        if (!device)
        {
            return "stack: at the packet after the limit";
        }
        return polled ? "device polled every " + std::to_string(period.GetMilliSeconds()) + " ms"
                      : "device exact: at the packet that reaches the limit or the next";
    }
};

ExpireBound
BoundOf(const Case& c, Limit limit)
{
    ExpireBound b;
    if (c.mode != XfrmOffloadType::Packet)
    {
        return b;
    }
    const olab_capabilities& caps = DeviceUnderTest().GetCapabilities();
    b.device = true;
    b.polled = (limit == Limit::Packets ? caps.lifetime_packets : caps.lifetime_bytes) ==
               OLAB_LIFETIME_POLLED;
    b.period = MilliSeconds(caps.lifetime_poll_ms);
    return b;
}

/// Datagrams 1 ms apart; for a polled limit a quarter period, so that the traffic outlasts
/// the bound and shows whether the hard limit stopped it.
Time
GapOf(const ExpireBound& b)
{
    return b.polled ? std::max(kGap, MicroSeconds(b.period.GetMicroSeconds() / 4)) : kGap;
}

/// The interval [lo, hi) an expire must fall in when the limit is reached by datagram n
/// (1-based) of datagrams `gap` apart from kStart.
struct Window
{
    Time lo;
    Time hi;
};

Window
WindowOf(const ExpireBound& b, uint32_t n, Time gap)
{
    const Time reached = kStart + gap * (n - 1); // datagram n is sent
    const Time next = kStart + gap * n;          // datagram n + 1 is sent
    if (!b.device)
    {
        return {next, next + gap};
    }
    if (b.polled)
    {
        return {reached, reached + b.period + kSlack};
    }
    return {reached, next + gap};
}

enum class Side : uint8_t
{
    Outbound, //!< the limits are on the sender's outbound SA
    Inbound,  //!< the limits are on the receiver's inbound SA
};

struct ExpireEvent
{
    Ptr<XfrmState> x;
    bool hard{false};
    Time at;
};

struct LifetimeRun
{
    std::vector<Bytes> sent;
    std::vector<Bytes> delivered;
    std::vector<ExpireEvent> events; //!< of both stacks
    Ptr<XfrmState> limited;
    size_t espFromA{0};
    size_t plaintextFromA{0};
    Time gap;
};

/// Sends kSent datagrams A->B, `gap` apart, with the limits on one SA; records the expire
/// events both stacks raise (what a key manager would hear).
LifetimeRun
RunLifetime(const Case& c, Side side, const XfrmLifetimeConfig& lifetime, const ExpireBound& bound)
{
    TopologyOptions opt = OptionsOf(c);
    (side == Side::Outbound ? opt.lifetimeOutA : opt.lifetimeInB) = lifetime;
    auto t = BuildTestTopology(opt);
    EXPECT_TRUE(t->outA && t->inB);
    LifetimeRun run;
    run.gap = GapOf(bound);
    run.limited = side == Side::Outbound ? t->outA : t->inB;
    for (Ptr<XfrmStack> stack : {t->stackA, t->stackB})
    {
        stack->SetExpireCallback(XfrmStack::ExpireCallback([&run](Ptr<XfrmState> x, bool hard) {
            run.events.push_back(ExpireEvent{x, hard, Simulator::Now()});
        }));
    }
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    for (uint32_t i = 0; i < kSent; ++i)
    {
        run.sent.push_back(Payload(i));
    }
    ScheduleDatagrams(sender, run.sent, kStart, run.gap);
    RunUntil(kStart + run.gap * kSent + (bound.polled ? bound.period : Time(0)) + Seconds(1));
    run.delivered = sink->received;
    for (const WirePacket* w : wire->From(true))
    {
        (IpProtocol(w->ip) == kProtoEsp ? run.espFromA : run.plaintextFromA)++;
    }
    for (Ptr<XfrmStack> stack : {t->stackA, t->stackB})
    {
        stack->SetExpireCallback(XfrmStack::ExpireCallback());
    }
    return run;
}

/// Checks that exactly `expected` expires of one kind arrived, all for the limited SA, inside
/// the window of the limit reached by datagram n (1-based); returns the time of the last one.
Time
ExpectExpires(const LifetimeRun& run,
              bool hard,
              uint32_t expected,
              const ExpireBound& bound,
              uint32_t n)
{
    const char* kind = hard ? "hard" : "soft";
    const Window w = WindowOf(bound, n, run.gap);
    uint32_t count = 0;
    Time last;
    for (const ExpireEvent& e : run.events)
    {
        if (e.hard != hard)
        {
            continue;
        }
        ++count;
        last = e.at;
        EXPECT_EQ(e.x, run.limited) << kind << " expire for another SA";
        EXPECT_GE(e.at, w.lo) << kind << " expire at " << e.at.As(Time::MS) << ", before datagram "
                              << n << " reached the limit";
        EXPECT_LT(e.at, w.hi) << kind << " expire at " << e.at.As(Time::MS) << ", later than "
                              << w.hi.As(Time::MS) << " (" << bound.Describe() << ")";
    }
    EXPECT_EQ(count, expected) << "number of " << kind << " expires";
    RecordEvidence(std::string(kind) + "Expires", count);
    if (count > 0)
    {
        RecordEvidence(std::string(kind) + "ExpireMs", uint64_t(last.GetMilliSeconds()));
    }
    return last;
}

XfrmLifetimeConfig
SoftOnly(Limit limit, XfrmMode ipMode)
{
    XfrmLifetimeConfig l;
    if (limit == Limit::Packets)
    {
        l.softPacketLimit = kSoftAt;
    }
    else
    {
        l.softByteLimit = BytesOfFirst(ipMode, kSoftAt) - 10; // crossed inside the 5th datagram
    }
    return l;
}

XfrmLifetimeConfig
SoftAndHard(Limit limit, XfrmMode ipMode)
{
    XfrmLifetimeConfig l = SoftOnly(limit, ipMode);
    if (limit == Limit::Packets)
    {
        l.hardPacketLimit = kHardAt;
    }
    else
    {
        l.hardByteLimit = BytesOfFirst(ipMode, kHardAt); // reached exactly by the 10th datagram
    }
    return l;
}

/// Soft limit: the SA keeps working, one soft expire within the bound, no hard expire.
void
CheckSoft(const Case& c, Limit limit, Side side)
{
    const ExpireBound bound = BoundOf(c, limit);
    RecordEvidence("expireBound", bound.Describe());
    const LifetimeRun run = RunLifetime(c, side, SoftOnly(limit, c.ipMode), bound);
    EXPECT_EQ(run.delivered, run.sent) << "a soft expire must not stop traffic";
    ExpectExpires(run, false, 1, bound, kSoftAt);
    ExpectExpires(run, true, 0, bound, kHardAt);
    EXPECT_EQ(run.plaintextFromA, 0u);
}

/// Hard limit: the datagrams up to it pass; one soft and one hard expire, each within its
/// bound; traffic stops at the packet after the limit (stack, exact device) or once the hard
/// expire came (polled device); nothing leaks in plaintext.
void
CheckHard(const Case& c, Limit limit, Side side)
{
    const ExpireBound bound = BoundOf(c, limit);
    RecordEvidence("expireBound", bound.Describe());
    const LifetimeRun run = RunLifetime(c, side, SoftAndHard(limit, c.ipMode), bound);
    ExpectExpires(run, false, 1, bound, kSoftAt);
    const Time hardAt = ExpectExpires(run, true, 1, bound, kHardAt);
    RecordEvidence("delivered", run.delivered.size());
    // Polled: what was sent before the host's poll found the limit may still pass.
    size_t allowed = kHardAt;
    if (bound.polled)
    {
        while (allowed < kSent && kStart + run.gap * allowed <= hardAt)
        {
            ++allowed;
        }
    }
    ASSERT_GE(run.delivered.size(), kHardAt) << "the datagrams up to the hard limit must pass";
    EXPECT_LE(run.delivered.size(), allowed)
        << "traffic went on past the hard limit (" << bound.Describe() << ")";
    for (uint32_t i = 0; i < run.delivered.size() && i < kSent; ++i)
    {
        EXPECT_EQ(run.delivered[i], run.sent[i]) << "datagram " << i;
    }
    EXPECT_EQ(run.plaintextFromA, 0u) << "traffic of an expired SA left in plaintext";
    if (side == Side::Outbound)
    {
        EXPECT_GE(run.espFromA, kHardAt);
        EXPECT_LE(run.espFromA, allowed) << "the sender must not send past the hard limit";
    }
    else
    {
        EXPECT_EQ(run.espFromA, kSent) << "the sender has no limit";
    }
}

// Every lifetime case: each mode, transport and tunnel.
std::vector<Case>
LifetimeCases()
{
    return Cases({XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                 {Alg::Gcm128});
}

// ---- LFT-SOFT-PACKETS / LFT-SOFT-BYTES / LFT-HARD-PACKETS / LFT-HARD-BYTES ----

using LFT_SOFT_PACKETS = SimulationTest<Case>;

TEST_P(LFT_SOFT_PACKETS, OutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoft(GetParam(), Limit::Packets, Side::Outbound);
}

TEST_P(LFT_SOFT_PACKETS, InboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoft(GetParam(), Limit::Packets, Side::Inbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_SOFT_PACKETS, testing::ValuesIn(LifetimeCases()), CaseName);

using LFT_SOFT_BYTES = SimulationTest<Case>;

TEST_P(LFT_SOFT_BYTES, OutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoft(GetParam(), Limit::Bytes, Side::Outbound);
}

TEST_P(LFT_SOFT_BYTES, InboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoft(GetParam(), Limit::Bytes, Side::Inbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_SOFT_BYTES, testing::ValuesIn(LifetimeCases()), CaseName);

using LFT_HARD_PACKETS = SimulationTest<Case>;

TEST_P(LFT_HARD_PACKETS, OutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHard(GetParam(), Limit::Packets, Side::Outbound);
}

TEST_P(LFT_HARD_PACKETS, InboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHard(GetParam(), Limit::Packets, Side::Inbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_HARD_PACKETS, testing::ValuesIn(LifetimeCases()), CaseName);

using LFT_HARD_BYTES = SimulationTest<Case>;

TEST_P(LFT_HARD_BYTES, OutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHard(GetParam(), Limit::Bytes, Side::Outbound);
}

TEST_P(LFT_HARD_BYTES, InboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHard(GetParam(), Limit::Bytes, Side::Inbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_HARD_BYTES, testing::ValuesIn(LifetimeCases()), CaseName);

// ---- counters read through update_stats ----

/// Datagrams both ways: nAB from A to B, nBA from B to A.
struct TwoWayTraffic
{
    std::unique_ptr<Topology> t;
    std::vector<Bytes> sentAB;
    std::vector<Bytes> sentBA;
    std::shared_ptr<UdpSink> sinkB;
    std::shared_ptr<UdpSink> sinkA;
    std::shared_ptr<UdpSender> senderA;
    std::shared_ptr<UdpSender> senderB;
};

TwoWayTraffic
BuildTwoWay(const TopologyOptions& opt)
{
    TwoWayTraffic w;
    w.t = BuildTestTopology(opt);
    w.sinkB = InstallUdpSink(w.t->hostB);
    w.sinkA = InstallUdpSink(w.t->hostA, kUdpPort + 1);
    w.senderA = InstallUdpSender(w.t->hostA, w.t->hostAddrB);
    w.senderB = InstallUdpSender(w.t->hostB, w.t->hostAddrA, kUdpPort + 1);
    return w;
}

/// Schedules n datagrams from one side, `gap` apart, sizes from seed; returns the bytes a
/// lifetime counts for them (CountedLength).
uint64_t
SendBurst(TwoWayTraffic& w,
          bool fromA,
          uint32_t n,
          uint32_t seed,
          Time start,
          Time gap = MicroSeconds(700))
{
    std::vector<Bytes> payloads;
    uint64_t bytes = 0;
    const XfrmMode ipMode = w.t->Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    for (uint32_t i = 0; i < n; ++i)
    {
        payloads.push_back(DatagramPayload(seed + i, 1 + (seed * 7 + i * 211) % 1300));
        bytes += CountedLength(ipMode, payloads.back().size());
    }
    ScheduleDatagrams(fromA ? w.senderA : w.senderB, payloads, start, gap);
    auto& sent = fromA ? w.sentAB : w.sentBA;
    sent.insert(sent.end(), payloads.begin(), payloads.end());
    return bytes;
}

void
ExpectCurrent(Ptr<XfrmState> x, uint64_t packets, uint64_t bytes, const std::string& name)
{
    ASSERT_TRUE(x) << name;
    EXPECT_EQ(x->GetCurrent().packets, packets) << name << " packets";
    EXPECT_EQ(x->GetCurrent().bytes, bytes) << name << " bytes";
    RecordEvidence(name + ".packets", x->GetCurrent().packets);
    RecordEvidence(name + ".bytes", x->GetCurrent().bytes);
}

using LFT_DEVICE_COUNTS = SimulationTest<Case>;

// The device keeps one count per SA (both directions, both ends) and its expire check starts
// without anybody asking for its counters: from the device (OLAB_LIFETIME_EXACT) or from the
// host's poll (OLAB_LIFETIME_POLLED), within the declared period.
TEST_P(LFT_DEVICE_COUNTS, PerSaCountsAndOwnExpireCheck)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const ExpireBound bound = BoundOf(c, Limit::Packets);
    RecordEvidence("expireBound", bound.Describe());
    TopologyOptions opt = OptionsOf(c);
    opt.lifetimeOutA.softPacketLimit = 8;
    TwoWayTraffic w = BuildTwoWay(opt);
    Topology& t = *w.t;
    ASSERT_TRUE(t.outA && t.inB && t.outB && t.inA);
    std::vector<ExpireEvent> events;
    t.stackA->SetExpireCallback(XfrmStack::ExpireCallback([&events](Ptr<XfrmState> x, bool hard) {
        events.push_back(ExpireEvent{x, hard, Simulator::Now()});
    }));
    const uint64_t bytesAB = SendBurst(w, true, 13, 1, Seconds(1));
    const uint64_t bytesBA = SendBurst(w, false, 6, 50, Seconds(1.0003));
    // The 8th datagram A->B reaches the limit; the last one leaves 8.4 ms after the first.
    const Time reached = Seconds(1) + MicroSeconds(700) * 7;
    const Time latest =
        (bound.polled ? reached + bound.period : Seconds(1) + MicroSeconds(8400)) + kSlack;
    RunUntil(latest + Seconds(1));
    ASSERT_EQ(w.sinkB->received, w.sentAB);
    ASSERT_EQ(w.sinkA->received, w.sentBA);

    ASSERT_EQ(events.size(), 1u) << "the expire check must start without a request ("
                                 << bound.Describe() << ")";
    EXPECT_EQ(events[0].x, t.outA);
    EXPECT_FALSE(events[0].hard);
    EXPECT_GE(events[0].at, reached) << "soft expire before the limit was reached";
    EXPECT_LT(events[0].at, latest) << "soft expire too late (" << bound.Describe() << ")";
    EXPECT_GE(events[0].x->GetCurrent().packets, 8u) << "counters read at the soft expire";
    t.stackA->SetExpireCallback(XfrmStack::ExpireCallback());

    for (Ptr<XfrmState> x : {t.outA, t.inA})
    {
        t.stackA->UpdateStats(x);
    }
    for (Ptr<XfrmState> x : {t.outB, t.inB})
    {
        t.stackB->UpdateStats(x);
    }
    ExpectCurrent(t.outA, 13, bytesAB, "outA");
    ExpectCurrent(t.inB, 13, bytesAB, "inB");
    ExpectCurrent(t.outB, 6, bytesBA, "outB");
    ExpectCurrent(t.inA, 6, bytesBA, "inA");
}

INSTANTIATE_TEST_SUITE_P(,
                         LFT_DEVICE_COUNTS,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

using STATS_UPDATE_EXACT = SimulationTest<Case>;

// update_stats reports exactly the packets sent and the bytes Linux counts for them, on both
// ends; reading twice changes nothing; more traffic adds exactly its own share.
TEST_P(STATS_UPDATE_EXACT, BytesAndPacketsCarried)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    TwoWayTraffic w = BuildTwoWay(OptionsOf(c));
    Topology& t = *w.t;
    ASSERT_TRUE(t.outA && t.inB);
    const uint64_t first = SendBurst(w, true, 25, 3, Seconds(1));
    RunUntil(Seconds(1.5));
    ASSERT_EQ(w.sinkB->received.size(), 25u);
    t.stackA->UpdateStats(t.outA);
    t.stackB->UpdateStats(t.inB);
    ExpectCurrent(t.outA, 25, first, "outA");
    ExpectCurrent(t.inB, 25, first, "inB");
    t.stackA->UpdateStats(t.outA);
    t.stackB->UpdateStats(t.inB);
    ExpectCurrent(t.outA, 25, first, "outA (read again)");
    ExpectCurrent(t.inB, 25, first, "inB (read again)");

    const uint64_t second = SendBurst(w, true, 9, 40, Seconds(1.6));
    RunUntil(Seconds(2));
    ASSERT_EQ(w.sinkB->received, w.sentAB);
    t.stackA->UpdateStats(t.outA);
    t.stackB->UpdateStats(t.inB);
    ExpectCurrent(t.outA, 34, first + second, "outA");
    ExpectCurrent(t.inB, 34, first + second, "inB");
    EXPECT_EQ(t.outA->GetLastSeq(), 34u) << "last sequence number used";
    EXPECT_EQ(t.inB->GetStats().replayDrops, 0u);
    EXPECT_EQ(t.inB->GetStats().integrityFailures, 0u);
    EXPECT_EQ(t.outB->GetCurrent().packets, 0u) << "B->A carried nothing";
}

INSTANTIATE_TEST_SUITE_P(,
                         STATS_UPDATE_EXACT,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

using ALLOW_OFFLOAD_COUNTERS = SimulationTest<Case>;

// Differential: software IPsec counts per packet; packet offload may leave the stack's counters
// behind until update_stats (never ahead), and after it agrees with software exactly.
TEST_P(ALLOW_OFFLOAD_COUNTERS, AgreeWithSoftwareAfterUpdateStats)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::map<std::string, XfrmLifetimeCurrent> software;
    for (XfrmOffloadType mode : {XfrmOffloadType::None, c.mode})
    {
        SCOPED_TRACE(DataPathName(mode));
        TopologyOptions opt = OptionsOf(c);
        opt.mode = mode;
        TwoWayTraffic w = BuildTwoWay(opt);
        Topology& t = *w.t;
        ASSERT_TRUE(t.outA && t.inB && t.outB && t.inA);
        SendBurst(w, true, 17, 5, Seconds(1));
        SendBurst(w, false, 11, 90, Seconds(1.0002));
        RunUntil(Seconds(2));
        EXPECT_EQ(w.sinkB->received, w.sentAB);
        EXPECT_EQ(w.sinkA->received, w.sentBA);
        const std::map<std::string, Ptr<XfrmState>> states{{"outA", t.outA},
                                                           {"inB", t.inB},
                                                           {"outB", t.outB},
                                                           {"inA", t.inA}};
        for (const auto& [name, x] : states)
        {
            if (mode == XfrmOffloadType::None)
            {
                software[name] = x->GetCurrent();
                continue;
            }
            // Allowed: behind; not allowed: ahead of what was carried.
            EXPECT_LE(x->GetCurrent().packets, software[name].packets) << name;
            EXPECT_LE(x->GetCurrent().bytes, software[name].bytes) << name;
            (name.back() == 'A' ? t.stackA : t.stackB)->UpdateStats(x);
            EXPECT_EQ(x->GetCurrent().packets, software[name].packets) << name;
            EXPECT_EQ(x->GetCurrent().bytes, software[name].bytes) << name;
        }
        Simulator::Destroy();
    }
    EXPECT_EQ(software["outA"].packets, 17u);
    EXPECT_EQ(software["inA"].packets, 11u);
}

INSTANTIATE_TEST_SUITE_P(,
                         ALLOW_OFFLOAD_COUNTERS,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// ---- REKEY-MAKE-BEFORE-BREAK ----

struct RekeyRun
{
    std::vector<Bytes> sentAB;
    std::vector<Bytes> sentBA;
    std::vector<Bytes> deliveredAB;
    std::vector<Bytes> deliveredBA;
    uint32_t rekeys{0};
    /// What the key manager did and heard: (kind, node, SPI), in order.
    std::vector<std::tuple<std::string, uint32_t, uint32_t>> events;
    std::map<std::string, uint64_t> drops;
};

/// The key manager installs the connection with small packet limits; UDP flows both ways,
/// continuously, `gap` apart, across several rekeys.
RekeyRun
RunRekey(const Case& c, XfrmOffloadType mode, Time gap)
{
    TopologyOptions opt = OptionsOf(c);
    opt.mode = mode;
    opt.installIpsec = false;
    TwoWayTraffic w = BuildTwoWay(opt);
    Topology& t = *w.t;
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(42);
    IpsecConnectionConfig conn = TestConnection(t, mode, "conformance");
    conn.keyBits = c.alg == Alg::Gcm256 ? 256 : 128;
    conn.replayWindow = 64;
    conn.esn = c.esn;
    conn.lifetime.softPacketLimit = 40;
    conn.lifetime.hardPacketLimit = 80;
    std::string error;
    EXPECT_TRUE(km->AddConnection(conn, &error)) << error;

    SendBurst(w, true, 150, 1, Seconds(1), gap);
    SendBurst(w, false, 60, 500, Seconds(1.0003), gap);
    RunUntil(Seconds(2) + gap * 150);

    RekeyRun run;
    run.sentAB = w.sentAB;
    run.sentBA = w.sentBA;
    run.deliveredAB = w.sinkB->received;
    run.deliveredBA = w.sinkA->received;
    run.rekeys = km->GetRekeyCount();
    for (const IpsecKmEvent& e : km->GetEvents())
    {
        run.events.emplace_back(e.kind, e.nodeId, e.spi);
    }
    for (bool a : {true, false})
    {
        Ptr<EmuNicNetDevice> dev = a ? t.devA : t.devB;
        for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
        {
            run.drops[std::string(a ? "devA." : "devB.") + EmuNicDropName(EmuNicDrop(i))] =
                dev->GetDropCount(EmuNicDrop(i));
        }
        for (const auto& [name, value] : (a ? t.stackA : t.stackB)->GetDropCounts())
        {
            run.drops[std::string(a ? "stackA." : "stackB.") + name] = value;
        }
    }
    km->Dispose();
    return run;
}

std::string
EventsText(const RekeyRun& run)
{
    std::ostringstream os;
    for (const auto& [kind, node, spi] : run.events)
    {
        os << kind << "@" << node << ":0x" << std::hex << spi << std::dec << " ";
    }
    return os.str();
}

using REKEY_MAKE_BEFORE_BREAK = SimulationTest<Case>;

// Zero loss both ways across at least two rekeys, no drop anywhere, and (differential) the same
// datagrams and the same key-manager event sequence as software IPsec. When the device's packet
// limits are polled, the 40 datagrams between soft and hard limit span two poll periods (a rekey
// within the bound beats the hard limit), and the expires may come in another order and number
// than software's, so only the delivered datagrams are compared.
TEST_P(REKEY_MAKE_BEFORE_BREAK, NoLossSameEventsAsSoftware)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const ExpireBound bound = BoundOf(c, Limit::Packets);
    const Time gap = bound.polled ? std::max(MicroSeconds(700),
                                             MicroSeconds(bound.period.GetMicroSeconds() / 20))
                                  : MicroSeconds(700);
    RecordEvidence("expireBound", bound.Describe());
    const RekeyRun run = RunRekey(c, c.mode, gap);
    Simulator::Destroy();
    RecordEvidence("rekeys", run.rekeys);
    RecordEvidence("kmEvents", EventsText(run));
    EXPECT_GE(run.rekeys, 2u);
    EXPECT_EQ(run.deliveredAB, run.sentAB) << "datagrams A->B lost or changed across rekeys";
    EXPECT_EQ(run.deliveredBA, run.sentBA) << "datagrams B->A lost or changed across rekeys";
    for (const auto& [name, value] : run.drops)
    {
        EXPECT_EQ(value, 0u) << name;
    }
    size_t hardExpires = 0;
    for (const auto& e : run.events)
    {
        hardExpires += std::get<0>(e) == "hard-expire" ? 1 : 0;
    }
    EXPECT_EQ(hardExpires, 0u) << "a rekey came too late: " << EventsText(run);
    if (c.mode != XfrmOffloadType::None)
    {
        const RekeyRun sw = RunRekey(c, XfrmOffloadType::None, gap);
        EXPECT_EQ(run.deliveredAB, sw.deliveredAB);
        if (!bound.polled)
        {
            EXPECT_EQ(run.rekeys, sw.rekeys);
            EXPECT_EQ(run.events, sw.events)
                << "\n"
                << DataPathName(c.mode) << ": " << EventsText(run) << "\nsw: " << EventsText(sw);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         REKEY_MAKE_BEFORE_BREAK,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
