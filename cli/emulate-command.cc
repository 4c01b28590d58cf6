// `offloadlab emulate`: an emulation topology with real charons and real traffic, keyed through
// the XFRM netlink endpoint, in one or more modes side by side.
#include "command.h"
#include "emulation-run.h"
#include "harness-process.h"

#include <csignal>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace offloadlab
{

void
PrintEmulateHelp()
{
    std::cout << "usage: offloadlab emulate [--topology NAME] [--mode MODE[,MODE...]] --out DIR\n"
                 "                          [--seconds S] [--bitrate RATE] [--rekey S] [--trap]\n"
                 "                          [--hard-limit-ms MS]\n"
                 "\n"
                 "Runs an emulation topology (topologies/emulation/NAME.py): Mininet hosts with\n"
                 "real charon daemons (strongSwan 5.9.8), each host's kernel below IP an ns-3\n"
                 "node (software IPsec and the emulated NIC) on an ns-3 wire, keyed by charon\n"
                 "over XFRM netlink. Runs IKEv2, ping and iperf3 both ways, then tears down.\n"
                 "Needs root.\n"
                 "\n"
                 "  --topology NAME   h2h (default), gw2gw, or interop (against strongSwan's\n"
                 "                    kernel-libipsec, ESP-in-UDP; modes sw and packet)\n"
                 "  --mode MODES      plain (no IPsec), sw (software IPsec in the node), crypto\n"
                 "                    (charon's hw_offload = yes: the NIC's crypto offload),\n"
                 "                    packet (the same requests made packet offload by the\n"
                 "                    endpoint: strongSwan 5.9.8 cannot ask for it);\n"
                 "                    several, comma-separated, run one after the other on the\n"
                 "                    same topology and are compared (default: sw)\n"
                 "  --out DIR         results.json (per mode in DIR/MODE/ when several), the\n"
                 "                    wire pcap, esp_sa (Wireshark's key file), charon logs\n"
                 "  --seconds S       each iperf3 direction (default 3)\n"
                 "  --bitrate RATE    iperf3's -b (for example 100M; default: as fast as it goes)\n"
                 "  --rekey S         the initiator's CHILD_SA rekey_time: the node raises the\n"
                 "                    soft expire, charon rekeys (results.json: rekey)\n"
                 "  --trap            the initiator's CHILD_SA is a trap (start_action = trap):\n"
                 "                    no swanctl --initiate; the first ping's ACQUIRE starts it\n"
                 "  --hard-limit-ms   the real-time simulator's HardLimit (default 100)\n";
}

namespace
{
void
OnSignal(int)
{
    ns3::g_emulationInterrupted = true;
}

std::vector<std::string>
Split(const std::string& s)
{
    std::vector<std::string> parts;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, ','))
    {
        parts.push_back(part);
    }
    return parts;
}

double
Mbit(const nlohmann::json& r, const char* name)
{
    const auto it = r.find("traffic");
    if (it == r.end() || !it->contains(name))
    {
        return 0;
    }
    return (*it)[name].value("mbit_per_s", 0.0);
}
} // namespace

