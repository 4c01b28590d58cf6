// Unit tests of EspTransform: RFC 4303 framing, RFC 4106 AES-GCM and RFC 3602/4868
// AES-CBC + HMAC-SHA256-128, checked against independent raw EVP computations.

#include "esp-transform.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using namespace ns3;

// Every OpenSSL heap allocation goes through these hooks, so the data path can be shown
// allocation-free; EspTransform's own code allocates only when resizing the output vector.
namespace
{

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void*
CountingMalloc(size_t n, const char*, int)
{
    if (g_counting)
    {
        ++g_allocations;
    }
    return std::malloc(n);
}

void*
CountingRealloc(void* p, size_t n, const char*, int)
{
    if (g_counting)
    {
        ++g_allocations;
    }
    return std::realloc(p, n);
}

void
PlainFree(void* p, const char*, int)
{
    std::free(p);
}

// Must run before OpenSSL's first allocation, hence a static initializer.
const bool g_cryptoHooked =
    CRYPTO_set_mem_functions(CountingMalloc, CountingRealloc, PlainFree) == 1;

} // namespace

namespace
{

using Bytes = std::vector<uint8_t>;

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

struct SuiteCase
{
    const char* name;
    EspAlgorithm algorithm;
};

std::vector<SuiteCase>
AllSuites()
{
    return {
        {"Gcm128", EspAlgorithm::Gcm(Pattern(20, 0x10))},
        {"Gcm256", EspAlgorithm::Gcm(Pattern(36, 0x20))},
        {"CbcSha256", EspAlgorithm::CbcSha256(Pattern(16, 0x30), Pattern(32, 0x40))},
    };
}

std::unique_ptr<EspTransform>
MakeTransform(const EspAlgorithm& algorithm)
{
    std::string error;
    auto transform = EspTransform::Create(algorithm, &error);
    EXPECT_NE(transform, nullptr) << error;
    return transform;
}

void
PutBe32(Bytes& b, uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
    {
        b.push_back(static_cast<uint8_t>(v >> shift));
    }
}

/// payload || 1, 2, ..., n || n || nextHeader, written here independently of BuildFrame.
Bytes
PlaintextWithTrailer(const Bytes& payload, uint32_t align, uint8_t nextHeader)
{
    Bytes out = payload;
    const uint32_t pad = (align - (payload.size() + 2) % align) % align;
    for (uint32_t i = 1; i <= pad; ++i)
    {
        out.push_back(static_cast<uint8_t>(i));
    }
    out.push_back(static_cast<uint8_t>(pad));
    out.push_back(nextHeader);
    return out;
}

const uint8_t*
IcvOf(const Bytes& frame)
{
    return frame.data() + frame.size() - 16;
}

// ---------------------------------------------------------------------------------------------
// Round trip, padding and alignment over suites x payload sizes x ESN

using RoundTripParam = std::tuple<size_t, uint32_t, bool>; // suite index, payload length, ESN

class EspTransformRoundTripTest : public testing::TestWithParam<RoundTripParam>
{
};

TEST_P(EspTransformRoundTripTest, DecapsulatesToThePayload)
{
    const auto [suiteIndex, payloadLength, esn] = GetParam();
    auto esp = MakeTransform(AllSuites()[suiteIndex].algorithm);
    ASSERT_NE(esp, nullptr);
    const Bytes payload = Pattern(payloadLength, 0x5a);
    const uint64_t seq = esn ? 0x0000000700000009ull : 9;
    Bytes frame;
    esp->Encapsulate(0xc0ffee01, seq, esn, payload.data(), payloadLength, 17, frame);

    const uint32_t ivLength = esp->GetIvLength();
    ASSERT_EQ(frame.size(), esp->GetFrameLength(payloadLength));
    const uint32_t encrypted = frame.size() - EspTransform::kHeaderLength - ivLength - 16;
    EXPECT_EQ(encrypted % esp->GetBlockAlign(), 0u) << "payload + padding + 2 not aligned";
    EXPECT_EQ(encrypted, payloadLength + esp->GetPaddingLength(payloadLength) + 2);
    EXPECT_LT(esp->GetPaddingLength(payloadLength), esp->GetBlockAlign());
    if (payloadLength >= 8)
    {
        // The payload must not travel in clear (shorter ones may match by chance with a
        // random CBC IV: 1 in 256 for one byte).
        EXPECT_NE(0,
                  std::memcmp(frame.data() + EspTransform::kHeaderLength + ivLength,
                              payload.data(),
                              payloadLength));
    }

    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t nextHeader = 0;
    const EspStatus status = esp->Decapsulate(frame.data(),
                                              frame.size(),
                                              static_cast<uint32_t>(seq >> 32),
                                              esn,
                                              &offset,
                                              &length,
                                              &nextHeader);
    if (payloadLength == 0)
    {
        // Linux's esp_remove_trailer refuses an empty payload (padlen + 2 + alen >= elen).
        EXPECT_EQ(status, EspStatus::BadPadding);
        return;
    }
    ASSERT_EQ(status, EspStatus::Ok);
    EXPECT_EQ(offset, EspTransform::kHeaderLength + ivLength);
    ASSERT_EQ(length, payloadLength);
    EXPECT_EQ(Bytes(frame.begin() + offset, frame.begin() + offset + length), payload);
    EXPECT_EQ(nextHeader, 17);

    // Decrypted trailer: padding 1, 2, 3, ..., then its length.
    const uint32_t pad = esp->GetPaddingLength(payloadLength);
    const uint8_t* trailer = frame.data() + offset + length;
    for (uint32_t i = 0; i < pad; ++i)
    {
        EXPECT_EQ(trailer[i], i + 1) << "pad byte " << i;
    }
    EXPECT_EQ(trailer[pad], pad);
}

INSTANTIATE_TEST_SUITE_P(
    SuitesSizesEsn,
    EspTransformRoundTripTest,
    testing::Combine(testing::Values(0, 1, 2),
                     testing::Values(0u, 1u, 2u, 3u, 13u, 14u, 15u, 16u, 17u, 255u, 1400u, 1500u),
                     testing::Bool()),
    [](const testing::TestParamInfo<RoundTripParam>& info) {
        return std::string(AllSuites()[std::get<0>(info.param)].name) + "_Len" +
               std::to_string(std::get<1>(info.param)) +
               (std::get<2>(info.param) ? "_Esn" : "_NoEsn");
    });

// ---------------------------------------------------------------------------------------------
// Padding lengths, table driven (RFC 4303 2.4: 4-byte alignment for GCM, block for CBC)

struct PaddingCase
{
    size_t suite;
    uint32_t payloadLength;
    uint32_t padding;
};

void
PrintTo(const PaddingCase& c, std::ostream* os)
{
    *os << AllSuites()[c.suite].name << " payload " << c.payloadLength;
}

class EspTransformPaddingTableTest : public testing::TestWithParam<PaddingCase>
{
};

TEST_P(EspTransformPaddingTableTest, MatchesTheTable)
{
    const PaddingCase& c = GetParam();
    auto esp = MakeTransform(AllSuites()[c.suite].algorithm);
    ASSERT_NE(esp, nullptr);
    EXPECT_EQ(esp->GetPaddingLength(c.payloadLength), c.padding);
    Bytes frame;
    const Bytes payload = Pattern(c.payloadLength, 1);
    esp->BuildFrame(1, 1, payload.data(), c.payloadLength, 4, frame);
    // Plaintext frame: trailer sits right before the ICV.
    EXPECT_EQ(frame[frame.size() - 18], c.padding);
    EXPECT_EQ(frame[frame.size() - 17], 4);
    for (uint32_t i = 0; i < c.padding; ++i)
    {
        EXPECT_EQ(frame[frame.size() - 18 - c.padding + i], i + 1);
    }
}

INSTANTIATE_TEST_SUITE_P(Table,
                         EspTransformPaddingTableTest,
                         testing::Values(PaddingCase{0, 0, 2},
                                         PaddingCase{0, 1, 1},
                                         PaddingCase{0, 2, 0},
                                         PaddingCase{0, 3, 3},
                                         PaddingCase{0, 1400, 2},
                                         PaddingCase{1, 5, 1},
                                         PaddingCase{2, 0, 14},
                                         PaddingCase{2, 13, 1},
                                         PaddingCase{2, 14, 0},
                                         PaddingCase{2, 15, 15},
                                         PaddingCase{2, 16, 14},
                                         PaddingCase{2, 1400, 6}),
                         [](const testing::TestParamInfo<PaddingCase>& info) {
                             return std::string(AllSuites()[info.param.suite].name) + "_Len" +
                                    std::to_string(info.param.payloadLength);
                         });

// ---------------------------------------------------------------------------------------------
// Per-suite properties

class EspTransformSuiteTest : public testing::TestWithParam<size_t>
{
  protected:
    void SetUp() override
    {
        m_case = AllSuites()[GetParam()];
        m_esp = MakeTransform(m_case.algorithm);
        ASSERT_NE(m_esp, nullptr);
    }

