#include "scale-costs.h"

#include <algorithm>

namespace ns3
{

CipherCost::CipherCost(std::vector<std::pair<uint32_t, double>> points)
    : m_points(std::move(points))
{
    std::sort(m_points.begin(), m_points.end());
}

double
CipherCost::Cycles(uint32_t bytes) const
{
    if (m_points.empty())
    {
        return 0;
    }
    if (m_points.size() == 1)
    {
        return m_points[0].second;
    }
    // The segment that holds bytes, or the nearest end one.
    size_t i = 1;
    while (i + 1 < m_points.size() && m_points[i].first < bytes)
    {
        ++i;
    }
    const auto& [x0, y0] = m_points[i - 1];
    const auto& [x1, y1] = m_points[i];
    const double y = y0 + (y1 - y0) * (double(bytes) - x0) / (double(x1) - x0);
    return std::max(y, 0.0);
}

const std::vector<std::pair<uint32_t, double>>&
CipherCost::GetPoints() const
{
    return m_points;
}

CipherCost
CipherCost::Scaled(double factor) const
{
    std::vector<std::pair<uint32_t, double>> p = m_points;
    for (auto& [bytes, cycles] : p)
    {
        cycles *= factor;
    }
    return CipherCost(std::move(p));
}

const std::vector<std::pair<std::string, double ScaleCosts::*>>&
ScaleCosts::Names()
{
    static const std::vector<std::pair<std::string, double ScaleCosts::*>> names = {
        {"driver_packet", &ScaleCosts::driverPacket},
        {"tcp_segment_rx", &ScaleCosts::tcpSegmentRx},
        {"tcp_segment_tx", &ScaleCosts::tcpSegmentTx},
        {"tcp_packet_tx", &ScaleCosts::tcpPacketTx},
        {"udp_packet_rx", &ScaleCosts::udpPacketRx},
        {"ack_rx", &ScaleCosts::ackRx},
        {"ack_tx", &ScaleCosts::ackTx},
        {"copy_byte", &ScaleCosts::copyByte},
        {"xfrm_packet", &ScaleCosts::xfrmPacket},
        {"esp_software_packet", &ScaleCosts::espSoftwarePacket},
        {"sa_lock_packet", &ScaleCosts::saLockPacket}};
    return names;
}

} // namespace ns3
