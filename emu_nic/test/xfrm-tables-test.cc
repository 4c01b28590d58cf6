// SAD, SPD and the NIC's SA table: the selection and ordering rules, table-driven.
#include "reference-sa-table.h"
#include "xfrm-state-table.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <random>

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

// Many policies of one selector in one exact chain: the index returns the chain's first, and
// stays right as they leave in any order.
TEST(XfrmPolicyTableTest, ManyEqualSelectorsDifferentPrioritiesLeaveInAnyOrder)
{
    XfrmPolicyTable spd;
    std::vector<Ptr<XfrmPolicy>> added;
    for (uint32_t i = 0; i < 40; ++i)
    {
        added.push_back(MakePolicy(1000 - 7 * (i % 13), false)); // priorities repeat, unsorted
        spd.Add(added.back());
    }
    auto expected = [&added]() {
        // Lowest priority value, then the oldest: the order of a software-only chain.
        Ptr<XfrmPolicy> best;
        for (const auto& p : added)
        {
            if (!best || p->GetConfig().priority < best->GetConfig().priority)
            {
                best = p;
            }
        }
        return best;
    };
    EXPECT_EQ(spd.GetN(), 40u);
    for (size_t k = 0; !added.empty(); ++k)
    {
        ASSERT_EQ(spd.Lookup(XfrmDir::Out, kFlow), expected()) << "after " << k << " removals";
        ASSERT_EQ(spd.FindBySelector(XfrmDir::Out, added[0]->GetConfig().sel), expected());
        const size_t victim = (k * 17) % added.size();
        ASSERT_TRUE(spd.Remove(added[victim]));
        EXPECT_FALSE(spd.Remove(added[victim])) << "removed twice";
        added.erase(added.begin() + victim);
    }
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), nullptr);
    EXPECT_EQ(spd.FindBySelector(XfrmDir::Out, MakePolicy(0, false)->GetConfig().sel), nullptr);
    EXPECT_EQ(spd.GetN(), 0u);
    EXPECT_TRUE(spd.GetAll().empty());
}

// A prefix policy of strictly better priority wins over the exact match, among thousands of
// exact policies; one that is not better does not.
TEST(XfrmPolicyTableTest, BetterPrefixPolicyBeatsTheExactOneAmongThousands)
{
    XfrmPolicyTable spd;
    auto hostPolicy = [](uint32_t i, uint32_t priority) {
        XfrmPolicyConfig c = MakePolicy(priority, false)->GetConfig();
        c.sel = XfrmSelector::Hosts(Ipv4Address(0x0a000000u + i), Ipv4Address(0x0b000000u + i));
        return Create<XfrmPolicy>(c);
    };
    for (uint32_t i = 1; i <= 5000; ++i)
    {
        spd.Add(hostPolicy(i, 50));
    }
    const XfrmFlow flow{Ipv4Address(0x0a000000u + 777), Ipv4Address(0x0b000000u + 777), 6, 1, 2};
    Ptr<XfrmPolicy> exact = spd.Lookup(XfrmDir::Out, flow);
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->GetConfig().sel.src, flow.src);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, XfrmFlow{flow.src, Ipv4Address("11.0.3.10"), 6, 1, 2}),
              nullptr)
        << "no exact policy for this pair";

    XfrmPolicyConfig wide = MakePolicy(50, false)->GetConfig();
    wide.sel = XfrmSelector::Subnets(Ipv4Address("10.0.0.0"), 8, Ipv4Address("11.0.0.0"), 8);
    Ptr<XfrmPolicy> equal = Create<XfrmPolicy>(wide);
    spd.Add(equal);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow), exact) << "equal priority: the exact one";
    wide.priority = 49;
    Ptr<XfrmPolicy> better = Create<XfrmPolicy>(wide);
    spd.Add(better);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow), better);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, XfrmFlow{flow.src, Ipv4Address("11.0.3.10"), 6, 1, 2}),
              better);
    ASSERT_TRUE(spd.Remove(better));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow), exact);
    ASSERT_TRUE(spd.Remove(exact));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow), equal) << "only the prefix policy is left";
    EXPECT_EQ(spd.GetN(), 5000u);
}

