#ifndef IPV4_PACKET_UTIL_H
#define IPV4_PACKET_UTIL_H

#include "xfrm-selector.h"

#include "ns3/ipv4-header.h"
#include "ns3/packet.h"

#include <cstdint>
#include <vector>

namespace ns3
{

constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoIpip = 4;
constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoEsp = 50;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;

/// True for any fragment (more-fragments set or a non-zero offset).
bool IsIpv4Fragment(const Ipv4Header& header);

/// The selector fields of a packet; ports only for TCP/UDP first fragments.
XfrmFlow FlowOf(const Ipv4Header& header, Ptr<const Packet> payload);

/// The selector fields of a serialized IPv4 packet whose header is ihl bytes long.
XfrmFlow FlowOfBytes(const uint8_t* ip, uint32_t length, uint32_t ihl);

/// True for a serialized IPv4 packet that is a fragment.
bool IsIpv4FragmentBytes(const uint8_t* ip);

/// Internet checksum of a TCP or UDP segment with its IPv4 pseudo-header (RFC 793/768), as it
/// belongs in the segment's checksum field (whose bytes must be zero in segment).
uint16_t L4Checksum(Ipv4Address src,
                    Ipv4Address dst,
                    uint8_t proto,
                    const uint8_t* segment,
                    uint32_t length);

/// Length of the TCP header (data offset, options included) at tcp, 0 when the bytes cannot
/// hold it.
uint32_t TcpHeaderLength(const uint8_t* tcp, uint32_t length);

/// Segments Linux's tcp_gso_segment cuts a TCP segment of length bytes (header included) into
/// for gso_size mss: ceil(payload / mss), at least 1.
uint32_t TcpGsoSegmentCount(const uint8_t* tcp, uint32_t length, uint32_t mss);

/**
 * Segment n of a TCP super-packet, as Linux's tcp_gso_segment makes it: the super-packet's
 * header (options included) with the sequence number advanced by n * mss, FIN and PSH only on
 * the last segment, CWR only on the first, then payload bytes [n * mss, (n + 1) * mss), and
 * the checksum for the pseudo-header of src and dst. Appends it to out; returns its length (0
 * when n is past the last segment).
 */
uint32_t WriteTcpGsoSegment(const uint8_t* tcp,
                            uint32_t length,
                            uint32_t mss,
                            uint32_t n,
                            Ipv4Address src,
                            Ipv4Address dst,
                            std::vector<uint8_t>& out);

/// True when nextHeader is IPIP and bytes hold a whole IPv4 packet (valid header, total length
/// within the bytes): what a tunnel-mode SA may hand on.
bool IsWholeIpv4Packet(const uint8_t* bytes, uint32_t length, uint8_t nextHeader);

/// Copies a packet's bytes into out (resized); no ns-3 headers are parsed.
void CopyPacketBytes(Ptr<const Packet> packet, std::vector<uint8_t>& out);

/// Length of the IPv4 header at the start of bytes (IHL * 4), 0 if it is not a valid header.
uint32_t Ipv4HeaderLength(const uint8_t* bytes, uint32_t length);

/// A new IPv4 header with the checksum computed when it is serialized.
/// Writes a 20-byte IPv4 header (no options, DF clear, checksum filled) at out.
void WriteIpv4Header(uint8_t* out,
                     Ipv4Address src,
                     Ipv4Address dst,
                     uint8_t protocol,
                     uint16_t totalLength,
                     uint8_t ttl,
                     uint16_t identification);

/// Sets protocol and total length of the IPv4 header at header (ihl bytes) and its checksum.
void RewriteIpv4Header(uint8_t* header, uint32_t ihl, uint8_t protocol, uint16_t totalLength);

Ipv4Header MakeIpv4Header(Ipv4Address src,
                          Ipv4Address dst,
                          uint8_t protocol,
                          uint16_t payloadSize,
                          uint8_t ttl,
                          uint16_t identification);

/// Writes the 8-byte UDP header of ESP-in-UDP (RFC 3948 section 2.1) at out: the ports, the
/// length of the UDP datagram (header included) and a zero checksum, as Linux's
/// esp_output_udp_encap leaves it.
void WriteEspInUdpHeader(uint8_t* out, uint16_t sport, uint16_t dport, uint32_t udpLength);

} // namespace ns3

#endif // IPV4_PACKET_UTIL_H
