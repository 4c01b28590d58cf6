#include "xfrm-routing-hook.h"

#include "xfrm-stack.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(XfrmRoutingHook);

TypeId
XfrmRoutingHook::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmRoutingHook")
                            .SetParent<Ipv4RoutingWrapper>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmRoutingHook>();
    return tid;
}

void
XfrmRoutingHook::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
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
    return Ipv4RoutingWrapper::RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

void
XfrmRoutingHook::DoDispose()
{
    m_stack = nullptr;
    Ipv4RoutingWrapper::DoDispose();
}

NS_OBJECT_ENSURE_REGISTERED(XfrmRoutingHook6);

TypeId
XfrmRoutingHook6::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmRoutingHook6")
                            .SetParent<Ipv6RoutingWrapper>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmRoutingHook6>();
    return tid;
}

void
XfrmRoutingHook6::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
}

bool
XfrmRoutingHook6::RouteInput(Ptr<const Packet> p,
                             const Ipv6Header& header,
                             Ptr<const NetDevice> idev,
                             UnicastForwardCallback ucb,
                             MulticastForwardCallback mcb,
                             LocalDeliverCallback lcb,
                             ErrorCallback ecb)
{
    if (m_stack && m_stack->InputHook6(p, header, idev))
    {
        return true; // consumed by XFRM: dropped by policy, or protected and sent
    }
    return Ipv6RoutingWrapper::RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

void
XfrmRoutingHook6::DoDispose()
{
    m_stack = nullptr;
    Ipv6RoutingWrapper::DoDispose();
}

} // namespace ns3
