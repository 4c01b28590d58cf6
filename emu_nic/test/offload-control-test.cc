// The control path of offload in real simulations: what XfrmStack::AddState / AddPolicy answer
// for each request (accept, software fallback, failure with a message naming the cause), the SA
// table capacity, configuration validation, duplicates, the HW-over-SW policy rule, link down
// (NETDEV_DOWN flush) and delete/free of states and policies.

#include "reference-offload-engine.h"
#include "simulation-test.h"

#include <functional>
#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

class ControlTest : public testing::Test
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

/// Sends `count` datagrams A -> B and returns how many arrived intact.
uint32_t
SendAndCount(Topology& t, uint32_t count, Time start = Seconds(1))
{
    auto sink = InstallUdpSink(t.hostB);
    auto sender = InstallUdpSender(t.hostA, t.hostAddrB);
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < count; ++i)
    {
        payloads.push_back(DatagramPayload(i, 100 + i));
    }
    const Time end = ScheduleDatagrams(sender, payloads, start, MilliSeconds(1));
    RunUntil(end + MilliSeconds(500));
    uint32_t intact = 0;
    for (size_t i = 0; i < sink->received.size() && i < payloads.size(); ++i)
    {
        intact += sink->received[i] == payloads[i] ? 1 : 0;
    }
    EXPECT_EQ(sink->received.size(), intact) << "a datagram arrived damaged or out of order";
    return intact;
}

// ---- unsupported algorithm ----

// cbc(aes) + hmac(sha256) is not offloaded by the NIC: a crypto-offload request gets
// NotSupported and the stack runs the SA in software (Linux: -EOPNOTSUPP -> software fallback).
TEST_F(ControlTest, CbcWithCryptoOffloadFallsBackToSoftware)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Crypto;
    opt.algorithmAB = CbcSha256Algorithm(0x21);
    opt.algorithmBA = CbcSha256Algorithm(0x42);
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB && t->outB && t->inA);
    for (Ptr<XfrmState> x : {t->outA, t->inB, t->outB, t->inA})
    {
        EXPECT_FALSE(x->IsOffloaded(XfrmOffloadType::Crypto));
        EXPECT_FALSE(x->GetOffload().ops);
        EXPECT_FALSE(x->GetOffload().dev);
    }
    EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadFallback), 2u);
    EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::CryptoOffloadFallback), 2u);
    // The device was asked (state_add), refused, and holds nothing.
    EXPECT_EQ(Counter(t->devA, "StateAdd"), 2u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 0u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devB)->GetSaTable().GetUsed(), 0u);

    auto wire = CaptureWire(t->devA, t->devB);
    EXPECT_EQ(SendAndCount(*t, 20), 20u);
    EXPECT_EQ(Counter(t->devA, "CryptoTxPackets"), 0u);
    EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), 0u);
    EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), 0u);
    EXPECT_EQ(t->outA->GetCurrent().packets, 20u);
    // CBC frames on the wire: 16-byte IV, ciphertext a multiple of 16.
    ASSERT_EQ(wire->From(true).size(), 20u);
    for (const WirePacket* w : wire->From(true))
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp);
        EXPECT_EQ((w->ip.size() - 20 - 8 - 16 - 16) % 16, 0u);
        EXPECT_FALSE(Contains(w->ip, PlaintextMarker()));
    }
}

// Packet offload has no software fallback: the state add fails and says why.
TEST_F(ControlTest, CbcWithPacketOffloadFails)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    opt.installIpsec = false;
    opt.algorithmAB = CbcSha256Algorithm(0x21);
    auto t = BuildTestTopology(opt);
    std::string error;
    Ptr<XfrmState> x =
        t->stackA->AddState(t->SaConfig(true, true, XfrmOffloadType::Packet), &error);
    EXPECT_FALSE(x);
    EXPECT_NE(error.find("offload"), std::string::npos) << error;
    EXPECT_EQ(t->stackA->GetStates().GetN(), 0u);
    EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadFallback), 0u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 0u);
    // The same SA without offload is fine.
    EXPECT_TRUE(t->stackA->AddState(t->SaConfig(true, true, XfrmOffloadType::None), &error))
        << error;
}

// ---- device without NETIF_F_HW_ESP ----

using EspOffloadOffTest = SimulationTest<XfrmOffloadType>;

