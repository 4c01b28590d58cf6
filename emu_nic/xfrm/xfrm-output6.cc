// XfrmStack's IPv6 output (Linux's xfrm6_output and the forward path of ip6_forward with an
// xfrm route): the SPD decides for locally generated and forwarded IPv6, and ESP is built in
// transport mode (after the IPv6 header: ns-3's L4 protocols send no extension headers) or in
// tunnel mode, to an IPv6 peer or, IPv6-in-IPv4, to an IPv4 one; by software, by a
// crypto-offload device (the stack frames ESP, the device seals it) or, for a packet-offload
// policy, by the device alone after the core's xfrm_dev_offload_ok checks.
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "xfrm-stack.h"

#include "ns3/icmpv6-l4-protocol.h"
#include "ns3/ipv6-route.h"
#include "ns3/ipv6-routing-protocol.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmOutput6");

namespace
{

/// Linux's ipv6_ext_hdr(), which xfrm_dev_offload_ok applies to the packet's first next header
/// (net/xfrm/xfrm_device.c: "Check for IPv6 extensions"): no device, in either offload type, is
/// handed an IPv6 packet with extension headers (the Fragment header included) or with No Next
/// Header. Crypto offload falls back to software ESP; packet offload drops the packet.
bool
OffloadRefusesNextHeader(uint8_t nextHeader)
{
    return IsIpv6ExtensionHeader(nextHeader) || nextHeader == kIpProtoNoNext;
}

} // namespace

Ptr<Ipv6Route>
XfrmStack::RouteTo6(Ipv6Address src, Ipv6Address dst)
{
    Ipv6Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    Socket::SocketErrno err;
    return m_ipv6->GetRoutingProtocol()->RouteOutput(Create<Packet>(), h, nullptr, err);
}

Ptr<XfrmState>
XfrmStack::OutputState(Ptr<XfrmState> x, Ptr<const Packet> payload, uint64_t* seq)
{
    if (!x)
    {
        NS_LOG_LOGIC("no state for the policy's flow");
        Drop(XfrmDrop::OutNoStates, payload);
        return nullptr;
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmDrop::OutStateExpired, payload);
        return nullptr;
    }
    if (!x->NextSeq(seq))
    {
        ++x->GetStats().seqOverflow;
        Drop(XfrmDrop::OutStateSeqError, payload);
        return nullptr;
    }
    return x;
}

void
XfrmStack::SendOuter(Ptr<Packet> esp,
                     const XfrmAddress& src,
                     const XfrmAddress& dst,
                     uint8_t protocol,
                     Ptr<Ipv4Route> route4,
                     Ptr<Ipv6Route> route6)
{
    if (dst.IsIpv6())
    {
        m_ipv6->Send(esp,
                     src.GetIpv6(),
                     dst.GetIpv6(),
                     protocol,
                     route6 ? route6 : RouteTo6(src.GetIpv6(), dst.GetIpv6()));
        return;
    }
    m_ipv4->Send(esp,
                 src.GetIpv4(),
                 dst.GetIpv4(),
                 protocol,
                 route4 ? route4 : RouteTo(src.GetIpv4(), dst.GetIpv4()));
}

Ptr<NetDevice>
XfrmStack::OuterDevice(const XfrmAddress& src, const XfrmAddress& dst)
{
    if (dst.IsIpv6())
    {
        Ptr<Ipv6Route> route = RouteTo6(src.GetIpv6(), dst.GetIpv6());
        return route ? route->GetOutputDevice() : nullptr;
    }
    Ptr<Ipv4Route> route = RouteTo(src.GetIpv4(), dst.GetIpv4());
    return route ? route->GetOutputDevice() : nullptr;
}

