#include "emu-nic-net-device.h"

#include "ipv4-packet-util.h"
#include "xfrm-offload-tag.h"
#include "xfrm-state-table.h"

#include "ns3/boolean.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("EmuNicNetDevice");
NS_OBJECT_ENSURE_REGISTERED(EmuNicNetDevice);

const char*
EmuNicDropName(EmuNicDrop drop)
{
    static const char* const names[] = {
        "TxFragment",    "TxPmtu",     "TxNoState",        "TxSeqOverflow", "TxExpired",
        "TxUnsupported", "RxFragment", "RxAuthFail",       "RxBadPadding",  "RxMalformed",
        "RxReplay",      "RxExpired",  "RxPolicyMismatch",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(EmuNicDrop::Count));
    return names[size_t(drop)];
}

const char*
EmuNicEventName(EmuNicEvent event)
{
    static const char* const names[] = {
        "StateAdd",
        "StateDelete",
        "StateFree",
        "OffloadOkRejected",
        "StateAdvanceEsn",
        "StateUpdateStats",
        "PolicyAdd",
        "PolicyDelete",
        "PolicyFree",
        "CryptoTxPackets",
        "CryptoRxPackets",
        "CryptoRxFailures",
        "PacketOffloadTxPackets",
        "PacketOffloadRxPackets",
        "TxCsumOffloaded",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(EmuNicEvent::Count));
    return names[size_t(event)];
}

TypeId
EmuNicNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::EmuNicNetDevice")
            .SetParent<PointToPointNetDevice>()
            .SetGroupName("EmuNic")
            .AddConstructor<EmuNicNetDevice>()
            .AddAttribute("EspOffload", "Advertise NETIF_F_HW_ESP: accept IPsec offload requests",
                          BooleanValue(true), MakeBooleanAccessor(&EmuNicNetDevice::m_espOffload),
                          MakeBooleanChecker())
            .AddAttribute(
                "EspTxCsumOffload", "Advertise NETIF_F_HW_ESP_TX_CSUM", BooleanValue(true),
                MakeBooleanAccessor(&EmuNicNetDevice::m_espTxCsumOffload), MakeBooleanChecker())
            .AddAttribute("SaCapacity", "Number of SA slots in the device (Rx and Tx share them)",
                          UintegerValue(64),
                          MakeUintegerAccessor(&EmuNicNetDevice::SetSaCapacity,
                                               &EmuNicNetDevice::GetSaCapacity),
                          MakeUintegerChecker<uint32_t>(1, 1u << 20))
            .AddAttribute(
                "PolicyCapacity", "Number of offloaded (packet offload) policies the device holds",
                UintegerValue(64), MakeUintegerAccessor(&EmuNicNetDevice::m_policyCapacity),
                MakeUintegerChecker<uint32_t>(1, 1u << 20))
            .AddTraceSource("TxFragmentDrop", "Fragment refused by packet offload (TX)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txFragmentDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("TxPmtuDrop", "Too big after ESP overhead (packet offload)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txPmtuDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("TxNoStateDrop", "Offloaded policy or handle without a usable state",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txNoStateDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("TxSeqOverflowDrop", "Sequence number space exhausted",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txSeqOverflowDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("TxExpiredDrop", "State past its hard limit (TX)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txExpiredDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("TxUnsupportedDrop", "Packet the device cannot offload",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_txUnsupportedDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxFragmentDrop", "Fragment refused by packet offload (RX)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxFragmentDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxAuthFailDrop", "Bad ICV (packet offload)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxAuthFailDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxBadPaddingDrop", "Bad ESP trailer (packet offload)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxBadPaddingDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxMalformedDrop", "Truncated ESP or bad inner packet",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxMalformedDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxReplayDrop", "Replayed or too old (packet offload)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxReplayDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxExpiredDrop", "State past its hard limit (RX)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxExpiredDrop),
                            "ns3::Packet::TracedCallback")
            .AddTraceSource("RxPolicyMismatchDrop", "Decrypted packet matches no offloaded policy",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_rxPolicyMismatchDrop),
                            "ns3::Packet::TracedCallback");
    return tid;
}

EmuNicNetDevice::EmuNicNetDevice()
{
    PointToPointNetDevice::SetReceiveCallback(MakeCallback(&EmuNicNetDevice::InterceptRx, this));
}

EmuNicNetDevice::~EmuNicNetDevice() = default;

