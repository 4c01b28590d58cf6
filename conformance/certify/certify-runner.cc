#include "certify-runner.h"

#include "certify-interrupt.h"
#include "certify-json.h"
#include "certify-report.h"
#include "offloadlab-version.h"
#include "text-file.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <openssl/evp.h>
#include <set>
#include <sstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace offloadlab
{

namespace
{
std::string
UtcNow()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

std::vector<std::string>
Lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
    {
        if (!line.empty() && line.back() == '\r')
        {
            line.pop_back();
        }
        lines.push_back(line);
    }
    return lines;
}

/// The lines the device shell prints when a device callback crashes or misbehaves:
/// "offloadlab: device crashed in callback <name> (signal N)",
/// "offloadlab: device fault in callback <name>: <detail>".
std::vector<std::string>
DeviceLines(const std::string& stderrText)
{
    std::vector<std::string> found;
    for (const auto& line : Lines(stderrText))
    {
        const size_t at = line.find("offloadlab: device ");
        if (at != std::string::npos &&
            (line.find("crashed in callback", at) != std::string::npos ||
             line.find("fault in callback", at) != std::string::npos) &&
            std::find(found.begin(), found.end(), line.substr(at)) == found.end())
        {
            found.push_back(line.substr(at));
        }
    }
    return found;
}

/// The last non-empty lines of a text, at most n.
std::string
Tail(const std::string& text, size_t n)
{
    std::vector<std::string> lines;
    for (const auto& line : Lines(text))
    {
        if (line.find_first_not_of(" \t") != std::string::npos)
        {
            lines.push_back(line);
        }
    }
    std::string out;
    for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    {
        out += (out.empty() ? "" : "\n") + lines[i];
    }
    return out;
}

/// SHA-256 of a file in hex, "" when it cannot be read.
std::string
Sha256OfFile(const std::string& path)
{
    // The bytes as they are (ReadTextFile would clean them up as UTF-8).
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        return "";
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    {
        return "";
    }
    static const char* hex = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < size; ++i)
    {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 15];
    }
    return text;
}

/// The test a GoogleTest process had started but not finished when it ended.
std::string
UnfinishedTest(const std::string& stdoutText)
{
    std::string running;
    for (const auto& line : Lines(stdoutText))
    {
        if (line.rfind("[ RUN      ] ", 0) == 0)
        {
            running = line.substr(13);
        }
        else if (line.rfind("[       OK ] ", 0) == 0 || line.rfind("[  FAILED  ] ", 0) == 0 ||
                 line.rfind("[  SKIPPED ] ", 0) == 0)
        {
            running.clear();
        }
    }
    return running;
}
} // namespace

CertifyRunner::CertifyRunner(CertifyOptions options,
                             const RequirementCatalog& catalog,
                             std::ostream& progress,
                             std::ostream& errors)
    : m_options(std::move(options)),
      m_catalog(catalog),
      m_progress(progress),
      m_errors(errors)
{
    m_report.deviceSpec = m_options.device;
    m_report.suitePath = m_options.suitePath;
    m_report.only = m_options.only;
    m_report.catalogModes = m_catalog.GetModes();
    m_report.jobs = m_options.jobs;
}

const CertifyReport&
CertifyRunner::GetReport() const
{
    return m_report;
}

std::string
CertifyRunner::Raw(const std::string& name) const
{
    return (fs::path(m_options.outDir) / "raw" / name).string();
}

std::map<std::string, std::string>
CertifyRunner::ChildEnvironment(const std::string& attempt) const
{
    std::map<std::string, std::string> env{
        {"OFFLOADLAB_DEVICE", m_options.device},
        {"OFFLOADLAB_EVIDENCE_DIR", (fs::path(m_options.outDir) / "evidence").string()}};
    // Each finished test as a line, kept when a later test of the process hangs or crashes.
    env["OFFLOADLAB_RESULT_STREAM"] = attempt.empty() ? "" : Raw(attempt + ".results.jsonl");
    if (m_options.verbose)
    {
        env["OFFLOADLAB_KEEP_EVIDENCE"] = "1";
        // The NIC and the stack say where each packet goes and why it dies; a NS_LOG of the
        // user's own wins.
        const char* own = std::getenv("NS_LOG");
        const char* level = "=level_all|prefix_time|prefix_node|prefix_func";
        env["NS_LOG"] = own && *own ? own
                                    : std::string("EmuNicNetDevice") + level + ":XfrmStack" +
                                          level + ":XfrmOutput" + level + ":XfrmInput" + level +
                                          ":IpsecKeyManager" + level;
    }
    return env;
}