int
EmulateCommand(const std::vector<std::string>& args)
{
    ns3::EmulationOptions options;
    std::string modes = "sw";
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        const bool hasValue = i + 1 < args.size();
        if (a == "--topology" && hasValue)
        {
            options.topology = args[++i];
        }
        else if (a == "--mode" && hasValue)
        {
            modes = args[++i];
        }
        else if (a == "--out" && hasValue)
        {
            options.outDir = args[++i];
        }
        else if (a == "--seconds" && hasValue)
        {
            options.trafficSeconds = std::atof(args[++i].c_str());
            if (options.trafficSeconds <= 0 || options.trafficSeconds > 600)
            {
                std::cerr << "offloadlab emulate: --seconds: '" << args[i]
                          << "' is not in (0, 600]\n";
                return kExitUsage;
            }
        }
        else if (a == "--rekey" && hasValue)
        {
            options.rekeySeconds = std::atof(args[++i].c_str());
            if (options.rekeySeconds < 1)
            {
                std::cerr << "offloadlab emulate: --rekey: '" << args[i]
                          << "' is not a number of seconds >= 1\n";
                return kExitUsage;
            }
        }
        else if (a == "--trap")
        {
            options.trap = true;
        }
        else if (a == "--bitrate" && hasValue)
        {
            options.iperfBitrate = args[++i];
        }
        else if (a == "--hard-limit-ms" && hasValue)
        {
            options.hardLimitMs = std::atoi(args[++i].c_str());
            if (options.hardLimitMs <= 0)
            {
                std::cerr << "offloadlab emulate: --hard-limit-ms: '" << args[i]
                          << "' is not a positive number\n";
                return kExitUsage;
            }
        }
        else if (a == "-h" || a == "--help")
        {
            PrintEmulateHelp();
            return kExitOk;
        }
        else
        {
            std::cerr << "offloadlab emulate: unknown or incomplete option '" << a
                      << "' (try `offloadlab help emulate`)\n";
            return kExitUsage;
        }
    }
    if (options.outDir.empty())
    {
        std::cerr << "offloadlab emulate: --out DIR is required\n";
        return kExitUsage;
    }
    const std::vector<std::string> topologies = ns3::EmulationTopologies();
    if (std::find(topologies.begin(), topologies.end(), options.topology) == topologies.end())
    {
        std::cerr << "offloadlab emulate: --topology: '" << options.topology << "' is not one of:";
        for (const auto& t : topologies)
        {
            std::cerr << " " << t;
        }
        std::cerr << "\n";
        return kExitUsage;
    }
    const std::vector<std::string> list = Split(modes);
    for (const auto& m : list)
    {
        const auto& known = ns3::EmulationModes();
        if (std::find(known.begin(), known.end(), m) == known.end())
        {
            std::cerr << "offloadlab emulate: --mode: '" << m
                      << "' is not one of plain, sw, crypto, packet\n";
            return kExitUsage;
        }
    }
    if (geteuid() != 0)
    {
        std::cerr << "offloadlab emulate: needs root (network namespaces, TAP devices)\n";
        return kExitUsage;
    }
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = OnSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    options.progress = &std::cout;
    const std::string top = options.outDir;
    nlohmann::json summary = {{"topology", options.topology}, {"runs", nlohmann::json::array()}};
    bool allOk = true;
    for (const auto& mode : list)
    {
        if (ns3::g_emulationInterrupted)
        {
            break;
        }
        options.mode = mode;
        options.outDir = list.size() == 1 ? top : top + "/" + mode;
        nlohmann::json results;
        std::string error;
        const bool ok = ns3::RunEmulation(options, &results, &error);
        if (!ok)
        {
            std::cerr << "offloadlab emulate: " << mode << ": " << error << "\n";
        }
        allOk = allOk && ok;
        summary["runs"].push_back(results);
    }
    std::cout << "\n"
              << std::left << std::setw(8) << "mode" << std::setw(6) << "ok" << std::setw(14)
              << "fwd Mbit/s" << std::setw(14) << "rev Mbit/s" << std::setw(14) << "initiate ms"
              << std::setw(12) << "max lag us"
              << "ns-3 cpu s\n";
    for (const auto& r : summary["runs"])
    {
        const auto& timing = r.value("timing", nlohmann::json::object());
        std::cout << std::setw(8) << r["mode"].get<std::string>() << std::setw(6)
                  << (r.value("ok", false) ? "yes" : "NO") << std::setw(14) << std::fixed
                  << std::setprecision(1) << Mbit(r, "iperf3") << std::setw(14)
                  << Mbit(r, "iperf3_reverse") << std::setw(14)
                  << timing.value("initiate_to_installed_ms", 0.0) << std::setw(12)
                  << r.value("realtime", nlohmann::json::object()).value("max_lag_us", 0)
                  << r.value("cpu_seconds", nlohmann::json::object()).value("ns3", 0.0) << "\n";
    }
    if (list.size() > 1)
    {
        std::ofstream(top + "/results.json") << summary.dump(2) << "\n";
    }
    if (ns3::g_emulationInterrupted)
    {
        std::cerr << "offloadlab emulate: interrupted; everything it started is stopped\n";
        return kExitFailed;
    }
    return allOk ? kExitOk : kExitFailed;
}

} // namespace offloadlab
