// The sweep machinery: the grid's order, shards that partition it, inputs refused with their
// names, and the process runner's results, failures and timeout.
#include "scale-study.h"

#include <chrono>
#include <gtest/gtest.h>
#include <set>

namespace ns3
{
namespace
{

TEST(ScaleStudyTest, TheGridIsModesTimesCpusTimesEachAxisAndShardsPartitionIt)
{
    ScaleCellConfig base;
    const auto cells = ExpandGrid(base,
                                  {ScaleMode::Software, ScaleMode::Packet},
                                  {1, 4},
                                  {{"link", {"10", "100"}}, {"mtu", {"1500", "9000"}}});
    ASSERT_EQ(cells.size(), 16u);
    EXPECT_EQ(cells[0].linkGbps, 10);
    EXPECT_EQ(cells[0].mtu, 1500u);
    EXPECT_EQ(cells[15].linkGbps, 100);
    EXPECT_EQ(cells[15].mtu, 9000u);
    EXPECT_EQ(cells[15].mode, ScaleMode::Packet);
    EXPECT_EQ(cells[15].cpus, 4u);
    std::set<size_t> all;
    for (uint32_t k = 1; k <= 3; ++k)
    {
        for (size_t i : ShardIndices(cells.size(), k, 3))
        {
            EXPECT_TRUE(all.insert(i).second) << "cell " << i << " in two shards";
        }
    }
    EXPECT_EQ(all.size(), cells.size());
}

TEST(ScaleStudyTest, InputsAreRefusedWithTheirNameAndValue)
{
    ScaleCellConfig c;
    std::string error;
    EXPECT_FALSE(SetScaleInput(&c, "link", "inf", &error));
    EXPECT_EQ(error.find("link: 'inf'"), 0u) << error;
    EXPECT_FALSE(SetScaleInput(&c, "encap", "beet", &error));
    EXPECT_EQ(error.find("encap: 'beet'"), 0u) << error;
    EXPECT_FALSE(SetScaleInput(&c, "colour", "red", &error));
    EXPECT_NE(error.find("'colour'"), std::string::npos) << error;
    EXPECT_TRUE(SetScaleInput(&c, "clock", "3.0", &error));
    EXPECT_DOUBLE_EQ(c.frequency.baseGhz, 3.0);
    EXPECT_DOUBLE_EQ(c.frequency.maxTurboGhz, 4.1); // the turbo range moves with the clock
    EXPECT_TRUE(SetScaleInput(&c, "mix", "imix", &error));
    EXPECT_TRUE(c.imix);
}

TEST(ScaleStudyTest, TheRunnerReturnsEachCellAndKillsOneThatOverrunsItsTime)
{
    ScaleCellConfig quick;
    quick.measureMs = 10;
    quick.warmupMs = 5;
    ScaleCellConfig slow = quick;
    slow.measureMs = 200000; // minutes of wall time
    size_t progressCalls = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto runs = RunCells(
        {quick, slow, quick},
        2,
        [&progressCalls](size_t, size_t) { ++progressCalls; },
        std::chrono::seconds(2));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_TRUE(runs[0].ok) << runs[0].error;
    EXPECT_TRUE(runs[2].ok) << runs[2].error;
    EXPECT_GT(runs[0].result.gbps, 20);
    EXPECT_FALSE(runs[1].ok);
    EXPECT_NE(runs[1].error.find("longer than 2 s"), std::string::npos) << runs[1].error;
    EXPECT_LT(seconds, 10);
    EXPECT_EQ(progressCalls, 3u);
}

} // namespace
} // namespace ns3
