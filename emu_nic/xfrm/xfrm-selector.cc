#include "xfrm-selector.h"

#include <sstream>

namespace ns3
{

namespace
{
bool
PrefixMatches(Ipv4Address want, uint8_t prefix, Ipv4Address have)
{
    if (prefix == 0)
    {
        return true;
    }
    const uint32_t mask = prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
    return (want.Get() & mask) == (have.Get() & mask);
}
} // namespace

bool
XfrmSelector::Matches(const XfrmFlow& flow) const
{
    return PrefixMatches(src, srcPrefix, flow.src) && PrefixMatches(dst, dstPrefix, flow.dst) &&
           (proto == 0 || proto == flow.proto) && (sport == 0 || sport == flow.sport) &&
           (dport == 0 || dport == flow.dport);
}

XfrmSelector
XfrmSelector::Hosts(Ipv4Address s, Ipv4Address d)
{
    return Subnets(s, 32, d, 32);
}

XfrmSelector
XfrmSelector::Subnets(Ipv4Address s, uint8_t sp, Ipv4Address d, uint8_t dp)
{
    XfrmSelector sel;
    sel.src = s;
    sel.srcPrefix = sp;
    sel.dst = d;
    sel.dstPrefix = dp;
    return sel;
}

std::string
XfrmSelector::ToString() const
{
    std::ostringstream os;
    os << src << "/" << unsigned(srcPrefix) << " -> " << dst << "/" << unsigned(dstPrefix);
    if (proto != 0)
    {
        os << " proto " << unsigned(proto);
    }
    if (sport != 0 || dport != 0)
    {
        os << " ports " << sport << "->" << dport;
    }
    return os.str();
}

} // namespace ns3
