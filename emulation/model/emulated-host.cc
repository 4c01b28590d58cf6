#include "emulated-host.h"

#include "emu-nic-net-device.h"
#include "ipsec-helper.h"
#include "tap-device.h"
#include "tap-net-device.h"

#include "ns3/fd-net-device.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/log.h"

#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("EmulatedHost");

NS_OBJECT_ENSURE_REGISTERED(EmulatedHost);

TypeId
EmulatedHost::GetTypeId()
{
    static TypeId tid = TypeId("ns3::EmulatedHost")
                            .SetParent<Object>()
                            .SetGroupName("Emulation")
                            .AddConstructor<EmulatedHost>();
    return tid;
}

int32_t
IfindexInNamespace(const std::string& netnsPath, const std::string& name)
{
    const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    int32_t index = -1;
    if (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0)
    {
        index = int32_t(if_nametoindex(name.c_str()));
        if (setns(self, CLONE_NEWNET) != 0)
        {
            std::abort(); // this thread would stay in the host's namespace
        }
    }
    if (self >= 0)
    {
        close(self);
    }
    if (target >= 0)
    {
        close(target);
    }
    return index > 0 ? index : -1;
}

bool
EmulatedHost::Build(const EmulatedHostConfig& config,
                    Ptr<Node> node,
                    Ptr<NetDevice> wire,
                    std::string* error)
{
    m_config = config;
    m_node = node;
    m_wire = wire;
    const std::string where = "host " + config.name + ": ";

    InternetStackHelper internet;
    internet.SetIpv6StackInstall(false);
    internet.SetRoutingHelper(Ipv4StaticRoutingHelper());
    internet.Install(node);
    Ptr<Ipv4L3Protocol> ipv4 = node->GetObject<Ipv4L3Protocol>();
    const int32_t ifWire = int32_t(ipv4->AddInterface(wire));
    ipv4->AddAddress(uint32_t(ifWire), Ipv4InterfaceAddress(config.address, config.mask));
    ipv4->SetUp(uint32_t(ifWire));
    Ptr<Ipv4StaticRouting> staticRouting =
        Ipv4StaticRoutingHelper().GetStaticRouting(node->GetObject<Ipv4>());
    for (const auto& r : config.routes)
    {
        staticRouting->AddNetworkRouteTo(r.network, r.mask, r.gateway, uint32_t(ifWire));
    }

    // The host's kernel does ICMP, TCP and UDP: the node's own protocols make way for ones that
    // hand each packet to the host.
    m_port = CreateObject<HostPort>();
    for (int proto : {1, 6, 17})
    {
        if (Ptr<IpL4Protocol> own = ipv4->GetProtocol(proto))
        {
            ipv4->Remove(own);
        }
        Ptr<HostL4Protocol> l4 = CreateObject<HostL4Protocol>();
        l4->Setup(proto, MakeCallback(&HostPort::Deliver, m_port));
        ipv4->Insert(l4);
        m_l4.push_back(l4);
    }
    Ptr<HostRouting> routing = CreateObject<HostRouting>();
    routing->SetInner(ipv4->GetRoutingProtocol());
    ipv4->SetRoutingProtocol(routing);
    // After routing: the XFRM hook wraps HostRouting.
    m_stack = IpsecHelper().Install(node);

    m_tapFd = OpenTapInNamespace(config.netnsPath, config.tapName, error);
    if (m_tapFd < 0)
    {
        *error = where + *error;
        return false;
    }
    Ptr<TapNetDevice> tap = CreateObject<TapNetDevice>();
    tap->SetAddress(Mac48Address::Allocate());
    tap->SetFileDescriptor(m_tapFd);
    node->AddDevice(tap);
    m_port->Setup(node, m_stack, tap, config.address);
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof(ifr));
    if (ioctl(m_tapFd, SIOCGIFHWADDR, &ifr) == 0)
    {
        uint8_t mac[6];
        std::memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
        Mac48Address hostMac;
        hostMac.CopyFrom(mac);
        m_port->SetHostMac(hostMac);
    }
    m_port->StartWriter(m_tapFd);
    if (m_config.tapIfindex < 0)
    {
        m_config.tapIfindex = IfindexInNamespace(config.netnsPath, config.tapName);
    }

    if (Ptr<EmuNicNetDevice> nic = DynamicCast<EmuNicNetDevice>(wire);
        nic && m_config.tapIfindex > 0)
    {
        // The host's interface is the one charon names for offload: its administrative down is
        // the device's NETDEV_DOWN (the stack flushes what is offloaded there and tells charon
        // nothing, as xfrm_dev_down does). Raw pointer: ns-3 Ptrs are not for other threads.
        EmuNicNetDevice* device = PeekPointer(nic);
        if (!m_linkWatcher.Start(
                config.netnsPath,
                m_config.tapIfindex,
                [this, device](bool up) {
                    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT,
                                                   Time(0),
                                                   [this, device, up] {
                                                       NS_LOG_INFO(m_config.name
                                                                   << "'s interface is "
                                                                   << (up ? "up" : "down"));
                                                       ++m_linkChanges;
                                                       device->SetLinkDown(!up);
                                                   });
                },
                error))
        {
            *error = where + *error;
            return false;
        }
    }

    if (!config.xfrmSocket.empty())
    {
        m_endpoint = CreateObject<XfrmNetlinkEndpoint>();
        m_endpoint->SetStack(m_stack);
        if (m_config.tapIfindex > 0)
        {
            // charon asks for offload to the host's interface; the EmuNic is what it stands for.
            m_endpoint->AddInterface(m_config.tapIfindex, wire);
        }
        m_server = CreateObject<XfrmNetlinkServer>();
        if (!m_server->Start(m_endpoint, config.xfrmSocket, error))
        {
            *error = where + *error;
            return false;
        }
    }
    return true;
}

void
EmulatedHost::Shutdown()
{
    m_linkWatcher.Stop();
    if (m_server)
    {
        m_server->Stop();
    }
    if (m_port)
    {
        m_port->StopWriter(); // before the TAP's descriptor closes
    }
    if (m_port && m_port->GetTap())
    {
        // FdNetDevice stops its reader and closes the descriptor on dispose.
        m_port->GetTap()->Dispose();
        m_tapFd = -1;
    }
}

const EmulatedHostConfig&
EmulatedHost::GetConfig() const
{
    return m_config;
}

Ptr<Node>
EmulatedHost::GetNode() const
{
    return m_node;
}

Ptr<NetDevice>
EmulatedHost::GetWire() const
{
    return m_wire;
}

Ptr<XfrmStack>
EmulatedHost::GetStack() const
{
    return m_stack;
}

Ptr<HostPort>
EmulatedHost::GetPort() const
{
    return m_port;
}

Ptr<XfrmNetlinkEndpoint>
EmulatedHost::GetEndpoint() const
{
    return m_endpoint;
}

Ptr<XfrmNetlinkServer>
EmulatedHost::GetServer() const
{
    return m_server;
}

uint32_t
EmulatedHost::GetLinkChanges() const
{
    return m_linkChanges;
}

int32_t
EmulatedHost::GetTapIfindex() const
{
    return m_config.tapIfindex;
}

void
EmulatedHost::DoDispose()
{
    Shutdown();
    m_l4.clear();
    m_node = nullptr;
    m_wire = nullptr;
    m_stack = nullptr;
    m_port = nullptr;
    m_endpoint = nullptr;
    m_server = nullptr;
    Object::DoDispose();
}

} // namespace ns3
