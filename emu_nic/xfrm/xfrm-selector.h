#ifndef XFRM_SELECTOR_H
#define XFRM_SELECTOR_H

#include "xfrm-address.h"

#include <cstdint>
#include <string>

namespace ns3
{

/// The fields of a packet an XFRM selector looks at (Linux's flowi); addresses of one family.
struct XfrmFlow
{
    XfrmAddress src;
    XfrmAddress dst;
    uint8_t proto{0};
    /// The ports, 0 when the packet has none (or is a non-first fragment). An ICMP or ICMPv6
    /// message's type and code stand in them, as in Linux's flowi (xfrm_flowi_sport/dport).
    uint16_t sport{0};
    uint16_t dport{0};
};

/// Linux's xfrm_selector: prefixes, protocol (0 = any) and ports (0 = any). Its family is its
/// addresses' (both of one family; IPv4 unless set); it matches flows of that family only.
struct XfrmSelector
{
    XfrmAddress src;
    uint8_t srcPrefix{0};
    XfrmAddress dst;
    uint8_t dstPrefix{0};
    uint8_t proto{0};
    uint16_t sport{0};
    uint16_t dport{0};
    /// Linux's sel.family AF_UNSPEC, as a tunnel-mode SA with XFRM_STATE_AF_UNSPEC has it: the
    /// addresses are any (/0) and flows of either family match.
    bool anyFamily{false};

    bool Matches(const XfrmFlow& flow) const;
    /// Host-to-host selector: both prefixes the family's longest (/32, /128), any protocol.
    static XfrmSelector Hosts(XfrmAddress src, XfrmAddress dst);
    /// Subnet-to-subnet selector, any protocol.
    static XfrmSelector Subnets(XfrmAddress src,
                                uint8_t srcPrefix,
                                XfrmAddress dst,
                                uint8_t dstPrefix);
    XfrmAddress::Family GetFamily() const;
    /// Linux's verify_newpolicy_info / verify_newsa_info checks: one family for both
    /// addresses, prefixes no longer than the family's; false with the field named.
    bool Validate(const std::string& field, std::string* error) const;
    std::string ToString() const;
};

} // namespace ns3

#endif // XFRM_SELECTOR_H
