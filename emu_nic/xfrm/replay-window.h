#ifndef REPLAY_WINDOW_H
#define REPLAY_WINDOW_H

#include <cstdint>
#include <vector>

namespace ns3
{

/// Verdict of the receive-side sequence number check.
enum class ReplayVerdict : uint8_t
{
    Ok,
    Replayed, //!< inside the window and already seen
    TooOld,   //!< left of the window
    ZeroSeq,  //!< sequence number 0 without ESN (RFC 4303 3.3.3: never sent)
};

const char* ReplayVerdictName(ReplayVerdict verdict);

/**
 * Anti-replay window of RFC 4303 section 3.4.3, with the ESN high-order inference of RFC 4304
 * Appendix A. Bitmap of up to 4096 bits (Linux's replay-window limit for ESN states).
 *
 * Use it the way Linux's xfrm_input does: Check() before the ICV is verified (it does not change
 * the window), Advance() only after the ICV verified. Size 0 turns the check off (Linux
 * replay-window 0); ESN then still infers the high bits as if the window were 1.
 */
class ReplayWindow
{
  public:
    static constexpr uint32_t kMaxSize = 4096;

    /// size in packets, 0..4096 (a larger size is clamped by the caller's validation, not here).
    explicit ReplayWindow(uint32_t size = 32, bool esn = false);

    /// Classifies seqLow; on Ok, *seq receives the full 64-bit number (high bits inferred).
    ReplayVerdict Check(uint32_t seqLow, uint64_t* seq) const;
    /// High-order 32 bits RFC 4304 infers for seqLow (what the ICV must be computed with).
    uint32_t InferSeqHi(uint32_t seqLow) const;
    /// Marks seq as received and slides the window right when seq is beyond the top.
    void Advance(uint64_t seq);

    uint64_t GetTop() const; //!< highest authenticated sequence number (0 before any)
    uint32_t GetSize() const;
    bool IsEsn() const;
    /// Whether seq, within the window below the top, was received (what GETSA's replay bitmap
    /// shows).
    bool WasReceived(uint64_t seq) const;

  private:
    bool TestBit(uint64_t seq) const;
    void SetBit(uint64_t seq);
    void ClearBit(uint64_t seq);

    uint32_t m_size;
    bool m_esn;
    uint64_t m_top{0};
    std::vector<uint64_t> m_bitmap; //!< bit (seq mod bitmapBits) is set when seq was received
};

} // namespace ns3

#endif // REPLAY_WINDOW_H
