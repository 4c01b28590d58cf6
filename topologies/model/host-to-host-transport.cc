#include "emu-nic-helper.h"
#include "ipsec-helper.h"
#include "topology.h"

#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"

namespace ns3
{

Topology
BuildHostToHostTransport(const TopologyParameters& parameters)
{
    Topology t;
    t.name = "host-to-host-transport";
    t.nodes.Create(2);
    t.nodeNames = {"hostA", "hostB"};

    EmuNicHelper link;
    link.SetDeviceAttribute("DataRate", DataRateValue(parameters.linkRate));
    link.SetChannelAttribute("Delay", TimeValue(parameters.linkDelay));
    NetDeviceContainer devices = link.Install(t.nodes.Get(0), t.nodes.Get(1));
    t.devices.Add(devices);
    t.links.push_back({"hostA-hostB", devices.Get(0)});

    InternetStackHelper internet;
    internet.Install(t.nodes);
    Ipv4AddressHelper addresses("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifaces = addresses.Assign(devices);
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    IpsecHelper().Install(t.nodes);

    IpsecConnectionConfig& c = t.connection;
    c.name = "hostA-hostB";
    c.mode = XfrmMode::Transport;
    c.keyBits = 128;
    c.esn = false;
    c.replayWindow = parameters.replayWindow;
    c.lifetime = parameters.lifetime;
    const XfrmOffloadType offload = OffloadTypeOf(parameters.mode);
    c.left = {t.nodes.Get(0), ifaces.GetAddress(0), ifaces.GetAddress(0), 32, devices.Get(0),
              offload};
    c.right = {t.nodes.Get(1), ifaces.GetAddress(1), ifaces.GetAddress(1), 32, devices.Get(1),
               offload};
    t.sender = t.nodes.Get(0);
    t.receiver = t.nodes.Get(1);
    t.receiverAddress = ifaces.GetAddress(1);
    return t;
}

} // namespace ns3
