// Conformance: IP fragments and the path MTU.
//
// Packet offload drops fragments on TX and RX and counts them (PKT-FRAG-TX-DROP,
// PKT-FRAG-RX-DROP); software IPsec and crypto offload reassemble before ESP input and fragment
// after ESP output (FRAG-SW-CRYPTO-HANDLED). Packet offload drops what is too big once ESP is
// added, tells the sender the MTU to use, and TCP recovers (PKT-PMTU-*). The ALLOW-* cases run the
// same traffic through software IPsec and packet offload and accept only the allowed difference.
//
// Fragments come from ns-3's own IPv4 (oversize datagrams on a socket) and from Scapy (first,
// middle and last fragments, overlapping fragments) injected into the device; ESP on the wire is
// checked by Scapy's ESP after reassembly.

#include "conformance-case.h"
#include "scapy-esp-oracle.h"
#include "scapy-packet-crafter.h"
#include "tcp-pmtu-adapter.h"

#include "ns3/tcp-socket-base.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/tcp-socket-state.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <tuple>

using namespace offloadtest;
using namespace conformance;
using namespace offloadlab;

namespace
{

constexpr uint32_t kLinkMtu = 1500;
constexpr uint32_t kBigDatagram = 3000; //!< UDP data; ns-3 sends it as three IPv4 fragments

UdpRig
BuildRig(const Case& c, XfrmOffloadType mode)
{
    TopologyOptions opt = OptionsOf(c);
    opt.mode = mode;
    return BuildUdpRig(opt);
}

/// Largest plaintext IPv4 packet that fits the link after rfc4106(gcm(aes)) ESP (8 header, 8 IV,
/// 4-byte alignment, 2 trailer, 16 ICV): Linux's xfrm_state_mtu.
uint32_t
GcmInnerMtu(XfrmMode ipMode)
{
    if (ipMode == XfrmMode::Transport)
    {
        return ((kLinkMtu - 16 - 16 - 20) & ~3u) + 20 - 2; // the IPv4 header is not encrypted
    }
    return ((kLinkMtu - 36 - 16) & ~3u) - 2; // the outer header is added
}

uint16_t
Read16(const Bytes& b, size_t at)
{
    return uint16_t(b[at] << 8 | b[at + 1]);
}

void
FixIpv4Checksum(Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    ip[10] = ip[11] = 0;
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < ihl; i += 2)
    {
        sum += Read16(ip, i);
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10] = uint8_t(~sum >> 8);
    ip[11] = uint8_t(~sum);
}

/// Scapy names every datagram 1: distinct identifications keep reassembly queues apart.
void
SetIpId(Bytes& ip, uint16_t id)
{
    ip[4] = uint8_t(id >> 8);
    ip[5] = uint8_t(id);
    FixIpv4Checksum(ip);
}

void
SetIpIds(std::vector<Bytes>& packets, uint16_t id)
{
    for (Bytes& p : packets)
    {
        SetIpId(p, id);
    }
}

std::vector<Bytes>
ScapyFragments(const Bytes& ip, uint32_t size, uint16_t id)
{
    std::vector<Bytes> fragments;
    std::string error;
    EXPECT_TRUE(ScapyPacketCrafter::Fragment(ip, size, &fragments, &error)) << error;
    SetIpIds(fragments, id);
    return fragments;
}

std::vector<Bytes>
ScapyOverlapping(const Bytes& ip, uint32_t size, uint16_t id)
{
    std::vector<Bytes> fragments;
    std::string error;
    EXPECT_TRUE(ScapyPacketCrafter::OverlappingFragments(ip, size, &fragments, &error)) << error;
    SetIpIds(fragments, id);
    return fragments;
}

