// The wire arithmetic against figures computed from Linux's esp4_get_mtu and published rates.
#include "scale-wire.h"

#include <gtest/gtest.h>

namespace ns3
{
namespace
{

TEST(ScaleWireTest, MssIsWhatLinuxTcpUsesOverEachEncapsulation)
{
    EXPECT_EQ(ScaleWire(ScaleMode::Baseline, ScaleEncap::Transport, 1500).GetMss(), 1448u);
    // xfrm_state_mtu for rfc4106(gcm(aes)) over 1500: transport 1466, tunnel 1446, and 1438
    // with UDP encapsulation; less 52 bytes of IPv4 and TCP with timestamps.
    EXPECT_EQ(ScaleWire(ScaleMode::Software, ScaleEncap::Transport, 1500).GetMss(), 1414u);
    EXPECT_EQ(ScaleWire(ScaleMode::Packet, ScaleEncap::Tunnel, 1500).GetMss(), 1394u);
    EXPECT_EQ(ScaleWire(ScaleMode::Crypto, ScaleEncap::UdpTunnel, 1500).GetMss(), 1386u);
    EXPECT_EQ(ScaleWire(ScaleMode::Baseline, ScaleEncap::Transport, 9000).GetMss(), 8948u);
    EXPECT_EQ(ScaleWire(ScaleMode::Packet, ScaleEncap::Transport, 9000).GetMss(), 8914u);
}

TEST(ScaleWireTest, AFullPacketFillsTheMtuExactly)
{
    for (ScaleEncap e : {ScaleEncap::Transport, ScaleEncap::Tunnel, ScaleEncap::UdpTunnel})
    {
        const ScaleWire w(ScaleMode::Packet, e, 1500);
        EXPECT_LE(w.GetIpBytes(w.GetMss()), 1500u) << ScaleEncapName(e);
        // One more byte of payload would pass the MTU or need no more room: the MSS is the
        // largest that fits, up to ESP's 4-byte alignment.
        EXPECT_GT(w.GetIpBytes(w.GetMss() + 4), 1500u) << ScaleEncapName(e);
        EXPECT_EQ(w.GetWireBytes(w.GetMss()), w.GetIpBytes(w.GetMss()) + 38u);
    }
}

TEST(ScaleWireTest, EspPaddingAndTrailerAreExact)
{
    const ScaleWire w(ScaleMode::Software, ScaleEncap::Transport, 1500);
    // TCP segment of 32 + 1414 = 1446 bytes: 1446 + 2 is a multiple of 4, no padding; frame =
    // 8 (SPI, sequence) + 8 (IV) + 1446 + 2 + 16 (ICV), after the 20-byte IPv4 header.
    EXPECT_EQ(w.GetIpBytes(1414), 20u + 8 + 8 + 1446 + 2 + 16);
    EXPECT_EQ(w.GetCipherBytes(1414), 1448u);
    // 32 + 1 = 33 bytes: 33 + 2 = 35, padded to 36.
    EXPECT_EQ(w.GetIpBytes(1), 20u + 8 + 8 + 33 + 1 + 2 + 16);
    // A bare ACK: 52-byte IPv4 packet in baseline, 88 bytes with ESP.
    EXPECT_EQ(ScaleWire(ScaleMode::Baseline, ScaleEncap::Transport, 1500).GetWireBytes(0),
              52u + 38);
    EXPECT_EQ(w.GetWireBytes(0), 88u + 38);
}

TEST(ScaleWireTest, ShortFramesArePaddedToEthernetsMinimum)
{
    const ScaleWire w(ScaleMode::Baseline, ScaleEncap::Transport, 1500);
    // 52-byte IPv4 + 18 = 70 >= 64: no padding; none of TCP's frames is shorter here.
    EXPECT_EQ(w.GetWireBytes(0), 90u);
}

TEST(ScaleWireTest, GoodputCeilingsMatchTheHeaderArithmetic)
{
    const auto ceiling = [](ScaleMode m, ScaleEncap e, uint32_t mtu, double gbps) {
        return ScaleWire(m, e, mtu).GetGoodputCeiling(gbps * 1e9) / 1e9;
    };
    EXPECT_NEAR(ceiling(ScaleMode::Baseline, ScaleEncap::Transport, 1500, 100), 94.15, 0.005);
    EXPECT_NEAR(ceiling(ScaleMode::Packet, ScaleEncap::Transport, 1500, 100), 91.94, 0.005);
    EXPECT_NEAR(ceiling(ScaleMode::Packet, ScaleEncap::Tunnel, 1500, 100), 90.64, 0.005);
    EXPECT_NEAR(ceiling(ScaleMode::Packet, ScaleEncap::UdpTunnel, 1500, 100), 90.12, 0.005);
    EXPECT_NEAR(ceiling(ScaleMode::Baseline, ScaleEncap::Transport, 9000, 100), 99.00, 0.005);
    EXPECT_NEAR(ceiling(ScaleMode::Packet, ScaleEncap::Transport, 9000, 100), 98.63, 0.005);
}

TEST(ScaleWireTest, NamesParseBack)
{
    for (ScaleMode m :
         {ScaleMode::Baseline, ScaleMode::Software, ScaleMode::Crypto, ScaleMode::Packet})
    {
        ScaleMode parsed;
        ASSERT_TRUE(ParseScaleMode(ScaleModeName(m), &parsed));
        EXPECT_EQ(parsed, m);
    }
    ScaleMode m;
    EXPECT_FALSE(ParseScaleMode("full", &m));
    ScaleEncap e;
    EXPECT_TRUE(ParseScaleEncap("udp-tunnel", &e));
    EXPECT_EQ(e, ScaleEncap::UdpTunnel);
    EXPECT_FALSE(ParseScaleEncap("beet", &e));
}

} // namespace
} // namespace ns3
