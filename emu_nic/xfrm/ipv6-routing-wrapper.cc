#include "ipv6-routing-wrapper.h"

#include "ns3/ipv6-route.h"
#include "ns3/ipv6.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(Ipv6RoutingWrapper);

TypeId
Ipv6RoutingWrapper::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::Ipv6RoutingWrapper").SetParent<Ipv6RoutingProtocol>().SetGroupName("EmuNic");
    return tid;
}

void
Ipv6RoutingWrapper::SetInner(Ptr<Ipv6RoutingProtocol> inner)
{
    m_inner = inner;
}

Ptr<Ipv6RoutingProtocol>
Ipv6RoutingWrapper::GetInner() const
{
    return m_inner;
}

Ptr<Ipv6Route>
Ipv6RoutingWrapper::RouteOutput(Ptr<Packet> p,
                                const Ipv6Header& header,
                                Ptr<NetDevice> oif,
                                Socket::SocketErrno& sockerr)
{
    return m_inner->RouteOutput(p, header, oif, sockerr);
}

bool
Ipv6RoutingWrapper::RouteInput(Ptr<const Packet> p,
                               const Ipv6Header& header,
                               Ptr<const NetDevice> idev,
                               UnicastForwardCallback ucb,
                               MulticastForwardCallback mcb,
                               LocalDeliverCallback lcb,
                               ErrorCallback ecb)
{
    return m_inner->RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

void
Ipv6RoutingWrapper::NotifyInterfaceUp(uint32_t interface)
{
    m_inner->NotifyInterfaceUp(interface);
}

void
Ipv6RoutingWrapper::NotifyInterfaceDown(uint32_t interface)
{
    m_inner->NotifyInterfaceDown(interface);
}

void
Ipv6RoutingWrapper::NotifyAddAddress(uint32_t interface, Ipv6InterfaceAddress address)
{
    m_inner->NotifyAddAddress(interface, address);
}

void
Ipv6RoutingWrapper::NotifyRemoveAddress(uint32_t interface, Ipv6InterfaceAddress address)
{
    m_inner->NotifyRemoveAddress(interface, address);
}

void
Ipv6RoutingWrapper::NotifyAddRoute(Ipv6Address dst,
                                   Ipv6Prefix mask,
                                   Ipv6Address nextHop,
                                   uint32_t interface,
                                   Ipv6Address prefixToUse)
{
    m_inner->NotifyAddRoute(dst, mask, nextHop, interface, prefixToUse);
}

void
Ipv6RoutingWrapper::NotifyRemoveRoute(Ipv6Address dst,
                                      Ipv6Prefix mask,
                                      Ipv6Address nextHop,
                                      uint32_t interface,
                                      Ipv6Address prefixToUse)
{
    m_inner->NotifyRemoveRoute(dst, mask, nextHop, interface, prefixToUse);
}

void
Ipv6RoutingWrapper::SetIpv6(Ptr<Ipv6> ipv6)
{
    m_ipv6 = ipv6;
}

Ptr<Ipv6>
Ipv6RoutingWrapper::GetIpv6() const
{
    return m_ipv6;
}

void
Ipv6RoutingWrapper::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const
{
    m_inner->PrintRoutingTable(stream, unit);
}

void
Ipv6RoutingWrapper::DoDispose()
{
    m_inner = nullptr;
    m_ipv6 = nullptr;
    Ipv6RoutingProtocol::DoDispose();
}

} // namespace ns3
