// ScapyPacketCrafter: what Scapy builds is checked by parsing the bytes here, in C++, so that
// Scapy is not the judge of its own output.

#include "embedded-python.h"
#include "esp-algorithm.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace ns3;
using namespace offloadlab;

namespace
{

using Bytes = std::vector<uint8_t>;
using Fragments = std::vector<Bytes>;

constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoEsp = 50;
constexpr uint16_t kFlagDf = 0x4000;
constexpr uint16_t kFlagMf = 0x2000;
const std::array<uint8_t, 4> kSrc{10, 0, 0, 1};
const std::array<uint8_t, 4> kDst{10, 0, 0, 2};
const std::string kSrcDotted = "10.0.0.1";
const std::string kDstDotted = "10.0.0.2";

Bytes
Pattern(size_t n, uint8_t seed)
{
    Bytes b(n);
    for (size_t i = 0; i < n; ++i)
    {
        b[i] = static_cast<uint8_t>(seed + i * 7);
    }
    return b;
}

uint16_t
Get16(const Bytes& b, size_t at)
{
    return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

/// RFC 1071 one's complement sum, not yet complemented.
uint32_t
Sum16(const uint8_t* p, size_t n, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < n; i += 2)
    {
        sum += (uint32_t{p[i]} << 8) | p[i + 1];
    }
    if (n % 2 != 0)
    {
        sum += uint32_t{p[n - 1]} << 8;
    }
    while ((sum >> 16) != 0)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/// An IPv4 header as read here; `ok` is false (and `why` set) if the bytes are not one.
struct Ipv4
{
    bool ok{false};
    std::string why;
    size_t headerLength{0};
    uint16_t totalLength{0};
    uint16_t id{0};
    bool df{false};
    bool mf{false};
    uint32_t offsetBytes{0}; // fragment offset in bytes (the field times 8)
    uint8_t ttl{0};
    uint8_t protocol{0};
    bool checksumValid{false};
    std::array<uint8_t, 4> src{};
    std::array<uint8_t, 4> dst{};
    Bytes options;
    Bytes payload;
};

Ipv4
Parse(const Bytes& b)
{
    Ipv4 ip;
    if (b.size() < 20 || (b[0] >> 4) != 4)
    {
        ip.why = "not an IPv4 header";
        return ip;
    }
    ip.headerLength = (b[0] & 0x0f) * 4u;
    ip.totalLength = Get16(b, 2);
    if (ip.headerLength < 20 || ip.headerLength > b.size() || ip.totalLength != b.size())
    {
        ip.why = "IHL or total length does not match " + std::to_string(b.size()) + " bytes";
        return ip;
    }
    ip.id = Get16(b, 4);
    const uint16_t flagsOffset = Get16(b, 6);
    ip.df = (flagsOffset & kFlagDf) != 0;
    ip.mf = (flagsOffset & kFlagMf) != 0;
    ip.offsetBytes = (flagsOffset & 0x1fffu) * 8u;
    ip.ttl = b[8];
    ip.protocol = b[9];
    ip.checksumValid = Sum16(b.data(), ip.headerLength) == 0xffff;
    std::copy(b.begin() + 12, b.begin() + 16, ip.src.begin());
    std::copy(b.begin() + 16, b.begin() + 20, ip.dst.begin());
    ip.options.assign(b.begin() + 20, b.begin() + ip.headerLength);
    ip.payload.assign(b.begin() + ip.headerLength, b.end());
    ip.ok = true;
    return ip;
}

/// Whether the UDP checksum (over the RFC 768 pseudo-header) of this packet is right.
bool
UdpChecksumValid(const Ipv4& ip)
{
    const Bytes& udp = ip.payload;
    uint32_t sum = Sum16(ip.src.data(), 4);
    sum = Sum16(ip.dst.data(), 4, sum);
    sum += kProtoUdp + static_cast<uint32_t>(udp.size());
    return Sum16(udp.data(), udp.size(), sum) == 0xffff;
}

/// The datagram payload put back together from fragments, first arrival wins.
Bytes
Reassemble(const std::vector<Ipv4>& fragments, bool firstWins)
{
    size_t end = 0;
    for (const Ipv4& f : fragments)
    {
        end = std::max(end, f.offsetBytes + f.payload.size());
    }
    Bytes out(end);
    std::vector<bool> written(end, false);
    for (const Ipv4& f : fragments)
    {
        for (size_t i = 0; i < f.payload.size(); ++i)
        {
            const size_t at = f.offsetBytes + i;
            if (!firstWins || !written[at])
            {
                out[at] = f.payload[i];
                written[at] = true;
            }
        }
    }
    return std::count(written.begin(), written.end(), false) == 0 ? out : Bytes{};
}

class ScapyPacketCrafterTest : public testing::Test
{
  protected:
    void SetUp() override
    {
        std::string why;
        if (!ScapyPacketCrafter::IsAvailable(&why))
        {
            GTEST_SKIP() << "Scapy unavailable: " << why;
        }
    }

    /// A UDP datagram that must be built, failing the test otherwise.
    static Bytes Udp(size_t payloadSize, bool dontFragment = false)
    {
        Bytes packet;
        std::string error;
        EXPECT_TRUE(ScapyPacketCrafter::UdpDatagram(kSrcDotted,
                                                    kDstDotted,
                                                    5000,
                                                    5001,
                                                    Pattern(payloadSize, 3),
                                                    dontFragment,
                                                    &packet,
                                                    &error))
            << error;
        return packet;
    }
};

class CrafterUdpDatagramTest : public ScapyPacketCrafterTest,
                               public testing::WithParamInterface<bool>
{
};

TEST_P(CrafterUdpDatagramTest, HeadersAndChecksumsAreRight)
{
    const bool df = GetParam();
    for (const size_t size : {0, 1, 37, 1400})
    {
        const Bytes packet = Udp(size, df);
        const Ipv4 ip = Parse(packet);
        ASSERT_TRUE(ip.ok) << ip.why << ": " << ScapyPacketCrafter::Describe(packet);
        EXPECT_EQ(ip.headerLength, 20u);
        EXPECT_EQ(ip.totalLength, 20 + 8 + size);
        EXPECT_EQ(ip.df, df);
        EXPECT_FALSE(ip.mf);
        EXPECT_EQ(ip.offsetBytes, 0u);
        EXPECT_EQ(ip.ttl, 64);
        EXPECT_EQ(ip.protocol, kProtoUdp);
        EXPECT_EQ(ip.src, kSrc);
        EXPECT_EQ(ip.dst, kDst);
        EXPECT_TRUE(ip.checksumValid);
        ASSERT_EQ(ip.payload.size(), 8 + size);
        EXPECT_EQ(Get16(ip.payload, 0), 5000);
        EXPECT_EQ(Get16(ip.payload, 2), 5001);
        EXPECT_EQ(Get16(ip.payload, 4), 8 + size);
        EXPECT_TRUE(UdpChecksumValid(ip));
        EXPECT_EQ(Bytes(ip.payload.begin() + 8, ip.payload.end()), Pattern(size, 3));
    }
}

INSTANTIATE_TEST_SUITE_P(DontFragment,
                         CrafterUdpDatagramTest,
                         testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                             return info.param ? "DfSet" : "DfClear";
                         });

class CrafterFragmentTest : public ScapyPacketCrafterTest,
                            public testing::WithParamInterface<uint32_t>
{
};

TEST_P(CrafterFragmentTest, FragmentsReassembleToTheOriginal)
{
    const uint32_t size = GetParam();
    const Bytes packet = Udp(1000);
    const Ipv4 original = Parse(packet);
    ASSERT_TRUE(original.ok) << original.why;

    Fragments fragments;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::Fragment(packet, size, &fragments, &error)) << error;
    const size_t expected = (original.payload.size() + size - 1) / size;
    ASSERT_EQ(fragments.size(), expected);

