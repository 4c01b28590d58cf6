// Time lifetimes in the core (Linux's xfrm_timer_handler) and the key manager's rekey on a soft
// time expire: the timer's first run one second after the install, soft once and hard deletes,
// use time from the first packet, a deleted state's timer stopped, and a key-manager connection
// with only time limits rekeying make-before-break, again and again, without losing a datagram.

#include "ipsec-key-manager.h"
#include "simulation-test.h"

#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

struct Expire
{
    Ptr<XfrmState> x;
    bool hard;
    Time at;
};

/// Subscribes to both stacks' expires.
std::shared_ptr<std::vector<Expire>>
RecordExpires(const Topology& t)
{
    auto expires = std::make_shared<std::vector<Expire>>();
    for (Ptr<XfrmStack> stack : {t.stackA, t.stackB})
    {
        stack->SetExpireCallback(XfrmStack::ExpireCallback([expires](Ptr<XfrmState> x, bool hard) {
            expires->push_back(Expire{x, hard, Simulator::Now()});
        }));
    }
    return expires;
}

// Linux checks no limit against another (verify_newsa_info): a soft limit above the hard one is
// taken, and the hard one simply comes first. charon sends that whenever a CHILD_SA has a hard
// byte limit and no rekey_bytes (soft infinite).
TEST(TimeLifetimeConfigTest, SoftAboveHardIsTakenAndOnlyTheHardFires)
{
    TopologyOptions opt;
    opt.installIpsec = false;
    auto t = BuildTopology(opt);
    auto expires = RecordExpires(*t);
    XfrmStateConfig c = t->SaConfig(true, true, XfrmOffloadType::None);
    std::string error;
    c.lifetime.softAddSeconds = 5;
    c.lifetime.hardAddSeconds = 4;
    ASSERT_TRUE(t->stackA->AddState(c, &error)) << error;
    Simulator::Stop(Seconds(7));
    Simulator::Run();
    ASSERT_EQ(expires->size(), 1u);
    EXPECT_TRUE((*expires)[0].hard);
    c.lifetime = XfrmLifetimeConfig{};
    c.lifetime.hardByteLimit = 1500000; // soft stays infinite
    c.lifetime.softUseSeconds = 9;
    c.lifetime.hardUseSeconds = 3;
    EXPECT_TRUE(t->stackA->AddState(c, &error)) << error;
    Simulator::Destroy();
}

using TimeLifetimeTest = SimulationTest<XfrmOffloadType>;

// The timer first runs one second after the install (Linux's __xfrm_state_insert), so a 1 s
// soft add limit fires then, and a hard one at its time; the key manager hears each once.
TEST_P(TimeLifetimeTest, AddLimitsFireAtTheirTimeFromTheInstall)
{
    TopologyOptions opt;
    opt.mode = GetParam();
    opt.lifetimeOutA.softAddSeconds = 1;
    opt.lifetimeOutA.hardAddSeconds = 3;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA);
    const Time added = t->outA->GetCurrent().addTime;
    auto expires = RecordExpires(*t);
    RunUntil(Seconds(5));
    ASSERT_EQ(expires->size(), 2u);
    EXPECT_EQ((*expires)[0].x, t->outA);
    EXPECT_FALSE((*expires)[0].hard);
    EXPECT_EQ((*expires)[0].at, added + Seconds(1));
    EXPECT_TRUE((*expires)[1].hard);
    EXPECT_EQ((*expires)[1].at, added + Seconds(3));
    EXPECT_FALSE(t->stackA->FindState(t->outA->GetConfig().daddr, t->outA->GetSpi()))
        << "a hard add expire deletes the state";
    if (GetParam() != XfrmOffloadType::None)
    {
        EXPECT_GE(Counter(t->devA, "StateDelete"), 1u) << "the device must be told";
    }
}

