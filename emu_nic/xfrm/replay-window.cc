#include "replay-window.h"

#include <algorithm>

namespace ns3
{

namespace
{

constexpr uint64_t kLow32 = 0xFFFFFFFFull;

/// Zeroes bits [first, first + count) of a ring of words, count < total bits; O(words).
void
ClearRing(std::vector<uint64_t>& words, uint64_t first, uint64_t count)
{
    const uint64_t bits = words.size() * 64;
    uint64_t bit = first % bits;
    while (count > 0)
    {
        const uint64_t offset = bit % 64;
        const uint64_t chunk = std::min<uint64_t>(count, 64 - offset);
        const uint64_t mask = chunk == 64 ? ~0ull : ((1ull << chunk) - 1) << offset;
        words[bit / 64] &= ~mask;
        count -= chunk;
        bit = (bit + chunk) % bits;
    }
}

} // namespace

const char*
ReplayVerdictName(ReplayVerdict verdict)
{
    switch (verdict)
    {
    case ReplayVerdict::Ok:
        return "Ok";
    case ReplayVerdict::Replayed:
        return "Replayed";
    case ReplayVerdict::TooOld:
        return "TooOld";
    case ReplayVerdict::ZeroSeq:
        return "ZeroSeq";
    }
    return "Unknown";
}

ReplayWindow::ReplayWindow(uint32_t size, bool esn)
    : m_size(size),
      m_esn(esn),
      // Whole 64-bit words covering at least size bits; the bits beyond size only ever hold
      // sequence numbers that already left the window, so they are never consulted.
      m_bitmap((size + 63) / 64, 0)
{
}

uint32_t
ReplayWindow::InferSeqHi(uint32_t seqLow) const
{
    if (!m_esn)
    {
        return 0;
    }
    const uint32_t th = static_cast<uint32_t>(m_top >> 32);
    const uint32_t tl = static_cast<uint32_t>(m_top);
    // RFC 4304 Appendix A; a disabled window still infers as if it held one packet.
    const uint32_t w = m_size == 0 ? 1 : m_size;
    const uint32_t bottom = tl - w + 1; // modulo 2^32 on purpose in case B
    if (tl >= w - 1)
    {
        // Case A: the window lies within one 2^32 subspace.
        return seqLow >= bottom ? th : th + 1;
    }
    // Case B: the window spans two subspaces; seqLow in the upper part belongs to Th - 1.
    return seqLow >= bottom ? th - 1 : th;
}

ReplayVerdict
ReplayWindow::Check(uint32_t seqLow, uint64_t* seq) const
{
    uint64_t full = seqLow;
    if (m_esn)
    {
        const uint32_t seqHi = InferSeqHi(seqLow);
        // Case B at Th = 0 points below the first subspace: older than the SA itself.
        if (m_size != 0 && static_cast<uint32_t>(m_top >> 32) == 0 && seqHi == 0xFFFFFFFFu)
        {
            return ReplayVerdict::TooOld;
        }
        full = (static_cast<uint64_t>(seqHi) << 32) | seqLow;
    }
    if (m_size != 0)
    {
        // 64-bit 0 is never sent (RFC 4303 3.3.3), with or without ESN.
        if (full == 0)
        {
            return ReplayVerdict::ZeroSeq;
        }
        if (full <= m_top)
        {
            if (m_top - full >= m_size)
            {
                return ReplayVerdict::TooOld;
            }
            if (TestBit(full))
            {
                return ReplayVerdict::Replayed;
            }
        }
    }
    if (seq != nullptr)
    {
        *seq = full;
    }
    return ReplayVerdict::Ok;
}

void
ReplayWindow::Advance(uint64_t seq)
{
    if (!m_esn)
    {
        seq &= kLow32;
    }
    if (m_size == 0)
    {
        // Nothing to remember but the top, which ESN inference needs.
        if (seq > m_top)
        {
            m_top = seq;
        }
        return;
    }
    if (seq > m_top)
    {
        const uint64_t bits = m_bitmap.size() * 64;
        const uint64_t diff = seq - m_top;
        if (diff >= bits)
        {
            std::fill(m_bitmap.begin(), m_bitmap.end(), 0);
        }
        else
        {
            // The slots of top+1 .. seq still hold numbers that just left the window.
            ClearRing(m_bitmap, m_top + 1, diff);
        }
        m_top = seq;
    }
    else if (m_top - seq >= m_size)
    {
        return; // left of the window: nothing to record
    }
    SetBit(seq);
}

uint64_t
ReplayWindow::GetTop() const
{
    return m_top;
}

uint32_t
ReplayWindow::GetSize() const
{
    return m_size;
}

bool
ReplayWindow::IsEsn() const
{
    return m_esn;
}

bool
ReplayWindow::TestBit(uint64_t seq) const
{
    const uint64_t bit = seq % (m_bitmap.size() * 64);
    return (m_bitmap[bit / 64] >> (bit % 64)) & 1;
}

void
ReplayWindow::SetBit(uint64_t seq)
{
    const uint64_t bit = seq % (m_bitmap.size() * 64);
    m_bitmap[bit / 64] |= 1ull << (bit % 64);
}

void
ReplayWindow::ClearBit(uint64_t seq)
{
    const uint64_t bit = seq % (m_bitmap.size() * 64);
    m_bitmap[bit / 64] &= ~(1ull << (bit % 64));
}

bool
ReplayWindow::WasReceived(uint64_t seq) const
{
    return seq != 0 && seq <= m_top && m_top - seq < m_size && TestBit(seq);
}

} // namespace ns3
