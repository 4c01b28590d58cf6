// An ESP opener written from RFC 4106 / RFC 4303 on OpenSSL EVP alone, owing nothing to
// offloadlab's own codec (EspTransform, which the reference device uses): the conformance
// suite's second independent reader of the wire, for the field checks Scapy does not expose
// (IVs, padding bytes, next header).
#ifndef RFC_ESP_OPENER_H
#define RFC_ESP_OPENER_H

#include "esp-algorithm.h"

#include <cstdint>
#include <string>
#include <vector>

namespace offloadlab
{

using ns3::EspAlgorithm;
using Bytes = std::vector<uint8_t>;

/// What an ESP packet holds, opened.
struct OpenedEsp
{
    uint32_t spi{0};
    uint32_t seq{0};
    Bytes iv;
    Bytes payload; //!< what ESP protects: an L4 segment (transport) or an IPv4 packet (tunnel)
    Bytes padding;
    uint8_t padLength{0};
    uint8_t nextHeader{0};

    /// Payload, padding, pad length and next header: the plaintext the ICV covers.
    Bytes Plaintext() const
    {
        Bytes all = payload;
        all.insert(all.end(), padding.begin(), padding.end());
        all.push_back(padLength);
        all.push_back(nextHeader);
        return all;
    }
};

/// Opens the ESP packet `ip` (IPv4 with ESP) of an SA with these keys; false and why if the ICV
/// does not verify or the packet is not ESP that this SA could have made. seqHi enters the ICV
/// when esn is set.
bool OpenEsp(const EspAlgorithm& a,
             bool esn,
             uint32_t seqHi,
             const Bytes& ip,
             OpenedEsp* out,
             std::string* error);

/// 8 for AES-GCM, 16 for AES-CBC.
uint32_t IvLengthOf(const EspAlgorithm& algorithm);

} // namespace offloadlab

#endif // RFC_ESP_OPENER_H
