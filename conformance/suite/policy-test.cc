// Conformance: policies in packet offload (full-offload series v3, cover letter; xfrm_device.rst
// "Flow"): the device holds the offloaded policies and protects exactly the traffic they
// select, offloaded policies outrank every software policy, and a deleted policy protects
// nothing any more.
//
// Device-independent: judged by the wire (Scapy's ESP decrypts what the device sent), the
// sockets and the stack's counters.
#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "tcp-transfer.h"

#include <algorithm>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint16_t kOtherPort = kUdpPort + 1; //!< a port no policy selects
constexpr uint16_t kCraftedSourcePort = 5555;

/// Packets one end put on the wire in [from, to) with IP protocol `proto` (and, for ESP, SPI
/// `spi`).
std::vector<const WirePacket*>
OnWire(const WireCapture& wire,
       bool fromA,
       uint8_t proto,
       uint32_t spi = 0,
       Time from = Seconds(0),
       Time to = Seconds(1000))
{
    std::vector<const WirePacket*> out;
    for (const WirePacket* w : wire.From(fromA))
    {
        if (IpProtocol(w->ip) == proto && (proto != kProtoEsp || EspSpiOf(w->ip) == spi) &&
            w->at >= from && w->at < to)
        {
            out.push_back(w);
        }
    }
    return out;
}

/// Destination port of a plaintext UDP packet on the wire (the inner packet in tunnel mode is
/// forwarded as is, so the outer header is the host's).
uint16_t
UdpDestinationPort(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    return ip.size() >= ihl + 4 ? uint16_t(ip[ihl + 2] << 8 | ip[ihl + 3]) : 0;
}

/// Scapy's ESP must decrypt each packet to the next of `sent`, sent to `port`.
void
ExpectScapyDecrypts(const Topology& t,
                    bool fromA,
                    const EspAlgorithm& alg,
                    uint32_t spi,
                    const std::vector<const WirePacket*>& esp,
                    const std::vector<Bytes>& sent,
                    uint16_t port = kUdpPort)
{
    ScapyEspOracle oracle(alg,
                          spi,
                          t.Tunnel(),
                          Dotted(fromA ? t.endAddrA : t.endAddrB),
                          Dotted(fromA ? t.endAddrB : t.endAddrA),
                          t.opt.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    ASSERT_EQ(esp.size(), sent.size()) << "ESP packets on the wire vs datagrams sent";
    for (size_t i = 0; i < esp.size(); ++i)
    {
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(esp[i]->ip, 0, &inner, &error))
            << "Scapy cannot decrypt ESP packet " << i << ": " << error;
        const uint32_t data = IpHeaderLength(inner) + 8;
        ASSERT_GE(inner.size(), data);
        EXPECT_EQ(UdpDestinationPort(inner), port);
        EXPECT_EQ(Bytes(inner.begin() + data, inner.end()), sent[i])
            << "plaintext of ESP packet " << i << " differs from the datagram sent";
    }
}

/// The connection's policies, but selecting only UDP to kUdpPort from A to B.
void
InstallPortPolicies(Topology& t)
{
    for (bool onA : {true, false})
    {
        for (XfrmDir dir : {XfrmDir::Out, XfrmDir::In, XfrmDir::Fwd})
        {
            if (dir == XfrmDir::Fwd && !t.Tunnel())
            {
                continue;
            }
            const bool aToB = (dir == XfrmDir::Out) == onA;
            XfrmPolicyConfig p = t.PolicyConfig(onA,
                                                dir,
                                                dir == XfrmDir::Fwd ? XfrmOffloadType::None
                                                                    : XfrmOffloadType::Packet);
            p.sel.proto = kProtoUdp;
            (aToB ? p.sel.dport : p.sel.sport) = kUdpPort;
            std::string error;
            Ptr<XfrmPolicy> policy = (onA ? t.stackA : t.stackB)->AddPolicy(p, &error);
            EXPECT_TRUE(policy) << XfrmDirName(dir) << " on " << (onA ? "A" : "B") << ": " << error;
        }
    }
}

