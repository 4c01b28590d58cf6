#include "ipv4-packet-util.h"

#include "ns3/buffer.h"

#include <algorithm>
#include <cstring>

namespace ns3
{

bool
IsIpv4Fragment(const Ipv4Header& header)
{
    return !header.IsLastFragment() || header.GetFragmentOffset() != 0;
}

XfrmFlow
FlowOf(const Ipv4Header& header, Ptr<const Packet> payload)
{
    XfrmFlow flow;
    flow.src = header.GetSource();
    flow.dst = header.GetDestination();
    flow.proto = header.GetProtocol();
    if ((flow.proto == kIpProtoTcp || flow.proto == kIpProtoUdp) &&
        header.GetFragmentOffset() == 0 && payload && payload->GetSize() >= 4)
    {
        uint8_t ports[4];
        payload->CopyData(ports, 4);
        flow.sport = uint16_t(ports[0] << 8 | ports[1]);
        flow.dport = uint16_t(ports[2] << 8 | ports[3]);
    }
    else if (flow.proto == kIpProtoIcmp && header.GetFragmentOffset() == 0 && payload &&
             payload->GetSize() >= 2)
    {
        // _decode_session4: ICMP's type and code stand in the flow's ports (xfrm_flowi_sport,
        // xfrm_flowi_dport), so a selector's ports select ICMP types.
        uint8_t icmp[2];
        payload->CopyData(icmp, 2);
        flow.sport = icmp[0];
        flow.dport = icmp[1];
    }
    return flow;
}

XfrmFlow
FlowOfBytes(const uint8_t* ip, uint32_t length, uint32_t ihl)
{
    XfrmFlow flow;
    flow.proto = ip[9];
    flow.src = Ipv4Address(uint32_t(ip[12]) << 24 | ip[13] << 16 | ip[14] << 8 | ip[15]);
    flow.dst = Ipv4Address(uint32_t(ip[16]) << 24 | ip[17] << 16 | ip[18] << 8 | ip[19]);
    const bool firstFragment = ((ip[6] & 0x1f) | ip[7]) == 0;
    if ((flow.proto == kIpProtoTcp || flow.proto == kIpProtoUdp) && firstFragment &&
        length >= ihl + 4)
    {
        flow.sport = uint16_t(ip[ihl] << 8 | ip[ihl + 1]);
        flow.dport = uint16_t(ip[ihl + 2] << 8 | ip[ihl + 3]);
    }
    else if (flow.proto == kIpProtoIcmp && firstFragment && length >= ihl + 2)
    {
        flow.sport = ip[ihl]; // ICMP type and code, as FlowOf
        flow.dport = ip[ihl + 1];
    }
    return flow;
}

bool
IsIpv4FragmentBytes(const uint8_t* ip)
{
    return (ip[6] & 0x20) != 0 || ((ip[6] & 0x1f) | ip[7]) != 0;
}

uint16_t
L4Checksum(Ipv4Address src, Ipv4Address dst, uint8_t proto, const uint8_t* segment, uint32_t length)
{
    // ns-3's Internet checksum over pseudo-header + segment (UDP's "no checksum" 0 becomes 0xffff).
    Buffer buffer;
    buffer.AddAtStart(12 + length);
    Buffer::Iterator it = buffer.Begin();
    it.WriteHtonU32(src.Get());
    it.WriteHtonU32(dst.Get());
    it.WriteU8(0);
    it.WriteU8(proto);
    it.WriteHtonU16(uint16_t(length));
    it.Write(segment, length);
    uint16_t sum = buffer.Begin().CalculateIpChecksum(uint16_t(12 + length));
    sum = uint16_t((sum >> 8) | (sum << 8)); // CalculateIpChecksum answers in host order
    return (proto == kIpProtoUdp && sum == 0) ? 0xffff : sum;
}

uint32_t
TcpHeaderLength(const uint8_t* tcp, uint32_t length)
{
    const uint32_t header = length >= 20 ? uint32_t(tcp[12] >> 4) * 4 : 0;
    return header >= 20 && header <= length ? header : 0;
}

uint32_t
TcpGsoSegmentCount(const uint8_t* tcp, uint32_t length, uint32_t mss)
{
    const uint32_t header = TcpHeaderLength(tcp, length);
    const uint32_t payload = header == 0 ? 0 : length - header;
    return mss == 0 || payload == 0 ? 1 : (payload + mss - 1) / mss;
}

uint32_t
WriteTcpGsoSegment(const uint8_t* tcp,
                   uint32_t length,
                   uint32_t mss,
                   uint32_t n,
                   Ipv4Address src,
                   Ipv4Address dst,
                   std::vector<uint8_t>& out)
{
    const uint32_t header = TcpHeaderLength(tcp, length);
    const uint32_t segments = TcpGsoSegmentCount(tcp, length, mss);
    if (header == 0 || n >= segments)
    {
        return 0;
    }
    const uint32_t payload = length - header;
    const uint32_t offset = n * mss;
    const uint32_t size = std::min(mss, payload - offset);
    const size_t at = out.size();
    out.insert(out.end(), tcp, tcp + header);
    out.insert(out.end(), tcp + header + offset, tcp + header + offset + size);
    uint8_t* h = out.data() + at;
    const uint32_t seq =
        (uint32_t(tcp[4]) << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7]) + offset; // mod 2^32
    h[4] = uint8_t(seq >> 24);
    h[5] = uint8_t(seq >> 16);
    h[6] = uint8_t(seq >> 8);
    h[7] = uint8_t(seq);
    constexpr uint8_t kFin = 0x01;
    constexpr uint8_t kPsh = 0x08;
    constexpr uint8_t kCwr = 0x80;
    if (n + 1 < segments)
    {
        h[13] &= uint8_t(~(kFin | kPsh));
    }
    if (n != 0)
    {
        h[13] &= uint8_t(~kCwr);
    }
    h[16] = h[17] = 0;
    const uint16_t sum = L4Checksum(src, dst, kIpProtoTcp, h, header + size);
    h[16] = uint8_t(sum >> 8);
    h[17] = uint8_t(sum);
    return header + size;
}

