#include "payloads.h"

#include <algorithm>

namespace ns3
{

std::vector<uint8_t>
DatagramPayload(uint32_t index, uint32_t size)
{
    const std::vector<uint8_t>& marker = PlaintextMarker();
    std::vector<uint8_t> b(size);
    for (uint32_t i = 0; i < size; ++i)
    {
        b[i] = static_cast<uint8_t>(index * 31 + i * 7 + 3);
    }
    if (size >= marker.size())
    {
        std::copy(marker.begin(), marker.end(), b.begin());
    }
    return b;
}

const std::vector<uint8_t>&
PlaintextMarker()
{
    static const std::vector<uint8_t>
        marker{'O', 'F', 'F', 'L', 'O', 'A', 'D', 'L', 'A', 'B', '-', 'P', 'L', 'A', 'I', 'N'};
    return marker;
}

std::vector<std::vector<uint8_t>>
Datagrams(uint32_t count, uint32_t salt)
{
    std::vector<std::vector<uint8_t>> all;
    for (uint32_t i = 0; i < count; ++i)
    {
        all.push_back(DatagramPayload(salt + i, (i * 37 + salt) % 1301));
    }
    return all;
}

std::vector<std::vector<uint8_t>>
Payloads(uint32_t count, uint32_t firstIndex)
{
    std::vector<std::vector<uint8_t>> payloads;
    for (uint32_t i = 0; i < count; ++i)
    {
        payloads.push_back(DatagramPayload(firstIndex + i, 40 + (37 * i) % 400));
    }
    return payloads;
}

} // namespace ns3
