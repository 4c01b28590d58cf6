// What a certification found: per test, per requirement x mode, and the verdict.
#ifndef CERTIFY_RESULT_H
#define CERTIFY_RESULT_H

#include "requirement-catalog.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace offloadlab
{

/// Result of a test, and of a requirement x mode (the worst of its tests).
enum class Outcome : uint8_t
{
    Untested, //!< no test in the suite for it
    Skip,     //!< the device does not offer what the test needs
    Pass,
    AdvisoryOk,      //!< an advisory check that found nothing
    AdvisoryFinding, //!< an advisory check that found something: reported, never failing
    Fail,
    Error, //!< the device crashed, faulted or hung: no verdict from the test
};

/// "untested", "skip", "pass", "advisory-ok", "advisory-finding", "fail", "error".
const char* OutcomeName(Outcome outcome);

/// The result of two results together: error > fail > advisory-finding > advisory-ok > pass >
/// skip > untested.
Outcome Combine(Outcome a, Outcome b);

/// The property an advisory test records with what it found (the test itself passes).
constexpr const char* kAdvisoryFindingProperty = "advisory_finding";

/// One GoogleTest test of the suite: requirement x mode x variant.
struct TestCaseResult
{
    std::string suite;   //!< GoogleTest suite, PKT_FRAG_TX_DROP
    std::string name;    //!< GoogleTest test, FirstMiddleLast/packet_gcm128_transport
    std::string check;   //!< FirstMiddleLast
    std::string variant; //!< packet_gcm128_transport ("" when not parameterised)
    std::string mode;    //!< sw, crypto or packet ("" when the name carries none)
    Outcome outcome{Outcome::Error};
    std::string message; //!< failure messages, skip reason or error
    double seconds{0};
    /// RecordProperty key/values of the test (counters, pcap and esp_sa names).
    std::vector<std::pair<std::string, std::string>> properties;
    /// Evidence files of the test, relative to the output folder.
    std::vector<std::string> files;

    /// "PKT_FRAG_TX_DROP.FirstMiddleLast/packet_gcm128_transport".
    std::string FullName() const;
};

/// One catalog entry and what its tests found.
struct RequirementResult
{
    Requirement requirement;
    std::string documentTitle;
    std::vector<TestCaseResult> tests;
    std::map<std::string, Outcome> modes; //!< per mode the entry applies to
    Outcome overall{Outcome::Untested};
    double seconds{0}; //!< wall time of its suite process
    std::string error; //!< why its suite process gave no results (crash, fault, timeout)

    /// Fills modes and overall from the tests. A test whose name carries no mode counts for
    /// every mode of the requirement. An advisory entry's passes become advisory-ok, or
    /// advisory-finding with the finding as message, and its failures advisory-finding.
    void Summarize();
};

/// Where a certification ran and with what, so that a report can be traced to its inputs.
struct CertifyProvenance
{
    std::string version;       //!< offloadlab's version (CMake project version)
    std::string commit;        //!< git commit of the build ("unknown" outside a checkout)
    std::string catalogPath;   //!< the requirements.json used
    int catalogVersion{0};     //!< its "version"
    std::string catalogSha256; //!< SHA-256 of its bytes
    std::string deviceLibrary; //!< the .so holding the device (the suite itself for built-ins)
    std::string deviceSha256;  //!< SHA-256 of that file
    std::string host;          //!< hostname and kernel (uname)
    std::string commandLine;   //!< the command line as run, arguments quoted where needed
};

/// A whole certification run.
struct CertifyReport
{
    std::string deviceSpec; //!< as resolved: a library path is absolute
    nlohmann::json device;  //!< the suite's --describe-device output (null when it failed)
    std::string error;      //!< why the device could not be certified at all ("" when it ran)
    std::string suitePath;
    std::vector<std::string> only; //!< requirement IDs asked for ("" for all)
    std::vector<std::string> catalogModes;
    std::string started;
    std::string finished;
    double wallSeconds{0};
    unsigned jobs{1};
    std::vector<RequirementResult> requirements;
    std::vector<std::string> uncatalogued; //!< suite names with no catalog entry
    CertifyProvenance provenance;
    int interruptedBy{0}; //!< SIGINT or SIGTERM when the run was interrupted, else 0

    /// True when the device loaded, the run was not interrupted and nothing failed or errored
    /// (skips and untested do not count against it). A partial run can conform: Status says
    /// it was partial.
    bool Conforms() const;
    /// True when only some requirements were asked for (--only).
    bool Partial() const;
    /// "conforms", "does-not-conform", "error" (the device could not be certified) or
    /// "interrupted"; a partial run's "conforms" / "does-not-conform" end in "-partial".
    std::string Status() const;
    /// IDs of requirements with a failure or an error, in catalog order; advisories never.
    std::vector<std::string> FailingIds() const;
};

} // namespace offloadlab

#endif // CERTIFY_RESULT_H
