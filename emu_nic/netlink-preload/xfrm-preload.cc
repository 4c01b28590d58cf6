// LD_PRELOAD library: an unmodified process's NETLINK_XFRM sockets become connections to the
// XFRM netlink server named by $OFFLOADLAB_XFRM_SOCKET (xfrm-netlink-wire.h); every other
// socket is left alone. Fails closed: without the variable, or with no server there, creating a
// NETLINK_XFRM socket fails, so nothing can reach the real kernel's XFRM.
//
// Covered: socket, bind, connect, getsockname, setsockopt/getsockopt (SOL_NETLINK), send,
// sendto, sendmsg, recv, recvfrom, recvmsg (MSG_PEEK, MSG_TRUNC and MSG_DONTWAIT as a
// SOCK_SEQPACKET socket gives them, which are netlink's), close, and ioctl(SIOCETHTOOL), which
// goes to the kernel through an ordinary socket; for the interfaces in
// $OFFLOADLAB_XFRM_OFFLOAD_IFACES (comma-separated: the hosts' interfaces an EmuNic stands for)
// ETHTOOL_GFEATURES also shows the esp-hw-offload feature on, as charon's hw_offload checks it.
// poll and select need nothing: the connection is readable exactly when a netlink datagram
// waits. On the process's real sockets, the XFRM options the emulated kernel must know
// (IP_XFRM_POLICY / IPV6_XFRM_POLICY: charon's IKE bypass; UDP_ENCAP: its NAT-T socket) go to
// the real kernel and then to the server, and setsockopt returns once the server applied them
// (it fails if there is no server).

#include "xfrm-netlink-wire.h"

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <mutex>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

using ns3::XfrmWireOp;

namespace
{

struct Redirected
{
    uint32_t portId{0};
    uint32_t groups{0};
};

std::mutex g_mutex;
std::unordered_map<int, Redirected> g_sockets; // by fd
std::atomic<uint32_t> g_sockets_made{0};
int g_ethtool_fd = -1; // an AF_INET socket for SIOCETHTOOL, made on first use

template <class F>
F
Real(const char* name)
{
    static_assert(sizeof(F) == sizeof(void*));
    void* f = dlsym(RTLD_NEXT, name);
    F out;
    std::memcpy(&out, &f, sizeof(out));
    return out;
}

#define REAL(name) static auto real_##name = Real<decltype(&::name)>(#name)

bool
Lookup(int fd, Redirected* out = nullptr)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_sockets.find(fd);
    if (it == g_sockets.end())
    {
        return false;
    }
    if (out)
    {
        *out = it->second;
    }
    return true;
}

/// One op to the server, its words then its bytes.
bool
SendOp(int fd, XfrmWireOp op, const uint32_t* words, size_t nwords, const void* data, size_t size)
{
    REAL(sendmsg);
    uint32_t header[3] = {uint32_t(op), 0, 0};
    for (size_t i = 0; i < nwords && i < 2; ++i)
    {
        header[1 + i] = words[i];
    }
    iovec iov[2] = {{header, sizeof(uint32_t) * (1 + nwords)}, {const_cast<void*>(data), size}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = size ? 2 : 1;
    return real_sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0;
}

/// IP_XFRM_POLICY / IPV6_XFRM_POLICY (a socket policy: charon's IKE bypass) or UDP_ENCAP (its
/// NAT-T socket) on one of the process's real sockets: the emulated kernel must know too.
bool
IsXfrmSocketOption(int level, int name)
{
    constexpr int kIpXfrmPolicy = 17;
    constexpr int kIpv6XfrmPolicy = 35;
    constexpr int kUdpEncap = 100;
    return (level == SOL_IP && name == kIpXfrmPolicy) ||
           (level == SOL_IPV6 && name == kIpv6XfrmPolicy) ||
           (level == SOL_UDP && name == kUdpEncap);
}

/// Tells the server about a socket option the real kernel took (xfrm-netlink-wire.h,
/// SocketOption) and waits for it to be applied. False (errno set) when there is no server or it
/// refused: the caller fails, so nothing runs on an emulated kernel that does not know.
bool
TellSocketOption(int fd, int level, int name, const void* value, socklen_t len)
{
    REAL(socket);
    REAL(connect);
    REAL(close);
    REAL(getsockname);
    REAL(getsockopt);
    REAL(recv);
    sockaddr_storage local{};
    socklen_t localLength = sizeof(local);
    int protocol = 0;
    socklen_t protocolLength = sizeof(protocol);
    if (real_getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0 ||
        real_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &protocolLength) != 0)
    {
        return false;
    }
    uint16_t port = 0;
    if (local.ss_family == AF_INET)
    {
        port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    }
    else if (local.ss_family == AF_INET6)
    {
        port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
    const char* path = std::getenv(ns3::kXfrmSocketEnv);
    sockaddr_un address{};
    if (!path || std::strlen(path) >= sizeof(address.sun_path))
    {
        errno = EPROTONOSUPPORT;
        return false;
    }
    const int server = real_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (server < 0)
    {
        return false;
    }
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path);
    const uint32_t words[2] = {uint32_t(level) << 16 | uint32_t(name),
                               uint32_t(protocol & 0xff) << 16 | port};
    uint8_t answer = 0;
    const bool ok =
        real_connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        SendOp(server, XfrmWireOp::SocketOption, words, 2, value, value ? len : 0) &&
        real_recv(server, &answer, 1, 0) == 1 && answer == 1;
    const int saved = errno;
    real_close(server);
    errno = ok ? saved : (saved ? saved : EINVAL);
    return ok;
}

