// Emulation topologies end to end, as `offloadlab emulate` runs them: Mininet hosts, real charons
// keying the ns-3 nodes over XFRM netlink, ping and iperf3 both ways. Checked afterwards as
// strongSwan's own tests check: swanctl's view and the nodes' agree, nothing is left after charon
// stops, and nothing is left of the run at all. The wire's pcap goes to tshark, which nobody here
// wrote: with the run's esp_sa it must authenticate and decrypt every ESP packet, and in the IPsec
// modes no plaintext other than IKE may cross the wire.
//
// Needs root, Mininet, strongSwan, iperf3 (ci/setup installs them); skips with the reason
// without them.

#include "emulation-run.h"
#include "harness-process.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace
{

struct Case
{
    const char* topology;
    const char* mode;
    double rekeySeconds{0}; //!< the initiator's rekey_time; 0: no rekey in the run
};

class EmulationTopologyTest : public testing::TestWithParam<Case>
{
  protected:
    void SetUp() override
    {
        if (const std::string why = ns3::EmulationUnavailable(); !why.empty())
        {
            GTEST_SKIP() << why;
        }
        if (std::string(GetParam().topology) == "interop_kernel")
        {
            if (const std::string why = ns3::KernelEspUnavailable(); !why.empty())
            {
                GTEST_SKIP() << "interop_kernel's g2 keys its own kernel's ESP, and " << why;
            }
        }
        m_dir = "/tmp/offloadlab-emulation-" + std::to_string(getpid()) + "-" +
                GetParam().topology + "-" + GetParam().mode +
                (GetParam().rekeySeconds > 0 ? "-rekeying" : "");
        fs::remove_all(m_dir);
    }

    void TearDown() override
    {
        if (!m_dir.empty() && !HasFailure())
        {
            fs::remove_all(m_dir);
        }
        else if (!m_dir.empty())
        {
            std::cerr << "run kept in " << m_dir << "\n";
        }
    }

    std::string m_dir;
};

TEST_P(EmulationTopologyTest, EstablishesCarriesTrafficAndCleansUp)
{
    const Case c = GetParam();
    const bool ipsec = std::string(c.mode) != "plain";
    ns3::EmulationOptions options;
    options.topology = c.topology;
    options.mode = c.mode;
    options.outDir = m_dir;
    options.trafficSeconds = 1;
    options.iperfBitrate = "40M"; // a pcap tshark reads in a few seconds
    options.rekeySeconds = c.rekeySeconds;
    if (c.rekeySeconds > 0)
    {
        options.trafficSeconds = 3; // at least two rekeys under each direction's traffic
    }
    json r;
    std::string error;
    ASSERT_TRUE(ns3::RunEmulation(options, &r, &error)) << error;
    EXPECT_TRUE(r["ok"].get<bool>());
    EXPECT_EQ(r["traffic"]["ping"]["received"].get<int>(), 10);
    for (const char* run : {"iperf3", "iperf3_reverse"})
    {
        EXPECT_GT(r["traffic"][run]["mbit_per_s"].get<double>(), 20) << run;
    }
    // The 1 kHz UDP probe beside the forward TCP (its gap is the benchmark's, not asserted).
    const json& probe = r["traffic"]["probe"];
    EXPECT_GE(probe["received"].get<int>(), probe["sent"].get<int>() * 99 / 100) << probe;
    if (c.rekeySeconds > 0)
    {
        // The node raised each soft expire, charon rekeyed, the out policy moved to the new SA
        // (UPDPOLICY), and the old SAs went: with traffic both ways and no XFRM drop (below).
        EXPECT_GE(r["rekey"]["rekeys"].get<int>(), 2) << r["rekey"];
        for (const json& e : r["rekey"]["expires"])
        {
            EXPECT_FALSE(e["hard"].get<bool>()) << e;
        }
        EXPECT_EQ(r["rekey"]["soft_expire_to_new_outbound_sa_active_ms"].size(),
                  r["rekey"]["expires"].size());
    }
    if (ipsec)
    {
        EXPECT_TRUE(r["ike"]["established"].get<bool>());
        EXPECT_LT(r["timing"]["initiate_to_installed_ms"].get<double>(), 2000);
        // swanctl (charon's GETSA through the endpoint) and the nodes agree, SA by SA.
        // Each end's outbound SA carried what the other end's inbound SA received, CHILD_SA by
        // CHILD_SA (rekeyed ones included): in interop the other end is strongSwan's own ESP
        // (libipsec), counting for itself.
        ASSERT_EQ(r["swanctl"].size(), 2u);
        const json& a = r["swanctl"].begin().value();
        const json& b = (++r["swanctl"].begin()).value();
        int pairs = 0;
        for (const auto& [from, to] : {std::make_pair(&a, &b), std::make_pair(&b, &a)})
        {
            for (const json& out : (*from)["child_sas"])
            {
                for (const json& in : (*to)["child_sas"])
                {
                    // Only live ones: charon stops reading a rekeyed CHILD_SA's counters.
                    if (in["spi-in"] != out["spi-out"] || in["state"] != "INSTALLED" ||
                        out["state"] != "INSTALLED")
                    {
                        continue;
                    }
                    ++pairs;
                    const uint64_t sent = out["bytes-out"];
                    const uint64_t received = in["bytes-in"];
                    if (std::string(c.topology) == "interop")
                    {
                        // libipsec reads ESP-in-UDP from a socket in userspace; under a full TCP
                        // window its socket buffer may overflow (the kernel drops, TCP resends):
                        // a few packets fewer than were sent, never more.
                        EXPECT_LE(received, sent);
                        EXPECT_GE(received, sent - sent / 100);
                    }
                    else
                    {
                        EXPECT_EQ(received, sent) << out["spi-out"];
                    }
                }
            }
        }
        EXPECT_GE(pairs, 2);
        for (auto& [host, s] : r["swanctl"].items())
        {
            SCOPED_TRACE(host);
            EXPECT_TRUE(s["installed"].get<bool>());
            if (r["nodes"][host]["stack"] != "emulated")
            {
                continue; // libipsec or the host's kernel: its SAs are not in its node
            }
            // swanctl (charon's GETSA through the endpoint) and the node agree on every SA the
            // node still holds.
            int matched = 0;
            for (const json& x : r["nodes"][host]["states"])
            {
                EXPECT_EQ(x["offload"].get<std::string>(),
                          std::string(c.mode) == "sw" ? "none" : c.mode);
                for (const json& child : s["child_sas"])
                {
                    if (child["state"] != "INSTALLED")
                    {
                        continue;
                    }
                    for (const char* dir : {"out", "in"})
                    {
                        if (x["spi"] == child[std::string("spi-") + dir])
                        {
                            EXPECT_EQ(child[std::string("bytes-") + dir].get<uint64_t>(),
                                      x["bytes"].get<uint64_t>())
                                << x["spi"];
                            ++matched;
                        }
                    }
                }
            }
            EXPECT_GE(matched, 2);
            // swanctl lists only the newest CHILD_SAs: with rekeying those that carried an
            // iperf3 run may be gone. The node's outbound SAs over the run carried at least the
            // TCP payload its side sent (lifetime bytes count the inner packet, headers too).
            uint64_t total = 0;
            for (const json& sa : r["rekey"]["outbound_sas"][host])
            {
                total += sa["bytes"].get<uint64_t>();
            }
            EXPECT_GE(total,
                      std::min(r["traffic"]["iperf3"]["bytes"].get<uint64_t>(),
                               r["traffic"]["iperf3_reverse"]["bytes"].get<uint64_t>()))
                << "the traffic went through the CHILD_SAs: " << r["rekey"]["outbound_sas"][host];
        }
        EXPECT_TRUE(r["after_charon_stop"]["empty"].get<bool>()) << r["after_charon_stop"];
    }
    for (auto& [host, node] : r["nodes"].items())
    {
        for (auto& [reason, n] : node["xfrm_drops"].items())
        {
            // The first full-size segments of each TCP connection, too big once ESP is added,
            // are refused with a PMTU error (packet offload counts them as XfrmOutError).
            const uint64_t expected = reason == "XfrmOutError" && std::string(c.mode) == "packet"
                                          ? node["host_port"]["frag_needed"].get<uint64_t>()
                                          : 0;
            EXPECT_EQ(n.get<uint64_t>(), expected) << host << " " << reason;
        }
    }
    // Nothing left: no interface of the run's prefix, no host process.
    const std::string prefix = r["prefix"].get<std::string>();
    EXPECT_EQ(ns3::ShellOutput("ip -o link show | grep -c ' " + prefix + "'"), "0\n");
    for (auto& [host, h] : r["hosts"].items())
    {
        EXPECT_NE(kill(h["pid"].get<int>(), 0), 0) << host << "'s shell is still running";
    }

    // The independent oracle: tshark with the run's keys.
    const fs::path home = fs::path(m_dir) / "wireshark-home";
    fs::create_directories(home / ".config" / "wireshark");
    fs::copy_file(fs::path(m_dir) / "esp_sa", home / ".config" / "wireshark" / "esp_sa");
    const std::string fields = ns3::ShellOutput(
        "HOME=" + home.string() + " XDG_CONFIG_HOME=" + home.string() + "/.config tshark -n -r " +
        m_dir + "/wire-wire.pcap" +
        " -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE"
        " -T fields -e frame.protocols -e esp.icv_good 2>/dev/null");
    std::istringstream lines(fields);
    std::string line;
    int esp = 0;
    int good = 0;
    int ike = 0;
    int plaintext = 0;
    while (std::getline(lines, line))
    {
        if (line.find(":esp") != std::string::npos)
        {
            ++esp;
            if (std::string(c.topology) == "interop")
            {
                EXPECT_NE(line.find(":udp:"), std::string::npos) << "ESP-in-UDP: " << line;
            }
            good += line.find("\t1") != std::string::npos ? 1 : 0;
            // tshark sees the payload inside: the hosts' ICMP, TCP (iperf3) or UDP (the probe).
            EXPECT_TRUE(line.find(":esp:icmp") != std::string::npos ||
                        line.find(":esp:tcp") != std::string::npos ||
                        line.find(":esp:ip:icmp") != std::string::npos ||
                        line.find(":esp:ip:tcp") != std::string::npos ||
                        line.find(":esp:udp") != std::string::npos ||
                        line.find(":esp:ip:udp") != std::string::npos)
                << line;
        }
        else if (line.find(":isakmp") != std::string::npos)
        {
            ++ike;
        }
        else if (line.find(":icmp") != std::string::npos ||
                 line.find(":tcp") != std::string::npos ||
                 (line.find(":udp") != std::string::npos &&
                  line.find(":udpencap") == std::string::npos))
        {
            ++plaintext;
        }
    }
    std::cout << "[ tshark ] " << c.topology << " " << c.mode << ": " << esp << " ESP (" << good
              << " authenticated), " << ike << " IKE, " << plaintext << " other TCP/UDP/ICMP\n";
    if (ipsec)
    {
        EXPECT_GT(esp, 1000);
        EXPECT_EQ(good, esp) << "every ESP packet authenticated with the run's keys";
        EXPECT_GE(ike, 4) << "IKE_SA_INIT and IKE_AUTH, in the clear (socket policies)";
        EXPECT_EQ(plaintext, 0) << "no selector-matching plaintext on the wire";
    }
    else
    {
        EXPECT_EQ(esp, 0);
        EXPECT_GT(plaintext, 1000);
    }
}

INSTANTIATE_TEST_SUITE_P(Topologies,
                         EmulationTopologyTest,
                         testing::Values(Case{"h2h", "plain"},
                                         Case{"h2h", "sw"},
                                         Case{"h2h", "crypto"},
                                         Case{"h2h", "packet"},
                                         Case{"gw2gw", "sw"},
                                         Case{"gw2gw", "crypto"},
                                         Case{"gw2gw", "packet"},
                                         Case{"interop", "sw"},
                                         Case{"interop", "packet"},
                                         Case{"interop_kernel", "sw"},
                                         Case{"interop_kernel", "crypto"},
                                         Case{"interop_kernel", "packet"},
                                         Case{"h2h", "crypto", 2},
                                         Case{"gw2gw", "packet", 2}),
                         [](const testing::TestParamInfo<Case>& info) {
                             return std::string(info.param.topology) + "_" + info.param.mode +
                                    (info.param.rekeySeconds > 0 ? "_rekeying" : "");
                         });

} // namespace
