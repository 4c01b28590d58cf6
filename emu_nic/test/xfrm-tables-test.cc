// SAD, SPD and the NIC's SA table: the selection and ordering rules, table-driven.
#include "reference-sa-table.h"
#include "xfrm-state-table.h"

#include <gtest/gtest.h>

using namespace ns3;

namespace
{
EspAlgorithm
Gcm128()
{
    return EspAlgorithm::Gcm(std::vector<uint8_t>(20, 0x42));
}

Ptr<XfrmState>
MakeState(uint32_t spi, XfrmMode mode = XfrmMode::Transport, uint32_t reqid = 1)
{
    XfrmStateConfig c;
    c.saddr = Ipv4Address("10.0.0.1");
    c.daddr = Ipv4Address("10.0.0.2");
    c.spi = spi;
    c.mode = mode;
    c.reqid = reqid;
    c.algorithm = Gcm128();
    std::string error;
    auto transform = EspTransform::Create(c.algorithm, &error);
    EXPECT_TRUE(transform) << error;
    return Create<XfrmState>(c, std::move(transform));
}

Ptr<XfrmPolicy>
MakePolicy(uint32_t priority, bool hardware, XfrmDir dir = XfrmDir::Out, uint32_t reqid = 1)
{
    XfrmPolicyConfig c;
    c.sel = XfrmSelector::Hosts(Ipv4Address("10.0.0.1"), Ipv4Address("10.0.0.2"));
    c.dir = dir;
    c.priority = priority;
    c.tmpl.reqid = reqid;
    c.offloadType = hardware ? XfrmOffloadType::Packet : XfrmOffloadType::None;
    return Create<XfrmPolicy>(c);
}

const XfrmFlow kFlow{Ipv4Address("10.0.0.1"), Ipv4Address("10.0.0.2"), 17, 1000, 2000};
} // namespace

struct SelectorCase
{
    const char* name;
    XfrmSelector sel;
    bool matches;
};

void
PrintTo(const SelectorCase& param, std::ostream* os)
{
    *os << param.name;
}

class SelectorTest : public ::testing::TestWithParam<SelectorCase>
{
};

TEST_P(SelectorTest, MatchesTheFlowOrNot)
{
    EXPECT_EQ(GetParam().sel.Matches(kFlow), GetParam().matches) << GetParam().sel.ToString();
}

XfrmSelector
WithPorts(XfrmSelector s, uint8_t proto, uint16_t sport, uint16_t dport)
{
    s.proto = proto;
    s.sport = sport;
    s.dport = dport;
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table,
    SelectorTest,
    ::testing::Values(
        SelectorCase{"AnyAny", XfrmSelector(), true},
        SelectorCase{"Hosts",
                     XfrmSelector::Hosts(Ipv4Address("10.0.0.1"), Ipv4Address("10.0.0.2")),
                     true},
        SelectorCase{"HostsReversed",
                     XfrmSelector::Hosts(Ipv4Address("10.0.0.2"), Ipv4Address("10.0.0.1")),
                     false},
        SelectorCase{
            "Subnets24",
            XfrmSelector::Subnets(Ipv4Address("10.0.0.0"), 24, Ipv4Address("10.0.0.0"), 24),
            true},
        SelectorCase{
            "OtherSubnet",
            XfrmSelector::Subnets(Ipv4Address("10.0.1.0"), 24, Ipv4Address("10.0.0.0"), 24),
            false},
        SelectorCase{"Udp", WithPorts(XfrmSelector(), 17, 0, 0), true},
        SelectorCase{"Tcp", WithPorts(XfrmSelector(), 6, 0, 0), false},
        SelectorCase{"Ports", WithPorts(XfrmSelector(), 17, 1000, 2000), true},
        SelectorCase{"WrongDport", WithPorts(XfrmSelector(), 17, 1000, 2001), false}),
    [](const auto& info) { return std::string(info.param.name); });

