// Conformance: SA lifetimes, the counters behind them, and rekeying.
//
// Soft and hard limits by packets and by bytes, on the sender's outbound SA and on the
// receiver's inbound SA (LFT-*): exactly one soft and one hard expire reach the stack's key
// manager subscription, at the packet Linux's xfrm_state_check_expire names, and the packet at
// the hard limit is refused. In packet offload the device counts and starts the expire check
// itself (LFT-DEVICE-COUNTS), and update_stats reports exactly what was carried
// (STATS-UPDATE-EXACT, ALLOW-OFFLOAD-COUNTERS). The key manager rekeys make-before-break without
// losing a datagram, with the same events in every mode (REKEY-MAKE-BEFORE-BREAK).

#include "conformance-case.h"
#include "ipsec-key-manager.h"

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
};

/// Sends kSent datagrams A->B, kGap apart, with the limits on one SA; records the expire events
/// both stacks raise (what a key manager would hear).
LifetimeRun
RunLifetime(const Case& c, Side side, const XfrmLifetimeConfig& lifetime)
{
    TopologyOptions opt = OptionsOf(c);
    (side == Side::Outbound ? opt.lifetimeOutA : opt.lifetimeInB) = lifetime;
    auto t = BuildTestTopology(opt);
    EXPECT_TRUE(t->outA && t->inB);
    LifetimeRun run;
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
    ScheduleDatagrams(sender, run.sent, kStart, kGap);
    RunUntil(kStart + kGap * kSent + Seconds(1));
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

/// Checks that exactly `expected` expires of one kind arrived, all for the limited SA, while
/// datagram `index` (0-based) was on its way.
void
ExpectExpires(const LifetimeRun& run, bool hard, uint32_t expected, uint32_t index)
{
    const char* kind = hard ? "hard" : "soft";
    uint32_t count = 0;
    for (const ExpireEvent& e : run.events)
    {
        if (e.hard != hard)
        {
            continue;
        }
        ++count;
        EXPECT_EQ(e.x, run.limited) << kind << " expire for another SA";
        const Time lo = kStart + kGap * index;
        EXPECT_GE(e.at, lo) << kind << " expire before datagram " << index << " was sent";
        EXPECT_LT(e.at, lo + kGap) << kind << " expire later than datagram " << index;
    }
    EXPECT_EQ(count, expected) << "number of " << kind << " expires";
    RecordEvidence(std::string(kind) + "Expires", count);
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

/// Soft limit: the SA keeps working, one soft expire when the first datagram after the limit
/// is processed, no hard expire.
void
CheckSoft(const Case& c, Limit limit, Side side)
{
    const LifetimeRun run = RunLifetime(c, side, SoftOnly(limit, c.ipMode));
    EXPECT_EQ(run.delivered, run.sent) << "a soft expire must not stop traffic";
    ExpectExpires(run, false, 1, kSoftAt);
    ExpectExpires(run, true, 0, 0);
    EXPECT_EQ(run.plaintextFromA, 0u);
}

/// Hard limit: the datagrams below it pass, the one at it and all after are refused; one soft
/// and one hard expire, each at its datagram; nothing leaks in plaintext.
void
CheckHard(const Case& c, Limit limit, Side side)
{
    const LifetimeRun run = RunLifetime(c, side, SoftAndHard(limit, c.ipMode));
    RecordEvidence("delivered", run.delivered.size());
    ASSERT_EQ(run.delivered.size(), kHardAt)
        << "exactly the datagrams below the hard limit pass; the one at the limit is refused";
    for (uint32_t i = 0; i < kHardAt; ++i)
    {
        EXPECT_EQ(run.delivered[i], run.sent[i]) << "datagram " << i;
    }
    ExpectExpires(run, false, 1, kSoftAt);
    ExpectExpires(run, true, 1, kHardAt);
    EXPECT_EQ(run.plaintextFromA, 0u) << "traffic of an expired SA left in plaintext";
    if (side == Side::Outbound)
    {
        EXPECT_EQ(run.espFromA, kHardAt) << "the sender must not send past the hard limit";
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

/// Schedules n datagrams from one side, sizes from seed; returns the bytes a lifetime counts
/// for them (CountedLength).
uint64_t
SendBurst(TwoWayTraffic& w, bool fromA, uint32_t n, uint32_t seed, Time start)
{
    std::vector<Bytes> payloads;
    uint64_t bytes = 0;
    const XfrmMode ipMode = w.t->Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    for (uint32_t i = 0; i < n; ++i)
    {
        payloads.push_back(DatagramPayload(seed + i, 1 + (seed * 7 + i * 211) % 1300));
        bytes += CountedLength(ipMode, payloads.back().size());
    }
    ScheduleDatagrams(fromA ? w.senderA : w.senderB, payloads, start, MicroSeconds(700));
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

// The device keeps one count per SA (both directions, both ends) and raises the expire check on
// its own: the soft expire arrives though nobody asked the device for its counters.
TEST_P(LFT_DEVICE_COUNTS, PerSaCountsAndOwnExpireCheck)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
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
    RunUntil(Seconds(2));
    ASSERT_EQ(w.sinkB->received, w.sentAB);
    ASSERT_EQ(w.sinkA->received, w.sentBA);

    ASSERT_EQ(events.size(), 1u) << "the device must start the expire check itself";
    EXPECT_EQ(events[0].x, t.outA);
    EXPECT_FALSE(events[0].hard);
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
/// continuously, across several rekeys.
RekeyRun
RunRekey(const Case& c, XfrmOffloadType mode)
{
    TopologyOptions opt = OptionsOf(c);
    opt.mode = mode;
    opt.installIpsec = false;
    TwoWayTraffic w = BuildTwoWay(opt);
    Topology& t = *w.t;
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(42);
    IpsecConnectionConfig conn;
    conn.name = "conformance";
    const bool tunnel = t.Tunnel();
    conn.left = IpsecPeerConfig{t.endA,
                                t.endAddrA,
                                tunnel ? t.netA : t.hostAddrA,
                                uint8_t(tunnel ? 24 : 32),
                                t.devA,
                                mode};
    conn.right = IpsecPeerConfig{t.endB,
                                 t.endAddrB,
                                 tunnel ? t.netB : t.hostAddrB,
                                 uint8_t(tunnel ? 24 : 32),
                                 t.devB,
                                 mode};
    conn.mode = tunnel ? XfrmMode::Tunnel : XfrmMode::Transport;
    conn.keyBits = c.alg == Alg::Gcm256 ? 256 : 128;
    conn.replayWindow = 64;
    conn.esn = c.esn;
    conn.lifetime.softPacketLimit = 40;
    conn.lifetime.hardPacketLimit = 80;
    std::string error;
    EXPECT_TRUE(km->AddConnection(conn, &error)) << error;

    SendBurst(w, true, 150, 1, Seconds(1));
    SendBurst(w, false, 60, 500, Seconds(1.0003));
    RunUntil(Seconds(2));

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
// datagrams and the same key-manager event sequence as software IPsec.
TEST_P(REKEY_MAKE_BEFORE_BREAK, NoLossSameEventsAsSoftware)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const RekeyRun run = RunRekey(c, c.mode);
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
        const RekeyRun sw = RunRekey(c, XfrmOffloadType::None);
        EXPECT_EQ(run.rekeys, sw.rekeys);
        EXPECT_EQ(run.events, sw.events)
            << "\n"
            << DataPathName(c.mode) << ": " << EventsText(run) << "\nsw: " << EventsText(sw);
        EXPECT_EQ(run.deliveredAB, sw.deliveredAB);
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         REKEY_MAKE_BEFORE_BREAK,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
