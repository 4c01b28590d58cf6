#include "certify-diff.h"
#include "certify-runner.h"
#include "command.h"
#include "offload-device-type.h"
#include "requirement-catalog.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace offloadlab
{

using namespace ns3;

void
PrintCertifyHelp()
{
    std::cout
        << "usage: offloadlab certify --device SPEC --out DIR [options]\n"
           "       offloadlab certify --list-devices\n"
           "       offloadlab certify --diff OLD/certify.json NEW/certify.json\n"
           "\n"
           "Certifies an offload device against the conformance requirement catalog: runs the\n"
           "conformance suite (offloadlab-conformance-suite, next to this program) against the\n"
           "device, one child process per requirement, several at a time, so that a device that\n"
           "crashes or hangs costs only that requirement. Prints progress, a requirement x mode\n"
           "table and the verdict, and writes into DIR:\n"
           "  junit.xml      one <testsuite> per requirement, one <testcase> per test\n"
           "                 (requirement x mode x variant); skips as <skipped>, failures as\n"
           "                 <failure>, device crashes, faults and timeouts as <error>\n"
           "  certify.json   device and capabilities, verdict, per requirement its catalog entry,\n"
           "                 result per mode (pass/fail/skip/error/untested) and every test with\n"
           "                 its message, duration and evidence (counters, pcap and esp_sa files)\n"
           "  certificate.html  the verdict as a self-contained page for customers\n"
           "  evidence/      per test: pcaps and esp_sa key files\n"
           "  raw/           the suite's own output per requirement (GoogleTest JSON, stdout,\n"
           "                 stderr)\n"
           "\n"
           "options:\n"
           "  --device SPEC      reference, example, mutant:NAME, or a path to a device .so\n"
           "                     (relative paths are made absolute)\n"
           "                     built against emu_nic/nic/abi/offloadlab-device.h         "
           "[required]\n"
           "  --out DIR          output folder (created; its raw/ and evidence/ are replaced)\n"
           "                                                                           [required]\n"
           "  --jobs N           suite processes at a time (default: the number of CPUs)\n"
           "  --only ID[,ID...]  certify only these requirements (repeatable; IDs as in\n"
           "                     `offloadlab catalog`)\n"
           "  --timeout SECONDS  per requirement process; past it the process is killed and its\n"
           "                     tests are errors (default 120)\n"
           "  --verbose          debug the requirements of --only: one process at a time in the\n"
           "                     foreground, its whole output shown (GoogleTest, NS_LOG of the\n"
           "                     NIC and the stack: EmuNicNetDevice, XfrmStack, XfrmOutput,\n"
           "                     XfrmInput, IpsecKeyManager; a NS_LOG you set wins), every\n"
           "                     test's pcap and esp_sa kept and their paths printed\n"
           "  --variant TEXT     only the tests whose name contains TEXT (with --only), such as\n"
           "                     packet_gcm128_tunnel\n"
           "  --suite PATH       the conformance suite binary to run\n"
           "  --list-devices     print the built-in devices, one per line, and exit\n"
           "  --diff OLD NEW     compare two certify.json files instead of certifying: prints\n"
           "                     the requirements (and requirement x mode) that stopped or\n"
           "                     started passing, new and resolved advisory findings,\n"
           "                     requirements added or removed, skip <-> pass, device and\n"
           "                     status changes, and `diff: N regressions, M improvements`\n"
           "                     (not with --device or --out)\n"
           "exit codes: 0 every applicable requirement passes (skips do not count against it;\n"
           "              with --only the verdict and reports say the run was partial);\n"
           "            1 a requirement failed or errored, or the device could not be loaded\n"
           "              (the reports are written either way);\n"
           "            2 bad arguments (a --device that is no built-in device and no file);\n"
           "            130 / 143 interrupted by SIGINT / SIGTERM: the children are stopped and\n"
           "              the reports say interrupted, with what finished\n"
           "  with --diff: 0 no regression; 1 a regression: a requirement or requirement x\n"
           "            mode that passed (or was advisory) in OLD fails or errors in NEW, a\n"
           "            requirement of OLD missing from NEW, or a status no longer \"conforms\";\n"
           "            2 bad arguments, or a file that cannot be read or is not a certify.json\n";
}

namespace
{
int
UsageError(const std::string& message)
{
    std::cerr << "offloadlab certify: " << message << "\n(see `offloadlab certify --help`)\n";
    return kExitUsage;
}

bool
ParsePositive(const std::string& text, double max, double* value)
{
    char* end = nullptr;
    errno = 0;
    *value = std::strtod(text.c_str(), &end);
    return errno == 0 && !text.empty() && end && *end == '\0' && *value > 0 && *value <= max;
}

bool
IsExecutable(const std::string& path)
{
    std::error_code ec;
    return !path.empty() && fs::is_regular_file(path, ec) && access(path.c_str(), X_OK) == 0;
}

/// The suite binary: next to this program (both live in the build root), else where the
/// build put it.
std::string
FindSuite()
{
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
    {
        const std::string nextToMe = (self.parent_path() / "offloadlab-conformance-suite").string();
        if (IsExecutable(nextToMe))
        {
            return nextToMe;
        }
    }
    return IsExecutable(OFFLOADLAB_CONFORMANCE_SUITE) ? OFFLOADLAB_CONFORMANCE_SUITE : "";
}

/// `certify --diff OLD NEW`: what changed between two runs; exit 1 on a regression.
int
DiffCommand(const std::vector<std::string>& args)
{
    std::vector<std::string> paths;
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help")
        {
            PrintCertifyHelp();
            return kExitOk;
        }
        else if (a == "--diff" && paths.empty())
        {
            for (; paths.size() < 2 && i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0; ++i)
            {
                paths.push_back(args[i + 1]);
            }
            if (paths.size() != 2)
            {
                return UsageError("--diff needs two certify.json files: --diff OLD NEW");
            }
        }
        else if (a == "--device" || a == "--out")
        {
            return UsageError("--diff cannot be combined with " + a);
        }
        else
        {
            return UsageError("--diff OLD NEW takes no other options or files ('" + a + "')");
        }
    }
    nlohmann::ordered_json runs[2];
    for (size_t i = 0; i < 2; ++i)
    {
        std::string error;
        if (!ReadCertifyJson(paths[i], &runs[i], &error))
        {
            std::cerr << "offloadlab certify --diff: " << error << "\n";
            return kExitUsage;
        }
    }
    std::cout << "OLD: " << paths[0] << "\nNEW: " << paths[1] << "\n";
    const CertifyDiff diff = DiffCertify(runs[0], runs[1]);
    std::cout << CertifyDiffText(diff);
    return diff.Regressions() > 0 ? kExitFailed : kExitOk;
}
} // namespace

