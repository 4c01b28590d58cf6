#include "scale-reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ns3
{

namespace
{
constexpr double kKneeShare = 0.97;
} // namespace

const std::vector<uint32_t>&
ReferenceCpus()
{
    static const std::vector<uint32_t> cpus = {1, 2, 4, 8, 16, 32};
    return cpus;
}

const std::vector<ScaleMode>&
ReferenceModes()
{
    static const std::vector<ScaleMode> modes = {ScaleMode::Baseline,
                                                 ScaleMode::Software,
                                                 ScaleMode::Crypto,
                                                 ScaleMode::Packet};
    return modes;
}

double
ReferenceGbps(ScaleMode mode, uint32_t cpus)
{
    static const std::map<ScaleMode, std::array<double, 6>> table = {
        {ScaleMode::Baseline, {27.9, 59, 93.1, 92.8, 93.7, 94.4}},
        {ScaleMode::Software, {6, 11.9, 23.3, 45.9, 83.8, 91.8}},
        {ScaleMode::Crypto, {15, 29.7, 58.5, 89.6, 90.4, 90.8}},
        {ScaleMode::Packet, {28, 57, 90.7, 91, 91.3, 91.9}},
    };
    const auto& cols = ReferenceCpus();
    const auto it = std::find(cols.begin(), cols.end(), cpus);
    if (it == cols.end())
    {
        throw std::out_of_range("the reference has no column for " + std::to_string(cpus) +
                                " CPUs");
    }
    return table.at(mode)[it - cols.begin()];
}

ScaleTable
ReferenceTable()
{
    ScaleTable t;
    for (ScaleMode m : ReferenceModes())
    {
        for (uint32_t n : ReferenceCpus())
        {
            t[{m, n}] = ReferenceGbps(m, n);
        }
    }
    return t;
}

ScaleTable
FormulaTable(const std::map<ScaleMode, double>& ceilings)
{
    ScaleTable t;
    for (ScaleMode m : ReferenceModes())
    {
        for (uint32_t n : ReferenceCpus())
        {
            t[{m, n}] = std::min(ReferenceGbps(m, 1) * n, ceilings.at(m));
        }
    }
    return t;
}

bool
IsSubCeilingCell(ScaleMode mode, uint32_t cpus, double ceiling)
{
    return cpus > 1 && ReferenceGbps(mode, cpus) < kKneeShare * ceiling;
}

uint32_t
KneeOf(const ScaleTable& table, ScaleMode mode, double ceiling)
{
    for (uint32_t n : ReferenceCpus())
    {
        const auto it = table.find({mode, n});
        if (it != table.end() && it->second >= kKneeShare * ceiling)
        {
            return n;
        }
    }
    return 0;
}

ScaleScore
ScoreAgainstReference(const ScaleTable& table, const std::map<ScaleMode, double>& ceilings)
{
    ScaleScore s;
    uint32_t n20 = 0;
    uint32_t n8 = 0;
    s.kneesRight = true;
    for (ScaleMode m : ReferenceModes())
    {
        for (uint32_t n : ReferenceCpus())
        {
            if (n == 1 && m != ScaleMode::Packet)
            {
                continue; // fitted, not predicted
            }
            const double ref = ReferenceGbps(m, n);
            const double err = 100 * (table.at({m, n}) - ref) / ref;
            s.errors[{m, n}] = err;
            if (n == 1)
            {
                s.packetOneCpu = err; // predicted, but not one of the 20 cells
                continue;
            }
            s.mae20 += std::fabs(err);
            s.max20 = std::max(s.max20, std::fabs(err));
            ++n20;
            if (IsSubCeilingCell(m, n, ceilings.at(m)))
            {
                s.mae8 += std::fabs(err);
                s.max8 = std::max(s.max8, std::fabs(err));
                ++n8;
            }
        }
        s.knees[m] = KneeOf(table, m, ceilings.at(m));
        s.kneesRight = s.kneesRight && s.knees[m] == KneeOf(ReferenceTable(), m, ceilings.at(m));
    }
    s.mae20 /= std::max(1u, n20);
    s.mae8 /= std::max(1u, n8);
    return s;
}

} // namespace ns3
