// The reference table (the full-offload series' throughput by CPU count), the naive formula,
// and how a predicted table is scored against it.
#ifndef SCALE_REFERENCE_H
#define SCALE_REFERENCE_H

#include "scale-wire.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace ns3
{

/// CPU counts of the reference's columns.
const std::vector<uint32_t>& ReferenceCpus();
/// The four modes, in the table's row order.
const std::vector<ScaleMode>& ReferenceModes();
/// Gbit/s of the reference (linux-xfrm-full-offload-series-v3.txt: TCP multi-stream, one
/// iperf3 per CPU, 100 Gbit/s ConnectX-6 Dx, Xeon Platinum 8380, transport mode).
double ReferenceGbps(ScaleMode mode, uint32_t cpus);

/// A table of Gbit/s by mode and CPU count.
using ScaleTable = std::map<std::pair<ScaleMode, uint32_t>, double>;

/// The reference as a table.
ScaleTable ReferenceTable();
/// Each mode's 1-CPU rate times the CPU count, capped at its wire goodput (ceilings by mode).
ScaleTable FormulaTable(const std::map<ScaleMode, double>& ceilings);

/// Whether a cell is below its mode's knee in the reference (its rate under 97 % of the
/// mode's ceiling) and not a 1-CPU cell: the 8 cells a model can be told from a formula by.
bool IsSubCeilingCell(ScaleMode mode, uint32_t cpus, double ceiling);
/// The fewest CPUs whose rate reaches 97 % of the ceiling (0: none in the table).
uint32_t KneeOf(const ScaleTable& table, ScaleMode mode, double ceiling);

struct ScaleScore
{
    double mae20{0}; //!< mean absolute error, % of the reference, over the 20 cells of 2 to 32
                     //!< CPUs
    double max20{0};
    double mae8{0}; //!< over the 8 sub-ceiling cells among them
    double max8{0};
    double packetOneCpu{0}; //!< packet offload's 1-CPU cell, signed: predicted, never fitted
    std::map<ScaleMode, uint32_t> knees;
    bool kneesRight{false};
    std::map<std::pair<ScaleMode, uint32_t>, double> errors; //!< signed, % of the reference
};

/// Scores table against the reference over the 20 cells, every cell of 2 to 32 CPUs.
/// Packet offload's 1-CPU cell is predicted too (the other 1-CPU cells are the calibration's):
/// its error is in errors and packetOneCpu, not in the means.
ScaleScore ScoreAgainstReference(const ScaleTable& table,
                                 const std::map<ScaleMode, double>& ceilings);

} // namespace ns3

#endif // SCALE_REFERENCE_H
