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
    std::string device;    //!< "reference", "mutant:NAME", a path to a .so, ...
    std::string outDir;    //!< reports go here (created); DIR/raw and DIR/evidence are replaced
    std::string suitePath; //!< the offloadlab-conformance-suite binary
    unsigned jobs{1};      //!< suite processes at a time
    std::vector<std::string> only; //!< requirement IDs to run (empty: all)
    double timeoutSeconds{120};    //!< per suite process; past it the process is killed
};

class CertifyRunner
{
  public:
    /// Exit codes of Run.
    static constexpr int kConforms = 0;
    static constexpr int kDoesNotConform = 1; //!< failures, errors, or the device did not load
    static constexpr int kCannotRun = 2;      //!< the output folder cannot be written

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
        /// Tests that crashed (or faulted) their process, with the message; left out of the
        /// next attempt.
        std::map<std::string, std::string> crashed;
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
    std::map<std::string, std::string> ChildEnvironment() const;

    CertifyOptions m_options;
    const RequirementCatalog& m_catalog;
    std::ostream& m_progress;
    std::ostream& m_errors;
    CertifyReport m_report;
};

} // namespace offloadlab

#endif // CERTIFY_RUNNER_H
