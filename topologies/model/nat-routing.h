#ifndef NAT_ROUTING_H
#define NAT_ROUTING_H

#include "ipv4-routing-wrapper.h"

#include "ns3/traced-callback.h"

#include <cstdint>
#include <map>
#include <string>

namespace ns3
{

/// Why the NAT dropped a packet.
enum class NatDrop : uint8_t
{
    NotUdpOrTcp, //!< from inside, neither UDP nor TCP (plain ESP cannot cross)
    NoMapping,   //!< to the outside address, no mapping for its protocol and port
    PortsExhausted,
    Count,
};

const char* NatDropName(NatDrop reason);

/**
 * A port-preserving source NAT for UDP and TCP on a router node (Linux's MASQUERADE on one
 * outside address): a segment or datagram from the inside interface gets the outside address as
 * its source and keeps its source port while that port is free for its protocol (else the next
 * free one from 49152); replies to the outside address and a mapped port go back to the inside
 * host and port. The TCP checksum and a non-zero UDP checksum are recomputed; a zero UDP one
 * stays zero (RFC 768: none), as ESP-in-UDP sends it. Other protocols from the inside are
 * dropped (no port to map): the reason IKE moves ESP into UDP (RFC 3948).
 *
 * It wraps the node's routing protocol, so the translation happens as the router forwards.
 * Configure it, then make it the node's routing protocol (Ipv4::SetRoutingProtocol).
 */
class NatRouting : public Ipv4RoutingWrapper
{
  public:
    static TypeId GetTypeId();
    /// Translates what arrives on `insideInterface` to `outsideAddress`.
    void Configure(Ptr<Ipv4RoutingProtocol> inner, uint32_t insideInterface, Ipv4Address outside);

    uint64_t GetTranslated() const; //!< datagrams translated, both ways
    uint64_t GetDropCount(NatDrop reason) const;
    /// UDP's (inside address, inside port) -> outside port, for reports and tests.
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> GetMappings() const;
    /// The same for TCP.
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> GetTcpMappings() const;

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;

  private:
    void Drop(NatDrop reason, Ptr<const Packet> p);
    /// The segment or datagram with new addresses and ports, its checksum redone (UDP: if it
    /// had one).
    static Ptr<Packet> Rewrite(Ptr<const Packet> p,
                               const Ipv4Header& header,
                               Ipv4Address src,
                               uint16_t sport,
                               Ipv4Address dst,
                               uint16_t dport);

    /// One protocol's mappings (ports are per protocol, as in Linux's conntrack).
    struct Mappings
    {
        std::map<std::pair<uint32_t, uint16_t>, uint16_t> out; //!< (inside addr, port) -> port
        std::map<uint16_t, std::pair<uint32_t, uint16_t>> in;  //!< outside port -> inside
    };

    uint32_t m_inside{0};
    Ipv4Address m_outside;
    Mappings m_udp;
    Mappings m_tcp;
    uint64_t m_translated{0};
    uint64_t m_drops[size_t(NatDrop::Count)]{};
    TracedCallback<Ptr<const Packet>, NatDrop> m_dropTrace;
};

} // namespace ns3

#endif // NAT_ROUTING_H