void
EmuNicNetDevice::SetSaCapacity(uint32_t capacity)
{
    m_sas.SetCapacity(capacity);
}

uint32_t
EmuNicNetDevice::GetSaCapacity() const
{
    return m_sas.GetCapacity();
}

// ---- NetDevice ----

void
EmuNicNetDevice::SetReceiveCallback(NetDevice::ReceiveCallback cb)
{
    m_nodeRxCallback = cb;
}

void
EmuNicNetDevice::SetPromiscReceiveCallback(PromiscReceiveCallback cb)
{
    m_nodePromiscCallback = cb;
    PointToPointNetDevice::SetPromiscReceiveCallback(
        MakeCallback(&EmuNicNetDevice::InterceptPromiscRx, this));
}

bool
EmuNicNetDevice::IsLinkUp() const
{
    return !m_adminDown && PointToPointNetDevice::IsLinkUp();
}

void
EmuNicNetDevice::AddLinkChangeCallback(Callback<void> callback)
{
    m_linkChange.ConnectWithoutContext(callback);
    PointToPointNetDevice::AddLinkChangeCallback(callback);
}

void
EmuNicNetDevice::SetLinkDown(bool down)
{
    if (m_adminDown == down)
    {
        return;
    }
    m_adminDown = down;
    m_linkChange();
}

bool
EmuNicNetDevice::Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    if (protocolNumber == kEtherTypeIpv4 && m_espOffload && IsLinkUp())
    {
        packet = ProcessTx(packet);
        if (!packet)
        {
            return false;
        }
    }
    return PointToPointNetDevice::Send(packet, dest, protocolNumber);
}

bool
EmuNicNetDevice::InterceptRx(Ptr<NetDevice> dev, Ptr<const Packet> packet, uint16_t protocol,
                             const Address& from)
{
    if (protocol == kEtherTypeIpv4 && m_espOffload)
    {
        packet = ProcessRx(packet);
        if (!packet)
        {
            return true; // dropped and counted by the device
        }
    }
    return !m_nodeRxCallback.IsNull() && m_nodeRxCallback(dev, packet, protocol, from);
}

bool
EmuNicNetDevice::InterceptPromiscRx(Ptr<NetDevice> dev, Ptr<const Packet> packet, uint16_t protocol,
                                    const Address& from, const Address& to,
                                    NetDevice::PacketType type)
{
    // Promiscuous listeners (packet sockets, bridges) see the wire, as tcpdump would.
    return !m_nodePromiscCallback.IsNull() &&
           m_nodePromiscCallback(dev, packet, protocol, from, to, type);
}

// ---- drops ----

TracedCallback<Ptr<const Packet>>&
EmuNicNetDevice::DropTrace(EmuNicDrop drop)
{
    switch (drop)
    {
        case EmuNicDrop::TxFragment:
            return m_txFragmentDrop;
        case EmuNicDrop::TxPmtu:
            return m_txPmtuDrop;
        case EmuNicDrop::TxNoState:
            return m_txNoStateDrop;
        case EmuNicDrop::TxSeqOverflow:
            return m_txSeqOverflowDrop;
        case EmuNicDrop::TxExpired:
            return m_txExpiredDrop;
        case EmuNicDrop::TxUnsupported:
            return m_txUnsupportedDrop;
        case EmuNicDrop::RxFragment:
            return m_rxFragmentDrop;
        case EmuNicDrop::RxAuthFail:
            return m_rxAuthFailDrop;
        case EmuNicDrop::RxBadPadding:
            return m_rxBadPaddingDrop;
        case EmuNicDrop::RxMalformed:
            return m_rxMalformedDrop;
        case EmuNicDrop::RxReplay:
            return m_rxReplayDrop;
        case EmuNicDrop::RxExpired:
            return m_rxExpiredDrop;
        case EmuNicDrop::RxPolicyMismatch:
        case EmuNicDrop::Count:
            break;
    }
    return m_rxPolicyMismatchDrop;
}

void
EmuNicNetDevice::Drop(EmuNicDrop drop, Ptr<const Packet> packet)
{
    ++m_drops[size_t(drop)];
    DropTrace(drop)(packet);
}

uint64_t
EmuNicNetDevice::GetDropCount(EmuNicDrop drop) const
{
    return m_drops[size_t(drop)];
}

// ---- TX ----

