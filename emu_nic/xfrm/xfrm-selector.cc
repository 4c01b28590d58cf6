#include "xfrm-selector.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

bool
XfrmSelector::Matches(const XfrmFlow& flow) const
{
    const bool addresses =
        anyFamily ? flow.src.GetFamily() == flow.dst.GetFamily()
                  : flow.src.IsInPrefix(src, srcPrefix) && flow.dst.IsInPrefix(dst, dstPrefix);
    return addresses && (proto == 0 || proto == flow.proto) &&
           (sport == 0 || sport == flow.sport) && (dport == 0 || dport == flow.dport);
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

bool
XfrmSelector::Validate(const std::string& field, std::string* error) const
{
    std::ostringstream why;
    if (anyFamily && (srcPrefix != 0 || dstPrefix != 0 || !src.IsAny() || !dst.IsAny()))
    {
        why << field << ": a selector of no family must have any addresses, not " << src << "/"
            << unsigned(srcPrefix) << " -> " << dst << "/" << unsigned(dstPrefix);
    }
    else if (src.GetFamily() != dst.GetFamily())
    {
        why << field << ": src " << src << " and dst " << dst << " are of two families";
    }
    else if (srcPrefix > src.GetMaxPrefixLength() || dstPrefix > dst.GetMaxPrefixLength())
    {
        why << field << ": prefix /" << unsigned(std::max(srcPrefix, dstPrefix))
            << " is longer than " << FamilyName(src.GetFamily()) << "'s /"
            << unsigned(src.GetMaxPrefixLength());
    }
    if (why.tellp() > 0 && error)
    {
        *error = why.str();
    }
    return why.tellp() == 0;
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
    if (anyFamily)
    {
        os << "any family";
    }
    else
    {
        os << src << "/" << unsigned(srcPrefix) << " -> " << dst << "/" << unsigned(dstPrefix);
    }
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
