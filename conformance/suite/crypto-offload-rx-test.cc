// Crypto offload RX: the device decrypts received ESP in place and reports CRYPTO_DONE with a
// status; the stack strips the headers and drops what failed. Besides B's own peer, the ESP
// comes from Scapy (an implementation nobody here wrote), intact or with a corrupted ICV,
// ciphertext or IV. What the device hands up is read from B's IPv4 ("Rx" trace), what the stack
// made of the status from its counters and its state, and what was delivered from the socket.

#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"
#include "tcp-transfer.h"

#include "ns3/ipv4-l3-protocol.h"

#include <gtest/gtest.h>
#include <iterator>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint32_t kIvLength = 8; // rfc4106(gcm(aes))

/// A crypto-offload receiver (B) with a UDP sink, its peer A sending to it, and Scapy's ESP for
/// the A -> B SA to make more packets with.
class CryptoRxTest : public SimulationTest<Case>
{
  protected:
    void SetUp() override
    {
        const Case& c = GetParam();
        CONFORMANCE_SKIP_UNLESS_OFFERED(c);
        std::string why;
        ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
        TopologyOptions opt;
        opt.mode = c.mode;
        opt.ipMode = c.ipMode;
        opt.esn = c.esn;
        opt.algorithmAB = AlgorithmOf(c.alg, 0x11);
        opt.algorithmBA = AlgorithmOf(c.alg, 0x77);
        t = BuildTestTopology(opt);
        ASSERT_TRUE(t->outA && t->inB);
        ASSERT_TRUE(t->inB->IsOffloaded(XfrmOffloadType::Crypto)) << "B's SA is not offloaded";
        sink = InstallUdpSink(t->hostB);
        sender = InstallUdpSender(t->hostA, t->hostAddrB);
        // What B's device hands up to IPv4 from the IPsec link.
        Ptr<Ipv4L3Protocol> ipv4 = t->endB->GetObject<Ipv4L3Protocol>();
        const uint32_t interface = ipv4->GetInterfaceForDevice(t->devB);
        std::vector<Bytes>* raw = &handedUp;
        ipv4->TraceConnectWithoutContext(
            "Rx",
            Callback<void, Ptr<const Packet>, Ptr<Ipv4>, uint32_t>(
                [raw, interface](Ptr<const Packet> p, Ptr<Ipv4>, uint32_t i) {
                    const Bytes b = PacketBytes(p);
                    if (i == interface && IpProtocol(b) == kProtoEsp)
                    {
                        raw->push_back(b);
                    }
                }));
        oracle = std::make_unique<ScapyEspOracle>(t->algAB,
                                                  t->spiAB,
                                                  t->Tunnel(),
                                                  Dotted(t->endAddrA),
                                                  Dotted(t->endAddrB),
                                                  c.esn);
        std::string error;
        ASSERT_TRUE(oracle->IsValid(&error)) << error;
    }

    /// Datagrams from A's socket, all expected at B.
    void ScheduleValid(Time at, uint32_t count)
    {
        const std::vector<Bytes> data = Datagrams(count, 100 * uint32_t(expected.size()));
        ScheduleDatagrams(sender, data, at, MicroSeconds(500));
        expected.insert(expected.end(), data.begin(), data.end());
    }

    /// ESP by Scapy for A -> B with sequence number seq, carrying data to B's sink.
    Bytes ScapyEsp(uint64_t seq, const Bytes& data)
    {
        const Bytes plain = ScapyUdpAToB(*t, data);
        Bytes esp;
        std::string error;
        EXPECT_TRUE(oracle->Encrypt(plain, seq, &esp, &error)) << error;
        return esp;
    }

    std::unique_ptr<Topology> t;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
    std::unique_ptr<ScapyEspOracle> oracle;
    std::vector<Bytes> handedUp; //!< ESP packets B's device handed to IPv4
    std::vector<Bytes> expected; //!< datagram data B's sink must get, in order
};

/// Both key sizes in both IP modes, and ESN.
std::vector<Case>
CryptoCases()
{
    auto all = Cases({XfrmOffloadType::Crypto}, {Alg::Gcm128, Alg::Gcm256});
    const auto esn = Cases({XfrmOffloadType::Crypto}, {Alg::Gcm128}, {XfrmMode::Transport}, {true});
    all.insert(all.end(), esn.begin(), esn.end());
    return all;
}