/// RFC 791 reassembly of whatever is fragmented in packets (whole packets pass unchanged, in
/// order of first appearance); an incomplete datagram is left out and counted in *incomplete.
std::vector<Bytes>
Reassemble(const std::vector<Bytes>& packets, uint32_t* incomplete)
{
    using Key = std::tuple<uint32_t, uint32_t, uint8_t, uint16_t>;
    std::vector<Bytes> out;
    std::map<Key, size_t> slotOf;
    std::vector<std::vector<const Bytes*>> groups;
    std::vector<size_t> slots; // out index reserved for each group
    for (const Bytes& p : packets)
    {
        if (!IsFragment(p))
        {
            out.push_back(p);
            continue;
        }
        const Key key{ReadBe32(p.data() + 12), ReadBe32(p.data() + 16), p[9], Read16(p, 4)};
        auto [it, fresh] = slotOf.emplace(key, groups.size());
        if (fresh)
        {
            groups.emplace_back();
            slots.push_back(out.size());
            out.emplace_back();
        }
        groups[it->second].push_back(&p);
    }
    *incomplete = 0;
    for (size_t g = 0; g < groups.size(); ++g)
    {
        auto& parts = groups[g];
        auto offset = [](const Bytes* f) { return uint32_t(Read16(*f, 6) & 0x1fff) * 8; };
        std::sort(parts.begin(), parts.end(), [&](const Bytes* x, const Bytes* y) {
            return offset(x) < offset(y);
        });
        Bytes payload;
        bool complete = offset(parts.front()) == 0;
        for (const Bytes* f : parts)
        {
            complete = complete && offset(f) == payload.size();
            payload.insert(payload.end(), f->begin() + IpHeaderLength(*f), f->end());
        }
        complete = complete && (parts.back()->at(6) & 0x20) == 0;
        if (!complete)
        {
            ++*incomplete;
            continue;
        }
        Bytes whole(parts.front()->begin(), parts.front()->begin() + 20);
        whole[0] = 0x45; // options, if any, are not needed for the check
        whole[6] = whole[7] = 0;
        const uint32_t total = 20 + payload.size();
        whole[2] = uint8_t(total >> 8);
        whole[3] = uint8_t(total);
        whole.insert(whole.end(), payload.begin(), payload.end());
        FixIpv4Checksum(whole);
        out[slots[g]] = std::move(whole);
    }
    out.erase(std::remove_if(out.begin(), out.end(), [](const Bytes& b) { return b.empty(); }),
              out.end());
    return out;
}

/// What Scapy's ESP decrypts from A's ESP on the wire: the UDP data of every datagram, after
/// reassembly of the ESP fragments and (tunnel) of the inner fragments.
std::vector<Bytes>
OracleUdpData(const Topology& t, const WireCapture& wire)
{
    std::vector<Bytes> fromA;
    for (const WirePacket* w : wire.From(true))
    {
        fromA.push_back(w->ip);
    }
    uint32_t incomplete = 0;
    const std::vector<Bytes> esp = Reassemble(fromA, &incomplete);
    EXPECT_EQ(incomplete, 0u) << "ESP fragments on the wire that do not reassemble";
    ScapyEspOracle oracle(t.algAB,
                          t.spiAB,
                          t.Tunnel(),
                          Dotted(t.endAddrA),
                          Dotted(t.endAddrB),
                          t.opt.esn);
    std::string error;
    EXPECT_TRUE(oracle.IsValid(&error)) << error;
    std::vector<Bytes> inner;
    for (const Bytes& p : esp)
    {
        Bytes plain;
        if (!oracle.Decrypt(p, 0, &plain, &error))
        {
            ADD_FAILURE() << "Scapy cannot decrypt ESP seq " << EspSeqOf(p) << ": " << error;
            continue;
        }
        inner.push_back(plain);
    }
    std::vector<Bytes> data;
    for (const Bytes& ip : Reassemble(inner, &incomplete))
    {
        if (IpProtocol(ip) == kProtoUdp && ip.size() >= IpHeaderLength(ip) + 8)
        {
            data.emplace_back(ip.begin() + IpHeaderLength(ip) + 8, ip.end());
        }
    }
    return data;
}

// ---- evidence: the wire as a pcap and the SAs as a Wireshark esp_sa table ----

void
PutLe32(std::ofstream& f, uint32_t v)
{
    const char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
    f.write(b, 4);
}

std::string
HexOf(const std::vector<uint8_t>& bytes)
{
    std::string s = "0x";
    char two[3];
    for (uint8_t b : bytes)
    {
        std::snprintf(two, sizeof(two), "%02x", b);
        s += two;
    }
    return s;
}

