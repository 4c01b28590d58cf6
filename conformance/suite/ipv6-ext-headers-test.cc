// Conformance: IPv6 extension headers and ESP (IPV6-EXT-HEADERS).
//
// RFC 4303 section 3.1.1: in transport mode ESP follows the Hop-by-Hop, Routing and Fragment
// headers, and Destination Options may go either side. Linux places it with
// ip6_find_1stfragopt (xfrm6_transport_output): Hop-by-Hop and Routing stay before ESP, and
// Destination Options too unless a Routing header came first. Scapy's ESP follows the same rule
// (split_for_transport), so Scapy builds the ESP packets here.
//
// What a device meets is the receive side. Linux's core never hands a device an IPv6 packet
// with extension headers to protect (xfrm_dev_offload_ok refuses one whose first next header
// is an extension header: crypto offload falls back to software ESP, packet offload drops it;
// the stack here does the same, checked in ipv6-datapath-test). But a peer's ESP may come
// behind extension headers, and the device must find it by walking them, as ip6_input does:
// packet offload must decrypt it, give the header that named ESP back ESP's next header, and
// hand up a packet the host delivers; crypto offload may decrypt it in place or pass it up for
// the host's software ESP, but what it hands up must be delivered.

#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"

#include <gtest/gtest.h>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint16_t kRawSourcePort = 5555;

/// The extension header chains before UDP (Scapy's names), each sent as Scapy's ESP puts it:
/// "rt0" is a Routing header with no segments left, which a host steps over (RFC 8200 section
/// 4.4), and a Destination Options header after it goes inside ESP. The Routing header comes
/// first: ns-3 3.37's Ipv6ExtensionRouting::Process reads the routing fields from the start of
/// the packet rather than at its offset, so the host here misreads one behind another header.
/// No Fragment header: packet offload drops fragments (FRAG-*), and crypto offload leaves
/// them to the host.
const std::vector<std::vector<std::string>>&
Chains()
{
    static const std::vector<std::vector<std::string>> chains{
        {"hbh"},
        {"dst"},
        {"hbh", "dst"},
        {"hbh16"},
        {"hbh", "dst16"},
        {"rt0"},
        {"rt0", "dst"},
    };
    return chains;
}

using IPV6_EXT_HEADERS = SimulationTest<Case>;

TEST_P(IPV6_EXT_HEADERS, EspBehindExtensionHeadersIsOpenedAndDelivered)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB) << "the IPv6 SAs of the test pair were refused";
    KeepPcap(*t);
    KeepKeys(*t);
    auto sink = InstallUdpSink6(t->hostB);
    const std::string src = Dotted(t->HostAddr(true));
    const std::string dst = Dotted(t->HostAddr(false));
    ScapyEspOracle oracle(t->algAB, t->spiAB, false, "", "", c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;

    std::vector<Bytes> data;
    uint32_t behind = 0; // ESP packets whose ESP is not right after the fixed header
    for (const auto& chain : Chains())
    {
        // Two sizes per chain: a short one and one that needs padding.
        for (uint32_t size : {5u, 333u})
        {
            data.push_back(DatagramPayload(uint32_t(data.size()), size));
            Bytes plain;
            ASSERT_TRUE(ScapyPacketCrafter::Udp6Datagram(src,
                                                         dst,
                                                         chain,
                                                         kRawSourcePort,
                                                         kUdpPort,
                                                         data.back(),
                                                         &plain,
                                                         &error))
                << error;
            Bytes esp;
            ASSERT_TRUE(oracle.Encrypt(plain, data.size(), &esp, &error)) << error;
            behind += esp[6] == kProtoEsp ? 0 : 1;
            ScheduleInject(MilliSeconds(10 + data.size()), t->devA, t->devB, esp);
        }
    }
    ASSERT_GT(behind, 0u) << "Scapy put ESP right after the fixed header every time";
    RunUntil(MilliSeconds(10 + data.size() + 50));

    // B found the ESP behind the extension headers, and the host delivered every datagram.
    EXPECT_TRUE(SameDatagrams(sink->received, data));
    const uint64_t decrypted = c.mode == XfrmOffloadType::Packet
                                   ? t->devB->GetEventCount(EmuNicEvent::PacketOffloadRxPackets)
                                   : t->devB->GetEventCount(EmuNicEvent::CryptoRxPackets);
    RecordEvidence("esp_behind_extension_headers", behind);
    RecordEvidence("decrypted_by_device", decrypted);
    if (c.mode == XfrmOffloadType::Packet)
    {
        // No software path for a packet-offload SA: the device must have opened every one.
        EXPECT_EQ(decrypted, data.size()) << "ESP packets the device decrypted";
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         IPV6_EXT_HEADERS,
                         testing::ValuesIn(Ipv6Cases({XfrmOffloadType::Crypto,
                                                      XfrmOffloadType::Packet},
                                                     {XfrmMode::Transport})),
                         CaseName);

} // namespace
