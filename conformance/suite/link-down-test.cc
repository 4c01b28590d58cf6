// Conformance: link down (xfrm_device.rst: "As a netdev is set to DOWN the XFRM stack's netdev
// listener will call xdo_dev_state_delete(), xdo_dev_policy_delete(), xdo_dev_state_free() and
// xdo_dev_policy_free() on any remaining offloaded states"). As Linux's xfrm_dev_event and
// xfrm_dev_down do it: only NETDEV_DOWN (administrative down) or unregister flushes, carrier loss
// flushes nothing, and the flush tells the key manager nothing.
//
// Device-independent: a device that does not really delete and free shows it afterwards. Once
// the link is up again the device must protect nothing by the flushed policies, take the same
// SAs (same daddr and SPI) and policies again as a key manager re-adds them, hold a full table
// of new SAs, and carry traffic that Scapy's ESP decrypts.
#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "tcp-transfer.h"

#include <algorithm>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

/// Packets A put on the wire at or after `from` with IP protocol `proto` (for ESP: SPI `spi`).
std::vector<const WirePacket*>
FromA(const WireCapture& wire, uint8_t proto, uint32_t spi, Time from)
{
    std::vector<const WirePacket*> out;
    for (const WirePacket* w : wire.From(true))
    {
        if (IpProtocol(w->ip) == proto && (proto != kProtoEsp || EspSpiOf(w->ip) == spi) &&
            w->at >= from)
        {
            out.push_back(w);
        }
    }
    return out;
}

using DEV_LINK_DOWN_FLUSH = SimulationTest<Case>;

