// Conformance: time lifetimes (LFT-TIME-ADD, LFT-TIME-USE).
//
// Linux runs time limits in the core, not in the device: xfrm_timer_handler (x->mtimer, first
// run one second after the install) raises the soft expire once (km.dying) when a soft `add`
// or `use` limit has passed, and deletes the state with a hard expire when a hard one has. `add`
// counts from the install (curlft.add_time); `use` from the first packet (curlft.use_time, set
// by xfrm_state_check_expire). strongSwan 5.9.8 rekeys on the soft expire (its rekey_time) and
// lets the hard one (life_time) remove the SA.
//
// What the device adds is the use time of a packet-offloaded SA: the stack sees none of its
// packets, so the first use is when update_stats first shows a packet (the timer reads the
// device's counters, at least once a second until the first use). A device that reports no
// packets for an SA without byte or packet limits never starts the use time; one that reports
// packets the SA has not carried starts it too early. Both are caught here.
//
// Bounds: add limits fire within kSlack of the install plus the limit in every data path (the
// device plays no part); use limits within kSlack of the first packet plus the limit for the
// stack (software, crypto offload), within one second more in packet offload.

#include "conformance-case.h"

#include <gtest/gtest.h>

using namespace offloadtest;
using namespace conformance;

namespace
{

const Time kGap = MilliSeconds(100);
/// Room for a datagram's time on the links and for the timer's rounding to simulated time.
const Time kSlack = MilliSeconds(10);
/// How late a packet-offloaded SA may learn its first use: the stack reads its counters once a
/// second until then.
const Time kDeviceUseLag = Seconds(1);

enum class Side : uint8_t
{
    Outbound, //!< the limits are on the sender's outbound SA
    Inbound,  //!< the limits are on the receiver's inbound SA
};

const char*
SideName(Side side)
{
    return side == Side::Outbound ? "outbound" : "inbound";
}

struct ExpireEvent
{
    Ptr<XfrmState> x;
    bool hard{false};
    Time at;
};

struct TimeRun
{
    std::vector<ExpireEvent> events; //!< of both stacks
    Ptr<XfrmState> limited;
    Time added;               //!< the limited state's add time
    std::vector<Time> sentAt; //!< each datagram's send time
    std::vector<Bytes> sent;
    std::vector<Bytes> delivered;
    std::vector<Time> deliveredAt;
    size_t plaintextFromA{0};
    bool limitedStillInstalled{false};
};

/// Datagrams A->B `kGap` apart in [start, stop), limits on one SA of the A->B pair; records the
/// expire events both stacks raise and runs until `end`.
TimeRun
RunTime(const Case& c,
        Side side,
        const XfrmLifetimeConfig& lifetime,
        Time start,
        Time stop,
        Time end)
{
    TopologyOptions opt = OptionsOf(c);
    (side == Side::Outbound ? opt.lifetimeOutA : opt.lifetimeInB) = lifetime;
    auto t = BuildTestTopology(opt);
    EXPECT_TRUE(t->outA && t->inB);
    TimeRun run;
    run.limited = side == Side::Outbound ? t->outA : t->inB;
    if (!run.limited)
    {
        return run;
    }
    run.added = run.limited->GetCurrent().addTime;
    for (Ptr<XfrmStack> stack : {t->stackA, t->stackB})
    {
        stack->SetExpireCallback(XfrmStack::ExpireCallback([&run](Ptr<XfrmState> x, bool hard) {
            run.events.push_back(ExpireEvent{x, hard, Simulator::Now()});
        }));
    }
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    uint32_t i = 0;
    for (Time at = start; at < stop; at += kGap, ++i)
    {
        run.sent.push_back(DatagramPayload(i, 100));
        run.sentAt.push_back(at);
    }
    ScheduleDatagrams(sender, run.sent, start, kGap);
    RunUntil(end);
    run.delivered = sink->received;
    run.deliveredAt = sink->receivedAt;
    for (const WirePacket* w : wire->From(true))
    {
        if (IpProtocol(w->ip) != kProtoEsp)
        {
            ++run.plaintextFromA;
        }
    }
    Ptr<XfrmStack> owner = side == Side::Outbound ? t->stackA : t->stackB;
    run.limitedStillInstalled =
        owner->FindState(run.limited->GetConfig().daddr, run.limited->GetSpi()) == run.limited;
    for (Ptr<XfrmStack> stack : {t->stackA, t->stackB})
    {
        stack->SetExpireCallback(XfrmStack::ExpireCallback());
    }
    return run;
}

/// Exactly `expected` expires of one kind, all for the limited SA, in [lo, hi); returns the
/// time of the last one.
Time
ExpectExpires(const TimeRun& run, bool hard, uint32_t expected, Time lo, Time hi)
{
    const char* kind = hard ? "hard" : "soft";
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
        EXPECT_GE(e.at, lo) << kind << " expire at " << e.at.As(Time::MS) << ", before "
                            << lo.As(Time::MS);
        EXPECT_LT(e.at, hi) << kind << " expire at " << e.at.As(Time::MS) << ", not before "
                            << hi.As(Time::MS);
    }
    EXPECT_EQ(count, expected) << "number of " << kind << " expires";
    RecordEvidence(std::string(kind) + "Expires", count);
    if (count > 0)
    {
        RecordEvidence(std::string(kind) + "ExpireMs", uint64_t(last.GetMilliSeconds()));
    }
    return last;
}