// ---- PKT-POLICY-IN-DEVICE ----------------------------------------------------------------

using PKT_POLICY_IN_DEVICE = SimulationTest<Case>;

// The offloaded policies select UDP to one port. The stack hands all of A's traffic down in
// plaintext; the device protects exactly the selected datagrams (Scapy decrypts them) and
// lets the rest through unprotected, and B receives both.
TEST_P(PKT_POLICY_IN_DEVICE, ProtectsExactlyTheSelectedTraffic)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    t->outA = t->AddSa(true, true, XfrmOffloadType::Packet, {});
    t->inB = t->AddSa(true, false, XfrmOffloadType::Packet, {});
    t->outB = t->AddSa(false, true, XfrmOffloadType::Packet, {});
    t->inA = t->AddSa(false, false, XfrmOffloadType::Packet, {});
    ASSERT_TRUE(t->outA && t->inB && t->outB && t->inA);
    InstallPortPolicies(*t);
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto selectedSink = InstallUdpSink(t->hostB, kUdpPort);
    auto otherSink = InstallUdpSink(t->hostB, kOtherPort);
    auto selected = InstallUdpSender(t->hostA, t->hostAddrB, kUdpPort);
    auto other = InstallUdpSender(t->hostA, t->hostAddrB, kOtherPort);
    const auto sentSelected = Payloads(8, 0);
    const auto sentOther = Payloads(8, 100);
    ScheduleDatagrams(selected, sentSelected, MilliSeconds(10), MilliSeconds(1));
    ScheduleDatagrams(other, sentOther, MilliSeconds(10) + MicroSeconds(500), MilliSeconds(1));
    RunTo(MilliSeconds(100));

    EXPECT_EQ(Delivered(*selectedSink, sentSelected), sentSelected.size());
    EXPECT_EQ(Delivered(*otherSink, sentOther), sentOther.size());
    const auto plaintext = OnWire(*wire, true, kProtoUdp);
    EXPECT_EQ(plaintext.size(), sentOther.size());
    for (const WirePacket* w : plaintext)
    {
        EXPECT_EQ(UdpDestinationPort(w->ip), kOtherPort) << "selected traffic in plaintext";
    }
    ExpectScapyDecrypts(*t,
                        true,
                        t->algAB,
                        t->spiAB,
                        OnWire(*wire, true, kProtoEsp, t->spiAB),
                        sentSelected);
    KeepKeys(*t);
    RecordEvidence("esp_from_a", OnWire(*wire, true, kProtoEsp, t->spiAB).size());
    RecordEvidence("plaintext_from_a", plaintext.size());
    RecordEvidence("delivered_selected", Delivered(*selectedSink, sentSelected));
    RecordEvidence("delivered_other", Delivered(*otherSink, sentOther));
}

