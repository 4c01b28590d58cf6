#ifndef UDP_ENCAP_L4_PROTOCOL_H
#define UDP_ENCAP_L4_PROTOCOL_H

#include "ns3/ip-l4-protocol.h"

namespace ns3
{

class XfrmStack;

/**
 * IP protocol 17 on a node whose key manager opened an ESP-in-UDP socket (Linux's UDP_ENCAP
 * socket option, RFC 3948): datagrams to a port the XfrmStack enabled go to it, which
 * takes ESP and NAT keepalives and hands IKE (the non-ESP marker) back; everything else goes to
 * the node's UDP unchanged, ICMP errors included.
 */
class UdpEncapL4Protocol : public IpL4Protocol
{
  public:
    static TypeId GetTypeId();
    void SetStack(Ptr<XfrmStack> stack);
    void SetUdp(Ptr<IpL4Protocol> udp);
    Ptr<IpL4Protocol> GetUdp() const;

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
    void SetDownTarget(DownTargetCallback cb) override;
    void SetDownTarget6(DownTargetCallback6 cb) override;
    DownTargetCallback GetDownTarget() const override;
    DownTargetCallback6 GetDownTarget6() const override;

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
    Ptr<IpL4Protocol> m_udp;
    DownTargetCallback m_downTarget;
    DownTargetCallback6 m_downTarget6;
};

} // namespace ns3

#endif // UDP_ENCAP_L4_PROTOCOL_H
