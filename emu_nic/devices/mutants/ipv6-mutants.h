// The IPv6 mutants of the reference (ABI v5), one defect each. Not yet registered as
// "mutant:NAME": a registered mutant must answer a rule of the conformance catalog, and no
// requirement there exercises IPv6 until the stack's IPv6 data path is in. Tests reach them
// by name meanwhile.
#ifndef IPV6_MUTANTS_H
#define IPV6_MUTANTS_H

#include "offloadlab-device.h"

#include <string>
#include <vector>

namespace ns3
{

/// The ABI table of the IPv6 mutant name ("ipv6-esp-before-ext", ...); nullptr for another name.
const olab_device_ops* FindIpv6Mutant(const std::string& name);
/// Every IPv6 mutant's name.
std::vector<std::string> ListIpv6Mutants();

} // namespace ns3

#endif // IPV6_MUTANTS_H
