#include "xfrm-stack.h"

#include "esp-l4-protocol.h"
#include "ipv4-packet-util.h"
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
XfrmStatName(XfrmStat stat)
{
    static const char* const names[] = {
        "XfrmInHdrError",        "XfrmInNoStates",         "XfrmInStateProtoError",
        "XfrmInStateSeqError",   "XfrmInStateExpired",     "XfrmInStateMismatch",
        "XfrmInNoPols",          "XfrmInPolBlock",         "XfrmInTmplMismatch",
        "XfrmOutNoStates",       "XfrmOutStateSeqError",   "XfrmOutStateExpired",
        "XfrmOutPolBlock",       "XfrmFwdHdrError",        "XfrmOutError",
        "CryptoOffloadFallback", "CryptoOffloadTxPackets", "CryptoOffloadRxPackets",
        "CryptoOffloadTxCsum",   "LocalPmtuErrors",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(XfrmStat::Count));
    return names[size_t(stat)];
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
                            "A packet dropped by XFRM, with the XfrmStat name of the reason",
                            MakeTraceSourceAccessor(&XfrmStack::m_dropTrace),
                            "ns3::XfrmStack::DropTracedCallback")
            .AddTraceSource("Expire", "A state reached its soft (false) or hard (true) limit",
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
void
LinkChangeThunk(XfrmStack* stack, NetDevice* dev)
{
    if (!dev->IsLinkUp())
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
    NS_ABORT_MSG_IF(!m_ipv4, "XfrmStack::Install: node " << node->GetId()
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

    for (uint32_t i = 0; i < node->GetNDevices(); ++i)
    {
        AttachDevice(node->GetDevice(i));
    }
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
    ops->SetXfrmStackHooks(hooks);
    dev->AddLinkChangeCallback(MakeBoundCallback(&LinkChangeThunk, this, PeekPointer(dev)));
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
    m_stateGoneCallback = StateGoneCallback();
    // Take back everything offloaded: device tables and offloaded objects point at each other.
    for (auto& dev : m_attachedDevices)
    {
        FlushDevice(dev);
        if (XfrmDevOps* ops = GetXfrmDevOps(dev))
        {
            ops->SetXfrmStackHooks({});
        }
    }
    m_sad = XfrmStateTable();
    m_spd = XfrmPolicyTable();
    m_attachedDevices.clear();
    m_awaitingFree.clear();
    m_l4DownTargets.clear();
    m_expireCallback = ExpireCallback();
    m_stateGoneCallback = StateGoneCallback();
    m_ipv4 = nullptr;
    m_node = nullptr;
    Object::DoDispose();
}

void
XfrmStack::Drop(XfrmStat stat, Ptr<const Packet> packet)
{
    ++m_stats[size_t(stat)];
    m_dropTrace(packet, XfrmStatName(stat));
}

uint64_t
XfrmStack::GetStat(XfrmStat stat) const
{
    return m_stats[size_t(stat)];
}

std::map<std::string, uint64_t>
XfrmStack::GetStats() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(XfrmStat::Count); ++i)
    {
        all[XfrmStatName(XfrmStat(i))] = m_stats[i];
    }
    return all;
}

void
XfrmStack::SetExpireCallback(ExpireCallback cb)
{
    m_expireCallback = cb;
}

void
XfrmStack::SetStateGoneCallback(StateGoneCallback cb)
{
    m_stateGoneCallback = cb;
}

// ---- key manager interface ----

