// `offloadlab scale`: predicts IPsec throughput by CPU count per offload mode with the scaling
// model, scores it against the reference table, and sweeps beyond it.
#include "command.h"
#include "harness-process.h"
#include "offloadlab-version.h"
#include "scale-calibration.h"
#include "scale-reference.h"
#include "scale-study.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace offloadlab
{

using namespace ns3;

void
PrintScaleHelp()
{
    std::cout
        << "usage: offloadlab scale --out DIR [options]\n"
           "       offloadlab scale --merge DIR [DIR...] --out DIR\n"
           "\n"
           "Simulates two hosts of N cores joined by a NIC link, one TCP stream per CPU, in\n"
           "baseline (no IPsec), sw (software IPsec), crypto (crypto offload) and packet\n"
           "(packet offload) modes, and predicts throughput by CPU count. The stage costs are\n"
           "fitted to the reference's 1-CPU cells of baseline, sw and crypto; the cipher and\n"
           "the copy are measured on this machine. With the reference's inputs it prints the\n"
           "predicted table beside the reference, the errors, the naive formula's errors and\n"
           "the knees. Writes DIR/scaling.json, DIR/scaling.csv and plots (PNG and SVG).\n"
           "\n"
           "  --out DIR              output folder (created if missing)          [required]\n"
           "  --modes LIST           baseline,sw,crypto,packet (default: all four)\n"
           "  --cpus LIST            CPU counts (default 1,2,4,8,16,32; at most 64)\n"
           "  --link GBPS            link rate, Gbit/s (default 100)\n"
           "  --mtu N                link MTU (default 1500)\n"
           "  --encap E              transport (default), tunnel, udp-tunnel (ESP-in-UDP)\n"
           "  --clock GHZ            base clock (default 2.3, the Xeon Platinum 8380's)\n"
           "  --turbo on|off         clock by busy cores: 3.4 GHz for 1-2, falling to 3.0\n"
           "                         at 40 (the 8380's turbo range) (default on)\n"
           "  --cores-per-socket N   where the all-core turbo is reached (default 40)\n"
           "  --sas N                SA pairs the streams share round robin (default: one\n"
           "                         per stream; 1: one shared SA, as without RFC 9611)\n"
           "  --flows N              TCP streams (default: one per CPU)\n"
           "  --rss spread|hash      flow steering that never collides (default), or the\n"
           "                         Toeplitz hash into a 128-entry indirection table\n"
           "  --rss-after-decrypt on|off  the NIC hashes decrypted headers (crypto, packet)\n"
           "  --crypto-cap GBPS      the NIC's crypto engine throughput (default: none)\n"
           "  --mix fixed|imix       traffic: TCP bulk (default), or UDP datagrams of the\n"
           "                         simple iMIX (IP sizes 40, 576, 1500 as 7:4:1), one\n"
           "                         stream per CPU, as fast as each socket's buffer allows\n"
           "  --llc on|off           LLC contention on the receiver: received data that\n"
           "                         waits longer than DDIO's ways (--ddio-mb, default 10)\n"
           "                         hold is read from DRAM (--dram-gbps per core, default\n"
           "                         12) (default off)\n"
           "  --cipher-factor F      the measured cipher cost times F (default 1)\n"
           "  --no-sensitivity       skip the reference grid at twice the cipher cost\n"
           "  --sensitivity-assumed  also refit and score the reference grid with each\n"
           "                         assumed cost at half and at twice its value\n"
           "  --sweep NAME=V1,V2,..  vary an input (at most two sweeps: a grid); NAME: link,\n"
           "                         mtu, clock, cores-per-socket, sas, flows, encap, rss,\n"
           "                         crypto-cap, turbo, rss-after-decrypt, llc, ddio-mb,\n"
           "                         dram-gbps, mix\n"
           "  --jobs N               cells at once, each in a process (default: CPUs)\n"
           "  --shard K/N            run only every N-th cell from the K-th (a CI matrix or a\n"
           "                         batch job each); combine with --merge\n"
           "  --costs FILE           take the stage costs from a scaling.json instead of\n"
           "                         measuring and fitting (shards should share them)\n"
           "  --measure-ms MS        measured simulated time per cell (default 50)\n"
           "  --cell-timeout S       kill a cell still running after S s (default 600)\n"
           "  --merge DIR...         combine the scaling.json of shards into --out\n"
           "  --no-plots             skip the plots\n"
           "\n"
           "exit codes: 0 every cell ran, 1 a cell failed, 2 bad arguments\n";
}

namespace
{
struct Options
{
    std::string out;
    std::vector<ScaleMode> modes = ReferenceModes();
    std::vector<uint32_t> cpus = ReferenceCpus();
    ScaleCellConfig base;
    std::vector<ScaleAxis> axes;
    double cipherFactor{1};
    bool sensitivity{true};
    bool assumedSensitivity{false};
    bool plots{true};
    uint32_t jobs{std::max(1u, std::thread::hardware_concurrency())};
    uint32_t shardK{1};
    uint32_t shardN{1};
    std::string costsFile;
    std::vector<std::string> merge;
    uint32_t cellTimeout{600};
};

int
UsageError(const std::string& message)
{
    std::cerr << "offloadlab scale: " << message << " (see `offloadlab help scale`)\n";
    return kExitUsage;
}

std::vector<std::string>
SplitList(const std::string& s, char sep = ',')
{
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, sep))
    {
        out.push_back(item);
    }
    return out;
}

