// XfrmStack's output (Linux's xfrm_output and the forward path's xfrm_lookup): the SPD decides,
// ESP is built here (software), framed for the device (crypto offload), or left to the device
// (packet offload); and the PMTU errors of packet-offload devices go back to the sender.
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-stack.h"

#include "ns3/icmpv4-l4-protocol.h"
#include "ns3/icmpv4.h"
#include "ns3/ipv4-route.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmOutput");

Ptr<Ipv4Route>
XfrmStack::RouteTo(Ipv4Address src, Ipv4Address dst)
{
    Ipv4Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    Socket::SocketErrno err;
    return m_ipv4->GetRoutingProtocol()->RouteOutput(Create<Packet>(), h, nullptr, err);
}

void
XfrmStack::SendPlaintext(Ptr<Packet> packet,
                         Ipv4Address src,
                         Ipv4Address dst,
                         uint8_t protocol,
                         Ptr<Ipv4Route> route)
{
    auto it = m_l4DownTargets.find(protocol);
    if (it != m_l4DownTargets.end() && !it->second.IsNull())
    {
        it->second(packet, src, dst, protocol, route);
    }
    else
    {
        m_ipv4->Send(packet, src, dst, protocol, route);
    }
}

bool
XfrmStack::LeavesThroughPolicyDevice(const XfrmPolicy& policy, Ptr<Ipv4Route> route)
{
    return route && route->GetOutputDevice() == policy.GetOffload().dev;
}

void
XfrmStack::OutputFromL4(Ptr<Packet> packet,
                        Ipv4Address src,
                        Ipv4Address dst,
                        uint8_t protocol,
                        Ptr<Ipv4Route> route)
{
    // A TCP super-packet: segmented here or by the device, never fragmented by IPv4.
    const uint32_t gsoLinkMtu = GsoLinkMtu(packet, src, dst, protocol, &route);
    if (m_spd.GetN() == 0)
    {
        if (gsoLinkMtu != 0)
        {
            SoftwareGso(packet, src, dst, GsoSize(packet, gsoLinkMtu), route);
            return;
        }
        SendPlaintext(packet, src, dst, protocol, route); // no policy, no XFRM work
        return;
    }
    Ipv4Header inner =
        MakeIpv4Header(src, dst, protocol, packet->GetSize(), 64, m_identification++);
    Ptr<XfrmPolicy> policy = LookupPolicy(XfrmDir::Out, FlowOf(inner, packet));
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::OutPolBlock, packet);
        return;
    }
    if (policy && policy->RequiresIpsec() && policy->IsHardware() &&
        !LeavesThroughPolicyDevice(*policy, route ? route : RouteTo(src, dst)))
    {
        NS_LOG_LOGIC("a packet-offload policy's traffic to "
                     << dst << " would leave through another device");
        Drop(XfrmDrop::OutError, packet);
        return;
    }
    if (!policy || !policy->RequiresIpsec())
    {
        if (gsoLinkMtu != 0)
        {
            SoftwareGso(packet, src, dst, GsoSize(packet, gsoLinkMtu), route);
            return;
        }
        SendPlaintext(packet, src, dst, protocol, route);
        return;
    }
    if (gsoLinkMtu != 0)
    {
        OutputGso(policy, inner, packet, route);
        return;
    }
    // Packet offload: the plaintext leaves the stack once the core's checks pass; the device
    // encapsulates.
    if (policy->IsHardware())
    {
        if (PacketOffloadOk(policy, inner, packet))
        {
            SendPlaintext(packet, src, dst, protocol, route);
        }
        return;
    }
    Protect(policy, inner, packet, route);
}

