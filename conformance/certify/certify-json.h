// certify.json of a certification (the layout reports/ reads): the device (spec, description,
// capabilities), when it ran, the verdict, the catalog's modes, and per requirement its catalog
// entry, its result per mode and every test with its result, message, duration and evidence
// (recorded properties and evidence files).
#ifndef CERTIFY_JSON_H
#define CERTIFY_JSON_H

#include "certify-result.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace offloadlab
{

nlohmann::ordered_json CertifyJson(const CertifyReport& report);

/// The document's "device": spec, name, description, mutant, capabilities.
nlohmann::ordered_json DeviceJson(const CertifyReport& report);

/// One entry of the document's "requirements".
nlohmann::ordered_json RequirementJson(const RequirementResult& result,
                                       const std::vector<std::string>& catalogModes);

} // namespace offloadlab

#endif // CERTIFY_JSON_H