bool
ParseUint(const std::string& s, uint32_t* v)
{
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    {
        return false;
    }
    *v = uint32_t(std::stoul(s));
    return true;
}

/**
 * run on the reference's machine and traffic: the 8380's clocks and cores, 100G, MTU 1500,
 * transport mode, one SA per stream, TCP. It keeps run's hypotheses about that machine (turbo on
 * or off, RSS, LLC contention), which are what a run may score against the reference.
 */
ScaleCellConfig
ReferenceCell(const ScaleCellConfig& run)
{
    ScaleCellConfig c = run;
    c.frequency = ScaleFrequency();
    c.frequency.turbo = run.frequency.turbo;
    c.linkGbps = 100;
    c.mtu = 1500;
    c.encap = ScaleEncap::Transport;
    c.sas = 0;
    c.flows = 0;
    c.cryptoCapGbps = 0;
    c.imix = false;
    return c;
}

// The reference's own inputs: only then is the table comparable with it.
bool
IsReferenceGrid(const Options& o)
{
    return o.axes.empty() && CellInputsToJson(ReferenceCell(o.base)) == CellInputsToJson(o.base) &&
           o.modes == ReferenceModes() && o.cpus == ReferenceCpus() && o.shardN == 1;
}

std::map<ScaleMode, double>
Ceilings(const ScaleCellConfig& c)
{
    std::map<ScaleMode, double> m;
    for (ScaleMode mode : ReferenceModes())
    {
        m[mode] = ScaleWire(mode, c.encap, c.mtu).GetGoodputCeiling(c.linkGbps * 1e9) / 1e9;
    }
    return m;
}

nlohmann::json
ScoreToJson(const ScaleScore& s)
{
    nlohmann::json knees;
    for (const auto& [m, k] : s.knees)
    {
        knees[ScaleModeName(m)] = k;
    }
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& [cell, e] : s.errors)
    {
        errors.push_back(
            {{"mode", ScaleModeName(cell.first)}, {"cpus", cell.second}, {"error_pct", e}});
    }
    return {{"mae20_pct", s.mae20},
            {"max20_pct", s.max20},
            {"mae8_pct", s.mae8},
            {"max8_pct", s.max8},
            {"packet_1cpu_error_pct", s.packetOneCpu},
            {"knees", knees},
            {"knees_right", s.kneesRight},
            {"errors", errors}};
}

ScaleTable
TableOf(const std::vector<ScaleCellConfig>& cells, const std::vector<ScaleCellRun>& runs)
{
    ScaleTable t;
    for (size_t i = 0; i < cells.size(); ++i)
    {
        if (runs[i].ok)
        {
            t[{cells[i].mode, cells[i].cpus}] = runs[i].result.gbps;
        }
    }
    return t;
}

void
PrintTable(const ScaleTable& model, bool withReference, const ScaleTable& formula)
{
    std::cout << std::fixed << std::setprecision(1);
    std::cout << "\nGbit/s         ";
    for (uint32_t n : ReferenceCpus())
    {
        std::cout << std::setw(18) << (std::to_string(n) + " CPU" + (n > 1 ? "s" : ""));
    }
    std::cout << "\n";
    for (ScaleMode m : ReferenceModes())
    {
        std::cout << std::left << std::setw(15) << ScaleModeName(m) << std::right;
        for (uint32_t n : ReferenceCpus())
        {
            const auto it = model.find({m, n});
            std::ostringstream cell;
            cell << std::fixed << std::setprecision(1);
            if (it == model.end())
            {
                cell << "-";
            }
            else if (withReference)
            {
                const double ref = ReferenceGbps(m, n);
                cell << it->second << " (" << std::showpos << 100 * (it->second - ref) / ref
                     << std::noshowpos << "%)";
            }
            else
            {
                cell << it->second;
            }
            std::cout << std::setw(18) << cell.str();
        }
        std::cout << "\n";
        if (withReference)
        {
            std::cout << std::left << std::setw(15) << "  reference" << std::right;
            for (uint32_t n : ReferenceCpus())
            {
                std::cout << std::setw(18) << ReferenceGbps(m, n);
            }
            std::cout << "\n" << std::left << std::setw(15) << "  formula" << std::right;
            for (uint32_t n : ReferenceCpus())
            {
                const double f = formula.at({m, n});
                const double ref = ReferenceGbps(m, n);
                std::ostringstream cell;
                cell << std::fixed << std::setprecision(1) << f << " (" << std::showpos
                     << 100 * (f - ref) / ref << std::noshowpos << "%)";
                std::cout << std::setw(18) << cell.str();
            }
            std::cout << "\n";
        }
    }
}

