#include "xfrm-address.h"

#include "ns3/fatal-error.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <sstream>

namespace ns3
{

XfrmAddress::XfrmAddress() = default;

XfrmAddress::XfrmAddress(Ipv4Address address)
    : m_family(Family::Ipv4)
{
    address.Serialize(m_bytes.data());
}

XfrmAddress::XfrmAddress(Ipv6Address address)
    : m_family(Family::Ipv6)
{
    address.GetBytes(m_bytes.data());
}

XfrmAddress
XfrmAddress::Any(Family family)
{
    return family == Family::Ipv4 ? XfrmAddress(Ipv4Address::GetAny())
                                  : XfrmAddress(Ipv6Address::GetAny());
}

bool
XfrmAddress::Parse(const std::string& text, XfrmAddress* out)
{
    // inet_pton is strict where ns-3's parsers accept anything quietly.
    uint8_t bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1)
    {
        *out = XfrmAddress(Ipv4Address::Deserialize(bytes));
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1)
    {
        *out = XfrmAddress(Ipv6Address(bytes));
        return true;
    }
    return false;
}

Ipv4Address
XfrmAddress::GetIpv4() const
{
    NS_ABORT_MSG_UNLESS(IsIpv4(), "XfrmAddress " << *this << " is not IPv4");
    return Ipv4Address::Deserialize(m_bytes.data());
}

Ipv6Address
XfrmAddress::GetIpv6() const
{
    NS_ABORT_MSG_UNLESS(IsIpv6(), "XfrmAddress " << *this << " is not IPv6");
    return Ipv6Address(const_cast<uint8_t*>(m_bytes.data()));
}

uint8_t
XfrmAddress::GetMaxPrefixLength() const
{
    return uint8_t(GetLength() * 8);
}

bool
XfrmAddress::IsAny() const
{
    return std::all_of(m_bytes.begin(), m_bytes.begin() + GetLength(), [](uint8_t b) {
        return b == 0;
    });
}

XfrmAddress
XfrmAddress::Masked(uint8_t prefixLength) const
{
    XfrmAddress out = *this;
    const uint32_t bits = std::min<uint32_t>(prefixLength, GetMaxPrefixLength());
    for (uint32_t i = 0; i < GetLength(); ++i)
    {
        const uint32_t keep = bits > i * 8 ? std::min<uint32_t>(bits - i * 8, 8) : 0;
        out.m_bytes[i] &= uint8_t(0xff00 >> keep);
    }
    return out;
}

bool
XfrmAddress::IsInPrefix(const XfrmAddress& net, uint8_t prefixLength) const
{
    // On every selector match of every packet: compare in place, no masked copies.
    if (m_family != net.m_family)
    {
        return false;
    }
    const uint32_t bits = std::min<uint32_t>(prefixLength, GetMaxPrefixLength());
    const uint32_t whole = bits / 8;
    if (std::memcmp(m_bytes.data(), net.m_bytes.data(), whole) != 0)
    {
        return false;
    }
    const uint32_t rest = bits % 8;
    return rest == 0 || ((m_bytes[whole] ^ net.m_bytes[whole]) & uint8_t(0xff00 >> rest)) == 0;
}

std::string
XfrmAddress::ToString() const
{
    std::ostringstream os;
    os << *this;
    return os.str();
}

bool
operator<(const XfrmAddress& a, const XfrmAddress& b)
{
    return a.m_family != b.m_family ? a.m_family < b.m_family : a.m_bytes < b.m_bytes;
}

std::ostream&
operator<<(std::ostream& os, const XfrmAddress& address)
{
    if (address.IsIpv4())
    {
        return os << Ipv4Address::Deserialize(address.GetBytes());
    }
    return os << Ipv6Address(const_cast<uint8_t*>(address.GetBytes()));
}

const char*
FamilyName(XfrmAddress::Family family)
{
    return family == XfrmAddress::Family::Ipv4 ? "IPv4" : "IPv6";
}

} // namespace ns3
