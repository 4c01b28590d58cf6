// Link down on an emulated host's interface, as Linux's xfrm_dev_event sees it: `ip link set dev
// <if> down` is NETDEV_DOWN, and xfrm_dev_down flushes what is offloaded to that device (states
// since 4.11; policies too since 6.2's packet offload, xfrm_dev_policy_flush). The flush sends no
// netlink event: charon is not told and keeps its CHILD_SA (strongSwan's own concern).
//
// EMU_LINK_DOWN_FLUSH: software states and policies stay; crypto offload loses its states
// (traffic then finds no SA and is dropped), packet offload its states and its policies.
// EMU_LINK_FLAP_PLAINTEXT: in packet offload the flushed policies leave the host's traffic to
// no policy at all, so it leaves in the clear once the link is up again. Measured and reported;
// then the mitigation, a strongSwan drop shunt over the hosts' subnet (software, at a lower
// priority than the CHILD_SA's /32 policies), is shown to stop every packet of it.
#include "emulation-case.h"

#include <sstream>
#include <thread>

using namespace emulationcase;
using nlohmann::json;

namespace
{

class EMU_LINK_DOWN_FLUSH : public EmulationCase, public testing::WithParamInterface<std::string>
{
};

TEST_P(EMU_LINK_DOWN_FLUSH, FlushesWhatIsOffloadedAndTellsCharonNothing)
{
    const std::string mode = GetParam();
    ns3::EmulationOptions options = H2h(mode);
    options.scenario = [&](ns3::EmulationSession& s, std::string* error) {
        const Tables before = NodeTables(s, "h1");
        const Tables peerBefore = NodeTables(s, "h2");
        std::string sasBefore;
        s.Swanctl("h1", {"--list-sas", "--raw"}, &sasBefore);
        EXPECT_GE(before.states, 2u);
        EXPECT_EQ(before.offloadedStates, mode == "sw" ? 0u : before.states);
        if (!SetHostLink(s, "h1", false))
        {
            *error = "link down not seen";
            return false;
        }
        const Tables after = NodeTables(s, "h1");
        s.Results()["scenario"]["tables"] = {
            {"before",
             {before.states, before.offloadedStates, before.policies, before.offloadedPolicies}},
            {"after_down",
             {after.states, after.offloadedStates, after.policies, after.offloadedPolicies}}};
        // What was offloaded to the device is gone; nothing else is.
        EXPECT_EQ(after.offloadedStates, 0u);
        EXPECT_EQ(after.offloadedPolicies, 0u);
        EXPECT_EQ(after.states, before.states - before.offloadedStates);
        EXPECT_EQ(after.policies, before.policies - before.offloadedPolicies);
        if (mode == "packet")
        {
            EXPECT_GE(before.offloadedPolicies, 2u) << "packet offload offloads in and out";
        }
        else
        {
            EXPECT_EQ(before.offloadedPolicies, 0u);
        }
        // The peer's node is another machine: untouched.
        const Tables peer = NodeTables(s, "h2");
        EXPECT_EQ(peer.states, peerBefore.states);
        EXPECT_EQ(peer.policies, peerBefore.policies);
        // charon was told nothing: the same CHILD_SA, still INSTALLED.
        std::string sasAfter;
        s.Swanctl("h1", {"--list-sas", "--raw"}, &sasAfter);
        EXPECT_NE(sasAfter.find("state=INSTALLED"), std::string::npos) << sasAfter;
        const auto spiOut = [](const std::string& sas) {
            const size_t at = sas.find("spi-out=");
            return at == std::string::npos ? std::string() : sas.substr(at, 16);
        };
        EXPECT_EQ(spiOut(sasAfter), spiOut(sasBefore));
        EXPECT_EQ(s.CharonLog("h1").find("XFRM_MSG_EXPIRE"), std::string::npos);

        if (!SetHostLink(s, "h1", true))
        {
            *error = "link up not seen";
            return false;
        }
        // Back up: software IPsec carries on; crypto offload finds its out policy without an
        // SA and drops (no plaintext); packet offload has nothing left (the next case).
        std::string out;
        const std::string peerAddress = "10.0.0.2";
        s.Exec("h1",
               {"ping", "-c", "3", "-i", "0.2", "-W", "1", peerAddress},
               std::chrono::seconds(10),
               &out);
        const auto [sent, received] = PingCounts(out);
        EXPECT_EQ(sent, 3) << out;
        if (mode == "sw")
        {
            EXPECT_EQ(received, 3) << out;
        }
        else
        {
            EXPECT_EQ(received, 0) << out;
        }
        return true;
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    // Each counts its first up too (the topology configures the interface).
    EXPECT_EQ(r["nodes"]["h1"]["link_changes"].get<uint32_t>(), 3u);
    EXPECT_EQ(r["nodes"]["h2"]["link_changes"].get<uint32_t>(), 1u);
    if (mode == "crypto")
    {
        // The pings met the out policy with no SA left: dropped in the node, none on the wire.
        EXPECT_GE(r["nodes"]["h1"]["xfrm_drops"].value("XfrmOutNoStates", 0u), 3u)
            << r["nodes"]["h1"]["xfrm_drops"];
        EXPECT_EQ(Tshark(m_dir,
                         "wire-wire.pcap",
                         "(icmp.type == 8 || icmp.type == 0) && !esp",
                         "-e frame.number"),
                  "");
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EMU_LINK_DOWN_FLUSH,
                         testing::Values("sw", "crypto", "packet"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

/// A drop shunt over the hosts' /24 in every charon: software policies in and out, below the
/// CHILD_SA's /32 ones, so they decide only what no CHILD_SA policy covers.
const char* kDropShunt = "  leak-guard {\n"
                         "    remote_addrs = 127.0.0.1\n"
                         "    children { lan-drop {\n"
                         "      local_ts = 10.0.0.0/24\n"
                         "      remote_ts = 10.0.0.0/24\n"
                         "      mode = drop\n"
                         "      start_action = trap\n"
                         "    } }\n"
                         "  }\n";

class EMU_LINK_FLAP_PLAINTEXT : public EmulationCase, public testing::WithParamInterface<bool>
{
};

TEST_P(EMU_LINK_FLAP_PLAINTEXT, PacketOffloadLeaksUnlessADropShuntStandsBehind)
{
    const bool mitigated = GetParam();
    ns3::EmulationOptions options = H2h("packet");
    if (mitigated)
    {
        options.swanctlConnectionsExtra = kDropShunt;
    }
    json probe;
    options.scenario = [&](ns3::EmulationSession& s, std::string* error) {
        if (mitigated)
        {
            std::string policies;
            s.ExecXfrm("h1", {"ip", "xfrm", "policy", "show"}, &policies);
            EXPECT_NE(policies.find("action block"), std::string::npos)
                << "the drop shunt is installed: " << policies;
            s.Results()["scenario"]["policies_before"] = policies;
        }
        // A 1 kHz UDP probe h1 -> h2 across the flap: 0.5 s protected, 0.1 s down, then up.
        probe = s.Probe(2.0, [&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            SetHostLink(s, "h1", false);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            SetHostLink(s, "h1", true);
        });
        s.Results()["scenario"]["probe"] = probe;
        // charon still holds its CHILD_SA: it has no idea.
        std::string sas;
        s.Swanctl("h1", {"--list-sas"}, &sas);
        EXPECT_NE(sas.find("INSTALLED"), std::string::npos) << sas;
        return probe.contains("sent") || (*error = probe.dump(), false);
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    // The probe's datagrams (UDP to port 5301) in the clear on the wire, and inside ESP.
    std::istringstream clear(
        Tshark(m_dir, "wire-wire.pcap", "udp.dstport == 5301 && !esp", "-e frame.number"));
    std::istringstream inEsp(
        Tshark(m_dir, "wire-wire.pcap", "udp.dstport == 5301 && esp", "-e frame.number"));
    const auto lines = [](std::istringstream& in) {
        int n = 0;
        for (std::string line; std::getline(in, line);)
        {
            n += line.empty() ? 0 : 1;
        }
        return n;
    };
    const int plaintext = lines(clear);
    const int protectedCount = lines(inEsp);
    const int sent = probe.value("sent", 0);
    std::cout << "[ leak ] packet offload, link flap, " << (mitigated ? "with" : "without")
              << " the drop shunt: " << plaintext << " of " << sent
              << " probe datagrams in the clear, " << protectedCount << " in ESP\n";
    EXPECT_GT(protectedCount, 300) << "the probe was protected before the flap";
    // The datagrams that left the host, less the few in flight on the link as it went down
    // (the host's queue and the device lose them with the link).
    const int unprotected = sent - protectedCount;
    if (mitigated)
    {
        EXPECT_EQ(plaintext, 0);
        // The drop shunt's out policy dropped what the flushed CHILD_SA policy had covered.
        const int blocked = r["nodes"]["h1"]["xfrm_drops"].value("XfrmOutPolBlock", 0);
        EXPECT_LE(blocked, unprotected);
        EXPECT_GE(blocked, unprotected - 5) << r["nodes"]["h1"]["xfrm_drops"];
    }
    else
    {
        // Everything the host sent after the link came back: about 1.4 s of the probe.
        EXPECT_GT(plaintext, 1000);
        EXPECT_LE(plaintext, unprotected);
        EXPECT_GE(plaintext, unprotected - 5) << "each datagram that left the host";
    }
    // The receiver's in policy still wants ESP: the plaintext never reached h2's socket.
    EXPECT_LE(probe.value("received", 0), protectedCount);
}

INSTANTIATE_TEST_SUITE_P(Mitigation,
                         EMU_LINK_FLAP_PLAINTEXT,
                         testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                             return info.param ? std::string("DropShunt") : std::string("Bare");
                         });

} // namespace