// RX: ESP that Scapy made for the SA is decrypted by B's device and delivered; the same
// datagram in plaintext, which the offloaded in policy requires protected, is not. Only B has
// IPsec: A's device is a plain wire for the crafted packets.
TEST_P(PKT_POLICY_IN_DEVICE, AcceptsSelectedTrafficOnlyProtected)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    t->inB = t->AddSa(true, false, XfrmOffloadType::Packet, {});
    t->AddPolicy(false, XfrmDir::In, XfrmOffloadType::Packet);
    if (t->Tunnel())
    {
        t->AddPolicy(false, XfrmDir::Fwd, XfrmOffloadType::None);
    }
    ASSERT_TRUE(t->inB && t->inB->IsOffloaded(XfrmOffloadType::Packet));
    auto sink = InstallUdpSink(t->hostB);
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          t->opt.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto protectedData = Payloads(3, 0);
    const auto plainData = Payloads(3, 100);
    for (uint32_t i = 0; i < 3; ++i)
    {
        const Bytes udp = UdpDatagramBytes(t->hostAddrA,
                                           t->hostAddrB,
                                           kCraftedSourcePort,
                                           kUdpPort,
                                           protectedData[i]);
        Bytes esp;
        ASSERT_TRUE(oracle.Encrypt(Ipv4Bytes(t->hostAddrA, t->hostAddrB, kProtoUdp, udp),
                                   i + 1,
                                   &esp,
                                   &error))
            << error;
        ScheduleInject(MilliSeconds(10 + i), t->devA, t->devB, esp);
        const Bytes plainUdp = UdpDatagramBytes(t->hostAddrA,
                                                t->hostAddrB,
                                                kCraftedSourcePort,
                                                kUdpPort,
                                                plainData[i]);
        ScheduleInject(MilliSeconds(20 + i),
                       t->devA,
                       t->devB,
                       Ipv4Bytes(t->hostAddrA, t->hostAddrB, kProtoUdp, plainUdp));
    }
    RunTo(MilliSeconds(100));
    EXPECT_EQ(Delivered(*sink, protectedData), protectedData.size())
        << "the device did not decrypt ESP from an independent implementation";
    EXPECT_EQ(Delivered(*sink, plainData), 0u) << "selected traffic accepted in plaintext";
    RecordEvidence("delivered_protected", Delivered(*sink, protectedData));
    RecordEvidence("delivered_plaintext", Delivered(*sink, plainData));
    RecordEvidence("stack_b_tmpl_mismatch", t->stackB->GetDropCount(XfrmDrop::InTmplMismatch));
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_POLICY_IN_DEVICE,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// ---- POL-HW-OUTRANKS-SW ------------------------------------------------------------------

using POL_HW_OUTRANKS_SW = SimulationTest<Case>;

/// A software policy beside each offloaded one: the same addresses, UDP only (a different
/// selector, which Linux accepts; the same selector would be EEXIST), priority 0 where the
/// offloaded ones have 1000. It either blocks, or asks for an SA that does not exist.
XfrmPolicyConfig
SoftwareRival(const Topology& t, bool onA, XfrmDir dir, bool blocks)
{
    XfrmPolicyConfig p = t.PolicyConfig(onA, dir, XfrmOffloadType::None);
    p.sel.proto = kProtoUdp;
    p.priority = 0;
    if (blocks)
    {
        p.action = XfrmPolicyAction::Block;
        p.hasTemplate = false;
    }
    else
    {
        p.tmpl.reqid = 999; // no state has it
    }
    return p;
}