/// After a hard expire at `hardAt`: what was sent before it arrived, nothing sent after it did
/// (the state is gone), nothing left A in plaintext, and the state is no longer installed.
void
ExpectStoppedAt(const TimeRun& run, Time hardAt)
{
    ASSERT_FALSE(run.delivered.empty()) << "nothing was delivered before the hard expire";
    for (size_t i = 0; i < run.delivered.size(); ++i)
    {
        EXPECT_EQ(run.delivered[i], run.sent[i]) << "datagram " << i;
    }
    size_t sentBefore = 0;
    while (sentBefore < run.sentAt.size() && run.sentAt[sentBefore] + kSlack < hardAt)
    {
        ++sentBefore;
    }
    EXPECT_GE(run.delivered.size(), sentBefore)
        << "a datagram sent before the hard expire was lost";
    for (Time at : run.deliveredAt)
    {
        EXPECT_LT(at, hardAt + kSlack) << "a datagram was delivered after the hard expire";
    }
    EXPECT_LT(run.delivered.size(), run.sent.size()) << "traffic went on after the hard expire";
    EXPECT_EQ(run.plaintextFromA, 0u) << "traffic of an expired SA left in plaintext";
    EXPECT_FALSE(run.limitedStillInstalled) << "the hard-expired state is still installed";
    RecordEvidence("delivered", run.delivered.size());
}

/// When the limited SA is first used: the first datagram's send time on the sender, its
/// arrival (within kSlack) on the receiver.
Time
FirstUse(const TimeRun& run)
{
    return run.sentAt.empty() ? Time::Max() : run.sentAt.front();
}

/// How late the use time may start after the first packet, by data path.
Time
UseLag(const Case& c)
{
    return kSlack + (c.mode == XfrmOffloadType::Packet ? kDeviceUseLag : Time(0));
}

