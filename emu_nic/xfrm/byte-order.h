// Network byte order in and out of a byte buffer: the one pair every layer above uses.
#ifndef BYTE_ORDER_H
#define BYTE_ORDER_H

#include <cstdint>

namespace ns3
{

inline uint32_t
ReadBe32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

inline void
WriteBe32(uint8_t* p, uint32_t v)
{
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

} // namespace ns3

#endif // BYTE_ORDER_H