// Linux's xfrm_policy_insert_list: an offloaded policy enters at the head of its list; a
// software one after the last policy that is not worse, or at the head.
TEST(XfrmPolicyTableTest, HardwareEntersAtTheHeadLaterBetterSoftwareGoesFirst)
{
    XfrmPolicyTable spd;
    Ptr<XfrmPolicy> sw = MakePolicy(5, false);
    Ptr<XfrmPolicy> hw = MakePolicy(1000, true);
    spd.Add(sw);
    spd.Add(hw);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), hw) << "hardware at the head, whatever priority";
    Ptr<XfrmPolicy> later = MakePolicy(0, false);
    spd.Add(later);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), later) << "none is at or below 0: the head";
    Ptr<XfrmPolicy> worse = MakePolicy(2000, false);
    spd.Add(worse);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), later);
    ASSERT_TRUE(spd.Remove(later));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), hw);
    ASSERT_TRUE(spd.Remove(hw));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), sw);
    EXPECT_FALSE(spd.Remove(hw));
}

// xfrm_policy_lookup_bytype: the exact match unless a prefix policy is strictly better.
TEST(XfrmPolicyTableTest, PriorityDecidesBetweenExactAndPrefixPolicies)
{
    auto subnet = [](uint32_t priority, bool hardware) {
        XfrmPolicyConfig c = MakePolicy(priority, hardware)->GetConfig();
        c.sel = XfrmSelector::Subnets(Ipv4Address("10.0.0.0"), 24, Ipv4Address("10.0.0.0"), 24);
        return Create<XfrmPolicy>(c);
    };
    XfrmPolicyTable spd;
    Ptr<XfrmPolicy> exact = MakePolicy(10, true);
    Ptr<XfrmPolicy> equal = subnet(10, false);
    spd.Add(exact);
    spd.Add(equal);
    EXPECT_TRUE(XfrmPolicyTable::IsExact(exact->GetConfig().sel));
    EXPECT_FALSE(XfrmPolicyTable::IsExact(equal->GetConfig().sel));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), exact) << "a tie goes to the exact policy";
    Ptr<XfrmPolicy> better = subnet(5, false);
    spd.Add(better);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), better) << "hardware does not override priority";
    EXPECT_EQ(spd.FindBySelector(XfrmDir::Out, better->GetConfig().sel), better);
    EXPECT_EQ(spd.FindBySelector(XfrmDir::In, better->GetConfig().sel), nullptr);
    EXPECT_EQ(spd.GetN(), 3u);
}

TEST(XfrmPolicyTableTest, LowerPriorityValueWinsThenTheOlder)
{
    XfrmPolicyTable spd;
    Ptr<XfrmPolicy> p200 = MakePolicy(200, false);
    Ptr<XfrmPolicy> p100a = MakePolicy(100, false);
    Ptr<XfrmPolicy> p100b = MakePolicy(100, false);
    spd.Add(p200);
    spd.Add(p100a);
    spd.Add(p100b);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), p100a);
    EXPECT_EQ(spd.Lookup(XfrmDir::In, kFlow), nullptr); // direction is part of the key
}

TEST(XfrmStateTableTest, RejectsADuplicateSpiAndFindsByDaddrAndSpi)
{
    XfrmStateTable sad;
    std::string error;
    ASSERT_TRUE(sad.Add(MakeState(0x1000), &error));
    EXPECT_FALSE(sad.Add(MakeState(0x1000), &error));
    EXPECT_NE(error.find("already exists"), std::string::npos) << error;
    EXPECT_TRUE(sad.Find(Ipv4Address("10.0.0.2"), 0x1000));
    EXPECT_FALSE(sad.Find(Ipv4Address("10.0.0.3"), 0x1000));
    EXPECT_TRUE(sad.Remove(Ipv4Address("10.0.0.2"), 0x1000));
    EXPECT_EQ(sad.GetN(), 0u);
}

