#include "xfrm-stack.h"

#include "esp-l4-protocol.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "udp-encap-l4-protocol.h"
#include "xfrm-l4-guard.h"
#include "xfrm-offload-tag.h"
#include "xfrm-routing-hook.h"

#include "ns3/icmpv4-l4-protocol.h"
#include "ns3/icmpv4.h"
#include "ns3/ipv4-route.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmStack");
NS_OBJECT_ENSURE_REGISTERED(XfrmStack);

const char*
XfrmDropName(XfrmDrop reason)
{
    static const char* const names[] = {
        "XfrmInHdrError",
        "XfrmInNoStates",
        "XfrmInStateProtoError",
        "XfrmInBufferError",
        "XfrmInStateSeqError",
        "XfrmInStateExpired",
        "XfrmInStateMismatch",
        "XfrmInNoPols",
        "XfrmInPolBlock",
        "XfrmInTmplMismatch",
        "XfrmOutNoStates",
        "XfrmOutStateSeqError",
        "XfrmOutStateExpired",
        "XfrmOutPolBlock",
        "XfrmFwdHdrError",
        "XfrmOutError",
        "UdpInCsumErrors",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(XfrmDrop::Count));
    return names[size_t(reason)];
}

const char*
XfrmEventName(XfrmEvent event)
{
    static const char* const names[] = {
        "CryptoOffloadFallback",
        "CryptoOffloadTxPackets",
        "CryptoOffloadRxPackets",
        "CryptoOffloadTxCsum",
        "LocalPmtuErrors",
        "UdpEncapTxPackets",
        "UdpEncapRxPackets",
        "UdpEncapKeepalives",
        "UdpEncapToSocket",
        "UdpEncapNewMapping",
        "GsoSoftwareSegments",
        "GsoOffloadTxPackets",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(XfrmEvent::Count));
    return names[size_t(event)];
}

TypeId
XfrmStack::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::XfrmStack")
            .SetParent<Object>()
            .SetGroupName("EmuNic")
            .AddConstructor<XfrmStack>()
            .AddAttribute("StateFreeDelay",
                          "Time between xdo_dev_state_delete and xdo_dev_state_free of a deleted "
                          "state: Linux frees once no packet in flight holds the state",
                          TimeValue(MilliSeconds(200)),
                          MakeTimeAccessor(&XfrmStack::m_stateFreeDelay),
                          MakeTimeChecker(Seconds(0)))
            .AddTraceSource("Drop",
                            "A packet dropped by XFRM, with the reason (Linux's xfrm_stat counter)",
                            MakeTraceSourceAccessor(&XfrmStack::m_dropTrace),
                            "ns3::XfrmStack::DropTracedCallback")
            .AddTraceSource("Expire",
                            "A state reached its soft (false) or hard (true) limit",
                            MakeTraceSourceAccessor(&XfrmStack::m_expireTrace),
                            "ns3::XfrmStack::ExpireTracedCallback")
            .AddTraceSource("OffloadFallback",
                            "A crypto offload request the device refused; the SA runs in software",
                            MakeTraceSourceAccessor(&XfrmStack::m_fallbackTrace),
                            "ns3::XfrmStack::FallbackTracedCallback");
    return tid;
}

XfrmStack::XfrmStack() = default;
XfrmStack::~XfrmStack() = default;

namespace
{
// Raw pointers: the device stores this callback, so a Ptr to it would be a cycle.
// Linux xfrm_dev_down: only a device with NETIF_F_HW_ESP has its offloads flushed.
void
DeviceDownThunk(XfrmStack* stack, NetDevice* dev)
{
    XfrmDevOps* ops = GetXfrmDevOps(dev);
    if (ops && (ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP))
    {
        stack->FlushDevice(dev);
    }
}

void
CheckExpireThunk(XfrmStack* stack, Ptr<XfrmState> x)
{
    stack->CheckExpire(x);
}
} // namespace

