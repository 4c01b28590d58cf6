#include "scale-host.h"

#include "byte-order.h"

#include "ns3/log.h"

#include <array>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("ScaleHost");

NS_OBJECT_ENSURE_REGISTERED(ScaleHost);

namespace
{
// The default key of Microsoft's RSS specification, which most NIC drivers also use.
constexpr std::array<uint8_t, 40> kRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
constexpr uint32_t kIndirectionEntries = 128;
constexpr uint32_t kSenderAddress = 0x0a010001; // 10.1.0.1
constexpr uint32_t kReceiverAddress = 0x0a010002;
constexpr uint32_t kSenderPortBase = 49152;
constexpr uint32_t kReceiverPortBase = 5201;

} // namespace

const char*
ScaleRssName(ScaleRss rss)
{
    return rss == ScaleRss::Spread ? "spread" : "hash";
}

bool
ParseScaleRss(const std::string& text, ScaleRss* rss)
{
    if (text == "spread" || text == "hash")
    {
        *rss = text == "spread" ? ScaleRss::Spread : ScaleRss::Hash;
        return true;
    }
    return false;
}

uint32_t
ToeplitzHash(const uint8_t* key, size_t keyLength, const uint8_t* input, size_t length)
{
    uint32_t result = 0;
    // window holds the 32 key bits that start at the current input bit.
    uint32_t window = ReadBe32(key);
    for (size_t i = 0; i < length; ++i)
    {
        const uint8_t nextKeyByte = i + 4 < keyLength ? key[i + 4] : 0;
        for (int bit = 7; bit >= 0; --bit)
        {
            if (input[i] & (1u << bit))
            {
                result ^= window;
            }
            window = window << 1 | ((nextKeyByte >> bit) & 1u);
        }
    }
    return result;
}

TypeId
ScaleHost::GetTypeId()
{
    static TypeId tid = TypeId("ns3::ScaleHost")
                            .SetParent<Object>()
                            .SetGroupName("Scaling")
                            .AddConstructor<ScaleHost>();
    return tid;
}

void
ScaleHost::Setup(const ScaleHostConfig& config, const ScaleWire& wire)
{
    m_config = config;
    m_wire = std::make_unique<ScaleWire>(wire);
    m_cores.clear();
    for (uint32_t i = 0; i < config.cores; ++i)
    {
        Ptr<CpuCore> core = CreateObject<CpuCore>();
        core->SetFrequency(config.hz);
        m_cores.push_back(core);
    }
}

void
ScaleHost::DoDispose()
{
    for (const Ptr<CpuCore>& core : m_cores)
    {
        core->Dispose();
    }
    m_cores.clear();
    m_udpRoom.clear();
    Object::DoDispose();
}

const ScaleHostConfig&
ScaleHost::GetConfig() const
{
    return m_config;
}

uint32_t
ScaleHost::GetCoreCount() const
{
    return m_cores.size();
}

Ptr<CpuCore>
ScaleHost::GetCore(uint32_t i) const
{
    return m_cores.at(i);
}

uint32_t
ScaleHost::SaOf(uint32_t flow) const
{
    return m_config.sas == 0 ? flow : flow % m_config.sas;
}

bool
ScaleHost::CpuDoesSaState() const
{
    return m_config.mode == ScaleMode::Software || m_config.mode == ScaleMode::Crypto;
}

ScaleHost::RssKey
ScaleHost::KeyOf(uint32_t flow, bool toReceiver) const
{
    // Each SA pair joins an address pair of its own (one tunnel per IP pair, as NVIDIA's test
    // scripts set them up); streams that share an SA share its addresses.
    const uint32_t pair = 2 * SaOf(flow);
    const uint32_t src = (toReceiver ? kSenderAddress : kReceiverAddress) + pair;
    const uint32_t dst = (toReceiver ? kReceiverAddress : kSenderAddress) + pair;
    const bool decrypted = m_config.rssAfterDecrypt && (m_config.mode == ScaleMode::Crypto ||
                                                        m_config.mode == ScaleMode::Packet);
    if (m_wire->IsEsp() && !decrypted && m_wire->IsUdpEncapsulated())
    {
        // ESP in UDP is plain UDP to the NIC's parser: hashed on addresses and ports, and
        // both ports are 4500.
        return RssKey{src, dst, 4500, 4500, 0};
    }
    if (m_wire->IsEsp() && !decrypted)
    {
        // mlx5 hashes ESP on the addresses and the SPI: one SA, one queue.
        const uint32_t spi = (toReceiver ? 0x100 : 0x200) + SaOf(flow);
        return RssKey{src, dst, 0, 0, spi};
    }
    const uint32_t sport = toReceiver ? kSenderPortBase + flow : kReceiverPortBase + flow;
    const uint32_t dport = toReceiver ? kReceiverPortBase + flow : kSenderPortBase + flow;
    return RssKey{src, dst, sport, dport, 0};
}

