// `offloadlab certify` as a vendor or CI runs it: real processes, the real conformance suite
// against the reference device, reports read back by parsers nobody here wrote (Python's
// ElementTree for junit.xml), and the command line's errors and exit codes.
#include "shell.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using clitest::Output;
using clitest::Quote;
using clitest::Shell;

namespace
{
Output
Certify(const std::string& args)
{
    return Shell(std::string(OFFLOADLAB_BINARY) + " certify " + args);
}

std::string
SuiteBinary()
{
    return (fs::path(OFFLOADLAB_BINARY).parent_path() / "offloadlab-conformance-suite").string();
}

/// A fresh folder for one test, removed at the end.
class TempDir
{
  public:
    explicit TempDir(const std::string& name)
        : m_path(fs::temp_directory_path() /
                 ("offloadlab-certify-command-test-" + name + "-" + std::to_string(getpid())))
    {
        fs::remove_all(m_path);
        fs::create_directories(m_path);
    }

    ~TempDir()
    {
        fs::remove_all(m_path);
    }

    const fs::path& Path() const
    {
        return m_path;
    }

  private:
    fs::path m_path;
};

nlohmann::json
ReadJson(const fs::path& path)
{
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, false);
}

/// junit.xml parsed by Python's ElementTree: [{name, tests, failures, errors, skipped,
/// cases: [{classname, name, result, message, text}]}]; null when it is not well-formed XML.
nlohmann::json
ParseJunit(const fs::path& path)
{
    const std::string script = R"PY(
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'testsuites', root.tag
suites = []
for s in root.findall('testsuite'):
    cases = []
    for c in s.findall('testcase'):
        result, message, text = 'pass', '', ''
        for kind in ('skipped', 'failure', 'error'):
            e = c.find(kind)
            if e is not None:
                result, message, text = kind, e.get('message', ''), e.text or ''
        cases.append(dict(classname=c.get('classname'), name=c.get('name'), result=result,
                          message=message, text=text, time=float(c.get('time'))))
    suites.append(dict(name=s.get('name'), tests=int(s.get('tests')),
                       failures=int(s.get('failures')), errors=int(s.get('errors')),
                       skipped=int(s.get('skipped')), cases=cases))
print(json.dumps(suites))
)PY";
    Output out = Shell("env -u PYTHONPATH -u PYTHONHOME /usr/bin/python3 -c " + Quote(script) +
                       " " + Quote(path.string()));
    if (out.exitCode != 0)
    {
        ADD_FAILURE() << "junit.xml is not valid XML: " << out.text;
        return nullptr;
    }
    return nlohmann::json::parse(out.text, nullptr, false);
}

/// The suite's tests per suite name, as the suite itself lists them.
std::map<std::string, std::vector<std::string>>
SuiteTests(const fs::path& scratch)
{
    std::map<std::string, std::vector<std::string>> tests;
    const fs::path list = scratch / "list.json";
    Output out = Shell(Quote(SuiteBinary()) +
                       " --gtest_list_tests --gtest_output=json:" + Quote(list.string()));
    EXPECT_EQ(out.exitCode, 0) << out.text;
    const nlohmann::json json = ReadJson(list);
    if (json.is_object() && json.contains("testsuites"))
    {
        for (const auto& s : json["testsuites"])
        {
            for (const auto& t : s["testsuite"])
            {
                tests[s["name"].get<std::string>()].push_back(t["name"].get<std::string>());
            }
        }
    }
    return tests;
}

std::string
SuiteName(std::string id)
{
    std::replace(id.begin(), id.end(), '-', '_');
    return id;
}
} // namespace

TEST(CertifyRunnerTest, ListDevicesPrintsTheBuiltinDevicesOnePerLine)
{
    Output out = Certify("--list-devices");
    ASSERT_EQ(out.exitCode, 0) << out.text;
    std::istringstream lines(out.text);
    std::string line;
    std::vector<std::string> devices;
    while (std::getline(lines, line))
    {
        EXPECT_EQ(line.find_first_of(" \t"), std::string::npos) << "not a device spec: " << line;
        devices.push_back(line);
    }
    ASSERT_FALSE(devices.empty());
    EXPECT_EQ(devices.front(), "reference");
    for (const auto& d : devices)
    {
        EXPECT_TRUE(d == "reference" || d == "example" || d == "netdevsim-like" ||
                    d == "mlx5-like" || d.rfind("advisory:", 0) == 0 || d.rfind("mutant:", 0) == 0)
            << d;
    }
}