void
XfrmStack::Install(Ptr<Node> node)
{
    m_node = node;
    m_ipv4 = node->GetObject<Ipv4L3Protocol>();
    NS_ABORT_MSG_IF(!m_ipv4,
                    "XfrmStack::Install: node " << node->GetId()
                                                << " has no IPv4; install the internet "
                                                   "stack first");
    for (int proto : {1, int(kIpProtoTcp), int(kIpProtoUdp)})
    {
        Ptr<IpL4Protocol> l4 = m_ipv4->GetProtocol(proto);
        if (l4)
        {
            m_l4DownTargets[proto] = l4->GetDownTarget();
            l4->SetDownTarget(MakeCallback(&XfrmStack::OutputFromL4, this));
        }
    }
    Ptr<EspL4Protocol> esp = CreateObject<EspL4Protocol>();
    esp->SetStack(this);
    m_ipv4->Insert(esp);

    Ptr<XfrmRoutingHook> hook = CreateObject<XfrmRoutingHook>();
    hook->SetStack(this);
    hook->SetInner(m_ipv4->GetRoutingProtocol());
    m_ipv4->SetRoutingProtocol(hook);

    m_ipv6 = node->GetObject<Ipv6L3Protocol>();
    if (m_ipv6)
    {
        InstallIpv6();
    }

    for (uint32_t i = 0; i < node->GetNDevices(); ++i)
    {
        AttachDevice(node->GetDevice(i));
    }
}

void
XfrmStack::InstallIpv6()
{
    for (int proto : {int(kIpProtoIcmpv6), int(kIpProtoTcp), int(kIpProtoUdp)})
    {
        Ptr<IpL4Protocol> l4 = m_ipv6->GetProtocol(proto);
        if (!l4)
        {
            continue;
        }
        m_l4DownTargets6[proto] = l4->GetDownTarget6();
        l4->SetDownTarget6(MakeCallback(&XfrmStack::OutputFromL4v6, this));
        if (proto != kIpProtoIcmpv6)
        {
            // ICMPv6 stays itself: IPv6 finds it by type for its errors and neighbour discovery.
            Ptr<XfrmL4Guard> guard = CreateObject<XfrmL4Guard>();
            guard->Setup(this, l4);
            m_ipv6->Remove(l4);
            m_ipv6->Insert(guard);
            m_l4Guards.push_back(guard);
        }
    }
    Ptr<EspL4Protocol> esp = CreateObject<EspL4Protocol>();
    esp->SetStack(this);
    m_ipv6->Insert(esp);

    Ptr<XfrmRoutingHook6> hook = CreateObject<XfrmRoutingHook6>();
    hook->SetStack(this);
    hook->SetInner(m_ipv6->GetRoutingProtocol());
    m_ipv6->SetRoutingProtocol(hook);
}

void
XfrmStack::AttachDevice(Ptr<NetDevice> dev)
{
    XfrmDevOps* ops = GetXfrmDevOps(dev);
    if (!ops)
    {
        return;
    }
    XfrmDevOps::StackHooks hooks;
    hooks.checkExpire = MakeBoundCallback(&CheckExpireThunk, this);
    hooks.mtuExceeded = MakeCallback(&XfrmStack::OnMtuExceeded, this);
    hooks.deviceDown = MakeBoundCallback(&DeviceDownThunk, this, PeekPointer(dev));
    ops->SetXfrmStackHooks(hooks);
    m_attachedDevices.push_back(dev);
}

Ptr<Node>
XfrmStack::GetNode() const
{
    return m_node;
}