void
XfrmStack::OutputFromL4v6(Ptr<Packet> packet,
                          Ipv6Address src,
                          Ipv6Address dst,
                          uint8_t protocol,
                          Ptr<Ipv6Route> route)
{
    auto plaintext = [&]() {
        auto it = m_l4DownTargets6.find(protocol);
        if (it != m_l4DownTargets6.end() && !it->second.IsNull())
        {
            it->second(packet, src, dst, protocol, route);
        }
        else
        {
            m_ipv6->Send(packet, src, dst, protocol, route);
        }
    };
    if (m_spd.GetN() == 0)
    {
        plaintext(); // no policy, no XFRM work
        return;
    }
    Ipv6Header inner;
    inner.SetSource(src);
    inner.SetDestination(dst);
    inner.SetNextHeader(protocol);
    inner.SetPayloadLength(uint16_t(packet->GetSize()));
    inner.SetHopLimit(64);
    const XfrmFlow flow = FlowOfIpv6(inner, packet);
    Ptr<XfrmPolicy> policy = LookupPolicy(XfrmDir::Out, flow);
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::OutPolBlock, packet);
        return;
    }
    if (!policy || !policy->RequiresIpsec())
    {
        plaintext();
        return;
    }
    if (policy->IsHardware())
    {
        if (PacketOffloadOk6(policy, flow, inner, packet, route))
        {
            plaintext(); // the device encapsulates
        }
        return;
    }
    Protect6(policy, flow, inner, packet, route, false);
}

bool
XfrmStack::OutputRaw6(Ptr<Packet> ipPacket)
{
    if (!m_ipv6 || ipPacket->GetSize() < kIpv6HeaderLength)
    {
        return false; // no IPv6 here, or not a packet: rawv6_send_hdrinc refuses it too
    }
    Ptr<Packet> payload = ipPacket->Copy();
    Ipv6Header header;
    payload->RemoveHeader(header);
    const XfrmFlow flow = FlowOfIpv6(header, payload);
    Ptr<XfrmPolicy> policy = m_spd.GetN() == 0 ? nullptr : LookupPolicy(XfrmDir::Out, flow);
    Ptr<Ipv6Route> route = RouteTo6(header.GetSource(), header.GetDestination());
    if (!route)
    {
        return false;
    }
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::OutPolBlock, payload);
        return false;
    }
    if (policy && policy->RequiresIpsec())
    {
        if (!policy->IsHardware())
        {
            NS_LOG_LOGIC("a raw IPv6 packet under a software policy is not protected here");
            Drop(XfrmDrop::OutError, payload);
            return false;
        }
        // Unlike IPv4, a fragment meets the core's checks too: its Fragment header is an
        // extension header, which xfrm_dev_offload_ok refuses before any device sees it.
        if (!PacketOffloadOk6(policy, flow, header, payload, route))
        {
            return false;
        }
    }
    Ptr<NetDevice> dev = route->GetOutputDevice();
    return dev->Send(ipPacket, dev->GetBroadcast(), kEtherTypeIpv6);
}

void
XfrmStack::SendTooBig6(const Ipv6Header& header, Ptr<const Packet> payload, uint32_t mtu)
{
    Count(XfrmEvent::LocalPmtuErrors);
    if (Ptr<Icmpv6L4Protocol> icmp = m_node->GetObject<Icmpv6L4Protocol>())
    {
        Ptr<Packet> whole = payload->Copy();
        whole->AddHeader(header);
        icmp->SendErrorTooBig(whole, header.GetSource(), mtu);
    }
}