Ptr<Packet>
EmuNicNetDevice::ProcessTx(Ptr<Packet> packet)
{
    XfrmOffloadTxTag tag;
    if (packet->PeekPacketTag(tag))
    {
        return CryptoTx(packet, tag);
    }
    if (!m_policies.empty())
    {
        return PacketOffloadTx(packet);
    }
    return packet;
}

Ptr<Packet>
EmuNicNetDevice::CryptoTx(Ptr<Packet> packet, const XfrmOffloadTxTag& tag)
{
    EmuNicSa* sa = m_sas.Get(tag.handle);
    // A deleted but not yet freed state still encrypts: the packet was committed to it (sequence
    // number taken) before the delete, as an skb holds its xfrm_state in Linux.
    if (!sa || sa->type != XfrmOffloadType::Crypto || sa->dir != XfrmDir::Out)
    {
        Drop(EmuNicDrop::TxNoState, packet);
        return nullptr;
    }
    CopyPacketBytes(packet, m_buffer);
    const uint32_t ihl = Ipv4HeaderLength(m_buffer.data(), m_buffer.size());
    const uint32_t minimum = EspTransform::kHeaderLength + sa->transform->GetIvLength() + 4 +
                             sa->transform->GetIcvLength();
    if (ihl == 0 || IsIpv4FragmentBytes(m_buffer.data()) || m_buffer.size() < ihl + minimum)
    {
        Drop(EmuNicDrop::TxUnsupported, packet);
        return nullptr;
    }
    if (tag.csumLength != 0)
    {
        // HW_ESP_TX_CSUM: the inner checksum is ours to fill before encryption.
        const uint32_t start = ihl + tag.csumStart;
        if (!m_espTxCsumOffload || start + tag.csumLength > m_buffer.size() ||
            tag.csumField + 2u > tag.csumLength)
        {
            Drop(EmuNicDrop::TxUnsupported, packet);
            return nullptr;
        }
        uint8_t* segment = m_buffer.data() + start;
        const uint16_t sum =
            L4Checksum(tag.csumSrc, tag.csumDst, tag.csumProto, segment, tag.csumLength);
        segment[tag.csumField] = uint8_t(sum >> 8);
        segment[tag.csumField + 1] = uint8_t(sum);
        ++m_events[size_t(EmuNicEvent::TxCsumOffloaded)];
    }
    sa->transform->Seal(m_buffer.data() + ihl, m_buffer.size() - ihl, tag.seqHi, sa->esn);
    sa->current.bytes += m_buffer.size();
    sa->current.packets++;
    ++m_events[size_t(EmuNicEvent::CryptoTxPackets)];
    return Create<Packet>(m_buffer.data(), m_buffer.size());
}

Ptr<XfrmPolicy>
EmuNicNetDevice::LookupHwPolicy(XfrmDir dir, const XfrmFlow& flow) const
{
    for (const auto& p : m_policies)
    {
        if (p->GetConfig().dir == dir && p->GetConfig().sel.Matches(flow))
        {
            return p;
        }
    }
    return nullptr;
}

// A state at its hard limit is still selected, so that CheckLifetime refuses the packet and
// raises the hard expire (Linux: xfrm_state_check_expire fails); only a state the stack has
// declared dead is skipped.
EmuNicSa*
EmuNicNetDevice::SelectTxState(const XfrmPolicy& policy, const XfrmFlow& flow)
{
    EmuNicSa* best = nullptr;
    m_sas.ForEach(
        [&](uint64_t, EmuNicSa& sa)
        {
            if (sa.deleted || sa.dir != XfrmDir::Out || sa.type != XfrmOffloadType::Packet ||
                !policy.TemplateMatches(*sa.xs) ||
                (sa.mode == XfrmMode::Transport && sa.daddr != flow.dst) ||
                sa.xs->IsHardExpired() || !sa.xs->GetConfig().sel.Matches(flow))
            {
                return;
            }
            if (XfrmStateTable::IsBetterOutbound(*sa.xs, best ? PeekPointer(best->xs) : nullptr))
            {
                best = &sa;
            }
        });
    return best;
}

uint32_t
EmuNicNetDevice::InnerMtu(const EmuNicSa& sa, uint32_t headerLength) const
{
    const uint32_t mtu = GetMtu();
    const uint32_t outerHeader = sa.mode == XfrmMode::Tunnel ? 20 : headerLength;
    uint32_t inner = mtu;
    while (inner > 68)
    {
        const uint32_t payload = sa.mode == XfrmMode::Tunnel ? inner : inner - headerLength;
        if (outerHeader + sa.transform->GetFrameLength(payload) <= mtu)
        {
            break;
        }
        --inner;
    }
    return inner;
}

