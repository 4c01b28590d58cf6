// gateway-to-gateway through a NAT: gwA sits behind a port-preserving UDP source NAT, as a
// branch office behind a carrier-grade NAT would.
//
//   hostA 10.1.0.1 -lanA- 10.1.0.2 gwA 100.64.0.1 -wanA- 100.64.0.2 nat 192.0.2.1 -wanB-
//   192.0.2.2 gwB 10.2.0.1 -lanB- 10.2.0.2 hostB
//
// gwB sees gwA as 192.0.2.1. Plain ESP does not cross the NAT; ESP-in-UDP (RFC 3948) does. The
// IPsec devices are gwA's and gwB's WAN NICs (devA, devB), on two links.
#ifndef NAT_TOPOLOGY_H
#define NAT_TOPOLOGY_H

#include "nat-routing.h"
#include "topology.h"

#include <memory>

namespace ns3
{

struct NatTopology
{
    std::unique_ptr<Topology> t; //!< installIpsec is ignored: a key manager adds the SAs
    Ptr<Node> natNode;
    Ptr<NatRouting> nat;
    Ipv4Address natAddress; //!< the NAT's outside address: gwA as gwB sees it
};

/// Builds the topology for opt (mode, link options; opt.ipMode must be Tunnel).
NatTopology BuildNatTopology(const TopologyOptions& opt);

} // namespace ns3

#endif // NAT_TOPOLOGY_H