/// Mainline's rule (xfrm_policy_insert_list): an offloaded policy enters at the head of its
/// list, so one added after a software rival outranks it whatever their priorities, on TX and
/// RX; once A's offloaded out policy is deleted, A's software policy takes effect (so it was
/// live).
void
CheckHardwareOutranks(const Case& c, bool softwareBlocks)
{
    TopologyOptions opt = OptionsOf(c);
    opt.policyPriority = 1000;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB && t->outB && t->inA);
    // The rivals first, then the offloaded policies again.
    std::vector<Ptr<XfrmPolicy>> offloaded;
    for (bool onA : {true, false})
    {
        Ptr<XfrmStack> stack = onA ? t->stackA : t->stackB;
        for (Ptr<XfrmPolicy> p : onA ? t->policiesA : t->policiesB)
        {
            if (p->IsHardware())
            {
                ASSERT_TRUE(stack->DeletePolicy(p));
            }
        }
        for (XfrmDir dir : {XfrmDir::Out, XfrmDir::In})
        {
            std::string error;
            ASSERT_TRUE(stack->AddPolicy(SoftwareRival(*t, onA, dir, softwareBlocks), &error))
                << error;
        }
        for (XfrmDir dir : {XfrmDir::Out, XfrmDir::In})
        {
            Ptr<XfrmPolicy> p = t->AddPolicy(onA, dir, XfrmOffloadType::Packet);
            ASSERT_TRUE(p && p->IsHardware()) << "re-adding the offloaded policy failed";
            offloaded.push_back(p);
        }
    }
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto sinkB = InstallUdpSink(t->hostB);
    auto sinkA = InstallUdpSink(t->hostA);
    auto senderA = InstallUdpSender(t->hostA, t->hostAddrB);
    auto senderB = InstallUdpSender(t->hostB, t->hostAddrA);
    const auto sentAB = Payloads(8, 0);
    const auto sentBA = Payloads(8, 500);
    ScheduleDatagrams(senderA, sentAB, MilliSeconds(10), MilliSeconds(1));
    ScheduleDatagrams(senderB, sentBA, MilliSeconds(10) + MicroSeconds(500), MilliSeconds(1));
    RunTo(MilliSeconds(50));

    EXPECT_EQ(Delivered(*sinkB, sentAB), sentAB.size()) << "TX or RX used the software policy";
    EXPECT_EQ(Delivered(*sinkA, sentBA), sentBA.size()) << "TX or RX used the software policy";
    ExpectScapyDecrypts(*t,
                        true,
                        t->algAB,
                        t->spiAB,
                        OnWire(*wire, true, kProtoEsp, t->spiAB),
                        sentAB);
    for (Ptr<XfrmStack> s : {t->stackA, t->stackB})
    {
        for (XfrmDrop stat : {XfrmDrop::OutPolBlock,
                              XfrmDrop::OutNoStates,
                              XfrmDrop::InPolBlock,
                              XfrmDrop::InTmplMismatch})
        {
            EXPECT_EQ(s->GetDropCount(stat), 0u) << XfrmDropName(stat);
        }
    }
    KeepKeys(*t);
    RecordEvidence("delivered_ab", Delivered(*sinkB, sentAB));
    RecordEvidence("delivered_ba", Delivered(*sinkA, sentBA));

    // Control: without A's offloaded out policy the software one decides.
    ASSERT_EQ(offloaded.at(0)->GetConfig().dir, XfrmDir::Out);
    ASSERT_TRUE(t->stackA->DeletePolicy(offloaded.at(0)));
    const auto afterDelete = Payloads(3, 200);
    ScheduleDatagrams(senderA, afterDelete, MilliSeconds(10), MilliSeconds(1)); // from now
    RunTo(MilliSeconds(100));
    EXPECT_EQ(Delivered(*sinkB, afterDelete), 0u);
    const XfrmDrop expected = softwareBlocks ? XfrmDrop::OutPolBlock : XfrmDrop::OutNoStates;
    EXPECT_EQ(t->stackA->GetDropCount(expected), afterDelete.size())
        << "the software policy was not in force";
    RecordEvidence("software_policy_drops", t->stackA->GetDropCount(expected));
}

TEST_P(POL_HW_OUTRANKS_SW, OverASoftwareBlockPolicy)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    CheckHardwareOutranks(c, true);
}

TEST_P(POL_HW_OUTRANKS_SW, OverASoftwareIpsecPolicyWithoutState)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    CheckHardwareOutranks(c, false);
}

// The rest of mainline's rule: a software policy added after an offloaded one, with a better
// priority, goes ahead of it (v3's "HW always higher" was not merged); the offloaded policy's
// own selector twice is refused (EEXIST), as a packet is never judged by two equal selectors.
TEST_P(POL_HW_OUTRANKS_SW, LaterBetterSoftwarePolicyGoesFirstAndSameSelectorIsRefused)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    TopologyOptions opt = OptionsOf(c);
    opt.policyPriority = 1000;
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    std::string error;
    XfrmPolicyConfig same = t->PolicyConfig(true, XfrmDir::Out, XfrmOffloadType::None);
    EXPECT_FALSE(t->stackA->AddPolicy(same, &error)) << "a second policy with the same selector";
    EXPECT_NE(error.find("EEXIST"), std::string::npos) << error;
    ASSERT_TRUE(t->stackA->AddPolicy(SoftwareRival(*t, true, XfrmDir::Out, true), &error)) << error;
    auto sinkB = InstallUdpSink(t->hostB);
    auto senderA = InstallUdpSender(t->hostA, t->hostAddrB);
    const auto sent = Payloads(4, 0);
    ScheduleDatagrams(senderA, sent, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(50));
    EXPECT_EQ(Delivered(*sinkB, sent), 0u) << "the later, better software block was passed over";
    EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutPolBlock), sent.size());
    RecordEvidence("blocked", t->stackA->GetDropCount(XfrmDrop::OutPolBlock));
}

