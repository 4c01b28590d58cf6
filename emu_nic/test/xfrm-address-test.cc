// XfrmAddress: one address type for both families, with the prefix arithmetic selectors need.
#include "xfrm-address.h"
#include "xfrm-selector.h"

#include <gtest/gtest.h>
#include <set>
#include <sys/socket.h>
#include <unordered_set>

using namespace ns3;

namespace
{

XfrmAddress
A(const char* text)
{
    XfrmAddress a;
    EXPECT_TRUE(XfrmAddress::Parse(text, &a)) << text;
    return a;
}

TEST(XfrmAddressTest, FamiliesAndConversions)
{
    const XfrmAddress v4 = Ipv4Address("10.1.2.3");
    const XfrmAddress v6 = Ipv6Address("2001:db8::7");
    EXPECT_TRUE(v4.IsIpv4());
    EXPECT_TRUE(v6.IsIpv6());
    EXPECT_EQ(uint8_t(v4.GetFamily()), AF_INET);
    EXPECT_EQ(uint8_t(v6.GetFamily()), AF_INET6);
    EXPECT_EQ(v4.GetIpv4(), Ipv4Address("10.1.2.3"));
    EXPECT_EQ(v6.GetIpv6(), Ipv6Address("2001:db8::7"));
    EXPECT_EQ(v4.GetLength(), 4u);
    EXPECT_EQ(v6.GetMaxPrefixLength(), 128);
    EXPECT_EQ(v4.GetBytes()[0], 10);
    EXPECT_EQ(v6.GetBytes()[15], 7);
    EXPECT_EQ(v4.ToString(), "10.1.2.3");
    EXPECT_EQ(v6.ToString(), "2001:db8::7");
    // An ns-3 address on either side of a comparison.
    EXPECT_TRUE(v4 == Ipv4Address("10.1.2.3"));
    EXPECT_TRUE(Ipv6Address("2001:db8::7") == v6);
    EXPECT_TRUE(XfrmAddress().IsAny());
    EXPECT_TRUE(XfrmAddress::Any(XfrmAddress::Family::Ipv6).IsAny());
    EXPECT_FALSE(v6.IsAny());
}

// 0.0.0.0 and :: are different addresses, and so are 10.0.0.1 and ::a00:1 (the same bytes at
// the end, another family): nothing ever matches across families.
TEST(XfrmAddressTest, FamiliesNeverMix)
{
    EXPECT_NE(XfrmAddress::Any(XfrmAddress::Family::Ipv4),
              XfrmAddress::Any(XfrmAddress::Family::Ipv6));
    EXPECT_NE(A("10.0.0.1"), A("::a00:1"));
    EXPECT_FALSE(A("10.0.0.1").IsInPrefix(A("::"), 0));
    EXPECT_FALSE(A("::1").IsInPrefix(A("0.0.0.0"), 0));
    EXPECT_LT(A("255.255.255.255"), A("::"));
}

// Linux's sel.family AF_UNSPEC (a tunnel-mode SA added with XFRM_STATE_AF_UNSPEC, as charon adds
// every tunnel SA): flows of either family match, ports and protocol still count; a selector
// /0 of one family matches only its own.
TEST(XfrmSelectorTest, NoFamilyMatchesEitherFamily)
{
    XfrmSelector any;
    any.anyFamily = true;
    const XfrmFlow v4{A("10.0.0.1"), A("10.0.0.2"), 17, 1, 2};
    const XfrmFlow v6{A("fd00::1"), A("fd00::2"), 17, 1, 2};
    EXPECT_TRUE(any.Matches(v4));
    EXPECT_TRUE(any.Matches(v6));
    std::string error;
    EXPECT_TRUE(any.Validate("sel", &error)) << error;
    any.proto = 6;
    EXPECT_FALSE(any.Matches(v4));
    XfrmSelector zero; // 0.0.0.0/0 -> 0.0.0.0/0
    EXPECT_TRUE(zero.Matches(v4));
    EXPECT_FALSE(zero.Matches(v6));
    // No family, yet addresses: refused with the field named.
    XfrmSelector odd;
    odd.anyFamily = true;
    odd.dst = A("10.0.0.2");
    odd.dstPrefix = 32;
    EXPECT_FALSE(odd.Validate("sel", &error));
    EXPECT_EQ(error,
              "sel: a selector of no family must have any addresses, not 0.0.0.0/0 -> "
              "10.0.0.2/32");
}

TEST(XfrmAddressTest, PrefixesOnAndOffByteBoundaries)
{
    EXPECT_TRUE(A("10.1.2.3").IsInPrefix(A("10.1.0.0"), 16));
    EXPECT_FALSE(A("10.2.2.3").IsInPrefix(A("10.1.0.0"), 16));
    EXPECT_TRUE(A("10.1.2.3").IsInPrefix(A("0.0.0.0"), 0));
    EXPECT_TRUE(A("10.1.2.3").IsInPrefix(A("10.1.2.3"), 32));
    EXPECT_FALSE(A("10.1.2.3").IsInPrefix(A("10.1.2.2"), 32));
    EXPECT_TRUE(A("10.1.2.3").IsInPrefix(A("10.1.2.2"), 31));
    // /57: the 8th byte's top bit counts, the rest not.
    EXPECT_TRUE(A("2001:db8:0:7f::1").IsInPrefix(A("2001:db8:0:0::"), 57));
    EXPECT_FALSE(A("2001:db8:0:80::1").IsInPrefix(A("2001:db8:0:0::"), 57));
    EXPECT_TRUE(A("2001:db8::1").IsInPrefix(A("2001:db8::1"), 128));
    EXPECT_FALSE(A("2001:db8::1").IsInPrefix(A("2001:db8::"), 128));
    EXPECT_EQ(A("2001:db8:abcd:ef12::1").Masked(36), A("2001:db8:a000::"));
    EXPECT_EQ(A("10.255.255.255").Masked(12), A("10.240.0.0"));
    // Longer than the family: the whole address.
    EXPECT_EQ(A("10.1.2.3").Masked(200), A("10.1.2.3"));
}

TEST(XfrmAddressTest, ParseIsStrict)
{
    XfrmAddress a;
    for (const char* bad : {"",
                            "10.0.0",
                            "10.0.0.256",
                            "10.0.0.1 ",
                            "1.2.3.4.5",
                            "::g",
                            "1:2:3:4:5:6:7:8:9",
                            "2001:db8:::1",
                            "host"})
    {
        EXPECT_FALSE(XfrmAddress::Parse(bad, &a)) << bad;
    }
    EXPECT_TRUE(XfrmAddress::Parse("::ffff:10.0.0.1", &a));
    EXPECT_TRUE(a.IsIpv6()) << "a v4-mapped address is IPv6 (Linux keeps it AF_INET6)";
}

TEST(XfrmAddressTest, HashAndOrderServeTables)
{
    std::unordered_set<XfrmAddress, XfrmAddressHash> hashed;
    std::set<XfrmAddress> ordered;
    for (const char* t : {"10.0.0.1", "10.0.0.2", "::1", "::2", "0.0.0.0", "::", "::a00:1"})
    {
        hashed.insert(A(t));
        ordered.insert(A(t));
    }
    EXPECT_EQ(hashed.size(), 7u);
    EXPECT_EQ(ordered.size(), 7u);
    EXPECT_EQ(hashed.count(A("10.0.0.2")), 1u);
    EXPECT_EQ(A("10.0.0.1").Hash(), XfrmAddress(Ipv4Address("10.0.0.1")).Hash());
    EXPECT_TRUE(ordered.begin()->IsIpv4());
    EXPECT_TRUE(ordered.rbegin()->IsIpv6());
}

TEST(XfrmAddressDeathTest, TheOtherFamilysAccessorIsFatal)
{
    EXPECT_DEATH(XfrmAddress(Ipv6Address("::1")).GetIpv4(), "is not IPv4");
    EXPECT_DEATH(XfrmAddress(Ipv4Address("10.0.0.1")).GetIpv6(), "is not IPv6");
}

} // namespace
