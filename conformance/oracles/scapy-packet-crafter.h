#ifndef SCAPY_PACKET_CRAFTER_H
#define SCAPY_PACKET_CRAFTER_H

#include <cstdint>
#include <string>
#include <vector>

namespace offloadlab
{

/**
 * IPv4 and IPv6 test traffic built by Scapy (Debian's python3-scapy 2.5.0, through
 * EmbeddedPython), so that fragments, options, extension headers and the like come from a tool
 * nobody in this project wrote rather than from the code under test.
 *
 * Every IPv4 input is a whole raw IPv4 packet (version 4, IHL >= 5, total length == its size);
 * anything else, and every Python exception, gives `false` and a message, never a crash.
 * Slow (Scapy): for tests, not for generating load.
 */
class ScapyPacketCrafter
{
  public:
    /// Which option WithIpOptions adds.
    enum class IpOption : uint8_t
    {
        RouterAlert, //!< RFC 2113: type 0x94, length 4, value 0 (copied into fragments)
        RecordRoute, //!< RFC 791: type 0x07, nine empty 4-byte slots, pointer 4
    };

    /// Whether Python and scapy.all can be imported; if not, *why says what failed.
    static bool IsAvailable(std::string* why);

    /**
     * Scapy's fragment(): the IP payload cut into pieces of fragmentPayloadSize bytes (a
     * multiple of 8; the last piece may be shorter), every piece with the original header, MF
     * on all but the last, offsets in 8-byte units, new total length and checksum. Fails if
     * DF is set or the payload fits into one fragment. Scapy copies every IP option into every
     * fragment, also those RFC 791 keeps in the first only (e.g. Record Route).
     */
    static bool Fragment(const std::vector<uint8_t>& ipv4Packet,
                         uint32_t fragmentPayloadSize,
                         std::vector<std::vector<uint8_t>>* fragments,
                         std::string* error);

    /**
     * Two fragments that overlap by 8 bytes: Scapy's first fragment (payload bytes
     * [0, fragmentPayloadSize), MF) and a copy of the header carrying the rest of the payload
     * from byte fragmentPayloadSize - 8, whose first 8 bytes are inverted. First-wins and
     * last-wins reassembly therefore give different datagrams. Same preconditions as Fragment.
     */
    static bool OverlappingFragments(const std::vector<uint8_t>& ipv4Packet,
                                     uint32_t fragmentPayloadSize,
                                     std::vector<std::vector<uint8_t>>* fragments,
                                     std::string* error);

    /// IPv4 (TTL 64, DF as asked) + UDP with Scapy's length and checksum; src/dst dotted.
    static bool UdpDatagram(const std::string& src,
                            const std::string& dst,
                            uint16_t sport,
                            uint16_t dport,
                            const std::vector<uint8_t>& payload,
                            bool dontFragment,
                            std::vector<uint8_t>* out,
                            std::string* error);

    /**
     * The packet with option appended to its IP options (padded to 4 bytes with End of
     * Options), IHL, total length and checksum recomputed. Fails if the header would exceed
     * 60 bytes.
     */
    static bool WithIpOptions(const std::vector<uint8_t>& ipv4Packet,
                              std::vector<uint8_t>* out,
                              std::string* error,
                              IpOption option = IpOption::RouterAlert);

    /**
     * IPv6 (hop limit 64) with the extension headers named in order ("hbh" and "dst": 8-byte
     * Hop-by-Hop and Destination Options, "hbh16" and "dst16": 16-byte ones, "rt": a type-0
     * Routing header to 2001:db8::99 with one segment left, "rt0": an 8-byte Routing header
     * with no segments left, which a host steps over (RFC 8200 section 4.4), "frag": an atomic
     * Fragment header),
     * then UDP with Scapy's lengths and checksum (over the final destination, as RFC 8200
     * section 8.1 says). An unknown name fails, naming it.
     */
    static bool Udp6Datagram(const std::string& src,
                             const std::string& dst,
                             const std::vector<std::string>& extensions,
                             uint16_t sport,
                             uint16_t dport,
                             const std::vector<uint8_t>& payload,
                             std::vector<uint8_t>* out,
                             std::string* error);

    /**
     * Where Scapy's ESP (scapy.layers.ipsec.split_for_transport) inserts ESP into an IPv6
     * packet in transport mode: *offset bytes stay before it, and *nextHeader is the header it
     * will protect.
     */
    static bool Ipv6EspSplit(const std::vector<uint8_t>& ipv6Packet,
                             uint32_t* offset,
                             uint8_t* nextHeader,
                             std::string* error);

    /// Scapy's one-line summary, for readable test failures; a note with the reason otherwise.
    static std::string Describe(const std::vector<uint8_t>& ipv4Packet);
};

} // namespace offloadlab

#endif // SCAPY_PACKET_CRAFTER_H
