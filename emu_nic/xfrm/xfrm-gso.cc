// XfrmStack's segmentation of TCP super-packets (GSO), Linux's split: software GSO
// (skb_gso_segment before xfrm_output: tcp_gso_segment, then ESP per segment, as
// xfrm_output_gso does) or, for a device with NETIF_F_GSO_ESP, one ESP frame for the whole
// super-packet that the device segments (esp_xmit for a GSO skb, validate_xmit_xfrm).
#include "ipv4-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-stack.h"

#include "ns3/ipv4-route.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmGso");

uint32_t
XfrmStack::GsoLinkMtu(Ptr<const Packet> packet,
                      Ipv4Address src,
                      Ipv4Address dst,
                      uint8_t protocol,
                      Ptr<Ipv4Route>* route)
{
    // A TCP segment larger than its route's MTU is what a Linux stack hands down as a GSO skb;
    // ns-3's IPv4 would fragment it, which Linux never does to TCP.
    if (protocol != kIpProtoTcp)
    {
        return 0;
    }
    if (!*route)
    {
        *route = RouteTo(src, dst);
    }
    if (!*route || !(*route)->GetOutputDevice())
    {
        return 0;
    }
    const uint32_t linkMtu = (*route)->GetOutputDevice()->GetMtu();
    return 20 + packet->GetSize() > linkMtu ? linkMtu : 0;
}

void
XfrmStack::SoftwareGso(Ptr<Packet> packet,
                       Ipv4Address src,
                       Ipv4Address dst,
                       uint32_t mss,
                       Ptr<Ipv4Route> route)
{
    // tcp_gso_segment: every segment a TCP segment of its own (sequence number, flags,
    // checksum); each then takes the path any packet of its size takes (xfrm_output_gso).
    if (mss == 0)
    {
        NS_LOG_LOGIC("GSO: not a TCP segment that can be cut; dropped");
        Drop(XfrmDrop::OutError, packet);
        return;
    }
    CopyPacketBytes(packet, m_gsoBytes);
    const uint8_t* tcp = m_gsoBytes.data();
    const uint32_t length = m_gsoBytes.size();
    const uint32_t segments = TcpGsoSegmentCount(tcp, length, mss);
    SocketIpTtlTag ttl;
    const bool hasTtl = packet->PeekPacketTag(ttl);
    SocketIpTosTag tos;
    const bool hasTos = packet->PeekPacketTag(tos);
    SocketPriorityTag priority;
    const bool hasPriority = packet->PeekPacketTag(priority);
    std::vector<Ptr<Packet>> all;
    std::vector<uint8_t> segment;
    for (uint32_t n = 0; n < segments; ++n)
    {
        segment.clear();
        if (WriteTcpGsoSegment(tcp, length, mss, n, src, dst, segment) == 0)
        {
            break;
        }
        Ptr<Packet> p = Create<Packet>(segment.data(), segment.size());
        if (hasTtl)
        {
            p->AddPacketTag(ttl);
        }
        if (hasTos)
        {
            p->AddPacketTag(tos);
        }
        if (hasPriority)
        {
            p->AddPacketTag(priority);
        }
        all.push_back(p);
    }
    NS_LOG_LOGIC("software GSO: " << length << "-byte TCP segment to " << dst << " in "
                                  << all.size() << " segments of " << mss);
    m_events[size_t(XfrmEvent::GsoSoftwareSegments)] += all.size();
    for (const Ptr<Packet>& p : all)
    {
        OutputFromL4(p, src, dst, kIpProtoTcp, route);
    }
}

uint32_t
XfrmStack::GsoSize(Ptr<const Packet> tcp, uint32_t ipMtu) const
{
    uint8_t header[60] = {};
    const uint32_t n = tcp->CopyData(header, sizeof(header));
    const uint32_t tcpHeader = TcpHeaderLength(header, n);
    // The MSS the path allows (Linux's tcp_mss_to_mtu the other way round): the IPv4 packet
    // ipMtu long, its 20-byte header and the TCP header with options taken off.
    return tcpHeader != 0 && ipMtu > 20 + tcpHeader ? ipMtu - 20 - tcpHeader : 0;
}

