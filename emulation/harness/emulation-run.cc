#include "emulation-run.h"

#include "charon-process.h"
#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "emulated-host.h"
#include "esp-sa-file.h"
#include "harness-process.h"
#include "pcap-writer.h"
#include "realtime-runner.h"
#include "tap-net-device.h"
#include "topology-process.h"
#include "xfrm-netlink-wire.h"

#include "ns3/core-module.h"
#include "ns3/network-module.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <linux/xfrm.h>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace ns3
{

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

const std::vector<std::string>&
EmulationModes()
{
    static const std::vector<std::string> modes = {"plain", "sw", "crypto", "packet"};
    return modes;
}

std::vector<std::string>
EmulationTopologies()
{
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(OFFLOADLAB_EMULATION_TOPOLOGIES))
    {
        const fs::path p = entry.path();
        if (p.extension() == ".py" && p.stem() != "emutopo" && p.stem() != "probe")
        {
            names.push_back(p.stem().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

namespace
{

constexpr int kDltPpp = 9; //!< the point-to-point wire's frames carry their PPP header

/// A wire frame into its pcap, timed by the simulator's clock as ns-3's own pcaps are.
void
WriteFrame(offloadlab::PcapWriter* file, Ptr<const Packet> frame)
{
    // Straight into the writer's block: one copy of the frame on the simulator's thread.
    uint32_t caplen = 0;
    if (uint8_t* at = file->Reserve(Simulator::Now().GetNanoSeconds(), frame->GetSize(), &caplen))
    {
        frame->CopyData(at, caplen);
    }
}

/// XFRM_MSG_NEWSA -> "NEWSA": what results.json names a request by.
std::string
XfrmMessageTypeName(uint16_t type)
{
    static const std::map<uint16_t, const char*> names = {
        {XFRM_MSG_NEWSA, "NEWSA"},
        {XFRM_MSG_DELSA, "DELSA"},
        {XFRM_MSG_GETSA, "GETSA"},
        {XFRM_MSG_NEWPOLICY, "NEWPOLICY"},
        {XFRM_MSG_DELPOLICY, "DELPOLICY"},
        {XFRM_MSG_GETPOLICY, "GETPOLICY"},
        {XFRM_MSG_ALLOCSPI, "ALLOCSPI"},
        {XFRM_MSG_UPDPOLICY, "UPDPOLICY"},
        {XFRM_MSG_UPDSA, "UPDSA"},
        {XFRM_MSG_FLUSHSA, "FLUSHSA"},
        {XFRM_MSG_FLUSHPOLICY, "FLUSHPOLICY"},
        {XFRM_MSG_NEWAE, "NEWAE"},
        {XFRM_MSG_GETAE, "GETAE"},
        {XFRM_MSG_GETSPDINFO, "GETSPDINFO"},
        {XFRM_MSG_NEWSPDINFO, "NEWSPDINFO"},
    };
    auto it = names.find(type);
    return it != names.end() ? it->second : "type " + std::to_string(type);
}

/// The value that fraction q (0 to 1) of the samples does not exceed; 0 for none.
double
Quantile(std::vector<double> samples, double q)
{
    if (samples.empty())
    {
        return 0;
    }
    const size_t k = std::min(samples.size() - 1, size_t(q * double(samples.size())));
    std::nth_element(samples.begin(), samples.begin() + k, samples.end());
    return samples[k];
}

double
MsSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string
Hex(uint32_t v)
{
    char b[11];
    std::snprintf(b, sizeof(b), "0x%08x", v);
    return b;
}

std::string
DottedOf(const XfrmAddress& a)
{
    std::ostringstream s;
    if (a.IsIpv6())
    {
        s << a.GetIpv6();
    }
    else
    {
        s << a.GetIpv4();
    }
    return s.str();
}

const char*
OffloadName(XfrmOffloadType t)
{
    return t == XfrmOffloadType::Crypto   ? "crypto"
           : t == XfrmOffloadType::Packet ? "packet"
                                          : "none";
}

double
CpuSelf()
{
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    return double(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
           double(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
}

/// Everything a run made, undone in reverse order by Teardown (also on failure).
class Run : public EmulationSession
{
  public:
    Run(const EmulationOptions& options, json* results)
        : m_opt(options),
          m_results(*results)
    {
    }

    ~Run()
    {
        Teardown();
    }

    bool Execute(std::string* error);
    void Teardown();

    // EmulationSession
    int Exec(const std::string& host,
             const std::vector<std::string>& argv,
             std::chrono::milliseconds timeout,
             std::string* out) override
    {
        std::vector<std::string> full = {"nsenter", "--net=" + Netns(host), "--"};
        full.insert(full.end(), argv.begin(), argv.end());
        return RunChild(full, timeout, Path(host + "-exec.out"), out);
    }

    int ExecXfrm(const std::string& host,
                 const std::vector<std::string>& argv,
                 std::string* out) override
    {
        std::vector<std::string> full = {"env",
                                         std::string("LD_PRELOAD=") + OFFLOADLAB_XFRM_PRELOAD,
                                         std::string(kXfrmSocketEnv) + "=" +
                                             m_hosts.at(host)->GetConfig().xfrmSocket};
        full.insert(full.end(), argv.begin(), argv.end());
        return Exec(host, full, std::chrono::seconds(10), out);
    }

    void InSimulator(
        const std::function<void(const std::map<std::string, Ptr<EmulatedHost>>&)>& fn) override
    {
        m_runner.Call([&] { fn(m_hosts); });
    }

    int Swanctl(const std::string& host,
                const std::vector<std::string>& args,
                std::string* out) override
    {
        auto it = m_charons.find(host);
        if (it == m_charons.end())
        {
            *out = "no charon in " + host;
            return -1;
        }
        return it->second->Swanctl(args, out);
    }

    std::string CharonLog(const std::string& host) const override
    {
        auto it = m_charons.find(host);
        return it == m_charons.end() ? std::string()
                                     : ReadWholeFile(it->second->Path("charon.log"));
    }

    const json& Topology() const override
    {
        return m_topology;
    }

    json& Results() override
    {
        return m_results;
    }

    bool Traffic(std::string* error) override;
    json Probe(double seconds, const std::function<void()>& during) override;

    bool WaitChildSas(std::chrono::milliseconds timeout) override
    {
        const auto t0 = Clock::now();
        while (!ChildSasInstalled())
        {
            if (Clock::now() - t0 >= timeout || g_emulationInterrupted)
            {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        m_results["ike"]["established"] = true; // both nodes hold it, whoever started it
        return true;
    }

  private:
    void Progress(const std::string& line)
    {
        if (m_opt.progress)
        {
            *m_opt.progress << "emulate: " << line << std::endl;
        }
    }

    bool BuildNodes(std::string* error);
    bool StartCharons(std::string* error);
    bool Initiate(std::string* error);
    /// Trap mode: one ping from the traffic client, whose ACQUIRE starts the CHILD_SA; waits
    /// for it (timing.first_packet_to_installed_ms).
    bool Acquire(std::string* error);
    void Collect();
    /// swanctl --list-sas of every charon: its counters and SPIs into the results.
    void CollectSwanctl();
    /// True when every IKE host's node holds a CHILD_SA pair (offloaded in crypto mode).
    bool ChildSasInstalled();

    /// The host's netns path.
    std::string Netns(const std::string& host) const
    {
        return "/proc/" + std::to_string(m_topology["hosts"][host]["pid"].get<int>()) + "/ns/net";
    }

    json SaSnapshot(const std::string& host);

    /// How many netlink requests each host's server has timed so far.
    std::map<std::string, size_t> LatencyCounts() const
    {
        // In the simulator thread: Ptr copies there and here would race (counts not atomic).
        std::map<std::string, size_t> counts;
        const_cast<RealtimeRunner&>(m_runner).Call([&] {
            for (const auto& [host, h] : m_hosts)
            {
                if (h->GetServer())
                {
                    counts[host] = h->GetServer()->GetRequestLatencies().size();
                }
            }
        });
        return counts;
    }

    /// The latencies of the requests since `before`, as results.json's netlink.<phase>.<host>.
    void RecordLatencies(const std::string& phase, const std::map<std::string, size_t>& before);

    /// Whose ESP this host's charon keys ("stack"): "emulated" (the node's XFRM, through the
    /// preload), "libipsec" (strongSwan's own, over a TUN in the host) or "kernel" (the host's
    /// own Linux XFRM and ESP, no preload).
    std::string StackOf(const std::string& host) const
    {
        for (const json& ike : m_topology["ike"])
        {
            if (ike["host"] == host)
            {
                return ike.value("stack", std::string("emulated"));
            }
        }
        return "emulated";
    }

    /// The host's charon brings its own ESP: its node only carries what the host sends.
    bool OwnEsp(const std::string& host) const
    {
        return StackOf(host) != "emulated";
    }

    std::string Path(const std::string& name) const
    {
        return m_opt.outDir + "/" + name;
    }

    EmulationOptions m_opt;
    json& m_results;
    std::string m_prefix;
    json m_topology;
    TopologyProcess m_script;
    bool m_scriptStarted{false};
    RealtimeRunner m_runner;
    std::map<std::string, Ptr<EmulatedHost>> m_hosts; //!< by the host's short name
    std::map<std::string, std::unique_ptr<CharonProcess>> m_charons;
    bool m_tornDown{false};
    double m_cpuAtStart{CpuSelf()};
    std::vector<std::string> m_pcaps;
    std::vector<std::unique_ptr<offloadlab::PcapWriter>> m_pcapFiles;

    /// Soft and hard expires the nodes raised (simulator thread only): host, SPI, hard, when.
    struct ExpireEvent
    {
        std::string host;
        uint32_t spi;
        bool hard;
        Time at;
    };

    std::vector<ExpireEvent> m_expires;

    /// Every outbound SA a node held, by host and SPI: added when, first used when.
    struct OutboundSa
    {
        Time added;
        Time firstUse;
        bool used{false};
        Time activeAt; //!< first seen named by an out policy's template (the traffic's SA)
        bool active{false};
        uint64_t bytes{0}; //!< as last sampled: what it carried once charon deleted it
        uint64_t packets{0};
    };

    std::map<std::string, std::map<uint32_t, OutboundSa>> m_outbound;
    /// The keys of every SA a node held during the run (rekeyed ones too), for esp_sa.
    offloadlab::EspSaFile m_keys;
    std::set<std::pair<std::string, uint32_t>> m_keyed;
    void RememberKeys(const std::string& host, Ptr<XfrmState> x);

    void OnExpire(std::string host, Ptr<XfrmState> x, bool hard)
    {
        m_expires.push_back({host, x->GetConfig().spi, hard, Simulator::Now()});
    }

    /// Every 2 ms in the simulator thread: the outbound SAs and their first use.
    void SampleOutbound();
    /// Rekeys, SPIs over time, soft expire to the new outbound SA in use.
    void SummariseRekeys();
};

bool
Run::Execute(std::string* error)
{
    const auto t0 = Clock::now();
    m_prefix = "o" + std::to_string(getpid() % 1000000);
    const std::string script =
        std::string(OFFLOADLAB_EMULATION_TOPOLOGIES) + "/" + m_opt.topology + ".py";
    if (access(script.c_str(), R_OK) != 0)
    {
        *error = "--topology: no topology '" + m_opt.topology + "' (" + script + ")";
        return false;
    }
    Progress("topology " + m_opt.topology + ", mode " + m_opt.mode + ", prefix " + m_prefix);
    m_scriptStarted = true;
    if (!m_script.Start(script, m_prefix, Path("topology.log"), &m_topology, error))
    {
        return false;
    }
    m_results["prefix"] = m_prefix;
    m_results["hosts"] = m_topology["hosts"];
    if (m_topology.contains("modes") && m_opt.mode != "plain")
    {
        const json& modes = m_topology["modes"];
        if (std::find(modes.begin(), modes.end(), m_opt.mode) == modes.end())
        {
            *error =
                "--mode: " + m_opt.mode + " is not one of " + m_opt.topology + "'s modes (plain, " +
                modes.dump() + ")" +
                (m_opt.mode == "crypto" ? ": crypto offload cannot carry ESP-in-UDP (Linux 6.1 "
                                          "refuses encapsulation with crypto offload)"
                                        : "");
            return false;
        }
    }
    for (const json& ike : m_topology["ike"])
    {
        const std::string host = ike["host"].get<std::string>();
        if (StackOf(host) == "kernel" && m_opt.mode != "plain")
        {
            if (const std::string why = KernelEspUnavailable(); !why.empty())
            {
                *error = m_opt.topology + ": " + host +
                         "'s charon keys its own kernel's ESP, and " + why;
                return false;
            }
        }
    }
    if (!BuildNodes(error))
    {
        return false;
    }
    m_runner.Start();
    m_runner.Call([this] { SampleOutbound(); });
    if (!m_script.Configure(error))
    {
        return false;
    }
    m_results["timing"]["topology_up_ms"] = MsSince(t0);
    Progress("topology up in " + std::to_string(int(MsSince(t0))) + " ms");
    if (m_opt.mode != "plain")
    {
        if (!StartCharons(error) || !Initiate(error))
        {
            return false;
        }
        if (m_opt.scenario)
        {
            return m_opt.scenario(*this, error);
        }
        if (m_opt.trap && !Acquire(error))
        {
            return false;
        }
    }
    return Traffic(error);
}

bool
Run::BuildNodes(std::string* error)
{
    RealtimeRunner::UseRealtime(MilliSeconds(m_opt.hardLimitMs));
    // The emulated interfaces by wire: each wire joins two of them.
    std::map<std::string, std::vector<json>> wires;
    for (const json& e : m_topology["emulated"])
    {
        wires[e["wire"].get<std::string>()].push_back(e);
    }
    for (const auto& [wire, ends] : wires)
    {
        if (ends.size() != 2)
        {
            *error = "topology: wire '" + wire + "' has " + std::to_string(ends.size()) +
                     " ends; an ns-3 wire joins two";
            return false;
        }
        const json spec = m_topology["wires"].value(wire, json::object());
        NodeContainer nodes;
        nodes.Create(2);
        EmuNicHelper link;
        link.SetDeviceAttribute("DataRate",
                                DataRateValue(DataRate(spec.value("rate", std::string("10Gbps")))));
        link.SetChannelAttribute("Delay",
                                 TimeValue(Time(spec.value("delay", std::string("20us")))));
        NetDeviceContainer devices = link.Install(nodes);
        for (size_t i = 0; i < 2; ++i)
        {
            const json& e = ends[i];
            const std::string host = e["host"].get<std::string>();
            EmulatedHostConfig config;
            config.name = host;
            config.netnsPath = Netns(host);
            config.tapName = e["tap"].get<std::string>();
            config.address = Ipv4Address(e["address"].get<std::string>().c_str());
            config.mask = Ipv4Mask(("/" + std::to_string(e["prefix"].get<int>())).c_str());
            // A host whose charon brings its own ESP (libipsec, the host's kernel) has no use for
            // the node's XFRM: its node only carries what the host sends.
            config.xfrmSocket = OwnEsp(host) ? "" : Path(host + "-xfrm.sock");
            for (const json& r : e.value("routes", json::array()))
            {
                const std::string dest = r[0].get<std::string>();
                const size_t slash = dest.find('/');
                EmulatedHostConfig::Route route;
                route.network = Ipv4Address(dest.substr(0, slash).c_str());
                route.mask = Ipv4Mask(dest.substr(slash).c_str());
                route.gateway = Ipv4Address(r[1].get<std::string>().c_str());
                config.routes.push_back(route);
            }
            Ptr<EmulatedHost> h = CreateObject<EmulatedHost>();
            if (!h->Build(config, nodes.Get(i), devices.Get(i), error))
            {
                return false;
            }
            h->GetStack()->TraceConnectWithoutContext(
                "Expire",
                MakeCallback(&Run::OnExpire, this).Bind(host));
            if (Ptr<XfrmNetlinkEndpoint> endpoint = h->GetEndpoint())
            {
                endpoint->SetPacketOffloadForCryptoRequests(m_opt.mode == "packet");
            }
            m_hosts[host] = h;
        }
        // libpcap's dumper on a thread of its own, not ns-3's PcapFile: that one makes a write(2)
        // of every frame on the simulator's thread, a third of its time at full rate. The run
        // closes it after the simulator stops, so the run's reader sees every frame.
        auto file = std::make_unique<offloadlab::PcapWriter>();
        if (!file->Open(Path("wire-" + wire + ".pcap"), kDltPpp, error))
        {
            return false;
        }
        devices.Get(0)->TraceConnectWithoutContext("PromiscSniffer",
                                                   MakeBoundCallback(&WriteFrame, file.get()));
        m_pcapFiles.push_back(std::move(file));
        m_pcaps.push_back("wire-" + wire + ".pcap");
    }
    return true;
}

bool
Run::StartCharons(std::string* error)
{
    const auto t0 = Clock::now();
    for (const json& ike : m_topology["ike"])
    {
        const std::string host = ike["host"].get<std::string>();
        auto it = m_hosts.find(host);
        if (it == m_hosts.end())
        {
            *error = "topology: IKE host '" + host + "' has no emulated interface";
            return false;
        }
        CharonConfig c;
        c.name = host;
        c.dir = m_opt.outDir;
        c.hostPid = m_topology["hosts"][host]["pid"].get<int>();
        c.xfrmSocket = it->second->GetConfig().xfrmSocket;
        c.ike = ike;
        c.libipsec = StackOf(host) == "libipsec";
        c.kernelEsp = StackOf(host) == "kernel";
        c.connectionsExtra = m_opt.swanctlConnectionsExtra;
        if (m_opt.trap && ike.value("initiator", false))
        {
            c.startAction = "trap";
        }
        if (!m_opt.initiatorChildExtra.empty() && ike.value("initiator", false))
        {
            c.childExtra = m_opt.initiatorChildExtra;
        }
        else if (m_opt.rekeySeconds > 0 && ike.value("initiator", false))
        {
            // Only the initiator: both ends rekeying at once is a collision strongSwan resolves
            // with an extra CHILD_SA. strongSwan 5.9.8 has no timer of its own: the soft limit
            // it installs is the node's to raise.
            char extra[160];
            std::snprintf(extra,
                          sizeof(extra),
                          " rekey_time = %.0fs\n life_time = %.0fs\n rand_time = 0\n",
                          m_opt.rekeySeconds,
                          m_opt.rekeySeconds * 30);
            c.childExtra = extra;
        }
        c.hwOffload = !OwnEsp(host) && (m_opt.mode == "crypto" || m_opt.mode == "packet");
        if (c.hwOffload)
        {
            c.offloadIface = it->second->GetConfig().tapName;
        }
        auto charon = std::make_unique<CharonProcess>();
        if (!charon->Start(c, error))
        {
            return false;
        }
        m_results["charon_pids"][host] = charon->GetPid();
        m_charons[host] = std::move(charon);
    }
    for (auto& [host, charon] : m_charons)
    {
        if (!charon->Load(error))
        {
            return false;
        }
    }
    m_results["timing"]["charons_up_ms"] = MsSince(t0);
    Progress(std::to_string(m_charons.size()) + " charons up and loaded in " +
             std::to_string(int(MsSince(t0))) + " ms");
    return true;
}

bool
Run::ChildSasInstalled()
{
    bool all = true;
    m_runner.Call([&] {
        for (const json& ike : m_topology["ike"])
        {
            if (OwnEsp(ike["host"].get<std::string>()))
            {
                continue; // its SAs are in its own charon (swanctl shows them)
            }
            Ptr<XfrmStack> stack = m_hosts[ike["host"].get<std::string>()]->GetStack();
            uint32_t installed = 0;
            for (const auto& x : stack->GetStates().GetAll())
            {
                const bool offloadOk =
                    (m_opt.mode != "crypto" || x->IsOffloaded(XfrmOffloadType::Crypto)) &&
                    (m_opt.mode != "packet" || x->IsOffloaded(XfrmOffloadType::Packet));
                if (x->GetConfig().spi != 0 && offloadOk)
                {
                    ++installed;
                }
            }
            all = all && installed >= 2;
        }
    });
    return all;
}

bool
Run::Initiate(std::string* error)
{
    for (const json& ike : m_topology["ike"])
    {
        if (!ike.value("initiator", false))
        {
            continue;
        }
        CharonProcess& charon = *m_charons[ike["host"].get<std::string>()];
        const auto t0 = Clock::now();
        std::string out;
        if (m_opt.trap)
        {
            // --load-all installed the trap policies: traffic starts the CHILD_SA.
            charon.Swanctl({"--list-pols"}, &out);
            m_results["ike"]["start"] = "trap";
            // swanctl lists a trap as "<connection>/<child>, <mode>" (shunts say PASS or DROP).
            if (!std::regex_search(out, std::regex("(^|\n)c/c, (TRANSPORT|TUNNEL)")))
            {
                *error = "the trap policies are not installed: " + out;
                return false;
            }
            Progress("trap policies installed; the first packet starts the CHILD_SA");
            continue;
        }
        const int rc = charon.Swanctl({"--initiate", "--child", "c", "--timeout", "10"}, &out);
        // The CHILD_SA is in use once both nodes (and in crypto mode both NICs) hold it.
        const bool installed = WaitChildSas(std::chrono::seconds(10));
        const double ms = MsSince(t0);
        if (rc != 0 || !installed)
        {
            *error = "swanctl --initiate failed (" + std::to_string(rc) + "): " + out;
            return false;
        }
        m_results["timing"]["initiate_to_installed_ms"] = ms;
        Progress("CHILD_SA installed in the nodes " + std::to_string(int(ms)) +
                 " ms after swanctl --initiate");
    }
    return true;
}

bool
Run::Acquire(std::string* error)
{
    const json& t = m_topology["traffic"];
    const auto t0 = Clock::now();
    std::string out;
    std::thread ping([&] {
        RunChild({"nsenter",
                  "--net=" + Netns(t["client"].get<std::string>()),
                  "ping",
                  "-c",
                  "1",
                  "-W",
                  "1",
                  t["server_address"].get<std::string>()},
                 std::chrono::seconds(5),
                 Path("acquire-ping.out"),
                 &out);
    });
    const bool installed = WaitChildSas(std::chrono::seconds(10));
    const double ms = MsSince(t0);
    ping.join();
    if (!installed)
    {
        *error = "no CHILD_SA 10 s after the first packet met the trap policies";
        return false;
    }
    m_results["timing"]["first_packet_to_installed_ms"] = ms;
    Progress("CHILD_SA installed in the nodes " + std::to_string(int(ms)) +
             " ms after the first packet met the trap (charon's ACQUIRE)");
    return true;
}

bool
Run::Traffic(std::string* error)
{
    const json& t = m_topology["traffic"];
    const std::string client = t["client"].get<std::string>();
    const std::string server = t["server"].get<std::string>();
    const std::string address = t["server_address"].get<std::string>();
    std::string out;
    const int ping = RunChild(
        {"nsenter", "--net=" + Netns(client), "ping", "-c", "10", "-i", "0.05", "-W", "2", address},
        std::chrono::seconds(20),
        Path("ping.out"),
        &out);
    std::smatch m;
    json& p = m_results["traffic"]["ping"];
    p["exit"] = ping;
    if (std::regex_search(out, m, std::regex("([0-9]+) packets transmitted, ([0-9]+) received")))
    {
        p["sent"] = std::stoi(m[1]);
        p["received"] = std::stoi(m[2]);
    }
    if (std::regex_search(out, m, std::regex("= [0-9.]+/([0-9.]+)/")))
    {
        p["rtt_avg_ms"] = std::stod(m[1]);
    }
    if (ping != 0)
    {
        *error = "ping " + client + " -> " + address + " failed: " + out;
        return false;
    }
    Progress("ping " + client + " -> " + server + ": " + std::to_string(p.value("received", 0)) +
             "/10");
    for (const bool reverse : {false, true})
    {
        const std::string name = reverse ? "iperf3_reverse" : "iperf3";
        ChildOptions so;
        so.outPath = Path(name + "-server.out");
        std::string spawnError;
        const pid_t srv =
            SpawnChild({"nsenter", "--net=" + Netns(server), "iperf3", "-s", "-1", "-p", "5201"},
                       so,
                       &spawnError);
        if (srv < 0)
        {
            *error = "iperf3 server: " + spawnError;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        // Under the full traffic, charon is asked for its SAs every 100 ms: GETSA and GETPOLICY
        // through the endpoint while the simulator thread is busiest.
        const std::map<std::string, size_t> before = LatencyCounts();
        // Beside the forward TCP: a 1 kHz UDP probe, whose largest gap is what a rekey (or the
        // load) costs a flow.
        const std::string probe = std::string(OFFLOADLAB_EMULATION_TOPOLOGIES) + "/probe.py";
        const std::string probeSeconds = std::to_string(m_opt.trafficSeconds);
        pid_t probeRx = -1;
        pid_t probeTx = -1;
        if (!reverse)
        {
            ChildOptions po;
            po.outPath = Path("probe-receiver.json");
            po.env = {"PYTHONPATH=", "PYTHONHOME="};
            probeRx = SpawnChild({"nsenter",
                                  "--net=" + Netns(server),
                                  "/usr/bin/python3",
                                  probe,
                                  "receive",
                                  "5301",
                                  std::to_string(m_opt.trafficSeconds + 1.5)},
                                 po,
                                 &spawnError);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            po.outPath = Path("probe-sender.json");
            probeTx = SpawnChild({"nsenter",
                                  "--net=" + Netns(client),
                                  "/usr/bin/python3",
                                  probe,
                                  "send",
                                  address,
                                  "5301",
                                  probeSeconds},
                                 po,
                                 &spawnError);
        }
        std::atomic<bool> trafficDone{false};
        std::thread poller([&] {
            if (m_charons.empty())
            {
                return;
            }
            CharonProcess& charon = *m_charons.begin()->second;
            while (!trafficDone && !g_emulationInterrupted)
            {
                std::string ignored;
                charon.Swanctl({"--list-sas"}, &ignored);
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        std::vector<std::string> argv = {"nsenter",
                                         "--net=" + Netns(client),
                                         "iperf3",
                                         "-c",
                                         address,
                                         "-p",
                                         "5201",
                                         "-t",
                                         std::to_string(m_opt.trafficSeconds),
                                         "-J"};
        if (reverse)
        {
            argv.push_back("-R");
        }
        if (!m_opt.iperfBitrate.empty())
        {
            argv.push_back("-b");
            argv.push_back(m_opt.iperfBitrate);
        }
        const int rc = RunChild(argv,
                                std::chrono::milliseconds(int(m_opt.trafficSeconds * 1000) + 20000),
                                Path(name + ".json"),
                                &out);
        trafficDone = true;
        poller.join();
        RecordLatencies(name, before);
        for (pid_t p : {probeTx, probeRx})
        {
            if (p > 0 && !WaitChild(p, std::chrono::seconds(5), nullptr))
            {
                StopChild(p, std::chrono::seconds(1));
            }
        }
        if (probeRx > 0)
        {
            const json rx = json::parse(ReadWholeFile(Path("probe-receiver.json")), nullptr, false);
            const json tx = json::parse(ReadWholeFile(Path("probe-sender.json")), nullptr, false);
            if (!rx.is_discarded() && !tx.is_discarded())
            {
                json& pr = m_results["traffic"]["probe"];
                pr = rx;
                pr["sent"] = tx["sent"];
                pr["rate_hz"] = tx["rate"];
                Progress("1 kHz probe: " + std::to_string(rx.value("received", 0)) + "/" +
                         std::to_string(tx.value("sent", 0)) + " received, largest gap " +
                         std::to_string(rx.value("max_gap_ms", 0.0)) + " ms");
            }
        }
        if (!WaitChild(srv, std::chrono::seconds(5), nullptr))
        {
            StopChild(srv, std::chrono::seconds(2));
        }
        const json report = json::parse(out, nullptr, false);
        if (rc != 0 || report.is_discarded() || !report.contains("end"))
        {
            *error = name + " failed (" + std::to_string(rc) + "): " + out.substr(0, 2000);
            return false;
        }
        json& r = m_results["traffic"][name];
        r["direction"] = reverse ? server + "->" + client : client + "->" + server;
        r["bytes"] = report["end"]["sum_received"]["bytes"];
        r["mbit_per_s"] = report["end"]["sum_received"]["bits_per_second"].get<double>() / 1e6;
        r["retransmits"] = report["end"]["sum_sent"].value("retransmits", 0);
        Progress(name + " " + r["direction"].get<std::string>() + ": " +
                 std::to_string(int(r["mbit_per_s"].get<double>())) + " Mbit/s");
    }
    return true;
}

json
Run::Probe(double seconds, const std::function<void()>& during)
{
    const json& t = m_topology["traffic"];
    const std::string client = t["client"].get<std::string>();
    const std::string server = t["server"].get<std::string>();
    const std::string probe = std::string(OFFLOADLAB_EMULATION_TOPOLOGIES) + "/probe.py";
    ChildOptions po;
    po.outPath = Path("probe-receiver.json");
    po.env = {"PYTHONPATH=", "PYTHONHOME="};
    std::string spawnError;
    const pid_t rx = SpawnChild({"nsenter",
                                 "--net=" + Netns(server),
                                 "/usr/bin/python3",
                                 probe,
                                 "receive",
                                 "5301",
                                 std::to_string(seconds + 1.5)},
                                po,
                                &spawnError);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    po.outPath = Path("probe-sender.json");
    const pid_t tx = SpawnChild({"nsenter",
                                 "--net=" + Netns(client),
                                 "/usr/bin/python3",
                                 probe,
                                 "send",
                                 t["server_address"].get<std::string>(),
                                 "5301",
                                 std::to_string(seconds)},
                                po,
                                &spawnError);
    if (during)
    {
        during();
    }
    for (pid_t p : {tx, rx})
    {
        if (p > 0 && !WaitChild(p, std::chrono::seconds(int(seconds) + 5), nullptr))
        {
            StopChild(p, std::chrono::seconds(1));
        }
    }
    json report = json::parse(ReadWholeFile(Path("probe-receiver.json")), nullptr, false);
    const json sent = json::parse(ReadWholeFile(Path("probe-sender.json")), nullptr, false);
    if (report.is_discarded() || sent.is_discarded())
    {
        return json{{"error", "the probe wrote no report: " + spawnError}};
    }
    report["sent"] = sent["sent"];
    return report;
}

json
Run::SaSnapshot(const std::string& host)
{
    json node;
    m_runner.Call([&] {
        Ptr<EmulatedHost> h = m_hosts[host];
        Ptr<XfrmStack> stack = h->GetStack();
        json states = json::array();
        for (const auto& x : stack->GetStates().GetAll())
        {
            stack->UpdateStats(x);
            states.push_back({{"spi", Hex(x->GetConfig().spi)},
                              {"src", DottedOf(x->GetConfig().saddr)},
                              {"dst", DottedOf(x->GetConfig().daddr)},
                              {"offload", OffloadName(x->GetOffload().type)},
                              {"bytes", x->GetCurrent().bytes},
                              {"packets", x->GetCurrent().packets}});
        }
        node["stack"] = StackOf(host); // whose ESP the host's charon keys
        node["address"] = DottedOf(XfrmAddress(h->GetConfig().address));
        node["states"] = states;
        node["policies"] = stack->GetPolicies().GetN();
        node["xfrm_drops"] = stack->GetDropCounts();
        node["xfrm_events"] = stack->GetEventCounts();
        if (Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(h->GetWire()))
        {
            node["nic_drops"] = nic->GetDropCounts();
            node["nic_events"] = nic->GetEventCounts();
        }
        node["link_changes"] = h->GetLinkChanges();
        Ptr<HostPort> port = h->GetPort();
        node["host_port"] = {{"from_host", port->GetFromHost()},
                             {"to_host", port->GetToHost()},
                             {"arp_replies", port->GetArpReplies()},
                             {"frag_needed", port->GetFragNeeded()},
                             {"fragments_to_host", port->GetFragmentsToHost()},
                             {"reassembled_from_host", port->GetReassembled()},
                             {"fragments_pending", port->GetFragmentsPending()},
                             {"drops", port->GetDropCounts()}};
        if (Ptr<TapNetDevice> tap = DynamicCast<TapNetDevice>(port->GetTap()))
        {
            node["host_port"]["tap_reader_waits"] = tap->GetReaderWaits();
            const auto [lowest, highest] = tap->GetReadAheadRange();
            node["host_port"]["tap_read_ahead_frames"] = {{"lowest", lowest}, {"highest", highest}};
        }
    });
    return node;
}

void
Run::RecordLatencies(const std::string& phase, const std::map<std::string, size_t>& before)
{
    std::map<std::string, std::vector<XfrmNetlinkServer::RequestTiming>> latencies;
    m_runner.Call([&] {
        for (const auto& [host, h] : m_hosts)
        {
            if (h->GetServer())
            {
                latencies[host] = h->GetServer()->GetRequestLatencies();
            }
        }
    });
    for (const auto& [host, all] : latencies)
    {
        if (!before.count(host))
        {
            continue;
        }
        std::vector<XfrmNetlinkServer::RequestTiming> served(
            all.begin() + std::min(before.at(host), all.size()),
            all.end());
        if (served.empty())
        {
            continue;
        }
        std::vector<double> total;
        std::vector<double> service;
        for (const auto& r : served)
        {
            total.push_back(r.totalUs);
            service.push_back(r.serviceUs);
        }
        // The slowest request: whether the wait or the endpoint's work made it slow.
        const auto slowest =
            std::max_element(served.begin(), served.end(), [](const auto& a, const auto& b) {
                return a.totalUs < b.totalUs;
            });
        m_results["netlink_latency_us"][phase][host] = {
            {"requests", served.size()},
            {"p50", Quantile(total, 0.50)},
            {"p99", Quantile(total, 0.99)},
            {"max", slowest->totalUs},
            {"service_p99", Quantile(service, 0.99)},
            {"slowest",
             {{"type", XfrmMessageTypeName(slowest->type)},
              {"total", slowest->totalUs},
              {"service", slowest->serviceUs}}}};
    }
}

void
Run::RememberKeys(const std::string& host, Ptr<XfrmState> x)
{
    const XfrmStateConfig& c = x->GetConfig();
    if (!m_keyed.insert({DottedOf(c.daddr), c.spi}).second)
    {
        return;
    }
    offloadlab::EspSaEntry e;
    e.saddr = DottedOf(c.saddr);
    e.daddr = DottedOf(c.daddr);
    e.spi = c.spi;
    e.gcm = c.algorithm.suite == EspAlgorithm::Suite::AesGcm;
    e.encKey = c.algorithm.encKey;
    e.encKey.insert(e.encKey.end(), c.algorithm.salt.begin(), c.algorithm.salt.end());
    e.authKey = c.algorithm.authKey;
    m_keys.Add(e);
}

void
Run::SampleOutbound()
{
    for (const auto& [host, h] : m_hosts)
    {
        const XfrmAddress self = XfrmAddress(h->GetConfig().address);
        for (const auto& x : h->GetStack()->GetStates().GetAll())
        {
            if (x->GetConfig().spi != 0)
            {
                RememberKeys(host, x);
            }
            if (x->GetConfig().spi == 0 || !(x->GetConfig().saddr == self))
            {
                continue;
            }
            OutboundSa& sa = m_outbound[host][x->GetConfig().spi];
            if (sa.added.IsZero())
            {
                sa.added = x->GetCurrent().addTime;
            }
            h->GetStack()->UpdateStats(x);
            sa.bytes = x->GetCurrent().bytes;
            sa.packets = x->GetCurrent().packets;
            if (!sa.used && x->GetCurrent().packets > 0)
            {
                sa.used = true;
                sa.firstUse = x->GetCurrent().used ? x->GetCurrent().useTime : Simulator::Now();
            }
        }
        // The SA the out policies name is the one traffic takes (charon's UPDPOLICY moves it).
        for (const auto& policy : h->GetStack()->GetPolicies().GetAll())
        {
            const XfrmPolicyConfig& c = policy->GetConfig();
            if (c.dir != XfrmDir::Out || !c.hasTemplate || c.tmpl.spi == 0)
            {
                continue;
            }
            auto it = m_outbound[host].find(c.tmpl.spi);
            if (it != m_outbound[host].end() && !it->second.active)
            {
                it->second.active = true;
                it->second.activeAt = Simulator::Now();
            }
        }
    }
    Simulator::Schedule(MilliSeconds(2), &Run::SampleOutbound, this);
}

void
Run::SummariseRekeys()
{
    m_runner.Call([this] {
        json events = json::array();
        json latencies = json::array();
        double worst = 0;
        for (const ExpireEvent& e : m_expires)
        {
            events.push_back({{"host", e.host},
                              {"spi", Hex(e.spi)},
                              {"hard", e.hard},
                              {"at_s", e.at.GetSeconds()}});
            if (e.hard)
            {
                continue;
            }
            // The next outbound SA this host got after the soft expire, and its first packet.
            const OutboundSa* next = nullptr;
            for (const auto& [spi, sa] : m_outbound[e.host])
            {
                if (sa.added >= e.at && (!next || sa.added < next->added))
                {
                    next = &sa;
                }
            }
            if (next && next->active)
            {
                const double ms = (next->activeAt - e.at).GetSeconds() * 1000;
                latencies.push_back(ms);
                worst = std::max(worst, ms);
            }
        }
        json spis = json::object();
        uint32_t rekeys = 0;
        for (const auto& [host, sas] : m_outbound)
        {
            json list = json::array();
            for (const auto& [spi, sa] : sas)
            {
                list.push_back({{"spi", Hex(spi)},
                                {"added_s", sa.added.GetSeconds()},
                                {"active_s", sa.active ? sa.activeAt.GetSeconds() : -1.0},
                                {"first_use_s", sa.used ? sa.firstUse.GetSeconds() : -1.0},
                                {"bytes", sa.bytes},
                                {"packets", sa.packets}});
            }
            spis[host] = list;
            rekeys = std::max<uint32_t>(rekeys, sas.empty() ? 0 : uint32_t(sas.size() - 1));
        }
        m_results["rekey"] = {{"expires", events},
                              {"outbound_sas", spis},
                              {"rekeys", rekeys},
                              {"soft_expire_to_new_outbound_sa_active_ms", latencies},
                              {"worst_ms", worst}};
    });
}

void
Run::Collect()
{
    // The nodes' counters and swanctl's are read in turn; a straggler of the traffic (the last
    // TCP segments of a closing connection) between the two reads would make them differ, so
    // the reads repeat until the nodes' counters stand still across swanctl's.
    for (int attempt = 0; attempt < 5; ++attempt)
    {
        json before;
        for (const auto& [host, h] : m_hosts)
        {
            before[host] = SaSnapshot(host)["states"];
        }
        CollectSwanctl();
        bool still = true;
        for (const auto& [host, h] : m_hosts)
        {
            m_results["nodes"][host] = SaSnapshot(host);
            still = still && m_results["nodes"][host]["states"] == before[host];
        }
        if (still)
        {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    m_runner.Call([this] {
        for (const auto& [host, h] : m_hosts)
        {
            for (const auto& x : h->GetStack()->GetStates().GetAll())
            {
                if (x->GetConfig().spi != 0)
                {
                    RememberKeys(host, x);
                }
            }
        }
    });
    m_keys.Write(Path("esp_sa"));
    std::vector<double> lagsUs;
    for (const int64_t ns : m_runner.GetLags())
    {
        lagsUs.push_back(double(ns) / 1000);
    }
    m_results["realtime"] = {{"max_lag_us", m_runner.GetMaxLag().GetMicroSeconds()},
                             {"p50_lag_us", int64_t(Quantile(lagsUs, 0.5))},
                             {"p99_lag_us", int64_t(Quantile(lagsUs, 0.99))},
                             {"samples", m_runner.GetLagSamples()},
                             {"hard_limit_ms", m_opt.hardLimitMs}};
}

void
Run::CollectSwanctl()
{
    for (auto& [host, charon] : m_charons)
    {
        std::string out;
        charon->Swanctl({"--list-sas", "--raw"}, &out);
        json& s = m_results["swanctl"][host];
        s = json::object();
        // Every CHILD_SA swanctl lists (rekeyed ones stay a while as DELETED); the top-level
        // fields are the newest INSTALLED one's.
        static const std::regex child("reqid=[0-9]+ state=(\\w+) [^}]*?spi-in=([0-9a-f]+) "
                                      "spi-out=([0-9a-f]+)[^}]*?bytes-in=([0-9]+) "
                                      "packets-in=([0-9]+)[^}]*?bytes-out=([0-9]+) "
                                      "packets-out=([0-9]+)");
        json children = json::array();
        for (auto it = std::sregex_iterator(out.begin(), out.end(), child);
             it != std::sregex_iterator();
             ++it)
        {
            const std::smatch& m = *it;
            json c = {{"state", m[1].str()},
                      {"spi-in", "0x" + m[2].str()},
                      {"spi-out", "0x" + m[3].str()},
                      {"bytes-in", std::stoull(m[4])},
                      {"packets-in", std::stoull(m[5])},
                      {"bytes-out", std::stoull(m[6])},
                      {"packets-out", std::stoull(m[7])}};
            if (c["state"] == "INSTALLED")
            {
                for (const char* f :
                     {"spi-in", "spi-out", "bytes-in", "bytes-out", "packets-in", "packets-out"})
                {
                    s[f] = c[f];
                }
            }
            children.push_back(c);
        }
        s["child_sas"] = children;
        s["installed"] = out.find("state=INSTALLED") != std::string::npos;
        m_results["cpu_seconds"]["charon"][host] = charon->GetCpuSeconds();
    }
}

void
Run::Teardown()
{
    if (m_tornDown)
    {
        return;
    }
    m_tornDown = true;
    if (m_runner.IsRunning())
    {
        Collect(); // also after a failure: the counters say where packets went
        SummariseRekeys();
    }
    const auto t0 = Clock::now();
    bool empty = true;
    for (auto& [host, charon] : m_charons)
    {
        m_results["cpu_seconds"]["charon"][host] = charon->GetCpuSeconds();
        charon->Stop();
    }
    if (!m_charons.empty() && m_runner.IsRunning())
    {
        // strongSwan's post-test check: a stopped charon leaves no SA, no policy and no socket
        // policy behind (the last ones go when the server sees its sockets close).
        const auto stopped = Clock::now();
        do
        {
            empty = true;
            m_runner.Call([&] {
                for (const auto& [host, h] : m_hosts)
                {
                    const uint32_t states = h->GetStack()->GetStates().GetN();
                    const uint32_t policies = h->GetStack()->GetPolicies().GetN();
                    const size_t sockets = h->GetStack()->GetSocketPolicies().size();
                    // The device's own tables, by the driver's calls: every SA and policy it
                    // was given has been freed again.
                    int64_t deviceStates = 0;
                    int64_t devicePolicies = 0;
                    if (Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(h->GetWire()))
                    {
                        auto events = nic->GetEventCounts();
                        deviceStates = int64_t(events["StateAdd"]) - int64_t(events["StateFree"]);
                        devicePolicies =
                            int64_t(events["PolicyAdd"]) - int64_t(events["PolicyFree"]);
                    }
                    m_results["after_charon_stop"][host] = {{"states", states},
                                                            {"policies", policies},
                                                            {"socket_policies", sockets},
                                                            {"device_states", deviceStates},
                                                            {"device_policies", devicePolicies}};
                    empty = empty && states == 0 && policies == 0 && sockets == 0 &&
                            deviceStates == 0 && devicePolicies == 0;
                }
            });
        } while (!empty && MsSince(stopped) < 2000 &&
                 (std::this_thread::sleep_for(std::chrono::milliseconds(5)), true));
        m_results["after_charon_stop"]["empty"] = empty;
    }
    m_runner.Stop();
    for (auto& file : m_pcapFiles)
    {
        std::string why;
        if (!file->Close(&why))
        {
            m_results["pcap_errors"].push_back(why);
        }
        // Times the simulator's thread waited for the disk: each one is real-time lag.
        m_results["pcap_waits"] = m_results.value("pcap_waits", 0) + file->GetWaits();
    }
    m_pcapFiles.clear();
    for (auto& [host, h] : m_hosts)
    {
        h->Shutdown();
    }
    if (m_scriptStarted)
    {
        m_script.Stop();
        // Mininet's net.stop() signals the hosts' shells and does not wait for them: the run is
        // over when they are gone.
        const auto stopped = Clock::now();
        json left = json::array();
        const json hosts = m_topology.value("hosts", json::object());
        for (auto& [host, h] : hosts.items())
        {
            const pid_t pid = h["pid"].get<pid_t>();
            while (!ProcessGone(pid) && MsSince(stopped) < 5000)
            {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            if (!ProcessGone(pid))
            {
                left.push_back(host);
            }
        }
        m_results["leftover_hosts"] = left;
    }
    m_hosts.clear();
    Simulator::Destroy();
    GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::DefaultSimulatorImpl"));
    // This process: the simulator thread, the netlink and TAP reader threads, the harness.
    m_results["cpu_seconds"]["ns3"] = CpuSelf() - m_cpuAtStart;
    m_results["timing"]["teardown_ms"] = MsSince(t0);
    m_results["pcaps"] = m_pcaps;
    Progress("torn down in " + std::to_string(int(MsSince(t0))) + " ms");
}

} // namespace

std::string
EmulationUnavailable()
{
    if (geteuid() != 0)
    {
        return "needs root: Mininet hosts, TAP devices";
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
    {
        return "no /dev/net/tun on this machine";
    }
    for (const char* need : {"/usr/lib/ipsec/charon",
                             "/usr/sbin/swanctl",
                             "/usr/bin/iperf3",
                             "/usr/bin/mnexec",
                             "/usr/bin/tshark",
                             "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"})
    {
        if (access(need, R_OK) != 0)
        {
            return std::string(need) + " is not installed; ci/setup installs it";
        }
    }
    return "";
}

std::string
KernelEspUnavailable()
{
    // The kernel holds an ESP SA with the topologies' AEAD or it does not; a namespace of its
    // own keeps the probe out of every other (it goes with the command).
    const std::string probeOut = "/tmp/offloadlab-esp-probe-" + std::to_string(getpid()) + ".out";
    std::string out;
    const int rc = RunChild({"unshare",
                             "-n",
                             "ip",
                             "xfrm",
                             "state",
                             "add",
                             "src",
                             "192.0.2.1",
                             "dst",
                             "192.0.2.2",
                             "proto",
                             "esp",
                             "spi",
                             "0x100",
                             "mode",
                             "transport",
                             "aead",
                             "rfc4106(gcm(aes))",
                             "0x0102030405060708090a0b0c0d0e0f1011121314",
                             "128"},
                            std::chrono::seconds(5),
                            probeOut,
                            &out);
    unlink(probeOut.c_str());
    if (rc == 0)
    {
        return "";
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    {
        out.pop_back();
    }
    return "this kernel cannot hold an ESP SA (ip xfrm state add with rfc4106(gcm(aes)): " +
           (out.empty() ? "exit " + std::to_string(rc) : out) + ")";
}

bool
RunEmulation(const EmulationOptions& options, json* results, std::string* error)
{
    *results = json::object();
    (*results)["topology"] = options.topology;
    (*results)["mode"] = options.mode;
    if (std::find(EmulationModes().begin(), EmulationModes().end(), options.mode) ==
        EmulationModes().end())
    {
        *error = "--mode: '" + options.mode + "' is not one of plain, sw, crypto, packet";
        return false;
    }
    std::error_code ec;
    fs::create_directories(options.outDir, ec);
    if (ec)
    {
        *error = "--out: " + options.outDir + ": " + ec.message();
        return false;
    }
    bool ok = false;
    {
        Run run(options, results);
        ok = run.Execute(error);
        run.Teardown();
    }
    if (ok && results->contains("pcap_errors"))
    {
        ok = false;
        *error =
            "the wire's pcap is incomplete: " + (*results)["pcap_errors"][0].get<std::string>();
    }
    (*results)["ok"] = ok;
    if (!ok)
    {
        (*results)["error"] = *error;
    }
    std::ofstream(options.outDir + "/results.json") << results->dump(2) << "\n";
    return ok;
}

} // namespace ns3
