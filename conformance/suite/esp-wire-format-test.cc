// ESP as it is on the wire of the IPsec link, judged by decryption that owes nothing to the device
// or to offloadlab's own codec (EspTransform): Scapy's ESP for ESP-WIRE-DECRYPTS and GCM-256-KEY,
// and the RFC 4106 / RFC 4303 opener of conformance/oracles for the field checks
// (sequence numbers, IVs, padding, next header, inner checksums, the crypto-offload TX split,
// sequence number exhaustion). Every check reads what the devices transmitted, never their
// counters, so a device that is wrong in the same way at both ends of the link is still caught.

#include "conformance-case.h"
#include "rfc-esp-opener.h"
#include "scapy-esp-oracle.h"
#include "tcp-transfer.h"

#include "ns3/ipv4-l3-protocol.h"

#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sstream>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint32_t kIcvLength = 16;

/// RFC 768 / 793 checksum over the IPv4 pseudo-header and the segment: true when it verifies.
bool
L4ChecksumVerifies(uint32_t src,
                   uint32_t dst,
                   uint8_t proto,
                   const uint8_t* segment,
                   uint32_t length)
{
    uint64_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + length;
    for (uint32_t i = 0; i + 1 < length; i += 2)
    {
        sum += uint32_t(segment[i]) << 8 | segment[i + 1];
    }
    if (length % 2 != 0)
    {
        sum += uint32_t(segment[length - 1]) << 8;
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

// ---------------------------------------------------------------------------------------------
// Traffic: UDP both ways from 1 s, then a TCP transfer A -> B from 2 s, so that the time of a
// wire packet tells what it carries

struct Traffic
{
    uint32_t udpAB{40};
    uint32_t udpBA{8};
    uint32_t tcpBytes{0};
};

const Time kUdpStart = Seconds(1);
const Time kTcpStart = Seconds(2);

struct WireRun
{
    std::unique_ptr<Topology> t;
    std::shared_ptr<WireCapture> wire;
    std::shared_ptr<UdpSink> sinkA;
    std::shared_ptr<UdpSink> sinkB;
    std::shared_ptr<UdpSender> senderA;
    std::shared_ptr<UdpSender> senderB;
    std::vector<Bytes> sentAB;
    std::vector<Bytes> sentBA;
    std::unique_ptr<TcpTransfer> tcp;
};

WireRun
BuildWire(const TopologyOptions& opt)
{
    WireRun run;
    run.t = BuildTestTopology(opt);
    run.wire = CaptureWire(run.t->devA, run.t->devB);
    run.sinkA = InstallUdpSink(run.t->hostA);
    run.sinkB = InstallUdpSink(run.t->hostB);
    run.senderA = InstallUdpSender(run.t->hostA, run.t->hostAddrB);
    run.senderB = InstallUdpSender(run.t->hostB, run.t->hostAddrA);
    return run;
}

/// Schedules the traffic; returns a time by which all of it is over.
Time
ScheduleTraffic(WireRun& run, const Traffic& traffic)
{
    run.sentAB = Datagrams(traffic.udpAB, 0);
    run.sentBA = Datagrams(traffic.udpBA, 5000);
    ScheduleDatagrams(run.senderA, run.sentAB, kUdpStart, MicroSeconds(500));
    ScheduleDatagrams(run.senderB, run.sentBA, kUdpStart + MicroSeconds(250), MicroSeconds(500));
    if (traffic.tcpBytes > 0)
    {
        run.tcp =
            StartTcp(run.t->hostA, run.t->hostB, run.t->hostAddrB, traffic.tcpBytes, kTcpStart);
    }
    return kTcpStart + Seconds(1);
}

WireRun
RunWire(const Case& c, const Traffic& traffic)
{
    WireRun run = BuildWire(OptionsOf(c));
    RunUntil(ScheduleTraffic(run, traffic));
    return run;
}

/// The SA keys of the packets one end transmitted.
const EspAlgorithm&
KeysOf(const Topology& t, bool fromA)
{
    return fromA ? t.algAB : t.algBA;
}

/// Every wire packet opened with the keys of its direction; failures collected, not fatal.
struct OpenedWire
{
    std::vector<std::pair<const WirePacket*, OpenedEsp>> packets;
    std::vector<std::string> failures;
};

OpenedWire
OpenAll(const WireRun& run)
{
    OpenedWire opened;
    for (const WirePacket& w : run.wire->packets)
    {
        OpenedEsp esp;
        std::string error;
        if (OpenEsp(KeysOf(*run.t, w.fromA), run.t->opt.esn, 0, w.ip, &esp, &error))
        {
            opened.packets.emplace_back(&w, esp);
        }
        else
        {
            opened.failures.push_back(std::string(w.fromA ? "A" : "B") + " seq " +
                                      std::to_string(EspSeqOf(w.ip)) + ": " + error);
        }
    }
    return opened;
}

std::string
FirstFew(const std::vector<std::string>& lines)
{
    std::ostringstream os;
    for (size_t i = 0; i < lines.size() && i < 5; ++i)
    {
        os << "\n  " << lines[i];
    }
    if (lines.size() > 5)
    {
        os << "\n  ... and " << lines.size() - 5 << " more";
    }
    return os.str();
}

std::string
Hex(const Bytes& b)
{
    std::ostringstream os;
    for (uint8_t v : b)
    {
        os << "0123456789abcdef"[v >> 4] << "0123456789abcdef"[v & 15];
    }
    return os.str();
}

/// The expected inner UDP datagram data of a decrypted payload (transport: UDP header first;
/// tunnel: inner IPv4 header, then UDP).
bool
CarriesDatagram(const Bytes& payload, bool tunnel, const Bytes& data)
{
    const size_t start = (tunnel ? IpHeaderLength(payload) : 0) + 8;
    return payload.size() == start + data.size() &&
           std::equal(data.begin(), data.end(), payload.begin() + start);
}

/// The cases of a, then those of b.
std::vector<Case>
Join(std::vector<Case> a, const std::vector<Case>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Software with each algorithm, each offload mode with each algorithm it can offload.
std::vector<Case>
AllModesAllAlgorithms()
{
    return Join(
        Cases({XfrmOffloadType::None}, {Alg::Gcm128, Alg::Gcm256, Alg::CbcSha256}),
        Cases({XfrmOffloadType::Crypto, XfrmOffloadType::Packet}, {Alg::Gcm128, Alg::Gcm256}));
}

/// Each mode with rfc4106(gcm(aes)) 128 in both IP modes, and with ESN.
std::vector<Case>
AllModesWithEsn()
{
    return Cases({XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                 {Alg::Gcm128},
                 {XfrmMode::Transport, XfrmMode::Tunnel},
                 {false, true});
}

using WireTest = SimulationTest<Case>;

// ---------------------------------------------------------------------------------------------
// ESP-WIRE-DECRYPTS

class ESP_WIRE_DECRYPTS : public WireTest
{
};

TEST_P(ESP_WIRE_DECRYPTS, EveryPacketDecryptsToWhatWasSent)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string why;
    ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
    WireRun run = BuildWire(OptionsOf(c));
    const Topology& t = *run.t;
    conformance::KeepPcap(t);
    conformance::KeepKeys(t);
    // 130 packets one way in the plain GCM-128 cases: a defect every 64th packet shows twice.
    const bool many = c.alg == Alg::Gcm128 && !c.esn;
    RunUntil(ScheduleTraffic(run, Traffic{many ? 130u : 40u, 10, 0}));

    EXPECT_EQ(run.wire->nonIp, 0u);
    uint64_t checked = 0;
    for (bool fromA : {true, false})
    {
        const std::vector<Bytes>& sent = fromA ? run.sentAB : run.sentBA;
        ScapyEspOracle oracle(KeysOf(t, fromA),
                              fromA ? t.spiAB : t.spiBA,
                              t.Tunnel(),
                              Dotted(fromA ? t.endAddrA : t.endAddrB),
                              Dotted(fromA ? t.endAddrB : t.endAddrA),
                              c.esn);
        std::string error;
        ASSERT_TRUE(oracle.IsValid(&error)) << error;
        const auto packets = run.wire->From(fromA);
        EXPECT_EQ(packets.size(), sent.size())
            << (fromA ? "A" : "B") << " put a different number of packets on the link than "
            << "datagrams were sent";
        std::vector<std::string> failures;
        for (size_t i = 0; i < packets.size() && i < sent.size(); ++i)
        {
            const Bytes& ip = packets[i]->ip;
            const std::string where = "packet " + std::to_string(i) + " from " +
                                      (fromA ? "A" : "B") + " (seq " +
                                      std::to_string(EspSeqOf(ip)) + ")";
            Bytes inner;
            if (IpProtocol(ip) != kProtoEsp)
            {
                failures.push_back(where + ": not ESP but IP protocol " +
                                   std::to_string(IpProtocol(ip)));
                continue;
            }
            if (!oracle.Decrypt(ip, 0, &inner, &error))
            {
                failures.push_back(where + ": " + error);
                continue;
            }
            ++checked;
            // Transport: the IPv4 packet Scapy rebuilt around the payload; tunnel: the inner one.
            const uint32_t ihl = IpHeaderLength(inner);
            const bool addressesOk =
                inner.size() >= 20 && IpProtocol(inner) == kProtoUdp &&
                Ipv4Address(ReadBe32(inner.data() + 12)) == (fromA ? t.hostAddrA : t.hostAddrB) &&
                Ipv4Address(ReadBe32(inner.data() + 16)) == (fromA ? t.hostAddrB : t.hostAddrA);
            const Bytes payload(inner.begin() + std::min<size_t>(ihl, inner.size()), inner.end());
            if (!addressesOk || !CarriesDatagram(payload, false, sent[i]))
            {
                failures.push_back(where + ": decrypts, but not to the datagram that was sent");
            }
        }
        EXPECT_TRUE(failures.empty())
            << failures.size() << " packets fail Scapy's ESP:" << FirstFew(failures);
    }
    conformance::RecordEvidence("esp_packets_checked", checked);
}

INSTANTIATE_TEST_SUITE_P(,
                         ESP_WIRE_DECRYPTS,
                         testing::ValuesIn(Join(AllModesAllAlgorithms(),
                                                Cases({XfrmOffloadType::None,
                                                       XfrmOffloadType::Crypto,
                                                       XfrmOffloadType::Packet},
                                                      {Alg::Gcm128},
                                                      {XfrmMode::Transport, XfrmMode::Tunnel},
                                                      {true}))),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// SEQ-START-AT-1

class SEQ_START_AT_1 : public WireTest
{
};

TEST_P(SEQ_START_AT_1, FirstIsOneThenEachNextOneMore)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    WireRun run = BuildWire(OptionsOf(c));
    Topology& t = *run.t;
    ASSERT_TRUE(t.outA && t.inB && t.outB && t.inA);
    ScheduleTraffic(run, Traffic{20, 6, 0});
    // A fresh SA pair half way, the way a rekey installs one: its numbers start at 1 too.
    constexpr uint32_t kNewSpi = 0x0000c0c3;
    const XfrmOffloadType type = c.mode;
    Simulator::Schedule(Seconds(1.5), [&t, type]() {
        std::string error;
        XfrmStateConfig in = t.SaConfig(true, false, type);
        in.spi = kNewSpi;
        EXPECT_TRUE(t.stackB->AddState(in, &error)) << error;
        XfrmStateConfig out = t.SaConfig(true, true, type);
        out.spi = kNewSpi;
        EXPECT_TRUE(t.stackA->AddState(out, &error)) << error;
        EXPECT_TRUE(t.stackA->DeleteState(t.endAddrB, t.spiAB));
    });
    const std::vector<Bytes> later = Datagrams(10, 900);
    ScheduleDatagrams(run.senderA, later, Seconds(1.6), MicroSeconds(500));
    RunUntil(Seconds(2));

    std::map<uint32_t, std::vector<uint32_t>> seqsBySpi; // in wire order
    for (const WirePacket& w : run.wire->packets)
    {
        EXPECT_EQ(IpProtocol(w.ip), kProtoEsp);
        seqsBySpi[EspSpiOf(w.ip)].push_back(EspSeqOf(w.ip));
    }
    const std::map<uint32_t, size_t> expected{{t.spiAB, run.sentAB.size()},
                                              {t.spiBA, run.sentBA.size()},
                                              {kNewSpi, later.size()}};
    for (const auto& [spi, count] : expected)
    {
        const std::vector<uint32_t>& seqs = seqsBySpi[spi];
        EXPECT_EQ(seqs.size(), count) << "packets of SPI 0x" << std::hex << spi;
        for (size_t i = 0; i < seqs.size(); ++i)
        {
            EXPECT_EQ(seqs[i], i + 1) << "packet " << i << " of SPI 0x" << std::hex << spi;
            if (seqs[i] != i + 1)
            {
                break; // one message per SA is enough
            }
        }
    }
    EXPECT_EQ(seqsBySpi.size(), expected.size()) << "ESP with an unexpected SPI on the wire";
}

INSTANTIATE_TEST_SUITE_P(, SEQ_START_AT_1, testing::ValuesIn(AllModesWithEsn()), CaseName);

// ---------------------------------------------------------------------------------------------
// IV-UNIQUE

class IV_UNIQUE : public WireTest
{
};

TEST_P(IV_UNIQUE, NoTwoPacketsOfAnSaShareAnIv)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    WireRun run = RunWire(c, Traffic{60, 20, 16000});
    const uint32_t ivLength = IvLengthOf(run.t->algAB);
    std::map<uint32_t, std::map<Bytes, uint32_t>> seqByIvBySpi;
    std::map<uint32_t, uint32_t> packetsBySpi;
    std::vector<std::string> reused;
    for (const WirePacket& w : run.wire->packets)
    {
        const uint32_t ihl = IpHeaderLength(w.ip);
        ASSERT_GE(w.ip.size(), ihl + 8 + ivLength);
        const uint32_t spi = EspSpiOf(w.ip);
        const Bytes iv(w.ip.begin() + ihl + 8, w.ip.begin() + ihl + 8 + ivLength);
        auto [it, fresh] = seqByIvBySpi[spi].emplace(iv, EspSeqOf(w.ip));
        if (!fresh)
        {
            std::ostringstream os;
            os << "SPI 0x" << std::hex << spi << std::dec << ": IV " << Hex(iv) << " of seq "
               << it->second << " again in seq " << EspSeqOf(w.ip);
            reused.push_back(os.str());
        }
        ++packetsBySpi[spi];
    }
    EXPECT_TRUE(reused.empty()) << reused.size() << " IVs reused within an SA:" << FirstFew(reused);
    // Both SAs carried traffic, so both were checked.
    EXPECT_GE(packetsBySpi[run.t->spiAB], run.sentAB.size());
    EXPECT_GE(packetsBySpi[run.t->spiBA], run.sentBA.size());
}

INSTANTIATE_TEST_SUITE_P(, IV_UNIQUE, testing::ValuesIn(AllModesAllAlgorithms()), CaseName);

// ---------------------------------------------------------------------------------------------
// PAD-CORRECT and PAD-CONTENT (advisory)

/// Padding of every packet both ends sent: mixed traffic that needs every padding length.
struct PaddingRun
{
    WireRun run;
    OpenedWire opened;
    std::set<uint32_t> payloadResidues;
};

PaddingRun
RunPadding(const Case& c)
{
    PaddingRun p{RunWire(c, Traffic{40, 12, 16000}), {}, {}};
    p.opened = OpenAll(p.run);
    for (const auto& [w, esp] : p.opened.packets)
    {
        p.payloadResidues.insert(esp.payload.size() % 4);
    }
    return p;
}

std::string
WhereOf(const WirePacket& w, const OpenedEsp& esp)
{
    return std::string(w.fromA ? "A" : "B") + " seq " + std::to_string(esp.seq) + " (payload " +
           std::to_string(esp.payload.size()) + " bytes, pad length " +
           std::to_string(esp.padLength) + ")";
}

class PAD_CORRECT : public WireTest
{
};

// RFC 4303 2.4 and Linux's esp_output: payload + trailer aligned to 4 bytes (a block cipher: its
// block size). Linux refuses a misaligned CBC packet outright.
TEST_P(PAD_CORRECT, PayloadAndTrailerAligned)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const PaddingRun p = RunPadding(c);
    EXPECT_TRUE(p.opened.failures.empty())
        << p.opened.failures.size() << " packets do not open:" << FirstFew(p.opened.failures);
    const uint32_t align = p.run.t->algAB.suite == EspAlgorithm::Suite::AesGcm ? 4 : 16;
    std::vector<std::string> bad;
    for (const auto& [w, esp] : p.opened.packets)
    {
        if ((esp.payload.size() + esp.padLength + 2) % align != 0)
        {
            bad.push_back(WhereOf(*w, esp) + ": payload + trailer not " + std::to_string(align) +
                          "-byte aligned");
        }
    }
    EXPECT_TRUE(bad.empty()) << bad.size() << " misaligned trailers:" << FirstFew(bad);
    EXPECT_GE(p.opened.packets.size(), p.run.sentAB.size() + p.run.sentBA.size());
    EXPECT_EQ(p.payloadResidues.size(), 4u) << "the traffic did not need every padding length";
}

INSTANTIATE_TEST_SUITE_P(, PAD_CORRECT, testing::ValuesIn(AllModesAllAlgorithms()), CaseName);

class PAD_CONTENT : public WireTest
{
};

// RFC 4303 2.4 asks the sender for pad bytes 1, 2, 3, ...; Linux's receiver (esp_remove_trailer)
// never reads them, so other bytes are a finding, not a failure.
TEST_P(PAD_CONTENT, PadBytesCountUp)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const PaddingRun p = RunPadding(c);
    ASSERT_FALSE(p.opened.packets.empty()) << "no ESP to look at";
    std::vector<std::string> bad;
    for (const auto& [w, esp] : p.opened.packets)
    {
        for (size_t i = 0; i < esp.padding.size(); ++i)
        {
            if (esp.padding[i] != i + 1)
            {
                bad.push_back(WhereOf(*w, esp) + ": pad byte " + std::to_string(i) + " is " +
                              std::to_string(esp.padding[i]));
                break;
            }
        }
    }
    RecordEvidence("packets_checked", p.opened.packets.size());
    if (!bad.empty())
    {
        ReportAdvisoryFinding(
            std::to_string(bad.size()) + " of " + std::to_string(p.opened.packets.size()) +
            " packets pad with other bytes than 1, 2, 3, ... (RFC 4303 2.4):" + FirstFew(bad));
    }
}

