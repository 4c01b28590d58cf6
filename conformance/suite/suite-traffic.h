// Traffic the conformance suite's cases share: a TCP transfer of a known byte pattern, and UDP
// datagrams whose lengths need every padding length.
#ifndef SUITE_TRAFFIC_H
#define SUITE_TRAFFIC_H

#include "offload-test-topology.h"

#include <memory>
#include <vector>

namespace conformance
{

using offloadtest::Bytes;

/// A TCP port and segment size whose ESP fits 1500 bytes in every mode.
constexpr uint16_t kTcpPort = 9100;
constexpr uint32_t kTcpSegment = 1200;

/// A TCP transfer of a known byte pattern, and the bytes the receiver read.
struct TcpTransfer
{
    Bytes sent;
    Bytes received;
    uint32_t offset{0};
    ns3::Ptr<ns3::Socket> client;
    ns3::Ptr<ns3::Socket> listener;
    ns3::Ptr<ns3::Socket> accepted;

    ~TcpTransfer();
    void Push();
};

/// Starts a transfer of `bytes` from `from` to `toAddress` (on `to`) at `at`.
std::unique_ptr<TcpTransfer> StartTcp(ns3::Ptr<ns3::Node> from, ns3::Ptr<ns3::Node> to,
                                      ns3::Ipv4Address toAddress, uint32_t bytes, ns3::Time at);

/// `count` datagrams of 0..1300 bytes whose lengths take every value modulo 4 (every padding).
std::vector<Bytes> Datagrams(uint32_t count, uint32_t salt);

} // namespace conformance

#endif // SUITE_TRAFFIC_H
