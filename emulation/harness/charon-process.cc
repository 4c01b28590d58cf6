#include "charon-process.h"

#include "harness-process.h"
#include "xfrm-netlink-wire.h"

#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace ns3
{

namespace
{
constexpr const char* kCharon = "/usr/lib/ipsec/charon";
constexpr const char* kSwanctl = "/usr/sbin/swanctl";
// The pre-shared key of every emulation topology: test keys, like the ones in the pcaps' esp_sa.
constexpr const char* kPsk = "0sb2ZmbG9hZGxhYi1lbXVsYXRpb24=";
} // namespace

CharonProcess::~CharonProcess()
{
    Stop();
}

std::string
CharonProcess::Path(const std::string& what) const
{
    return m_config.dir + "/" + m_config.name + "-" + what;
}

bool
CharonProcess::Start(const CharonConfig& config, std::string* error)
{
    m_config = config;
    const nlohmann::json& ike = config.ike;
    // kernel-libipsec before kernel-netlink: its ESP serves, kernel-netlink keeps addresses and
    // routes (the route into its TUN for the peer's subnet).
    std::ofstream(Path("strongswan.conf"))
        << "charon {\n"
           "  load = random nonce aes sha1 sha2 hmac gcm curve25519 kdf pem pkcs1 x509 pubkey "
        << (config.libipsec ? "kernel-libipsec " : "")
        << "kernel-netlink socket-default vici\n"
           "  install_routes = "
        << (config.libipsec ? "yes" : "no")
        << "\n"
           "  plugins {\n"
           "    vici { socket = unix://"
        << Path("vici")
        << " }\n"
           "    kernel-netlink { timeout = 2000\n retries = 1 }\n"
           "  }\n"
           "  filelog { log { path = "
        << Path("charon.log")
        << "\n time_format = %H:%M:%S\n default = 1\n knl = 2\n ike = 2\n cfg = 1\n } }\n"
           "}\n";
    const bool tunnel = ike.value("mode", "transport") == "tunnel";
    std::ofstream(Path("swanctl.conf"))
        << "connections {\n  c {\n    version = 2\n    local_addrs = "
        << ike["local"].get<std::string>()
        << "\n    remote_addrs = " << ike["remote"].get<std::string>()
        << "\n    proposals = aes128-sha256-x25519\n    local { auth = psk\n id = "
        << ike["id"].get<std::string>()
        << " }\n    remote { auth = psk\n id = " << ike["peer_id"].get<std::string>() << " }\n"
        << (ike.value("encap", false) ? "    encap = yes\n" : "")
        << "    children { c {\n mode = " << (tunnel ? "tunnel" : "transport") << "\n"
        << (tunnel ? " local_ts = " + ike["local_ts"].get<std::string>() +
                         "\n remote_ts = " + ike["remote_ts"].get<std::string>() + "\n"
                   : std::string())
        << " esp_proposals = aes128gcm16\n start_action = " << config.startAction << "\n"
        << (config.hwOffload ? " hw_offload = yes\n" : " hw_offload = no\n") << config.childExtra
        << " } }\n  }\n"
        << config.connectionsExtra << "}\nsecrets { ike-1 { id-1 = " << ike["id"].get<std::string>()
        << "\n id-2 = " << ike["peer_id"].get<std::string>() << "\n secret = " << kPsk << " } }\n";
    const std::string run = Path("run");
    mkdir(run.c_str(), 0700);
    unlink(Path("vici").c_str());
    // The host's namespaces (network and the rest Mininet made), a mount namespace of its own
    // for /run, then exec: charon keeps this PID and the parent-death signal.
    const std::string ns = "/proc/" + std::to_string(config.hostPid) + "/ns/net";
    std::string command =
        "mount --bind " + run + " /run && exec env STRONGSWAN_CONF=" + Path("strongswan.conf");
    if (!config.libipsec && !config.kernelEsp)
    {
        command += std::string(" LD_PRELOAD=") + OFFLOADLAB_XFRM_PRELOAD + " " + kXfrmSocketEnv +
                   "=" + config.xfrmSocket;
        if (!config.offloadIface.empty())
        {
            command += " OFFLOADLAB_XFRM_OFFLOAD_IFACES=" + config.offloadIface;
        }
    }
    command += std::string(" ") + kCharon;
    ChildOptions options;
    options.outPath = Path("charon.out");
    m_pid = SpawnChild({"nsenter",
                        "--net=" + ns,
                        "--",
                        "unshare",
                        "-m",
                        "--propagation",
                        "private",
                        "sh",
                        "-c",
                        command},
                       options,
                       error);
    if (m_pid < 0)
    {
        return false;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (access(Path("vici").c_str(), F_OK) != 0)
    {
        int status = 0;
        if (WaitChild(m_pid, std::chrono::milliseconds(0), &status))
        {
            m_pid = -1;
            *error = config.name + ": charon ended (" + std::to_string(status) +
                     "): " + ReadWholeFile(Path("charon.out")) + ReadWholeFile(Path("charon.log"));
            return false;
        }
        if (std::chrono::steady_clock::now() >= until || g_emulationInterrupted)
        {
            *error = config.name + ": charon's vici socket did not appear";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

bool
CharonProcess::Load(std::string* error)
{
    std::string out;
    if (Swanctl({"--load-all", "--file", Path("swanctl.conf")}, &out) != 0)
    {
        *error = m_config.name + ": swanctl --load-all: " + out;
        return false;
    }
    return true;
}

int
CharonProcess::Swanctl(const std::vector<std::string>& args,
                       std::string* output,
                       std::chrono::milliseconds timeout)
{
    // vici is a Unix socket at a path: swanctl needs no namespace of the host's.
    std::vector<std::string> argv = {kSwanctl};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--uri");
    argv.push_back("unix://" + Path("vici"));
    return RunChild(argv, timeout, Path("swanctl-" + std::to_string(m_commands++)), output);
}

int
CharonProcess::Stop()
{
    if (m_pid <= 0)
    {
        return -1;
    }
    GetCpuSeconds();
    const int status = StopChild(m_pid, std::chrono::seconds(10));
    m_pid = -1;
    return status;
}

pid_t
CharonProcess::GetPid() const
{
    return m_pid;
}

double
CharonProcess::GetCpuSeconds() const
{
    if (m_pid > 0)
    {
        const double cpu = ProcessCpuSeconds(m_pid);
        if (cpu >= 0)
        {
            m_cpu = cpu;
        }
    }
    return m_cpu;
}

} // namespace ns3