    std::vector<Ipv4> parsed;
    uint32_t nextOffset = 0;
    for (size_t i = 0; i < fragments.size(); ++i)
    {
        const Ipv4 f = Parse(fragments[i]);
        const std::string what =
            "fragment " + std::to_string(i) + ": " + ScapyPacketCrafter::Describe(fragments[i]);
        ASSERT_TRUE(f.ok) << what << ": " << f.why;
        const bool last = i + 1 == fragments.size();
        EXPECT_EQ(f.mf, !last) << what;
        EXPECT_FALSE(f.df) << what;
        EXPECT_EQ(f.offsetBytes, nextOffset) << what;
        EXPECT_EQ(f.offsetBytes % 8, 0u) << what;
        if (!last)
        {
            EXPECT_EQ(f.payload.size(), size) << what;
        }
        EXPECT_EQ(f.id, original.id) << what;
        EXPECT_EQ(f.protocol, original.protocol) << what;
        EXPECT_EQ(f.ttl, original.ttl) << what;
        EXPECT_EQ(f.src, original.src) << what;
        EXPECT_EQ(f.dst, original.dst) << what;
        EXPECT_EQ(f.totalLength, f.headerLength + f.payload.size()) << what;
        EXPECT_TRUE(f.checksumValid) << what;
        nextOffset = f.offsetBytes + static_cast<uint32_t>(f.payload.size());
        parsed.push_back(f);
    }
    EXPECT_EQ(nextOffset, original.payload.size());
    EXPECT_EQ(Reassemble(parsed, true), original.payload);
}

