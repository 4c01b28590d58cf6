#ifndef RAW_GCM_H
#define RAW_GCM_H

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * rfc4106(gcm(aes)) of one SA on OpenSSL EVP, outside offloadlab's ESP codec: what a mutant needs
 * to do wrong on purpose (re-seal a frame with another IV, decrypt without checking the ICV).
 * frame is an ESP frame: SPI, sequence number, 8-byte IV, data, 16-byte ICV.
 */
class RawGcm
{
  public:
    /// keyAndSalt: 16 or 32 key bytes, then the 4-byte salt (the ABI's enc_key).
    explicit RawGcm(const std::vector<uint8_t>& keyAndSalt);
    RawGcm(const RawGcm&) = delete;
    RawGcm& operator=(const RawGcm&) = delete;
    ~RawGcm();

    bool IsValid() const;
    /// Decrypts the data in place with the frame's own IV; the ICV is not looked at.
    void DecryptIgnoringIcv(uint8_t* frame, uint32_t frameLength);
    /// Encrypts the (plaintext) data in place under iv, writes iv and a fresh ICV. seqHi enters
    /// the AAD when esn is set (RFC 4106 section 5).
    void Seal(uint8_t* frame, uint32_t frameLength, const uint8_t iv[8], uint32_t seqHi, bool esn);

  private:
    void Ctr(const uint8_t iv[8], uint8_t* data, uint32_t length);

    std::vector<uint8_t> m_key;
    uint8_t m_salt[4]{};
    void* m_ctx{nullptr}; //!< EVP_CIPHER_CTX
};

} // namespace ns3

#endif // RAW_GCM_H