INSTANTIATE_TEST_SUITE_P(,
                         POL_HW_OUTRANKS_SW,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// ---- POL-TMPL-SPI ------------------------------------------------------------------------

using POL_TMPL_SPI = SimulationTest<Case>;

/// SPIs of A's ESP packets on the wire, in order, from `from` on.
std::vector<uint32_t>
EspSpisFromA(const WireCapture& wire, Time from)
{
    std::vector<uint32_t> spis;
    for (const WirePacket* w : wire.From(true))
    {
        if (IpProtocol(w->ip) == kProtoEsp && w->at >= from)
        {
            spis.push_back(EspSpiOf(w->ip));
        }
    }
    return spis;
}

// xfrm_state_find resolves the template: with its SPI set only that SA serves the policy.
// A second A->B SA (newer, so it would win without a template SPI) carries nothing until
// UPDPOLICY moves the SPI to it, then everything, and back again: both ways, on both ends'
// data paths, every datagram delivered.
TEST_P(POL_TMPL_SPI, UpdatePolicyMovesTrafficBothWays)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB);
    Ptr<XfrmPolicy> out;
    for (Ptr<XfrmPolicy> p : t->policiesA)
    {
        if (p->GetConfig().dir == XfrmDir::Out)
        {
            out = p;
        }
    }
    ASSERT_TRUE(out);
    XfrmPolicyConfig pinned = out->GetConfig();
    pinned.tmpl.spi = t->spiAB;
    std::string error;
    ASSERT_TRUE(t->stackA->UpdatePolicy(pinned, &error)) << error;

    // The second SA pair member on both ends, as a rekey installs it (new SPI, same reqid).
    const uint32_t newSpi = t->spiAB + 0x100;
    for (bool onSender : {true, false})
    {
        XfrmStateConfig sa = t->SaConfig(true, onSender, c.mode);
        sa.spi = newSpi;
        Ptr<XfrmStack> stack = onSender ? t->stackA : t->stackB;
        ASSERT_TRUE(stack->AddState(sa, &error)) << error;
    }
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    const auto first = Payloads(3, 0);
    const auto second = Payloads(3, 100);
    const auto third = Payloads(3, 200);
    ScheduleDatagrams(sender, first, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(20));
    EXPECT_EQ(EspSpisFromA(*wire, Seconds(0)), std::vector<uint32_t>(3, t->spiAB))
        << "the pinned SA must carry the traffic, not the newer one";

    pinned.tmpl.spi = newSpi;
    ASSERT_TRUE(t->stackA->UpdatePolicy(pinned, &error)) << error;
    const Time switched = Simulator::Now();
    ScheduleDatagrams(sender, second, MilliSeconds(1), MilliSeconds(1));
    RunTo(MilliSeconds(40));
    EXPECT_EQ(EspSpisFromA(*wire, switched), std::vector<uint32_t>(3, newSpi))
        << "UPDPOLICY did not move the traffic to the new SA";

    pinned.tmpl.spi = t->spiAB;
    ASSERT_TRUE(t->stackA->UpdatePolicy(pinned, &error)) << error;
    const Time back = Simulator::Now();
    ScheduleDatagrams(sender, third, MilliSeconds(1), MilliSeconds(1));
    RunTo(MilliSeconds(60));
    EXPECT_EQ(EspSpisFromA(*wire, back), std::vector<uint32_t>(3, t->spiAB))
        << "UPDPOLICY did not move the traffic back to the first SA";

    EXPECT_EQ(Delivered(*sink, first) + Delivered(*sink, second) + Delivered(*sink, third), 9u);
    EXPECT_EQ(t->stackA->GetPolicies().GetN(), t->policiesA.size())
        << "UPDPOLICY must replace the policy, not add one";
    KeepKeys(*t);
    RecordEvidence("delivered",
                   Delivered(*sink, first) + Delivered(*sink, second) + Delivered(*sink, third));
}