void
SaveEvidence(const Topology& t, const WireCapture& wire, const std::string& tag = "")
{
    const std::string dir = EvidenceDir();
    if (dir.empty())
    {
        return;
    }
    const std::string pcap = "wire" + tag + ".pcap";
    std::ofstream f(dir + "/" + pcap, std::ios::binary);
    PutLe32(f, 0xa1b2c3d4u);
    f.write("\x02\x00\x04\x00", 4);           // version 2.4
    for (uint32_t v : {0u, 0u, 65535u, 101u}) // zone, accuracy, snap length, LINKTYPE_RAW
    {
        PutLe32(f, v);
    }
    for (const WirePacket& w : wire.packets)
    {
        const int64_t us = w.at.GetMicroSeconds();
        PutLe32(f, uint32_t(us / 1000000));
        PutLe32(f, uint32_t(us % 1000000));
        PutLe32(f, w.ip.size());
        PutLe32(f, w.ip.size());
        f.write(reinterpret_cast<const char*>(w.ip.data()), w.ip.size());
    }
    std::ofstream sa(dir + "/esp_sa" + tag);
    for (bool aToB : {true, false})
    {
        const EspAlgorithm& a = aToB ? t.algAB : t.algBA;
        if (a.suite != EspAlgorithm::Suite::AesGcm)
        {
            continue;
        }
        Bytes key = a.encKey;
        key.insert(key.end(), a.salt.begin(), a.salt.end());
        char spi[16];
        std::snprintf(spi, sizeof(spi), "0x%08x", aToB ? t.spiAB : t.spiBA);
        sa << "\"IPv4\",\"" << Dotted(aToB ? t.endAddrA : t.endAddrB) << "\",\""
           << Dotted(aToB ? t.endAddrB : t.endAddrA) << "\",\"" << spi
           << "\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"" << HexOf(key) << "\",\"NULL\",\"\"\n";
    }
    RecordEvidence("pcap" + tag, pcap);
}

/// Every drop counter of both devices of the IPsec link, and every XFRM drop of both stacks.
std::map<std::string, uint64_t>
DropCounters(const Topology& t)
{
    std::map<std::string, uint64_t> drops;
    for (bool a : {true, false})
    {
        Ptr<EmuNicNetDevice> dev = a ? t.devA : t.devB;
        for (size_t i = 0; i < size_t(EmuNicDrop::Count); ++i)
        {
            drops[std::string(a ? "devA." : "devB.") + EmuNicDropName(EmuNicDrop(i)) + "Drop"] =
                dev->GetDropCount(EmuNicDrop(i));
        }
        for (const auto& [name, value] : (a ? t.stackA : t.stackB)->GetDropCounts())
        {
            drops[std::string(a ? "stackA." : "stackB.") + name] = value;
        }
    }
    return drops;
}

/// Expects every drop counter to be zero except the ones named in allowed.
void
ExpectOnlyDrops(const Topology& t,
                const std::map<std::string, uint64_t>& allowed,
                const std::string& what)
{
    for (const auto& [name, value] : DropCounters(t))
    {
        auto it = allowed.find(name);
        EXPECT_EQ(value, it == allowed.end() ? 0u : it->second) << what << ": " << name;
        if (value != 0)
        {
            RecordEvidence(what + "." + name, value);
        }
    }
}

/// Every A->B packet on the wire is ESP, whole, within the MTU, and shows no plaintext.
void
ExpectOnlyWholeEspFromA(const WireCapture& wire)
{
    for (const WirePacket* w : wire.From(true))
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp)
            << "plaintext on the IPsec link: " << ScapyPacketCrafter::Describe(w->ip);
        EXPECT_FALSE(IsFragment(w->ip))
            << "fragment on the wire: " << ScapyPacketCrafter::Describe(w->ip);
        EXPECT_LE(w->ip.size(), kLinkMtu) << "larger than the link MTU";
        EXPECT_FALSE(Contains(w->ip, PlaintextMarker())) << "plaintext payload on the wire";
    }
}

size_t
EspCountFromA(const WireCapture& wire)
{
    size_t n = 0;
    for (const WirePacket* w : wire.From(true))
    {
        n += IpProtocol(w->ip) == kProtoEsp ? 1 : 0;
    }
    return n;
}

// =============================================================================================
// PKT-FRAG-TX-DROP

using PKT_FRAG_TX_DROP = SimulationTest<Case>;

// ns-3 fragments an oversize datagram before the device: every fragment is dropped and counted,
// none leaves in plaintext, and whole datagrams before and after still go out.
TEST_P(PKT_FRAG_TX_DROP, LocalDatagramFragments)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    const Bytes before = DatagramPayload(1, 400);
    const Bytes big = DatagramPayload(2, kBigDatagram);
    const Bytes after = DatagramPayload(3, 500);
    ScheduleDatagram(sender, Seconds(1), before);
    ScheduleDatagram(sender, Seconds(1.1), big);
    ScheduleDatagram(sender, Seconds(1.2), after);
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    const uint64_t fragments = (8 + kBigDatagram + 1479) / 1480; // 1480 bytes of IP payload each
    EXPECT_EQ(t->devA->GetDropCount(EmuNicDrop::TxFragment), fragments)
        << "every fragment is dropped and counted";
    ASSERT_EQ(sink->received.size(), 2u);
    EXPECT_EQ(sink->received[0], before);
    EXPECT_EQ(sink->received[1], after);
    ExpectOnlyWholeEspFromA(*wire);
    EXPECT_EQ(EspCountFromA(*wire), 2u);
    ExpectOnlyDrops(*t, {{"devA.TxFragmentDrop", fragments}}, "packet");
}

