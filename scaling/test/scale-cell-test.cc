// Whole cells of the scaling model: ceilings that must emerge from the wire bytes, the
// out-of-sample ixgbe figures, and what one shared SA does to RSS. None of these is fitted.
#include "imix-sender.h"
#include "scale-cell.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <set>

namespace ns3
{
namespace
{

// Costs of the order the calibration finds (cycles at the turbo clock); the checks here hold
// for any costs that leave the CPUs faster than the wire.
ScaleCosts
Costs()
{
    ScaleCosts c;
    c.driverPacket = 1150;
    c.xfrmPacket = 1150;
    c.espSoftwarePacket = 2500;
    c.copyByte = 0.2;
    c.cipher = CipherCost({{64, 900}, {1500, 2400}});
    return c;
}

ScaleCellConfig
Cell(ScaleMode mode, uint32_t cpus)
{
    ScaleCellConfig c;
    c.mode = mode;
    c.cpus = cpus;
    c.costs = Costs();
    c.llcContention = false; // its own test below
    return c;
}

TEST(ScaleCellTest, TheWireCeilingsEmergeFromThePacketsBytes)
{
    struct Case
    {
        ScaleMode mode;
        ScaleEncap encap;
        uint32_t mtu;
        double link;
        double ceiling;
    };

    // The table: 100G and 10G, both MTUs; tunnel and ESP in UDP at 100G.
    for (const Case& k : {Case{ScaleMode::Baseline, ScaleEncap::Transport, 1500, 100, 94.15},
                          Case{ScaleMode::Packet, ScaleEncap::Transport, 1500, 100, 91.94},
                          Case{ScaleMode::Packet, ScaleEncap::Tunnel, 1500, 100, 90.64},
                          Case{ScaleMode::Packet, ScaleEncap::UdpTunnel, 1500, 100, 90.12},
                          Case{ScaleMode::Baseline, ScaleEncap::Transport, 9000, 100, 99.00},
                          Case{ScaleMode::Packet, ScaleEncap::Transport, 9000, 100, 98.63},
                          Case{ScaleMode::Baseline, ScaleEncap::Transport, 1500, 10, 9.415},
                          Case{ScaleMode::Packet, ScaleEncap::Transport, 1500, 10, 9.194},
                          Case{ScaleMode::Baseline, ScaleEncap::Transport, 9000, 10, 9.900},
                          Case{ScaleMode::Packet, ScaleEncap::Transport, 9000, 10, 9.863}})
    {
        ScaleCellConfig c = Cell(k.mode, 16);
        c.encap = k.encap;
        c.mtu = k.mtu;
        c.linkGbps = k.link;
        const ScaleCellResult r = RunScaleCell(c);
        EXPECT_NEAR(r.gbps, k.ceiling, 0.003 * k.ceiling)
            << ScaleModeName(k.mode) << " " << ScaleEncapName(k.encap) << " " << k.mtu << " at "
            << k.link << "G";
        EXPECT_NEAR(r.wireGbps, k.link, 0.001 * k.link); // the wire is what is full
    }
}

// Nelson, Linux IPsec workshop 2018: ixgbe at 10 Gbit/s, one stream: 9.41 in the clear and
// 9.19 with crypto offload. Never used for fitting.
TEST(ScaleCellTest, IxgbeTenGigabitFiguresOutOfSample)
{
    ScaleCellConfig plain = Cell(ScaleMode::Baseline, 1);
    plain.linkGbps = 10;
    EXPECT_NEAR(RunScaleCell(plain).gbps, 9.41, 0.005 * 9.41);
    ScaleCellConfig crypto = Cell(ScaleMode::Crypto, 1);
    crypto.linkGbps = 10;
    EXPECT_NEAR(RunScaleCell(crypto).gbps, 9.19, 0.005 * 9.19);
}

TEST(ScaleCellTest, OneSharedSaPinsSoftwareAndCryptoOffloadReceiveToOneCore)
{
    for (ScaleMode mode : {ScaleMode::Software, ScaleMode::Crypto})
    {
        const double one = RunScaleCell(Cell(mode, 1)).gbps;
        ScaleCellConfig shared = Cell(mode, 8);
        shared.sas = 1;
        const ScaleCellResult s = RunScaleCell(shared);
        ScaleCellConfig perStream = Cell(mode, 8);
        const ScaleCellResult p = RunScaleCell(perStream);
        EXPECT_EQ(std::set<uint32_t>(s.rxCoreOfFlow.begin(), s.rxCoreOfFlow.end()).size(), 1u)
            << ScaleModeName(mode);
        // The one RX core is full; the others only copy.
        double busiest = 0;
        for (const auto& l : s.receiverCores)
        {
            busiest = std::max(busiest, l.utilisation);
        }
        EXPECT_GT(busiest, 0.97) << ScaleModeName(mode);
        EXPECT_LT(s.gbps, 1.6 * one) << ScaleModeName(mode);
        // One SA per stream (RFC 9611's per-CPU SAs) restores the scaling.
        EXPECT_EQ(std::set<uint32_t>(p.rxCoreOfFlow.begin(), p.rxCoreOfFlow.end()).size(), 8u);
        EXPECT_GT(p.gbps, 3 * s.gbps) << ScaleModeName(mode);
    }
}

TEST(ScaleCellTest, PacketOffloadOfOneSaScalesOnlyWithRssAfterDecryption)
{
    ScaleCellConfig shared = Cell(ScaleMode::Packet, 8);
    shared.sas = 1;
    shared.linkGbps = 400; // the CPUs, not the wire, must be the limit
    const ScaleCellResult bySpi = RunScaleCell(shared);
    shared.rssAfterDecrypt = true;
    const ScaleCellResult byInner = RunScaleCell(shared);
    EXPECT_EQ(std::set<uint32_t>(bySpi.rxCoreOfFlow.begin(), bySpi.rxCoreOfFlow.end()).size(), 1u);
    EXPECT_EQ(std::set<uint32_t>(byInner.rxCoreOfFlow.begin(), byInner.rxCoreOfFlow.end()).size(),
              8u);
    EXPECT_GT(byInner.gbps, 2 * bySpi.gbps);
}

TEST(ScaleCellTest, TheCryptoEngineCapLimitsOnlyOffloadModes)
{
    ScaleCellConfig crypto = Cell(ScaleMode::Crypto, 16);
    crypto.cryptoCapGbps = 50;
    const double capped = RunScaleCell(crypto).gbps;
    // 50 Gbit/s of ciphertext: the payload share of what the engine encrypts.
    EXPECT_NEAR(capped, 50 * 1414.0 / 1448, 0.5);
    ScaleCellConfig sw = Cell(ScaleMode::Software, 32);
    sw.cryptoCapGbps = 50;
    EXPECT_GT(RunScaleCell(sw).gbps, 60); // the CPU's cipher is not the NIC's engine
}

TEST(ScaleCellTest, LlcContentionSlowsOnlyCellsWhoseWaitingDataOutgrowsDdio)
{
    // Software IPsec on 16 CPUs keeps up to 16 windows of received data waiting (the streams'
    // cores are the bottleneck): with DDIO's ways holding 2 MB, most first reads miss.
    ScaleCellConfig on = Cell(ScaleMode::Software, 16);
    on.llcContention = true;
    on.ddioMegabytes = 2;
    ScaleCellConfig off = on;
    off.llcContention = false;
    const ScaleCellResult a = RunScaleCell(on);
    const ScaleCellResult b = RunScaleCell(off);
    EXPECT_GT(a.residentMegabytes, 4);
    EXPECT_GT(a.llcMissShare, 0.4);
    EXPECT_EQ(b.llcMissShare, 0);
    EXPECT_LT(a.gbps, 0.985 * b.gbps);
    // One stream's window fits: no miss, no change.
    ScaleCellConfig one = Cell(ScaleMode::Software, 1);
    one.llcContention = true;
    one.ddioMegabytes = 2;
    const ScaleCellResult e = RunScaleCell(one);
    EXPECT_LT(e.residentMegabytes, 2);
    EXPECT_EQ(e.llcMissShare, 0);
    // Where the wire is the limit the data waits at the sender, not in the receiver's LLC
    // (DDIO's default 10 MB).
    ScaleCellConfig wire = Cell(ScaleMode::Baseline, 16);
    wire.llcContention = true;
    const ScaleCellResult w = RunScaleCell(wire);
    EXPECT_LT(w.llcMissShare, 0.05);
    EXPECT_NEAR(w.gbps, 94.15, 0.3);
}

TEST(ScaleCellTest, ImixCellsCarryTheMixAndDropWhatTheReceiverCannotTake)
{
    const std::vector<uint32_t> mix = ImixUdpPayloads(1466);
    ASSERT_EQ(mix.size(), 12u);
    EXPECT_EQ(std::count(mix.begin(), mix.end(), 12u), 7); // 40-byte IP packets
    EXPECT_EQ(std::count(mix.begin(), mix.end(), 548u), 4);
    EXPECT_EQ(std::count(mix.begin(), mix.end(), 1438u), 1); // 1,500 cut to the SA's 1,466
    for (ScaleMode mode : {ScaleMode::Software, ScaleMode::Packet})
    {
        ScaleCellConfig c = Cell(mode, 2);
        c.imix = true;
        c.warmupMs = 5;
        c.measureMs = 10;
        const ScaleCellResult r = RunScaleCell(c);
        ASSERT_GT(r.deliveredMpps, 0.1) << ScaleModeName(mode);
        // What the sender puts on the wire is the mix, each datagram with its exact ESP bytes.
        const ScaleWire wire(mode, ScaleEncap::Transport, 1500);
        double wireMean = 0;
        for (uint32_t p : mix)
        {
            wireMean += wire.GetWireBytes(p, ScaleWire::kUdpHeader) / 12.0;
        }
        EXPECT_NEAR(r.wireGbps * 1e3 / 8 / r.mpps, wireMean, 0.01 * wireMean)
            << ScaleModeName(mode);
        // The sender writes faster than the receiver takes: full rings drop, counted.
        EXPECT_GT(r.drops, 0u) << ScaleModeName(mode);
    }
    ScaleCellConfig sw = Cell(ScaleMode::Software, 2);
    sw.imix = true;
    sw.warmupMs = 5;
    sw.measureMs = 10;
    ScaleCellConfig packet = sw;
    packet.mode = ScaleMode::Packet;
    EXPECT_GT(RunScaleCell(packet).deliveredMpps, 2 * RunScaleCell(sw).deliveredMpps);
}

TEST(ScaleCellTest, TurboClocksFallWithBusyCores)
{
    ScaleFrequency f;
    f.turbo = true;
    EXPECT_DOUBLE_EQ(f.GhzFor(1), 3.4);
    EXPECT_DOUBLE_EQ(f.GhzFor(2), 3.4);
    EXPECT_DOUBLE_EQ(f.GhzFor(40), 3.0);
    EXPECT_DOUBLE_EQ(f.GhzFor(64), 3.0);
    EXPECT_NEAR(f.GhzFor(21), 3.2, 1e-9);
    f.turbo = false;
    EXPECT_DOUBLE_EQ(f.GhzFor(16), 2.3);
    // A CPU-bound cell runs at its clock: twice the clock, nearly twice the rate (the wire's
    // and TCP's own times do not shrink).
    ScaleCellConfig slow = Cell(ScaleMode::Software, 1);
    slow.frequency.turbo = false;
    ScaleCellConfig fast = slow;
    fast.frequency.baseGhz = 4.6;
    const double ratio = RunScaleCell(fast).gbps / RunScaleCell(slow).gbps;
    EXPECT_GT(ratio, 1.9);
    EXPECT_LE(ratio, 2.0 + 1e-9);
}

} // namespace
} // namespace ns3
