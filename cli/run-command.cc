#include "command.h"
#include "offload-device-type.h"
#include "run-report.h"
#include "scenario-json.h"
#include "scenario.h"

#include "ns3/config.h"
#include "ns3/string.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace offloadlab
{

using namespace ns3;

void
PrintRunHelp()
{
    std::cout
        << "usage: offloadlab run --out DIR [options]\n"
           "\n"
           "Runs the built-in scenarios in every mode (or the ones named), with TCP and UDP\n"
           "traffic long enough for the SAs to cross their soft byte limit and rekey.\n"
           "gateway-tunnel-nat puts gwA behind a NAT (ESP-in-UDP on port 4500; Linux does\n"
           "not crypto-offload such SAs, so its crypto mode runs them in software).\n"
           "gateway-tunnel-1000 (1,000 tunnels between the gateways) runs only when named.\n"
           "Prints a summary table and writes into DIR:\n"
           "  results.json   per scenario and mode: traffic delivered, per-SA counters, drops by\n"
           "                 reason, rekeys and key-manager events, the SAs used\n"
           "  *.pcap         one capture per wire link (PPP framing), readable by tshark\n"
           "  esp_sa         the test keys of every SA, in Wireshark's esp_sa format\n"
           "\n"
           "options:\n"
           "  --out DIR            output folder (created if missing)             [required]\n"
           "  --scenario NAME      run only this scenario (repeatable); --list shows names;\n"
           "                       default: all but gateway-tunnel-1000\n"
           "  --mode MODE          plain, sw, crypto or packet (repeatable; default all four);\n"
           "                       plain is the baseline without IPsec (no policies, no SAs)\n"
           "  --duration SECONDS   traffic time per run (default 2)\n"
           "  --seed N             seed of keys, SPIs and ns-3 randomness (default 1)\n"
           "  --rekey-time S       soft add-time limit of every SA in seconds: the key manager\n"
           "                       rekeys when it expires (strongSwan's rekey_time; default none)\n"
           "  --life-time S        hard add-time limit of every SA in seconds: the SA is deleted\n"
           "                       (strongSwan's life_time; above --rekey-time; default none)\n"
           "  --no-pcap            do not write pcaps\n"
           "  --device SPEC        the offload device behind every NIC: reference (default),\n"
           "                       example, mutant:NAME or a device library path; modes the\n"
           "                       device does not offer are skipped\n"
           "  --list               print the scenario names and exit\n"
           "exit codes: 0 every run delivered TCP and UDP data and (all but plain) rekeyed;\n"
           "            1 a run did not; 2 bad arguments\n";
}

namespace
{
int
UsageError(const std::string& message)
{
    std::cerr << "offloadlab run: " << message << "\n(see `offloadlab run --help`)\n";
    return kExitUsage;
}

bool
ParseNumber(const std::string& text, double* value)
{
    char* end = nullptr;
    errno = 0;
    *value = std::strtod(text.c_str(), &end);
    return errno == 0 && end && *end == '\0' && !text.empty();
}
} // namespace

int
RunCommand(const std::vector<std::string>& args)
{
    std::string outDir;
    std::vector<std::string> scenarios;
    std::vector<std::string> modes;
    double duration = 2.0;
    double seed = 1;
    bool pcap = true;
    double rekeyTime = 0;
    double lifeTime = 0;
    std::string device = "reference";
    std::shared_ptr<const ns3::OffloadDeviceType> deviceType;
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= args.size())
            {
                return false;
            }
            *out = args[++i];
            return true;
        };
        std::string v;
        if (a == "-h" || a == "--help")
        {
            PrintRunHelp();
            return kExitOk;
        }
        else if (a == "--list")
        {
            for (const auto& name : ScenarioNames())
            {
                std::cout << name << "\n";
            }
            return kExitOk;
        }
        else if (a == "--out")
        {
            if (!value(&outDir))
            {
                return UsageError("--out needs a folder");
            }
        }
        else if (a == "--scenario")
        {
            if (!value(&v))
            {
                return UsageError("--scenario needs a name");
            }
            bool known = false;
            for (const auto& name : ScenarioNames())
            {
                known = known || name == v;
            }
            if (!known)
            {
                return UsageError("--scenario: unknown name '" + v + "' (see --list)");
            }
            scenarios.push_back(v);
        }
        else if (a == "--mode")
        {
            ScenarioOptions probe;
            if (!value(&v) || !SetScenarioMode(v, &probe))
            {
                return UsageError("--mode: unknown value '" + v +
                                  "' (expected plain, sw, crypto or packet)");
            }
            modes.push_back(v);
        }
        else if (a == "--duration")
        {
            if (!value(&v) || !ParseNumber(v, &duration) || duration < 0.5 || duration > 3600)
            {
                return UsageError("--duration: '" + v +
                                  "' is not a number of seconds in 0.5..3600");
            }
        }
        else if (a == "--seed")
        {
            if (!value(&v) || !ParseNumber(v, &seed) || seed < 1 || seed != uint64_t(seed))
            {
                return UsageError("--seed: '" + v + "' is not a positive integer");
            }
        }
        else if (a == "--rekey-time" || a == "--life-time")
        {
            double* target = a == "--rekey-time" ? &rekeyTime : &lifeTime;
            if (!value(&v) || !ParseNumber(v, target) || *target < 1 || *target > 86400 ||
                *target != uint64_t(*target))
            {
                return UsageError(a + ": '" + v + "' is not a whole number of seconds in 1..86400");
            }
        }
        else if (a == "--no-pcap")
        {
            pcap = false;
        }
        else if (a == "--device")
        {
            std::string error;
            if (!value(&device) || !(deviceType = ns3::OffloadDeviceType::Open(device, &error)))
            {
                return UsageError("--device: '" + device +
                                  "': " + (error.empty() ? "needs a device" : error));
            }
        }
        else
        {
            return UsageError("unknown option '" + a + "'");
        }
    }
    if (rekeyTime > 0 && lifeTime > 0 && rekeyTime >= lifeTime)
    {
        return UsageError("--rekey-time: " + std::to_string(uint64_t(rekeyTime)) +
                          " must be below --life-time " + std::to_string(uint64_t(lifeTime)));
    }
    if (outDir.empty())
    {
        return UsageError("--out DIR is required");
    }
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec)
    {
        return UsageError("--out: cannot create '" + outDir + "': " + ec.message());
    }
    if (scenarios.empty())
    {
        scenarios = DefaultScenarioNames();
    }
    if (modes.empty())
    {
        modes = ScenarioModeNames(); // plain first: every figure next to its unprotected baseline
    }
    if (deviceType)
    {
        ns3::Config::SetDefault("ns3::EmuNicNetDevice::Device", ns3::StringValue(device));
        std::vector<std::string> offered;
        for (const std::string& mode : modes)
        {
            if ((mode == DataPathName(XfrmOffloadType::Crypto) && !deviceType->OffersCrypto()) ||
                (mode == DataPathName(XfrmOffloadType::Packet) && !deviceType->OffersPacket()))
            {
                std::cerr << "offloadlab run: skipping " << mode << " mode: device '" << device
                          << "' does not offer it\n";
                continue;
            }
            offered.push_back(mode);
        }
        modes = offered;
    }

    // What runs: every scenario in every mode, but packet offload of an ESP-in-UDP scenario only
    // on a device that declares udp_encap (the host refuses such SAs for the others).
    std::vector<std::pair<std::string, std::string>> plan;
    for (const auto& scenario : scenarios)
    {
        for (const std::string& mode : modes)
        {
            if (deviceType && ScenarioUsesUdpEncap(scenario) &&
                mode == DataPathName(XfrmOffloadType::Packet) &&
                !deviceType->GetCapabilities().udp_encap)
            {
                std::cerr << "offloadlab run: skipping " << scenario << " " << mode << ": device '"
                          << device << "' does not offload UDP-encapsulated SAs (udp_encap)\n";
                continue;
            }
            plan.emplace_back(scenario, mode);
        }
    }

    nlohmann::json runs = nlohmann::json::array();
    EspSaFile keys;
    const size_t total = plan.size();
    for (const auto& [scenario, mode] : plan)
    {
        ScenarioOptions options;
        options.scenario = scenario;
        SetScenarioMode(mode, &options);
        options.duration = Seconds(duration);
        options.seed = uint64_t(seed);
        options.rekeySeconds = uint64_t(rekeyTime);
        options.lifeSeconds = uint64_t(lifeTime);
        options.pcapDir = pcap ? outDir : "";
        std::cerr << "[" << runs.size() + 1 << "/" << total << "] " << scenario << " " << mode
                  << " ... " << std::flush;
        ScenarioResult result;
        std::string error;
        if (!RunScenario(options, &result, &error))
        {
            std::cerr << "error\n";
            std::cerr << "offloadlab run: " << scenario << " " << mode << ": " << error << "\n";
            return kExitFailed;
        }
        std::cerr << "done (" << result.wallSeconds << " s wall)\n";
        size_t refused = 0;
        for (const ScenarioSa& sa : result.sas)
        {
            refused += sa.record.offloadActual != sa.record.offloadRequested ? 1 : 0;
        }
        if (refused)
        {
            // Linux 6.1 to 6.10 refuse crypto offload of ESP-in-UDP ("Encapsulation and TFC
            // padding can't be offloaded"); strongSwan's hw_offload=auto then installs them
            // in software, as the key manager does.
            std::cerr << "  note: " << refused << " of " << result.sas.size()
                      << " SAs run in software: the NIC refused to offload them (results.json:"
                         " events \"offload-refused\")\n";
        }
        runs.push_back(ScenarioResultToJson(result));
        for (const auto& sa : EspSaEntriesOf(result))
        {
            keys.Add(sa);
        }
    }

    const nlohmann::json results = ResultsDocument(
        RunRequest{uint64_t(seed), device, duration, uint64_t(rekeyTime), uint64_t(lifeTime)},
        runs);
    std::ofstream(outDir + "/results.json") << results.dump(2) << "\n";
    keys.Write(outDir + "/esp_sa");

    std::cout << RunSummaryTable(runs);
    std::cout << "\n" << RunTotalsLine(results) << "\n";
    std::cout << "wrote " << outDir << "/results.json, " << outDir << "/esp_sa"
              << (pcap ? ", and one pcap per link" : "") << "\n";
    for (const auto& p : results["problems"])
    {
        std::cout << "PROBLEM: " << p.get<std::string>() << "\n";
    }
    return results["problems"].empty() ? kExitOk : kExitFailed;
}

} // namespace offloadlab
