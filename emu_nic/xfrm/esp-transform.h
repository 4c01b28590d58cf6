#ifndef ESP_TRANSFORM_H
#define ESP_TRANSFORM_H

#include "esp-algorithm.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ns3
{

/// Outcome of ESP processing of one packet; never an exception on the data path.
enum class EspStatus : uint8_t
{
    Ok,
    Truncated,  //!< shorter than header + IV + trailer + ICV, or (CBC) not whole blocks
    AuthFailed, //!< ICV mismatch
    BadPadding, //!< pad length leaves no payload (Linux esp_remove_trailer); pad bytes unread
};

const char* EspStatusName(EspStatus status);

/**
 * RFC 4303 ESP framing and crypto for one SA, with OpenSSL EVP doing every cipher and MAC.
 *
 * Processing is split the way Linux splits it between stack and NIC in crypto offload, so the
 * software stack, the crypto-offload NIC and the packet-offload NIC all share this one codec:
 *  - BuildFrame (the stack's part): SPI, sequence number, zeroed IV, plaintext payload, padding
 *    1, 2, 3, ..., pad length, next header, zeroed ICV;
 *  - Seal (the crypto engine's part): writes the IV, encrypts payload and trailer in place,
 *    writes the ICV;
 *  - Open (the crypto engine's part on RX): verifies the ICV and decrypts in place;
 *  - ParseTrailer (the stack's part on RX): checks the pad length as Linux does (the payload
 *    keeps at least one byte; pad bytes are not read), yields payload and next header.
 *
 * A frame is the ESP part of a packet: from the SPI to the end of the ICV.
 * Cipher contexts are created once per SA and reused (no per-packet key setup or allocation).
 * Not thread-safe: one instance per SA per direction.
 */
class EspTransform
{
  public:
    static constexpr uint32_t kHeaderLength = 8; //!< SPI + sequence number

    /// Creates the transform; nullptr with a message naming the field on bad keys.
    static std::unique_ptr<EspTransform> Create(const EspAlgorithm& algorithm, std::string* error);
    ~EspTransform();
    EspTransform(const EspTransform&) = delete;
    EspTransform& operator=(const EspTransform&) = delete;

    const EspAlgorithm& GetAlgorithm() const;
    uint32_t GetIvLength() const;  //!< 8 (GCM) or 16 (CBC)
    uint32_t GetIcvLength() const; //!< 16
    /// Alignment of payload + trailer: 4 (GCM, RFC 4303 2.4) or 16 (CBC block).
    uint32_t GetBlockAlign() const;
    /// Padding bytes for a payload of this length (0..255).
    uint32_t GetPaddingLength(uint32_t payloadLength) const;
    /// Frame length (SPI .. ICV) for a payload of this length.
    uint32_t GetFrameLength(uint32_t payloadLength) const;
    /// Largest packet an SA of this transform can protect on a link of linkMtu bytes without
    /// exceeding it: Linux's xfrm_state_mtu for ESP, with net_adj the IPv4 header (ipHeaderLength
    /// 20) or the IPv6 one (40) in transport mode.
    uint32_t GetMtu(uint32_t linkMtu, bool tunnel, uint32_t ipHeaderLength = 20) const;
    /// Largest frame growth over the payload: header + IV + max padding + 2 + ICV.
    uint32_t GetMaxOverhead() const;

    /// Writes a plaintext frame into out (resized to GetFrameLength(payloadLength)).
    void BuildFrame(uint32_t spi,
                    uint32_t seqLow,
                    const uint8_t* payload,
                    uint32_t payloadLength,
                    uint8_t nextHeader,
                    std::vector<uint8_t>& out) const;

    /**
     * Encrypts a frame made by BuildFrame in place. seqHi enters the ICV only when esn is true
     * (RFC 4106 section 5 AAD for GCM, RFC 4303 2.2.1 implicit high bits for HMAC).
     * The GCM IV is the 64-bit sequence number (RFC 4106 3.1: a counter is allowed, and it is
     * unique per SA because sequence numbers never repeat); the CBC IV is random (RAND_bytes).
     */
    void Seal(uint8_t* frame, uint32_t frameLength, uint32_t seqHi, bool esn);

    /// Verifies the ICV and decrypts payload and trailer in place.
    EspStatus Open(uint8_t* frame, uint32_t frameLength, uint32_t seqHi, bool esn);

    /// After Open: checks the pad length (Linux esp_remove_trailer); yields where the payload is
    /// and its next header.
    EspStatus ParseTrailer(const uint8_t* frame,
                           uint32_t frameLength,
                           uint32_t* payloadOffset,
                           uint32_t* payloadLength,
                           uint8_t* nextHeader) const;

    /// BuildFrame + Seal: what software IPsec does on TX.
    void Encapsulate(uint32_t spi,
                     uint64_t seq,
                     bool esn,
                     const uint8_t* payload,
                     uint32_t payloadLength,
                     uint8_t nextHeader,
                     std::vector<uint8_t>& out);

    /// Open + ParseTrailer: what software IPsec does on RX (frame is decrypted in place).
    EspStatus Decapsulate(uint8_t* frame,
                          uint32_t frameLength,
                          uint32_t seqHi,
                          bool esn,
                          uint32_t* payloadOffset,
                          uint32_t* payloadLength,
                          uint8_t* nextHeader);

    static uint32_t ReadSpi(const uint8_t* frame);
    static uint32_t ReadSeqLow(const uint8_t* frame);

  private:
    EspTransform();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace ns3

#endif // ESP_TRANSFORM_H
