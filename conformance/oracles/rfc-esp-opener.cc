#include "rfc-esp-opener.h"

#include "crafted-packets.h"

#include <algorithm>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace offloadlab
{

using ns3::ReadBe32;
using ns3::WriteBe32;

namespace
{
constexpr uint32_t kIcvLength = 16;
constexpr uint8_t kProtoEsp = 50;

bool
IsGcm(const EspAlgorithm& algorithm)
{
    return algorithm.suite == EspAlgorithm::Suite::AesGcm;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

/// RFC 4106: nonce = salt || IV, AAD = SPI || [seq high] || seq low, 16-byte tag.
bool
GcmOpen(const EspAlgorithm& a,
        const Bytes& aad,
        const uint8_t* iv,
        const uint8_t* in,
        uint32_t length,
        const uint8_t* tag,
        Bytes* out)
{
    const EVP_CIPHER* cipher = a.encKey.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    uint8_t nonce[12];
    std::copy(a.salt.begin(), a.salt.end(), nonce);
    std::copy(iv, iv + 8, nonce + 4);
    out->assign(length, 0);
    int n = 0;
    int last = 0;
    return EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
           EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, a.encKey.data(), nonce) == 1 &&
           EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), int(aad.size())) == 1 &&
           EVP_DecryptUpdate(ctx.get(), out->data(), &n, in, int(length)) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(),
                               EVP_CTRL_GCM_SET_TAG,
                               kIcvLength,
                               const_cast<uint8_t*>(tag)) == 1 &&
           EVP_DecryptFinal_ex(ctx.get(), out->data() + n, &last) == 1;
}

/// RFC 4303 2.2.1 / RFC 4868: HMAC-SHA-256-128 over SPI .. ciphertext (+ seq high with ESN),
/// then AES-CBC with the 16-byte IV.
bool
CbcOpen(const EspAlgorithm& a,
        const Bytes& frame,
        bool esn,
        uint32_t seqHi,
        Bytes* out,
        std::string* error)
{
    Bytes signed_(frame.begin(), frame.end() - kIcvLength);
    if (esn)
    {
        signed_.resize(signed_.size() + 4);
        WriteBe32(signed_.data() + signed_.size() - 4, seqHi);
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int macLength = 0;
    HMAC(EVP_sha256(),
         a.authKey.data(),
         int(a.authKey.size()),
         signed_.data(),
         signed_.size(),
         mac,
         &macLength);
    if (CRYPTO_memcmp(mac, frame.data() + frame.size() - kIcvLength, kIcvLength) != 0)
    {
        *error = "HMAC-SHA-256-128 ICV does not verify";
        return false;
    }
    const uint32_t start = 8 + 16;
    const uint32_t length = frame.size() - start - kIcvLength;
    if (length % 16 != 0)
    {
        *error = "CBC ciphertext of " + std::to_string(length) + " bytes is not block aligned";
        return false;
    }
    const EVP_CIPHER* cipher = a.encKey.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    out->assign(length + 16, 0);
    int n = 0;
    int last = 0;
    const bool ok =
        EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, a.encKey.data(), frame.data() + 8) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out->data(), &n, frame.data() + start, int(length)) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out->data() + n, &last) == 1;
    out->resize(length);
    if (!ok)
    {
        *error = "AES-CBC decryption failed";
    }
    return ok;
}

} // namespace

bool
OpenEsp(const EspAlgorithm& a,
        bool esn,
        uint32_t seqHi,
        const Bytes& ip,
        OpenedEsp* out,
        std::string* error)
{
    const uint32_t ihl = ip.empty() ? 0 : uint32_t(ip[0] & 0x0f) * 4;
    const uint8_t protocol = ip.size() > 9 ? ip[9] : 0;
    if (protocol != kProtoEsp || ip.size() < ihl)
    {
        *error = "IP protocol " + std::to_string(protocol) + ", not ESP";
        return false;
    }
    const Bytes frame(ip.begin() + ihl, ip.end());
    const uint32_t ivLength = IvLengthOf(a);
    if (frame.size() < 8 + ivLength + 4 + kIcvLength)
    {
        *error = "ESP frame of " + std::to_string(frame.size()) + " bytes is too short";
        return false;
    }
    out->spi = ReadBe32(frame.data());
    out->seq = ReadBe32(frame.data() + 4);
    out->iv.assign(frame.begin() + 8, frame.begin() + 8 + ivLength);
    Bytes plain;
    if (IsGcm(a))
    {
        Bytes aad(frame.begin(), frame.begin() + 8);
        if (esn)
        {
            aad.insert(aad.begin() + 4, 4, 0);
            WriteBe32(aad.data() + 4, seqHi);
        }
        const uint32_t start = 8 + ivLength;
        const uint32_t length = frame.size() - start - kIcvLength;
        if (!GcmOpen(a,
                     aad,
                     frame.data() + 8,
                     frame.data() + start,
                     length,
                     frame.data() + frame.size() - kIcvLength,
                     &plain))
        {
            *error = "AES-GCM ICV does not verify";
            return false;
        }
    }
    else if (!CbcOpen(a, frame, esn, seqHi, &plain, error))
    {
        return false;
    }
    out->nextHeader = plain[plain.size() - 1];
    out->padLength = plain[plain.size() - 2];
    if (out->padLength + 2u > plain.size())
    {
        *error = "pad length " + std::to_string(out->padLength) + " beyond the payload";
        return false;
    }
    const size_t payloadEnd = plain.size() - 2 - out->padLength;
    out->payload.assign(plain.begin(), plain.begin() + payloadEnd);
    out->padding.assign(plain.begin() + payloadEnd, plain.end() - 2);
    return true;
}

uint32_t
IvLengthOf(const EspAlgorithm& algorithm)
{
    return IsGcm(algorithm) ? 8 : 16;
}

} // namespace offloadlab