void
XfrmStack::DoDispose()
{
    // The key manager may be gone already: tell it nothing from here on.
    m_expireCallback = ExpireCallback();
    m_acquireCallback = AcquireCallback();
    m_mappingCallback = MappingCallback();
    m_hostPmtu = HostPmtuCallback();
    // Take back everything offloaded: device tables and offloaded objects point at each other.
    for (auto& dev : m_attachedDevices)
    {
        FlushDevice(dev);
        if (XfrmDevOps* ops = GetXfrmDevOps(dev))
        {
            ops->SetXfrmStackHooks({});
        }
    }
    for (const auto& x : m_sad.GetAll())
    {
        Simulator::Cancel(x->GetLifetimeTimer());
    }
    m_sad = XfrmStateTable();
    m_spd = XfrmPolicyTable();
    m_socketPolicies.clear();
    m_attachedDevices.clear();
    m_awaitingFree.clear();
    m_l4DownTargets.clear();
    m_l4DownTargets6.clear();
    for (auto& guard : m_l4Guards)
    {
        if (m_ipv6)
        {
            m_ipv6->Remove(guard);
        }
        guard->Dispose();
    }
    m_l4Guards.clear();
    if (m_udpEncap)
    {
        if (m_ipv4 && m_udpEncap->GetUdp())
        {
            m_ipv4->Remove(m_udpEncap);
            m_ipv4->Insert(m_udpEncap->GetUdp());
        }
        m_udpEncap->Dispose();
        m_udpEncap = nullptr;
    }
    m_expireCallback = ExpireCallback();
    m_acquireCallback = AcquireCallback();
    m_mappingCallback = MappingCallback();
    m_ipv4 = nullptr;
    m_ipv6 = nullptr;
    m_node = nullptr;
    Object::DoDispose();
}

void
XfrmStack::Drop(XfrmDrop reason, Ptr<const Packet> packet)
{
    NS_LOG_LOGIC("node " << m_node->GetId() << " drops a " << packet->GetSize()
                         << "-byte packet: " << XfrmDropName(reason));
    ++m_drops[size_t(reason)];
    m_dropTrace(packet, reason);
}

void
XfrmStack::Count(XfrmEvent event)
{
    ++m_events[size_t(event)];
}

uint64_t
XfrmStack::GetDropCount(XfrmDrop reason) const
{
    return m_drops[size_t(reason)];
}

uint64_t
XfrmStack::GetEventCount(XfrmEvent event) const
{
    return m_events[size_t(event)];
}

std::map<std::string, uint64_t>
XfrmStack::GetDropCounts() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(XfrmDrop::Count); ++i)
    {
        all[XfrmDropName(XfrmDrop(i))] = m_drops[i];
    }
    return all;
}

std::map<std::string, uint64_t>
XfrmStack::GetEventCounts() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(XfrmEvent::Count); ++i)
    {
        all[XfrmEventName(XfrmEvent(i))] = m_events[i];
    }
    return all;
}

void
XfrmStack::SetExpireCallback(ExpireCallback cb)
{
    m_expireCallback = cb;
}

void
XfrmStack::SetAcquireCallback(AcquireCallback cb)
{
    m_acquireCallback = cb;
}

void
XfrmStack::SetMappingCallback(MappingCallback cb)
{
    m_mappingCallback = cb;
}

Ptr<XfrmState>
XfrmStack::ResolveOutbound(Ptr<XfrmPolicy> policy, const XfrmFlow& flow)
{
    Ptr<XfrmState> x = m_sad.FindOutbound(*policy, flow);
    if (!x && policy->RequiresIpsec() && !m_acquireCallback.IsNull())
    {
        m_acquireCallback(policy, flow);
    }
    return x;
}

// ---- key manager interface ----

bool
XfrmStack::HasFamilies(const XfrmAddress& outer, const XfrmSelector& sel, std::string* error) const
{
    // Linux refuses a family without xfrm support (EAFNOSUPPORT); here a node without IPv6
    // has no IPv6 data path to put such a state or policy on.
    const bool outerOk = outer.IsIpv4() || m_ipv6;
    const bool selOk = sel.GetFamily() == XfrmAddress::Family::Ipv4 || m_ipv6;
    if (outerOk && selOk)
    {
        return true;
    }
    if (error)
    {
        *error = std::string(outerOk ? "sel" : "daddr") + ": IPv6, and node " +
                 std::to_string(m_node ? m_node->GetId() : 0) + " has no IPv6 stack";
    }
    return false;
}

