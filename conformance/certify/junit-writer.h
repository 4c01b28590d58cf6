// DIR/junit.xml of a certification: one <testsuite> per requirement, one <testcase> per test
// (classname = requirement ID, name = "Check/variant"), skips as <skipped>, test failures as
// <failure>, crashes, faults and timeouts of the device as <error>.
#ifndef JUNIT_WRITER_H
#define JUNIT_WRITER_H

#include "certify-result.h"

#include <string>

namespace ns3
{

/// Text made safe for XML 1.0 content and attribute values: markup characters escaped,
/// characters XML cannot carry replaced with U+FFFD, line breaks in attributes kept.
std::string XmlEscape(const std::string& text);

/// The whole JUnit XML document. A report with an error (the device did not load) has one
/// errored testcase, "device-load".
std::string JunitXml(const CertifyReport& report);

/// Writes JunitXml to path; false with a message when the file cannot be written.
bool WriteJunit(const CertifyReport& report, const std::string& path, std::string* error);

} // namespace ns3

#endif // JUNIT_WRITER_H