bool
XfrmStack::PacketOffloadOk(Ptr<XfrmPolicy> policy,
                           const Ipv4Header& header,
                           Ptr<const Packet> payload)
{
    // xfrm_lookup resolves the template to a state (xfrm_state_find: the template's SPI when
    // set, else the best valid state); without one the packet cannot leave.
    Ptr<XfrmState> x = ResolveOutbound(policy, FlowOf(header, payload));
    if (!x)
    {
        NS_LOG_LOGIC("packet offload: no state for the policy's flow to "
                     << header.GetDestination());
        Drop(XfrmDrop::OutNoStates, payload);
        return false;
    }
    // xfrm_dev_offload_ok: skb->len <= xfrm_state_mtu(), no IPv4 options (which also covers
    // xfrm4_tunnel_check_size: the inner packet is what must fit), then the driver's check.
    const uint32_t length = header.GetSerializedSize() + payload->GetSize();
    const uint32_t linkMtu = x->GetOffload().dev->GetMtu();
    // esp_init_state counts the UDP header of ESP-in-UDP in header_len.
    const uint32_t encapHeader = x->GetConfig().encap.Enabled() ? 8 : 0;
    const uint32_t mtu =
        x->GetTransform().GetMtu(linkMtu - encapHeader, x->GetConfig().mode == XfrmMode::Tunnel);
    if (length > linkMtu)
    {
        // IPv4 fragments it after this hook, and fragments are the emulated NIC's to drop
        // (Linux fragments such a datagram before XFRM, to the same end).
        return true;
    }
    if (length > mtu)
    {
        NS_LOG_LOGIC("packet offload: " << length << " bytes exceed " << mtu << " after ESP");
        Drop(XfrmDrop::OutError, payload);
        // Linux's senders learn this MTU from the xfrm route before they send (dst_mtu,
        // ip_forward's ICMP, xfrm_local_error); ns-3 senders learn it here.
        Ptr<Packet> whole = payload->Copy();
        whole->AddHeader(header);
        OnMtuExceeded(whole, mtu);
        return false;
    }
    if (header.GetSerializedSize() != 20)
    {
        NS_LOG_LOGIC("packet offload: IPv4 options are never offloaded");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    if (!x->GetOffload().ops->OffloadOk(header, payload, x))
    {
        NS_LOG_LOGIC("packet offload: the device's offload_ok refused the packet");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    return true;
}

bool
XfrmStack::OutputRaw(Ptr<Packet> ipPacket)
{
    uint8_t first[60] = {};
    const uint32_t n = ipPacket->CopyData(first, sizeof(first));
    if (n > 0 && first[0] >> 4 == 6)
    {
        return OutputRaw6(ipPacket);
    }
    const uint32_t ihl = Ipv4HeaderLength(first, n);
    if (ihl == 0)
    {
        return false; // not an IPv4 packet: ip_local_out would refuse it too
    }
    Ptr<Packet> payload = ipPacket->Copy();
    Ipv4Header header;
    payload->RemoveHeader(header);
    const XfrmFlow flow = FlowOfBytes(first, n, ihl);
    Ptr<XfrmPolicy> policy = m_spd.GetN() == 0 ? nullptr : LookupPolicy(XfrmDir::Out, flow);
    Ptr<Ipv4Route> route = RouteTo(header.GetSource(), header.GetDestination());
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
            NS_LOG_LOGIC("a raw packet under a software policy is not protected here");
            Drop(XfrmDrop::OutError, payload);
            return false;
        }
        // Fragments are the NIC's business (the emulated NIC drops them); whole packets meet
        // the core's checks first.
        const bool fragment = (first[6] & 0x3f) != 0 || first[7] != 0;
        if (!LeavesThroughPolicyDevice(*policy, route))
        {
            Drop(XfrmDrop::OutError, payload);
            return false;
        }
        if (!fragment && !PacketOffloadOk(policy, header, payload))
        {
            return false;
        }
    }
    Ptr<NetDevice> dev = route->GetOutputDevice();
    return dev->Send(ipPacket, dev->GetBroadcast(), 0x0800);
}

