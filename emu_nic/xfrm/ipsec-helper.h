#ifndef IPSEC_HELPER_H
#define IPSEC_HELPER_H

#include "xfrm-stack.h"

#include "ns3/node-container.h"

namespace ns3
{

/// Installs the software IPsec layer (XfrmStack) on nodes that already have IPv4 and routes.
class IpsecHelper
{
  public:
    Ptr<XfrmStack> Install(Ptr<Node> node) const;
    void Install(NodeContainer nodes) const;
};

} // namespace ns3

#endif // IPSEC_HELPER_H
