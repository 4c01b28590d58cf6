#include "scale-net-device.h"

#include "ns3/ipv4-header.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("ScaleNetDevice");

NS_OBJECT_ENSURE_REGISTERED(ScaleNetDevice);
NS_OBJECT_ENSURE_REGISTERED(ScaleChannel);

namespace
{
constexpr uint16_t kReceiverPortBase = 5201;
constexpr uint16_t kMaxFlows = 1024;
} // namespace

TypeId
ScaleNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::ScaleNetDevice")
            .SetParent<NetDevice>()
            .SetGroupName("Scaling")
            .AddConstructor<ScaleNetDevice>()
            .AddAttribute("DataRate",
                          "The link's rate",
                          DataRateValue(DataRate("100Gbps")),
                          MakeDataRateAccessor(&ScaleNetDevice::m_rate),
                          MakeDataRateChecker())
            .AddAttribute("CryptoCap",
                          "The crypto engine's throughput in crypto and packet offload, in "
                          "bytes it encrypts (0: as fast as the link)",
                          DataRateValue(DataRate(0)),
                          MakeDataRateAccessor(&ScaleNetDevice::m_cryptoCap),
                          MakeDataRateChecker())
            .AddAttribute("Delay",
                          "Propagation delay of the wire",
                          TimeValue(MicroSeconds(1)),
                          MakeTimeAccessor(&ScaleNetDevice::m_delay),
                          MakeTimeChecker());
    return tid;
}

void
ScaleNetDevice::Setup(Ptr<ScaleHost> host, const ScaleWire& wire, bool isSender)
{
    m_host = host;
    m_wire = std::make_unique<ScaleWire>(wire);
    m_isSender = isSender;
}

void
ScaleNetDevice::Attach(Ptr<ScaleChannel> channel)
{
    m_channel = channel;
    channel->Attach(this);
}

bool
ScaleNetDevice::Classify(Ptr<const Packet> packet, ScaleSegment* segment) const
{
    uint8_t bytes[60];
    const uint32_t n = packet->CopyData(bytes, sizeof(bytes));
    if (n < 20 || (bytes[0] >> 4) != 4 || (bytes[9] != 6 && bytes[9] != 17))
    {
        return false;
    }
    const uint32_t ihl = (bytes[0] & 0x0f) * 4u;
    const bool udp = bytes[9] == 17;
    if (n < ihl + (udp ? 8 : 20))
    {
        return false;
    }
    const uint32_t total = uint32_t(bytes[2]) << 8 | bytes[3];
    const uint16_t sport = uint16_t(bytes[ihl] << 8 | bytes[ihl + 1]);
    const uint16_t dport = uint16_t(bytes[ihl + 2] << 8 | bytes[ihl + 3]);
    const uint32_t l4Length = udp ? 8u : (bytes[ihl + 12] >> 4) * 4u;
    const uint16_t port = m_isSender ? dport : sport; // the receiver's, which names the stream
    if (port < kReceiverPortBase || port >= kReceiverPortBase + kMaxFlows || total < ihl + l4Length)
    {
        return false;
    }
    segment->flow = port - kReceiverPortBase;
    segment->payload = total - ihl - l4Length;
    segment->udp = udp;
    const uint32_t mss = m_wire->GetMss();
    segment->packets = udp || segment->payload == 0 ? 1 : (segment->payload + mss - 1) / mss;
    segment->toReceiver = m_isSender;
    return true;
}

bool
ScaleNetDevice::Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber)
{
    ScaleSegment s;
    if (!Classify(packet, &s))
    {
        NS_LOG_LOGIC("not a TCP or UDP packet of a stream: dropped");
        ++m_drops;
        return false;
    }
    m_host->Transmit(s, [this, packet, s]() { Enqueue(packet, s); });
    return true;
}

bool
ScaleNetDevice::SendFrom(Ptr<Packet> packet,
                         const Address& source,
                         const Address& dest,
                         uint16_t protocolNumber)
{
    return Send(packet, dest, protocolNumber);
}

void
ScaleNetDevice::Enqueue(Ptr<Packet> packet, ScaleSegment segment)
{
    // Unbounded: TCP's windows and each UDP stream's in-flight limit bound what waits here.
    m_queue.push_back(Queued{packet, segment});
    if (!m_transmitting)
    {
        StartTransmit();
    }
}

void
ScaleNetDevice::StartTransmit()
{
    if (m_queue.empty())
    {
        m_transmitting = false;
        return;
    }
    m_transmitting = true;
    const ScaleSegment& s = m_queue.front().segment;
    const uint32_t l4 = s.udp ? ScaleWire::kUdpHeader : ScaleWire::kTcpHeader;
    const uint64_t wire = m_wire->GetSegmentWireBytes(s.payload, s.packets, l4);
    Time t = m_rate.CalculateBytesTxTime(wire);
    if (m_cryptoCap.GetBitRate() != 0 && m_wire->IsEsp() &&
        m_host->GetConfig().mode != ScaleMode::Software)
    {
        const uint64_t cipher = m_wire->GetSegmentCipherBytes(s.payload, s.packets, l4);
        t = std::max(t, m_cryptoCap.CalculateBytesTxTime(cipher));
    }
    m_wireBytes += wire;
    m_wirePackets += s.packets;
    Simulator::Schedule(t, &ScaleNetDevice::TransmitDone, this);
}

