// The IPv6 header chain reader (emu_nic/xfrm/ipv6-packet-util) against Scapy: for IPv6
// datagrams Scapy builds with extension headers, the reader must put ESP where Scapy's ESP puts
// it in transport mode (split_for_transport, which follows Linux's ip6_find_1stfragopt), find
// the UDP header Scapy wrote, and compute the checksum Scapy computed.

#include "ipv6-packet-util.h"
#include "scapy-packet-crafter.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace ns3;
using namespace offloadlab;

namespace
{

using Bytes = std::vector<uint8_t>;

class Ipv6ChainScapyTest : public ::testing::TestWithParam<std::vector<std::string>>
{
  protected:
    void SetUp() override
    {
        std::string why;
        if (!ScapyPacketCrafter::IsAvailable(&why))
        {
            GTEST_SKIP() << "Scapy unavailable: " << why;
        }
    }
};

TEST_P(Ipv6ChainScapyTest, EspOffsetUpperHeaderAndChecksumAgreeWithScapy)
{
    const std::vector<std::string>& names = GetParam();
    Bytes payload(37);
    for (size_t i = 0; i < payload.size(); ++i)
    {
        payload[i] = uint8_t(3 * i + 1);
    }
    Bytes packet;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::Udp6Datagram("2001:db8::1",
                                                 "2001:db8::2",
                                                 names,
                                                 4321,
                                                 5002,
                                                 payload,
                                                 &packet,
                                                 &error))
        << error;
    uint32_t split = 0;
    uint8_t protectedHeader = 0;
    ASSERT_TRUE(ScapyPacketCrafter::Ipv6EspSplit(packet, &split, &protectedHeader, &error))
        << error;

    Ipv6Chain chain;
    std::string why;
    ASSERT_TRUE(ParseIpv6Chain(packet.data(), uint32_t(packet.size()), &chain, &why)) << why;
    EXPECT_EQ(chain.espOffset, split);
    // The Next Header field that will name ESP names today what ESP will carry.
    EXPECT_EQ(packet[chain.espNextHeaderField], protectedHeader);
    EXPECT_EQ(chain.upperProtocol, 17);
    ASSERT_EQ(chain.upperOffset + 8 + payload.size(), packet.size());
    const uint8_t* udp = packet.data() + chain.upperOffset;
    EXPECT_EQ(udp[0] << 8 | udp[1], 4321);
    EXPECT_EQ(udp[2] << 8 | udp[3], 5002);
    // The checksum covers the final destination: the Routing header's last address.
    bool routed = false;
    for (const std::string& n : names)
    {
        routed = routed || n == "rt";
    }
    Bytes segment(packet.begin() + chain.upperOffset, packet.end());
    const uint16_t scapy = uint16_t(segment[6] << 8 | segment[7]);
    segment[6] = segment[7] = 0;
    EXPECT_EQ(L4ChecksumV6(Ipv6SourceOf(packet.data()),
                           Ipv6Address(routed ? "2001:db8::99" : "2001:db8::2"),
                           17,
                           segment.data(),
                           uint32_t(segment.size())),
              scapy);
}

INSTANTIATE_TEST_SUITE_P(Chains,
                         Ipv6ChainScapyTest,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"hbh"},
                                           std::vector<std::string>{"hbh16"},
                                           std::vector<std::string>{"dst"},
                                           std::vector<std::string>{"rt"},
                                           std::vector<std::string>{"frag"},
                                           std::vector<std::string>{"hbh", "rt"},
                                           std::vector<std::string>{"hbh", "dst16"},
                                           std::vector<std::string>{"rt", "dst"},
                                           std::vector<std::string>{"dst", "rt", "dst16"},
                                           std::vector<std::string>{"hbh16", "dst", "rt", "dst"},
                                           std::vector<std::string>{"hbh", "frag", "dst"},
                                           std::vector<std::string>{"dst16", "dst"}),
                         [](const ::testing::TestParamInfo<std::vector<std::string>>& info) {
                             std::string name;
                             for (const std::string& n : info.param)
                             {
                                 name += (name.empty() ? "" : "_") + n;
                             }
                             return name.empty() ? std::string("none") : name;
                         });

// A chain Scapy builds but RFC 8200 forbids (Hop-by-Hop after another header) is refused, and
// Scapy's crafter names an unknown extension header.
TEST(Ipv6ChainScapyRefusalTest, HopByHopNotFirstAndUnknownNames)
{
    std::string why;
    if (!ScapyPacketCrafter::IsAvailable(&why))
    {
        GTEST_SKIP() << "Scapy unavailable: " << why;
    }
    Bytes packet;
    std::string error;
    ASSERT_TRUE(ScapyPacketCrafter::Udp6Datagram("2001:db8::1",
                                                 "2001:db8::2",
                                                 {"dst", "hbh"},
                                                 1,
                                                 2,
                                                 Bytes(8),
                                                 &packet,
                                                 &error))
        << error;
    Ipv6Chain chain;
    EXPECT_FALSE(ParseIpv6Chain(packet.data(), uint32_t(packet.size()), &chain, &why));
    EXPECT_NE(why.find("Hop-by-Hop"), std::string::npos) << why;
    EXPECT_FALSE(ScapyPacketCrafter::Udp6Datagram("2001:db8::1",
                                                  "2001:db8::2",
                                                  {"mobility"},
                                                  1,
                                                  2,
                                                  Bytes(8),
                                                  &packet,
                                                  &error));
    EXPECT_NE(error.find("mobility"), std::string::npos) << error;
    EXPECT_FALSE(ScapyPacketCrafter::Udp6Datagram("2001:db8::1",
                                                  "not-an-address",
                                                  {},
                                                  1,
                                                  2,
                                                  Bytes(8),
                                                  &packet,
                                                  &error));
}

} // namespace
