// `offloadlab certify` as a vendor or CI runs it: real processes, the real conformance suite
// against the reference device, reports read back by parsers nobody here wrote (Python's
// ElementTree for junit.xml), and the command line's errors and exit codes.
#include "shell.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
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

std::string
SuiteBinary()
{
    return (fs::path(OFFLOADLAB_BINARY).parent_path() / "offloadlab-conformance-suite").string();
}

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
                    d == "mlx5-like" || d.rfind("advisory:", 0) == 0 || d.rfind("variant:", 0) == 0 ||
                    d.rfind("mutant:", 0) == 0)
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
    TempDir dir("certify-command-test-reference");
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
    EXPECT_NE(run.text.find("verdict: PARTIAL RUN (--only), the requirements run conform"),
              std::string::npos)
        << run.text;
    EXPECT_NE(run.text.find("device reference"), std::string::npos) << run.text;
    EXPECT_NE(run.text.find("lifetimes: packets exact, bytes exact"), std::string::npos)
        << run.text;

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
    EXPECT_EQ(report["status"], "conforms-partial");
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
                              "tunnel",
                              "lifetime_packets",
                              "lifetime_bytes",
                              "lifetime_poll_ms"})
    {
        EXPECT_TRUE(caps.contains(field)) << field;
    }
    EXPECT_EQ(caps["lifetime_packets"], "exact");
    EXPECT_EQ(caps["lifetime_bytes"], "exact");
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

// A device library that cannot be loaded: exit 1 with the loader's error, and both reports
// still say so.
TEST(CertifyRunnerTest, BadDeviceFailsWithTheErrorAndStillWritesTheReport)
{
    TempDir dir("certify-command-test-bad-device");
    const fs::path out = dir.Path() / "out";
    // A file that exists but is no shared library: dlopen refuses it.
    const std::string spec = (dir.Path() / "libnot-a-library.so").string();
    std::ofstream(spec) << "not an ELF file\n";
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
    TempDir dir("certify-command-test-options");
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
        {"--device reference" + out + " --timeout 0", {"--timeout", "'0'", "greater than 0"}},
        // A mistyped built-in device, and a library path that names no file.
        {"--device refrence" + out,
         {"'refrence'", "neither a built-in device nor a file", "--list-devices"}},
        {"--device /nonexistent/libdev.so" + out, {"'/nonexistent/libdev.so'", "not a file"}},
        {"--device reference" + out + " --suite /nonexistent/suite", {"--suite", "/nonexistent"}},
        {"--device reference", {"--out"}},
        {out.substr(1), {"--device"}},
        {"--device", {"--device"}},
    };
    for (const auto& call : calls)
    {
        Output run = Certify(call.args);
        EXPECT_EQ(run.exitCode, 2) << call.args << "\n" << run.text;
        EXPECT_EQ(run.text.find("probe"), std::string::npos) << call.args << "\n" << run.text;
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
    TempDir dir("certify-command-test-crash");
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
 {"name": "PAD_CORRECT", "testsuite": [{"name": "Pattern/sw_gcm128_transport"},
   {"name": "Pattern/crypto_gcm128_transport"}, {"name": "Pattern/packet_gcm128_transport"}]},
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
  PAD_CORRECT.*-*)
    cat > "$out" <<'EOF'
{"testsuites": [{"name": "PAD_CORRECT", "testsuite": [
 {"name": "Pattern/packet_gcm128_transport", "status": "RUN", "result": "COMPLETED",
  "time": "0.5s", "classname": "PAD_CORRECT"}]}]}