    bool IsGcm() const
    {
        return m_case.algorithm.suite == EspAlgorithm::Suite::AesGcm;
    }

    Bytes Seal(uint32_t payloadLength, uint64_t seq, bool esn, uint32_t spi = 0x11223344)
    {
        const Bytes payload = Pattern(payloadLength, 0x77);
        Bytes frame;
        m_esp->Encapsulate(spi, seq, esn, payload.data(), payloadLength, 6, frame);
        return frame;
    }

    SuiteCase m_case;
    std::unique_ptr<EspTransform> m_esp;
};

std::string
SuiteName(const testing::TestParamInfo<size_t>& info)
{
    return AllSuites()[info.param].name;
}

TEST_P(EspTransformSuiteTest, Lengths)
{
    EXPECT_EQ(m_esp->GetIvLength(), IsGcm() ? 8u : 16u);
    EXPECT_EQ(m_esp->GetIcvLength(), 16u);
    EXPECT_EQ(m_esp->GetBlockAlign(), IsGcm() ? 4u : 16u);
    uint32_t largest = 0;
    for (uint32_t length = 0; length < 100; ++length)
    {
        largest = std::max(largest, m_esp->GetFrameLength(length) - length);
    }
    EXPECT_EQ(largest, m_esp->GetMaxOverhead());
    EXPECT_EQ(m_esp->GetMaxOverhead(), 8 + m_esp->GetIvLength() + m_esp->GetBlockAlign() - 1 + 18);
}

TEST_P(EspTransformSuiteTest, HeaderFieldsAreBigEndian)
{
    const Bytes frame = Seal(10, 0x0a0b0c0d, false, 0x01020304);
    EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 8),
              (Bytes{0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d}));
    EXPECT_EQ(EspTransform::ReadSpi(frame.data()), 0x01020304u);
    EXPECT_EQ(EspTransform::ReadSeqLow(frame.data()), 0x0a0b0c0du);

    // With ESN only the low half travels; the frame does not grow.
    const Bytes esnFrame = Seal(10, 0xdeadbeef0a0b0c0dull, true, 0x01020304);
    EXPECT_EQ(esnFrame.size(), frame.size());
    EXPECT_EQ(EspTransform::ReadSeqLow(esnFrame.data()), 0x0a0b0c0du);
}

