#include "nat-routing.h"

#include "ipv4-packet-util.h"

#include "ns3/ipv4.h"
#include "ns3/log.h"

#include <vector>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("NatRouting");
NS_OBJECT_ENSURE_REGISTERED(NatRouting);

const char*
NatDropName(NatDrop reason)
{
    static const char* const names[] = {"NatNotUdpOrTcp", "NatNoMapping", "NatPortsExhausted"};
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(NatDrop::Count));
    return names[size_t(reason)];
}

TypeId
NatRouting::GetTypeId()
{
    static TypeId tid = TypeId("ns3::NatRouting")
                            .SetParent<Ipv4RoutingWrapper>()
                            .SetGroupName("Offloadlab")
                            .AddConstructor<NatRouting>()
                            .AddTraceSource("Drop",
                                            "A packet the NAT dropped, and why",
                                            MakeTraceSourceAccessor(&NatRouting::m_dropTrace),
                                            "ns3::NatRouting::DropTracedCallback");
    return tid;
}

void
NatRouting::Configure(Ptr<Ipv4RoutingProtocol> inner, uint32_t insideInterface, Ipv4Address outside)
{
    SetInner(inner);
    m_inside = insideInterface;
    m_outside = outside;
}

uint64_t
NatRouting::GetTranslated() const
{
    return m_translated;
}

uint64_t
NatRouting::GetDropCount(NatDrop reason) const
{
    return m_drops[size_t(reason)];
}

std::map<std::pair<uint32_t, uint16_t>, uint16_t>
NatRouting::GetMappings() const
{
    return m_udp.out;
}

std::map<std::pair<uint32_t, uint16_t>, uint16_t>
NatRouting::GetTcpMappings() const
{
    return m_tcp.out;
}

void
NatRouting::Drop(NatDrop reason, Ptr<const Packet> p)
{
    NS_LOG_LOGIC("NAT drops a packet: " << NatDropName(reason));
    ++m_drops[size_t(reason)];
    m_dropTrace(p, reason);
}

Ptr<Packet>
NatRouting::Rewrite(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ipv4Address src,
                    uint16_t sport,
                    Ipv4Address dst,
                    uint16_t dport)
{
    std::vector<uint8_t> l4(p->GetSize());
    p->CopyData(l4.data(), l4.size());
    l4[0] = uint8_t(sport >> 8);
    l4[1] = uint8_t(sport);
    l4[2] = uint8_t(dport >> 8);
    l4[3] = uint8_t(dport);
    const uint8_t protocol = header.GetProtocol();
    const size_t field = protocol == kIpProtoUdp ? 6 : 16; // the checksum's offset
    if (protocol == kIpProtoTcp || l4[field] != 0 || l4[field + 1] != 0)
    {
        l4[field] = l4[field + 1] = 0;
        const uint16_t sum = L4Checksum(src, dst, protocol, l4.data(), uint32_t(l4.size()));
        l4[field] = uint8_t(sum >> 8);
        l4[field + 1] = uint8_t(sum);
    }
    return Create<Packet>(l4.data(), l4.size());
}

bool
NatRouting::RouteInput(Ptr<const Packet> p,
                       const Ipv4Header& header,
                       Ptr<const NetDevice> idev,
                       UnicastForwardCallback ucb,
                       MulticastForwardCallback mcb,
                       LocalDeliverCallback lcb,
                       ErrorCallback ecb)
{
    const int32_t iif = GetIpv4()->GetInterfaceForDevice(idev);
    const bool fragment = header.GetFragmentOffset() != 0 || !header.IsLastFragment();
    uint8_t ports[4] = {};
    const uint8_t protocol = header.GetProtocol();
    const uint32_t minimum = protocol == kIpProtoTcp ? 20 : 8; // the header's fixed part
    const bool mappable = (protocol == kIpProtoUdp || protocol == kIpProtoTcp) && !fragment &&
                          p->GetSize() >= minimum && p->CopyData(ports, 4) == 4;
    Mappings& m = protocol == kIpProtoTcp ? m_tcp : m_udp;
    const uint16_t sport = uint16_t(ports[0] << 8 | ports[1]);
    const uint16_t dport = uint16_t(ports[2] << 8 | ports[3]);
    if (iif == int32_t(m_inside) && !GetIpv4()->IsDestinationAddress(header.GetDestination(), iif))
    {
        if (!mappable)
        {
            Drop(NatDrop::NotUdpOrTcp, p);
            return true;
        }
        const auto key = std::make_pair(header.GetSource().Get(), sport);
        auto it = m.out.find(key);
        if (it == m.out.end())
        {
            uint16_t port = sport;
            for (uint32_t next = 49152; m.in.count(port) && next <= 65535; ++next)
            {
                port = uint16_t(next);
            }
            if (m.in.count(port))
            {
                Drop(NatDrop::PortsExhausted, p);
                return true;
            }
            it = m.out.emplace(key, port).first;
            m.in[port] = key;
            NS_LOG_INFO("NAT maps " << (protocol == kIpProtoTcp ? "TCP " : "UDP ")
                                    << header.GetSource() << ":" << sport << " to " << m_outside
                                    << ":" << port);
        }
        Ipv4Header h = header;
        h.SetSource(m_outside);
        ++m_translated;
        return Ipv4RoutingWrapper::RouteInput(
            Rewrite(p, header, m_outside, it->second, header.GetDestination(), dport),
            h,
            idev,
            ucb,
            mcb,
            lcb,
            ecb);
    }
    if (iif != int32_t(m_inside) && header.GetDestination() == m_outside && mappable)
    {
        auto it = m.in.find(dport);
        if (it == m.in.end())
        {
            Drop(NatDrop::NoMapping, p);
            return true;
        }
        const Ipv4Address inside(it->second.first);
        Ipv4Header h = header;
        h.SetDestination(inside);
        ++m_translated;
        return Ipv4RoutingWrapper::RouteInput(
            Rewrite(p, header, header.GetSource(), sport, inside, it->second.second),
            h,
            idev,
            ucb,
            mcb,
            lcb,
            ecb);
    }
    return Ipv4RoutingWrapper::RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

} // namespace ns3
