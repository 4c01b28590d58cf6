#include "topology.h"

#include "emu-nic-helper.h"
#include "ipsec-helper.h"

#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/icmpv6-l4-protocol.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv6-address-helper.h"
#include "ns3/ipv6-static-routing-helper.h"
#include "ns3/ipv6.h"
#include "ns3/log.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("Topology");

std::vector<uint8_t>
GcmKeyBlob(uint8_t seed)
{
    std::vector<uint8_t> blob(20);
    for (size_t i = 0; i < blob.size(); ++i)
    {
        blob[i] = static_cast<uint8_t>(seed + 7 * i + 1);
    }
    return blob;
}

EspAlgorithm
DefaultGcm(uint8_t seed)
{
    return EspAlgorithm::Gcm(GcmKeyBlob(seed));
}

EspAlgorithm
CbcSha256Algorithm(uint8_t seed)
{
    std::vector<uint8_t> enc(16);
    std::vector<uint8_t> auth(32);
    for (size_t i = 0; i < enc.size(); ++i)
    {
        enc[i] = static_cast<uint8_t>(seed + 3 * i);
    }
    for (size_t i = 0; i < auth.size(); ++i)
    {
        auth[i] = static_cast<uint8_t>(seed * 5 + 11 * i);
    }
    return EspAlgorithm::CbcSha256(enc, auth);
}

std::string
Dotted(const XfrmAddress& address)
{
    return address.ToString();
}

bool
Topology::Tunnel() const
{
    return opt.ipMode == XfrmMode::Tunnel;
}

bool
Topology::UsesIpv6() const
{
    return opt.innerFamily == XfrmAddress::Family::Ipv6 ||
           opt.outerFamily == XfrmAddress::Family::Ipv6;
}

XfrmAddress
Topology::HostAddr(bool a) const
{
    if (opt.innerFamily == XfrmAddress::Family::Ipv6)
    {
        return a ? hostAddr6A : hostAddr6B;
    }
    return a ? hostAddrA : hostAddrB;
}

XfrmAddress
Topology::EndAddr(bool a) const
{
    if (opt.outerFamily == XfrmAddress::Family::Ipv6)
    {
        return a ? endAddr6A : endAddr6B;
    }
    return a ? endAddrA : endAddrB;
}

XfrmAddress
Topology::Net(bool a) const
{
    if (opt.innerFamily == XfrmAddress::Family::Ipv6)
    {
        return a ? net6A : net6B;
    }
    return a ? netA : netB;
}

uint8_t
Topology::NetPrefix() const
{
    return opt.innerFamily == XfrmAddress::Family::Ipv6 ? 64 : 24;
}

std::string
Topology::NodeName(uint32_t nodeId) const
{
    for (uint32_t i = 0; i < nodes.GetN(); ++i)
    {
        if (nodes.Get(i)->GetId() == nodeId && i < nodeNames.size())
        {
            return nodeNames[i];
        }
    }
    return "node" + std::to_string(nodeId);
}

XfrmStateConfig
Topology::SaConfig(bool aToB, bool onSender, XfrmOffloadType type) const
{
    XfrmStateConfig c;
    c.saddr = EndAddr(aToB);
    c.daddr = EndAddr(!aToB);
    c.spi = aToB ? spiAB : spiBA;
    c.reqid = aToB ? reqidAB : reqidBA;
    c.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    c.sel = Tunnel() ? XfrmSelector::Subnets(Net(aToB), NetPrefix(), Net(!aToB), NetPrefix())
                     : XfrmSelector::Hosts(HostAddr(aToB), HostAddr(!aToB));
    c.algorithm = aToB ? algAB : algBA;
    c.replayWindow = opt.replayWindow;
    c.esn = opt.esn;
    if (opt.udpEncap)
    {
        c.encap.type = XfrmEncapType::EspInUdp;
        c.encap.sport = aToB ? opt.encapPortA : opt.encapPortB;
        c.encap.dport = aToB ? opt.encapPortB : opt.encapPortA;
        c.encap.oa = onSender ? c.daddr : c.saddr;
    }
    c.offloadType = type;
    if (type != XfrmOffloadType::None)
    {
        const bool onA = aToB == onSender;
        c.offloadDev = onA ? Ptr<NetDevice>(devA) : Ptr<NetDevice>(devB);
        c.offloadDir = onSender ? XfrmDir::Out : XfrmDir::In;
    }
    return c;
}

