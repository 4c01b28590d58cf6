// EspTransform against Scapy's ESP (an implementation nobody here wrote), both directions,
// for every suite x transport/tunnel x ESN off/on.

#include "esp-transform.h"
#include "scapy-esp-oracle.h"

#include <algorithm>
#include <array>
#include <gtest/gtest.h>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

using namespace ns3;
using namespace offloadlab;

namespace
{

using Bytes = std::vector<uint8_t>;
using Address = std::array<uint8_t, 4>;

constexpr uint32_t kSpi = 0x0badcafe;
constexpr uint8_t kProtoIpip = 4;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoEsp = 50;
const Address kHostA{10, 0, 0, 1};
const Address kHostB{10, 0, 0, 2};
const Address kInnerA{192, 168, 1, 10};
const Address kInnerB{192, 168, 2, 20};
const Address kGatewayA{203, 0, 113, 1};
const Address kGatewayB{203, 0, 113, 2};

std::string
Dotted(const Address& a)
{
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
}

Bytes
Pattern(size_t n, uint8_t seed)
{
    Bytes b(n);
    for (size_t i = 0; i < n; ++i)
    {
        b[i] = static_cast<uint8_t>(seed + i * 13);
    }
    return b;
}

uint32_t
SumWords(const uint8_t* p, size_t n, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < n; i += 2)
    {
        sum += (uint32_t{p[i]} << 8) | p[i + 1];
    }
    if (n % 2 != 0)
    {
        sum += uint32_t{p[n - 1]} << 8;
    }
    return sum;
}

uint16_t
Fold(uint32_t sum)
{
    while ((sum >> 16) != 0)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(~sum);
}

