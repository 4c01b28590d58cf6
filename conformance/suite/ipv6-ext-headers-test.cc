// Conformance: IPv6 extension headers and ESP (IPV6-EXT-HEADERS).
//
// RFC 4303 section 3.1.1: in transport mode ESP follows the Hop-by-Hop, Routing and Fragment
// headers, and Destination Options may go either side. Linux decides with ip6_find_1stfragopt
// (xfrm6_transport_output through xfrm6_hdr_offset in net/xfrm/xfrm_output.c): Hop-by-Hop and
// Routing stay before ESP, and Destination Options too unless a Routing header came first.
// Scapy's ESP follows the same rule (split_for_transport), so it is the oracle of where ESP
// goes. On receive, ESP behind extension headers is found by walking them, as ip6_input does.
//
// Packet offload only: the host hands the device plaintext and the device inserts ESP. The
// datagrams are built by Scapy and sent from a raw IPv6 socket (IPV6_HDRINCL); B's device must
// find and decrypt the ESP behind the extension headers, and B's IPv6 delivers the datagram.
// A device may refuse such packets in offload_ok (the host drops and counts them, as Linux's
// packet offload has no software path); what it accepts must come out right.

#include "conformance-case.h"
#include "ipv6-packet-util.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"

#include <gtest/gtest.h>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint16_t kRawSourcePort = 5555;

/// The extension header chains sent, each before UDP (Scapy's names; no Routing header: type 0
/// is deprecated by RFC 5095 and B would forward it; no Fragment header: packet offload drops
/// fragments before the device).
const std::vector<std::vector<std::string>>&
Chains()
{
    static const std::vector<std::vector<std::string>> chains{
        {"hbh"},
        {"dst"},
        {"hbh", "dst"},
        {"hbh16"},
        {"hbh", "dst16"},
    };
    return chains;
}

std::string
Joined(const std::vector<std::string>& names)
{
    std::string s;
    for (const auto& n : names)
    {
        s += (s.empty() ? "" : "+") + n;
    }
    return s;
}

using IPV6_EXT_HEADERS = SimulationTest<Case>;

TEST_P(IPV6_EXT_HEADERS, EspAfterTheHeadersLinuxKeepsBeforeIt)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB) << "the IPv6 SAs of the test pair were refused";
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    KeepKeys(*t);
    auto sink = InstallUdpSink6(t->hostB);
    const std::string src = Dotted(t->HostAddr(true));
    const std::string dst = Dotted(t->HostAddr(false));

    std::vector<Bytes> plain;
    std::vector<Bytes> data;
    std::string error;
    for (size_t i = 0; i < Chains().size(); ++i)
    {
        // Two sizes per chain: a short one and one that needs padding.
        for (uint32_t size : {5u, 333u})
        {
            data.push_back(DatagramPayload(uint32_t(data.size()), size));
            Bytes packet;
            ASSERT_TRUE(ScapyPacketCrafter::Udp6Datagram(src,
                                                         dst,
                                                         Chains()[i],
                                                         kRawSourcePort,
                                                         kUdpPort,
                                                         data.back(),
                                                         &packet,
                                                         &error))
                << error;
            plain.push_back(packet);
        }
    }
    Ptr<XfrmStack> stackA = t->stackA;
    for (size_t i = 0; i < plain.size(); ++i)
    {
        const Bytes packet = plain[i];
        Simulator::Schedule(MilliSeconds(10 + i), [stackA, packet]() {
            stackA->OutputRaw(Create<Packet>(packet.data(), packet.size()));
        });
    }
    RunUntil(MilliSeconds(10 + plain.size() + 50));

    ScapyEspOracle oracle(t->algAB, t->spiAB, false, "", "", c.esn);
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const uint64_t refused = t->devA->GetEventCount(EmuNicEvent::OffloadOkRejected);
    RecordEvidence("refused_by_offload_ok", refused);
    std::vector<Bytes> expected; // the datagrams that went out, in order
    size_t next = 0;
    for (const WirePacket* w : wire->From(true))
    {
        if (w->ip.size() >= 40 && w->ip[6] == 58)
        {
            continue; // ICMPv6 link control (router solicitations), in the clear as in Linux
        }
        Ipv6Chain chain;
        ASSERT_TRUE(ParseIpv6Chain(w->ip.data(), w->ip.size(), &chain, &error)) << error;
        ASSERT_EQ(chain.upperProtocol, kProtoEsp) << "plaintext on the wire";
        // Match the frame to the next datagram it can be (refused ones are skipped).
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(w->ip, 0, &inner, &error)) << "Scapy: " << error;
        while (next < plain.size() && inner != plain[next])
        {
            ++next;
        }
        ASSERT_LT(next, plain.size()) << "an ESP packet that decrypts to no datagram sent";
        uint32_t offset = 0;
        uint8_t nextHeader = 0;
        ASSERT_TRUE(ScapyPacketCrafter::Ipv6EspSplit(plain[next], &offset, &nextHeader, &error))
            << error;
        const std::string chainName = Joined(Chains()[next / 2]);
        EXPECT_EQ(chain.upperOffset, offset)
            << chainName << ": ESP at byte " << chain.upperOffset << ", where Linux and Scapy put "
            << "it at " << offset;
        // The headers before ESP travel unchanged but for the Next Header naming ESP.
        if (chain.upperOffset == offset)
        {
            Bytes before(w->ip.begin() + 8, w->ip.begin() + offset);
            Bytes original(plain[next].begin() + 8, plain[next].begin() + offset);
            // The Next Header field of the last extension header before ESP (in the fixed
            // header when there is none: outside the bytes compared).
            uint32_t field = 6;
            for (uint32_t at = 40; at + 2 <= offset; at += (uint32_t(plain[next][at + 1]) + 1) * 8)
            {
                field = at;
            }
            if (field >= 8)
            {
                before[field - 8] = original[field - 8];
            }
            EXPECT_EQ(before, original) << chainName << ": the headers before ESP changed";
        }
        expected.push_back(data[next]);
        ++next;
    }
    EXPECT_EQ(expected.size() + refused, plain.size())
        << "datagrams neither sent as ESP nor refused by offload_ok";
    // B found the ESP behind the extension headers, decrypted it, and delivered the datagram.
    EXPECT_TRUE(SameDatagrams(sink->received, expected));
    RecordEvidence("sent_as_esp", expected.size());
}

INSTANTIATE_TEST_SUITE_P(,
                         IPV6_EXT_HEADERS,
                         testing::ValuesIn(Ipv6Cases({XfrmOffloadType::Packet},
                                                     {XfrmMode::Transport})),
                         CaseName);

} // namespace
