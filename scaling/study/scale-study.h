// A sweep of scaling cells: the grid of inputs, the cells run in parallel processes, one shard
// of the grid, and every cell as JSON for scaling.json.
#ifndef SCALE_STUDY_H
#define SCALE_STUDY_H

#include "scale-cell.h"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ns3
{

/// One axis of a sweep: an input and its values, as text ("link", {"10", "100"}).
struct ScaleAxis
{
    std::string name;
    std::vector<std::string> values;
};

/// The names a sweep may vary, for --help and errors.
const std::vector<std::string>& ScaleAxisNames();

/// A whole finite number (std::stod with nothing left over); false for anything else.
bool ParseScaleNumber(const std::string& text, double* value);

/**
 * Sets the input name of config to value. Inputs: link (Gbit/s), mtu, clock (GHz, the base
 * clock), cores-per-socket, sas, flows, encap, rss, crypto-cap (Gbit/s), turbo (on/off),
 * rss-after-decrypt (on/off), llc (on/off: LLC contention), ddio-mb, dram-gbps, mix (fixed:
 * TCP bulk; imix: UDP datagrams of the simple iMIX). Returns false with
 * a message that names the input and the value.
 */
bool SetScaleInput(ScaleCellConfig* config,
                   const std::string& name,
                   const std::string& value,
                   std::string* error);

/// Every cell of modes x cpus x each axis's values, base giving the rest; in a fixed order.
std::vector<ScaleCellConfig> ExpandGrid(const ScaleCellConfig& base,
                                        const std::vector<ScaleMode>& modes,
                                        const std::vector<uint32_t>& cpus,
                                        const std::vector<ScaleAxis>& axes);

/// The cells of shard k of n (1 <= k <= n): every n-th, from the k-th.
std::vector<size_t> ShardIndices(size_t cells, uint32_t k, uint32_t n);

struct ScaleCellRun
{
    bool ok{false};
    std::string error; //!< why not
    ScaleCellResult result;
};

/// Runs the cells, at most jobs at a time, each in a process of its own (ns-3's simulator is one
/// per process); progress(done, total) after each. A cell still running after timeout is
/// killed and fails with that reason.
std::vector<ScaleCellRun> RunCells(const std::vector<ScaleCellConfig>& cells,
                                   uint32_t jobs,
                                   const std::function<void(size_t, size_t)>& progress,
                                   std::chrono::seconds timeout = std::chrono::seconds(600));

nlohmann::json CellInputsToJson(const ScaleCellConfig& config);
nlohmann::json CellResultToJson(const ScaleCellResult& result);
ScaleCellResult CellResultFromJson(const nlohmann::json& j);
nlohmann::json CostsToJson(const ScaleCosts& costs);
/// The costs of a scaling.json's "parameters"; false with a message if one is missing.
bool CostsFromJson(const nlohmann::json& parameters, ScaleCosts* costs, std::string* error);

} // namespace ns3

#endif // SCALE_STUDY_H