void
CertifyRunner::ShowOutput(GroupRun* run)
{
    if (!m_options.verbose)
    {
        return;
    }
    const std::string name = AttemptName(*run);
    for (auto [file, shown] : {std::make_pair(Raw(name + ".stdout"), &run->shownOut),
                               std::make_pair(Raw(name + ".stderr"), &run->shownErr)})
    {
        std::ifstream in(file, std::ios::binary);
        in.seekg(*shown);
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        if (!text.empty())
        {
            m_progress << text << std::flush;
            *shown += static_cast<std::streamoff>(text.size());
        }
    }
}

void
CertifyRunner::ShowEvidence(const RequirementResult& r)
{
    if (!m_options.verbose)
    {
        return;
    }
    for (const auto& t : r.tests)
    {
        for (const auto& file : t.files)
        {
            m_progress << "evidence: " << (fs::path(m_options.outDir) / file).string() << "\n";
        }
    }
}

void
CertifyRunner::FillProvenance()
{
    CertifyProvenance& p = m_report.provenance;
    p.version = OFFLOADLAB_VERSION;
    p.commit = OFFLOADLAB_COMMIT;
    std::error_code ec;
    p.catalogPath = m_options.catalogPath.empty()
                        ? ""
                        : fs::absolute(m_options.catalogPath, ec).lexically_normal().string();
    const auto catalog = nlohmann::json::parse(ReadTextFile(p.catalogPath), nullptr, false);
    p.catalogVersion = catalog.is_object() ? catalog.value("version", 0) : 0;
    p.catalogSha256 = Sha256OfFile(p.catalogPath);
    // A built-in device is code of the suite binary: its hash identifies the device.
    const std::string& library = m_options.deviceLibrary;
    p.deviceLibrary = library.empty() ? m_options.suitePath : library;
    p.deviceSha256 = Sha256OfFile(p.deviceLibrary);
    utsname names{};
    if (uname(&names) == 0)
    {
        p.host = std::string(names.nodename) + " (" + names.sysname + " " + names.release + " " +
                 names.machine + ")";
    }
    p.commandLine = m_options.commandLine;
}

bool
CertifyRunner::PrepareOutDir()
{
    std::error_code ec;
    m_options.outDir = fs::absolute(m_options.outDir, ec).lexically_normal().string();
    const fs::path out(m_options.outDir);
    fs::create_directories(out, ec);
    if (ec || !fs::is_directory(out))
    {
        m_errors << "offloadlab certify: cannot create the output folder '" << m_options.outDir
                 << "'" << (ec ? ": " + ec.message() : ": a file of that name exists") << "\n";
        return false;
    }
    if (access(out.c_str(), W_OK | X_OK) != 0)
    {
        m_errors << "offloadlab certify: cannot write into the output folder '" << m_options.outDir
                 << "': " << std::strerror(errno) << "\n";
        return false;
    }
    // Results of an earlier run in the same folder must not be taken for this run's.
    for (const char* stale : {"raw", "evidence", "junit.xml", "certify.json", "certificate.html"})
    {
        fs::remove_all(out / stale, ec);
    }
    fs::create_directories(out / "raw", ec);
    fs::create_directories(out / "evidence", ec);
    if (ec || !fs::is_directory(out / "raw"))
    {
        m_errors << "offloadlab certify: cannot write into the output folder '" << m_options.outDir
                 << "'" << (ec ? ": " + ec.message() : "") << "\n";
        return false;
    }
    return true;
}

