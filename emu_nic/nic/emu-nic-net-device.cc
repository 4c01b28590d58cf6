#include "emu-nic-net-device.h"

#include "device-abi-convert.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "offload-device-guard.h"
#include "xfrm-offload-tag.h"

#include "ns3/boolean.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
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
        "TxFragment",
        "TxPmtu",
        "TxNoState",
        "TxSeqOverflow",
        "TxExpired",
        "TxUnsupported",
        "RxFragment",
        "RxAuthFail",
        "RxBadPadding",
        "RxMalformed",
        "RxReplay",
        "RxExpired",
        "RxPolicyMismatch",
        "TxOversize",
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
        "LifetimePoll",
        "GsoTxPackets",
        "GsoTxSegments",
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
            .AddAttribute("EspOffload",
                          "Advertise NETIF_F_HW_ESP: accept IPsec offload requests",
                          BooleanValue(true),
                          MakeBooleanAccessor(&EmuNicNetDevice::m_espOffload),
                          MakeBooleanChecker())
            .AddAttribute("EspTxCsumOffload",
                          "Advertise NETIF_F_HW_ESP_TX_CSUM",
                          BooleanValue(true),
                          MakeBooleanAccessor(&EmuNicNetDevice::m_espTxCsumOffload),
                          MakeBooleanChecker())
            .AddAttribute("GsoEspOffload",
                          "Advertise NETIF_F_GSO_ESP when the device offers it (ABI v4)",
                          BooleanValue(true),
                          MakeBooleanAccessor(&EmuNicNetDevice::m_gsoEspOffload),
                          MakeBooleanChecker())
            .AddAttribute("Device",
                          "The offload device: reference, example, mutant:NAME, or the path of a "
                          "device library (.so) of the offloadlab device ABI",
                          StringValue("reference"),
                          MakeStringAccessor(&EmuNicNetDevice::SetDeviceSpec,
                                             &EmuNicNetDevice::GetDeviceSpec),
                          MakeStringChecker())
            .AddAttribute("SaCapacity",
                          "Number of SA slots in the device (Rx and Tx share them)",
                          UintegerValue(64),
                          MakeUintegerAccessor(&EmuNicNetDevice::SetSaCapacity,
                                               &EmuNicNetDevice::GetSaCapacity),
                          MakeUintegerChecker<uint32_t>(1, 1u << 20))
            .AddAttribute("PolicyCapacity",
                          "Number of offloaded (packet offload) policies the device holds",
                          UintegerValue(64),
                          MakeUintegerAccessor(&EmuNicNetDevice::SetPolicyCapacity,
                                               &EmuNicNetDevice::GetPolicyCapacity),
                          MakeUintegerChecker<uint32_t>(1, 1u << 20))
            .AddTraceSource("Drop",
                            "A packet the device dropped, with the reason (olab_drop_reason)",
                            MakeTraceSourceAccessor(&EmuNicNetDevice::m_dropTrace),
                            "ns3::EmuNicNetDevice::DropTracedCallback");
    return tid;
}

EmuNicNetDevice::EmuNicNetDevice()
{
    PointToPointNetDevice::SetReceiveCallback(MakeCallback(&EmuNicNetDevice::InterceptRx, this));
}

EmuNicNetDevice::~EmuNicNetDevice()
{
    DestroyEngine(nullptr);
}

// ---- the device behind the ABI ----

void
EmuNicNetDevice::DestroyEngine(const char* why)
{
    if (!m_engine)
    {
        return;
    }
    if (why && !m_states.empty())
    {
        NS_FATAL_ERROR("EmuNicNetDevice " << why << ": cannot change while " << m_states.size()
                                          << " SAs are offloaded to the device");
    }
    DeviceCallScope scope("olab_destroy");
    m_type->GetOps().destroy(m_engine);
    m_engine = nullptr;
}

void
EmuNicNetDevice::SetSaCapacity(uint32_t capacity)
{
    DestroyEngine("SaCapacity");
    m_saCapacity = capacity;
}

uint32_t
EmuNicNetDevice::GetSaCapacity() const
{
    return m_saCapacity;
}

void
EmuNicNetDevice::SetPolicyCapacity(uint32_t capacity)
{
    DestroyEngine("PolicyCapacity");
    m_policyCapacity = capacity;
}

uint32_t
EmuNicNetDevice::GetPolicyCapacity() const
{
    return m_policyCapacity;
}

void
EmuNicNetDevice::SetDeviceSpec(const std::string& spec)
{
    DestroyEngine("Device");
    m_deviceSpec = spec;
    m_type = nullptr;
}

std::string
EmuNicNetDevice::GetDeviceSpec() const
{
    return m_deviceSpec;
}

const OffloadDeviceType&
EmuNicNetDevice::GetDeviceType()
{
    if (!m_type)
    {
        std::string error;
        m_type = OffloadDeviceType::Open(m_deviceSpec, &error);
        if (!m_type)
        {
            NS_FATAL_ERROR("EmuNicNetDevice Device '" << m_deviceSpec << "': " << error);
        }
    }
    return *m_type;
}

void*
EmuNicNetDevice::Engine()
{
    if (m_engine)
    {
        return m_engine;
    }
    const OffloadDeviceType& type = GetDeviceType();
    olab_host host{sizeof(olab_host),
                   this,
                   &EmuNicNetDevice::OnCheckExpire,
                   &EmuNicNetDevice::OnMtuExceeded};
    // The ABI promises sa_capacity <= max_sa (and policy_capacity <= max_policies): a table
    // asked for larger than the device has is the device's whole table.
    const olab_capabilities& caps = type.GetCapabilities();
    const uint32_t policies =
        caps.max_policies != 0 ? std::min(m_policyCapacity, caps.max_policies) : m_policyCapacity;
    olab_config config{sizeof(olab_config),
                       std::min(m_saCapacity, caps.max_sa),
                       policies,
                       GetXfrmFeatures()};
    char error[256] = {};
    {
        DeviceCallScope scope("olab_create");
        m_engine = type.GetOps().create(&host, &config, error, sizeof(error));
    }
    error[sizeof(error) - 1] = '\0';
    if (!m_engine)
    {
        NS_FATAL_ERROR("EmuNicNetDevice: device '"
                       << m_deviceSpec << "' refused its configuration (SaCapacity " << m_saCapacity
                       << ", PolicyCapacity " << m_policyCapacity << "): " << error);
    }
    return m_engine;
}

