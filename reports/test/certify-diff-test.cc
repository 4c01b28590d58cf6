// DiffCertify over small hand-made certify.json documents: every category of change, what
// counts as a regression, the printed text, and the documents it refuses.
#include "certify-diff.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace
{
using offloadlab::CertifyChange;
using offloadlab::CertifyDiff;
using offloadlab::CertifyDiffText;
using offloadlab::CertifyJsonProblem;
using offloadlab::DiffCertify;
using offloadlab::ReadCertifyJson;
using Json = nlohmann::ordered_json;

Json
Req(const std::string& id, const std::string& result, Json results = Json::object())
{
    return {{"id", id},
            {"kind", "requirement"},
            {"result", result},
            {"results", results},
            {"tests", Json::array()}};
}

Json
Doc(std::vector<Json> requirements, const std::string& status = "conforms")
{
    Json run{{"format", "offloadlab-certify"},
             {"version", 1},
             {"status", status},
             {"device", {{"spec", "reference"}, {"name", "reference"}, {"mutant", ""}}},
             {"advisory_findings", Json::array()},
             {"requirements", Json::array()}};
    for (auto& r : requirements)
    {
        run["requirements"].push_back(r);
    }
    return run;
}

Json
Finding(const std::string& id, const std::string& test, const std::string& finding)
{
    return {{"id", id}, {"test", test}, {"finding", finding}};
}

bool
Has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

const Json kBase = Doc({Req("A", "pass", {{"crypto", "pass"}, {"packet", "pass"}}),
                        Req("B", "pass", {{"sw", "pass"}})});
} // namespace

TEST(CertifyDiffTest, SameRunHasNoChanges)
{
    const CertifyDiff diff = DiffCertify(kBase, kBase);
    EXPECT_TRUE(diff.Empty());
    EXPECT_EQ(diff.Regressions(), 0u);
    EXPECT_EQ(diff.Improvements(), 0u);
    EXPECT_EQ(CertifyDiffText(diff), "diff: no changes\n");
}

// The fields main is about to add, and anything else a later layout adds, change nothing.
TEST(CertifyDiffTest, FieldsOfALaterLayoutAreIgnored)
{
    Json later = kBase;
    later["offloadlab"] = {{"version", "0.2.0"}, {"commit", "abc"}};
    later["catalog"] = {{"sha256", "00"}, {"requirements", 62}};
    later["partial"] = false;
    later["interrupted"] = false;
    later["requirements"][0]["new_field"] = {1, 2, 3};
    EXPECT_EQ(CertifyJsonProblem(later), "");
    EXPECT_TRUE(DiffCertify(kBase, later).Empty());
    EXPECT_EQ(CertifyDiffText(DiffCertify(later, kBase)), "diff: no changes\n");
}

TEST(CertifyDiffTest, PassToFailIsOneRegressionPerRequirementListedPerMode)
{
    const Json after = Doc({Req("A", "fail", {{"crypto", "fail"}, {"packet", "pass"}}),
                            Req("B", "pass", {{"sw", "pass"}})},
                           "does-not-conform");
    const CertifyDiff diff = DiffCertify(kBase, after);
    EXPECT_EQ(
        diff.stoppedPassing,
        (std::vector<CertifyChange>{{"A", "", "pass", "fail"}, {"A", "crypto", "pass", "fail"}}));
    EXPECT_TRUE(diff.statusRegressed);
    // The status change is explained by A: still one regression.
    EXPECT_EQ(diff.Regressions(), 1u);
    EXPECT_EQ(diff.Improvements(), 0u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text,
                    "stopped passing (regressions):\n  A: pass -> fail\n"
                    "  A crypto: pass -> fail\n"))
        << text;
    EXPECT_TRUE(Has(text, "status:\n  status: conforms -> does-not-conform\n")) << text;
    EXPECT_FALSE(Has(text, "started passing")) << text;
    EXPECT_TRUE(Has(text, "\ndiff: 1 regression, 0 improvements\n")) << text;
    EXPECT_EQ(text.substr(text.rfind('\n', text.size() - 2) + 1),
              "diff: 1 regression, 0 improvements\n");
}

