// What one MTU packet of a TCP stream costs on the wire, per offload mode and encapsulation:
// the bytes the scaling model's link charges, from the project's own ESP codec.
#ifndef SCALE_WIRE_H
#define SCALE_WIRE_H

#include <cstdint>
#include <string>

namespace ns3
{

/// The four rows of the reference table.
enum class ScaleMode : uint8_t
{
    Baseline, //!< no IPsec
    Software, //!< the kernel's ESP on the CPU
    Crypto,   //!< crypto offload: the stack frames ESP, the NIC encrypts and decrypts
    Packet,   //!< packet (full) offload: the NIC does all of ESP
};

const char* ScaleModeName(ScaleMode mode); //!< "baseline", "sw", "crypto", "packet"
/// Parses a ScaleModeName; false for anything else.
bool ParseScaleMode(const std::string& text, ScaleMode* mode);

/// How ESP carries the TCP segment (ignored in baseline).
enum class ScaleEncap : uint8_t
{
    Transport, //!< ESP between the IPv4 header and TCP (the reference's mode)
    Tunnel,    //!< a new outer IPv4 header, the inner packet whole inside ESP
    UdpTunnel, //!< tunnel mode inside UDP (RFC 3948 ESP-in-UDP, NAT traversal)
};

const char* ScaleEncapName(ScaleEncap encap); //!< "transport", "tunnel", "udp-tunnel"
bool ParseScaleEncap(const std::string& text, ScaleEncap* encap);

/**
 * The per-packet wire arithmetic of one TCP/IPv4 stream with timestamps (32-byte TCP header)
 * over Ethernet, for AES-GCM-128 ESP (RFC 4106: 8-byte IV, 16-byte ICV, 4-byte alignment).
 *
 * The MSS is what Linux's TCP would use: the link MTU minus headers in baseline, and in IPsec
 * modes the xfrm state's MTU (xfrm_state_mtu / esp4_get_mtu, EspTransform::GetMtu) minus the
 * inner headers. Each frame also costs Ethernet's 38 bytes: preamble and start delimiter 8,
 * header 14, FCS 4, inter-frame gap 12; a frame shorter than 64 bytes is padded to 64.
 */
class ScaleWire
{
  public:
    static constexpr uint32_t kFrameHeaderAndFcs = 18; //!< Ethernet header 14, FCS 4
    static constexpr uint32_t kPreambleAndGap = 20;    //!< preamble and SFD 8, inter-frame gap 12
    static constexpr uint32_t kTcpHeader = 32;         //!< 20 + timestamps (10, padded to 12)
    static constexpr uint32_t kIpHeader = 20;
    static constexpr uint32_t kUdpHeader = 8;

    ScaleWire(ScaleMode mode, ScaleEncap encap, uint32_t mtu);

    uint32_t GetMss() const;
    /// Whether the packets on the wire are ESP (every mode but baseline).
    bool IsEsp() const;
    /// Whether that ESP is inside UDP (RFC 3948).
    bool IsUdpEncapsulated() const;
    /// Bytes one packet with this much TCP payload (0 for a bare ACK) takes on the wire; with
    /// l4Header kUdpHeader, a UDP datagram's.
    uint32_t GetWireBytes(uint32_t payload, uint32_t l4Header = kTcpHeader) const;
    /// Bytes of the IPv4 packet on the wire (without Ethernet) for this payload.
    uint32_t GetIpBytes(uint32_t payload, uint32_t l4Header = kTcpHeader) const;
    /// Bytes the ESP transform encrypts for this payload (0 in baseline): the inner packet or
    /// L4 segment plus padding and trailer.
    uint32_t GetCipherBytes(uint32_t payload, uint32_t l4Header = kTcpHeader) const;
    /// The payload of a segment's last packet: every other one carries an MSS (TSO).
    uint32_t GetLastPayload(uint32_t payload, uint32_t packets) const;
    /// Wire bytes of a whole segment of packets (a datagram or an ACK is one).
    uint64_t GetSegmentWireBytes(uint32_t payload, uint32_t packets, uint32_t l4Header) const;
    /// Bytes the transform encrypts for a whole segment.
    uint64_t GetSegmentCipherBytes(uint32_t payload, uint32_t packets, uint32_t l4Header) const;
    /// The largest IPv4 packet the SA (or, in baseline, the link) carries whole: what an
    /// application's datagram may be at most.
    uint32_t GetInnerMtu() const;
    /// TCP payload bits per second on a link of linkBps when every packet carries an MSS.
    double GetGoodputCeiling(double linkBps) const;

  private:
    ScaleMode m_mode;
    ScaleEncap m_encap;
    uint32_t m_mss{0};
    uint32_t m_innerMtu{0};
    uint32_t m_outer{0};   //!< bytes outside the ESP frame: outer IPv4 (+ UDP)
    uint32_t m_innerIp{0}; //!< inner IPv4 header inside ESP (tunnel modes)
};

} // namespace ns3

#endif // SCALE_WIRE_H