TEST_P(DEV_LINK_DOWN_FLUSH, EverythingFlushedAndTheDeviceUsableAgain)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string whyNot;
    if (!ScapyEspOracle::IsAvailable(&whyNot))
    {
        GTEST_SKIP() << "Scapy ESP oracle unavailable: " << whyNot;
    }
    const auto& caps = DeviceUnderTest().GetCapabilities();
    const uint32_t saCapacity = std::min<uint32_t>(4, caps.max_sa);
    if (saCapacity < 2 || (c.mode == XfrmOffloadType::Packet && caps.max_policies < 2))
    {
        GTEST_SKIP() << "device holds fewer than 2 SAs or policies";
    }
    const XfrmOffloadType type = c.mode;
    const bool packet = c.mode == XfrmOffloadType::Packet;
    TopologyOptions opt = OptionsOf(c);
    opt.saCapacity = saCapacity;
    opt.policyCapacity = 2; // A's out and in: the table is full
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inA && t->outB && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    KeepKeys(*t, "esp_sa-before-flush");
    auto sinkB = InstallUdpSink(t->hostB);
    auto sinkA = InstallUdpSink(t->hostA);
    auto senderA = InstallUdpSender(t->hostA, t->hostAddrB);
    auto senderB = InstallUdpSender(t->hostB, t->hostAddrA);

    const auto before = Payloads(4, 0);
    ScheduleDatagrams(senderA, before, MilliSeconds(5), MilliSeconds(1));
    RunTo(MilliSeconds(20));
    EXPECT_EQ(Delivered(*sinkB, before), before.size());

    // Carrier loss is no NETDEV_DOWN: nothing is flushed, and the same SAs carry traffic once
    // the carrier is back.
    t->devA->SetCarrier(false);
    EXPECT_FALSE(t->devA->IsLinkUp());
    EXPECT_EQ(t->stackA->FindState(t->endAddrB, t->spiAB), t->outA) << "flushed on carrier loss";
    EXPECT_TRUE(t->outA->IsOffloaded(type) && t->inA->IsOffloaded(type))
        << "offload removed on carrier loss";
    t->devA->SetCarrier(true);
    const Time carrierAt = Simulator::Now();
    const auto afterCarrier = Payloads(3, 50);
    ScheduleDatagrams(senderA, afterCarrier, MilliSeconds(5), MilliSeconds(1));
    RunTo(carrierAt + MilliSeconds(20));
    EXPECT_EQ(Delivered(*sinkB, afterCarrier), afterCarrier.size())
        << "the SAs did not survive carrier loss";
    EXPECT_EQ(FromA(*wire, kProtoEsp, t->spiAB, carrierAt).size(), afterCarrier.size());

    // A software SA and a bypass policy on A, which the flush must leave alone.
    std::string error;
    XfrmStateConfig softwareState = t->SaConfig(true, true, XfrmOffloadType::None);
    softwareState.spi = 0x5555;
    ASSERT_TRUE(t->stackA->AddState(softwareState, &error)) << error;
    XfrmPolicyConfig bypass;
    bypass.sel = XfrmSelector::Hosts(t->hostAddrA, Ipv4Address("10.9.9.9"));
    bypass.dir = XfrmDir::Out;
    bypass.hasTemplate = false;
    Ptr<XfrmPolicy> softwarePolicy = t->stackA->AddPolicy(bypass, &error);
    ASSERT_TRUE(softwarePolicy) << error;
    const size_t statesB = t->stackB->GetStates().GetN();

    t->devA->SetLinkDown(true);
    EXPECT_FALSE(t->devA->IsLinkUp());
    EXPECT_FALSE(t->stackA->FindState(t->endAddrB, t->spiAB));
    EXPECT_FALSE(t->stackA->FindState(t->endAddrA, t->spiBA));
    EXPECT_TRUE(t->stackA->FindState(softwareState.daddr, softwareState.spi));
    for (const auto& p : t->stackA->GetPolicies().GetAll())
    {
        EXPECT_FALSE(p->GetOffload().ops) << "an offloaded policy survived the flush";
    }
    EXPECT_FALSE(t->outA->GetOffload().ops);
    EXPECT_FALSE(t->inA->GetOffload().ops);
    EXPECT_EQ(t->stackB->GetStates().GetN(), statesB) << "the peer's device is still up";
    t->devA->SetLinkDown(false);
    EXPECT_TRUE(t->devA->IsLinkUp());

    // The key manager sets the connection up again with new keys: it replaces B's SAs and
    // re-adds A's with the same (daddr, SPI)s.
    t->algAB = AlgorithmOf(c.alg, 0x3c);
    t->algBA = AlgorithmOf(c.alg, 0x4d);
    EXPECT_TRUE(t->stackB->DeleteState(t->endAddrB, t->spiAB));
    EXPECT_TRUE(t->stackB->DeleteState(t->endAddrA, t->spiBA));
    t->inB = t->AddSa(true, false, type, {});
    t->outB = t->AddSa(false, true, type, {});
    t->outA = t->AddSa(true, true, type, {});
    t->inA = t->AddSa(false, false, type, {});
    ASSERT_TRUE(t->outA && t->inA) << "the device still holds the flushed SAs";
    ASSERT_TRUE(t->outB && t->inB);
    EXPECT_TRUE(t->outA->IsOffloaded(type));
    EXPECT_TRUE(t->inA->IsOffloaded(type));

    // Packet offload: no policy selects A's traffic any more (Linux sends it unprotected);
    // the device must not protect it by a flushed policy.
    const Time flushedAt = Simulator::Now();
    if (packet)
    {
        const auto unprotected = Payloads(3, 100);
        ScheduleDatagrams(senderA, unprotected, MilliSeconds(5), MilliSeconds(1));
        RunTo(flushedAt + MilliSeconds(30));
        EXPECT_TRUE(FromA(*wire, kProtoEsp, t->spiAB, flushedAt).empty())
            << "the device protects traffic by a flushed policy";
        EXPECT_EQ(FromA(*wire, kProtoUdp, 0, flushedAt).size(), unprotected.size())
            << "traffic no policy selects did not leave as it came";
        // Both fit the device's table of 2 again (gwA's software fwd policy was not flushed).
        for (XfrmDir dir : {XfrmDir::Out, XfrmDir::In})
        {
            EXPECT_TRUE(t->AddPolicy(true, dir, type)) << "the device still holds the flushed "
                                                          "policies";
        }
    }

    // The rest of the table is free: spare inbound SAs up to the capacity, then one too many.
    for (uint32_t i = 2; i < saCapacity; ++i)
    {
        XfrmStateConfig spare = t->SaConfig(false, false, type);
        spare.spi = 0x3000 + i;
        EXPECT_TRUE(t->stackA->AddState(spare, &error))
            << "SA " << i << " of " << saCapacity << " after the flush: " << error;
    }
    XfrmStateConfig tooMany = t->SaConfig(false, false, type);
    tooMany.spi = 0x2fff;
    EXPECT_FALSE(t->stackA->AddState(tooMany, &error)) << "capacity changed by the flush";

    // Traffic both ways through the re-added SAs.
    const Time readdAt = Simulator::Now();
    const auto afterAB = Payloads(6, 200);
    const auto afterBA = Payloads(6, 600);
    ScheduleDatagrams(senderA, afterAB, MilliSeconds(5), MilliSeconds(1)); // delays from now
    ScheduleDatagrams(senderB, afterBA, MilliSeconds(5) + MicroSeconds(500), MilliSeconds(1));
    RunTo(readdAt + MilliSeconds(40));
    EXPECT_EQ(Delivered(*sinkB, afterAB), afterAB.size());
    EXPECT_EQ(Delivered(*sinkA, afterBA), afterBA.size());
    const auto esp = FromA(*wire, kProtoEsp, t->spiAB, readdAt);
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          t->opt.esn);
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    ASSERT_EQ(esp.size(), afterAB.size());
    for (size_t i = 0; i < esp.size(); ++i)
    {
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(esp[i]->ip, 0, &inner, &error)) << error;
        const uint32_t data = IpHeaderLength(inner) + 8;
        ASSERT_GE(inner.size(), data);
        EXPECT_EQ(Bytes(inner.begin() + data, inner.end()), afterAB[i]) << "packet " << i;
    }
    KeepKeys(*t);
    RecordEvidence("sa_capacity", saCapacity);
    RecordEvidence("delivered_ab_after", Delivered(*sinkB, afterAB));
    RecordEvidence("delivered_ba_after", Delivered(*sinkA, afterBA));
    RecordEvidence("esp_after_readd", esp.size());
    RecordEvidence("states_a_after_flush", t->stackA->GetStates().GetN());
}

INSTANTIATE_TEST_SUITE_P(,
                         DEV_LINK_DOWN_FLUSH,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
