#include "certify-json.h"

#include "certify-report.h"

#include <csignal>

namespace offloadlab
{

namespace
{
nlohmann::ordered_json
TestJson(const TestCaseResult& t)
{
    nlohmann::ordered_json properties = nlohmann::ordered_json::object();
    for (const auto& [key, value] : t.properties)
    {
        properties[key] = value;
    }
    return {{"name", t.FullName()},
            {"check", t.check},
            {"variant", t.variant},
            {"mode", t.mode},
            {"result", OutcomeName(t.outcome)},
            {"message", t.message},
            {"duration", t.seconds},
            {"evidence", {{"properties", properties}, {"files", t.files}}}};
}

} // namespace

nlohmann::ordered_json
DeviceJson(const CertifyReport& report)
{
    nlohmann::ordered_json device{{"spec", report.deviceSpec}};
    if (report.device.is_object())
    {
        const auto& caps = report.device.value("capabilities", nlohmann::json::object());
        device["name"] = caps.value("name", "");
        device["description"] = caps.value("description", "");
        device["mutant"] = report.device.value("mutant", "");
        device["capabilities"] = caps;
    }
    return device;
}

nlohmann::ordered_json
CertifyJson(const CertifyReport& report)
{
    nlohmann::ordered_json j;
    j["format"] = "offloadlab-certify";
    j["version"] = kCertifyJsonVersion;
    j["status"] = report.Status();
    if (!report.error.empty())
    {
        j["error"] = report.error;
    }
    j["partial"] = report.Partial();
    j["interrupted"] = report.interruptedBy == 0        ? ""
                       : report.interruptedBy == SIGINT ? "SIGINT"
                       : report.interruptedBy == SIGTERM
                           ? "SIGTERM"
                           : "signal " + std::to_string(report.interruptedBy);
    j["device"] = DeviceJson(report);
    const CertifyProvenance& p = report.provenance;
    j["provenance"] = {{"offloadlab_version", p.version},
                       {"offloadlab_commit", p.commit},
                       {"catalog", p.catalogPath},
                       {"catalog_version", p.catalogVersion},
                       {"catalog_sha256", p.catalogSha256},
                       {"device_spec", report.deviceSpec},
                       {"device_library", p.deviceLibrary},
                       {"device_sha256", p.deviceSha256},
                       {"host", p.host},
                       {"started", report.started},
                       {"duration_seconds", report.wallSeconds},
                       {"command_line", p.commandLine}};
    j["started"] = report.started;
    j["finished"] = report.finished;
    j["wall_seconds"] = report.wallSeconds;
    j["jobs"] = report.jobs;
    j["suite"] = report.suitePath;
    j["only"] = report.only;
    j["failing_requirements"] = report.FailingIds();
    // What the advisory checks found, one entry per test: reported, never failing.
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    for (const auto& r : report.requirements)
    {
        for (const auto& t : r.tests)
        {
            if (t.outcome == Outcome::AdvisoryFinding)
            {
                findings.push_back(
                    {{"id", r.requirement.id}, {"test", t.FullName()}, {"finding", t.message}});
            }
        }
    }
    j["advisory_findings"] = findings;

    nlohmann::ordered_json counts{{"requirements", report.requirements.size()}};
    std::map<std::string, size_t> byOutcome;
    std::map<std::string, size_t> byTest;
    for (const auto& r : report.requirements)
    {
        ++byOutcome[OutcomeName(r.overall)];
        for (const auto& t : r.tests)
        {
            ++byTest[OutcomeName(t.outcome)];
        }
    }
    for (Outcome o : {Outcome::Pass,
                      Outcome::Fail,
                      Outcome::Error,
                      Outcome::Skip,
                      Outcome::Untested,
                      Outcome::AdvisoryOk,
                      Outcome::AdvisoryFinding})
    {
        counts[OutcomeName(o)] = byOutcome[OutcomeName(o)];
    }
    nlohmann::ordered_json tests;
    for (Outcome o : {Outcome::Pass,
                      Outcome::Fail,
                      Outcome::Error,
                      Outcome::Skip,
                      Outcome::AdvisoryOk,
                      Outcome::AdvisoryFinding})
    {
        tests[OutcomeName(o)] = byTest[OutcomeName(o)];
    }
    counts["tests"] = tests;
    j["summary"] = counts;

    j["modes"] = report.catalogModes;
    nlohmann::ordered_json requirements = nlohmann::ordered_json::array();
    for (const auto& r : report.requirements)
    {
        requirements.push_back(RequirementJson(r, report.catalogModes));
    }
    j["requirements"] = requirements;
    j["uncatalogued_suites"] = report.uncatalogued;
    return j;
}

nlohmann::ordered_json
RequirementJson(const RequirementResult& r, const std::vector<std::string>& catalogModes)
{
    nlohmann::ordered_json modes = nlohmann::ordered_json::object();
    for (const auto& mode : catalogModes)
    {
        auto it = r.modes.find(mode);
        if (it != r.modes.end())
        {
            modes[mode] = OutcomeName(it->second);
        }
    }
    nlohmann::ordered_json entry{{"id", r.requirement.id},
                                 {"kind", r.requirement.Kind()},
                                 {"text", r.requirement.text},
                                 {"source",
                                  {{"document", r.requirement.document},
                                   {"title", r.documentTitle},
                                   {"section", r.requirement.section},
                                   {"linux", r.requirement.linuxFunction}}},
                                 {"modes", r.requirement.modes},
                                 {"result", OutcomeName(r.overall)},
                                 {"results", modes},
                                 {"seconds", r.seconds}};
    if (!r.error.empty())
    {
        entry["error"] = r.error;
    }
    nlohmann::ordered_json tests = nlohmann::ordered_json::array();
    for (const auto& t : r.tests)
    {
        tests.push_back(TestJson(t));
    }
    entry["tests"] = tests;
    return entry;
}

} // namespace offloadlab