Ptr<XfrmState>
XfrmStack::AddState(const XfrmStateConfig& config, std::string* error)
{
    if (!config.Validate(error) || !HasFamilies(config.daddr, config.sel, error))
    {
        return nullptr;
    }
    if (config.encap.Enabled() && config.daddr.IsIpv6())
    {
        // Linux has it (esp6 with UDP_ENCAP_ESPINUDP since 5.8); this model not yet.
        if (error)
        {
            *error = "encap: ESP-in-UDP over IPv6 is not built (IPv4 only)";
        }
        return nullptr;
    }
    std::string why;
    auto transform = EspTransform::Create(config.algorithm, &why);
    if (!transform)
    {
        if (error)
        {
            *error = "algorithm." + why;
        }
        return nullptr;
    }
    if (m_sad.Find(config.daddr, config.spi))
    {
        std::ostringstream os;
        os << "spi: 0x" << std::hex << config.spi << std::dec << " to " << config.daddr
           << " already exists";
        if (error)
        {
            *error = os.str();
        }
        return nullptr;
    }
    if (config.encap.Enabled() && config.offloadType == XfrmOffloadType::Crypto)
    {
        // xfrm_dev_state_add (Linux 6.1 to 6.10): -EINVAL, the SA is not added (no fallback).
        if (error)
        {
            *error = "offload: Encapsulation and TFC padding can't be offloaded";
        }
        return nullptr;
    }
    Ptr<XfrmState> x = Create<XfrmState>(config, std::move(transform));
    if (config.offloadType != XfrmOffloadType::None)
    {
        XfrmDevOps* ops = GetXfrmDevOps(config.offloadDev);
        const bool hwEsp = ops && (ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP);
        if (!hwEsp)
        {
            if (config.offloadType == XfrmOffloadType::Packet)
            {
                if (error)
                {
                    std::ostringstream os;
                    os << "offloadDev: device " << config.offloadDev->GetIfIndex()
                       << " has no IPsec packet offload (HW_ESP off)";
                    *error = os.str();
                }
                return nullptr;
            }
            // Linux accepts "offload dev" on a device without HW_ESP and runs the SA in software.
            NS_LOG_LOGIC(
                "SPI 0x" << std::hex << config.spi << std::dec
                         << ": device has no HW_ESP, crypto offload falls back to software");
            Count(XfrmEvent::CryptoOffloadFallback);
            m_fallbackTrace(x, "device has no HW_ESP");
        }
        else
        {
            XfrmDevOffload& xso = x->GetOffload();
            xso.dev = config.offloadDev;
            xso.ops = ops;
            xso.dir = config.offloadDir;
            xso.type = config.offloadType;
            XfrmOffloadResult result = ops->StateAdd(x);
            if (!result.IsOk())
            {
                xso = XfrmDevOffload{};
                NS_LOG_LOGIC("SPI 0x" << std::hex << config.spi << std::dec << ": device refused "
                                      << XfrmOffloadTypeName(config.offloadType) << " offload ("
                                      << XfrmOffloadStatusName(result.status)
                                      << "): " << result.reason);
                if (result.status == XfrmOffloadStatus::NotSupported &&
                    config.offloadType == XfrmOffloadType::Crypto)
                {
                    Count(XfrmEvent::CryptoOffloadFallback);
                    m_fallbackTrace(x, result.reason);
                }
                else
                {
                    if (error)
                    {
                        *error = std::string("offload: ") + XfrmOffloadStatusName(result.status) +
                                 ": " + result.reason;
                    }
                    return nullptr;
                }
            }
        }
    }
    m_sad.Add(x, error);
    if (config.lifetime.HasTimeLimit())
    {
        // Linux's xfrm_state_insert starts x->mtimer one second after the install.
        x->GetLifetimeTimer() = Simulator::Schedule(Seconds(1), &XfrmStack::LifetimeTimer, this, x);
    }
    NS_LOG_INFO("node " << m_node->GetId() << " adds SPI 0x" << std::hex << config.spi << std::dec
                        << " to " << config.daddr << " (" << XfrmModeName(config.mode) << ", "
                        << XfrmOffloadTypeName(x->GetOffload().type) << " offload)");
    return x;
}

