#ifndef XFRM_ROUTING_HOOK_H
#define XFRM_ROUTING_HOOK_H

#include "ns3/ipv4-routing-protocol.h"

namespace ns3
{

class XfrmStack;

/**
 * Wraps a node's routing protocol so that XFRM sees every received packet before routing does:
 * the inbound/forward policy checks and the protection of forwarded traffic (Linux's
 * __xfrm_policy_check and xfrm_lookup on the forward path). Everything else is delegated.
 */
class XfrmRoutingHook : public Ipv4RoutingProtocol
{
  public:
    static TypeId GetTypeId();
    XfrmRoutingHook();
    void SetStack(Ptr<XfrmStack> stack);
    void SetInner(Ptr<Ipv4RoutingProtocol> inner);

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
    void SetIpv4(Ptr<Ipv4> ipv4) override;
    void PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const override;

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
    Ptr<Ipv4RoutingProtocol> m_inner;
};

} // namespace ns3

#endif // XFRM_ROUTING_HOOK_H