bool
XfrmStack::PacketOffloadOk6(Ptr<XfrmPolicy> policy,
                            const XfrmFlow& flow,
                            const Ipv6Header& header,
                            Ptr<const Packet> payload,
                            Ptr<Ipv6Route> route)
{
    // xfrm_output's packet-offload branch for IPv6: the route must leave through the policy's
    // device (validate_xmit_xfrm), a state must serve the policy (xfrm_state_find), and
    // xfrm_dev_offload_ok must accept the packet: it fits, has no extension headers, and the
    // device's offload_ok agrees.
    if (!route)
    {
        route = RouteTo6(header.GetSource(), header.GetDestination());
    }
    if (!route || route->GetOutputDevice() != policy->GetOffload().dev)
    {
        NS_LOG_LOGIC("an IPv6 packet-offload policy's traffic would leave another device");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    Ptr<XfrmState> x = ResolveOutbound(policy, flow);
    if (!x)
    {
        Drop(XfrmDrop::OutNoStates, payload);
        return false;
    }
    // xfrm_dev_offload_ok: the packet must fit xfrm_state_mtu; its sender learns the MTU
    // after ESP from a Packet Too Big.
    const uint32_t length = kIpv6HeaderLength + payload->GetSize();
    const uint32_t linkMtu = x->GetOffload().dev->GetMtu();
    const uint32_t mtu = Ipv6StateMtu(x, linkMtu);
    if (length > mtu && length <= linkMtu)
    {
        NS_LOG_LOGIC("packet offload: " << length << " bytes exceed " << mtu << " after ESP");
        Drop(XfrmDrop::OutError, payload);
        SendTooBig6(header, payload, mtu);
        return false;
    }
    if (OffloadRefusesNextHeader(header.GetNextHeader()))
    {
        NS_LOG_LOGIC("packet offload: IPv6 extension headers are never offloaded (next header "
                     << unsigned(header.GetNextHeader()) << ")");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    if (!x->GetOffload().ops->OffloadOk(header, payload, x))
    {
        NS_LOG_LOGIC("packet offload: the device's offload_ok refused the IPv6 packet");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    return true;
}

bool
XfrmStack::Protect6(Ptr<XfrmPolicy> policy,
                    const XfrmFlow& flow,
                    const Ipv6Header& inner,
                    Ptr<const Packet> payload,
                    Ptr<Ipv6Route> route,
                    bool forwarded)
{
    Ptr<XfrmState> x = ResolveOutbound(policy, flow);
    if (forwarded && x)
    {
        // ip6_forward checks the packet against the xfrm route's MTU before XFRM sees it:
        // routers never fragment IPv6, the sender learns the MTU after ESP.
        const uint32_t length = kIpv6HeaderLength + payload->GetSize();
        Ptr<NetDevice> dev = OuterDevice(x->GetConfig().saddr, x->GetConfig().daddr);
        const uint32_t linkMtu = dev ? dev->GetMtu() : 0;
        const uint32_t mtu = Ipv6StateMtu(x, linkMtu);
        if (linkMtu != 0 && length > mtu)
        {
            NS_LOG_LOGIC("forwarded IPv6 packet of " << length << " bytes exceeds " << mtu
                                                     << " after ESP: Packet Too Big");
            SendTooBig6(inner, payload, mtu);
            return false;
        }
    }
    uint64_t seq = 0;
    if (!OutputState(x, payload, &seq))
    {
        return false;
    }
    const XfrmStateConfig& c = x->GetConfig();
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    if (tunnel)
    {
        Ptr<Packet> whole = payload->Copy();
        whole->AddHeader(inner);
        CopyPacketBytes(whole, m_payload);
    }
    else
    {
        CopyPacketBytes(payload, m_payload);
    }
    // xfrm_output_one counts skb->len past the outer header: the payload after the IPv6 header
    // in transport mode, the whole inner packet in tunnel mode.
    x->GetCurrent().Count(m_payload.size(), Simulator::Now());
    const XfrmAddress src = tunnel ? c.saddr : XfrmAddress(inner.GetSource());
    const XfrmAddress dst = tunnel ? c.daddr : XfrmAddress(inner.GetDestination());
    if (!tunnel && !route)
    {
        route = RouteTo6(inner.GetSource(), inner.GetDestination());
    }
    Ptr<NetDevice> outDev = tunnel  ? OuterDevice(src, dst)
                            : route ? route->GetOutputDevice()
                                    : nullptr;
    // Crypto offload: the core's checks (a forwarded packet with extension headers stays in
    // software), then the device's offload_ok (which sees the packet as it is before ESP: the
    // inner IPv6 header).
    XfrmOffloadTxTag tag;
    const bool useDevice = CryptoOffloadFits(x, outDev, dst.IsIpv6() ? kIpv6HeaderLength : 20) &&
                           !OffloadRefusesNextHeader(inner.GetNextHeader()) &&
                           x->GetOffload().ops->OffloadOk(inner, payload, x);
    if (useDevice && (x->GetOffload().ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP_TX_CSUM))
    {
        // As for IPv4, forwarded segments too (a gateway's GRO hands them on CHECKSUM_PARTIAL).
        LeaveChecksumToDevice(inner.GetNextHeader(),
                              inner.GetSource(),
                              inner.GetDestination(),
                              tunnel ? kIpv6HeaderLength : 0,
                              x->GetTransform().GetIvLength(),
                              &tag);
    }
    SendEsp(x,
            seq,
            tunnel ? kIpProtoIpv6 : inner.GetNextHeader(),
            src,
            dst,
            nullptr,
            tunnel ? nullptr : route,
            useDevice ? &tag : nullptr);
    return true;
}

uint32_t
XfrmStack::Ipv6StateMtu(Ptr<XfrmState> x, uint32_t linkMtu) const
{
    // The IPv6 minimum MTU (RFC 8200 §5) is the floor: Linux never reports less.
    return std::max<uint32_t>(
        1280,
        x->GetTransform().GetMtu(linkMtu,
                                 x->GetConfig().mode == XfrmMode::Tunnel,
                                 x->GetConfig().daddr.IsIpv6() ? kIpv6HeaderLength : 20));
}

bool
XfrmStack::CryptoOffloadFits(Ptr<XfrmState> x, Ptr<NetDevice> dev, uint32_t outerHeaderLength)
{
    // xfrm_dev_offload_ok: the state's device is the route's, and the packet fits the MTU the
    // state leaves (skb->len <= xfrm_state_mtu, the same as the ESP packet fitting the link).
    return x->IsOffloaded(XfrmOffloadType::Crypto) && dev && dev == x->GetOffload().dev &&
           outerHeaderLength + x->GetTransform().GetFrameLength(m_payload.size()) <= dev->GetMtu();
}

Ptr<Packet>
XfrmStack::FrameForDevice(Ptr<XfrmState> x, uint64_t seq, uint8_t nextHeader, XfrmOffloadTxTag& tag)
{
    const XfrmStateConfig& c = x->GetConfig();
    tag.handle = x->GetOffload().handle;
    tag.seqHi = uint32_t(seq >> 32);
    x->GetTransform()
        .BuildFrame(c.spi, uint32_t(seq), m_payload.data(), m_payload.size(), nextHeader, m_frame);
    Ptr<Packet> esp = Create<Packet>(m_frame.data(), m_frame.size());
    esp->AddPacketTag(tag);
    Count(XfrmEvent::CryptoOffloadTxPackets);
    if (c.esn && uint32_t(seq) == 0)
    {
        x->GetOffload().ops->StateAdvanceEsn(x); // TX crossed into new high-order bits
    }
    return esp;
}

Ptr<Packet>
XfrmStack::BuildEsp(Ptr<XfrmState> x, uint64_t seq, uint8_t nextHeader, XfrmOffloadTxTag* tag)
{
    if (tag)
    {
        return FrameForDevice(x, seq, nextHeader, *tag);
    }
    const XfrmStateConfig& c = x->GetConfig();
    x->GetTransform()
        .Encapsulate(c.spi, seq, c.esn, m_payload.data(), m_payload.size(), nextHeader, m_frame);
    return Create<Packet>(m_frame.data(), m_frame.size());
}

void
XfrmStack::SendEsp(Ptr<XfrmState> x,
                   uint64_t seq,
                   uint8_t nextHeader,
                   const XfrmAddress& src,
                   const XfrmAddress& dst,
                   Ptr<Ipv4Route> route4,
                   Ptr<Ipv6Route> route6,
                   XfrmOffloadTxTag* tag)
{
    Ptr<Packet> esp = BuildEsp(x, seq, nextHeader, tag);
    const XfrmEncap& encap = x->GetConfig().encap;
    if (!encap.Enabled())
    {
        SendOuter(esp, src, dst, kIpProtoEsp, route4, route6);
        return;
    }
    // RFC 3948: a UDP header before ESP, whatever the inner family. Software ESP only (crypto
    // offload refuses encapsulated SAs), so there is no tag to keep.
    uint8_t udp[8];
    WriteEspInUdpHeader(udp, encap.sport, encap.dport, 8 + esp->GetSize());
    Ptr<Packet> datagram = Create<Packet>(udp, sizeof(udp));
    datagram->AddAtEnd(esp);
    Count(XfrmEvent::UdpEncapTxPackets);
    SendOuter(datagram, src, dst, kIpProtoUdp, route4, route6);
}

} // namespace ns3