// Scapy's first, middle and last fragments, and two overlapping ones, handed to the device as a
// raw socket (transport) or the forwarding path (tunnel) would: all dropped, all counted.
TEST_P(PKT_FRAG_TX_DROP, CraftedFirstMiddleLastAndOverlapping)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    std::vector<Bytes> fragments =
        ScapyFragments(ScapyUdpAToB(*t, DatagramPayload(4, 1000)), 400, 71);
    ASSERT_EQ(fragments.size(), 3u) << "first, middle, last";
    const std::vector<Bytes> overlap =
        ScapyOverlapping(ScapyUdpAToB(*t, DatagramPayload(5, 600)), 304, 72);
    ASSERT_EQ(overlap.size(), 2u);
    fragments.insert(fragments.end(), overlap.begin(), overlap.end());
    Time at = Seconds(1);
    for (const Bytes& f : fragments)
    {
        ScheduleInject(at, t->devA, t->devB, f);
        at += MilliSeconds(1);
    }
    const Bytes after = DatagramPayload(6, 300);
    ScheduleDatagram(sender, at + MilliSeconds(10), after);
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    EXPECT_EQ(t->devA->GetDropCount(EmuNicDrop::TxFragment), fragments.size());
    ASSERT_EQ(sink->received.size(), 1u) << "no fragment may reach B";
    EXPECT_EQ(sink->received[0], after);
    ExpectOnlyWholeEspFromA(*wire);
    EXPECT_EQ(EspCountFromA(*wire), 1u);
    ExpectOnlyDrops(*t, {{"devA.TxFragmentDrop", fragments.size()}}, "packet");
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_FRAG_TX_DROP,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// PKT-FRAG-RX-DROP

using PKT_FRAG_RX_DROP = SimulationTest<Case>;

// Valid ESP for B's offloaded inbound SA, cut by Scapy into first/middle/last fragments and into
// overlapping fragments: the device drops them (at least every first fragment, which names the
// SA), and no reassembled ESP of the offloaded SA reaches the stack. A whole packet still passes.
TEST_P(PKT_FRAG_RX_DROP, EspFragmentsOfOffloadedSa)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    std::vector<Bytes> fragments =
        ScapyFragments(EspToB(*t, 1, DatagramPayload(7, 1200), 81), 512, 81);
    ASSERT_EQ(fragments.size(), 3u) << "first, middle, last";
    const std::vector<Bytes> overlap =
        ScapyOverlapping(EspToB(*t, 2, DatagramPayload(8, 700), 82), 400, 82);
    fragments.insert(fragments.end(), overlap.begin(), overlap.end());
    Time at = Seconds(1);
    for (const Bytes& f : fragments)
    {
        ScheduleInject(at, t->devA, t->devB, f);
        at += MilliSeconds(1);
    }
    const Bytes whole = DatagramPayload(9, 300);
    ScheduleInject(at + MilliSeconds(10), t->devA, t->devB, EspToB(*t, 3, whole, 83));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    ASSERT_EQ(sink->received.size(), 1u) << "no fragmented ESP may be delivered";
    EXPECT_EQ(sink->received[0], whole);
    const uint64_t rxFragment = t->devB->GetDropCount(EmuNicDrop::RxFragment);
    RecordEvidence("devB.RxFragmentDrop", rxFragment);
    EXPECT_GE(rxFragment, 2u) << "the first fragment of each ESP packet is dropped and counted";
    EXPECT_LE(rxFragment, fragments.size());
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateMismatch), 0u)
        << "fragments were passed up and reassembled into ESP of a packet-offloaded SA";
    EXPECT_EQ(t->stackB->GetDropCount(XfrmDrop::InStateProtoError), 0u);
    EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxAuthFail), 0u);
    EXPECT_EQ(t->devB->GetDropCount(EmuNicDrop::RxReplay), 0u);
}