TEST(CertifyRunnerTest, HelpDescribesTheOptions)
{
    for (const char* command : {" certify --help", " help certify"})
    {
        Output out = Shell(std::string(OFFLOADLAB_BINARY) + command);
        EXPECT_EQ(out.exitCode, 0) << command;
        for (const char* option : {"--device",
                                   "--out",
                                   "--jobs",
                                   "--only",
                                   "--list-devices",
                                   "junit.xml",
                                   "certify.json"})
        {
            EXPECT_NE(out.text.find(option), std::string::npos) << command << ": " << option;
        }
    }
}

// Two cheap requirements against the reference: exit 0, and both reports read back by
// independent parsers agree with what the suite itself lists.
TEST(CertifyRunnerTest, ReferenceOnTwoRequirementsConformsAndWritesBothReports)
{
    TempDir dir("reference");
    const auto listed = SuiteTests(dir.Path());
    // Cheap requirements the suite has; before the suite has them, they are reported untested.
    std::vector<std::string> ids;
    for (const char* id : {"SEQ-START-AT-1",
                           "IV-UNIQUE",
                           "PAD-CORRECT",
                           "NEXT-HEADER-CORRECT",
                           "ESP-WIRE-DECRYPTS",
                           "MODE-TRANSPORT"})
    {
        if (ids.size() < 2 && listed.count(SuiteName(id)))
        {
            ids.push_back(id);
        }
    }
    for (const char* id : {"SEQ-START-AT-1", "IV-UNIQUE"})
    {
        if (ids.size() < 2 && std::find(ids.begin(), ids.end(), id) == ids.end())
        {
            ids.push_back(id);
        }
    }
    const fs::path out = dir.Path() / "out";
    Output run = Certify("--device reference --jobs 2 --only " + ids[0] + "," + SuiteName(ids[1]) +
                         " --out " + Quote(out.string()));
    ASSERT_EQ(run.exitCode, 0) << run.text;
    EXPECT_NE(run.text.find("verdict: CONFORMS"), std::string::npos) << run.text;
    EXPECT_NE(run.text.find("device reference"), std::string::npos) << run.text;

    size_t expectedTests = 0;
    for (const auto& id : ids)
    {
        auto it = listed.find(SuiteName(id));
        expectedTests += it == listed.end() ? 0 : it->second.size();
        if (it != listed.end())
        {
            EXPECT_NE(run.text.find("] " + id), std::string::npos)
                << "no progress line for " << id << ":\n"
                << run.text;
        }
    }

    // junit.xml: one testsuite per requirement, one testcase per test of the suite.
    const nlohmann::json junit = ParseJunit(out / "junit.xml");
    ASSERT_TRUE(junit.is_array());
    ASSERT_EQ(junit.size(), ids.size());
    size_t cases = 0;
    for (size_t i = 0; i < ids.size(); ++i)
    {
        const auto& suite = junit[i];
        EXPECT_EQ(suite["name"], ids[i]);
        EXPECT_EQ(suite["tests"].get<size_t>(), suite["cases"].size());
        EXPECT_EQ(suite["failures"], 0);
        EXPECT_EQ(suite["errors"], 0);
        std::set<std::string> names;
        for (const auto& c : suite["cases"])
        {
            ++cases;
            EXPECT_EQ(c["classname"], ids[i]);
            const std::string name = c["name"];
            names.insert(name);
            const std::string variant = name.substr(name.find('/') + 1);
            EXPECT_TRUE(variant.rfind("sw_", 0) == 0 || variant.rfind("crypto_", 0) == 0 ||
                        variant.rfind("packet_", 0) == 0)
                << name;
            EXPECT_TRUE(c["result"] == "pass" || c["result"] == "skipped") << c.dump();
            if (c["result"] == "skipped")
            {
                EXPECT_FALSE(c["message"].get<std::string>().empty()) << c.dump();
            }
        }
        auto it = listed.find(SuiteName(ids[i]));
        if (it != listed.end())
        {
            EXPECT_EQ(names, std::set<std::string>(it->second.begin(), it->second.end()));
        }
    }
    EXPECT_EQ(cases, expectedTests);

    // certify.json: the device, the verdict and every test with its result and evidence.
    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report["status"], "conforms");
    EXPECT_EQ(report["device"]["spec"], "reference");
    const auto& caps = report["device"]["capabilities"];
    for (const char* field : {"size",
                              "abi_version",
                              "name",
                              "description",
                              "features",
                              "offload_types",
                              "algorithms",
                              "max_sa",
                              "max_policies",
                              "max_replay_window",
                              "esn",
                              "tunnel"})
    {
        EXPECT_TRUE(caps.contains(field)) << field;
    }
    EXPECT_TRUE(report["failing_requirements"].empty());
    EXPECT_GE(report["wall_seconds"].get<double>(), 0.0);
    ASSERT_EQ(report["requirements"].size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
    {
        const auto& r = report["requirements"][i];
        EXPECT_EQ(r["id"], ids[i]);
        EXPECT_FALSE(r["text"].get<std::string>().empty());
        EXPECT_FALSE(r["source"]["document"].get<std::string>().empty());
        EXPECT_EQ(r["results"].size(), r["modes"].size());
        for (const auto& [mode, result] : r["results"].items())
        {
            EXPECT_TRUE(result == "pass" || result == "skip" || result == "untested")
                << ids[i] << " " << mode << ": " << result;
        }
        for (const auto& t : r["tests"])
        {
            EXPECT_TRUE(t["result"] == "pass" || t["result"] == "skip") << t.dump();
            EXPECT_TRUE(t["evidence"]["properties"].is_object());
            for (const auto& file : t["evidence"]["files"])
            {
                EXPECT_TRUE(fs::is_regular_file(out / file.get<std::string>())) << file;
            }
        }
    }
}

