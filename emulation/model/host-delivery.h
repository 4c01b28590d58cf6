// Bump in the stack: what an emulated host's ns-3 node would deliver to itself goes to the host.
// The node stands for the host's kernel below IP (its XFRM layer, its NIC); the host's own
// kernel, behind a TAP, does the transport protocols, the sockets and its own routing.
#ifndef HOST_DELIVERY_H
#define HOST_DELIVERY_H

#include "ipv4-routing-wrapper.h"

#include "ns3/callback.h"
#include "ns3/ip-l4-protocol.h"
#include "ns3/packet.h"

namespace ns3
{

/// Where a node hands a whole IPv4 packet for its host (HostPort::Deliver).
typedef Callback<void, Ptr<Packet>> HostDeliverCallback;

/**
 * Stands in a node's IPv4 for one transport protocol (ICMP, TCP, UDP): every packet IPv4
 * delivers to it, after XFRM's inbound checks and decryption, goes to the host whole, its
 * header rebuilt from what IPv4 passes up. It never sends: the host's packets enter the node
 * through XfrmStack::OutputFromHost.
 */
class HostL4Protocol : public IpL4Protocol
{
  public:
    static TypeId GetTypeId();
    void Setup(int protocolNumber, HostDeliverCallback deliver);

    int GetProtocolNumber() const override;
    RxStatus Receive(Ptr<Packet> p,
                     const Ipv4Header& header,
                     Ptr<Ipv4Interface> incomingInterface) override;
    RxStatus Receive(Ptr<Packet> p,
                     const Ipv6Header& header,
                     Ptr<Ipv6Interface> incomingInterface) override;
    void SetDownTarget(DownTargetCallback cb) override;
    void SetDownTarget6(DownTargetCallback6 cb) override;
    DownTargetCallback GetDownTarget() const override;
    DownTargetCallback6 GetDownTarget6() const override;

    uint64_t GetDelivered() const;

  protected:
    void DoDispose() override;

  private:
    int m_protocol{0};
    HostDeliverCallback m_deliver;
    DownTargetCallback m_downTarget;
    DownTargetCallback6 m_downTarget6;
    uint64_t m_delivered{0};
};

/**
 * The routing of an emulated host's node: outbound routes are the inner (static) routing's;
 * every unicast packet that arrives from the wire is delivered locally, whatever its address,
 * because the host behind the node (a gateway, say) routes it on. XfrmRoutingHook wraps this,
 * so the forward policy check of a gateway's decrypted tunnel traffic still happens.
 */
class HostRouting : public Ipv4RoutingWrapper
{
  public:
    static TypeId GetTypeId();

    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb,
                    LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;
};

} // namespace ns3

#endif // HOST_DELIVERY_H