BuiltinOffloadDevice*
EmuNicNetDevice::GetBuiltinDevice()
{
    return GetDeviceType().IsBuiltin() ? static_cast<BuiltinOffloadDevice*>(Engine()) : nullptr;
}

void
EmuNicNetDevice::OnCheckExpire(void* ctx, uint64_t saHostId)
{
    auto* self = static_cast<EmuNicNetDevice*>(ctx);
    auto it = self->m_states.find(saHostId);
    if (it == self->m_states.end())
    {
        OffloadDeviceFault("olab_host.check_expire",
                           "unknown SA host_id " + std::to_string(saHostId));
    }
    // Raised from inside the device's fast path: the stack answers once that has unwound.
    Ptr<XfrmState> x = it->second;
    Simulator::ScheduleNow([self, x]() { self->NotifyCheckExpire(x); });
}

void
EmuNicNetDevice::OnMtuExceeded(void* ctx, const uint8_t* ipPacket, uint32_t len, uint32_t mtu)
{
    auto* self = static_cast<EmuNicNetDevice*>(ctx);
    if (mtu < 68 || mtu > 65535 || !ipPacket || len < 20)
    {
        OffloadDeviceFault("olab_host.mtu_exceeded",
                           "mtu " + std::to_string(mtu) + " or packet length " +
                               std::to_string(len) + " out of range");
    }
    // The packet in tx keeps its ns-3 tags (the socket that sent it); bytes alone would not.
    Ptr<Packet> packet = self->m_txPacket && self->m_txPacket->GetSize() == len
                             ? self->m_txPacket->Copy()
                             : Create<Packet>(ipPacket, len);
    self->NotifyMtuExceeded(packet, mtu);
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
    return !m_adminDown && m_carrier && PointToPointNetDevice::IsLinkUp();
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
    if (down)
    {
        NotifyDeviceDown(); // NETDEV_DOWN: the stack flushes what is offloaded here
    }
}

void
EmuNicNetDevice::SetCarrier(bool up)
{
    if (m_carrier == up)
    {
        return;
    }
    m_carrier = up;
    m_linkChange(); // Linux sends no NETDEV_DOWN for it: the offloads stay
}

namespace
{

/// The protocol number of the IP packet a frame holds, by its version nibble: a tunnel's outer
/// (TX) or inner (RX) packet may be of the other family than the one the stack handed over.
uint16_t
EtherTypeOf(Ptr<const Packet> frame, uint16_t otherwise)
{
    uint8_t first = 0;
    if (frame->GetSize() == 0 || frame->CopyData(&first, 1) != 1)
    {
        return otherwise;
    }
    return first >> 4 == 6 ? kEtherTypeIpv6 : first >> 4 == 4 ? kEtherTypeIpv4 : otherwise;
}
} // namespace

bool
EmuNicNetDevice::Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    if (m_espOffload && m_everOffloaded && IsLinkUp() &&
        (protocolNumber == kEtherTypeIpv4 ||
         (protocolNumber == kEtherTypeIpv6 && DeviceDoesIpv6())))
    {
        // A GSO super-packet leaves as the segments the device made, each its own frame.
        bool sent = false;
        for (const Ptr<Packet>& frame : ProcessTx(packet))
        {
            sent = PointToPointNetDevice::Send(frame, dest, EtherTypeOf(frame, protocolNumber)) ||
                   sent;
        }
        return sent;
    }
    if ((protocolNumber == kEtherTypeIpv4 || protocolNumber == kEtherTypeIpv6) &&
        packet->GetSize() > GetMtu())
    {
        // A super-packet no device segmented: never on the wire whole.
        Drop(EmuNicDrop::TxOversize, packet);
        return false;
    }
    return PointToPointNetDevice::Send(packet, dest, protocolNumber);
}

bool
EmuNicNetDevice::InterceptRx(Ptr<NetDevice> dev,
                             Ptr<const Packet> packet,
                             uint16_t protocol,
                             const Address& from)
{
    // An IPv4-only device never sees IPv6 (ABI v5: the host gives it nothing it cannot parse).
    if (m_espOffload && m_everOffloaded &&
        (protocol == kEtherTypeIpv4 || (protocol == kEtherTypeIpv6 && DeviceDoesIpv6())))
    {
        packet = ProcessRx(packet, &protocol);
        if (!packet)
        {
            return true; // dropped and counted by the device
        }
    }
    return !m_nodeRxCallback.IsNull() && m_nodeRxCallback(dev, packet, protocol, from);
}

bool
EmuNicNetDevice::InterceptPromiscRx(Ptr<NetDevice> dev,
                                    Ptr<const Packet> packet,
                                    uint16_t protocol,
                                    const Address& from,
                                    const Address& to,
                                    NetDevice::PacketType type)
{
    // Promiscuous listeners (packet sockets, bridges) see the wire, as tcpdump would.
    return !m_nodePromiscCallback.IsNull() &&
           m_nodePromiscCallback(dev, packet, protocol, from, to, type);
}

// ---- drops ----

void
EmuNicNetDevice::Drop(EmuNicDrop reason, Ptr<const Packet> packet)
{
    NS_LOG_LOGIC("device '" << m_deviceSpec << "' on node " << GetNode()->GetId() << " drops a "
                            << packet->GetSize() << "-byte packet: " << EmuNicDropName(reason));
    ++m_drops[size_t(reason)];
    m_dropTrace(packet, reason);
}

uint64_t
EmuNicNetDevice::GetDropCount(EmuNicDrop drop) const
{
    return m_drops[size_t(drop)];
}

// ---- TX ----

