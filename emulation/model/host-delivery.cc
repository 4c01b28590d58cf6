#include "host-delivery.h"

#include "ns3/ipv4-header.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/node.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("HostDelivery");

NS_OBJECT_ENSURE_REGISTERED(HostL4Protocol);

TypeId
HostL4Protocol::GetTypeId()
{
    static TypeId tid = TypeId("ns3::HostL4Protocol")
                            .SetParent<IpL4Protocol>()
                            .SetGroupName("Emulation")
                            .AddConstructor<HostL4Protocol>();
    return tid;
}

void
HostL4Protocol::Setup(int protocolNumber, HostDeliverCallback deliver)
{
    m_protocol = protocolNumber;
    m_deliver = deliver;
}

int
HostL4Protocol::GetProtocolNumber() const
{
    return m_protocol;
}

IpL4Protocol::RxStatus
HostL4Protocol::Receive(Ptr<Packet> p,
                        const Ipv4Header& header,
                        Ptr<Ipv4Interface> incomingInterface)
{
    if (m_deliver.IsNull())
    {
        NS_LOG_LOGIC("no host to deliver protocol " << m_protocol << " to");
        return RX_ENDPOINT_UNREACH;
    }
    // IPv4 passes the header of the datagram it reassembled or decrypted; the host gets it back
    // as one packet with a fresh checksum.
    // A fresh header of the same fields: ns-3's Ipv4Header cannot write options back (the host
    // gets the datagram without them).
    Ipv4Header h;
    h.SetSource(header.GetSource());
    h.SetDestination(header.GetDestination());
    h.SetProtocol(header.GetProtocol());
    h.SetTtl(header.GetTtl());
    h.SetTos(header.GetTos());
    h.SetIdentification(header.GetIdentification());
    if (header.IsDontFragment())
    {
        h.SetDontFragment();
    }
    h.SetPayloadSize(p->GetSize());
    if (Node::ChecksumEnabled())
    {
        h.EnableChecksum();
    }
    Ptr<Packet> whole = p->Copy();
    whole->AddHeader(h);
    ++m_delivered;
    m_deliver(whole);
    return RX_OK;
}

IpL4Protocol::RxStatus
HostL4Protocol::Receive(Ptr<Packet> p,
                        const Ipv6Header& header,
                        Ptr<Ipv6Interface> incomingInterface)
{
    NS_LOG_LOGIC("IPv6 is not emulated yet: packet dropped");
    return RX_ENDPOINT_UNREACH;
}

void
HostL4Protocol::SetDownTarget(DownTargetCallback cb)
{
    m_downTarget = cb;
}

void
HostL4Protocol::SetDownTarget6(DownTargetCallback6 cb)
{
    m_downTarget6 = cb;
}

IpL4Protocol::DownTargetCallback
HostL4Protocol::GetDownTarget() const
{
    return m_downTarget;
}

IpL4Protocol::DownTargetCallback6
HostL4Protocol::GetDownTarget6() const
{
    return m_downTarget6;
}

uint64_t
HostL4Protocol::GetDelivered() const
{
    return m_delivered;
}

void
HostL4Protocol::DoDispose()
{
    m_deliver = HostDeliverCallback();
    m_downTarget = DownTargetCallback();
    m_downTarget6 = DownTargetCallback6();
    IpL4Protocol::DoDispose();
}

NS_OBJECT_ENSURE_REGISTERED(HostRouting);

TypeId
HostRouting::GetTypeId()
{
    static TypeId tid = TypeId("ns3::HostRouting")
                            .SetParent<Ipv4RoutingWrapper>()
                            .SetGroupName("Emulation")
                            .AddConstructor<HostRouting>();
    return tid;
}

bool
HostRouting::RouteInput(Ptr<const Packet> p,
                        const Ipv4Header& header,
                        Ptr<const NetDevice> idev,
                        UnicastForwardCallback ucb,
                        MulticastForwardCallback mcb,
                        LocalDeliverCallback lcb,
                        ErrorCallback ecb)
{
    const Ipv4Address dst = header.GetDestination();
    Ptr<Ipv4> ipv4 = GetIpv4();
    if (dst.IsMulticast() || dst.IsBroadcast() || !ipv4)
    {
        NS_LOG_LOGIC("not for the host: " << dst);
        return false;
    }
    const int32_t iif = ipv4->GetInterfaceForDevice(idev);
    if (iif < 0 || lcb.IsNull())
    {
        return false;
    }
    lcb(p, header, uint32_t(iif));
    return true;
}

} // namespace ns3
