#include "xfrm-selector.h"

#include <sstream>

namespace ns3
{

bool
XfrmSelector::Matches(const XfrmFlow& flow) const
{
    return flow.src.IsInPrefix(src, srcPrefix) && flow.dst.IsInPrefix(dst, dstPrefix) &&
           (proto == 0 || proto == flow.proto) && (sport == 0 || sport == flow.sport) &&
           (dport == 0 || dport == flow.dport);
}

XfrmSelector
XfrmSelector::Hosts(XfrmAddress s, XfrmAddress d)
{
    return Subnets(s, s.GetMaxPrefixLength(), d, d.GetMaxPrefixLength());
}

XfrmAddress::Family
XfrmSelector::GetFamily() const
{
    return src.GetFamily();
}

XfrmSelector
XfrmSelector::Subnets(XfrmAddress s, uint8_t sp, XfrmAddress d, uint8_t dp)
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
