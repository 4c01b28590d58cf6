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
    static const char* const names[] = {"NatNotUdp", "NatNoMapping", "NatPortsExhausted"};
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
    return m_out;
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
    std::vector<uint8_t> udp(p->GetSize());
    p->CopyData(udp.data(), udp.size());
    udp[0] = uint8_t(sport >> 8);
    udp[1] = uint8_t(sport);
    udp[2] = uint8_t(dport >> 8);
    udp[3] = uint8_t(dport);
    if (udp[6] != 0 || udp[7] != 0)
    {
        udp[6] = udp[7] = 0;
        const uint16_t sum = L4Checksum(src, dst, kIpProtoUdp, udp.data(), uint32_t(udp.size()));
        udp[6] = uint8_t(sum >> 8);
        udp[7] = uint8_t(sum);
    }
    return Create<Packet>(udp.data(), udp.size());
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
    const bool udp = header.GetProtocol() == kIpProtoUdp && !fragment && p->GetSize() >= 8 &&
                     p->CopyData(ports, 4) == 4;
    const uint16_t sport = uint16_t(ports[0] << 8 | ports[1]);
    const uint16_t dport = uint16_t(ports[2] << 8 | ports[3]);
    if (iif == int32_t(m_inside) && !GetIpv4()->IsDestinationAddress(header.GetDestination(), iif))
    {
        if (!udp)
        {
            Drop(NatDrop::NotUdp, p);
            return true;
        }
        const auto key = std::make_pair(header.GetSource().Get(), sport);
        auto it = m_out.find(key);
        if (it == m_out.end())
        {
            uint16_t port = sport;
            for (uint32_t next = 49152; m_in.count(port) && next <= 65535; ++next)
            {
                port = uint16_t(next);
            }
            if (m_in.count(port))
            {
                Drop(NatDrop::PortsExhausted, p);
                return true;
            }
            it = m_out.emplace(key, port).first;
            m_in[port] = key;
            NS_LOG_INFO("NAT maps " << header.GetSource() << ":" << sport << " to " << m_outside
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
    if (iif != int32_t(m_inside) && header.GetDestination() == m_outside && udp)
    {
        auto it = m_in.find(dport);
        if (it == m_in.end())
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
