// The three data paths end to end in real ns-3 simulations: UDP over ns-3 sockets through
// software IPsec, crypto offload and packet offload, in transport mode (host to host) and tunnel
// mode (gateway to gateway), with real AES-GCM. Checks what the receiver gets, what the wire
// carries, who did the work (NIC or stack counters) and the ESP sequence numbers. That Scapy
// decrypts the wire is conformance/test's nic-wire-scapy-test.

#include "reference-offload-engine.h"
#include "simulation-test.h"

#include <gtest/gtest.h>
#include <map>

using namespace offloadtest;

namespace
{

constexpr uint32_t kDatagrams = 200;

/// Sizes 1..1300: both extremes, then a spread that hits every padding length.
std::vector<Bytes>
MakePayloads()
{
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < kDatagrams; ++i)
    {
        uint32_t size;
        if (i == 0)
        {
            size = 1;
        }
        else if (i == 1)
        {
            size = 1300;
        }
        else
        {
            size = 1 + (i * 653 + i / 7) % 1300;
        }
        payloads.push_back(DatagramPayload(i, size));
    }
    return payloads;
}

struct DatapathRun
{
    std::unique_ptr<Topology> t;
    std::vector<Bytes> sent;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
    std::shared_ptr<WireCapture> wire;
};

DatapathRun
RunDatapath(const PathParam& param)
{
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.ipMode = param.ipMode;
    DatapathRun run;
    run.t = BuildTestTopology(opt);
    run.sent = MakePayloads();
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    run.sink = InstallUdpSink(run.t->hostB);
    run.sender = InstallUdpSender(run.t->hostA, run.t->hostAddrB);
    const Time end = ScheduleDatagrams(run.sender, run.sent, Seconds(1), MicroSeconds(500));
    RunUntil(end + Seconds(1));
    return run;
}

using DatapathTest = SimulationTest<PathParam>;

TEST_P(DatapathTest, UdpDeliveredWithIdenticalPayloads)
{
    DatapathRun run = RunDatapath(GetParam());
    ASSERT_TRUE(run.t->outA && run.t->inB);
    EXPECT_EQ(run.sender->sendFailures, 0u);
    ASSERT_EQ(run.sink->received.size(), run.sent.size());
    for (size_t i = 0; i < run.sent.size(); ++i)
    {
        EXPECT_EQ(run.sink->received[i], run.sent[i])
            << "datagram " << i << " of " << run.sent[i].size() << " bytes";
    }
}

TEST_P(DatapathTest, WireCarriesOnlyEspWithSequentialNumbers)
{
    DatapathRun run = RunDatapath(GetParam());
    const Topology& t = *run.t;
    EXPECT_EQ(run.wire->nonIp, 0u);
    ASSERT_FALSE(run.wire->packets.empty());
    std::map<uint32_t, uint32_t> lastSeqBySpi;
    uint32_t espFromA = 0;
    for (const WirePacket& w : run.wire->packets)
    {
        ASSERT_GE(w.ip.size(), 20u);
        EXPECT_EQ(IpProtocol(w.ip), kProtoEsp)
            << "plaintext IP protocol " << unsigned(IpProtocol(w.ip)) << " on the IPsec link";
        EXPECT_FALSE(IsFragment(w.ip)) << "no datagram here needs fragmentation";
        EXPECT_FALSE(Contains(w.ip, PlaintextMarker())) << "plaintext payload visible on the wire";
        if (IpProtocol(w.ip) != kProtoEsp)
        {
            continue;
        }
        // Outer addresses: the IPsec endpoints.
        const Ipv4Address src(ReadBe32(w.ip.data() + 12));
        const Ipv4Address dst(ReadBe32(w.ip.data() + 16));
        EXPECT_EQ(src, w.fromA ? t.endAddrA : t.endAddrB);
        EXPECT_EQ(dst, w.fromA ? t.endAddrB : t.endAddrA);
        const uint32_t spi = EspSpiOf(w.ip);
        EXPECT_EQ(spi, w.fromA ? t.spiAB : t.spiBA);
        const uint32_t seq = EspSeqOf(w.ip);
        EXPECT_EQ(seq, lastSeqBySpi[spi] + 1) << "SPI 0x" << std::hex << spi;
        lastSeqBySpi[spi] = seq;
        espFromA += w.fromA ? 1 : 0;
    }
    EXPECT_EQ(espFromA, kDatagrams);
    EXPECT_EQ(lastSeqBySpi[t.spiAB], kDatagrams);
}