EOF
    exit 0;;
  PAD_CORRECT.*)
    echo "[ RUN      ] PAD_CORRECT.Pattern/sw_gcm128_transport"
    printf '%s\n' '{"suite": "PAD_CORRECT", "name": "Pattern/sw_gcm128_transport", "result": "pass", "message": "", "seconds": 0.25, "properties": {"aligned": "yes"}}' > "$OFFLOADLAB_RESULT_STREAM"
    echo "[       OK ] PAD_CORRECT.Pattern/sw_gcm128_transport (250 ms)"
    echo "[ RUN      ] PAD_CORRECT.Pattern/crypto_gcm128_transport"
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
    // The hang costs the test it happened in: the test that had finished keeps its result,
    // the one not reached yet ran again in a fresh process.
    EXPECT_EQ(byId["PAD-CORRECT"]["results"],
              nlohmann::json({{"sw", "pass"}, {"crypto", "error"}, {"packet", "pass"}}));
    const auto& padTests = byId["PAD-CORRECT"]["tests"];
    ASSERT_EQ(padTests.size(), 3u);
    EXPECT_EQ(padTests[0]["evidence"]["properties"], nlohmann::json({{"aligned", "yes"}}));
    EXPECT_NE(padTests[1]["message"].get<std::string>().find("timed out"), std::string::npos)
        << padTests[1].dump();
    EXPECT_NE(padTests[1]["message"].get<std::string>().find(
                  "while running PAD_CORRECT.Pattern/crypto_gcm128_transport"),
              std::string::npos)
        << padTests[1].dump();
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
    EXPECT_EQ(suites["PAD-CORRECT"]["cases"][1]["result"], "error");
    // The failure's message attribute is the sentence that explains it, not "seq.cc:12".
    EXPECT_EQ(seq["cases"][1]["message"], "Expected: 1 <first> & \"only\" Actual: 2");
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
        TempDir dir("certify-command-test-broken-" + b.defect);
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
        EXPECT_EQ(report["status"], "does-not-conform-partial");
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
    TempDir dir("certify-command-test-mutant");
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
    EXPECT_EQ(report["status"], "does-not-conform-partial");
    EXPECT_EQ(report["failing_requirements"], nlohmann::json({"SEQ-START-AT-1"}));
    EXPECT_NE(report["device"]["mutant"].get<std::string>(), "");
    // Every failing case keeps the pcap of its IPsec link and the keys to open it.
    size_t failing = 0;
    for (const auto& t : report["requirements"][0]["tests"])
    {
        if (t["result"] != "fail")
        {
            continue;
        }
        ++failing;
        bool pcap = false;
        bool keys = false;
        for (const auto& file : t["evidence"]["files"])
        {
            const std::string f = file.get<std::string>();
            pcap = pcap || (f.size() > 5 && f.compare(f.size() - 5, 5, ".pcap") == 0);
            keys = keys || f.find("esp_sa") != std::string::npos;
            EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
        }
        EXPECT_TRUE(pcap && keys) << t.dump(2);
    }
    EXPECT_GT(failing, 0u);
    // The console names each failing requirement with the reason, under the table.
    EXPECT_NE(run.text.find("failing requirements, each with its first reason:\n  SEQ-START-AT-1 "
                            "(fail): "),
              std::string::npos)
        << run.text;
}