// ---------------------------------------------------------------------------------------------
// CRYPTO-RX-DONE-STATUS

class CRYPTO_RX_DONE_STATUS : public CryptoRxTest
{
};

TEST_P(CRYPTO_RX_DONE_STATUS, DecryptedInPlaceReportedOkAndDelivered)
{
    ScheduleValid(Seconds(1), 20);
    for (uint32_t i = 0; i < 5; ++i) // after A's 20
    {
        const Bytes data = DatagramPayload(900 + i, 20 + 53 * i);
        ScheduleInject(Seconds(2) + MilliSeconds(i), t->devA, t->devB, ScapyEsp(21 + i, data));
        expected.push_back(data);
    }
    RunUntil(Seconds(3));

    EXPECT_TRUE(SameDatagrams(sink->received, expected));
    // The stack saw CRYPTO_DONE with success for every packet and dropped none.
    EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), expected.size())
        << "packets the device reported decrypted";
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 0u);
    EXPECT_EQ(t->inB->GetStats().integrityFailures, 0u);
    // In place: the ESP header stays, and the payload after it is the plaintext.
    ASSERT_EQ(handedUp.size(), expected.size()) << "ESP packets B's device handed up";
    const uint32_t udpData = (t->Tunnel() ? 20 : 0) + 8; // inner IPv4 (tunnel), UDP header
    for (size_t i = 0; i < handedUp.size(); ++i)
    {
        const Bytes& esp = handedUp[i];
        const uint32_t start = IpHeaderLength(esp) + 8 + kIvLength + udpData;
        EXPECT_EQ(EspSpiOf(esp), t->spiAB) << "packet " << i;
        EXPECT_EQ(EspSeqOf(esp), i + 1) << "packet " << i;
        const Bytes& data = expected[i];
        EXPECT_TRUE(esp.size() >= start + data.size() &&
                    std::equal(data.begin(), data.end(), esp.begin() + start))
            << "packet " << i << " was not decrypted in place";
    }
}

INSTANTIATE_TEST_SUITE_P(, CRYPTO_RX_DONE_STATUS, testing::ValuesIn(CryptoCases()), CaseName);

// ---------------------------------------------------------------------------------------------
// CRYPTO-RX-BAD-ICV-STATUS

class CRYPTO_RX_BAD_ICV_STATUS : public CryptoRxTest
{
};

