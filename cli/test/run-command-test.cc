// The offloadlab command as a user runs it: the main job's outputs, checked by tshark (a dissector
// nobody here wrote), and the command line's errors and exit codes.
#include "shell.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using clitest::Output;
using clitest::Quote;
using clitest::Shell;

namespace
{
std::string
Offloadlab(const std::string& args)
{
    return std::string(OFFLOADLAB_BINARY) + " " + args;
}

/// One `offloadlab run` for the whole test binary: all scenarios, all modes, pcaps on.
const fs::path&
MainJobOutput()
{
    static fs::path dir;
    if (dir.empty())
    {
        dir =
            fs::temp_directory_path() / ("offloadlab-run-command-test-" + std::to_string(getpid()));
        fs::remove_all(dir);
        Output run = Shell(Offloadlab("run --duration 1 --out " + dir.string()));
        EXPECT_EQ(run.exitCode, 0) << run.text;
    }
    return dir;
}

/// The IPv4 protocol numbers of a pcap's frames (PPP framing, as the EmuNic writes it), counted.
std::map<int, int>
IpProtocolsOf(const fs::path& pcap)
{
    std::ifstream in(pcap, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    std::map<int, int> protocols;
    EXPECT_GE(bytes.size(), 24u) << pcap;
    if (bytes.size() < 24)
    {
        return protocols;
    }
    auto le32 = [&bytes](size_t at) {
        return uint32_t(bytes[at]) | uint32_t(bytes[at + 1]) << 8 | uint32_t(bytes[at + 2]) << 16 |
               uint32_t(bytes[at + 3]) << 24;
    };
    EXPECT_EQ(le32(0), 0xa1b2c3d4u) << "little-endian microsecond pcap";
    EXPECT_EQ(le32(20), 9u) << "link type PPP";
    for (size_t at = 24; at + 16 <= bytes.size();)
    {
        const uint32_t captured = le32(at + 8);
        const size_t frame = at + 16;
        if (frame + captured > bytes.size())
        {
            ADD_FAILURE() << "truncated record at " << at;
            break;
        }
        // PPP protocol 0x0021 (IPv4), then the IPv4 header: protocol at byte 9; or 0x0057
        // (IPv6), next header at byte 6 (ns-3's TCP and UDP send no extension headers).
        if (captured >= 2 + 20 && bytes[frame] == 0x00 && bytes[frame + 1] == 0x21)
        {
            ++protocols[bytes[frame + 2 + 9]];
        }
        if (captured >= 2 + 40 && bytes[frame] == 0x00 && bytes[frame + 1] == 0x57)
        {
            ++protocols[bytes[frame + 2 + 6]];
        }
        at = frame + captured;
    }
    return protocols;
}

class CleanupEnvironment : public ::testing::Environment
{
  public:
    void TearDown() override
    {
        fs::remove_all(fs::temp_directory_path() /
                       ("offloadlab-run-command-test-" + std::to_string(getpid())));
    }
};

const auto* const g_cleanup = ::testing::AddGlobalTestEnvironment(new CleanupEnvironment);
} // namespace

TEST(OffloadlabRun, WritesResultsForEveryScenarioAndMode)
{
    const fs::path& dir = MainJobOutput();
    std::ifstream in(dir / "results.json");
    ASSERT_TRUE(in.good());
    const nlohmann::json doc = nlohmann::json::parse(in);
    ASSERT_EQ(doc["runs"].size(), 20u);
    std::map<std::string, int> modes;
    std::vector<std::string> order;
    for (const auto& run : doc["runs"])
    {
        ++modes[run["mode"].get<std::string>()];
        order.push_back(run["mode"].get<std::string>());
        EXPECT_GT(run["traffic"]["tcp"]["bytes_delivered"].get<uint64_t>(), 0u);
        // UDP is lost only where a queue dropped packets (congestion: drops.queue), never to
        // IPsec: in software ESP-in-UDP the tunnel is one flow to the gateway's FqCoDel.
        const uint64_t sent = run["traffic"]["udp"]["packets_sent"];
        const uint64_t delivered = run["traffic"]["udp"]["packets_delivered"];
        uint64_t queued = 0;
        for (const auto& [dev, n] : run["drops"]["queue"].items())
        {
            queued += n.get<uint64_t>();
        }
        EXPECT_LE(delivered, sent);
        EXPECT_LE(sent - delivered, queued) << run["scenario"] << " " << run["mode"];
        EXPECT_LE(sent - delivered, sent / 200);
        if (run["mode"] == "plain")
        {
            // The baseline: no key manager, no SA, nothing for the IPsec layer or the NIC to do.
            EXPECT_EQ(run["rekeys"].get<int>(), 0);
            EXPECT_TRUE(run["sas"].empty()) << run["sas"];
            EXPECT_TRUE(run["events"].empty()) << run["events"];
            if (run["scenario"] == "gateway-tunnel-nat")
            {
                // In the clear the NAT maps the TCP flow and the UDP stream themselves.
                EXPECT_EQ(run["nat"]["tcp_mappings"], 1);
                EXPECT_EQ(run["nat"]["udp_mappings"], 1);
            }
            continue;
        }
        EXPECT_GE(run["rekeys"].get<int>(), 1);
        EXPECT_GE(run["sas"].size(), 8u);
        const bool nat = run["scenario"] == "gateway-tunnel-nat";
        for (const auto& sa : run["sas"])
        {
            // Behind the NAT the SAs are ESP-in-UDP, which Linux 6.1 does not crypto-offload:
            // the key manager installs them in software, as strongSwan's hw_offload=auto does.
            const bool software = run["mode"] == "sw" || (nat && run["mode"] == "crypto");
            EXPECT_EQ(sa["offload"], software ? "none" : run["mode"]) << run["scenario"];
            EXPECT_EQ(sa["offload_requested"], run["mode"] == "sw" ? "none" : run["mode"]);
        }
        if (nat)
        {
            // Only ESP-in-UDP on port 4500 crossed the NAT: one mapping, nothing dropped.
            EXPECT_EQ(run["nat"]["udp_mappings"], 1) << run["mode"];
            EXPECT_EQ(run["nat"]["tcp_mappings"], 0) << run["mode"];
            EXPECT_GT(run["nat"]["translated"].get<uint64_t>(), 1000u);
            EXPECT_TRUE(run["drops"]["nat"].empty()) << run["drops"]["nat"];
        }
        for (const auto& pcap : run["pcaps"])
        {
            EXPECT_TRUE(fs::exists(dir / pcap.get<std::string>())) << pcap;
        }
    }
    EXPECT_EQ(modes,
              (std::map<std::string, int>{{"crypto", 5}, {"packet", 5}, {"plain", 5}, {"sw", 5}}));
    EXPECT_EQ(std::vector<std::string>(order.begin(), order.begin() + 4),
              (std::vector<std::string>{"plain", "sw", "crypto", "packet"}));
    EXPECT_TRUE(doc["problems"].empty());
}

// The plain baseline's captures hold plaintext only: not one ESP frame (IP protocol 50) on any
// link, and the TCP and UDP of the run in the clear on the link where the other modes put ESP.
TEST(OffloadlabRun, PlainCapturesHoldNoEsp)
{
    const fs::path& dir = MainJobOutput();
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(dir))
    {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() != ".pcap" || name.find("-plain-") == std::string::npos)
        {
            continue;
        }
        SCOPED_TRACE(name);
        const std::map<int, int> protocols = IpProtocolsOf(entry.path());
        EXPECT_EQ(protocols.count(50), 0u) << "ESP in a plain capture";
        EXPECT_GT(protocols.count(6) ? protocols.at(6) : 0, 1000);
        EXPECT_GT(protocols.count(17) ? protocols.at(17) : 0, 100);
        ++checked;
    }
    EXPECT_EQ(checked, 12) << "hostA-hostB; lanA, wan, lanB; lanA, wanA, wanB, lanB; and the "
                              "v6 scenarios' hostA-hostB; lanA, wan, lanB";
    // The same pcaps of sw mode do carry ESP: the check above can fail.
    const std::map<int, int> sw = IpProtocolsOf(dir / "gateway-tunnel-sw-wan.pcap");
    EXPECT_GT(sw.count(50) ? sw.at(50) : 0, 1000);
}

