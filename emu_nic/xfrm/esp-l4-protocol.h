#ifndef ESP_L4_PROTOCOL_H
#define ESP_L4_PROTOCOL_H

#include "ns3/ip-l4-protocol.h"

namespace ns3
{

class XfrmStack;

/// IP protocol 50 on a node: hands every ESP packet addressed to the node to its XfrmStack.
class EspL4Protocol : public IpL4Protocol
{
  public:
    static TypeId GetTypeId();
    void SetStack(Ptr<XfrmStack> stack);

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

  protected:
    void DoDispose() override;

  private:
    Ptr<XfrmStack> m_stack;
    DownTargetCallback m_downTarget;
    DownTargetCallback6 m_downTarget6;
};

} // namespace ns3

#endif // ESP_L4_PROTOCOL_H