void
XfrmStack::DetachFromDevice(Ptr<XfrmState> x, bool freeNow)
{
    XfrmDevOffload& xso = x->GetOffload();
    if (!xso.ops)
    {
        return;
    }
    if (xso.type == XfrmOffloadType::Packet)
    {
        xso.ops->StateUpdateStats(x); // the state's final counters, before the device forgets
    }
    xso.ops->StateDelete(x);
    if (freeNow || m_stateFreeDelay.IsZero())
    {
        xso.ops->StateFree(x);
        xso = XfrmDevOffload{};
        return;
    }
    // Packets already handed down (crypto offload tags) still hold the state until it is freed.
    m_awaitingFree.push_back(x);
    Simulator::Schedule(m_stateFreeDelay, &XfrmStack::FreeDeletedState, this, x);
}

void
XfrmStack::FreeDeletedState(Ptr<XfrmState> x)
{
    auto it = std::find(m_awaitingFree.begin(), m_awaitingFree.end(), x);
    if (it == m_awaitingFree.end())
    {
        return;
    }
    m_awaitingFree.erase(it);
    XfrmDevOffload& xso = x->GetOffload();
    if (xso.ops)
    {
        xso.ops->StateFree(x);
        xso = XfrmDevOffload{};
    }
}

bool
XfrmStack::UpdateState(Ptr<XfrmState> x,
                       const XfrmLifetimeConfig& lifetime,
                       const XfrmEncap& encap,
                       std::string* error)
{
    const XfrmStateConfig& c = x->GetConfig();
    if (m_sad.Find(c.daddr, c.spi) != x || x->IsHardExpired())
    {
        *error = "state: SPI " + std::to_string(c.spi) + " is not in the SAD";
        return false;
    }
    if (c.encap.type != encap.type)
    {
        *error = "encap.type: an update cannot add, remove or change the encapsulation";
        return false;
    }
    x->Update(lifetime, encap);
    Simulator::Cancel(x->GetLifetimeTimer());
    if (lifetime.HasTimeLimit())
    {
        x->GetLifetimeTimer() = Simulator::Schedule(Seconds(1), &XfrmStack::LifetimeTimer, this, x);
    }
    if (x->GetCurrent().used)
    {
        CheckExpire(x);
    }
    return true;
}

bool
XfrmStack::DeleteState(const XfrmAddress& daddr, uint32_t spi)
{
    Ptr<XfrmState> x = m_sad.Remove(daddr, spi);
    if (!x)
    {
        return false;
    }
    NS_LOG_INFO("node " << m_node->GetId() << " deletes SPI 0x" << std::hex << spi << std::dec
                        << " to " << daddr);
    Simulator::Cancel(x->GetLifetimeTimer());
    DetachFromDevice(x, false);
    return true;
}

Ptr<XfrmState>
XfrmStack::FindState(const XfrmAddress& daddr, uint32_t spi) const
{
    return m_sad.Find(daddr, spi);
}

Ptr<XfrmPolicy>
XfrmStack::LookupPolicy(XfrmDir dir, const XfrmFlow& flow)
{
    // A socket's own policy comes before the SPD (xfrm_sk_policy_lookup).
    if (!m_socketPolicies.empty() && dir != XfrmDir::Fwd)
    {
        if (Ptr<XfrmPolicy> own = SocketPolicyOf(dir, flow))
        {
            return own;
        }
    }
    Ptr<XfrmPolicy> policy = m_spd.Lookup(dir, flow);
    if (policy)
    {
        policy->MarkUsed(Simulator::Now());
    }
    return policy;
}

Ptr<XfrmPolicy>
XfrmStack::SocketPolicyOf(XfrmDir dir, const XfrmFlow& flow) const
{
    const bool out = dir == XfrmDir::Out;
    auto it = m_socketPolicies.find({flow.proto, out ? flow.sport : flow.dport, dir});
    if (it == m_socketPolicies.end())
    {
        return nullptr;
    }
    // Only the node's own sockets have socket policies: a local address on the node's side.
    const XfrmAddress& local = out ? flow.src : flow.dst;
    const bool isLocal = local.IsIpv6()
                             ? (m_ipv6 && m_ipv6->GetInterfaceForAddress(local.GetIpv6()) >= 0)
                             : (m_ipv4 && m_ipv4->GetInterfaceForAddress(local.GetIpv4()) >= 0);
    return isLocal ? it->second : nullptr;
}