// Without ESP's overhead, TCP does at least as well as software IPsec on the same links.
TEST(OffloadlabRun, PlainGoodputIsAtLeastSoftwareIpsec)
{
    std::ifstream in(MainJobOutput() / "results.json");
    ASSERT_TRUE(in.good());
    const nlohmann::json doc = nlohmann::json::parse(in);
    std::map<std::string, std::map<std::string, double>> tcp; // scenario -> mode -> Mb/s
    for (const auto& run : doc["runs"])
    {
        tcp[run["scenario"]][run["mode"]] = run["traffic"]["tcp"]["goodput_mbps"].get<double>();
    }
    ASSERT_EQ(tcp.size(), 5u);
    for (const auto& [scenario, modes] : tcp)
    {
        ASSERT_TRUE(modes.count("plain") && modes.count("sw")) << scenario;
        EXPECT_GE(modes.at("plain"), modes.at("sw")) << scenario;
        EXPECT_GT(modes.at("plain"), 0) << scenario;
    }
}

// tshark decrypts every ESP packet of every IPsec link with the written esp_sa, and the ICV
// check passes on all of them.
TEST(OffloadlabRun, TsharkDecryptsEveryEspPacketWithTheKeyFile)
{
    if (Shell("command -v tshark").exitCode != 0)
    {
        GTEST_SKIP() << "tshark is not installed (ci/setup installs it)";
    }
    const fs::path& dir = MainJobOutput();
    const fs::path home = dir / "wireshark-home";
    fs::create_directories(home / ".config" / "wireshark");
    fs::copy_file(dir / "esp_sa",
                  home / ".config" / "wireshark" / "esp_sa",
                  fs::copy_options::overwrite_existing);
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(dir))
    {
        const std::string name = entry.path().filename().string();
        // The links that carry IPsec: the hosts' link, the WAN, and both sides of the NAT.
        const bool natLink = name.find("-wanA.pcap") != std::string::npos ||
                             name.find("-wanB.pcap") != std::string::npos;
        const bool ipsecLink = (name.find("hostA-hostB") != std::string::npos ||
                                name.find("-wan.pcap") != std::string::npos || natLink) &&
                               name.find("-plain-") == std::string::npos;
        if (entry.path().extension() != ".pcap" || !ipsecLink)
        {
            continue;
        }
        SCOPED_TRACE(name);
        const bool v6 = name.find("-v6-") != std::string::npos;
        Output fields = Shell("HOME=" + home.string() + " XDG_CONFIG_HOME=" + home.string() +
                              "/.config tshark -n -r " + entry.path().string() +
                              " -o esp.enable_encryption_decode:TRUE"
                              " -o esp.enable_authentication_check:TRUE"
                              " -T fields -e ip.proto -e esp.icv_good -e esp.icv_bad"
                              " -e frame.protocols 2>/dev/null");
        ASSERT_EQ(fields.exitCode, 0) << fields.text;
        std::istringstream lines(fields.text);
        std::string line;
        int esp = 0;
        int good = 0;
        int linkControl = 0;
        while (std::getline(lines, line))
        {
            if (line.rfind("Running as user", 0) == 0)
            {
                continue; // tshark's warning when run as root
            }
            if (v6 && line.find("\tppp:ipv6:icmpv6") != std::string::npos &&
                line.find(":esp:") == std::string::npos)
            {
                ++linkControl; // router solicitations at start-up, in the clear as in Linux
                continue;
            }
            // Every frame on an IPsec link is ESP (outer protocol 50; tunnel mode adds the inner
            // one after a comma), and tshark sees the payload inside it. Around the NAT it is
            // ESP in UDP (outer protocol 17, RFC 3948), which tshark decrypts the same way. On
            // the IPv6 links there is no IPv4 header at all (ip.proto empty), only IPv6 ESP.
            const char* outer = natLink ? "17" : "50";
            if (v6)
            {
                EXPECT_EQ(line.rfind("\t", 0), 0u) << line;
                EXPECT_NE(line.find(":ipv6:esp:"), std::string::npos) << line;
            }
            else
            {
                EXPECT_TRUE(line.rfind(std::string(outer) + ",", 0) == 0 ||
                            (!natLink && line.rfind("50\t", 0) == 0))
                    << line;
            }
            if (natLink)
            {
                EXPECT_NE(line.find(":udp:udpencap:esp:ip:"), std::string::npos) << line;
            }
            esp++;
            good += line.find("\t1\t0\t") != std::string::npos ? 1 : 0;
            EXPECT_TRUE(line.find(":esp:tcp") != std::string::npos ||
                        line.find(":esp:udp") != std::string::npos ||
                        line.find(":esp:ip:") != std::string::npos ||
                        line.find(":esp:ipv6:") != std::string::npos)
                << line;
        }
        EXPECT_GT(esp, 1000);
        EXPECT_EQ(good, esp);
        EXPECT_LE(linkControl, 10) << "ns-3 sends 5 router solicitations per host";
        ++checked;
    }
    EXPECT_EQ(checked, 18) << "3 IPsec modes x (hostA-hostB, wan, wanA, wanB, and the v6 "
                              "scenarios' hostA-hostB and wan)";
}

