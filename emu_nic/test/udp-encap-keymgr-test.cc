// The key manager's ESP-in-UDP connections (RFC 3948): SAs in UDP 4500 both ways, rekeyed like
// any other; in crypto offload the kernel refuses such SAs (Linux 6.1 to 6.10), so the key manager
// installs them again without offload, as strongSwan's hw_offload=auto does; in packet offload
// the reference device carries them.

#include "ipsec-key-manager.h"
#include "simulation-test.h"

#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

using UdpEncapKeyManagerTest = SimulationTest<PathParam>;

TEST_P(UdpEncapKeyManagerTest, TrafficInUdp4500AcrossARekey)
{
    const PathParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.ipMode = param.ipMode;
    opt.installIpsec = false;
    auto [t, wire, sink, sender] = BuildUdpRig(opt);
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(11);
    const XfrmOffloadType offload = param.mode;
    IpsecConnectionConfig conn = TestConnection(*t, offload, "natt");
    conn.udpEncap = true;
    conn.lifetime.softPacketLimit = 20;
    conn.lifetime.hardPacketLimit = 40;
    std::string error;
    ASSERT_TRUE(km->AddConnection(conn, &error)) << error;
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 50; ++i)
    {
        sent.push_back(DatagramPayload(i, 300));
    }
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(3));
    RunUntil(Seconds(2));
    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    EXPECT_GE(km->GetRekeyCount(), 1u);
    size_t frames = 0;
    for (const WirePacket* w : wire->From(true))
    {
        ASSERT_EQ(IpProtocol(w->ip), kProtoUdp);
        const uint8_t* udp = w->ip.data() + IpHeaderLength(w->ip);
        EXPECT_EQ(udp[0] << 8 | udp[1], kIkeNatTPort);
        EXPECT_EQ(udp[2] << 8 | udp[3], kIkeNatTPort);
        ++frames;
    }
    EXPECT_EQ(frames, sent.size());
    size_t refused = 0;
    for (const IpsecKmEvent& e : km->GetEvents())
    {
        if (e.kind == "offload-refused")
        {
            ++refused;
            EXPECT_EQ(e.detail, "offload: Encapsulation and TFC padding can't be offloaded");
        }
    }
    for (const IpsecSaRecord& r : km->GetSaRecords())
    {
        // Crypto offload refuses encapsulated SAs; the reference offloads them in packet mode.
        EXPECT_EQ(r.offloadActual,
                  offload == XfrmOffloadType::Crypto ? XfrmOffloadType::None : offload);
        EXPECT_EQ(r.offloadRequested, offload);
    }
    EXPECT_EQ(refused > 0, offload == XfrmOffloadType::Crypto);
}

// Datagrams too big for the link once in ESP-in-UDP: software IPsec fragments the UDP datagram
// after ESP, and the receiver reassembles it before UDP hands it to ESP input (Linux's
// ip_local_deliver defragments before the UDP socket's policy check and encap_rcv). Only the
// first fragment carries the UDP port, so a policy check per fragment would drop the others in
// transport mode, where the hosts' own addresses are the selector. Packet offload drops them
// (the device does not fragment: PKT-FRAG-* and PMTU cover it).
using UdpEncapFragmentTest = SimulationTest<PathParam>;

TEST_P(UdpEncapFragmentTest, BigDatagramsFragmentAfterEspAndReassembleBeforeIt)
{
    const PathParam param = GetParam();
    TopologyOptions opt;
    opt.mode = param.mode;
    opt.ipMode = param.ipMode;
    opt.installIpsec = false;
    auto [t, wire, sink, sender] = BuildUdpRig(opt);
    Ptr<IpsecKeyManager> km = CreateObject<IpsecKeyManager>();
    km->SetSeed(12);
    IpsecConnectionConfig conn = TestConnection(*t, param.mode, "natt-big");
    conn.udpEncap = true;
    std::string error;
    ASSERT_TRUE(km->AddConnection(conn, &error)) << error;
    std::vector<Bytes> sent;
    for (uint32_t i = 0; i < 20; ++i)
    {
        sent.push_back(DatagramPayload(i, 1400 + 150 * i)); // 1400 to 4250 bytes
    }
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(5));
    RunUntil(Seconds(2));
    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    size_t fragments = 0;
    size_t firsts = 0;
    for (const WirePacket* w : wire->From(true))
    {
        ASSERT_EQ(IpProtocol(w->ip), kProtoUdp);
        const uint16_t flags = uint16_t(w->ip[6] << 8 | w->ip[7]);
        const bool more = flags & 0x2000;
        const uint16_t offset = flags & 0x1fff;
        if (more || offset)
        {
            ++fragments;
        }
        if (offset == 0)
        {
            // The whole datagram's or the first fragment's UDP header: port 4500 both ways.
            const uint8_t* udp = w->ip.data() + IpHeaderLength(w->ip);
            EXPECT_EQ(udp[0] << 8 | udp[1], kIkeNatTPort);
            EXPECT_EQ(udp[2] << 8 | udp[3], kIkeNatTPort);
            ++firsts;
        }
    }
    // Tunnel mode: hostA fragments the bigger datagrams for its LAN first, and each inner
    // fragment is a datagram of its own in the tunnel.
    if (param.ipMode == XfrmMode::Transport)
    {
        EXPECT_EQ(firsts, sent.size());
    }
    EXPECT_GE(firsts, sent.size());
    EXPECT_GT(fragments, sent.size()) << "every datagram over 1400 bytes left in fragments";
    const auto drops = t->stackB->GetDropCounts();
    EXPECT_EQ(drops.count("XfrmInNoPols") ? drops.at("XfrmInNoPols") : 0u, 0u);
}

INSTANTIATE_TEST_SUITE_P(, UdpEncapKeyManagerTest, testing::ValuesIn(AllPaths()), PathName);

std::vector<PathParam>
SoftwareEspPaths() // crypto offload too: the key manager installs these SAs in software
{
    std::vector<PathParam> paths;
    for (const PathParam& p : AllPaths())
    {
        if (p.mode != XfrmOffloadType::Packet)
        {
            paths.push_back(p);
        }
    }
    return paths;
}

INSTANTIATE_TEST_SUITE_P(, UdpEncapFragmentTest, testing::ValuesIn(SoftwareEspPaths()), PathName);

} // namespace