// A requirement already failing in one mode still regresses when another mode stops passing.
TEST(CertifyDiffTest, AModeThatStopsPassingIsARegressionEvenWhenTheRequirementFailedBefore)
{
    const Json before = Doc({Req("A", "fail", {{"crypto", "fail"}, {"packet", "pass"}})});
    const Json after = Doc({Req("A", "fail", {{"crypto", "fail"}, {"packet", "error"}})});
    const CertifyDiff diff = DiffCertify(before, after);
    EXPECT_EQ(diff.stoppedPassing, (std::vector<CertifyChange>{{"A", "packet", "pass", "error"}}));
    EXPECT_EQ(diff.Regressions(), 1u);
    EXPECT_TRUE(Has(CertifyDiffText(diff), "  A packet: pass -> error\n"));
}

TEST(CertifyDiffTest, AdvisoryResultsThatNowFailOrErrorAreRegressions)
{
    const Json before = Doc({Req("ADV", "advisory-ok", {{"crypto", "advisory-ok"}}),
                             Req("ADV2", "advisory-finding", {{"sw", "advisory-finding"}})});
    const Json after =
        Doc({Req("ADV", "error", {{"crypto", "error"}}), Req("ADV2", "fail", {{"sw", "fail"}})});
    const CertifyDiff diff = DiffCertify(before, after);
    EXPECT_EQ(diff.stoppedPassing.size(), 4u);
    EXPECT_EQ(diff.Regressions(), 2u);
    // A finding that now errors is not "resolved".
    EXPECT_TRUE(diff.resolvedFindings.empty());
    EXPECT_TRUE(Has(CertifyDiffText(diff), "diff: 2 regressions, 0 improvements\n"));
}

TEST(CertifyDiffTest, FailToPassIsAnImprovementNotARegression)
{
    const Json before =
        Doc({Req("A", "fail", {{"crypto", "fail"}, {"packet", "error"}})}, "does-not-conform");
    const Json after = Doc({Req("A", "pass", {{"crypto", "pass"}, {"packet", "pass"}})});
    const CertifyDiff diff = DiffCertify(before, after);
    EXPECT_EQ(diff.startedPassing,
              (std::vector<CertifyChange>{{"A", "", "fail", "pass"},
                                          {"A", "crypto", "fail", "pass"},
                                          {"A", "packet", "error", "pass"}}));
    EXPECT_TRUE(diff.stoppedPassing.empty());
    EXPECT_FALSE(diff.statusRegressed);
    EXPECT_EQ(diff.Regressions(), 0u);
    EXPECT_EQ(diff.Improvements(), 1u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text,
                    "started passing:\n  A: fail -> pass\n  A crypto: fail -> pass\n"
                    "  A packet: error -> pass\n"))
        << text;
    EXPECT_TRUE(Has(text, "status:\n  status: does-not-conform -> conforms\n")) << text;
    EXPECT_TRUE(Has(text, "diff: 0 regressions, 1 improvement\n")) << text;
}

TEST(CertifyDiffTest, SkipAndPassChangesAreListedButNeitherRegressionNorImprovement)
{
    const Json after = Doc({Req("A", "pass", {{"crypto", "pass"}, {"packet", "skip"}}),
                            Req("B", "pass", {{"sw", "pass"}})});
    CertifyDiff diff = DiffCertify(kBase, after);
    EXPECT_EQ(diff.skipChanges, (std::vector<CertifyChange>{{"A", "packet", "pass", "skip"}}));
    EXPECT_EQ(diff.Regressions(), 0u);
    EXPECT_EQ(diff.Improvements(), 0u);
    EXPECT_FALSE(diff.Empty());
    std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text, "skip <-> pass:\n  A packet: pass -> skip\n")) << text;
    EXPECT_TRUE(Has(text, "diff: 0 regressions, 0 improvements\n")) << text;

    diff = DiffCertify(after, kBase);
    EXPECT_EQ(diff.skipChanges, (std::vector<CertifyChange>{{"A", "packet", "skip", "pass"}}));
    EXPECT_TRUE(Has(CertifyDiffText(diff), "  A packet: skip -> pass\n"));
}