// Protocol and ports: of the selectors that match (each field the flow's or any), the chain's
// order decides, whatever the selector's key in the index.
TEST(XfrmPolicyTableTest, PortSelectorsOfOneHostPairFollowTheChainOrder)
{
    XfrmPolicyTable spd;
    auto withPorts = [](uint32_t priority,
                        uint8_t proto,
                        uint16_t sport,
                        uint16_t dport,
                        bool hardware = false) {
        XfrmPolicyConfig c = MakePolicy(priority, hardware)->GetConfig();
        c.sel.proto = proto;
        c.sel.sport = sport;
        c.sel.dport = dport;
        return Create<XfrmPolicy>(c);
    };
    for (uint16_t port = 3000; port < 4000; ++port)
    {
        spd.Add(withPorts(10, 17, 1000, port)); // never kFlow's destination port
    }
    Ptr<XfrmPolicy> any = withPorts(20, 0, 0, 0);
    spd.Add(any);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), any);
    Ptr<XfrmPolicy> udp = withPorts(20, 17, 0, 0);
    spd.Add(udp);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), any) << "equal priority: the older";
    Ptr<XfrmPolicy> dport = withPorts(15, 17, 0, 2000);
    spd.Add(dport);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), dport);
    Ptr<XfrmPolicy> tcp = withPorts(1, 6, 1000, 2000);
    spd.Add(tcp);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), dport) << "TCP does not match a UDP flow";
    XfrmFlow tcpFlow = kFlow;
    tcpFlow.proto = 6;
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, tcpFlow), tcp);
    Ptr<XfrmPolicy> hw = withPorts(100, 17, 1000, 0, true);
    spd.Add(hw);
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), hw) << "hardware at the head of the chain";
    XfrmFlow port3500 = kFlow;
    port3500.dport = 3500;
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, port3500), hw);
    ASSERT_TRUE(spd.Remove(hw));
    ASSERT_EQ(spd.Lookup(XfrmDir::Out, port3500), spd.FindBySelector(XfrmDir::Out, [] {
        XfrmSelector s = XfrmSelector::Hosts(Ipv4Address("10.0.0.1"), Ipv4Address("10.0.0.2"));
        s.proto = 17;
        s.sport = 1000;
        s.dport = 3500;
        return s;
    }()));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, port3500)->GetConfig().sel.dport, 3500);
    EXPECT_EQ(spd.GetN(), 1004u);
}

namespace
{
/// The SPD as its doc comments say, by walking lists: one chain per direction and host pair
/// for exact selectors, one list per direction for the others. The oracle for the index.
class WalkedSpd
{
  public:
    void Add(Ptr<XfrmPolicy> p)
    {
        std::vector<Ptr<XfrmPolicy>>& list = ListOf(p->GetConfig().dir, p->GetConfig().sel);
        size_t at = 0;
        for (size_t i = 0; !p->IsHardware() && i < list.size(); ++i)
        {
            if (p->GetConfig().priority >= list[i]->GetConfig().priority)
            {
                at = i + 1;
            }
        }
        list.insert(list.begin() + at, p);
    }

    void Remove(Ptr<XfrmPolicy> p)
    {
        std::vector<Ptr<XfrmPolicy>>& list = ListOf(p->GetConfig().dir, p->GetConfig().sel);
        list.erase(std::find(list.begin(), list.end(), p));
    }

    Ptr<XfrmPolicy> Lookup(XfrmDir dir, const XfrmFlow& flow)
    {
        Ptr<XfrmPolicy> best;
        for (const auto& p : ListOf(dir, XfrmSelector::Hosts(flow.src, flow.dst)))
        {
            if (p->GetConfig().sel.Matches(flow))
            {
                best = p;
                break;
            }
        }
        for (const auto& p : ListOf(dir, XfrmSelector()))
        {
            if (best && p->GetConfig().priority >= best->GetConfig().priority)
            {
                break;
            }
            if (p->GetConfig().sel.Matches(flow))
            {
                return p;
            }
        }
        return best;
    }

  private:
    std::vector<Ptr<XfrmPolicy>>& ListOf(XfrmDir dir, const XfrmSelector& sel)
    {
        if (!XfrmPolicyTable::IsExact(sel))
        {
            return m_prefix[size_t(dir)];
        }
        return m_chains[size_t(dir)][{sel.src.GetIpv4().Get(), sel.dst.GetIpv4().Get()}];
    }

    std::map<std::pair<uint32_t, uint32_t>, std::vector<Ptr<XfrmPolicy>>> m_chains[3];
    std::vector<Ptr<XfrmPolicy>> m_prefix[3];
};
} // namespace

