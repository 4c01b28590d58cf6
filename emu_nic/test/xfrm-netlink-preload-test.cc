// Unmodified iproute2 keys an emulated host through the preload library and the XFRM netlink
// server, in a real-time simulation: `ip xfrm policy|state add|list|flush` change and show the
// node's XfrmStack; a duplicate is refused with the kernel's "File exists"; without a server the
// preload fails closed; and strace shows that no NETLINK_XFRM socket reaches the kernel. Each
// client runs in a network namespace of its own (`unshare --net`), so even a leak could not
// touch the machine's XFRM.
//
// Needs root for the namespaces (CI is root); skips with the reason elsewhere.

#include "simulation-test.h"
#include "spawn-util.h"
#include "xfrm-netlink-server.h"
#include "xfrm-netlink-wire.h"

#include "ns3/global-value.h"
#include "ns3/realtime-simulator-impl.h"
#include "ns3/string.h"

#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace offloadtest;
using spawntest::ReadFile;

namespace
{

struct ClientRun
{
    int status{-1}; //!< the exit status, or -1 if it did not end in time
    std::string out;
    std::string err;
};

class XfrmNetlinkPreloadTest : public testing::Test
{
  protected:
    void SetUp() override
    {
        if (geteuid() != 0)
        {
            GTEST_SKIP() << "needs root: each client runs in a network namespace of its own";
        }
        GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::RealtimeSimulatorImpl"));
        TopologyOptions opt;
        opt.installIpsec = false;
        m_topology = BuildTestTopology(opt);
        m_endpoint = CreateObject<XfrmNetlinkEndpoint>();
        m_endpoint->SetStack(m_topology->stackA);
        m_dir = "/tmp/offloadlab-preload-test-" + std::to_string(getpid());
        mkdir(m_dir.c_str(), 0700);
        m_path = m_dir + "/xfrm.sock";
        m_server = CreateObject<XfrmNetlinkServer>();
        std::string error;
        ASSERT_TRUE(m_server->Start(m_endpoint, m_path, &error)) << error;
    }

    void TearDown() override
    {
        if (m_server)
        {
            m_server->Stop();
            EXPECT_NE(access(m_path.c_str(), F_OK), 0) << "the socket file was left";
        }
        Simulator::Destroy();
        GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::DefaultSimulatorImpl"));
        if (!m_dir.empty())
        {
            std::remove((m_dir + "/out").c_str());
            std::remove((m_dir + "/err").c_str());
            rmdir(m_dir.c_str());
        }
    }

    /// Runs argv (in a namespace of its own, with the preload library) while the simulation
    /// runs in real time, until it exits or 10 s pass.
    ClientRun Run(std::vector<std::string> argv, const std::string& socketPath = "")
    {
        argv.insert(argv.begin(), {"unshare", "--net", "--"});
        std::vector<std::string> env = {std::string("LD_PRELOAD=") + OFFLOADLAB_XFRM_PRELOAD,
                                        std::string(kXfrmSocketEnv) + "=" +
                                            (socketPath.empty() ? m_path : socketPath),
                                        "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
        const std::string out = m_dir + "/out";
        const std::string err = m_dir + "/err";
        ClientRun run;
        int spawned = 0;
        const pid_t pid = spawntest::SpawnLogged(argv, out, err, env, &spawned);
        if (spawned != 0)
        {
            ADD_FAILURE() << "posix_spawnp " << argv[0] << ": " << std::strerror(spawned);
            return run;
        }
        const Time until = Simulator::Now() + Seconds(10);
        std::function<void()> check = [&] {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid)
            {
                run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                Simulator::Stop();
                return;
            }
            if (Simulator::Now() >= until)
            {
                kill(pid, SIGKILL);
                waitpid(pid, nullptr, 0);
                Simulator::Stop();
                return;
            }
            Simulator::Schedule(MilliSeconds(5), check);
        };
        Simulator::Schedule(MilliSeconds(5), check);
        Simulator::Run();
        run.out = ReadFile(out);
        run.err = ReadFile(err);
        return run;
    }

