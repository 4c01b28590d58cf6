// An address of either family, as Linux's xfrm_address_t always travels with its family: what
// selectors, states and policies hold so that one SAD and one SPD serve IPv4 and IPv6.
#ifndef XFRM_ADDRESS_H
#define XFRM_ADDRESS_H

#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>

namespace ns3
{

class XfrmAddress
{
  public:
    /// The address families, numbered as Linux's AF_INET and AF_INET6 (XFRM's `family`).
    enum class Family : uint8_t
    {
        Ipv4 = 2,
        Ipv6 = 10,
    };

    /// 0.0.0.0: IPv4's any.
    XfrmAddress();
    // Implicit on purpose: an IPv4 or IPv6 address is an XfrmAddress of its family.
    XfrmAddress(Ipv4Address address);
    XfrmAddress(Ipv6Address address);
    /// The any address (all zero) of a family.
    static XfrmAddress Any(Family family);
    /// Dotted IPv4 or IPv6 text ("10.0.0.1", "2001:db8::1"); false for anything else.
    static bool Parse(const std::string& text, XfrmAddress* out);

    // Inline: every selector match and SAD/SPD hash of every packet asks them.
    Family GetFamily() const
    {
        return m_family;
    }

    bool IsIpv4() const
    {
        return m_family == Family::Ipv4;
    }

    bool IsIpv6() const
    {
        return m_family == Family::Ipv6;
    }

    /// The address as its family's ns-3 type; the other family's call is a fatal error.
    Ipv4Address GetIpv4() const;
    Ipv6Address GetIpv6() const;

    /// The 4 or 16 bytes in network order.
    const uint8_t* GetBytes() const
    {
        return m_bytes.data();
    }

    uint32_t GetLength() const
    {
        return IsIpv4() ? 4 : 16;
    }

    /// 32 or 128: the longest prefix of the family.
    uint8_t GetMaxPrefixLength() const;
    bool IsAny() const;

    /// The first prefixLength bits kept, the rest zero (prefixLength clamped to the family's).
    XfrmAddress Masked(uint8_t prefixLength) const;
    /// True when this address lies in net/prefixLength; never across families.
    bool IsInPrefix(const XfrmAddress& net, uint8_t prefixLength) const;

    std::string ToString() const;

    size_t Hash() const
    {
        // The 16 bytes as two words (an IPv4 address's last 12 are always zero), then the
        // family: two multiplies where a byte-wise hash made one per byte.
        uint64_t w[2];
        std::memcpy(w, m_bytes.data(), sizeof(w));
        uint64_t h = (w[0] ^ uint64_t(m_family) << 56) * 0x9e3779b97f4a7c15ull;
        h = (h ^ (h >> 29) ^ w[1]) * 0xbf58476d1ce4e5b9ull;
        return size_t(h ^ (h >> 32));
    }

    // Free functions, so that an Ipv4Address or Ipv6Address converts on either side.
    friend bool operator==(const XfrmAddress& a, const XfrmAddress& b)
    {
        return a.m_family == b.m_family && a.m_bytes == b.m_bytes;
    }

    friend bool operator!=(const XfrmAddress& a, const XfrmAddress& b)
    {
        return !(a == b);
    }

    /// A total order: IPv4 before IPv6, then by bytes.
    friend bool operator<(const XfrmAddress& a, const XfrmAddress& b);

  private:
    Family m_family{Family::Ipv4};
    std::array<uint8_t, 16> m_bytes{};
};

std::ostream& operator<<(std::ostream& os, const XfrmAddress& address);
const char* FamilyName(XfrmAddress::Family family); //!< "IPv4" or "IPv6"

struct XfrmAddressHash
{
    size_t operator()(const XfrmAddress& address) const
    {
        return address.Hash();
    }
};

} // namespace ns3

#endif // XFRM_ADDRESS_H
