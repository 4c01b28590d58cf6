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

/// Scapy's ESP for B's inbound A->B SA (sequence number seq): a UDP datagram from host A to
/// host B's `port` carrying data.
Bytes
ScapyEspToB(const Topology& t,
            ScapyEspOracle& oracle,
            uint64_t seq,
            uint16_t port,
            const Bytes& data)
{
    const Bytes udp = UdpDatagramBytes(t.hostAddrA, t.hostAddrB, kCraftedSourcePort, port, data);
    Bytes esp;
    std::string error;
    EXPECT_TRUE(
        oracle.Encrypt(Ipv4Bytes(t.hostAddrA, t.hostAddrB, kProtoUdp, udp), seq, &esp, &error))
        << error;
    return esp;
}

/// Injects, 1 ms apart from `at`, Scapy's ESP for B's SA: first a datagram of `toSelected` to
/// kUdpPort, then one of `toOther` to kOtherPort, in turns (sequence numbers 1, 2, ...).
void
ScheduleScapyEspToBothPorts(const Topology& t,
                            ScapyEspOracle& oracle,
                            const std::vector<Bytes>& toSelected,
                            const std::vector<Bytes>& toOther,
                            Time at)
{
    uint64_t seq = 1;
    for (size_t i = 0; i < std::max(toSelected.size(), toOther.size()); ++i)
    {
        if (i < toSelected.size())
        {
            ScheduleInject(at,
                           t.devA,
                           t.devB,
                           ScapyEspToB(t, oracle, seq++, kUdpPort, toSelected[i]));
            at += MilliSeconds(1);
        }
        if (i < toOther.size())
        {
            ScheduleInject(at,
                           t.devA,
                           t.devB,
                           ScapyEspToB(t, oracle, seq++, kOtherPort, toOther[i]));
            at += MilliSeconds(1);
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

// RX after decryption: what the SA that carried it does not select is never delivered (Linux
// __xfrm_policy_check: "First, check used SA against their selectors", XfrmInStateMismatch). B's
// inbound SA selects UDP to kUdpPort only, its in policy all of A's traffic; Scapy's ESP for the
// SA carries datagrams to both ports. Whether the device or the host drops them, B's sockets
// must see only the selected ones.
TEST_P(PKT_POLICY_IN_DEVICE, DecryptedTrafficOutsideTheSaSelectorNeverDelivered)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    XfrmStateConfig narrow = t->SaConfig(true, false, XfrmOffloadType::Packet);
    narrow.sel.proto = kProtoUdp;
    narrow.sel.dport = kUdpPort;
    std::string error;
    t->inB = t->stackB->AddState(narrow, &error);
    ASSERT_TRUE(t->inB && t->inB->IsOffloaded(XfrmOffloadType::Packet)) << error;
    t->AddPolicy(false, XfrmDir::In, XfrmOffloadType::Packet);
    if (t->Tunnel())
    {
        t->AddPolicy(false, XfrmDir::Fwd, XfrmOffloadType::None);
    }
    auto selectedSink = InstallUdpSink(t->hostB, kUdpPort);
    auto otherSink = InstallUdpSink(t->hostB, kOtherPort);
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          t->opt.esn);
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto selected = Payloads(3, 0);
    const auto outside = Payloads(3, 100);
    ScheduleScapyEspToBothPorts(*t, oracle, selected, outside, MilliSeconds(10));
    RunTo(MilliSeconds(100));
    EXPECT_EQ(Delivered(*selectedSink, selected), selected.size())
        << "the SA's own traffic was not delivered";
    EXPECT_EQ(Delivered(*otherSink, outside), 0u)
        << "decrypted traffic outside the SA's selector was delivered";
    RecordEvidence("delivered_selected", Delivered(*selectedSink, selected));
    RecordEvidence("delivered_outside_sa_selector", Delivered(*otherSink, outside));
}

// RX after decryption, tunnel mode: an inner packet that no inbound policy selects is never
// delivered (Linux __xfrm_policy_check: no policy and a tunnel-mode secpath, XfrmInNoPols). B's
// in (offloaded) and fwd policies select UDP to kUdpPort only; the SA carries both ports.
// Transport mode is not checked: Linux accepts decrypted transport traffic no policy selects.
TEST_P(PKT_POLICY_IN_DEVICE, DecryptedTunnelTrafficNoPolicySelectsNeverDelivered)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (c.ipMode != XfrmMode::Tunnel)
    {
        GTEST_SKIP() << "Linux accepts decrypted transport-mode traffic that no policy selects";
    }
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    t->inB = t->AddSa(true, false, XfrmOffloadType::Packet, {});
    ASSERT_TRUE(t->inB && t->inB->IsOffloaded(XfrmOffloadType::Packet));
    for (XfrmDir dir : {XfrmDir::In, XfrmDir::Fwd})
    {
        XfrmPolicyConfig p =
            t->PolicyConfig(false,
                            dir,
                            dir == XfrmDir::In ? XfrmOffloadType::Packet : XfrmOffloadType::None);
        p.sel.proto = kProtoUdp;
        p.sel.dport = kUdpPort;
        std::string error;
        ASSERT_TRUE(t->stackB->AddPolicy(p, &error)) << XfrmDirName(dir) << ": " << error;
    }
    auto selectedSink = InstallUdpSink(t->hostB, kUdpPort);
    auto otherSink = InstallUdpSink(t->hostB, kOtherPort);
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          true,
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          t->opt.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto selected = Payloads(3, 0);
    const auto unselected = Payloads(3, 100);
    ScheduleScapyEspToBothPorts(*t, oracle, selected, unselected, MilliSeconds(10));
    RunTo(MilliSeconds(100));
    EXPECT_EQ(Delivered(*selectedSink, selected), selected.size())
        << "the policy's own traffic was not delivered";
    EXPECT_EQ(Delivered(*otherSink, unselected), 0u)
        << "decrypted traffic that no inbound policy selects was delivered";
    RecordEvidence("delivered_selected", Delivered(*selectedSink, selected));
    RecordEvidence("delivered_no_policy", Delivered(*otherSink, unselected));
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

// ---- PKT-POLICY-PRIORITY -----------------------------------------------------------------

using PKT_POLICY_PRIORITY = SimulationTest<Case>;

constexpr uint32_t kSpiBroad = 0x0000a0b3; //!< the SA of the broad policy (the narrow one: spiAB)
constexpr uint32_t kReqidBroad = 3;

/// Two overlapping offloaded out policies on A: "narrow" (UDP to kUdpPort, the topology's SA) and
/// "broad" (all of A's traffic, an SA of its own), added in a given order with given priorities.
struct PriorityOrder
{
    const char* name;
    bool narrowFirst;
    uint32_t narrowPriority;
    uint32_t broadPriority;
};

/// Sends UDP to kUdpPort, which both policies select: the one with the lower priority value must
/// protect it (Linux xfrm_policy_lookup_bytype), whichever was added first. A device may refuse
/// offloaded policies with priorities (older mlx5 did; Linux then fails the policy add): the
/// refusal is returned in *refused and nothing is checked.
void
CheckPriorityDecides(const Case& c, const PriorityOrder& order, std::string* refused)
{
    SCOPED_TRACE(order.name);
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    const EspAlgorithm broadAlg = AlgorithmOf(c.alg, 0x33);
    std::string error;
    for (bool onSender : {true, false})
    {
        ASSERT_TRUE(t->AddSa(true, onSender, XfrmOffloadType::Packet, {}));
        XfrmStateConfig broad = t->SaConfig(true, onSender, XfrmOffloadType::Packet);
        broad.spi = kSpiBroad;
        broad.reqid = kReqidBroad;
        broad.algorithm = broadAlg;
        ASSERT_TRUE((onSender ? t->stackA : t->stackB)->AddState(broad, &error)) << error;
    }
    XfrmPolicyConfig narrow = t->PolicyConfig(true, XfrmDir::Out, XfrmOffloadType::Packet);
    narrow.sel.proto = kProtoUdp;
    narrow.sel.dport = kUdpPort;
    narrow.priority = order.narrowPriority;
    XfrmPolicyConfig broad = t->PolicyConfig(true, XfrmDir::Out, XfrmOffloadType::Packet);
    broad.tmpl.reqid = kReqidBroad;
    broad.priority = order.broadPriority;
    for (const XfrmPolicyConfig* p :
         order.narrowFirst ? std::vector{&narrow, &broad} : std::vector{&broad, &narrow})
    {
        if (!t->stackA->AddPolicy(*p, &error))
        {
            ASSERT_EQ(error.rfind("offload: ", 0), 0u) << error;
            *refused = error;
            Simulator::Destroy();
            return;
        }
    }
    // B takes both SAs.
    XfrmPolicyConfig in = t->PolicyConfig(false, XfrmDir::In, XfrmOffloadType::Packet);
    in.tmpl.reqid = 0;
    ASSERT_TRUE(t->stackB->AddPolicy(in, &error)) << error;
    if (t->Tunnel())
    {
        XfrmPolicyConfig fwd = t->PolicyConfig(false, XfrmDir::Fwd, XfrmOffloadType::None);
        fwd.tmpl.reqid = 0;
        ASSERT_TRUE(t->stackB->AddPolicy(fwd, &error)) << error;
    }
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB, kUdpPort);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB, kUdpPort);
    const auto sent = Payloads(4, 0);
    ScheduleDatagrams(sender, sent, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(50));

    const bool narrowWins = order.narrowPriority < order.broadPriority;
    const uint32_t winner = narrowWins ? t->spiAB : kSpiBroad;
    const uint32_t loser = narrowWins ? kSpiBroad : t->spiAB;
    EXPECT_EQ(Delivered(*sink, sent), sent.size());
    EXPECT_TRUE(OnWire(*wire, true, kProtoEsp, loser).empty())
        << "the policy with the higher priority value protected the traffic";
    ExpectScapyDecrypts(*t,
                        true,
                        narrowWins ? t->algAB : broadAlg,
                        winner,
                        OnWire(*wire, true, kProtoEsp, winner),
                        sent);
    RecordEvidence(std::string(order.name) + "_esp_of_winner",
                   OnWire(*wire, true, kProtoEsp, winner).size());
    RecordEvidence(std::string(order.name) + "_esp_of_loser",
                   OnWire(*wire, true, kProtoEsp, loser).size());
    Simulator::Destroy();
}