    std::unique_ptr<Topology> m_topology;
    Ptr<XfrmNetlinkEndpoint> m_endpoint;
    Ptr<XfrmNetlinkServer> m_server;
    std::string m_dir;
    std::string m_path;
};

const char* kKey = "0x0102030405060708090a0b0c0d0e0f1011121314";

TEST_F(XfrmNetlinkPreloadTest, IpXfrmDrivesTheEmulatedHost)
{
    Ptr<XfrmStack> stack = m_topology->stackA;
    const std::string a = "10.0.0.1";
    const std::string b = "10.0.0.2";
    auto r = Run({"ip", "xfrm",  "policy", "add",   "src", a,      "dst",
                  b,    "dir",   "out",    "tmpl",  "src", a,      "dst",
                  b,    "proto", "esp",    "reqid", "1",   "mode", "transport"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(stack->GetPolicies().GetN(), 1u);
    r = Run({"ip",    "xfrm", "state", "add",       "src",  a,
             "dst",   b,      "proto", "esp",       "spi",  "0x100",
             "reqid", "1",    "mode",  "transport", "aead", "rfc4106(gcm(aes))",
             kKey,    "128"});
    ASSERT_EQ(r.status, 0) << r.err;
    Ptr<XfrmState> x = stack->FindState(Ipv4Address(b.c_str()), 0x100);
    ASSERT_TRUE(x);
    EXPECT_EQ(x->GetConfig().algorithm.encKey.size(), 16u);
    // The same SA again: the kernel's EEXIST, as iproute2 prints it.
    r = Run({"ip",    "xfrm", "state", "add",       "src",  a,
             "dst",   b,      "proto", "esp",       "spi",  "0x100",
             "reqid", "1",    "mode",  "transport", "aead", "rfc4106(gcm(aes))",
             kKey,    "128"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("File exists"), std::string::npos) << r.err;
    // Dumps through the preload: what was added, keys included.
    r = Run({"ip", "xfrm", "state", "list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("src 10.0.0.1 dst 10.0.0.2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("spi 0x00000100 reqid 1 mode transport"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("aead rfc4106(gcm(aes)) 0x0102030405060708090a0b0c0d0e0f1011121314 128"),
              std::string::npos)
        << r.out;
    r = Run({"ip", "xfrm", "policy", "list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("dir out"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("proto esp reqid 1 mode transport"), std::string::npos) << r.out;
    r = Run({"ip", "xfrm", "policy", "get", "src", a, "dst", b, "dir", "in"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
    // Flushes empty the node's tables.
    ASSERT_EQ(Run({"ip", "xfrm", "state", "flush"}).status, 0);
    ASSERT_EQ(Run({"ip", "xfrm", "policy", "flush"}).status, 0);
    EXPECT_EQ(stack->GetStates().GetN(), 0u);
    EXPECT_EQ(stack->GetPolicies().GetN(), 0u);
    r = Run({"ip", "xfrm", "state", "list"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(XfrmNetlinkPreloadTest, FailsClosedWithoutAServer)
{
    auto r = Run({"ip", "xfrm", "state", "list"}, m_dir + "/nobody.sock");
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(r.out, "");
    // A policy add that would have reached the real kernel had the preload failed open.
    r = Run({"sh",
             "-c",
             "ip xfrm policy add src 10.9.0.1 dst 10.9.0.2 dir out && "
             "LD_PRELOAD= ip xfrm policy list"},
            m_dir + "/nobody.sock");
    EXPECT_NE(r.status, 0);
    EXPECT_EQ(m_topology->stackA->GetPolicies().GetN(), 0u);
}

TEST_F(XfrmNetlinkPreloadTest, StraceShowsNoNetlinkXfrmSocket)
{
    if (access("/usr/bin/strace", X_OK) != 0)
    {
        GTEST_SKIP() << "no /usr/bin/strace";
    }
    const std::string trace = m_dir + "/trace";
    auto r = Run({"strace",
                  "-f",
                  "-o",
                  trace,
                  "-e",
                  "trace=socket,connect,sendto,sendmsg",
                  "ip",
                  "xfrm",
                  "policy",
                  "add",
                  "src",
                  "10.0.0.1",
                  "dst",
                  "10.0.0.2",
                  "dir",
                  "in"});
    const std::string log = ReadFile(trace);
    std::remove(trace.c_str());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(m_topology->stackA->GetPolicies().GetN(), 1u);
    EXPECT_EQ(log.find("NETLINK_XFRM"), std::string::npos) << log;
    EXPECT_NE(log.find("SOCK_SEQPACKET"), std::string::npos) << log;
    EXPECT_NE(log.find(m_path), std::string::npos) << log;
}

} // namespace
