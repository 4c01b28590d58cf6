// What a certification leaves behind, made from its certify.json document (the layout
// conformance/certify's CertifyJson writes, version kCertifyJsonVersion): DIR/certify.json
// itself, DIR/junit.xml (one <testsuite> per requirement, one <testcase> per test, skips as
// <skipped>, test failures as <failure>, crashes, faults and timeouts of the device as <error>),
// and the lines `offloadlab certify` prints.
#ifndef CERTIFY_REPORT_H
#define CERTIFY_REPORT_H

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace offloadlab
{

/// Version of the certify.json layout; bumped when a field changes meaning or goes away
/// (2: statuses "interrupted" and "...-partial", "provenance", "partial", "interrupted").
constexpr int kCertifyJsonVersion = 2;

/// Text made safe for XML 1.0 content and attribute values: markup characters escaped,
/// characters XML cannot carry replaced with U+FFFD, line breaks in attributes kept.
std::string XmlEscape(const std::string& text);

/// The whole JUnit XML document. A report with an error (the device did not load) has one
/// errored testcase, "device-load".
std::string JunitXml(const nlohmann::ordered_json& certify);

/// Writes DIR/junit.xml, DIR/certify.json and DIR/certificate.html; false with a message when one
/// cannot be written.
bool WriteCertifyReports(const nlohmann::ordered_json& certify,
                         const std::string& dir,
                         std::string* error);

/// "device reference: offloadlab reference NIC; offers crypto, packet; HW_ESP HW_ESP_TX_CSUM;
/// ESN; tunnel" from the document's "device" object.
std::string DeviceLine(const nlohmann::ordered_json& device);

/// "[12/52] PKT-FRAG-TX-DROP            pass   6 cases   1.3 s" for one entry of the document's
/// "requirements", and the device's errors on lines of their own.
std::string ProgressLine(size_t done, size_t total, const nlohmann::ordered_json& requirement);

/// One row per requirement, one column per mode of the catalog: PASS / FAIL / SKIP / ERROR /
/// ADV-OK / ADV-FIND (advisory checks, listed with their findings after the table) /
/// UNTESTED, and "-" where the requirement does not apply.
std::string CertifySummaryTable(const nlohmann::ordered_json& certify);

/// The sentence of a test's failure message that explains it: not GoogleTest's "file:line"
/// nor its expression dump ("Expected equality of these values:", "Which is: ..."), but the
/// test's own words when it has some; at most 400 characters.
std::string FailureReason(const std::string& message);

/// "verdict: CONFORMS ..." or "verdict: DOES NOT CONFORM: failing requirements A, B"; a
/// partial run says "PARTIAL RUN (--only)" first and never a bare CONFORMS; an interrupted
/// run says INTERRUPTED.
std::string VerdictLine(const nlohmann::ordered_json& certify);

} // namespace offloadlab

#endif // CERTIFY_REPORT_H