INSTANTIATE_TEST_SUITE_P(, PAD_CONTENT, testing::ValuesIn(AllModesAllAlgorithms()), CaseName);

// ---------------------------------------------------------------------------------------------
// NEXT-HEADER-CORRECT

class NEXT_HEADER_CORRECT : public WireTest
{
};

TEST_P(NEXT_HEADER_CORRECT, NamesTheProtectedPayload)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    WireRun run = RunWire(c, Traffic{20, 6, 16000});
    const OpenedWire opened = OpenAll(run);
    EXPECT_TRUE(opened.failures.empty())
        << opened.failures.size() << " packets do not open:" << FirstFew(opened.failures);
    const bool tunnel = run.t->Tunnel();
    std::map<uint8_t, uint32_t> innerProtocols;
    std::vector<std::string> bad;
    for (const auto& [w, esp] : opened.packets)
    {
        // Before the TCP phase only UDP is sent.
        const uint8_t l4 = w->at < kTcpStart ? kProtoUdp : 6;
        const uint8_t expected = tunnel ? kProtoIpip : l4;
        const std::string where =
            std::string(w->fromA ? "A" : "B") + " seq " + std::to_string(esp.seq);
        if (esp.nextHeader != expected)
        {
            bad.push_back(where + ": next header " + std::to_string(esp.nextHeader) +
                          ", expected " + std::to_string(expected));
        }
        if (tunnel && (esp.payload.size() < 20 || (esp.payload[0] >> 4) != 4 ||
                       IpProtocol(esp.payload) != l4))
        {
            bad.push_back(where + ": the tunnel payload is not the IPv4 packet that was sent");
        }
        ++innerProtocols[l4];
    }
    EXPECT_TRUE(bad.empty()) << bad.size() << " wrong next headers:" << FirstFew(bad);
    EXPECT_GE(innerProtocols[kProtoUdp], run.sentAB.size() + run.sentBA.size());
    EXPECT_GE(innerProtocols[6], 10u) << "the TCP transfer did not happen";
    ASSERT_TRUE(run.tcp);
    EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
}