TEST(CertifyDiffTest, OtherChangesAreListedAndNotCounted)
{
    const Json before = Doc({Req("A", "fail", {{"crypto", "fail"}}),
                             Req("B", "skip", {{"sw", "skip"}}),
                             Req("C", "untested", {{"sw", "untested"}})},
                            "does-not-conform");
    const Json after = Doc({Req("A", "error", {{"crypto", "error"}}),
                            Req("B", "fail", {{"sw", "fail"}}),
                            Req("C", "pass", {{"sw", "pass"}})},
                           "does-not-conform");
    const CertifyDiff diff = DiffCertify(before, after);
    EXPECT_EQ(diff.otherChanges.size(), 6u);
    EXPECT_TRUE(diff.stoppedPassing.empty());
    EXPECT_TRUE(diff.startedPassing.empty());
    EXPECT_EQ(diff.Regressions(), 0u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text, "other result changes:\n  A: fail -> error\n")) << text;
    EXPECT_TRUE(Has(text, "  B sw: skip -> fail\n")) << text;
    EXPECT_TRUE(Has(text, "  C sw: untested -> pass\n")) << text;
}

TEST(CertifyDiffTest, RemovedRequirementsAreRegressionsAddedOnesAreNot)
{
    const Json after = Doc({Req("A", "pass", {{"crypto", "pass"}, {"packet", "pass"}}),
                            Req("C", "fail", {{"sw", "fail"}})},
                           "does-not-conform");
    const CertifyDiff diff = DiffCertify(kBase, after);
    EXPECT_EQ(diff.removed, (std::vector<CertifyChange>{{"B", "", "pass", "-"}}));
    EXPECT_EQ(diff.added, (std::vector<CertifyChange>{{"C", "", "-", "fail"}}));
    EXPECT_EQ(diff.Regressions(), 1u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text,
                    "requirements removed (in OLD, not in NEW: regressions):\n"
                    "  B: pass -> -\n"))
        << text;
    EXPECT_TRUE(Has(text, "requirements added (in NEW only):\n  C: - -> fail\n")) << text;
    EXPECT_TRUE(Has(text, "diff: 1 regression, 0 improvements\n")) << text;

    // Added alone is no regression.
    EXPECT_EQ(DiffCertify(Doc({Req("A", "pass")}), Doc({Req("A", "pass"), Req("C", "fail")}))
                  .Regressions(),
              0u);
}

TEST(CertifyDiffTest, StatusNoLongerConformingIsARegressionOnItsOwn)
{
    const Json interrupted = Doc({Req("A", "pass", {{"crypto", "pass"}, {"packet", "pass"}}),
                                  Req("B", "pass", {{"sw", "pass"}})},
                                 "interrupted");
    CertifyDiff diff = DiffCertify(kBase, interrupted);
    EXPECT_TRUE(diff.statusRegressed);
    EXPECT_EQ(diff.Regressions(), 1u);
    EXPECT_TRUE(Has(CertifyDiffText(diff), "  status: conforms -> interrupted\n"));

    // The device no longer loads: every requirement is gone, and the error is shown.
    Json error = Doc({}, "error");
    error["error"] = "libfoo.so does not export olab_rx\nmore";
    diff = DiffCertify(kBase, error);
    EXPECT_EQ(diff.removed.size(), 2u);
    EXPECT_EQ(diff.Regressions(), 2u);
    EXPECT_TRUE(Has(CertifyDiffText(diff), "  NEW error: libfoo.so does not export olab_rx\n"));

    // Back to conforming is not a regression; neither is a status that never conformed.
    EXPECT_EQ(DiffCertify(interrupted, kBase).Regressions(), 0u);
    EXPECT_EQ(DiffCertify(Doc({}, "error"), Doc({}, "does-not-conform")).Regressions(), 0u);
}