namespace
{
EmuNicNetDevice::WireObserver&
GlobalWireObserver()
{
    static EmuNicNetDevice::WireObserver observer;
    return observer;
}

/// Room for the largest ESP growth (outer header, SPI, sequence, IV, padding, trailer, ICV).
constexpr uint32_t kTxHeadroom = 512;
/// And per GSO segment: outer and inner IPv4 headers, a TCP header with options, ESP's growth.
constexpr uint32_t kTxHeadroomPerSegment = 384;

EspStatus
StatusOf(uint8_t status)
{
    switch (status)
    {
    case OLAB_RX_OK:
        return EspStatus::Ok;
    case OLAB_RX_AUTH_FAILED:
        return EspStatus::AuthFailed;
    case OLAB_RX_BAD_PADDING:
        return EspStatus::BadPadding;
    default:
        return EspStatus::Truncated;
    }
}
} // namespace

std::vector<Ptr<Packet>>
EmuNicNetDevice::ProcessTx(Ptr<Packet> packet)
{
    XfrmOffloadTxTag tag;
    const bool tagged = packet->PeekPacketTag(tag);
    // Handle 0: a packet-offload super-packet, plaintext that only carries its GSO fields.
    const bool crypto = tagged && tag.handle != 0;
    const bool gso = tagged && tag.gsoSize != 0;
    olab_tx_meta meta{};
    if (tagged)
    {
        meta.size = sizeof(meta);
        meta.handle = tag.handle;
        meta.seq_hi = tag.seqHi;
        meta.csum_start = tag.csumStart;
        meta.csum_len = tag.csumLength;
        meta.csum_field = tag.csumField;
        meta.csum_proto = tag.csumProto;
        meta.csum_saddr = AbiIpv4Of(tag.csumSrc);
        meta.csum_daddr = AbiIpv4Of(tag.csumDst);
        meta.gso_size = tag.gsoSize;
        meta.gso_segs = tag.gsoSegs;
        meta.csum_family = AbiFamilyOf(tag.csumSrc);
        AbiAddress6Of(tag.csumSrc, meta.csum_saddr6);
        AbiAddress6Of(tag.csumDst, meta.csum_daddr6);
    }
    const uint32_t size = packet->GetSize();
    // Every segment of a super-packet gets headers, IV, padding, trailer and ICV of its own.
    const uint32_t cap = size + kTxHeadroom + (gso ? tag.gsoSegs * kTxHeadroomPerSegment : 0);
    m_buffer.resize(cap);
    packet->CopyData(m_buffer.data(), size);
    if (gso && size > 0 && m_buffer[0] >> 4 == 6)
    {
        // GSO_ESP is IPv4 only (ABI v5): the stack segments IPv6 in software.
        NS_LOG_LOGIC("an IPv6 GSO super-packet: never handed to the device");
        Drop(EmuNicDrop::TxUnsupported, packet);
        return {};
    }
    if (!crypto && IsOffloadedFragment(m_buffer.data(), size, XfrmDir::Out))
    {
        NS_LOG_LOGIC("packet offload: a fragment selected by an offloaded policy");
        Drop(EmuNicDrop::TxFragment, packet);
        return {};
    }
    uint32_t length = size;
    uint32_t reason = 0;
    int verdict;
    m_txPacket = packet;
    {
        DeviceCallScope scope("olab_tx");
        verdict = m_type->GetOps().tx(m_engine,
                                      m_buffer.data(),
                                      &length,
                                      cap,
                                      tagged ? &meta : nullptr,
                                      GetMtu(),
                                      &reason);
    }
    m_txPacket = nullptr;
    switch (verdict)
    {
    case OLAB_PASS:
        if (gso)
        {
            // A super-packet never goes on the wire whole.
            NS_LOG_LOGIC("the device passed a GSO super-packet unsegmented");
            Drop(EmuNicDrop::TxOversize, packet);
            return {};
        }
        return {packet};
    case OLAB_DROP:
        if (reason >= uint32_t(EmuNicDrop::Count))
        {
            OffloadDeviceFault("olab_tx",
                               "drop reason " + std::to_string(reason) +
                                   " is not an olab_drop_reason");
        }
        Drop(EmuNicDrop(reason), packet);
        return {};
    case OLAB_DONE:
        if (length < 20 || length > cap)
        {
            OffloadDeviceFault("olab_tx",
                               "length " + std::to_string(length) +
                                   " after OLAB_DONE is outside 20.." + std::to_string(cap));
        }
        {
            std::vector<Ptr<Packet>> frames = SplitSegments(packet, length, gso);
            const auto event =
                crypto ? EmuNicEvent::CryptoTxPackets : EmuNicEvent::PacketOffloadTxPackets;
            m_events[size_t(event)] += frames.size();
            if (crypto && tag.csumLength != 0)
            {
                ++m_events[size_t(EmuNicEvent::TxCsumOffloaded)];
            }
            if (gso)
            {
                ++m_events[size_t(EmuNicEvent::GsoTxPackets)];
                m_events[size_t(EmuNicEvent::GsoTxSegments)] += frames.size();
            }
            return frames;
        }
    default:
        OffloadDeviceFault("olab_tx",
                           "returned " + std::to_string(verdict) + ", not an olab_verdict");
    }
}

std::vector<Ptr<Packet>>
EmuNicNetDevice::SplitSegments(Ptr<const Packet> packet, uint32_t length, bool gso)
{
    // One packet, or a GSO device's segments back to back, each an IPv4 packet that says how
    // long it is; segments that do not add up are the device's fault. A frame over the MTU is
    // dropped here: the wire (and Linux's MTU) would not carry it.
    std::vector<Ptr<Packet>> frames;
    uint32_t offset = 0;
    while (offset < length)
    {
        const uint8_t* ip = m_buffer.data() + offset;
        const uint32_t left = length - offset;
        uint32_t frameLength = left;
        if (gso)
        {
            frameLength = Ipv4HeaderLength(ip, left) != 0 ? uint32_t(ip[2]) << 8 | ip[3] : 0;
            if (frameLength < 20 || frameLength > left)
            {
                OffloadDeviceFault("olab_tx",
                                   "GSO segment at byte " + std::to_string(offset) +
                                       " has total length " + std::to_string(frameLength) +
                                       " with " + std::to_string(left) + " bytes left");
            }
        }
        if (frameLength > GetMtu())
        {
            NS_LOG_LOGIC("device '" << m_deviceSpec << "' returned a " << frameLength
                                    << "-byte frame over the MTU " << GetMtu());
            Drop(EmuNicDrop::TxOversize, packet);
        }
        else
        {
            Ptr<Packet> out = Create<Packet>(ip, frameLength);
            if (!GlobalWireObserver().IsNull())
            {
                GlobalWireObserver()(out, StateOfEsp(ip, frameLength));
            }
            frames.push_back(out);
        }
        offset += frameLength;
    }
    return frames;
}