XfrmPolicyConfig
Topology::PolicyConfig(bool onA, XfrmDir dir, XfrmOffloadType type) const
{
    // Out policies protect the end's own flow; in and fwd policies accept the peer's.
    const bool aToB = (dir == XfrmDir::Out) == onA;
    XfrmPolicyConfig p;
    p.dir = dir;
    p.priority = opt.policyPriority;
    p.sel = Tunnel() ? XfrmSelector::Subnets(Net(aToB), NetPrefix(), Net(!aToB), NetPrefix())
                     : XfrmSelector::Hosts(HostAddr(aToB), HostAddr(!aToB));
    p.action = XfrmPolicyAction::Allow;
    p.hasTemplate = true;
    p.tmpl.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    p.tmpl.saddr = EndAddr(aToB);
    p.tmpl.daddr = EndAddr(!aToB);
    p.tmpl.reqid = aToB ? reqidAB : reqidBA;
    if (type == XfrmOffloadType::Packet && dir != XfrmDir::Fwd)
    {
        p.offloadType = XfrmOffloadType::Packet;
        p.offloadDev = onA ? Ptr<NetDevice>(devA) : Ptr<NetDevice>(devB);
    }
    return p;
}

void
Topology::Fail(const std::string& error)
{
    if (opt.onError)
    {
        opt.onError(error);
        return;
    }
    NS_LOG_WARN(name << ": " << error);
    errors.push_back(error);
}

Ptr<XfrmState>
Topology::AddSa(bool aToB, bool onSender, XfrmOffloadType type, const XfrmLifetimeConfig& lifetime)
{
    XfrmStateConfig c = SaConfig(aToB, onSender, type);
    c.lifetime = lifetime;
    const bool onA = aToB == onSender;
    std::string error;
    Ptr<XfrmState> x = (onA ? stackA : stackB)->AddState(c, &error);
    if (!x)
    {
        Fail(std::string("AddState ") + (aToB ? "A->B" : "B->A") + " on " + (onA ? "A" : "B") +
             ": " + error);
    }
    return x;
}

Ptr<XfrmPolicy>
Topology::AddPolicy(bool onA, XfrmDir dir, XfrmOffloadType type)
{
    std::string error;
    Ptr<XfrmPolicy> p = (onA ? stackA : stackB)->AddPolicy(PolicyConfig(onA, dir, type), &error);
    if (!p)
    {
        Fail(std::string("AddPolicy ") + XfrmDirName(dir) + " on " + (onA ? "A" : "B") + ": " +
             error);
        return p;
    }
    (onA ? policiesA : policiesB).push_back(p);
    return p;
}

void
Topology::InstallIpsec()
{
    const XfrmOffloadType type = opt.mode;
    outA = AddSa(true, true, type, opt.lifetimeOutA);
    inB = AddSa(true, false, type, opt.lifetimeInB);
    outB = AddSa(false, true, type, XfrmLifetimeConfig{});
    inA = AddSa(false, false, type, XfrmLifetimeConfig{});
    for (bool onA : {true, false})
    {
        AddPolicy(onA, XfrmDir::Out, type);
        AddPolicy(onA, XfrmDir::In, type);
        if (Tunnel())
        {
            AddPolicy(onA, XfrmDir::Fwd, XfrmOffloadType::None);
        }
    }
}

EmuNicHelper
LinkHelperOf(const TopologyOptions& opt)
{
    EmuNicHelper link;
    link.SetDeviceAttribute("DataRate", DataRateValue(opt.dataRate));
    link.SetChannelAttribute("Delay", TimeValue(opt.delay));
    if (!opt.queueSize.empty())
    {
        link.SetQueueSize(opt.queueSize);
    }
    return link;
}