INSTANTIATE_TEST_SUITE_P(,
                         NEXT_HEADER_CORRECT,
                         testing::ValuesIn(Join(Cases({XfrmOffloadType::None,
                                                       XfrmOffloadType::Crypto,
                                                       XfrmOffloadType::Packet}),
                                                Cases({XfrmOffloadType::None}, {Alg::CbcSha256}))),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// CSUM-TX-INNER

/// Sets an attribute default of every EmuNic made while it lives; restores the old one after.
class DeviceDefault
{
  public:
    DeviceDefault(const std::string& name, const AttributeValue& value)
        : m_name("ns3::EmuNicNetDevice::" + name)
    {
        TypeId::AttributeInformation info;
        NS_ABORT_UNLESS(
            TypeId::LookupByName("ns3::EmuNicNetDevice").LookupAttributeByName(name, &info));
        m_old = info.initialValue->Copy();
        Config::SetDefault(m_name, value);
    }

    ~DeviceDefault()
    {
        Config::SetDefault(m_name, *m_old);
    }

  private:
    std::string m_name;
    Ptr<AttributeValue> m_old;
};

class CSUM_TX_INNER : public WireTest
{
  protected:
    /// Every packet on the wire opened; every inner UDP and TCP checksum must verify, and a UDP
    /// checksum may not be left out (0): the sender computed one.
    void ExpectInnerChecksumsCorrect(const WireRun& run)
    {
        const OpenedWire opened = OpenAll(run);
        EXPECT_TRUE(opened.failures.empty())
            << opened.failures.size() << " packets do not open:" << FirstFew(opened.failures);
        const bool tunnel = run.t->Tunnel();
        std::map<uint8_t, uint32_t> checked;
        std::vector<std::string> bad;
        for (const auto& [w, esp] : opened.packets)
        {
            // The pseudo-header comes from the inner IPv4 header (tunnel) or the outer one.
            const Bytes& ipHeader = tunnel ? esp.payload : w->ip;
            const uint32_t ihl = tunnel ? IpHeaderLength(esp.payload) : 0;
            if (ipHeader.size() < 20 || esp.payload.size() < ihl + 8)
            {
                bad.push_back("seq " + std::to_string(esp.seq) + ": no L4 header");
                continue;
            }
            const uint8_t proto = tunnel ? IpProtocol(esp.payload) : esp.nextHeader;
            const uint8_t* segment = esp.payload.data() + ihl;
            const uint32_t length = esp.payload.size() - ihl;
            const uint32_t field = proto == kProtoUdp ? 6 : 16;
            const std::string where = std::string(w->fromA ? "A" : "B") + " seq " +
                                      std::to_string(esp.seq) + " (" +
                                      (proto == kProtoUdp ? "UDP" : "TCP") + ")";
            if (proto == kProtoUdp && segment[field] == 0 && segment[field + 1] == 0)
            {
                bad.push_back(where + ": checksum left 0");
            }
            else if (!L4ChecksumVerifies(ReadBe32(ipHeader.data() + 12),
                                         ReadBe32(ipHeader.data() + 16),
                                         proto,
                                         segment,
                                         length))
            {
                bad.push_back(where + ": checksum does not verify");
            }
            ++checked[proto];
        }
        EXPECT_TRUE(bad.empty()) << bad.size() << " wrong inner checksums:" << FirstFew(bad);
        EXPECT_GE(checked[kProtoUdp], run.sentAB.size() + run.sentBA.size());
        EXPECT_GE(checked[6], 10u) << "the TCP transfer did not happen";
        EXPECT_TRUE(SameDatagrams(run.sinkB->received, run.sentAB));
        ASSERT_TRUE(run.tcp);
        EXPECT_TRUE(SameStream(run.tcp->received, run.tcp->sent));
    }
};

TEST_P(CSUM_TX_INNER, DeviceWritesThemWhenAdvertised)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    if (!(conformance::DeviceUnderTest().GetCapabilities().features & OLAB_FEATURE_HW_ESP_TX_CSUM))
    {
        GTEST_SKIP() << "device does not advertise HW_ESP_TX_CSUM";
    }
    DeviceDefault advertise("EspTxCsumOffload", BooleanValue(true));
    WireRun run = RunWire(c, Traffic{30, 10, 16000});
    // The stack left the checksums to the device (else this would test the stack).
    EXPECT_GE(run.t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), run.sentAB.size());
    EXPECT_GE(run.t->stackB->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), run.sentBA.size());
    ExpectInnerChecksumsCorrect(run);
}