TEST_P(PKT_POLICY_PRIORITY, LowestValueWinsWhateverTheOrder)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    const PriorityOrder orders[] = {
        {"narrow_wins_added_first", true, 10, 20},
        {"narrow_wins_added_last", false, 10, 20},
        {"broad_wins_added_first", false, 20, 10},
        {"broad_wins_added_last", true, 20, 10},
    };
    for (const PriorityOrder& order : orders)
    {
        std::string refused;
        CheckPriorityDecides(c, order, &refused);
        // A failed ASSERT leaves the helper early: its simulation must go before the next one.
        Simulator::Destroy();
        if (HasFatalFailure())
        {
            return;
        }
        if (!refused.empty())
        {
            GTEST_SKIP() << "device refuses offloaded policies with priorities 10 and 20: "
                         << refused;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_POLICY_PRIORITY,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// ---- PKT-POLICY-BYPASS -------------------------------------------------------------------

using PKT_POLICY_BYPASS = SimulationTest<Case>;

constexpr uint16_t kIkePort = 500;        //!< charon's IKE socket
constexpr uint16_t kNatTPort = 4500;      //!< and its NAT-T socket
constexpr uint32_t kIpsecPriority = 1000; //!< the connection's policies

/// What charon does for one IKE socket (a local UDP port) on one end with hw_offload = packet:
/// the socket's own bypass policies (IP_XFRM_POLICY, allow without template, in and out), which
/// decide before the SPD in the stack (xfrm_sk_policy_lookup), and, as strongSwan 5.9.10+'s
/// manage_bypass adds them, offloaded bypass policies of the port for the device's own lookup:
/// in (dport) first, then out (sport), no template, any address. The device's refusal, if any,
/// goes to *refused.
bool
AddPortBypass(Topology& t, bool onA, uint16_t port, uint32_t priority, std::string* refused)
{
    for (XfrmDir dir : {XfrmDir::In, XfrmDir::Out})
    {
        (onA ? t.stackA : t.stackB)->SetSocketPolicy(kProtoUdp, port, dir, XfrmPolicyAction::Allow);
    }
    for (XfrmDir dir : {XfrmDir::In, XfrmDir::Out})
    {
        XfrmPolicyConfig c;
        c.dir = dir;
        c.priority = priority;
        c.action = XfrmPolicyAction::Allow;
        c.hasTemplate = false;
        c.sel = XfrmSelector::Subnets(Ipv4Address::GetAny(), 0, Ipv4Address::GetAny(), 0);
        c.sel.proto = kProtoUdp;
        (dir == XfrmDir::Out ? c.sel.sport : c.sel.dport) = port;
        c.offloadType = XfrmOffloadType::Packet;
        c.offloadDev = onA ? Ptr<NetDevice>(t.devA) : Ptr<NetDevice>(t.devB);
        std::string error;
        if (!(onA ? t.stackA : t.stackB)->AddPolicy(c, &error))
        {
            EXPECT_EQ(error.rfind("offload: ", 0), 0u) << error;
            *refused = XfrmDirName(dir) + std::string(" bypass of UDP port ") +
                       std::to_string(port) + ": " + error;
            return false;
        }
    }
    return true;
}

/// charon's two IKE sockets (500 and 4500) on both ends.
bool
AddIkeBypasses(Topology& t, uint32_t priority, std::string* refused)
{
    for (bool onA : {true, false})
    {
        for (uint16_t port : {kIkePort, kNatTPort})
        {
            if (!AddPortBypass(t, onA, port, priority, refused))
            {
                return false;
            }
        }
    }
    return true;
}

/// One run of PKT-POLICY-BYPASS: the bypasses' priority (32 wins over the connection's 1000,
/// 2000 loses) and whether they are added before or after the connection's policies.
struct BypassOrder
{
    const char* name;
    uint32_t bypassPriority;
    bool bypassFirst;
};

/// Bypasses of the IKE ports 500 and 4500 beside the connection's policies (priority 1000,
/// all traffic between the hosts). A sends from 500 to B's 500 and B from 4500 to A's 4500, as
/// IKE does. The socket policies hand those datagrams to the device in plaintext; of the
/// device's own policies the one with the lower priority value decides, whichever came first
/// (xfrm_policy_lookup_bytype's order): a bypass at 32 lets them out as they are, one at 2000
/// is outranked and they leave in ESP (the receiver's socket policy takes them either way).
/// What no bypass selects stays protected: UDP to kUdpPort, and, where the bypass wins, UDP
/// from another port to B's 500 (an out bypass selects the source port, not the destination).
/// A device that declares OLAB_FEATURE_POLICY_BYPASS and refuses a bypass fails: strongSwan
/// 5.9.10+ then still offloads the CHILD_SA's policies, and they would encrypt its IKE.
void
CheckBypass(const Case& c, const BypassOrder& order)
{
    SCOPED_TRACE(order.name);
    const bool bypassWins = order.bypassPriority < kIpsecPriority;
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    opt.policyPriority = kIpsecPriority;
    auto t = BuildTestTopology(opt);
    std::string refused;
    if (order.bypassFirst && !AddIkeBypasses(*t, order.bypassPriority, &refused))
    {
        ADD_FAILURE() << "declares OLAB_FEATURE_POLICY_BYPASS but refuses the " << refused;
        return;
    }
    t->InstallIpsec();
    ASSERT_TRUE(t->errors.empty()) << t->errors.front();
    if (!order.bypassFirst && !AddIkeBypasses(*t, order.bypassPriority, &refused))
    {
        ADD_FAILURE() << "declares OLAB_FEATURE_POLICY_BYPASS but refuses the " << refused;
        return;
    }
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t, order.name);
    auto ikeSinkB = InstallUdpSink(t->hostB, kIkePort);
    auto natTSinkA = InstallUdpSink(t->hostA, kNatTPort);
    auto protectedSink = InstallUdpSink(t->hostB, kUdpPort);
    auto ikeA = InstallUdpSenderFrom(t->hostA, kIkePort, t->hostAddrB, kIkePort);
    auto natTB = InstallUdpSenderFrom(t->hostB, kNatTPort, t->hostAddrA, kNatTPort);
    auto protectedA = InstallUdpSender(t->hostA, t->hostAddrB, kUdpPort);
    auto toIkeA = InstallUdpSender(t->hostA, t->hostAddrB, kIkePort);
    const auto sentIke = Payloads(6, 0);
    const auto sentNatT = Payloads(6, 100);
    const auto sentProtected = Payloads(6, 200);
    const auto sentToIke = Payloads(6, 300);
    ScheduleDatagrams(ikeA, sentIke, MilliSeconds(10), MilliSeconds(2));
    ScheduleDatagrams(natTB, sentNatT, MilliSeconds(10) + MicroSeconds(500), MilliSeconds(2));
    if (bypassWins)
    {
        // Apart in time, so each stream's ESP can be told from the other's.
        ScheduleDatagrams(protectedA, sentProtected, MilliSeconds(30), MilliSeconds(2));
        ScheduleDatagrams(toIkeA, sentToIke, MilliSeconds(50), MilliSeconds(2));
    }
    RunTo(MilliSeconds(80));

    EXPECT_EQ(Delivered(*ikeSinkB, sentIke), sentIke.size());
    EXPECT_EQ(Delivered(*natTSinkA, sentNatT), sentNatT.size());
    const auto clearFromA = OnWire(*wire, true, kProtoUdp);
    const auto clearFromB = OnWire(*wire, false, kProtoUdp);
    const auto espFromB = OnWire(*wire, false, kProtoEsp, t->spiBA);
    RecordEvidence(std::string(order.name) + "_clear_udp_from_a", clearFromA.size());
    RecordEvidence(std::string(order.name) + "_clear_udp_from_b", clearFromB.size());
    if (bypassWins)
    {
        EXPECT_EQ(Delivered(*protectedSink, sentProtected), sentProtected.size());
        EXPECT_EQ(Delivered(*ikeSinkB, sentToIke), sentToIke.size());
        ASSERT_EQ(clearFromA.size(), sentIke.size())
            << "what A's bypass selects (from port 500), and only that, leaves in the clear";
        for (const WirePacket* w : clearFromA)
        {
            EXPECT_LT(w->at, MilliSeconds(30)) << "a datagram no bypass selects left in the clear";
        }
        EXPECT_EQ(clearFromB.size(), sentNatT.size())
            << "B's datagrams from its bypassed port 4500 did not all leave as they are";
        EXPECT_TRUE(espFromB.empty()) << "B protected what its bypass selects";
        ExpectScapyDecrypts(
            *t,
            true,
            t->algAB,
            t->spiAB,
            OnWire(*wire, true, kProtoEsp, t->spiAB, MilliSeconds(0), MilliSeconds(45)),
            sentProtected);
        ExpectScapyDecrypts(*t,
                            true,
                            t->algAB,
                            t->spiAB,
                            OnWire(*wire, true, kProtoEsp, t->spiAB, MilliSeconds(45)),
                            sentToIke,
                            kIkePort);
        return;
    }
    EXPECT_TRUE(clearFromA.empty()) << "an outranked bypass let A's datagrams out in the clear";
    EXPECT_TRUE(clearFromB.empty()) << "an outranked bypass let B's datagrams out in the clear";
    ExpectScapyDecrypts(*t,
                        true,
                        t->algAB,
                        t->spiAB,
                        OnWire(*wire, true, kProtoEsp, t->spiAB),
                        sentIke,
                        kIkePort);
    ExpectScapyDecrypts(*t, false, t->algBA, t->spiBA, espFromB, sentNatT, kNatTPort);
}

// OLAB_FEATURE_POLICY_BYPASS: a device that declares it is offered bypass policies (no
// template), which strongSwan 5.9.10+ installs for its IKE ports with hw_offload = packet, as
// mlx5 takes them since "Allow policies with reqid 0, to support IKE policy holes" (its TX
// policy rule then names no SA, so the packet leaves as it is). They rank among the device's
// policies by priority like any other.
TEST_P(PKT_POLICY_BYPASS, BypassPassesWhatItSelectsWhereItRanksFirst)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (!(DeviceUnderTest().GetCapabilities().features & OLAB_FEATURE_POLICY_BYPASS))
    {
        GTEST_SKIP() << "the device does not declare OLAB_FEATURE_POLICY_BYPASS: the host never "
                        "offers it a bypass policy";
    }
    // Each winner once added first and once last: neither the oldest nor the newest policy
    // winning passes for the priority deciding.
    const BypassOrder orders[] = {
        {"bypass_wins_added_first", 32, true},
        {"bypass_wins_added_last", 32, false},
        {"bypass_outranked_added_first", 2000, true},
        {"bypass_outranked_added_last", 2000, false},
    };
    for (const BypassOrder& order : orders)
    {
        CheckBypass(c, order);
        Simulator::Destroy();
        if (HasFatalFailure())
        {
            return;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    ,
    PKT_POLICY_BYPASS,
    testing::ValuesIn(Cases({XfrmOffloadType::Packet}, {Alg::Gcm128}, {XfrmMode::Transport})),
    CaseName);

// ---- PKT-TX-NEWEST-SA --------------------------------------------------------------------

using PKT_TX_NEWEST_SA = SimulationTest<Case>;

// A policy whose template names no SPI (tmpl_spi 0) is served by the newest usable SA that
// matches it (Linux xfrm_state_find / xfrm_state_look_at: of the valid states the latest added;
// ABI olab_policy.tmpl_spi). A second SA for the same reqid is added while the first is in use and
// far from any lifetime limit, as a rekey by time does: from then on the new one carries the
// traffic, and nothing is lost.
TEST_P(PKT_TX_NEWEST_SA, NewestUsableSaServesThePolicy)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    t->outA = t->AddSa(true, true, XfrmOffloadType::Packet, {});
    t->inB = t->AddSa(true, false, XfrmOffloadType::Packet, {});
    ASSERT_TRUE(t->outA && t->inB);
    std::string error;
    for (bool onA : {true, false})
    {
        XfrmPolicyConfig p =
            t->PolicyConfig(onA, onA ? XfrmDir::Out : XfrmDir::In, XfrmOffloadType::Packet);
        p.tmpl.spi = 0;
        ASSERT_TRUE((onA ? t->stackA : t->stackB)->AddPolicy(p, &error)) << error;
    }
    if (t->Tunnel())
    {
        t->AddPolicy(false, XfrmDir::Fwd, XfrmOffloadType::None);
    }
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    const auto before = Payloads(4, 0);
    ScheduleDatagrams(sender, before, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(30));
    ASSERT_EQ(Delivered(*sink, before), before.size());

    constexpr uint32_t kNewSpi = 0x0000a001; // below the old SPI: "highest SPI wins" is wrong too
    const EspAlgorithm newAlg = AlgorithmOf(c.alg, 0x44);
    for (bool onSender : {false, true}) // the receiver first, as a key manager installs them
    {
        XfrmStateConfig fresh = t->SaConfig(true, onSender, XfrmOffloadType::Packet);
        fresh.spi = kNewSpi;
        fresh.algorithm = newAlg;
        ASSERT_TRUE((onSender ? t->stackA : t->stackB)->AddState(fresh, &error)) << error;
    }
    const Time addedAt = Simulator::Now();
    const auto after = Payloads(4, 100);
    ScheduleDatagrams(sender, after, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(70));

    EXPECT_EQ(Delivered(*sink, after), after.size());
    EXPECT_TRUE(OnWire(*wire, true, kProtoEsp, t->spiAB, addedAt).empty())
        << "the older SA still carried the policy's traffic after a newer one was added";
    ExpectScapyDecrypts(*t,
                        true,
                        newAlg,
                        kNewSpi,
                        OnWire(*wire, true, kProtoEsp, kNewSpi, addedAt),
                        after);
    KeepKeys(*t);
    RecordEvidence("esp_old_sa_after_add",
                   OnWire(*wire, true, kProtoEsp, t->spiAB, addedAt).size());
    RecordEvidence("esp_new_sa_after_add", OnWire(*wire, true, kProtoEsp, kNewSpi, addedAt).size());
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_TX_NEWEST_SA,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
