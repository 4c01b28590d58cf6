// The administrative state of an emulated host's interface, watched over rtnetlink in the host's
// network namespace: `ip link set dev <tap> down` there is what NETDEV_DOWN is to Linux's XFRM
// (xfrm_dev_event), so the node's device must hear of it.
#ifndef HOST_LINK_WATCHER_H
#define HOST_LINK_WATCHER_H

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace ns3
{

class HostLinkWatcher
{
  public:
    /// Called from the watcher's own thread on every change of IFF_UP (true: up again).
    using Change = std::function<void(bool up)>;

    ~HostLinkWatcher();

    /**
     * Subscribes to RTMGRP_LINK in the namespace at netnsPath (only the calling thread enters
     * it) and reports IFF_UP changes of the interface `ifindex` there, from the state it has
     * now (asked with RTM_GETLINK; a down interface being configured reports its first up).
     * False with the reason otherwise.
     */
    bool Start(const std::string& netnsPath, int32_t ifindex, Change change, std::string* error);
    /// Joins the thread and closes the socket; idempotent.
    void Stop();
    /// Malformed rtnetlink messages seen (counted and skipped).
    uint64_t GetMalformed() const;

  private:
    void Read();
    /// Asks the kernel for the interface (RTM_GETLINK); its answer comes as an RTM_NEWLINK.
    bool RequestLink() const;
    /// Applies one datagram of rtnetlink messages; reports changes when report is set.
    void Apply(const char* buf, int len, bool report);

    int m_fd{-1};
    int m_stopFd{-1};
    int32_t m_ifindex{-1};
    Change m_change;
    std::thread m_thread;
    bool m_up{false};
    std::atomic<uint64_t> m_malformed{0};
};

} // namespace ns3

#endif // HOST_LINK_WATCHER_H
