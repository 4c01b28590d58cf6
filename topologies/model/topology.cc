#include "topology.h"

#include "emu-nic-helper.h"
#include "ipsec-helper.h"

#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
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
Dotted(Ipv4Address address)
{
    std::ostringstream os;
    address.Print(os);
    return os.str();
}

bool
Topology::Tunnel() const
{
    return opt.ipMode == XfrmMode::Tunnel;
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
    c.saddr = aToB ? endAddrA : endAddrB;
    c.daddr = aToB ? endAddrB : endAddrA;
    c.spi = aToB ? spiAB : spiBA;
    c.reqid = aToB ? reqidAB : reqidBA;
    c.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    c.sel = Tunnel()
                ? XfrmSelector::Subnets(aToB ? netA : netB, 24, aToB ? netB : netA, 24)
                : XfrmSelector::Hosts(aToB ? hostAddrA : hostAddrB, aToB ? hostAddrB : hostAddrA);
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
    p.sel = Tunnel()
                ? XfrmSelector::Subnets(aToB ? netA : netB, 24, aToB ? netB : netA, 24)
                : XfrmSelector::Hosts(aToB ? hostAddrA : hostAddrB, aToB ? hostAddrB : hostAddrA);
    p.action = XfrmPolicyAction::Allow;
    p.hasTemplate = true;
    p.tmpl.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
    p.tmpl.saddr = aToB ? endAddrA : endAddrB;
    p.tmpl.daddr = aToB ? endAddrB : endAddrA;
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
    if (!t->Tunnel())
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
    }
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    IpsecHelper().Install(t->nodes);
    t->stackA = t->endA->GetObject<XfrmStack>();
    t->stackB = t->endB->GetObject<XfrmStack>();
    if (opt.udpEncap)
    {
        t->stackA->EnableUdpEncap(opt.encapPortA);
        t->stackB->EnableUdpEncap(opt.encapPortB);
    }
    if (opt.installIpsec)
    {
        t->InstallIpsec();
    }
    return t;
}

} // namespace ns3