Ptr<XfrmState>
XfrmStack::AddState(const XfrmStateConfig& config, std::string* error)
{
    if (!config.Validate(error))
    {
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
            ++m_stats[size_t(XfrmStat::CryptoOffloadFallback)];
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
                if (result.status == XfrmOffloadStatus::NotSupported &&
                    config.offloadType == XfrmOffloadType::Crypto)
                {
                    ++m_stats[size_t(XfrmStat::CryptoOffloadFallback)];
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
XfrmStack::DeleteState(Ipv4Address daddr, uint32_t spi)
{
    Ptr<XfrmState> x = m_sad.Remove(daddr, spi);
    if (!x)
    {
        return false;
    }
    DetachFromDevice(x, false);
    return true;
}

Ptr<XfrmState>
XfrmStack::FindState(Ipv4Address daddr, uint32_t spi) const
{
    return m_sad.Find(daddr, spi);
}

Ptr<XfrmPolicy>
XfrmStack::AddPolicy(const XfrmPolicyConfig& config, std::string* error)
{
    if (!config.Validate(error))
    {
        return nullptr;
    }
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
            if (error)
            {
                *error = std::string("offload: ") + XfrmOffloadStatusName(result.status) + ": " +
                         result.reason;
            }
            return nullptr;
        }
    }
    m_spd.Add(xp);
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
XfrmStack::FlushDevice(Ptr<NetDevice> dev)
{
    for (const auto& x : m_sad.GetAll())
    {
        if (x->GetOffload().ops && x->GetOffload().dev == dev)
        {
            m_sad.Remove(x->GetConfig().daddr, x->GetSpi());
            DetachFromDevice(x, true); // the device is down: Linux frees at once
            if (!m_stateGoneCallback.IsNull())
            {
                m_stateGoneCallback(x);
            }
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
    const auto& limits = x->GetConfig().lifetime;
    if (XfrmHardLimitReached(limits, x->GetCurrent()))
    {
        ExpireState(x);
        return false;
    }
    if (!x->IsSoftExpired() && XfrmSoftLimitReached(limits, x->GetCurrent()))
    {
        x->SetSoftExpired();
        m_expireTrace(x, false);
        if (!m_expireCallback.IsNull())
        {
            m_expireCallback(x, false);
        }
    }
    return true;
}

void
XfrmStack::ExpireState(Ptr<XfrmState> x)
{
    x->SetHardExpired();
    m_expireTrace(x, true);
    if (!m_expireCallback.IsNull())
    {
        m_expireCallback(x, true);
    }
    // Like Linux's expiry timer: the state is deleted right after the packet that found it dead.
    Simulator::ScheduleNow(
        [this, x]()
        {
            if (m_sad.Find(x->GetConfig().daddr, x->GetSpi()) == x)
            {
                DeleteState(x->GetConfig().daddr, x->GetSpi());
            }
        });
}

// ---- output ----

Ptr<Ipv4Route>
XfrmStack::RouteTo(Ipv4Address src, Ipv4Address dst)
{
    Ipv4Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    Socket::SocketErrno err;
    return m_ipv4->GetRoutingProtocol()->RouteOutput(Create<Packet>(), h, nullptr, err);
}

void
XfrmStack::SendPlaintext(Ptr<Packet> packet, Ipv4Address src, Ipv4Address dst, uint8_t protocol,
                         Ptr<Ipv4Route> route)
{
    auto it = m_l4DownTargets.find(protocol);
    if (it != m_l4DownTargets.end() && !it->second.IsNull())
    {
        it->second(packet, src, dst, protocol, route);
    }
    else
    {
        m_ipv4->Send(packet, src, dst, protocol, route);
    }
}

bool
XfrmStack::LeavesThroughPolicyDevice(const XfrmPolicy& policy, Ptr<Ipv4Route> route)
{
    return route && route->GetOutputDevice() == policy.GetOffload().dev;
}

void
XfrmStack::OutputFromL4(Ptr<Packet> packet, Ipv4Address src, Ipv4Address dst, uint8_t protocol,
                        Ptr<Ipv4Route> route)
{
    if (m_spd.GetN() == 0)
    {
        SendPlaintext(packet, src, dst, protocol, route); // no policy, no XFRM work
        return;
    }
    Ipv4Header inner =
        MakeIpv4Header(src, dst, protocol, packet->GetSize(), 64, m_identification++);
    Ptr<XfrmPolicy> policy = m_spd.Lookup(XfrmDir::Out, FlowOf(inner, packet));
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmStat::OutPolBlock, packet);
        return;
    }
    if (policy && policy->RequiresIpsec() && policy->IsHardware() &&
        !LeavesThroughPolicyDevice(*policy, route ? route : RouteTo(src, dst)))
    {
        Drop(XfrmStat::OutError, packet);
        return;
    }
    // Packet offload: the plaintext leaves the stack; the device encapsulates.
    if (!policy || !policy->RequiresIpsec() || policy->IsHardware())
    {
        SendPlaintext(packet, src, dst, protocol, route);
        return;
    }
    Protect(policy, inner, packet, route);
}

bool
XfrmStack::Protect(Ptr<XfrmPolicy> policy, const Ipv4Header& inner, Ptr<const Packet> payload,
                   Ptr<Ipv4Route> route)
{
    Ptr<XfrmState> x = m_sad.FindOutbound(*policy, FlowOf(inner, payload));
    if (!x)
    {
        Drop(XfrmStat::OutNoStates, payload);
        return false;
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmStat::OutStateExpired, payload);
        return false;
    }
    uint64_t seq;
    if (!x->NextSeq(&seq))
    {
        ++x->GetStats().seqOverflow;
        Drop(XfrmStat::OutStateSeqError, payload);
        return false;
    }
    const XfrmStateConfig& c = x->GetConfig();
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    if (tunnel)
    {
        Ptr<Packet> whole = payload->Copy();
        whole->AddHeader(inner);
        CopyPacketBytes(whole, m_payload);
    }
    else
    {
        CopyPacketBytes(payload, m_payload);
    }
    const uint8_t nextHeader = tunnel ? kIpProtoIpip : inner.GetProtocol();
    x->GetCurrent().bytes += inner.GetSerializedSize() + payload->GetSize();
    x->GetCurrent().packets++;

    const Ipv4Address outerSrc = tunnel ? c.saddr : inner.GetSource();
    const Ipv4Address outerDst = tunnel ? c.daddr : inner.GetDestination();
    Ptr<Ipv4Route> outRoute = (tunnel || !route) ? RouteTo(outerSrc, outerDst) : route;

    EspTransform& transform = x->GetTransform();
    const uint32_t payloadLength = m_payload.size();
    bool useDevice = false;
    if (x->IsOffloaded(XfrmOffloadType::Crypto) && outRoute &&
        outRoute->GetOutputDevice() == x->GetOffload().dev)
    {
        // The core's part of xfrm_dev_offload_ok: the result must fit the device, else the
        // packet is encrypted in software and fragmented after ESP.
        const uint32_t outerLength = 20 + transform.GetFrameLength(payloadLength);
        useDevice = outerLength <= x->GetOffload().dev->GetMtu() &&
                    x->GetOffload().ops->OffloadOk(inner, payload, x);
    }
    Ptr<Packet> esp;
    if (useDevice)
    {
        XfrmOffloadTxTag tag;
        tag.handle = x->GetOffload().handle;
        tag.seqHi = uint32_t(seq >> 32);
        if (x->GetOffload().ops->GetXfrmFeatures() & XFRM_DEV_FEATURE_HW_ESP_TX_CSUM)
        {
            LeaveChecksumToDevice(inner, tunnel, transform.GetIvLength(), &tag);
        }
        transform.BuildFrame(c.spi, uint32_t(seq), m_payload.data(), payloadLength, nextHeader,
                             m_frame);
        esp = Create<Packet>(m_frame.data(), m_frame.size());
        esp->AddPacketTag(tag);
        ++m_stats[size_t(XfrmStat::CryptoOffloadTxPackets)];
        if (c.esn && uint32_t(seq) == 0)
        {
            x->GetOffload().ops->StateAdvanceEsn(x); // TX crossed into new high-order bits
        }
    }
    else
    {
        transform.Encapsulate(c.spi, seq, c.esn, m_payload.data(), payloadLength, nextHeader,
                              m_frame);
        esp = Create<Packet>(m_frame.data(), m_frame.size());
    }
    m_ipv4->Send(esp, outerSrc, outerDst, kIpProtoEsp, outRoute);
    return true;
}

void
XfrmStack::LeaveChecksumToDevice(const Ipv4Header& inner, bool tunnel, uint32_t ivLength,
                                 XfrmOffloadTxTag* tag)
{
    const uint8_t proto = inner.GetProtocol();
    const uint16_t field = proto == kIpProtoTcp ? 16 : proto == kIpProtoUdp ? 6 : 0;
    const uint32_t start = tunnel ? inner.GetSerializedSize() : 0; // L4 within m_payload
    if (field == 0 || IsIpv4Fragment(inner) || m_payload.size() < start + field + 2)
    {
        return; // only whole TCP/UDP segments have a checksum the device can compute
    }
    // Like an skb in CHECKSUM_PARTIAL: the field is left for the device to fill.
    m_payload[start + field] = 0;
    m_payload[start + field + 1] = 0;
    tag->csumStart = EspTransform::kHeaderLength + ivLength + start;
    tag->csumLength = m_payload.size() - start;
    tag->csumField = field;
    tag->csumProto = proto;
    tag->csumSrc = inner.GetSource();
    tag->csumDst = inner.GetDestination();
    ++m_stats[size_t(XfrmStat::CryptoOffloadTxCsum)];
}

// ---- input ----

IpL4Protocol::RxStatus
XfrmStack::InputEsp(Ptr<Packet> packet, const Ipv4Header& header,
                    Ptr<Ipv4Interface> incomingInterface)
{
    const uint32_t length = packet->GetSize();
    if (length < EspTransform::kHeaderLength)
    {
        Drop(XfrmStat::InHdrError, packet);
        return IpL4Protocol::RX_OK;
    }
    CopyPacketBytes(packet, m_frame);
    uint8_t* frame = m_frame.data();
    const uint32_t spi = EspTransform::ReadSpi(frame);
    Ptr<XfrmState> x = m_sad.Find(header.GetDestination(), spi);
    if (!x)
    {
        Drop(XfrmStat::InNoStates, packet);
        return IpL4Protocol::RX_OK;
    }
    if (x->IsOffloaded(XfrmOffloadType::Packet))
    {
        // Its device would have decapsulated it; packet offload has no software path.
        Drop(XfrmStat::InStateMismatch, packet);
        return IpL4Protocol::RX_OK;
    }
    const XfrmStateConfig& c = x->GetConfig();
    uint64_t seq = 0;
    const ReplayVerdict verdict = x->GetReplayWindow().Check(EspTransform::ReadSeqLow(frame), &seq);
    if (verdict != ReplayVerdict::Ok)
    {
        ++x->GetStats().replayDrops;
        Drop(XfrmStat::InStateSeqError, packet);
        return IpL4Protocol::RX_OK;
    }
    if (!CheckExpire(x))
    {
        ++x->GetStats().expiredDrops;
        Drop(XfrmStat::InStateExpired, packet);
        return IpL4Protocol::RX_OK;
    }

    XfrmOffloadRxTag rxTag;
    const bool cryptoDone =
        packet->PeekPacketTag(rxTag) && rxTag.nodeId == m_node->GetId() && rxTag.spi == spi;
    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
    EspStatus status;
    if (cryptoDone)
    {
        // The device decrypted in place and checked the ICV; the stack strips headers.
        status = rxTag.status;
        if (status == EspStatus::Ok)
        {
            ++m_stats[size_t(XfrmStat::CryptoOffloadRxPackets)];
            status =
                x->GetTransform().ParseTrailer(frame, length, &offset, &payloadLength, &nextHeader);
        }
    }
    else
    {
        status = x->GetTransform().Decapsulate(frame, length, uint32_t(seq >> 32), c.esn, &offset,
                                               &payloadLength, &nextHeader);
    }
    if (status != EspStatus::Ok)
    {
        XfrmStateStats& stats = x->GetStats();
        if (status == EspStatus::AuthFailed)
        {
            ++stats.integrityFailures;
        }
        else if (status == EspStatus::BadPadding)
        {
            ++stats.badPadding;
        }
        else
        {
            ++stats.truncated;
        }
        Drop(XfrmStat::InStateProtoError, packet);
        return IpL4Protocol::RX_OK;
    }
    const bool tunnel = c.mode == XfrmMode::Tunnel;
    if (tunnel && !IsWholeIpv4Packet(frame + offset, payloadLength, nextHeader))
    {
        ++x->GetStats().truncated; // Linux: the inner header must be there (pskb_may_pull)
        Drop(XfrmStat::InStateProtoError, packet);
        return IpL4Protocol::RX_OK;
    }
    x->GetReplayWindow().Advance(seq);
    if (c.esn && x->IsOffloaded(XfrmOffloadType::Crypto))
    {
        x->GetOffload().ops->StateAdvanceEsn(x);
    }
    x->GetCurrent().bytes += tunnel ? payloadLength : header.GetSerializedSize() + payloadLength;
    x->GetCurrent().packets++;

    Ptr<Packet> inner = Create<Packet>(frame + offset, payloadLength);
    if (tunnel)
    {
        XfrmSecPathTag secpath;
        secpath.nodeId = m_node->GetId();
        secpath.spi = spi;
        secpath.daddr = header.GetDestination();
        inner->AddPacketTag(secpath);
        // Re-inject the inner packet: routing and the inbound policy check see it next.
        m_ipv4->Receive(incomingInterface->GetDevice(), inner, kEtherTypeIpv4, Address(), Address(),
                        NetDevice::PACKET_HOST);
        return IpL4Protocol::RX_OK;
    }
    Ipv4Header innerHeader = header;
    innerHeader.SetProtocol(nextHeader);
    innerHeader.SetPayloadSize(payloadLength);
    return DeliverTransport(x, inner, innerHeader, incomingInterface);
}

IpL4Protocol::RxStatus
XfrmStack::DeliverTransport(Ptr<XfrmState> x, Ptr<Packet> payload, Ipv4Header header,
                            Ptr<Ipv4Interface> incomingInterface)
{
    const XfrmFlow flow = FlowOf(header, payload);
    if (!x->GetConfig().sel.Matches(flow))
    {
        // Linux __xfrm_policy_check: "First, check used SA against their selectors".
        Drop(XfrmStat::InStateMismatch, payload);
        return IpL4Protocol::RX_OK;
    }
    Ptr<XfrmPolicy> policy = m_spd.Lookup(XfrmDir::In, flow);
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmStat::InPolBlock, payload);
        return IpL4Protocol::RX_OK;
    }
    if (policy && policy->RequiresIpsec() && !policy->TemplateMatches(*x))
    {
        Drop(XfrmStat::InTmplMismatch, payload);
        return IpL4Protocol::RX_OK;
    }
    const int32_t interface = m_ipv4->GetInterfaceForDevice(incomingInterface->GetDevice());
    Ptr<IpL4Protocol> l4 = m_ipv4->GetProtocol(header.GetProtocol(), interface);
    if (!l4)
    {
        return IpL4Protocol::RX_ENDPOINT_UNREACH;
    }
    return l4->Receive(payload, header, incomingInterface);
}

