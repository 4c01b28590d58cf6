// `offloadlab certify`'s engine: runs the conformance suite binary against one device in child
// processes (a probe, a listing, then one process per requirement, several at a time), turns
// GoogleTest's JSON into results per requirement x mode, and writes DIR/junit.xml and
// DIR/certify.json. A device that crashes, faults or hangs costs only the requirement whose
// process it was in; the report is written whatever happens.
#ifndef CERTIFY_RUNNER_H
#define CERTIFY_RUNNER_H

#include "certify-result.h"
#include "child-process.h"
#include "gtest-json-reader.h"

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace offloadlab
{

struct CertifyOptions
{
    std::string device;        //!< "reference", "mutant:NAME", an absolute path to a .so, ...
    std::string deviceLibrary; //!< the .so that holds the device ("" when built in)
    std::string outDir;        //!< reports go here (created); DIR/raw and DIR/evidence are replaced
    std::string suitePath;     //!< the offloadlab-conformance-suite binary
    unsigned jobs{1};          //!< suite processes at a time
    std::vector<std::string> only; //!< requirement IDs to run (empty: all)
    double timeoutSeconds{120};    //!< per suite process; past it the process is killed
    std::string catalogPath;       //!< the requirements.json the catalog came from
    std::string commandLine;       //!< as the user ran it, for the reports
    /// Debugging: one process at a time, its output (with NS_LOG of the NIC and the stack)
    /// shown as it runs, and every test's evidence kept.
    bool verbose{false};
    /// Only the tests whose name contains this (a variant such as packet_gcm128_tunnel).
    std::string variant;
};

class CertifyRunner
{
  public:
    /// Exit codes of Run.
    static constexpr int kConforms = 0;
    static constexpr int kDoesNotConform = 1; //!< failures, errors, or the device did not load
    static constexpr int kCannotRun = 2;      //!< the output folder cannot be written
    /// Interrupted by SIGINT or SIGTERM: 128 + the signal (130, 143), as a shell reports it.
    static constexpr int kInterruptedBase = 128;
    /// Attempts of a group that may end in a timeout; after that its unfinished tests are
    /// errors without being run again (each hang costs the whole timeout).
    static constexpr unsigned kMaxTimeouts = 2;

    /// progress receives the device line, progress, table and verdict; errors the errors.
    CertifyRunner(CertifyOptions options,
                  const RequirementCatalog& catalog,
                  std::ostream& progress,
                  std::ostream& errors);

    int Run();
    const CertifyReport& GetReport() const;

  private:
    /// The tests of one requirement, run in one suite process; after a crash, in another one
    /// that leaves out the test that crashed.
    struct Group
    {
        size_t requirement; //!< index into m_report.requirements
        std::vector<ListedSuite> suites;
        size_t tests{0};
    };

    /// A group while it runs.
    struct GroupRun
    {
        const Group* group{nullptr};
        std::unique_ptr<ChildProcess> child;
        unsigned attempt{0};
        double seconds{0};
        /// Tests that crashed, faulted or hung their process, with the message; left out of
        /// the next attempt.
        std::map<std::string, std::string> crashed;
        /// Tests an earlier attempt finished (from its result stream); left out of the next.
        std::map<std::string, TestCaseResult> finished;
        /// The test that was running when certify was interrupted ("" when none was).
        std::string interrupted;
        unsigned timeouts{0};
        /// --verbose: how much of the attempt's stdout and stderr is already shown.
        std::streamoff shownOut{0};
        std::streamoff shownErr{0};
    };

    /// How an attempt ended that left no GoogleTest JSON.
    struct AbnormalEnd
    {
        std::string message;    //!< the device shell's line, or the status and stderr tail
        std::string unfinished; //!< the test that was running ("" when none was)
    };

    bool PrepareOutDir();
    bool Probe();
    bool ListTests(std::vector<ListedSuite>* suites);
    std::vector<Group> PlanGroups(const std::vector<ListedSuite>& suites);
    void RunGroups(const std::vector<Group>& groups);
    /// After an attempt that left no GoogleTest JSON: keeps what it finished and notes the test
    /// it was running; true when the group should run again without those tests.
    bool RecoverAttempt(GroupRun* run, const ChildProcess::Status& status);
    /// Tests of the group neither finished nor crashed yet.
    size_t Remaining(const GroupRun& run) const;
    void FillProvenance();
    /// --verbose: shows what the attempt wrote since the last call.
    void ShowOutput(GroupRun* run);
    /// --verbose: the evidence files of a finished group.
    void ShowEvidence(const RequirementResult& r);
    /// Starts the next attempt of a group; false (with the reason in the requirement's error)
    /// when the process cannot be started.
    bool StartAttempt(GroupRun* run);
    /// "ID" for the first attempt, "ID.2", "ID.3"... after crashes: the raw/ file names.
    std::string AttemptName(const GroupRun& run) const;
    AbnormalEnd DescribeAbnormalEnd(const GroupRun& run, const ChildProcess::Status& status) const;
    void CollectGroup(const GroupRun& run, const ChildProcess::Status& status);
    std::vector<std::string> EvidenceFiles(const TestCaseResult& test) const;
    int Finish();
    std::string Raw(const std::string& name) const;
    /// The suite's environment; attempt names the result stream file ("" for none).
    std::map<std::string, std::string> ChildEnvironment(const std::string& attempt = "") const;

    CertifyOptions m_options;
    const RequirementCatalog& m_catalog;
    std::ostream& m_progress;
    std::ostream& m_errors;
    CertifyReport m_report;
};

} // namespace offloadlab

#endif // CERTIFY_RUNNER_H
