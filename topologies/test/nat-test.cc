// gwA behind a UDP source NAT (nat-topology.h): plain ESP dies at the NAT, ESP-in-UDP crosses it
// in every data path, with the key manager giving each gateway the addresses it sees (gwB sees
// the NAT's address); tshark decrypts the ESP-in-UDP on both sides of the NAT with the SAs'
// keys, and the NAT's translation is what a port-preserving NAT does.

#include "emu-nic-helper.h"
#include "esp-sa-file.h"
#include "nat-topology.h"
#include "scenario-json.h"
#include "simulation-test.h"
#include "tcp-transfer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

using namespace offloadtest;
namespace fs = std::filesystem;

namespace
{

IpsecConnectionConfig
ConnectionThroughNat(const NatTopology& n, XfrmOffloadType mode, bool udpEncap)
{
    const Topology& t = *n.t;
    IpsecConnectionConfig c;
    c.name = "gwA-gwB";
    c.mode = XfrmMode::Tunnel;
    c.udpEncap = udpEncap;
    c.left = IpsecPeerConfig{t.endA, t.endAddrA, t.netA, 24, t.devA, mode};
    c.right = IpsecPeerConfig{t.endB, t.endAddrB, t.netB, 24, t.devB, mode};
    c.left.seenAs = udpEncap ? n.natAddress : Ipv4Address::GetAny();
    c.lifetime.softPacketLimit = 30;
    c.lifetime.hardPacketLimit = 60;
    return c;
}

std::string
ShellOutput(const std::string& command)
{
    std::string out;
    if (FILE* p = popen(command.c_str(), "r"))
    {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        {
            out.append(buf, n);
        }
        pclose(p);
    }
    return out;
}

using NatTraversalTest = SimulationTest<XfrmOffloadType>;

TEST_P(NatTraversalTest, EspInUdpCrossesTheNatBothWays)
{
    const XfrmOffloadType mode = GetParam();
    TopologyOptions opt;
    opt.mode = mode;
    NatTopology n = BuildNatTopology(opt);
    Topology& t = *n.t;
    const fs::path dir = fs::temp_directory_path() /
                         ("offloadlab-nat-" + std::to_string(getpid()) + "-" + DataPathName(mode));
    fs::create_directories(dir);
    EmuNicHelper pcap;
    pcap.EnablePcap((dir / "wanA.pcap").string(), t.devA, false, true);
    pcap.EnablePcap((dir / "wanB.pcap").string(), t.devB, false, true);

    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(5);
    std::string error;
    ASSERT_TRUE(km->AddConnection(ConnectionThroughNat(n, mode, true), &error)) << error;
    auto sinkB = InstallUdpSink(t.hostB);
    auto sinkA = InstallUdpSink(t.hostA);
    auto toB = InstallUdpSender(t.hostA, t.hostAddrB);
    auto toA = InstallUdpSender(t.hostB, t.hostAddrA);
    std::vector<Bytes> ab;
    std::vector<Bytes> ba;
    for (uint32_t i = 0; i < 80; ++i)
    {
        ab.push_back(DatagramPayload(i, 100 + 11 * i));
        ba.push_back(DatagramPayload(500 + i, 900 - 7 * i));
    }
    // A first: its first datagram opens the NAT mapping, as IKE's first message would.
    ScheduleDatagrams(toB, ab, Seconds(1), MilliSeconds(2));
    ScheduleDatagrams(toA, ba, Seconds(1.05), MilliSeconds(2));
    RunUntil(Seconds(2));
    EXPECT_TRUE(SameDatagrams(sinkB->received, ab));
    EXPECT_TRUE(SameDatagrams(sinkA->received, ba));
    EXPECT_GE(km->GetRekeyCount(), 1u) << "rekeyed behind the NAT too";
    EXPECT_GT(n.nat->GetTranslated(), ab.size() + ba.size() - 1);
    EXPECT_EQ(n.nat->GetDropCount(NatDrop::NotUdpOrTcp), 0u);
    EXPECT_EQ(n.nat->GetDropCount(NatDrop::NoMapping), 0u);
    const auto mappings = n.nat->GetMappings();
    ASSERT_EQ(mappings.size(), 1u) << "one mapping: gwA's port 4500";
    EXPECT_EQ(mappings.begin()->first.first, t.endAddrA.Get());
    EXPECT_EQ(mappings.begin()->first.second, kIkeNatTPort);
    EXPECT_EQ(mappings.begin()->second, kIkeNatTPort) << "a port-preserving NAT";
    if (mode == XfrmOffloadType::Packet)
    {
        EXPECT_GE(Counter(t.devA, "PacketOffloadTxPackets"), ab.size());
        EXPECT_GE(Counter(t.devB, "PacketOffloadTxPackets"), ba.size());
    }
    for (const IpsecSaRecord& r : km->GetSaRecords())
    {
        // gwB's SAs name the NAT's address for gwA; gwA's its own.
        const Ipv4Address peerOfB = r.nodeId == t.endB->GetId() ? n.natAddress : t.endAddrA;
        EXPECT_TRUE(r.saddr == peerOfB || r.daddr == peerOfB) << "SA 0x" << std::hex << r.spi;
        EXPECT_EQ(r.offloadActual, mode == XfrmOffloadType::Packet ? mode : XfrmOffloadType::None);
    }
    Simulator::Destroy(); // closes the pcaps

    if (ShellOutput("command -v tshark").empty())
    {
        GTEST_SKIP() << "tshark is not installed (ci/setup installs it); the rest passed";
    }
    offloadlab::EspSaFile keys;
    for (const IpsecSaRecord& r : km->GetSaRecords())
    {
        keys.Add(EspSaEntryOf(r.saddr, r.daddr, r.spi, r.algorithm));
    }
    fs::create_directories(dir / ".config" / "wireshark");
    keys.Write((dir / ".config" / "wireshark" / "esp_sa").string());
    for (const char* side : {"wanA", "wanB"})
    {
        SCOPED_TRACE(side);
        std::string file;
        for (const auto& entry : fs::directory_iterator(dir))
        {
            if (entry.path().filename().string().rfind(side, 0) == 0 &&
                entry.path().extension() == ".pcap")
            {
                file = entry.path().string();
            }
        }
        ASSERT_FALSE(file.empty());
        const std::string out =
            ShellOutput("HOME=" + dir.string() + " XDG_CONFIG_HOME=" + dir.string() +
                        "/.config tshark -n -r " + file +
                        " -o esp.enable_encryption_decode:TRUE"
                        " -o esp.enable_authentication_check:TRUE"
                        " -T fields -e udp.srcport -e udp.dstport -e esp.icv_good"
                        " -e frame.protocols 2>/dev/null");
        std::istringstream lines(out);
        std::string line;
        int frames = 0;
        while (std::getline(lines, line))
        {
            if (line.rfind("Running as user", 0) == 0)
            {
                continue;
            }
            ++frames;
            // Every frame is UDP 4500 -> 4500 (the outer ports come first; the inner datagram's
            // follow) carrying ESP whose ICV tshark verifies, with the inner packet inside.
            EXPECT_EQ(line.rfind("4500,", 0), 0u) << line;
            EXPECT_NE(line.find("\t4500,"), std::string::npos) << line;
            EXPECT_NE(line.find("\t1\t"), std::string::npos) << "ICV not verified: " << line;
            EXPECT_NE(line.find(":udp:udpencap:esp:ip:udp"), std::string::npos) << line;
        }
        EXPECT_GE(frames, 80) << out;
    }
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(,
                         NatTraversalTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

// Without UDP encapsulation ESP cannot cross: the key manager refuses to set up a NAT'd peer
// in plain ESP, and ESP sent anyway dies at the NAT.
TEST(NatTraversalPlainEspTest, PlainEspDiesAtTheNat)
{
    TopologyOptions opt;
    NatTopology n = BuildNatTopology(opt);
    Topology& t = *n.t;
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    std::string error;
    IpsecConnectionConfig c = ConnectionThroughNat(n, XfrmOffloadType::None, false);
    c.left.seenAs = n.natAddress;
    EXPECT_FALSE(km->AddConnection(c, &error));
    EXPECT_NE(error.find("udpEncap"), std::string::npos) << error;
    // gwB addressed as gwA's own address, plain ESP: the NAT drops it, nothing arrives.
    ASSERT_TRUE(km->AddConnection(ConnectionThroughNat(n, XfrmOffloadType::None, false), &error))
        << error;
    auto sinkB = InstallUdpSink(t.hostB);
    auto toB = InstallUdpSender(t.hostA, t.hostAddrB);
    ScheduleDatagrams(toB,
                      {DatagramPayload(1, 100), DatagramPayload(2, 100)},
                      Seconds(1),
                      MilliSeconds(5));
    RunUntil(Seconds(2));
    EXPECT_TRUE(sinkB->received.empty());
    EXPECT_EQ(n.nat->GetDropCount(NatDrop::NotUdpOrTcp), 2u);
    EXPECT_EQ(n.nat->GetTranslated(), 0u);
    Simulator::Destroy();
}

// The NAT translates TCP as well as UDP (MASQUERADE does both), so traffic without IPsec
// crosses it: a TCP transfer hostA -> hostB arrives byte for byte (with ns-3's checksums on, a
// segment whose checksum the NAT got wrong would be dropped), through one TCP mapping.
TEST(NatTraversalPlainEspTest, PlainTcpAndUdpCrossTheNat)
{
    TopologyOptions opt;
    NatTopology n = BuildNatTopology(opt);
    Topology& t = *n.t;
    std::unique_ptr<TcpTransfer> tcp = StartTcp(t.hostA, t.hostB, t.hostAddrB, 50000, Seconds(1));
    auto sinkB = InstallUdpSink(t.hostB);
    auto toB = InstallUdpSender(t.hostA, t.hostAddrB);
    const std::vector<Bytes> datagrams = {DatagramPayload(1, 100), DatagramPayload(2, 700)};
    ScheduleDatagrams(toB, datagrams, Seconds(1), MilliSeconds(5));
    RunUntil(Seconds(3));
    EXPECT_TRUE(SameStream(tcp->received, tcp->sent));
    EXPECT_TRUE(SameDatagrams(sinkB->received, datagrams));
    EXPECT_EQ(n.nat->GetTcpMappings().size(), 1u);
    EXPECT_EQ(n.nat->GetMappings().size(), 1u);
    EXPECT_EQ(n.nat->GetDropCount(NatDrop::NotUdpOrTcp), 0u);
    EXPECT_EQ(n.nat->GetDropCount(NatDrop::NoMapping), 0u);
    EXPECT_GT(n.nat->GetTranslated(), 50000u / 1500u * 2) << "segments and ACKs";
    tcp.reset();
    Simulator::Destroy();
}

} // namespace