void
XfrmStack::SetSocketPolicy(uint8_t protocol, uint16_t port, XfrmDir dir, XfrmPolicyAction action)
{
    XfrmPolicyConfig c;
    c.dir = dir;
    c.action = action;
    c.hasTemplate = false;
    c.sel.proto = protocol;
    m_socketPolicies[{protocol, port, dir}] = Create<XfrmPolicy>(c);
}

void
XfrmStack::ClearSocketPolicies()
{
    m_socketPolicies.clear();
}

void
XfrmStack::ClearSocketPolicy(uint8_t protocol, uint16_t port)
{
    m_socketPolicies.erase({protocol, port, XfrmDir::In});
    m_socketPolicies.erase({protocol, port, XfrmDir::Out});
}

std::map<std::tuple<uint8_t, uint16_t, XfrmDir>, XfrmPolicyAction>
XfrmStack::GetSocketPolicies() const
{
    std::map<std::tuple<uint8_t, uint16_t, XfrmDir>, XfrmPolicyAction> all;
    for (const auto& [key, policy] : m_socketPolicies)
    {
        all[key] = policy->GetConfig().action;
    }
    return all;
}

Ptr<XfrmPolicy>
XfrmStack::AddPolicy(const XfrmPolicyConfig& config, std::string* error)
{
    if (!config.Validate(error) || !HasFamilies(config.tmpl.daddr, config.sel, error))
    {
        return nullptr;
    }
    // xfrm_policy_insert_list with excl: the same selector and direction twice is -EEXIST.
    if (m_spd.FindBySelector(config.dir, config.sel))
    {
        if (error)
        {
            *error = std::string("sel: a ") + XfrmDirName(config.dir) +
                     " policy with this selector exists (EEXIST); UpdatePolicy replaces it";
        }
        return nullptr;
    }
    return InsertPolicy(config, nullptr, error);
}

Ptr<XfrmPolicy>
XfrmStack::UpdatePolicy(const XfrmPolicyConfig& config, std::string* error)
{
    if (!config.Validate(error) || !HasFamilies(config.tmpl.daddr, config.sel, error))
    {
        return nullptr;
    }
    return InsertPolicy(config, m_spd.FindBySelector(config.dir, config.sel), error);
}

Ptr<XfrmPolicy>
XfrmStack::InsertPolicy(const XfrmPolicyConfig& config, Ptr<XfrmPolicy> old, std::string* error)
{
    Ptr<XfrmPolicy> xp = Create<XfrmPolicy>(config);
    if (config.offloadType == XfrmOffloadType::Packet)
    {
        XfrmDevOps* ops = GetXfrmDevOps(config.offloadDev);
        if (!ops || !(ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP))
        {
            if (error)
            {
                std::ostringstream os;
                os << "offloadDev: device " << config.offloadDev->GetIfIndex()
                   << " has no IPsec packet offload (HW_ESP off)";
                *error = os.str();
            }
            return nullptr;
        }
        XfrmDevOffload& xpo = xp->GetOffload();
        xpo.dev = config.offloadDev;
        xpo.ops = ops;
        xpo.dir = config.dir;
        xpo.type = XfrmOffloadType::Packet;
        XfrmOffloadResult result = ops->PolicyAdd(xp);
        if (!result.IsOk())
        {
            // Packet offload has no software fallback, whatever the reason.
            NS_LOG_LOGIC("device refused a " << XfrmDirName(config.dir)
                                             << " policy: " << result.reason);
            if (error)
            {
                *error = std::string("offload: ") + XfrmOffloadStatusName(result.status) + ": " +
                         result.reason;
            }
            return nullptr;
        }
    }
    // Linux's order: the new policy is on the device and in the SPD before the one it
    // replaces goes (xfrm_add_policy, then xfrm_policy_kill of the old one).
    m_spd.Add(xp);
    if (old)
    {
        DeletePolicy(old);
    }
    return xp;
}

