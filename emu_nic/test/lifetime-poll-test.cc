// The host's side of OLAB_LIFETIME_POLLED: for a packet-offloaded SA with a limit its device
// reports polled, the NIC polls every lifetime_poll_ms (the stack reads update_stats and checks
// the limits, as mlx5's once-a-second mlx5e_ipsec_handle_sw_limits calls
// xfrm_state_check_expire), so soft and hard expire come once each within one period of the
// crossing, and the polls stop with the state. The device is the reference engine declaring
// both limits polled, with its own check_expire calls silenced: only the host's polls report.

#include "builtin-offload-device.h"
#include "offload-device-type.h"
#include "reference-offload-engine.h"
#include "simulation-test.h"

#include "ns3/config.h"
#include "ns3/string.h"

#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

constexpr uint32_t kPollMs = 100;

void
IgnoreCheckExpire(void*, uint64_t)
{
}

std::unique_ptr<BuiltinOffloadDevice>
CreatePolledReference(const olab_host& host, const olab_config& config, std::string* error)
{
    olab_host silent = host;
    silent.check_expire = &IgnoreCheckExpire;
    return ReferenceOffloadEngine::Create(silent, config, error);
}

const olab_capabilities*
PolledCapabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.name = "polled-reference";
        c.description = "the reference with polled lifetimes and a silent check_expire (test)";
        c.lifetime_packets = OLAB_LIFETIME_POLLED;
        c.lifetime_bytes = OLAB_LIFETIME_POLLED;
        c.lifetime_poll_ms = kPollMs;
        return c;
    }();
    return &caps;
}

const OffloadDeviceRegistration g_polled(
    "test:polled-reference",
    BuiltinDeviceOps<&PolledCapabilities, &CreatePolledReference>(),
    900);

enum class Limit : uint8_t
{
    Packets,
    Bytes,
};

struct Expire
{
    bool hard;
    Time at;
};

constexpr uint32_t kPayload = 100;
constexpr uint64_t kCounted = 8 + kPayload; // the UDP segment, as Linux counts transport mode

/// Soft limit reached by datagram 5, hard by datagram 10 (of 40, 20 ms apart from 1 s), on A's
/// outbound packet-offload SA behind `device`.
struct PollRun
{
    std::unique_ptr<Topology> t;
    std::vector<Expire> expires;
    size_t delivered{0};
    uint64_t pollsAtEnd{0};
};

PollRun
RunPolled(const std::string& device, Limit limit, XfrmOffloadType mode = XfrmOffloadType::Packet)
{
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue(device));
    TopologyOptions opt;
    opt.mode = mode;
    if (limit == Limit::Packets)
    {
        opt.lifetimeOutA.softPacketLimit = 5;
        opt.lifetimeOutA.hardPacketLimit = 10;
    }
    else
    {
        opt.lifetimeOutA.softByteLimit = 5 * kCounted;
        opt.lifetimeOutA.hardByteLimit = 10 * kCounted;
    }
    PollRun run;
    run.t = BuildTestTopology(opt);
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("reference"));
    EXPECT_TRUE(run.t->outA);
    run.t->stackA->SetExpireCallback(XfrmStack::ExpireCallback([&run](Ptr<XfrmState> x, bool hard) {
        run.expires.push_back(Expire{hard, Simulator::Now()});
    }));
    auto sink = InstallUdpSink(run.t->hostB);
    auto sender = InstallUdpSender(run.t->hostA, run.t->hostAddrB);
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < 40; ++i)
    {
        payloads.push_back(DatagramPayload(i, kPayload));
    }
    ScheduleDatagrams(sender, payloads, Seconds(1), MilliSeconds(20));
    RunUntil(Seconds(3));
    run.t->stackA->SetExpireCallback(XfrmStack::ExpireCallback());
    run.delivered = sink->received.size();
    run.pollsAtEnd = Counter(run.t->devA, "LifetimePoll");
    return run;
}

using LifetimePollTest = SimulationTest<Limit>;

