// Fragments and the path MTU through a real host's stack.
//
// EMU_FRAGMENTS: a datagram bigger than the link leaves the host as IP fragments (ping -M dont).
// Linux's XFRM sees the datagram before IP fragments it, so the node reassembles the host's
// fragments first. Software IPsec and crypto offload put each datagram in one ESP packet and
// fragment that (the peer reassembles, decrypts, and its host gets the datagram in fragments
// again); packet offload cannot fragment what the device encrypts and drops it, counted.
// EMU_DF_PMTU: a DF datagram that fits the link but not once ESP is added gets ICMP fragmentation
// needed with the MTU Linux's xfrm_state_mtu gives for the SA (AES-GCM-128, transport mode, link
// MTU 1500: 1466), the host's kernel learns it, and a datagram of that size goes through.
#include "emulation-case.h"

using namespace emulationcase;
using nlohmann::json;

namespace
{

class EMU_FRAGMENTS : public EmulationCase, public testing::WithParamInterface<std::string>
{
};

TEST_P(EMU_FRAGMENTS, SoftwareAndCryptoCarryThemPacketOffloadDropsThem)
{
    const std::string mode = GetParam();
    ns3::EmulationOptions options = H2h(mode);
    options.scenario = [&](ns3::EmulationSession& s, std::string*) {
        std::string out;
        // 3,000 bytes of ICMP data: three fragments of each echo request (and of each reply).
        s.Exec("h1",
               {"ping", "-c", "3", "-i", "0.2", "-W", "1", "-M", "dont", "-s", "3000", "10.0.0.2"},
               std::chrono::seconds(10),
               &out);
        const auto [sent, received] = PingCounts(out);
        EXPECT_EQ(sent, 3) << out;
        EXPECT_EQ(received, mode == "packet" ? 0 : 3) << out;
        return true;
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    const json& h1 = r["nodes"]["h1"];
    if (mode == "packet")
    {
        // Whole, as Linux's XFRM sees a datagram before IP fragments it: the device cannot
        // fragment what it encrypts and drops each (xfrm_dev_offload_ok fails: too big).
        EXPECT_EQ(h1["nic_drops"].value("TxPmtuDrop", 0), 3) << h1["nic_drops"];
        EXPECT_EQ(h1["host_port"]["reassembled_from_host"].get<int>(), 3);
        EXPECT_EQ(
            Tshark(m_dir, "wire-wire.pcap", "icmp.type == 8 || icmp.type == 0", "-e frame.number"),
            "")
            << "no fragment left, in ESP or in the clear";
    }
    else
    {
        EXPECT_EQ(DropsBeyondPmtu(h1, mode), 0u) << h1;
        // Each datagram in one ESP packet, fragmented after ESP (outer fragments on the wire):
        // tshark reassembles, decrypts, and finds each echo whole.
        EXPECT_EQ(h1["host_port"]["reassembled_from_host"].get<int>(), 3);
        const std::string outer =
            Tshark(m_dir, "wire-wire.pcap", "ip.flags.mf == 1", "-e frame.number");
        EXPECT_GE(std::count(outer.begin(), outer.end(), '\n'), 12) << outer;
        const std::string echoes =
            Tshark(m_dir, "wire-wire.pcap", "esp && icmp && data.len == 3000", "-e frame.number");
        EXPECT_EQ(std::count(echoes.begin(), echoes.end(), '\n'), 6) << echoes;
        EXPECT_EQ(Tshark(m_dir, "wire-wire.pcap", "icmp && !esp && !isakmp", "-e frame.number"), "")
            << "no fragment in the clear (port unreachable for IKE at teardown aside)";
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EMU_FRAGMENTS,
                         testing::Values("sw", "crypto", "packet"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

class EMU_DF_PMTU : public EmulationCase, public testing::WithParamInterface<std::string>
{
};

TEST_P(EMU_DF_PMTU, TheHostLearnsTheEspMtu)
{
    const std::string mode = GetParam();
    ns3::EmulationOptions options = H2h(mode);
    options.scenario = [&](ns3::EmulationSession& s, std::string*) {
        std::string out;
        // 1,500 bytes with DF: fits the link, not the link once ESP is added.
        s.Exec("h1",
               {"ping", "-c", "2", "-i", "0.2", "-W", "1", "-M", "do", "-s", "1472", "10.0.0.2"},
               std::chrono::seconds(10),
               &out);
        EXPECT_EQ(PingCounts(out).second, 0) << out;
        // ping reports the ICMP (Frag needed and DF set (mtu = N)), then the kernel's own
        // refusal from the learnt PMTU (message too long, mtu=N).
        EXPECT_NE(out.find("mtu = 1466"), std::string::npos) << out;
        std::string route;
        s.Exec("h1", {"ip", "route", "get", "10.0.0.2"}, std::chrono::seconds(5), &route);
        EXPECT_NE(route.find("mtu 1466"), std::string::npos) << route;
        s.Results()["scenario"]["route"] = route;
        // 1,466 bytes with DF: exactly what fits.
        s.Exec("h1",
               {"ping", "-c", "3", "-i", "0.2", "-W", "1", "-M", "do", "-s", "1438", "10.0.0.2"},
               std::chrono::seconds(10),
               &out);
        EXPECT_EQ(PingCounts(out).second, 3) << out;
        return true;
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    EXPECT_GE(r["nodes"]["h1"]["host_port"]["frag_needed"].get<int>(), 1);
    // The refused datagram never reached the wire, in ESP or otherwise.
    EXPECT_EQ(Tshark(m_dir,
                     "wire-wire.pcap",
                     "ip.len > 1500 || (esp && ip.len > 1500)",
                     "-e frame.number"),
              "");
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EMU_DF_PMTU,
                         testing::Values("sw", "crypto", "packet"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

} // namespace