bool
CertifyRunner::Probe()
{
    std::string error;
    const auto status = ChildProcess::Run({m_options.suitePath, "--describe-device"},
                                          ChildEnvironment(),
                                          Raw("probe.stdout"),
                                          Raw("probe.stderr"),
                                          m_options.timeoutSeconds,
                                          &error);
    if (!error.empty())
    {
        m_report.error = error;
        return false;
    }
    const std::string stderrText = ReadTextFile(Raw("probe.stderr"));
    if (status.interrupted)
    {
        return false;
    }
    if (!status.exited || status.exitCode != 0)
    {
        const auto device = DeviceLines(stderrText);
        std::string message = !device.empty() ? device.front() : Tail(stderrText, 5);
        if (message.empty())
        {
            message = "cannot open device '" + m_options.device + "'";
        }
        // The suite exits 2 when it cannot open the device: its own line says why. Anything
        // else (a crash while loading) is said as it happened.
        if (!(status.exited && status.exitCode == 2))
        {
            message +=
                "\n(loading the device in the conformance suite: it " + status.Describe() + ")";
        }
        m_report.error = message;
        return false;
    }
    auto description = nlohmann::json::parse(ReadTextFile(Raw("probe.stdout")), nullptr, false);
    if (description.is_discarded() || !description.is_object() ||
        !description.contains("capabilities"))
    {
        m_report.error =
            "the device probe printed no device description (" + Raw("probe.stdout") + ")";
        return false;
    }
    m_report.device = description;
    return true;
}

bool
CertifyRunner::ListTests(std::vector<ListedSuite>* suites)
{
    std::string error;
    const auto status = ChildProcess::Run(
        {m_options.suitePath, "--gtest_list_tests", "--gtest_output=json:" + Raw("list.json")},
        ChildEnvironment(),
        Raw("list.stdout"),
        Raw("list.stderr"),
        m_options.timeoutSeconds,
        &error);
    if (error.empty() && (!status.exited || status.exitCode != 0))
    {
        const std::string stderrText = ReadTextFile(Raw("list.stderr"));
        const auto device = DeviceLines(stderrText);
        error = (device.empty() ? Tail(stderrText, 5) : device.front()) +
                "\n(listing the suite's tests " + status.Describe() + ")";
    }
    if (error.empty())
    {
        ReadTestList(Raw("list.json"), suites, &error);
    }
    if (!error.empty())
    {
        m_report.error = "cannot list the conformance suite's tests: " + error;
        return false;
    }
    return true;
}

std::vector<CertifyRunner::Group>
CertifyRunner::PlanGroups(const std::vector<ListedSuite>& suites)
{
    std::map<std::string, std::vector<ListedSuite>> byId;
    for (ListedSuite s : suites)
    {
        if (!m_options.variant.empty())
        {
            // --variant: the group holds only the tests it will run.
            s.tests.erase(std::remove_if(s.tests.begin(),
                                         s.tests.end(),
                                         [this](const std::string& test) {
                                             return test.find(m_options.variant) ==
                                                    std::string::npos;
                                         }),
                          s.tests.end());
            if (s.tests.empty())
            {
                continue;
            }
        }
        const std::string id = RequirementIdOfSuite(s.name);
        if (m_catalog.Find(id))
        {
            byId[id].push_back(s);
        }
        else
        {
            m_report.uncatalogued.push_back(s.name);
        }
    }
    std::vector<Group> groups;
    for (const auto& requirement : m_catalog.GetRequirements())
    {
        const auto& only = m_options.only;
        if (!only.empty() && std::find(only.begin(), only.end(), requirement.id) == only.end())
        {
            continue;
        }
        RequirementResult r;
        r.requirement = requirement;
        auto doc = m_catalog.GetDocuments().find(requirement.document);
        r.documentTitle = doc != m_catalog.GetDocuments().end() ? doc->second : "";
        r.Summarize(); // untested in every mode until its tests say otherwise
        m_report.requirements.push_back(r);
        auto it = byId.find(requirement.id);
        if (it != byId.end())
        {
            Group g;
            g.requirement = m_report.requirements.size() - 1;
            g.suites = it->second;
            for (const auto& s : g.suites)
            {
                g.tests += s.tests.size();
            }
            groups.push_back(g);
        }
    }
    return groups;
}

