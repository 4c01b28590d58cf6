#include "esp-transform.h"

#include "byte-order.h"

#include <cstring>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace ns3
{

namespace
{

constexpr uint32_t kIcvLength = 16;
constexpr uint32_t kTrailerLength = 2; // pad length + next header
constexpr uint32_t kSaltLength = 4;
constexpr uint32_t kGcmIvLength = 8;
constexpr uint32_t kCbcIvLength = 16;
// EVP takes int lengths; anything near that is not a packet.
constexpr uint32_t kMaxFrameLength = 1u << 30;

} // namespace

const char*
EspStatusName(EspStatus status)
{
    switch (status)
    {
    case EspStatus::Ok:
        return "Ok";
    case EspStatus::Truncated:
        return "Truncated";
    case EspStatus::AuthFailed:
        return "AuthFailed";
    case EspStatus::BadPadding:
        return "BadPadding";
    }
    return "Unknown";
}

/// Per-SA crypto state: keys are expanded once into these contexts, packets only set the IV.
struct EspTransform::Impl
{
    ~Impl();

    bool Init(const EspAlgorithm& alg, std::string* error);

    /// Length checks of Seal (RFC 4303 2.4: a sender aligns payload + trailer); touches no frame
    /// byte.
    bool IsWellFormed(uint32_t frameLength) const;
    /// Length checks of Open and ParseTrailer, as Linux's esp_input makes them: room for header,
    /// IV, trailer and ICV, and whole cipher blocks for CBC. A GCM receiver does not insist on
    /// the sender's 4-byte alignment.
    bool IsReceivable(uint32_t frameLength) const;

    /// Writes IV and ICV and encrypts payload + trailer in place; on failure wipes them.
    void Seal(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn);
    bool SealGcm(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn);
    bool SealCbc(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn);
    /// The payload + trailer part of both: in place, no OpenSSL padding.
    bool EncryptData(uint8_t* data, uint32_t dataLength);
    EspStatus OpenGcm(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn);
    EspStatus OpenCbc(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn);
    /// HMAC-SHA256 over frame[0, authLength) [|| seqHi], truncated to the ICV length.
    bool ComputeIcv(const uint8_t* frame,
                    uint32_t authLength,
                    uint32_t seqHi,
                    bool esn,
                    uint8_t* icv);
    /// RFC 4106 section 5 AAD: SPI || seqLow, or SPI || seqHi || seqLow with ESN.
    uint32_t BuildAad(const uint8_t* frame, uint32_t seqHi, bool esn, uint8_t* aad) const;

    EspAlgorithm algorithm;
    bool gcm{true};
    uint32_t ivLength{kGcmIvLength};
    uint32_t blockAlign{4};
    uint8_t salt[kSaltLength]{};
    EVP_CIPHER* cipher{nullptr};
    EVP_CIPHER_CTX* encCtx{nullptr};
    EVP_CIPHER_CTX* decCtx{nullptr};
    EVP_MAC* mac{nullptr};
    EVP_MAC_CTX* macCtx{nullptr};
};

EspTransform::Impl::~Impl()
{
    EVP_CIPHER_CTX_free(encCtx);
    EVP_CIPHER_CTX_free(decCtx);
    EVP_CIPHER_free(cipher);
    EVP_MAC_CTX_free(macCtx);
    EVP_MAC_free(mac);
    OPENSSL_cleanse(salt, sizeof(salt));
    if (!algorithm.encKey.empty())
    {
        OPENSSL_cleanse(algorithm.encKey.data(), algorithm.encKey.size());
    }
    if (!algorithm.authKey.empty())
    {
        OPENSSL_cleanse(algorithm.authKey.data(), algorithm.authKey.size());
    }
}

bool
EspTransform::Impl::Init(const EspAlgorithm& alg, std::string* error)
{
    auto fail = [error](const std::string& what) {
        if (error != nullptr)
        {
            *error = "OpenSSL: " + what + " failed";
        }
        return false;
    };

    algorithm = alg;
    gcm = alg.suite == EspAlgorithm::Suite::AesGcm;
    ivLength = gcm ? kGcmIvLength : kCbcIvLength;
    blockAlign = gcm ? 4 : 16;
    const bool aes256 = alg.encKey.size() == 32;
    const char* cipherName =
        gcm ? (aes256 ? "AES-256-GCM" : "AES-128-GCM") : (aes256 ? "AES-256-CBC" : "AES-128-CBC");

    cipher = EVP_CIPHER_fetch(nullptr, cipherName, nullptr);
    encCtx = EVP_CIPHER_CTX_new();
    decCtx = EVP_CIPHER_CTX_new();
    if (cipher == nullptr || encCtx == nullptr || decCtx == nullptr)
    {
        return fail(std::string("EVP_CIPHER_fetch(") + cipherName + ")");
    }
    // Key schedule once; per packet only the IV is set (EVP_*Init_ex with a null cipher/key).
    if (EVP_EncryptInit_ex(encCtx, cipher, nullptr, alg.encKey.data(), nullptr) != 1 ||
        EVP_DecryptInit_ex(decCtx, cipher, nullptr, alg.encKey.data(), nullptr) != 1)
    {
        return fail(std::string("key setup for ") + cipherName);
    }
    if (gcm)
    {
        std::memcpy(salt, alg.salt.data(), kSaltLength);
        return true;
    }
    // ESP pads to the block itself (RFC 4303 2.4); OpenSSL must not add PKCS#7 padding.
    EVP_CIPHER_CTX_set_padding(encCtx, 0);
    EVP_CIPHER_CTX_set_padding(decCtx, 0);

    mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    macCtx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    if (macCtx == nullptr)
    {
        return fail("EVP_MAC_fetch(HMAC)");
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(macCtx, alg.authKey.data(), alg.authKey.size(), params) != 1)
    {
        return fail("EVP_MAC_init(HMAC-SHA256)");
    }
    return true;
}

bool
EspTransform::Impl::IsWellFormed(uint32_t frameLength) const
{
    const uint32_t fixed = kHeaderLength + ivLength + kIcvLength;
    if (frameLength < fixed + kTrailerLength || frameLength > kMaxFrameLength)
    {
        return false;
    }
    return ((frameLength - fixed) & (blockAlign - 1)) == 0; // blockAlign is a power of two
}

bool
EspTransform::Impl::IsReceivable(uint32_t frameLength) const
{
    const uint32_t fixed = kHeaderLength + ivLength + kIcvLength;
    if (frameLength < fixed + kTrailerLength || frameLength > kMaxFrameLength)
    {
        return false;
    }
    return gcm || ((frameLength - fixed) & (blockAlign - 1)) == 0;
}

uint32_t
EspTransform::Impl::BuildAad(const uint8_t* frame, uint32_t seqHi, bool esn, uint8_t* aad) const
{
    std::memcpy(aad, frame, 4); // SPI as on the wire
    if (!esn)
    {
        std::memcpy(aad + 4, frame + 4, 4);
        return 8;
    }
    WriteBe32(aad + 4, seqHi);
    std::memcpy(aad + 8, frame + 4, 4);
    return 12;
}

bool
EspTransform::Impl::EncryptData(uint8_t* data, uint32_t dataLength)
{
    int head = 0;
    int last = 0;
    return EVP_EncryptUpdate(encCtx, data, &head, data, static_cast<int>(dataLength)) == 1 &&
           EVP_EncryptFinal_ex(encCtx, data + head, &last) == 1 &&
           static_cast<uint32_t>(head + last) == dataLength;
}

void
EspTransform::Impl::Seal(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn)
{
    const bool ok =
        gcm ? SealGcm(frame, dataLength, seqHi, esn) : SealCbc(frame, dataLength, seqHi, esn);
    if (!ok)
    {
        // A failed cipher must not leak the plaintext; the zeroed ICV will not verify.
        OPENSSL_cleanse(frame + kHeaderLength + ivLength, dataLength + kIcvLength);
    }
}

bool
EspTransform::Impl::SealGcm(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn)
{
    uint8_t* iv = frame + kHeaderLength;
    uint8_t* data = iv + kGcmIvLength;
    uint8_t* icv = data + dataLength;
    // RFC 4106 3.1: the 64-bit sequence number is a valid, never repeating IV.
    WriteBe32(iv, seqHi);
    std::memcpy(iv + 4, frame + 4, 4);

    uint8_t nonce[kSaltLength + kGcmIvLength];
    std::memcpy(nonce, salt, kSaltLength);
    std::memcpy(nonce + kSaltLength, iv, kGcmIvLength);
    uint8_t aad[12];
    const uint32_t aadLength = BuildAad(frame, seqHi, esn, aad);

    int outLength = 0;
    return EVP_EncryptInit_ex(encCtx, nullptr, nullptr, nullptr, nonce) == 1 &&
           EVP_EncryptUpdate(encCtx, nullptr, &outLength, aad, static_cast<int>(aadLength)) == 1 &&
           EncryptData(data, dataLength) &&
           EVP_CIPHER_CTX_ctrl(encCtx, EVP_CTRL_GCM_GET_TAG, kIcvLength, icv) == 1;
}

EspStatus
EspTransform::Impl::OpenGcm(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn)
{
    uint8_t* data = frame + kHeaderLength + kGcmIvLength;
    uint8_t* icv = data + dataLength;
    uint8_t nonce[kSaltLength + kGcmIvLength];
    std::memcpy(nonce, salt, kSaltLength);
    std::memcpy(nonce + kSaltLength, frame + kHeaderLength, kGcmIvLength);
    uint8_t aad[12];
    const uint32_t aadLength = BuildAad(frame, seqHi, esn, aad);

    int outLength = 0;
    if (EVP_DecryptInit_ex(decCtx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_DecryptUpdate(decCtx, nullptr, &outLength, aad, static_cast<int>(aadLength)) != 1)
    {
        return EspStatus::AuthFailed; // nothing decrypted yet
    }
    if (EVP_DecryptUpdate(decCtx, data, &outLength, data, static_cast<int>(dataLength)) == 1 &&
        EVP_CIPHER_CTX_ctrl(decCtx, EVP_CTRL_GCM_SET_TAG, kIcvLength, icv) == 1 &&
        EVP_DecryptFinal_ex(decCtx, data + outLength, &outLength) == 1)
    {
        return EspStatus::Ok;
    }
    // GCM can only check the tag after decrypting in place. Applying the same CTR keystream
    // again restores the ciphertext, so a caller may retry (e.g. with seqHi + 1, RFC 4303 A2.2)
    // and a dropped packet never leaves unauthenticated plaintext behind.
    if (EVP_DecryptInit_ex(decCtx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_DecryptUpdate(decCtx, data, &outLength, data, static_cast<int>(dataLength)) != 1)
    {
        OPENSSL_cleanse(data, dataLength);
    }
    return EspStatus::AuthFailed;
}

bool
EspTransform::Impl::ComputeIcv(const uint8_t* frame,
                               uint32_t authLength,
                               uint32_t seqHi,
                               bool esn,
                               uint8_t* icv)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    size_t digestLength = 0;
    // Re-init with a null key restarts from the keyed state set up once in Init.
    if (EVP_MAC_init(macCtx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(macCtx, frame, authLength) != 1)
    {
        return false;
    }
    if (esn)
    {
        // RFC 4303 2.2.1: the implicit high bits are authenticated, never sent.
        uint8_t hi[4];
        WriteBe32(hi, seqHi);
        if (EVP_MAC_update(macCtx, hi, sizeof(hi)) != 1)
        {
            return false;
        }
    }
    if (EVP_MAC_final(macCtx, digest, &digestLength, sizeof(digest)) != 1 ||
        digestLength < kIcvLength)
    {
        return false;
    }
    std::memcpy(icv, digest, kIcvLength);
    OPENSSL_cleanse(digest, sizeof(digest));
    return true;
}

bool
EspTransform::Impl::SealCbc(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn)
{
    uint8_t* iv = frame + kHeaderLength;
    uint8_t* data = iv + kCbcIvLength;
    uint8_t* icv = data + dataLength;
    // CBC needs an unpredictable IV (RFC 3602 2.3), hence random rather than a counter.
    return RAND_bytes(iv, kCbcIvLength) == 1 &&
           EVP_EncryptInit_ex(encCtx, nullptr, nullptr, nullptr, iv) == 1 &&
           EncryptData(data, dataLength) &&
           ComputeIcv(frame, kHeaderLength + kCbcIvLength + dataLength, seqHi, esn, icv);
}

EspStatus
EspTransform::Impl::OpenCbc(uint8_t* frame, uint32_t dataLength, uint32_t seqHi, bool esn)
{
    const uint8_t* iv = frame + kHeaderLength;
    uint8_t* data = frame + kHeaderLength + kCbcIvLength;
    const uint8_t* icv = data + dataLength;
    uint8_t expected[kIcvLength];
    // Encrypt-then-MAC: verify before decrypting, so a forged frame is left untouched.
    if (!ComputeIcv(frame, kHeaderLength + kCbcIvLength + dataLength, seqHi, esn, expected) ||
        CRYPTO_memcmp(expected, icv, kIcvLength) != 0)
    {
        return EspStatus::AuthFailed;
    }
    int outLength = 0;
    if (EVP_DecryptInit_ex(decCtx, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_DecryptUpdate(decCtx, data, &outLength, data, static_cast<int>(dataLength)) != 1 ||
        EVP_DecryptFinal_ex(decCtx, data + outLength, &outLength) != 1)
    {
        OPENSSL_cleanse(data, dataLength);
        return EspStatus::AuthFailed;
    }
    return EspStatus::Ok;
}

EspTransform::EspTransform()
    : m_impl(new Impl)
{
}

EspTransform::~EspTransform() = default;

std::unique_ptr<EspTransform>
EspTransform::Create(const EspAlgorithm& algorithm, std::string* error)
{
    if (!algorithm.Validate(error))
    {
        return nullptr;
    }
    std::unique_ptr<EspTransform> transform(new EspTransform());
    if (!transform->m_impl->Init(algorithm, error))
    {
        return nullptr;
    }
    return transform;
}

const EspAlgorithm&
EspTransform::GetAlgorithm() const
{
    return m_impl->algorithm;
}

uint32_t
EspTransform::GetIvLength() const
{
    return m_impl->ivLength;
}

uint32_t
EspTransform::GetIcvLength() const
{
    return kIcvLength;
}

uint32_t
EspTransform::GetBlockAlign() const
{
    return m_impl->blockAlign;
}

uint32_t
EspTransform::GetPaddingLength(uint32_t payloadLength) const
{
    // Both alignments are powers of two: a mask, not a division, on the per-packet path.
    return (0u - (payloadLength + kTrailerLength)) & (m_impl->blockAlign - 1);
}

uint32_t
EspTransform::GetFrameLength(uint32_t payloadLength) const
{
    return kHeaderLength + m_impl->ivLength + payloadLength + GetPaddingLength(payloadLength) +
           kTrailerLength + kIcvLength;
}

uint32_t
EspTransform::GetMtu(uint32_t linkMtu, bool tunnel, uint32_t ipHeaderLength) const
{
    // xfrm_state_mtu: props.header_len is ESP header + IV (+ the outer IP header
    // in tunnel mode); transport mode keeps the packet's own IP header outside the alignment.
    const uint32_t headerLength = kHeaderLength + m_impl->ivLength + (tunnel ? ipHeaderLength : 0);
    const uint32_t netAdjust = tunnel ? 0 : ipHeaderLength;
    if (linkMtu < headerLength + kIcvLength + netAdjust + m_impl->blockAlign + 2)
    {
        return 0;
    }
    return ((linkMtu - headerLength - kIcvLength - netAdjust) & ~(m_impl->blockAlign - 1)) +
           netAdjust - kTrailerLength;
}

uint32_t
EspTransform::GetMaxOverhead() const
{
    // BuildFrame never pads more than one alignment unit minus one byte.
    return kHeaderLength + m_impl->ivLength + (m_impl->blockAlign - 1) + kTrailerLength +
           kIcvLength;
}

void
EspTransform::BuildFrame(uint32_t spi,
                         uint32_t seqLow,
                         const uint8_t* payload,
                         uint32_t payloadLength,
                         uint8_t nextHeader,
                         std::vector<uint8_t>& out) const
{
    const uint32_t ivLength = m_impl->ivLength;
    const uint32_t padLength = GetPaddingLength(payloadLength);
    // No allocation once out has the capacity.
    out.resize(kHeaderLength + ivLength + payloadLength + padLength + kTrailerLength + kIcvLength);
    uint8_t* p = out.data();
    WriteBe32(p, spi);
    WriteBe32(p + 4, seqLow);
    p += kHeaderLength;
    std::memset(p, 0, ivLength);
    p += ivLength;
    if (payloadLength > 0)
    {
        // Copying and then encrypting in place measured faster than encrypting from the
        // caller's buffer in two EVP calls (payload, then trailer).
        std::memcpy(p, payload, payloadLength);
        p += payloadLength;
    }
    for (uint32_t i = 1; i <= padLength; ++i)
    {
        *p++ = static_cast<uint8_t>(i); // RFC 4303 2.4 default padding 1, 2, 3, ...
    }
    *p++ = static_cast<uint8_t>(padLength);
    *p++ = nextHeader;
    std::memset(p, 0, kIcvLength);
}

void
EspTransform::Seal(uint8_t* frame, uint32_t frameLength, uint32_t seqHi, bool esn)
{
    Impl& impl = *m_impl;
    if (!impl.IsWellFormed(frameLength))
    {
        // Not a BuildFrame output: send nothing readable rather than plaintext.
        if (frame != nullptr && frameLength > 0)
        {
            OPENSSL_cleanse(frame, frameLength);
        }
        return;
    }
    impl.Seal(frame, frameLength - kHeaderLength - impl.ivLength - kIcvLength, seqHi, esn);
}

EspStatus
EspTransform::Open(uint8_t* frame, uint32_t frameLength, uint32_t seqHi, bool esn)
{
    Impl& impl = *m_impl;
    if (frame == nullptr || !impl.IsReceivable(frameLength))
    {
        return EspStatus::Truncated;
    }
    const uint32_t dataLength = frameLength - kHeaderLength - impl.ivLength - kIcvLength;
    return impl.gcm ? impl.OpenGcm(frame, dataLength, seqHi, esn)
                    : impl.OpenCbc(frame, dataLength, seqHi, esn);
}

EspStatus
EspTransform::ParseTrailer(const uint8_t* frame,
                           uint32_t frameLength,
                           uint32_t* payloadOffset,
                           uint32_t* payloadLength,
                           uint8_t* nextHeader) const
{
    const Impl& impl = *m_impl;
    if (frame == nullptr || !impl.IsReceivable(frameLength))
    {
        return EspStatus::Truncated;
    }
    const uint32_t offset = kHeaderLength + impl.ivLength;
    const uint32_t trailer = frameLength - kIcvLength - kTrailerLength;
    const uint32_t available = trailer - offset; // payload + padding
    const uint32_t padLength = frame[trailer];
    // Linux esp_remove_trailer: only padlen + 2 + alen >= elen is refused, so the payload must
    // keep at least one byte; the pad bytes themselves are never read (RFC 4303 2.4 asks the
    // sender for 1, 2, 3, ...; checking them is the receiver's option, and Linux does not).
    if (padLength >= available)
    {
        return EspStatus::BadPadding;
    }
    const uint32_t length = available - padLength;
    if (payloadOffset != nullptr)
    {
        *payloadOffset = offset;
    }
    if (payloadLength != nullptr)
    {
        *payloadLength = length;
    }
    if (nextHeader != nullptr)
    {
        *nextHeader = frame[trailer + 1];
    }
    return EspStatus::Ok;
}

void
EspTransform::Encapsulate(uint32_t spi,
                          uint64_t seq,
                          bool esn,
                          const uint8_t* payload,
                          uint32_t payloadLength,
                          uint8_t nextHeader,
                          std::vector<uint8_t>& out)
{
    BuildFrame(spi, static_cast<uint32_t>(seq), payload, payloadLength, nextHeader, out);
    Seal(out.data(), static_cast<uint32_t>(out.size()), static_cast<uint32_t>(seq >> 32), esn);
}

EspStatus
EspTransform::Decapsulate(uint8_t* frame,
                          uint32_t frameLength,
                          uint32_t seqHi,
                          bool esn,
                          uint32_t* payloadOffset,
                          uint32_t* payloadLength,
                          uint8_t* nextHeader)
{
    const EspStatus status = Open(frame, frameLength, seqHi, esn);
    if (status != EspStatus::Ok)
    {
        return status;
    }
    return ParseTrailer(frame, frameLength, payloadOffset, payloadLength, nextHeader);
}

uint32_t
EspTransform::ReadSpi(const uint8_t* frame)
{
    return ReadBe32(frame);
}

uint32_t
EspTransform::ReadSeqLow(const uint8_t* frame)
{
    return ReadBe32(frame + 4);
}

} // namespace ns3