namespace
{
Ptr<EmuNicNetDevice>
NicOf(const NetDeviceContainer& link, uint32_t i)
{
    return DynamicCast<EmuNicNetDevice>(link.Get(i));
}

constexpr uint32_t kMaxTunnels = 1000;
constexpr uint32_t kTunnelsPerHost = 100;

/// The many-tunnel shape: gwA =wan= gwB, and a host per hundred tunnels on each side, each on
/// its own LAN link.
void
BuildManyTunnels(Topology* t, EmuNicHelper& ipsecLink)
{
    const TopologyOptions& opt = t->opt;
    const uint32_t hosts = (opt.tunnels + kTunnelsPerHost - 1) / kTunnelsPerHost;
    t->name = "gateway-tunnel-" + std::to_string(opt.tunnels);
    NodeContainer hostsA;
    NodeContainer hostsB;
    hostsA.Create(hosts);
    hostsB.Create(hosts);
    t->endA = CreateObject<Node>();
    t->endB = CreateObject<Node>();
    t->nodes.Add(hostsA);
    t->nodes.Add(t->endA);
    t->nodes.Add(t->endB);
    t->nodes.Add(hostsB);
    for (uint32_t j = 0; j < hosts; ++j)
    {
        t->nodeNames.push_back("hostA" + std::to_string(j));
    }
    t->nodeNames.push_back("gwA");
    t->nodeNames.push_back("gwB");
    for (uint32_t j = 0; j < hosts; ++j)
    {
        t->nodeNames.push_back("hostB" + std::to_string(j));
    }
    t->hostA = hostsA.Get(0);
    t->hostB = hostsB.Get(0);
    EmuNicHelper lan = LinkHelperOf(opt);
    std::vector<NetDeviceContainer> lansA;
    std::vector<NetDeviceContainer> lansB;
    for (uint32_t j = 0; j < hosts; ++j)
    {
        lansA.push_back(lan.Install(hostsA.Get(j), t->endA));
    }
    NetDeviceContainer wan = ipsecLink.Install(t->endA, t->endB);
    for (uint32_t j = 0; j < hosts; ++j)
    {
        lansB.push_back(lan.Install(t->endB, hostsB.Get(j)));
    }
    for (uint32_t j = 0; j < hosts; ++j)
    {
        t->devices.Add(lansA[j]);
        t->links.push_back({"lanA" + std::to_string(j), lansA[j].Get(0)});
    }
    t->devices.Add(wan);
    t->links.push_back({"wan", wan.Get(0)});
    for (uint32_t j = 0; j < hosts; ++j)
    {
        t->devices.Add(lansB[j]);
        t->links.push_back({"lanB" + std::to_string(j), lansB[j].Get(1)});
    }
    for (const auto* lans : {&lansA, &lansB})
    {
        for (const auto& c : *lans)
        {
            t->lanDevices.push_back(NicOf(c, 0));
            t->lanDevices.push_back(NicOf(c, 1));
        }
    }
    t->devA = NicOf(wan, 0);
    t->devB = NicOf(wan, 1);
    InternetStackHelper().Install(t->nodes);
    Ipv4AddressHelper addresses;
    for (uint32_t j = 0; j < hosts; ++j)
    {
        addresses.SetBase(Ipv4Address((10u << 24) | (16 + j) << 16), "255.255.0.0", "0.0.255.1");
        Ipv4InterfaceContainer ifA = addresses.Assign(lansA[j]);
        addresses.SetBase(Ipv4Address((10u << 24) | (48 + j) << 16), "255.255.0.0", "0.0.255.1");
        Ipv4InterfaceContainer ifB = addresses.Assign(lansB[j]);
        if (j == 0)
        {
            t->hostAddrA = ifA.GetAddress(0);
            t->hostAddrB = ifB.GetAddress(1);
        }
    }
    addresses.SetBase("192.0.2.0", "255.255.255.0");
    Ipv4InterfaceContainer ifW = addresses.Assign(wan);
    t->endAddrA = ifW.GetAddress(0);
    t->endAddrB = ifW.GetAddress(1);
    t->netA = Ipv4Address("10.16.0.0");
    t->netB = Ipv4Address("10.48.0.0");
    for (uint32_t i = 0; i < opt.tunnels; ++i)
    {
        const uint32_t j = i / kTunnelsPerHost;
        const uint32_t k = i % kTunnelsPerHost;
        Ptr<Ipv4> ipv4A = hostsA.Get(j)->GetObject<Ipv4>();
        t->tunnelNetsA.push_back(Ipv4Address((10u << 24) | (16 + j) << 16));
        t->tunnelNetsB.push_back(Ipv4Address((10u << 24) | (48 + j) << 16 | k << 8));
        t->tunnelHostsA.push_back(
            ipv4A->GetAddress(ipv4A->GetInterfaceForDevice(lansA[j].Get(0)), 0).GetLocal());
        t->tunnelHostsB.push_back(Ipv4Address(t->tunnelNetsB.back().Get() + 1));
        t->tunnelNodesA.push_back(hostsA.Get(j));
        t->tunnelNodesB.push_back(hostsB.Get(j));
    }
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    // The B hosts' addresses in the tunnels' subnets, after the routes: their LAN link's /16
    // route covers them, and global routing has one network per link, not one per address.
    for (uint32_t i = 0; i < opt.tunnels; ++i)
    {
        Ptr<Ipv4> ipv4 = t->tunnelNodesB[i]->GetObject<Ipv4>();
        const int32_t lan = ipv4->GetInterfaceForDevice(lansB[i / kTunnelsPerHost].Get(1));
        ipv4->AddAddress(lan, Ipv4InterfaceAddress(t->tunnelHostsB[i], Ipv4Mask("255.255.0.0")));
    }
}

/// IPv6 on a link of nodes whose ICMPv6 skips duplicate address detection (the addresses are
/// usable at once, as a test needs; nothing here duplicates one).
Ipv6InterfaceContainer
AssignIpv6(const NetDeviceContainer& link, const char* prefix)
{
    for (uint32_t i = 0; i < link.GetN(); ++i)
    {
        link.Get(i)->GetNode()->GetObject<Icmpv6L4Protocol>()->SetAttribute("DAD",
                                                                            BooleanValue(false));
    }
    Ipv6AddressHelper helper;
    helper.SetBase(Ipv6Address(prefix), Ipv6Prefix(64));
    return helper.Assign(link);
}

/// A static IPv6 route on node to prefix/64 via nextHop on dev (any prefix: the default route).
void
AddIpv6Route(Ptr<Node> node, Ptr<NetDevice> dev, const char* prefix, Ipv6Address nextHop)
{
    Ptr<Ipv6> ipv6 = node->GetObject<Ipv6>();
    Ptr<Ipv6StaticRouting> routing = Ipv6StaticRoutingHelper().GetStaticRouting(ipv6);
    const uint32_t interface = ipv6->GetInterfaceForDevice(dev);
    if (prefix)
    {
        routing->AddNetworkRouteTo(Ipv6Address(prefix), Ipv6Prefix(64), nextHop, interface);
    }
    else
    {
        routing->SetDefaultRoute(nextHop, interface);
    }
}
} // namespace