// A device that cannot be loaded: exit 1 with the loader's error, and both reports still say so.
TEST(CertifyRunnerTest, BadDeviceFailsWithTheErrorAndStillWritesTheReport)
{
    TempDir dir("bad-device");
    const fs::path out = dir.Path() / "out";
    const std::string spec = (dir.Path() / "libno-such-device.so").string();
    Output run = Certify("--device " + Quote(spec) + " --out " + Quote(out.string()));
    EXPECT_EQ(run.exitCode, 1) << run.text;
    EXPECT_NE(run.text.find(spec), std::string::npos) << run.text;

    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report["status"], "error");
    EXPECT_EQ(report["device"]["spec"], spec);
    EXPECT_NE(report["error"].get<std::string>().find(spec), std::string::npos) << report.dump(2);

    const nlohmann::json junit = ParseJunit(out / "junit.xml");
    ASSERT_TRUE(junit.is_array());
    ASSERT_EQ(junit.size(), 1u);
    ASSERT_EQ(junit[0]["cases"].size(), 1u);
    EXPECT_EQ(junit[0]["cases"][0]["name"], "device-load");
    EXPECT_EQ(junit[0]["cases"][0]["result"], "error");
    EXPECT_NE(junit[0]["cases"][0]["text"].get<std::string>().find(spec), std::string::npos);
}

TEST(CertifyRunnerTest, BadOptionsExitTwoNamingTheOptionAndValue)
{
    TempDir dir("options");
    const std::string out = " --out " + Quote((dir.Path() / "out").string());

    struct BadCall
    {
        std::string args;
        std::vector<std::string> mentions;
    };

    const std::vector<BadCall> calls{
        {"--device reference" + out + " --frobnicate", {"--frobnicate"}},
        {"--device reference" + out + " --jobs 0", {"--jobs", "'0'"}},
        {"--device reference" + out + " --jobs two", {"--jobs", "'two'"}},
        {"--device reference" + out + " --only NO-SUCH-REQUIREMENT",
         {"--only", "NO-SUCH-REQUIREMENT"}},
        {"--device reference" + out + " --only SEQ-START-AT-1,", {"--only"}},
        {"--device reference" + out + " --timeout -3", {"--timeout", "'-3'"}},
        {"--device reference" + out + " --suite /nonexistent/suite", {"--suite", "/nonexistent"}},
        {"--device reference", {"--out"}},
        {out.substr(1), {"--device"}},
        {"--device", {"--device"}},
    };
    for (const auto& call : calls)
    {
        Output run = Certify(call.args);
        EXPECT_EQ(run.exitCode, 2) << call.args << "\n" << run.text;
        for (const auto& m : call.mentions)
        {
            EXPECT_NE(run.text.find(m), std::string::npos) << call.args << "\n" << run.text;
        }
    }
    EXPECT_FALSE(fs::exists(dir.Path() / "out" / "certify.json"));
}