// Plaintext fragments of a datagram that B's offloaded inbound policy selects (it asks for ESP):
// the device drops them (the vendor guide: "also plaintext fragments your inbound policies
// select"), or the host's policy check does once they are reassembled (Linux
// __xfrm_policy_check: no secpath, XfrmInTmplMismatch); either way none is delivered. Protected
// traffic after them still is.
TEST_P(PKT_FRAG_RX_DROP, PlaintextFragmentsAnInboundPolicySelectsNeverDelivered)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    // Only B has IPsec: A's device is a plain wire for the crafted packets.
    TopologyOptions opt = OptionsOf(c);
    opt.installIpsec = false;
    auto t = BuildTestTopology(opt);
    t->inB = t->AddSa(true, false, XfrmOffloadType::Packet, {});
    ASSERT_TRUE(t->inB && t->inB->IsOffloaded(XfrmOffloadType::Packet));
    t->AddPolicy(false, XfrmDir::In, XfrmOffloadType::Packet);
    if (t->Tunnel())
    {
        t->AddPolicy(false, XfrmDir::Fwd, XfrmOffloadType::None);
    }
    auto wire = CaptureWire(t->devA, t->devB);
    auto sink = InstallUdpSink(t->hostB);
    const Bytes plain = DatagramPayload(10, 1200);
    std::vector<Bytes> fragments = ScapyFragments(ScapyUdpAToB(*t, plain), 512, 91);
    ASSERT_EQ(fragments.size(), 3u) << "first, middle, last";
    const Bytes overlapped = DatagramPayload(11, 700);
    const std::vector<Bytes> overlap = ScapyOverlapping(ScapyUdpAToB(*t, overlapped), 400, 92);
    fragments.insert(fragments.end(), overlap.begin(), overlap.end());
    Time at = Seconds(1);
    for (const Bytes& f : fragments)
    {
        ScheduleInject(at, t->devA, t->devB, f);
        at += MilliSeconds(1);
    }
    const Bytes after = DatagramPayload(12, 300);
    ScheduleInject(at + MilliSeconds(10), t->devA, t->devB, EspToB(*t, 1, after, 93));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    for (const Bytes& got : sink->received)
    {
        EXPECT_FALSE(got == plain || got == overlapped)
            << "a plaintext datagram the inbound policy requires protected was delivered";
    }
    ASSERT_EQ(sink->received.size(), 1u);
    EXPECT_EQ(sink->received[0], after);
    RecordEvidence("devB.RxFragmentDrop", t->devB->GetDropCount(EmuNicDrop::RxFragment));
    RecordEvidence("stackB.InTmplMismatch", t->stackB->GetDropCount(XfrmDrop::InTmplMismatch));
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_FRAG_RX_DROP,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// FRAG-SW-CRYPTO-HANDLED

using FRAG_SW_CRYPTO_HANDLED = SimulationTest<Case>;

// Too big after ESP: protected first, then fragmented; B reassembles and decrypts. Scapy's ESP,
// after reassembling the wire, finds exactly the datagrams sent.
TEST_P(FRAG_SW_CRYPTO_HANDLED, OversizeDatagramFragmentedAfterEsp)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    const std::vector<Bytes> sent{DatagramPayload(1, 400),
                                  DatagramPayload(2, kBigDatagram),
                                  DatagramPayload(3, 1472),
                                  DatagramPayload(4, 500)};
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(100));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    ASSERT_EQ(sink->received.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i)
    {
        EXPECT_EQ(sink->received[i], sent[i]) << "datagram " << i;
    }
    uint32_t espFragments = 0;
    for (const WirePacket* w : wire->From(true))
    {
        EXPECT_EQ(IpProtocol(w->ip), kProtoEsp) << "plaintext on the IPsec link";
        EXPECT_FALSE(Contains(w->ip, PlaintextMarker())) << "plaintext payload on the wire";
        EXPECT_LE(w->ip.size(), kLinkMtu);
        espFragments += IsFragment(w->ip) ? 1 : 0;
    }
    EXPECT_GE(espFragments, 4u) << "the 3000- and 1472-byte datagrams cross as ESP fragments";
    EXPECT_EQ(OracleUdpData(*t, *wire), sent) << "Scapy's ESP disagrees with what was sent";
    ExpectOnlyDrops(*t, {}, DataPathName(c.mode));
}

// Scapy's first, middle and last fragments of valid ESP for B: reassembled, decrypted, delivered.
TEST_P(FRAG_SW_CRYPTO_HANDLED, CraftedEspFragmentsReassembled)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    const Bytes first = DatagramPayload(7, 1200);
    const std::vector<Bytes> fragments = ScapyFragments(EspToB(*t, 1, first, 81), 512, 81);
    ASSERT_EQ(fragments.size(), 3u) << "first, middle, last";
    // Out of order: last, first, middle.
    ScheduleInject(Seconds(1), t->devA, t->devB, fragments[2]);
    ScheduleInject(Seconds(1.001), t->devA, t->devB, fragments[0]);
    ScheduleInject(Seconds(1.002), t->devA, t->devB, fragments[1]);
    const Bytes whole = DatagramPayload(9, 300);
    ScheduleInject(Seconds(1.1), t->devA, t->devB, EspToB(*t, 2, whole, 83));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    ASSERT_EQ(sink->received.size(), 2u);
    EXPECT_EQ(sink->received[0], first);
    EXPECT_EQ(sink->received[1], whole);
    ExpectOnlyDrops(*t, {}, DataPathName(c.mode));
}

