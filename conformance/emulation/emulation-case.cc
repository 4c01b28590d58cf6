#include "emulation-case.h"

#include "emulated-host.h"
#include "harness-process.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>
#include <unistd.h>

namespace emulationcase
{

namespace fs = std::filesystem;
using nlohmann::json;

Tables
NodeTables(ns3::EmulationSession& session, const std::string& host)
{
    Tables t;
    session.InSimulator([&](const std::map<std::string, ns3::Ptr<ns3::EmulatedHost>>& hosts) {
        ns3::Ptr<ns3::XfrmStack> stack = hosts.at(host)->GetStack();
        for (const auto& x : stack->GetStates().GetAll())
        {
            ++t.states;
            t.offloadedStates += x->GetOffload().ops ? 1 : 0;
        }
        for (const auto& xp : stack->GetPolicies().GetAll())
        {
            ++t.policies;
            t.offloadedPolicies += xp->GetOffload().ops ? 1 : 0;
        }
    });
    return t;
}

std::string
TapOf(ns3::EmulationSession& session, const std::string& host)
{
    for (const json& e : session.Topology()["emulated"])
    {
        if (e["host"] == host)
        {
            return e["tap"].get<std::string>();
        }
    }
    return "";
}

uint32_t
LinkChanges(ns3::EmulationSession& session, const std::string& host)
{
    uint32_t n = 0;
    session.InSimulator([&](const std::map<std::string, ns3::Ptr<ns3::EmulatedHost>>& hosts) {
        n = hosts.at(host)->GetLinkChanges();
    });
    return n;
}

bool
SetHostLink(ns3::EmulationSession& session, const std::string& host, bool up)
{
    const uint32_t before = LinkChanges(session, host);
    std::string out;
    if (session.Exec(host,
                     {"ip", "link", "set", "dev", TapOf(session, host), up ? "up" : "down"},
                     std::chrono::seconds(5),
                     &out) != 0)
    {
        ADD_FAILURE() << "ip link set " << (up ? "up" : "down") << " in " << host << ": " << out;
        return false;
    }
    for (int i = 0; i < 2000 && LinkChanges(session, host) == before; ++i)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const bool seen = LinkChanges(session, host) > before;
    EXPECT_TRUE(seen) << host << "'s node never heard of its interface going "
                      << (up ? "up" : "down") << " (rtnetlink)";
    return seen;
}

std::pair<int, int>
PingCounts(const std::string& output)
{
    std::smatch m;
    if (std::regex_search(output, m, std::regex("([0-9]+) packets transmitted, ([0-9]+) received")))
    {
        return {std::stoi(m[1]), std::stoi(m[2])};
    }
    return {-1, -1};
}

std::string
Tshark(const std::string& dir,
       const std::string& pcap,
       const std::string& filter,
       const std::string& fields)
{
    const fs::path home = fs::path(dir) / "wireshark-home";
    fs::create_directories(home / ".config" / "wireshark");
    fs::copy_file(fs::path(dir) / "esp_sa",
                  home / ".config" / "wireshark" / "esp_sa",
                  fs::copy_options::overwrite_existing);
    return ns3::ShellOutput(
        "HOME=" + home.string() + " XDG_CONFIG_HOME=" + home.string() + "/.config tshark -n -r " +
        dir + "/" + pcap +
        " -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE" +
        (filter.empty() ? std::string() : " -Y '" + filter + "'") + " -T fields " + fields +
        " 2>/dev/null");
}

uint64_t
DropsBeyondPmtu(const json& node, const std::string& mode)
{
    uint64_t n = 0;
    for (auto& [reason, count] : node["xfrm_drops"].items())
    {
        n += count.get<uint64_t>();
        if (reason == "XfrmOutError" && mode == "packet")
        {
            n -= std::min<uint64_t>(count.get<uint64_t>(),
                                    node["host_port"]["frag_needed"].get<uint64_t>());
        }
    }
    const json nic = node.value("nic_drops", json::object());
    for (auto& [reason, count] : nic.items())
    {
        n += count.get<uint64_t>();
    }
    return n;
}

ns3::EmulationOptions
H2h(const std::string& mode)
{
    ns3::EmulationOptions options;
    options.topology = "h2h";
    options.mode = mode;
    return options;
}

void
EmulationCase::SetUp()
{
    if (const std::string why = ns3::EmulationUnavailable(); !why.empty())
    {
        GTEST_SKIP() << why;
    }
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    // Short: the server's socket path in it must fit sun_path (108 bytes).
    std::string suite = info->test_suite_name();
    std::string test = info->name();
    suite = suite.substr(suite.find('/') + 1);
    test = test.substr(test.find('/') + 1);
    std::string name = suite + "-" + test;
    for (char& ch : name)
    {
        ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
    }
    m_dir = "/tmp/olab-emu-" + std::to_string(getpid()) + "-" + name;
    fs::remove_all(m_dir);
}

void
EmulationCase::TearDown()
{
    if (m_dir.empty())
    {
        return;
    }
    if (!HasFailure())
    {
        fs::remove_all(m_dir);
    }
    else
    {
        std::cerr << "run kept in " << m_dir << "\n";
    }
}

json
EmulationCase::Run(ns3::EmulationOptions options, bool* ok, std::string* error)
{
    options.outDir = m_dir;
    json r;
    *ok = ns3::RunEmulation(options, &r, error);
    // The post-test checks of every case: charon leaves nothing in the nodes, and the run
    // leaves no interface of its prefix and no host process.
    if (options.mode != "plain" && r.contains("after_charon_stop"))
    {
        EXPECT_TRUE(r["after_charon_stop"]["empty"].get<bool>()) << r["after_charon_stop"];
    }
    if (r.contains("prefix"))
    {
        const std::string prefix = r["prefix"].get<std::string>();
        EXPECT_EQ(ns3::ShellOutput("ip -o link show | grep -c ' " + prefix + "'"), "0\n");
        EXPECT_TRUE(r.value("leftover_hosts", json::array()).empty()) << r["leftover_hosts"];
    }
    return r;
}

} // namespace emulationcase
