#include "certify-result.h"

#include <algorithm>

namespace offloadlab
{

const char*
OutcomeName(Outcome outcome)
{
    switch (outcome)
    {
    case Outcome::Untested:
        return "untested";
    case Outcome::Skip:
        return "skip";
    case Outcome::Pass:
        return "pass";
    case Outcome::AdvisoryOk:
        return "advisory-ok";
    case Outcome::AdvisoryFinding:
        return "advisory-finding";
    case Outcome::Fail:
        return "fail";
    case Outcome::Error:
        return "error";
    }
    return "error";
}

Outcome
Combine(Outcome a, Outcome b)
{
    // The enum is ordered from least to most severe.
    return a > b ? a : b;
}

std::string
TestCaseResult::FullName() const
{
    return suite + "." + name;
}

void
RequirementResult::Summarize()
{
    modes.clear();
    for (const auto& mode : requirement.modes)
    {
        modes[mode] = Outcome::Untested;
    }
    overall = Outcome::Untested;
    for (auto& test : tests)
    {
        if (requirement.advisory &&
            (test.outcome == Outcome::Pass || test.outcome == Outcome::Fail))
        {
            // Reported, never failing: the finding is the recorded one or the failure message.
            auto finding =
                std::find_if(test.properties.begin(), test.properties.end(), [](const auto& p) {
                    return p.first == kAdvisoryFindingProperty;
                });
            if (finding != test.properties.end())
            {
                test.outcome = Outcome::AdvisoryFinding;
                test.message = finding->second;
            }
            else
            {
                test.outcome =
                    test.outcome == Outcome::Fail ? Outcome::AdvisoryFinding : Outcome::AdvisoryOk;
            }
        }
        overall = Combine(overall, test.outcome);
        auto it = modes.find(test.mode);
        if (it != modes.end())
        {
            it->second = Combine(it->second, test.outcome);
        }
        else if (test.mode.empty())
        {
            for (auto& [mode, outcome] : modes)
            {
                outcome = Combine(outcome, test.outcome);
            }
        }
    }
}

bool
CertifyReport::Conforms() const
{
    return error.empty() && interruptedBy == 0 && FailingIds().empty();
}

bool
CertifyReport::Partial() const
{
    return !only.empty();
}

std::string
CertifyReport::Status() const
{
    if (!error.empty())
    {
        return "error";
    }
    if (interruptedBy != 0)
    {
        return "interrupted";
    }
    return std::string(Conforms() ? "conforms" : "does-not-conform") +
           (Partial() ? "-partial" : "");
}

std::vector<std::string>
CertifyReport::FailingIds() const
{
    std::vector<std::string> ids;
    for (const auto& r : requirements)
    {
        if (!r.requirement.advisory && (r.overall == Outcome::Fail || r.overall == Outcome::Error))
        {
            ids.push_back(r.requirement.id);
        }
    }
    return ids;
}

} // namespace offloadlab