bool
XfrmStack::DeletePolicy(Ptr<XfrmPolicy> policy)
{
    if (!m_spd.Remove(policy))
    {
        return false;
    }
    XfrmDevOffload& xpo = policy->GetOffload();
    if (xpo.ops)
    {
        xpo.ops->PolicyDelete(policy);
        xpo.ops->PolicyFree(policy);
        xpo = XfrmDevOffload{};
    }
    return true;
}

void
XfrmStack::UpdateStats(Ptr<XfrmState> x)
{
    if (x->GetOffload().ops)
    {
        x->GetOffload().ops->StateUpdateStats(x);
        // In packet offload the stack never sees a packet: the first use is when the device's
        // counters first show one.
        if (x->IsOffloaded(XfrmOffloadType::Packet) && x->GetCurrent().packets > 0)
        {
            x->MarkUsed(Simulator::Now());
        }
    }
}

const XfrmStateTable&
XfrmStack::GetStates() const
{
    return m_sad;
}

const XfrmPolicyTable&
XfrmStack::GetPolicies() const
{
    return m_spd;
}

void
XfrmStack::EnableUdpEncap(uint16_t port)
{
    NS_ABORT_MSG_IF(!m_ipv4, "XfrmStack::EnableUdpEncap before Install");
    if (!m_udpEncap)
    {
        // Put the encapsulation check in front of the node's UDP, as Linux's encap_rcv runs
        // before the socket sees a datagram.
        Ptr<IpL4Protocol> udp = m_ipv4->GetProtocol(kIpProtoUdp);
        NS_ABORT_MSG_IF(!udp,
                        "XfrmStack::EnableUdpEncap: node " << m_node->GetId() << " has no UDP");
        m_udpEncap = CreateObject<UdpEncapL4Protocol>();
        m_udpEncap->SetStack(this);
        m_udpEncap->SetUdp(udp);
        m_ipv4->Remove(udp);
        m_ipv4->Insert(m_udpEncap);
    }
    m_udpEncapPorts.insert(port);
}

bool
XfrmStack::IsUdpEncapPort(uint16_t port) const
{
    return m_udpEncapPorts.count(port) > 0;
}

void
XfrmStack::FlushDevice(Ptr<NetDevice> dev)
{
    NS_LOG_INFO("node " << m_node->GetId() << " flushes what is offloaded to device "
                        << dev->GetIfIndex());
    for (const auto& x : m_sad.GetAll())
    {
        if (x->GetOffload().ops && x->GetOffload().dev == dev)
        {
            m_sad.Remove(x->GetConfig().daddr, x->GetSpi());
            Simulator::Cancel(x->GetLifetimeTimer());
            // The device is down: Linux frees at once, and tells the key manager nothing
            // (xfrm_dev_state_flush deletes without a km notification).
            DetachFromDevice(x, true);
        }
    }
    for (const auto& x : std::vector<Ptr<XfrmState>>(m_awaitingFree))
    {
        if (x->GetOffload().dev == dev)
        {
            FreeDeletedState(x);
        }
    }
    for (const auto& xp : m_spd.GetAll())
    {
        if (xp->GetOffload().ops && xp->GetOffload().dev == dev)
        {
            DeletePolicy(xp);
        }
    }
}

// ---- lifetimes ----

bool
XfrmStack::CheckExpire(Ptr<XfrmState> x)
{
    if (x->IsHardExpired())
    {
        return false;
    }
    if (x->IsOffloaded(XfrmOffloadType::Packet))
    {
        UpdateStats(x); // only the device counts packet-offloaded traffic
    }
    else
    {
        x->MarkUsed(Simulator::Now()); // the packet being checked is the SA's use
    }
    const auto& limits = x->GetConfig().lifetime;
    if (XfrmHardLimitReached(limits, x->GetCurrent()))
    {
        ExpireState(x);
        return false;
    }
    if (!x->IsSoftExpired() && XfrmSoftLimitReached(limits, x->GetCurrent()))
    {
        SoftExpireState(x);
    }
    return true;
}

