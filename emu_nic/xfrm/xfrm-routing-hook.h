#ifndef XFRM_ROUTING_HOOK_H
#define XFRM_ROUTING_HOOK_H

#include "ipv4-routing-wrapper.h"
#include "ipv6-routing-wrapper.h"

namespace ns3
{

class XfrmStack;

/**
 * Wraps a node's routing protocol so that XFRM sees every received packet before routing does:
 * the inbound/forward policy checks and the protection of forwarded traffic (Linux's
 * __xfrm_policy_check and xfrm_lookup on the forward path). Everything else is delegated.
 */
class XfrmRoutingHook : public Ipv4RoutingWrapper
{
  public:
    static TypeId GetTypeId();
    void SetStack(Ptr<XfrmStack> stack);

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
};

/**
 * The IPv6 side: ns-3's IPv6 delivers packets for the node's own addresses before routing, so
 * this sees forwarded traffic only (forward policy check, protection of forwarded traffic); the
 * inbound check of local traffic is XfrmL4Guard's.
 */
class XfrmRoutingHook6 : public Ipv6RoutingWrapper
{
  public:
    static TypeId GetTypeId();
    void SetStack(Ptr<XfrmStack> stack);

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv6Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
};

} // namespace ns3

#endif // XFRM_ROUTING_HOOK_H