// Random adds, removals and lookups: the index answers as the walked lists do, hardware
// policies, priorities, prefixes, protocols and ports mixed.
TEST(XfrmPolicyTableTest, IndexAnswersAsTheWalkedListsDo)
{
    std::mt19937 rng(7);
    auto pick = [&rng](auto&& values) {
        return values[std::uniform_int_distribution<size_t>(0, std::size(values) - 1)(rng)];
    };
    const Ipv4Address addresses[] = {Ipv4Address("10.0.0.1"),
                                     Ipv4Address("10.0.0.2"),
                                     Ipv4Address("10.0.1.1"),
                                     Ipv4Address("10.1.0.1")};
    const uint8_t prefixes[] = {32, 32, 32, 24, 16, 0};
    const uint8_t protos[] = {0, 6, 17};
    const uint16_t ports[] = {0, 0, 1000, 2000};
    const uint32_t priorities[] = {0, 1, 2, 3, 5, 5};
    const XfrmDir dirs[] = {XfrmDir::In, XfrmDir::Out, XfrmDir::Fwd};
    XfrmPolicyTable spd;
    WalkedSpd walked;
    std::vector<Ptr<XfrmPolicy>> present;
    for (int step = 0; step < 4000; ++step)
    {
        if (present.empty() || rng() % 3 != 0)
        {
            XfrmPolicyConfig c;
            const bool exact = rng() % 2 == 0;
            c.sel.src = pick(addresses);
            c.sel.dst = pick(addresses);
            c.sel.srcPrefix = exact ? 32 : pick(prefixes);
            c.sel.dstPrefix = exact ? 32 : pick(prefixes);
            c.sel.proto = pick(protos);
            c.sel.sport = c.sel.proto ? pick(ports) : 0;
            c.sel.dport = c.sel.proto ? pick(ports) : 0;
            c.dir = pick(dirs);
            c.priority = pick(priorities);
            c.offloadType =
                rng() % 5 == 0 && c.dir != XfrmDir::Fwd ? XfrmOffloadType::Packet : c.offloadType;
            present.push_back(Create<XfrmPolicy>(c));
            spd.Add(present.back());
            walked.Add(present.back());
        }
        else
        {
            const size_t victim = rng() % present.size();
            ASSERT_TRUE(spd.Remove(present[victim]));
            walked.Remove(present[victim]);
            present.erase(present.begin() + victim);
        }
        ASSERT_EQ(spd.GetN(), present.size());
        for (int probe = 0; probe < 8; ++probe)
        {
            const XfrmFlow flow{pick(addresses),
                                pick(addresses),
                                pick(protos),
                                pick(ports),
                                pick(ports)};
            const XfrmDir dir = pick(dirs);
            ASSERT_EQ(spd.Lookup(dir, flow), walked.Lookup(dir, flow))
                << "step " << step << ": " << XfrmDirName(dir) << " " << flow.src << " -> "
                << flow.dst << " proto " << unsigned(flow.proto) << " " << flow.sport << "->"
                << flow.dport;
        }
        Ptr<XfrmPolicy> some =
            present.empty() ? Ptr<XfrmPolicy>() : present[rng() % present.size()];
        if (some)
        {
            Ptr<XfrmPolicy> found =
                spd.FindBySelector(some->GetConfig().dir, some->GetConfig().sel);
            ASSERT_TRUE(found);
            const XfrmSelector& a = found->GetConfig().sel;
            const XfrmSelector& b = some->GetConfig().sel;
            EXPECT_EQ(a.ToString(), b.ToString());
            EXPECT_EQ(a.src, b.src);
            EXPECT_EQ(a.dst, b.dst);
        }
    }
    EXPECT_EQ(spd.GetAll().size(), present.size());
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

// Thousands of states to one peer, one reqid each, and a rekeyed tunnel among them: the index
// finds the template's states and still prefers the live one, then the newest.
TEST(XfrmStateTableTest, OutboundAmongThousandsPrefersLiveThenNewest)
{
    XfrmStateTable sad;
    for (uint32_t i = 0; i < 3000; ++i)
    {
        ASSERT_TRUE(sad.Add(MakeState(0x10000 + i, XfrmMode::Tunnel, 100 + i), nullptr));
    }
    XfrmPolicyConfig pc = MakePolicy(1, false, XfrmDir::Out, 1777)->GetConfig();
    pc.tmpl.mode = XfrmMode::Tunnel;
    pc.tmpl.saddr = Ipv4Address("10.0.0.1");
    pc.tmpl.daddr = Ipv4Address("10.0.0.2");
    Ptr<XfrmPolicy> policy = Create<XfrmPolicy>(pc);
    Ptr<XfrmState> first = sad.Find(Ipv4Address("10.0.0.2"), 0x10000 + 1677);
    ASSERT_TRUE(first);
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), first);
    std::vector<Ptr<XfrmState>> rekeyed{first};
    for (uint32_t i = 0; i < 3; ++i)
    {
        rekeyed.push_back(MakeState(0x20000 + i, XfrmMode::Tunnel, 1777));
        ASSERT_TRUE(sad.Add(rekeyed.back(), nullptr));
        EXPECT_EQ(sad.FindOutbound(*policy, kFlow), rekeyed.back()) << "the newest";
    }
    rekeyed[3]->SetSoftExpired();
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), rekeyed[2]) << "the newest that is not dying";
    ASSERT_TRUE(sad.Remove(Ipv4Address("10.0.0.2"), 0x20001));
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), rekeyed[1]);
    rekeyed[1]->SetHardExpired();
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), first);
    first->SetSoftExpired();
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), rekeyed[3]) << "all dying: the newest";
    // A template without reqid takes any state to the peer (the newest live one: the last added
    // of the 3000), one with an SPI only that state.
    pc.tmpl.reqid = 0;
    EXPECT_EQ(sad.FindOutbound(*Create<XfrmPolicy>(pc), kFlow)->GetSpi(), 0x10000u + 2999);
    pc.tmpl.spi = 0x10000 + 5;
    EXPECT_EQ(sad.FindOutbound(*Create<XfrmPolicy>(pc), kFlow)->GetSpi(), 0x10000u + 5);
    pc.tmpl.reqid = 7; // an SPI whose state has another reqid
    EXPECT_EQ(sad.FindOutbound(*Create<XfrmPolicy>(pc), kFlow), nullptr);
    pc.tmpl.reqid = 1777;
    pc.tmpl.spi = 0;
    pc.tmpl.daddr = Ipv4Address("10.0.0.3"); // nothing goes there
    EXPECT_EQ(sad.FindOutbound(*Create<XfrmPolicy>(pc), kFlow), nullptr);
    for (const Ptr<XfrmState>& x : sad.GetAll())
    {
        ASSERT_EQ(sad.Remove(x->GetConfig().daddr, x->GetSpi()), x);
    }
    EXPECT_EQ(sad.FindOutbound(*policy, kFlow), nullptr) << "the indexes are empty too";
    EXPECT_EQ(sad.GetN(), 0u);
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

