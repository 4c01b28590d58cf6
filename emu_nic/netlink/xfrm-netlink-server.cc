#include "xfrm-netlink-server.h"

#include "xfrm-netlink-wire.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmNetlinkServer");

namespace
{
/// How often, in simulated microseconds, the simulator thread looks for requests of its own
/// accord.
constexpr int64_t kTickMicroseconds = 250;
} // namespace

NS_OBJECT_ENSURE_REGISTERED(XfrmNetlinkServer);

TypeId
XfrmNetlinkServer::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmNetlinkServer")
                            .SetParent<Object>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmNetlinkServer>();
    return tid;
}

XfrmNetlinkServer::XfrmNetlinkServer() = default;

XfrmNetlinkServer::~XfrmNetlinkServer()
{
    Stop();
}

void
XfrmNetlinkServer::DoDispose()
{
    Stop();
    m_endpoint = nullptr;
    Object::DoDispose();
}

const std::string&
XfrmNetlinkServer::GetPath() const
{
    return m_path;
}

bool
XfrmNetlinkServer::Start(Ptr<XfrmNetlinkEndpoint> endpoint,
                         const std::string& path,
                         std::string* error)
{
    sockaddr_un address{};
    if (path.empty() || path.size() >= sizeof(address.sun_path))
    {
        *error = "path: '" + path + "' is empty or longer than " +
                 std::to_string(sizeof(address.sun_path) - 1) + " bytes";
        return false;
    }
    m_listen = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (m_listen < 0 || pipe2(m_wake, O_CLOEXEC) != 0)
    {
        *error = std::string("socket: ") + std::strerror(errno);
        Stop();
        return false;
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size());
    unlink(path.c_str()); // a socket file left by a killed run
    if (bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(m_listen, 16) != 0)
    {
        *error = "path: '" + path + "': " + std::strerror(errno);
        Stop();
        return false;
    }
    m_path = path;
    m_endpoint = endpoint;
    m_endpoint->SetSendCallback(MakeCallback(&XfrmNetlinkServer::SendToClient, this));
    m_running = true;
    m_thread = std::thread(&XfrmNetlinkServer::IoLoop, this);
    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT,
                                   MicroSeconds(kTickMicroseconds),
                                   &XfrmNetlinkServer::Tick,
                                   this);
    return true;
}

void
XfrmNetlinkServer::Stop()
{
    if (m_running.exchange(false))
    {
        const char byte = 0;
        (void)!write(m_wake[1], &byte, 1);
    }
    if (m_thread.joinable())
    {
        m_thread.join();
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    for (auto& [fd, client] : m_clients)
    {
        close(fd);
    }
    m_clients.clear();
    m_byPort.clear();
    for (int* fd : {&m_listen, &m_wake[0], &m_wake[1]})
    {
        if (*fd >= 0)
        {
            close(*fd);
            *fd = -1;
        }
    }
    if (!m_path.empty())
    {
        unlink(m_path.c_str());
        m_path.clear();
    }
    if (m_endpoint)
    {
        m_endpoint->SetSendCallback(XfrmNetlinkEndpoint::SendCallback());
    }
}

void
XfrmNetlinkServer::IoLoop()
{
    while (m_running)
    {
        std::vector<pollfd> fds{{m_wake[0], POLLIN, 0}, {m_listen, POLLIN, 0}};
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            for (const auto& [fd, client] : m_clients)
            {
                fds.push_back({fd, POLLIN, 0});
            }
        }
        if (poll(fds.data(), fds.size(), -1) < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            NS_LOG_WARN("poll: " << std::strerror(errno));
            return;
        }
        if (fds[0].revents)
        {
            return;
        }
        if (fds[1].revents & POLLIN)
        {
            const int fd = accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0)
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                m_clients[fd] = Client{fd, 0};
            }
        }
        for (size_t i = 2; i < fds.size(); ++i)
        {
            if (fds[i].revents && !ReadClient(fds[i].fd))
            {
                CloseClient(fds[i].fd);
            }
        }
    }
}

bool
XfrmNetlinkServer::ReadClient(int fd)
{
    std::vector<uint8_t> packet(kXfrmWireMaxPacket);
    const ssize_t n = recv(fd, packet.data(), packet.size(), MSG_DONTWAIT);
    if (n < 0)
    {
        return errno == EAGAIN || errno == EINTR;
    }
    if (n == 0)
    {
        return false;
    }
    packet.resize(size_t(n));
    // In order, on the simulator's thread: at once if it keeps up, else at its next tick.
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.push_back({fd, std::move(packet), std::chrono::steady_clock::now()});
    }
    // A raw pointer: ns-3's reference counts are not atomic, and this is the I/O thread. The
    // server outlives the simulator thread's run (Stop joins this thread first).
    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), &XfrmNetlinkServer::Drain, this);
    return true;
}

