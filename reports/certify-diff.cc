#include "certify-diff.h"

#include "json-fields.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace offloadlab
{

namespace
{
using Json = nlohmann::ordered_json;

/// Shown for a side that has no such result (a requirement or mode one run lacks).
const char* const kAbsent = "-";

bool
Passing(const std::string& outcome)
{
    return outcome == "pass" || outcome == "advisory-ok" || outcome == "advisory-finding";
}

bool
Failing(const std::string& outcome)
{
    return outcome == "fail" || outcome == "error";
}

bool
Advisory(const std::string& outcome)
{
    return outcome == "advisory-ok" || outcome == "advisory-finding";
}

/// j[key] as text when it is a string, else fallback.
std::string
Text(const Json& j, const char* key, const char* fallback = "")
{
    const Json& v = Field(j, key);
    return v.is_string() ? v.get<std::string>() : std::string(fallback);
}

std::string
FirstLine(const std::string& text)
{
    return text.substr(0, text.find('\n'));
}

/// The requirements of a run by ID, and their IDs in the run's order.
struct Requirements
{
    std::vector<std::string> order;
    std::map<std::string, const Json*> byId;

    explicit Requirements(const Json& run)
    {
        for (const auto& r : Field(run, "requirements"))
        {
            const std::string id = Text(r, "id");
            if (!id.empty() && byId.emplace(id, &r).second)
            {
                order.push_back(id);
            }
        }
    }

    const Json* Find(const std::string& id) const
    {
        const auto it = byId.find(id);
        return it == byId.end() ? nullptr : it->second;
    }
};

/// The advisory_findings entries of a run, keyed by requirement and test.
std::map<std::pair<std::string, std::string>, std::string>
Findings(const Json& run)
{
    std::map<std::pair<std::string, std::string>, std::string> findings;
    for (const auto& f : Field(run, "advisory_findings"))
    {
        findings.emplace(std::make_pair(Text(f, "id"), Text(f, "test")),
                         FirstLine(Text(f, "finding")));
    }
    return findings;
}

/// Sorts one changed result into its category, and notes a finding that only the results show.
class Classifier
{
  public:
    explicit Classifier(CertifyDiff* diff)
        : m_diff(diff)
    {
    }

    void Add(const CertifyChange& c)
    {
        if (c.from == c.to)
        {
            return;
        }
        if (c.to == "advisory-finding")
        {
            m_newResults.push_back(c);
        }
        else if (c.from == "advisory-finding" && Passing(c.to))
        {
            m_resolvedResults.push_back(c);
        }
        if (Passing(c.from) && Failing(c.to))
        {
            m_diff->stoppedPassing.push_back(c);
        }
        else if (Failing(c.from) && Passing(c.to))
        {
            m_diff->startedPassing.push_back(c);
        }
        else if ((c.from == "skip" && Passing(c.to)) || (Passing(c.from) && c.to == "skip"))
        {
            m_diff->skipChanges.push_back(c);
        }
        else if (!(Advisory(c.from) && Advisory(c.to)))
        {
            // advisory-ok <-> advisory-finding is listed as a new or resolved finding.
            m_diff->otherChanges.push_back(c);
        }
    }

    /// The result-only findings, for requirements no advisory_findings entry names: one per
    /// mode, or the overall result when no mode shows it.
    void AddResultFindings(const std::set<std::string>& namedNew,
                           const std::set<std::string>& namedResolved)
    {
        Append(m_newResults, namedNew, &m_diff->newFindings);
        Append(m_resolvedResults, namedResolved, &m_diff->resolvedFindings);
    }

  private:
    static void Append(const std::vector<CertifyChange>& changes,
                       const std::set<std::string>& named,
                       std::vector<CertifyFinding>* findings)
    {
        std::set<std::string> withMode;
        for (const auto& c : changes)
        {
            if (!c.mode.empty())
            {
                withMode.insert(c.id);
            }
        }
        for (const auto& c : changes)
        {
            if (named.count(c.id) || (c.mode.empty() && withMode.count(c.id)))
            {
                continue;
            }
            findings->push_back(
                {c.id, "", (c.mode.empty() ? "" : c.mode + ": ") + c.from + " -> " + c.to});
        }
    }

    CertifyDiff* m_diff;
    std::vector<CertifyChange> m_newResults;
    std::vector<CertifyChange> m_resolvedResults;
};

size_t
DistinctIds(const std::vector<CertifyChange>& changes)
{
    std::set<std::string> ids;
    for (const auto& c : changes)
    {
        ids.insert(c.id);
    }
    return ids.size();
}

std::string
Plural(size_t n, const char* word)
{
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string
ChangeLine(const CertifyChange& c)
{
    return "  " + c.id + (c.mode.empty() ? "" : " " + c.mode) + ": " + c.from + " -> " + c.to +
           "\n";
}

std::string
Section(const char* heading, const std::vector<CertifyChange>& changes)
{
    if (changes.empty())
    {
        return "";
    }
    std::string text = std::string(heading) + ":\n";
    for (const auto& c : changes)
    {
        text += ChangeLine(c);
    }
    return text;
}

std::string
Section(const char* heading, const std::vector<CertifyFinding>& findings)
{
    if (findings.empty())
    {
        return "";
    }
    std::string text = std::string(heading) + ":\n";
    for (const auto& f : findings)
    {
        text += "  " + f.id + (f.test.empty() ? "" : " " + f.test) + ": " + f.finding + "\n";
    }
    return text;
}
} // namespace

bool
CertifyChange::operator==(const CertifyChange& other) const
{
    return id == other.id && mode == other.mode && from == other.from && to == other.to;
}

size_t
CertifyDiff::Regressions() const
{
    const size_t requirements = DistinctIds(stoppedPassing) + removed.size();
    return requirements + (statusRegressed && requirements == 0 ? 1 : 0);
}

size_t
CertifyDiff::Improvements() const
{
    return DistinctIds(startedPassing);
}

bool
CertifyDiff::Empty() const
{
    return stoppedPassing.empty() && startedPassing.empty() && newFindings.empty() &&
           resolvedFindings.empty() && added.empty() && removed.empty() && skipChanges.empty() &&
           otherChanges.empty() && deviceChanges.empty() && status.from == status.to;
}

CertifyDiff
DiffCertify(const Json& oldRun, const Json& newRun)
{
    CertifyDiff diff;
    const Requirements before(oldRun);
    const Requirements after(newRun);
    Classifier classify(&diff);
    for (const auto& id : before.order)
    {
        const Json& o = *before.Find(id);
        const Json* n = after.Find(id);
        if (!n)
        {
            diff.removed.push_back({id, "", Text(o, "result", kAbsent), kAbsent});
            continue;
        }
        classify.Add({id, "", Text(o, "result", kAbsent), Text(*n, "result", kAbsent)});
        // Modes in OLD's order, then those only NEW has.
        std::vector<std::string> modes;
        for (const Json* r : {&o, n})
        {
            for (const auto& [mode, result] : Field(*r, "results").items())
            {
                if (std::find(modes.begin(), modes.end(), mode) == modes.end())
                {
                    modes.push_back(mode);
                }
            }
        }
        for (const auto& mode : modes)
        {
            classify.Add({id,
                          mode,
                          Text(Field(o, "results"), mode.c_str(), kAbsent),
                          Text(Field(*n, "results"), mode.c_str(), kAbsent)});
        }
    }
    for (const auto& id : after.order)
    {
        if (!before.Find(id))
        {
            diff.added.push_back({id, "", kAbsent, Text(*after.Find(id), "result", kAbsent)});
        }
    }

    // Findings the advisory_findings entries name: new ones, and old ones gone from a
    // requirement that still ran and passed (not one that was dropped or now crashes).
    const auto oldFindings = Findings(oldRun);
    const auto newFindings = Findings(newRun);
    std::set<std::string> namedNew;
    std::set<std::string> namedResolved;
    for (const auto& [key, finding] : newFindings)
    {
        if (!oldFindings.count(key))
        {
            diff.newFindings.push_back({key.first, key.second, finding});
            namedNew.insert(key.first);
        }
    }
    for (const auto& [key, finding] : oldFindings)
    {
        const Json* n = after.Find(key.first);
        if (!newFindings.count(key) && n && Passing(Text(*n, "result")))
        {
            diff.resolvedFindings.push_back({key.first, key.second, finding});
            namedResolved.insert(key.first);
        }
    }
    classify.AddResultFindings(namedNew, namedResolved);

    const Json& oldDevice = Field(oldRun, "device");
    const Json& newDevice = Field(newRun, "device");
    for (const char* field : {"spec", "name", "mutant"})
    {
        const std::string from = Text(oldDevice, field);
        const std::string to = Text(newDevice, field);
        if (from != to)
        {
            diff.deviceChanges.push_back(
                {field, "", from.empty() ? "(none)" : from, to.empty() ? "(none)" : to});
        }
    }

    diff.status = {"status", "", Text(oldRun, "status", kAbsent), Text(newRun, "status", kAbsent)};
    // "conforms" or, for a partial run, "conforms-partial".
    auto conforms = [](const std::string& status) { return status.rfind("conforms", 0) == 0; };
    diff.statusRegressed = conforms(diff.status.from) && !conforms(diff.status.to);
    diff.newError = FirstLine(Text(newRun, "error"));
    return diff;
}

std::string
CertifyDiffText(const CertifyDiff& diff)
{
    std::string text;
    text += Section("stopped passing (regressions)", diff.stoppedPassing);
    text += Section("started passing", diff.startedPassing);
    text += Section("new advisory findings", diff.newFindings);
    text += Section("resolved advisory findings", diff.resolvedFindings);
    text += Section("requirements removed (in OLD, not in NEW: regressions)", diff.removed);
    text += Section("requirements added (in NEW only)", diff.added);
    text += Section("skip <-> pass", diff.skipChanges);
    text += Section("other result changes", diff.otherChanges);
    text += Section("device", diff.deviceChanges);
    if (diff.status.from != diff.status.to)
    {
        text += "status:\n" + ChangeLine(diff.status);
        if (!diff.newError.empty())
        {
            text += "  NEW error: " + diff.newError + "\n";
        }
    }
    if (diff.Empty())
    {
        return text + "diff: no changes\n";
    }
    return text + "diff: " + Plural(diff.Regressions(), "regression") + ", " +
           Plural(diff.Improvements(), "improvement") + "\n";
}

std::string
CertifyJsonProblem(const Json& doc)
{
    if (!doc.is_object())
    {
        return "not a JSON object";
    }
    const std::string format = Text(doc, "format", "(none)");
    if (format != "offloadlab-certify")
    {
        return "not a certify.json document (\"format\" is \"" + format +
               "\", not \"offloadlab-certify\")";
    }
    const Json& version = Field(doc, "version");
    if (!version.is_null() && !version.is_number_integer())
    {
        return "\"version\" is not a whole number";
    }
    for (const char* key : {"status", "error"})
    {
        if (!Field(doc, key).is_null() && !Field(doc, key).is_string())
        {
            return std::string("\"") + key + "\" is not a string";
        }
    }
    if (!Field(doc, "device").is_null() && !Field(doc, "device").is_object())
    {
        return "\"device\" is not an object";
    }
    if (!Field(doc, "advisory_findings").is_null() && !Field(doc, "advisory_findings").is_array())
    {
        return "\"advisory_findings\" is not an array";
    }
    const Json& requirements = Field(doc, "requirements");
    if (!requirements.is_array())
    {
        return "\"requirements\" is missing or not an array";
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < requirements.size(); ++i)
    {
        const Json& r = requirements[i];
        const std::string where = "requirements[" + std::to_string(i) + "]";
        if (!r.is_object() || !Field(r, "id").is_string() || Text(r, "id").empty())
        {
            return where + " has no \"id\"";
        }
        const std::string id = Text(r, "id");
        if (!ids.insert(id).second)
        {
            return "requirement " + id + " appears twice";
        }
        if (!Field(r, "result").is_null() && !Field(r, "result").is_string())
        {
            return "requirement " + id + ": \"result\" is not a string";
        }
        const Json& results = Field(r, "results");
        if (!results.is_null() && !results.is_object())
        {
            return "requirement " + id + ": \"results\" is not an object";
        }
        for (const auto& [mode, result] : Field(r, "results").items())
        {
            if (!result.is_string())
            {
                return "requirement " + id + ": the result of mode " + mode + " is not a string";
            }
        }
    }
    return "";
}

bool
ReadCertifyJson(const std::string& path, Json* doc, std::string* error)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        *error = path + ": is a folder, not a certify.json file";
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        *error = path + ": cannot be read (no such file, or not readable)";
        return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
    {
        *error = path + ": cannot be read";
        return false;
    }
    if (text.str().find_first_not_of(" \t\r\n") == std::string::npos)
    {
        *error = path + ": is empty, not a certify.json document";
        return false;
    }
    try
    {
        *doc = Json::parse(text.str());
    }
    catch (const Json::exception& e)
    {
        *error = path + ": not valid JSON (" + e.what() + ")";
        return false;
    }
    const std::string problem = CertifyJsonProblem(*doc);
    if (!problem.empty())
    {
        *error = path + ": " + problem;
        return false;
    }
    return true;
}

} // namespace offloadlab
