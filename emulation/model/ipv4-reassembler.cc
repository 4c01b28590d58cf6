#include "ipv4-reassembler.h"

#include <algorithm>
#include <iterator>

namespace ns3
{

size_t
Ipv4Reassembler::GetPending() const
{
    return m_partials.size();
}

Ipv4Reassembler::Outcome
Ipv4Reassembler::Add(Ptr<const Packet> packet, Time now)
{
    Outcome out;
    // ip_expire: an incomplete datagram lives ipfrag_time from its first piece (no datagram
    // pending, the usual case, costs nothing).
    for (auto it = m_partials.begin(); it != m_partials.end();)
    {
        if (now - it->second.started >= Seconds(kFragTimeSeconds))
        {
            out.expired.push_back(it->second.pieces.begin()->second);
            it = m_partials.erase(it);
        }
        else
        {
            ++it;
        }
    }
    Ipv4Header h;
    const uint32_t size = packet->GetSize();
    if (packet->PeekHeader(h) == 0 || size < h.GetSerializedSize() + h.GetPayloadSize())
    {
        out.malformed = "shorter than its IPv4 total length";
        return out;
    }
    // ip_rcv_core: what lies beyond the total length is not the packet's.
    const uint32_t beyond = size - h.GetSerializedSize() - h.GetPayloadSize();
    if (h.IsLastFragment() && h.GetFragmentOffset() == 0)
    {
        // Every packet that is no fragment: the host's own bytes (options, checksum), not a
        // header ns-3 would write anew.
        out.whole = packet->Copy();
        if (beyond != 0)
        {
            out.whole->RemoveAtEnd(beyond);
        }
        return out;
    }
    Ptr<Packet> payload = packet->Copy();
    payload->RemoveHeader(h);
    payload->RemoveAtEnd(beyond);
    const Key key{h.GetSource().Get(),
                  h.GetDestination().Get(),
                  h.GetProtocol(),
                  h.GetIdentification()};
    auto found = m_partials.find(key);
    if (found == m_partials.end())
    {
        if (m_partials.size() >= kMaxPending)
        {
            out.overLimit = true; // inet_frag_find over high_thresh: no new queue
            return out;
        }
        found = m_partials.emplace(key, Partial{}).first;
        found->second.started = now;
    }
    Partial& p = found->second;
    const uint32_t offset = h.GetFragmentOffset();
    uint32_t end = offset + payload->GetSize();
    // ip_frag_queue: a set whose pieces disagree is thrown away whole.
    const auto discard = [&](const char* why) {
        m_partials.erase(found);
        out.malformed = why;
        return out;
    };
    if (h.IsLastFragment())
    {
        // Nothing may end beyond the last fragment, nor may a second last one disagree.
        if (end < p.end || (p.haveLast && end != p.total))
        {
            return discard("a last fragment short of the others");
        }
        p.haveLast = true;
        p.total = end;
    }
    else
    {
        // A fragment with MF set covers whole 8-byte blocks: the rest is cut off.
        if (end & 7)
        {
            end &= ~7u;
            payload->RemoveAtEnd(payload->GetSize() - (end - offset));
        }
        if (end > p.end && p.haveLast)
        {
            return discard("bytes beyond the last fragment");
        }
    }
    if (end == offset)
    {
        return discard("an empty fragment");
    }
    p.end = std::max(p.end, end);
    // RFC 5722, as inet_frag_queue_insert: bytes already held (within a run of pieces back to
    // back) are a duplicate, dropped alone; a partial overlap throws the datagram away.
    auto next = p.pieces.upper_bound(offset);
    uint32_t covered = offset;
    if (next != p.pieces.begin())
    {
        // From the piece at or before offset, follow the run while it is back to back.
        auto run = std::prev(next);
        if (run->first + run->second->GetSize() > offset)
        {
            covered = run->first + run->second->GetSize();
            for (auto it = next; it != p.pieces.end() && it->first == covered && covered < end;
                 ++it)
            {
                covered = it->first + it->second->GetSize();
            }
            if (covered >= end)
            {
                out.duplicate = true;
                return out;
            }
            return discard("overlapping fragments");
        }
    }
    if (next != p.pieces.end() && next->first < end)
    {
        return discard("overlapping fragments");
    }
    if (offset == 0)
    {
        p.first = h;
        p.haveFirst = true;
    }
    p.pieces[offset] = payload;
    uint32_t reached = 0;
    for (const auto& [at, piece] : p.pieces)
    {
        if (at != reached)
        {
            break;
        }
        reached = at + piece->GetSize();
    }
    if (!p.haveFirst || !p.haveLast || reached != p.total)
    {
        return out;
    }
    // ip_frag_reasm: the whole datagram must fit an IPv4 total length.
    if (p.first.GetSerializedSize() + p.total > 65535)
    {
        return discard("a datagram past 64 KiB");
    }
    Ptr<Packet> whole = Create<Packet>();
    for (const auto& [at, piece] : p.pieces)
    {
        whole->AddAtEnd(piece);
    }
    Ipv4Header header = p.first;
    header.SetLastFragment();
    header.SetFragmentOffset(0);
    header.SetPayloadSize(whole->GetSize());
    header.EnableChecksum();
    whole->AddHeader(header);
    m_partials.erase(found);
    out.whole = whole;
    out.reassembled = true;
    return out;
}

} // namespace ns3
