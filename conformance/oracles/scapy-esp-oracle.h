#ifndef SCAPY_ESP_ORACLE_H
#define SCAPY_ESP_ORACLE_H

#include "esp-algorithm.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace offloadlab
{

using ns3::EspAlgorithm;

/**
 * Scapy's ESP (scapy.layers.ipsec, Debian's python3-scapy 2.5.0) embedded through pybind11, as an
 * ESP implementation nobody in this project wrote: it decrypts what EspTransform sealed and
 * encrypts what EspTransform must open.
 *
 * Runs in the process's one Python interpreter (EmbeddedPython, shared with the Scapy packet
 * crafter), started on first use and importing Scapy once; every Python exception becomes
 * `false` and a message. Slow (about 1k packets/s): an oracle for tests, never a data path.
 * Scapy has no anti-replay check and cannot itself send seqLow 0; Encrypt works around the
 * latter.
 *
 * Scapy 2.5.0 leaves the ESN high bits out of ESP's HMAC (it only does so for AH), contrary to
 * RFC 4303 2.2.1. For cbc(aes) + hmac(sha256) with ESN the oracle therefore computes and checks
 * that ICV itself with Python's hmac/hashlib and lets Scapy do the rest (framing, AES-CBC).
 */
class ScapyEspOracle
{
  public:
    /// Whether Python and scapy.layers.ipsec can be imported; if not, *why says what failed.
    static bool IsAvailable(std::string* why);

    /**
     * Builds the Scapy SecurityAssociation. tunnelSrc/tunnelDst (IPv4 dotted or IPv6 text: the
     * outer family) are the outer header in tunnel mode and ignored in transport mode. Check
     * IsValid() afterwards.
     */
    ScapyEspOracle(const EspAlgorithm& algorithm,
                   uint32_t spi,
                   bool tunnelMode,
                   const std::string& tunnelSrc,
                   const std::string& tunnelDst,
                   bool esn);
    ~ScapyEspOracle();
    ScapyEspOracle(const ScapyEspOracle&) = delete;
    ScapyEspOracle& operator=(const ScapyEspOracle&) = delete;

    /// False (and the reason) when Python, Scapy or the SA construction failed.
    bool IsValid(std::string* error) const;

    /**
     * Decrypts an IPv4 or IPv6 packet carrying ESP (seqHi: the ESN high bits, ignored without
     * ESN); for IPv6, ESP may follow extension headers. innerOut receives, in transport mode,
     * the whole packet as Scapy rebuilds it (next header restored, lengths and IPv4 checksum
     * new); in tunnel mode, the inner packet (IPv4 or IPv6).
     */
    bool Decrypt(const std::vector<uint8_t>& ipv4PacketWithEsp,
                 uint32_t seqHi,
                 std::vector<uint8_t>* innerOut,
                 std::string* error);

    /**
     * Encrypts an IPv4 or IPv6 packet with sequence number seq (low 32 bits on the wire, high 32
     * bits as ESN). For GCM the IV is the 8-byte big-endian seq, as EspTransform makes it; for CBC
     * it is random. out receives the whole packet with ESP.
     */
    bool Encrypt(const std::vector<uint8_t>& ipv4Packet,
                 uint64_t seq,
                 std::vector<uint8_t>* out,
                 std::string* error);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace offloadlab

#endif // SCAPY_ESP_ORACLE_H
