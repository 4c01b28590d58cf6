// offloadlab: IPsec offload testbed and conformance suite.
#include "command.h"
#include "offloadlab-version.h"

#include <iostream>
#include <string>
#include <vector>

namespace
{
void
PrintHelp()
{
    std::cout
        << "usage: offloadlab <command> [options]\n"
           "\n"
           "An IPsec offload testbed: an emulated NIC (ns-3) with Linux-style crypto offload\n"
           "and packet offload, compared with software IPsec.\n"
           "\n"
           "commands:\n"
           "  run      run the built-in simulated scenarios in sw, crypto and packet modes;\n"
           "           write results.json, pcaps and a Wireshark esp_sa key file\n"
           "  catalog  validate and print the conformance requirement catalog\n"
           "           (--markdown: the docs/conformance.md matrix)\n"
           "  certify  certify an offload device against the catalog: run the conformance\n"
           "           suite against it; junit.xml, certify.json, a requirement x mode table\n"
           "           (--list-devices: the built-in devices)\n"
           "  emulate  run an emulation topology: Mininet hosts with real charons keying\n"
           "           the emulated NIC over XFRM netlink, real traffic; results.json\n"
           "  scale    predict IPsec throughput by CPU count in each mode (a multi-core\n"
           "           host model in ns-3), scored against the full-offload series' table;\n"
           "           sweeps beyond it; scaling.json, scaling.csv, plots\n"
           "  help     show this help, or `offloadlab help <command>`\n"
           "  --version  print the version and the git commit of this build\n"
           "\n"
           "Per-packet ESP speed against raw OpenSSL: the offloadlab-esp-bench program.\n"
           "exit codes: 0 ok, 1 the job found a problem, 2 bad arguments\n";
}
} // namespace

int
main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty())
    {
        PrintHelp();
        return offloadlab::kExitUsage;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--version" || command == "version")
    {
        std::cout << "offloadlab " OFFLOADLAB_VERSION " (commit " OFFLOADLAB_COMMIT ")\n";
        return offloadlab::kExitOk;
    }
    if (command == "-h" || command == "--help" || (command == "help" && args.empty()))
    {
        PrintHelp();
        return offloadlab::kExitOk;
    }
    if (command == "help" && args.front() == "run")
    {
        offloadlab::PrintRunHelp();
        return offloadlab::kExitOk;
    }
    if (command == "help" && args.front() == "catalog")
    {
        offloadlab::PrintCatalogHelp();
        return offloadlab::kExitOk;
    }
    if (command == "help" && args.front() == "certify")
    {
        offloadlab::PrintCertifyHelp();
        return offloadlab::kExitOk;
    }
    if (command == "help" && args.front() == "emulate")
    {
        offloadlab::PrintEmulateHelp();
        return offloadlab::kExitOk;
    }
    if (command == "help" && args.front() == "scale")
    {
        offloadlab::PrintScaleHelp();
        return offloadlab::kExitOk;
    }
    if (command == "scale")
    {
        return offloadlab::ScaleCommand(args);
    }
    if (command == "emulate")
    {
        return offloadlab::EmulateCommand(args);
    }
    if (command == "run")
    {
        return offloadlab::RunCommand(args);
    }
    if (command == "catalog")
    {
        return offloadlab::CatalogCommand(args);
    }
    if (command == "certify")
    {
        return offloadlab::CertifyCommand(args);
    }
    std::cerr << "offloadlab: unknown command '" << (command == "help" ? args.front() : command)
              << "' (try `offloadlab --help`)\n";
    return offloadlab::kExitUsage;
}