INSTANTIATE_TEST_SUITE_P(,
                         FRAG_SW_CRYPTO_HANDLED,
                         testing::ValuesIn(Cases({XfrmOffloadType::None, XfrmOffloadType::Crypto})),
                         CaseName);

// =============================================================================================
// PKT-PMTU-DROP

using PKT_PMTU_DROP = SimulationTest<Case>;

// 1470 bytes of UDP fit the link in plaintext but not after ESP: dropped before the wire and
// counted; what fits after ESP still goes, and nothing larger than the MTU is ever sent.
TEST_P(PKT_PMTU_DROP, TooBigAfterEspNeverReachesTheWire)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    const uint32_t inner = GcmInnerMtu(c.ipMode);
    const Bytes tooBig = DatagramPayload(1, 1470);
    const Bytes fits = DatagramPayload(2, inner - 28);
    ASSERT_LE(28 + tooBig.size(), kLinkMtu);
    ASSERT_GT(28 + tooBig.size(), inner);
    ScheduleDatagram(sender, Seconds(1), tooBig);
    ScheduleDatagram(sender, Seconds(1.1), fits);
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);

    EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutError), 1u);
    ASSERT_EQ(sink->received.size(), 1u);
    EXPECT_EQ(sink->received[0], fits) << "the largest packet that fits after ESP must pass";
    ExpectOnlyWholeEspFromA(*wire);
    EXPECT_EQ(EspCountFromA(*wire), 1u);
    ExpectOnlyDrops(*t, {{"stackA.XfrmOutError", 1}}, "packet");
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_PMTU_DROP,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// PKT-PMTU-NOTIFY

using PKT_PMTU_NOTIFY = SimulationTest<Case>;

// The sender's socket learns "fragmentation needed" with the MTU it must use: a local error
// (transport: the sender is the IPsec end) or ICMP from the gateway (tunnel). That MTU is Linux's
// xfrm_state_mtu, and it is exact: a packet of that size passes, one byte more is dropped again.
TEST_P(PKT_PMTU_NOTIFY, SenderLearnsTheExactMtu)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    auto [t, wire, sink, sender] = BuildRig(c, c.mode);
    ASSERT_TRUE(t->outA && t->inB);
    const uint32_t expected = GcmInnerMtu(c.ipMode);
    ScheduleDatagram(sender, Seconds(1), DatagramPayload(1, 1470));
    RunUntil(Seconds(1.5));
    ASSERT_EQ(sender->icmp.size(), 1u) << "the sender was not told";
    const IcmpRecord told = sender->icmp[0];
    EXPECT_EQ(told.type, Icmpv4Header::ICMPV4_DEST_UNREACH);
    EXPECT_EQ(told.code, Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED);
    EXPECT_EQ(told.info, expected) << "MTU after ESP (Linux xfrm_state_mtu)";
    RecordEvidence("notifiedMtu", told.info);
    ASSERT_GT(told.info, 28u);
    ASSERT_LE(told.info, kLinkMtu);

    // Obey it: exactly the MTU told passes, one byte more does not.
    const Bytes atMtu = DatagramPayload(2, told.info - 28);
    ScheduleDatagram(sender, Seconds(1.6), atMtu);
    ScheduleDatagram(sender, Seconds(1.7), DatagramPayload(3, told.info - 27));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire);
    ASSERT_EQ(sink->received.size(), 1u);
    EXPECT_EQ(sink->received[0], atMtu);
    ASSERT_EQ(sender->icmp.size(), 2u) << "one notification per dropped packet";
    EXPECT_EQ(sender->icmp[1].info, told.info);
    EXPECT_EQ(t->stackA->GetDropCount(XfrmDrop::OutError), 2u);
    ExpectOnlyWholeEspFromA(*wire);
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_PMTU_NOTIFY,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// PKT-PMTU-TCP-RECOVERS

using PKT_PMTU_TCP_RECOVERS = SimulationTest<Case>;