TEST_P(CSUM_TX_INNER, StackWritesThemWhenNotAdvertised)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    DeviceDefault withhold("EspTxCsumOffload", BooleanValue(false));
    WireRun run = RunWire(c, Traffic{30, 10, 16000});
    EXPECT_EQ(run.t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), 0u);
    EXPECT_EQ(run.t->stackB->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), 0u);
    EXPECT_GE(run.t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), run.sentAB.size())
        << "the device did not encrypt";
    ExpectInnerChecksumsCorrect(run);
}

/// The one's complement sum (RFC 1071) of the UDP pseudo-header and datagram, folded to 16 bits.
uint32_t
UdpOnesSum(Ipv4Address src, Ipv4Address dst, const Bytes& udp)
{
    uint32_t sum = (src.Get() >> 16) + (src.Get() & 0xffff) + (dst.Get() >> 16) +
                   (dst.Get() & 0xffff) + kProtoUdp + uint32_t(udp.size());
    for (size_t i = 0; i < udp.size(); i += 2)
    {
        sum += uint32_t(udp[i]) << 8 | (i + 1 < udp.size() ? udp[i + 1] : 0);
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

// RFC 768: "If the computed checksum is zero, it is transmitted as all ones" (0 means "no
// checksum"); Linux's udp_send_skb writes CSUM_MANGLED_0 for it. A datagram whose last two data
// bytes make its checksum compute to 0 is sent through a device that fills inner checksums: the
// inner UDP checksum on the wire must be 0xffff, and B still gets the datagram.
TEST_P(CSUM_TX_INNER, UdpChecksumComputingToZeroSentAsFfff)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    if (!(conformance::DeviceUnderTest().GetCapabilities().features & OLAB_FEATURE_HW_ESP_TX_CSUM))
    {
        GTEST_SKIP() << "device does not advertise HW_ESP_TX_CSUM";
    }
    DeviceDefault advertise("EspTxCsumOffload", BooleanValue(true));
    auto t = BuildTestTopology(OptionsOf(c));
    ASSERT_TRUE(t->outA && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);
    KeepPcap(*t);
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    Address local;
    ASSERT_EQ(sender->socket->GetSockName(local), 0);
    const uint16_t sport = InetSocketAddress::ConvertFrom(local).GetPort();
    // Data whose checksum computes to 0: the last 16-bit word brings the sum to 0xffff.
    Bytes zero = DatagramPayload(1, 200);
    zero[198] = zero[199] = 0;
    // UdpDatagramBytes writes a checksum into the header: take the sum without it.
    Bytes header = UdpDatagramBytes(t->hostAddrA, t->hostAddrB, sport, kUdpPort, zero);
    header[6] = header[7] = 0;
    const uint32_t withoutChecksum = UdpOnesSum(t->hostAddrA, t->hostAddrB, header);
    const uint16_t fill = uint16_t(0xffff - withoutChecksum);
    zero[198] = uint8_t(fill >> 8);
    zero[199] = uint8_t(fill);
    header = UdpDatagramBytes(t->hostAddrA, t->hostAddrB, sport, kUdpPort, zero);
    header[6] = header[7] = 0;
    ASSERT_EQ(UdpOnesSum(t->hostAddrA, t->hostAddrB, header), 0xffffu)
        << "the test's datagram does not compute to checksum 0";
    const std::vector<Bytes> sent{DatagramPayload(2, 200), zero, DatagramPayload(3, 200)};
    ScheduleDatagrams(sender, sent, MilliSeconds(10), MilliSeconds(1));
    RunTo(MilliSeconds(50));

    EXPECT_TRUE(SameDatagrams(sink->received, sent));
    EXPECT_GE(t->stackA->GetEventCount(XfrmEvent::CryptoOffloadTxCsum), sent.size())
        << "the stack did not leave the checksums to the device";
    ScapyEspOracle oracle(t->algAB,
                          t->spiAB,
                          t->Tunnel(),
                          Dotted(t->endAddrA),
                          Dotted(t->endAddrB),
                          c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto fromA = wire->From(true);
    ASSERT_EQ(fromA.size(), sent.size());
    Bytes inner;
    ASSERT_TRUE(oracle.Decrypt(fromA[1]->ip, 0, &inner, &error)) << error;
    const uint32_t ihl = IpHeaderLength(inner);
    ASSERT_GE(inner.size(), ihl + 8u + zero.size());
    ASSERT_TRUE(std::equal(zero.begin(), zero.end(), inner.begin() + ihl + 8))
        << "the second ESP packet is not the zero-checksum datagram";
    const uint16_t checksum = uint16_t(inner[ihl + 6] << 8 | inner[ihl + 7]);
    RecordEvidence("inner_udp_checksum", checksum);
    EXPECT_EQ(checksum, 0xffff) << "a UDP checksum that computes to 0 must be sent as 0xffff";
    KeepKeys(*t);
}

INSTANTIATE_TEST_SUITE_P(,
                         CSUM_TX_INNER,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto})),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// CRYPTO-TX-HEADERS-BY-STACK