void
PrintScore(const char* name, const ScaleScore& s)
{
    std::cout << std::fixed << std::setprecision(2) << name << ": mean |error| " << s.mae20
              << " % over the 20 cells of 2-32 CPUs (max " << s.max20 << " %), " << s.mae8
              << " % over the 8 sub-ceiling cells (max " << s.max8
              << " %); packet offload at 1 CPU " << std::showpos << s.packetOneCpu << std::noshowpos
              << " %; knees";
    for (const auto& [m, k] : s.knees)
    {
        std::cout << " " << ScaleModeName(m) << " " << k;
    }
    std::cout << (s.kneesRight ? " (all right)" : " (not all right)") << "\n";
}

nlohmann::json
Targets(const ScaleScore& model, const ScaleScore& formula)
{
    return {
        {"mae20_at_most_1_5_pct", model.mae20 <= 1.5},
        {"mae8_at_most_3_pct", model.mae8 <= 3},
        {"no_cell_worse_than_6_pct", model.max20 <= 6},
        {"every_knee_right", model.kneesRight},
        {"beats_formula_on_both_means", model.mae20 < formula.mae20 && model.mae8 < formula.mae8}};
}

void
WriteCsv(const std::string& path,
         const std::vector<ScaleCellConfig>& cells,
         const std::vector<ScaleCellRun>& runs,
         bool reference,
         const ScaleTable& formula)
{
    std::ofstream out(path);
    out << "mode,cpus,flows,sas,link_gbps,mtu,encap,mix,rss,rss_after_decrypt,crypto_cap_gbps,"
           "turbo,base_ghz,cores_per_socket,llc,ddio_mb,dram_gbps,ghz,gbps,wire_gbps,mpps,"
           "delivered_mpps,max_rx_utilisation,mean_rx_utilisation,max_tx_utilisation,drops,"
           "reference_gbps,error_pct,formula_gbps\n";
    for (size_t i = 0; i < cells.size(); ++i)
    {
        if (!runs[i].ok)
        {
            continue;
        }
        const ScaleCellConfig& c = cells[i];
        const ScaleCellResult& r = runs[i].result;
        double maxRx = 0;
        double sumRx = 0;
        double maxTx = 0;
        for (const auto& l : r.receiverCores)
        {
            maxRx = std::max(maxRx, l.utilisation);
            sumRx += l.utilisation;
        }
        for (const auto& l : r.senderCores)
        {
            maxTx = std::max(maxTx, l.utilisation);
        }
        const nlohmann::json in = CellInputsToJson(c);
        const auto onOff = [](bool on) { return on ? "on" : "off"; };
        out << ScaleModeName(c.mode) << ',' << c.cpus << ',' << in["flows"] << ',' << in["sas"]
            << ',' << c.linkGbps << ',' << c.mtu << ',' << ScaleEncapName(c.encap) << ','
            << ScaleMixName(c.imix) << ',' << ScaleRssName(c.rss) << ',' << onOff(c.rssAfterDecrypt)
            << ',' << c.cryptoCapGbps << ',' << onOff(c.frequency.turbo) << ','
            << c.frequency.baseGhz << ',' << c.frequency.socketCores << ','
            << onOff(c.llcContention) << ',' << c.ddioMegabytes << ',' << c.dramGbytesPerSecond
            << ',' << r.ghz << ',' << r.gbps << ',' << r.wireGbps << ',' << r.mpps << ','
            << r.deliveredMpps << ',' << maxRx << ','
            << sumRx / std::max<size_t>(1, r.receiverCores.size()) << ',' << maxTx << ',' << r.drops
            << ',';
        if (reference)
        {
            const double ref = ReferenceGbps(c.mode, c.cpus);
            out << ref << ',' << 100 * (r.gbps - ref) / ref << ',' << formula.at({c.mode, c.cpus});
        }
        else
        {
            out << ",,";
        }
        out << '\n';
    }
}

