// What `offloadlab certify` prints: the device line, progress per requirement as its suite
// process finishes, the requirement x mode table and the verdict.
#ifndef SUMMARY_TABLE_H
#define SUMMARY_TABLE_H

#include "certify-result.h"

#include <string>

namespace ns3
{

/// "device reference: offloadlab reference NIC; offers crypto, packet; HW_ESP HW_ESP_TX_CSUM;
/// ESN; tunnel" from the suite's --describe-device output.
std::string DeviceLine(const CertifyReport& report);

/// "[12/52] PKT-FRAG-TX-DROP            pass   6 cases   1.3 s", and the error on a second line.
std::string ProgressLine(size_t done, size_t total, const RequirementResult& r);

/// One row per requirement, one column per mode: PASS / FAIL / SKIP / ERROR / UNTESTED, and
/// "-" where the requirement does not apply.
std::string SummaryTable(const CertifyReport& report);

/// "verdict: CONFORMS ..." or "verdict: DOES NOT CONFORM: failing requirements A, B".
std::string VerdictLine(const CertifyReport& report);

} // namespace ns3

#endif // SUMMARY_TABLE_H