TEST_P(EspTransformSuiteTest, IvIsUniquePerPacket)
{
    std::set<Bytes> ivs;
    const uint32_t ivLength = m_esp->GetIvLength();
    for (uint64_t seq = 1; seq <= 1000; ++seq)
    {
        const uint64_t full = (seq % 2 == 0) ? (seq << 32) | seq : seq; // mix seqHi in
        const Bytes frame = Seal(32, full, true);
        const Bytes iv(frame.begin() + 8, frame.begin() + 8 + ivLength);
        if (IsGcm())
        {
            Bytes expected;
            PutBe32(expected, static_cast<uint32_t>(full >> 32));
            PutBe32(expected, static_cast<uint32_t>(full));
            EXPECT_EQ(iv, expected) << "GCM IV must be the 64-bit sequence number";
        }
        ivs.insert(iv);
    }
    EXPECT_EQ(ivs.size(), 1000u);
    if (!IsGcm())
    {
        // CBC IVs are random: the same sequence number must still get a fresh IV.
        const Bytes a = Seal(32, 5, false);
        const Bytes b = Seal(32, 5, false);
        EXPECT_NE(Bytes(a.begin() + 8, a.begin() + 24), Bytes(b.begin() + 8, b.begin() + 24));
    }
}

/// Independent RFC 4106 computation with raw EVP: nonce = salt || IV, AAD = SPI || [seqHi ||] seq.
Bytes
ExpectedGcmFrame(const EspAlgorithm& alg,
                 uint32_t spi,
                 uint64_t seq,
                 bool esn,
                 const Bytes& plaintext)
{
    Bytes header;
    PutBe32(header, spi);
    PutBe32(header, static_cast<uint32_t>(seq));
    Bytes iv;
    PutBe32(iv, static_cast<uint32_t>(seq >> 32));
    PutBe32(iv, static_cast<uint32_t>(seq));
    Bytes nonce = alg.salt;
    nonce.insert(nonce.end(), iv.begin(), iv.end());
    Bytes aad;
    PutBe32(aad, spi);
    if (esn)
    {
        PutBe32(aad, static_cast<uint32_t>(seq >> 32));
    }
    PutBe32(aad, static_cast<uint32_t>(seq));

    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = alg.encKey.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    Bytes ciphertext(plaintext.size());
    uint8_t tag[16];
    int n = 0;
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, cipher, nullptr, nullptr, nullptr), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr), 1);
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, nullptr, nullptr, alg.encKey.data(), nonce.data()), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), aad.size()), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, ciphertext.data(), &n, plaintext.data(), plaintext.size()), 1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx, ciphertext.data() + n, &n), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(ctx);

    Bytes frame = header;
    frame.insert(frame.end(), iv.begin(), iv.end());
    frame.insert(frame.end(), ciphertext.begin(), ciphertext.end());
    frame.insert(frame.end(), tag, tag + 16);
    return frame;
}

TEST_P(EspTransformSuiteTest, KnownAnswerAgainstRawEvp)
{
    const Bytes payload = Pattern(45, 0x42);
    for (const bool esn : {false, true})
    {
        const uint64_t seq = esn ? 0x0102030405060708ull : 0x05060708ull;
        SCOPED_TRACE(esn ? "ESN" : "no ESN");
        Bytes frame;
        m_esp->Encapsulate(0xa1b2c3d4, seq, esn, payload.data(), payload.size(), 4, frame);
        const Bytes plaintext = PlaintextWithTrailer(payload, m_esp->GetBlockAlign(), 4);
        if (IsGcm())
        {
            EXPECT_EQ(frame, ExpectedGcmFrame(m_case.algorithm, 0xa1b2c3d4, seq, esn, plaintext));
            continue;
        }
        // CBC: the IV is random, so take it from the frame and recompute everything else.
        ASSERT_EQ(frame.size(), 8 + 16 + plaintext.size() + 16);
        const uint8_t* iv = frame.data() + 8;
        Bytes ciphertext(plaintext.size());
        int n = 0;
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        ASSERT_EQ(
            EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), nullptr, m_case.algorithm.encKey.data(), iv),
            1);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        ASSERT_EQ(EVP_EncryptUpdate(ctx, ciphertext.data(), &n, plaintext.data(), plaintext.size()),
                  1);
        ASSERT_EQ(n, static_cast<int>(plaintext.size()));
        EVP_CIPHER_CTX_free(ctx);
        EXPECT_EQ(Bytes(frame.begin() + 24, frame.end() - 16), ciphertext);

        Bytes macInput(frame.begin(), frame.end() - 16); // SPI || seq || IV || ciphertext
        if (esn)
        {
            PutBe32(macInput, static_cast<uint32_t>(seq >> 32));
        }
        uint8_t mac[32];
        size_t macLength = 0;
        ASSERT_NE(EVP_Q_mac(nullptr,
                            "HMAC",
                            nullptr,
                            "SHA256",
                            nullptr,
                            m_case.algorithm.authKey.data(),
                            m_case.algorithm.authKey.size(),
                            macInput.data(),
                            macInput.size(),
                            mac,
                            sizeof(mac),
                            &macLength),
                  nullptr);
        EXPECT_EQ(Bytes(frame.end() - 16, frame.end()), Bytes(mac, mac + 16));
    }
}