bool
RunPlots(const std::string& dir)
{
    // The script's output goes to plots.log, and is shown when it fails.
    std::string output;
    const int status =
        RunChild({"/usr/bin/python3", OFFLOADLAB_PLOT_SCRIPT, dir + "/scaling.json", dir},
                 std::chrono::minutes(5),
                 dir + "/plots.log",
                 &output);
    if (status != 0)
    {
        std::cerr << output;
    }
    return status == 0;
}

int
Parse(const std::vector<std::string>& args, Options* o)
{
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        const auto value = [&](std::string* v) {
            if (i + 1 >= args.size())
            {
                return false;
            }
            *v = args[++i];
            return true;
        };
        std::string v;
        std::string error;
        if (a == "-h" || a == "--help")
        {
            PrintScaleHelp();
            return -1;
        }
        else if (a == "--no-sensitivity")
        {
            o->sensitivity = false;
        }
        else if (a == "--sensitivity-assumed")
        {
            o->assumedSensitivity = true;
        }
        else if (a == "--no-plots")
        {
            o->plots = false;
        }
        else if (a == "--merge")
        {
            while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
            {
                o->merge.push_back(args[++i]);
            }
            if (o->merge.empty())
            {
                return UsageError("--merge needs the shards' folders");
            }
        }
        else if (!value(&v))
        {
            return UsageError(a.rfind("--", 0) == 0 ? a + " needs a value"
                                                    : "unexpected argument '" + a + "'");
        }
        else if (a == "--out")
        {
            o->out = v;
        }
        else if (a == "--modes")
        {
            o->modes.clear();
            for (const std::string& m : SplitList(v))
            {
                ScaleMode mode;
                if (!ParseScaleMode(m, &mode))
                {
                    return UsageError("--modes: '" + m + "' is not baseline, sw, crypto or packet");
                }
                if (std::find(o->modes.begin(), o->modes.end(), mode) != o->modes.end())
                {
                    return UsageError("--modes: '" + m + "' is named twice");
                }
                o->modes.push_back(mode);
            }
        }
        else if (a == "--cpus")
        {
            o->cpus.clear();
            for (const std::string& n : SplitList(v))
            {
                uint32_t c = 0;
                if (!ParseUint(n, &c) || c < 1 || c > 64)
                {
                    return UsageError("--cpus: '" + n + "' is not a CPU count from 1 to 64");
                }
                if (std::find(o->cpus.begin(), o->cpus.end(), c) != o->cpus.end())
                {
                    return UsageError("--cpus: '" + n + "' is named twice");
                }
                o->cpus.push_back(c);
            }
        }
        else if (a == "--cipher-factor")
        {
            if (!ParseScaleNumber(v, &o->cipherFactor) || !(o->cipherFactor > 0))
            {
                return UsageError("--cipher-factor: '" + v + "' is not a positive number");
            }
        }
        else if (a == "--jobs")
        {
            if (!ParseUint(v, &o->jobs) || o->jobs < 1 || o->jobs > 256)
            {
                return UsageError("--jobs: '" + v + "' is not from 1 to 256");
            }
        }
        else if (a == "--shard")
        {
            const auto parts = SplitList(v, '/');
            if (parts.size() != 2 || !ParseUint(parts[0], &o->shardK) ||
                !ParseUint(parts[1], &o->shardN) || o->shardN < 1 || o->shardK < 1 ||
                o->shardK > o->shardN)
            {
                return UsageError("--shard: '" + v + "' is not K/N with 1 <= K <= N");
            }
        }
        else if (a == "--cell-timeout")
        {
            if (!ParseUint(v, &o->cellTimeout) || o->cellTimeout < 1)
            {
                return UsageError("--cell-timeout: '" + v + "' is not a number of seconds");
            }
        }
        else if (a == "--costs")
        {
            o->costsFile = v;
        }
        else if (a == "--measure-ms")
        {
            double ms = 0;
            if (!ParseScaleNumber(v, &ms) || !(ms >= 5 && ms <= 10000))
            {
                return UsageError("--measure-ms: '" + v + "' is not from 5 to 10000");
            }
            o->base.measureMs = ms;
        }
        else if (a == "--sweep")
        {
            const size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
            {
                return UsageError("--sweep: '" + v + "' is not NAME=V1,V2,...");
            }
            ScaleAxis axis{v.substr(0, eq), SplitList(v.substr(eq + 1))};
            for (const ScaleAxis& other : o->axes)
            {
                if (other.name == axis.name)
                {
                    return UsageError("--sweep: '" + axis.name + "' is swept twice");
                }
            }
            for (size_t a = 0; a < axis.values.size(); ++a)
            {
                if (std::find(axis.values.begin(), axis.values.begin() + a, axis.values[a]) !=
                    axis.values.begin() + a)
                {
                    return UsageError("--sweep: " + axis.name + "'s value '" + axis.values[a] +
                                      "' is named twice");
                }
            }
            for (const std::string& x : axis.values)
            {
                ScaleCellConfig probe = o->base;
                if (!SetScaleInput(&probe, axis.name, x, &error))
                {
                    return UsageError("--sweep " + error);
                }
            }
            o->axes.push_back(axis);
            if (o->axes.size() > 2)
            {
                return UsageError("--sweep: at most two inputs vary at once");
            }
        }
        else
        {
            const std::string name = a.substr(2);
            const auto& names = ScaleAxisNames();
            if (a.rfind("--", 0) != 0 || std::find(names.begin(), names.end(), name) == names.end())
            {
                return UsageError("unknown option '" + a + "'");
            }
            if (!SetScaleInput(&o->base, name, v, &error))
            {
                return UsageError("--" + error);
            }
        }
    }
    if (o->out.empty())
    {
        return UsageError("--out DIR is required");
    }
    return 0;
}