INSTANTIATE_TEST_SUITE_P(PayloadSizes, CrafterFragmentTest, testing::Values(8u, 256u, 504u, 1000u));

TEST_F(ScapyPacketCrafterTest, FragmentingAnOptionsPacketKeepsTheOptions)
{
    Bytes packet;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::WithIpOptions(Udp(300), &packet, &error)) << error;
    Fragments fragments;
    ASSERT_TRUE(ScapyPacketCrafter::Fragment(packet, 128, &fragments, &error)) << error;
    ASSERT_EQ(fragments.size(), 3u);
    std::vector<Ipv4> parsed;
    for (const Bytes& fragment : fragments)
    {
        parsed.push_back(Parse(fragment));
        ASSERT_TRUE(parsed.back().ok) << parsed.back().why;
        // Router Alert has the copied flag, so every fragment carries it (RFC 791 3.1).
        EXPECT_EQ(parsed.back().options, (Bytes{0x94, 0x04, 0x00, 0x00}));
        EXPECT_TRUE(parsed.back().checksumValid);
    }
    EXPECT_EQ(Reassemble(parsed, true), Parse(packet).payload);
}

TEST_F(ScapyPacketCrafterTest, OverlappingFragmentsOverlapWithDifferentBytes)
{
    const Bytes packet = Udp(500);
    const Ipv4 original = Parse(packet);
    ASSERT_TRUE(original.ok) << original.why;

    Fragments fragments;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::OverlappingFragments(packet, 128, &fragments, &error)) << error;
    ASSERT_EQ(fragments.size(), 2u);
    const Ipv4 first = Parse(fragments[0]);
    const Ipv4 second = Parse(fragments[1]);
    ASSERT_TRUE(first.ok) << first.why;
    ASSERT_TRUE(second.ok) << second.why;

    EXPECT_TRUE(first.mf);
    EXPECT_FALSE(second.mf);
    EXPECT_EQ(first.offsetBytes, 0u);
    EXPECT_EQ(first.payload.size(), 128u);
    EXPECT_EQ(second.offsetBytes % 8, 0u);
    // The overlap: the second starts before the first ends.
    EXPECT_LT(second.offsetBytes, first.offsetBytes + first.payload.size());
    EXPECT_EQ(second.offsetBytes + second.payload.size(), original.payload.size());
    EXPECT_EQ(first.id, second.id);
    EXPECT_EQ(first.protocol, second.protocol);
    for (const Ipv4* f : {&first, &second})
    {
        EXPECT_TRUE(f->checksumValid);
        EXPECT_EQ(f->totalLength, f->headerLength + f->payload.size());
    }

    // The overlapping bytes differ, so the reassembly policy decides the datagram.
    const size_t overlap = first.payload.size() - second.offsetBytes;
    ASSERT_GT(overlap, 0u);
    for (size_t i = 0; i < overlap; ++i)
    {
        EXPECT_NE(first.payload[second.offsetBytes + i], second.payload[i]) << "overlap byte " << i;
    }
    EXPECT_EQ(Reassemble({first, second}, true), original.payload);
    const Bytes lastWins = Reassemble({first, second}, false);
    ASSERT_EQ(lastWins.size(), original.payload.size());
    EXPECT_NE(lastWins, original.payload);
    // Outside the overlap the second fragment carries the original bytes.
    EXPECT_TRUE(std::equal(second.payload.begin() + overlap,
                           second.payload.end(),
                           original.payload.begin() + first.payload.size()));
}

