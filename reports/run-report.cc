#include "run-report.h"

#include "json-fields.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace offloadlab
{

namespace
{
bool
EndsWith(const std::string& s, const std::string& tail)
{
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// Drops of a run: the software IPsec layer's counters are Linux's /proc/net/xfrm_stat, all of
/// them errors ("Xfrm..."); the NIC's drop counters end in "Drop". The rest are events. A NAT's
/// counters are all drops.
uint64_t
DropsOf(const nlohmann::json& run)
{
    uint64_t drops = 0;
    for (const auto& [node, counters] : Field(Field(run, "drops"), "stack").items())
    {
        for (const auto& [name, value] : counters.items())
        {
            drops += name.rfind("Xfrm", 0) == 0 ? value.get<uint64_t>() : 0;
        }
    }
    for (const auto& [dev, counters] : Field(Field(run, "drops"), "nic").items())
    {
        for (const auto& [name, value] : counters.items())
        {
            drops += EndsWith(name, "Drop") ? value.get<uint64_t>() : 0;
        }
    }
    for (const auto& [name, value] : Field(Field(run, "drops"), "nat").items())
    {
        drops += value.get<uint64_t>();
    }
    return drops;
}
} // namespace

std::vector<std::string>
RunProblems(const nlohmann::json& run)
{
    const std::string label = ValueOr(run, "scenario", "") + " " + ValueOr(run, "mode", "");
    std::vector<std::string> problems;
    for (const auto& [protocol, traffic] : Field(run, "traffic").items())
    {
        if (ValueOr(traffic, "bytes_delivered", uint64_t(0)) == 0)
        {
            problems.push_back(label + ": no " + protocol + " data delivered");
        }
    }
    // Plain, the baseline without IPsec, has no SA to rekey.
    if (ValueOr(run, "mode", "") != "plain" && ValueOr(run, "rekeys", 0) == 0)
    {
        problems.push_back(label + ": the SAs crossed no soft limit, or did not rekey");
    }
    return problems;
}

nlohmann::json
ResultsDocument(const RunRequest& request, const nlohmann::json& runs)
{
    double wall = 0;
    uint64_t packets = 0;
    std::vector<std::string> problems;
    for (const auto& run : runs)
    {
        wall += ValueOr(run, "wall_seconds", 0.0);
        packets += ValueOr(run, "wire_packets", uint64_t(0));
        for (auto& p : RunProblems(run))
        {
            problems.push_back(std::move(p));
        }
    }
    nlohmann::json doc;
    doc["tool"] = "offloadlab";
    doc["command"] = "run";
    doc["seed"] = request.seed;
    doc["device"] = request.device;
    doc["duration_s"] = request.durationSeconds;
    doc["rekey_time_s"] = request.rekeyTimeSeconds;
    doc["life_time_s"] = request.lifeTimeSeconds;
    doc["runs"] = runs;
    doc["totals"] = {{"wall_seconds", wall},
                     {"wire_packets", packets},
                     {"simulated_packets_per_wall_second", wall > 0 ? packets / wall : 0.0}};
    doc["problems"] = problems;
    return doc;
}

std::string
RunSummaryTable(const nlohmann::json& runs)
{
    std::ostringstream os;
    os << std::left << std::setw(27) << "scenario" << std::setw(8) << "mode" << std::right
       << std::setw(10) << "tcp Mb/s" << std::setw(10) << "udp Mb/s" << std::setw(11) << "udp loss"
       << std::setw(8) << "rekeys" << std::setw(6) << "SAs" << std::setw(8) << "drops"
       << std::setw(10) << "wall s" << std::setw(12) << "pkts/wall s"
       << "\n";
    for (const auto& r : runs)
    {
        const nlohmann::json& tcp = Field(Field(r, "traffic"), "tcp");
        const nlohmann::json& udp = Field(Field(r, "traffic"), "udp");
        const uint64_t udpSent = ValueOr(udp, "packets_sent", uint64_t(0));
        const uint64_t udpDelivered = ValueOr(udp, "packets_delivered", uint64_t(0));
        const double wall = ValueOr(r, "wall_seconds", 0.0);
        std::ostringstream loss;
        loss << std::fixed << std::setprecision(2)
             << (udpSent ? 100.0 * double(udpSent - std::min(udpSent, udpDelivered)) / udpSent
                         : 0.0)
             << "%";
        os << std::left << std::setw(27) << ValueOr(r, "scenario", "") << std::setw(8)
           << ValueOr(r, "mode", "") << std::right << std::fixed << std::setprecision(1)
           << std::setw(10) << ValueOr(tcp, "goodput_mbps", 0.0) << std::setw(10)
           << ValueOr(udp, "goodput_mbps", 0.0) << std::setw(11) << loss.str() << std::setw(8)
           << ValueOr(r, "rekeys", 0) << std::setw(6) << Field(r, "sas").size() << std::setw(8)
           << DropsOf(r) << std::setw(10) << std::setprecision(2) << wall << std::setw(12)
           << std::setprecision(0)
           << (wall > 0 ? ValueOr(r, "wire_packets", uint64_t(0)) / wall : 0) << "\n";
    }
    return os.str();
}

std::string
RunTotalsLine(const nlohmann::json& results)
{
    const nlohmann::json& totals = Field(results, "totals");
    const double wall = ValueOr(totals, "wall_seconds", 0.0);
    const uint64_t packets = ValueOr(totals, "wire_packets", uint64_t(0));
    std::ostringstream os;
    os << "total: " << Field(results, "runs").size() << " runs, " << packets << " wire packets in "
       << wall << " s wall (" << uint64_t(wall > 0 ? packets / wall : 0)
       << " simulated packets per wall second)";
    return os.str();
}

} // namespace offloadlab
