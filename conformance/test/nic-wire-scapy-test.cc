// The emulated NIC's wire in all three data paths, transport and tunnel, decrypted by an ESP
// implementation nobody here wrote (Scapy) to the exact plaintext sent.
#include "scapy-esp-oracle.h"
#include "simulation-test.h"

#include <gtest/gtest.h>

using namespace offloadtest;
using namespace offloadlab;

namespace
{

using NicWireScapyTest = SimulationTest<PathParam>;

TEST_P(NicWireScapyTest, WireDecryptsToWhatWasSent)
{
    std::string why;
    if (!ScapyEspOracle::IsAvailable(&why))
    {
        GTEST_SKIP() << "Scapy ESP oracle unavailable: " << why;
    }
    TopologyOptions opt;
    opt.mode = GetParam().mode;
    opt.ipMode = GetParam().ipMode;
    std::unique_ptr<Topology> t = BuildTestTopology(opt);
    const std::vector<Bytes> sent = Datagrams(200, 1);
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    RunUntil(ScheduleDatagrams(sender, sent, Seconds(1), MicroSeconds(500)) + Seconds(1));

    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          false);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), sent.size());
    for (size_t i = 0; i < fromA.size(); ++i)
    {
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(fromA[i]->ip, 0, &inner, &error))
            << "packet " << i << " (seq " << EspSeqOf(fromA[i]->ip) << "): " << error;
        // Transport: the IPv4 packet rebuilt around the payload; tunnel: the inner packet.
        // Either way IPv4 (20) + UDP (8) + the datagram.
        ASSERT_EQ(inner.size(), 28 + sent[i].size()) << "packet " << i;
        EXPECT_EQ(IpProtocol(inner), kProtoUdp);
        EXPECT_EQ(Ipv4Address(ReadBe32(inner.data() + 12)), t->hostAddrA);
        EXPECT_EQ(Ipv4Address(ReadBe32(inner.data() + 16)), t->hostAddrB);
        EXPECT_EQ(uint16_t(inner[22] << 8 | inner[23]), kUdpPort);
        EXPECT_TRUE(std::equal(sent[i].begin(), sent[i].end(), inner.begin() + 28))
            << "plaintext of packet " << i << " differs from what was sent";
    }
    EXPECT_EQ(sink->received, sent);
}

INSTANTIATE_TEST_SUITE_P(AllPaths, NicWireScapyTest, testing::ValuesIn(AllPaths()), PathName);

} // namespace