std::unique_ptr<Topology>
BuildTopology(const TopologyOptions& opt)
{
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    auto t = std::make_unique<Topology>();
    t->opt = opt;
    t->algAB = opt.algorithmAB ? *opt.algorithmAB : DefaultGcm(0x11);
    t->algBA = opt.algorithmBA ? *opt.algorithmBA : DefaultGcm(0x77);

    EmuNicHelper ipsecLink = LinkHelperOf(opt);
    ipsecLink.SetDeviceAttribute("EspOffload", BooleanValue(opt.espOffload));
    ipsecLink.SetDeviceAttribute("SaCapacity", UintegerValue(opt.saCapacity));
    ipsecLink.SetDeviceAttribute("PolicyCapacity", UintegerValue(opt.policyCapacity));

    InternetStackHelper internet;
    Ipv4AddressHelper addresses;
    if (t->Tunnel() && (opt.tunnels == 0 || opt.tunnels > kMaxTunnels))
    {
        t->Fail("tunnels: " + std::to_string(opt.tunnels) + " is not in 1.." +
                std::to_string(kMaxTunnels));
        return t;
    }
    if (t->UsesIpv6() && opt.tunnels > 1)
    {
        // ESP-in-UDP over IPv6 is the SA's to refuse (encap.type), not the topology's.
        t->Fail("innerFamily/outerFamily: IPv6 is built for one tunnel");
        return t;
    }
    if (!t->Tunnel() && opt.innerFamily != opt.outerFamily)
    {
        t->Fail("innerFamily: transport mode carries the endpoints' own family");
        return t;
    }
    if (t->Tunnel() && opt.tunnels > 1)
    {
        BuildManyTunnels(t.get(), ipsecLink);
    }
    else if (!t->Tunnel())
    {
        t->name = "host-to-host-transport";
        t->nodes.Create(2);
        t->nodeNames = {"hostA", "hostB"};
        t->hostA = t->endA = t->nodes.Get(0);
        t->hostB = t->endB = t->nodes.Get(1);
        NetDeviceContainer link = ipsecLink.Install(t->hostA, t->hostB);
        t->devices.Add(link);
        t->links.push_back({"hostA-hostB", link.Get(0)});
        t->devA = NicOf(link, 0);
        t->devB = NicOf(link, 1);
        internet.Install(t->nodes);
        addresses.SetBase("10.0.0.0", "255.255.255.0");
        Ipv4InterfaceContainer ifs = addresses.Assign(link);
        t->hostAddrA = t->endAddrA = ifs.GetAddress(0);
        t->hostAddrB = t->endAddrB = ifs.GetAddress(1);
        Ipv4GlobalRoutingHelper::PopulateRoutingTables();
        if (t->UsesIpv6())
        {
            Ipv6InterfaceContainer ifs6 = AssignIpv6(link, "fd00::");
            t->hostAddr6A = t->endAddr6A = ifs6.GetAddress(0, 1); // 0 is the link-local one
            t->hostAddr6B = t->endAddr6B = ifs6.GetAddress(1, 1);
        }
    }
    else
    {
        t->name = "gateway-tunnel";
        t->nodes.Create(4);
        t->nodeNames = {"hostA", "gwA", "gwB", "hostB"};
        t->hostA = t->nodes.Get(0);
        t->endA = t->nodes.Get(1);
        t->endB = t->nodes.Get(2);
        t->hostB = t->nodes.Get(3);
        EmuNicHelper lan = LinkHelperOf(opt); // an EmuNic too, but nobody asks it for offload
        NetDeviceContainer lanA = lan.Install(t->hostA, t->endA);
        NetDeviceContainer wan = ipsecLink.Install(t->endA, t->endB);
        NetDeviceContainer lanB = lan.Install(t->endB, t->hostB);
        for (const NetDeviceContainer* c : {&lanA, &wan, &lanB})
        {
            t->devices.Add(*c);
        }
        t->links.push_back({"lanA", lanA.Get(0)});
        t->links.push_back({"wan", wan.Get(0)});
        t->links.push_back({"lanB", lanB.Get(1)});
        for (const NetDeviceContainer* c : {&lanA, &lanB})
        {
            for (uint32_t i = 0; i < c->GetN(); ++i)
            {
                t->lanDevices.push_back(NicOf(*c, i));
            }
        }
        t->devA = NicOf(wan, 0);
        t->devB = NicOf(wan, 1);
        internet.Install(t->nodes);
        addresses.SetBase("10.1.0.0", "255.255.255.0");
        Ipv4InterfaceContainer ifA = addresses.Assign(lanA);
        addresses.SetBase("192.0.2.0", "255.255.255.0");
        Ipv4InterfaceContainer ifW = addresses.Assign(wan);
        addresses.SetBase("10.2.0.0", "255.255.255.0");
        Ipv4InterfaceContainer ifB = addresses.Assign(lanB);
        t->hostAddrA = ifA.GetAddress(0);
        t->endAddrA = ifW.GetAddress(0);
        t->endAddrB = ifW.GetAddress(1);
        t->hostAddrB = ifB.GetAddress(1);
        Ipv4GlobalRoutingHelper::PopulateRoutingTables();
        if (t->UsesIpv6())
        {
            Ipv6InterfaceContainer lan6A = AssignIpv6(lanA, "fd00:1::");
            Ipv6InterfaceContainer wan6 = AssignIpv6(wan, "fd00:ffff::");
            Ipv6InterfaceContainer lan6B = AssignIpv6(lanB, "fd00:2::");
            t->hostAddr6A = lan6A.GetAddress(0, 1);
            t->endAddr6A = wan6.GetAddress(0, 1);
            t->endAddr6B = wan6.GetAddress(1, 1);
            t->hostAddr6B = lan6B.GetAddress(1, 1);
            for (Ptr<Node> gw : {t->endA, t->endB})
            {
                gw->GetObject<Ipv6>()->SetAttribute("IpForward", BooleanValue(true));
            }
            AddIpv6Route(t->hostA, lanA.Get(0), nullptr, lan6A.GetAddress(1, 1));
            AddIpv6Route(t->hostB, lanB.Get(1), nullptr, lan6B.GetAddress(0, 1));
            AddIpv6Route(t->endA, wan.Get(0), "fd00:2::", t->endAddr6B);
            AddIpv6Route(t->endB, wan.Get(1), "fd00:1::", t->endAddr6A);
        }
    }

    if (t->UsesIpv6())
    {
        const bool inner6 = opt.innerFamily == XfrmAddress::Family::Ipv6;
        const bool outer6 = opt.outerFamily == XfrmAddress::Family::Ipv6;
        t->name += inner6 && outer6 ? "-v6" : inner6 ? "-6in4" : "-4in6";
    }
    // After the static routes: the IPv6 routing hook wraps the static routing.
    IpsecHelper().Install(t->nodes);
    t->stackA = t->endA->GetObject<XfrmStack>();
    t->stackB = t->endB->GetObject<XfrmStack>();
    if (opt.udpEncap)
    {
        t->stackA->EnableUdpEncap(opt.encapPortA);
        t->stackB->EnableUdpEncap(opt.encapPortB);
    }
    if (opt.installIpsec && !t->tunnelNetsA.empty())
    {
        t->Fail("installIpsec: the test SA pair is for one tunnel, not " +
                std::to_string(opt.tunnels) + " (use a key manager)");
    }
    else if (opt.installIpsec)
    {
        t->InstallIpsec();
    }
    return t;
}

} // namespace ns3