INSTANTIATE_TEST_SUITE_P(,
                         POL_TMPL_SPI,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

// ---- POL-DELETE --------------------------------------------------------------------------

using POL_DELETE = SimulationTest<Case>;

// Deleting the offloaded policies of the A->B flow (A's out, B's in) leaves no policy for it:
// as in Linux, the traffic then goes out unprotected, so the device must not protect it any
// more. The device's policy table has room again (capacity 2), and re-added policies protect
// the flow again.
TEST_P(POL_DELETE, DeletedPolicyNoLongerProtects)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (DeviceUnderTest().GetCapabilities().max_policies < 2)
    {
        GTEST_SKIP() << "device holds fewer than 2 policies";
    }
    TopologyOptions opt = OptionsOf(c);
    opt.policyCapacity = 2; // out and in: full from the start
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    ASSERT_GE(t->policiesA.size(), 2u);
    ASSERT_GE(t->policiesB.size(), 2u);
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);

    const auto before = Payloads(4, 0);
    ScheduleDatagrams(sender, before, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(30));
    EXPECT_EQ(Delivered(*sink, before), before.size());

    // A's out and B's in (and, for tunnels, B's software fwd policy) go.
    std::vector<Ptr<XfrmPolicy>> deleted{t->policiesA[0], t->policiesB[1]};
    ASSERT_EQ(t->policiesA[0]->GetConfig().dir, XfrmDir::Out);
    ASSERT_EQ(t->policiesB[1]->GetConfig().dir, XfrmDir::In);
    EXPECT_TRUE(t->stackA->DeletePolicy(t->policiesA[0]));
    EXPECT_TRUE(t->stackB->DeletePolicy(t->policiesB[1]));
    if (t->Tunnel())
    {
        EXPECT_TRUE(t->stackB->DeletePolicy(t->policiesB.at(2)));
    }
    const Time deletedAt = Simulator::Now();
    const auto unprotected = Payloads(4, 100);
    ScheduleDatagrams(sender, unprotected, MilliSeconds(10), MilliSeconds(1)); // from now
    RunTo(MilliSeconds(70));
    EXPECT_TRUE(OnWire(*wire, true, kProtoEsp, t->spiAB, deletedAt).empty())
        << "the device still protects traffic of a deleted policy";
    EXPECT_EQ(OnWire(*wire, true, kProtoUdp, 0, deletedAt).size(), unprotected.size());
    EXPECT_EQ(Delivered(*sink, unprotected), unprotected.size());

    // Re-added, the policies fit the device again and protect the flow.
    const Time readdAt = Simulator::Now();
    t->AddPolicy(true, XfrmDir::Out, XfrmOffloadType::Packet);
    t->AddPolicy(false, XfrmDir::In, XfrmOffloadType::Packet);
    if (t->Tunnel())
    {
        t->AddPolicy(false, XfrmDir::Fwd, XfrmOffloadType::None);
    }
    const auto after = Payloads(4, 200);
    ScheduleDatagrams(sender, after, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(120));
    EXPECT_EQ(Delivered(*sink, after), after.size());
    EXPECT_TRUE(OnWire(*wire, true, kProtoUdp, 0, readdAt).empty());
    const auto esp = OnWire(*wire, true, kProtoEsp, t->spiAB, readdAt);
    ExpectScapyDecrypts(*t, true, t->algAB, t->spiAB, esp, after);
    KeepKeys(*t);
    RecordEvidence("esp_after_delete",
                   OnWire(*wire, true, kProtoEsp, t->spiAB, deletedAt, readdAt).size());
    RecordEvidence("plaintext_after_delete",
                   OnWire(*wire, true, kProtoUdp, 0, deletedAt, readdAt).size());
    RecordEvidence("esp_after_readd", esp.size());
}

INSTANTIATE_TEST_SUITE_P(,
                         POL_DELETE,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