bool
EmuNicNetDevice::CheckLifetime(EmuNicSa& sa)
{
    if (XfrmHardLimitReached(sa.lifetime, sa.current))
    {
        if (!sa.hardNotified)
        {
            sa.hardNotified = true;
            Ptr<XfrmState> x = sa.xs;
            Simulator::ScheduleNow([this, x]() { NotifyCheckExpire(x); });
        }
        return false;
    }
    if (!sa.softNotified && XfrmSoftLimitReached(sa.lifetime, sa.current))
    {
        sa.softNotified = true;
        Ptr<XfrmState> x = sa.xs;
        Simulator::ScheduleNow([this, x]() { NotifyCheckExpire(x); });
    }
    return true;
}

Ptr<Packet>
EmuNicNetDevice::PacketOffloadTx(Ptr<Packet> packet)
{
    CopyPacketBytes(packet, m_buffer);
    const uint32_t length = m_buffer.size();
    const uint32_t ihl = Ipv4HeaderLength(m_buffer.data(), length);
    if (ihl == 0)
    {
        return packet; // not IPv4 as this device parses it: not ours to protect
    }
    const XfrmFlow flow = FlowOfBytes(m_buffer.data(), length, ihl);
    if (flow.proto == kIpProtoEsp)
    {
        return packet; // already ESP (software or crypto offload of another SA)
    }
    Ptr<XfrmPolicy> policy = LookupHwPolicy(XfrmDir::Out, flow);
    if (!policy)
    {
        return packet;
    }
    if (IsIpv4FragmentBytes(m_buffer.data()))
    {
        Drop(EmuNicDrop::TxFragment, packet);
        return nullptr;
    }
    if (ihl != 20)
    {
        Drop(EmuNicDrop::TxUnsupported, packet); // no IPv4 options in this device's parser
        return nullptr;
    }
    EmuNicSa* sa = SelectTxState(*policy, flow);
    if (!sa)
    {
        // Nothing usable: a hard-expired state, or none yet. No software fallback.
        Drop(EmuNicDrop::TxNoState, packet);
        return nullptr;
    }
    const bool tunnel = sa->mode == XfrmMode::Tunnel;
    const uint32_t payloadLength = tunnel ? length : length - ihl;
    const uint32_t outerLength = (tunnel ? 20 : ihl) + sa->transform->GetFrameLength(payloadLength);
    if (outerLength > GetMtu())
    {
        Drop(EmuNicDrop::TxPmtu, packet);
        NotifyMtuExceeded(packet->Copy(), InnerMtu(*sa, ihl));
        return nullptr;
    }
    if (!CheckLifetime(*sa))
    {
        ++sa->stats.expiredDrops;
        Drop(EmuNicDrop::TxExpired, packet);
        return nullptr;
    }
    const uint64_t limit = sa->esn ? kXfrmInfinity : 0xffffffffull;
    if (sa->lastSeq >= limit)
    {
        ++sa->stats.seqOverflow;
        Drop(EmuNicDrop::TxSeqOverflow, packet);
        return nullptr;
    }
    const uint64_t seq = ++sa->lastSeq;
    sa->current.bytes += length;
    sa->current.packets++;

    const uint8_t* payload = tunnel ? m_buffer.data() : m_buffer.data() + ihl;
    sa->transform->Encapsulate(sa->spi, seq, sa->esn, payload, payloadLength,
                               tunnel ? kIpProtoIpip : flow.proto, m_frame);
    Ipv4Header outer;
    if (tunnel)
    {
        outer = MakeIpv4Header(sa->saddr, sa->daddr, kIpProtoEsp, m_frame.size(), 64,
                               m_identification++);
    }
    else
    {
        packet->PeekHeader(outer);
        outer.SetProtocol(kIpProtoEsp);
        outer.SetPayloadSize(m_frame.size());
        outer.EnableChecksum();
    }
    Ptr<Packet> esp = Create<Packet>(m_frame.data(), m_frame.size());
    esp->AddHeader(outer);
    ++m_events[size_t(EmuNicEvent::PacketOffloadTxPackets)];
    return esp;
}

// ---- RX ----

