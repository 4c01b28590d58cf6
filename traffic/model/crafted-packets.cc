#include "crafted-packets.h"

#include "esp-transform.h"

#include "ns3/ipv4-header.h"
#include "ns3/simulator.h"
#include "ns3/udp-header.h"

#include <algorithm>

namespace ns3
{

Bytes
PacketBytes(Ptr<const Packet> p)
{
    Bytes b(p->GetSize());
    if (!b.empty())
    {
        p->CopyData(b.data(), b.size());
    }
    return b;
}

Bytes
UdpDatagramBytes(Ipv4Address src,
                 Ipv4Address dst,
                 uint16_t sport,
                 uint16_t dport,
                 const Bytes& data)
{
    Ptr<Packet> p = data.empty() ? Create<Packet>() : Create<Packet>(data.data(), data.size());
    UdpHeader udp;
    udp.SetSourcePort(sport);
    udp.SetDestinationPort(dport);
    udp.EnableChecksums();
    udp.InitializeChecksum(src, dst, kProtoUdp);
    p->AddHeader(udp);
    return PacketBytes(p);
}

Ptr<Packet>
Ipv4PacketOf(Ipv4Address src,
             Ipv4Address dst,
             uint8_t protocol,
             const Bytes& payload,
             uint16_t identification,
             bool moreFragments,
             uint16_t fragmentOffsetBytes)
{
    Ptr<Packet> p =
        payload.empty() ? Create<Packet>() : Create<Packet>(payload.data(), payload.size());
    Ipv4Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    h.SetProtocol(protocol);
    h.SetPayloadSize(payload.size());
    h.SetTtl(64);
    h.SetIdentification(identification);
    if (moreFragments)
    {
        h.SetMoreFragments();
    }
    else
    {
        h.SetLastFragment();
    }
    h.SetFragmentOffset(fragmentOffsetBytes);
    h.EnableChecksum();
    p->AddHeader(h);
    return p;
}

Bytes
Ipv4Bytes(Ipv4Address src, Ipv4Address dst, uint8_t protocol, const Bytes& payload)
{
    return PacketBytes(Ipv4PacketOf(src, dst, protocol, payload));
}

Bytes
SealEspFrame(const EspAlgorithm& algorithm,
             uint32_t spi,
             uint64_t seq,
             bool esn,
             const Bytes& payload,
             uint8_t nextHeader)
{
    std::string error;
    auto transform = EspTransform::Create(algorithm, &error);
    Bytes frame;
    if (transform)
    {
        transform->Encapsulate(spi, seq, esn, payload.data(), payload.size(), nextHeader, frame);
    }
    return frame;
}

void
InjectFrom(Ptr<NetDevice> dev, Ptr<NetDevice> peer, Ptr<Packet> ipPacket)
{
    uint8_t version = 0;
    ipPacket->CopyData(&version, 1);
    dev->Send(ipPacket, peer->GetAddress(), version >> 4 == 6 ? 0x86DD : kEtherTypeIpv4Value);
}

void
ScheduleInject(Time at, Ptr<NetDevice> dev, Ptr<NetDevice> peer, const Bytes& ip)
{
    Simulator::Schedule(at, [dev, peer, ip]() {
        InjectFrom(dev, peer, Create<Packet>(ip.data(), ip.size()));
    });
}

Bytes
WithoutUdpEncap(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    if (IpProtocol(ip) != kProtoUdp || ip.size() < ihl + 8 || ihl < 20)
    {
        return ip;
    }
    return Ipv4Bytes(Ipv4Address(ReadBe32(ip.data() + 12)),
                     Ipv4Address(ReadBe32(ip.data() + 16)),
                     kProtoEsp,
                     Bytes(ip.begin() + ihl + 8, ip.end()));
}

uint32_t
IpHeaderLength(const Bytes& ip)
{
    return ip.empty() ? 0 : uint32_t(ip[0] & 0x0f) * 4;
}

uint8_t
IpProtocol(const Bytes& ip)
{
    return ip.size() > 9 ? ip[9] : 0;
}

uint32_t
EspSpiOf(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    return ip.size() >= ihl + 8 ? ReadBe32(ip.data() + ihl) : 0;
}

uint32_t
EspSeqOf(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    return ip.size() >= ihl + 8 ? ReadBe32(ip.data() + ihl + 4) : 0;
}

bool
IsFragment(const Bytes& ip)
{
    return ip.size() >= 8 && ((ip[6] & 0x20) != 0 || ((ip[6] & 0x1f) | ip[7]) != 0);
}

bool
Contains(const Bytes& haystack, const Bytes& needle)
{
    return !needle.empty() &&
           std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
               haystack.end();
}

} // namespace ns3