void
XfrmNetlinkServer::CloseClient(int fd)
{
    uint32_t portId = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_clients.find(fd);
        if (it == m_clients.end())
        {
            return;
        }
        portId = it->second.portId;
        auto port = m_byPort.find(portId);
        if (port != m_byPort.end() && port->second == fd)
        {
            m_byPort.erase(port);
        }
        m_clients.erase(it);
        close(fd);
        Pending closed;
        closed.fd = fd;
        closed.closed = true;
        closed.portId = portId;
        m_pending.push_back(std::move(closed));
    }
    // A raw pointer: ns-3's reference counts are not atomic, and this is the I/O thread. The
    // server outlives the simulator thread's run (Stop joins this thread first).
    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), &XfrmNetlinkServer::Drain, this);
}

void
XfrmNetlinkServer::Drain()
{
    while (true)
    {
        Pending next;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_pending.empty())
            {
                return;
            }
            next = std::move(m_pending.front());
            m_pending.pop_front();
        }
        if (next.closed)
        {
            Closed(next.portId);
        }
        else
        {
            Deliver(next.fd, std::move(next.packet), next.read);
        }
    }
}

void
XfrmNetlinkServer::Tick()
{
    Drain();
    if (m_running)
    {
        Simulator::Schedule(MicroSeconds(kTickMicroseconds), &XfrmNetlinkServer::Tick, this);
    }
}

void
XfrmNetlinkServer::Closed(uint32_t portId)
{
    if (m_endpoint)
    {
        m_endpoint->RemoveClient(portId);
    }
}

void
XfrmNetlinkServer::Deliver(int fd,
                           std::vector<uint8_t> packet,
                           std::chrono::steady_clock::time_point read)
{
    if (!m_endpoint || packet.size() < sizeof(uint32_t))
    {
        return;
    }
    uint32_t op = 0;
    std::memcpy(&op, packet.data(), sizeof(op));
    uint32_t args[2]{0, 0};
    std::memcpy(args, packet.data() + 4, std::min<size_t>(packet.size() - 4, sizeof(args)));
    uint32_t portId = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_clients.find(fd);
        if (it == m_clients.end())
        {
            return; // closed since
        }
        if (op == uint32_t(XfrmWireOp::Hello) || op == uint32_t(XfrmWireOp::Bind))
        {
            it->second.portId = args[0];
            m_byPort[args[0]] = fd;
        }
        portId = it->second.portId;
    }
    switch (XfrmWireOp(op))
    {
    case XfrmWireOp::Hello:
        break;
    case XfrmWireOp::Bind:
        m_endpoint->SetGroups(portId, args[1]);
        break;
    case XfrmWireOp::Option:
        switch (args[0])
        {
        case NETLINK_EXT_ACK:
            m_endpoint->SetExtAck(portId, args[1] != 0);
            break;
        case NETLINK_ADD_MEMBERSHIP:
        case NETLINK_DROP_MEMBERSHIP:
            if (args[1] >= 1 && args[1] <= 32)
            {
                m_endpoint->ChangeGroup(portId, args[1], args[0] == NETLINK_ADD_MEMBERSHIP);
            }
            break;
        default:
            break; // NETLINK_CAP_ACK and the rest: the endpoint's acks are Linux's defaults
        }
        break;
    case XfrmWireOp::Send: {
        const auto started = std::chrono::steady_clock::now();
        m_endpoint->Receive(portId, packet.data() + 4, packet.size() - 4);
        const auto done = std::chrono::steady_clock::now();
        uint16_t type = 0;
        if (packet.size() >= 4 + sizeof(nlmsghdr))
        {
            std::memcpy(&type, packet.data() + 4 + offsetof(nlmsghdr, nlmsg_type), sizeof(type));
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_latencies.push_back({std::chrono::duration<double, std::micro>(done - read).count(),
                               std::chrono::duration<double, std::micro>(done - started).count(),
                               type});
        break;
    }
    case XfrmWireOp::SocketOption: {
        const size_t header = 3 * sizeof(uint32_t);
        const bool taken =
            packet.size() >= header && m_endpoint->SocketOption(args[0] >> 16,
                                                                args[0] & 0xffff,
                                                                uint8_t(args[1] >> 16),
                                                                uint16_t(args[1] & 0xffff),
                                                                packet.data() + header,
                                                                packet.size() - header);
        const uint8_t answer = taken ? 1 : 0;
        std::lock_guard<std::mutex> lock(m_mutex);
        if (send(fd, &answer, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        {
            NS_LOG_WARN("connection " << fd << ": socket option answer lost");
        }
        break;
    }
    default:
        NS_LOG_WARN("connection " << fd << ": unknown op " << op << " ignored");
        break;
    }
}

std::vector<XfrmNetlinkServer::RequestTiming>
XfrmNetlinkServer::GetRequestLatencies() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_latencies;
}

void
XfrmNetlinkServer::SendToClient(uint32_t portId, std::vector<uint8_t> datagram)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_byPort.find(portId);
    if (it == m_byPort.end())
    {
        return; // the client is gone, as a netlink message to a closed socket
    }
    // A full socket buffer drops the datagram, as netlink does (ENOBUFS for the reader).
    if (send(it->second, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
    {
        NS_LOG_WARN("port " << portId << ": datagram of " << datagram.size()
                            << " bytes dropped: " << std::strerror(errno));
    }
}

} // namespace ns3
