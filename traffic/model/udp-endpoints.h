// UDP on ns-3 sockets for tests and the conformance suite: a sink that keeps every datagram's
// bytes, and a sender that hears the ICMP errors its socket is told about.
#ifndef UDP_ENDPOINTS_H
#define UDP_ENDPOINTS_H

#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/socket.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ns3
{

constexpr uint16_t kUdpPort = 9000;

struct UdpSink
{
    Ptr<Socket> socket;
    std::vector<std::vector<uint8_t>> received;
    std::vector<Time> receivedAt; //!< when each of `received` arrived
};

std::shared_ptr<UdpSink> InstallUdpSink(Ptr<Node> node, uint16_t port = kUdpPort);
/// The same on IPv6 (an ns-3 UDP socket bound to IPv4 hears no IPv6).
std::shared_ptr<UdpSink> InstallUdpSink6(Ptr<Node> node, uint16_t port = kUdpPort);

/// An ICMP error a UDP socket was told about (UdpSocketImpl's "IcmpCallback", or
/// "IcmpCallback6" with an ICMPv6 type and code).
struct IcmpRecord
{
    Ipv4Address source;
    Ipv6Address source6; //!< ICMPv6 errors

    uint8_t type{0};
    uint8_t code{0};
    uint32_t info{0};
};

struct UdpSender
{
    Ptr<Socket> socket;
    std::vector<IcmpRecord> icmp;
    uint32_t sendFailures{0};
};

/// A socket on node connected to dst:port.
std::shared_ptr<UdpSender> InstallUdpSender(Ptr<Node> node,
                                            Ipv4Address dst,
                                            uint16_t port = kUdpPort);

/// The same from a fixed local port (as an IKE daemon sends from 500 and 4500).
std::shared_ptr<UdpSender> InstallUdpSenderFrom(Ptr<Node> node,
                                                uint16_t srcPort,
                                                Ipv4Address dst,
                                                uint16_t port);

/// The same over IPv6, hearing ICMPv6 errors.
std::shared_ptr<UdpSender> InstallUdpSender(Ptr<Node> node,
                                            Ipv6Address dst,
                                            uint16_t port = kUdpPort);

void ScheduleDatagram(std::shared_ptr<UdpSender> sender,
                      Time at,
                      const std::vector<uint8_t>& payload);

/// Schedules one datagram per payload, `gap` apart from `start`; returns when the last goes.
Time ScheduleDatagrams(std::shared_ptr<UdpSender> sender,
                       const std::vector<std::vector<uint8_t>>& payloads,
                       Time start,
                       Time gap);

/// How many of `sent` the sink received (each counted once, in any order).
uint32_t Delivered(const UdpSink& sink, const std::vector<std::vector<uint8_t>>& sent);

} // namespace ns3

#endif // UDP_ENDPOINTS_H