TEST_P(EspTransformSuiteTest, EncapsulateEqualsBuildFramePlusSeal)
{
    // Software TX must produce what the offload split (BuildFrame on the stack, Seal on the
    // NIC) produces, whatever shortcut Encapsulate takes.
    for (const uint32_t length : {0u, 1u, 14u, 15u, 16u, 17u, 100u, 1400u, 4000u})
    {
        for (const bool esn : {false, true})
        {
            SCOPED_TRACE(std::to_string(length) + (esn ? " ESN" : ""));
            const uint64_t seq = 0x0000000900000003ull + length;
            const Bytes payload = Pattern(length, 0x21);
            Bytes fused;
            m_esp->Encapsulate(0x5150, seq, esn, payload.data(), length, 41, fused);
            Bytes split;
            m_esp
                ->BuildFrame(0x5150, static_cast<uint32_t>(seq), payload.data(), length, 41, split);
            const Bytes plainFrame = split;
            m_esp->Seal(split.data(), split.size(), static_cast<uint32_t>(seq >> 32), esn);
            ASSERT_EQ(fused.size(), split.size());
            if (IsGcm())
            {
                EXPECT_EQ(fused, split);
                continue;
            }
            // CBC IVs are random: compare what both decrypt to instead.
            ASSERT_EQ(m_esp->Open(fused.data(), fused.size(), seq >> 32, esn), EspStatus::Ok);
            ASSERT_EQ(m_esp->Open(split.data(), split.size(), seq >> 32, esn), EspStatus::Ok);
            EXPECT_EQ(Bytes(fused.begin() + 24, fused.end() - 16),
                      Bytes(plainFrame.begin() + 24, plainFrame.end() - 16));
            EXPECT_EQ(Bytes(split.begin() + 24, split.end() - 16),
                      Bytes(plainFrame.begin() + 24, plainFrame.end() - 16));
        }
    }
}

TEST_P(EspTransformSuiteTest, EsnHighBitsEnterTheIcv)
{
    const Bytes payload = Pattern(40, 3);
    Bytes plain;
    m_esp->BuildFrame(0x1000, 77, payload.data(), payload.size(), 17, plain);
    Bytes hi1 = plain;
    Bytes hi2 = plain;
    m_esp->Seal(hi1.data(), hi1.size(), 1, true);
    m_esp->Seal(hi2.data(), hi2.size(), 2, true);
    EXPECT_NE(Bytes(IcvOf(hi1), IcvOf(hi1) + 16), Bytes(IcvOf(hi2), IcvOf(hi2) + 16));

    // Wrong seqHi fails and leaves the frame intact, so the right one still opens it.
    const Bytes sealed = hi1;
    EXPECT_EQ(m_esp->Open(hi1.data(), hi1.size(), 2, true), EspStatus::AuthFailed);
    EXPECT_EQ(hi1, sealed);
    EXPECT_EQ(m_esp->Open(hi1.data(), hi1.size(), 0, true), EspStatus::AuthFailed);
    EXPECT_EQ(m_esp->Open(hi1.data(), hi1.size(), 1, false), EspStatus::AuthFailed);
    EXPECT_EQ(hi1, sealed);
    EXPECT_EQ(m_esp->Open(hi1.data(), hi1.size(), 1, true), EspStatus::Ok);
    EXPECT_EQ(Bytes(hi1.begin() + 8 + m_esp->GetIvLength(),
                    hi1.begin() + 8 + m_esp->GetIvLength() + payload.size()),
              payload);

    // Without ESN seqHi is not authenticated at all.
    Bytes noEsn = plain;
    m_esp->Seal(noEsn.data(), noEsn.size(), 0, false);
    EXPECT_EQ(m_esp->Open(noEsn.data(), noEsn.size(), 12345, false), EspStatus::Ok);
}

TEST_P(EspTransformSuiteTest, AnyFlippedBitFailsAuthentication)
{
    for (const bool esn : {false, true})
    {
        const Bytes sealed = Seal(50, 0x300000004ull, esn);
        // Every byte: SPI, sequence number, IV, ciphertext, trailer and ICV.
        for (size_t i = 0; i < sealed.size(); ++i)
        {
            Bytes tampered = sealed;
            tampered[i] ^= static_cast<uint8_t>(1u << (i % 8));
            const Bytes before = tampered;
            ASSERT_EQ(m_esp->Open(tampered.data(), tampered.size(), 3, esn), EspStatus::AuthFailed)
                << "byte " << i << (esn ? " with ESN" : "");
            ASSERT_EQ(tampered, before) << "a failed Open changed byte(s), flip at " << i;
        }
        Bytes intact = sealed;
        EXPECT_EQ(m_esp->Open(intact.data(), intact.size(), 3, esn), EspStatus::Ok);
    }
}

