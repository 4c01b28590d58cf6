// Whole simulated scenarios in every mode: delivery, rekeying and the differential between
// software IPsec, crypto offload and packet offload.
#include "emu-nic-net-device.h"
#include "scenario.h"
#include "topology.h"

#include "ns3/boolean.h"
#include "ns3/config.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <set>

using namespace ns3;

namespace
{
ScenarioResult
RunShort(const std::string& scenario, XfrmOffloadType mode, uint32_t tcpSegmentSize = 1360)
{
    ScenarioOptions options;
    options.scenario = scenario;
    options.mode = mode;
    options.duration = Seconds(1.2);
    options.softByteLimit = 3000000;
    options.hardByteLimit = 6000000;
    options.tcpSegmentSize = tcpSegmentSize;
    ScenarioResult result;
    std::string error;
    EXPECT_TRUE(RunScenario(options, &result, &error)) << error;
    return result;
}

const ScenarioTraffic&
Traffic(const ScenarioResult& r, const std::string& protocol)
{
    for (const auto& t : r.traffic)
    {
        if (t.protocol == protocol)
        {
            return t;
        }
    }
    static ScenarioTraffic none;
    ADD_FAILURE() << "no " << protocol << " traffic in the result";
    return none;
}

uint64_t
Counter(const std::map<std::string, std::map<std::string, uint64_t>>& counters,
        const std::string& name)
{
    uint64_t sum = 0;
    for (const auto& [where, values] : counters)
    {
        auto it = values.find(name);
        sum += it == values.end() ? 0 : it->second;
    }
    return sum;
}

/// GoogleTest names allow no '-': "gateway-tunnel" -> "gateway_tunnel".
std::string
ScenarioTestName(const ::testing::TestParamInfo<std::string>& info)
{
    std::string name = info.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

class ScenarioTest : public ::testing::TestWithParam<std::string>
{
};

// Every run of one scenario, keyed by mode, computed once per scenario.
const std::map<XfrmOffloadType, ScenarioResult>&
RunsOf(const std::string& scenario)
{
    static std::map<std::string, std::map<XfrmOffloadType, ScenarioResult>> cache;
    auto& runs = cache[scenario];
    if (runs.empty())
    {
        for (XfrmOffloadType m :
             {XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
        {
            runs[m] = RunShort(scenario, m);
        }
    }
    return runs;
}
} // namespace

TEST_P(ScenarioTest, EveryModeDeliversEverythingAndRekeysWithoutLoss)
{
    for (const auto& [mode, r] : RunsOf(GetParam()))
    {
        SCOPED_TRACE(r.mode);
        const ScenarioTraffic& udp = Traffic(r, "udp");
        EXPECT_GT(udp.packetsSent, 1000u);
        // Make-before-break: rekeying loses no datagram.
        EXPECT_EQ(udp.packetsDelivered, udp.packetsSent);
        EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
        EXPECT_GE(r.rekeys, 1u);
        // No drop anywhere: every XFRM drop counter and every NIC drop counter is zero.
        for (const auto* drops : {&r.stackDrops, &r.nicDrops})
        {
            for (const auto& [owner, counters] : *drops)
            {
                EXPECT_TRUE(counters.empty())
                    << owner << " " << counters.begin()->first << "=" << counters.begin()->second;
            }
        }
    }
}

TEST_P(ScenarioTest, EachModeUsesItsDataPath)
{
    const auto& runs = RunsOf(GetParam());
    const ScenarioResult& sw = runs.at(XfrmOffloadType::None);
    const ScenarioResult& crypto = runs.at(XfrmOffloadType::Crypto);
    const ScenarioResult& packet = runs.at(XfrmOffloadType::Packet);
    EXPECT_EQ(Counter(sw.nicEvents, "CryptoTxPackets"), 0u);
    EXPECT_EQ(Counter(sw.nicEvents, "PacketOffloadTxPackets"), 0u);
    EXPECT_EQ(Counter(sw.nicEvents, "StateAdd"), 0u);
    // Crypto offload: the NIC encrypts everything the stack framed, and decrypts every arrival.
    EXPECT_GT(Counter(crypto.nicEvents, "CryptoTxPackets"), 10000u);
    // The qdisc between stack and NIC may drop a few framed packets (CoDel), never add any.
    const uint64_t framed = Counter(crypto.stackEvents, "CryptoOffloadTxPackets");
    EXPECT_LE(Counter(crypto.nicEvents, "CryptoTxPackets"), framed);
    EXPECT_GE(Counter(crypto.nicEvents, "CryptoTxPackets"), framed - framed / 1000);
    EXPECT_EQ(Counter(crypto.nicEvents, "CryptoRxPackets"),
              Counter(crypto.stackEvents, "CryptoOffloadRxPackets"));
    EXPECT_EQ(Counter(crypto.nicEvents, "PacketOffloadTxPackets"), 0u);
    // Packet offload: the NIC does all of it; the stack never touches ESP.
    EXPECT_GT(Counter(packet.nicEvents, "PacketOffloadTxPackets"), 10000u);
    EXPECT_EQ(Counter(packet.nicEvents, "CryptoTxPackets"), 0u);
    EXPECT_EQ(Counter(packet.stackEvents, "CryptoOffloadTxPackets"), 0u);
    EXPECT_EQ(Counter(packet.nicEvents, "PolicyAdd"), 4u);
    for (const auto& sa : packet.sas)
    {
        EXPECT_EQ(sa.record.offloadActual, XfrmOffloadType::Packet);
    }
    for (const auto& sa : crypto.sas)
    {
        EXPECT_EQ(sa.record.offloadActual, XfrmOffloadType::Crypto);
    }
}

TEST_P(ScenarioTest, ModesAgreeOnKeyManagerEventsAndDelivery)
{
    const auto& runs = RunsOf(GetParam());
    const ScenarioResult& sw = runs.at(XfrmOffloadType::None);
    auto kinds = [](const ScenarioResult& r) {
        std::vector<std::string> k;
        for (const auto& e : r.events)
        {
            k.push_back(e.kind);
        }
        return k;
    };
    auto spis = [](const ScenarioResult& r) {
        std::set<uint32_t> s;
        for (const auto& sa : r.sas)
        {
            s.insert(sa.record.spi);
        }
        return s;
    };
    for (XfrmOffloadType m : {XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
    {
        const ScenarioResult& r = runs.at(m);
        SCOPED_TRACE(r.mode);
        EXPECT_EQ(r.rekeys, sw.rekeys);
        EXPECT_EQ(kinds(r), kinds(sw));
        EXPECT_EQ(spis(r), spis(sw));
        EXPECT_EQ(Traffic(r, "udp").packetsDelivered, Traffic(sw, "udp").packetsDelivered);
        // Per-SA outbound packet counts agree between the stack's and the NIC's counting.
        uint64_t swOut = 0;
        uint64_t modeOut = 0;
        for (const auto& sa : sw.sas)
        {
            swOut += sa.record.direction == "out" ? sa.current.packets : 0;
        }
        for (const auto& sa : r.sas)
        {
            modeOut += sa.record.direction == "out" ? sa.current.packets : 0;
        }
        EXPECT_NEAR(double(modeOut), double(swOut), 0.05 * swOut);
    }
}

// Plain, the baseline: the same traffic with no IPsec at all. Nothing is installed, so
// nothing is counted by the IPsec layers or asked of the NICs, and TCP carries at least what
// software IPsec carries over the same links.
TEST_P(ScenarioTest, PlainRunsTheSameTrafficWithoutIpsec)
{
    ScenarioOptions options;
    options.scenario = GetParam();
    ASSERT_TRUE(SetScenarioMode("plain", &options));
    EXPECT_TRUE(options.plain);
    EXPECT_EQ(ScenarioModeName(options), "plain");
    options.duration = Seconds(1.2);
    ScenarioResult plain;
    std::string error;
    ASSERT_TRUE(RunScenario(options, &plain, &error)) << error;
    EXPECT_EQ(plain.mode, "plain");
    EXPECT_TRUE(plain.sas.empty());
    EXPECT_TRUE(plain.events.empty());
    EXPECT_EQ(plain.rekeys, 0u);
    const ScenarioTraffic& udp = Traffic(plain, "udp");
    EXPECT_GT(udp.packetsSent, 1000u);
    EXPECT_EQ(udp.packetsDelivered, udp.packetsSent);
    for (const auto* counters :
         {&plain.stackDrops, &plain.stackEvents, &plain.nicDrops, &plain.nicEvents})
    {
        for (const auto& [owner, values] : *counters)
        {
            EXPECT_TRUE(values.empty()) << owner << " " << values.begin()->first;
        }
    }
    const ScenarioResult& sw = RunsOf(GetParam()).at(XfrmOffloadType::None);
    EXPECT_GE(Traffic(plain, "tcp").goodputMbps, Traffic(sw, "tcp").goodputMbps);
    EXPECT_GT(Traffic(plain, "tcp").bytesDelivered, 5000000u);
}

INSTANTIATE_TEST_SUITE_P(Scenarios,
                         ScenarioTest,
                         ::testing::Values("host-to-host-transport", "gateway-tunnel"),
                         ScenarioTestName);

// gwA behind a NAT: the key manager sets up ESP-in-UDP on port 4500 and the whole run crosses
// the NAT as UDP in every mode. Linux 6.1 refuses crypto offload of such SAs, so crypto mode's
// SAs are installed again in software (strongSwan's hw_offload=auto); packet offload carries
// them on a device that declares udp_encap (the reference does).
TEST(NatScenarioTest, EspInUdpCrossesTheNatInEveryMode)
{
    std::map<XfrmOffloadType, ScenarioResult> runs;
    for (XfrmOffloadType m :
         {XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
    {
        runs[m] = RunShort("gateway-tunnel-nat", m);
    }
    for (const auto& [mode, r] : runs)
    {
        SCOPED_TRACE(r.mode);
        EXPECT_EQ(r.scenario, "gateway-tunnel-nat");
        const ScenarioTraffic& udp = Traffic(r, "udp");
        EXPECT_GT(udp.packetsSent, 1000u);
        // Nothing is lost to IPsec or the NAT. What the queues drop is congestion: the bulk
        // TCP flow fills gwA's WAN queue, and in software ESP-in-UDP, where every packet of the
        // tunnel is one UDP flow to FqCoDel, a datagram can be among the dropped; in packet
        // offload the queue sees the inner flows (the device encrypts after it).
        uint64_t queued = 0;
        uint64_t wanQueued = 0; // the devices on the two WAN links, where ESP-in-UDP goes
        const std::set<std::string> wan = {"gwA/dev1", "nat/dev0", "nat/dev1", "gwB/dev0"};
        for (const auto& [dev, n] : r.queueDrops)
        {
            queued += n;
            wanQueued += wan.count(dev) ? n : 0;
        }
        EXPECT_LE(udp.packetsSent - udp.packetsDelivered, queued);
        EXPECT_LE(udp.packetsSent - udp.packetsDelivered, udp.packetsSent / 200);
        if (mode == XfrmOffloadType::Packet)
        {
            EXPECT_EQ(udp.packetsDelivered, udp.packetsSent);
        }
        else
        {
            // Every ESP-in-UDP datagram gwA sent reached gwB, or a queue dropped it.
            EXPECT_EQ(Counter(r.stackEvents, "UdpEncapTxPackets"),
                      Counter(r.stackEvents, "UdpEncapRxPackets") + wanQueued);
        }
        EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
        EXPECT_GE(r.rekeys, 1u);
        for (const auto* drops : {&r.stackDrops, &r.nicDrops})
        {
            for (const auto& [owner, counters] : *drops)
            {
                EXPECT_TRUE(counters.empty()) << owner << " " << counters.begin()->first;
            }
        }
        // Only gwA's port 4500 crossed the NAT, and nothing died there.
        EXPECT_TRUE(r.nat);
        EXPECT_TRUE(r.natDrops.empty()) << r.natDrops.begin()->first;
        EXPECT_EQ(r.natUdpMappings, 1u);
        EXPECT_EQ(r.natTcpMappings, 0u);
        EXPECT_GT(r.natTranslated, 10000u);
        EXPECT_FALSE(r.sas.empty());
        size_t refused = 0;
        for (const auto& e : r.events)
        {
            refused += e.kind == "offload-refused" ? 1 : 0;
        }
        for (const auto& sa : r.sas)
        {
            EXPECT_EQ(sa.record.offloadRequested, mode);
            EXPECT_EQ(sa.record.offloadActual,
                      mode == XfrmOffloadType::Packet ? mode : XfrmOffloadType::None);
        }
        EXPECT_EQ(refused, mode == XfrmOffloadType::Crypto ? r.sas.size() : 0u);
    }
    EXPECT_EQ(Counter(runs.at(XfrmOffloadType::Crypto).nicEvents, "CryptoTxPackets"), 0u);
    EXPECT_GT(Counter(runs.at(XfrmOffloadType::Packet).nicEvents, "PacketOffloadTxPackets"),
              10000u);
    EXPECT_EQ(Counter(runs.at(XfrmOffloadType::Packet).stackEvents, "CryptoOffloadTxPackets"), 0u);
}

// Its baseline: in the clear, the NAT maps the TCP flow and the UDP stream themselves.
TEST(NatScenarioTest, PlainCrossesTheNatInTheClear)
{
    ScenarioOptions options;
    options.scenario = "gateway-tunnel-nat";
    ASSERT_TRUE(SetScenarioMode("plain", &options));
    options.duration = Seconds(1.2);
    ScenarioResult r;
    std::string error;
    ASSERT_TRUE(RunScenario(options, &r, &error)) << error;
    EXPECT_TRUE(r.sas.empty());
    EXPECT_EQ(Traffic(r, "udp").packetsDelivered, Traffic(r, "udp").packetsSent);
    EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
    EXPECT_EQ(r.natTcpMappings, 1u);
    EXPECT_EQ(r.natUdpMappings, 1u);
    EXPECT_TRUE(r.natDrops.empty());
    EXPECT_TRUE(ScenarioUsesUdpEncap("gateway-tunnel-nat"));
    EXPECT_FALSE(ScenarioUsesUdpEncap("gateway-tunnel"));
}

class PmtuTest : public ::testing::TestWithParam<std::string>
{
};

// A TCP MSS that fits the link but not the link plus ESP: packet offload drops the segment,
// tells the sender the MTU, and TCP carries on with smaller segments.
TEST_P(PmtuTest, PacketOffloadDropsTooBigAndTcpAdapts)
{
    ScenarioResult r = RunShort(GetParam(), XfrmOffloadType::Packet, 1448);
    // The core drops it before the device (xfrm_dev_offload_ok), as XfrmOutError.
    EXPECT_GT(Counter(r.stackDrops, "XfrmOutError"), 0u);
    EXPECT_GE(Counter(r.stackEvents, "LocalPmtuErrors"), 1u);
    EXPECT_GE(Traffic(r, "tcp").pmtuAdaptations, 1u);
    EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
    EXPECT_EQ(Counter(r.nicDrops, "TxFragmentDrop"), 0u);

    // Software IPsec never drops for size: it fragments after ESP instead.
    ScenarioResult sw = RunShort(GetParam(), XfrmOffloadType::None, 1448);
    EXPECT_EQ(Counter(sw.stackDrops, "XfrmOutError"), 0u);
    EXPECT_EQ(Traffic(sw, "tcp").pmtuAdaptations, 0u);
    EXPECT_GT(Traffic(sw, "tcp").bytesDelivered, 5000000u);
}

INSTANTIATE_TEST_SUITE_P(Scenarios,
                         PmtuTest,
                         ::testing::Values("host-to-host-transport", "gateway-tunnel"),
                         ScenarioTestName);

// The many-tunnel shape: a host per hundred tunnels on each side, tunnel i for its A host's LAN
// and a /24 of its own on the B side, whose first address its B host holds.
TEST(ManyTunnelsTopologyTest, HostsSubnetsAndAddressesPerTunnel)
{
    TopologyOptions opt;
    opt.ipMode = XfrmMode::Tunnel;
    opt.installIpsec = false;
    opt.tunnels = 250;
    std::unique_ptr<Topology> t = BuildTopology(opt);
    EXPECT_TRUE(t->errors.empty()) << t->errors.front();
    EXPECT_EQ(t->name, "gateway-tunnel-250");
    EXPECT_EQ(t->nodes.GetN(), 2u + 2 * 3);
    EXPECT_EQ(t->links.size(), 1u + 2 * 3);
    ASSERT_EQ(t->tunnelNetsB.size(), 250u);
    EXPECT_EQ(t->tunnelNetsA[0], Ipv4Address("10.16.0.0"));
    EXPECT_EQ(t->tunnelNetsA[249], Ipv4Address("10.18.0.0"));
    EXPECT_EQ(t->tunnelNetsB[149], Ipv4Address("10.49.49.0"));
    EXPECT_EQ(t->tunnelHostsB[149], Ipv4Address("10.49.49.1"));
    EXPECT_EQ(t->NodeName(t->tunnelNodesB[149]->GetId()), "hostB1");
    EXPECT_EQ(t->NodeName(t->tunnelNodesA[249]->GetId()), "hostA2");
    Ptr<Ipv4> b1 = t->tunnelNodesB[149]->GetObject<Ipv4>();
    EXPECT_GE(b1->GetInterfaceForAddress(t->tunnelHostsB[149]), 0) << "hostB1 holds it";
    EXPECT_EQ(t->tunnelHostsA[249],
              t->tunnelNodesA[249]->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal());
    Simulator::Destroy();

    opt.tunnels = 1001;
    t = BuildTopology(opt);
    ASSERT_FALSE(t->errors.empty());
    EXPECT_NE(t->errors.front().find("tunnels: 1001"), std::string::npos) << t->errors.front();
    Simulator::Destroy();
}

// gateway-tunnel-1000: a thousand connections, each with its own SAs and its own traffic.
TEST(ManyTunnelsScenarioTest, EveryTunnelCarriesItsOwnTraffic)
{
    ScenarioOptions options;
    options.scenario = "gateway-tunnel-1000";
    options.mode = XfrmOffloadType::None;
    options.duration = Seconds(2); // each tunnel's UDP source sends every 0.8 s
    options.seed = 3;
    ScenarioResult r;
    std::string error;
    ASSERT_TRUE(RunScenario(options, &r, &error)) << error;
    EXPECT_EQ(r.scenario, "gateway-tunnel-1000");
    std::map<std::string, uint64_t> outBytes; // connection -> bytes through its out SAs on gwA
    for (const auto& sa : r.sas)
    {
        if (sa.nodeName == "gwA" && sa.record.direction == "out")
        {
            outBytes[sa.record.connection] += sa.current.bytes;
        }
    }
    ASSERT_EQ(outBytes.size(), 1000u);
    size_t carried = 0;
    for (const auto& [connection, bytes] : outBytes)
    {
        carried += bytes > 0 ? 1 : 0;
    }
    // A queue may drop all of a tunnel's few packets; IPsec must not take any flow elsewhere.
    EXPECT_GE(carried, 990u);
    EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
    EXPECT_GT(Traffic(r, "udp").packetsDelivered, 0u);
    EXPECT_GE(r.rekeys, 1u);
    EXPECT_EQ(Counter(r.stackDrops, "XfrmInNoStates"), 0u);
    EXPECT_EQ(Counter(r.stackDrops, "XfrmInTmplMismatch"), 0u);
    EXPECT_EQ(Counter(r.stackDrops, "XfrmInNoPols"), 0u);
}

TEST(ScenarioOptionsTest, BadOptionsNameTheFieldAndRunNothing)
{
    ScenarioResult r;
    std::string error;
    ScenarioOptions o;
    o.scenario = "no-such-topology";
    EXPECT_FALSE(RunScenario(o, &r, &error));
    EXPECT_NE(error.find("scenario"), std::string::npos) << error;
    EXPECT_NE(error.find("no-such-topology"), std::string::npos) << error;
    EXPECT_FALSE(SetScenarioMode("none", &o)) << "the catalog's word is not a run mode";
    EXPECT_FALSE(SetScenarioMode("baseline", &o));
    EXPECT_EQ(ScenarioModeNames(), (std::vector<std::string>{"plain", "sw", "crypto", "packet"}));
    o = ScenarioOptions();
    o.softByteLimit = 10;
    o.hardByteLimit = 5;
    EXPECT_FALSE(RunScenario(o, &r, &error));
    EXPECT_NE(error.find("softByteLimit"), std::string::npos) << error;
    o = ScenarioOptions();
    o.rekeySeconds = 3;
    o.lifeSeconds = 2;
    EXPECT_FALSE(RunScenario(o, &r, &error));
    EXPECT_EQ(error, "rekeySeconds: 3 not below lifeSeconds 2");
}

// rekey_time / life_time: with byte limits out of reach, the key manager rekeys on the soft
// add-time expire, each CHILD_SA about a second after the one before, and no SA lives to its
// hard limit or loses traffic.
TEST(ScenarioTimeLifetimeTest, RekeysOnTimeWithoutLoss)
{
    for (XfrmOffloadType mode : {XfrmOffloadType::None, XfrmOffloadType::Packet})
    {
        ScenarioOptions o;
        o.mode = mode;
        o.duration = Seconds(2.4); // runs to 2.9 s: rekeys at 1 s and about 2 s
        o.softByteLimit = kXfrmInfinity;
        o.hardByteLimit = kXfrmInfinity;
        o.rekeySeconds = 1;
        o.lifeSeconds = 2;
        ScenarioResult r;
        std::string error;
        ASSERT_TRUE(RunScenario(o, &r, &error)) << error;
        EXPECT_EQ(r.rekeys, 2u) << DataPathName(mode) << ": a rekey at 1 s and 2 s of each child";
        std::vector<Time> soft;
        for (const IpsecKmEvent& e : r.events)
        {
            EXPECT_NE(e.kind, "hard-expire") << DataPathName(mode);
            if (e.kind == "soft-expire")
            {
                soft.push_back(e.time);
            }
        }
        ASSERT_FALSE(soft.empty());
        EXPECT_EQ(soft.front(), Seconds(1)) << "the first CHILD_SA is installed at 0";
        for (const ScenarioTraffic& tr : r.traffic)
        {
            if (tr.protocol == "udp")
            {
                EXPECT_EQ(tr.packetsDelivered, tr.packetsSent) << DataPathName(mode);
            }
        }
    }
}

// HW_ESP_TX_CSUM: with it, every TCP/UDP packet the NIC encrypts in crypto offload gets its
// inner checksum from the NIC (the receiver's stack verifies it); without it, the stack computes
// them and the NIC is never asked.
TEST(TxChecksumOffloadTest, InnerChecksumsGoToTheNicOnlyWhenAdvertised)
{
    for (bool advertised : {true, false})
    {
        SCOPED_TRACE(advertised ? "HW_ESP_TX_CSUM on" : "HW_ESP_TX_CSUM off");
        Config::SetDefault("ns3::EmuNicNetDevice::EspTxCsumOffload", BooleanValue(advertised));
        ScenarioResult r = RunShort("host-to-host-transport", XfrmOffloadType::Crypto);
        const uint64_t left = Counter(r.stackEvents, "CryptoOffloadTxCsum");
        // The qdisc between stack and NIC may drop a few framed packets (CoDel).
        EXPECT_LE(Counter(r.nicEvents, "TxCsumOffloaded"), left);
        EXPECT_GE(Counter(r.nicEvents, "TxCsumOffloaded"), left - left / 1000);
        if (advertised)
        {
            EXPECT_GT(left, Counter(r.nicEvents, "CryptoTxPackets") * 99 / 100);
        }
        else
        {
            EXPECT_EQ(left, 0u);
        }
        EXPECT_GT(Traffic(r, "tcp").bytesDelivered, 5000000u);
        EXPECT_EQ(Traffic(r, "udp").packetsDelivered, Traffic(r, "udp").packetsSent);
    }
    Config::SetDefault("ns3::EmuNicNetDevice::EspTxCsumOffload", BooleanValue(true));
}
