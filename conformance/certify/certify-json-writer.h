// DIR/certify.json of a certification: the device (spec, description, capabilities), when it
// ran, the verdict, and per requirement its catalog entry, its result per mode and every test
// with its result, message, duration and evidence (recorded properties and evidence files).
#ifndef CERTIFY_JSON_WRITER_H
#define CERTIFY_JSON_WRITER_H

#include "certify-result.h"

#include <nlohmann/json.hpp>

#include <string>

namespace ns3
{

/// Version of the certify.json layout; bumped when a field changes meaning or goes away.
constexpr int kCertifyJsonVersion = 1;

nlohmann::ordered_json CertifyJson(const CertifyReport& report);

/// Writes CertifyJson to path; false with a message when the file cannot be written.
bool WriteCertifyJson(const CertifyReport& report, const std::string& path, std::string* error);

} // namespace ns3

#endif // CERTIFY_JSON_WRITER_H