namespace
{
/// Starts `offloadlab certify args...` in a process group of its own (as a shell starts a
/// foreground job), output into log; returns its PID.
pid_t
StartCertify(const std::vector<std::string>& args, const fs::path& log)
{
    const pid_t pid = fork();
    if (pid == 0)
    {
        setpgid(0, 0);
        const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        std::vector<std::string> all{OFFLOADLAB_BINARY, "certify"};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all)
        {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

/// Waits for text to appear in a file, at most seconds; true when it did.
bool
WaitForText(const fs::path& file, const std::string& text, double seconds)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end)
    {
        std::ifstream in(file);
        const std::string content((std::istreambuf_iterator<char>(in)), {});
        if (content.find(text) != std::string::npos)
        {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

/// The exit code of pid, waiting at most seconds (-1 when it is still running: then killed).
int
WaitExit(pid_t pid, double seconds)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0)
    {
        if (std::chrono::steady_clock::now() > end)
        {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// PIDs of live processes whose environment holds marker (every process a certify run starts
/// inherits OFFLOADLAB_EVIDENCE_DIR=<out>/evidence).
std::vector<std::string>
ProcessesWithEnvironment(const std::string& marker)
{
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator("/proc"))
    {
        const std::string pid = entry.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos)
        {
            continue;
        }
        std::ifstream in(entry.path() / "environ", std::ios::binary);
        const std::string env((std::istreambuf_iterator<char>(in)), {});
        std::ifstream stat(entry.path() / "stat");
        std::string statText((std::istreambuf_iterator<char>(stat)), {});
        const bool zombie = statText.find(") Z ") != std::string::npos;
        if (!zombie && env.find(marker) != std::string::npos)
        {
            std::ifstream cmd(entry.path() / "cmdline", std::ios::binary);
            std::string cmdline((std::istreambuf_iterator<char>(cmd)), {});
            std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
            found.push_back(pid + " " + cmdline);
        }
    }
    return found;
}
} // namespace

// Ctrl-C in the middle of a real certification: the terminal's SIGINT goes to certify's process
// group only (each suite process has its own), certify stops every child, writes both reports
// marked interrupted with what finished, and exits 130; nothing of the run is left behind.
TEST(CertifyInterruptTest, SigintStopsEveryChildAndWritesInterruptedReports)
{
    TempDir dir("certify-command-test-sigint");
    const fs::path out = dir.Path() / "out";
    const fs::path log = dir.Path() / "console";
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid =
        StartCertify({"--device", "reference", "--out", out.string(), "--jobs", "2"}, log);
    ASSERT_GT(pid, 0);
    // Mid-run: some requirements finished, others running, most not started.
    // "[ 3/62] ...": the third requirement finished.
    if (!WaitForText(log, "[ 3/", 120))
    {
        std::ifstream in(log);
        FAIL() << "certify printed no progress:\n"
               << std::string(std::istreambuf_iterator<char>(in), {});
    }
    const std::string marker = "OFFLOADLAB_EVIDENCE_DIR=" + (out / "evidence").string();
    ASSERT_FALSE(ProcessesWithEnvironment(marker).empty()) << "no suite process to stop";
    kill(-pid, SIGINT);
    const int code = WaitExit(pid, 30);
    RecordProperty(
        "wall_seconds",
        std::to_string(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
    std::ifstream consoleFile(log);
    const std::string console((std::istreambuf_iterator<char>(consoleFile)), {});
    EXPECT_EQ(code, 130) << console;
    EXPECT_EQ(ProcessesWithEnvironment(marker), std::vector<std::string>{}) << console;
    EXPECT_NE(console.find("verdict: INTERRUPTED (SIGINT)"), std::string::npos) << console;
    EXPECT_EQ(console.find("verdict: CONFORMS"), std::string::npos) << console;

    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object()) << console;
    EXPECT_EQ(report["status"], "interrupted");
    EXPECT_EQ(report["interrupted"], "SIGINT");
    size_t passed = 0;
    size_t notRun = 0;
    for (const auto& r : report["requirements"])
    {
        passed += r["result"] == "pass";
        notRun += r["result"] == "untested";
        for (const auto& t : r["tests"])
        {
            // Nothing the interruption stopped is reported as a device error or failure.
            EXPECT_NE(t["result"], "error") << t.dump();
            EXPECT_NE(t["result"], "fail") << t.dump();
        }
    }
    EXPECT_GE(passed, 3u) << "the requirements that finished keep their results";
    EXPECT_GT(notRun, 0u);
    const nlohmann::json junit = ParseJunit(out / "junit.xml");
    ASSERT_TRUE(junit.is_array());
    std::ifstream junitFile(out / "junit.xml");
    const std::string junitText((std::istreambuf_iterator<char>(junitFile)), {});
    EXPECT_NE(junitText.find("(interrupted: SIGINT)"), std::string::npos);
}

// SIGTERM (a CI job cancelled) while a device hangs: the hung suite process and what it
// started (here a sleep) are stopped by process group, the test that had finished keeps its
// result, and certify exits 143.
TEST(CertifyInterruptTest, SigtermStopsAHungSuiteAndKeepsFinishedTests)
{
    TempDir dir("certify-command-test-sigterm");
    const fs::path script = dir.Path() / "hanging-suite";
    {
        std::ofstream s(script);
        s << R"SH(#!/bin/sh
for a in "$@"; do
  case "$a" in
    --describe-device)
      echo '{"spec": "stand-in", "mutant": "", "capabilities": {"name": "stand-in"}}'; exit 0;;
    --gtest_output=json:*) out="${a#--gtest_output=json:}";;
    --gtest_list_tests) list=1;;
  esac
done
if [ -n "$list" ]; then
  echo '{"testsuites": [{"name": "IV_UNIQUE", "testsuite": [{"name": "NoRepeat/sw_gcm128_transport"}, {"name": "NoRepeat/crypto_gcm128_transport"}]}]}' > "$out"
  exit 0
fi
printf '%s\n' '{"suite": "IV_UNIQUE", "name": "NoRepeat/sw_gcm128_transport", "result": "pass", "message": "", "seconds": 0.1, "properties": {}}' > "$OFFLOADLAB_RESULT_STREAM"
echo "[ RUN      ] IV_UNIQUE.NoRepeat/crypto_gcm128_transport"
trap '' TERM
sleep 300
)SH";
    }
    chmod(script.c_str(), 0755);
    const fs::path out = dir.Path() / "out";
    const fs::path log = dir.Path() / "console";
    const pid_t pid = StartCertify({"--device",
                                    "stand-in",
                                    "--suite",
                                    script.string(),
                                    "--out",
                                    out.string(),
                                    "--timeout",
                                    "600"},
                                   log);
    ASSERT_GT(pid, 0);
    const std::string marker = "OFFLOADLAB_EVIDENCE_DIR=" + (out / "evidence").string();
    // Wait until the hung test runs (its sleep is up).
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ProcessesWithEnvironment(marker).size() < 2 && std::chrono::steady_clock::now() < end)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GE(ProcessesWithEnvironment(marker).size(), 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);
    // The script ignores SIGTERM: it goes after the grace period, by SIGKILL to its group.
    const int code = WaitExit(pid, 30);
    std::ifstream consoleFile(log);
    const std::string console((std::istreambuf_iterator<char>(consoleFile)), {});
    EXPECT_EQ(code, 143) << console;
    EXPECT_EQ(ProcessesWithEnvironment(marker), std::vector<std::string>{}) << console;
    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object()) << console;
    EXPECT_EQ(report["status"], "interrupted");
    EXPECT_EQ(report["interrupted"], "SIGTERM");
    for (const auto& r : report["requirements"])
    {
        if (r["id"] == "IV-UNIQUE")
        {
            EXPECT_EQ(r["results"]["sw"], "pass") << r.dump(2);
            EXPECT_EQ(r["results"]["crypto"], "untested") << r.dump(2);
            EXPECT_NE(r["tests"][1]["message"].get<std::string>().find("interrupted"),
                      std::string::npos);
        }
    }
}

