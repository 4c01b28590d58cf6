#include "nat-topology.h"

#include "emu-nic-helper.h"
#include "ipsec-helper.h"

#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/uinteger.h"

namespace ns3
{

NatTopology
BuildNatTopology(const TopologyOptions& options)
{
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    NatTopology n;
    n.t = std::make_unique<Topology>();
    Topology& t = *n.t;
    t.opt = options;
    t.opt.ipMode = XfrmMode::Tunnel;
    t.opt.installIpsec = false;
    t.algAB = DefaultGcm(0x11);
    t.algBA = DefaultGcm(0x77);
    t.name = "gateway-tunnel-nat";
    t.nodes.Create(5);
    t.nodeNames = {"hostA", "gwA", "nat", "gwB", "hostB"};
    t.hostA = t.nodes.Get(0);
    t.endA = t.nodes.Get(1);
    n.natNode = t.nodes.Get(2);
    t.endB = t.nodes.Get(3);
    t.hostB = t.nodes.Get(4);

    EmuNicHelper plain = LinkHelperOf(t.opt);
    EmuNicHelper ipsec = LinkHelperOf(t.opt);
    ipsec.SetDeviceAttribute("EspOffload", BooleanValue(t.opt.espOffload));
    ipsec.SetDeviceAttribute("SaCapacity", UintegerValue(t.opt.saCapacity));
    ipsec.SetDeviceAttribute("PolicyCapacity", UintegerValue(t.opt.policyCapacity));
    NetDeviceContainer lanA = plain.Install(t.hostA, t.endA);
    // The gateways' WAN NICs carry the IPsec (the NAT's NICs are plain EmuNics).
    NetDeviceContainer wanA = ipsec.Install(t.endA, n.natNode);
    NetDeviceContainer wanB = ipsec.Install(n.natNode, t.endB);
    NetDeviceContainer lanB = plain.Install(t.endB, t.hostB);
    for (const NetDeviceContainer* c : {&lanA, &wanA, &wanB, &lanB})
    {
        t.devices.Add(*c);
    }
    t.links.push_back({"lanA", lanA.Get(0)});
    t.links.push_back({"wanA", wanA.Get(0)});
    t.links.push_back({"wanB", wanB.Get(1)});
    t.links.push_back({"lanB", lanB.Get(1)});
    t.devA = DynamicCast<EmuNicNetDevice>(wanA.Get(0));
    t.devB = DynamicCast<EmuNicNetDevice>(wanB.Get(1));
    for (const NetDeviceContainer* c : {&lanA, &lanB})
    {
        for (uint32_t i = 0; i < c->GetN(); ++i)
        {
            t.lanDevices.push_back(DynamicCast<EmuNicNetDevice>(c->Get(i)));
        }
    }

    InternetStackHelper internet;
    internet.Install(t.nodes);
    Ipv4AddressHelper addresses;
    addresses.SetBase("10.1.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifA = addresses.Assign(lanA);
    addresses.SetBase("100.64.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifWanA = addresses.Assign(wanA);
    addresses.SetBase("192.0.2.0", "255.255.255.0");
    Ipv4InterfaceContainer ifWanB = addresses.Assign(wanB);
    addresses.SetBase("10.2.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifB = addresses.Assign(lanB);
    t.hostAddrA = ifA.GetAddress(0);
    t.endAddrA = ifWanA.GetAddress(0);
    n.natAddress = ifWanB.GetAddress(0);
    t.endAddrB = ifWanB.GetAddress(1);
    t.hostAddrB = ifB.GetAddress(1);
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    IpsecHelper().Install(t.nodes);
    t.stackA = t.endA->GetObject<XfrmStack>();
    t.stackB = t.endB->GetObject<XfrmStack>();

    // The NAT wraps whatever routes on its node (the IPsec layer's hook around global routing).
    Ptr<Ipv4L3Protocol> ipv4 = n.natNode->GetObject<Ipv4L3Protocol>();
    n.nat = CreateObject<NatRouting>();
    n.nat->Configure(ipv4->GetRoutingProtocol(),
                     uint32_t(ipv4->GetInterfaceForDevice(wanA.Get(1))),
                     n.natAddress);
    ipv4->SetRoutingProtocol(n.nat);
    return n;
}

} // namespace ns3