bool
XfrmStack::OutputFromHost(Ptr<Packet> ipPacket)
{
    uint8_t first[60] = {};
    const uint32_t n = ipPacket->CopyData(first, sizeof(first));
    const uint32_t ihl = Ipv4HeaderLength(first, n);
    if (ihl == 0 || n < ihl)
    {
        NS_LOG_LOGIC("host packet: not an IPv4 packet");
        Drop(XfrmDrop::OutError, ipPacket);
        return false;
    }
    Ptr<Packet> payload = ipPacket->Copy();
    Ipv4Header header;
    if (Node::ChecksumEnabled())
    {
        header.EnableChecksum(); // a tunnel's inner header is written again: with its checksum
    }
    payload->RemoveHeader(header);
    const XfrmFlow flow = FlowOfBytes(first, n, ihl);
    Ptr<XfrmPolicy> policy = m_spd.GetN() == 0 ? nullptr : LookupPolicy(XfrmDir::Out, flow);
    Ptr<Ipv4Route> route = RouteTo(header.GetSource(), header.GetDestination());
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmDrop::OutPolBlock, payload);
        return false;
    }
    if (!policy || !policy->RequiresIpsec())
    {
        if (!route)
        {
            NS_LOG_LOGIC("host packet: no route to " << header.GetDestination());
            Drop(XfrmDrop::OutError, payload);
            return false;
        }
        return SendHostBytes(ipPacket, route);
    }
    const bool fragment = IsIpv4FragmentBytes(first);
    if (ihl != 20 && !policy->IsHardware())
    {
        // ns-3's Ipv4Header writes no options: ESP here would carry a corrupt inner header.
        NS_LOG_LOGIC("host packet: IPv4 options under a software policy are not modelled");
        Drop(XfrmDrop::OutError, payload);
        return false;
    }
    if (policy->IsHardware())
    {
        if (!LeavesThroughPolicyDevice(*policy, route))
        {
            NS_LOG_LOGIC("host packet: a packet-offload policy's traffic would leave elsewhere");
            Drop(XfrmDrop::OutError, payload);
            return false;
        }
        // Fragments are the NIC's business (the emulated NIC drops them).
        if (!fragment && !PacketOffloadOk(policy, header, payload))
        {
            return false;
        }
        return SendHostBytes(ipPacket, route);
    }
    Ptr<XfrmState> x = m_sad.FindOutbound(*policy, flow);
    if (x && header.IsDontFragment() && !fragment)
    {
        // A DF packet that cannot fit after ESP: Linux's sender would have sized it to the
        // xfrm route's MTU; the host learns that MTU from a fragmentation-needed error.
        Ptr<Ipv4Route> outer =
            x->GetConfig().mode == XfrmMode::Tunnel
                ? RouteTo(x->GetConfig().saddr.GetIpv4(), x->GetConfig().daddr.GetIpv4())
                : route;
        const uint32_t linkMtu = outer ? outer->GetOutputDevice()->GetMtu() : 0;
        const uint32_t encapHeader = x->GetConfig().encap.Enabled() ? 8 : 0;
        const uint32_t mtu =
            linkMtu == 0 ? 0
                         : x->GetTransform().GetMtu(linkMtu - encapHeader,
                                                    x->GetConfig().mode == XfrmMode::Tunnel);
        if (mtu != 0 && ipPacket->GetSize() > mtu)
        {
            NS_LOG_LOGIC("host packet: " << ipPacket->GetSize() << " bytes with DF exceed " << mtu
                                         << " after ESP");
            OnMtuExceeded(ipPacket, mtu);
            return false;
        }
    }
    return Protect(policy, header, payload, route);
}

bool
XfrmStack::SendHostBytes(Ptr<Packet> ipPacket, Ptr<Ipv4Route> route)
{
    // The host's bytes as they are (options, ID, checksum): ns-3's Ipv4Header would rewrite
    // them. Straight to the device, as a raw packet (the emulation's wire is point-to-point).
    Ptr<NetDevice> dev = route ? route->GetOutputDevice() : nullptr;
    if (!dev)
    {
        return false;
    }
    return dev->Send(ipPacket->Copy(), dev->GetBroadcast(), 0x0800);
}

void
XfrmStack::SetHostPmtuCallback(HostPmtuCallback cb)
{
    m_hostPmtu = cb;
}

bool
XfrmStack::Protect(Ptr<XfrmPolicy> policy,
                   const Ipv4Header& inner,
                   Ptr<const Packet> payload,
                   Ptr<Ipv4Route> route)
{
    uint64_t seq = 0;
    Ptr<XfrmState> x = OutputState(ResolveOutbound(policy, FlowOf(inner, payload)), payload, &seq);
    if (!x)
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
    const uint8_t nextHeader = tunnel ? kIpProtoIpip : inner.GetProtocol();
    // Linux xfrm_output_one counts skb->len once the outer mode pulled the IP header: the L4
    // segment in transport mode, the whole inner packet in tunnel mode.
    x->GetCurrent().Count(tunnel ? inner.GetSerializedSize() + payload->GetSize()
                                 : payload->GetSize(),
                          Simulator::Now());

    const XfrmAddress outerSrc = tunnel ? c.saddr : XfrmAddress(inner.GetSource());
    const XfrmAddress outerDst = tunnel ? c.daddr : XfrmAddress(inner.GetDestination());
    Ptr<Ipv4Route> outRoute;
    Ptr<NetDevice> outDev;
    if (outerDst.IsIpv6())
    {
        outDev = OuterDevice(outerSrc, outerDst); // IPv4-in-IPv6
    }
    else
    {
        outRoute = (tunnel || !route) ? RouteTo(outerSrc.GetIpv4(), outerDst.GetIpv4()) : route;
        outDev = outRoute ? outRoute->GetOutputDevice() : nullptr;
    }
    // Crypto offload: the core's checks (IPv4 options are refused too: the drivers' offload_ok
    // wants ihl 5), then the device's offload_ok.
    XfrmOffloadTxTag tag;
    const bool useDevice =
        CryptoOffloadFits(x, outDev, outerDst.IsIpv6() ? kIpv6HeaderLength : 20) &&
        inner.GetSerializedSize() == 20 && x->GetOffload().ops->OffloadOk(inner, payload, x);
    if (useDevice && !IsIpv4Fragment(inner) &&
        (x->GetOffload().ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP_TX_CSUM))
    {
        LeaveChecksumToDevice(inner.GetProtocol(),
                              inner.GetSource(),
                              inner.GetDestination(),
                              tunnel ? inner.GetSerializedSize() : 0,
                              x->GetTransform().GetIvLength(),
                              &tag);
    }
    SendEsp(x, seq, nextHeader, outerSrc, outerDst, outRoute, nullptr, useDevice ? &tag : nullptr);
    return true;
}