TEST(XfrmStateTableTest, OutboundPrefersLiveThenNewestAndNeverHardExpired)
{
    XfrmStateTable sad;
    Ptr<XfrmPolicy> policy = MakePolicy(1, false);
    Ptr<XfrmState> old = MakeState(0x1000);
    Ptr<XfrmState> fresh = MakeState(0x1001);
    Ptr<XfrmState> otherReqid = MakeState(0x1002, XfrmMode::Transport, 7);
    Ptr<XfrmState> tunnel = MakeState(0x1003, XfrmMode::Tunnel);
    for (auto& x : {old, fresh, otherReqid, tunnel})
    {
        ASSERT_TRUE(sad.Add(x, nullptr));
    }
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), fresh);
    fresh->SetSoftExpired(); // dying: the older live one wins
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), old);
    old->SetSoftExpired(); // both dying: the newest
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), fresh);
    fresh->SetHardExpired();
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), old);
    old->SetHardExpired();
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), nullptr);
    XfrmFlow elsewhere = kFlow;
    elsewhere.dst = Ipv4Address("10.0.0.9");
    EXPECT_EQ(sad.FindOutbound(*policy, elsewhere), nullptr);
}

// Linux's xfrm_state_look_at: a state serves only flows its own selector matches.
TEST(XfrmStateTableTest, OutboundNeedsTheStateSelectorToMatchTheFlow)
{
    XfrmStateTable sad;
    Ptr<XfrmPolicy> policy = MakePolicy(1, false);
    XfrmStateConfig c;
    c.saddr = Ipv4Address("10.0.0.1");
    c.daddr = Ipv4Address("10.0.0.2");
    c.spi = 0x1000;
    c.reqid = 1;
    c.algorithm = Gcm128();
    c.sel = XfrmSelector::Hosts(Ipv4Address("192.0.2.99"), Ipv4Address("10.0.0.2"));
    std::string error;
    ASSERT_TRUE(sad.Add(Create<XfrmState>(c, EspTransform::Create(c.algorithm, &error)), &error));
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), nullptr);
    XfrmFlow covered = kFlow;
    covered.src = Ipv4Address("192.0.2.99");
    EXPECT_NE(sad.FindOutbound(*policy, covered), nullptr);
}

TEST(ReferenceSaTableTest, CapacityHandlesAndRxIndex)
{
    ReferenceSaTable table(2);
    auto entry = [](XfrmDir dir, uint32_t spi) {
        ReferenceSa sa;
        sa.dir = dir;
        sa.spi = spi;
        sa.daddr = Ipv4Address("10.0.0.2");
        return sa;
    };
    std::string error;
    const uint64_t rx = table.Insert(entry(XfrmDir::In, 0x2000), &error);
    ASSERT_NE(rx, 0u) << error;
    EXPECT_TRUE(rx & ReferenceSaTable::kValidBit);
    EXPECT_EQ(table.Insert(entry(XfrmDir::In, 0x2000), &error), 0u);
    EXPECT_NE(error.find("already in the Rx table"), std::string::npos) << error;
    const uint64_t tx = table.Insert(entry(XfrmDir::Out, 0x2001), &error);
    ASSERT_NE(tx, 0u);
    EXPECT_EQ(table.Insert(entry(XfrmDir::Out, 0x2002), &error), 0u);
    EXPECT_NE(error.find("No space for SA in Tx table"), std::string::npos) << error;
    EXPECT_EQ(table.GetUsed(), 2u);
    EXPECT_EQ(table.FindRx(Ipv4Address("10.0.0.2"), 0x2000), table.Get(rx));
    EXPECT_EQ(table.FindRx(Ipv4Address("10.0.0.2"), 0x2001), nullptr); // TX entries are not indexed
    table.Get(rx)->deleted = true; // deleted: no longer matched, still addressable until freed
    EXPECT_EQ(table.FindRx(Ipv4Address("10.0.0.2"), 0x2000), nullptr);
    EXPECT_NE(table.Get(rx), nullptr);
    table.Remove(rx);
    EXPECT_EQ(table.Get(rx), nullptr);
    EXPECT_EQ(table.Get(0), nullptr); // no valid bit
    EXPECT_NE(table.Insert(entry(XfrmDir::In, 0x2003), &error), 0u);
    EXPECT_NE(table.Dump().find("spi=0x2003"), std::string::npos) << table.Dump();
}