Ptr<const Packet>
EmuNicNetDevice::ProcessRx(Ptr<const Packet> packet)
{
    if (m_sas.GetUsed() == 0 && m_policies.empty())
    {
        return packet;
    }
    CopyPacketBytes(packet, m_buffer);
    const uint32_t length = m_buffer.size();
    const uint32_t ihl = Ipv4HeaderLength(m_buffer.data(), length);
    if (ihl == 0)
    {
        return packet; // the stack counts malformed IP
    }
    const bool fragment = IsIpv4FragmentBytes(m_buffer.data());
    const XfrmFlow flow = FlowOfBytes(m_buffer.data(), length, ihl);
    if (flow.proto == kIpProtoEsp)
    {
        if (length < ihl + EspTransform::kHeaderLength)
        {
            return packet; // too short to name an SA: the stack counts it
        }
        EmuNicSa* sa = m_sas.FindRx(flow.dst, EspTransform::ReadSpi(m_buffer.data() + ihl));
        if (!sa)
        {
            return packet; // not offloaded: software IPsec may know the SPI
        }
        if (sa->type == XfrmOffloadType::Packet)
        {
            if (fragment)
            {
                Drop(EmuNicDrop::RxFragment, packet);
                return nullptr;
            }
            return PacketOffloadRx(*sa, packet, ihl);
        }
        // Crypto offload cannot decrypt a fragment: the stack reassembles and decrypts it.
        return fragment ? packet : CryptoRx(*sa, packet, ihl);
    }
    if (fragment && LookupHwPolicy(XfrmDir::In, XfrmFlow{flow.src, flow.dst, flow.proto, 0, 0}))
    {
        Drop(EmuNicDrop::RxFragment, packet);
        return nullptr;
    }
    return packet;
}

Ptr<const Packet>
EmuNicNetDevice::CryptoRx(EmuNicSa& sa, Ptr<const Packet> packet, uint32_t ihl)
{
    uint8_t* frame = m_buffer.data() + ihl;
    const uint32_t frameLength = m_buffer.size() - ihl;
    const uint32_t seqHi = sa.esn ? sa.replay.InferSeqHi(EspTransform::ReadSeqLow(frame)) : 0;
    const EspStatus status = sa.transform->Open(frame, frameLength, seqHi, sa.esn);
    sa.current.bytes += m_buffer.size();
    sa.current.packets++;
    Ptr<Packet> out;
    if (status == EspStatus::Ok)
    {
        out = Create<Packet>(m_buffer.data(), m_buffer.size());
        ++m_events[size_t(EmuNicEvent::CryptoRxPackets)];
    }
    else
    {
        // Report, don't drop: in crypto offload the stack decides (Linux xo->status).
        out = packet->Copy();
        ++(status == EspStatus::AuthFailed ? sa.stats.integrityFailures : sa.stats.truncated);
        ++m_events[size_t(EmuNicEvent::CryptoRxFailures)];
    }
    XfrmOffloadRxTag tag;
    tag.nodeId = GetNode()->GetId();
    tag.spi = sa.spi;
    tag.status = status;
    out->AddPacketTag(tag);
    return out;
}