TEST(CertifyDiffTest, AdvisoryFindingsFromTheFindingsList)
{
    Json before = Doc({Req("ADV", "advisory-finding", {{"crypto", "advisory-finding"}}),
                       Req("PAD", "advisory-ok", {{"crypto", "advisory-ok"}})});
    before["advisory_findings"].push_back(Finding("ADV", "ADV.Check/crypto_x", "old one"));
    Json after = Doc({Req("ADV", "advisory-ok", {{"crypto", "advisory-ok"}}),
                      Req("PAD", "advisory-finding", {{"crypto", "advisory-finding"}})});
    after["advisory_findings"].push_back(
        Finding("PAD", "PAD.Content/crypto_y", "padding is zeros\nsecond line"));
    const CertifyDiff diff = DiffCertify(before, after);
    ASSERT_EQ(diff.newFindings.size(), 1u);
    EXPECT_EQ(diff.newFindings[0].id, "PAD");
    EXPECT_EQ(diff.newFindings[0].test, "PAD.Content/crypto_y");
    EXPECT_EQ(diff.newFindings[0].finding, "padding is zeros");
    ASSERT_EQ(diff.resolvedFindings.size(), 1u);
    EXPECT_EQ(diff.resolvedFindings[0].id, "ADV");
    // advisory-ok <-> advisory-finding is a finding, not a pass/fail change.
    EXPECT_TRUE(diff.otherChanges.empty());
    EXPECT_TRUE(diff.stoppedPassing.empty());
    EXPECT_EQ(diff.Regressions(), 0u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text, "new advisory findings:\n  PAD PAD.Content/crypto_y: padding is zeros\n"))
        << text;
    EXPECT_TRUE(Has(text, "resolved advisory findings:\n  ADV ADV.Check/crypto_x: old one\n"))
        << text;
    EXPECT_TRUE(Has(text, "diff: 0 regressions, 0 improvements\n")) << text;
}

// Without an advisory_findings entry the requirement's results say it, per mode.
TEST(CertifyDiffTest, AdvisoryFindingsFromTheResultsAlone)
{
    Json before = Doc({Req("PAD", "advisory-ok", {{"crypto", "advisory-ok"}})});
    Json after = Doc({Req("PAD", "advisory-finding", {{"crypto", "advisory-finding"}})});
    before.erase("advisory_findings");
    after.erase("advisory_findings");
    CertifyDiff diff = DiffCertify(before, after);
    ASSERT_EQ(diff.newFindings.size(), 1u);
    EXPECT_EQ(diff.newFindings[0].id, "PAD");
    EXPECT_EQ(diff.newFindings[0].finding, "crypto: advisory-ok -> advisory-finding");
    EXPECT_TRUE(Has(CertifyDiffText(diff),
                    "new advisory findings:\n  PAD: crypto: advisory-ok -> advisory-finding\n"));
    diff = DiffCertify(after, before);
    ASSERT_EQ(diff.resolvedFindings.size(), 1u);
    EXPECT_EQ(diff.resolvedFindings[0].finding, "crypto: advisory-finding -> advisory-ok");
    EXPECT_TRUE(diff.newFindings.empty());
}

// A finding of a requirement NEW did not run is not resolved: the requirement is removed.
TEST(CertifyDiffTest, FindingOfARemovedRequirementIsNotResolved)
{
    Json before = Doc({Req("ADV", "advisory-finding", {{"crypto", "advisory-finding"}})});
    before["advisory_findings"].push_back(Finding("ADV", "ADV.Check/crypto_x", "found"));
    const CertifyDiff diff = DiffCertify(before, Doc({}));
    EXPECT_TRUE(diff.resolvedFindings.empty());
    EXPECT_EQ(diff.removed.size(), 1u);
    EXPECT_EQ(diff.Regressions(), 1u);
}