TEST_P(EspOffloadOffTest, CryptoRunsInSoftwarePacketIsRejected)
{
    TopologyOptions opt;
    opt.mode = GetParam();
    opt.installIpsec = false;
    opt.espOffload = false;
    auto t = BuildTestTopology(opt);
    EXPECT_EQ(t->devA->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP, 0u);
    const XfrmOffloadType type = GetParam();
    std::string error;
    Ptr<XfrmState> x = t->stackA->AddState(t->SaConfig(true, true, type), &error);
    if (GetParam() == XfrmOffloadType::Crypto)
    {
        ASSERT_TRUE(x) << error;
        EXPECT_TRUE(error.empty()) << error;
        EXPECT_FALSE(x->GetOffload().ops);
        EXPECT_EQ(t->stackA->GetStates().GetN(), 1u);
        EXPECT_EQ(Counter(t->devA, "StateAdd"), 0u) << "a device without HW_ESP is never asked";
        // Complete the SA pairs and policies and check the traffic runs in software.
        t->inB = t->AddSa(true, false, type, {});
        t->outB = t->AddSa(false, true, type, {});
        t->inA = t->AddSa(false, false, type, {});
        t->outA = x;
        for (bool onA : {true, false})
        {
            t->AddPolicy(onA, XfrmDir::Out, XfrmOffloadType::None);
            t->AddPolicy(onA, XfrmDir::In, XfrmOffloadType::None);
        }
        EXPECT_EQ(SendAndCount(*t, 10), 10u);
        EXPECT_EQ(Counter(t->devA, "CryptoTxPackets"), 0u);
        EXPECT_EQ(Counter(t->devB, "CryptoRxPackets"), 0u);
        EXPECT_EQ(t->outA->GetCurrent().packets, 10u);
    }
    else
    {
        EXPECT_FALSE(x);
        EXPECT_NE(error.find("offload"), std::string::npos) << error;
        EXPECT_EQ(t->stackA->GetStates().GetN(), 0u);
        error.clear();
        Ptr<XfrmPolicy> p = t->stackA->AddPolicy(t->PolicyConfig(true, XfrmDir::Out, type), &error);
        EXPECT_FALSE(p);
        EXPECT_NE(error.find("offload"), std::string::npos) << error;
        EXPECT_EQ(t->stackA->GetPolicies().GetN(), 0u);
        EXPECT_EQ(Counter(t->devA, "StateAdd"), 0u);
        EXPECT_EQ(Counter(t->devA, "PolicyAdd"), 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EspOffloadOffTest,
                         testing::Values(XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
                         [](const testing::TestParamInfo<XfrmOffloadType>& info) {
                             return std::string(DataPathName(info.param));
                         });

// ---- SA table capacity ----

struct CapacityParam
{
    XfrmOffloadType mode;
    uint32_t capacity;
};

using SaCapacityTest = SimulationTest<CapacityParam>;

TEST_P(SaCapacityTest, OneMoreThanCapacityFailsWithNoSpace)
{
    const CapacityParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.installIpsec = false;
    opt.saCapacity = param.capacity;
    auto t = BuildTestTopology(opt);
    ASSERT_EQ(t->devA->GetSaCapacity(), param.capacity);
    const XfrmOffloadType type = param.mode;
    std::vector<Ptr<XfrmState>> added;
    std::string error;
    for (uint32_t i = 0; i < param.capacity; ++i)
    {
        XfrmStateConfig c = t->SaConfig(true, true, type);
        c.spi = 0x1000 + i;
        Ptr<XfrmState> x = t->stackA->AddState(c, &error);
        ASSERT_TRUE(x) << "state " << i << ": " << error;
        EXPECT_TRUE(x->IsOffloaded(type));
        added.push_back(x);
    }
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), param.capacity);

    XfrmStateConfig extra = t->SaConfig(true, true, type);
    extra.spi = 0x2000;
    error.clear();
    EXPECT_FALSE(t->stackA->AddState(extra, &error));
    EXPECT_NE(error.find("No space"), std::string::npos) << error;
    EXPECT_EQ(t->stackA->GetStates().GetN(), param.capacity);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), param.capacity);
    EXPECT_EQ(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadFallback), 0u)
        << "ENOSPC is a failure, not a fallback";

    // Software states do not take device slots.
    XfrmStateConfig sw = t->SaConfig(true, true, XfrmOffloadType::None);
    sw.spi = 0x3000;
    EXPECT_TRUE(t->stackA->AddState(sw, &error)) << error;
    EXPECT_EQ(t->stackA->GetStates().GetN(), param.capacity + 1);

    // Deleting one offloaded state frees its slot (after xdo_dev_state_free).
    ASSERT_TRUE(t->stackA->DeleteState(t->endAddrB, 0x1000));
    RunUntil(Seconds(2));
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), param.capacity - 1);
    Ptr<XfrmState> again = t->stackA->AddState(extra, &error);
    ASSERT_TRUE(again) << error;
    EXPECT_TRUE(again->IsOffloaded(type));
}

