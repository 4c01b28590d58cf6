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

/// `count` datagrams of 40..439 bytes, numbered from firstIndex.
std::vector<Bytes> Payloads(uint32_t count, uint32_t firstIndex);

/// How many of `sent` the sink received (each counted once, in any order).
uint32_t Delivered(const offloadtest::UdpSink& sink, const std::vector<Bytes>& sent);

/// The datagrams delivered are the ones sent, in order; a short message otherwise.
testing::AssertionResult SameDatagrams(const std::vector<Bytes>& got,
                                       const std::vector<Bytes>& sent);

/// The bytes a TCP receiver read are the ones sent; a short message otherwise.
testing::AssertionResult SameStream(const Bytes& got, const Bytes& sent);

/// Runs the simulation up to the absolute time `until` (RunUntil runs for a duration).
void RunTo(ns3::Time until);

/// `count` datagrams of 0..1300 bytes whose lengths take every value modulo 4 (every padding).
std::vector<Bytes> Datagrams(uint32_t count, uint32_t salt);

} // namespace conformance

#endif // SUITE_TRAFFIC_H
