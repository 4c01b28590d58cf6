// The node's reassembly of the emulated host's fragments follows Linux's ip_frag_queue: whole
// datagrams in any order, and a set whose pieces disagree (overlaps, a short last fragment,
// bytes past the last, an empty piece) thrown away whole; an exact duplicate dropped alone; an
// incomplete datagram gone after ipfrag_time.
#include "ipv4-reassembler.h"

#include <gtest/gtest.h>
#include <utility>
#include <vector>

using namespace ns3;

namespace
{

constexpr uint16_t kId = 0x1234;

/// Payload bytes [0, n) of the datagram: byte i is i mod 251.
std::vector<uint8_t>
Data(uint32_t n)
{
    std::vector<uint8_t> d(n);
    for (uint32_t i = 0; i < n; ++i)
    {
        d[i] = uint8_t(i % 251);
    }
    return d;
}

/// The fragment of a UDP datagram (ID kId) holding payload bytes [offset, offset + length).
Ptr<Packet>
Fragment(uint32_t offset, uint32_t length, bool more, uint16_t id = kId)
{
    const std::vector<uint8_t> all = Data(offset + length);
    Ptr<Packet> p = Create<Packet>(all.data() + offset, length);
    Ipv4Header h;
    h.SetSource(Ipv4Address("10.0.0.1"));
    h.SetDestination(Ipv4Address("10.0.0.2"));
    h.SetProtocol(17);
    h.SetIdentification(id);
    h.SetFragmentOffset(offset);
    if (more)
    {
        h.SetMoreFragments();
    }
    else
    {
        h.SetLastFragment();
    }
    h.SetPayloadSize(length);
    p->AddHeader(h);
    return p;
}

/// The payload of a whole datagram, and that its header is no fragment's.
std::vector<uint8_t>
PayloadOf(Ptr<Packet> whole)
{
    Ipv4Header h;
    Ptr<Packet> copy = whole->Copy();
    copy->RemoveHeader(h);
    EXPECT_TRUE(h.IsLastFragment());
    EXPECT_EQ(h.GetFragmentOffset(), 0);
    EXPECT_EQ(h.GetPayloadSize(), copy->GetSize());
    std::vector<uint8_t> d(copy->GetSize());
    copy->CopyData(d.data(), d.size());
    return d;
}

TEST(Ipv4ReassemblerTest, WholeInAnyOrder)
{
    Ipv4Reassembler r;
    EXPECT_FALSE(r.Add(Fragment(2960, 40, false), Seconds(0)).whole);
    EXPECT_FALSE(r.Add(Fragment(0, 1480, true), Seconds(0)).whole);
    const auto o = r.Add(Fragment(1480, 1480, true), Seconds(0));
    ASSERT_TRUE(o.whole);
    EXPECT_TRUE(o.reassembled);
    EXPECT_EQ(PayloadOf(o.whole), Data(3000));
    EXPECT_EQ(r.GetPending(), 0u);
    // Not a fragment: the host's bytes as they are (its checksum, its options), less what lies
    // past the total length.
    Ptr<Packet> sent = Fragment(0, 100, false);
    std::vector<uint8_t> bytes(sent->GetSize());
    sent->CopyData(bytes.data(), bytes.size());
    bytes[10] ^= 0x5a; // a checksum ns-3 would never write
    Ptr<Packet> padded = Create<Packet>(bytes.data(), bytes.size());
    padded->AddPaddingAtEnd(6);
    const auto plain = r.Add(padded, Seconds(0));
    ASSERT_TRUE(plain.whole);
    EXPECT_FALSE(plain.reassembled);
    std::vector<uint8_t> got(plain.whole->GetSize());
    plain.whole->CopyData(got.data(), got.size());
    EXPECT_EQ(got, bytes);
}

TEST(Ipv4ReassemblerTest, DuplicateIsDroppedAloneOverlapDiscardsTheDatagram)
{
    Ipv4Reassembler r;
    r.Add(Fragment(0, 1480, true), Seconds(0));
    r.Add(Fragment(1480, 1480, true), Seconds(0));
    // Bytes all held already (inet_frag_queue_insert's IPFRAG_DUP): the same piece, one inside
    // a piece, one across two pieces back to back.
    const std::vector<std::pair<uint32_t, uint32_t>> held{{0, 1480}, {8, 1000}, {1000, 1000}};
    for (const auto& [offset, length] : held)
    {
        const auto dup = r.Add(Fragment(offset, length, true), Seconds(0));
        EXPECT_TRUE(dup.duplicate) << offset << "+" << length;
        EXPECT_FALSE(dup.malformed);
    }
    EXPECT_EQ(r.GetPending(), 1u); // the datagram lives on
    ASSERT_TRUE(r.Add(Fragment(2960, 20, false), Seconds(0)).whole);
    // Overlap (RFC 5722): the whole set goes, and what follows cannot complete it.
    r.Add(Fragment(0, 1480, true), Seconds(0));
    EXPECT_STREQ(r.Add(Fragment(1472, 1480, true), Seconds(0)).malformed, "overlapping fragments");
    EXPECT_EQ(r.GetPending(), 0u);
    EXPECT_FALSE(r.Add(Fragment(1480, 20, false), Seconds(0)).whole);
}

TEST(Ipv4ReassemblerTest, PiecesThatDisagreeWithTheLastAreDiscarded)
{
    Ipv4Reassembler r;
    // Pieces past the last fragment's end (the middle one still missing).
    r.Add(Fragment(0, 1480, true), Seconds(0));
    r.Add(Fragment(2960, 40, false), Seconds(0));
    EXPECT_STREQ(r.Add(Fragment(4000, 8, true), Seconds(0)).malformed,
                 "bytes beyond the last fragment");
    EXPECT_EQ(r.GetPending(), 0u);
    // A last fragment that ends before a piece already in.
    r.Add(Fragment(2960, 1480, true), Seconds(0));
    EXPECT_STREQ(r.Add(Fragment(1480, 80, false), Seconds(0)).malformed,
                 "a last fragment short of the others");
    // A second last fragment that disagrees.
    r.Add(Fragment(1480, 80, false), Seconds(0));
    EXPECT_STREQ(r.Add(Fragment(1480, 96, false), Seconds(0)).malformed,
                 "a last fragment short of the others");
    // An empty one.
    EXPECT_STREQ(r.Add(Fragment(8, 0, true), Seconds(0)).malformed, "an empty fragment");
    EXPECT_EQ(r.GetPending(), 0u);
    // A whole datagram past 64 KiB (ip_frag_reasm checks once all is in).
    EXPECT_FALSE(r.Add(Fragment(0, 65000, true), Seconds(0)).malformed);
    EXPECT_STREQ(r.Add(Fragment(65000, 600, false), Seconds(0)).malformed,
                 "a datagram past 64 KiB");
    EXPECT_EQ(r.GetPending(), 0u);
}

TEST(Ipv4ReassemblerTest, MoreFragmentsCoverWholeBlocks)
{
    Ipv4Reassembler r;
    // 1,483 bytes with MF set: the 3 beyond the last 8-byte block are cut (ip_frag_queue).
    r.Add(Fragment(0, 1483, true), Seconds(0));
    const auto o = r.Add(Fragment(1480, 20, false), Seconds(0));
    ASSERT_TRUE(o.whole);
    EXPECT_EQ(PayloadOf(o.whole), Data(1500));
}

TEST(Ipv4ReassemblerTest, IncompleteDatagramsExpire)
{
    Ipv4Reassembler r;
    r.Add(Fragment(0, 1480, true), Seconds(0));
    // 30 s later the old first piece is gone: the last one cannot complete it.
    const auto late = r.Add(Fragment(1480, 20, false), Seconds(30));
    EXPECT_EQ(late.expired.size(), 1u);
    EXPECT_FALSE(late.whole);
    EXPECT_EQ(r.GetPending(), 1u);
    // And the pending bound: a new datagram's fragment is refused, the pending ones stay.
    for (uint16_t id = 1; id < Ipv4Reassembler::kMaxPending; ++id)
    {
        EXPECT_FALSE(r.Add(Fragment(0, 1480, true, id), Seconds(31)).overLimit);
    }
    EXPECT_EQ(r.GetPending(), Ipv4Reassembler::kMaxPending);
    EXPECT_TRUE(r.Add(Fragment(0, 1480, true, 999), Seconds(31)).overLimit);
    EXPECT_EQ(r.GetPending(), Ipv4Reassembler::kMaxPending);
    EXPECT_TRUE(r.Add(Fragment(1480, 20, false, 1), Seconds(31)).whole) << "a pending one goes on";
}

} // namespace
