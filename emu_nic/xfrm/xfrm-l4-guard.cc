#include "xfrm-l4-guard.h"

#include "xfrm-stack.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(XfrmL4Guard);

TypeId
XfrmL4Guard::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmL4Guard")
                            .SetParent<IpL4Protocol>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmL4Guard>();
    return tid;
}

void
XfrmL4Guard::Setup(Ptr<XfrmStack> stack, Ptr<IpL4Protocol> inner)
{
    m_stack = stack;
    m_inner = inner;
}

int
XfrmL4Guard::GetProtocolNumber() const
{
    return m_inner->GetProtocolNumber();
}

IpL4Protocol::RxStatus
XfrmL4Guard::Receive(Ptr<Packet> p, const Ipv4Header& header, Ptr<Ipv4Interface> incomingInterface)
{
    return m_inner->Receive(p, header, incomingInterface); // IPv4 asks routing (XfrmRoutingHook)
}

IpL4Protocol::RxStatus
XfrmL4Guard::Receive(Ptr<Packet> p, const Ipv6Header& header, Ptr<Ipv6Interface> incomingInterface)
{
    if (m_stack && !m_stack->LocalInputAllowed6(p, header, uint8_t(GetProtocolNumber())))
    {
        return RX_OK; // dropped and counted by the stack
    }
    return m_inner->Receive(p, header, incomingInterface);
}

void
XfrmL4Guard::ReceiveIcmp(Ipv4Address icmpSource,
                         uint8_t icmpTtl,
                         uint8_t icmpType,
                         uint8_t icmpCode,
                         uint32_t icmpInfo,
                         Ipv4Address payloadSource,
                         Ipv4Address payloadDestination,
                         const uint8_t payload[8])
{
    m_inner->ReceiveIcmp(icmpSource,
                         icmpTtl,
                         icmpType,
                         icmpCode,
                         icmpInfo,
                         payloadSource,
                         payloadDestination,
                         payload);
}

void
XfrmL4Guard::ReceiveIcmp(Ipv6Address icmpSource,
                         uint8_t icmpTtl,
                         uint8_t icmpType,
                         uint8_t icmpCode,
                         uint32_t icmpInfo,
                         Ipv6Address payloadSource,
                         Ipv6Address payloadDestination,
                         const uint8_t payload[8])
{
    m_inner->ReceiveIcmp(icmpSource,
                         icmpTtl,
                         icmpType,
                         icmpCode,
                         icmpInfo,
                         payloadSource,
                         payloadDestination,
                         payload);
}

void
XfrmL4Guard::SetDownTarget(DownTargetCallback cb)
{
    m_inner->SetDownTarget(cb);
}

void
XfrmL4Guard::SetDownTarget6(DownTargetCallback6 cb)
{
    m_inner->SetDownTarget6(cb);
}

IpL4Protocol::DownTargetCallback
XfrmL4Guard::GetDownTarget() const
{
    return m_inner->GetDownTarget();
}

IpL4Protocol::DownTargetCallback6
XfrmL4Guard::GetDownTarget6() const
{
    return m_inner->GetDownTarget6();
}

void
XfrmL4Guard::DoDispose()
{
    m_stack = nullptr;
    m_inner = nullptr;
    IpL4Protocol::DoDispose();
}

} // namespace ns3
