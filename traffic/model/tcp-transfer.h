// A TCP transfer of a known byte pattern on ns-3 sockets, and the bytes the receiver read.
#ifndef TCP_TRANSFER_H
#define TCP_TRANSFER_H

#include "ns3/ipv4-address.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/socket.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ns3
{

/// A TCP port and segment size whose ESP fits 1500 bytes in every mode.
constexpr uint16_t kTcpPort = 9100;
constexpr uint32_t kTcpSegment = 1200;

struct TcpTransfer
{
    std::vector<uint8_t> sent;
    std::vector<uint8_t> received;
    uint32_t offset{0};
    Ptr<Socket> client;
    Ptr<Socket> listener;
    Ptr<Socket> accepted;
    ~TcpTransfer();
    /// Hands the socket as much of `sent` as it takes now.
    void Push();
};

/// Starts a transfer of `bytes` from `from` to `toAddress` (on `to`) at `at`. The sender's
/// segment size is senderSegment: larger than the path allows, it hands down TCP super-packets
/// (GSO), which the stack or the NIC segments.
std::unique_ptr<TcpTransfer> StartTcp(Ptr<Node> from,
                                      Ptr<Node> to,
                                      Ipv4Address toAddress,
                                      uint32_t bytes,
                                      Time at,
                                      uint32_t senderSegment = kTcpSegment);

} // namespace ns3

#endif // TCP_TRANSFER_H
