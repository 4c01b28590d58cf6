#include "scale-wire.h"

#include "esp-transform.h"

#include <algorithm>
#include <stdexcept>

namespace ns3
{

namespace
{
// A key's bytes do not change any length: the transform is only asked for its arithmetic.
const EspTransform&
Gcm128()
{
    static const std::unique_ptr<EspTransform> transform = [] {
        std::string error;
        auto t = EspTransform::Create(EspAlgorithm::Gcm(std::vector<uint8_t>(20, 0x11)), &error);
        if (!t)
        {
            throw std::runtime_error("AES-GCM-128 transform: " + error);
        }
        return t;
    }();
    return *transform;
}

constexpr uint32_t kMinFrame = 64; // Ethernet header + payload + FCS
} // namespace

const char*
ScaleModeName(ScaleMode mode)
{
    switch (mode)
    {
    case ScaleMode::Baseline:
        return "baseline";
    case ScaleMode::Software:
        return "sw";
    case ScaleMode::Crypto:
        return "crypto";
    case ScaleMode::Packet:
        return "packet";
    }
    return "?";
}

bool
ParseScaleMode(const std::string& text, ScaleMode* mode)
{
    for (ScaleMode m :
         {ScaleMode::Baseline, ScaleMode::Software, ScaleMode::Crypto, ScaleMode::Packet})
    {
        if (text == ScaleModeName(m))
        {
            *mode = m;
            return true;
        }
    }
    return false;
}

const char*
ScaleEncapName(ScaleEncap encap)
{
    switch (encap)
    {
    case ScaleEncap::Transport:
        return "transport";
    case ScaleEncap::Tunnel:
        return "tunnel";
    case ScaleEncap::UdpTunnel:
        return "udp-tunnel";
    }
    return "?";
}

bool
ParseScaleEncap(const std::string& text, ScaleEncap* encap)
{
    for (ScaleEncap e : {ScaleEncap::Transport, ScaleEncap::Tunnel, ScaleEncap::UdpTunnel})
    {
        if (text == ScaleEncapName(e))
        {
            *encap = e;
            return true;
        }
    }
    return false;
}

ScaleWire::ScaleWire(ScaleMode mode, ScaleEncap encap, uint32_t mtu)
    : m_mode(mode),
      m_encap(encap)
{
    if (mode == ScaleMode::Baseline)
    {
        m_mss = mtu - kIpHeader - kTcpHeader;
        m_innerMtu = mtu;
        return;
    }
    // xfrm_state_mtu: in tunnel mode the outer headers (IPv4, and UDP for ESP-in-UDP) are part
    // of the state's header_len; in transport mode the packet's own IPv4 header is net_adj.
    uint32_t ipMtu = 0;
    switch (encap)
    {
    case ScaleEncap::Transport:
        ipMtu = Gcm128().GetMtu(mtu, false, kIpHeader);
        m_outer = kIpHeader;
        break;
    case ScaleEncap::Tunnel:
        ipMtu = Gcm128().GetMtu(mtu, true, kIpHeader);
        m_outer = kIpHeader;
        m_innerIp = kIpHeader;
        break;
    case ScaleEncap::UdpTunnel:
        ipMtu = Gcm128().GetMtu(mtu, true, kIpHeader + ScaleWire::kUdpHeader);
        m_outer = kIpHeader + ScaleWire::kUdpHeader;
        m_innerIp = kIpHeader;
        break;
    }
    if (ipMtu < kIpHeader + kTcpHeader + 1)
    {
        throw std::invalid_argument("an MTU of " + std::to_string(mtu) +
                                    " leaves no room for TCP after ESP");
    }
    m_mss = ipMtu - kIpHeader - kTcpHeader;
    m_innerMtu = ipMtu;
}

uint32_t
ScaleWire::GetInnerMtu() const
{
    return m_innerMtu;
}

uint32_t
ScaleWire::GetMss() const
{
    return m_mss;
}

bool
ScaleWire::IsEsp() const
{
    return m_mode != ScaleMode::Baseline;
}

bool
ScaleWire::IsUdpEncapsulated() const
{
    return IsEsp() && m_encap == ScaleEncap::UdpTunnel;
}

uint32_t
ScaleWire::GetIpBytes(uint32_t payload, uint32_t l4Header) const
{
    if (!IsEsp())
    {
        return kIpHeader + l4Header + payload;
    }
    return m_outer + Gcm128().GetFrameLength(m_innerIp + l4Header + payload);
}

uint32_t
ScaleWire::GetWireBytes(uint32_t payload, uint32_t l4Header) const
{
    return std::max(GetIpBytes(payload, l4Header) + kFrameHeaderAndFcs, kMinFrame) +
           kPreambleAndGap;
}

uint32_t
ScaleWire::GetCipherBytes(uint32_t payload, uint32_t l4Header) const
{
    if (!IsEsp())
    {
        return 0;
    }
    const uint32_t inner = m_innerIp + l4Header + payload;
    return inner + Gcm128().GetPaddingLength(inner) + 2;
}

uint32_t
ScaleWire::GetLastPayload(uint32_t payload, uint32_t packets) const
{
    return payload == 0 ? 0 : payload - (packets - 1) * m_mss;
}

uint64_t
ScaleWire::GetSegmentWireBytes(uint32_t payload, uint32_t packets, uint32_t l4Header) const
{
    return uint64_t(packets - 1) * GetWireBytes(m_mss, l4Header) +
           GetWireBytes(GetLastPayload(payload, packets), l4Header);
}

uint64_t
ScaleWire::GetSegmentCipherBytes(uint32_t payload, uint32_t packets, uint32_t l4Header) const
{
    return uint64_t(packets - 1) * GetCipherBytes(m_mss, l4Header) +
           GetCipherBytes(GetLastPayload(payload, packets), l4Header);
}

double
ScaleWire::GetGoodputCeiling(double linkBps) const
{
    return linkBps * m_mss / GetWireBytes(m_mss);
}

} // namespace ns3