void
XfrmStack::LeaveChecksumToDevice(uint8_t proto,
                                 const XfrmAddress& src,
                                 const XfrmAddress& dst,
                                 uint32_t start,
                                 uint32_t ivLength,
                                 XfrmOffloadTxTag* tag)
{
    const uint16_t field = proto == kIpProtoTcp ? 16 : proto == kIpProtoUdp ? 6 : 0;
    if (field == 0 || m_payload.size() < start + field + 2)
    {
        return; // only whole TCP/UDP segments have a checksum the device can compute
    }
    // Like an skb in CHECKSUM_PARTIAL: the field is left for the device to fill.
    m_payload[start + field] = 0;
    m_payload[start + field + 1] = 0;
    tag->csumStart = EspTransform::kHeaderLength + ivLength + start;
    tag->csumLength = m_payload.size() - start;
    tag->csumField = field;
    tag->csumProto = proto;
    tag->csumSrc = src;
    tag->csumDst = dst;
    Count(XfrmEvent::CryptoOffloadTxCsum);
}

// ---- PMTU errors from packet-offload devices ----

void
XfrmStack::OnMtuExceeded(Ptr<const Packet> ipPacket, uint32_t mtu)
{
    // Raised from inside the device's Send: answer once the sender's call stack has unwound.
    Simulator::ScheduleNow([this, ipPacket, mtu]() {
        if (!m_ipv4)
        {
            return;
        }
        if (!m_hostPmtu.IsNull())
        {
            // Bump in the stack: every sender is the emulated host.
            Count(XfrmEvent::LocalPmtuErrors);
            m_hostPmtu(ipPacket, mtu);
            return;
        }
        uint8_t version = 0;
        ipPacket->CopyData(&version, 1);
        if ((version >> 4) != 4)
        {
            // An IPv6 packet a device found too big: IPv6 senders learn the MTU from the
            // Packet Too Big its source gets; here the device's drop stands.
            NS_LOG_LOGIC("PMTU error for a non-IPv4 packet; dropped without a reply");
            Count(XfrmEvent::LocalPmtuErrors);
            return;
        }
        Ptr<Packet> copy = ipPacket->Copy();
        Ipv4Header h;
        copy->RemoveHeader(h);
        Count(XfrmEvent::LocalPmtuErrors);
        if (m_ipv4->GetInterfaceForAddress(h.GetSource()) >= 0)
        {
            // Local sender: Linux's xfrm_local_error, straight to the socket.
            Ptr<IpL4Protocol> l4 = m_ipv4->GetProtocol(h.GetProtocol());
            if (l4)
            {
                uint8_t first8[8] = {};
                copy->CopyData(first8, std::min<uint32_t>(8, copy->GetSize()));
                l4->ReceiveIcmp(h.GetSource(),
                                64,
                                Icmpv4Header::ICMPV4_DEST_UNREACH,
                                Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED,
                                mtu,
                                h.GetSource(),
                                h.GetDestination(),
                                first8);
            }
            return;
        }
        if (Ptr<Icmpv4L4Protocol> icmp = m_node->GetObject<Icmpv4L4Protocol>())
        {
            icmp->SendDestUnreachFragNeeded(h, copy, mtu);
        }
    });
}

} // namespace ns3