TEST_P(DatapathTest, WorkDoneByTheRightLayer)
{
    DatapathRun run = RunDatapath(GetParam());
    const Topology& t = *run.t;
    ASSERT_TRUE(t.outA && t.inB);
    ASSERT_EQ(run.sink->received.size(), kDatagrams);
    // What a lifetime counts, as Linux does: the UDP segment in transport mode, the whole inner
    // IPv4 packet in tunnel mode.
    const uint32_t header = GetParam().ipMode == XfrmMode::Tunnel ? 20 + 8 : 8;
    uint64_t plaintextBytes = 0;
    for (const auto& p : run.sent)
    {
        plaintextBytes += header + p.size();
    }
    const XfrmOffloadType mode = GetParam().mode;
    switch (mode)
    {
    case XfrmOffloadType::None:
        for (Ptr<EmuNicNetDevice> dev : {t.devA, t.devB})
        {
            for (const auto& [name, value] : dev->GetCounters())
            {
                EXPECT_EQ(value, 0u) << "NIC counter " << name << " in software IPsec";
            }
        }
        EXPECT_FALSE(t.outA->GetOffload().ops);
        break;
    case XfrmOffloadType::Crypto:
        EXPECT_TRUE(t.outA->IsOffloaded(XfrmOffloadType::Crypto));
        EXPECT_TRUE(t.inB->IsOffloaded(XfrmOffloadType::Crypto));
        EXPECT_EQ(Counter(t.devA, "CryptoTxPackets"), kDatagrams);
        EXPECT_EQ(Counter(t.devB, "CryptoRxPackets"), kDatagrams);
        EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), kDatagrams);
        EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), kDatagrams);
        EXPECT_EQ(Counter(t.devA, "PacketOffloadTxPackets"), 0u);
        EXPECT_EQ(Counter(t.devB, "PacketOffloadRxPackets"), 0u);
        break;
    case XfrmOffloadType::Packet:
        EXPECT_TRUE(t.outA->IsOffloaded(XfrmOffloadType::Packet));
        EXPECT_TRUE(t.inB->IsOffloaded(XfrmOffloadType::Packet));
        EXPECT_EQ(Counter(t.devA, "PacketOffloadTxPackets"), kDatagrams);
        EXPECT_EQ(Counter(t.devB, "PacketOffloadRxPackets"), kDatagrams);
        EXPECT_EQ(Counter(t.devA, "CryptoTxPackets"), 0u);
        EXPECT_EQ(Counter(t.devB, "CryptoRxPackets"), 0u);
        EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), 0u);
        EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), 0u);
        EXPECT_EQ(ReferenceOffloadEngine::Of(t.devA)->GetPolicyCount(), 2u);
        EXPECT_EQ(ReferenceOffloadEngine::Of(t.devB)->GetPolicyCount(), 2u);
        // The stack never saw these packets: its counters come only through update_stats.
        EXPECT_EQ(t.outA->GetCurrent().packets, 0u);
        EXPECT_EQ(t.outA->GetCurrent().bytes, 0u);
        EXPECT_EQ(t.inB->GetCurrent().packets, 0u);
        EXPECT_EQ(t.outA->GetLastSeq(), 0u);
        t.stackA->UpdateStats(t.outA);
        t.stackB->UpdateStats(t.inB);
        EXPECT_GE(Counter(t.devA, "StateUpdateStats"), 1u);
        EXPECT_GE(Counter(t.devB, "StateUpdateStats"), 1u);
        EXPECT_EQ(t.outA->GetLastSeq(), kDatagrams);
        break;
    }
    // Lifetime counters of both SAs, whoever counted them.
    EXPECT_EQ(t.outA->GetCurrent().packets, kDatagrams);
    EXPECT_EQ(t.outA->GetCurrent().bytes, plaintextBytes);
    EXPECT_EQ(t.inB->GetCurrent().packets, kDatagrams);
    EXPECT_EQ(t.inB->GetCurrent().bytes, plaintextBytes);
    // Nothing was dropped anywhere.
    for (Ptr<XfrmStack> stack : {t.stackA, t.stackB})
    {
        for (const auto& [name, value] : stack->GetDropCounts())
        {
            EXPECT_EQ(value, 0u) << name;
        }
    }
    for (Ptr<EmuNicNetDevice> dev : {t.devA, t.devB})
    {
        for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
        {
            EXPECT_EQ(dev->GetDropCount(EmuNicDrop(i)), 0u) << EmuNicDropName(EmuNicDrop(i));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, DatapathTest, testing::ValuesIn(AllPaths()), PathName);

} // namespace