void
EmuNicNetDevice::SetWireObserver(WireObserver observer)
{
    GlobalWireObserver() = observer;
}

bool
EmuNicNetDevice::IsOffloadedFragment6(const uint8_t* ip, uint32_t length, XfrmDir dir) const
{
    // A Fragment header anywhere in the chain makes a fragment (Linux's packet offload drops
    // them as it does IPv4's); a chain that does not parse is the stack's to count.
    Ipv6Chain chain;
    if (!ParseIpv6Chain(ip, length, &chain, nullptr) || !chain.fragment ||
        (chain.upperProtocol == kIpProtoEsp) != (dir == XfrmDir::In))
    {
        return false;
    }
    const XfrmAddress dst = Ipv6DestinationOf(ip);
    if (dir == XfrmDir::In)
    {
        return m_packetRxStatesByDaddr.count(dst) != 0;
    }
    const XfrmFlow flow{Ipv6SourceOf(ip), dst, chain.upperProtocol, 0, 0};
    for (const Ptr<XfrmPolicy>& xp : m_policies)
    {
        XfrmSelector sel = xp->GetConfig().sel;
        sel.sport = sel.dport = 0;
        if (xp->GetConfig().dir == XfrmDir::Out && sel.Matches(flow))
        {
            return true;
        }
    }
    return false;
}

bool
EmuNicNetDevice::IsOffloadedFragment(const uint8_t* ip, uint32_t length, XfrmDir dir) const
{
    if (length > 0 && ip[0] >> 4 == 6)
    {
        return IsOffloadedFragment6(ip, length, dir);
    }
    const uint32_t ihl = Ipv4HeaderLength(ip, length);
    if (ihl == 0 || !IsIpv4FragmentBytes(ip) || (ip[9] == kIpProtoEsp) != (dir == XfrmDir::In))
    {
        return false;
    }
    const XfrmFlow flow = FlowOfBytes(ip, length, ihl);
    if (dir == XfrmDir::In)
    {
        // Only the first fragment names the SPI: every ESP fragment to an address with a
        // packet-offloaded inbound SA is the device's, and none is reassembled.
        return m_packetRxStatesByDaddr.count(flow.dst) != 0;
    }
    for (const Ptr<XfrmPolicy>& xp : m_policies)
    {
        // A fragment has no ports to match (the first one's are not the flow's either).
        XfrmSelector sel = xp->GetConfig().sel;
        sel.sport = sel.dport = 0;
        if (xp->GetConfig().dir == XfrmDir::Out && sel.Matches(flow))
        {
            return true;
        }
    }
    return false;
}

Ptr<XfrmState>
EmuNicNetDevice::StateOfEsp(const uint8_t* ip, uint32_t length) const
{
    if (length > 0 && ip[0] >> 4 == 6)
    {
        Ipv6Chain chain;
        if (!ParseIpv6Chain(ip, length, &chain, nullptr) || chain.upperProtocol != kIpProtoEsp ||
            chain.fragment || length < chain.upperOffset + EspTransform::kHeaderLength)
        {
            return nullptr;
        }
        auto it = m_txStatesBySpi.find(
            SpiKey{Ipv6DestinationOf(ip), EspTransform::ReadSpi(ip + chain.upperOffset)});
        return it == m_txStatesBySpi.end() || it->second->GetConfig().encap.Enabled() ? nullptr
                                                                                      : it->second;
    }
    const uint32_t ihl = Ipv4HeaderLength(ip, length);
    // ESP, or ESP-in-UDP (RFC 3948) behind an 8-byte UDP header.
    const uint32_t esp = ihl + (ihl != 0 && ip[9] == kIpProtoUdp ? 8 : 0);
    if (ihl == 0 || length < esp + EspTransform::kHeaderLength ||
        (ip[9] != kIpProtoEsp && ip[9] != kIpProtoUdp))
    {
        return nullptr;
    }
    const uint32_t spi = EspTransform::ReadSpi(ip + esp);
    const uint32_t daddr = uint32_t(ip[16]) << 24 | ip[17] << 16 | ip[18] << 8 | ip[19];
    auto it = m_txStatesBySpi.find(SpiKey{Ipv4Address(daddr), spi});
    if (it == m_txStatesBySpi.end() ||
        it->second->GetConfig().encap.Enabled() != (ip[9] == kIpProtoUdp))
    {
        return nullptr;
    }
    return it->second;
}

// ---- RX ----

