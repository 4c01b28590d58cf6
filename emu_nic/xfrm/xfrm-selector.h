#ifndef XFRM_SELECTOR_H
#define XFRM_SELECTOR_H

#include "ns3/ipv4-address.h"

#include <cstdint>
#include <string>

namespace ns3
{

/// The fields of a packet an XFRM selector looks at.
struct XfrmFlow
{
    Ipv4Address src;
    Ipv4Address dst;
    uint8_t proto{0};
    uint16_t sport{0}; //!< 0 when the packet has no ports (or is a non-first fragment)
    uint16_t dport{0};
};

/// Linux's xfrm_selector for IPv4: prefixes, protocol (0 = any) and ports (0 = any).
struct XfrmSelector
{
    Ipv4Address src{Ipv4Address::GetAny()};
    uint8_t srcPrefix{0};
    Ipv4Address dst{Ipv4Address::GetAny()};
    uint8_t dstPrefix{0};
    uint8_t proto{0};
    uint16_t sport{0};
    uint16_t dport{0};

    bool Matches(const XfrmFlow& flow) const;
    /// Host-to-host selector: both prefixes /32, any protocol.
    static XfrmSelector Hosts(Ipv4Address src, Ipv4Address dst);
    /// Subnet-to-subnet selector, any protocol.
    static XfrmSelector Subnets(Ipv4Address src,
                                uint8_t srcPrefix,
                                Ipv4Address dst,
                                uint8_t dstPrefix);
    std::string ToString() const;
};

} // namespace ns3

#endif // XFRM_SELECTOR_H
