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

std::vector<std::pair<std::string, double>>
ScaleCosts::Fields() const
{
    return {{"driver_packet", driverPacket},
            {"tcp_segment_rx", tcpSegmentRx},
            {"tcp_segment_tx", tcpSegmentTx},
            {"tcp_packet_tx", tcpPacketTx},
            {"udp_packet_rx", udpPacketRx},
            {"ack_rx", ackRx},
            {"ack_tx", ackTx},
            {"copy_byte", copyByte},
            {"xfrm_packet", xfrmPacket},
            {"esp_software_packet", espSoftwarePacket},
            {"sa_lock_packet", saLockPacket}};
}

} // namespace ns3