Ptr<const Packet>
EmuNicNetDevice::ProcessRx(Ptr<const Packet> packet, uint16_t* protocol)
{
    const uint32_t size = packet->GetSize();
    const uint32_t cap = size + kTxHeadroom;
    m_buffer.resize(cap);
    packet->CopyData(m_buffer.data(), size);
    if (IsOffloadedFragment(m_buffer.data(), size, XfrmDir::In))
    {
        NS_LOG_LOGIC("packet offload: an ESP fragment for a packet-offloaded SA");
        Drop(EmuNicDrop::RxFragment, packet);
        return nullptr;
    }
    uint32_t length = size;
    uint32_t reason = 0;
    olab_rx_info info{};
    info.size = sizeof(info);
    int verdict;
    {
        DeviceCallScope scope("olab_rx");
        verdict = m_type->GetOps().rx(m_engine, m_buffer.data(), &length, cap, &info, &reason);
    }
    switch (verdict)
    {
    case OLAB_PASS:
        return packet;
    case OLAB_DROP:
        if (reason >= uint32_t(EmuNicDrop::Count))
        {
            OffloadDeviceFault("olab_rx",
                               "drop reason " + std::to_string(reason) +
                                   " is not an olab_drop_reason");
        }
        Drop(EmuNicDrop(reason), packet);
        return nullptr;
    case OLAB_DONE:
        break;
    default:
        OffloadDeviceFault("olab_rx",
                           "returned " + std::to_string(verdict) + ", not an olab_verdict");
    }
    if (length < 20 || length > cap)
    {
        OffloadDeviceFault("olab_rx",
                           "length " + std::to_string(length) + " after OLAB_DONE is outside 20.." +
                               std::to_string(cap));
    }
    Ptr<Packet> out = Create<Packet>(m_buffer.data(), length);
    *protocol = EtherTypeOf(out, *protocol);
    if (info.kind == OLAB_RX_CRYPTO_DONE)
    {
        if (info.status > OLAB_RX_BAD_PADDING)
        {
            OffloadDeviceFault("olab_rx",
                               "rx_info.status " + std::to_string(info.status) +
                                   " is not an olab_rx_status");
        }
        // Report, don't drop: in crypto offload the stack decides (Linux xo->status).
        XfrmOffloadRxTag tag;
        tag.nodeId = GetNode()->GetId();
        tag.spi = info.spi;
        tag.status = StatusOf(info.status);
        out->AddPacketTag(tag);
        ++m_events[size_t(info.status == OLAB_RX_OK ? EmuNicEvent::CryptoRxPackets
                                                    : EmuNicEvent::CryptoRxFailures)];
    }
    else if (info.kind == OLAB_RX_PACKET_OFFLOAD)
    {
        XfrmSecPathTag secpath;
        secpath.nodeId = GetNode()->GetId();
        secpath.spi = info.spi;
        // rx_info.family is ABI v5; a v1..v4 device leaves it 0 (the host zeroed it): IPv4.
        if (info.family != 0 && info.family != OLAB_FAMILY_IPV4 && info.family != OLAB_FAMILY_IPV6)
        {
            OffloadDeviceFault("olab_rx",
                               "rx_info.family " + std::to_string(info.family) +
                                   " is neither 0, OLAB_FAMILY_IPV4 nor OLAB_FAMILY_IPV6");
        }
        secpath.daddr = info.family == OLAB_FAMILY_IPV6 ? XfrmAddressOf(info.family, info.daddr6)
                                                        : XfrmAddress(Ipv4Address(info.daddr));
        secpath.packetOffload = true;
        out->AddPacketTag(secpath);
        ++m_events[size_t(EmuNicEvent::PacketOffloadRxPackets)];
    }
    else
    {
        OffloadDeviceFault("olab_rx",
                           "rx_info.kind " + std::to_string(info.kind) +
                               " is neither crypto done nor packet offload");
    }
    return out;
}

// ---- XfrmDevOps: the stack's calls, as ABI calls ----

namespace
{
XfrmOffloadResult
ResultOf(const char* callback, int result, const char* reason)
{
    const std::string text = reason[0] ? reason : "(the device gave no reason)";
    switch (result)
    {
    case OLAB_OK:
        return XfrmOffloadResult::Ok();
    case OLAB_NOT_SUPPORTED:
        return XfrmOffloadResult::NotSupported(text);
    case OLAB_FAILURE:
        return XfrmOffloadResult::Fail(text);
    default:
        OffloadDeviceFault(callback, "returned " + std::to_string(result) + ", not an olab_result");
    }
}

/// Calls an add callback (state_add, policy_add) through add(reason, reasonLength) and checks
/// what it returned; on success the device must have set a non-zero *handle.
template <typename Add>
XfrmOffloadResult
CallAdd(const char* callback, Add add, const uint64_t* handle)
{
    char reason[256] = {};
    int result;
    {
        DeviceCallScope scope(callback);
        result = add(reason, sizeof(reason));
    }
    reason[sizeof(reason) - 1] = '\0';
    const XfrmOffloadResult r = ResultOf(callback, result, reason);
    if (r.IsOk() && *handle == 0)
    {
        OffloadDeviceFault(callback, "returned OLAB_OK with handle 0");
    }
    return r;
}

} // namespace

