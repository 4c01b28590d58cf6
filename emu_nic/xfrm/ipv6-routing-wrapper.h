#ifndef IPV6_ROUTING_WRAPPER_H
#define IPV6_ROUTING_WRAPPER_H

#include "ns3/ipv6-routing-protocol.h"

namespace ns3
{

/**
 * The IPv6 twin of Ipv4RoutingWrapper: a routing protocol in front of a node's own one that
 * hands every call to the inner protocol, so a subclass overrides only what it looks at. Install
 * with Ipv6::SetRoutingProtocol after SetInner, once the node's static routes are in (ns-3's
 * Ipv6StaticRoutingHelper finds the static routing by the protocol's type).
 */
class Ipv6RoutingWrapper : public Ipv6RoutingProtocol
{
  public:
    static TypeId GetTypeId();
    void SetInner(Ptr<Ipv6RoutingProtocol> inner);
    Ptr<Ipv6RoutingProtocol> GetInner() const;

    Ptr<Ipv6Route> RouteOutput(Ptr<Packet> p,
                               const Ipv6Header& header,
                               Ptr<NetDevice> oif,
                               Socket::SocketErrno& sockerr) override;
    bool RouteInput(Ptr<const Packet> p,
                    const Ipv6Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, Ipv6InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, Ipv6InterfaceAddress address) override;
    void NotifyAddRoute(Ipv6Address dst,
                        Ipv6Prefix mask,
                        Ipv6Address nextHop,
                        uint32_t interface,
                        Ipv6Address prefixToUse) override;
    void NotifyRemoveRoute(Ipv6Address dst,
                           Ipv6Prefix mask,
                           Ipv6Address nextHop,
                           uint32_t interface,
                           Ipv6Address prefixToUse) override;
    /// Keeps the node's Ipv6 for subclasses; the inner protocol already has it.
    void SetIpv6(Ptr<Ipv6> ipv6) override;
    void PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const override;

  protected:
    void DoDispose() override;
    Ptr<Ipv6> GetIpv6() const;

  private:
    Ptr<Ipv6RoutingProtocol> m_inner;
    Ptr<Ipv6> m_ipv6;
};

} // namespace ns3

#endif // IPV6_ROUTING_WRAPPER_H
