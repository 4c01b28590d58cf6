#include "udp-encap-l4-protocol.h"

#include "ipv4-packet-util.h"
#include "xfrm-stack.h"

#include "ns3/ipv6-header.h"
#include "ns3/ipv6-interface.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(UdpEncapL4Protocol);

TypeId
UdpEncapL4Protocol::GetTypeId()
{
    static TypeId tid = TypeId("ns3::UdpEncapL4Protocol")
                            .SetParent<IpL4Protocol>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<UdpEncapL4Protocol>();
    return tid;
}

void
UdpEncapL4Protocol::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
}

void
UdpEncapL4Protocol::SetUdp(Ptr<IpL4Protocol> udp)
{
    m_udp = udp;
}

Ptr<IpL4Protocol>
UdpEncapL4Protocol::GetUdp() const
{
    return m_udp;
}

int
UdpEncapL4Protocol::GetProtocolNumber() const
{
    return kIpProtoUdp;
}

IpL4Protocol::RxStatus
UdpEncapL4Protocol::Receive(Ptr<Packet> p,
                            const Ipv4Header& header,
                            Ptr<Ipv4Interface> incomingInterface)
{
    uint8_t udp[8];
    if (m_stack && p->GetSize() >= sizeof(udp) && p->CopyData(udp, sizeof(udp)) == sizeof(udp) &&
        m_stack->IsUdpEncapPort(uint16_t(udp[2] << 8 | udp[3])) &&
        m_stack->InputUdpEncap(p, header, incomingInterface))
    {
        return RX_OK; // ESP or a keepalive: the stack took it
    }
    return m_udp ? m_udp->Receive(p, header, incomingInterface) : RX_ENDPOINT_UNREACH;
}

IpL4Protocol::RxStatus
UdpEncapL4Protocol::Receive(Ptr<Packet> p,
                            const Ipv6Header& header,
                            Ptr<Ipv6Interface> incomingInterface)
{
    return m_udp ? m_udp->Receive(p, header, incomingInterface) : RX_ENDPOINT_UNREACH;
}

void
UdpEncapL4Protocol::ReceiveIcmp(Ipv4Address icmpSource,
                                uint8_t icmpTtl,
                                uint8_t icmpType,
                                uint8_t icmpCode,
                                uint32_t icmpInfo,
                                Ipv4Address payloadSource,
                                Ipv4Address payloadDestination,
                                const uint8_t payload[8])
{
    if (m_udp)
    {
        m_udp->ReceiveIcmp(icmpSource,
                           icmpTtl,
                           icmpType,
                           icmpCode,
                           icmpInfo,
                           payloadSource,
                           payloadDestination,
                           payload);
    }
}

void
UdpEncapL4Protocol::SetDownTarget(DownTargetCallback cb)
{
    m_downTarget = cb;
}

void
UdpEncapL4Protocol::SetDownTarget6(DownTargetCallback6 cb)
{
    m_downTarget6 = cb;
}

IpL4Protocol::DownTargetCallback
UdpEncapL4Protocol::GetDownTarget() const
{
    return m_downTarget;
}

IpL4Protocol::DownTargetCallback6
UdpEncapL4Protocol::GetDownTarget6() const
{
    return m_downTarget6;
}

void
UdpEncapL4Protocol::DoDispose()
{
    m_stack = nullptr;
    m_udp = nullptr;
    m_downTarget = DownTargetCallback();
    m_downTarget6 = DownTargetCallback6();
    IpL4Protocol::DoDispose();
}

} // namespace ns3
