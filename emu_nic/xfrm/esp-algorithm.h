#ifndef ESP_ALGORITHM_H
#define ESP_ALGORITHM_H

#include <cstdint>
#include <string>
#include <vector>

namespace ns3
{

/**
 * An ESP transform's algorithm and keys, named as Linux names them.
 *
 * Two suites exist: the AEAD `rfc4106(gcm(aes))` (RFC 4106: 16- or 32-byte AES key followed by a
 * 4-byte salt, 8-byte IV, 16-byte ICV), which the reference NIC offloads, and
 * `cbc(aes)` + `hmac(sha256)` (RFC 3602 + RFC 4868: 16-byte IV, ICV = HMAC truncated to 16 bytes),
 * which it does not, so that the software fallback path carries real traffic.
 */
struct EspAlgorithm
{
    enum class Suite : uint8_t
    {
        AesGcm,       //!< rfc4106(gcm(aes))
        AesCbcSha256, //!< cbc(aes) + hmac(sha256), ICV 128 bits
    };

    Suite suite{Suite::AesGcm};
    std::vector<uint8_t> encKey;  //!< AES key: 16 or 32 bytes
    std::vector<uint8_t> salt;    //!< GCM only: 4 bytes
    std::vector<uint8_t> authKey; //!< HMAC only: 32 bytes
    uint32_t icvBits{128};        //!< only 128 is implemented

    /// Linux name of the encryption part: "rfc4106(gcm(aes))" or "cbc(aes)".
    std::string EncName() const;
    /// Linux name of the authentication part: "" (AEAD) or "hmac(sha256)".
    std::string AuthName() const;

    /// Checks key lengths and ICV size; on failure returns false and says which field and value.
    bool Validate(std::string* error) const;

    /// rfc4106(gcm(aes)) from Linux's key blob (key || 4-byte salt) as `ip xfrm` takes it.
    static EspAlgorithm Gcm(const std::vector<uint8_t>& keyAndSalt, uint32_t icvBits = 128);
    /// cbc(aes) + hmac(sha256) with the given keys.
    static EspAlgorithm CbcSha256(const std::vector<uint8_t>& encKey,
                                  const std::vector<uint8_t>& authKey);
};

} // namespace ns3

#endif // ESP_ALGORITHM_H