// Use limits count from the first packet; until then the timer keeps re-arming.
TEST_P(TimeLifetimeTest, UseLimitCountsFromTheFirstPacket)
{
    TopologyOptions opt;
    opt.mode = GetParam();
    opt.lifetimeOutA.softUseSeconds = 2;
    auto [t, wire, sink, sender] = BuildUdpRig(opt);
    ASSERT_TRUE(t->outA);
    auto expires = RecordExpires(*t);
    ScheduleDatagram(sender, Seconds(3.25), DatagramPayload(0, 100));
    RunUntil(Seconds(4));
    EXPECT_TRUE(expires->empty()) << "a use limit fired before 2 s of use";
    ASSERT_TRUE(t->outA->GetCurrent().used || GetParam() == XfrmOffloadType::Packet);
    RunTo(Seconds(7));
    ASSERT_EQ(expires->size(), 1u);
    EXPECT_FALSE((*expires)[0].hard);
    ASSERT_TRUE(t->outA->GetCurrent().used);
    if (GetParam() == XfrmOffloadType::Packet)
    {
        // The core learns the first use when it next reads the device's counters: at its
        // once-a-second timer, so after the packet and less than a second later.
        EXPECT_GT(t->outA->GetCurrent().useTime, Seconds(3.25));
        EXPECT_LT(t->outA->GetCurrent().useTime, Seconds(4.25));
    }
    else
    {
        EXPECT_EQ(t->outA->GetCurrent().useTime, Seconds(3.25));
    }
    EXPECT_EQ((*expires)[0].at, t->outA->GetCurrent().useTime + Seconds(2));
    EXPECT_EQ(sink->received.size(), 1u);
}

// A state deleted before its limit raises nothing: its timer goes with it.
TEST_P(TimeLifetimeTest, DeletedStateRaisesNoTimeExpire)
{
    TopologyOptions opt;
    opt.mode = GetParam();
    opt.lifetimeOutA.softAddSeconds = 2;
    opt.lifetimeOutA.hardAddSeconds = 3;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA);
    auto expires = RecordExpires(*t);
    Simulator::Schedule(Seconds(1.5), [&t]() {
        EXPECT_TRUE(t->stackA->DeleteState(t->outA->GetConfig().daddr, t->outA->GetSpi()));
    });
    RunUntil(Seconds(5));
    EXPECT_TRUE(expires->empty());
}

INSTANTIATE_TEST_SUITE_P(,
                         TimeLifetimeTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

using KeyManagerTimeRekeyTest = SimulationTest<PathParam>;

// strongSwan's rekey_time / life_time as soft / hard add limits: every CHILD_SA soft-expires one
// second after its install and is replaced before its hard limit, so a steady UDP stream
// crosses three rekeys without a loss and no SA reaches its hard limit.
TEST_P(KeyManagerTimeRekeyTest, RekeysOnEverySoftTimeExpireWithoutLoss)
{
    const PathParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.ipMode = param.ipMode;
    opt.installIpsec = false;
    auto [t, wire, sink, sender] = BuildUdpRig(opt);
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(7);
    IpsecConnectionConfig conn = TestConnection(*t, param.mode, "timed");
    conn.lifetime.softAddSeconds = 1;
    conn.lifetime.hardAddSeconds = 2;
    std::string error;
    ASSERT_TRUE(km->AddConnection(conn, &error)) << error;
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 80; ++i)
    {
        sent.push_back(DatagramPayload(i, 200));
    }
    ScheduleDatagrams(sender, sent, Seconds(0.1), MilliSeconds(45));
    RunUntil(Seconds(4.1));
    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    EXPECT_GE(km->GetRekeyCount(), 3u);
    uint32_t soft = 0;
    for (const IpsecKmEvent& e : km->GetEvents())
    {
        EXPECT_NE(e.kind, "hard-expire") << "an SA reached its life time at " << e.time.As(Time::S);
        soft += e.kind == "soft-expire";
    }
    EXPECT_GE(soft, 3u);
    for (const WirePacket* w : wire->From(true))
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp);
    }
}

INSTANTIATE_TEST_SUITE_P(, KeyManagerTimeRekeyTest, testing::ValuesIn(AllPaths()), PathName);

} // namespace
