// The calibration: the three fitted 1-CPU cells land on the reference; packet offload's 1-CPU
// cell, never fitted, is predicted near it; the sources of each parameter are what they say.
#include "scale-calibration.h"
#include "scale-reference.h"

#include <gtest/gtest.h>

namespace ns3
{
namespace
{

MachineCosts
SyntheticMachine()
{
    MachineCosts m;
    m.ghz = 2.6;
    m.cpu = "test";
    m.cipher = CipherCost({{64, 900}, {512, 1300}, {1500, 2400}});
    m.copyByte = 0.2;
    return m;
}

TEST(ScaleCalibrationTest, FitsTheThreeOneCpuCellsAndPredictsPacketOffload)
{
    ScaleCellConfig cell;
    const ScaleCalibration cal = Calibrate(cell, SyntheticMachine(), 1.0);
    ASSERT_EQ(cal.steps.size(), 3u);
    for (const ScaleFitStep& s : cal.steps)
    {
        EXPECT_TRUE(s.reached) << s.parameter;
        EXPECT_NEAR(s.simulatedGbps, s.referenceGbps, 0.0015 * s.referenceGbps) << s.parameter;
        EXPECT_GT(s.value, 0) << s.parameter;
    }
    EXPECT_EQ(cal.costs.copyByte, 0.2);             // measured, not fitted
    EXPECT_EQ(cal.costs.cipher.Cycles(1500), 2400); // likewise
    cell.costs = cal.costs;
    cell.mode = ScaleMode::Packet;
    const double packet = RunScaleCell(cell).gbps;
    EXPECT_NEAR(packet, ReferenceGbps(ScaleMode::Packet, 1), 0.05 * 28);
}

TEST(ScaleCalibrationTest, ACipherSlowerThanTheWholeSoftwareBudgetIsReportedNotHidden)
{
    ScaleCellConfig cell;
    MachineCosts m = SyntheticMachine();
    // Four times the cipher: even with no other software cost the 1-CPU cell runs at about 3.2.
    EXPECT_THROW(Calibrate(cell, m, 4.0), std::runtime_error);
    const ScaleCalibration cal = Calibrate(cell, m, 4.0, false);
    EXPECT_FALSE(cal.steps.back().reached);
    EXPECT_EQ(cal.steps.back().value, 0); // stepped down from 2,000 to nothing
    EXPECT_LT(cal.steps.back().simulatedGbps, 6);
}

TEST(ScaleReferenceTest, TheFormulaScoresAsTheNotesSay)
{
    std::map<ScaleMode, double> ceilings;
    for (ScaleMode m : ReferenceModes())
    {
        ceilings[m] = ScaleWire(m, ScaleEncap::Transport, 1500).GetGoodputCeiling(100e9) / 1e9;
    }
    const ScaleScore f = ScoreAgainstReference(FormulaTable(ceilings), ceilings);
    // The issue: about 2 % over the 20 cells of 2 to 32 CPUs, 3.6 % over the 8 sub-ceiling ones.
    EXPECT_NEAR(f.mae20, 2.05, 0.05);
    EXPECT_NEAR(f.mae8, 3.61, 0.05);
    EXPECT_EQ(f.errors.size(), 21u); // the 20, and packet's predicted 1-CPU cell
    EXPECT_EQ(f.packetOneCpu, 0);    // the formula's own input
    // Packet offload's 1-CPU cell is reported on its own, never in the 20 cells' means.
    ScaleTable off = FormulaTable(ceilings);
    off[{ScaleMode::Packet, 1}] = 30.8;
    const ScaleScore g = ScoreAgainstReference(off, ceilings);
    EXPECT_DOUBLE_EQ(g.mae20, f.mae20);
    EXPECT_DOUBLE_EQ(g.max20, f.max20);
    EXPECT_NEAR(g.packetOneCpu, 10, 1e-9);
    // The reference's knees: baseline 4, packet 4, crypto 8, software 32.
    const ScaleTable ref = ReferenceTable();
    EXPECT_EQ(KneeOf(ref, ScaleMode::Baseline, ceilings[ScaleMode::Baseline]), 4u);
    EXPECT_EQ(KneeOf(ref, ScaleMode::Packet, ceilings[ScaleMode::Packet]), 4u);
    EXPECT_EQ(KneeOf(ref, ScaleMode::Crypto, ceilings[ScaleMode::Crypto]), 8u);
    EXPECT_EQ(KneeOf(ref, ScaleMode::Software, ceilings[ScaleMode::Software]), 32u);
    // The formula's software knee is wrong (16): a model must get it right to beat it.
    EXPECT_FALSE(f.kneesRight);
    int sub = 0;
    for (ScaleMode m : ReferenceModes())
    {
        for (uint32_t n : ReferenceCpus())
        {
            sub += IsSubCeilingCell(m, n, ceilings[m]);
        }
    }
    EXPECT_EQ(sub, 8);
}

} // namespace
} // namespace ns3