bool
XfrmStack::InboundPolicyAllows(XfrmDir dir, const XfrmFlow& flow, Ptr<const Packet> packet)
{
    XfrmSecPathTag secpath;
    const bool hasSecpath = packet->PeekPacketTag(secpath) && secpath.nodeId == m_node->GetId();
    if (hasSecpath && secpath.packetOffload)
    {
        return true; // the device checked its own policy; XFRM is bypassed
    }
    Ptr<XfrmPolicy> policy = m_spd.Lookup(dir, flow);
    if (policy && policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmStat::InPolBlock, packet);
        return false;
    }
    if (!hasSecpath)
    {
        if (policy && policy->RequiresIpsec())
        {
            Drop(XfrmStat::InTmplMismatch, packet);
            return false;
        }
        return true;
    }
    if (!policy)
    {
        Drop(XfrmStat::InNoPols, packet); // a tunnel-mode secpath needs a policy to accept it
        return false;
    }
    // The SA that carried it must still exist (re-injection is synchronous, so it does unless
    // something is wrong: fail closed) and its selector must match what it carried.
    Ptr<XfrmState> x = m_sad.Find(secpath.daddr, secpath.spi);
    if (!x || !x->GetConfig().sel.Matches(flow))
    {
        Drop(XfrmStat::InStateMismatch, packet);
        return false;
    }
    if (policy->RequiresIpsec() && !policy->TemplateMatches(*x))
    {
        Drop(XfrmStat::InTmplMismatch, packet);
        return false;
    }
    return true;
}