TEST_P(EspTransformSuiteTest, OtherSaKeysFailAuthentication)
{
    const Bytes sealed = Seal(20, 1, false);
    EspAlgorithm otherEnc = m_case.algorithm;
    otherEnc.encKey[0] ^= 1;
    Bytes frame = sealed;
    const EspStatus status = MakeTransform(otherEnc)->Open(frame.data(), frame.size(), 0, false);
    if (IsGcm())
    {
        EXPECT_EQ(status, EspStatus::AuthFailed);
        EspAlgorithm otherSalt = m_case.algorithm;
        otherSalt.salt[3] ^= 0x80;
        frame = sealed;
        EXPECT_EQ(MakeTransform(otherSalt)->Open(frame.data(), frame.size(), 0, false),
                  EspStatus::AuthFailed);
        return;
    }
    // Encrypt-then-MAC: the ICV covers the ciphertext, not the cipher key, so a wrong cipher key
    // authenticates but decrypts to garbage.
    EXPECT_EQ(status, EspStatus::Ok);
    EXPECT_NE(Bytes(frame.begin() + 24, frame.begin() + 44), Pattern(20, 0x77));
    EspAlgorithm otherAuth = m_case.algorithm;
    otherAuth.authKey[31] ^= 0x80;
    frame = sealed;
    EXPECT_EQ(MakeTransform(otherAuth)->Open(frame.data(), frame.size(), 0, false),
              EspStatus::AuthFailed);
    EXPECT_EQ(frame, sealed);
}

TEST_P(EspTransformSuiteTest, ShortFramesAreTruncatedMisalignedAsLinuxJudges)
{
    const Bytes smallest = Seal(0, 1, false);
    const uint32_t fixed = 8 + m_esp->GetIvLength() + 16;
    EXPECT_EQ(smallest.size(), fixed + m_esp->GetBlockAlign());
    // Every prefix too short for the trailer, each in a buffer of exactly that size so that a
    // read past the end is an ASan error. (A GCM receiver, like Linux's, does not insist on
    // 4-byte alignment: longer prefixes are not truncated, they fail the ICV.)
    const uint32_t receivable = m_esp->GetBlockAlign() == 4 ? fixed + 2 : smallest.size();
    for (uint32_t length = receivable; length < smallest.size(); ++length)
    {
        Bytes prefix(smallest.begin(), smallest.begin() + length);
        EXPECT_EQ(m_esp->Open(prefix.data(), length, 0, false), EspStatus::AuthFailed) << length;
    }
    for (uint32_t length = 0; length < receivable; ++length)
    {
        std::unique_ptr<uint8_t[]> buffer(new uint8_t[length]);
        if (length > 0)
        {
            std::memcpy(buffer.get(), smallest.data(), length);
        }
        uint32_t offset = 99;
        uint32_t payloadLength = 99;
        uint8_t nextHeader = 99;
        EXPECT_EQ(m_esp->Open(buffer.get(), length, 0, false), EspStatus::Truncated) << length;
        EXPECT_EQ(m_esp->ParseTrailer(buffer.get(), length, &offset, &payloadLength, &nextHeader),
                  EspStatus::Truncated)
            << length;
        EXPECT_EQ(
            m_esp->Decapsulate(buffer.get(), length, 0, true, &offset, &payloadLength, &nextHeader),
            EspStatus::Truncated)
            << length;
        EXPECT_EQ(offset, 99u) << "outputs written for a truncated frame";
        if (length > 0)
        {
            EXPECT_EQ(0, std::memcmp(buffer.get(), smallest.data(), length));
        }
    }
    EXPECT_EQ(m_esp->Open(nullptr, 0, 0, false), EspStatus::Truncated);

    // Longer but not a whole number of alignment units.
    for (uint32_t extra = 1; extra < m_esp->GetBlockAlign(); ++extra)
    {
        Bytes longer = Seal(40, 1, false);
        longer.resize(longer.size() + extra, 0);
        // CBC needs whole blocks; GCM takes any length and fails the ICV.
        EXPECT_EQ(m_esp->Open(longer.data(), longer.size(), 0, false),
                  m_esp->GetBlockAlign() == 4 ? EspStatus::AuthFailed : EspStatus::Truncated)
            << "extra " << extra;
    }

    Bytes copy = smallest;
    EXPECT_EQ(m_esp->Open(copy.data(), copy.size(), 0, false), EspStatus::Ok);
}