/// The port id Linux's autobind would give: the process id for its first netlink socket,
/// then unique others (kept out of the pid range).
uint32_t
ChoosePort()
{
    const uint32_t n = g_sockets_made++;
    if (n == 0)
    {
        return uint32_t(getpid());
    }
    return 0x80000000u | ((uint32_t(getpid()) & 0x7fffff) << 8) | (n & 0xff);
}

void
FillAddress(sockaddr* addr, socklen_t* len, uint32_t pid, uint32_t groups)
{
    if (!addr || !len)
    {
        return;
    }
    sockaddr_nl nl{};
    nl.nl_family = AF_NETLINK;
    nl.nl_pid = pid;
    nl.nl_groups = groups;
    std::memcpy(addr, &nl, std::min<size_t>(*len, sizeof(nl)));
    *len = sizeof(nl);
}

/// The netlink datagram in iov, gathered.
std::vector<uint8_t>
Gather(const msghdr* msg)
{
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < msg->msg_iovlen; ++i)
    {
        const auto* base = static_cast<const uint8_t*>(msg->msg_iov[i].iov_base);
        bytes.insert(bytes.end(), base, base + msg->msg_iov[i].iov_len);
    }
    return bytes;
}

/// Whether name is one of $OFFLOADLAB_XFRM_OFFLOAD_IFACES.
bool
IsEmulated(const char* name)
{
    const char* list = std::getenv("OFFLOADLAB_XFRM_OFFLOAD_IFACES");
    if (!list)
    {
        return false;
    }
    const std::string all = std::string(",") + list + ",";
    return all.find("," + std::string(name) + ",") != std::string::npos;
}

/// The index of "esp-hw-offload" in the kernel's feature strings, -1 if it has none.
int
EspOffloadBit(int fd, const char* ifname)
{
    REAL(ioctl);

    // ethtool_sset_info with room for one count (the features set's).
    alignas(8) uint8_t raw[sizeof(ethtool_sset_info) + sizeof(uint32_t)] = {};
    auto* info = reinterpret_cast<ethtool_sset_info*>(raw);
    info->cmd = ETHTOOL_GSSET_INFO;
    info->sset_mask = 1ULL << ETH_SS_FEATURES;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
    ifr.ifr_data = reinterpret_cast<char*>(raw);
    uint32_t count = 0;
    if (real_ioctl(fd, SIOCETHTOOL, &ifr) != 0 || !(info->sset_mask & (1ULL << ETH_SS_FEATURES)))
    {
        return -1;
    }
    std::memcpy(&count, raw + sizeof(ethtool_sset_info), sizeof(count));
    if (count == 0)
    {
        return -1;
    }
    std::vector<uint8_t> buffer(sizeof(ethtool_gstrings) + size_t(count) * ETH_GSTRING_LEN);
    auto* strings = reinterpret_cast<ethtool_gstrings*>(buffer.data());
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_FEATURES;
    strings->len = count;
    ifr.ifr_data = reinterpret_cast<char*>(strings);
    if (real_ioctl(fd, SIOCETHTOOL, &ifr) != 0)
    {
        return -1;
    }
    for (uint32_t i = 0; i < strings->len; ++i)
    {
        const char* name = reinterpret_cast<const char*>(strings->data) + i * ETH_GSTRING_LEN;
        if (std::strncmp(name, "esp-hw-offload", ETH_GSTRING_LEN) == 0)
        {
            return int(i);
        }
    }
    return -1;
}

} // namespace