nlohmann::json
MachineToJson(const MachineCosts& m)
{
    nlohmann::json cipher = nlohmann::json::array();
    for (const auto& [bytes, cycles] : m.cipher.GetPoints())
    {
        cipher.push_back(
            {{"bytes", bytes}, {"cycles", cycles}, {"cycles_per_byte", cycles / bytes}});
    }
    return {{"cpu", m.cpu},
            {"ghz", m.ghz},
            {"cipher", cipher},
            {"copy_byte", m.copyByte},
            {"seconds", m.seconds}};
}

nlohmann::json
Sources(const ScaleCalibration& cal)
{
    // What is neither fitted nor measured is assumed.
    nlohmann::json s;
    for (const auto& [name, field] : ScaleCosts::Names())
    {
        s[name] = "assumed (docs/scaling.md)";
    }
    for (const ScaleFitStep& step : cal.steps)
    {
        s[step.parameter] =
            std::string("fitted to the reference's 1-CPU cell of ") + ScaleModeName(step.mode);
    }
    s["copy_byte"] = "measured: memcpy of 1,448-byte blocks on this machine (a lower bound)";
    s["cipher"] = "measured: the ESP codec's seal (OpenSSL's AES-128-GCM) on this machine at "
                  "64-1,500 bytes, times the cipher factor (a lower bound for the reference's "
                  "2022 kernel)";
    return s;
}

/// A cost neither fitted to the reference nor measured on this machine.
bool
AssumedCost(const std::string& name, const ScaleCalibration& cal)
{
    for (const ScaleFitStep& step : cal.steps)
    {
        if (step.parameter == name)
        {
            return false;
        }
    }
    return name != "copy_byte";
}

/**
 * The fit redone from calCell's costs with the cipher at cipherFactor, then the reference grid
 * with the new costs, scored; printed on one line. Null when the grid could not be scored.
 */
nlohmann::json
SensitivityRun(const ScaleCellConfig& calCell,
               const MachineCosts& machine,
               double cipherFactor,
               const Options& o,
               const std::map<ScaleMode, double>& ceilings,
               const std::string& label)
{
    try
    {
        const ScaleCalibration cal = Calibrate(calCell, machine, cipherFactor, false);
        nlohmann::json fits = nlohmann::json::array();
        for (const ScaleFitStep& step : cal.steps)
        {
            if (!step.reached)
            {
                std::cout << "  " << label << ": " << step.parameter << " cannot be fitted: at "
                          << std::fixed << std::setprecision(0) << step.value << " cycles the "
                          << ScaleModeName(step.mode) << " 1-CPU cell runs at "
                          << std::setprecision(2) << step.simulatedGbps << " Gbit/s (reference "
                          << step.referenceGbps << ")"
                          << (step.value < 1 ? ": the cipher alone costs more than the "
                                               "reference's whole software IPsec"
                                             : "")
                          << "\n";
            }
            fits.push_back({{"parameter", step.parameter},
                            {"cycles", step.value},
                            {"simulated_gbps", step.simulatedGbps},
                            {"reference_gbps", step.referenceGbps},
                            {"reached", step.reached}});
        }
        ScaleCellConfig base = o.base;
        base.costs = cal.costs;
        const auto cells = ExpandGrid(base, o.modes, o.cpus, {});
        const auto runs = RunCells(cells, o.jobs, nullptr, std::chrono::seconds(o.cellTimeout));
        const ScaleTable model = TableOf(cells, runs);
        if (model.size() != cells.size())
        {
            std::cerr << "offloadlab scale: sensitivity run " << label << ": a cell failed\n";
            return nullptr;
        }
        const ScaleScore score = ScoreAgainstReference(model, ceilings);
        PrintScore(("model, " + label).c_str(), score);
        nlohmann::json table = nlohmann::json::array();
        for (const auto& [cell, g] : model)
        {
            table.push_back(
                {{"mode", ScaleModeName(cell.first)}, {"cpus", cell.second}, {"gbps", g}});
        }
        return {{"calibration", fits},
                {"parameters", CostsToJson(cal.costs)},
                {"cells", table},
                {"score", ScoreToJson(score)}};
    }
    catch (const std::exception& e)
    {
        std::cerr << "offloadlab scale: sensitivity run " << label << ": " << e.what() << "\n";
        return nullptr;
    }
}

