// What the XFRM netlink tests build requests from: the structs of <linux/xfrm.h> for IPv4 hosts.
#ifndef XFRM_NETLINK_TEST_UTIL_H
#define XFRM_NETLINK_TEST_UTIL_H

#include "ns3/ipv4-address.h"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <linux/xfrm.h>
#include <vector>

namespace xfrmtest
{

template <class T>
std::vector<uint8_t>
AsBytes(const T& value)
{
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    return std::vector<uint8_t>(p, p + sizeof(T));
}

inline xfrm_address_t
Addr(ns3::Ipv4Address a)
{
    xfrm_address_t x{};
    x.a4 = htonl(a.Get());
    return x;
}

/// src/32 -> dst/32, any protocol.
inline xfrm_selector
HostSelector(ns3::Ipv4Address src, ns3::Ipv4Address dst)
{
    xfrm_selector sel{};
    sel.family = AF_INET;
    sel.saddr = Addr(src);
    sel.daddr = Addr(dst);
    sel.prefixlen_s = sel.prefixlen_d = 32;
    return sel;
}

/// An allow policy without limits.
inline xfrm_userpolicy_info
Policy(const xfrm_selector& sel, uint8_t dir, uint32_t priority)
{
    xfrm_userpolicy_info p{};
    p.sel = sel;
    p.dir = dir;
    p.priority = priority;
    p.action = XFRM_POLICY_ALLOW;
    p.lft.soft_byte_limit = p.lft.hard_byte_limit = ~0ULL;
    p.lft.soft_packet_limit = p.lft.hard_packet_limit = ~0ULL;
    return p;
}

/// An ESP template, all algorithms allowed, as charon writes it.
inline std::vector<uint8_t>
UserTemplate(ns3::Ipv4Address src,
             ns3::Ipv4Address dst,
             uint32_t reqid,
             uint32_t spi,
             uint8_t mode = XFRM_MODE_TRANSPORT)
{
    xfrm_user_tmpl t{};
    t.id.daddr = Addr(dst);
    t.id.spi = htonl(spi);
    t.id.proto = IPPROTO_ESP;
    t.family = AF_INET;
    t.saddr = Addr(src);
    t.reqid = reqid;
    t.mode = mode;
    t.aalgos = t.ealgos = t.calgos = ~0u;
    return AsBytes(t);
}

} // namespace xfrmtest

#endif // XFRM_NETLINK_TEST_UTIL_H