Ptr<const Packet>
EmuNicNetDevice::PacketOffloadRx(EmuNicSa& sa, Ptr<const Packet> packet, uint32_t ihl)
{
    uint8_t* frame = m_buffer.data() + ihl;
    const uint32_t frameLength = m_buffer.size() - ihl;
    uint64_t seq = 0;
    if (sa.replay.Check(EspTransform::ReadSeqLow(frame), &seq) != ReplayVerdict::Ok)
    {
        ++sa.stats.replayDrops;
        Drop(EmuNicDrop::RxReplay, packet);
        return nullptr;
    }
    if (!CheckLifetime(sa))
    {
        ++sa.stats.expiredDrops;
        Drop(EmuNicDrop::RxExpired, packet);
        return nullptr;
    }
    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
    const EspStatus status = sa.transform->Decapsulate(
        frame, frameLength, uint32_t(seq >> 32), sa.esn, &offset, &payloadLength, &nextHeader);
    if (status == EspStatus::AuthFailed)
    {
        ++sa.stats.integrityFailures;
        Drop(EmuNicDrop::RxAuthFail, packet);
        return nullptr;
    }
    if (status == EspStatus::BadPadding)
    {
        ++sa.stats.badPadding;
        Drop(EmuNicDrop::RxBadPadding, packet);
        return nullptr;
    }
    if (status != EspStatus::Ok)
    {
        ++sa.stats.truncated;
        Drop(EmuNicDrop::RxMalformed, packet);
        return nullptr;
    }
    const uint8_t* payload = frame + offset;
    Ptr<Packet> plain;
    XfrmFlow inner; // the decrypted packet's selector fields, for the inbound policy check
    if (sa.mode == XfrmMode::Tunnel)
    {
        if (!IsWholeIpv4Packet(payload, payloadLength, nextHeader))
        {
            ++sa.stats.truncated;
            Drop(EmuNicDrop::RxMalformed, packet);
            return nullptr;
        }
        inner = FlowOfBytes(payload, payloadLength, Ipv4HeaderLength(payload, payloadLength));
        plain = Create<Packet>(payload, payloadLength);
    }
    else
    {
        inner = FlowOfBytes(m_buffer.data(), ihl + 4, ihl); // addresses of the outer header
        inner.proto = nextHeader;
        inner.sport = inner.dport = 0;
        if ((nextHeader == kIpProtoTcp || nextHeader == kIpProtoUdp) && payloadLength >= 4)
        {
            inner.sport = uint16_t(payload[0] << 8 | payload[1]);
            inner.dport = uint16_t(payload[2] << 8 | payload[3]);
        }
        Ipv4Header header;
        packet->PeekHeader(header);
        header.SetProtocol(nextHeader);
        header.SetPayloadSize(payloadLength);
        header.EnableChecksum();
        plain = Create<Packet>(payload, payloadLength);
        plain->AddHeader(header);
    }
    Ptr<XfrmPolicy> policy = LookupHwPolicy(XfrmDir::In, inner);
    if (!policy || !policy->TemplateMatches(*sa.xs) || !sa.xs->GetConfig().sel.Matches(inner))
    {
        Drop(EmuNicDrop::RxPolicyMismatch, packet);
        return nullptr;
    }
    sa.replay.Advance(seq);
    sa.current.bytes += plain->GetSize();
    sa.current.packets++;
    XfrmSecPathTag secpath;
    secpath.nodeId = GetNode()->GetId();
    secpath.spi = sa.spi;
    secpath.daddr = sa.daddr;
    secpath.packetOffload = true;
    plain->AddPacketTag(secpath);
    ++m_events[size_t(EmuNicEvent::PacketOffloadRxPackets)];
    return plain;
}

// ---- XfrmDevOps ----

uint32_t
EmuNicNetDevice::GetXfrmFeatures() const
{
    uint32_t features = 0;
    if (m_espOffload)
    {
        features |= XFRM_DEV_FEATURE_HW_ESP;
        if (m_espTxCsumOffload)
        {
            features |= XFRM_DEV_FEATURE_HW_ESP_TX_CSUM;
        }
    }
    return features;
}

XfrmOffloadResult
EmuNicNetDevice::StateAdd(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateAdd)];
    const XfrmStateConfig& c = x->GetConfig();
    const XfrmDevOffload& xso = x->GetOffload();
    // Validate into a local; store last.
    if (xso.type != XfrmOffloadType::Crypto && xso.type != XfrmOffloadType::Packet)
    {
        return XfrmOffloadResult::Fail("offload type none");
    }
    if (xso.dir != XfrmDir::In && xso.dir != XfrmDir::Out)
    {
        return XfrmOffloadResult::Fail("offload direction must be in or out");
    }
    if (c.algorithm.suite != EspAlgorithm::Suite::AesGcm)
    {
        return XfrmOffloadResult::NotSupported(
            "Cannot offload " + c.algorithm.EncName() +
            (c.algorithm.AuthName().empty() ? "" : " + " + c.algorithm.AuthName()) +
            ": only rfc4106(gcm(aes)) is offloaded");
    }
    if (c.algorithm.icvBits != 128)
    {
        return XfrmOffloadResult::NotSupported("Only ICV 128 is supported");
    }
    EmuNicSa sa;
    std::string error;
    sa.transform = EspTransform::Create(c.algorithm, &error);
    if (!sa.transform)
    {
        return XfrmOffloadResult::Fail(error);
    }
    sa.xs = x;
    sa.dir = xso.dir;
    sa.type = xso.type;
    sa.saddr = c.saddr;
    sa.daddr = c.daddr;
    sa.spi = c.spi;
    sa.mode = c.mode;
    sa.reqid = c.reqid;
    sa.esn = c.esn;
    sa.lifetime = c.lifetime;
    sa.replay = ReplayWindow(c.replayWindow, c.esn);
    const uint64_t handle = m_sas.Insert(std::move(sa), &error);
    if (handle == 0)
    {
        return XfrmOffloadResult::Fail(error);
    }
    x->GetOffload().handle = handle;
    return XfrmOffloadResult::Ok();
}