// What a device that crashes or hangs looks like to the runner. The reference cannot crash on
// purpose, so a stand-in suite (a shell script that speaks the suite's protocol) plays a device
// that crashes in one requirement's process and hangs in another's; the runner, its child
// processes, signals and timeouts are real.
TEST(CertifyRunnerTest, CrashedAndHungProcessesBecomeErrorsNamingTheCallback)
{
    TempDir dir("crash");
    const fs::path script = dir.Path() / "stand-in-suite";
    {
        std::ofstream s(script);
        s << R"SH(#!/bin/sh
ulimit -c 0
for a in "$@"; do
  case "$a" in
    --describe-device)
      echo '{"spec": "'"$OFFLOADLAB_DEVICE"'", "mutant": "", "capabilities": {"name": "stand-in",
             "description": "stand-in device", "offload_type_names": ["crypto", "packet"]}}'
      exit 0;;
    --gtest_output=json:*) out="${a#--gtest_output=json:}";;
    --gtest_filter=*) filter="${a#--gtest_filter=}";;
    --gtest_list_tests) list=1;;
  esac
done
if [ -n "$list" ]; then
  cat > "$out" <<'EOF'
{"testsuites": [
 {"name": "SEQ_START_AT_1", "testsuite": [{"name": "FirstIsOne/sw_gcm128_transport"},
   {"name": "FirstIsOne/crypto_gcm128_transport"}, {"name": "FirstIsOne/packet_gcm128_transport"}]},
 {"name": "IV_UNIQUE", "testsuite": [{"name": "NoRepeat/sw_gcm128_transport"},
   {"name": "NoRepeat/crypto_gcm128_transport"}]},
 {"name": "PAD_CORRECT", "testsuite": [{"name": "Pattern/packet_gcm128_transport"}]},
 {"name": "NOT_IN_THE_CATALOG", "testsuite": [{"name": "X/sw_gcm128_transport"}]}]}
EOF
  exit 0
fi
case "$filter" in
  SEQ_START_AT_1.*)
    mkdir -p "$OFFLOADLAB_EVIDENCE_DIR/SEQ_START_AT_1.FirstIsOne_sw_gcm128_transport"
    : > "$OFFLOADLAB_EVIDENCE_DIR/SEQ_START_AT_1.FirstIsOne_sw_gcm128_transport/wire.pcap"
    cat > "$out" <<'EOF'
{"testsuites": [{"name": "SEQ_START_AT_1", "testsuite": [
 {"name": "FirstIsOne/sw_gcm128_transport", "status": "RUN", "result": "COMPLETED",
  "time": "0.25s", "classname": "SEQ_START_AT_1", "first_seq": "1", "pcap": "wire.pcap"},
 {"name": "FirstIsOne/crypto_gcm128_transport", "status": "RUN", "result": "COMPLETED",
  "time": "0.5s", "classname": "SEQ_START_AT_1",
  "failures": [{"failure": "seq.cc:12\nExpected: 1 <first> & \"only\"\nActual: 2", "type": ""}]},
 {"name": "FirstIsOne/packet_gcm128_transport", "status": "RUN", "result": "SKIPPED",
  "time": "0s", "classname": "SEQ_START_AT_1", "skip_reason": "device does not offer packet offload"}
]}]}
EOF
    exit 1;;
  IV_UNIQUE.*-IV_UNIQUE.NoRepeat/crypto_gcm128_transport)
    cat > "$out" <<'EOF'
{"testsuites": [{"name": "IV_UNIQUE", "testsuite": [
 {"name": "NoRepeat/sw_gcm128_transport", "status": "RUN", "result": "COMPLETED",
  "time": "0.125s", "classname": "IV_UNIQUE"}]}]}
EOF
    exit 0;;
  IV_UNIQUE.*)
    echo "[ RUN      ] IV_UNIQUE.NoRepeat/sw_gcm128_transport"
    echo "[       OK ] IV_UNIQUE.NoRepeat/sw_gcm128_transport (0 ms)"
    echo "[ RUN      ] IV_UNIQUE.NoRepeat/crypto_gcm128_transport"
    echo "offloadlab: device crashed in callback tx (signal 11)" >&2
    kill -SEGV $$;;
  PAD_CORRECT.*)
    exec sleep 60;;
