// The host model's parts: the RSS hash against Microsoft's published vectors, the cores'
// classes and SA locks, and which core a stream's packets land on.
#include "cpu-core.h"
#include "scale-host.h"

#include "ns3/simulator.h"

#include <gtest/gtest.h>
#include <set>

namespace ns3
{
namespace
{

const uint8_t kKey[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                          0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                          0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                          0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// The verification suite of Microsoft's "Verifying the RSS Hash Calculation" (IPv4): source
// 66.9.149.187:2794, destination 161.142.100.80:1766.
TEST(ToeplitzHashTest, MatchesMicrosoftsVerificationVectors)
{
    const uint8_t addresses[8] = {66, 9, 149, 187, 161, 142, 100, 80};
    EXPECT_EQ(ToeplitzHash(kKey, sizeof(kKey), addresses, 8), 0x323e8fc2u);
    const uint8_t withPorts[12] = {66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6};
    EXPECT_EQ(ToeplitzHash(kKey, sizeof(kKey), withPorts, 12), 0x51ccc178u);
    // 199.92.111.2:14230 -> 65.69.140.83:4739
    const uint8_t second[12] = {199, 92, 111, 2, 65, 69, 140, 83, 0x37, 0x96, 0x12, 0x83};
    EXPECT_EQ(ToeplitzHash(kKey, sizeof(kKey), second, 8), 0xd718262au);
    EXPECT_EQ(ToeplitzHash(kKey, sizeof(kKey), second, 12), 0xc626b0eau);
}

TEST(CpuCoreTest, SoftirqRunsBeforeQueuedTaskWorkAndTimeIsCyclesOverClock)
{
    Ptr<CpuCore> core = CreateObject<CpuCore>();
    core->SetFrequency(1e9);
    std::vector<std::pair<std::string, double>> done;
    auto at = [&done](const char* name) {
        return [&done, name]() { done.emplace_back(name, Simulator::Now().GetMicroSeconds()); };
    };
    core->Submit(CpuCore::Class::Task, 1000, at("task1")); // runs at once: the core was idle
    core->Submit(CpuCore::Class::Task, 1000, at("task2"));
    core->Submit(CpuCore::Class::Softirq, 2000, at("softirq"));
    Simulator::Run();
    ASSERT_EQ(done.size(), 3u);
    EXPECT_EQ(done[0], std::make_pair(std::string("task1"), 1.0));
    EXPECT_EQ(done[1], std::make_pair(std::string("softirq"), 3.0));
    EXPECT_EQ(done[2], std::make_pair(std::string("task2"), 4.0));
    EXPECT_EQ(core->GetBusy(), MicroSeconds(4));
    Simulator::Destroy();
}

// A flood of softirq work keeps a task off the core for 2 ms only (MAX_SOFTIRQ_TIME); then
// ksoftirqd and the task share the core.
TEST(CpuCoreTest, SoftirqWorkHandsOverToKsoftirqdAfterTwoMilliseconds)
{
    Ptr<CpuCore> core = CreateObject<CpuCore>();
    core->SetFrequency(1e9);
    for (int i = 0; i < 10000; ++i)
    {
        core->Submit(CpuCore::Class::Softirq, 1000, [] {}); // 10 ms of 1 us jobs
    }
    Time taskDone;
    core->Submit(CpuCore::Class::Task, 1000, [&taskDone] { taskDone = Simulator::Now(); });
    Simulator::Run();
    EXPECT_GE(taskDone, MilliSeconds(2));
    EXPECT_LE(taskDone, MilliSeconds(2) + MicroSeconds(3));
    Simulator::Destroy();
}

// Four cores whose jobs spend 90 % of their time under one lock can together go no faster
// than the lock: 3.6 cores' worth of holds through one lock.
TEST(CpuCoreTest, CoresSharingAnSaLockAreLimitedByIt)
{
    const auto run = [](bool shared) {
        std::vector<Ptr<CpuCore>> cores;
        std::vector<SaLock> locks(4);
        Time last;
        for (int i = 0; i < 4; ++i)
        {
            cores.push_back(CreateObject<CpuCore>());
            cores.back()->SetFrequency(1e9);
            for (int j = 0; j < 100; ++j)
            {
                cores.back()->Submit(
                    CpuCore::Class::Softirq,
                    1000,
                    [&last] { last = Simulator::Now(); },
                    &locks[shared ? 0 : i],
                    9,
                    100);
            }
        }
        Simulator::Run();
        Time spin;
        for (const auto& c : cores)
        {
            spin += c->GetSpun();
        }
        Simulator::Destroy();
        return std::make_pair(last, spin);
    };
    const auto [alone, alonespin] = run(false);
    EXPECT_EQ(alone, MicroSeconds(100)); // 100 jobs of 1 us, each core its own lock
    EXPECT_EQ(alonespin, Time(0));
    const auto [shared, sharedspin] = run(true);
    // 400 jobs x 0.9 us of holds through one lock: 360 us, and the cores spin the rest.
    EXPECT_GE(shared, MicroSeconds(359));
    EXPECT_LE(shared, MicroSeconds(362));
    EXPECT_GT(sharedspin, MicroSeconds(900)); // 4 x 360 us busy, 400 us of it work
}

ScaleHostConfig
Config(ScaleMode mode, uint32_t cores, uint32_t sas, ScaleRss rss)
{
    ScaleHostConfig c;
    c.mode = mode;
    c.cores = cores;
    c.sas = sas;
    c.rss = rss;
    return c;
}

TEST(ScaleHostTest, OneSharedSaPutsEveryEspStreamOnOneReceiveCore)
{
    for (ScaleRss rss : {ScaleRss::Spread, ScaleRss::Hash})
    {
        for (ScaleMode mode : {ScaleMode::Software, ScaleMode::Crypto, ScaleMode::Packet})
        {
            Ptr<ScaleHost> host = CreateObject<ScaleHost>();
            host->Setup(Config(mode, 8, 1, rss), ScaleWire(mode, ScaleEncap::Transport, 1500));
            for (uint32_t flow = 1; flow < 8; ++flow)
            {
                EXPECT_EQ(host->RxCoreOf(flow, true), host->RxCoreOf(0, true))
                    << ScaleModeName(mode) << " " << ScaleRssName(rss);
            }
        }
    }
}

TEST(ScaleHostTest, SpreadGivesEachSaOrStreamItsOwnCore)
{
    for (ScaleMode mode :
         {ScaleMode::Baseline, ScaleMode::Software, ScaleMode::Crypto, ScaleMode::Packet})
    {
        Ptr<ScaleHost> host = CreateObject<ScaleHost>();
        host->Setup(Config(mode, 8, 0, ScaleRss::Spread),
                    ScaleWire(mode, ScaleEncap::Transport, 1500));
        std::set<uint32_t> cores;
        for (uint32_t flow = 0; flow < 8; ++flow)
        {
            cores.insert(host->RxCoreOf(flow, true));
        }
        EXPECT_EQ(cores.size(), 8u) << ScaleModeName(mode);
    }
}

TEST(ScaleHostTest, RssAfterDecryptSpreadsOffloadedStreamsOfOneSa)
{
    ScaleHostConfig c = Config(ScaleMode::Packet, 8, 1, ScaleRss::Spread);
    c.rssAfterDecrypt = true;
    Ptr<ScaleHost> host = CreateObject<ScaleHost>();
    host->Setup(c, ScaleWire(ScaleMode::Packet, ScaleEncap::Transport, 1500));
    std::set<uint32_t> cores;
    for (uint32_t flow = 0; flow < 8; ++flow)
    {
        cores.insert(host->RxCoreOf(flow, true));
    }
    EXPECT_EQ(cores.size(), 8u);
    // Software IPsec cannot: the NIC sees only ESP.
    c.mode = ScaleMode::Software;
    Ptr<ScaleHost> sw = CreateObject<ScaleHost>();
    sw->Setup(c, ScaleWire(ScaleMode::Software, ScaleEncap::Transport, 1500));
    EXPECT_EQ(sw->RxCoreOf(3, true), sw->RxCoreOf(0, true));
}

} // namespace
} // namespace ns3