void
EmuNicNetDevice::StateDelete(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateDelete)];
    if (EmuNicSa* sa = m_sas.Get(x->GetOffload().handle))
    {
        sa->deleted = true;
    }
}

void
EmuNicNetDevice::StateFree(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateFree)];
    m_sas.Remove(x->GetOffload().handle);
}

bool
EmuNicNetDevice::OffloadOk(const Ipv4Header& ipHeader, Ptr<const Packet> payload, Ptr<XfrmState> x)
{
    const EmuNicSa* sa = m_sas.Get(x->GetOffload().handle);
    // This device parses plain 20-byte IPv4 headers only.
    const bool ok = sa && !sa->deleted && ipHeader.GetSerializedSize() == 20;
    if (!ok)
    {
        ++m_events[size_t(EmuNicEvent::OffloadOkRejected)];
    }
    return ok;
}

void
EmuNicNetDevice::StateAdvanceEsn(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateAdvanceEsn)];
    if (EmuNicSa* sa = m_sas.Get(x->GetOffload().handle))
    {
        sa->advanceEsnCalls++;
        if (sa->type == XfrmOffloadType::Crypto && sa->dir == XfrmDir::In)
        {
            sa->replay.Advance(x->GetReplayWindow().GetTop());
        }
    }
}

void
EmuNicNetDevice::StateUpdateStats(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateUpdateStats)];
    const EmuNicSa* sa = m_sas.Get(x->GetOffload().handle);
    if (sa && sa->type == XfrmOffloadType::Packet)
    {
        // In packet offload only the device counts; the stack learns the numbers here.
        x->GetCurrent() = sa->current;
        x->GetStats() = sa->stats;
        x->SetLastSeq(sa->lastSeq);
    }
}

XfrmOffloadResult
EmuNicNetDevice::PolicyAdd(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyAdd)];
    const XfrmPolicyConfig& c = xp->GetConfig();
    if (c.dir != XfrmDir::In && c.dir != XfrmDir::Out)
    {
        return XfrmOffloadResult::NotSupported("only in and out policies are offloaded");
    }
    if (!xp->RequiresIpsec())
    {
        return XfrmOffloadResult::NotSupported("only allow policies with an ESP template");
    }
    if (m_policies.size() >= m_policyCapacity)
    {
        std::ostringstream os;
        os << "No space for policy (capacity " << m_policyCapacity << ")";
        return XfrmOffloadResult::Fail(os.str());
    }
    auto at = std::upper_bound(m_policies.begin(), m_policies.end(), xp,
                               [](const Ptr<XfrmPolicy>& a, const Ptr<XfrmPolicy>& b)
                               { return XfrmPolicyTable::Outranks(*a, *b); });
    m_policies.insert(at, xp);
    return XfrmOffloadResult::Ok();
}

void
EmuNicNetDevice::PolicyDelete(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyDelete)];
    m_policies.erase(std::remove(m_policies.begin(), m_policies.end(), xp), m_policies.end());
}

void
EmuNicNetDevice::PolicyFree(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyFree)];
}

// ---- inspection ----

const EmuNicSaTable&
EmuNicNetDevice::GetSaTable() const
{
    return m_sas;
}

const EmuNicSa*
EmuNicNetDevice::GetSa(uint64_t handle) const
{
    return m_sas.Get(handle);
}

uint32_t
EmuNicNetDevice::GetPolicyCount() const
{
    return m_policies.size();
}

std::map<std::string, uint64_t>
EmuNicNetDevice::GetCounters() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(EmuNicEvent::Count); ++i)
    {
        all[EmuNicEventName(EmuNicEvent(i))] = m_events[i];
    }
    for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
    {
        all[std::string(EmuNicDropName(EmuNicDrop(i))) + "Drop"] = m_drops[i];
    }
    return all;
}

std::string
EmuNicNetDevice::Dump() const
{
    std::ostringstream os;
    os << m_sas.Dump() << "policies=" << m_policies.size() << "\n";
    return os.str();
}

} // namespace ns3
