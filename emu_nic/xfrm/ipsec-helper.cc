#include "ipsec-helper.h"

#include "ns3/abort.h"

namespace ns3
{

Ptr<XfrmStack>
IpsecHelper::Install(Ptr<Node> node) const
{
    NS_ABORT_MSG_IF(node->GetObject<XfrmStack>(),
                    "IpsecHelper::Install: node " << node->GetId() << " already has an XfrmStack");
    Ptr<XfrmStack> stack = CreateObject<XfrmStack>();
    node->AggregateObject(stack);
    stack->Install(node);
    return stack;
}

void
IpsecHelper::Install(NodeContainer nodes) const
{
    for (auto it = nodes.Begin(); it != nodes.End(); ++it)
    {
        Install(*it);
    }
}

} // namespace ns3