TEST_F(ScapyPacketCrafterTest, RouterAlertOption)
{
    const Bytes packet = Udp(100);
    Bytes withOption;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::WithIpOptions(packet, &withOption, &error)) << error;
    const Ipv4 before = Parse(packet);
    const Ipv4 after = Parse(withOption);
    ASSERT_TRUE(after.ok) << after.why << ": " << ScapyPacketCrafter::Describe(withOption);
    EXPECT_EQ(after.headerLength, 24u);
    EXPECT_EQ((withOption[0] & 0x0f), 6);
    EXPECT_EQ(after.options, (Bytes{0x94, 0x04, 0x00, 0x00}));
    EXPECT_EQ(after.totalLength, packet.size() + 4);
    EXPECT_TRUE(after.checksumValid);
    EXPECT_EQ(after.payload, before.payload);
    EXPECT_EQ(after.id, before.id);
    EXPECT_EQ(after.ttl, before.ttl);
    EXPECT_EQ(after.protocol, before.protocol);
    EXPECT_EQ(after.src, before.src);
    EXPECT_EQ(after.dst, before.dst);
    EXPECT_TRUE(UdpChecksumValid(after));

    // A second option goes after the first.
    Bytes twice;
    ASSERT_TRUE(ScapyPacketCrafter::WithIpOptions(withOption, &twice, &error)) << error;
    const Ipv4 both = Parse(twice);
    ASSERT_TRUE(both.ok) << both.why;
    EXPECT_EQ(both.options, (Bytes{0x94, 0x04, 0x00, 0x00, 0x94, 0x04, 0x00, 0x00}));
    EXPECT_TRUE(both.checksumValid);
}

TEST_F(ScapyPacketCrafterTest, RecordRouteOptionFillsTheHeader)
{
    const Bytes packet = Udp(100);
    Bytes withOption;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::WithIpOptions(packet,
                                                  &withOption,
                                                  &error,
                                                  ScapyPacketCrafter::IpOption::RecordRoute))
        << error;
    const Ipv4 after = Parse(withOption);
    ASSERT_TRUE(after.ok) << after.why << ": " << ScapyPacketCrafter::Describe(withOption);
    EXPECT_EQ(after.headerLength, 60u);
    ASSERT_EQ(after.options.size(), 40u);
    EXPECT_EQ(after.options[0], 0x07); // Record Route
    EXPECT_EQ(after.options[1], 39);   // 3 + 9 slots of 4
    EXPECT_EQ(after.options[2], 4);    // pointer: first slot
    EXPECT_EQ(after.options[39], 0);   // End of Options as padding
    EXPECT_EQ(after.totalLength, packet.size() + 40);
    EXPECT_TRUE(after.checksumValid);
    EXPECT_EQ(after.payload, Parse(packet).payload);

    // No room for another option: an error, not a corrupt IHL.
    Bytes more;
    EXPECT_FALSE(ScapyPacketCrafter::WithIpOptions(withOption, &more, &error));
    EXPECT_NE(error.find("40"), std::string::npos) << error;
}

TEST_F(ScapyPacketCrafterTest, BadInputIsFalseAndAMessage)
{
    const Bytes udp = Udp(100);
    Bytes ipv6(udp.size(), 0);
    ipv6[0] = 0x60;
    Bytes badLength = udp;
    badLength.push_back(0);
    Bytes badIhl = udp;
    badIhl[0] = 0x44;
    const std::vector<std::pair<std::string, Bytes>> notIpv4{
        {"empty", {}},
        {"3 bytes", {0x45, 0x00, 0x01}},
        {"IPv6", ipv6},
        {"total length != size", badLength},
        {"IHL 4", badIhl},
    };
    for (const auto& [name, bytes] : notIpv4)
    {
        Fragments fragments{{1, 2, 3}};
        Bytes out{9};
        std::string error;
        EXPECT_FALSE(ScapyPacketCrafter::Fragment(bytes, 64, &fragments, &error)) << name;
        EXPECT_FALSE(error.empty()) << name;
        EXPECT_EQ(fragments, (Fragments{{1, 2, 3}})) << name;
        error.clear();
        EXPECT_FALSE(ScapyPacketCrafter::OverlappingFragments(bytes, 64, &fragments, &error))
            << name;
        EXPECT_FALSE(error.empty()) << name;
        error.clear();
        EXPECT_FALSE(ScapyPacketCrafter::WithIpOptions(bytes, &out, &error)) << name;
        EXPECT_FALSE(error.empty()) << name;
        EXPECT_EQ(out, Bytes{9}) << name;
        EXPECT_FALSE(ScapyPacketCrafter::Describe(bytes).empty()) << name;
    }

    Fragments fragments;
    std::string error;
    for (const uint32_t size : {0u, 4u, 30u, 1001u})
    {
        error.clear();
        EXPECT_FALSE(ScapyPacketCrafter::Fragment(udp, size, &fragments, &error)) << size;
        EXPECT_NE(error.find("multiple of 8"), std::string::npos) << error;
    }
    EXPECT_FALSE(ScapyPacketCrafter::Fragment(Udp(100, true), 64, &fragments, &error));
    EXPECT_NE(error.find("DF"), std::string::npos) << error;
    EXPECT_FALSE(ScapyPacketCrafter::Fragment(udp, 512, &fragments, &error));
    EXPECT_NE(error.find("one"), std::string::npos) << error;
    EXPECT_FALSE(ScapyPacketCrafter::Fragment(udp, 64, nullptr, &error));

    Bytes out;
    error.clear();
    EXPECT_FALSE(ScapyPacketCrafter::UdpDatagram("not-an-address",
                                                 kDstDotted,
                                                 1,
                                                 2,
                                                 {},
                                                 false,
                                                 &out,
                                                 &error));
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_FALSE(
        ScapyPacketCrafter::UdpDatagram(kSrcDotted, "10.0.0.256", 1, 2, {}, false, &out, &error));
    EXPECT_FALSE(error.empty());
    // A null error pointer is allowed.
    EXPECT_FALSE(ScapyPacketCrafter::Fragment({}, 64, &fragments, nullptr));
}

