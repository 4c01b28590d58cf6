#include "ipv6-packet-util.h"

#include "ipv4-packet-util.h"

#include <cstring>

namespace ns3
{

namespace
{
uint32_t
SumWords(const uint8_t* bytes, uint32_t length, uint32_t sum)
{
    for (uint32_t i = 0; i + 1 < length; i += 2)
    {
        sum += uint32_t(bytes[i]) << 8 | bytes[i + 1];
    }
    if (length % 2)
    {
        sum += uint32_t(bytes[length - 1]) << 8;
    }
    return sum;
}

/// The length of the extension header of type nextHeader at bytes (2 readable bytes).
uint32_t
ExtensionLength(uint8_t nextHeader, const uint8_t* bytes)
{
    switch (nextHeader)
    {
    case kIpProtoFragment:
        return 8;
    case kIpProtoAh:
        return (uint32_t(bytes[1]) + 2) * 4; // RFC 4302: in 4-byte units, minus 2
    default:
        return (uint32_t(bytes[1]) + 1) * 8; // RFC 8200: in 8-byte units, minus the first
    }
}
} // namespace

bool
IsIpv6ExtensionHeader(uint8_t nextHeader)
{
    return nextHeader == kIpProtoHopByHop || nextHeader == kIpProtoRouting ||
           nextHeader == kIpProtoFragment || nextHeader == kIpProtoDestOpts ||
           nextHeader == kIpProtoAh;
}

uint32_t
Ipv6FieldNaming(const uint8_t* buf, uint32_t upper)
{
    uint32_t field = 6;
    uint32_t offset = kIpv6HeaderLength;
    uint8_t next = buf[6];
    while (offset < upper && IsIpv6ExtensionHeader(next))
    {
        const uint32_t size = next == kIpProtoFragment ? 8
                              : next == kIpProtoAh     ? (uint32_t(buf[offset + 1]) + 2) * 4
                                                       : (uint32_t(buf[offset + 1]) + 1) * 8;
        field = offset;
        next = buf[offset];
        offset += size;
    }
    return field;
}

bool
ParseIpv6Chain(const uint8_t* packet, uint32_t length, Ipv6Chain* chain, std::string* why)
{
    auto fail = [why](const std::string& reason) {
        if (why)
        {
            *why = reason;
        }
        return false;
    };
    if (length < kIpv6HeaderLength)
    {
        return fail(std::to_string(length) + " bytes: shorter than the IPv6 header");
    }
    if (packet[0] >> 4 != 6)
    {
        return fail("IP version " + std::to_string(packet[0] >> 4) + ", not 6");
    }
    Ipv6Chain c;
    c.payloadLength = uint32_t(packet[4]) << 8 | packet[5];
    if (c.payloadLength == 0)
    {
        return fail("payload length 0 (a jumbogram or nothing): not supported");
    }
    if (kIpv6HeaderLength + c.payloadLength > length)
    {
        return fail("payload length " + std::to_string(c.payloadLength) + " beyond the " +
                    std::to_string(length - kIpv6HeaderLength) + " bytes after the header");
    }
    const uint32_t end = kIpv6HeaderLength + c.payloadLength; // the rest is link padding
    uint8_t next = packet[6];
    uint32_t field = 6; // where `next` was read
    uint32_t offset = kIpv6HeaderLength;
    bool espPlaced = false;
    bool routing = false;
    while (IsIpv6ExtensionHeader(next))
    {
        // ip6_find_1stfragopt: ESP after Hop-by-Hop, Routing, and Destination Options that
        // come before a Routing header; before anything else.
        if (!espPlaced && !(next == kIpProtoHopByHop || next == kIpProtoRouting ||
                            (next == kIpProtoDestOpts && !routing)))
        {
            c.espOffset = offset;
            c.espNextHeaderField = field;
            espPlaced = true;
        }
        if (next == kIpProtoHopByHop && offset != kIpv6HeaderLength)
        {
            return fail("Hop-by-Hop options at byte " + std::to_string(offset) +
                        ", not right after the fixed header (RFC 8200 section 4.1)");
        }
        if (offset + 2 > end)
        {
            return fail("extension header " + std::to_string(next) + " at byte " +
                        std::to_string(offset) + " is cut off");
        }
        const uint32_t size = ExtensionLength(next, packet + offset);
        if (offset + size > end)
        {
            return fail("extension header " + std::to_string(next) + " of " + std::to_string(size) +
                        " bytes at byte " + std::to_string(offset) + " does not fit the payload");
        }
        routing = routing || next == kIpProtoRouting;
        const uint8_t following = packet[offset];
        if (next == kIpProtoFragment)
        {
            const uint16_t word = uint16_t(packet[offset + 2] << 8 | packet[offset + 3]);
            c.fragment = true;
            c.fragmentOffset = word >> 3;
            c.moreFragments = word & 1;
            c.identification = uint32_t(packet[offset + 4]) << 24 | packet[offset + 5] << 16 |
                               packet[offset + 6] << 8 | packet[offset + 7];
            if (c.fragmentOffset != 0)
            {
                // A later fragment: what follows is the middle of the upper-layer packet.
                c.upperProtocol = following;
                c.upperOffset = offset + size;
                if (!espPlaced)
                {
                    c.espOffset = offset;
                    c.espNextHeaderField = field;
                }
                *chain = c;
                return true;
            }
        }
        field = offset;
        offset += size;
        next = following;
    }
    if (!espPlaced)
    {
        c.espOffset = offset;
        c.espNextHeaderField = field;
    }
    c.upperProtocol = next;
    c.upperOffset = offset;
    *chain = c;
    return true;
}

uint16_t
L4ChecksumV6(Ipv6Address src,
             Ipv6Address dst,
             uint8_t proto,
             const uint8_t* segment,
             uint32_t length)
{
    uint8_t pseudo[40];
    src.GetBytes(pseudo);
    dst.GetBytes(pseudo + 16);
    pseudo[32] = uint8_t(length >> 24);
    pseudo[33] = uint8_t(length >> 16);
    pseudo[34] = uint8_t(length >> 8);
    pseudo[35] = uint8_t(length);
    pseudo[36] = pseudo[37] = pseudo[38] = 0;
    pseudo[39] = proto;
    uint32_t sum = SumWords(segment, length, SumWords(pseudo, sizeof(pseudo), 0));
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    const uint16_t result = uint16_t(~sum);
    // UDP sends a computed 0 as 0xffff (RFC 768; in IPv6, 0 would mean "no checksum", which RFC
    // 8200 section 8.1 forbids), as Linux's CSUM_MANGLED_0; both are zero in one's complement.
    return result == 0 && proto == 17 ? 0xffff : result;
}

Ipv6Address
Ipv6SourceOf(const uint8_t* packet)
{
    return Ipv6Address(const_cast<uint8_t*>(packet + 8));
}

Ipv6Address
Ipv6DestinationOf(const uint8_t* packet)
{
    return Ipv6Address(const_cast<uint8_t*>(packet + 24));
}

void
WriteIpv6Header(uint8_t* out,
                Ipv6Address src,
                Ipv6Address dst,
                uint8_t nextHeader,
                uint16_t payloadLength,
                uint8_t hopLimit)
{
    std::memset(out, 0, 8);
    out[0] = 0x60;
    out[4] = uint8_t(payloadLength >> 8);
    out[5] = uint8_t(payloadLength);
    out[6] = nextHeader;
    out[7] = hopLimit;
    src.GetBytes(out + 8);
    dst.GetBytes(out + 24);
}

} // namespace ns3

