// What changed between two certification runs, from their certify.json documents (the layout
// of certify-report.h, read defensively: fields a later layout adds are ignored, fields an older
// one lacks read as empty). `offloadlab certify --diff OLD NEW` prints it and exits 1 on a
// regression.
#ifndef CERTIFY_DIFF_H
#define CERTIFY_DIFF_H

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace offloadlab
{

/// One result that differs: a requirement's overall result (mode "") or one requirement x
/// mode; a device field (id "spec", "name", "mutant"); or the run's status (id "status").
/// "-" for a side that has no such result.
struct CertifyChange
{
    std::string id;
    std::string mode;
    std::string from;
    std::string to;

    bool operator==(const CertifyChange& other) const;
};

/// An advisory finding present in one run only: an advisory_findings entry (requirement, test,
/// finding), or, when no entry names the requirement, a requirement result (test "", finding
/// "crypto: advisory-ok -> advisory-finding").
struct CertifyFinding
{
    std::string id;
    std::string test;
    std::string finding; //!< what it found (its first line)
};

/// The structured difference of two runs, OLD -> NEW. Passing means pass, advisory-ok or
/// advisory-finding; failing means fail or error.
struct CertifyDiff
{
    std::vector<CertifyChange> stoppedPassing; //!< passing -> failing: regressions
    std::vector<CertifyChange> startedPassing; //!< failing -> passing: improvements
    std::vector<CertifyFinding> newFindings;
    std::vector<CertifyFinding> resolvedFindings;
    std::vector<CertifyChange> added;        //!< requirements only in NEW (from "-", to its result)
    std::vector<CertifyChange> removed;      //!< requirements only in OLD: regressions
    std::vector<CertifyChange> skipChanges;  //!< skip <-> passing
    std::vector<CertifyChange> otherChanges; //!< any other change (fail -> error, skip -> fail,
                                             //!< untested -> pass, a mode that went away, ...)
    std::vector<CertifyChange> deviceChanges;
    CertifyChange status;        //!< id "status"; from == to when it did not change
    std::string newError;        //!< NEW's "error" (the device did not load), "" when none
    bool statusRegressed{false}; //!< "conforms" -> anything else

    /// Requirements that stopped passing (one per ID, however many of its modes did), plus
    /// requirements removed, plus 1 for a status that is no longer "conforms" when neither
    /// accounts for it (the device no longer loads, the run was interrupted).
    size_t Regressions() const;
    /// Requirements that started passing (one per ID).
    size_t Improvements() const;
    /// Nothing at all differs.
    bool Empty() const;
};

/// Compares two certify.json documents. Pure: reads only its arguments.
CertifyDiff DiffCertify(const nlohmann::ordered_json& oldRun, const nlohmann::ordered_json& newRun);

/// The diff as `offloadlab certify --diff` prints it: one heading per non-empty category,
/// one line per change ("REPLAY-DUPLICATE crypto: pass -> fail"), and a last line
/// "diff: N regressions, M improvements" or "diff: no changes".
std::string CertifyDiffText(const CertifyDiff& diff);

/// "" when doc has the certify.json layout diffing needs (an object with "format":
/// "offloadlab-certify", a "requirements" array of objects with distinct string "id"s, and
/// "results" objects of strings), else what is wrong with it.
std::string CertifyJsonProblem(const nlohmann::ordered_json& doc);

/// Reads and checks a certify.json file; false with "PATH: problem" when it cannot be read,
/// is not JSON, or fails CertifyJsonProblem.
bool ReadCertifyJson(const std::string& path, nlohmann::ordered_json* doc, std::string* error);

} // namespace offloadlab

#endif // CERTIFY_DIFF_H