/// IPv4 header (no options, DF, TTL 64) with a correct total length and header checksum.
Bytes
Ipv4(const Address& src, const Address& dst, uint8_t protocol, const Bytes& payload)
{
    const size_t total = 20 + payload.size();
    Bytes p{0x45,
            0,
            static_cast<uint8_t>(total >> 8),
            static_cast<uint8_t>(total),
            0x12,
            0x34,
            0x40,
            0,
            64,
            protocol,
            0,
            0};
    p.insert(p.end(), src.begin(), src.end());
    p.insert(p.end(), dst.begin(), dst.end());
    const uint16_t checksum = Fold(SumWords(p.data(), 20));
    p[10] = static_cast<uint8_t>(checksum >> 8);
    p[11] = static_cast<uint8_t>(checksum);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

/// UDP datagram with its checksum over the IPv4 pseudo-header.
Bytes
Udp(const Address& src, const Address& dst, const Bytes& data)
{
    const size_t length = 8 + data.size();
    Bytes d{0x30,
            0x39,
            0x11,
            0x5c,
            static_cast<uint8_t>(length >> 8),
            static_cast<uint8_t>(length),
            0,
            0};
    d.insert(d.end(), data.begin(), data.end());
    Bytes pseudo(src.begin(), src.end());
    pseudo.insert(pseudo.end(), dst.begin(), dst.end());
    pseudo.insert(pseudo.end(),
                  {0, kProtoUdp, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
    uint16_t checksum = Fold(SumWords(d.data(), d.size(), SumWords(pseudo.data(), 12)));
    checksum = checksum == 0 ? 0xffff : checksum;
    d[6] = static_cast<uint8_t>(checksum >> 8);
    d[7] = static_cast<uint8_t>(checksum);
    return d;
}

enum class Suite
{
    Gcm128,
    Gcm256,
    CbcSha256
};

EspAlgorithm
AlgorithmOf(Suite suite)
{
    switch (suite)
    {
    case Suite::Gcm128:
        return EspAlgorithm::Gcm(Pattern(20, 0x61));
    case Suite::Gcm256:
        return EspAlgorithm::Gcm(Pattern(36, 0x62));
    case Suite::CbcSha256:
        break;
    }
    return EspAlgorithm::CbcSha256(Pattern(16, 0x63), Pattern(32, 0x64));
}

const char*
NameOf(Suite suite)
{
    switch (suite)
    {
    case Suite::Gcm128:
        return "Gcm128";
    case Suite::Gcm256:
        return "Gcm256";
    case Suite::CbcSha256:
        break;
    }
    return "CbcSha256";
}

// Readable parameters in gtest's failure messages.
void
PrintTo(Suite suite, std::ostream* os)
{
    *os << NameOf(suite);
}

using OracleParam = std::tuple<Suite, bool, bool>; // suite, tunnel mode, ESN

class EspScapyOracleTest : public testing::TestWithParam<OracleParam>
{
  protected:
    void SetUp() override
    {
        std::string why;
        if (!ScapyEspOracle::IsAvailable(&why))
        {
            GTEST_SKIP() << "Scapy oracle unavailable: " << why;
        }
        std::tie(m_suite, m_tunnel, m_esn) = GetParam();
        std::string error;
        m_esp = EspTransform::Create(AlgorithmOf(m_suite), &error);
        ASSERT_NE(m_esp, nullptr) << error;
        m_oracle = std::make_unique<ScapyEspOracle>(AlgorithmOf(m_suite),
                                                    kSpi,
                                                    m_tunnel,
                                                    Dotted(kGatewayA),
                                                    Dotted(kGatewayB),
                                                    m_esn);
        ASSERT_TRUE(m_oracle->IsValid(&error)) << error;
    }

    std::vector<uint64_t> Sequences() const
    {
        // With ESN: seqLow 0 (Scapy cannot send it unaided) and a large seqHi.
        if (m_esn)
        {
            return {0x100000000ull, 0x512345678ull};
        }
        return {1, 0xFFFFFFFFull};
    }

    /// What ESP protects: a UDP datagram (transport) or an IPv4 + UDP packet (tunnel).
    Bytes Plaintext(size_t udpPayload) const
    {
        const Bytes data = Pattern(udpPayload, static_cast<uint8_t>(udpPayload));
        if (m_tunnel)
        {
            return Ipv4(kInnerA, kInnerB, kProtoUdp, Udp(kInnerA, kInnerB, data));
        }
        return Udp(kHostA, kHostB, data);
    }

    uint8_t NextHeader() const
    {
        return m_tunnel ? kProtoIpip : kProtoUdp;
    }

    /// The packet Scapy encrypts: the inner packet (tunnel) or host-to-host IPv4 + UDP.
    Bytes ScapyInput(const Bytes& plaintext) const
    {
        return m_tunnel ? plaintext : Ipv4(kHostA, kHostB, kProtoUdp, plaintext);
    }

    /// What Scapy's decryption must give back for this plaintext.
    Bytes ExpectedDecryption(const Bytes& plaintext) const
    {
        return ScapyInput(plaintext);
    }

    Bytes OuterPacket(const Bytes& frame) const
    {
        return m_tunnel ? Ipv4(kGatewayA, kGatewayB, kProtoEsp, frame)
                        : Ipv4(kHostA, kHostB, kProtoEsp, frame);
    }

    Suite m_suite{Suite::Gcm128};
    bool m_tunnel{false};
    bool m_esn{false};
    std::unique_ptr<EspTransform> m_esp;
    std::unique_ptr<ScapyEspOracle> m_oracle;
};

const size_t kUdpPayloads[] = {0, 1, 3, 100, 1372};

TEST_P(EspScapyOracleTest, ScapyDecryptsOurEsp)
{
    for (const uint64_t seq : Sequences())
    {
        for (const size_t udpPayload : kUdpPayloads)
        {
            SCOPED_TRACE("seq " + std::to_string(seq) + " UDP payload " +
                         std::to_string(udpPayload));
            const Bytes plaintext = Plaintext(udpPayload);
            Bytes frame;
            m_esp->Encapsulate(kSpi,
                               seq,
                               m_esn,
                               plaintext.data(),
                               plaintext.size(),
                               NextHeader(),
                               frame);
            Bytes decrypted;
            std::string error;
            ASSERT_TRUE(m_oracle->Decrypt(OuterPacket(frame),
                                          static_cast<uint32_t>(seq >> 32),
                                          &decrypted,
                                          &error))
                << error;
            EXPECT_EQ(decrypted, ExpectedDecryption(plaintext));
        }
    }
}

TEST_P(EspScapyOracleTest, WeDecapsulateScapysEsp)
{
    for (const uint64_t seq : Sequences())
    {
        for (const size_t udpPayload : kUdpPayloads)
        {
            SCOPED_TRACE("seq " + std::to_string(seq) + " UDP payload " +
                         std::to_string(udpPayload));
            const Bytes plaintext = Plaintext(udpPayload);
            Bytes packet;
            std::string error;
            ASSERT_TRUE(m_oracle->Encrypt(ScapyInput(plaintext), seq, &packet, &error)) << error;

            ASSERT_GE(packet.size(), 20u);
            const size_t headerLength = (packet[0] & 0x0f) * 4u;
            ASSERT_EQ(packet[9], kProtoEsp);
            ASSERT_EQ((size_t{packet[2]} << 8) | packet[3], packet.size());
            EXPECT_EQ(Fold(SumWords(packet.data(), headerLength)), 0) << "IPv4 header checksum";
            const Address& src = m_tunnel ? kGatewayA : kHostA;
            EXPECT_TRUE(std::equal(src.begin(), src.end(), packet.begin() + 12));

            Bytes frame(packet.begin() + headerLength, packet.end());
            EXPECT_EQ(EspTransform::ReadSpi(frame.data()), kSpi);
            EXPECT_EQ(EspTransform::ReadSeqLow(frame.data()), static_cast<uint32_t>(seq));
            if (m_suite != Suite::CbcSha256)
            {
                // Same IV (the sequence number), same padding: byte for byte what we send.
                Bytes ours;
                m_esp->Encapsulate(kSpi,
                                   seq,
                                   m_esn,
                                   plaintext.data(),
                                   plaintext.size(),
                                   NextHeader(),
                                   ours);
                EXPECT_EQ(frame, ours);
            }

            uint32_t offset = 0;
            uint32_t length = 0;
            uint8_t nextHeader = 0;
            ASSERT_EQ(m_esp->Decapsulate(frame.data(),
                                         frame.size(),
                                         static_cast<uint32_t>(seq >> 32),
                                         m_esn,
                                         &offset,
                                         &length,
                                         &nextHeader),
                      EspStatus::Ok);
            EXPECT_EQ(Bytes(frame.begin() + offset, frame.begin() + offset + length), plaintext);
            EXPECT_EQ(nextHeader, NextHeader());
        }
    }
}

TEST_P(EspScapyOracleTest, ScapyRejectsWhatWeWouldReject)
{
    // Shows the oracle really checks: a flipped ICV bit, and with ESN a wrong seqHi.
    const uint64_t seq = Sequences().back();
    const Bytes plaintext = Plaintext(40);
    Bytes frame;
    m_esp->Encapsulate(kSpi, seq, m_esn, plaintext.data(), plaintext.size(), NextHeader(), frame);
    Bytes decrypted;
    std::string error;
    Bytes tampered = frame;
    tampered.back() ^= 0x01;
    EXPECT_FALSE(m_oracle->Decrypt(OuterPacket(tampered), seq >> 32, &decrypted, &error));
    EXPECT_FALSE(error.empty());
    if (m_esn)
    {
        EXPECT_FALSE(m_oracle->Decrypt(OuterPacket(frame), (seq >> 32) + 1, &decrypted, &error));
    }
    EXPECT_TRUE(m_oracle->Decrypt(OuterPacket(frame), seq >> 32, &decrypted, &error)) << error;
}

INSTANTIATE_TEST_SUITE_P(
    SuitesModesEsn,
    EspScapyOracleTest,
    testing::Combine(testing::Values(Suite::Gcm128, Suite::Gcm256, Suite::CbcSha256),
                     testing::Bool(),
                     testing::Bool()),
    [](const testing::TestParamInfo<OracleParam>& info) {
        return std::string(NameOf(std::get<0>(info.param))) +
               (std::get<1>(info.param) ? "_Tunnel" : "_Transport") +
               (std::get<2>(info.param) ? "_Esn" : "_NoEsn");
    });

TEST(ScapyEspOracleTest, ErrorsBecomeFalseAndAMessage)
{
    std::string why;
    if (!ScapyEspOracle::IsAvailable(&why))
    {
        GTEST_SKIP() << "Scapy oracle unavailable: " << why;
    }
    ScapyEspOracle oracle(AlgorithmOf(Suite::Gcm128), kSpi, false, "", "", false);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    Bytes out;
    // Not ESP at all: a bare UDP packet.
    EXPECT_FALSE(oracle.Decrypt(Ipv4(kHostA, kHostB, kProtoUdp, Udp(kHostA, kHostB, Bytes(8))),
                                0,
                                &out,
                                &error));
    EXPECT_NE(error.find("ESP"), std::string::npos) << error;
    // Another SA's SPI.
    auto esp = EspTransform::Create(AlgorithmOf(Suite::Gcm128), &error);
    Bytes frame;
    const Bytes udp = Udp(kHostA, kHostB, Bytes(8));
    esp->Encapsulate(kSpi + 1, 1, false, udp.data(), udp.size(), kProtoUdp, frame);
    error.clear();
    EXPECT_FALSE(oracle.Decrypt(Ipv4(kHostA, kHostB, kProtoEsp, frame), 0, &out, &error));
    EXPECT_NE(error.find("spi"), std::string::npos) << error;
    // Garbage that is not an IPv4 packet.
    error.clear();
    EXPECT_FALSE(oracle.Encrypt(Bytes{1, 2, 3}, 1, &out, &error));
    EXPECT_FALSE(error.empty());

    // A bad SA: unknown key length for Scapy's AES.
    EspAlgorithm bad = AlgorithmOf(Suite::Gcm128);
    bad.encKey.resize(5);
    ScapyEspOracle badOracle(bad, kSpi, false, "", "", false);
    EXPECT_FALSE(badOracle.IsValid(&error));
    EXPECT_FALSE(error.empty());
}

} // namespace
