// The IPv6 header chain as Linux reads it: where ESP goes in transport mode, the upper-layer
// header, fragments, every malformed chain refused with its reason, and the flow XFRM decides
// on (ICMPv6's type and code in the ports). (Scapy's view of the
// same chains: conformance/test/ipv6-chain-scapy-test.cc.)
#include "ipv6-packet-util.h"

#include "ns3/ipv6-header.h"
#include "ns3/packet.h"

#include <gtest/gtest.h>
#include <vector>

using namespace ns3;

namespace
{

/// An IPv6 packet from a chain of extension headers (type, total length in bytes) and an
/// upper-layer protocol with `upper` bytes of payload.
std::vector<uint8_t>
Packet(const std::vector<std::pair<uint8_t, uint32_t>>& chain, uint8_t proto, uint32_t upper)
{
    std::vector<uint8_t> p(kIpv6HeaderLength);
    WriteIpv6Header(p.data(),
                    Ipv6Address("2001:db8::1"),
                    Ipv6Address("2001:db8::2"),
                    chain.empty() ? proto : chain.front().first,
                    0,
                    64);
    for (size_t i = 0; i < chain.size(); ++i)
    {
        const auto [type, size] = chain[i];
        std::vector<uint8_t> h(size, 0);
        h[0] = i + 1 < chain.size() ? chain[i + 1].first : proto;
        if (type == kIpProtoAh)
        {
            h[1] = uint8_t(size / 4 - 2);
        }
        else if (type != kIpProtoFragment)
        {
            h[1] = uint8_t(size / 8 - 1);
        }
        p.insert(p.end(), h.begin(), h.end());
    }
    p.resize(p.size() + upper, 0xab);
    const uint32_t payload = uint32_t(p.size()) - kIpv6HeaderLength;
    p[4] = uint8_t(payload >> 8);
    p[5] = uint8_t(payload);
    return p;
}

Ipv6Chain
Parse(const std::vector<uint8_t>& p)
{
    Ipv6Chain c;
    std::string why;
    EXPECT_TRUE(ParseIpv6Chain(p.data(), uint32_t(p.size()), &c, &why)) << why;
    return c;
}

std::string
Refusal(const std::vector<uint8_t>& p, uint32_t length = 0)
{
    Ipv6Chain c;
    std::string why;
    EXPECT_FALSE(ParseIpv6Chain(p.data(), length ? length : uint32_t(p.size()), &c, &why));
    return why;
}

TEST(Ipv6ChainTest, NoExtensionHeaders)
{
    const Ipv6Chain c = Parse(Packet({}, 17, 20));
    EXPECT_EQ(c.upperProtocol, 17);
    EXPECT_EQ(c.upperOffset, 40u);
    EXPECT_EQ(c.espOffset, 40u);
    EXPECT_EQ(c.espNextHeaderField, 6u);
    EXPECT_FALSE(c.fragment);
    EXPECT_EQ(c.payloadLength, 20u);
}

// RFC 4303 section 3.1.1 and Linux's ip6_find_1stfragopt: ESP after Hop-by-Hop and Routing,
// and after Destination Options only when no Routing header came before them.
TEST(Ipv6ChainTest, EspGoesAfterHopByHopRoutingAndLeadingDestinationOptions)
{
    struct Case
    {
        std::vector<std::pair<uint8_t, uint32_t>> chain;
        uint32_t espOffset;
        uint32_t field;
        uint32_t upperOffset;
    };

    const std::vector<Case> cases = {
        {{{kIpProtoHopByHop, 8}}, 48, 40, 48},
        {{{kIpProtoHopByHop, 16}, {kIpProtoRouting, 24}}, 80, 56, 80},
        {{{kIpProtoDestOpts, 8}}, 48, 40, 48},
        // Destination Options for the final destination, after Routing: inside ESP.
        {{{kIpProtoRouting, 24}, {kIpProtoDestOpts, 8}}, 64, 40, 72},
        {{{kIpProtoHopByHop, 8},
          {kIpProtoDestOpts, 8},
          {kIpProtoRouting, 24},
          {kIpProtoDestOpts, 16}},
         80,
         56,
         96},
        // A Fragment header (never on output, where fragmenting comes after ESP) ends it.
        {{{kIpProtoHopByHop, 8}, {kIpProtoFragment, 8}}, 48, 40, 56},
        // AH is not walked past either: ESP would go before it.
        {{{kIpProtoAh, 24}}, 40, 6, 64},
    };
    for (const Case& k : cases)
    {
        SCOPED_TRACE(k.espOffset);
        const Ipv6Chain c = Parse(Packet(k.chain, 6, 20));
        EXPECT_EQ(c.espOffset, k.espOffset);
        EXPECT_EQ(c.espNextHeaderField, k.field);
        EXPECT_EQ(c.upperProtocol, 6);
        EXPECT_EQ(c.upperOffset, k.upperOffset);
    }
}

TEST(Ipv6ChainTest, FragmentsNameTheirOffsetAndFlag)
{
    std::vector<uint8_t> first = Packet({{kIpProtoFragment, 8}}, 17, 64);
    first[42] = 0x00;
    first[43] = 0x01; // offset 0, M
    first[44] = 0x12;
    first[47] = 0x34;
    Ipv6Chain c = Parse(first);
    EXPECT_TRUE(c.fragment);
    EXPECT_TRUE(c.moreFragments);
    EXPECT_EQ(c.fragmentOffset, 0);
    EXPECT_EQ(c.identification, 0x12000034u);
    EXPECT_EQ(c.upperProtocol, 17);
    EXPECT_EQ(c.upperOffset, 48u);

    std::vector<uint8_t> later = Packet({{kIpProtoFragment, 8}, {kIpProtoDestOpts, 8}}, 17, 64);
    later[42] = 0x00;
    later[43] = 0xb8; // offset 23 (x 8 bytes), last
    c = Parse(later);
    EXPECT_TRUE(c.fragment);
    EXPECT_FALSE(c.moreFragments);
    EXPECT_EQ(c.fragmentOffset, 23);
    // The bytes after a later fragment's header are the middle of the datagram, not headers.
    EXPECT_EQ(c.upperProtocol, kIpProtoDestOpts);
    EXPECT_EQ(c.upperOffset, 48u);
}

TEST(Ipv6ChainTest, TrailingLinkPaddingIsNotPayload)
{
    std::vector<uint8_t> p = Packet({{kIpProtoHopByHop, 8}}, 17, 8);
    p.resize(p.size() + 6, 0); // Ethernet's minimum frame pads short packets
    const Ipv6Chain c = Parse(p);
    EXPECT_EQ(c.payloadLength, 16u);
    EXPECT_EQ(c.upperOffset, 48u);
}

TEST(Ipv6ChainTest, MalformedChainsAreRefusedWithTheReason)
{
    const std::vector<uint8_t> good = Packet({{kIpProtoRouting, 24}}, 17, 8);
    EXPECT_NE(Refusal(good, 39).find("shorter than the IPv6 header"), std::string::npos);

    std::vector<uint8_t> v4 = good;
    v4[0] = 0x45;
    EXPECT_NE(Refusal(v4).find("version 4"), std::string::npos);

    std::vector<uint8_t> jumbo = good;
    jumbo[4] = jumbo[5] = 0;
    EXPECT_NE(Refusal(jumbo).find("jumbogram"), std::string::npos);

    std::vector<uint8_t> longer = good;
    longer[5] += 1;
    EXPECT_NE(Refusal(longer).find("beyond"), std::string::npos);

    // A Routing header claiming 32 bytes where 24 + 8 of payload follow... then cut further.
    std::vector<uint8_t> cut = good;
    cut[41] = 4; // (4 + 1) * 8 = 40 bytes, more than the 32 after the fixed header
    EXPECT_NE(Refusal(cut).find("does not fit"), std::string::npos);

    // An extension header named by the last header but with no bytes for it.
    std::vector<uint8_t> none = Packet({{kIpProtoDestOpts, 8}}, kIpProtoRouting, 0);
    EXPECT_NE(Refusal(none).find("cut off"), std::string::npos);

    // RFC 8200 section 4.1: Hop-by-Hop only right after the fixed header.
    const std::vector<uint8_t> late = Packet({{kIpProtoDestOpts, 8}, {kIpProtoHopByHop, 8}}, 17, 8);
    EXPECT_NE(Refusal(late).find("Hop-by-Hop"), std::string::npos);
}

// RFC 8200 section 8.1, checked against a sum done by hand for a tiny datagram.
TEST(Ipv6ChecksumTest, PseudoHeaderSumAndUdpZero)
{
    const Ipv6Address src("::1");
    const Ipv6Address dst("::2");
    // UDP 1 -> 2, length 8, no payload: pseudo-header 1 + 2 + 8 + 17, header 1 + 2 + 8.
    const uint8_t udp[8] = {0, 1, 0, 2, 0, 8, 0, 0};
    EXPECT_EQ(L4ChecksumV6(src, dst, 17, udp, 8), uint16_t(~(1 + 2 + 8 + 17 + 1 + 2 + 8)));
    // A segment whose sum is 0xffff: UDP sends 0xffff, TCP 0.
    const uint8_t ones[2] = {uint8_t(0xff - 0), uint8_t(0xff - (1 + 2 + 2 + 6))};
    EXPECT_EQ(L4ChecksumV6(src, dst, 6, ones, 2), 0);
    const uint8_t onesUdp[2] = {0xff, uint8_t(0xff - (1 + 2 + 2 + 17))};
    EXPECT_EQ(L4ChecksumV6(src, dst, 17, onesUdp, 2), 0xffff);
}

TEST(Ipv6HeaderTest, WritesAndReadsAddresses)
{
    uint8_t h[40];
    WriteIpv6Header(h, Ipv6Address("2001:db8::a"), Ipv6Address("fe80::b"), 50, 1234, 7);
    EXPECT_EQ(h[0], 0x60);
    EXPECT_EQ(h[4] << 8 | h[5], 1234);
    EXPECT_EQ(h[6], 50);
    EXPECT_EQ(h[7], 7);
    EXPECT_EQ(Ipv6SourceOf(h), Ipv6Address("2001:db8::a"));
    EXPECT_EQ(Ipv6DestinationOf(h), Ipv6Address("fe80::b"));
}

/// The flow XFRM decides on for an IPv6 packet made by Packet().
XfrmFlow
FlowOf(const std::vector<uint8_t>& p)
{
    Ipv6Header h;
    h.SetSource(Ipv6Address("2001:db8::1"));
    h.SetDestination(Ipv6Address("2001:db8::2"));
    h.SetNextHeader(p[6]);
    return FlowOfIpv6(
        h,
        Create<ns3::Packet>(p.data() + kIpv6HeaderLength, uint32_t(p.size()) - kIpv6HeaderLength));
}

// Linux's _decode_session6: TCP and UDP ports, ICMPv6's type and code in their place (past the
// extension headers), and in a fragment the protocol alone.
TEST(FlowOfIpv6Test, IcmpV6TypeAndCodeStandInThePorts)
{
    std::vector<uint8_t> echo = Packet({}, kIpProtoIcmpv6, 8);
    echo[40] = 128; // echo request
    echo[41] = 0;
    XfrmFlow f = FlowOf(echo);
    EXPECT_EQ(f.proto, kIpProtoIcmpv6);
    EXPECT_EQ(f.sport, 128);
    EXPECT_EQ(f.dport, 0);

    std::vector<uint8_t> unreachable = Packet({{kIpProtoDestOpts, 8}}, kIpProtoIcmpv6, 8);
    unreachable[48] = 1; // destination unreachable
    unreachable[49] = 4; // port unreachable
    f = FlowOf(unreachable);
    EXPECT_EQ(f.proto, kIpProtoIcmpv6);
    EXPECT_EQ(f.sport, 1);
    EXPECT_EQ(f.dport, 4);

    std::vector<uint8_t> fragment = Packet({{kIpProtoFragment, 8}}, kIpProtoIcmpv6, 8);
    fragment[48] = 128;
    f = FlowOf(fragment);
    EXPECT_EQ(f.proto, kIpProtoIcmpv6);
    EXPECT_EQ(f.sport, 0) << "in a fragment only the protocol counts";
    EXPECT_EQ(f.dport, 0);

    std::vector<uint8_t> udp = Packet({}, 17, 8); // UDP
    udp[40] = 0x12;
    udp[41] = 0x34;
    udp[42] = 0x01;
    udp[43] = 0xf4;
    f = FlowOf(udp);
    EXPECT_EQ(f.sport, 0x1234);
    EXPECT_EQ(f.dport, 500);
}

} // namespace
