#ifndef IPV4_ROUTING_WRAPPER_H
#define IPV4_ROUTING_WRAPPER_H

#include "ns3/ipv4-routing-protocol.h"

namespace ns3
{

/**
 * A routing protocol in front of a node's own one: every call goes to the inner protocol, so a
 * subclass overrides only what it looks at (XFRM's policy checks, a NAT's translation) and
 * hands the rest on. Install with Ipv4::SetRoutingProtocol after SetInner.
 */
class Ipv4RoutingWrapper : public Ipv4RoutingProtocol
{
  public:
    static TypeId GetTypeId();
    void SetInner(Ptr<Ipv4RoutingProtocol> inner);
    Ptr<Ipv4RoutingProtocol> GetInner() const;

    Ptr<Ipv4Route> RouteOutput(Ptr<Packet> p,
                               const Ipv4Header& header,
                               Ptr<NetDevice> oif,
                               Socket::SocketErrno& sockerr) override;
    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    /// Keeps the node's Ipv4 for subclasses; the inner protocol already has it (it was
    /// installed first).
    void SetIpv4(Ptr<Ipv4> ipv4) override;
    void PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const override;

  protected:
    void DoDispose() override;
    Ptr<Ipv4> GetIpv4() const;

  private:
    Ptr<Ipv4RoutingProtocol> m_inner;
    Ptr<Ipv4> m_ipv4;
};

} // namespace ns3

#endif // IPV4_ROUTING_WRAPPER_H