TEST(OffloadlabCli, HelpAndListSucceed)
{
    Output help = Shell(Offloadlab("--help"));
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.text.find("run"), std::string::npos);
    Output runHelp = Shell(Offloadlab("run --help"));
    EXPECT_EQ(runHelp.exitCode, 0);
    EXPECT_NE(runHelp.text.find("--out"), std::string::npos);
    Output list = Shell(Offloadlab("run --list"));
    EXPECT_EQ(list.exitCode, 0);
    EXPECT_EQ(list.text,
              "host-to-host-transport\ngateway-tunnel\ngateway-tunnel-nat\n"
              "host-to-host-transport-v6\ngateway-tunnel-v6\ngateway-tunnel-1000\n");
}

struct BadArguments
{
    const char* name;
    const char* args;
    const char* mentions;
};

void
PrintTo(const BadArguments& param, std::ostream* os)
{
    *os << param.name;
}

class OffloadlabCliErrors : public ::testing::TestWithParam<BadArguments>
{
};

TEST_P(OffloadlabCliErrors, ExitTwoAndNameTheProblem)
{
    Output out = Shell(Offloadlab(GetParam().args));
    EXPECT_EQ(out.exitCode, 2) << out.text;
    EXPECT_NE(out.text.find(GetParam().mentions), std::string::npos) << out.text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    OffloadlabCliErrors,
    ::testing::Values(BadArguments{"NoCommand", "", "usage"},
                      BadArguments{"UnknownCommand", "frobnicate", "frobnicate"},
                      BadArguments{"MissingOut", "run", "--out"},
                      BadArguments{"BadMode", "run --out /tmp/x --mode turbo", "turbo"},
                      BadArguments{"BadModeNamesPlain", "run --out /tmp/x --mode none", "plain"},
                      BadArguments{"BadScenario", "run --out /tmp/x --scenario moon", "moon"},
                      BadArguments{"BadDuration", "run --out /tmp/x --duration soon", "soon"},
                      BadArguments{"NegativeSeed", "run --out /tmp/x --seed -3", "--seed"},
                      BadArguments{"RekeyTimeNotWhole", "run --out /tmp/x --rekey-time 1.5", "1.5"},
                      BadArguments{"RekeyTimeNotBelowLifeTime",
                                   "run --out /tmp/x --rekey-time 5 --life-time 5",
                                   "--life-time 5"},
                      BadArguments{"UnknownOption", "run --out /tmp/x --fast", "--fast"}),
    [](const auto& info) { return std::string(info.param.name); });