// One SAD and one SPD for both families: IPv6 states and policies are found by their own
// addresses, and nothing of one family ever serves or matches a flow of the other, not even
// where the bytes agree (10.0.0.2 and ::a00:2) or a prefix is 0 (0.0.0.0/0 is IPv4's only).
TEST(XfrmTablesIpv6Test, BothFamiliesShareTheTablesAndNeverMix)
{
    const XfrmAddress a6 = Ipv6Address("2001:db8::1");
    const XfrmAddress b6 = Ipv6Address("2001:db8::2");
    const XfrmAddress mapped = Ipv6Address("::a00:2"); // 10.0.0.2's bytes at the end
    XfrmStateTable sad;
    XfrmStateConfig c;
    c.saddr = a6;
    c.daddr = b6;
    c.spi = 0x1000; // the same SPI as the IPv4 state below
    c.reqid = 1;
    c.algorithm = Gcm128();
    c.sel = XfrmSelector::Hosts(a6, b6);
    std::string error;
    Ptr<XfrmState> v6 = Create<XfrmState>(c, EspTransform::Create(c.algorithm, &error));
    Ptr<XfrmState> v4 = MakeState(0x1000);
    ASSERT_TRUE(sad.Add(v6, &error)) << error;
    ASSERT_TRUE(sad.Add(v4, &error)) << error;
    c.daddr = mapped;
    c.spi = 0x1001;
    ASSERT_TRUE(sad.Add(Create<XfrmState>(c, EspTransform::Create(c.algorithm, &error)), &error));
    EXPECT_EQ(sad.Find(b6, 0x1000), v6);
    EXPECT_EQ(sad.Find(Ipv4Address("10.0.0.2"), 0x1000), v4);
    EXPECT_EQ(sad.Find(mapped, 0x1000), nullptr);
    EXPECT_EQ(sad.Find(Ipv4Address("10.0.0.2"), 0x1001), nullptr);
    EXPECT_EQ(c.sel.srcPrefix, 128);

    XfrmPolicyConfig pc;
    pc.sel = XfrmSelector::Hosts(a6, b6);
    pc.tmpl.reqid = 1;
    Ptr<XfrmPolicy> exact6 = Create<XfrmPolicy>(pc);
    EXPECT_TRUE(XfrmPolicyTable::IsExact(pc.sel)) << "/128 both ways";
    pc.sel = XfrmSelector::Subnets(Ipv6Address("2001:db8::"), 32, Ipv6Address("::"), 0);
    pc.priority = 5;
    Ptr<XfrmPolicy> prefix6 = Create<XfrmPolicy>(pc);
    EXPECT_FALSE(XfrmPolicyTable::IsExact(pc.sel));
    pc.sel = XfrmSelector::Subnets(Ipv4Address("0.0.0.0"), 0, Ipv4Address("0.0.0.0"), 0);
    Ptr<XfrmPolicy> any4 = Create<XfrmPolicy>(pc);
    XfrmPolicyTable spd;
    for (const auto& p : {exact6, prefix6, any4})
    {
        spd.Add(p);
    }
    const XfrmFlow flow6{a6, b6, 17, 1000, 2000};
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow6), exact6);
    EXPECT_EQ(sad.FindOutbound(*exact6, flow6), v6);
    XfrmFlow other6 = flow6;
    other6.dst = Ipv6Address("2001:db8::99");
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, other6), prefix6);
    XfrmFlow outside6 = flow6;
    outside6.src = Ipv6Address("2001:db9::1");
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, outside6), nullptr) << "0.0.0.0/0 is not IPv6's";
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, kFlow), any4);
    EXPECT_EQ(sad.FindOutbound(*any4, kFlow), v4) << "the same SPI and reqid, the flow's family";
    EXPECT_EQ(spd.FindBySelector(XfrmDir::Out, exact6->GetConfig().sel), exact6);
    EXPECT_TRUE(spd.Remove(exact6));
    EXPECT_EQ(spd.Lookup(XfrmDir::Out, flow6), prefix6);
    EXPECT_EQ(sad.Remove(b6, 0x1000), v6);
    EXPECT_EQ(sad.Find(Ipv4Address("10.0.0.2"), 0x1000), v4) << "the IPv4 state stays";
}

