// `offloadlab scale` as a researcher runs it: the reference grid with every output read back by
// parsers nobody here wrote, shards that merge into the whole sweep, bad input named.
#include "shell.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace
{

using clitest::Quote;
using clitest::Shell;

/// offloadlab scale with args, writing into out.
clitest::Output
Scale(const std::string& args, const std::string& out)
{
    return Shell(std::string(OFFLOADLAB_BINARY) + " scale " + args + " --out " + Quote(out));
}

nlohmann::json
Load(const std::string& path)
{
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

TEST(ScaleCommand, TheReferenceGridWritesTableScoresAndPlots)
{
    const clitest::TempDir scratch("scale-ref");
    const std::string out = scratch.Path().string();
    const clitest::Output run = Scale("--jobs 2", out);
    ASSERT_EQ(run.exitCode, 0) << run.text;
    EXPECT_NE(run.text.find("reference"), std::string::npos) << run.text;
    EXPECT_NE(run.text.find("formula: mean |error|"), std::string::npos) << run.text;

    const nlohmann::json doc = Load(out + "/scaling.json");
    ASSERT_EQ(doc.at("cells").size(), 24u);
    std::set<std::pair<std::string, int>> seen;
    for (const auto& c : doc.at("cells"))
    {
        seen.insert({c.at("mode").get<std::string>(), c.at("cpus").get<int>()});
        EXPECT_GT(c.at("gbps").get<double>(), 1) << c.dump();
        EXPECT_LE(c.at("gbps").get<double>(), c.at("ceiling_gbps").get<double>() * 1.005);
        EXPECT_EQ(c.at("receiver_cores").size(), c.at("cpus").get<size_t>());
    }
    EXPECT_EQ(seen.size(), 24u);
    // The formula beside each cell: its mode's 1-CPU reference times the CPUs, capped at the wire.
    std::map<std::string, double> oneCpu;
    for (const auto& c : doc.at("cells"))
    {
        if (c.at("cpus") == 1)
        {
            oneCpu[c.at("mode").get<std::string>()] = c.at("reference_gbps").get<double>();
        }
    }
    for (const auto& c : doc.at("cells"))
    {
        EXPECT_NEAR(c.at("formula_gbps").get<double>(),
                    std::min(oneCpu.at(c.at("mode").get<std::string>()) * c.at("cpus").get<int>(),
                             c.at("ceiling_gbps").get<double>()),
                    1e-9)
            << c.dump();
    }

    // The model's invariants: more CPUs never lower a mode's throughput by more than the
    // reference's own noise (1.5 %), and at line rate the three IPsec modes carry the same ESP
    // goodput.
    std::map<std::string, std::map<int, double>> gbps;
    for (const auto& c : doc.at("cells"))
    {
        gbps[c.at("mode").get<std::string>()][c.at("cpus").get<int>()] = c.at("gbps").get<double>();
    }
    for (const auto& [mode, byCpus] : gbps)
    {
        double best = 0;
        for (const auto& [cpus, g] : byCpus)
        {
            EXPECT_GE(g, 0.985 * best) << mode << " at " << cpus << " CPUs";
            best = std::max(best, g);
        }
    }
    for (const char* mode : {"sw", "crypto", "packet"})
    {
        EXPECT_NEAR(gbps[mode][32], 91.94, 0.01 * 91.94) << mode;
        EXPECT_NEAR(gbps[mode][32], gbps["packet"][32], 0.005 * gbps["packet"][32]) << mode;
    }
    for (const auto& step : doc.at("calibration"))
    {
        EXPECT_NEAR(step.at("simulated_gbps").get<double>(),
                    step.at("reference_gbps").get<double>(),
                    0.002 * step.at("reference_gbps").get<double>());
    }
    const nlohmann::json& score = doc.at("score");
    EXPECT_EQ(score.at("model").at("errors").size(), 21u);
    EXPECT_NEAR(score.at("formula").at("mae20_pct").get<double>(), 2.05, 0.05);
    // Packet offload's predicted 1-CPU cell: its error, on its own.
    for (const auto& e : score.at("model").at("errors"))
    {
        if (e.at("mode") == "packet" && e.at("cpus") == 1)
        {
            EXPECT_DOUBLE_EQ(score.at("model").at("packet_1cpu_error_pct").get<double>(),
                             e.at("error_pct").get<double>());
        }
    }
    EXPECT_LT(std::abs(score.at("model").at("packet_1cpu_error_pct").get<double>()), 5);
    // The grid's own 1-CPU cells of the three fitted modes, simulated again with the fitted
    // costs, reproduce the reference.
    for (const auto& c : doc.at("cells"))
    {
        if (c.at("cpus") == 1 && c.at("mode") != "packet")
        {
            EXPECT_NEAR(c.at("gbps").get<double>(),
                        c.at("reference_gbps").get<double>(),
                        0.005 * c.at("reference_gbps").get<double>())
                << c.at("mode");
        }
    }
    // The knees target is the model's knees against the reference's (4, 32, 8, 4).
    const nlohmann::json& knees = score.at("model").at("knees");
    EXPECT_EQ(score.at("targets").at("every_knee_right").get<bool>(),
              knees.at("baseline") == 4 && knees.at("sw") == 32 && knees.at("crypto") == 8 &&
                  knees.at("packet") == 4);
    EXPECT_EQ(doc.at("sensitivity").at("cipher_factor").get<double>(), 2);
    EXPECT_EQ(doc.at("sensitivity").at("cells").size(), 24u);
    EXPECT_EQ(doc.at("parameter_sources").at("driver_packet").get<std::string>().rfind("fitted", 0),
              0u);

    // The CSV through Python's csv module; the SVGs through its XML parser; PNG by signature.
    const clitest::Output csv =
        Shell("/usr/bin/python3 -c \"import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); "
              "print(len(r), sorted({x['mode'] for x in r}), min(float(x['gbps']) for x in r))\" " +
              Quote(out + "/scaling.csv"));
    EXPECT_EQ(csv.exitCode, 0) << csv.text;
    EXPECT_EQ(csv.text.rfind("24 ['baseline', 'crypto', 'packet', 'sw']", 0), 0u) << csv.text;
    for (const char* plot : {"throughput", "utilisation"})
    {
        std::ifstream png(out + "/" + plot + ".png", std::ios::binary);
        char sig[8] = {};
        png.read(sig, 8);
        EXPECT_EQ(std::string(sig, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << plot;
        const clitest::Output svg =
            Shell("/usr/bin/python3 -c \"import sys,xml.etree.ElementTree as E; "
                  "print(E.parse(sys.argv[1]).getroot().tag)\" " +
                  Quote(out + "/" + plot + ".svg"));
        EXPECT_EQ(svg.exitCode, 0) << svg.text;
        EXPECT_EQ(svg.text.rfind("{http://www.w3.org/2000/svg}svg", 0), 0u) << svg.text;
    }
}

TEST(ScaleCommand, ShardsMergeIntoTheWholeSweep)
{
    const clitest::TempDir scratch("scale-shards");
    const std::string base = scratch.Path().string();
    const std::string bin = OFFLOADLAB_BINARY;
    // One calibration for all: shards given the same costs are the same cells.
    const std::string cal = base + "/cal";
    ASSERT_EQ(Shell(bin + " scale --modes baseline --cpus 1 --no-sensitivity --no-plots --out " +
                    Quote(cal))
                  .exitCode,
              0);
    const std::string common = " --costs " + Quote(cal + "/scaling.json") +
                               " --modes sw,packet --cpus 1,4 --sweep link=10,100 "
                               "--sweep mtu=1500,9000 --no-sensitivity --no-plots";
    const clitest::Output whole = Shell(bin + " scale" + common + " --out " + Quote(base + "/all"));
    ASSERT_EQ(whole.exitCode, 0) << whole.text;
    for (const char* k : {"1/3", "2/3", "3/3"})
    {
        const clitest::Output shard = Shell(bin + " scale" + common + " --shard " + k + " --out " +
                                            Quote(base + "/s" + std::string(1, k[0])));
        ASSERT_EQ(shard.exitCode, 0) << shard.text;
    }
    const clitest::Output merged =
        Shell(bin + " scale --no-plots --merge " + Quote(base + "/s1") + " " + Quote(base + "/s2") +
              " " + Quote(base + "/s3") + " --out " + Quote(base + "/m"));
    ASSERT_EQ(merged.exitCode, 0) << merged.text;
    const nlohmann::json a = Load(base + "/all/scaling.json");
    const nlohmann::json m = Load(base + "/m/scaling.json");
    ASSERT_EQ(a.at("cells").size(), 16u);
    ASSERT_EQ(m.at("cells").size(), 16u);
    for (size_t i = 0; i < 16; ++i)
    {
        EXPECT_EQ(m["cells"][i]["index"], a["cells"][i]["index"]);
        EXPECT_EQ(m["cells"][i]["gbps"], a["cells"][i]["gbps"]) << i;
        EXPECT_EQ(m["cells"][i]["link_gbps"], a["cells"][i]["link_gbps"]);
    }
    // The sweep reaches past the reference: 9000-byte frames at 10 Gbit/s pass 9.9.
    bool jumbo = false;
    for (const auto& c : a.at("cells"))
    {
        jumbo = jumbo || (c["mtu"] == 9000 && c["link_gbps"] == 10.0 && c["cpus"] == 4 &&
                          c["gbps"].get<double>() > 9.8);
    }
    EXPECT_TRUE(jumbo);
}

// Each assumed cost at half and twice its value: the fit is redone around it (the fitted costs
// move to make up for it) and the grid is scored again; fitted and measured costs are not varied.
TEST(ScaleCommand, TheAssumedCostsSensitivityRefitsAroundEachOne)
{
    const clitest::TempDir scratch("scale-assumed");
    const std::string out = scratch.Path().string();
    const clitest::Output run =
        Scale("--jobs 2 --no-sensitivity --sensitivity-assumed --no-plots", out);
    ASSERT_EQ(run.exitCode, 0) << run.text;
    const nlohmann::json doc = Load(out + "/scaling.json");
    const nlohmann::json& params = doc.at("parameters");
    const std::set<std::string> assumed = {"tcp_segment_rx",
                                           "tcp_segment_tx",
                                           "tcp_packet_tx",
                                           "udp_packet_rx",
                                           "ack_rx",
                                           "ack_tx",
                                           "sa_lock_packet"};
    std::map<std::pair<std::string, double>, nlohmann::json> runs;
    for (const auto& r : doc.at("sensitivity_assumed"))
    {
        const std::string name = r.at("parameter").get<std::string>();
        const double factor = r.at("factor").get<double>();
        EXPECT_TRUE(assumed.count(name)) << name << " is fitted or measured, not assumed";
        EXPECT_DOUBLE_EQ(r.at("cycles").get<double>(), factor * params.at(name).get<double>());
        EXPECT_DOUBLE_EQ(r.at("parameters").at(name).get<double>(),
                         factor * params.at(name).get<double>());
        EXPECT_EQ(r.at("cells").size(), 24u);
        EXPECT_TRUE(r.at("score").contains("mae20_pct"));
        runs[{name, factor}] = r;
    }
    EXPECT_EQ(runs.size(), 2 * assumed.size());
    // Software's per-packet TCP output is on its sender's core: at twice the cost the sender
    // bounds the 1-CPU cell, and the fit gives software's ESP less to make up for it.
    const double esp2 =
        runs.at({"tcp_packet_tx", 2.0}).at("parameters").at("esp_software_packet").get<double>();
    EXPECT_LT(esp2, params.at("esp_software_packet").get<double>() - 200);
    // What only UDP datagrams pay leaves the TCP grid as it is.
    EXPECT_EQ(runs.at({"udp_packet_rx", 2.0}).at("cells"),
              runs.at({"udp_packet_rx", 0.5}).at("cells"));
    EXPECT_NE(run.text.find("model, tcp_packet_tx x0.5: mean |error|"), std::string::npos)
        << run.text;
}

// The fit runs on the reference's machine, so another clock predicts another machine: the 1-CPU
// software cell at a 3.0 GHz base (its turbo bins shifted with it, 4.1 GHz for one core) runs
// about 4.1/3.4 times faster, and the run is not scored against the reference.
TEST(ScaleCommand, AnotherClockPredictsAnotherMachine)
{
    const clitest::TempDir scratch("scale-clock");
    const std::string out = scratch.Path().string();
    const clitest::Output run =
        Scale("--modes sw --cpus 1 --clock 3.0 --no-sensitivity --no-plots", out);
    ASSERT_EQ(run.exitCode, 0) << run.text;
    const nlohmann::json doc = Load(out + "/scaling.json");
    ASSERT_EQ(doc.at("cells").size(), 1u);
    const nlohmann::json& c = doc["cells"][0];
    EXPECT_NEAR(c.at("ghz").get<double>(), 4.1, 1e-9);
    EXPECT_NEAR(c.at("gbps").get<double>(), 6.0 * 4.1 / 3.4, 0.03 * 6.0 * 4.1 / 3.4);
    EXPECT_FALSE(c.contains("reference_gbps"));
    EXPECT_FALSE(doc.contains("score"));
    EXPECT_NE(run.text.find("base_ghz=3"), std::string::npos) << run.text;
}

TEST(ScaleCommand, BadInputNamesTheFieldAndTheValue)
{
    const std::string bin = OFFLOADLAB_BINARY;
    const clitest::TempDir scratch("scale-bad");
    const std::string out = " --out " + Quote(scratch.Path().string() + "/out");

    struct Case
    {
        const char* args;
        const char* said;
    };

    for (const Case& c : {Case{"--link abc", "link: 'abc'"},
                          Case{"--mtu 70000", "mtu: '70000'"},
                          Case{"--cpus 0,2", "--cpus: '0'"},
                          Case{"--modes sw,full", "'full'"},
                          Case{"--sweep colour=red", "'colour'"},
                          Case{"--sweep encap=beet", "encap: 'beet'"},
                          Case{"--shard 3/2", "--shard: '3/2'"},
                          Case{"--costs /nonexistent/scaling.json", "/nonexistent/scaling.json"},
                          Case{"--link nan", "link: 'nan'"},
                          Case{"--link 0.5", "link: '0.5'"},
                          Case{"--cipher-factor inf", "--cipher-factor: 'inf'"},
                          Case{"--modes sw,sw", "'sw' is named twice"},
                          Case{"--sweep mtu=1500,1500", "'1500' is named twice"},
                          Case{"--sweep sas=1 --sweep sas=2", "'sas' is swept twice"},
                          Case{"--measure-ms 50abc", "--measure-ms: '50abc'"},
                          Case{"--frobnicate 1", "--frobnicate"}})
    {
        const clitest::Output r = Shell(bin + " scale " + c.args + out);
        EXPECT_EQ(r.exitCode, 2) << c.args << ": " << r.text;
        EXPECT_NE(r.text.find(c.said), std::string::npos) << c.args << ": " << r.text;
    }
    EXPECT_EQ(Shell(bin + " scale --link 10").exitCode, 2); // no --out
    // A shard whose scaling.json is JSON but not a shard's.
    const std::string shard = scratch.Path().string() + "/not-a-shard";
    std::filesystem::create_directories(shard);
    std::ofstream(shard + "/scaling.json") << "[1]\n";
    const clitest::Output merge = Shell(bin + " scale --merge " + Quote(shard) + out);
    EXPECT_EQ(merge.exitCode, 2) << merge.text;
    EXPECT_NE(merge.text.find(shard + "/scaling.json"), std::string::npos) << merge.text;
}

} // namespace
