// Proof that the conformance suite can fail: `offloadlab certify` of every built-in device, as a
// user would run it. Each mutant (the reference engine with one defect) must be refused and
// named by at least one requirement; the reference, the example device and the two devices
// written from Linux drivers (netdevsim-like, mlx5-like) must conform, and the reference must
// leave no requirement x mode of the catalog untested.
#include "offload-device-type.h"
#include "requirement-catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

namespace fs = std::filesystem;

struct Certification
{
    int exitCode{-1};
    nlohmann::json report;
    std::string console;
    std::string junit;
};

/// `offloadlab certify` of device, of the requirements in only (comma-separated; "" for all).
Certification
Certify(const std::string& device, const std::string& only = "")
{
    std::string name = device;
    for (char& c : name)
    {
        c = std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    }
    const fs::path out = fs::temp_directory_path() /
                         ("offloadlab-mutation-" + std::to_string(getpid()) + "-" + name);
    fs::remove_all(out);
    const std::string console = (out.string() + ".console");
    const std::string command = std::string(OFFLOADLAB_BINARY) + " certify --device '" + device +
                                "' --out '" + out.string() + "' --jobs 2" +
                                (only.empty() ? "" : " --only " + only) + " > '" + console +
                                "' 2>&1";
    const int status = std::system(command.c_str());
    Certification c;
    c.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream consoleFile(console);
    c.console.assign(std::istreambuf_iterator<char>(consoleFile), {});
    std::ifstream reportFile(out / "certify.json");
    if (reportFile)
    {
        c.report = nlohmann::json::parse(reportFile, nullptr, false);
    }
    std::ifstream junitFile(out / "junit.xml");
    c.junit.assign(std::istreambuf_iterator<char>(junitFile), {});
    fs::remove_all(out);
    fs::remove(console);
    return c;
}

std::vector<std::string>
Mutants()
{
    std::vector<std::string> all;
    for (const auto& spec : ns3::OffloadDeviceType::ListBuiltin())
    {
        if (spec.rfind("mutant:", 0) == 0)
        {
            all.push_back(spec);
        }
    }
    return all;
}

