// On-demand CHILD_SAs: charon's trap policies (start_action = trap) and the kernel's ACQUIRE.
//
// EMU_TRAP_ACQUIRE: charon installs the CHILD_SA's policies with no SA. The first packet they
// select finds no state for the out policy's template: Linux's xfrm_state_find makes an ACQ
// state and sends one XFRM_MSG_ACQUIRE to XFRMNLGRP_ACQUIRE (build_acquire), and drops the
// packet (xfrm_larval_drop, XfrmOutNoStates). charon's trap manager starts the IKE_SA for the
// acquire's reqid; its outbound SA replaces the ACQ state. Nothing leaves in the clear while
// the SA is negotiated, one ACQUIRE only is sent however many packets wait, and traffic then
// flows through the CHILD_SA. On h2h (a host's own traffic, transport mode) and on gw2gw (a
// host's traffic its gateway forwards, tunnel mode).
#include "emulation-case.h"
#include "harness-process.h"

#include <iostream>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

using namespace emulationcase;
using nlohmann::json;

namespace
{

/// How many times text contains needle.
int
Occurrences(const std::string& text, const std::string& needle)
{
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    {
        ++n;
    }
    return n;
}

/// A topology and a data path.
struct TrapCase
{
    const char* topology;
    const char* mode;
};

/// The IKE host that initiates (its trap policies send the ACQUIRE) and the one that answers.
std::pair<std::string, std::string>
IkeHosts(const json& topology)
{
    std::string initiator;
    std::string responder;
    for (const json& ike : topology["ike"])
    {
        (ike.value("initiator", false) ? initiator : responder) = ike["host"].get<std::string>();
    }
    return {initiator, responder};
}

class EMU_TRAP_ACQUIRE : public EmulationCase, public testing::WithParamInterface<TrapCase>
{
};

// h2h: the hosts' own traffic meets the trap (transport mode); gw2gw: a host's traffic that its
// gateway forwards does (tunnel mode, the ACQ state keyed by the gateways' addresses).
TEST_P(EMU_TRAP_ACQUIRE, FirstPacketStartsTheChildSaNothingLeaks)
{
    const TrapCase c = GetParam();
    const std::string mode = c.mode;
    ns3::EmulationOptions options;
    options.topology = c.topology;
    options.mode = mode;
    options.trap = true;
    double acquireToInstalledMs = -1;
    std::string initiator;
    std::string responder;
    options.scenario = [&](ns3::EmulationSession& s, std::string* error) {
        std::tie(initiator, responder) = IkeHosts(s.Topology());
        const std::string client = s.Topology()["traffic"]["client"].get<std::string>();
        const std::string server = s.Topology()["traffic"]["server_address"].get<std::string>();
        // Trapped: policies in the initiator's node, no SA, no IKE_SA.
        const Tables before = NodeTables(s, initiator);
        EXPECT_EQ(before.states, 0u);
        EXPECT_GE(before.policies, 2u) << "the trap's out and in policies";
        std::string sas;
        s.Swanctl(initiator, {"--list-sas"}, &sas);
        EXPECT_EQ(sas.find("ESTABLISHED"), std::string::npos) << sas;
        // Pings every 20 ms: the first ones wait for the CHILD_SA (dropped in the node).
        const auto t0 = std::chrono::steady_clock::now();
        std::string first;
        std::thread pinger([&] {
            s.Exec(client,
                   {"ping", "-c", "25", "-i", "0.02", "-W", "1", server},
                   std::chrono::seconds(10),
                   &first);
        });
        const bool installed = s.WaitChildSas(std::chrono::seconds(10));
        acquireToInstalledMs =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        pinger.join();
        if (!installed)
        {
            *error = "no CHILD_SA 10 s after the first packet: " + first;
            return false;
        }
        const auto [sent, received] = PingCounts(first);
        EXPECT_EQ(sent, 25) << first;
        EXPECT_GT(received, 0) << "no echo once the CHILD_SA was up: " << first;
        EXPECT_LT(received, 25) << "the first packet cannot have waited for the SA";
        s.Results()["scenario"]["first_ping"] = {{"sent", sent}, {"received", received}};
        // Then nothing is lost.
        std::string second;
        s.Exec(client,
               {"ping", "-c", "10", "-i", "0.05", "-W", "2", server},
               std::chrono::seconds(10),
               &second);
        EXPECT_EQ(PingCounts(second), std::make_pair(10, 10)) << second;
        s.Swanctl(initiator, {"--list-sas"}, &sas);
        EXPECT_NE(sas.find("INSTALLED"), std::string::npos) << sas;
        // charon's outbound SA replaced the ACQ state (xfrm_state_add, __find_acq_core).
        std::string states;
        s.ExecXfrm(initiator, {"ip", "xfrm", "state"}, &states);
        EXPECT_EQ(states.find("spi 0x00000000"), std::string::npos)
            << "an ACQ state outlived the SA it asked for: " << states;
        EXPECT_NE(states.find("spi 0x"), std::string::npos) << states;
        // The trap stays: the next CHILD_SA is again on demand.
        std::string pols;
        s.Swanctl(initiator, {"--list-pols"}, &pols);
        EXPECT_TRUE(std::regex_search(pols, std::regex("(^|\\n)c/c, (TRANSPORT|TUNNEL)"))) << pols;
        return true;
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    std::cout << "[ trap ] " << c.topology << " " << mode
              << ": first ping to CHILD_SA installed in the nodes " << int(acquireToInstalledMs)
              << " ms\n";
    // One ACQUIRE, to the initiator's charon, which started the IKE_SA from it.
    const std::string logI = ns3::ReadWholeFile(m_dir + "/" + initiator + "-charon.log");
    const std::string logR = ns3::ReadWholeFile(m_dir + "/" + responder + "-charon.log");
    EXPECT_EQ(Occurrences(logI, "received a XFRM_MSG_ACQUIRE"), 1) << logI;
    EXPECT_EQ(Occurrences(logR, "received a XFRM_MSG_ACQUIRE"), 0);
    EXPECT_EQ(Occurrences(logI, "unable to acquire"), 0) << logI;
    EXPECT_NE(logI.find("initiating IKE_SA"), std::string::npos) << logI;
    // The waiting packets died in the initiator's node, not on the wire.
    const json& node = r["nodes"][initiator];
    EXPECT_GE(node["xfrm_drops"].value("XfrmOutNoStates", 0u), 1u) << node["xfrm_drops"];
    EXPECT_EQ(Tshark(m_dir,
                     "wire-wire.pcap",
                     "(icmp.type == 8 || icmp.type == 0) && !esp",
                     "-e frame.number"),
              "")
        << "an echo crossed the wire in the clear";
    std::istringstream inEsp(
        Tshark(m_dir, "wire-wire.pcap", "icmp.type == 8 && esp", "-e frame.number"));
    int protectedEchoes = 0;
    for (std::string line; std::getline(inEsp, line);)
    {
        protectedEchoes += line.empty() ? 0 : 1;
    }
    EXPECT_GE(protectedEchoes, 10) << "tshark decrypted the echoes in ESP";
}

INSTANTIATE_TEST_SUITE_P(Topologies,
                         EMU_TRAP_ACQUIRE,
                         testing::Values(TrapCase{"h2h", "sw"},
                                         TrapCase{"h2h", "crypto"},
                                         TrapCase{"h2h", "packet"},
                                         TrapCase{"gw2gw", "sw"},
                                         TrapCase{"gw2gw", "packet"}),
                         [](const testing::TestParamInfo<TrapCase>& info) {
                             return std::string(info.param.topology) + "_" + info.param.mode;
                         });

} // namespace
