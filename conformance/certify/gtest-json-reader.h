// Reads what the conformance suite (a GoogleTest 1.12 binary) writes with --gtest_output=json:
// the list of its tests, and the results of a run. Names follow the suite's naming contract
// (conformance/suite/conformance-case.h): suite = requirement ID with '-' -> '_', test =
// "Check/variant", variant starting with the mode.
#ifndef GTEST_JSON_READER_H
#define GTEST_JSON_READER_H

#include "certify-result.h"

#include <map>
#include <string>
#include <vector>

namespace offloadlab
{

/// A test suite of the binary and its tests, as --gtest_list_tests lists them.
struct ListedSuite
{
    std::string name;
    std::vector<std::string> tests;
};

/// "PKT_FRAG_TX_DROP" -> "PKT-FRAG-TX-DROP"; an instantiation prefix ("Prefix/X") is ignored.
std::string RequirementIdOfSuite(const std::string& suite);

/// Splits "FirstMiddleLast/packet_gcm128_transport" into check, variant and mode: the mode is
/// the variant's first '_'-separated word when it is one of modes, else "".
void SplitTestName(const std::string& name,
                   const std::vector<std::string>& modes,
                   TestCaseResult* test);

/// Reads the JSON of `--gtest_list_tests --gtest_output=json:PATH`; disabled tests are left out.
bool ReadTestList(const std::string& path, std::vector<ListedSuite>* suites, std::string* error);

/// The property a test records with the reason it was skipped (GoogleTest 1.12's JSON does not
/// carry skip messages; the suite's main records it).
constexpr const char* kSkipReasonProperty = "skip_reason";

/// Reads the results JSON of a run: per full test name ("Suite.Test"), outcome, message,
/// duration and properties. A failure outside any test (a test suite's set-up) appears under
/// the name "<suite>.(set-up)".
bool ReadTestResults(const std::string& path,
                     std::map<std::string, TestCaseResult>* results,
                     std::string* error);

/// Reads the results the suite streams, one JSON line per finished test, into the file
/// OFFLOADLAB_RESULT_STREAM names: what a process finished before it hung or crashed. A line
/// cut off by the crash is ignored. Returns how many results it read.
size_t ReadResultStream(const std::string& path, std::map<std::string, TestCaseResult>* results);

} // namespace offloadlab

#endif // GTEST_JSON_READER_H