/// What a node's IPv4 hands to one device ("Tx": after the stack, before the device).
std::shared_ptr<std::vector<Bytes>>
CaptureHandedDown(Ptr<Node> node, Ptr<NetDevice> dev)
{
    Ptr<Ipv4L3Protocol> ipv4 = node->GetObject<Ipv4L3Protocol>();
    const uint32_t interface = ipv4->GetInterfaceForDevice(dev);
    auto packets = std::make_shared<std::vector<Bytes>>();
    std::vector<Bytes>* raw = packets.get();
    ipv4->TraceConnectWithoutContext(
        "Tx",
        Callback<void, Ptr<const Packet>, Ptr<Ipv4>, uint32_t>(
            [raw, interface](Ptr<const Packet> p, Ptr<Ipv4>, uint32_t i) {
                if (i == interface)
                {
                    raw->push_back(PacketBytes(p));
                }
            }));
    return packets;
}

class CRYPTO_TX_HEADERS_BY_STACK : public WireTest
{
};

TEST_P(CRYPTO_TX_HEADERS_BY_STACK, DeviceWritesOnlyIvCiphertextAndIcv)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    WireRun run = BuildWire(OptionsOf(c));
    const Topology& t = *run.t;
    auto handed = CaptureHandedDown(t.endA, t.devA);
    RunUntil(ScheduleTraffic(run, Traffic{40, 0, 0}));

    const bool tunnel = t.Tunnel();
    const uint32_t ivLength = IvLengthOf(t.algAB);
    // With HW_ESP_TX_CSUM the device also writes the inner UDP checksum; it is CSUM-TX-INNER's.
    const bool csumByDevice = t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxCsum) > 0;
    const uint32_t csumAt = (tunnel ? 20 : 0) + 6;
    EXPECT_EQ(t.stackA->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), run.sentAB.size())
        << "the stack did not hand its ESP to the device";
    const auto wire = run.wire->From(true);
    ASSERT_EQ(handed->size(), run.sentAB.size()) << "packets the stack handed to the device";
    ASSERT_EQ(wire.size(), handed->size()) << "the device dropped or added packets";
    for (size_t i = 0; i < wire.size(); ++i)
    {
        SCOPED_TRACE("packet " + std::to_string(i));
        const Bytes& before = (*handed)[i];
        const Bytes& after = wire[i]->ip;
        const uint32_t ihl = IpHeaderLength(before);
        // The stack's part: ESP header, numbered by the stack, and the trailer in the clear.
        ASSERT_EQ(IpProtocol(before), kProtoEsp) << "the stack handed down no ESP";
        ASSERT_GE(before.size(), ihl + 8 + ivLength + 2 + kIcvLength);
        EXPECT_EQ(EspSpiOf(before), t.spiAB);
        EXPECT_EQ(EspSeqOf(before), i + 1);
        const Bytes framed(before.begin() + ihl + 8 + ivLength, before.end() - kIcvLength);
        const uint8_t padLength = framed[framed.size() - 2];
        ASSERT_LE(padLength + 2u, framed.size());
        EXPECT_EQ(framed.back(), tunnel ? kProtoIpip : kProtoUdp);
        const Bytes payload(framed.begin(), framed.end() - 2 - padLength);
        EXPECT_TRUE(CarriesDatagram(payload, tunnel, run.sentAB[i]))
            << "the stack's frame does not hold the datagram in the clear";
        // The device's part: same IPv4 header, SPI, sequence number and length on the wire ...
        ASSERT_EQ(after.size(), before.size()) << "the device changed the frame length";
        EXPECT_TRUE(std::equal(before.begin(), before.begin() + ihl + 8, after.begin()))
            << "the device rewrote the IPv4 or ESP header the stack wrote";
        // ... and IV, ciphertext and ICV that decrypt to exactly the stack's frame.
        OpenedEsp esp;
        std::string error;
        ASSERT_TRUE(OpenEsp(t.algAB, c.esn, 0, after, &esp, &error)) << error;
        Bytes plain = esp.Plaintext();
        Bytes expected = framed;
        if (csumByDevice && plain.size() > csumAt + 1)
        {
            for (Bytes* b : {&plain, &expected})
            {
                (*b)[csumAt] = 0;
                (*b)[csumAt + 1] = 0;
            }
        }
        EXPECT_TRUE(plain == expected)
            << "the device encrypted something else than the stack's frame";
    }
}

