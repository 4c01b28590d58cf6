// Malformed ESP at the receiver, in every mode: truncated ESP, a pad length that leaves no
// payload under a valid ICV, a corrupted ICV and unknown SPIs, all made by Scapy (its ESP for the
// crypto and the framing, the trailer chosen here), sent from the peer's device between valid
// traffic. Each packet must be dropped, counted exactly once (by the stack's MIB or the device's
// drop reason), never delivered, and the SA must carry valid traffic afterwards.
// Linux is the judge of what is malformed: esp_input refuses ESP without room for IV and ICV,
// esp_remove_trailer only padlen + 2 + alen >= elen (it never reads the pad bytes, so wrong pad
// bytes are not malformed here; PAD-CONTENT reports a sender that writes them). Per SA, Linux
// counts only integrity_failed (and the replay counters); trailer and length errors go to the
// MIB alone, so a device need not count them per SA.

#include "conformance-case.h"
#include "embedded-python.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <iterator>
#include <pybind11/embed.h>

namespace py = pybind11;

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

// Scapy's ESP with a trailer of our choosing: the same steps as its SecurityAssociation's
// encrypt (tunnel header, split, AES-GCM with the sequence number as IV), minus the padding.
constexpr const char* kCrafterSource = R"PY(
import socket
import struct

from scapy.compat import raw
from scapy.layers.inet import IP
from scapy.layers.ipsec import ESP, SecurityAssociation, _ESPPlain, split_for_transport


def esp_with_trailer(key_and_salt, spi, seq, tunnel, src, dst, packet, padding, pad_length):
    sa = SecurityAssociation(ESP, spi=spi, crypt_algo='AES-GCM', crypt_key=key_and_salt)
    pkt = IP(packet)
    if tunnel:
        pkt = IP(raw(IP(src=src, dst=dst) / pkt))
    header, nh, payload = split_for_transport(pkt, socket.IPPROTO_ESP)
    plain = _ESPPlain(spi=spi, seq=seq, iv=struct.pack('!Q', seq), data=payload,
                      padding=padding, padlen=pad_length, nh=nh)
    esp = sa.crypt_algo.encrypt(sa, plain, sa.crypt_key, sa.crypt_icv_size)
    header.len = len(header) + len(esp)
    return raw(IP(raw(header / esp)))
)PY";

/// The Python helper, made once in the process's one interpreter (after EmbeddedPython's own
/// static, so destroyed before the interpreter is).
struct Crafter
{
    Crafter()
    {
        if (!EmbeddedPython::Import("scapy.layers.ipsec", &error))
        {
            return;
        }
        try
        {
            py::dict names;
            py::exec(kCrafterSource, names);
            espWithTrailer = names["esp_with_trailer"];
        }
        catch (const std::exception& e)
        {
            error = e.what();
        }
    }

    py::object espWithTrailer;
    std::string error;
};

Crafter&
GetCrafter()
{
    static Crafter crafter;
    return crafter;
}

py::bytes
ToPy(const Bytes& b)
{
    return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
}

/// Scapy's ESP of packet (IPv4) with these padding bytes and pad length byte.
bool
EspWithTrailer(const EspAlgorithm& a,
               uint32_t spi,
               uint32_t seq,
               bool tunnel,
               const std::string& src,
               const std::string& dst,
               const Bytes& packet,
               const Bytes& padding,
               uint8_t padLength,
               Bytes* out,
               std::string* error)
{
    Crafter& crafter = GetCrafter();
    if (!crafter.espWithTrailer)
    {
        *error = crafter.error;
        return false;
    }
    try
    {
        Bytes keyAndSalt = a.encKey;
        keyAndSalt.insert(keyAndSalt.end(), a.salt.begin(), a.salt.end());
        const std::string result = py::bytes(crafter.espWithTrailer(ToPy(keyAndSalt),
                                                                    spi,
                                                                    seq,
                                                                    tunnel,
                                                                    src,
                                                                    dst,
                                                                    ToPy(packet),
                                                                    ToPy(padding),
                                                                    padLength));
        out->assign(result.begin(), result.end());
        return true;
    }
    catch (const std::exception& e)
    {
        *error = e.what();
        return false;
    }
}

