#include "ipv4-routing-wrapper.h"

#include "ns3/ipv4.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(Ipv4RoutingWrapper);

TypeId
Ipv4RoutingWrapper::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::Ipv4RoutingWrapper").SetParent<Ipv4RoutingProtocol>().SetGroupName("EmuNic");
    return tid;
}

void
Ipv4RoutingWrapper::SetInner(Ptr<Ipv4RoutingProtocol> inner)
{
    m_inner = inner;
}

Ptr<Ipv4RoutingProtocol>
Ipv4RoutingWrapper::GetInner() const
{
    return m_inner;
}

Ptr<Ipv4Route>
Ipv4RoutingWrapper::RouteOutput(Ptr<Packet> p,
                                const Ipv4Header& header,
                                Ptr<NetDevice> oif,
                                Socket::SocketErrno& sockerr)
{
    return m_inner->RouteOutput(p, header, oif, sockerr);
}

bool
Ipv4RoutingWrapper::RouteInput(Ptr<const Packet> p,
                               const Ipv4Header& header,
                               Ptr<const NetDevice> idev,
                               UnicastForwardCallback ucb,
                               MulticastForwardCallback mcb,
                               LocalDeliverCallback lcb,
                               ErrorCallback ecb)
{
    return m_inner->RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

void
Ipv4RoutingWrapper::NotifyInterfaceUp(uint32_t interface)
{
    m_inner->NotifyInterfaceUp(interface);
}

void
Ipv4RoutingWrapper::NotifyInterfaceDown(uint32_t interface)
{
    m_inner->NotifyInterfaceDown(interface);
}

void
Ipv4RoutingWrapper::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    m_inner->NotifyAddAddress(interface, address);
}

void
Ipv4RoutingWrapper::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    m_inner->NotifyRemoveAddress(interface, address);
}

void
Ipv4RoutingWrapper::SetIpv4(Ptr<Ipv4> ipv4)
{
    m_ipv4 = ipv4;
}

Ptr<Ipv4>
Ipv4RoutingWrapper::GetIpv4() const
{
    return m_ipv4;
}

void
Ipv4RoutingWrapper::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const
{
    m_inner->PrintRoutingTable(stream, unit);
}

void
Ipv4RoutingWrapper::DoDispose()
{
    m_inner = nullptr;
    m_ipv4 = nullptr;
    Ipv4RoutingProtocol::DoDispose();
}

} // namespace ns3