esac
exit 3
)SH";
    }
    chmod(script.c_str(), 0755);
    const fs::path out = dir.Path() / "out";
    Output run = Certify("--device stand-in --timeout 2 --jobs 3 --suite " +
                         Quote(script.string()) + " --out " + Quote(out.string()));
    EXPECT_EQ(run.exitCode, 1) << run.text;
    EXPECT_NE(run.text.find("offloadlab: device crashed in callback tx (signal 11)"),
              std::string::npos)
        << run.text;
    EXPECT_NE(run.text.find("NOT_IN_THE_CATALOG"), std::string::npos) << run.text;
    EXPECT_NE(run.text.find("DOES NOT CONFORM: failing requirements SEQ-START-AT-1, IV-UNIQUE, "
                            "PAD-CORRECT"),
              std::string::npos)
        << run.text;

    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report["status"], "does-not-conform");
    EXPECT_EQ(report["failing_requirements"],
              nlohmann::json({"SEQ-START-AT-1", "IV-UNIQUE", "PAD-CORRECT"}));
    std::map<std::string, nlohmann::json> byId;
    for (const auto& r : report["requirements"])
    {
        byId[r["id"]] = r;
    }
    // Every catalog entry has a row; the ones without a test are untested, not passed.
    EXPECT_GE(byId.size(), 40u);
    EXPECT_EQ(byId["MODE-TUNNEL"]["result"], "untested");
    EXPECT_EQ(byId["SEQ-START-AT-1"]["results"],
              nlohmann::json({{"sw", "pass"}, {"crypto", "fail"}, {"packet", "skip"}}));
    const auto& seqTests = byId["SEQ-START-AT-1"]["tests"];
    ASSERT_EQ(seqTests.size(), 3u);
    EXPECT_EQ(seqTests[0]["evidence"]["properties"],
              nlohmann::json({{"first_seq", "1"}, {"pcap", "wire.pcap"}}));
    EXPECT_EQ(seqTests[0]["evidence"]["files"],
              nlohmann::json({"evidence/SEQ_START_AT_1.FirstIsOne_sw_gcm128_transport/wire.pcap"}));
    EXPECT_DOUBLE_EQ(seqTests[0]["duration"].get<double>(), 0.25);
    EXPECT_EQ(seqTests[2]["message"], "device does not offer packet offload");
    // The crash costs the test it happened in; the other test ran again in a fresh process.
    EXPECT_EQ(byId["IV-UNIQUE"]["results"],
              nlohmann::json({{"sw", "pass"}, {"crypto", "error"}, {"packet", "untested"}}));
    EXPECT_TRUE(fs::exists(out / "raw" / "IV-UNIQUE.2.json"));
    const std::string crash = byId["IV-UNIQUE"]["tests"][1]["message"];
    EXPECT_NE(crash.find("device crashed in callback tx (signal 11)"), std::string::npos) << crash;
    EXPECT_NE(crash.find("while running IV_UNIQUE.NoRepeat/crypto_gcm128_transport"),
              std::string::npos)
        << crash;
    EXPECT_EQ(byId["PAD-CORRECT"]["results"]["packet"], "error");
    EXPECT_NE(byId["PAD-CORRECT"]["error"].get<std::string>().find("timed out"), std::string::npos);
    EXPECT_EQ(report["uncatalogued_suites"], nlohmann::json({"NOT_IN_THE_CATALOG"}));

    // junit.xml keeps the markup of the failure message intact through escaping.
    const nlohmann::json junit = ParseJunit(out / "junit.xml");
    ASSERT_TRUE(junit.is_array());
    std::map<std::string, nlohmann::json> suites;
    for (const auto& s : junit)
    {
        suites[s["name"]] = s;
    }
    const auto& seq = suites["SEQ-START-AT-1"];
    EXPECT_EQ(seq["failures"], 1);
    EXPECT_EQ(seq["skipped"], 1);
    EXPECT_EQ(seq["cases"][1]["result"], "failure");
    EXPECT_EQ(seq["cases"][1]["text"], "seq.cc:12\nExpected: 1 <first> & \"only\"\nActual: 2");
    EXPECT_EQ(seq["cases"][2]["message"], "device does not offer packet offload");
    EXPECT_EQ(suites["IV-UNIQUE"]["errors"], 1);
    EXPECT_NE(suites["IV-UNIQUE"]["cases"][1]["message"].get<std::string>().find(
                  "device crashed in callback tx"),
              std::string::npos);
    EXPECT_EQ(suites["PAD-CORRECT"]["cases"][0]["result"], "error");
    EXPECT_EQ(suites["MODE-TUNNEL"]["tests"], 0);
}

