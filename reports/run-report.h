// What `offloadlab run` leaves behind, made from the JSON of its runs (one object per scenario x
// mode, the layout topologies/ ScenarioResultToJson writes): the results.json document with its
// verdict, and the lines the command prints.
#ifndef RUN_REPORT_H
#define RUN_REPORT_H

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace offloadlab
{

/// What the runs were asked for.
struct RunRequest
{
    uint64_t seed{1};
    std::string device;
    double durationSeconds{0};
    uint64_t rekeyTimeSeconds{0}; //!< 0: none
    uint64_t lifeTimeSeconds{0};  //!< 0: none
};

/// Why a run does not count as a success: a protocol that delivered nothing, or no rekey.
std::vector<std::string> RunProblems(const nlohmann::json& run);

/// The results.json document: the request, the runs, their totals and every run's problems.
nlohmann::json ResultsDocument(const RunRequest& request, const nlohmann::json& runs);

/// A fixed-width table, one row per run, for the terminal.
std::string RunSummaryTable(const nlohmann::json& runs);

/// "total: 6 runs, ... (N simulated packets per wall second)" for a results document.
std::string RunTotalsLine(const nlohmann::json& results);

} // namespace offloadlab

#endif // RUN_REPORT_H
