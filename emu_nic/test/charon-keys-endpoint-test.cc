// Real strongSwan keys emulated hosts: two unmodified Debian charons (kernel-netlink), each in
// a network namespace of its own joined by a veth pair for IKE, each with its NETLINK_XFRM
// sockets sent by the preload library to the XFRM netlink server of one simulated node. After
// `swanctl --initiate`, the CHILD_SA that IKEv2 negotiated is in both nodes' XfrmStacks, with
// the SPIs swanctl shows, and the policies charon installs; when charon stops, both nodes' SADs
// and SPDs are empty again (strongSwan's own post-test check). The data plane through ns-3
// comes with the emulation topologies.
//
// Needs root (namespaces, veth) and strongSwan (ci/setup installs it); skips with the reason
// without either.

#include "simulation-test.h"
#include "spawn-util.h"
#include "xfrm-netlink-server.h"
#include "xfrm-netlink-wire.h"

#include "ns3/global-value.h"
#include "ns3/string.h"

#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <set>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace offloadtest;
using spawntest::ReadFile;

namespace
{

constexpr const char* kCharon = "/usr/lib/ipsec/charon";
constexpr const char* kSwanctl = "/usr/sbin/swanctl";

void
WriteFile(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

/// A process the test started (by PID only), with its output in a file.
struct Child
{
    pid_t pid{-1};
    int status{-1};
};

class CharonKeysEndpointTest : public testing::Test
{
  protected:
    void SetUp() override
    {
        if (geteuid() != 0)
        {
            GTEST_SKIP() << "needs root: network namespaces and a veth pair";
        }
        if (access(kCharon, X_OK) != 0 || access(kSwanctl, X_OK) != 0)
        {
            GTEST_SKIP() << "strongSwan is not installed (" << kCharon << ", " << kSwanctl
                         << "); ci/setup installs it";
        }
        GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::RealtimeSimulatorImpl"));
        m_tag = "ol" + std::to_string(getpid() % 100000);
        m_dir = "/tmp/offloadlab-charon-" + std::to_string(getpid());
        mkdir(m_dir.c_str(), 0700);
        TopologyOptions opt;
        opt.installIpsec = false;
        m_topology = BuildTestTopology(opt);
        for (int i = 0; i < 2; ++i)
        {
            m_endpoints[i] = CreateObject<XfrmNetlinkEndpoint>();
            m_endpoints[i]->SetStack(i == 0 ? m_topology->stackA : m_topology->stackB);
            m_servers[i] = CreateObject<XfrmNetlinkServer>();
            std::string error;
            ASSERT_TRUE(m_servers[i]->Start(m_endpoints[i], Path(i, "xfrm.sock"), &error)) << error;
        }
        // Two namespaces, a veth between them: the IKE path (the real kernel's UDP).
        for (int i = 0; i < 2; ++i)
        {
            ASSERT_EQ(Shell("ip netns add " + Netns(i)), 0);
            m_netns[i] = true;
            mkdir(Path(i, "run").c_str(), 0700);
        }
        ASSERT_EQ(Shell("ip link add " + m_tag + "a netns " + Netns(0) + " type veth peer name " +
                        m_tag + "b netns " + Netns(1)),
                  0);
        for (int i = 0; i < 2; ++i)
        {
            const std::string dev = m_tag + (i == 0 ? "a" : "b");
            ASSERT_EQ(Shell("ip -n " + Netns(i) + " addr add " + Address(i) + "/24 dev " + dev +
                            " && ip -n " + Netns(i) + " link set " + dev + " up && ip -n " +
                            Netns(i) + " link set lo up"),
                      0);
            WriteConfig(i);
        }
    }

    void TearDown() override
    {
        for (Child& c : m_charons)
        {
            Stop(c);
        }
        for (int i = 0; i < 2; ++i)
        {
            if (m_servers[i])
            {
                m_servers[i]->Stop();
            }
            if (m_netns[i])
            {
                Shell("ip netns del " + Netns(i));
            }
        }
        Simulator::Destroy();
        GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::DefaultSimulatorImpl"));
        if (!m_dir.empty() && !HasFailure())
        {
            Shell("rm -rf " + m_dir);
        }
        else if (!m_dir.empty())
        {
            std::cerr << "charon logs kept in " << m_dir << "\n";
        }
    }

    std::string Netns(int i) const
    {
        return m_tag + (i == 0 ? "nsa" : "nsb");
    }

    std::string Veth(int i) const
    {
        return m_tag + (i == 0 ? "a" : "b");
    }

    /// The veth's ifindex in its namespace: what charon names in XFRMA_OFFLOAD_DEV.
    int32_t Ifindex(int i) const
    {
        const std::string command = "ip -n " + Netns(i) + " -o link show dev " + Veth(i);
        FILE* p = popen(command.c_str(), "r");
        int index = -1;
        if (p)
        {
            if (std::fscanf(p, "%d:", &index) != 1)
            {
                index = -1;
            }
            pclose(p);
        }
        return index;
    }

    std::string Address(int i) const
    {
        return i == 0 ? "192.168.77.1" : "192.168.77.2";
    }

    std::string Path(int i, const std::string& name) const
    {
        return m_dir + "/" + (i == 0 ? "a-" : "b-") + name;
    }

    static int Shell(const std::string& command)
    {
        const int status = std::system((command + " >/dev/null 2>&1").c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    /// Writes host i's strongswan.conf and swanctl.conf; child: more lines for the CHILD_SA.
    void WriteConfig(int i, bool hwOffload = false, const std::string& child = "")
    {
        const char* me = i == 0 ? "a" : "b";
        const char* peer = i == 0 ? "b" : "a";
        WriteFile(Path(i, "strongswan.conf"),
                  "charon {\n"
                  "  load = random nonce aes sha1 sha2 hmac gcm curve25519 kdf pem pkcs1 x509 "
                  "pubkey kernel-netlink socket-default vici\n"
                  "  install_routes = no\n"
                  "  plugins {\n"
                  "    vici { socket = unix://" +
                      Path(i, "vici") +
                      " }\n"
                      "    kernel-netlink { timeout = 2000\n retries = 1 }\n"
                      "  }\n"
                      "  filelog { log { path = " +
                      Path(i, "charon.log") +
                      "\n default = 1\n knl = 2\n ike = 2\n } }\n"
                      "}\n");
        WriteFile(
            Path(i, "swanctl.conf"),
            std::string("connections {\n  h2h {\n    version = 2\n    local_addrs = ") +
                Address(i) + "\n    remote_addrs = " + Address(1 - i) +
                "\n    proposals = aes128-sha256-x25519\n"
                "    local { auth = psk\n id = " +
                me + " }\n    remote { auth = psk\n id = " + peer +
                " }\n"
                "    children { c {\n mode = transport\n esp_proposals = aes128gcm16\n"
                " start_action = none\n" +
                (hwOffload ? " hw_offload = yes\n" : "") + child +
                " } }\n  }\n}\n"
                "secrets { ike-1 { id-1 = a\n id-2 = b\n secret = 0sb2ZmbG9hZGxhYi10ZXN0 } }\n");
    }

    /// Starts one host's charon: its namespace, its own /run, the preload to its endpoint.
    Child StartCharon(int i)
    {
        const std::string command =
            "mount --bind " + Path(i, "run") +
            " /run && exec env STRONGSWAN_CONF=" + Path(i, "strongswan.conf") +
            " LD_PRELOAD=" + OFFLOADLAB_XFRM_PRELOAD + " " + kXfrmSocketEnv + "=" +
            Path(i, "xfrm.sock") + " OFFLOADLAB_XFRM_OFFLOAD_IFACES=" + Veth(i) + " " + kCharon;
        return Spawn({"ip",
                      "netns",
                      "exec",
                      Netns(i),
                      "unshare",
                      "-m",
                      "--propagation",
                      "private",
                      "sh",
                      "-c",
                      command},
                     Path(i, "charon.out"));
    }

    Child Spawn(std::vector<std::string> argv, const std::string& out)
    {
        Child c;
        c.pid = spawntest::SpawnLogged(std::move(argv), out);
        return c;
    }

    /// Runs the simulation in real time until done() or the time runs out.
    bool RunUntil(const std::function<bool()>& done, Time limit)
    {
        const Time until = Simulator::Now() + limit;
        bool ok = false;
        std::function<void()> check = [&] {
            if (done())
            {
                ok = true;
                Simulator::Stop();
                return;
            }
            if (Simulator::Now() >= until)
            {
                Simulator::Stop();
                return;
            }
            Simulator::Schedule(MilliSeconds(10), check);
        };
        Simulator::Schedule(MilliSeconds(10), check);
        Simulator::Run();
        return ok;
    }

    /// Runs a command to its end while the simulation runs; its exit status.
    int RunCommand(std::vector<std::string> argv, const std::string& out, Time limit = Seconds(15))
    {
        Child c = Spawn(std::move(argv), out);
        if (c.pid < 0)
        {
            return -1;
        }
        RunUntil(
            [&] {
                int status = 0;
                if (waitpid(c.pid, &status, WNOHANG) == c.pid)
                {
                    c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
                    c.pid = -1;
                    return true;
                }
                return false;
            },
            limit);
        if (c.pid > 0)
        {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, nullptr, 0);
        }
        return c.status;
    }

    int Swanctl(int i, std::vector<std::string> args, const std::string& out)
    {
        std::vector<std::string> argv = {"ip", "netns", "exec", Netns(i), kSwanctl};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--uri");
        argv.push_back("unix://" + Path(i, "vici"));
        return RunCommand(argv, out);
    }

    /// SIGTERM, then waits (charon takes 1-2 s) while the simulation answers its last messages.
    void Stop(Child& c)
    {
        if (c.pid <= 0)
        {
            return;
        }
        kill(c.pid, SIGTERM);
        RunUntil(
            [&] {
                int status = 0;
                return waitpid(c.pid, &status, WNOHANG) == c.pid;
            },
            Seconds(10));
        if (kill(c.pid, 0) == 0)
        {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, nullptr, 0);
        }
        c.pid = -1;
    }

    void EstablishAndCheck(XfrmOffloadType offload);

    std::string m_tag;
    std::string m_dir;
    std::unique_ptr<Topology> m_topology;
    Ptr<XfrmNetlinkEndpoint> m_endpoints[2];
    Ptr<XfrmNetlinkServer> m_servers[2];
    bool m_netns[2]{false, false};
    std::vector<Child> m_charons;
};

/// The SPIs of `swanctl --list-sas --raw` (spi-in, spi-out), hex.
std::vector<uint32_t>
Spis(const std::string& listing)
{
    std::vector<uint32_t> spis;
    static const std::regex spi("spi-(in|out)=([0-9a-f]{8})");
    for (auto it = std::sregex_iterator(listing.begin(), listing.end(), spi);
         it != std::sregex_iterator();
         ++it)
    {
        spis.push_back(uint32_t(std::stoul((*it)[2].str(), nullptr, 16)));
    }
    return spis;
}

/// Both charons up, the connection loaded and initiated; then the nodes are checked against
/// swanctl and, after charon stops, for leftovers. offload: what the SAs must be offloaded as.
void
CharonKeysEndpointTest::EstablishAndCheck(XfrmOffloadType offload)
{
    for (int i = 0; i < 2; ++i)
    {
        m_charons.push_back(StartCharon(i));
        ASSERT_GT(m_charons.back().pid, 0);
    }
    // charon is up when its vici socket is.
    ASSERT_TRUE(RunUntil(
        [&] {
            for (Child& c : m_charons)
            {
                int status = 0;
                if (c.pid > 0 && waitpid(c.pid, &status, WNOHANG) == c.pid)
                {
                    c.pid = -1; // it ended: no use waiting
                    return true;
                }
            }
            return access(Path(0, "vici").c_str(), F_OK) == 0 &&
                   access(Path(1, "vici").c_str(), F_OK) == 0;
        },
        Seconds(15)));
    ASSERT_TRUE(m_charons[0].pid > 0 && m_charons[1].pid > 0)
        << ReadFile(Path(0, "charon.out")) << ReadFile(Path(0, "charon.log"));
    for (int i = 0; i < 2; ++i)
    {
        ASSERT_EQ(Swanctl(i, {"--load-all", "--file", Path(i, "swanctl.conf")}, Path(i, "load")), 0)
            << ReadFile(Path(i, "load"));
    }
    ASSERT_EQ(Swanctl(0, {"--initiate", "--child", "c", "--timeout", "10"}, Path(0, "initiate")), 0)
        << ReadFile(Path(0, "initiate")) << ReadFile(Path(0, "charon.log"));
    ASSERT_EQ(Swanctl(0, {"--list-sas", "--raw"}, Path(0, "sas")), 0);
    const std::string listing = ReadFile(Path(0, "sas"));
    EXPECT_NE(listing.find("state=INSTALLED"), std::string::npos) << listing;
    const std::vector<uint32_t> spis = Spis(listing);
    ASSERT_EQ(spis.size(), 2u) << listing;
    // A's inbound SA has spi-in, its outbound spi-out; B holds the same pair the other way.
    Ptr<XfrmStack> a = m_topology->stackA;
    Ptr<XfrmStack> b = m_topology->stackB;
    const XfrmAddress addrA = Ipv4Address(Address(0).c_str());
    const XfrmAddress addrB = Ipv4Address(Address(1).c_str());
    EXPECT_TRUE(a->FindState(addrA, spis[0])) << "A's inbound SA";
    EXPECT_TRUE(a->FindState(addrB, spis[1])) << "A's outbound SA";
    EXPECT_TRUE(b->FindState(addrA, spis[0])) << "B's outbound SA";
    EXPECT_TRUE(b->FindState(addrB, spis[1])) << "B's inbound SA";
    EXPECT_EQ(a->GetStates().GetN(), 2u);
    EXPECT_EQ(b->GetStates().GetN(), 2u);
    // charon's IKE sockets bypass IPsec with socket policies, and its NAT-T socket decapsulates
    // ESP-in-UDP: both reached the nodes through the preload library.
    for (Ptr<XfrmStack> stack : {a, b})
    {
        const auto sockets = stack->GetSocketPolicies();
        for (uint16_t port : {500, 4500})
        {
            for (XfrmDir dir : {XfrmDir::In, XfrmDir::Out})
            {
                auto it = sockets.find({17, port, dir});
                ASSERT_NE(it, sockets.end()) << "socket policy of UDP port " << port;
                EXPECT_EQ(it->second, XfrmPolicyAction::Allow);
            }
        }
        EXPECT_TRUE(stack->IsUdpEncapPort(4500));
        EXPECT_FALSE(stack->IsUdpEncapPort(500));
    }
    // In transport mode charon 5.9.8 installs an out and an in policy (fwd only for tunnels).
    for (Ptr<XfrmStack> stack : {a, b})
    {
        std::set<XfrmDir> dirs;
        for (const Ptr<XfrmPolicy>& policy : stack->GetPolicies().GetAll())
        {
            dirs.insert(policy->GetConfig().dir);
            EXPECT_TRUE(policy->RequiresIpsec());
        }
        EXPECT_EQ(dirs, (std::set<XfrmDir>{XfrmDir::In, XfrmDir::Out}));
    }
    // charon met no refusal on the way.
    for (int i = 0; i < 2; ++i)
    {
        const std::string log = ReadFile(Path(i, "charon.log"));
        EXPECT_EQ(log.find("failed"), std::string::npos) << log;
        EXPECT_EQ(log.find("unable to"), std::string::npos) << log;
    }
    Ptr<XfrmState> out = a->FindState(addrB, spis[1]);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->GetConfig().algorithm.suite, EspAlgorithm::Suite::AesGcm);
    EXPECT_EQ(out->GetConfig().mode, XfrmMode::Transport);
    for (Ptr<XfrmState> x : {a->FindState(addrA, spis[0]),
                             a->FindState(addrB, spis[1]),
                             b->FindState(addrA, spis[0]),
                             b->FindState(addrB, spis[1])})
    {
        ASSERT_TRUE(x);
        EXPECT_EQ(x->GetOffload().type, offload) << "SPI " << std::hex << x->GetSpi();
    }
    // strongSwan's post-test check: after charon stops, nothing is left.
    for (Child& c : m_charons)
    {
        Stop(c);
    }
    EXPECT_EQ(a->GetStates().GetN(), 0u);
    EXPECT_EQ(a->GetPolicies().GetN(), 0u);
    EXPECT_EQ(b->GetStates().GetN(), 0u);
    EXPECT_EQ(b->GetPolicies().GetN(), 0u);
}

TEST_F(CharonKeysEndpointTest, Ikev2ChildSaLandsInBothNodes)
{
    EstablishAndCheck(XfrmOffloadType::None);
}

// hw_offload = yes: charon finds esp-hw-offload on the interface (the preload shows it for an
// emulated one) and asks for crypto offload (XFRMA_OFFLOAD_DEV, INBOUND on the inbound SA);
// the SAs land in each node's EmuNic.
TEST_F(CharonKeysEndpointTest, HwOffloadYesGivesCryptoOffloadToTheEmuNic)
{
    for (int i = 0; i < 2; ++i)
    {
        const int32_t index = Ifindex(i);
        ASSERT_GT(index, 0);
        m_endpoints[i]->AddInterface(index, i == 0 ? m_topology->devA : m_topology->devB);
        WriteConfig(i, true);
    }
    EstablishAndCheck(XfrmOffloadType::Crypto);
}

// Rekeying driven by the node's lifetimes, as strongSwan 5.9.8 needs it (it has no rekey timer
// of its own): charon installs the inbound SA with a 2 s soft add limit, the node's XfrmStack
// fires it as Linux's xfrm_timer_handler would, the endpoint sends XFRM_MSG_EXPIRE to charon's
// event socket, and charon rekeys: new SPIs in both nodes (ALLOCSPI, UPDSA, NEWSA, UPDPOLICY),
// the old ones deleted. (About 20 s of wall time: each further Simulator::Run of ns-3's
// RealtimeSimulatorImpl here waits as long as the simulated time so far, see docs/emulation.md.)
TEST_F(CharonKeysEndpointTest, SoftExpireFromTheNodeRekeysTheChildSa)
{
    for (int i = 0; i < 2; ++i)
    {
        // Only A's limit is short, so the two ends do not rekey at once (a rekey collision,
        // which strongSwan resolves, but with more CHILD_SAs on the way).
        WriteConfig(i,
                    false,
                    i == 0 ? " rekey_time = 2s\n life_time = 60s\n rand_time = 0s\n"
                           : " rekey_time = 50s\n life_time = 60s\n rand_time = 0s\n");
        m_charons.push_back(StartCharon(i));
        ASSERT_GT(m_charons.back().pid, 0);
    }
    ASSERT_TRUE(RunUntil(
        [&] {
            return access(Path(0, "vici").c_str(), F_OK) == 0 &&
                   access(Path(1, "vici").c_str(), F_OK) == 0;
        },
        Seconds(15)));
    for (int i = 0; i < 2; ++i)
    {
        ASSERT_EQ(Swanctl(i, {"--load-all", "--file", Path(i, "swanctl.conf")}, Path(i, "load")),
                  0);
    }
    ASSERT_EQ(Swanctl(0, {"--initiate", "--child", "c", "--timeout", "10"}, Path(0, "initiate")), 0)
        << ReadFile(Path(0, "charon.log"));
    ASSERT_EQ(Swanctl(0, {"--list-sas", "--raw"}, Path(0, "sas")), 0);
    const std::vector<uint32_t> before = Spis(ReadFile(Path(0, "sas")));
    ASSERT_EQ(before.size(), 2u);
    Ptr<XfrmState> oldIn =
        m_topology->stackA->FindState(Ipv4Address(Address(0).c_str()), before[0]);
    ASSERT_TRUE(oldIn);
    EXPECT_EQ(oldIn->GetConfig().lifetime.softAddSeconds, 2u);
    // Past the soft limit: charon hears the node's EXPIRE and rekeys.
    ASSERT_TRUE(RunUntil(
        [&] {
            return ReadFile(Path(0, "charon.log")).find("CHILD_SA c{2} established") !=
                       std::string::npos ||
                   ReadFile(Path(1, "charon.log")).find("CHILD_SA c{2} established") !=
                       std::string::npos;
        },
        Seconds(10)))
        << ReadFile(Path(0, "charon.log"));
    RunUntil([] { return false; }, Seconds(1)); // the old outbound SAs go at once, the rest soon
    ASSERT_EQ(Swanctl(0, {"--list-sas", "--raw"}, Path(0, "sas2")), 0);
    const std::string listing = ReadFile(Path(0, "sas2"));
    const std::vector<uint32_t> after = Spis(listing);
    ASSERT_GE(after.size(), 2u) << listing;
    // Each CHILD_SA lists spi-in then spi-out; the new one is the pair that is not the old.
    uint32_t newIn = 0;
    uint32_t newOut = 0;
    for (size_t k = 0; k + 1 < after.size(); k += 2)
    {
        if (after[k] != before[0])
        {
            newIn = after[k];
            newOut = after[k + 1];
        }
    }
    EXPECT_NE(newIn, before[0]);
    EXPECT_NE(newOut, before[1]);
    EXPECT_TRUE(m_topology->stackA->FindState(Ipv4Address(Address(0).c_str()), newIn));
    EXPECT_TRUE(m_topology->stackA->FindState(Ipv4Address(Address(1).c_str()), newOut));
    EXPECT_TRUE(m_topology->stackB->FindState(Ipv4Address(Address(0).c_str()), newIn));
    EXPECT_TRUE(m_topology->stackB->FindState(Ipv4Address(Address(1).c_str()), newOut));
    // The out policy now names the new outbound SA (UPDPOLICY with its SPI in the template).
    bool outMovedOn = false;
    for (const Ptr<XfrmPolicy>& policy : m_topology->stackA->GetPolicies().GetAll())
    {
        outMovedOn = outMovedOn || (policy->GetConfig().dir == XfrmDir::Out &&
                                    policy->GetConfig().tmpl.spi == newOut);
    }
    EXPECT_TRUE(outMovedOn);
    const std::string log = ReadFile(Path(0, "charon.log")) + ReadFile(Path(1, "charon.log"));
    EXPECT_NE(log.find("creating rekey job for CHILD_SA"), std::string::npos) << log;
    EXPECT_EQ(log.find("failed"), std::string::npos) << log;
    for (Child& c : m_charons)
    {
        Stop(c);
    }
    EXPECT_EQ(m_topology->stackA->GetStates().GetN(), 0u);
    EXPECT_EQ(m_topology->stackB->GetPolicies().GetN(), 0u);
}

} // namespace