TEST_F(ScapyPacketCrafterTest, DescribeIsScapysSummary)
{
    const std::string description = ScapyPacketCrafter::Describe(Udp(10));
    EXPECT_NE(description.find("UDP"), std::string::npos) << description;
    EXPECT_NE(description.find(kSrcDotted + ":5000"), std::string::npos) << description;
    EXPECT_NE(description.find(kDstDotted + ":5001"), std::string::npos) << description;
    const std::string junk = ScapyPacketCrafter::Describe({0x60, 0x00});
    EXPECT_NE(junk.find("not"), std::string::npos) << junk;
}

// pybind11 allows one interpreter per process: the ESP oracle and the crafter must share it.
TEST_F(ScapyPacketCrafterTest, SharesThePythonWithTheEspOracle)
{
    std::string why;
    ASSERT_TRUE(EmbeddedPython::Ensure(&why)) << why;
    if (!ScapyEspOracle::IsAvailable(&why))
    {
        GTEST_SKIP() << "Scapy ESP oracle unavailable: " << why;
    }
    EspAlgorithm gcm;
    gcm.suite = EspAlgorithm::Suite::AesGcm;
    gcm.encKey = Pattern(16, 0x21);
    gcm.salt = Pattern(4, 0x55);
    ScapyEspOracle oracle(gcm, 0x1000, false, "", "", false);
    ASSERT_TRUE(oracle.IsValid(&why)) << why;

    const Bytes plain = Udp(900);
    Bytes esp;
    ASSERT_TRUE(oracle.Encrypt(plain, 7, &esp, &why)) << why;
    const Ipv4 sealed = Parse(esp);
    ASSERT_TRUE(sealed.ok) << sealed.why << ": " << ScapyPacketCrafter::Describe(esp);
    EXPECT_EQ(sealed.protocol, kProtoEsp);
    EXPECT_NE(ScapyPacketCrafter::Describe(esp).find("ESP"), std::string::npos)
        << ScapyPacketCrafter::Describe(esp);

    // The crafter fragments what the oracle sealed; reassembled, the oracle opens it.
    Fragments fragments;
    ASSERT_TRUE(ScapyPacketCrafter::Fragment(esp, 400, &fragments, &why)) << why;
    ASSERT_EQ(fragments.size(), 3u);
    std::vector<Ipv4> parsed;
    for (const Bytes& fragment : fragments)
    {
        parsed.push_back(Parse(fragment));
        ASSERT_TRUE(parsed.back().ok) << parsed.back().why;
    }
    const Bytes espPayload = Reassemble(parsed, true);
    ASSERT_EQ(espPayload, sealed.payload);
    Bytes reassembled(esp.begin(), esp.begin() + sealed.headerLength);
    reassembled.insert(reassembled.end(), espPayload.begin(), espPayload.end());

    Bytes opened;
    ASSERT_TRUE(oracle.Decrypt(reassembled, 0, &opened, &why)) << why;
    const Ipv4 inner = Parse(opened);
    ASSERT_TRUE(inner.ok) << inner.why;
    EXPECT_EQ(inner.protocol, kProtoUdp);
    EXPECT_EQ(inner.payload, Parse(plain).payload);
    EXPECT_TRUE(inner.checksumValid);
}

} // namespace