bool
XfrmStack::SendWhole(Ptr<Packet> payload, Ipv4Header header, Ptr<Ipv4Route> route)
{
    // Straight to the interface (as Linux's GSO skb reaches the qdisc whole): ns-3's IPv4 would
    // fragment anything over the MTU.
    Ptr<NetDevice> dev = route ? route->GetOutputDevice() : nullptr;
    const int32_t index = dev ? m_ipv4->GetInterfaceForDevice(dev) : -1;
    if (index < 0)
    {
        return false;
    }
    if (Node::ChecksumEnabled())
    {
        header.EnableChecksum();
    }
    const Ipv4Address gateway = route->GetGateway();
    const Ipv4Address next = gateway == Ipv4Address::GetAny() ? header.GetDestination() : gateway;
    m_ipv4->GetInterface(index)->Send(payload, header, next);
    return true;
}

void
XfrmStack::OutputGso(Ptr<XfrmPolicy> policy,
                     const Ipv4Header& inner,
                     Ptr<Packet> packet,
                     Ptr<Ipv4Route> route)
{
    Ptr<XfrmState> x = ResolveOutbound(policy, FlowOf(inner, packet));
    if (!x)
    {
        NS_LOG_LOGIC("GSO: no state for the policy's flow to " << inner.GetDestination());
        Drop(XfrmDrop::OutNoStates, packet);
        return;
    }
    const XfrmStateConfig& c = x->GetConfig();
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    const Ipv4Address src = inner.GetSource();
    const Ipv4Address dst = inner.GetDestination();
    Ptr<Ipv4Route> outRoute = tunnel ? RouteTo(c.saddr.GetIpv4(), c.daddr.GetIpv4()) : route;
    Ptr<NetDevice> outDev = x->IsOffloaded(XfrmOffloadType::Packet) ? x->GetOffload().dev
                            : outRoute                              ? outRoute->GetOutputDevice()
                                                                    : nullptr;
    if (!outDev)
    {
        NS_LOG_LOGIC("GSO: no route to the SA's destination " << c.daddr);
        Drop(XfrmDrop::OutError, packet);
        return;
    }
    // The TCP MSS of the xfrm route: what fits xfrm_state_mtu.
    const uint32_t encapHeader = c.encap.Enabled() ? 8 : 0;
    const uint32_t mss =
        GsoSize(packet, x->GetTransform().GetMtu(outDev->GetMtu() - encapHeader, tunnel));
    if (mss == 0)
    {
        NS_LOG_LOGIC("GSO: no TCP payload fits the MTU after ESP");
        Drop(XfrmDrop::OutError, packet);
        return;
    }
    uint8_t first[60] = {};
    const uint32_t tcpHeader = TcpHeaderLength(first, packet->CopyData(first, sizeof(first)));
    const uint32_t tcpPayload = tcpHeader != 0 ? packet->GetSize() - tcpHeader : 0;
    const uint32_t segs = tcpPayload == 0 ? 1 : (tcpPayload + mss - 1) / mss;
    XfrmDevOps* ops = x->GetOffload().ops;
    const bool gsoDevice =
        ops && (ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_GSO_ESP) && outDev == x->GetOffload().dev;
    // The device segments transport-mode super-packets of 20-byte headers whose ESP frame fits
    // one IPv4 packet; anything else is segmented here first.
    const bool whole =
        gsoDevice && !tunnel && !c.encap.Enabled() && inner.GetSerializedSize() == 20 &&
        20 + EspTransform::kHeaderLength + x->GetTransform().GetIvLength() + packet->GetSize() <=
            65535;
    if (policy->IsHardware())
    {
        if (whole && ops->OffloadOk(inner, packet, x))
        {
            // Packet offload: the plaintext super-packet, and how to cut it.
            XfrmOffloadTxTag tag;
            tag.gsoSize = mss;
            tag.gsoSegs = segs;
            packet->AddPacketTag(tag);
            Count(XfrmEvent::GsoOffloadTxPackets);
            if (!SendWhole(packet, inner, route))
            {
                NS_LOG_LOGIC("GSO: no interface for the route to " << dst);
                Drop(XfrmDrop::OutError, packet);
            }
            return;
        }
        SoftwareGso(packet, src, dst, mss, route);
        return;
    }
    if (!whole || !x->IsOffloaded(XfrmOffloadType::Crypto) ||
        !CryptoOffloadGso(x, inner, packet, outRoute, mss, segs))
    {
        SoftwareGso(packet, src, dst, mss, route);
    }
}

