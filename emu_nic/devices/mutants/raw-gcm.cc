#include "raw-gcm.h"

#include <cstring>
#include <openssl/evp.h>

namespace ns3
{

namespace
{
constexpr uint32_t kHeader = 8; // SPI + sequence number
constexpr uint32_t kIv = 8;
constexpr uint32_t kIcv = 16;

const EVP_CIPHER*
CipherFor(size_t keyLength)
{
    return keyLength == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

EVP_CIPHER_CTX*
Ctx(void* p)
{
    return static_cast<EVP_CIPHER_CTX*>(p);
}
} // namespace

RawGcm::RawGcm(const std::vector<uint8_t>& keyAndSalt)
{
    if (keyAndSalt.size() != 20 && keyAndSalt.size() != 36)
    {
        return;
    }
    m_key.assign(keyAndSalt.begin(), keyAndSalt.end() - 4);
    std::memcpy(m_salt, keyAndSalt.data() + m_key.size(), 4);
    m_ctx = EVP_CIPHER_CTX_new();
}

RawGcm::~RawGcm()
{
    EVP_CIPHER_CTX_free(Ctx(m_ctx));
}

bool
RawGcm::IsValid() const
{
    return m_ctx != nullptr;
}

void
RawGcm::Ctr(const uint8_t iv[8], uint8_t* data, uint32_t length)
{
    // GCM's keystream is CTR from counter 2 of J0 = salt || iv || 1; a GCM encryption without
    // AAD gives exactly that keystream, and applying it twice restores the data.
    uint8_t nonce[12];
    std::memcpy(nonce, m_salt, 4);
    std::memcpy(nonce + 4, iv, kIv);
    int out = 0;
    EVP_EncryptInit_ex(Ctx(m_ctx), CipherFor(m_key.size()), nullptr, m_key.data(), nonce);
    EVP_EncryptUpdate(Ctx(m_ctx), data, &out, data, static_cast<int>(length));
}

void
RawGcm::DecryptIgnoringIcv(uint8_t* frame, uint32_t frameLength)
{
    if (IsValid() && frameLength >= kHeader + kIv + kIcv)
    {
        Ctr(frame + kHeader, frame + kHeader + kIv, frameLength - kHeader - kIv - kIcv);
    }
}

void
RawGcm::Seal(uint8_t* frame, uint32_t frameLength, const uint8_t iv[8], uint32_t seqHi, bool esn)
{
    if (!IsValid() || frameLength < kHeader + kIv + kIcv)
    {
        return;
    }
    uint8_t* data = frame + kHeader + kIv;
    const uint32_t dataLength = frameLength - kHeader - kIv - kIcv;
    std::memcpy(frame + kHeader, iv, kIv);
    uint8_t aad[12];
    std::memcpy(aad, frame, 4);
    uint32_t aadLength = 8;
    if (esn)
    {
        aad[4] = uint8_t(seqHi >> 24);
        aad[5] = uint8_t(seqHi >> 16);
        aad[6] = uint8_t(seqHi >> 8);
        aad[7] = uint8_t(seqHi);
        std::memcpy(aad + 8, frame + 4, 4);
        aadLength = 12;
    }
    else
    {
        std::memcpy(aad + 4, frame + 4, 4);
    }
    uint8_t nonce[12];
    std::memcpy(nonce, m_salt, 4);
    std::memcpy(nonce + 4, iv, kIv);
    int out = 0;
    EVP_CIPHER_CTX* ctx = Ctx(m_ctx);
    EVP_EncryptInit_ex(ctx, CipherFor(m_key.size()), nullptr, m_key.data(), nonce);
    EVP_EncryptUpdate(ctx, nullptr, &out, aad, static_cast<int>(aadLength));
    EVP_EncryptUpdate(ctx, data, &out, data, static_cast<int>(dataLength));
    EVP_EncryptFinal_ex(ctx, data + out, &out);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kIcv, data + dataLength);
}

} // namespace ns3