int
Merge(const Options& o)
{
    nlohmann::json merged;
    std::vector<std::pair<size_t, nlohmann::json>> cells;
    for (const std::string& dir : o.merge)
    {
        std::ifstream in(dir + "/scaling.json");
        if (!in)
        {
            return UsageError("--merge: no " + dir + "/scaling.json");
        }
        // A shard's file that is not JSON, or has no cells with their grid index, is named.
        try
        {
            const nlohmann::json j = nlohmann::json::parse(in);
            if (merged.is_null())
            {
                merged = j;
            }
            else if (j.value("parameters", nlohmann::json()) !=
                     merged.value("parameters", nlohmann::json()))
            {
                std::cerr << "offloadlab scale: warning: " << dir
                          << " was run with other stage costs (pass --costs to every shard)\n";
            }
            for (const auto& c : j.at("cells"))
            {
                cells.emplace_back(c.at("index").get<size_t>(), c);
            }
        }
        catch (const std::exception& e)
        {
            return UsageError("--merge: " + dir + "/scaling.json: " + e.what());
        }
    }
    std::sort(cells.begin(), cells.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
    });
    merged["cells"] = nlohmann::json::array();
    for (const auto& [index, c] : cells)
    {
        merged["cells"].push_back(c);
    }
    merged["shard"] = "merged from " + std::to_string(o.merge.size()) + " shards";
    std::filesystem::create_directories(o.out);
    std::ofstream(o.out + "/scaling.json") << merged.dump(2) << "\n";
    std::cout << "offloadlab scale: merged " << cells.size() << " cells into " << o.out
              << "/scaling.json\n";
    if (o.plots && !RunPlots(o.out))
    {
        std::cerr << "offloadlab scale: the plots failed (python3-matplotlib?)\n";
        return kExitFailed;
    }
    return kExitOk;
}
} // namespace