INSTANTIATE_TEST_SUITE_P(
    ,
    CRYPTO_TX_HEADERS_BY_STACK,
    testing::ValuesIn(
        Join(Cases({XfrmOffloadType::Crypto}, {Alg::Gcm128, Alg::Gcm256}),
             Cases({XfrmOffloadType::Crypto}, {Alg::Gcm128}, {XfrmMode::Transport}, {true}))),
    CaseName);

// ---------------------------------------------------------------------------------------------
// GCM-256-KEY

class GCM_256_KEY : public WireTest
{
};

TEST_P(GCM_256_KEY, InteroperatesWithSoftwareAndScapy)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    std::string why;
    ASSERT_TRUE(ScapyEspOracle::IsAvailable(&why)) << "the suite needs Scapy's ESP: " << why;
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    WireRun run = BuildWire(opt);
    Topology& t = *run.t;
    ASSERT_EQ(t.algAB.encKey.size(), 32u);
    // A is a software IPsec peer; only B offloads, so B must agree with software on all 32 bytes.
    const XfrmOffloadType type = c.mode;
    // A device may refuse 256-bit keys (Linux drivers answer -EINVAL or -EOPNOTSUPP with a
    // reason; xfrm_dev_state_add then fails the add or, in crypto offload, falls back): then it
    // does not offer what this requirement is about. One it takes must use the whole key.
    std::string refusal;
    t.stackB->TraceConnectWithoutContext(
        "OffloadFallback",
        Callback<void, Ptr<XfrmState>, std::string>([&refusal](Ptr<XfrmState>, std::string why) {
            refusal = why.empty() ? "(no reason)" : why;
        }));
    for (bool aToB : {true, false})
    {
        std::string error;
        Ptr<XfrmState> x = t.stackB->AddState(t.SaConfig(aToB, !aToB, type), &error);
        (aToB ? t.inB : t.outB) = x;
        if (!x || !x->IsOffloaded(type))
        {
            GTEST_SKIP() << "not offered by the device: " << (x ? refusal : error);
        }
    }
    t.outA = t.AddSa(true, true, XfrmOffloadType::None, XfrmLifetimeConfig{});
    t.inA = t.AddSa(false, false, XfrmOffloadType::None, XfrmLifetimeConfig{});
    for (bool onA : {true, false})
    {
        t.AddPolicy(onA, XfrmDir::Out, onA ? XfrmOffloadType::None : type);
        t.AddPolicy(onA, XfrmDir::In, onA ? XfrmOffloadType::None : type);
        if (t.Tunnel())
        {
            t.AddPolicy(onA, XfrmDir::Fwd, XfrmOffloadType::None);
        }
    }
    ASSERT_TRUE(t.inB && t.outB);
    ASSERT_TRUE(t.inB->IsOffloaded(type) && t.outB->IsOffloaded(type))
        << "the device did not take the AES-256 SAs";
    RunUntil(ScheduleTraffic(run, Traffic{20, 20, 0}));

    EXPECT_TRUE(SameDatagrams(run.sinkB->received, run.sentAB))
        << "the device does not open software's AES-256";
    EXPECT_TRUE(SameDatagrams(run.sinkA->received, run.sentBA))
        << "software does not open the device's AES-256";
    if (c.mode == XfrmOffloadType::Crypto)
    {
        EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadTxPackets), run.sentBA.size());
        EXPECT_EQ(t.stackB->GetEventCount(XfrmEvent::CryptoOffloadRxPackets), run.sentAB.size());
    }
    // Scapy, with the whole key, opens what the device sent.
    ScapyEspOracle oracle(t.algBA,
                          t.spiBA,
                          t.Tunnel(),
                          Dotted(t.endAddrB),
                          Dotted(t.endAddrA),
                          c.esn);
    std::string error;
    ASSERT_TRUE(oracle.IsValid(&error)) << error;
    const auto fromB = run.wire->From(false);
    EXPECT_EQ(fromB.size(), run.sentBA.size());
    for (size_t i = 0; i < fromB.size() && i < run.sentBA.size(); ++i)
    {
        Bytes inner;
        ASSERT_TRUE(oracle.Decrypt(fromB[i]->ip, 0, &inner, &error))
            << "packet " << i << " from the device: " << error;
        const Bytes payload(inner.begin() + IpHeaderLength(inner), inner.end());
        EXPECT_TRUE(CarriesDatagram(payload, false, run.sentBA[i])) << "packet " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         GCM_256_KEY,
                         testing::ValuesIn(Cases({XfrmOffloadType::Crypto, XfrmOffloadType::Packet},
                                                 {Alg::Gcm256})),
                         CaseName);