bool
XfrmStack::InputHook(Ptr<const Packet> packet, const Ipv4Header& header, Ptr<const NetDevice> idev)
{
    if (header.GetProtocol() == kIpProtoEsp || m_spd.GetN() == 0)
    {
        return false; // ESP input, ESP in transit, or a node without policies
    }
    const int32_t iif = m_ipv4->GetInterfaceForDevice(idev);
    const XfrmFlow flow = FlowOf(header, packet);
    if (iif >= 0 && m_ipv4->IsDestinationAddress(header.GetDestination(), iif))
    {
        return !InboundPolicyAllows(XfrmDir::In, flow, packet);
    }
    if (!InboundPolicyAllows(XfrmDir::Fwd, flow, packet))
    {
        return true;
    }
    Ptr<XfrmPolicy> policy = m_spd.Lookup(XfrmDir::Out, flow);
    if (!policy)
    {
        return false;
    }
    if (policy->GetConfig().action == XfrmPolicyAction::Block)
    {
        Drop(XfrmStat::OutPolBlock, packet);
        return true;
    }
    if (policy->RequiresIpsec() && policy->IsHardware() &&
        !LeavesThroughPolicyDevice(*policy, RouteTo(header.GetSource(), header.GetDestination())))
    {
        Drop(XfrmStat::OutError, packet);
        return true;
    }
    if (!policy->RequiresIpsec() || policy->IsHardware() ||
        policy->GetConfig().tmpl.mode != XfrmMode::Tunnel)
    {
        return false; // plaintext forwarding; a packet-offload device protects it on its way out
    }
    if (header.GetTtl() <= 1)
    {
        ++m_stats[size_t(XfrmStat::FwdHdrError)];
        return false; // routing answers with "time exceeded"
    }
    Ipv4Header inner = header;
    inner.SetTtl(header.GetTtl() - 1);
    inner.EnableChecksum();
    Protect(policy, inner, packet, nullptr);
    return true;
}

