#include "machine-costs.h"

#include "esp-transform.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace ns3
{

namespace
{
using Clock = std::chrono::steady_clock;

void
ReadCpuInfo(MachineCosts* m)
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line) && (m->ghz == 0 || m->cpu.empty()))
    {
        const size_t colon = line.find(':');
        if (colon == std::string::npos)
        {
            continue;
        }
        const std::string value = line.substr(colon + 2 > line.size() ? line.size() : colon + 2);
        if (line.rfind("cpu MHz", 0) == 0 && m->ghz == 0)
        {
            m->ghz = std::stod(value) / 1e3;
        }
        else if (line.rfind("model name", 0) == 0 && m->cpu.empty())
        {
            m->cpu = value;
        }
    }
    if (m->ghz <= 0)
    {
        throw std::runtime_error(
            "/proc/cpuinfo gives no \"cpu MHz\": cannot turn time into cycles");
    }
}

// The fastest of seven rounds of round(), each returning nanoseconds per unit: the one a shared
// machine disturbed least.
template <typename Round>
double
FastestOf7(Round round)
{
    double best = round();
    for (int i = 1; i < 7; ++i)
    {
        best = std::min(best, round());
    }
    return best;
}

// Nanoseconds per EspTransform::Seal of a frame whose encrypted part (payload, padding and
// trailer) is bytes long: the software ESP's own cipher call.
double
SealNs(EspTransform& esp, uint32_t bytes)
{
    const std::vector<uint8_t> payload(bytes - 2, 0x5a); // multiples of 4 need no padding
    std::vector<uint8_t> frame;
    esp.BuildFrame(0x100, 1, payload.data(), uint32_t(payload.size()), 6, frame);
    const int calls = int(std::max(2000u, 4000000u / (bytes + 64)));
    return FastestOf7([&] {
        const auto start = Clock::now();
        for (int i = 0; i < calls; ++i)
        {
            esp.Seal(frame.data(), uint32_t(frame.size()), 0, false);
        }
        return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / calls;
    });
}

double
CopyNsPerByte()
{
    constexpr size_t kRegion = 32 << 20;
    constexpr size_t kBlock = 1448;
    std::vector<uint8_t> src(kRegion, 0x33);
    std::vector<uint8_t> dst(kBlock * 64);
    volatile uint8_t sink = 0;
    return FastestOf7([&] {
        const auto start = Clock::now();
        size_t copied = 0;
        for (size_t off = 0; off + kBlock <= kRegion; off += kBlock)
        {
            std::memcpy(dst.data() + (off / kBlock % 64) * kBlock, src.data() + off, kBlock);
            copied += kBlock;
        }
        sink = sink + dst[copied % dst.size()];
        return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / copied;
    });
}
} // namespace

MachineCosts
MeasureMachineCosts(const std::vector<uint32_t>& sizes)
{
    const auto start = Clock::now();
    MachineCosts m;
    ReadCpuInfo(&m);
    std::string error;
    const auto gcm = EspTransform::Create(EspAlgorithm::Gcm(std::vector<uint8_t>(20, 7)), &error);
    if (!gcm)
    {
        throw std::runtime_error("AES-GCM-128 transform: " + error);
    }
    std::vector<std::pair<uint32_t, double>> points;
    for (uint32_t bytes : sizes)
    {
        points.emplace_back(bytes, SealNs(*gcm, bytes) * m.ghz);
    }
    m.cipher = CipherCost(std::move(points));
    m.copyByte = CopyNsPerByte() * m.ghz;
    m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return m;
}

} // namespace ns3