uint32_t
EmuNicNetDevice::GetXfrmFeatures() const
{
    if (!m_espOffload)
    {
        return 0;
    }
    const uint32_t offered =
        const_cast<EmuNicNetDevice*>(this)->GetDeviceType().GetCapabilities().features;
    uint32_t features = 0;
    if (offered & OLAB_FEATURE_HW_ESP)
    {
        features |= XFRM_DEV_FEATURE_HW_ESP;
        if (m_espTxCsumOffload && (offered & OLAB_FEATURE_HW_ESP_TX_CSUM))
        {
            features |= XFRM_DEV_FEATURE_HW_ESP_TX_CSUM;
        }
        if (m_gsoEspOffload && (offered & OLAB_FEATURE_GSO_ESP))
        {
            features |= XFRM_DEV_FEATURE_GSO_ESP;
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
    if (c.encap.Enabled() &&
        (xso.type != XfrmOffloadType::Packet || !m_type->GetCapabilities().udp_encap))
    {
        // Later kernels offload ESP-in-UDP in packet mode for drivers that can (mlx5's
        // MLX5_IPSEC_CAP_ESPINUDP); a device says so in udp_encap.
        return XfrmOffloadResult::NotSupported(
            "the device does not offload UDP-encapsulated (ESP-in-UDP) SAs");
    }
    if ((c.daddr.IsIpv6() || c.saddr.IsIpv6() || c.sel.src.IsIpv6() || c.sel.dst.IsIpv6()) &&
        !DeviceDoesIpv6())
    {
        // -EOPNOTSUPP: crypto offload falls back to software, packet offload fails (Linux's
        // xfrm_dev_state_add).
        return XfrmOffloadResult::NotSupported(Ipv4OnlyReason());
    }
    olab_sa sa{};
    sa.size = sizeof(sa);
    sa.host_id = x->GetSerial();
    sa.serial = x->GetSerial();
    sa.dir = xso.dir == XfrmDir::In ? OLAB_DIR_IN : OLAB_DIR_OUT;
    sa.type = xso.type == XfrmOffloadType::Packet   ? OLAB_OFFLOAD_PACKET
              : xso.type == XfrmOffloadType::Crypto ? OLAB_OFFLOAD_CRYPTO
                                                    : 0;
    sa.mode = c.mode == XfrmMode::Tunnel ? OLAB_MODE_TUNNEL : OLAB_MODE_TRANSPORT;
    sa.esn = c.esn ? 1 : 0;
    sa.saddr = AbiIpv4Of(c.saddr);
    sa.daddr = AbiIpv4Of(c.daddr);
    sa.spi = c.spi;
    sa.reqid = c.reqid;
    sa.sel = AbiSelectorOf(c.sel);
    if (c.encap.Enabled())
    {
        sa.encap_type = OLAB_ENCAP_ESPINUDP;
        sa.encap_sport = c.encap.sport;
        sa.encap_dport = c.encap.dport;
        sa.encap_oa = AbiIpv4Of(c.encap.oa);
        AbiAddress6Of(c.encap.oa, sa.encap_oa6);
    }
    // ABI v5: every address of either family (the v4 fields above stay 0 for IPv6 ones).
    sa.family = AbiFamilyOf(c.daddr);
    AbiAddress6Of(c.saddr, sa.saddr6);
    AbiAddress6Of(c.daddr, sa.daddr6);
    sa.sel6 = AbiSelector6Of(c.sel);
    const EspAlgorithm& alg = c.algorithm;
    const bool gcm = alg.suite == EspAlgorithm::Suite::AesGcm;
    sa.algorithm = gcm ? OLAB_ALG_AES_GCM : OLAB_ALG_AES_CBC_SHA256;
    std::vector<uint8_t> encKey = alg.encKey;
    if (gcm)
    {
        encKey.insert(encKey.end(), alg.salt.begin(), alg.salt.end()); // key || salt, as Linux
    }
    if (encKey.size() > sizeof(sa.enc_key) || alg.authKey.size() > sizeof(sa.auth_key))
    {
        return XfrmOffloadResult::NotSupported("key longer than the device ABI carries");
    }
    std::copy(encKey.begin(), encKey.end(), sa.enc_key);
    sa.enc_key_len = uint8_t(encKey.size());
    std::copy(alg.authKey.begin(), alg.authKey.end(), sa.auth_key);
    sa.auth_key_len = uint8_t(alg.authKey.size());
    sa.icv_len = uint8_t(alg.icvBits / 8);
    sa.replay_window = c.replayWindow;
    sa.oseq = x->GetLastSeq();
    sa.seq = x->GetReplayWindow().GetTop();
    sa.soft_byte_limit = c.lifetime.softByteLimit;
    sa.hard_byte_limit = c.lifetime.hardByteLimit;
    sa.soft_packet_limit = c.lifetime.softPacketLimit;
    sa.hard_packet_limit = c.lifetime.hardPacketLimit;

    void* engine = Engine();
    uint64_t handle = 0;
    const XfrmOffloadResult r = CallAdd(
        "olab_state_add",
        [&](char* reason, size_t length) {
            return m_type->GetOps().state_add(engine, &sa, &handle, reason, length);
        },
        &handle);
    if (r.IsOk())
    {
        x->GetOffload().handle = handle;
        m_states[sa.host_id] = x;
        IndexState(x, true);
        m_everOffloaded = true;
        const Time period = LifetimePollPeriod(x);
        if (period.IsStrictlyPositive())
        {
            // The event holds the device, so a poll never outlives it.
            m_lifetimePolls[sa.host_id] = Simulator::Schedule(period,
                                                              &EmuNicNetDevice::PollLifetime,
                                                              Ptr<EmuNicNetDevice>(this),
                                                              sa.host_id,
                                                              period);
        }
    }
    else
    {
        NS_LOG_LOGIC("device '" << m_deviceSpec << "' refused SPI 0x" << std::hex << sa.spi
                                << std::dec << ": " << XfrmOffloadStatusName(r.status) << ": "
                                << r.reason);
    }
    return r;
}

Time
EmuNicNetDevice::LifetimePollPeriod(Ptr<XfrmState> x)
{
    if (x->GetOffload().type != XfrmOffloadType::Packet)
    {
        return Time(0); // the stack counts and checks crypto-offloaded SAs itself
    }
    const olab_capabilities& caps = GetDeviceType().GetCapabilities();
    const XfrmLifetimeConfig& l = x->GetConfig().lifetime;
    const bool packets = l.softPacketLimit != kXfrmInfinity || l.hardPacketLimit != kXfrmInfinity;
    const bool bytes = l.softByteLimit != kXfrmInfinity || l.hardByteLimit != kXfrmInfinity;
    const bool polled = (packets && caps.lifetime_packets == OLAB_LIFETIME_POLLED) ||
                        (bytes && caps.lifetime_bytes == OLAB_LIFETIME_POLLED);
    return polled ? MilliSeconds(caps.lifetime_poll_ms) : Time(0);
}

void
EmuNicNetDevice::PollLifetime(uint64_t saHostId, Time period)
{
    auto it = m_states.find(saHostId);
    if (it == m_states.end())
    {
        m_lifetimePolls.erase(saHostId);
        return;
    }
    // Next poll first: a hard expire deletes the state, and state_delete cancels it.
    m_lifetimePolls[saHostId] = Simulator::Schedule(period,
                                                    &EmuNicNetDevice::PollLifetime,
                                                    Ptr<EmuNicNetDevice>(this),
                                                    saHostId,
                                                    period);
    ++m_events[size_t(EmuNicEvent::LifetimePoll)];
    NotifyCheckExpire(it->second);
}

void
EmuNicNetDevice::StopLifetimePoll(uint64_t saHostId)
{
    auto it = m_lifetimePolls.find(saHostId);
    if (it != m_lifetimePolls.end())
    {
        it->second.Cancel();
        m_lifetimePolls.erase(it);
    }
}

void
EmuNicNetDevice::StateDelete(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateDelete)];
    StopLifetimePoll(x->GetSerial()); // a deleted state has no lifetime left to watch
    DeviceCallScope scope("olab_state_delete");
    m_type->GetOps().state_delete(Engine(), x->GetOffload().handle);
}