uint32_t
ScaleHost::RxCoreOf(uint32_t flow, bool toReceiver)
{
    // A key's queue is chosen once: when first seen (spread) or by its hash; each stream and
    // direction remembers its key's, so a segment costs no lookup.
    std::vector<int32_t>& cached = m_rxCoreOfFlow[toReceiver];
    if (flow < cached.size() && cached[flow] >= 0)
    {
        return uint32_t(cached[flow]);
    }
    const RssKey key = KeyOf(flow, toReceiver);
    auto it = m_rxCores.find(key);
    if (it == m_rxCores.end())
    {
        const uint32_t core = m_config.rss == ScaleRss::Spread
                                  ? uint32_t(m_rxCores.size() % m_cores.size())
                                  : (HashOf(key) % kIndirectionEntries) % m_cores.size();
        it = m_rxCores.emplace(key, core).first;
    }
    if (flow >= cached.size())
    {
        cached.resize(flow + 1, -1);
    }
    cached[flow] = int32_t(it->second);
    return it->second;
}

uint32_t
ScaleHost::HashOf(const RssKey& key)
{
    // The hash input as the NIC reads it: addresses, then ports or SPI, in network order.
    uint8_t input[12];
    WriteBe32(input, std::get<0>(key));
    WriteBe32(input + 4, std::get<1>(key));
    if (std::get<4>(key) != 0)
    {
        WriteBe32(input + 8, std::get<4>(key));
    }
    else
    {
        WriteBe32(input + 8, std::get<2>(key) << 16 | (std::get<3>(key) & 0xffff));
    }
    return ToeplitzHash(kRssKey.data(), kRssKey.size(), input, sizeof(input));
}

SaLock*
ScaleHost::LockOf(uint32_t flow, bool toReceiver)
{
    if (!CpuDoesSaState())
    {
        return nullptr;
    }
    return &m_locks[{SaOf(flow), toReceiver}];
}

double
ScaleHost::CipherOf(uint32_t payload, uint32_t packets, bool udp) const
{
    // One cipher call per packet: every packet but the last of a segment carries an MSS.
    const CipherCost& c = m_config.costs.cipher;
    const uint32_t l4 = udp ? ScaleWire::kUdpHeader : ScaleWire::kTcpHeader;
    return (packets - 1) * c.Cycles(m_wire->GetCipherBytes(m_wire->GetMss(), l4)) +
           c.Cycles(m_wire->GetCipherBytes(m_wire->GetLastPayload(payload, packets), l4));
}

double
ScaleHost::OnePacketEsp(uint32_t payload, bool udp) const
{
    const ScaleCosts& c = m_config.costs;
    switch (m_config.mode)
    {
    case ScaleMode::Software:
        return c.xfrmPacket + c.espSoftwarePacket + CipherOf(payload, 1, udp);
    case ScaleMode::Crypto:
        return c.xfrmPacket;
    default:
        return 0; // baseline, or the NIC does it all
    }
}

void
ScaleHost::Transmit(const ScaleSegment& s, std::function<void()> toNic)
{
    const ScaleCosts& c = m_config.costs;
    const ScaleMode mode = m_config.mode;
    SaLock* lock = LockOf(s.flow, s.toReceiver);
    if (s.udp || s.payload == 0)
    {
        // One packet with its own ESP: a datagram from the application's sendmsg (UDP and IP
        // output on its core), or an ACK from the softirq that took the data it acknowledges.
        if (s.udp)
        {
            ++m_udpInFlight[s.flow];
        }
        const double cycles = (s.udp ? c.tcpPacketTx : c.ackTx) + OnePacketEsp(s.payload, s.udp);
        const Ptr<CpuCore> core =
            s.udp ? m_cores[s.flow % m_cores.size()] : m_cores[RxCoreOf(s.flow, !s.toReceiver)];
        core->Submit(s.udp ? CpuCore::Class::Task : CpuCore::Class::Softirq,
                     cycles,
                     std::move(toNic),
                     lock,
                     lock ? 1 : 0,
                     c.saLockPacket);
        return;
    }
    double cycles = c.tcpSegmentTx;
    uint32_t locked = 0;
    if (mode == ScaleMode::Software)
    {
        // No GSO at all: sk_setup_caps clears the socket's GSO when its route carries an XFRM
        // header that is not offloaded, so TCP sends each MSS packet through xfrm_output_one
        // (the SA's lock, its sequence number) and esp_output. The model still carries the
        // packets as one segment and charges them one by one.
        cycles = s.packets * (c.tcpPacketTx + c.xfrmPacket + c.espSoftwarePacket) +
                 CipherOf(s.payload, s.packets);
        locked = s.packets;
    }
    else if (mode == ScaleMode::Crypto)
    {
        // GSO_ESP: the stack frames the super-packet once, taking its sequence numbers at once.
        cycles += c.xfrmPacket;
        locked = 1;
    }
    m_cores[s.flow % m_cores.size()]
        ->Submit(CpuCore::Class::Task, cycles, std::move(toNic), lock, locked, c.saLockPacket);
}