std::string
TestName(const testing::TestParamInfo<std::string>& info)
{
    std::string name = info.param.substr(info.param.find(':') + 1);
    for (char& c : name)
    {
        c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return name;
}

/// The requirements the catalog's ABI rules say a device breaking what mutant breaks fails,
/// comma-separated, each once.
std::string
DeclaredRequirements(const std::string& mutant)
{
    offloadlab::RequirementCatalog catalog;
    std::string error;
    if (!offloadlab::RequirementCatalog::Load(offloadlab::RequirementCatalog::DefaultPath(),
                                              &catalog,
                                              &error))
    {
        ADD_FAILURE() << error;
        return "";
    }
    std::set<std::string> ids;
    for (const auto& rule : catalog.GetAbiRules())
    {
        if (std::find(rule.mutants.begin(), rule.mutants.end(), mutant.substr(7)) !=
            rule.mutants.end())
        {
            ids.insert(rule.requirements.begin(), rule.requirements.end());
        }
    }
    std::string joined;
    for (const std::string& id : ids)
    {
        joined += (joined.empty() ? "" : ",") + id;
    }
    return joined;
}

class MutantIsCaught : public testing::TestWithParam<std::string>
{
};

// By default each mutant is certified on the requirements its ABI rule names (a few seconds
// each: the catalog's claim that they catch it is what is tested). OFFLOADLAB_MUTATION_FULL=1
// certifies every mutant on the whole catalog (about 50 s each, the nightly run), which also
// shows that no other requirement errors under it.
TEST_P(MutantIsCaught, CertificationFailsNamingRequirements)
{
    const char* full = std::getenv("OFFLOADLAB_MUTATION_FULL");
    const bool whole = full && std::string(full) == "1";
    const std::string declared = DeclaredRequirements(GetParam());
    if (!whole && declared.empty())
    {
        ADD_FAILURE() << GetParam() << ": no ABI rule of the catalog names requirements for it";
        return;
    }
    const Certification c = Certify(GetParam(), whole ? "" : declared);
    ASSERT_FALSE(c.report.is_discarded() || c.report.is_null()) << c.console;
    EXPECT_EQ(c.exitCode, 1) << c.console;
    // A partial run (--only) says so in its status.
    EXPECT_EQ(c.report.value("status", ""), whole ? "does-not-conform" : "does-not-conform-partial")
        << c.console;
    // A mutant must be caught by what it does, not because it failed to load.
    EXPECT_TRUE(c.report.value("error", "").empty()) << c.report.value("error", "");
    const auto failing = c.report.value("failing_requirements", nlohmann::json::array());
    ASSERT_FALSE(failing.empty()) << "mutant " << GetParam() << " was not caught:\n" << c.console;
    std::string ids;
    for (const auto& id : failing)
    {
        ids += id.get<std::string>() + " ";
    }
    RecordProperty("caught_by", ids);
    RecordProperty("certified", whole ? "the whole catalog" : declared);
    // Only requirements that say why they failed.
    for (const auto& requirement : c.report["requirements"])
    {
        if (requirement.value("result", "") == "error")
        {
            ADD_FAILURE() << requirement.value("id", "") << " errored under " << GetParam() << ": "
                          << requirement.value("error", "");
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Builtin, MutantIsCaught, testing::ValuesIn(Mutants()), TestName);

TEST(MutationScore, EveryBuiltinMutantIsListed)
{
    EXPECT_GE(Mutants().size(), 10u);
}

// docs/conformance.md's table of ABI rules names the mutants that break each rule: every name is
// a built-in mutant, and every built-in mutant answers some rule.
TEST(MutationScore, AbiRulesNameExactlyTheBuiltinMutants)
{
    offloadlab::RequirementCatalog catalog;
    std::string error;
    ASSERT_TRUE(offloadlab::RequirementCatalog::Load(offloadlab::RequirementCatalog::DefaultPath(),
                                                     &catalog,
                                                     &error))
        << error;
    const std::vector<std::string> builtin = Mutants();
    std::set<std::string> named;
    for (const auto& rule : catalog.GetAbiRules())
    {
        for (const auto& mutant : rule.mutants)
        {
            named.insert("mutant:" + mutant);
            EXPECT_TRUE(std::find(builtin.begin(), builtin.end(), "mutant:" + mutant) !=
                        builtin.end())
                << "the rule \"" << rule.rule << "\" names mutant:" << mutant
                << ", which is not built in";
        }
    }
    for (const auto& spec : builtin)
    {
        EXPECT_TRUE(named.count(spec)) << spec << " answers no rule of the catalog's abi_rules";
    }
}

class CorrectDeviceConforms : public testing::TestWithParam<std::string>
{
};

TEST_P(CorrectDeviceConforms, CertificationPasses)
{
    const Certification c = Certify(GetParam());
    ASSERT_FALSE(c.report.is_discarded() || c.report.is_null()) << c.console;
    EXPECT_EQ(c.exitCode, 0) << c.console;
    EXPECT_EQ(c.report.value("status", ""), "conforms") << c.console;
    if (GetParam() != "reference")
    {
        return;
    }
    // The reference offers everything, so every requirement x mode must have run somewhere and
    // passed: nothing of the catalog is left unbuilt.
    for (const auto& requirement : c.report["requirements"])
    {
        const std::string id = requirement.value("id", "");
        for (const auto& [mode, value] : requirement["results"].items())
        {
            const std::string result = value.get<std::string>();
            if (requirement.value("kind", "") == "advisory")
            {
                EXPECT_EQ(result, "advisory-ok") << id << " " << mode;
            }
            else
            {
                EXPECT_EQ(result, "pass") << id << " " << mode;
            }
        }
    }
}

// The reference, the example and netdevsim-like (Linux's netdevsim with real crypto: a device
// Linux accepts must conform).
INSTANTIATE_TEST_SUITE_P(Builtin,
                         CorrectDeviceConforms,
                         testing::Values("reference", "example", "netdevsim-like", "mlx5-like"),
                         TestName);

// A device that breaks only an advisory check (zero padding: Linux never reads pad bytes)
// conforms, and the finding is reported in certify.json, the JUnit XML (not as a failure) and
// the console. The wire requirements are enough to show it, and keep the run short.
TEST(AdvisoryOnlyDevice, ConformsAndTheFindingIsReported)
{
    const Certification c =
        Certify("advisory:pad-zero", "PAD-CORRECT,PAD-CONTENT,ESP-WIRE-DECRYPTS,MODE-TRANSPORT");
    ASSERT_FALSE(c.report.is_discarded() || c.report.is_null()) << c.console;
    EXPECT_EQ(c.exitCode, 0) << c.console;
    EXPECT_EQ(c.report.value("status", ""), "conforms-partial") << c.console;
    bool sawContent = false;
    for (const auto& requirement : c.report["requirements"])
    {
        if (requirement.value("id", "") != "PAD-CONTENT")
        {
            EXPECT_NE(requirement.value("kind", ""), "advisory");
            continue;
        }
        sawContent = true;
        EXPECT_EQ(requirement.value("kind", ""), "advisory");
        EXPECT_EQ(requirement.value("result", ""), "advisory-finding") << c.console;
        // Software IPsec pads as it should; the device's modes are the finding.
        EXPECT_EQ(requirement["results"].value("sw", ""), "advisory-ok");
        EXPECT_EQ(requirement["results"].value("crypto", ""), "advisory-finding");
        EXPECT_EQ(requirement["results"].value("packet", ""), "advisory-finding");
    }
    EXPECT_TRUE(sawContent) << c.console;
    const auto findings = c.report.value("advisory_findings", nlohmann::json::array());
    ASSERT_FALSE(findings.empty()) << c.console;
    EXPECT_EQ(findings[0].value("id", ""), "PAD-CONTENT");
    EXPECT_NE(findings[0].value("finding", "").find("pad byte 0 is 0"), std::string::npos)
        << findings[0].dump();
    EXPECT_NE(c.console.find("advisory findings"), std::string::npos) << c.console;
    EXPECT_NE(c.console.find("ADV-FIND"), std::string::npos) << c.console;
    EXPECT_NE(c.console.find("the requirements run conform"), std::string::npos) << c.console;
    EXPECT_NE(c.junit.find("name=\"advisory_finding\""), std::string::npos) << c.junit;
    EXPECT_EQ(c.junit.find("<failure"), std::string::npos) << c.junit;
}

// Handles without a generation (netdevsim's scheme) break only the advisory DEV-STALE-HANDLE:
// Linux never passes a freed handle. The device conforms, and the finding is reported.
TEST(AdvisoryOnlyDevice, StaleHandleConformsWithTheFinding)
{
    const Certification c =
        Certify("advisory:handle-no-generation", "DEV-STALE-HANDLE,STATE-ADD-OK");
    ASSERT_FALSE(c.report.is_discarded() || c.report.is_null()) << c.console;
    EXPECT_EQ(c.exitCode, 0) << c.console;
    EXPECT_EQ(c.report.value("status", ""), "conforms-partial") << c.console;
    const auto findings = c.report.value("advisory_findings", nlohmann::json::array());
    ASSERT_FALSE(findings.empty()) << c.console;
    EXPECT_EQ(findings[0].value("id", ""), "DEV-STALE-HANDLE");
    EXPECT_NE(findings[0].value("finding", "").find("freed SA's handle"), std::string::npos)
        << findings[0].dump();
}

// A device that offloads IPv6 but no tunnel between families (state_add says -EOPNOTSUPP) is
// correct: Linux runs those crypto-offload SAs in software and fails packet-offload ones back to
// the key manager. It conforms; the cross-family packet-offload cases are skips with the reason.
TEST(CorrectVariantDevice, RefusingCrossFamilyTunnelsConforms)
{
    const Certification c = Certify("variant:ipv6-same-family", "OFFLOAD-OK-IPV6,IPV6-EXT-HEADERS");
    ASSERT_FALSE(c.report.is_discarded() || c.report.is_null()) << c.console;
    EXPECT_EQ(c.exitCode, 0) << c.console;
    EXPECT_EQ(c.report.value("status", "").rfind("conforms", 0), 0u) << c.console;
    const std::string all = c.report.dump();
    EXPECT_NE(all.find("does not offload this cross-family tunnel"), std::string::npos)
        << c.console;
    EXPECT_EQ(c.junit.find("<failure"), std::string::npos) << c.junit;
}

} // namespace
