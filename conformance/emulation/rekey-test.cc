// Lifetimes under real traffic, as charon and Linux handle them: the node counts the bytes (in
// packet offload the device does, and the node polls it), raises the soft expire (XFRM_MSG_EXPIRE,
// hard = 0), and charon rekeys: a new CHILD_SA, UPDPOLICY moves the out policy's template to its
// SPI, the old SAs are deleted. At the hard limit Linux deletes the SA and sends the hard expire;
// charon closes the CHILD_SA and recreates it (child_delete.c: "scheduling CHILD_SA recreate
// after hard expire").
//
// EMU_REKEY_BYTES: 20 consecutive rekeys by byte lifetime under traffic both ways, every one
// switching traffic to a new SA, with no packet lost to rekeying (no XFRM or device drop, not one
// datagram of the 1 kHz probe lost).
// EMU_REKEY_TIME: the same by time lifetime (fewer rekeys: strongSwan's times are whole seconds).
// EMU_HARD_EXPIRE: a byte hard limit with no soft one: the node deletes the SA, charon recreates
// the CHILD_SA, and traffic flows again under new SPIs.
#include "emulation-case.h"
#include "harness-process.h"

using namespace emulationcase;
using nlohmann::json;

namespace
{

struct RekeyCase
{
    const char* mode;
    const char* lifetime;        //!< "bytes" or "time"
    const char* topology{"h2h"}; //!< gw2gw: a tunnel; interop: against libipsec's ESP
};

/// The rekeys the run counted, checked as strongSwan's tests check them.
void
ExpectCleanRekeys(const json& r, const std::string& mode, int atLeast)
{
    const json& rekey = r["rekey"];
    EXPECT_GE(rekey["rekeys"].get<int>(), atLeast) << rekey["outbound_sas"];
    for (const json& e : rekey["expires"])
    {
        EXPECT_FALSE(e["hard"].get<bool>()) << e;
    }
    // Every soft expire led to a new outbound SA that traffic used.
    EXPECT_EQ(rekey["soft_expire_to_new_outbound_sa_active_ms"].size(), rekey["expires"].size());
    for (auto& [host, node] : r["nodes"].items())
    {
        EXPECT_EQ(DropsBeyondPmtu(node, mode), 0u)
            << host << ": " << node["xfrm_drops"] << " " << node["nic_drops"];
        if (node["stack"] != "emulated")
        {
            continue; // its charon keeps its SAs in libipsec or its kernel, not in its node
        }
        // The old outbound SAs went: one is left. (charon keeps rekeyed inbound SAs for its
        // delete_rekeyed_delay, 5 s, for packets still in flight.)
        const std::string address = node["address"];
        int outbound = 0;
        for (const json& x : node["states"])
        {
            outbound += x["src"] == address ? 1 : 0;
        }
        EXPECT_EQ(outbound, 1) << host << ": " << node["states"];
    }
    const json& probe = r["traffic"]["probe"];
    if (r["topology"] == "interop")
    {
        // libipsec reads ESP-in-UDP from a socket in userspace beside 20 Mbit/s of TCP each way:
        // a datagram now and then overflows its socket (measured: 1 of 3,001). The nodes' own
        // drops are counted above and must be 0.
        EXPECT_GE(probe["received"].get<int>(), probe["sent"].get<int>() * 99 / 100) << probe;
    }
    else
    {
        EXPECT_EQ(probe["received"].get<int>(), probe["sent"].get<int>()) << probe;
        EXPECT_EQ(probe["lost"].get<int>(), 0) << probe;
    }
    // charon saw them all: swanctl lists one INSTALLED CHILD_SA, its SPI the node's newest.
    for (auto& [host, s] : r["swanctl"].items())
    {
        EXPECT_TRUE(s["installed"].get<bool>()) << host;
    }
}

class EMU_REKEY : public EmulationCase, public testing::WithParamInterface<RekeyCase>
{
};

TEST_P(EMU_REKEY, ConsecutiveRekeysUnderTrafficLoseNothing)
{
    const RekeyCase c = GetParam();
    const bool bytes = std::string(c.lifetime) == "bytes";
    ns3::EmulationOptions options = H2h(c.mode);
    options.topology = c.topology;
    options.iperfBitrate = "20M";
    if (bytes)
    {
        // 20 Mbit/s for 3 s each way is 7.5 MB a direction: a rekey every 600 kB gives 12 or
        // so each way. The hard limit far above: a rekey must never race it.
        options.trafficSeconds = 3;
        options.initiatorChildExtra =
            " rekey_bytes = 600000\n life_bytes = 100000000\n rand_bytes = 0\n rekey_time = 0\n";
    }
    else
    {
        options.trafficSeconds = 2;
        options.rekeySeconds = 1;
    }
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    std::cout << "[ rekey ] " << c.topology << " " << c.mode << " by " << c.lifetime << ": "
              << r["rekey"]["rekeys"].get<int>() << " rekeys, worst soft expire to new SA "
              << r["rekey"]["worst_ms"].get<double>() << " ms, probe largest gap "
              << r["traffic"]["probe"].value("max_gap_ms", 0.0) << " ms\n";
    ExpectCleanRekeys(r, c.mode, bytes ? 20 : 2);
}

INSTANTIATE_TEST_SUITE_P(Lifetimes,
                         EMU_REKEY,
                         testing::Values(RekeyCase{"sw", "bytes"},
                                         RekeyCase{"crypto", "bytes"},
                                         RekeyCase{"packet", "bytes"},
                                         RekeyCase{"packet", "time"},
                                         RekeyCase{"packet", "bytes", "gw2gw"},
                                         RekeyCase{"packet", "bytes", "interop"}),
                         [](const testing::TestParamInfo<RekeyCase>& info) {
                             const std::string topology = info.param.topology;
                             return (topology == "h2h" ? "" : topology + "_") + info.param.mode +
                                    "_" + info.param.lifetime;
                         });

class EMU_HARD_EXPIRE : public EmulationCase, public testing::WithParamInterface<std::string>
{
};

TEST_P(EMU_HARD_EXPIRE, CharonRecreatesTheChildSa)
{
    const std::string mode = GetParam();
    ns3::EmulationOptions options = H2h(mode);
    // No soft limit at all: only the hard one, 1.5 MB.
    options.initiatorChildExtra =
        " rekey_bytes = 0\n life_bytes = 1500000\n rand_bytes = 0\n rekey_time = 0\n";
    std::string firstSpi;
    options.scenario = [&](ns3::EmulationSession& s, std::string* error) {
        std::string sas;
        s.Swanctl("h1", {"--list-sas", "--raw"}, &sas);
        const size_t at = sas.find("spi-out=");
        firstSpi = at == std::string::npos ? "" : sas.substr(at + 8, 8);
        // 2,500 pings of 1,400 bytes at 1 kHz: 3.5 MB each way, past the hard limit twice.
        std::string out;
        s.Exec("h1",
               {"ping", "-q", "-c", "2500", "-i", "0.001", "-s", "1400", "-W", "1", "10.0.0.2"},
               std::chrono::seconds(30),
               &out);
        s.Results()["scenario"]["flood"] = out;
        // Traffic flows again, under the recreated CHILD_SA.
        s.Exec("h1",
               {"ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"},
               std::chrono::seconds(10),
               &out);
        const auto [sent, received] = PingCounts(out);
        EXPECT_EQ(received, 3) << out;
        s.Swanctl("h1", {"--list-sas", "--raw"}, &sas);
        s.Results()["scenario"]["swanctl_after"] = sas;
        return sent == 3 || (*error = out, false);
    };
    bool ok = false;
    std::string error;
    const json r = Run(options, &ok, &error);
    ASSERT_TRUE(ok) << error;
    int hard = 0;
    for (const json& e : r["rekey"]["expires"])
    {
        hard += e["hard"].get<bool>() ? 1 : 0;
        EXPECT_TRUE(e["hard"].get<bool>()) << "no soft limit was set: " << e;
    }
    EXPECT_GE(hard, 1) << r["rekey"];
    // strongSwan's own words for it, in the initiator's log.
    const std::string log = ns3::ReadWholeFile(m_dir + "/h1-charon.log");
    EXPECT_NE(log.find("scheduling CHILD_SA recreate after hard expire"), std::string::npos);
    const std::string after = r["scenario"]["swanctl_after"].get<std::string>();
    EXPECT_NE(after.find("state=INSTALLED"), std::string::npos) << after;
    EXPECT_EQ(after.find("spi-out=" + firstSpi), std::string::npos)
        << "a new CHILD_SA, not the expired one: " << after;
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         EMU_HARD_EXPIRE,
                         testing::Values("sw", "crypto", "packet"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

} // namespace
