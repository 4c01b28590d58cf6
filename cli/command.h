#ifndef OFFLOADLAB_COMMAND_H
#define OFFLOADLAB_COMMAND_H

#include <string>
#include <vector>

namespace offloadlab
{

/// Exit codes every subcommand uses, so that CI can act on them.
enum ExitCode
{
    kExitOk = 0,
    kExitFailed = 1, //!< the job ran and found a problem
    kExitUsage = 2,  //!< bad arguments or configuration
};

/// `offloadlab run`: the built-in scenarios in every mode; results into --out.
int RunCommand(const std::vector<std::string>& args);
void PrintRunHelp();

/// `offloadlab catalog`: validate and print the conformance requirement catalog.
int CatalogCommand(const std::vector<std::string>& args);
void PrintCatalogHelp();

/// `offloadlab emulate`: an emulation topology with real charons and real traffic.
int EmulateCommand(const std::vector<std::string>& args);
void PrintEmulateHelp();

/// `offloadlab scale`: throughput by CPU count per offload mode, scored against the reference.
int ScaleCommand(const std::vector<std::string>& args);
void PrintScaleHelp();

/// `offloadlab certify`: run the conformance suite against a device; junit.xml, certify.json.
int CertifyCommand(const std::vector<std::string>& args);
void PrintCertifyHelp();

} // namespace offloadlab

#endif // OFFLOADLAB_COMMAND_H
