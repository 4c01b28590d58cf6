#include "xfrm-routing-hook.h"

#include "xfrm-stack.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(XfrmRoutingHook);

TypeId
XfrmRoutingHook::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmRoutingHook")
                            .SetParent<Ipv4RoutingProtocol>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmRoutingHook>();
    return tid;
}

XfrmRoutingHook::XfrmRoutingHook() = default;

void
XfrmRoutingHook::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
}

void
XfrmRoutingHook::SetInner(Ptr<Ipv4RoutingProtocol> inner)
{
    m_inner = inner;
}

Ptr<Ipv4Route>
XfrmRoutingHook::RouteOutput(Ptr<Packet> p,
                             const Ipv4Header& header,
                             Ptr<NetDevice> oif,
                             Socket::SocketErrno& sockerr)
{
    return m_inner->RouteOutput(p, header, oif, sockerr);
}

bool
XfrmRoutingHook::RouteInput(Ptr<const Packet> p,
                            const Ipv4Header& header,
                            Ptr<const NetDevice> idev,
                            UnicastForwardCallback ucb,
                            MulticastForwardCallback mcb,
                            LocalDeliverCallback lcb,
                            ErrorCallback ecb)
{
    if (m_stack && m_stack->InputHook(p, header, idev))
    {
        return true; // consumed by XFRM: dropped by policy, or protected and sent
    }
    return m_inner->RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

void
XfrmRoutingHook::NotifyInterfaceUp(uint32_t interface)
{
    m_inner->NotifyInterfaceUp(interface);
}

void
XfrmRoutingHook::NotifyInterfaceDown(uint32_t interface)
{
    m_inner->NotifyInterfaceDown(interface);
}

void
XfrmRoutingHook::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    m_inner->NotifyAddAddress(interface, address);
}

void
XfrmRoutingHook::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    m_inner->NotifyRemoveAddress(interface, address);
}

void
XfrmRoutingHook::SetIpv4(Ptr<Ipv4> ipv4)
{
    // The inner protocol already knows its Ipv4 (it was installed first); nothing to pass on.
}

void
XfrmRoutingHook::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const
{
    m_inner->PrintRoutingTable(stream, unit);
}

void
XfrmRoutingHook::DoDispose()
{
    m_stack = nullptr;
    m_inner = nullptr;
    Ipv4RoutingProtocol::DoDispose();
}

} // namespace ns3