// TX entries by daddr and by (daddr, reqid), in slot order; freed slots are reused lowest
// first and leave the index.
TEST(ReferenceSaTableTest, TxIndexFollowsInsertAndRemove)
{
    ReferenceSaTable table(4000);
    auto entry = [](XfrmDir dir, uint32_t spi, const char* daddr, uint32_t reqid) {
        ReferenceSa sa;
        sa.dir = dir;
        sa.spi = spi;
        sa.daddr = Ipv4Address(daddr);
        sa.reqid = reqid;
        return sa;
    };
    std::string error;
    std::vector<uint64_t> handles;
    for (uint32_t i = 0; i < 3000; ++i)
    {
        handles.push_back(
            table.Insert(entry(i % 3 ? XfrmDir::Out : XfrmDir::In, i + 1, "10.0.0.2", i % 10),
                         &error));
        ASSERT_NE(handles.back(), 0u) << error;
    }
    auto spis = [&table](const char* daddr, uint32_t reqid) {
        std::vector<uint32_t> seen;
        table.ForEachTx(Ipv4Address(daddr), reqid, [&seen](uint64_t, ReferenceSa& sa) {
            EXPECT_EQ(sa.dir, XfrmDir::Out);
            seen.push_back(sa.spi);
        });
        return seen;
    };
    EXPECT_EQ(spis("10.0.0.2", 0).size(), 2000u);
    EXPECT_TRUE(spis("10.0.0.3", 0).empty());
    const std::vector<uint32_t> reqid4 = spis("10.0.0.2", 4);
    ASSERT_EQ(reqid4.size(), 200u); // i = 4, 14, 24, ... minus the inbound thirds
    EXPECT_TRUE(std::is_sorted(reqid4.begin(), reqid4.end())) << "slot order";
    table.Remove(handles[4]); // spi 5: out, reqid 4
    EXPECT_EQ(spis("10.0.0.2", 4).size(), 199u);
    EXPECT_EQ(spis("10.0.0.2", 0).size(), 1999u);
    const uint64_t reused = table.Insert(entry(XfrmDir::Out, 9999, "10.0.0.2", 4), &error);
    EXPECT_EQ(reused & 0xffffffffu, handles[4] & 0xffffffffu) << "the lowest free slot";
    EXPECT_NE(reused, handles[4]) << "a new generation";
    EXPECT_EQ(spis("10.0.0.2", 4).front(), 9999u);
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
