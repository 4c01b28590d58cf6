// `offloadlab certify --diff OLD NEW` as the nightly CI runs it: two real certifications (the
// reference, and a mutant that breaks packet offload's replay check, on the same requirements),
// compared, and the exit codes and messages of bad arguments and bad files.
#include "shell.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using clitest::Output;
using clitest::Quote;
using clitest::Shell;
using clitest::TempDir;

namespace
{
Output
Certify(const std::string& args)
{
    return Shell(std::string(OFFLOADLAB_BINARY) + " certify " + args);
}

nlohmann::ordered_json
ReadJson(const fs::path& path)
{
    std::ifstream in(path);
    return nlohmann::ordered_json::parse(in, nullptr, false);
}

std::string
Write(const fs::path& path, const std::string& text)
{
    std::ofstream(path) << text;
    return path.string();
}

bool
Has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

/// The last line of what the command printed.
std::string
LastLine(const std::string& text)
{
    const size_t end = text.find_last_not_of('\n');
    if (end == std::string::npos)
    {
        return "";
    }
    const size_t start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end - (start + 1) + 1);
}

const char* const kOnly = "--only REPLAY-DUPLICATE,SEQ-START-AT-1 --jobs 1";
} // namespace

// The reference and mutant:no-replay-check certified on the same requirements: the mutant's
// failure is a regression, named per mode; the other way round it is an improvement; a run
// compared with itself has no changes.
TEST(CertifyDiffCommandTest, MutantAfterReferenceIsARegressionNamingTheRequirement)
{
    Output devices = Certify("--list-devices");
    if (!Has(devices.text, "mutant:no-replay-check\n"))
    {
        GTEST_SKIP() << "needs the mutant no-replay-check";
    }
    TempDir dir("certify-diff-command-test-mutant");
    const fs::path reference = dir.Path() / "reference";
    const fs::path mutant = dir.Path() / "mutant";
    Output run =
        Certify("--device reference " + std::string(kOnly) + " --out " + Quote(reference.string()));
    ASSERT_EQ(run.exitCode, 0) << run.text;
    run = Certify("--device mutant:no-replay-check " + std::string(kOnly) + " --out " +
                  Quote(mutant.string()));
    ASSERT_EQ(run.exitCode, 1) << run.text;
    const auto mutantJson = ReadJson(mutant / "certify.json");
    ASSERT_TRUE(mutantJson.is_object());
    ASSERT_EQ(mutantJson["failing_requirements"], nlohmann::ordered_json({"REPLAY-DUPLICATE"}));

    const std::string oldJson = Quote((reference / "certify.json").string());
    const std::string newJson = Quote((mutant / "certify.json").string());
    Output diff = Certify("--diff " + oldJson + " " + newJson);
    EXPECT_EQ(diff.exitCode, 1) << diff.text;
    EXPECT_TRUE(Has(diff.text, "stopped passing (regressions):\n")) << diff.text;
    EXPECT_TRUE(Has(diff.text, "  REPLAY-DUPLICATE: pass -> fail\n")) << diff.text;
    EXPECT_TRUE(Has(diff.text, "  REPLAY-DUPLICATE packet: pass -> fail\n")) << diff.text;
    // Only packet offload lost its replay check; SEQ-START-AT-1 did not change at all.
    EXPECT_FALSE(Has(diff.text, "REPLAY-DUPLICATE sw:")) << diff.text;
    EXPECT_FALSE(Has(diff.text, "SEQ-START-AT-1")) << diff.text;
    EXPECT_TRUE(Has(diff.text, "  spec: reference -> mutant:no-replay-check\n")) << diff.text;
    EXPECT_TRUE(Has(diff.text, "  status: conforms-partial -> does-not-conform-partial\n"))
        << diff.text;
    EXPECT_EQ(LastLine(diff.text), "diff: 1 regression, 0 improvements") << diff.text;

    Output back = Certify("--diff " + newJson + " " + oldJson);
    EXPECT_EQ(back.exitCode, 0) << back.text;
    EXPECT_TRUE(Has(back.text, "started passing:\n  REPLAY-DUPLICATE: fail -> pass\n"))
        << back.text;
    EXPECT_FALSE(Has(back.text, "stopped passing")) << back.text;
    EXPECT_EQ(LastLine(back.text), "diff: 0 regressions, 1 improvement") << back.text;

    for (const std::string& file : {oldJson, newJson})
    {
        Output same = Certify("--diff " + file + " " + file);
        EXPECT_EQ(same.exitCode, 0) << same.text;
        EXPECT_EQ(LastLine(same.text), "diff: no changes") << same.text;
    }

    // A requirement the new run lacks is a regression too; fields a later layout adds
    // (main's "offloadlab", "catalog", "partial", "interrupted") change nothing.
    auto fewer = ReadJson(reference / "certify.json");
    auto& requirements = fewer["requirements"];
    for (auto it = requirements.begin(); it != requirements.end(); ++it)
    {
        if ((*it)["id"] == "SEQ-START-AT-1")
        {
            requirements.erase(it);
            break;
        }
    }
    Output removed =
        Certify("--diff " + oldJson + " " + Quote(Write(dir.Path() / "fewer.json", fewer.dump())));
    EXPECT_EQ(removed.exitCode, 1) << removed.text;
    EXPECT_TRUE(Has(removed.text,
                    "requirements removed (in OLD, not in NEW: regressions):\n"
                    "  SEQ-START-AT-1: pass -> -\n"))
        << removed.text;
    auto later = ReadJson(reference / "certify.json");
    later["offloadlab"] = {{"version", "0.2.0"}};
    later["catalog"] = {{"requirements", 62}};
    later["partial"] = true;
    later["interrupted"] = false;
    Output tolerant =
        Certify("--diff " + oldJson + " " + Quote(Write(dir.Path() / "later.json", later.dump())));
    EXPECT_EQ(tolerant.exitCode, 0) << tolerant.text;
    EXPECT_EQ(LastLine(tolerant.text), "diff: no changes") << tolerant.text;
    // ... and a run that was interrupted no longer conforms.
    later["status"] = "interrupted";
    Output interrupted =
        Certify("--diff " + oldJson + " " + Quote(Write(dir.Path() / "later.json", later.dump())));
    EXPECT_EQ(interrupted.exitCode, 1) << interrupted.text;
    EXPECT_TRUE(Has(interrupted.text, "  status: conforms-partial -> interrupted\n"))
        << interrupted.text;
}

