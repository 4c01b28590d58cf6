// XFRM rules a review found the model breaking (each test failed before its fix): SPI re-use
// before state_free, the SA's own selector on output and input, whole inner packets in tunnels.
#include "simulation-test.h"

namespace offloadtest
{
namespace
{

class XfrmRulesRegression : public testing::Test
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

// Linux: xfrm_state_delete() unhashes the state at once and xdo_dev_state_delete() takes it
// out of the device's datapath tables; only memory is released later by xdo_dev_state_free().
// So "ip xfrm state delete ...; ip xfrm state add <same daddr/spi> offload dev ..." works.
TEST_F(XfrmRulesRegression, CryptoOffloadSpiCanBeReaddedBeforeTheOldStateIsFreed)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Crypto;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->inB);
    ASSERT_TRUE(t->inB->IsOffloaded(XfrmOffloadType::Crypto));
    ASSERT_TRUE(t->stackB->DeleteState(t->endAddrB, t->spiAB));
    XfrmStateConfig c = t->SaConfig(true, false, XfrmOffloadType::Crypto);
    std::string error;
    Ptr<XfrmState> again = t->stackB->AddState(c, &error);
    EXPECT_TRUE(again) << error;
    if (again)
    {
        EXPECT_TRUE(again->IsOffloaded(XfrmOffloadType::Crypto));
    }
}

// The same in packet offload, which has no software fallback: a refused re-add would leave the
// connection down until the old state is freed.
TEST_F(XfrmRulesRegression, PacketOffloadSpiCanBeReaddedBeforeTheOldStateIsFreed)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->inB);
    ASSERT_TRUE(t->stackB->DeleteState(t->endAddrB, t->spiAB));
    XfrmStateConfig c = t->SaConfig(true, false, XfrmOffloadType::Packet);
    std::string error;
    Ptr<XfrmState> again = t->stackB->AddState(c, &error);
    EXPECT_TRUE(again) << error;
}

// Linux __xfrm_policy_check(): "First, check used SA against their selectors": for every state
// of the secpath, xfrm_selector_match(&x->sel, &fl) must hold, else XfrmInStateMismatch and
TEST_F(XfrmRulesRegression, InboundSaOnlyAcceptsWhatItsSelectorCovers)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::None;
    auto t = BuildTestTopology(opt);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    // Re-add B's inbound SA with a selector that covers only a different source host.
    ASSERT_TRUE(t->stackB->DeleteState(t->endAddrB, t->spiAB));
    XfrmStateConfig c = t->SaConfig(true, false, XfrmOffloadType::None);
    c.sel = XfrmSelector::Hosts(Ipv4Address("192.0.2.99"), t->hostAddrB);
    std::string error;
    ASSERT_TRUE(t->stackB->AddState(c, &error)) << error;
    ScheduleDatagram(sender, MilliSeconds(10), Bytes(100, 0x5a));
    RunUntil(MilliSeconds(100));
    EXPECT_EQ(t->stackB->FindState(t->endAddrB, t->spiAB)->GetCurrent().packets, 1u)
        << "the ESP packet reached B's SA";
    EXPECT_TRUE(sink->received.empty())
        << "a datagram outside the SA's selector was accepted under that SA";
}

// Linux xfrm_state_find()/xfrm_state_look_at(): an outbound state is only used for a flow its
// selector matches (xfrm_selector_match(&x->sel, fl)); otherwise no state -> acquire/drop.
TEST_F(XfrmRulesRegression, OutboundSaOnlyCarriesWhatItsSelectorCovers)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::None;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->stackA->DeleteState(t->endAddrB, t->spiAB));
    XfrmStateConfig c = t->SaConfig(true, true, XfrmOffloadType::None);
    c.sel = XfrmSelector::Hosts(Ipv4Address("192.0.2.99"), t->hostAddrB);
    std::string error;
    ASSERT_TRUE(t->stackA->AddState(c, &error)) << error;
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    ScheduleDatagram(sender, MilliSeconds(10), Bytes(100, 0x5a));
    RunUntil(MilliSeconds(100));
    EXPECT_EQ(t->stackA->FindState(t->endAddrB, t->spiAB)->GetCurrent().packets, 0u)
        << "A used an SA whose selector does not cover the flow";
    EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutNoStates), 1u);
}

// Linux xfrm4 tunnel input (xfrm4_remove_tunnel_encap / xfrm_inner_mode_input):
// "if (!pskb_may_pull(skb, sizeof(struct iphdr))) goto out" -> error, counted as
TEST_F(XfrmRulesRegression, TunnelInnerPacketMustBeWholeIpv4)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::None;
    opt.ipMode = XfrmMode::Tunnel;
    auto t = BuildTestTopology(opt);
    const Bytes inner(8, 0x45); // "IPv4" but only 8 bytes: no room for a header
    const Bytes frame = SealEspFrame(t->algAB, t->spiAB, 1, false, inner, kProtoIpip);
    const Bytes ip = Ipv4Bytes(t->endAddrA, t->endAddrB, kProtoEsp, frame);
    ScheduleInject(MilliSeconds(10), t->devA, t->devB, ip);
    RunUntil(MilliSeconds(50));
    EXPECT_EQ(t->inB->GetCurrent().packets, 0u) << "a truncated inner packet was accepted";
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 1u);
}

} // namespace
} // namespace offloadtest