// ---------------------------------------------------------------------------------------------
// SEQ-OVERFLOW-NO-CYCLE

class SEQ_OVERFLOW_NO_CYCLE : public WireTest
{
};

TEST_P(SEQ_OVERFLOW_NO_CYCLE, DroppedAndCountedAfterTheLastNumber)
{
    const Case& c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    WireRun run = BuildWire(opt);
    Topology& t = *run.t;
    const XfrmOffloadType type = c.mode;
    constexpr uint64_t kLastSent = 0xFFFFFFFCull; // three numbers left
    // The SA starts with its numbers nearly spent (Linux's XFRMA_REPLAY_STATE oseq, as when an SA
    // is migrated): the one way to reach 2^32-1 that does not depend on who numbers the packets.
    XfrmStateConfig out = t.SaConfig(true, true, type);
    out.replayOseq = kLastSent;
    std::string error;
    t.outA = t.stackA->AddState(out, &error);
    ASSERT_TRUE(t.outA) << error;
    t.inB = t.AddSa(true, false, type, XfrmLifetimeConfig{});
    t.outB = t.AddSa(false, true, type, XfrmLifetimeConfig{});
    t.inA = t.AddSa(false, false, type, XfrmLifetimeConfig{});
    for (bool onA : {true, false})
    {
        t.AddPolicy(onA, XfrmDir::Out, type);
        t.AddPolicy(onA, XfrmDir::In, type);
        if (t.Tunnel())
        {
            t.AddPolicy(onA, XfrmDir::Fwd, XfrmOffloadType::None);
        }
    }
    const std::vector<Bytes> sent = Datagrams(7, 300);
    ScheduleDatagrams(run.senderA, sent, Seconds(1), MilliSeconds(1));
    RunUntil(Seconds(2));

    const auto fromA = run.wire->From(true);
    std::vector<uint32_t> seqs;
    for (const WirePacket* w : fromA)
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp) << "plaintext on the IPsec link";
        seqs.push_back(EspSeqOf(w->ip));
    }
    EXPECT_EQ(seqs, (std::vector<uint32_t>{0xFFFFFFFDu, 0xFFFFFFFEu, 0xFFFFFFFFu}))
        << "the SA must stop after 2^32-1, not cycle to 0, 1, ...";
    EXPECT_TRUE(SameDatagrams(run.sinkB->received, {sent.begin(), sent.begin() + 3}));
    // The four refused packets are counted, by the stack or by the device.
    EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutStateSeqError) +
                  t.devA->GetDropCount(EmuNicDrop::TxSeqOverflow),
              4u);
    if (c.mode == XfrmOffloadType::Packet)
    {
        t.stackA->UpdateStats(t.outA);
    }
    EXPECT_EQ(t.outA->GetStats().seqOverflow, 4u);
}

INSTANTIATE_TEST_SUITE_P(,
                         SEQ_OVERFLOW_NO_CYCLE,
                         testing::ValuesIn(Cases({XfrmOffloadType::None,
                                                  XfrmOffloadType::Crypto,
                                                  XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
