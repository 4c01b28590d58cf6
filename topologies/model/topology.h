#ifndef TOPOLOGY_H
#define TOPOLOGY_H

#include "ipsec-key-manager.h"

#include "ns3/data-rate.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"

#include <string>
#include <vector>

namespace ns3
{

/// How the IPsec endpoints of a run process ESP.
enum class IpsecRunMode : uint8_t
{
    Software, //!< "sw": the stack does everything
    Crypto,   //!< "crypto": crypto offload on the endpoints' NICs
    Packet,   //!< "packet": packet (full) offload on the endpoints' NICs
};

const char* IpsecRunModeName(IpsecRunMode mode);
bool ParseIpsecRunMode(const std::string& name, IpsecRunMode* mode);
XfrmOffloadType OffloadTypeOf(IpsecRunMode mode);

/// The knobs a topology is built with.
struct TopologyParameters
{
    IpsecRunMode mode{IpsecRunMode::Software};
    DataRate linkRate{"100Mbps"};
    Time linkDelay{MilliSeconds(1)};
    XfrmLifetimeConfig lifetime;
    uint32_t replayWindow{64};
};

/// A wire link worth capturing.
struct TopologyLink
{
    std::string name;
    Ptr<NetDevice> captureDevice;
};

/// A built topology: nodes with IPv4, routes and XfrmStacks, and the IPsec connection to add.
struct Topology
{
    std::string name;
    NodeContainer nodes;
    std::vector<std::string> nodeNames; //!< by node id order within `nodes`
    std::vector<TopologyLink> links;
    NetDeviceContainer devices; //!< every device, for counters
    IpsecConnectionConfig connection;
    Ptr<Node> sender;
    Ptr<Node> receiver;
    Ipv4Address receiverAddress;
};

/// host-to-host, transport mode: two hosts on one offload-capable link.
Topology BuildHostToHostTransport(const TopologyParameters& parameters);
/// gateway-to-gateway, tunnel mode: hostA - gwA == gwB - hostB, ESP on the WAN link only.
Topology BuildGatewayTunnel(const TopologyParameters& parameters);

} // namespace ns3

#endif // TOPOLOGY_H