void
ScaleNetDevice::TransmitDone()
{
    Queued q = std::move(m_queue.front());
    m_queue.pop_front();
    if (q.segment.udp && m_isSender)
    {
        m_host->UdpTransmitted(q.segment.flow); // its socket's buffer has room again
    }
    m_channel->Transmit(this, q.packet, q.segment, m_delay);
    StartTransmit();
}

void
ScaleNetDevice::ReceiveFromChannel(Ptr<Packet> packet, ScaleSegment segment)
{
    m_host->Receive(segment, [this, packet]() {
        m_rxCallback(this, packet, 0x0800, Mac48Address::GetBroadcast());
    });
}

uint64_t
ScaleNetDevice::GetWireBytes() const
{
    return m_wireBytes;
}

uint64_t
ScaleNetDevice::GetWirePackets() const
{
    return m_wirePackets;
}

uint64_t
ScaleNetDevice::GetDrops() const
{
    return m_drops;
}

void
ScaleNetDevice::ResetStats()
{
    m_wireBytes = 0;
    m_wirePackets = 0;
    m_drops = 0;
}

void
ScaleNetDevice::DoDispose()
{
    m_host = nullptr;
    m_channel = nullptr;
    m_node = nullptr;
    m_queue.clear();
    m_rxCallback =
        MakeNullCallback<bool, Ptr<NetDevice>, Ptr<const Packet>, uint16_t, const Address&>();
    NetDevice::DoDispose();
}

void
ScaleNetDevice::SetIfIndex(const uint32_t index)
{
    m_ifIndex = index;
}

uint32_t
ScaleNetDevice::GetIfIndex() const
{
    return m_ifIndex;
}

Ptr<Channel>
ScaleNetDevice::GetChannel() const
{
    return m_channel;
}

void
ScaleNetDevice::SetAddress(Address address)
{
    m_address = Mac48Address::ConvertFrom(address);
}

Address
ScaleNetDevice::GetAddress() const
{
    return m_address;
}

bool
ScaleNetDevice::SetMtu(const uint16_t mtu)
{
    m_mtu = mtu;
    return true;
}

uint16_t
ScaleNetDevice::GetMtu() const
{
    return m_mtu;
}

bool
ScaleNetDevice::IsLinkUp() const
{
    return true;
}

void
ScaleNetDevice::AddLinkChangeCallback(Callback<void> callback)
{
}

bool
ScaleNetDevice::IsBroadcast() const
{
    return true;
}

Address
ScaleNetDevice::GetBroadcast() const
{
    return Mac48Address::GetBroadcast();
}

bool
ScaleNetDevice::IsMulticast() const
{
    return false;
}

Address
ScaleNetDevice::GetMulticast(Ipv4Address multicastGroup) const
{
    return Mac48Address::GetMulticast(multicastGroup);
}

Address
ScaleNetDevice::GetMulticast(Ipv6Address addr) const
{
    return Mac48Address::GetMulticast(addr);
}

bool
ScaleNetDevice::IsBridge() const
{
    return false;
}

bool
ScaleNetDevice::IsPointToPoint() const
{
    return true;
}

Ptr<Node>
ScaleNetDevice::GetNode() const
{
    return m_node;
}

void
ScaleNetDevice::SetNode(Ptr<Node> node)
{
    m_node = node;
}

bool
ScaleNetDevice::NeedsArp() const
{
    return false;
}

void
ScaleNetDevice::SetReceiveCallback(NetDevice::ReceiveCallback cb)
{
    m_rxCallback = cb;
}

void
ScaleNetDevice::SetPromiscReceiveCallback(PromiscReceiveCallback cb)
{
}

bool
ScaleNetDevice::SupportsSendFrom() const
{
    return false;
}

TypeId
ScaleChannel::GetTypeId()
{
    static TypeId tid = TypeId("ns3::ScaleChannel")
                            .SetParent<Channel>()
                            .SetGroupName("Scaling")
                            .AddConstructor<ScaleChannel>();
    return tid;
}

void
ScaleChannel::Attach(Ptr<ScaleNetDevice> device)
{
    NS_ABORT_MSG_IF(m_count >= 2, "a ScaleChannel joins two devices");
    m_devices[m_count++] = device;
}

void
ScaleChannel::Transmit(Ptr<const ScaleNetDevice> from,
                       Ptr<Packet> packet,
                       ScaleSegment s,
                       Time delay)
{
    const Ptr<ScaleNetDevice> to = m_devices[0] == from ? m_devices[1] : m_devices[0];
    Simulator::ScheduleWithContext(to->GetNode()->GetId(),
                                   delay,
                                   &ScaleNetDevice::ReceiveFromChannel,
                                   to,
                                   packet,
                                   s);
}

std::size_t
ScaleChannel::GetNDevices() const
{
    return m_count;
}

Ptr<NetDevice>
ScaleChannel::GetDevice(std::size_t i) const
{
    return m_devices[i];
}

void
ScaleChannel::DoDispose()
{
    m_devices[0] = nullptr;
    m_devices[1] = nullptr;
    Channel::DoDispose();
}

} // namespace ns3