TEST(CertifyDiffCommandTest, BadArgumentsAndFilesExitTwoNamingTheProblem)
{
    TempDir dir("certify-diff-command-test-bad");
    nlohmann::ordered_json minimal{{"format", "offloadlab-certify"},
                                   {"version", 1},
                                   {"status", "conforms"},
                                   {"requirements", nlohmann::json::array()}};
    const std::string good = Write(dir.Path() / "good.json", minimal.dump());
    const std::string broken = Write(dir.Path() / "broken.json", "{\"format\": \"offl");
    const std::string other = Write(dir.Path() / "other.json", "{\"format\": \"something\"}");
    const std::string missing = (dir.Path() / "missing.json").string();

    struct Case
    {
        std::string args;
        std::string message;
    };

    for (const Case& c : {
             Case{"--diff", "--diff needs two certify.json files"},
             Case{"--diff " + good, "--diff needs two certify.json files"},
             Case{"--diff " + good + " --jobs 2", "--diff needs two certify.json files"},
             Case{"--diff " + good + " " + good + " " + good, "takes no other options or files"},
             Case{"--diff " + good + " " + good + " --jobs 2", "takes no other options"},
             Case{"--device reference --diff " + good + " " + good,
                  "--diff cannot be combined with --device"},
             Case{"--diff " + good + " " + good + " --out x",
                  "--diff cannot be combined with --out"},
             Case{"--diff " + missing + " " + good, missing + ": cannot be read"},
             Case{"--diff " + good + " " + broken, broken + ": not valid JSON"},
             Case{"--diff " + good + " " + other, other + ": not a certify.json document"},
             Case{"--diff " + dir.Path().string() + " " + good, ": is a folder"},
         })
    {
        Output out = Certify(c.args);
        EXPECT_EQ(out.exitCode, 2) << c.args << "\n" << out.text;
        EXPECT_TRUE(Has(out.text, c.message)) << c.args << "\n" << out.text;
    }
    Output ok = Certify("--diff " + good + " " + good);
    EXPECT_EQ(ok.exitCode, 0) << ok.text;
    EXPECT_EQ(LastLine(ok.text), "diff: no changes") << ok.text;

    Output help = Certify("--help");
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_TRUE(Has(help.text, "--diff OLD NEW")) << help.text;
    EXPECT_TRUE(Has(help.text, "with --diff: 0 no regression")) << help.text;
}
