#ifndef RUN_REPORT_H
#define RUN_REPORT_H

#include "scenario.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ns3
{

/// One scenario run as JSON: traffic, per-SA counters, drops by reason, rekeys, SAs used.
nlohmann::json ScenarioResultToJson(const ScenarioResult& result);

/// Wireshark's esp_sa UAT file (Wireshark 4.0 layout) with the keys of every SA in the runs.
std::string EspSaFileOf(const std::vector<ScenarioResult>& results);

/// A fixed-width table, one row per run, for the terminal.
std::string SummaryTable(const std::vector<ScenarioResult>& results);

} // namespace ns3

#endif // RUN_REPORT_H