std::string
CertifyRunner::AttemptName(const GroupRun& run) const
{
    const std::string& id = m_report.requirements[run.group->requirement].requirement.id;
    return run.attempt <= 1 ? id : id + "." + std::to_string(run.attempt);
}

bool
CertifyRunner::StartAttempt(GroupRun* run)
{
    ++run->attempt;
    std::string filter;
    for (const auto& s : run->group->suites)
    {
        filter += (filter.empty() ? "" : ":") + s.name + ".*" +
                  (m_options.variant.empty() ? "" : m_options.variant + "*");
    }
    std::string exclude;
    for (const auto& [name, message] : run->crashed)
    {
        exclude += (exclude.empty() ? "-" : ":") + name;
    }
    for (const auto& [name, result] : run->finished)
    {
        exclude += (exclude.empty() ? "-" : ":") + name;
    }
    const std::string name = AttemptName(*run);
    const std::vector<std::string> argv{m_options.suitePath,
                                        "--gtest_filter=" + filter + exclude,
                                        "--gtest_output=json:" + Raw(name + ".json"),
                                        "--gtest_color=no"};
    run->child = std::make_unique<ChildProcess>();
    std::string error;
    if (!run->child->Start(argv,
                           ChildEnvironment(name),
                           Raw(name + ".stdout"),
                           Raw(name + ".stderr"),
                           &error))
    {
        m_report.requirements[run->group->requirement].error = error;
        return false;
    }
    return true;
}

CertifyRunner::AbnormalEnd
CertifyRunner::DescribeAbnormalEnd(const GroupRun& run, const ChildProcess::Status& status) const
{
    const std::string name = AttemptName(run);
    const std::string stderrText = ReadTextFile(Raw(name + ".stderr"));
    AbnormalEnd end;
    end.unfinished = UnfinishedTest(ReadTextFile(Raw(name + ".stdout")));
    std::string what = status.timedOut
                           ? "timed out after " + std::to_string(int(m_options.timeoutSeconds)) +
                                 " s and was killed"
                           : status.Describe();
    if (!status.timedOut && status.signal == 0)
    {
        what += " without a test report";
    }
    for (const auto& line : DeviceLines(stderrText))
    {
        end.message += (end.message.empty() ? "" : "\n") + line;
    }
    if (end.message.empty())
    {
        end.message = "the suite process " + what;
        const std::string tail = Tail(stderrText, 5);
        if (!tail.empty())
        {
            end.message += "\n" + tail;
        }
    }
    else
    {
        end.message += "\n(the suite process " + what + ")";
    }
    if (!end.unfinished.empty())
    {
        end.message += "\nwhile running " + end.unfinished;
    }
    end.message += "\nsee raw/" + name + ".stderr";
    return end;
}

size_t
CertifyRunner::Remaining(const GroupRun& run) const
{
    size_t remaining = 0;
    for (const auto& suite : run.group->suites)
    {
        for (const auto& test : suite.tests)
        {
            const std::string name = suite.name + "." + test;
            remaining += !run.finished.count(name) && !run.crashed.count(name);
        }
    }
    return remaining;
}

bool
CertifyRunner::RecoverAttempt(GroupRun* run, const ChildProcess::Status& status)
{
    ReadResultStream(Raw(AttemptName(*run) + ".results.jsonl"), &run->finished);
    AbnormalEnd end = DescribeAbnormalEnd(*run, status);
    if (status.interrupted)
    {
        run->interrupted = end.unfinished;
        return false;
    }
    if (end.unfinished.empty() || run->crashed.count(end.unfinished))
    {
        return false;
    }
    // A crash, fault or hang inside a test costs that test only: the rest run again without
    // it and without the tests that finished.
    run->crashed[end.unfinished] = end.message;
    if (status.timedOut && ++run->timeouts >= kMaxTimeouts)
    {
        return false;
    }
    return Remaining(*run) > 0;
}