void
XfrmStack::LifetimeTimer(Ptr<XfrmState> x)
{
    if (x->IsHardExpired() || m_sad.Find(x->GetConfig().daddr, x->GetSpi()) != x)
    {
        return;
    }
    if (x->IsOffloaded(XfrmOffloadType::Packet))
    {
        UpdateStats(x); // xfrm_dev_state_update_stats: the device's counters, and its first use
    }
    // Linux's xfrm_timer_handler, in simulated time instead of whole seconds; without its
    // wall-clock-change workaround (XFRM_SOFT_EXPIRE, saved_tmo), as simulated time never jumps.
    const XfrmLifetimeConfig& l = x->GetConfig().lifetime;
    const XfrmLifetimeCurrent& cur = x->GetCurrent();
    const Time now = Simulator::Now();
    const Time useBase = cur.used ? cur.useTime : now;
    Time next = Time::Max();
    // Time left until a limit of `seconds` counted from `base`; <= 0 when it has passed.
    auto left = [&](uint64_t seconds, Time base) { return base + Seconds(double(seconds)) - now; };

    struct TimeLimit
    {
        uint64_t seconds;
        Time base;
        const char* name;
    };

    for (const TimeLimit& hard : {TimeLimit{l.hardAddSeconds, cur.addTime, "add"},
                                  TimeLimit{l.hardUseSeconds, useBase, "use"}})
    {
        if (hard.seconds == 0)
        {
            continue;
        }
        const Time tmo = left(hard.seconds, hard.base);
        if (!tmo.IsStrictlyPositive())
        {
            NS_LOG_INFO("SPI 0x" << std::hex << x->GetSpi() << std::dec << " hard " << hard.name
                                 << " time reached");
            ExpireState(x);
            return;
        }
        next = std::min(next, tmo);
    }
    if (!x->IsSoftExpired())
    {
        bool warn = false;
        for (const TimeLimit& soft : {TimeLimit{l.softAddSeconds, cur.addTime, "add"},
                                      TimeLimit{l.softUseSeconds, useBase, "use"}})
        {
            if (soft.seconds == 0)
            {
                continue;
            }
            const Time tmo = left(soft.seconds, soft.base);
            if (!tmo.IsStrictlyPositive())
            {
                warn = true;
            }
            else
            {
                next = std::min(next, tmo);
            }
        }
        if (warn)
        {
            SoftExpireState(x);
        }
    }
    // A packet-offloaded state's first use shows only in its device's counters: read them at
    // least once a second until then (mlx5 reads its flow counters once a second).
    if (x->IsOffloaded(XfrmOffloadType::Packet) && !cur.used &&
        (l.softUseSeconds || l.hardUseSeconds))
    {
        next = std::min(next, Seconds(1));
    }
    if (next != Time::Max())
    {
        x->GetLifetimeTimer() = Simulator::Schedule(next, &XfrmStack::LifetimeTimer, this, x);
    }
}

void
XfrmStack::SoftExpireState(Ptr<XfrmState> x)
{
    x->SetSoftExpired();
    NS_LOG_INFO("SPI 0x" << std::hex << x->GetSpi() << std::dec << " soft expire");
    m_expireTrace(x, false);
    if (!m_expireCallback.IsNull())
    {
        m_expireCallback(x, false);
    }
}

void
XfrmStack::ExpireState(Ptr<XfrmState> x)
{
    x->SetHardExpired();
    NS_LOG_INFO("SPI 0x" << std::hex << x->GetSpi() << std::dec << " hard expire");
    m_expireTrace(x, true);
    if (!m_expireCallback.IsNull())
    {
        m_expireCallback(x, true);
    }
    // Like Linux's expiry timer: the state is deleted right after the packet that found it dead.
    Simulator::ScheduleNow([this, x]() {
        if (m_sad.Find(x->GetConfig().daddr, x->GetSpi()) == x)
        {
            DeleteState(x->GetConfig().daddr, x->GetSpi());
        }
    });
}

} // namespace ns3
