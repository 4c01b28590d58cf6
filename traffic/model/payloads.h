// Payloads of known bytes, recognisable on the wire, in the lengths ESP padding cares about.
#ifndef PAYLOADS_H
#define PAYLOADS_H

#include <cstdint>
#include <vector>

namespace ns3
{

/// Payload of datagram `index` with `size` bytes; a 16-byte marker leads when there is room, so
/// that the plaintext is recognisable on the wire.
std::vector<uint8_t> DatagramPayload(uint32_t index, uint32_t size);

/// The marker ("OFFLOADLAB-PLAIN") DatagramPayload starts with.
const std::vector<uint8_t>& PlaintextMarker();

/// `count` datagrams of 0..1300 bytes whose lengths take every value modulo 4 (every padding).
std::vector<std::vector<uint8_t>> Datagrams(uint32_t count, uint32_t salt);

/// `count` datagrams of 40..439 bytes, numbered from firstIndex.
std::vector<std::vector<uint8_t>> Payloads(uint32_t count, uint32_t firstIndex);

} // namespace ns3

#endif // PAYLOADS_H
