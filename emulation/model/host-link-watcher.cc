#include "host-link-watcher.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ns3
{

HostLinkWatcher::~HostLinkWatcher()
{
    Stop();
}

bool
HostLinkWatcher::Start(const std::string& netnsPath,
                       int32_t ifindex,
                       Change change,
                       std::string* error)
{
    const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    int fd = -1;
    std::string why;
    if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0)
    {
        why = "enter " + netnsPath + ": " + std::strerror(errno);
    }
    else
    {
        // A socket belongs to the namespace it is made in, whichever thread reads it later.
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        why = fd < 0 ? std::string("socket(NETLINK_ROUTE): ") + std::strerror(errno) : "";
        if (setns(self, CLONE_NEWNET) != 0)
        {
            std::abort(); // this thread would stay in the host's namespace
        }
    }
    for (int f : {self, target})
    {
        if (f >= 0)
        {
            close(f);
        }
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
    {
        why = std::string("bind(RTMGRP_LINK): ") + std::strerror(errno);
        close(fd);
        fd = -1;
    }
    if (fd < 0)
    {
        *error = "link watcher: " + why;
        return false;
    }
    m_fd = fd;
    m_stopFd = eventfd(0, EFD_CLOEXEC);
    if (m_stopFd < 0)
    {
        *error = std::string("link watcher: eventfd: ") + std::strerror(errno);
        close(m_fd);
        m_fd = -1;
        return false;
    }
    m_ifindex = ifindex;
    m_change = std::move(change);
    // The state now, so that a down of an interface that is up already is not missed.
    if (!RequestLink())
    {
        *error = std::string("link watcher: RTM_GETLINK: ") + std::strerror(errno);
        Stop();
        return false;
    }
    alignas(nlmsghdr) char buf[16384];
    pollfd answer{m_fd, POLLIN, 0};
    if (poll(&answer, 1, 1000) > 0)
    {
        const ssize_t n = recv(m_fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
        {
            Apply(buf, int(n), false);
        }
    }
    m_thread = std::thread([this] { Read(); });
    return true;
}

bool
HostLinkWatcher::RequestLink() const
{
    struct
    {
        nlmsghdr header;
        ifinfomsg info;
    } request{};

    request.header.nlmsg_len = sizeof(request);
    request.header.nlmsg_type = RTM_GETLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST;
    request.info.ifi_family = AF_UNSPEC;
    request.info.ifi_index = m_ifindex;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    return sendto(m_fd,
                  &request,
                  sizeof(request),
                  0,
                  reinterpret_cast<const sockaddr*>(&kernel),
                  sizeof(kernel)) == ssize_t(sizeof(request));
}

void
HostLinkWatcher::Stop()
{
    if (m_thread.joinable())
    {
        const uint64_t one = 1;
        if (write(m_stopFd, &one, sizeof(one)) < 0)
        {
            // the thread also ends when the socket errs
        }
        m_thread.join();
    }
    for (int* f : {&m_fd, &m_stopFd})
    {
        if (*f >= 0)
        {
            close(*f);
            *f = -1;
        }
    }
}

uint64_t
HostLinkWatcher::GetMalformed() const
{
    return m_malformed;
}

void
HostLinkWatcher::Read()
{
    alignas(nlmsghdr) char buf[16384];
    for (;;)
    {
        pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_stopFd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
        {
            return;
        }
        if (fds[1].revents)
        {
            return;
        }
        if (!(fds[0].revents & POLLIN))
        {
            continue;
        }
        const ssize_t n = recv(m_fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0)
        {
            if (errno == ENOBUFS)
            {
                // Events were lost, maybe the down itself: ask for the state again.
                RequestLink();
            }
            continue;
        }
        Apply(buf, int(n), true);
    }
}

void
HostLinkWatcher::Apply(const char* data, int len, bool report)
{
    for (auto* h = reinterpret_cast<const nlmsghdr*>(data); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len))
    {
        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
        {
            continue;
        }
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
        {
            ++m_malformed;
            continue;
        }
        const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
        if (ifi->ifi_index != m_ifindex)
        {
            continue;
        }
        // An unregistered interface is down too (NETDEV_UNREGISTER flushes as well).
        const bool up = h->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP);
        if (up != m_up)
        {
            m_up = up;
            if (report)
            {
                m_change(up);
            }
        }
    }
}

} // namespace ns3