class MALFORMED_COUNTED : public SimulationTest<Case>
{
  protected:
    void SetUp() override
    {
        CONFORMANCE_SKIP_UNLESS_OFFERED(GetParam());
        std::string why;
        ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
        TopologyOptions opt;
        opt.mode = GetParam().mode;
        opt.ipMode = GetParam().ipMode;
        opt.algorithmAB = AlgorithmOf(GetParam().alg, 0x11);
        opt.algorithmBA = AlgorithmOf(GetParam().alg, 0x77);
        t = BuildTestTopology(opt);
        ASSERT_TRUE(t->outA && t->inB);
        sink = InstallUdpSink(t->hostB);
        sender = InstallUdpSender(t->hostA, t->hostAddrB);
    }

    /// Valid datagrams from A's socket; they must all arrive.
    void ScheduleValid(Time at, uint32_t count)
    {
        for (uint32_t i = 0; i < count; ++i)
        {
            const Bytes data = DatagramPayload(uint32_t(expected.size()), 40 + 29 * i);
            ScheduleDatagram(sender, at + MilliSeconds(i), data);
            expected.push_back(data);
        }
    }

    /// The plaintext IPv4/UDP packet A's host would send B's sink, built by Scapy.
    Bytes Plain(const Bytes& data)
    {
        return ScapyUdpAToB(*t, data);
    }

    /// Scapy's ESP of a datagram with data for B's sink, under this SPI and keys.
    Bytes ScapyEsp(const EspAlgorithm& keys, uint32_t spi, uint32_t seq, const Bytes& data)
    {
        ScapyEspOracle sa(keys, spi, t->Tunnel(), Dotted(t->endAddrA), Dotted(t->endAddrB), false);
        Bytes esp;
        std::string error;
        EXPECT_TRUE(sa.Encrypt(Plain(data), seq, &esp, &error)) << error;
        return esp;
    }

    /// Sends a malformed packet carrying data that must never be delivered.
    void InjectMalformed(Time at, const Bytes& ip, const Bytes& data)
    {
        ScheduleInject(at, t->devA, t->devB, ip);
        malformedData.push_back(data);
    }

    uint64_t StackDrops() const
    {
        uint64_t sum = 0;
        for (const auto& [name, value] : t->stackB->GetDropCounts())
        {
            sum += name.rfind("XfrmIn", 0) == 0 ? value : 0; // the input side's drops
        }
        return sum;
    }

    uint64_t DeviceRxDrops() const
    {
        uint64_t sum = 0;
        for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
        {
            const std::string name = EmuNicDropName(EmuNicDrop(i));
            sum += name.rfind("Rx", 0) == 0 ? t->devB->GetDropCount(EmuNicDrop(i)) : 0;
        }
        return sum;
    }

    std::unique_ptr<Topology> t;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
    std::vector<Bytes> expected;
    std::vector<Bytes> malformedData;
};