std::vector<Case>
TimeCases()
{
    return Cases({XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                 {Alg::Gcm128});
}

// ---- LFT-TIME-ADD ----

/// Soft add 2 s: one soft expire 2 s after the install, the SA keeps carrying traffic.
void
CheckSoftAdd(const Case& c, Side side)
{
    XfrmLifetimeConfig l;
    l.softAddSeconds = 2;
    const TimeRun run = RunTime(c, side, l, Seconds(1), Seconds(4), Seconds(5));
    RecordEvidence("side", SideName(side));
    ExpectExpires(run, false, 1, run.added + Seconds(2), run.added + Seconds(2) + kSlack);
    ExpectExpires(run, true, 0, Time(0), Time::Max());
    EXPECT_EQ(run.delivered, run.sent) << "a soft expire must not stop traffic";
    EXPECT_TRUE(run.limitedStillInstalled);
}

/// Soft add 2 s, hard add 3 s: one soft, then one hard expire 3 s after the install; the state
/// is deleted and its traffic stops.
void
CheckHardAdd(const Case& c, Side side)
{
    XfrmLifetimeConfig l;
    l.softAddSeconds = 2;
    l.hardAddSeconds = 3;
    const TimeRun run = RunTime(c, side, l, Seconds(1), Seconds(4.5), Seconds(5));
    RecordEvidence("side", SideName(side));
    ExpectExpires(run, false, 1, run.added + Seconds(2), run.added + Seconds(2) + kSlack);
    const Time hardAt =
        ExpectExpires(run, true, 1, run.added + Seconds(3), run.added + Seconds(3) + kSlack);
    ExpectStoppedAt(run, hardAt);
}

using LFT_TIME_ADD = SimulationTest<Case>;

TEST_P(LFT_TIME_ADD, SoftOutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoftAdd(GetParam(), Side::Outbound);
}

TEST_P(LFT_TIME_ADD, SoftInboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoftAdd(GetParam(), Side::Inbound);
}

TEST_P(LFT_TIME_ADD, HardOutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHardAdd(GetParam(), Side::Outbound);
}

TEST_P(LFT_TIME_ADD, HardInboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHardAdd(GetParam(), Side::Inbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_TIME_ADD, testing::ValuesIn(TimeCases()), CaseName);

// ---- LFT-TIME-USE ----

/// Traffic from 2.5 s (after the timer's first run); soft use 2 s: one soft expire 2 s after
/// the first packet (plus the data path's lag), not before.
void
CheckSoftUse(const Case& c, Side side)
{
    XfrmLifetimeConfig l;
    l.softUseSeconds = 2;
    const TimeRun run = RunTime(c, side, l, Seconds(2.5), Seconds(6.5), Seconds(7));
    RecordEvidence("side", SideName(side));
    const Time lo = FirstUse(run) + Seconds(2);
    ExpectExpires(run, false, 1, lo, lo + UseLag(c));
    ExpectExpires(run, true, 0, Time(0), Time::Max());
    EXPECT_EQ(run.delivered, run.sent) << "a soft expire must not stop traffic";
}

/// Soft use 1 s, hard use 2 s from the first packet: one soft, one hard expire, then the state
/// is deleted and its traffic stops.
void
CheckHardUse(const Case& c, Side side)
{
    XfrmLifetimeConfig l;
    l.softUseSeconds = 1;
    l.hardUseSeconds = 2;
    const TimeRun run = RunTime(c, side, l, Seconds(2.5), Seconds(6.5), Seconds(7));
    RecordEvidence("side", SideName(side));
    const Time first = FirstUse(run);
    ExpectExpires(run, false, 1, first + Seconds(1), first + Seconds(1) + UseLag(c));
    const Time hardAt =
        ExpectExpires(run, true, 1, first + Seconds(2), first + Seconds(2) + UseLag(c));
    ExpectStoppedAt(run, hardAt);
}

/// An SA that carries nothing never reaches a use limit (the timer keeps counting from now).
void
CheckNeverUsed(const Case& c, Side side)
{
    XfrmLifetimeConfig l;
    l.softUseSeconds = 1;
    l.hardUseSeconds = 2;
    const TimeRun run = RunTime(c, side, l, Seconds(1), Seconds(1), Seconds(6));
    RecordEvidence("side", SideName(side));
    ExpectExpires(run, false, 0, Time(0), Time::Max());
    ExpectExpires(run, true, 0, Time(0), Time::Max());
    EXPECT_TRUE(run.limitedStillInstalled) << "an unused SA was removed by its use limit";
    if (run.limited)
    {
        EXPECT_FALSE(run.limited->GetCurrent().used) << "the use time started without traffic";
    }
}

using LFT_TIME_USE = SimulationTest<Case>;

TEST_P(LFT_TIME_USE, SoftOutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoftUse(GetParam(), Side::Outbound);
}

TEST_P(LFT_TIME_USE, SoftInboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckSoftUse(GetParam(), Side::Inbound);
}

TEST_P(LFT_TIME_USE, HardOutboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHardUse(GetParam(), Side::Outbound);
}

TEST_P(LFT_TIME_USE, HardInboundSa)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckHardUse(GetParam(), Side::Inbound);
}

TEST_P(LFT_TIME_USE, UnusedSaNeverExpires)
{
    CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
    CheckNeverUsed(GetParam(), Side::Outbound);
}

INSTANTIATE_TEST_SUITE_P(, LFT_TIME_USE, testing::ValuesIn(TimeCases()), CaseName);

} // namespace
