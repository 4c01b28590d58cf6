#include "tcp-pmtu-adapter.h"

#include "ns3/callback.h"
#include "ns3/icmpv4.h"
#include "ns3/icmpv6-header.h"
#include "ns3/log.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/tcp-socket-state.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("TcpPmtuAdapter");

namespace
{
/// Reaches TcpSocketBase's protected congestion state; ns-3 offers no setter that works on an
/// open connection (SetSegSize refuses), and PMTU discovery must change it mid-connection.
struct TcpStateAccess : public TcpSocketBase
{
    static Ptr<TcpSocketState> Get(TcpSocketBase* socket)
    {
        return socket->*(&TcpStateAccess::m_tcb);
    }
};

// IPv4 header (20) + TCP header with the options ns-3 may send (timestamps, SACK: up to 40).
constexpr uint32_t kTcpIpOverhead = 20 + 20 + 40;
constexpr uint32_t kTcpIpv6Overhead = 40 + 20 + 40; // the same with the IPv6 header
constexpr uint32_t kMinSegment = 536;
} // namespace

Ptr<TcpPmtuAdapter>
TcpPmtuAdapter::Attach(Ptr<Socket> socket)
{
    Ptr<TcpPmtuAdapter> adapter = Create<TcpPmtuAdapter>();
    adapter->m_socket = PeekPointer(socket);
    socket->SetAttribute("IcmpCallback",
                         CallbackValue(MakeCallback(&TcpPmtuAdapter::OnIcmp, adapter)));
    socket->SetAttribute("IcmpCallback6",
                         CallbackValue(MakeCallback(&TcpPmtuAdapter::OnIcmp6, adapter)));
    return adapter;
}

void
TcpPmtuAdapter::OnIcmp(Ipv4Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info)
{
    if (type != Icmpv4Header::ICMPV4_DEST_UNREACH ||
        code != Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED || info == 0)
    {
        return;
    }
    NS_LOG_INFO("PMTU " << info << " from " << source);
    Reduce(info, kTcpIpOverhead);
}

void
TcpPmtuAdapter::OnIcmp6(Ipv6Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info)
{
    if (type != Icmpv6Header::ICMPV6_ERROR_PACKET_TOO_BIG || info == 0)
    {
        return;
    }
    NS_LOG_INFO("PMTU " << info << " from " << source);
    Reduce(info, kTcpIpv6Overhead);
}

void
TcpPmtuAdapter::Reduce(uint32_t mtu, uint32_t overhead)
{
    auto* tcp = dynamic_cast<TcpSocketBase*>(m_socket);
    if (!tcp)
    {
        return;
    }
    Ptr<TcpSocketState> tcb = TcpStateAccess::Get(tcp);
    const uint32_t wanted = std::max(kMinSegment, mtu > overhead ? mtu - overhead : 0);
    if (wanted < tcb->m_segmentSize)
    {
        NS_LOG_INFO("segment size " << tcb->m_segmentSize << " -> " << wanted);
        tcb->m_segmentSize = wanted;
        ++m_adaptations;
    }
}

uint32_t
TcpPmtuAdapter::GetAdaptations() const
{
    return m_adaptations;
}

uint32_t
TcpPmtuAdapter::GetSegmentSize() const
{
    auto* tcp = dynamic_cast<TcpSocketBase*>(m_socket);
    return tcp ? TcpStateAccess::Get(tcp)->m_segmentSize : 0;
}

} // namespace ns3