void
CertifyRunner::RunGroups(const std::vector<Group>& groups)
{
    std::vector<GroupRun> running;
    size_t next = 0;
    size_t done = 0;
    auto finish = [&](GroupRun& run, const ChildProcess::Status& status) {
        ShowOutput(&run);
        CollectGroup(run, status);
        const auto& r = m_report.requirements[run.group->requirement];
        ShowEvidence(r);
        m_progress << ProgressLine(++done, groups.size(), RequirementJson(r, m_report.catalogModes))
                   << std::endl;
    };
    while (next < groups.size() || !running.empty())
    {
        if (CertifyInterrupt::Pending())
        {
            // Stop every child (and what it started), keep what each finished, start nothing.
            for (auto& run : running)
            {
                run.child->Stop(CertifyInterrupt::kGraceSeconds);
            }
            for (auto& run : running)
            {
                const ChildProcess::Status status = run.child->GetStatus();
                run.seconds += run.child->Elapsed();
                RecoverAttempt(&run, status);
                finish(run, status);
            }
            return;
        }
        while (running.size() < m_options.jobs && next < groups.size())
        {
            GroupRun run;
            run.group = &groups[next++];
            if (StartAttempt(&run))
            {
                running.push_back(std::move(run));
            }
            else
            {
                finish(run, ChildProcess::Status{});
            }
        }
        bool progressed = false;
        for (auto it = running.begin(); it != running.end();)
        {
            ChildProcess& child = *it->child;
            ShowOutput(&*it);
            if (!child.Poll() && child.Elapsed() > m_options.timeoutSeconds)
            {
                child.KillForTimeout();
            }
            if (!child.Poll())
            {
                ++it;
                continue;
            }
            progressed = true;
            const ChildProcess::Status status = child.GetStatus();
            it->seconds += child.Elapsed();
            const bool clean = status.exited && fs::exists(Raw(AttemptName(*it) + ".json"));
            ShowOutput(&*it);
            if (!clean && RecoverAttempt(&*it, status) && StartAttempt(&*it))
            {
                it->shownOut = it->shownErr = 0;
                ++it;
                continue;
            }
            finish(*it, status);
            it = running.erase(it);
        }
        if (!progressed)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

void
CertifyRunner::CollectGroup(const GroupRun& run, const ChildProcess::Status& status)
{
    const Group& group = *run.group;
    RequirementResult& r = m_report.requirements[group.requirement];
    r.seconds = run.seconds;
    const std::string name = AttemptName(run);
    std::map<std::string, TestCaseResult> results;
    std::string readError;
    const bool haveJson = run.child && status.exited && !status.interrupted &&
                          ReadTestResults(Raw(name + ".json"), &results, &readError);
    bool failedInThisAttempt = false;
    for (const auto& [fullName, t] : results)
    {
        failedInThisAttempt = failedInThisAttempt || t.outcome == Outcome::Fail;
    }
    // What earlier attempts (or this one, before it ended) finished.
    for (const auto& [fullName, t] : run.finished)
    {
        results.emplace(fullName, t);
    }
    const bool interrupted = status.interrupted;
    if (!haveJson && !interrupted && r.error.empty())
    {
        // Crashed, faulted, hung, or died before writing its report: every test it had not
        // finished is an error, with the device shell's own line when it printed one.
        r.error = DescribeAbnormalEnd(run, status).message;
    }
    for (const auto& suite : group.suites)
    {
        for (const auto& test : suite.tests)
        {
            const std::string fullName = suite.name + "." + test;
            TestCaseResult t;
            auto it = results.find(fullName);
            auto crash = run.crashed.find(fullName);
            if (crash != run.crashed.end())
            {
                t.outcome = Outcome::Error;
                t.message = crash->second;
            }
            else if (it != results.end())
            {
                t = it->second;
            }
            else if (interrupted)
            {
                // Not a verdict on the device: the run was stopped before this test ended.
                t.outcome = Outcome::Untested;
                t.message = fullName == run.interrupted
                                ? "interrupted: certify was stopped while this test ran"
                                : "not run: certify was interrupted";
            }
            else
            {
                t.outcome = Outcome::Error;
                t.message = haveJson ? "missing from the suite's results" : r.error;
            }
            if (it != results.end())
            {
                results.erase(it);
            }
            t.suite = suite.name;
            SplitTestName(test, m_report.catalogModes, &t);
            t.files = EvidenceFiles(t);
            r.tests.push_back(std::move(t));
        }
    }
    // Failures outside any test (a test suite's set-up) that the JSON carries on their own.
    for (auto& [fullName, t] : results)
    {
        SplitTestName(t.name, m_report.catalogModes, &t);
        r.tests.push_back(std::move(t));
    }
    if (haveJson && status.exitCode != 0 && !failedInThisAttempt)
    {
        // GoogleTest 1.12 does not put a failed SetUpTestSuite into the JSON (it marks the
        // tests skipped), but it exits 1: never let that pass as a skip.
        TestCaseResult t;
        t.suite = group.suites.front().name;
        t.name = "(outside tests)";
        t.check = t.name;
        t.outcome = Outcome::Fail;
        t.message = "the suite process exited with code " + std::to_string(status.exitCode) +
                    " but no test failed: a failure outside the tests (test suite set-up)\n" +
                    Tail(ReadTextFile(Raw(name + ".stdout")), 8);
        r.tests.push_back(std::move(t));
    }
    r.Summarize();
}

std::vector<std::string>
CertifyRunner::EvidenceFiles(const TestCaseResult& test) const
{
    std::string dirName = test.FullName();
    std::replace(dirName.begin(), dirName.end(), '/', '_');
    const fs::path out(m_options.outDir);
    const fs::path dir = out / "evidence" / dirName;
    std::vector<std::string> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
    {
        return files;
    }
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec))
    {
        if (it->is_regular_file(ec))
        {
            files.push_back(fs::relative(it->path(), out, ec).string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

int
CertifyRunner::Run()
{
    const auto start = std::chrono::steady_clock::now();
    // From here on Ctrl-C and SIGTERM stop the children and still write the reports.
    CertifyInterrupt interrupt;
    m_report.started = UtcNow();
    FillProvenance();
    if (!PrepareOutDir())
    {
        return kCannotRun;
    }
    std::vector<ListedSuite> suites;
    if (Probe() && !CertifyInterrupt::Pending())
    {
        m_progress << DeviceLine(DeviceJson(m_report)) << std::endl;
        if (ListTests(&suites) && !CertifyInterrupt::Pending())
        {
            const auto groups = PlanGroups(suites);
            size_t tests = 0;
            for (const auto& g : groups)
            {
                tests += g.tests;
            }
            m_progress << m_report.requirements.size() << " requirements, " << tests << " tests in "
                       << groups.size() << " processes, " << m_options.jobs
                       << (m_options.jobs == 1 ? " job" : " jobs") << std::endl;
            for (const auto& name : m_report.uncatalogued)
            {
                m_errors << "offloadlab certify: warning: test suite " << name
                         << " names no requirement of the catalog; not run\n";
            }
            RunGroups(groups);
        }
    }
    m_report.interruptedBy = CertifyInterrupt::Pending();
    if (m_report.interruptedBy)
    {
        // A probe or listing stopped by the signal failed for that reason only.
        if (m_report.device.is_null())
        {
            m_report.error.clear();
        }
    }
    m_report.finished = UtcNow();
    m_report.wallSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return Finish();
}

int
CertifyRunner::Finish()
{
    const fs::path out(m_options.outDir);
    const nlohmann::ordered_json certify = CertifyJson(m_report);
    std::string error;
    const bool written = WriteCertifyReports(certify, out.string(), &error);
    if (!m_report.error.empty())
    {
        m_errors << "offloadlab certify: " << m_report.deviceSpec << ": " << m_report.error << "\n";
    }
    else
    {
        m_progress << "\n" << CertifySummaryTable(certify) << "\n";
    }
    m_progress << VerdictLine(certify) << "\n";
    if (!written)
    {
        m_errors << "offloadlab certify: " << error << "\n";
        return kCannotRun;
    }
    m_progress << "reports: " << (out / "junit.xml").string() << " "
               << (out / "certify.json").string() << " " << (out / "certificate.html").string()
               << std::endl;
    if (m_report.interruptedBy)
    {
        return kInterruptedBase + m_report.interruptedBy;
    }
    return m_report.Conforms() ? kConforms : kDoesNotConform;
}

} // namespace offloadlab
