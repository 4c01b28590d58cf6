// The ABI's C selector and offloadlab's XfrmSelector, both ways: for the NIC, which fills the
// ABI's structs, and for the built-in devices, which read them.
#ifndef DEVICE_ABI_CONVERT_H
#define DEVICE_ABI_CONVERT_H

#include "offloadlab-device.h"
#include "xfrm-selector.h"

namespace ns3
{

/// An IPv4 address as the ABI's host-order uint32 (the ABI carries IPv4 only).
inline uint32_t
AbiIpv4Of(const XfrmAddress& address)
{
    return address.GetIpv4().Get();
}

/// An IPv4 selector (the ABI's selectors are IPv4 only).
inline olab_selector
AbiSelectorOf(const XfrmSelector& sel)
{
    olab_selector s{};
    s.saddr = AbiIpv4Of(sel.src);
    s.daddr = AbiIpv4Of(sel.dst);
    s.sprefix = sel.srcPrefix;
    s.dprefix = sel.dstPrefix;
    s.proto = sel.proto;
    s.sport = sel.sport;
    s.dport = sel.dport;
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

} // namespace ns3

#endif // DEVICE_ABI_CONVERT_H
