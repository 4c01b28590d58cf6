// Thousands of SAs and policies around the flow under test, in every data path: the indexed
// tables of the stack (SAD, SPD) and of the reference device (SA table, offloaded policies) still
// give the flow its own policy and SA, never a decoy's; a prefix policy of better priority still
// wins over them, and once it is deleted the flow is back on its SA.
#include "simulation-test.h"

using namespace ns3;
using namespace offloadtest;

namespace
{
constexpr uint32_t kDecoys = 1500;
constexpr uint32_t kPriority = 10; //!< of the flow's own policies

/// Decoy tunnel or host pair i: its own /32 pair, SA pair and policies on both ends, between
/// the same IPsec endpoints as the flow, of the flow's IPsec mode and data path.
void
AddDecoy(Topology& t, uint32_t i, std::vector<Ptr<XfrmState>>* states)
{
    const Ipv4Address left((10u << 24 | 9u << 16) + i + 1);
    const Ipv4Address right((10u << 24 | 10u << 16) + i + 1);
    for (bool aToB : {true, false})
    {
        XfrmStateConfig c = t.SaConfig(aToB, true, t.opt.mode);
        c.spi = 0x50000 + 2 * i + (aToB ? 0 : 1);
        c.reqid = 1000 + i;
        c.sel = aToB ? XfrmSelector::Hosts(left, right) : XfrmSelector::Hosts(right, left);
        XfrmStateConfig in = t.SaConfig(aToB, false, t.opt.mode);
        in.spi = c.spi;
        in.reqid = c.reqid;
        in.sel = c.sel;
        std::string error;
        Ptr<XfrmStack> sender = aToB ? t.stackA : t.stackB;
        Ptr<XfrmStack> receiver = aToB ? t.stackB : t.stackA;
        Ptr<XfrmState> x = sender->AddState(c, &error);
        ASSERT_TRUE(x) << error;
        states->push_back(x);
        ASSERT_TRUE(receiver->AddState(in, &error)) << error;
        for (bool onA : {true, false})
        {
            // The out policy on the sender, the in policy on the receiver.
            XfrmPolicyConfig p =
                t.PolicyConfig(onA, onA == aToB ? XfrmDir::Out : XfrmDir::In, t.opt.mode);
            p.sel = c.sel;
            p.tmpl.reqid = c.reqid;
            p.priority = kPriority;
            ASSERT_TRUE((onA ? t.stackA : t.stackB)->AddPolicy(p, &error)) << error;
        }
    }
}

uint64_t
PacketsOf(const Topology& t, Ptr<XfrmState> x)
{
    t.stackA->UpdateStats(x); // a packet-offloaded SA's counters are the device's
    return x->GetCurrent().packets;
}
} // namespace

class ManySasTest : public SimulationTest<PathParam>
{
};

TEST_P(ManySasTest, TheFlowKeepsItsOwnSaAmongThousands)
{
    TopologyOptions opt;
    opt.mode = GetParam().mode;
    opt.ipMode = GetParam().ipMode;
    opt.policyPriority = kPriority;
    opt.saCapacity = 4 * kDecoys + 64;
    opt.policyCapacity = 4 * kDecoys + 64;
    UdpRig rig = BuildUdpRig(opt);
    Topology& t = *rig.t;
    std::vector<Ptr<XfrmState>> decoys;
    for (uint32_t i = 0; i < kDecoys; ++i)
    {
        AddDecoy(t, i, &decoys);
        if (HasFatalFailure())
        {
            return;
        }
    }
    EXPECT_GE(t.stackA->GetStates().GetN(), 2 * kDecoys + 2);
    EXPECT_GE(t.stackA->GetPolicies().GetN(), 2 * kDecoys + 2);

    auto sendAndRun = [&rig](const std::vector<std::vector<uint8_t>>& payloads) {
        ScheduleDatagrams(rig.sender, payloads, MilliSeconds(100), MilliSeconds(1));
        RunTo(Simulator::Now() + Seconds(0.5));
    };
    const auto first = Payloads(20, 0);
    sendAndRun(first);
    EXPECT_EQ(Delivered(*rig.sink, first), first.size());
    EXPECT_EQ(PacketsOf(t, t.outA), first.size()) << "the flow's own SA carried it";
    uint64_t decoyPackets = 0;
    for (const auto& x : decoys)
    {
        decoyPackets += PacketsOf(t, x);
    }
    EXPECT_EQ(decoyPackets, 0u);

    // A prefix policy of better priority on A's way out: it blocks the flow, whatever the
    // thousands of exact policies and the flow's own policy (exact or prefix) say.
    XfrmPolicyConfig block;
    block.dir = XfrmDir::Out;
    block.sel = XfrmSelector::Subnets(Ipv4Address("10.0.0.0"), 8, Ipv4Address("10.0.0.0"), 8);
    block.priority = kPriority - 1;
    block.action = XfrmPolicyAction::Block;
    block.hasTemplate = false;
    std::string error;
    Ptr<XfrmPolicy> blocker = t.stackA->AddPolicy(block, &error);
    ASSERT_TRUE(blocker) << error;
    const auto second = Payloads(10, 100);
    sendAndRun(second);
    EXPECT_EQ(Delivered(*rig.sink, second), 0u);
    EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutPolBlock), second.size());

    // Deleted, it leaves every index: the flow is back on its SA.
    ASSERT_TRUE(t.stackA->DeletePolicy(blocker));
    const auto third = Payloads(10, 200);
    sendAndRun(third);
    EXPECT_EQ(Delivered(*rig.sink, third), third.size());
    EXPECT_EQ(PacketsOf(t, t.outA), first.size() + third.size());
}

INSTANTIATE_TEST_SUITE_P(AllPaths, ManySasTest, testing::ValuesIn(AllPaths()), PathName);
