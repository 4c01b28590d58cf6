// IPv4, UDP and ESP packets built byte by byte, for injection from a device as a raw socket
// would send them, and small readers of wire bytes.
#ifndef CRAFTED_PACKETS_H
#define CRAFTED_PACKETS_H

#include "byte-order.h"
#include "esp-algorithm.h"

#include "ns3/ipv4-address.h"
#include "ns3/net-device.h"
#include "ns3/nstime.h"
#include "ns3/packet.h"

#include <cstdint>
#include <vector>

namespace ns3
{

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kEtherTypeIpv4Value = 0x0800;
constexpr uint8_t kProtoIpip = 4;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoEsp = 50;

Bytes PacketBytes(Ptr<const Packet> p);

/// A UDP datagram (header + data) with a correct checksum over the IPv4 pseudo-header.
Bytes UdpDatagramBytes(Ipv4Address src,
                       Ipv4Address dst,
                       uint16_t sport,
                       uint16_t dport,
                       const Bytes& data);

/// An IPv4 packet with a checksummed header; fragment fields as given.
Ptr<Packet> Ipv4PacketOf(Ipv4Address src,
                         Ipv4Address dst,
                         uint8_t protocol,
                         const Bytes& payload,
                         uint16_t identification = 0x4242,
                         bool moreFragments = false,
                         uint16_t fragmentOffsetBytes = 0);
Bytes Ipv4Bytes(Ipv4Address src, Ipv4Address dst, uint8_t protocol, const Bytes& payload);
/// An IPv4 packet of ESP-in-UDP (RFC 3948) as plain ESP: the UDP header out, protocol 50, the
/// header rebuilt (what an ESP opener that knows no UDP encapsulation takes). Other packets are
/// returned unchanged.
Bytes WithoutUdpEncap(const Bytes& ip);

/// An ESP frame (SPI .. ICV) sealed with an EspTransform of its own; empty on bad keys.
Bytes SealEspFrame(const EspAlgorithm& algorithm,
                   uint32_t spi,
                   uint64_t seq,
                   bool esn,
                   const Bytes& payload,
                   uint8_t nextHeader);

/// Hands a crafted IPv4 or IPv6 packet (the version nibble tells) to a device for transmission
/// to peer (as a raw socket would).
void InjectFrom(Ptr<NetDevice> dev, Ptr<NetDevice> peer, Ptr<Packet> ipPacket);
void ScheduleInject(Time at, Ptr<NetDevice> dev, Ptr<NetDevice> peer, const Bytes& ip);

// Readers of an IPv4 packet's bytes.
uint32_t IpHeaderLength(const Bytes& ip);
uint8_t IpProtocol(const Bytes& ip);
uint32_t EspSpiOf(const Bytes& ip);
uint32_t EspSeqOf(const Bytes& ip);
bool IsFragment(const Bytes& ip);
bool Contains(const Bytes& haystack, const Bytes& needle);

} // namespace ns3

#endif // CRAFTED_PACKETS_H