INSTANTIATE_TEST_SUITE_P(Capacities,
                         SaCapacityTest,
                         testing::Values(CapacityParam{XfrmOffloadType::Crypto, 1},
                                         CapacityParam{XfrmOffloadType::Crypto, 4},
                                         CapacityParam{XfrmOffloadType::Packet, 1},
                                         CapacityParam{XfrmOffloadType::Packet, 4}),
                         [](const testing::TestParamInfo<CapacityParam>& info) {
                             return std::string(DataPathName(info.param.mode)) + "_capacity" +
                                    std::to_string(info.param.capacity);
                         });

// The device's policy table is finite too; a full table fails the packet-offload policy (no
// fallback) while software policies are unaffected.
TEST_F(ControlTest, PolicyCapacityFullFailsWithNoSpace)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    opt.installIpsec = false;
    opt.policyCapacity = 1;
    auto t = BuildTestTopology(opt);
    std::string error;
    ASSERT_TRUE(
        t->stackA->AddPolicy(t->PolicyConfig(true, XfrmDir::Out, XfrmOffloadType::Packet), &error))
        << error;
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(), 1u);
    EXPECT_FALSE(
        t->stackA->AddPolicy(t->PolicyConfig(true, XfrmDir::In, XfrmOffloadType::Packet), &error));
    EXPECT_NE(error.find("No space"), std::string::npos) << error;
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), 1u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(), 1u);
    EXPECT_TRUE(
        t->stackA->AddPolicy(t->PolicyConfig(true, XfrmDir::In, XfrmOffloadType::None), &error))
        << error;
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), 2u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(), 1u);
}

// ---- configuration validation ----

struct ConfigCase
{
    const char* name;
    std::function<void(XfrmStateConfig&)> mutate;
    const char* field; //!< nullptr: the configuration is valid
};

class StateConfigTest : public testing::TestWithParam<std::tuple<XfrmOffloadType, ConfigCase>>
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

TEST_P(StateConfigTest, ErrorNamesTheField)
{
    const XfrmOffloadType mode = std::get<0>(GetParam());
    const ConfigCase& c = std::get<1>(GetParam());
    TopologyOptions opt;
    opt.mode = mode;
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    XfrmStateConfig config = t->SaConfig(true, true, mode);
    c.mutate(config);
    std::string error;
    Ptr<XfrmState> x = t->stackA->AddState(config, &error);
    if (c.field == nullptr)
    {
        EXPECT_TRUE(x) << error;
        EXPECT_EQ(t->stackA->GetStates().GetN(), 1u);
        return;
    }
    EXPECT_FALSE(x);
    EXPECT_NE(error.find(c.field), std::string::npos)
        << "error \"" << error << "\" does not name " << c.field;
    EXPECT_EQ(t->stackA->GetStates().GetN(), 0u);
    EXPECT_EQ(Counter(t->devA, "StateAdd"), 0u) << "an invalid state must not reach the device";
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 0u);
}