TEST_P(CRYPTO_RX_BAD_ICV_STATUS, FailureReportedNeverDelivered)
{
    ScheduleValid(Seconds(1), 5); // sequence numbers 1..5

    // Scapy's ESP with sequence numbers 6.., each with one byte flipped: the ICV (last and
    // first byte: the plaintext is intact, only the check can catch it), the ciphertext, the IV.
    struct Corruption
    {
        const char* what;
        int offsetFromEsp; //!< >= 0: from the SPI; < 0: from the end
    };

    const Corruption corruptions[] = {
        {"last ICV byte", -1},
        {"first ICV byte", -16},
        {"ciphertext", 8 + int(kIvLength) + 3},
        {"IV", 8 + 2},
    };
    uint32_t seq = 6;
    std::vector<Bytes> badData;
    for (const Corruption& k : corruptions)
    {
        const Bytes data = DatagramPayload(4000 + seq, 64 + seq);
        Bytes esp = ScapyEsp(seq++, data);
        const size_t at = k.offsetFromEsp >= 0 ? IpHeaderLength(esp) + k.offsetFromEsp
                                               : esp.size() + k.offsetFromEsp;
        ASSERT_LT(at, esp.size()) << k.what;
        esp[at] ^= 0x01;
        ScheduleInject(Seconds(2) + MilliSeconds(seq), t->devA, t->devB, esp);
        badData.push_back(data);
    }
    // A number B has already accepted (3), with a bad ICV: Linux's xfrm_input handles a failed
    // CRYPTO_DONE status before the replay check, so it is an integrity failure, not a replay.
    {
        const Bytes data = DatagramPayload(4090, 70);
        Bytes esp = ScapyEsp(3, data);
        esp.back() ^= 0x01;
        ScheduleInject(Seconds(2) + MilliSeconds(50), t->devA, t->devB, esp);
        badData.push_back(data);
    }
    // Intact, with a later number: accepted, so the flips alone failed the others.
    const Bytes good = DatagramPayload(4100, 77);
    ScheduleInject(Seconds(2.5), t->devA, t->devB, ScapyEsp(seq + 2, good));
    expected.push_back(good);
    // A's next numbers are the ones the bad packets carried: a failed packet must not have
    // touched the replay window.
    ScheduleValid(Seconds(3), 5);
    RunUntil(Seconds(4));

    EXPECT_TRUE(SameDatagrams(sink->received, expected));
    for (const Bytes& received : sink->received)
    {
        for (size_t i = 0; i < badData.size(); ++i)
        {
            EXPECT_FALSE(received == badData[i])
                << "the packet with a bad "
                << (i < std::size(corruptions) ? corruptions[i].what : "ICV and an old number")
                << " was delivered";
        }
    }
    // The device said "authentication failed", and the stack counted an integrity failure
    // (XfrmInStateProtoError and the SA's integrity_failed), not a replay, nor a malformed packet
    // (XfrmInBufferError, the mapping of any other failed status).
    const uint64_t bad = badData.size();
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), bad);
    EXPECT_EQ(t->inB->GetStats().integrityFailures, bad);
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateSeqError), 0u)
        << "a replayed packet with a bad ICV counted as a replay";
    EXPECT_EQ(t->inB->GetStats().replayDrops, 0u);
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InBufferError), 0u);
    EXPECT_EQ(t->stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), expected.size())
        << "only intact packets may be reported decrypted";
}

// GCM decrypts before it checks the tag: a device that reports the failure but leaves what it
// decrypted in the buffer hands unauthenticated plaintext up to the host (the vendor guide: "leave
// no unauthenticated plaintext behind"; restore the ciphertext or decrypt into a copy). Only the
// ICV is flipped, so the data would decrypt intact; the packets B's device hands up must not show
// it, while an intact packet between them is decrypted in place.
TEST_P(CRYPTO_RX_BAD_ICV_STATUS, NoUnauthenticatedPlaintextLeftInTheBuffer)
{
    std::vector<Bytes> badData;
    for (uint32_t seq = 1; seq <= 4; ++seq)
    {
        const Bytes data = DatagramPayload(4200 + seq, 96 + 8 * seq);
        Bytes esp = ScapyEsp(seq, data);
        esp[seq % 2 ? esp.size() - 1 : esp.size() - 16] ^= 0x80; // the last or first ICV byte
        ScheduleInject(Seconds(1) + MilliSeconds(seq), t->devA, t->devB, esp);
        badData.push_back(data);
    }
    const Bytes good = DatagramPayload(4300, 120);
    ScheduleInject(Seconds(1.5), t->devA, t->devB, ScapyEsp(5, good));
    expected.push_back(good);
    RunUntil(Seconds(2));

    EXPECT_TRUE(SameDatagrams(sink->received, expected));
    EXPECT_EQ(t->inB->GetStats().integrityFailures, badData.size());
    ASSERT_EQ(handedUp.size(), badData.size() + 1) << "ESP packets B's device handed up";
    uint32_t plaintextLeft = 0;
    for (size_t i = 0; i < handedUp.size(); ++i)
    {
        for (size_t k = 0; k < badData.size(); ++k)
        {
            if (Contains(handedUp[i], badData[k]))
            {
                ++plaintextLeft;
                ADD_FAILURE() << "handed-up packet " << i << " holds the decrypted data of bad-ICV "
                              << "packet " << k << " (seq " << k + 1 << ")";
            }
        }
    }
    EXPECT_TRUE(Contains(handedUp.back(), good)) << "the intact packet was not decrypted in place";
    RecordEvidence("bad_icv_packets_with_plaintext_left", plaintextLeft);
}

INSTANTIATE_TEST_SUITE_P(, CRYPTO_RX_BAD_ICV_STATUS, testing::ValuesIn(CryptoCases()), CaseName);

} // namespace
