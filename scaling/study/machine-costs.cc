#include "machine-costs.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
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

// Nanoseconds per call: the fastest of seven rounds, the one a shared machine disturbed least.
double
SealNs(EVP_CIPHER_CTX* ctx, uint32_t bytes)
{
    std::vector<uint8_t> data(bytes, 0x5a);
    uint8_t aad[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t iv[12] = {};
    uint8_t tag[16];
    const int calls = int(std::max(2000u, 4000000u / (bytes + 64)));
    std::vector<double> rounds;
    for (int round = 0; round < 7; ++round)
    {
        const auto start = Clock::now();
        for (int i = 0; i < calls; ++i)
        {
            int n = 0;
            iv[11] = uint8_t(i);
            if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1 ||
                EVP_EncryptUpdate(ctx, nullptr, &n, aad, sizeof(aad)) != 1 ||
                EVP_EncryptUpdate(ctx, data.data(), &n, data.data(), int(bytes)) != 1 ||
                EVP_EncryptFinal_ex(ctx, data.data() + n, &n) != 1 ||
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) != 1)
            {
                throw std::runtime_error("OpenSSL AES-GCM seal failed");
            }
        }
        rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                         calls);
    }
    return *std::min_element(rounds.begin(), rounds.end());
}

// Likewise, the fastest of seven rounds.
double
CopyNsPerByte()
{
    constexpr size_t kRegion = 32 << 20;
    constexpr size_t kBlock = 1448;
    std::vector<uint8_t> src(kRegion, 0x33);
    std::vector<uint8_t> dst(kBlock * 64);
    std::vector<double> rounds;
    volatile uint8_t sink = 0;
    for (int round = 0; round < 7; ++round)
    {
        const auto start = Clock::now();
        size_t copied = 0;
        for (size_t off = 0; off + kBlock <= kRegion; off += kBlock)
        {
            std::memcpy(dst.data() + (off / kBlock % 64) * kBlock, src.data() + off, kBlock);
            copied += kBlock;
        }
        sink = sink + dst[copied % dst.size()];
        rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                         copied);
    }
    return *std::min_element(rounds.begin(), rounds.end());
}
} // namespace

MachineCosts
MeasureMachineCosts(const std::vector<uint32_t>& sizes)
{
    const auto start = Clock::now();
    MachineCosts m;
    ReadCpuInfo(&m);
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        &EVP_CIPHER_CTX_free);
    uint8_t key[16] = {7};
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, key, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1)
    {
        throw std::runtime_error("OpenSSL has no AES-128-GCM");
    }
    std::vector<std::pair<uint32_t, double>> points;
    for (uint32_t bytes : sizes)
    {
        points.emplace_back(bytes, SealNs(ctx.get(), bytes) * m.ghz);
    }
    m.cipher = CipherCost(std::move(points));
    m.copyByte = CopyNsPerByte() * m.ghz;
    m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return m;
}

} // namespace ns3