/// One of the lead's broken device libraries (conformance/devices), built next to offloadlab.
std::string
BrokenDevice(const std::string& defect)
{
    return (fs::path(OFFLOADLAB_BINARY).parent_path() / "devices" /
            ("liboffloadlab-broken-" + defect + ".so"))
        .string();
}

// Real vendor-style libraries, each breaking the ABI one way, run by the real suite: the error
// names the symbol or the callback, and the run still ends with both reports.
TEST(CertifyRunnerTest, BrokenDeviceLibrariesAreNamedByCallback)
{
    struct Broken
    {
        std::string defect;
        std::string says;
    };

    for (const Broken& b :
         {Broken{"missing-symbol", "does not export olab_rx"},
          Broken{"crash-tx", "offloadlab: device crashed in callback olab_tx (signal 11)"},
          Broken{"garbage", "offloadlab: device fault in callback olab_state_add: returned 7"}})
    {
        const std::string library = BrokenDevice(b.defect);
        if (!fs::exists(library))
        {
            GTEST_SKIP() << "build the target offloadlab-broken-" << b.defect << " (" << library
                         << ")";
        }
        TempDir dir("broken-" + b.defect);
        const fs::path out = dir.Path() / "out";
        Output run = Certify("--device " + Quote(library) + " --only SEQ-START-AT-1 --out " +
                             Quote(out.string()));
        EXPECT_EQ(run.exitCode, 1) << run.text;
        EXPECT_NE(run.text.find(b.says), std::string::npos) << run.text;
        const nlohmann::json report = ReadJson(out / "certify.json");
        ASSERT_TRUE(report.is_object()) << b.defect;
        const nlohmann::json junit = ParseJunit(out / "junit.xml");
        ASSERT_TRUE(junit.is_array()) << b.defect;
        if (b.defect == "missing-symbol")
        {
            EXPECT_EQ(report["status"], "error");
            EXPECT_NE(report["error"].get<std::string>().find(b.says), std::string::npos);
            continue;
        }
        // The device is not used in software IPsec: those cases still pass.
        EXPECT_EQ(report["status"], "does-not-conform");
        EXPECT_EQ(report["requirements"][0]["results"]["crypto"], "error") << b.defect;
        EXPECT_EQ(report["requirements"][0]["results"]["sw"], "pass") << b.defect;
        size_t errors = 0;
        for (const auto& c : junit[0]["cases"])
        {
            if (c["result"] == "error")
            {
                ++errors;
                EXPECT_NE(c["text"].get<std::string>().find(b.says), std::string::npos);
                EXPECT_NE(c["name"].get<std::string>().find("/crypto_"), std::string::npos);
            }
        }
        EXPECT_GT(errors, 0u) << b.defect;
    }
}

// Once the built-in mutants exist: one whose defect the suite must catch fails certification,
// naming the requirement.
TEST(CertifyRunnerTest, MutantFailsNamingTheRequirement)
{
    TempDir dir("mutant");
    const auto listed = SuiteTests(dir.Path());
    Output devices = Certify("--list-devices");
    if (devices.text.find("mutant:seq-start-2\n") == std::string::npos ||
        !listed.count("SEQ_START_AT_1"))
    {
        GTEST_SKIP() << "needs the mutant seq-start-2 and the suite's SEQ_START_AT_1 tests";
    }
    const fs::path out = dir.Path() / "out";
    Output run =
        Certify("--device mutant:seq-start-2 --only SEQ-START-AT-1 --out " + Quote(out.string()));
    EXPECT_EQ(run.exitCode, 1) << run.text;
    EXPECT_NE(run.text.find("DOES NOT CONFORM: failing requirements SEQ-START-AT-1"),
              std::string::npos)
        << run.text;
    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report["status"], "does-not-conform");
    EXPECT_EQ(report["failing_requirements"], nlohmann::json({"SEQ-START-AT-1"}));
    EXPECT_NE(report["device"]["mutant"].get<std::string>(), "");
}