TEST(CertifyDiffTest, DeviceIdentityChanges)
{
    Json after = kBase;
    after["device"] = {{"spec", "mutant:no-replay-check"},
                       {"name", "reference"},
                       {"mutant", "no-replay-check"},
                       {"capabilities", {{"max_sa", 1}}}};
    const CertifyDiff diff = DiffCertify(kBase, after);
    EXPECT_EQ(diff.deviceChanges,
              (std::vector<CertifyChange>{{"spec", "", "reference", "mutant:no-replay-check"},
                                          {"mutant", "", "(none)", "no-replay-check"}}));
    EXPECT_EQ(diff.Regressions(), 0u);
    const std::string text = CertifyDiffText(diff);
    EXPECT_TRUE(Has(text,
                    "device:\n  spec: reference -> mutant:no-replay-check\n"
                    "  mutant: (none) -> no-replay-check\n"))
        << text;
    EXPECT_TRUE(Has(text, "diff: 0 regressions, 0 improvements\n")) << text;
}

TEST(CertifyDiffTest, ProblemsOfTheDocumentAreNamed)
{
    EXPECT_EQ(CertifyJsonProblem(kBase), "");
    EXPECT_EQ(CertifyJsonProblem(Json::array()), "not a JSON object");
    Json j = kBase;
    j["format"] = "offloadlab-results";
    EXPECT_TRUE(Has(CertifyJsonProblem(j), "\"offloadlab-results\"")) << CertifyJsonProblem(j);
    j = kBase;
    j.erase("format");
    EXPECT_TRUE(Has(CertifyJsonProblem(j), "not a certify.json document"));
    j = kBase;
    j.erase("requirements");
    EXPECT_TRUE(Has(CertifyJsonProblem(j), "\"requirements\"")) << CertifyJsonProblem(j);
    j = kBase;
    j["requirements"].push_back(Req("A", "pass"));
    EXPECT_EQ(CertifyJsonProblem(j), "requirement A appears twice");
    j = kBase;
    j["requirements"][1]["results"] = {{"sw", 3}};
    EXPECT_TRUE(Has(CertifyJsonProblem(j), "requirement B: the result of mode sw"))
        << CertifyJsonProblem(j);
    j = kBase;
    j["requirements"][0].erase("id");
    EXPECT_EQ(CertifyJsonProblem(j), "requirements[0] has no \"id\"");
    j = kBase;
    j["status"] = 1;
    EXPECT_EQ(CertifyJsonProblem(j), "\"status\" is not a string");
}

TEST(CertifyDiffTest, ReadingNamesTheFileAndTheProblem)
{
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("offloadlab-certify-diff-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    Json doc;
    std::string error;
    const std::string good = write("good.json", kBase.dump());
    EXPECT_TRUE(ReadCertifyJson(good, &doc, &error)) << error;
    EXPECT_EQ(doc, kBase);

    const std::string missing = (dir / "missing.json").string();
    EXPECT_FALSE(ReadCertifyJson(missing, &doc, &error));
    EXPECT_TRUE(Has(error, missing + ": cannot be read")) << error;

    const std::string broken = write("broken.json", "{\"format\": ");
    EXPECT_FALSE(ReadCertifyJson(broken, &doc, &error));
    EXPECT_TRUE(Has(error, broken + ": not valid JSON")) << error;

    const std::string empty = write("empty.json", "");
    EXPECT_FALSE(ReadCertifyJson(empty, &doc, &error));
    EXPECT_TRUE(Has(error, empty + ": is empty")) << error;

    const std::string other = write("other.json", "{\"format\": \"offloadlab-results\"}");
    EXPECT_FALSE(ReadCertifyJson(other, &doc, &error));
    EXPECT_TRUE(Has(error, other + ": not a certify.json document")) << error;

    EXPECT_FALSE(ReadCertifyJson(dir.string(), &doc, &error));
    EXPECT_TRUE(Has(error, dir.string() + ": is a folder")) << error;
    std::filesystem::remove_all(dir);
}
