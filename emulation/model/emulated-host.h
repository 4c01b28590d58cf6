// One emulated host: an ns-3 node that is its kernel below IP (XFRM, the emulated NIC on the ns-3
// wire), the TAP that joins it to the real host's network namespace, and the XFRM netlink
// server its charon talks to.
#ifndef EMULATED_HOST_H
#define EMULATED_HOST_H

#include "host-delivery.h"
#include "host-link-watcher.h"
#include "host-port.h"
#include "xfrm-netlink-endpoint.h"
#include "xfrm-netlink-server.h"
#include "xfrm-stack.h"

#include "ns3/ipv4-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"

#include <string>
#include <vector>

namespace ns3
{

struct EmulatedHostConfig
{
    std::string name;      //!< for messages: "h1", "gw1"
    std::string netnsPath; //!< the real host's network namespace (/proc/<pid>/ns/net)
    std::string tapName;   //!< the TAP's name inside it
    Ipv4Address address;   //!< the host's address on the TAP, and the node's on the wire
    Ipv4Mask mask{"255.255.255.0"};
    std::string xfrmSocket; //!< where the XFRM netlink server listens ("": no server)
    int32_t tapIfindex{-1}; //!< the TAP's ifindex in the host, if known (charon's offload
                            //!< requests name it); else read after the TAP is made

    /// The host's routes through the TAP (network, mask, gateway): the node routes what the host
    /// hands it the same way, since a frame from the host carries no next hop of its own.
    struct Route
    {
        Ipv4Address network;
        Ipv4Mask mask;
        Ipv4Address gateway;
    };

    std::vector<Route> routes;
};

/**
 * Builds the node's side of an emulated host on a node that has only its wire device so far:
 * IPv4 alone on the wire (static routing behind HostRouting), HostL4Protocol for ICMP, TCP and
 * UDP, the XfrmStack, the TAP in the host's namespace as an FdNetDevice with a HostPort, and
 * the netlink endpoint and server. Run it before the simulation starts or in its thread.
 */
class EmulatedHost : public Object
{
  public:
    static TypeId GetTypeId();

    bool Build(const EmulatedHostConfig& config,
               Ptr<Node> node,
               Ptr<NetDevice> wire,
               std::string* error);
    /// Stops the netlink server (joins its thread) and closes the TAP; idempotent.
    void Shutdown();

    const EmulatedHostConfig& GetConfig() const;
    Ptr<Node> GetNode() const;
    Ptr<NetDevice> GetWire() const;
    Ptr<XfrmStack> GetStack() const;
    Ptr<HostPort> GetPort() const;
    Ptr<XfrmNetlinkEndpoint> GetEndpoint() const;
    Ptr<XfrmNetlinkServer> GetServer() const;
    int32_t GetTapIfindex() const;
    /// How often the host's interface went administratively down or up again.
    uint32_t GetLinkChanges() const;

  protected:
    void DoDispose() override;

  private:
    EmulatedHostConfig m_config;
    Ptr<Node> m_node;
    Ptr<NetDevice> m_wire;
    Ptr<XfrmStack> m_stack;
    Ptr<HostPort> m_port;
    Ptr<XfrmNetlinkEndpoint> m_endpoint;
    Ptr<XfrmNetlinkServer> m_server;
    std::vector<Ptr<HostL4Protocol>> m_l4;
    int m_tapFd{-1};
    HostLinkWatcher m_linkWatcher;
    uint32_t m_linkChanges{0}; //!< simulator thread only
};

/// The ifindex of interface name in the network namespace at netnsPath; -1 if not there.
int32_t IfindexInNamespace(const std::string& netnsPath, const std::string& name);

} // namespace ns3

#endif // EMULATED_HOST_H