int
CertifyCommand(const std::vector<std::string>& args)
{
    if (std::find(args.begin(), args.end(), "--diff") != args.end())
    {
        return DiffCommand(args);
    }
    RequirementCatalog catalog;
    std::string error;
    if (!RequirementCatalog::Load(RequirementCatalog::DefaultPath(), &catalog, &error))
    {
        std::cerr << "offloadlab certify: " << error << "\n";
        return kExitUsage;
    }
    CertifyOptions options;
    options.catalogPath = RequirementCatalog::DefaultPath();
    options.commandLine = "offloadlab certify";
    for (const auto& a : args)
    {
        const bool plain =
            !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_=:,./+@") == std::string::npos;
        std::string quoted = "'";
        for (char c : a)
        {
            quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        options.commandLine += " " + (plain ? a : quoted + "'");
    }
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    options.jobs = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
    bool haveDevice = false;
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        std::string v;
        auto value = [&]() {
            if (i + 1 >= args.size())
            {
                return false;
            }
            v = args[++i];
            return true;
        };
        double number = 0;
        if (a == "-h" || a == "--help")
        {
            PrintCertifyHelp();
            return kExitOk;
        }
        else if (a == "--list-devices")
        {
            for (const auto& spec : OffloadDeviceType::ListBuiltin())
            {
                std::cout << spec << "\n";
            }
            return kExitOk;
        }
        else if (a == "--device")
        {
            if (!value() || v.empty())
            {
                return UsageError("--device needs a device (see --list-devices)");
            }
            // A library path becomes absolute, so that dlopen opens that file and the reports
            // name it.
            options.device = OffloadDeviceType::ResolveSpec(v);
            options.deviceLibrary = OffloadDeviceType::LibraryOf(options.device);
            haveDevice = true;
        }
        else if (a == "--out")
        {
            if (!value() || v.empty())
            {
                return UsageError("--out needs a folder");
            }
            options.outDir = v;
        }
        else if (a == "--jobs")
        {
            if (!value() || !ParsePositive(v, 256, &number) || number != unsigned(number))
            {
                return UsageError("--jobs: '" + v + "' is not a whole number in 1..256");
            }
            options.jobs = static_cast<unsigned>(number);
        }
        else if (a == "--timeout")
        {
            if (!value() || !ParsePositive(v, 86400, &number))
            {
                return UsageError("--timeout: '" + v +
                                  "' is not a number of seconds greater than 0 and at most 86400");
            }
            options.timeoutSeconds = number;
        }
        else if (a == "--only")
        {
            if (!value())
            {
                return UsageError("--only needs requirement IDs");
            }
            size_t start = 0;
            while (start <= v.size())
            {
                const size_t comma = std::min(v.find(',', start), v.size());
                std::string id = v.substr(start, comma - start);
                start = comma + 1;
                // Test suite spelling (PKT_FRAG_TX_DROP) is accepted too.
                std::replace(id.begin(), id.end(), '_', '-');
                if (id.empty() || !catalog.Find(id))
                {
                    return UsageError("--only: '" + id +
                                      "' is not a requirement ID of the catalog (see "
                                      "`offloadlab catalog`)");
                }
                if (std::find(options.only.begin(), options.only.end(), id) == options.only.end())
                {
                    options.only.push_back(id);
                }
            }
        }
        else if (a == "--verbose")
        {
            options.verbose = true;
        }
        else if (a == "--variant")
        {
            if (!value() || v.empty())
            {
                return UsageError("--variant needs a part of a test name, such as "
                                  "packet_gcm128_tunnel");
            }
            options.variant = v;
        }
        else if (a == "--suite")
        {
            if (!value() || !IsExecutable(v))
            {
                return UsageError("--suite: '" + v + "' is not an executable file");
            }
            options.suitePath = fs::absolute(v).string();
        }
        else
        {
            return UsageError("unknown option '" + a + "'");
        }
    }
    if ((options.verbose || !options.variant.empty()) && options.only.empty())
    {
        return UsageError(std::string(options.verbose ? "--verbose" : "--variant") +
                          " debugs one requirement: name it with --only ID");
    }
    if (options.verbose)
    {
        options.jobs = 1; // one process in the foreground, its output in order
    }
    if (!haveDevice)
    {
        return UsageError("--device is required (see --list-devices)");
    }
    if (options.outDir.empty())
    {
        return UsageError("--out is required");
    }
    if (options.suitePath.empty())
    {
        // The suite built with this program knows the same built-in devices: a name that is
        // neither one of them nor a file is a typing error. (Another --suite may know others.)
        const auto builtin = OffloadDeviceType::ListBuiltin();
        std::error_code ec;
        if (std::find(builtin.begin(), builtin.end(), options.device) == builtin.end() &&
            !fs::is_regular_file(options.device, ec))
        {
            const bool looksLikePath = options.device.find('/') != std::string::npos;
            return UsageError(
                "--device: '" + options.device + "' is " +
                (looksLikePath ? "not a file" : "neither a built-in device nor a file") +
                "; `offloadlab certify --list-devices` lists the built-in devices");
        }
        options.suitePath = FindSuite();
        if (options.suitePath.empty())
        {
            std::cerr << "offloadlab certify: cannot find offloadlab-conformance-suite next to "
                         "this program or at " OFFLOADLAB_CONFORMANCE_SUITE
                         " (build the target offloadlab-conformance-suite, or pass --suite)\n";
            return kExitUsage;
        }
    }
    CertifyRunner runner(options, catalog, std::cout, std::cerr);
    return runner.Run();
}

} // namespace offloadlab
