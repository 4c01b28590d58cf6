// The emulation's data path with real hosts: two network namespaces, each joined by a TAP to an
// ns-3 node that stands for its kernel below IP (XfrmStack and the emulated NIC on an ns-3
// wire). Linux's own ping and iperf3 run in the namespaces; their traffic crosses the ns-3 wire
// in plaintext (plain) or in ESP built in software, by the NIC's crypto offload, or by its
// packet offload. The SAs here are installed directly; charon keys them in the emulation
// topologies. A DF packet too big after ESP gets the host a fragmentation-needed error, and the
// host's kernel then sizes its packets to the MTU it learnt.
//
// Needs root (namespaces, /dev/net/tun), ping and iperf3 (ci/setup installs them); skips with
// the reason without them.

#include "emu-nic-helper.h"
#include "emulated-host.h"
#include "realtime-runner.h"
#include "spawn-util.h"
#include "topology.h"

#include "ns3/core-module.h"
#include "ns3/network-module.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ns3;
using spawntest::ReadFile;

namespace
{

enum class Mode
{
    Plain,
    Software,
    Crypto,
    Packet,
};

const char*
ModeName(Mode m)
{
    switch (m)
    {
    case Mode::Plain:
        return "plain";
    case Mode::Software:
        return "sw";
    case Mode::Crypto:
        return "crypto";
    case Mode::Packet:
        return "packet";
    }
    return "?";
}

class BumpInTheStackTest : public testing::TestWithParam<Mode>
{
  protected:
    void SetUp() override
    {
        if (geteuid() != 0)
        {
            GTEST_SKIP() << "needs root: network namespaces and TAP devices";
        }
        if (access("/dev/net/tun", R_OK | W_OK) != 0)
        {
            GTEST_SKIP() << "no /dev/net/tun on this machine";
        }
        for (const char* tool : {"/usr/bin/ping", "/usr/bin/iperf3"})
        {
            if (access(tool, X_OK) != 0)
            {
                GTEST_SKIP() << tool << " is not installed; ci/setup installs it";
            }
        }
        m_tag = "olb" + std::to_string(getpid() % 100000);
        m_dir = "/tmp/offloadlab-bump-" + std::to_string(getpid());
        mkdir(m_dir.c_str(), 0700);
        RealtimeRunner::UseRealtime(MilliSeconds(500));

        NodeContainer nodes;
        nodes.Create(2);
        EmuNicHelper wire;
        wire.SetDeviceAttribute("DataRate", DataRateValue(DataRate("10Gbps")));
        wire.SetChannelAttribute("Delay", TimeValue(MicroSeconds(20)));
        NetDeviceContainer devices = wire.Install(nodes);
        for (int i = 0; i < 2; ++i)
        {
            ASSERT_EQ(Shell("ip netns add " + Netns(i)), 0);
            m_netns[i] = true;
            m_hosts[i] = CreateObject<EmulatedHost>();
            EmulatedHostConfig config;
            config.name = i == 0 ? "a" : "b";
            config.netnsPath = "/run/netns/" + Netns(i);
            config.tapName = "eth0";
            config.address = Address(i);
            std::string error;
            ASSERT_TRUE(m_hosts[i]->Build(config, nodes.Get(i), devices.Get(i), &error)) << error;
            ASSERT_EQ(Shell("ip -n " + Netns(i) + " addr add " + Dotted(Address(i)) +
                            "/24 dev eth0 && ip -n " + Netns(i) + " link set eth0 up && ip -n " +
                            Netns(i) + " link set lo up && ip netns exec " + Netns(i) +
                            " sysctl -qw net.ipv6.conf.all.disable_ipv6=1"),
                      0);
        }
    }

    void TearDown() override
    {
        m_runner.Stop();
        for (int i = 0; i < 2; ++i)
        {
            if (m_hosts[i])
            {
                m_hosts[i]->Shutdown();
            }
            if (m_netns[i])
            {
                Shell("ip netns del " + Netns(i));
            }
        }
        for (auto& h : m_hosts)
        {
            h = nullptr;
        }
        Simulator::Destroy();
        GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::DefaultSimulatorImpl"));
        if (!m_dir.empty())
        {
            Shell("rm -rf " + m_dir);
        }
    }