// A TCP connection whose segments (MSS 1448) fit the link but not the link plus ESP: the first
// full segments are dropped by the PMTU check, the sender lowers its segment size, and every byte
// arrives, in order.
TEST_P(PKT_PMTU_TCP_RECOVERS, EveryByteDelivered)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    TopologyOptions opt = OptionsOf(c);
    auto t = BuildTestTopology(opt);
    ASSERT_TRUE(t->outA && t->inB);
    auto wire = CaptureWire(t->devA, t->devB);

    Bytes data(200000);
    for (size_t i = 0; i < data.size(); ++i)
    {
        data[i] = uint8_t(i * 13 + i / 256);
    }
    auto received = std::make_shared<Bytes>();
    Ptr<Socket> listener = Socket::CreateSocket(t->hostB, TcpSocketFactory::GetTypeId());
    listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), kUdpPort));
    listener->Listen();
    listener->SetAcceptCallback(
        MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
        Callback<void, Ptr<Socket>, const Address&>([received](Ptr<Socket> s, const Address&) {
            s->SetRecvCallback(Callback<void, Ptr<Socket>>([received](Ptr<Socket> r) {
                while (Ptr<Packet> p = r->Recv())
                {
                    const Bytes b = PacketBytes(p);
                    received->insert(received->end(), b.begin(), b.end());
                }
            }));
        }));

    Ptr<Socket> client = Socket::CreateSocket(t->hostA, TcpSocketFactory::GetTypeId());
    client->SetAttribute("SegmentSize", UintegerValue(1448));
    // The host's PMTU discovery (Linux's tcp_v4_mtu_reduced), which ns-3 TCP lacks.
    Ptr<TcpPmtuAdapter> pmtu = TcpPmtuAdapter::Attach(client);
    auto offset = std::make_shared<size_t>(0);
    auto push = [data, offset](Ptr<Socket> s, uint32_t) {
        while (*offset < data.size() && s->GetTxAvailable() > 0)
        {
            const uint32_t n = std::min<size_t>(s->GetTxAvailable(), data.size() - *offset);
            const int sent = s->Send(data.data() + *offset, n, 0);
            if (sent <= 0)
            {
                return;
            }
            *offset += sent;
        }
    };
    client->SetSendCallback(Callback<void, Ptr<Socket>, uint32_t>(push));
    client->SetConnectCallback(Callback<void, Ptr<Socket>>([push](Ptr<Socket> s) { push(s, 0); }),
                               MakeNullCallback<void, Ptr<Socket>>());
    Simulator::Schedule(Seconds(1), [client, &t]() {
        client->Connect(InetSocketAddress(t->hostAddrB, kUdpPort));
    });
    RunUntil(Seconds(20));
    SaveEvidence(*t, *wire);

    RecordEvidence("tcpBytesDelivered", received->size());
    const uint32_t adaptations = pmtu->GetAdaptations();
    RecordEvidence("pmtuAdaptations", adaptations);
    EXPECT_GE(t->stackA->GetDropCount(XfrmDrop::OutError), 1u)
        << "1448-byte segments do not fit after ESP and must meet the PMTU check";
    EXPECT_GE(adaptations, 1u) << "the sender was never told the MTU";
    EXPECT_EQ(received->size(), data.size()) << "TCP did not recover";
    EXPECT_TRUE(*received == data) << "bytes delivered differ from bytes sent";
    ExpectOnlyWholeEspFromA(*wire);
}