// `--device libX.so` from the folder that holds it: the name is made absolute before dlopen
// (which would search the library path), and the reports name that file and its SHA-256.
TEST(CertifyRunnerTest, RelativeDevicePathIsResolvedAndTraced)
{
    const fs::path devices = fs::path(OFFLOADLAB_BINARY).parent_path() / "devices";
    const fs::path library = devices / "liboffloadlab-example-device.so";
    ASSERT_TRUE(fs::exists(library)) << library;
    TempDir dir("certify-command-test-relative");
    const fs::path out = dir.Path() / "out";
    Output run = Shell("cd " + Quote(devices.string()) + " && " + OFFLOADLAB_BINARY +
                       " certify --device liboffloadlab-example-device.so --only SEQ-START-AT-1 "
                       "--out " +
                       Quote(out.string()));
    EXPECT_EQ(run.exitCode, 0) << run.text;
    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object()) << run.text;
    EXPECT_EQ(report["device"]["spec"], fs::canonical(library).string());
    EXPECT_EQ(report["provenance"]["device_library"], fs::canonical(library).string());
    Output sha = Shell("sha256sum " + Quote(library.string()));
    EXPECT_EQ(sha.text.substr(0, 64), report["provenance"]["device_sha256"]);
}

// Where a report came from, in certify.json and junit.xml; a run of some requirements is
// labelled partial in the verdict, the status and junit, and never prints a bare CONFORMS.
TEST(CertifyRunnerTest, PartialRunIsLabelledAndTheReportsAreTraceable)
{
    TempDir dir("certify-command-test-trace");
    const fs::path out = dir.Path() / "out";
    Output run =
        Certify("--device reference --only SEQ-START-AT-1,IV-UNIQUE --out " + Quote(out.string()));
    EXPECT_EQ(run.exitCode, 0) << run.text;
    EXPECT_EQ(run.text.find("verdict: CONFORMS"), std::string::npos) << run.text;
    EXPECT_NE(run.text.find("verdict: PARTIAL RUN (--only)"), std::string::npos) << run.text;
    const nlohmann::json report = ReadJson(out / "certify.json");
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report["status"], "conforms-partial");
    EXPECT_EQ(report["partial"], true);
    const auto& p = report["provenance"];
    Output version = Shell(std::string(OFFLOADLAB_BINARY) + " --version");
    EXPECT_EQ(version.exitCode, 0);
    EXPECT_EQ(version.text,
              "offloadlab " + p["offloadlab_version"].get<std::string>() + " (commit " +
                  p["offloadlab_commit"].get<std::string>() + ")\n");
    EXPECT_NE(p["offloadlab_commit"], "");
    Output sha = Shell("sha256sum " + Quote(p["catalog"].get<std::string>()));
    EXPECT_EQ(sha.text.substr(0, 64), p["catalog_sha256"]);
    EXPECT_GE(p["catalog_version"].get<int>(), 1);
    Output suiteSha = Shell("sha256sum " + Quote(SuiteBinary()));
    EXPECT_EQ(suiteSha.text.substr(0, 64), p["device_sha256"]) << "a built-in device is the suite";
    EXPECT_NE(p["host"], "");
    EXPECT_NE(p["started"], "");
    EXPECT_GT(p["duration_seconds"].get<double>(), 0);
    EXPECT_EQ(p["command_line"],
              "offloadlab certify --device reference --only "
              "SEQ-START-AT-1,IV-UNIQUE --out " +
                  out.string());
    std::ifstream junitFile(out / "junit.xml");
    const std::string junit((std::istreambuf_iterator<char>(junitFile)), {});
    EXPECT_NE(junit.find("offloadlab certify reference (partial run: --only)"), std::string::npos);
    EXPECT_NE(junit.find("<property name=\"catalog_sha256\" value=\"" +
                         p["catalog_sha256"].get<std::string>() + "\"/>"),
              std::string::npos);
    EXPECT_NE(junit.find("<property name=\"status\" value=\"conforms-partial\"/>"),
              std::string::npos);
}