int
ScaleCommand(const std::vector<std::string>& args)
{
    Options o;
    const int parsed = Parse(args, &o);
    if (parsed != 0)
    {
        return parsed < 0 ? kExitOk : parsed;
    }
    if (!o.merge.empty())
    {
        return Merge(o);
    }
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec)
    {
        return UsageError("--out: cannot create '" + o.out + "': " + ec.message());
    }
    const auto start = std::chrono::steady_clock::now();

    // The fit runs on the reference's machine, since the reference's 1-CPU cells are what it is
    // fitted to: --clock 3.0 then predicts a faster machine instead of refitting to it.
    const ScaleCellConfig calCell = ReferenceCell(o.base);
    MachineCosts machine;
    ScaleCalibration cal;
    nlohmann::json doc;
    if (!o.costsFile.empty())
    {
        std::ifstream in(o.costsFile);
        nlohmann::json j;
        std::string error;
        try
        {
            j = nlohmann::json::parse(in);
        }
        catch (const std::exception& e)
        {
            return UsageError("--costs: " + o.costsFile + ": " + e.what());
        }
        if (!j.contains("parameters") || !CostsFromJson(j.at("parameters"), &cal.costs, &error))
        {
            return UsageError("--costs: " + o.costsFile + ": " +
                              (error.empty() ? "no parameters" : error));
        }
        doc["costs_file"] = o.costsFile;
        doc["parameter_sources"] = j.value("parameter_sources", nlohmann::json());
        doc["machine"] = j.value("machine", nlohmann::json());
        doc["calibration"] = j.value("calibration", nlohmann::json());
    }
    else
    {
        std::cout << "offloadlab scale: measuring the cipher and the copy on this machine\n";
        try
        {
            machine = MeasureMachineCosts();
            std::cout << "offloadlab scale: fitting the stage costs to the reference's 1-CPU "
                         "cells (baseline, sw, crypto)\n";
            cal = Calibrate(calCell, machine, o.cipherFactor);
        }
        catch (const std::exception& e)
        {
            std::cerr << "offloadlab scale: " << e.what() << "\n";
            return kExitFailed;
        }
        doc["machine"] = MachineToJson(machine);
        nlohmann::json steps = nlohmann::json::array();
        for (const ScaleFitStep& s : cal.steps)
        {
            steps.push_back({{"parameter", s.parameter},
                             {"mode", ScaleModeName(s.mode)},
                             {"cycles", s.value},
                             {"simulated_gbps", s.simulatedGbps},
                             {"reference_gbps", s.referenceGbps},
                             {"simulations", s.rounds}});
        }
        doc["calibration"] = steps;
        doc["parameter_sources"] = Sources(cal);
    }
    o.base.costs = cal.costs;
    doc["parameters"] = CostsToJson(cal.costs);
    doc["cipher_factor"] = o.cipherFactor;

    const std::vector<ScaleCellConfig> grid = ExpandGrid(o.base, o.modes, o.cpus, o.axes);
    const std::vector<size_t> mine = ShardIndices(grid.size(), o.shardK, o.shardN);
    std::vector<ScaleCellConfig> cells;
    for (size_t i : mine)
    {
        cells.push_back(grid[i]);
    }
    std::cout << "offloadlab scale: " << cells.size() << " cells"
              << (o.shardN > 1
                      ? " (shard " + std::to_string(o.shardK) + "/" + std::to_string(o.shardN) +
                            " of " + std::to_string(grid.size()) + ")"
                      : std::string())
              << ", " << o.jobs << " at a time\n";
    const std::vector<ScaleCellRun> runs = RunCells(
        cells,
        o.jobs,
        [](size_t done, size_t total) {
            std::cout << "\r  " << done << "/" << total << " cells" << std::flush;
        },
        std::chrono::seconds(o.cellTimeout));
    std::cout << "\n";

    const bool reference = IsReferenceGrid(o);
    const std::map<ScaleMode, double> ceilings = Ceilings(o.base);
    const ScaleTable formula = FormulaTable(Ceilings(calCell));
    bool failed = false;
    nlohmann::json cellsJson = nlohmann::json::array();
    for (size_t i = 0; i < cells.size(); ++i)
    {
        nlohmann::json c = CellInputsToJson(cells[i]);
        c["index"] = mine[i];
        if (!runs[i].ok)
        {
            failed = true;
            c["error"] = runs[i].error;
            std::cerr << "offloadlab scale: cell " << ScaleModeName(cells[i].mode) << " x "
                      << cells[i].cpus << " CPUs failed: " << runs[i].error << "\n";
        }
        else
        {
            c.update(CellResultToJson(runs[i].result));
            c["ceiling_gbps"] = ScaleWire(cells[i].mode, cells[i].encap, cells[i].mtu)
                                    .GetGoodputCeiling(cells[i].linkGbps * 1e9) /
                                1e9;
            if (reference)
            {
                const double ref = ReferenceGbps(cells[i].mode, cells[i].cpus);
                c["reference_gbps"] = ref;
                c["error_pct"] = 100 * (runs[i].result.gbps - ref) / ref;
                c["formula_gbps"] = formula.at({cells[i].mode, cells[i].cpus});
            }
        }
        cellsJson.push_back(c);
    }
    doc["cells"] = cellsJson;
    doc["version"] = OFFLOADLAB_VERSION " (" OFFLOADLAB_COMMIT ")";
    doc["command"] = "offloadlab scale";
    for (const std::string& a : args)
    {
        doc["command"] = doc["command"].get<std::string>() + " " + a;
    }
    doc["shard"] = std::to_string(o.shardK) + "/" + std::to_string(o.shardN);
    doc["grid_cells"] = grid.size();
    doc["ceilings_gbps"] = nlohmann::json::object();
    for (const auto& [m, g] : ceilings)
    {
        doc["ceilings_gbps"][ScaleModeName(m)] = g;
    }

    if (reference && !failed)
    {
        const ScaleTable model = TableOf(cells, runs);
        PrintTable(model, true, formula);
        const ScaleScore ms = ScoreAgainstReference(model, ceilings);
        const ScaleScore fs = ScoreAgainstReference(formula, ceilings);
        std::cout << "\n";
        PrintScore("model  ", ms);
        PrintScore("formula", fs);
        const nlohmann::json targets = Targets(ms, fs);
        std::cout << "targets:";
        for (const auto& [name, met] : targets.items())
        {
            std::cout << " " << name << " " << (met.get<bool>() ? "met" : "NOT met") << ";";
        }
        std::cout << "\n";
        doc["score"] = {{"model", ScoreToJson(ms)},
                        {"formula", ScoreToJson(fs)},
                        {"targets", Targets(ms, fs)}};
        if (o.sensitivity && o.costsFile.empty())
        {
            std::cout << "\noffloadlab scale: sensitivity: the cipher at twice its measured cost\n";
            const nlohmann::json run =
                SensitivityRun(calCell, machine, 2 * o.cipherFactor, o, ceilings, "cipher x2");
            if (!run.is_null())
            {
                doc["sensitivity"] = run;
                doc["sensitivity"]["cipher_factor"] = 2 * o.cipherFactor;
            }
        }
        if (o.assumedSensitivity && o.costsFile.empty())
        {
            // Each assumed cost at half and twice its value, the fit redone around it.
            std::cout << "\noffloadlab scale: sensitivity: each assumed cost at x0.5 and x2\n";
            nlohmann::json runs = nlohmann::json::array();
            for (const auto& [name, field] : ScaleCosts::Names())
            {
                if (!AssumedCost(name, cal))
                {
                    continue;
                }
                for (double factor : {0.5, 2.0})
                {
                    ScaleCellConfig varied = calCell;
                    varied.costs.*field *= factor;
                    std::ostringstream label;
                    label << name << " x" << factor;
                    nlohmann::json run =
                        SensitivityRun(varied, machine, o.cipherFactor, o, ceilings, label.str());
                    if (!run.is_null())
                    {
                        run["parameter"] = name;
                        run["factor"] = factor;
                        run["cycles"] = varied.costs.*field;
                        runs.push_back(run);
                    }
                }
            }
            doc["sensitivity_assumed"] = runs;
        }
    }

    else if (!failed)
    {
        // Each cell with its link, MTU and encapsulation, and every other input that a flag or
        // a sweep moved from its default.
        std::vector<nlohmann::json> inputs;
        for (const ScaleCellConfig& c : cells)
        {
            inputs.push_back(CellInputsToJson(c).flatten());
        }
        const nlohmann::json defaults = CellInputsToJson(ScaleCellConfig()).flatten();
        std::vector<std::string> varying;
        for (const auto& [key, value] : defaults.items())
        {
            const bool shown = key == "/mode" || key == "/cpus" || key == "/link_gbps" ||
                               key == "/mtu" || key == "/encap";
            const bool followsCpus =
                (key == "/flows" || key == "/sas") && inputs.front().value("/flows_per_cpu", false);
            bool varies = false;
            for (const nlohmann::json& in : inputs)
            {
                varies = varies || in.value(key, nlohmann::json()) != value;
            }
            if (varies && !shown && !followsCpus)
            {
                varying.push_back(key);
            }
        }
        std::cout << "\n" << std::fixed << std::setprecision(2);
        for (size_t i = 0; i < cells.size(); ++i)
        {
            std::cout << "  " << std::left << std::setw(9) << ScaleModeName(cells[i].mode)
                      << std::right << std::setw(3) << cells[i].cpus << " CPUs  " << std::setw(7)
                      << runs[i].result.gbps << " Gbit/s  " << cells[i].linkGbps << "G mtu "
                      << cells[i].mtu << " " << ScaleEncapName(cells[i].encap);
            for (const std::string& key : varying)
            {
                const nlohmann::json& v = inputs[i][key];
                std::cout << " " << key.substr(key.rfind('/') + 1) << "="
                          << (v.is_string() ? v.get<std::string>() : v.dump());
            }
            std::cout << "\n";
        }
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    doc["wall_seconds"] = wall;
    std::ofstream(o.out + "/scaling.json") << doc.dump(2) << "\n";
    WriteCsv(o.out + "/scaling.csv", cells, runs, reference, formula);
    std::cout << "\noffloadlab scale: " << std::setprecision(1) << wall << " s; wrote " << o.out
              << "/scaling.json, scaling.csv";
    if (o.plots)
    {
        if (RunPlots(o.out))
        {
            std::cout << ", throughput.png/.svg, utilisation.png/.svg";
        }
        else
        {
            std::cout << "\noffloadlab scale: the plots failed (is python3-matplotlib installed?)";
            failed = true;
        }
    }
    std::cout << "\n";
    return failed ? kExitFailed : kExitOk;
}

} // namespace offloadlab