INSTANTIATE_TEST_SUITE_P(,
                         PKT_PMTU_TCP_RECOVERS,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// ALLOW-PKT-FRAGMENTS

/// The delivered datagrams and drops of one run of the fragment script.
struct FragmentRun
{
    std::vector<Bytes> delivered;
    std::map<std::string, uint64_t> drops;
    size_t espFromA{0};
};

/// Whole datagrams, a 3000-byte one that ns-3 fragments, and Scapy fragments of valid ESP for
/// B, in one script; run through the given mode.
FragmentRun
RunFragmentScript(const Case& c,
                  XfrmOffloadType mode,
                  std::vector<Bytes>* wholeOnly,
                  std::vector<Bytes>* all)
{
    auto [t, wire, sink, sender] = BuildRig(c, mode);
    EXPECT_TRUE(t->outA && t->inB);
    const Bytes w1 = DatagramPayload(1, 200);
    const Bytes big = DatagramPayload(2, kBigDatagram);
    const Bytes w2 = DatagramPayload(3, 900);
    const Bytes crafted = DatagramPayload(4, 1200);
    const Bytes w3 = DatagramPayload(5, 64);
    ScheduleDatagram(sender, Seconds(1), w1);
    ScheduleDatagram(sender, Seconds(1.1), big);
    ScheduleDatagram(sender, Seconds(1.2), w2);
    // High sequence number: above whatever the socket traffic used, in every mode.
    Time at = Seconds(1.3);
    for (const Bytes& f : ScapyFragments(EspToB(*t, 100, crafted, 91), 512, 91))
    {
        ScheduleInject(at, t->devA, t->devB, f);
        at += MilliSeconds(1);
    }
    ScheduleInject(Seconds(1.4), t->devA, t->devB, EspToB(*t, 101, w3, 92));
    RunUntil(Seconds(2));
    SaveEvidence(*t, *wire, std::string("-") + DataPathName(mode));
    *wholeOnly = {w1, w2, w3};
    *all = {w1, big, w2, crafted, w3};
    FragmentRun run;
    run.delivered = sink->received;
    run.drops = DropCounters(*t);
    run.espFromA = EspCountFromA(*wire);
    return run;
}

using ALLOW_PKT_FRAGMENTS = SimulationTest<Case>;

// Differential: software IPsec delivers everything; packet offload delivers the same except the
// fragmented datagrams, each of which it drops and counts. No other difference.
TEST_P(ALLOW_PKT_FRAGMENTS, OnlyFragmentsDiffer)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    CONFORMANCE_SKIP_WITHOUT_SCAPY();
    std::vector<Bytes> whole;
    std::vector<Bytes> all;
    const FragmentRun sw = RunFragmentScript(c, XfrmOffloadType::None, &whole, &all);
    Simulator::Destroy();
    const FragmentRun packet = RunFragmentScript(c, c.mode, &whole, &all);

    EXPECT_EQ(sw.delivered, all) << "software IPsec must carry every datagram";
    EXPECT_EQ(packet.delivered, whole) << "packet offload may drop only the fragmented datagrams";
    for (const auto& [name, value] : sw.drops)
    {
        EXPECT_EQ(value, 0u) << "sw: " << name;
    }
    for (const auto& [name, value] : packet.drops)
    {
        if (name == "devA.TxFragmentDrop")
        {
            EXPECT_EQ(value, 3u) << "the three fragments of the local datagram";
        }
        else if (name == "devB.RxFragmentDrop")
        {
            EXPECT_GE(value, 1u) << "the crafted ESP fragments";
            EXPECT_LE(value, 3u);
        }
        else
        {
            EXPECT_EQ(value, 0u) << "packet: " << name;
        }
    }
    // The two whole socket datagrams as ESP, and the four crafted ESP packets injected at A.
    EXPECT_EQ(packet.espFromA, 2u + 4u) << "the fragmented socket datagram left as ESP";
}

INSTANTIATE_TEST_SUITE_P(,
                         ALLOW_PKT_FRAGMENTS,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

// =============================================================================================
// ALLOW-PKT-PMTU

using ALLOW_PKT_PMTU = SimulationTest<Case>;

// Differential: datagrams around the MTU after ESP. Software IPsec delivers all (fragmenting after
// ESP) and tells the sender nothing; packet offload delivers the same except those too big after
// ESP, each dropped, counted and notified. No other difference.
TEST_P(ALLOW_PKT_PMTU, OnlyTooBigAfterEspDiffers)
{
    const Case c = GetParam();
    CONFORMANCE_SKIP_UNLESS_OFFERED(c);
    const uint32_t inner = GcmInnerMtu(c.ipMode);
    const std::vector<Bytes> sent{DatagramPayload(1, 1000),
                                  DatagramPayload(2, inner - 28),
                                  DatagramPayload(3, inner - 27),
                                  DatagramPayload(4, 1472),
                                  DatagramPayload(5, 100)};
    std::vector<Bytes> fitting;
    for (const Bytes& s : sent)
    {
        if (28 + s.size() <= inner)
        {
            fitting.push_back(s);
        }
    }
    ASSERT_EQ(fitting.size(), 3u);
    for (XfrmOffloadType mode : {XfrmOffloadType::None, c.mode})
    {
        SCOPED_TRACE(DataPathName(mode));
        auto [t, wire, sink, sender] = BuildRig(c, mode);
        ASSERT_TRUE(t->outA && t->inB);
        ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(10));
        RunUntil(Seconds(2));
        SaveEvidence(*t, *wire, std::string("-") + DataPathName(mode));
        if (mode == XfrmOffloadType::None)
        {
            EXPECT_EQ(sink->received, sent);
            EXPECT_TRUE(sender->icmp.empty());
            ExpectOnlyDrops(*t, {}, "sw");
        }
        else
        {
            EXPECT_EQ(sink->received, fitting);
            EXPECT_EQ(sender->icmp.size(), sent.size() - fitting.size());
            ExpectOnlyDrops(*t, {{"stackA.XfrmOutError", sent.size() - fitting.size()}}, "packet");
            ExpectOnlyWholeEspFromA(*wire);
        }
        Simulator::Destroy();
    }
}

INSTANTIATE_TEST_SUITE_P(,
                         ALLOW_PKT_PMTU,
                         testing::ValuesIn(Cases({XfrmOffloadType::Packet})),
                         CaseName);

} // namespace