// ---- PMTU errors from packet-offload devices ----

void
XfrmStack::OnMtuExceeded(Ptr<const Packet> ipPacket, uint32_t mtu)
{
    // Raised from inside the device's Send: answer once the sender's call stack has unwound.
    Simulator::ScheduleNow(
        [this, ipPacket, mtu]()
        {
            if (!m_ipv4)
            {
                return;
            }
            Ptr<Packet> copy = ipPacket->Copy();
            Ipv4Header h;
            copy->RemoveHeader(h);
            ++m_stats[size_t(XfrmStat::LocalPmtuErrors)];
            if (m_ipv4->GetInterfaceForAddress(h.GetSource()) >= 0)
            {
                // Local sender: Linux's xfrm_local_error, straight to the socket.
                Ptr<IpL4Protocol> l4 = m_ipv4->GetProtocol(h.GetProtocol());
                if (l4)
                {
                    uint8_t first8[8] = {};
                    copy->CopyData(first8, std::min<uint32_t>(8, copy->GetSize()));
                    l4->ReceiveIcmp(h.GetSource(), 64, Icmpv4Header::ICMPV4_DEST_UNREACH,
                                    Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED, mtu,
                                    h.GetSource(), h.GetDestination(), first8);
                }
                return;
            }
            if (Ptr<Icmpv4L4Protocol> icmp = m_node->GetObject<Icmpv4L4Protocol>())
            {
                icmp->SendDestUnreachFragNeeded(h, copy, mtu);
            }
        });
}

} // namespace ns3
