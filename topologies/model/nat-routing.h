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
    NotUdp,    //!< from inside, not UDP: this NAT translates UDP only (plain ESP cannot cross)
    NoMapping, //!< to the outside address, no mapping for its port
    PortsExhausted,
    Count,
};

const char* NatDropName(NatDrop reason);

/**
 * A port-preserving source NAT for UDP on a router node (Linux's MASQUERADE on one outside
 * address): a datagram from the inside interface gets the outside address as its source and
 * keeps its source port while that port is free (else the next free one from 49152); replies to
 * the outside address and a mapped port go back to the inside host and port. A non-zero UDP
 * checksum is recomputed; a zero one stays zero (RFC 768: none), as ESP-in-UDP sends it. Other
 * protocols from the inside are dropped: the reason IKE moves ESP into UDP (RFC 3948).
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
    /// (inside address, inside port) -> outside port, for reports and tests.
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> GetMappings() const;

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;

  private:
    void Drop(NatDrop reason, Ptr<const Packet> p);
    /// The datagram with new addresses and ports, its checksum redone if it had one.
    static Ptr<Packet> Rewrite(Ptr<const Packet> p,
                               const Ipv4Header& header,
                               Ipv4Address src,
                               uint16_t sport,
                               Ipv4Address dst,
                               uint16_t dport);

    uint32_t m_inside{0};
    Ipv4Address m_outside;
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> m_out; //!< (inside addr, port) -> port
    std::map<uint16_t, std::pair<uint32_t, uint16_t>> m_in;  //!< outside port -> inside
    uint64_t m_translated{0};
    uint64_t m_drops[size_t(NatDrop::Count)]{};
    TracedCallback<Ptr<const Packet>, NatDrop> m_dropTrace;
};

} // namespace ns3

#endif // NAT_ROUTING_H