const ConfigCase kConfigCases[] = {
    {"spi0", [](XfrmStateConfig& c) { c.spi = 0; }, "spi"},
    {"spi255", [](XfrmStateConfig& c) { c.spi = 255; }, "spi"},
    {"spi256Valid", [](XfrmStateConfig& c) { c.spi = 256; }, nullptr},
    {"window4097", [](XfrmStateConfig& c) { c.replayWindow = 4097; }, "replayWindow"},
    {"window4096Valid", [](XfrmStateConfig& c) { c.replayWindow = 4096; }, nullptr},
    {"esnWindow0",
     [](XfrmStateConfig& c) {
         c.esn = true;
         c.replayWindow = 0;
     },
     "replayWindow"},
    // Linux's verify_newsa_info checks no limit against another: a soft limit above the hard
    // one is taken and never fires (charon sends soft infinite with a hard byte limit alone).
    {"softBytesAboveHardValid",
     [](XfrmStateConfig& c) {
         c.lifetime.softByteLimit = 2000;
         c.lifetime.hardByteLimit = 1000;
     },
     nullptr},
    {"softPacketsAboveHardValid",
     [](XfrmStateConfig& c) {
         c.lifetime.softPacketLimit = 20;
         c.lifetime.hardPacketLimit = 10;
     },
     nullptr},
    {"softEqualsHardValid",
     [](XfrmStateConfig& c) {
         c.lifetime.softPacketLimit = 10;
         c.lifetime.hardPacketLimit = 10;
     },
     nullptr},
    {"shortKey", [](XfrmStateConfig& c) { c.algorithm.encKey.resize(15); }, "encKey"},
    // Families (Linux's verify_newsa_info and xfrm_state_construct): one per address pair, and
    // the selector's must be the SA's in transport mode; IPv6 and IPv4-in-IPv6 are valid.
    {"mixedOuterFamilies",
     [](XfrmStateConfig& c) { c.saddr = Ipv6Address("2001:db8::1"); },
     "saddr"},
    {"mixedSelectorFamilies",
     [](XfrmStateConfig& c) { c.sel.dst = Ipv6Address("2001:db8::2"); },
     "sel"},
    {"selectorPrefix33", [](XfrmStateConfig& c) { c.sel.srcPrefix = 33; }, "sel"},
    {"ipv6SelectorOfIpv4TransportSa",
     [](XfrmStateConfig& c) {
         c.sel = XfrmSelector::Hosts(Ipv6Address("2001:db8::1"), Ipv6Address("2001:db8::2"));
     },
     "sel"},
    {"ipv6SaValid",
     [](XfrmStateConfig& c) {
         c.saddr = Ipv6Address("2001:db8::1");
         c.daddr = Ipv6Address("2001:db8::2");
         c.sel = XfrmSelector::Hosts(c.saddr, c.daddr);
     },
     nullptr},
    {"ipv4InIpv6TunnelValid",
     [](XfrmStateConfig& c) {
         c.mode = XfrmMode::Tunnel;
         c.saddr = Ipv6Address("2001:db8::1");
         c.daddr = Ipv6Address("2001:db8::2");
     },
     nullptr},
    {"ipv6EspInUdpNotBuilt",
     [](XfrmStateConfig& c) {
         c.saddr = Ipv6Address("2001:db8::1");
         c.daddr = Ipv6Address("2001:db8::2");
         c.sel = XfrmSelector::Hosts(c.saddr, c.daddr);
         c.encap.type = XfrmEncapType::EspInUdp;
         c.encap.sport = c.encap.dport = 4500;
     },
     "ESP-in-UDP over IPv6"},
};

INSTANTIATE_TEST_SUITE_P(
    Cases,
    StateConfigTest,
    testing::Combine(
        testing::Values(XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
        testing::ValuesIn(kConfigCases)),
    [](const testing::TestParamInfo<std::tuple<XfrmOffloadType, ConfigCase>>& info) {
        return std::string(DataPathName(std::get<0>(info.param))) + "_" +
               std::get<1>(info.param).name;
    });

// Policies: one family per selector and per template, prefixes within the family, only
// tunnel mode may change the family (Linux's verify_newpolicy_info and validate_tmpl), tunnel
// endpoints of either family's any refused. None reaches the SPD or the device; a valid
// IPv4-in-IPv6 tunnel policy does.
TEST_F(ControlTest, PolicyFamiliesAreValidated)
{
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    const XfrmPolicyConfig good = t->PolicyConfig(true, XfrmDir::Out, XfrmOffloadType::Packet);

    struct Case
    {
        const char* name;
        std::function<void(XfrmPolicyConfig&)> mutate;
        const char* says;
    };

    const std::vector<Case> cases = {
        {"mixed selector", [](XfrmPolicyConfig& c) { c.sel.dst = Ipv6Address("::2"); }, "sel:"},
        {"prefix 129 on IPv4", [](XfrmPolicyConfig& c) { c.sel.dstPrefix = 129; }, "longer"},
        {"transport template of the other family",
         [](XfrmPolicyConfig& c) {
             c.tmpl.mode = XfrmMode::Transport;
             c.tmpl.saddr = Ipv6Address("2001:db8::1");
             c.tmpl.daddr = Ipv6Address("2001:db8::2");
         },
         "transport mode"},
        {"tunnel to IPv6's any",
         [](XfrmPolicyConfig& c) {
             c.tmpl.mode = XfrmMode::Tunnel;
             c.tmpl.saddr = Ipv6Address("2001:db8::1");
             c.tmpl.daddr = Ipv6Address::GetAny();
         },
         "both endpoints"},
        {"mixed template",
         [](XfrmPolicyConfig& c) {
             c.tmpl.mode = XfrmMode::Tunnel;
             c.tmpl.saddr = Ipv4Address("192.0.2.1");
             c.tmpl.daddr = Ipv6Address("2001:db8::2");
         },
         "two families"},
    };
    for (const Case& k : cases)
    {
        SCOPED_TRACE(k.name);
        XfrmPolicyConfig c = good;
        k.mutate(c);
        std::string error;
        EXPECT_FALSE(t->stackA->AddPolicy(c, &error));
        EXPECT_NE(error.find(k.says), std::string::npos) << error;
        EXPECT_FALSE(t->stackA->UpdatePolicy(c, &error));
    }
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), 0u);
    EXPECT_EQ(Counter(t->devA, "PolicyAdd"), 0u);
    std::string error;
    EXPECT_TRUE(t->stackA->AddPolicy(good, &error)) << error << ": the checks can pass";
}

