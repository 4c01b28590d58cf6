// A scenario run as the results.json layout describes it (reports/ reads it), and its SAs as
// Wireshark needs them.
#ifndef SCENARIO_JSON_H
#define SCENARIO_JSON_H

#include "esp-sa-file.h"
#include "scenario.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace ns3
{

/// One scenario run as JSON: traffic, per-SA counters, drops by reason, rekeys, SAs used.
nlohmann::json ScenarioResultToJson(const ScenarioResult& result);

/// An SA's keys as a line of Wireshark's esp_sa table.
offloadlab::EspSaEntry EspSaEntryOf(const XfrmAddress& saddr,
                                    const XfrmAddress& daddr,
                                    uint32_t spi,
                                    const EspAlgorithm& algorithm);

/// Every SA the key manager installed in a run.
std::vector<offloadlab::EspSaEntry> EspSaEntriesOf(const ScenarioResult& result);

} // namespace ns3

#endif // SCENARIO_JSON_H
