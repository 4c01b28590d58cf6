#include "esp-l4-protocol.h"

#include "ipv4-packet-util.h"
#include "xfrm-stack.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(EspL4Protocol);

TypeId
EspL4Protocol::GetTypeId()
{
    static TypeId tid = TypeId("ns3::EspL4Protocol")
                            .SetParent<IpL4Protocol>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<EspL4Protocol>();
    return tid;
}

void
EspL4Protocol::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
}

int
EspL4Protocol::GetProtocolNumber() const
{
    return kIpProtoEsp;
}

IpL4Protocol::RxStatus
EspL4Protocol::Receive(Ptr<Packet> p,
                       const Ipv4Header& header,
                       Ptr<Ipv4Interface> incomingInterface)
{
    return m_stack ? m_stack->InputEsp(p, header, incomingInterface) : RX_ENDPOINT_UNREACH;
}

IpL4Protocol::RxStatus
EspL4Protocol::Receive(Ptr<Packet> p,
                       const Ipv6Header& header,
                       Ptr<Ipv6Interface> incomingInterface)
{
    return m_stack ? m_stack->InputEsp6(p, header, incomingInterface) : RX_ENDPOINT_UNREACH;
}

void
EspL4Protocol::SetDownTarget(DownTargetCallback cb)
{
    m_downTarget = cb;
}

void
EspL4Protocol::SetDownTarget6(DownTargetCallback6 cb)
{
    m_downTarget6 = cb;
}

IpL4Protocol::DownTargetCallback
EspL4Protocol::GetDownTarget() const
{
    return m_downTarget;
}

IpL4Protocol::DownTargetCallback6
EspL4Protocol::GetDownTarget6() const
{
    return m_downTarget6;
}

void
EspL4Protocol::DoDispose()
{
    m_stack = nullptr;
    m_downTarget = DownTargetCallback();
    m_downTarget6 = DownTargetCallback6();
    IpL4Protocol::DoDispose();
}

} // namespace ns3
