#include "summary-table.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace ns3
{

namespace
{
std::string
Upper(const std::string& s)
{
    std::string u = s;
    for (char& c : u)
    {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return u;
}

std::string
JoinStrings(const nlohmann::json& list)
{
    std::string out;
    if (list.is_array())
    {
        for (const auto& item : list)
        {
            if (item.is_string())
            {
                out += (out.empty() ? "" : " ") + item.get<std::string>();
            }
        }
    }
    return out;
}
} // namespace

std::string
DeviceLine(const CertifyReport& report)
{
    std::ostringstream os;
    os << "device " << report.deviceSpec;
    if (!report.device.is_object())
    {
        return os.str();
    }
    const auto caps = report.device.value("capabilities", nlohmann::json::object());
    os << ": " << caps.value("description", caps.value("name", ""));
    const std::string mutant = report.device.value("mutant", "");
    if (!mutant.empty())
    {
        os << " (mutant: " << mutant << ")";
    }
    const std::string types = JoinStrings(caps.value("offload_type_names", nlohmann::json()));
    os << "; offers " << (types.empty() ? "no offload" : types);
    const std::string features = JoinStrings(caps.value("feature_names", nlohmann::json()));
    if (!features.empty())
    {
        os << "; " << features;
    }
    os << (caps.value("esn", 0) ? "; ESN" : "; no ESN")
       << (caps.value("tunnel", 0) ? "; tunnel" : "; no tunnel");
    return os.str();
}

std::string
ProgressLine(size_t done, size_t total, const RequirementResult& r)
{
    const int width = static_cast<int>(std::to_string(total).size());
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.1f s", r.seconds);
    std::ostringstream os;
    os << "[" << std::setw(width) << done << "/" << total << "] " << std::left << std::setw(28)
       << r.requirement.id << " " << std::setw(6) << OutcomeName(r.overall) << " " << std::right
       << std::setw(3) << r.tests.size() << (r.tests.size() == 1 ? " case   " : " cases  ")
       << std::setw(7) << seconds;
    // The device's own words (the callback that crashed or faulted), once each.
    std::vector<std::string> lines;
    auto note = [&lines](const std::string& message)
    {
        const std::string line = message.substr(0, message.find('\n'));
        if (!line.empty() && std::find(lines.begin(), lines.end(), line) == lines.end())
        {
            lines.push_back(line);
        }
    };
    note(r.error);
    for (const auto& t : r.tests)
    {
        if (t.outcome == Outcome::Error)
        {
            note(t.message);
        }
    }
    for (const auto& line : lines)
    {
        os << "\n        " << line;
    }
    return os.str();
}

std::string
SummaryTable(const CertifyReport& report)
{
    std::ostringstream os;
    os << std::left << std::setw(28) << "requirement";
    for (const auto& mode : report.catalogModes)
    {
        os << " " << std::setw(9) << mode;
    }
    os << "\n";
    for (const auto& r : report.requirements)
    {
        os << std::setw(28) << r.requirement.id;
        for (const auto& mode : report.catalogModes)
        {
            auto it = r.modes.find(mode);
            os << " " << std::setw(9)
               << (it == r.modes.end() ? "-" : Upper(OutcomeName(it->second)));
        }
        os << "\n";
    }
    return os.str();
}

std::string
VerdictLine(const CertifyReport& report)
{
    if (!report.error.empty())
    {
        return "verdict: ERROR: " + report.error.substr(0, report.error.find('\n'));
    }
    size_t pass = 0;
    size_t skip = 0;
    size_t untestedModes = 0;
    for (const auto& r : report.requirements)
    {
        pass += r.overall == Outcome::Pass;
        skip += r.overall == Outcome::Skip;
        for (const auto& [mode, outcome] : r.modes)
        {
            untestedModes += outcome == Outcome::Untested;
        }
    }
    std::ostringstream os;
    const auto failing = report.FailingIds();
    if (failing.empty())
    {
        os << "verdict: CONFORMS (" << pass << " of " << report.requirements.size()
           << " requirements pass, " << skip << " skipped";
    }
    else
    {
        os << "verdict: DOES NOT CONFORM: failing requirements";
        for (size_t i = 0; i < failing.size(); ++i)
        {
            os << (i ? ", " : " ") << failing[i];
        }
        os << " (" << pass << " of " << report.requirements.size() << " pass";
    }
    if (untestedModes)
    {
        os << "; " << untestedModes << " requirement x mode with no test";
    }
    os << ")";
    return os.str();
}

} // namespace ns3