extern "C"
{
    int socket(int domain, int type, int protocol)
    {
        REAL(socket);
        REAL(connect);
        REAL(close);
        if (domain != AF_NETLINK || protocol != NETLINK_XFRM)
        {
            return real_socket(domain, type, protocol);
        }
        const char* path = std::getenv(ns3::kXfrmSocketEnv);
        sockaddr_un address{};
        if (!path || std::strlen(path) >= sizeof(address.sun_path))
        {
            errno = EPROTONOSUPPORT; // fail closed: never the real kernel's XFRM
            return -1;
        }
        const int fd =
            real_socket(AF_UNIX, SOCK_SEQPACKET | (type & (SOCK_CLOEXEC | SOCK_NONBLOCK)), 0);
        if (fd < 0)
        {
            return -1;
        }
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path);
        if (real_connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
        {
            const int saved = errno;
            real_close(fd);
            errno = saved;
            return -1;
        }
        Redirected r;
        r.portId = ChoosePort();
        if (!SendOp(fd, XfrmWireOp::Hello, &r.portId, 1, nullptr, 0))
        {
            const int saved = errno;
            real_close(fd);
            errno = saved;
            return -1;
        }
        std::lock_guard<std::mutex> lock(g_mutex);
        g_sockets[fd] = r;
        return fd;
    }

    int bind(int fd, const sockaddr* addr, socklen_t len)
    {
        REAL(bind);
        Redirected r;
        if (!Lookup(fd, &r))
        {
            return real_bind(fd, addr, len);
        }
        sockaddr_nl nl{};
        if (!addr || len < sizeof(sockaddr_nl) || addr->sa_family != AF_NETLINK)
        {
            errno = EINVAL;
            return -1;
        }
        std::memcpy(&nl, addr, sizeof(nl));
        if (nl.nl_pid != 0)
        {
            r.portId = nl.nl_pid;
        }
        r.groups = nl.nl_groups;
        const uint32_t words[2] = {r.portId, r.groups};
        if (!SendOp(fd, XfrmWireOp::Bind, words, 2, nullptr, 0))
        {
            return -1;
        }
        std::lock_guard<std::mutex> lock(g_mutex);
        g_sockets[fd] = r;
        return 0;
    }

    int connect(int fd, const sockaddr* addr, socklen_t len)
    {
        REAL(connect);
        if (!Lookup(fd))
        {
            return real_connect(fd, addr, len);
        }
        return 0; // the kernel (pid 0) is the only peer
    }

    int getsockname(int fd, sockaddr* addr, socklen_t* len)
    {
        REAL(getsockname);
        Redirected r;
        if (!Lookup(fd, &r))
        {
            return real_getsockname(fd, addr, len);
        }
        FillAddress(addr, len, r.portId, r.groups);
        return 0;
    }

    int setsockopt(int fd, int level, int name, const void* value, socklen_t len)
    {
        REAL(setsockopt);
        if (!Lookup(fd) && IsXfrmSocketOption(level, name))
        {
            const int result = real_setsockopt(fd, level, name, value, len);
            if (result != 0 || TellSocketOption(fd, level, name, value, len))
            {
                return result;
            }
            return -1;
        }
        if (!Lookup(fd) || level != SOL_NETLINK)
        {
            const int result = real_setsockopt(fd, level, name, value, len);
            // SO_RCVBUFFORCE and the like mean nothing to the connection; netlink takes them.
            return result != 0 && Lookup(fd) && level == SOL_SOCKET ? 0 : result;
        }
        uint32_t v = 0;
        if (value && len >= sizeof(int))
        {
            std::memcpy(&v, value, sizeof(int));
        }
        const uint32_t words[2] = {uint32_t(name), v};
        if (!SendOp(fd, XfrmWireOp::Option, words, 2, nullptr, 0))
        {
            return -1;
        }
        return 0;
    }

    int getsockopt(int fd, int level, int name, void* value, socklen_t* len)
    {
        REAL(getsockopt);
        if (!Lookup(fd) || level != SOL_NETLINK)
        {
            return real_getsockopt(fd, level, name, value, len);
        }
        if (value && len && *len >= sizeof(int))
        {
            std::memset(value, 0, sizeof(int));
            *len = sizeof(int);
        }
        return 0;
    }

    ssize_t sendmsg(int fd, const msghdr* msg, int flags)
    {
        REAL(sendmsg);
        if (!Lookup(fd))
        {
            return real_sendmsg(fd, msg, flags);
        }
        const std::vector<uint8_t> bytes = Gather(msg);
        if (!SendOp(fd, XfrmWireOp::Send, nullptr, 0, bytes.data(), bytes.size()))
        {
            return -1;
        }
        return ssize_t(bytes.size());
    }

    ssize_t sendto(int fd,
                   const void* buf,
                   size_t len,
                   int flags,
                   const sockaddr* addr,
                   socklen_t alen)
    {
        REAL(sendto);
        if (!Lookup(fd))
        {
            return real_sendto(fd, buf, len, flags, addr, alen);
        }
        if (!SendOp(fd, XfrmWireOp::Send, nullptr, 0, buf, len))
        {
            return -1;
        }
        return ssize_t(len);
    }

    ssize_t send(int fd, const void* buf, size_t len, int flags)
    {
        return sendto(fd, buf, len, flags, nullptr, 0);
    }

    ssize_t recvmsg(int fd, msghdr* msg, int flags)
    {
        REAL(recvmsg);
        if (!Lookup(fd))
        {
            return real_recvmsg(fd, msg, flags);
        }
        sockaddr* name = static_cast<sockaddr*>(msg->msg_name);
        socklen_t nameLen = msg->msg_namelen;
        msg->msg_name = nullptr;
        msg->msg_namelen = 0;
        const ssize_t n = real_recvmsg(fd, msg, flags);
        msg->msg_name = name;
        msg->msg_namelen = nameLen;
        if (n >= 0 && name)
        {
            FillAddress(name, &msg->msg_namelen, 0, 0); // from the kernel
        }
        if (n == 0)
        {
            errno = ECONNRESET; // the server is gone: no datagram will ever come
            return -1;
        }
        return n;
    }

    ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr, socklen_t* alen)
    {
        REAL(recvfrom);
        if (!Lookup(fd))
        {
            return real_recvfrom(fd, buf, len, flags, addr, alen);
        }
        iovec iov{buf, len};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        if (addr && alen)
        {
            msg.msg_name = addr;
            msg.msg_namelen = *alen;
        }
        const ssize_t n = recvmsg(fd, &msg, flags);
        if (n >= 0 && addr && alen)
        {
            *alen = msg.msg_namelen;
        }
        return n;
    }

    ssize_t recv(int fd, void* buf, size_t len, int flags)
    {
        return recvfrom(fd, buf, len, flags, nullptr, nullptr);
    }

    int close(int fd)
    {
        REAL(close);
        {
            std::lock_guard<std::mutex> lock(g_mutex);
            g_sockets.erase(fd);
        }
        return real_close(fd);
    }

    int ioctl(int fd, unsigned long request, ...)
    {
        REAL(ioctl);
        REAL(socket);
        va_list args;
        va_start(args, request);
        void* argument = va_arg(args, void*);
        va_end(args);
        if (request == SIOCETHTOOL && Lookup(fd))
        {
            // charon asks its NETLINK_XFRM datagram socket for interface features; any socket of
            // the namespace answers it.
            std::lock_guard<std::mutex> lock(g_mutex);
            if (g_ethtool_fd < 0)
            {
                g_ethtool_fd = real_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            }
            const int result = real_ioctl(g_ethtool_fd, request, argument);
            auto* ifr = static_cast<ifreq*>(argument);
            uint32_t cmd = 0;
            if (result == 0 && ifr && ifr->ifr_data)
            {
                std::memcpy(&cmd, ifr->ifr_data, sizeof(cmd));
            }
            if (cmd == ETHTOOL_GFEATURES && IsEmulated(ifr->ifr_name))
            {
                // The EmuNic offers ESP offload for this interface: the feature is there and on.
                const int bit = EspOffloadBit(g_ethtool_fd, ifr->ifr_name);
                auto* features = reinterpret_cast<ethtool_gfeatures*>(ifr->ifr_data);
                if (bit >= 0 && uint32_t(bit / 32) < features->size)
                {
                    ethtool_get_features_block& block = features->features[bit / 32];
                    const uint32_t mask = 1u << (bit % 32);
                    block.available |= mask;
                    block.requested |= mask;
                    block.active |= mask;
                }
            }
            return result;
        }
        return real_ioctl(fd, request, argument);
    }

} // extern "C"
