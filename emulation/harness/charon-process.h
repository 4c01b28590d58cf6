// One unmodified Debian charon in an emulated host: its own strongswan.conf, swanctl.conf, vici
// socket and /run (the pid file path is built in), the host's network namespace, and the
// preload library that sends its NETLINK_XFRM sockets to the host's node.
#ifndef CHARON_PROCESS_H
#define CHARON_PROCESS_H

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>

namespace ns3
{

struct CharonConfig
{
    std::string name;                //!< the host's short name: files are <dir>/<name>-*
    std::string dir;                 //!< the run's directory
    pid_t hostPid{-1};               //!< a process in the host's namespaces
    std::string xfrmSocket;          //!< the node's XFRM netlink server
    std::string offloadIface;        //!< "" or the TAP charon may ask crypto offload for
    nlohmann::json ike;              //!< the topology's IKE entry for this host
    bool hwOffload{false};           //!< children ask for crypto offload (hw_offload = yes)
    std::string childExtra;          //!< more lines for the CHILD_SA (lifetimes)
    std::string startAction{"none"}; //!< the CHILD_SA's start_action (trap: policies only)
    std::string connectionsExtra;    //!< more connections in swanctl.conf (shunts)
    /// strongSwan's own userspace ESP (kernel-libipsec, over a TUN in the host) instead of the
    /// emulated kernel: the real third-party peer of the interop topology. No preload then.
    bool libipsec{false};
    /// The host's own kernel's XFRM and ESP, through kernel-netlink without the preload: the
    /// kernel-IPsec peer, on hosts whose kernel has ESP.
    bool kernelEsp{false};
};

class CharonProcess
{
  public:
    ~CharonProcess();

    /// Writes the configuration, starts charon and waits for its vici socket; false with the
    /// reason (and the log) otherwise.
    bool Start(const CharonConfig& config, std::string* error);
    /// swanctl --load-all with this host's swanctl.conf.
    bool Load(std::string* error);
    /// swanctl with args against this charon; its exit status and output.
    int Swanctl(const std::vector<std::string>& args,
                std::string* output,
                std::chrono::milliseconds timeout = std::chrono::seconds(15));
    /// SIGTERM and wait (charon needs 1-2 s); its exit status.
    int Stop();
    pid_t GetPid() const;
    double GetCpuSeconds() const; //!< so far; the last value once stopped
    std::string Path(const std::string& what) const;

  private:
    CharonConfig m_config;
    pid_t m_pid{-1};
    mutable double m_cpu{0};
    int m_commands{0};
};

} // namespace ns3

#endif // CHARON_PROCESS_H