bool
IsWholeIpv4Packet(const uint8_t* bytes, uint32_t length, uint8_t nextHeader)
{
    const uint32_t ihl = nextHeader == kIpProtoIpip ? Ipv4HeaderLength(bytes, length) : 0;
    if (ihl == 0)
    {
        return false;
    }
    const uint32_t total = uint32_t(bytes[2]) << 8 | bytes[3];
    return total >= ihl && total <= length;
}

void
CopyPacketBytes(Ptr<const Packet> packet, std::vector<uint8_t>& out)
{
    out.resize(packet->GetSize());
    if (!out.empty())
    {
        packet->CopyData(out.data(), out.size());
    }
}

uint32_t
Ipv4HeaderLength(const uint8_t* bytes, uint32_t length)
{
    if (length < 20 || (bytes[0] >> 4) != 4)
    {
        return 0;
    }
    const uint32_t ihl = uint32_t(bytes[0] & 0x0f) * 4;
    return (ihl < 20 || ihl > length) ? 0 : ihl;
}

Ipv4Header
MakeIpv4Header(Ipv4Address src,
               Ipv4Address dst,
               uint8_t protocol,
               uint16_t payloadSize,
               uint8_t ttl,
               uint16_t identification)
{
    Ipv4Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    h.SetProtocol(protocol);
    h.SetPayloadSize(payloadSize);
    h.SetTtl(ttl);
    h.SetIdentification(identification);
    h.SetMayFragment();
    h.EnableChecksum();
    return h;
}

namespace
{
uint16_t
HeaderChecksum(const uint8_t* header, uint32_t ihl)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < ihl; i += 2)
    {
        sum += uint32_t(header[i]) << 8 | header[i + 1];
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return uint16_t(~sum);
}
} // namespace

void
RewriteIpv4Header(uint8_t* header, uint32_t ihl, uint8_t protocol, uint16_t totalLength)
{
    header[2] = uint8_t(totalLength >> 8);
    header[3] = uint8_t(totalLength);
    header[9] = protocol;
    header[10] = header[11] = 0;
    const uint16_t sum = HeaderChecksum(header, ihl);
    header[10] = uint8_t(sum >> 8);
    header[11] = uint8_t(sum);
}

void
WriteIpv4Header(uint8_t* out,
                Ipv4Address src,
                Ipv4Address dst,
                uint8_t protocol,
                uint16_t totalLength,
                uint8_t ttl,
                uint16_t identification)
{
    out[0] = 0x45;
    out[1] = 0;
    out[4] = uint8_t(identification >> 8);
    out[5] = uint8_t(identification);
    out[6] = out[7] = 0;
    out[8] = ttl;
    src.Serialize(out + 12);
    dst.Serialize(out + 16);
    RewriteIpv4Header(out, 20, protocol, totalLength);
}

void
WriteEspInUdpHeader(uint8_t* out, uint16_t sport, uint16_t dport, uint32_t udpLength)
{
    const uint8_t udp[8] = {uint8_t(sport >> 8),
                            uint8_t(sport),
                            uint8_t(dport >> 8),
                            uint8_t(dport),
                            uint8_t(udpLength >> 8),
                            uint8_t(udpLength),
                            0,
                            0};
    std::memcpy(out, udp, sizeof(udp));
}

} // namespace ns3
