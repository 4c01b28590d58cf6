// The ABI's C addresses and selectors and offloadlab's XfrmAddress and XfrmSelector, both ways:
// for the NIC, which fills the ABI's structs, and for the built-in devices, which read them.
#ifndef DEVICE_ABI_CONVERT_H
#define DEVICE_ABI_CONVERT_H

#include "offloadlab-device.h"
#include "xfrm-selector.h"

#include <cstddef>
#include <cstring>

namespace ns3
{

/// True when an ABI struct holds member (one of its own fields) within the bytes its `size`
/// says it has: the append-only rule, a field is read only from a struct long enough for it.
/// AbiHas(sa, sa.family).
template <typename Struct, typename Member>
bool
AbiHas(const Struct& object, const Member& member)
{
    const auto end = reinterpret_cast<const uint8_t*>(&member) + sizeof(member);
    return object.size >= uint32_t(end - reinterpret_cast<const uint8_t*>(&object));
}

/// An IPv4 address as the ABI's host-order uint32; 0 for an IPv6 address (the v1..v4 fields
/// carry IPv4 only).
inline uint32_t
AbiIpv4Of(const XfrmAddress& address)
{
    return address.IsIpv4() ? address.GetIpv4().Get() : 0;
}

/// OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6.
inline uint8_t
AbiFamilyOf(const XfrmAddress& address)
{
    return address.IsIpv6() ? OLAB_FAMILY_IPV6 : OLAB_FAMILY_IPV4;
}

/// The ABI v5 16-byte form: network order, IPv4 in the first 4 bytes, the rest zero.
inline void
AbiAddress6Of(const XfrmAddress& address, uint8_t* out)
{
    std::memset(out, 0, 16);
    std::memcpy(out, address.GetBytes(), address.GetLength());
}

/// The address a v5 family and 16-byte field name (any other family is read as IPv4).
inline XfrmAddress
XfrmAddressOf(uint8_t family, const uint8_t* bytes)
{
    if (family == OLAB_FAMILY_IPV6)
    {
        return Ipv6Address(const_cast<uint8_t*>(bytes));
    }
    return Ipv4Address(uint32_t(bytes[0]) << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
}

/// An IPv4 selector (the v1..v4 field; all zero for an IPv6 selector).
inline olab_selector
AbiSelectorOf(const XfrmSelector& sel)
{
    olab_selector s{};
    if (sel.GetFamily() != XfrmAddress::Family::Ipv4)
    {
        return s;
    }
    s.saddr = AbiIpv4Of(sel.src);
    s.daddr = AbiIpv4Of(sel.dst);
    s.sprefix = sel.srcPrefix;
    s.dprefix = sel.dstPrefix;
    s.proto = sel.proto;
    s.sport = sel.sport;
    s.dport = sel.dport;
    return s;
}

/// A selector of either family (ABI v5).
inline olab_selector6
AbiSelector6Of(const XfrmSelector& sel)
{
    olab_selector6 s{};
    s.family = AbiFamilyOf(sel.src);
    s.sprefix = sel.srcPrefix;
    s.dprefix = sel.dstPrefix;
    s.proto = sel.proto;
    s.sport = sel.sport;
    s.dport = sel.dport;
    AbiAddress6Of(sel.src, s.saddr);
    AbiAddress6Of(sel.dst, s.daddr);
    return s;
}

inline XfrmSelector
XfrmSelectorOf(const olab_selector& s)
{
    XfrmSelector sel;
    sel.src = Ipv4Address(s.saddr);
    sel.dst = Ipv4Address(s.daddr);
    sel.srcPrefix = s.sprefix;
    sel.dstPrefix = s.dprefix;
    sel.proto = s.proto;
    sel.sport = s.sport;
    sel.dport = s.dport;
    return sel;
}

inline XfrmSelector
XfrmSelectorOf(const olab_selector6& s)
{
    XfrmSelector sel;
    sel.src = XfrmAddressOf(s.family, s.saddr);
    sel.dst = XfrmAddressOf(s.family, s.daddr);
    sel.srcPrefix = s.sprefix;
    sel.dstPrefix = s.dprefix;
    sel.proto = s.proto;
    sel.sport = s.sport;
    sel.dport = s.dport;
    return sel;
}

} // namespace ns3

#endif // DEVICE_ABI_CONVERT_H