bool
XfrmStack::CryptoOffloadGso(Ptr<XfrmState> x,
                            const Ipv4Header& inner,
                            Ptr<Packet> packet,
                            Ptr<Ipv4Route> route,
                            uint32_t mss,
                            uint32_t segs)
{
    const XfrmStateConfig& c = x->GetConfig();
    const uint64_t first = x->GetLastSeq() + 1;
    // xmit_xfrm_check_overflow: with ESN, a burst whose low 32 bits would wrap is segmented in
    // software, so that each segment's ICV has its own high bits.
    if (c.esn && uint64_t(uint32_t(first)) + segs > 0xffffffffull)
    {
        return false;
    }
    if (!x->GetOffload().ops->OffloadOk(inner, packet, x))
    {
        return false; // the device refuses: every segment on its own
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmDrop::OutStateExpired, packet);
        return true;
    }
    // xfrm_replay_overflow_offload: gso_segs numbers at once, or none (without ESN the whole
    // super-packet is refused when its last segment's would pass 2^32 - 1).
    const uint64_t limit = c.esn ? kXfrmInfinity : 0xffffffffull;
    if (x->GetLastSeq() > limit - segs)
    {
        ++x->GetStats().seqOverflow;
        Drop(XfrmDrop::OutStateSeqError, packet);
        return true;
    }
    x->SetLastSeq(x->GetLastSeq() + segs);
    // xfrm_output_one counts the GSO skb once: its length, one packet.
    x->GetCurrent().Count(packet->GetSize(), Simulator::Now());

    // esp_xmit for a GSO skb on a GSO_ESP device: SPI, the first sequence number, room for the
    // IV, the TCP segment; no trailer (esp_output_head is skipped).
    const uint32_t ivLength = x->GetTransform().GetIvLength();
    CopyPacketBytes(packet, m_gsoBytes);
    m_frame.assign(EspTransform::kHeaderLength + ivLength, 0);
    const uint32_t spi = c.spi;
    const uint32_t low = uint32_t(first);
    const uint8_t head[8] = {uint8_t(spi >> 24),
                             uint8_t(spi >> 16),
                             uint8_t(spi >> 8),
                             uint8_t(spi),
                             uint8_t(low >> 24),
                             uint8_t(low >> 16),
                             uint8_t(low >> 8),
                             uint8_t(low)};
    std::copy(head, head + 8, m_frame.begin());
    m_frame.insert(m_frame.end(), m_gsoBytes.begin(), m_gsoBytes.end());
    Ptr<Packet> esp = Create<Packet>(m_frame.data(), m_frame.size());
    XfrmOffloadTxTag tag;
    tag.handle = x->GetOffload().handle;
    tag.seqHi = uint32_t(first >> 32);
    tag.gsoSize = mss;
    tag.gsoSegs = segs;
    esp->AddPacketTag(tag);
    if (c.esn && low == 0)
    {
        x->GetOffload().ops->StateAdvanceEsn(x); // TX crossed into new high-order bits
    }
    Count(XfrmEvent::CryptoOffloadTxPackets);
    Count(XfrmEvent::GsoOffloadTxPackets);
    NS_LOG_LOGIC("GSO: one ESP frame, seq " << first << ".." << first + segs - 1 << " for " << segs
                                            << " segments of " << mss);
    const Ipv4Header outer = MakeIpv4Header(inner.GetSource(),
                                            inner.GetDestination(),
                                            kIpProtoEsp,
                                            uint16_t(m_frame.size()),
                                            64,
                                            m_identification++);
    if (!SendWhole(esp, outer, route))
    {
        NS_LOG_LOGIC("GSO: no interface for the route to " << inner.GetDestination());
        Drop(XfrmDrop::OutError, esp);
    }
    return true;
}

} // namespace ns3