    std::string Netns(int i) const
    {
        return m_tag + (i == 0 ? "a" : "b");
    }

    static Ipv4Address Address(int i)
    {
        return Ipv4Address(i == 0 ? "10.0.0.1" : "10.0.0.2");
    }

    std::string Path(const std::string& name) const
    {
        return m_dir + "/" + name;
    }

    static int Shell(const std::string& command)
    {
        const int status = std::system((command + " >/dev/null 2>&1").c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    /// Runs argv in host i's namespace to its end; its exit status, its output in *out.
    int InHost(int i, std::vector<std::string> argv, std::string* out = nullptr)
    {
        argv.insert(argv.begin(), {"ip", "netns", "exec", Netns(i)});
        const std::string file = Path("out-" + std::to_string(m_commands++));
        const pid_t pid = spawntest::SpawnLogged(argv, file);
        int status = -1;
        if (pid > 0)
        {
            waitpid(pid, &status, 0);
        }
        if (out)
        {
            *out = ReadFile(file);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    /// The SA pair and the out and in policies of host-to-host transport mode, in mode.
    void Key(Mode mode)
    {
        if (mode == Mode::Plain)
        {
            return;
        }
        const XfrmOffloadType type = mode == Mode::Crypto   ? XfrmOffloadType::Crypto
                                     : mode == Mode::Packet ? XfrmOffloadType::Packet
                                                            : XfrmOffloadType::None;
        for (int i = 0; i < 2; ++i)
        {
            Ptr<XfrmStack> stack = m_hosts[i]->GetStack();
            for (int dir = 0; dir < 2; ++dir)
            {
                const bool out = dir == 0;
                const int from = out ? i : 1 - i;
                XfrmStateConfig c;
                c.saddr = Address(from);
                c.daddr = Address(1 - from);
                c.spi = from == 0 ? 0xa0b1 : 0xb0a2;
                c.reqid = from == 0 ? 1 : 2;
                c.sel = XfrmSelector::Hosts(Address(from), Address(1 - from));
                c.algorithm = DefaultGcm(from == 0 ? 0x11 : 0x77);
                c.offloadType = type;
                if (type != XfrmOffloadType::None)
                {
                    c.offloadDev = m_hosts[i]->GetWire();
                    c.offloadDir = out ? XfrmDir::Out : XfrmDir::In;
                }
                std::string error;
                ASSERT_TRUE(stack->AddState(c, &error)) << error;
                XfrmPolicyConfig p;
                p.dir = out ? XfrmDir::Out : XfrmDir::In;
                p.sel = c.sel;
                p.hasTemplate = true;
                p.tmpl.mode = XfrmMode::Transport;
                p.tmpl.saddr = c.saddr;
                p.tmpl.daddr = c.daddr;
                p.tmpl.reqid = c.reqid;
                if (type == XfrmOffloadType::Packet)
                {
                    p.offloadType = XfrmOffloadType::Packet;
                    p.offloadDev = m_hosts[i]->GetWire();
                }
                ASSERT_TRUE(stack->AddPolicy(p, &error)) << error;
            }
        }
    }

    /// Packets host i's outbound SA protected (0 without IPsec).
    uint64_t ProtectedBy(int i)
    {
        uint64_t packets = 0;
        m_runner.Call([&] {
            Ptr<XfrmStack> stack = m_hosts[i]->GetStack();
            if (Ptr<XfrmState> x = stack->FindState(Address(1 - i), i == 0 ? 0xa0b1 : 0xb0a2))
            {
                stack->UpdateStats(x);
                packets = x->GetCurrent().packets;
            }
        });
        return packets;
    }

    std::string m_tag;
    std::string m_dir;
    bool m_netns[2]{false, false};
    Ptr<EmulatedHost> m_hosts[2];
    RealtimeRunner m_runner;
    int m_commands{0};
};

TEST_P(BumpInTheStackTest, PingAndTcpCrossTheWire)
{
    const Mode mode = GetParam();
    Key(mode);
    if (HasFatalFailure())
    {
        return;
    }
    m_runner.Start();
    std::string out;
    ASSERT_EQ(InHost(0, {"ping", "-c", "5", "-i", "0.2", "-W", "2", "10.0.0.2"}, &out), 0) << out;
    EXPECT_NE(out.find("5 received"), std::string::npos) << out;
    if (mode != Mode::Plain)
    {
        // Every echo and every reply went through the SAs.
        EXPECT_GE(ProtectedBy(0), 5u);
        EXPECT_GE(ProtectedBy(1), 5u);
    }
    else
    {
        EXPECT_EQ(ProtectedBy(0), 0u);
    }

    // TCP, sized by the hosts' kernels: the first full-size segments learn the MTU after ESP.
    const pid_t server = spawntest::SpawnLogged(
        {"ip", "netns", "exec", Netns(1), "iperf3", "-s", "-1", "-p", "5301"},
        Path("iperf3-server"));
    ASSERT_GT(server, 0);
    usleep(300000);
    const int rc = InHost(0, {"iperf3", "-c", "10.0.0.2", "-p", "5301", "-t", "2", "-J"}, &out);
    waitpid(server, nullptr, 0);
    ASSERT_EQ(rc, 0) << out;
    const nlohmann::json report = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << out;
    const double bps = report["end"]["sum_received"]["bits_per_second"].get<double>();
    std::cout << "[ iperf3 ] " << ModeName(mode) << ": " << bps / 1e6 << " Mbit/s, max lag "
              << m_runner.GetMaxLag().GetMicroSeconds() << " us\n";
    EXPECT_GT(bps, 1e6);
    if (mode != Mode::Plain)
    {
        EXPECT_GT(ProtectedBy(0), 1000u) << "TCP data went through A's outbound SA";
        uint64_t dropped = 0;
        m_runner.Call([&] {
            for (const auto& [name, n] : m_hosts[1]->GetStack()->GetDropCounts())
            {
                dropped += n;
            }
        });
        EXPECT_EQ(dropped, 0u) << "B's XFRM dropped nothing";
    }
}

/// The IPsec modes only: without ESP the MTU is the wire's.
class BumpInTheStackEspTest : public BumpInTheStackTest
{
};

TEST_P(BumpInTheStackEspTest, DfPacketOverTheMtuAfterEspGetsFragNeeded)
{
    const Mode mode = GetParam();
    Key(mode);
    if (HasFatalFailure())
    {
        return;
    }
    m_runner.Start();
    std::string out;
    // 1500 bytes with DF: too big once ESP is added.
    EXPECT_NE(
        InHost(0,
               {"ping", "-M", "do", "-s", "1472", "-c", "2", "-i", "0.3", "-W", "1", "10.0.0.2"},
               &out),
        0)
        << out;
    uint64_t fragNeeded = 0;
    m_runner.Call([&] { fragNeeded = m_hosts[0]->GetPort()->GetFragNeeded(); });
    EXPECT_GE(fragNeeded, 1u);
    // The host's kernel took the MTU from the error.
    ASSERT_EQ(InHost(0, {"ip", "route", "get", "10.0.0.2"}, &out), 0);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("mtu ([0-9]+)"))) << out;
    const int mtu = std::stoi(m[1]);
    EXPECT_LT(mtu, 1500);
    EXPECT_GT(mtu, 1400);
    // The largest packet that fits goes through with DF, and one byte more does not.
    EXPECT_EQ(InHost(0,
                     {"ping",
                      "-M",
                      "do",
                      "-s",
                      std::to_string(mtu - 28),
                      "-c",
                      "2",
                      "-i",
                      "0.3",
                      "-W",
                      "2",
                      "10.0.0.2"},
                     &out),
              0)
        << out;
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         BumpInTheStackTest,
                         testing::Values(Mode::Plain, Mode::Software, Mode::Crypto, Mode::Packet),
                         [](const testing::TestParamInfo<Mode>& info) {
                             return std::string(ModeName(info.param));
                         });

INSTANTIATE_TEST_SUITE_P(Modes,
                         BumpInTheStackEspTest,
                         testing::Values(Mode::Software, Mode::Crypto, Mode::Packet),
                         [](const testing::TestParamInfo<Mode>& info) {
                             return std::string(ModeName(info.param));
                         });

} // namespace