TEST_P(LifetimePollTest, SoftAndHardComeFromThePollWithinOnePeriod)
{
    const PollRun run = RunPolled("test:polled-reference", GetParam());
    ASSERT_EQ(run.expires.size(), 2u) << "one soft, then one hard expire";
    EXPECT_FALSE(run.expires[0].hard);
    EXPECT_TRUE(run.expires[1].hard);
    // Datagram n leaves at 1 s + 20 ms * (n - 1); the poll that sees it is at most 100 ms later.
    const Time softReached = Seconds(1) + MilliSeconds(20 * 4);
    const Time hardReached = Seconds(1) + MilliSeconds(20 * 9);
    EXPECT_GE(run.expires[0].at, softReached);
    EXPECT_LE(run.expires[0].at, softReached + MilliSeconds(kPollMs) + MilliSeconds(1));
    EXPECT_GE(run.expires[1].at, hardReached);
    EXPECT_LE(run.expires[1].at, hardReached + MilliSeconds(kPollMs) + MilliSeconds(1));
    // Polls run on the simulator's clock from state_add (at 0): on multiples of the period.
    for (const Expire& e : run.expires)
    {
        EXPECT_EQ(e.at.GetMilliSeconds() % kPollMs, 0) << e.at.As(Time::MS);
    }
    // Traffic stops once the hard expire deleted the state: the datagrams sent after it died.
    const size_t sentBeforeHard = (run.expires[1].at - Seconds(1)).GetMilliSeconds() / 20 + 1;
    EXPECT_GE(run.delivered, 10u);
    EXPECT_LE(run.delivered, sentBeforeHard);
    EXPECT_FALSE(run.t->stackA->FindState(run.t->outA->GetConfig().daddr, run.t->outA->GetSpi()));
    // Polled from state_add until the hard expire deleted the state, then never again.
    EXPECT_EQ(run.pollsAtEnd, uint64_t(run.expires[1].at.GetMilliSeconds() / kPollMs));
}

INSTANTIATE_TEST_SUITE_P(Limits,
                         LifetimePollTest,
                         testing::Values(Limit::Packets, Limit::Bytes),
                         [](const testing::TestParamInfo<Limit>& info) {
                             return std::string(info.param == Limit::Packets ? "packets" : "bytes");
                         });

using LifetimeNoPollTest = SimulationTest<XfrmOffloadType>;

// The host polls only what the device declares polled, and only packet offload: an exact device
// (the reference) and crypto offload (the stack counts) see no poll.
TEST_P(LifetimeNoPollTest, OnlyPolledPacketOffloadLimitsArePolled)
{
    const XfrmOffloadType mode = GetParam();
    const std::string device =
        mode == XfrmOffloadType::Crypto ? "test:polled-reference" : "reference";
    const PollRun run = RunPolled(device, Limit::Packets, mode);
    EXPECT_EQ(run.pollsAtEnd, 0u);
    ASSERT_EQ(run.expires.size(), 2u);
    // Check before count, exactly: soft with datagram 6, hard with datagram 11.
    for (const Expire& e : run.expires)
    {
        const Time sent = Seconds(1) + MilliSeconds(20 * (e.hard ? 10 : 5));
        EXPECT_GE(e.at, sent);
        EXPECT_LT(e.at, sent + MilliSeconds(1));
    }
    EXPECT_EQ(run.delivered, 10u);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         LifetimeNoPollTest,
                         testing::Values(XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
                         DataPathOnly);

// No finite limit, nothing to watch: no poll even on a polled device.
TEST(LifetimePollNoLimits, NoPoll)
{
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("test:polled-reference"));
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    auto t = BuildTestTopology(opt);
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("reference"));
    ASSERT_TRUE(t->outA);
    RunUntil(Seconds(2));
    EXPECT_EQ(Counter(t->devA, "LifetimePoll"), 0u);
    EXPECT_EQ(Counter(t->devB, "LifetimePoll"), 0u);
    Simulator::Destroy();
}

} // namespace