// ---- duplicates ----

using DuplicateTest = SimulationTest<XfrmOffloadType>;

TEST_P(DuplicateTest, SameDaddrAndSpiRejected)
{
    TopologyOptions opt;
    opt.mode = GetParam();
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    const XfrmOffloadType type = GetParam();
    std::string error;
    ASSERT_TRUE(t->stackA->AddState(t->SaConfig(true, true, type), &error)) << error;
    const uint32_t used = ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed();
    const uint64_t adds = Counter(t->devA, "StateAdd");

    // Same (daddr, spi): refused whatever else differs, even without offload.
    for (XfrmOffloadType again : {type, XfrmOffloadType::None})
    {
        XfrmStateConfig dup = t->SaConfig(true, true, again);
        dup.reqid = 77;
        error.clear();
        EXPECT_FALSE(t->stackA->AddState(dup, &error));
        EXPECT_NE(error.find("spi"), std::string::npos) << error;
        EXPECT_NE(error.find("exists"), std::string::npos) << error;
    }
    EXPECT_EQ(t->stackA->GetStates().GetN(), 1u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), used);
    EXPECT_EQ(Counter(t->devA, "StateAdd"), adds) << "the duplicate must not reach the device";

    // The same SPI to another destination is another SA.
    XfrmStateConfig other = t->SaConfig(true, true, XfrmOffloadType::None);
    other.daddr = Ipv4Address("10.9.9.9");
    EXPECT_TRUE(t->stackA->AddState(other, &error)) << error;
    EXPECT_EQ(t->stackA->GetStates().GetN(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         DuplicateTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         [](const testing::TestParamInfo<XfrmOffloadType>& info) {
                             return std::string(DataPathName(info.param));
                         });

// ---- HW policies outrank SW policies ----

enum class Shadowed : uint8_t
{
    Block,        //!< a block policy
    MissingState, //!< an ipsec policy whose template no state serves
};

struct PriorityParam
{
    XfrmOffloadType
        mode; //!< Packet: the priority-1000 policy is offloaded; None: it is a software policy
    Shadowed shadowed;
};

using PolicyPriorityTest = SimulationTest<PriorityParam>;

TEST_P(PolicyPriorityTest, HardwarePolicyOutranksBetterSoftwarePriority)
{
    const PriorityParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.policyPriority = 1000;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    // Priority 0 software policies for UDP between the same hosts (the same selector would be
    // EEXIST), on both ends; then, in packet offload, the offloaded policies again, which
    // enter at the head of the list (Linux's xfrm_policy_insert_list).
    for (bool onA : {true, false})
    {
        for (XfrmDir dir : {XfrmDir::Out, XfrmDir::In})
        {
            XfrmPolicyConfig p = t->PolicyConfig(onA, dir, XfrmOffloadType::None);
            p.sel.proto = 17;
            p.priority = 0;
            if (param.shadowed == Shadowed::Block)
            {
                p.action = XfrmPolicyAction::Block;
                p.hasTemplate = false;
            }
            else
            {
                p.tmpl.reqid = 999; // no state has it
            }
            std::string error;
            ASSERT_TRUE((onA ? t->stackA : t->stackB)->AddPolicy(p, &error)) << error;
        }
        const std::vector<Ptr<XfrmPolicy>> installed = onA ? t->policiesA : t->policiesB;
        for (Ptr<XfrmPolicy> p : installed)
        {
            if (p->IsHardware())
            {
                Ptr<XfrmStack> stack = onA ? t->stackA : t->stackB;
                ASSERT_TRUE(stack->DeletePolicy(p));
                ASSERT_TRUE(t->AddPolicy(onA, p->GetConfig().dir, XfrmOffloadType::Packet));
            }
        }
    }
    const uint32_t delivered = SendAndCount(*t, 10);
    if (param.mode == XfrmOffloadType::Packet)
    {
        EXPECT_EQ(delivered, 10u);
        EXPECT_EQ(Counter(t->devA, "PacketOffloadTxPackets"), 10u);
        EXPECT_EQ(Counter(t->devB, "PacketOffloadRxPackets"), 10u);
        EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutPolBlock), 0u);
        EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutNoStates), 0u);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InPolBlock), 0u);
        EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InTmplMismatch), 0u);
    }
    else
    {
        // Control: between software policies the lower priority value wins.
        EXPECT_EQ(delivered, 0u);
        const XfrmDrop expected =
            param.shadowed == Shadowed::Block ? XfrmDrop::OutPolBlock : XfrmDrop::OutNoStates;
        EXPECT_EQ(t->stackA->GetDropCount(expected), 10u);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    PolicyPriorityTest,
    testing::Values(PriorityParam{XfrmOffloadType::Packet, Shadowed::Block},
                    PriorityParam{XfrmOffloadType::Packet, Shadowed::MissingState},
                    PriorityParam{XfrmOffloadType::None, Shadowed::Block},
                    PriorityParam{XfrmOffloadType::None, Shadowed::MissingState}),
    [](const testing::TestParamInfo<PriorityParam>& info) {
        return std::string(info.param.mode == XfrmOffloadType::Packet ? "hw1000" : "sw1000") +
               "_over_" + (info.param.shadowed == Shadowed::Block ? "block0" : "missingState0");
    });