TEST_P(EspTransformSuiteTest, RandomFramesNeverCrashNorAuthenticate)
{
    std::mt19937 rng(GetParam() + 1);
    for (int round = 0; round < 3000; ++round)
    {
        const uint32_t length = rng() % 160;
        std::unique_ptr<uint8_t[]> frame(new uint8_t[length]);
        for (uint32_t i = 0; i < length; ++i)
        {
            frame[i] = static_cast<uint8_t>(rng());
        }
        ASSERT_NE(m_esp->Open(frame.get(), length, rng(), rng() & 1), EspStatus::Ok);
        uint32_t offset = 0;
        uint32_t payloadLength = 0;
        uint8_t nextHeader = 0;
        if (m_esp->ParseTrailer(frame.get(), length, &offset, &payloadLength, &nextHeader) ==
            EspStatus::Ok)
        {
            ASSERT_LE(offset + payloadLength + 2 + 16, length);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Suites, EspTransformSuiteTest, testing::Values(0, 1, 2), SuiteName);

// ---------------------------------------------------------------------------------------------
// Trailers under a valid ICV (corrupted before Seal), judged as Linux's esp_remove_trailer does:
// only a pad length that leaves no payload is refused; the pad bytes are never read.

struct PaddingCorruption
{
    const char* name;
    size_t suite;
    uint32_t payloadLength;
    // Changes the plaintext frame; gets the offset of the pad-length byte.
    void (*corrupt)(Bytes& frame, uint32_t padLengthAt);
    EspStatus expected;
    uint32_t expectedPayloadLength; // when Ok
};

void
BumpFirstPadByte(Bytes& f, uint32_t at)
{
    f[at - f[at]] ^= 0x40;
}

void
BumpLastPadByte(Bytes& f, uint32_t at)
{
    f[at - 1] += 1;
}

void
PadLengthPlusOne(Bytes& f, uint32_t at)
{
    f[at] += 1; // with no payload: one byte more than there is room for
}

void
PadLengthPlusThree(Bytes& f, uint32_t at)
{
    f[at] += 3; // with a 3-byte payload: the pad covers it exactly, the payload is empty
}

void
PadLength255(Bytes& f, uint32_t at)
{
    f[at] = 255;
}

void
PadLengthOneShorter(Bytes& f, uint32_t at)
{
    f[at] -= 1; // the pad now reads 2, 3, ... counted back from the pad length
}

void
LeaveIntact(Bytes&, uint32_t)
{
}

void
ZeroPadding(Bytes& f, uint32_t at)
{
    for (uint32_t i = at - f[at]; i < at; ++i)
    {
        f[i] = 0;
    }
}

void
PrintTo(const PaddingCorruption& c, std::ostream* os)
{
    *os << c.name;
}

class EspTransformBadPaddingTest : public testing::TestWithParam<PaddingCorruption>
{
};

TEST_P(EspTransformBadPaddingTest, ParseTrailerJudgesThePadding)
{
    const PaddingCorruption& c = GetParam();
    auto esp = MakeTransform(AllSuites()[c.suite].algorithm);
    ASSERT_NE(esp, nullptr);
    const Bytes payload = Pattern(c.payloadLength, 9);
    Bytes frame;
    esp->BuildFrame(7, 8, payload.data(), payload.size(), 17, frame);
    const uint32_t padLengthAt = frame.size() - 18;
    ASSERT_GE(frame[padLengthAt], 3) << "case needs a few pad bytes";
    c.corrupt(frame, padLengthAt);
    esp->Seal(frame.data(), frame.size(), 0, false);

    Bytes copy = frame;
    ASSERT_EQ(esp->Open(copy.data(), copy.size(), 0, false), EspStatus::Ok);
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t nextHeader = 0;
    EXPECT_EQ(esp->ParseTrailer(copy.data(), copy.size(), &offset, &length, &nextHeader),
              c.expected);
    EXPECT_EQ(esp->Decapsulate(frame.data(), frame.size(), 0, false, &offset, &length, &nextHeader),
              c.expected);
    if (c.expected == EspStatus::Ok)
    {
        EXPECT_EQ(length, c.expectedPayloadLength);
        EXPECT_EQ(nextHeader, 17);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Corruptions,
    EspTransformBadPaddingTest,
    testing::Values(
        PaddingCorruption{"GcmIntact", 0, 3, LeaveIntact, EspStatus::Ok, 3},
        PaddingCorruption{"CbcIntact", 2, 10, LeaveIntact, EspStatus::Ok, 10},
        PaddingCorruption{"GcmFirstPadByte", 0, 3, BumpFirstPadByte, EspStatus::Ok, 3},
        PaddingCorruption{"GcmLastPadByte", 0, 3, BumpLastPadByte, EspStatus::Ok, 3},
        PaddingCorruption{"GcmZeroPadding", 0, 7, ZeroPadding, EspStatus::Ok, 7},
        PaddingCorruption{"GcmPadLength255", 0, 3, PadLength255, EspStatus::BadPadding, 0},
        PaddingCorruption{"GcmEmptyPayload", 0, 3, PadLengthPlusThree, EspStatus::BadPadding, 0},
        PaddingCorruption{"GcmOneShorter", 0, 3, PadLengthOneShorter, EspStatus::Ok, 4},
        PaddingCorruption{"CbcFirstPadByte", 2, 5, BumpFirstPadByte, EspStatus::Ok, 5},
        PaddingCorruption{"CbcLastPadByte", 2, 10, BumpLastPadByte, EspStatus::Ok, 10},
        PaddingCorruption{"CbcZeroPadding", 2, 5, ZeroPadding, EspStatus::Ok, 5},
        PaddingCorruption{"CbcEmptyPayload", 2, 0, LeaveIntact, EspStatus::BadPadding, 0},
        PaddingCorruption{"CbcPadLengthPastPayload",
                          2,
                          0,
                          PadLengthPlusOne,
                          EspStatus::BadPadding,
                          0},
        PaddingCorruption{"CbcPadLength255", 2, 0, PadLength255, EspStatus::BadPadding, 0},
        PaddingCorruption{"CbcOneShorter", 2, 5, PadLengthOneShorter, EspStatus::Ok, 6}),
    [](const testing::TestParamInfo<PaddingCorruption>& info) { return info.param.name; });

// Linux's esp_remove_trailer: padlen + 2 + alen >= elen is an error, so padding that fills
// the payload leaves nothing, which is refused.
TEST(EspTransformPadding, PadLengthExactlyFillingThePayloadIsRefused)
{
    auto esp = MakeTransform(AllSuites()[2].algorithm);
    Bytes frame;
    esp->BuildFrame(7, 8, nullptr, 0, 59, frame); // 14 pad bytes, no payload
    esp->Seal(frame.data(), frame.size(), 0, false);
    uint32_t offset = 0;
    uint32_t length = 99;
    uint8_t nextHeader = 0;
    EXPECT_EQ(esp->Decapsulate(frame.data(), frame.size(), 0, false, &offset, &length, &nextHeader),
              EspStatus::BadPadding);
    EXPECT_EQ(length, 99u) << "no payload reported for a refused frame";
}

TEST(EspTransformPadding, PadLengthOnePastThePayloadIsBad)
{
    auto esp = MakeTransform(AllSuites()[0].algorithm);
    Bytes frame;
    esp->BuildFrame(7, 8, nullptr, 0, 59, frame); // GCM: 2 pad bytes, no payload
    frame[frame.size() - 18] = 3;
    esp->Seal(frame.data(), frame.size(), 0, false);
    EXPECT_EQ(esp->Decapsulate(frame.data(), frame.size(), 0, false, nullptr, nullptr, nullptr),
              EspStatus::BadPadding);
}

// ---------------------------------------------------------------------------------------------
// Algorithm validation: every error names the field and the value.

struct ValidationCase
{
    const char* name;
    EspAlgorithm algorithm;
    std::vector<std::string> mustMention;
};

EspAlgorithm
WithSuite(EspAlgorithm a, uint8_t suite)
{
    a.suite = static_cast<EspAlgorithm::Suite>(suite);
    return a;
}

EspAlgorithm
WithIcvBits(EspAlgorithm a, uint32_t bits)
{
    a.icvBits = bits;
    return a;
}

EspAlgorithm
WithSalt(EspAlgorithm a, Bytes salt)
{
    a.salt = std::move(salt);
    return a;
}

EspAlgorithm
WithAuthKey(EspAlgorithm a, Bytes key)
{
    a.authKey = std::move(key);
    return a;
}

void
PrintTo(const ValidationCase& c, std::ostream* os)
{
    *os << c.name;
}

class EspTransformValidateTest : public testing::TestWithParam<ValidationCase>
{
};

TEST_P(EspTransformValidateTest, RejectsAndNamesTheField)
{
    const ValidationCase& c = GetParam();
    std::string error;
    EXPECT_FALSE(c.algorithm.Validate(&error));
    for (const std::string& word : c.mustMention)
    {
        EXPECT_NE(error.find(word), std::string::npos)
            << "'" << error << "' lacks '" << word << "'";
    }
    std::string createError;
    EXPECT_EQ(EspTransform::Create(c.algorithm, &createError), nullptr);
    EXPECT_EQ(createError, error);
    EXPECT_FALSE(c.algorithm.Validate(nullptr)); // a null error pointer is allowed
}

INSTANTIATE_TEST_SUITE_P(
    BadAlgorithms,
    EspTransformValidateTest,
    testing::Values(
        ValidationCase{"GcmKey20", EspAlgorithm::Gcm(Pattern(24, 1)), {"encKey", "20", "16 or 32"}},
        ValidationCase{"GcmBlobTooShort", EspAlgorithm::Gcm(Pattern(3, 1)), {"encKey", "3"}},
        ValidationCase{"GcmSalt3",
                       WithSalt(EspAlgorithm::Gcm(Pattern(20, 1)), Pattern(3, 1)),
                       {"salt", "3", "4"}},
        ValidationCase{"GcmWithAuthKey",
                       WithAuthKey(EspAlgorithm::Gcm(Pattern(20, 1)), Pattern(32, 1)),
                       {"authKey", "32"}},
        ValidationCase{"GcmIcv96", EspAlgorithm::Gcm(Pattern(20, 1), 96), {"icvBits", "96", "128"}},
        ValidationCase{"CbcKey24",
                       EspAlgorithm::CbcSha256(Pattern(24, 1), Pattern(32, 1)),
                       {"encKey", "24"}},
        ValidationCase{"CbcAuthKey16",
                       EspAlgorithm::CbcSha256(Pattern(16, 1), Pattern(16, 1)),
                       {"authKey", "16", "32"}},
        ValidationCase{
            "CbcWithSalt",
            WithSalt(EspAlgorithm::CbcSha256(Pattern(16, 1), Pattern(32, 1)), Pattern(4, 1)),
            {"salt", "4"}},
        ValidationCase{"CbcIcv192",
                       WithIcvBits(EspAlgorithm::CbcSha256(Pattern(32, 1), Pattern(32, 1)), 192),
                       {"icvBits", "192"}},
        ValidationCase{"UnknownSuite",
                       WithSuite(EspAlgorithm::Gcm(Pattern(20, 1)), 7),
                       {"suite", "7"}}),
    [](const testing::TestParamInfo<ValidationCase>& info) { return info.param.name; });

TEST(EspTransformAlgorithmTest, NamesAndKeySplit)
{
    const EspAlgorithm gcm = EspAlgorithm::Gcm(Pattern(36, 1));
    EXPECT_EQ(gcm.EncName(), "rfc4106(gcm(aes))");
    EXPECT_EQ(gcm.AuthName(), "");
    const Bytes blob = Pattern(36, 1);
    EXPECT_EQ(gcm.encKey, Bytes(blob.begin(), blob.begin() + 32));
    EXPECT_EQ(gcm.salt, Bytes(blob.begin() + 32, blob.end()));
    EXPECT_TRUE(gcm.Validate(nullptr));
    const EspAlgorithm cbc = EspAlgorithm::CbcSha256(Pattern(32, 2), Pattern(32, 3));
    EXPECT_EQ(cbc.EncName(), "cbc(aes)");
    EXPECT_EQ(cbc.AuthName(), "hmac(sha256)");
    std::string error = "untouched";
    EXPECT_TRUE(cbc.Validate(&error));
    EXPECT_EQ(error, "untouched");
}

TEST(EspTransformTest, CbcAes256RoundTrip)
{
    auto esp = MakeTransform(EspAlgorithm::CbcSha256(Pattern(32, 2), Pattern(32, 3)));
    const Bytes payload = Pattern(333, 4);
    Bytes frame;
    esp->Encapsulate(1, 0x100000002ull, true, payload.data(), payload.size(), 41, frame);
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t nextHeader = 0;
    ASSERT_EQ(esp->Decapsulate(frame.data(), frame.size(), 1, true, &offset, &length, &nextHeader),
              EspStatus::Ok);
    EXPECT_EQ(Bytes(frame.begin() + offset, frame.begin() + offset + length), payload);
    EXPECT_EQ(nextHeader, 41);
}

TEST(EspTransformTest, StatusNames)
{
    EXPECT_STREQ(EspStatusName(EspStatus::Ok), "Ok");
    EXPECT_STREQ(EspStatusName(EspStatus::Truncated), "Truncated");
    EXPECT_STREQ(EspStatusName(EspStatus::AuthFailed), "AuthFailed");
    EXPECT_STREQ(EspStatusName(EspStatus::BadPadding), "BadPadding");
}

// ---------------------------------------------------------------------------------------------
// The data path allocates nothing once the output vector has its capacity.

class EspTransformAllocationTest : public testing::TestWithParam<size_t>
{
};

TEST_P(EspTransformAllocationTest, PerPacketHeapAllocations)
{
    if (!g_cryptoHooked)
    {
        GTEST_SKIP() << "OpenSSL allocated before CRYPTO_set_mem_functions could hook it";
    }
    auto esp = MakeTransform(AllSuites()[GetParam()].algorithm);
    const Bytes payload = Pattern(1400, 1);
    Bytes frame;
    frame.reserve(2048);
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t nextHeader = 0;
    auto onePacket = [&](uint64_t seq) {
        esp->Encapsulate(9, seq, true, payload.data(), payload.size(), 17, frame);
        return esp->Decapsulate(frame.data(),
                                frame.size(),
                                static_cast<uint32_t>(seq >> 32),
                                true,
                                &offset,
                                &length,
                                &nextHeader);
    };
    ASSERT_EQ(onePacket(1), EspStatus::Ok); // warm-up: lazy OpenSSL/DRBG initialisation
    const uint8_t* buffer = frame.data();

    constexpr int kPackets = 100;
    g_allocations = 0;
    g_counting = true;
    int failures = 0;
    for (int i = 0; i < kPackets; ++i)
    {
        failures += onePacket(2 + i) != EspStatus::Ok;
    }
    g_counting = false;
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(frame.data(), buffer) << "the output vector was reallocated";
    const long perPacket = g_allocations / kPackets;
    if (AllSuites()[GetParam()].algorithm.suite == EspAlgorithm::Suite::AesGcm)
    {
        EXPECT_EQ(g_allocations, 0) << "GCM Encapsulate + Decapsulate must not allocate";
    }
    else
    {
        // OpenSSL 3.0's HMAC re-init and final each duplicate the SHA-256 state
        // (EVP_MD_CTX_copy_ex -> dupctx): 2 per MAC, 1 MAC on TX and 1 on RX. Ciphers: none.
        EXPECT_LE(perPacket, 4) << g_allocations << " allocations for " << kPackets << " packets";
    }
    RecordProperty("allocations_per_packet", std::to_string(perPacket));
}

INSTANTIATE_TEST_SUITE_P(Suites, EspTransformAllocationTest, testing::Values(0, 1, 2), SuiteName);

} // namespace
