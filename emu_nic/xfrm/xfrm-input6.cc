// XfrmStack's IPv6 input (Linux's xfrm6_rcv, xfrm6_transport_finish and xfrm6_policy_check):
// ESP for this node is opened as for IPv4, and the plaintext goes back into IPv6 with its
// secpath, transport mode included (Linux re-runs ip6_rcv_finish on it), so that the inbound
// policy check happens where Linux makes it: in front of TCP and UDP for local traffic, in
// routing for forwarded traffic.
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-stack.h"

#include "ns3/log.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmInput6");

IpL4Protocol::RxStatus
XfrmStack::InputEsp6(Ptr<Packet> packet,
                     const Ipv6Header& header,
                     Ptr<Ipv6Interface> incomingInterface)
{
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t nextHeader = 0;
    Ptr<XfrmState> x = OpenEsp(packet,
                               header.GetDestination(),
                               XfrmEncapType::None,
                               &offset,
                               &length,
                               &nextHeader);
    if (!x)
    {
        return IpL4Protocol::RX_OK;
    }
    Ptr<Packet> inner = Create<Packet>(m_frame.data() + offset, length);
    if (x->GetConfig().mode == XfrmMode::Tunnel)
    {
        ReinjectInner(x, inner, nextHeader, incomingInterface->GetDevice());
        return IpL4Protocol::RX_OK;
    }
    // xfrm6_transport_finish: the IPv6 header now names what ESP carried; the extension
    // headers before ESP were already processed and are not seen again.
    Ipv6Header plain;
    plain.SetSource(header.GetSource());
    plain.SetDestination(header.GetDestination());
    plain.SetTrafficClass(header.GetTrafficClass());
    plain.SetFlowLabel(header.GetFlowLabel());
    plain.SetHopLimit(header.GetHopLimit());
    plain.SetNextHeader(nextHeader);
    plain.SetPayloadLength(uint16_t(length));
    inner->AddHeader(plain);
    XfrmSecPathTag secpath;
    secpath.nodeId = m_node->GetId();
    secpath.spi = x->GetConfig().spi;
    secpath.daddr = x->GetConfig().daddr;
    inner->AddPacketTag(secpath);
    m_ipv6->Receive(incomingInterface->GetDevice(),
                    inner,
                    kEtherTypeIpv6,
                    Address(),
                    Address(),
                    NetDevice::PACKET_HOST);
    return IpL4Protocol::RX_OK;
}

bool
XfrmStack::LocalInputAllowed6(Ptr<const Packet> segment, const Ipv6Header& header, uint8_t protocol)
{
    if (m_spd.GetN() == 0)
    {
        return true;
    }
    // IPv6 hands the segment without the extension headers it processed; the header still
    // names the first of them.
    XfrmFlow flow;
    flow.src = header.GetSource();
    flow.dst = header.GetDestination();
    flow.proto = protocol;
    uint8_t ports[4];
    if (segment->CopyData(ports, 4) == 4)
    {
        flow.sport = uint16_t(ports[0] << 8 | ports[1]);
        flow.dport = uint16_t(ports[2] << 8 | ports[3]);
    }
    return InboundPolicyAllows(XfrmDir::In, flow, segment);
}

bool
XfrmStack::InputHook6(Ptr<const Packet> packet, const Ipv6Header& header, Ptr<const NetDevice> idev)
{
    if (m_spd.GetN() == 0 || header.GetDestination().IsMulticast() ||
        header.GetSource().IsLinkLocal())
    {
        return false; // no policies, or traffic IPv6 never forwards
    }
    const XfrmFlow flow = FlowOfIpv6(header, packet);
    if (flow.proto == kIpProtoEsp || m_ipv6->GetInterfaceForAddress(header.GetDestination()) >= 0)
    {
        return false; // ESP in transit, or this node's (checked in front of the L4 protocol)
    }
    if (!InboundPolicyAllows(XfrmDir::Fwd, flow, packet))
    {
        return true;
    }
    Ptr<XfrmPolicy> policy = LookupPolicy(XfrmDir::Out, flow);
    if (!policy || !policy->RequiresIpsec())
    {
        if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
        {
            Drop(XfrmDrop::OutPolBlock, packet);
            return true;
        }
        return false;
    }
    if (policy->IsHardware())
    {
        // Forwarded into a packet-offload policy: the core's checks, then plaintext
        // forwarding; the device protects it on its way out.
        return !PacketOffloadOk6(policy, flow, header, packet, nullptr);
    }
    if (policy->GetConfig().tmpl.mode != XfrmMode::Tunnel)
    {
        return false; // transport-mode policies protect only the node's own traffic
    }
    if (header.GetHopLimit() <= 1)
    {
        ++m_drops[size_t(XfrmDrop::FwdHdrError)]; // routing drops it, XFRM counts it
        return false;                             // routing answers with "time exceeded"
    }
    Ipv6Header inner = header;
    inner.SetHopLimit(header.GetHopLimit() - 1);
    Protect6(policy, flow, inner, packet, nullptr, true);
    return true;
}

} // namespace ns3
