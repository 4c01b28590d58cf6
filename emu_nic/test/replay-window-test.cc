// Unit tests of ReplayWindow: RFC 4303 3.4.3 sliding window and RFC 4304 Appendix A inference.

#include "replay-window.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <ostream>
#include <random>
#include <set>
#include <string>

using namespace ns3;

namespace
{

/// Check + Advance the way xfrm_input does once the ICV verified.
ReplayVerdict
Receive(ReplayWindow& window, uint32_t seqLow, uint64_t* seq = nullptr)
{
    uint64_t full = 0;
    const ReplayVerdict verdict = window.Check(seqLow, &full);
    if (verdict == ReplayVerdict::Ok)
    {
        window.Advance(full);
        if (seq != nullptr)
        {
            *seq = full;
        }
    }
    return verdict;
}

// ---------------------------------------------------------------------------------------------
// Window sizes the way Linux allows them

class ReplayWindowSizeTest : public testing::TestWithParam<uint32_t>
{
  protected:
    uint32_t Size() const
    {
        return GetParam();
    }
};

std::string
SizeName(const testing::TestParamInfo<uint32_t>& info)
{
    return "Size" + std::to_string(info.param);
}

TEST_P(ReplayWindowSizeTest, FirstPacketsAndDuplicates)
{
    ReplayWindow window(Size());
    EXPECT_EQ(window.GetSize(), Size());
    EXPECT_FALSE(window.IsEsn());
    EXPECT_EQ(window.GetTop(), 0u);
    uint64_t seq = 0;
    EXPECT_EQ(Receive(window, 1, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 1u);
    EXPECT_EQ(window.GetTop(), 1u);
    EXPECT_EQ(Receive(window, 1), ReplayVerdict::Replayed);
    EXPECT_EQ(Receive(window, 3), ReplayVerdict::Ok);
    EXPECT_EQ(Receive(window, 2), ReplayVerdict::Ok) << "in window, not yet seen";
    EXPECT_EQ(Receive(window, 2), ReplayVerdict::Replayed);
    EXPECT_EQ(window.GetTop(), 3u);
}

TEST_P(ReplayWindowSizeTest, CheckDoesNotChangeTheWindow)
{
    ReplayWindow window(Size());
    window.Advance(100);
    uint64_t seq = 0;
    EXPECT_EQ(window.Check(99, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(window.Check(99, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(window.Check(101, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(window.GetTop(), 100u);
    EXPECT_EQ(window.Check(100, nullptr), ReplayVerdict::Replayed);
}

TEST_P(ReplayWindowSizeTest, ExactEdges)
{
    ReplayWindow window(Size());
    const uint32_t top = 3 * Size() + 5;
    window.Advance(top);
    EXPECT_EQ(window.Check(top - Size() + 1, nullptr), ReplayVerdict::Ok) << "oldest in window";
    EXPECT_EQ(window.Check(top - Size(), nullptr), ReplayVerdict::TooOld) << "just left of it";
    EXPECT_EQ(window.Check(0x10, nullptr), ReplayVerdict::TooOld);
    EXPECT_EQ(window.Check(top, nullptr), ReplayVerdict::Replayed);
    EXPECT_EQ(window.Check(top + 1, nullptr), ReplayVerdict::Ok);
    EXPECT_EQ(window.Check(0xFFFFFFFFu, nullptr), ReplayVerdict::Ok);
}

TEST_P(ReplayWindowSizeTest, AdvanceByOneMovesTheLeftEdge)
{
    ReplayWindow window(Size());
    const uint32_t top = 2 * Size() + 7;
    window.Advance(top);
    const uint32_t oldest = top - Size() + 1;
    EXPECT_EQ(window.Check(oldest, nullptr), ReplayVerdict::Ok);
    EXPECT_EQ(Receive(window, top + 1), ReplayVerdict::Ok);
    EXPECT_EQ(window.GetTop(), top + 1u);
    EXPECT_EQ(window.Check(oldest, nullptr), ReplayVerdict::TooOld);
    EXPECT_EQ(window.Check(oldest + 1, nullptr), ReplayVerdict::Ok);
    EXPECT_EQ(window.Check(top, nullptr), ReplayVerdict::Replayed);
}

TEST_P(ReplayWindowSizeTest, FullWindowThenJumpClearsOldBits)
{
    // Jumps just below, at, and well beyond the window and the bitmap's word boundaries.
    for (const uint32_t jump : {Size() - 1, Size(), Size() + 1, 2 * Size() + 63, 5 * Size()})
    {
        SCOPED_TRACE("jump " + std::to_string(jump));
        ReplayWindow window(Size());
        const uint32_t top = 4 * Size();
        for (uint32_t seq = top - Size() + 1; seq <= top; ++seq)
        {
            ASSERT_EQ(Receive(window, seq), ReplayVerdict::Ok);
        }
        ASSERT_EQ(window.Check(top - Size() + 1, nullptr), ReplayVerdict::Replayed);
        ASSERT_EQ(Receive(window, top + jump), ReplayVerdict::Ok);
        const uint32_t newTop = top + jump;
        // Every number in the new window: seen only if it was received before and is still
        // in the window.
        for (uint32_t seq = newTop - Size() + 1; seq < newTop; ++seq)
        {
            const ReplayVerdict expected = seq <= top ? ReplayVerdict::Replayed : ReplayVerdict::Ok;
            ASSERT_EQ(window.Check(seq, nullptr), expected) << "seq " << seq;
        }
        EXPECT_EQ(window.Check(newTop - Size(), nullptr), ReplayVerdict::TooOld);
    }
}

TEST_P(ReplayWindowSizeTest, MatchesAReferenceModel)
{
    // A set of everything received and the top: RFC 4303 3.4.3 spelled out naively.
    std::mt19937 rng(Size());
    ReplayWindow window(Size());
    std::set<uint32_t> received{1000000};
    uint32_t top = 1000000;
    ASSERT_EQ(Receive(window, top), ReplayVerdict::Ok);
    for (int i = 0; i < 20000; ++i)
    {
        const uint32_t r = rng();
        uint32_t seq;
        switch (r % 4)
        {
        case 0: // ahead, sometimes far
            seq = top + 1 + (r >> 2) % (r % 8 == 0 ? 3 * Size() : 4);
            break;
        case 1: // around the left edge
            seq = top - Size() - 2 + (r >> 2) % 5;
            break;
        default: // inside the window
            seq = top - (r >> 2) % Size();
            break;
        }
        if (seq == 0)
        {
            continue;
        }
        ReplayVerdict expected = ReplayVerdict::Ok;
        if (seq <= top && top - seq >= Size())
        {
            expected = ReplayVerdict::TooOld;
        }
        else if (received.count(seq) != 0)
        {
            expected = ReplayVerdict::Replayed;
        }
        ASSERT_EQ(Receive(window, seq), expected)
            << "step " << i << " seq " << seq << " top " << top;
        if (expected == ReplayVerdict::Ok)
        {
            received.insert(seq);
            top = std::max(top, seq);
        }
        ASSERT_EQ(window.GetTop(), top);
    }
}

TEST_P(ReplayWindowSizeTest, SeqZeroWithoutEsnIsRejected)
{
    ReplayWindow window(Size());
    uint64_t seq = 77;
    EXPECT_EQ(window.Check(0, &seq), ReplayVerdict::ZeroSeq);
    EXPECT_EQ(seq, 77u) << "seq written for a rejected number";
    window.Advance(5);
    EXPECT_EQ(window.Check(0, nullptr), ReplayVerdict::ZeroSeq);
}

TEST_P(ReplayWindowSizeTest, EsnWrapForward)
{
    // Case A (Tl >= W - 1): top near the end of subspace 2; a small seqLow is subspace 3.
    ReplayWindow window(Size(), true);
    EXPECT_TRUE(window.IsEsn());
    const uint64_t top = 0x2FFFFFFF0ull;
    window.Advance(top);
    uint64_t seq = 0;
    EXPECT_EQ(window.InferSeqHi(5), 3u);
    EXPECT_EQ(window.Check(5, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x300000005ull);
    EXPECT_EQ(window.InferSeqHi(0xFFFFFFF1u), 2u);
    EXPECT_EQ(window.Check(0xFFFFFFF1u, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x2FFFFFFF1ull);
    EXPECT_EQ(window.Check(0xFFFFFFF0u, &seq), ReplayVerdict::Replayed);
    // The bottom of the window still belongs to subspace 2, one below it to subspace 3.
    const uint32_t bottom = 0xFFFFFFF0u - Size() + 1;
    EXPECT_EQ(window.InferSeqHi(bottom), 2u);
    EXPECT_EQ(window.InferSeqHi(bottom - 1), 3u);
    // seqLow 0 is an ordinary number once ESN has moved past subspace 0.
    EXPECT_EQ(Receive(window, 0, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x300000000ull);
    EXPECT_EQ(window.GetTop(), 0x300000000ull);
    EXPECT_EQ(window.Check(0xFFFFFFF0u, nullptr), ReplayVerdict::Replayed) << "bit kept over wrap";
    EXPECT_EQ(window.Check(0, nullptr), ReplayVerdict::Replayed);
}

TEST_P(ReplayWindowSizeTest, EsnJustPastWrapInfersPreviousSubspace)
{
    // Case B (Tl < W - 1): the window spans subspaces 2 and 3.
    ReplayWindow window(Size(), true);
    window.Advance(0x2FFFFFFFEull);
    window.Advance(0x300000005ull);
    uint64_t seq = 0;
    EXPECT_EQ(window.InferSeqHi(0xFFFFFFF0u), 2u);
    EXPECT_EQ(window.Check(0xFFFFFFF0u, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x2FFFFFFF0ull);
    EXPECT_EQ(window.Check(0xFFFFFFFEu, nullptr), ReplayVerdict::Replayed);
    EXPECT_EQ(window.Check(3, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x300000003ull);
    EXPECT_EQ(window.Check(5, nullptr), ReplayVerdict::Replayed);
    // Window bottom Tl - W + 1 (mod 2^32) is the oldest number of subspace 2 inside it.
    const uint32_t bottom = 5u - Size() + 1u;
    EXPECT_EQ(window.InferSeqHi(bottom), 2u);
    EXPECT_EQ(window.Check(bottom, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, (0x2ull << 32) | bottom);
    // Below the bottom the RFC assumes the future of subspace 3, not the past.
    EXPECT_EQ(window.InferSeqHi(bottom - 1), 3u);
}

INSTANTIATE_TEST_SUITE_P(LinuxSizes,
                         ReplayWindowSizeTest,
                         testing::Values(32u, 64u, 128u, 1024u, 4096u),
                         SizeName);

// ---------------------------------------------------------------------------------------------
// RFC 4304 Appendix A inference, table driven

struct InferenceCase
{
    const char* name;
    uint32_t size;
    uint64_t top;
    uint32_t seqLow;
    uint32_t seqHi;
};

void
PrintTo(const InferenceCase& c, std::ostream* os)
{
    *os << c.name;
}

class ReplayWindowInferenceTest : public testing::TestWithParam<InferenceCase>
{
};

TEST_P(ReplayWindowInferenceTest, InfersTheHighBits)
{
    const InferenceCase& c = GetParam();
    ReplayWindow window(c.size, true);
    window.Advance(c.top);
    ASSERT_EQ(window.GetTop(), c.top);
    EXPECT_EQ(window.InferSeqHi(c.seqLow), c.seqHi);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4304,
    ReplayWindowInferenceTest,
    testing::Values(
        // Case A: Tl >= W - 1
        InferenceCase{"ASameSubspace", 64, 0x500001000ull, 0x00000FF0u, 5},
        InferenceCase{"AAboveTop", 64, 0x500001000ull, 0x7FFFFFFFu, 5},
        InferenceCase{"ABelowBottomIsNext", 64, 0x500001000ull, 0x00000FC0u, 6},
        InferenceCase{"AAtBottom", 64, 0x500001000ull, 0x00000FC1u, 5},
        InferenceCase{"ATlEqualsWMinus1", 64, 0x50000003Full, 0, 5},
        // Case B: Tl < W - 1
        InferenceCase{"BUpperPartIsPrevious", 64, 0x500000010ull, 0xFFFFFFF0u, 4},
        InferenceCase{"BAtBottom", 64, 0x500000010ull, 0xFFFFFFD1u, 4},
        InferenceCase{"BBelowBottomIsCurrent", 64, 0x500000010ull, 0xFFFFFFD0u, 5},
        InferenceCase{"BLowPartIsCurrent", 64, 0x500000010ull, 0x00000002u, 5},
        InferenceCase{"BTlEqualsWMinus2", 64, 0x50000003Eull, 0xFFFFFFFFu, 4},
        InferenceCase{"Window4096", 4096, 0x700000800ull, 0xFFFFF900u, 6},
        // Size 0 infers as if the window held one packet.
        InferenceCase{"Size0SameOrAbove", 0, 0x500001000ull, 0x00001000u, 5},
        InferenceCase{"Size0BelowIsNext", 0, 0x500001000ull, 0x00000FFFu, 6}),
    [](const testing::TestParamInfo<InferenceCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------

TEST(ReplayWindowTest, SizeZeroAcceptsEverything)
{
    ReplayWindow window(0);
    EXPECT_EQ(window.GetSize(), 0u);
    EXPECT_EQ(Receive(window, 10), ReplayVerdict::Ok);
    EXPECT_EQ(Receive(window, 10), ReplayVerdict::Ok) << "duplicates pass with the check off";
    EXPECT_EQ(Receive(window, 1), ReplayVerdict::Ok) << "so do old numbers";
    EXPECT_EQ(window.GetTop(), 10u);
    // Linux (replay-window 0) skips every check, the zero check included.
    EXPECT_EQ(window.Check(0, nullptr), ReplayVerdict::Ok);
}

TEST(ReplayWindowTest, SizeZeroWithEsnStillInfers)
{
    ReplayWindow window(0, true);
    window.Advance(0x1FFFFFFFFull);
    uint64_t seq = 0;
    EXPECT_EQ(window.Check(3, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x200000003ull);
    window.Advance(seq);
    EXPECT_EQ(window.Check(3, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0x200000003ull);
}

TEST(ReplayWindowTest, EsnFirstSubspace)
{
    ReplayWindow window(64, true);
    uint64_t seq = 0;
    EXPECT_EQ(window.Check(0, &seq), ReplayVerdict::ZeroSeq) << "64-bit 0 is never sent";
    EXPECT_EQ(window.Check(1, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 1u);
    // Case B at Th = 0 would mean subspace -1: older than the SA.
    EXPECT_EQ(window.Check(0xFFFFFFF0u, &seq), ReplayVerdict::TooOld);
    window.Advance(100);
    EXPECT_EQ(window.Check(0xFFFFFFF0u, &seq), ReplayVerdict::Ok) << "now case A: far ahead";
    EXPECT_EQ(seq, 0xFFFFFFF0ull);
}

TEST(ReplayWindowTest, EsnJumpOverManySubspacesClearsBits)
{
    ReplayWindow window(128, true);
    for (uint32_t s = 1; s <= 200; ++s)
    {
        ASSERT_EQ(Receive(window, s), ReplayVerdict::Ok);
    }
    // Same bit positions (mod bitmap size) in a later subspace must read as unseen.
    window.Advance(0x9000000C8ull);
    for (uint32_t s = 0xC8 - 127; s < 0xC8; ++s)
    {
        ASSERT_EQ(window.Check(s, nullptr), ReplayVerdict::Ok) << s;
    }
    EXPECT_EQ(window.Check(0xC8, nullptr), ReplayVerdict::Replayed);
}

TEST(ReplayWindowTest, WithoutEsnNumbersStay32Bit)
{
    ReplayWindow window(32);
    window.Advance(0xFFFFFFF0u);
    uint64_t seq = 0;
    EXPECT_EQ(window.InferSeqHi(3), 0u);
    EXPECT_EQ(window.Check(3, &seq), ReplayVerdict::TooOld) << "no wrap without ESN";
    EXPECT_EQ(window.Check(0xFFFFFFFFu, &seq), ReplayVerdict::Ok);
    EXPECT_EQ(seq, 0xFFFFFFFFull);
}

TEST(ReplayWindowTest, VerdictNames)
{
    EXPECT_STREQ(ReplayVerdictName(ReplayVerdict::Ok), "Ok");
    EXPECT_STREQ(ReplayVerdictName(ReplayVerdict::Replayed), "Replayed");
    EXPECT_STREQ(ReplayVerdictName(ReplayVerdict::TooOld), "TooOld");
    EXPECT_STREQ(ReplayVerdictName(ReplayVerdict::ZeroSeq), "ZeroSeq");
}

} // namespace