void
ScaleHost::Receive(const ScaleSegment& s, std::function<void()> up)
{
    const ScaleCosts& c = m_config.costs;
    const ScaleMode mode = m_config.mode;
    SaLock* lock = LockOf(s.flow, s.toReceiver);
    const Ptr<CpuCore> rxCore = m_cores[RxCoreOf(s.flow, s.toReceiver)];
    if (s.payload == 0)
    {
        const double cycles = c.driverPacket + c.ackRx + OnePacketEsp(0, false);
        rxCore->Submit(CpuCore::Class::Softirq,
                       cycles,
                       std::move(up),
                       lock,
                       lock ? 2 : 0,
                       c.saLockPacket / 2);
        return;
    }
    if (s.udp && rxCore->GetBacklog(CpuCore::Class::Softirq) >= m_config.rxRingPackets)
    {
        NS_LOG_LOGIC("receive ring of core full: a datagram of flow " << s.flow << " dropped");
        ++m_rxDrops;
        return;
    }
    // A GRO segment pays TCP once for its packets; a datagram (no UDP GRO) is its own trip
    // through the driver, IP and UDP.
    double cycles = s.packets * c.driverPacket + (s.udp ? c.udpPacketRx : c.tcpSegmentRx);
    m_resident += s.payload;
    m_maxResident = std::max(m_maxResident, m_resident);
    if (mode == ScaleMode::Software)
    {
        // The decrypt is the first read of the payload; the copy then finds it in the core's
        // own caches.
        cycles += s.packets * (c.xfrmPacket + c.espSoftwarePacket) +
                  CipherOf(s.payload, s.packets, s.udp) + FirstReadPenalty(s.payload);
    }
    else if (mode == ScaleMode::Crypto)
    {
        cycles += s.packets * c.xfrmPacket; // esp4_gro_receive: xfrm_input per packet
    }
    const Ptr<CpuCore> appCore = m_cores[s.flow % m_cores.size()];
    const bool copyFirst = mode != ScaleMode::Software;
    const uint32_t payload = s.payload;
    // xfrm_input takes the SA's lock twice per packet: for the state, replay and expiry checks
    // before the decrypt, and to recheck the replay window, advance it and count after.
    rxCore->Submit(
        CpuCore::Class::Softirq,
        cycles,
        [this, appCore, copyFirst, payload, up = std::move(up)]() mutable {
            const double copy =
                payload * m_config.costs.copyByte + (copyFirst ? FirstReadPenalty(payload) : 0);
            appCore->Submit(CpuCore::Class::Task, copy, [this, payload, up = std::move(up)]() {
                m_resident -= payload;
                up();
            });
        },
        lock,
        lock ? 2 * s.packets : 0,
        c.saLockPacket / 2);
}

uint32_t
ScaleHost::GetUdpInFlight(uint32_t flow) const
{
    const auto it = m_udpInFlight.find(flow);
    return it == m_udpInFlight.end() ? 0 : it->second;
}

void
ScaleHost::SetUdpRoomCallback(uint32_t flow, std::function<void()> room)
{
    m_udpRoom[flow] = std::move(room);
}

void
ScaleHost::UdpTransmitted(uint32_t flow)
{
    auto it = m_udpInFlight.find(flow);
    if (it != m_udpInFlight.end() && it->second > 0)
    {
        --it->second;
    }
    const auto room = m_udpRoom.find(flow);
    if (room != m_udpRoom.end() && room->second)
    {
        room->second();
    }
}

uint64_t
ScaleHost::GetRxDrops() const
{
    return m_rxDrops;
}

double
ScaleHost::FirstReadPenalty(uint32_t bytes)
{
    if (!m_config.llcContention || bytes == 0)
    {
        return 0;
    }
    // What DDIO wrote is overwritten once more received data than its ways hold has come in
    // after it; with m_resident bytes waiting, that share of them is gone from the LLC.
    const double miss = m_resident > m_config.ddioBytes ? 1 - m_config.ddioBytes / m_resident : 0.0;
    m_firstReadBytes += bytes;
    m_missedBytes += miss * bytes;
    return miss * bytes * m_config.hz / m_config.dramBytesPerSecond;
}

double
ScaleHost::GetMaxResidentBytes() const
{
    return m_maxResident;
}

double
ScaleHost::GetLlcMissShare() const
{
    return m_firstReadBytes > 0 ? m_missedBytes / m_firstReadBytes : 0;
}

void
ScaleHost::ResetStats()
{
    for (const Ptr<CpuCore>& core : m_cores)
    {
        core->ResetStats();
    }
    m_maxResident = m_resident;
    m_rxDrops = 0;
    m_firstReadBytes = 0;
    m_missedBytes = 0;
}

} // namespace ns3
