// Reading serialized IPv6 packets as Linux's IPv6 and XFRM code does: the extension header chain
// (RFC 8200 §4, Linux's ipv6_skip_exthdr), where ESP goes in transport mode (RFC 4303 §3.1.1,
// Linux's ip6_find_1stfragopt), and the upper-layer checksum (RFC 8200 §8.1).
#ifndef IPV6_PACKET_UTIL_H
#define IPV6_PACKET_UTIL_H

#include "xfrm-selector.h"

#include "ns3/ipv6-address.h"
#include "ns3/ipv6-header.h"
#include "ns3/packet.h"

#include <cstdint>
#include <string>

namespace ns3
{

constexpr uint8_t kIpProtoHopByHop = 0;
constexpr uint8_t kIpProtoRouting = 43;
constexpr uint8_t kIpProtoFragment = 44;
constexpr uint8_t kIpProtoAh = 51;
constexpr uint8_t kIpProtoNoNext = 59;
constexpr uint8_t kIpProtoDestOpts = 60;
constexpr uint8_t kIpProtoIpv6 = 41;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint32_t kIpv6HeaderLength = 40;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;

/// What the header chain of an IPv6 packet says.
struct Ipv6Chain
{
    /// The first header that is not Hop-by-Hop, Routing, Fragment, Destination Options or AH
    /// (ESP, TCP, UDP, ICMPv6, No Next Header, ...): the one ESP input or a socket gets. In a
    /// non-first fragment, the Fragment header's next header, whose bytes are elsewhere.
    uint8_t upperProtocol{kIpProtoNoNext};
    uint32_t upperOffset{0}; //!< its offset from the start of the IPv6 header
    /// Transport mode: where ESP goes, after Hop-by-Hop, Routing and the Destination Options
    /// before a Routing header; the Destination Options after one stay inside ESP, end to end.
    uint32_t espOffset{kIpv6HeaderLength};
    /// The offset of the Next Header field that will name ESP: 6 in the fixed header, or the
    /// first byte of the extension header before espOffset.
    uint32_t espNextHeaderField{6};
    bool fragment{false};       //!< a Fragment header is in the chain
    uint16_t fragmentOffset{0}; //!< in 8-byte units
    bool moreFragments{false};  //!< its M flag
    uint32_t identification{0}; //!< its identification
    uint32_t payloadLength{0};  //!< the fixed header's payload length
};

/**
 * Parses the IPv6 packet of length bytes. False with the reason when it is not one a Linux host
 * would process: shorter than the fixed header, version not 6, payload length 0 (a jumbogram:
 * not supported) or beyond the bytes (bytes after it are link padding, as ip6_rcv trims), an
 * extension header that does not fit, a Hop-by-Hop header anywhere but first (RFC 8200 §4.1),
 * or a Fragment header that is not 8 bytes.
 */
bool ParseIpv6Chain(const uint8_t* packet, uint32_t length, Ipv6Chain* chain, std::string* why);

/// The offset of the Next Header field that names the header at upper (6 in the fixed header,
/// or the first byte of the extension header before it) in a chain ParseIpv6Chain accepted.
uint32_t Ipv6FieldNaming(const uint8_t* buf, uint32_t upper);

/// True for the extension headers the chain walks past (Hop-by-Hop, Routing, Fragment,
/// Destination Options, AH).
bool IsIpv6ExtensionHeader(uint8_t nextHeader);

/// Internet checksum of an upper-layer packet (TCP, UDP, ICMPv6) with the IPv6 pseudo-header
/// (RFC 8200 §8.1: source, destination, upper-layer length, next header), as it belongs in
/// the checksum field (whose bytes must be zero in segment); UDP's computed 0 is sent as 0xffff.
/// dst is the final destination (the last address of a Routing header, if there is one).
uint16_t L4ChecksumV6(Ipv6Address src,
                      Ipv6Address dst,
                      uint8_t proto,
                      const uint8_t* segment,
                      uint32_t length);

/// The source and destination addresses of the serialized IPv6 header at packet (40 bytes).
Ipv6Address Ipv6SourceOf(const uint8_t* packet);
Ipv6Address Ipv6DestinationOf(const uint8_t* packet);

/// Writes a 40-byte IPv6 header (traffic class and flow label 0) at out.
void WriteIpv6Header(uint8_t* out,
                     Ipv6Address src,
                     Ipv6Address dst,
                     uint8_t nextHeader,
                     uint16_t payloadLength,
                     uint8_t hopLimit);

/// The selector fields of an IPv6 packet whose payload (everything after the fixed header,
/// extension headers included) is payload: the upper-layer protocol past the extension headers,
/// ports for TCP and UDP unless it is a non-first fragment (Linux's _decode_session6).
XfrmFlow FlowOfIpv6(const Ipv6Header& header, Ptr<const Packet> payload);

/// True when the bytes (length of them) begin with a whole IPv6 packet: a chain ParseIpv6Chain
/// accepts (trailing bytes are TFC padding, as Linux trims them). nextHeader must be 41.
bool IsWholeIpv6Packet(const uint8_t* bytes, uint32_t length, uint8_t nextHeader);

} // namespace ns3

#endif // IPV6_PACKET_UTIL_H