// ---- link down ----

using LinkDownTest = SimulationTest<XfrmOffloadType>;

TEST_P(LinkDownTest, OffloadedStatesAndPoliciesFlushed)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inA);
    // Some traffic first, so that the flush happens on a working SA.
    EXPECT_EQ(SendAndCount(*t, 5), 5u);

    // A software-only state and policy on A must survive.
    XfrmStateConfig swConfig = t->SaConfig(true, true, XfrmOffloadType::None);
    swConfig.spi = 0x5555;
    std::string error;
    Ptr<XfrmState> swState = t->stackA->AddState(swConfig, &error);
    ASSERT_TRUE(swState) << error;
    XfrmPolicyConfig swPolicyConfig;
    swPolicyConfig.sel = XfrmSelector::Hosts(t->hostAddrA, Ipv4Address("10.9.9.9"));
    swPolicyConfig.dir = XfrmDir::Out;
    swPolicyConfig.hasTemplate = false; // bypass
    Ptr<XfrmPolicy> swPolicy = t->stackA->AddPolicy(swPolicyConfig, &error);
    ASSERT_TRUE(swPolicy) << error;

    const size_t policiesBefore = t->stackA->GetPolicies().GetN();
    const uint32_t offloadedPolicies = mode == XfrmOffloadType::Packet ? 2 : 0;
    ASSERT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 2u);
    ASSERT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(), offloadedPolicies);
    const size_t statesB = t->stackB->GetStates().GetN();
    const uint32_t usedB = ReferenceOffloadEngine::Of(t->devB)->GetSaTable().GetUsed();

    t->devA->SetLinkDown(true);
    EXPECT_FALSE(t->devA->IsLinkUp());

    EXPECT_EQ(t->stackA->GetStates().GetN(), 1u);
    EXPECT_EQ(t->stackA->FindState(swConfig.daddr, swConfig.spi), swState);
    EXPECT_FALSE(t->stackA->FindState(t->endAddrB, t->spiAB));
    EXPECT_FALSE(t->stackA->FindState(t->endAddrA, t->spiBA));
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), policiesBefore - offloadedPolicies);
    for (const auto& p : t->stackA->GetPolicies().GetAll())
    {
        EXPECT_FALSE(p->GetOffload().ops) << "an offloaded policy survived the flush";
    }
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 0u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(), 0u);
    EXPECT_EQ(Counter(t->devA, "StateDelete"), 2u);
    EXPECT_EQ(Counter(t->devA, "StateFree"), 2u);
    EXPECT_EQ(Counter(t->devA, "PolicyDelete"), offloadedPolicies);
    EXPECT_EQ(Counter(t->devA, "PolicyFree"), offloadedPolicies);
    EXPECT_FALSE(t->outA->GetOffload().ops);
    EXPECT_FALSE(t->inA->GetOffload().ops);

    // The other end's device is still up: nothing changed there.
    EXPECT_EQ(t->stackB->GetStates().GetN(), statesB);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devB)->GetSaTable().GetUsed(), usedB);
    EXPECT_EQ(Counter(t->devB, "StateDelete"), 0u);

    // Nothing is freed twice once time runs on.
    RunUntil(Simulator::Now() + Seconds(2));
    EXPECT_EQ(Counter(t->devA, "StateFree"), 2u);
    EXPECT_EQ(Counter(t->devA, "PolicyFree"), offloadedPolicies);
}