// A folder that exists but cannot be written is named as such (not "cannot create").
TEST(CertifyRunnerTest, UnwritableOutputFolderIsNamed)
{
    Output run = Certify("--device reference --out /proc/1");
    EXPECT_EQ(run.exitCode, 2) << run.text;
    EXPECT_NE(run.text.find("cannot write into the output folder '/proc/1'"), std::string::npos)
        << run.text;
}

// Debugging one requirement: --verbose runs it in the foreground with the suite's whole output
// and NS_LOG of the NIC, keeps every test's evidence and prints where it is.
TEST(CertifyRunnerTest, VerboseShowsTheSuiteNsLogAndTheEvidence)
{
    TempDir dir("certify-command-test-verbose");
    const fs::path out = dir.Path() / "out";
    Output run = Certify("--device mutant:no-replay-check --only REPLAY-DUPLICATE --variant "
                         "packet_gcm128_transport --verbose --out " +
                         Quote(out.string()));
    EXPECT_EQ(run.exitCode, 1) << run.text;
    EXPECT_NE(
        run.text.find("[ RUN      ] REPLAY_DUPLICATE.DroppedAndCounted/packet_gcm128_transport"),
        std::string::npos)
        << run.text;
    EXPECT_EQ(run.text.find("/sw_gcm128"), std::string::npos) << "--variant ran other tests";
    // NS_LOG of the stack, with its prefixes (time, node, function).
    EXPECT_NE(run.text.find("XfrmStack:AddState(): node 0 adds SPI"), std::string::npos)
        << run.text;
    const std::string pcap =
        (out / "evidence" / "REPLAY_DUPLICATE.DroppedAndCounted_packet_gcm128_transport" /
         "topology-1.pcap")
            .string();
    EXPECT_NE(run.text.find("evidence: " + pcap), std::string::npos) << run.text;
    EXPECT_TRUE(fs::is_regular_file(pcap));
    Output noOnly = Certify("--device reference --verbose --out " + Quote(out.string()));
    EXPECT_EQ(noOnly.exitCode, 2) << noOnly.text;
    EXPECT_NE(noOnly.text.find("--only"), std::string::npos) << noOnly.text;
}
