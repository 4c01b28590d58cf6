// The lines `offloadlab certify` prints, from the certify.json document.
#include "certify-report.h"
#include "json-fields.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iomanip>
#include <sstream>
#include <vector>

namespace offloadlab
{

namespace
{
using Json = nlohmann::ordered_json;

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

/// A result as the summary table shows it, at most 9 characters.
std::string
CellOf(const std::string& result)
{
    if (result == "advisory-ok")
    {
        return "ADV-OK";
    }
    if (result == "advisory-finding")
    {
        return "ADV-FIND";
    }
    return Upper(result);
}

std::string
JoinStrings(const Json& list)
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
DeviceLine(const Json& device)
{
    std::ostringstream os;
    os << "device " << ValueOr(device, "spec", "");
    if (!device.contains("capabilities"))
    {
        return os.str();
    }
    const Json& caps = Field(device, "capabilities");
    os << ": " << ValueOr(caps, "description", ValueOr(caps, "name", ""));
    const std::string mutant = ValueOr(device, "mutant", "");
    if (!mutant.empty())
    {
        os << " (mutant: " << mutant << ")";
    }
    const std::string types = JoinStrings(ValueOr(caps, "offload_type_names", Json()));
    os << "; offers " << (types.empty() ? "no offload" : types);
    const std::string features = JoinStrings(ValueOr(caps, "feature_names", Json()));
    if (!features.empty())
    {
        os << "; " << features;
    }
    os << (ValueOr(caps, "esn", 0) ? "; ESN" : "; no ESN")
       << (ValueOr(caps, "tunnel", 0) ? "; tunnel" : "; no tunnel")
       << (ValueOr(caps, "udp_encap", 0) ? "; ESP-in-UDP" : "");
    // The lifetime bound the suite held the device to (packet offload).
    const std::string packets = ValueOr(caps, "lifetime_packets", "");
    const std::string bytes = ValueOr(caps, "lifetime_bytes", "");
    if (!packets.empty() && !bytes.empty())
    {
        const uint64_t pollMs = ValueOr(caps, "lifetime_poll_ms", uint64_t(0));
        os << "; lifetimes: packets " << packets << ", bytes " << bytes;
        if (packets == "polled" || bytes == "polled")
        {
            os << " every " << pollMs << " ms";
        }
    }
    return os.str();
}

std::string
ProgressLine(size_t done, size_t total, const Json& r)
{
    const int width = static_cast<int>(std::to_string(total).size());
    const size_t tests = Field(r, "tests").size();
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.1f s", ValueOr(r, "seconds", 0.0));
    std::ostringstream os;
    os << "[" << std::setw(width) << done << "/" << total << "] " << std::left << std::setw(28)
       << ValueOr(r, "id", "") << " " << std::setw(6) << ValueOr(r, "result", "") << " "
       << std::right << std::setw(3) << tests << (tests == 1 ? " case   " : " cases  ")
       << std::setw(7) << seconds;
    // The device's own words (the callback that crashed or faulted), once each.
    std::vector<std::string> lines;
    auto note = [&lines](const std::string& message) {
        const std::string line = message.substr(0, message.find('\n'));
        if (!line.empty() && std::find(lines.begin(), lines.end(), line) == lines.end())
        {
            lines.push_back(line);
        }
    };
    note(ValueOr(r, "error", ""));
    for (const auto& t : Field(r, "tests"))
    {
        if (ValueOr(t, "result", "") == "error")
        {
            note(ValueOr(t, "message", ""));
        }
    }
    for (const auto& line : lines)
    {
        os << "\n        " << line;
    }
    return os.str();
}

std::string
CertifySummaryTable(const Json& certify)
{
    std::ostringstream os;
    os << std::left << std::setw(28) << "requirement";
    for (const auto& mode : Field(certify, "modes"))
    {
        os << " " << std::setw(9) << mode.get<std::string>();
    }
    os << "\n";
    bool advisory = false;
    for (const auto& r : Field(certify, "requirements"))
    {
        os << std::setw(28) << ValueOr(r, "id", "");
        for (const auto& mode : Field(certify, "modes"))
        {
            const Json& results = Field(r, "results");
            const auto it = results.find(mode.get<std::string>());
            const std::string result = it == results.end() ? "-" : it->get<std::string>();
            os << " " << std::setw(9) << CellOf(result);
            advisory = advisory || result.rfind("advisory-", 0) == 0;
        }
        os << "\n";
    }
    if (advisory)
    {
        os << "(ADV-OK, ADV-FIND: advisory check, reported and never failing)\n";
    }
    // Each failing requirement with the first reason, where people look first.
    bool failures = false;
    for (const auto& r : Field(certify, "requirements"))
    {
        const std::string result = ValueOr(r, "result", "");
        if (result != "fail" && result != "error")
        {
            continue;
        }
        std::string reason = ValueOr(r, "error", "");
        std::string where;
        for (const auto& t : Field(r, "tests"))
        {
            const std::string testResult = ValueOr(t, "result", "");
            if (testResult == "fail" || testResult == "error")
            {
                reason = ValueOr(t, "message", "");
                where = ValueOr(t, "name", "");
                break;
            }
        }
        if (!failures)
        {
            os << "failing requirements, each with its first reason:\n";
            failures = true;
        }
        os << "  " << ValueOr(r, "id", "") << " (" << result << "): " << FailureReason(reason)
           << "\n";
        if (!where.empty())
        {
            os << "    in " << where << "\n";
        }
    }
    // What the advisory checks found, with the reason.
    const Json& findings = Field(certify, "advisory_findings");
    if (findings.is_array() && !findings.empty())
    {
        os << "advisory findings (they do not change the verdict):\n";
        for (const auto& f : findings)
        {
            const std::string finding = ValueOr(f, "finding", "");
            os << "  " << ValueOr(f, "test", "") << ": " << finding.substr(0, finding.find('\n'))
               << "\n";
        }
    }
    return os.str();
}

std::string
FailureReason(const std::string& message)
{
    // GoogleTest puts "file:line" first and its own expression dump ("Expected equality of
    // these values:", indented operands, "Which is: ...") before the test's explanation.
    std::vector<std::string> lines;
    std::istringstream in(message);
    std::string line;
    while (std::getline(in, line))
    {
        const size_t colon = line.rfind(':');
        const bool location = colon != std::string::npos && colon + 1 < line.size() &&
                              line.find(' ') == std::string::npos &&
                              std::all_of(line.begin() + colon + 1, line.end(), [](char c) {
                                  return std::isdigit(static_cast<unsigned char>(c));
                              });
        if (!location && line.find_first_not_of(" \t") != std::string::npos)
        {
            lines.push_back(line);
        }
    }
    auto boilerplate = [](const std::string& l) {
        static const char* starts[] =
            {"Expected", "Value of:", "Actual:", "Which is:", "  Actual:", "Failed", "Death test:"};
        if (l[0] == ' ' || l[0] == '\t')
        {
            return true;
        }
        for (const char* s : starts)
        {
            if (l.rfind(s, 0) == 0)
            {
                return true;
            }
        }
        return false;
    };
    // Only the first failure of the message, up to GoogleTest's trace.
    const auto trace = std::find(lines.begin(), lines.end(), "Google Test trace:");
    lines.erase(trace, lines.end());
    auto joined = [&](size_t from, size_t to) {
        std::string text;
        for (size_t i = from; i < to; ++i)
        {
            const size_t start = lines[i].find_first_not_of(" \t");
            text += (text.empty() ? "" : " ") + lines[i].substr(start);
        }
        return text;
    };
    size_t own = 0;
    while (own < lines.size() && boilerplate(lines[own]))
    {
        ++own;
    }
    std::string reason;
    if (own == lines.size())
    {
        reason = joined(0, lines.size()); // only GoogleTest's dump: all of it, on one line
    }
    else if (own == 0)
    {
        reason = lines.front();
    }
    else
    {
        // The test's words, with the comparison that failed (its values are the evidence).
        reason = lines[own] + " (" + joined(0, own) + ")";
    }
    if (reason.empty())
    {
        reason = "(no message)";
    }
    const size_t limit = 400;
    return reason.size() > limit ? reason.substr(0, limit) + "..." : reason;
}

std::string
VerdictLine(const Json& certify)
{
    const std::string error = ValueOr(certify, "error", "");
    const std::string interrupted = ValueOr(certify, "interrupted", "");
    if (!interrupted.empty())
    {
        size_t finished = 0;
        for (const auto& r : Field(certify, "requirements"))
        {
            bool ran = false;
            for (const auto& t : Field(r, "tests"))
            {
                ran = ran || ValueOr(t, "result", "") != "untested";
            }
            finished += ran;
        }
        return "verdict: INTERRUPTED (" + interrupted + "): no verdict; " +
               std::to_string(finished) + " of " +
               std::to_string(Field(certify, "requirements").size()) +
               " requirements ran, the reports hold what finished";
    }
    if (!error.empty())
    {
        return "verdict: ERROR: " + error.substr(0, error.find('\n'));
    }
    size_t pass = 0;
    size_t skip = 0;
    size_t findings = 0;
    size_t untestedModes = 0;
    for (const auto& r : Field(certify, "requirements"))
    {
        pass += ValueOr(r, "result", "") == "pass";
        skip += ValueOr(r, "result", "") == "skip";
        findings += ValueOr(r, "result", "") == "advisory-finding";
        for (const auto& [mode, result] : Field(r, "results").items())
        {
            untestedModes += result == "untested";
        }
    }
    const size_t requirements = Field(certify, "requirements").size();
    const Json& failing = Field(certify, "failing_requirements");
    std::ostringstream os;
    // A run of some requirements is never a certificate: it says so before anything else.
    const bool partial = certify.contains("partial") && certify["partial"].is_boolean() &&
                         certify["partial"].get<bool>();
    const std::string label = partial ? "PARTIAL RUN (--only), " : "";
    if (failing.empty())
    {
        os << "verdict: " << label << (partial ? "the requirements run conform" : "CONFORMS")
           << " (" << pass << " of " << requirements << " requirements pass, " << skip
           << " skipped";
    }
    else
    {
        os << "verdict: " << label << "DOES NOT CONFORM: failing requirements";
        for (size_t i = 0; i < failing.size(); ++i)
        {
            os << (i ? ", " : " ") << failing[i].get<std::string>();
        }
        os << " (" << pass << " of " << requirements << " pass";
    }
    if (untestedModes)
    {
        os << "; " << untestedModes << " requirement x mode with no test";
    }
    if (findings)
    {
        os << "; " << findings << " advisory " << (findings == 1 ? "check" : "checks")
           << " with findings";
    }
    os << ")";
    return os.str();
}

} // namespace offloadlab