TEST_F(ControlTest, LinkDownLeavesSoftwareIpsecAlone)
{
    // Software IPsec states never live in the device: a link down leaves them alone.
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::None;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA);
    t->devA->SetLinkDown(true);
    EXPECT_EQ(t->stackA->GetStates().GetN(), 2u);
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), 2u);
    EXPECT_EQ(Counter(t->devA, "StateDelete"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         LinkDownTest,
                         testing::Values(XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
                         [](const testing::TestParamInfo<XfrmOffloadType>& info) {
                             return std::string(DataPathName(info.param));
                         });

// ---- delete and free ----

using DeleteTest = SimulationTest<XfrmOffloadType>;

TEST_P(DeleteTest, DeleteStateAndPolicyReachTheDevice)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA);
    t->stackA->SetAttribute("StateFreeDelay", TimeValue(MilliSeconds(200)));
    EXPECT_EQ(SendAndCount(*t, 3), 3u);

    const Time now = Simulator::Now();
    ASSERT_TRUE(t->stackA->DeleteState(t->endAddrB, t->spiAB));
    EXPECT_FALSE(t->stackA->DeleteState(t->endAddrB, t->spiAB)) << "deleted twice";
    EXPECT_FALSE(t->stackA->FindState(t->endAddrB, t->spiAB));
    EXPECT_EQ(Counter(t->devA, "StateDelete"), 1u) << "xdo_dev_state_delete at once";
    // xdo_dev_state_free comes after the stack's garbage-collection delay.
    EXPECT_EQ(Counter(t->devA, "StateFree"), 0u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 2u);
    RunUntil(now + Seconds(1));
    EXPECT_EQ(Counter(t->devA, "StateFree"), 1u);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetSaTable().GetUsed(), 1u);

    // Policies: only packet offload puts them in the device.
    Ptr<XfrmPolicy> out = t->policiesA.at(0);
    ASSERT_EQ(out->GetConfig().dir, XfrmDir::Out);
    const size_t before = t->stackA->GetPolicies().GetN();
    ASSERT_TRUE(t->stackA->DeletePolicy(out));
    EXPECT_FALSE(t->stackA->DeletePolicy(out)) << "deleted twice";
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), before - 1);
    const uint64_t expected = mode == XfrmOffloadType::Packet ? 1 : 0;
    EXPECT_EQ(Counter(t->devA, "PolicyDelete"), expected);
    EXPECT_EQ(Counter(t->devA, "PolicyFree"), expected);
    EXPECT_EQ(ReferenceOffloadEngine::Of(t->devA)->GetPolicyCount(),
              mode == XfrmOffloadType::Packet ? 1u : 0u);
    EXPECT_FALSE(out->GetOffload().ops);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         DeleteTest,
                         testing::Values(XfrmOffloadType::Crypto, XfrmOffloadType::Packet),
                         [](const testing::TestParamInfo<XfrmOffloadType>& info) {
                             return std::string(DataPathName(info.param));
                         });

} // namespace