namespace ns3
{

XfrmFlow
FlowOfIpv6(const Ipv6Header& header, Ptr<const Packet> payload)
{
    XfrmFlow flow;
    flow.src = header.GetSource();
    flow.dst = header.GetDestination();
    uint8_t next = header.GetNextHeader();
    const bool chain = next == kIpProtoHopByHop || next == kIpProtoRouting ||
                       next == kIpProtoDestOpts || next == kIpProtoFragment;
    // Per packet: only the ports unless there is a chain to walk (ns-3's L4 sends none).
    uint8_t bytes[256];
    const uint32_t length = payload ? payload->CopyData(bytes, chain ? sizeof(bytes) : 4) : 0;
    uint32_t offset = 0;
    bool onlyProto = false;
    // Linux's _decode_session6: past Hop-by-Hop, Routing, Destination Options and Fragment
    // headers; in a fragment only the protocol counts. It stops at AH, ESP and the rest.
    while (next == kIpProtoHopByHop || next == kIpProtoRouting || next == kIpProtoDestOpts ||
           next == kIpProtoFragment)
    {
        if (offset + 2 > length)
        {
            flow.proto = next;
            return flow; // a chain past what is readable: the header itself is what is known
        }
        onlyProto = onlyProto || next == kIpProtoFragment;
        const uint32_t extLength = ExtensionLength(next, bytes + offset);
        next = bytes[offset];
        offset += extLength;
    }
    flow.proto = next;
    if ((next == kIpProtoTcp || next == kIpProtoUdp) && !onlyProto && offset + 4 <= length)
    {
        flow.sport = uint16_t(bytes[offset] << 8 | bytes[offset + 1]);
        flow.dport = uint16_t(bytes[offset + 2] << 8 | bytes[offset + 3]);
    }
    else if (next == kIpProtoIcmpv6 && !onlyProto && offset + 2 <= length)
    {
        // _decode_session6: ICMPv6's type and code stand in the flow's ports (fl6_icmp_type,
        // fl6_icmp_code; xfrm_flowi_sport/dport), as ICMP's do in IPv4.
        flow.sport = bytes[offset];
        flow.dport = bytes[offset + 1];
    }
    return flow;
}

bool
IsWholeIpv6Packet(const uint8_t* bytes, uint32_t length, uint8_t nextHeader)
{
    Ipv6Chain chain;
    return nextHeader == kIpProtoIpv6 && ParseIpv6Chain(bytes, length, &chain, nullptr);
}

} // namespace ns3
