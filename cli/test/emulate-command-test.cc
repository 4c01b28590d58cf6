// `offloadlab emulate` as users and CI run it: bad arguments name the option and the value; a run
// writes results.json; SIGTERM in the middle of the traffic stops everything the run started
// (charons, the Mininet hosts, the TAPs) and exits 1 with what it had.
//
// The runs need root, Mininet, strongSwan and iperf3 (ci/setup installs them); they skip with the
// reason without them.

#include "shell.h"

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;
using clitest::Output;
using clitest::Quote;
using clitest::Shell;

namespace
{

const std::string kBinary = OFFLOADLAB_BINARY;

bool
CanRun(std::string* why)
{
    if (geteuid() != 0)
    {
        *why = "needs root: Mininet hosts, TAP devices";
        return false;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
    {
        *why = "no /dev/net/tun on this machine";
        return false;
    }
    for (const char* need : {"/usr/lib/ipsec/charon", "/usr/bin/iperf3", "/usr/bin/mnexec"})
    {
        if (access(need, X_OK) != 0)
        {
            *why = std::string(need) + " is not installed; ci/setup installs it";
            return false;
        }
    }
    return true;
}

TEST(OffloadlabEmulate, BadArgumentsNameTheOptionAndValue)
{
    Output o = Shell(kBinary + " emulate --topology nosuch --out /tmp/x");
    EXPECT_EQ(o.exitCode, 2);
    EXPECT_NE(o.text.find("--topology: 'nosuch' is not one of: gw2gw h2h"), std::string::npos)
        << o.text;
    o = Shell(kBinary + " emulate --mode sw,quantum --out /tmp/x");
    EXPECT_EQ(o.exitCode, 2);
    EXPECT_NE(o.text.find("--mode: 'quantum'"), std::string::npos) << o.text;
    o = Shell(kBinary + " emulate --seconds -3 --out /tmp/x");
    EXPECT_EQ(o.exitCode, 2);
    EXPECT_NE(o.text.find("--seconds: '-3'"), std::string::npos) << o.text;
    o = Shell(kBinary + " emulate");
    EXPECT_EQ(o.exitCode, 2);
    EXPECT_NE(o.text.find("--out DIR is required"), std::string::npos) << o.text;
    o = Shell(kBinary + " help emulate");
    EXPECT_EQ(o.exitCode, 0);
    EXPECT_NE(o.text.find("--topology NAME"), std::string::npos) << o.text;
}

/// pid is no process, or a zombie its new parent has not reaped yet.
bool
Gone(int pid)
{
    if (kill(pid, 0) != 0)
    {
        return true;
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const size_t close = line.rfind(')');
    return close == std::string::npos || (close + 2 < line.size() && line[close + 2] == 'Z');
}

/// No process of the run is alive and no interface of its prefix is left.
void
ExpectNothingLeft(const nlohmann::json& r)
{
    const std::string prefix = r.value("prefix", std::string("?"));
    EXPECT_EQ(r.value("leftover_hosts", nlohmann::json::array()).size(), 0u) << r.dump();
    EXPECT_EQ(Shell("ip -o link show | grep -c ' " + prefix + "'").text, "0\n");
    for (const auto& section : {"hosts", "charon_pids"})
    {
        if (!r.contains(section))
        {
            continue;
        }
        for (auto& [name, v] : r[section].items())
        {
            const int pid = v.is_object() ? v["pid"].get<int>() : v.get<int>();
            EXPECT_TRUE(Gone(pid))
                << section << " " << name << " (pid " << pid << ") is still running";
        }
    }
}

TEST(OffloadlabEmulate, SideBySideModesWriteResults)
{
    std::string why;
    if (!CanRun(&why))
    {
        GTEST_SKIP() << why;
    }
    const fs::path dir =
        fs::temp_directory_path() / ("offloadlab-emulate-" + std::to_string(getpid()));
    fs::remove_all(dir);
    Output o = Shell(kBinary + " emulate --topology h2h --mode plain,sw --seconds 1 --out " +
                     Quote(dir.string()));
    ASSERT_EQ(o.exitCode, 0) << o.text;
    EXPECT_NE(o.text.find("emulate: CHILD_SA installed in the nodes"), std::string::npos) << o.text;
    std::ifstream in(dir / "results.json");
    const nlohmann::json summary = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(summary.is_discarded());
    ASSERT_EQ(summary["runs"].size(), 2u);
    for (const auto& r : summary["runs"])
    {
        SCOPED_TRACE(r["mode"].get<std::string>());
        EXPECT_TRUE(r["ok"].get<bool>());
        EXPECT_GT(r["traffic"]["iperf3"]["mbit_per_s"].get<double>(), 10);
        EXPECT_TRUE(fs::exists(dir / r["mode"].get<std::string>() / "wire-wire.pcap"));
        ExpectNothingLeft(r);
    }
    EXPECT_TRUE(fs::exists(dir / "sw" / "esp_sa"));
    EXPECT_TRUE(fs::exists(dir / "sw" / "h1-charon.log"));
    fs::remove_all(dir);
}

TEST(OffloadlabEmulate, TrapStartsTheChildSaFromTheFirstPacket)
{
    std::string why;
    if (!CanRun(&why))
    {
        GTEST_SKIP() << why;
    }
    const fs::path dir =
        fs::temp_directory_path() / ("offloadlab-emulate-trap-" + std::to_string(getpid()));
    fs::remove_all(dir);
    Output o = Shell(kBinary + " emulate --topology h2h --mode packet --trap --seconds 1 --out " +
                     Quote(dir.string()));
    ASSERT_EQ(o.exitCode, 0) << o.text;
    EXPECT_NE(o.text.find("after the first packet met the trap"), std::string::npos) << o.text;
    EXPECT_EQ(o.text.find("swanctl --initiate"), std::string::npos) << o.text;
    std::ifstream in(dir / "results.json");
    const nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(r.is_discarded());
    EXPECT_TRUE(r["ok"].get<bool>()) << r.dump(1);
    EXPECT_EQ(r["ike"]["start"], "trap");
    EXPECT_GT(r["timing"]["first_packet_to_installed_ms"].get<double>(), 0);
    EXPECT_GT(r["traffic"]["iperf3"]["mbit_per_s"].get<double>(), 10);
    ExpectNothingLeft(r);
    fs::remove_all(dir);
}

TEST(OffloadlabEmulate, SigtermDuringTrafficCleansUp)
{
    std::string why;
    if (!CanRun(&why))
    {
        GTEST_SKIP() << why;
    }
    const fs::path dir =
        fs::temp_directory_path() / ("offloadlab-emulate-term-" + std::to_string(getpid()));
    fs::remove_all(dir);
    const std::string log = (dir.string() + ".log");
    pid_t pid = -1;
    std::vector<std::string> argv = {kBinary,
                                     "emulate",
                                     "--topology",
                                     "gw2gw",
                                     "--mode",
                                     "sw",
                                     "--seconds",
                                     "30",
                                     "--out",
                                     dir.string()};
    std::vector<char*> args;
    for (auto& a : argv)
    {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ASSERT_EQ(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // Wait until the first iperf3 runs, then stop the whole run.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(dir / "iperf3-server.out") && std::chrono::steady_clock::now() < until)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(dir / "iperf3-server.out")) << Shell("cat " + log).text;
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const auto t0 = std::chrono::steady_clock::now();
    kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string text = Shell("cat " + log).text;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << text;
    EXPECT_NE(text.find("interrupted"), std::string::npos) << text;
    EXPECT_LT(seconds, 15) << "stopping took too long";
    std::ifstream in(dir / "results.json");
    const nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(r.is_discarded()) << text;
    EXPECT_FALSE(r["ok"].get<bool>());
    ASSERT_TRUE(r.contains("charon_pids")) << r.dump();
    ExpectNothingLeft(r);
    fs::remove_all(dir);
    fs::remove(log);
}

} // namespace