void
EmuNicNetDevice::StateFree(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateFree)];
    {
        DeviceCallScope scope("olab_state_free");
        m_type->GetOps().state_free(Engine(), x->GetOffload().handle);
    }
    StopLifetimePoll(x->GetSerial());
    if (m_states.erase(x->GetSerial()) != 0)
    {
        IndexState(x, false);
    }
}

void
EmuNicNetDevice::IndexState(Ptr<XfrmState> x, bool add)
{
    const XfrmDevOffload& xso = x->GetOffload();
    const XfrmAddress& daddr = x->GetConfig().daddr;
    if (xso.dir == XfrmDir::Out)
    {
        const SpiKey key{daddr, x->GetSpi()};
        auto it = m_txStatesBySpi.find(key);
        if (add)
        {
            m_txStatesBySpi[key] = x;
        }
        else if (it != m_txStatesBySpi.end() && it->second == x)
        {
            m_txStatesBySpi.erase(it);
        }
    }
    else if (xso.type == XfrmOffloadType::Packet)
    {
        if (add)
        {
            ++m_packetRxStatesByDaddr[daddr];
        }
        else if (--m_packetRxStatesByDaddr[daddr] == 0)
        {
            m_packetRxStatesByDaddr.erase(daddr);
        }
    }
}

bool
EmuNicNetDevice::OffloadOk(const Ipv4Header& ipHeader, Ptr<const Packet> payload, Ptr<XfrmState> x)
{
    // Written field by field (no ns-3 Buffer on the per-packet path). ns-3's Ipv4Header keeps
    // the length of IPv4 options but not their bytes: IHL follows the length, options are EOL.
    uint8_t header[60] = {};
    const uint32_t headerLength = std::min<uint32_t>(ipHeader.GetSerializedSize(), sizeof(header));
    WriteIpv4Header(header,
                    ipHeader.GetSource(),
                    ipHeader.GetDestination(),
                    ipHeader.GetProtocol(),
                    uint16_t(headerLength + ipHeader.GetPayloadSize()),
                    ipHeader.GetTtl(),
                    ipHeader.GetIdentification());
    header[0] = uint8_t(0x40 | (headerLength / 4));
    header[1] = ipHeader.GetTos();
    const uint16_t fragment = (ipHeader.IsDontFragment() ? 0x4000 : 0) |
                              (ipHeader.IsLastFragment() ? 0 : 0x2000) |
                              uint16_t(ipHeader.GetFragmentOffset() / 8);
    header[6] = uint8_t(fragment >> 8);
    header[7] = uint8_t(fragment);
    RewriteIpv4Header(header,
                      headerLength,
                      ipHeader.GetProtocol(),
                      uint16_t(headerLength + ipHeader.GetPayloadSize()));
    int ok;
    {
        DeviceCallScope scope("olab_offload_ok");
        ok = m_type->GetOps().offload_ok(Engine(), x->GetOffload().handle, header, headerLength);
    }
    if (ok != 0 && ok != 1)
    {
        OffloadDeviceFault("olab_offload_ok", "returned " + std::to_string(ok) + ", not 0 or 1");
    }
    if (!ok)
    {
        ++m_events[size_t(EmuNicEvent::OffloadOkRejected)];
    }
    return ok == 1;
}

bool
EmuNicNetDevice::OffloadOk(const Ipv6Header& header, Ptr<const Packet> payload, Ptr<XfrmState> x)
{
    // The fixed header as the wire has it; the device learns the chain from tx itself.
    uint8_t bytes[kIpv6HeaderLength];
    WriteIpv6Header(bytes,
                    header.GetSource(),
                    header.GetDestination(),
                    header.GetNextHeader(),
                    header.GetPayloadLength(),
                    header.GetHopLimit());
    const uint8_t trafficClass = header.GetTrafficClass();
    const uint32_t flowLabel = header.GetFlowLabel() & 0xfffff;
    bytes[0] = uint8_t(0x60 | trafficClass >> 4);
    bytes[1] = uint8_t(trafficClass << 4 | flowLabel >> 16);
    bytes[2] = uint8_t(flowLabel >> 8);
    bytes[3] = uint8_t(flowLabel);
    int ok = 0;
    if (DeviceDoesIpv6()) // an IPv4-only device has no IPv6 state to be asked about
    {
        DeviceCallScope scope("olab_offload_ok");
        ok =
            m_type->GetOps().offload_ok(Engine(), x->GetOffload().handle, bytes, kIpv6HeaderLength);
    }
    if (ok != 0 && ok != 1)
    {
        OffloadDeviceFault("olab_offload_ok", "returned " + std::to_string(ok) + ", not 0 or 1");
    }
    if (!ok)
    {
        ++m_events[size_t(EmuNicEvent::OffloadOkRejected)];
    }
    return ok == 1;
}

bool
EmuNicNetDevice::DeviceDoesIpv6()
{
    // OffloadDeviceType zeroes ipv6 for a device older than ABI v5.
    return GetDeviceType().GetCapabilities().ipv6 == 1;
}

std::string
EmuNicNetDevice::Ipv4OnlyReason()
{
    const olab_capabilities& caps = GetDeviceType().GetCapabilities();
    return "device '" + m_deviceSpec + "' is IPv4-only (ABI v4, or ipv6 = 0): abi_version " +
           std::to_string(caps.abi_version) + ", ipv6 " + std::to_string(caps.ipv6);
}

bool
EmuNicNetDevice::SpiKey::operator==(const SpiKey& other) const
{
    return spi == other.spi && daddr == other.daddr;
}

