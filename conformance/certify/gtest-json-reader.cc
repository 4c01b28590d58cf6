#include "gtest-json-reader.h"

#include "text-file.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

namespace offloadlab
{

namespace
{
/// Keys GoogleTest 1.12 itself writes into a testcase object; every other key is a property.
const std::set<std::string> kGtestTestKeys{"name",
                                           "value_param",
                                           "type_param",
                                           "file",
                                           "line",
                                           "status",
                                           "result",
                                           "timestamp",
                                           "time",
                                           "classname",
                                           "failures"};

bool
ParseFile(const std::string& path, nlohmann::ordered_json* json, std::string* error)
{
    const std::string text = ReadTextFile(path);
    if (text.empty())
    {
        *error = "no GoogleTest JSON in " + path;
        return false;
    }
    *json = nlohmann::ordered_json::parse(text, nullptr, false);
    if (json->is_discarded() || !json->is_object() || !json->contains("testsuites") ||
        !(*json)["testsuites"].is_array())
    {
        *error = path + " is not GoogleTest JSON output";
        return false;
    }
    return true;
}

std::string
StringOf(const nlohmann::ordered_json& object, const char* key)
{
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}
} // namespace

std::string
RequirementIdOfSuite(const std::string& suite)
{
    std::string id = suite.substr(suite.rfind('/') == std::string::npos ? 0 : suite.rfind('/') + 1);
    std::replace(id.begin(), id.end(), '_', '-');
    return id;
}

void
SplitTestName(const std::string& name, const std::vector<std::string>& modes, TestCaseResult* test)
{
    test->name = name;
    const size_t slash = name.find('/');
    test->check = name.substr(0, slash);
    test->variant = slash == std::string::npos ? "" : name.substr(slash + 1);
    const std::string first = test->variant.substr(0, test->variant.find('_'));
    test->mode = std::find(modes.begin(), modes.end(), first) != modes.end() ? first : "";
}

bool
ReadTestList(const std::string& path, std::vector<ListedSuite>* suites, std::string* error)
{
    nlohmann::ordered_json json;
    if (!ParseFile(path, &json, error))
    {
        return false;
    }
    for (const auto& s : json["testsuites"])
    {
        ListedSuite suite;
        suite.name = StringOf(s, "name");
        if (suite.name.empty() || suite.name.rfind("DISABLED_", 0) == 0 ||
            suite.name.find("/DISABLED_") != std::string::npos || !s.contains("testsuite"))
        {
            continue;
        }
        for (const auto& t : s["testsuite"])
        {
            const std::string name = StringOf(t, "name");
            if (!name.empty() && name.rfind("DISABLED_", 0) != 0)
            {
                suite.tests.push_back(name);
            }
        }
        if (!suite.tests.empty())
        {
            suites->push_back(std::move(suite));
        }
    }
    return true;
}

bool
ReadTestResults(const std::string& path,
                std::map<std::string, TestCaseResult>* results,
                std::string* error)
{
    nlohmann::ordered_json json;
    if (!ParseFile(path, &json, error))
    {
        return false;
    }
    for (const auto& s : json["testsuites"])
    {
        const std::string suiteName = StringOf(s, "name");
        if (!s.contains("testsuite") || !s["testsuite"].is_array())
        {
            continue;
        }
        for (const auto& t : s["testsuite"])
        {
            if (!t.is_object() || StringOf(t, "status") == "NOTRUN")
            {
                continue;
            }
            TestCaseResult r;
            r.suite = suiteName;
            r.name = StringOf(t, "name");
            if (r.name.empty())
            {
                r.name = "(set-up)";
            }
            r.seconds = std::strtod(StringOf(t, "time").c_str(), nullptr);
            std::string failures;
            if (t.contains("failures") && t["failures"].is_array())
            {
                for (const auto& f : t["failures"])
                {
                    failures += (failures.empty() ? "" : "\n\n") + StringOf(f, "failure");
                }
            }
            for (const auto& [key, value] : t.items())
            {
                if (!kGtestTestKeys.count(key) && key != kSkipReasonProperty)
                {
                    r.properties.emplace_back(key,
                                              value.is_string() ? value.get<std::string>()
                                                                : value.dump());
                }
            }
            if (t.contains("failures"))
            {
                r.outcome = Outcome::Fail;
                r.message = failures;
            }
            else if (StringOf(t, "result") == "SKIPPED")
            {
                r.outcome = Outcome::Skip;
                r.message = StringOf(t, kSkipReasonProperty);
                if (r.message.empty())
                {
                    r.message = "skipped";
                }
            }
            else
            {
                r.outcome = Outcome::Pass;
            }
            (*results)[r.FullName()] = std::move(r);
        }
    }
    return true;
}

size_t
ReadResultStream(const std::string& path, std::map<std::string, TestCaseResult>* results)
{
    std::istringstream in(ReadTextFile(path));
    std::string line;
    size_t read = 0;
    while (std::getline(in, line))
    {
        const auto j = nlohmann::ordered_json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
        {
            continue;
        }
        TestCaseResult r;
        r.suite = StringOf(j, "suite");
        r.name = StringOf(j, "name");
        const std::string result = StringOf(j, "result");
        if (r.suite.empty() || r.name.empty())
        {
            continue;
        }
        r.outcome = result == "pass"   ? Outcome::Pass
                    : result == "skip" ? Outcome::Skip
                                       : Outcome::Fail;
        r.message = StringOf(j, "message");
        if (r.outcome == Outcome::Skip && r.message.empty())
        {
            r.message = "skipped";
        }
        r.seconds = j.value("seconds", 0.0);
        if (j.contains("properties") && j["properties"].is_object())
        {
            for (const auto& [key, value] : j["properties"].items())
            {
                if (key != kSkipReasonProperty)
                {
                    r.properties.emplace_back(key,
                                              value.is_string() ? value.get<std::string>()
                                                                : value.dump());
                }
            }
        }
        (*results)[r.FullName()] = std::move(r);
        ++read;
    }
    return read;
}

} // namespace offloadlab