TEST_P(MALFORMED_COUNTED, DroppedCountedNeverDeliveredTrafficGoesOn)
{
    ScheduleValid(Seconds(1), 3); // sequence numbers 1..3
    Time at = Seconds(2);
    const auto next = [&at]() {
        at += MilliSeconds(1);
        return at;
    };

    // Truncated: Scapy's ESP cut short. Below 8 bytes there is no SPI to find an SA by; below
    // SPI + sequence number + IV + ICV nothing can be checked.
    const Bytes truncatedData = DatagramPayload(9001, 200);
    const Bytes whole = ScapyEsp(t->algAB, t->spiAB, 10, truncatedData);
    const std::vector<uint32_t> noSpi{0, 3, 7};
    const std::vector<uint32_t> noIcv{8, 12, 16, 24, 31};
    for (const auto* lengths : {&noSpi, &noIcv})
    {
        for (uint32_t length : *lengths)
        {
            const auto start = whole.begin() + IpHeaderLength(whole);
            const Bytes esp(start, start + length);
            InjectMalformed(next(),
                            Ipv4Bytes(t->endAddrA, t->endAddrB, kProtoEsp, esp),
                            truncatedData);
        }
    }

    // Pad lengths under a valid ICV that leave no payload: one beyond the payload, and one
    // that covers it exactly (an empty payload, which Linux refuses too). Three data bytes make
    // the payload need exactly three bytes of padding.
    std::string error;
    const Bytes probe = Plain(DatagramPayload(0, 3));
    const uint32_t payloadLength =
        uint32_t(t->Tunnel() ? probe.size() : probe.size() - IpHeaderLength(probe));

    const struct
    {
        Bytes padding;
        uint8_t padLength;
    } trailers[] = {{{1, 2, 3}, 200}, {{1, 2, 3}, uint8_t(payloadLength + 3)}};

    uint32_t seq = 15;
    for (const auto& trailer : trailers)
    {
        const Bytes data = DatagramPayload(seq, 3);
        Bytes esp;
        ASSERT_TRUE(EspWithTrailer(t->algAB,
                                   t->spiAB,
                                   seq++,
                                   t->Tunnel(),
                                   Dotted(t->endAddrA),
                                   Dotted(t->endAddrB),
                                   Plain(data),
                                   trailer.padding,
                                   trailer.padLength,
                                   &esp,
                                   &error))
            << error;
        InjectMalformed(next(), esp, data);
    }
    // The same with the right trailer is accepted: the crafting is sound, only the bytes differ.
    {
        const Bytes data = DatagramPayload(seq, 3);
        Bytes esp;
        ASSERT_TRUE(EspWithTrailer(t->algAB,
                                   t->spiAB,
                                   seq++,
                                   t->Tunnel(),
                                   Dotted(t->endAddrA),
                                   Dotted(t->endAddrB),
                                   Plain(data),
                                   {1, 2, 3},
                                   3,
                                   &esp,
                                   &error))
            << error;
        ScheduleInject(next(), t->devA, t->devB, esp);
        expected.push_back(data);
    }

    // Corrupted ICV: the last byte flipped.
    {
        const Bytes data = DatagramPayload(9002, 120);
        Bytes esp = ScapyEsp(t->algAB, t->spiAB, seq++, data);
        esp.back() ^= 0x80;
        InjectMalformed(next(), esp, data);
    }

    // Unknown SPIs: one nobody uses, and B's own outbound SPI (its destination is A, not B).
    {
        const Bytes data = DatagramPayload(9003, 90);
        InjectMalformed(next(), ScapyEsp(t->algAB, 0xdeadbeef, 1, data), data);
        InjectMalformed(next(), ScapyEsp(t->algBA, t->spiBA, 1, data), data);
    }

    ScheduleValid(Seconds(3), 3); // 4..6: inside the window, untouched by what failed
    RunUntil(Seconds(4));

    EXPECT_EQ(sink->received.size(), expected.size())
        << "a malformed packet was delivered or valid traffic was lost";
    for (size_t i = 0; i < expected.size() && i < sink->received.size(); ++i)
    {
        EXPECT_TRUE(sink->received[i] == expected[i]) << "datagram " << i << " differs";
    }
    for (const Bytes& received : sink->received)
    {
        EXPECT_EQ(std::count(malformedData.begin(), malformedData.end(), received), 0)
            << "a malformed packet was delivered";
    }
    // Each malformed packet counted exactly once, by the stack's MIB or the device's reason.
    EXPECT_EQ(StackDrops() + DeviceRxDrops(), malformedData.size());
    RecordEvidence("stack_drops", StackDrops());
    RecordEvidence("device_rx_drops", DeviceRxDrops());
    // Without an SPI or with an unknown one, only the stack can count it.
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InHdrError), noSpi.size());
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InNoStates), 2u);
    // Of the SA's own counters Linux keeps these (struct xfrm_stats): one integrity failure, no
    // replay; trailer and length errors have none.
    if (GetParam().mode == XfrmOffloadType::Packet)
    {
        t->stackB->UpdateStats(t->inB);
    }
    const XfrmStateStats& stats = t->inB->GetStats();
    EXPECT_EQ(stats.integrityFailures, 1u);
    EXPECT_EQ(stats.replayDrops, 0u);
}

INSTANTIATE_TEST_SUITE_P(,
                         MALFORMED_COUNTED,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