size_t
EmuNicNetDevice::SpiKeyHash::operator()(const SpiKey& key) const
{
    return key.daddr.Hash() * 0x9e3779b97f4a7c15ull ^ key.spi;
}

void
EmuNicNetDevice::StateAdvanceEsn(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateAdvanceEsn)];
    DeviceCallScope scope("olab_state_advance_esn");
    m_type->GetOps().state_advance_esn(Engine(),
                                       x->GetOffload().handle,
                                       x->GetReplayWindow().GetTop());
}

void
EmuNicNetDevice::StateUpdateStats(Ptr<XfrmState> x)
{
    ++m_events[size_t(EmuNicEvent::StateUpdateStats)];
    olab_sa_stats stats{};
    stats.size = sizeof(stats);
    {
        DeviceCallScope scope("olab_state_update_stats");
        m_type->GetOps().state_update_stats(Engine(), x->GetOffload().handle, &stats);
    }
    if (x->GetOffload().type == XfrmOffloadType::Packet)
    {
        // In packet offload only the device counts; the stack learns the numbers here.
        x->GetCurrent().bytes = stats.bytes;
        x->GetCurrent().packets = stats.packets;
        XfrmStateStats& s = x->GetStats();
        s.replayDrops = stats.replay_drops;
        s.integrityFailures = stats.integrity_failures;
        s.badPadding = stats.bad_padding;
        s.truncated = stats.truncated;
        s.seqOverflow = stats.seq_overflow;
        s.expiredDrops = stats.expired_drops;
        x->SetLastSeq(stats.last_seq);
    }
}

XfrmOffloadResult
EmuNicNetDevice::PolicyAdd(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyAdd)];
    const XfrmPolicyConfig& c = xp->GetConfig();
    const bool bypass = c.action == XfrmPolicyAction::Allow && !c.hasTemplate;
    if (bypass && !(m_type->GetCapabilities().features & OLAB_FEATURE_POLICY_BYPASS))
    {
        return XfrmOffloadResult::NotSupported("the device does not offload bypass policies");
    }
    if (!xp->RequiresIpsec() && !bypass)
    {
        return XfrmOffloadResult::NotSupported("only allow policies with an ESP template");
    }
    if ((c.sel.src.IsIpv6() || c.sel.dst.IsIpv6() || c.tmpl.saddr.IsIpv6() ||
         c.tmpl.daddr.IsIpv6()) &&
        !DeviceDoesIpv6())
    {
        return XfrmOffloadResult::NotSupported(Ipv4OnlyReason());
    }
    olab_policy p{};
    p.size = sizeof(p);
    p.serial = xp->GetSerial();
    p.dir = c.dir == XfrmDir::In ? OLAB_DIR_IN : c.dir == XfrmDir::Out ? OLAB_DIR_OUT : 2;
    p.tmpl_mode = c.tmpl.mode == XfrmMode::Tunnel ? OLAB_MODE_TUNNEL : OLAB_MODE_TRANSPORT;
    p.action = bypass ? OLAB_POLICY_BYPASS : OLAB_POLICY_IPSEC;
    p.priority = c.priority;
    p.sel = AbiSelectorOf(c.sel);
    p.tmpl_saddr = AbiIpv4Of(c.tmpl.saddr);
    p.tmpl_daddr = AbiIpv4Of(c.tmpl.daddr);
    p.tmpl_reqid = c.tmpl.reqid;
    p.tmpl_spi = c.tmpl.spi;
    // ABI v5: the selector and the template's endpoints of either family.
    p.sel6 = AbiSelector6Of(c.sel);
    p.tmpl_family = c.tmpl.mode == XfrmMode::Tunnel ? AbiFamilyOf(c.tmpl.daddr) : p.sel6.family;
    AbiAddress6Of(c.tmpl.saddr, p.tmpl_saddr6);
    AbiAddress6Of(c.tmpl.daddr, p.tmpl_daddr6);
    void* engine = Engine();
    uint64_t handle = 0;
    const XfrmOffloadResult r = CallAdd(
        "olab_policy_add",
        [&](char* reason, size_t length) {
            return m_type->GetOps().policy_add(engine, &p, &handle, reason, length);
        },
        &handle);
    if (r.IsOk())
    {
        xp->GetOffload().handle = handle;
        m_everOffloaded = true;
        m_policies.push_back(xp);
    }
    return r;
}

void
EmuNicNetDevice::PolicyDelete(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyDelete)];
    m_policies.erase(std::remove(m_policies.begin(), m_policies.end(), xp), m_policies.end());
    DeviceCallScope scope("olab_policy_delete");
    m_type->GetOps().policy_delete(Engine(), xp->GetOffload().handle);
}

void
EmuNicNetDevice::PolicyFree(Ptr<XfrmPolicy> xp)
{
    ++m_events[size_t(EmuNicEvent::PolicyFree)];
    DeviceCallScope scope("olab_policy_free");
    m_type->GetOps().policy_free(Engine(), xp->GetOffload().handle);
}

uint64_t
EmuNicNetDevice::GetEventCount(EmuNicEvent event) const
{
    return m_events[size_t(event)];
}

std::map<std::string, uint64_t>
EmuNicNetDevice::GetDropCounts() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
    {
        all[std::string(EmuNicDropName(EmuNicDrop(i))) + "Drop"] = m_drops[i];
    }
    return all;
}

std::map<std::string, uint64_t>
EmuNicNetDevice::GetEventCounts() const
{
    std::map<std::string, uint64_t> all;
    for (size_t i = 0; i < size_t(EmuNicEvent::Count); ++i)
    {
        all[EmuNicEventName(EmuNicEvent(i))] = m_events[i];
    }
    return all;
}

std::map<std::string, uint64_t>
EmuNicNetDevice::GetCounters() const
{
    std::map<std::string, uint64_t> all = GetEventCounts();
    for (const auto& [name, value] : GetDropCounts())
    {
        all[name] = value;
    }
    return all;
}

} // namespace ns3
