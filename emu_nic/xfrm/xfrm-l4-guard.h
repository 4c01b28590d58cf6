#ifndef XFRM_L4_GUARD_H
#define XFRM_L4_GUARD_H

#include "ns3/ip-l4-protocol.h"

namespace ns3
{

class XfrmStack;

/**
 * Stands in for TCP or UDP in a node's IPv6 and checks the inbound policy of every segment
 * delivered to the node before the real protocol gets it (Linux's xfrm6_policy_check in
 * tcp_v6_rcv and udpv6_rcv, after reassembly). ns-3's IPv6 hands local packets to the L4
 * protocol without asking routing, so this is where XFRM sees them. Everything else goes to the
 * protocol it wraps.
 */
class XfrmL4Guard : public IpL4Protocol
{
  public:
    static TypeId GetTypeId();
    void Setup(Ptr<XfrmStack> stack, Ptr<IpL4Protocol> inner);

    int GetProtocolNumber() const override;
    RxStatus Receive(Ptr<Packet> p,
                     const Ipv4Header& header,
                     Ptr<Ipv4Interface> incomingInterface) override;
    RxStatus Receive(Ptr<Packet> p,
                     const Ipv6Header& header,
                     Ptr<Ipv6Interface> incomingInterface) override;
    void ReceiveIcmp(Ipv4Address icmpSource,
                     uint8_t icmpTtl,
                     uint8_t icmpType,
                     uint8_t icmpCode,
                     uint32_t icmpInfo,
                     Ipv4Address payloadSource,
                     Ipv4Address payloadDestination,
                     const uint8_t payload[8]) override;
    void ReceiveIcmp(Ipv6Address icmpSource,
                     uint8_t icmpTtl,
                     uint8_t icmpType,
                     uint8_t icmpCode,
                     uint32_t icmpInfo,
                     Ipv6Address payloadSource,
                     Ipv6Address payloadDestination,
                     const uint8_t payload[8]) override;
    void SetDownTarget(DownTargetCallback cb) override;
    void SetDownTarget6(DownTargetCallback6 cb) override;
    DownTargetCallback GetDownTarget() const override;
    DownTargetCallback6 GetDownTarget6() const override;

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
    Ptr<IpL4Protocol> m_inner;
};

} // namespace ns3

#endif // XFRM_L4_GUARD_H
