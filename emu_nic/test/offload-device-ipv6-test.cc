// ABI v5: IPv6 through the device ABI. The struct layout (append-only), the EmuNic's refusal of
// IPv6 SAs and policies for an IPv4-only device, and the reference device's IPv6 data path
// between two instances: transport mode with extension headers before ESP (where RFC 4303
// section 3.1.1 and Linux's ip6_find_1stfragopt put it), tunnels 6-in-6, 4-in-6 and 6-in-4,
// fragments, replay, malformed input, and the IPv6 mutants. Every ESP packet the device writes
// is decrypted by Scapy's ESP (an implementation nobody here wrote), and for IPv6 outer headers
// must equal, byte for byte, what Scapy's ESP encrypts from the same plaintext.

#include "device-abi-convert.h"
#include "emu-nic-net-device.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "offload-device-type.h"
#include "reference-offload-engine.h"

#include "ns3/node.h"
#include "ns3/string.h"

#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>
#include <pybind11/embed.h>

using namespace ns3;
namespace py = pybind11;

namespace
{

using Bytes = std::vector<uint8_t>;

const Ipv6Address kA("2001:db8::1");
const Ipv6Address kB("2001:db8::2");
const Ipv6Address kGa("2001:db8:ff::1");
const Ipv6Address kGb("2001:db8:ff::2");
const Ipv4Address kA4("10.0.0.1");
const Ipv4Address kB4("10.0.0.2");
const Ipv4Address kGa4("192.0.2.1");
const Ipv4Address kGb4("192.0.2.2");
constexpr uint32_t kSpi = 0x1001;
constexpr uint32_t kMtu = 1500;

Bytes
Key()
{
    Bytes key(20); // AES-128 key, then the 4-byte salt
    for (size_t i = 0; i < key.size(); ++i)
    {
        key[i] = uint8_t(0x11 * (i + 1));
    }
    return key;
}

// ---- Scapy's ESP, through an interpreter of this test's own ----

const char* const kOracle = R"PY(
import struct
from scapy.compat import raw
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation

def _sa(key, spi, tunnel, outer6, src, dst):
    kw = dict(spi=spi, crypt_algo='AES-GCM', crypt_key=key)
    if tunnel:
        kw['tunnel_header'] = IPv6(src=src, dst=dst) if outer6 else IP(src=src, dst=dst)
    return SecurityAssociation(ESP, **kw)

def decrypt(data, key, spi, tunnel):
    outer6 = data[0] >> 4 == 6
    pkt = IPv6(data) if outer6 else IP(data)
    any = '::' if outer6 else '0.0.0.0'
    return raw(_sa(key, spi, tunnel, outer6, any, any).decrypt(pkt))

def encrypt6(data, key, spi, seq, tunnel, src, dst):
    inner = IPv6(data) if data[0] >> 4 == 6 else IP(data)
    sa = _sa(key, spi, tunnel, True, src, dst)
    return raw(sa.encrypt(inner, seq_num=seq, iv=struct.pack('>Q', seq)))
)PY";

struct Oracle
{
    bool ok{false};
    std::string why;
    py::object decrypt;
    py::object encrypt6;
};

Oracle&
GetOracle()
{
    // Never destroyed: Python objects must not outlive (or die after) the interpreter.
    static Oracle* oracle = [] {
        auto* o = new Oracle;
        try
        {
            PyConfig config;
            PyConfig_InitIsolatedConfig(&config); // Debian's Scapy, whatever PYTHONPATH says
            config.install_signal_handlers = 0;
            config.write_bytecode = 0;
            PyConfig_SetBytesString(&config, &config.program_name, "/usr/bin/python3");
            new py::scoped_interpreter(&config, 0, nullptr, false);
            py::dict globals;
            py::exec(kOracle, globals);
            o->decrypt = globals["decrypt"];
            o->encrypt6 = globals["encrypt6"];
            o->ok = true;
        }
        catch (const std::exception& e)
        {
            o->why = e.what();
        }
        return o;
    }();
    return *oracle;
}

py::bytes
PyBytes(const Bytes& b)
{
    return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
}

Bytes
FromPy(const py::object& o)
{
    const std::string s = o.cast<std::string>();
    return Bytes(s.begin(), s.end());
}

bool
ScapyDecrypt(const Bytes& packet, bool tunnel, Bytes* out, std::string* why)
{
    try
    {
        *out = FromPy(GetOracle().decrypt(PyBytes(packet), PyBytes(Key()), kSpi, tunnel));
        return true;
    }
    catch (const std::exception& e)
    {
        *why = e.what();
        return false;
    }
}

Bytes
ScapyEncrypt6(const Bytes& plain, uint64_t seq, bool tunnel)
{
    return FromPy(GetOracle().encrypt6(PyBytes(plain),
                                       PyBytes(Key()),
                                       kSpi,
                                       seq,
                                       tunnel,
                                       "2001:db8:ff::1",
                                       "2001:db8:ff::2"));
}

// ---- packets ----

/// Extension headers by name: "hbh" and "dst" (8 bytes, PadN), "rt" (type 0, one address,
/// no segments left: the packet is at its final destination), "frag" (atomic Fragment).
Bytes
Ext(const std::string& name)
{
    if (name == "rt")
    {
        Bytes rt{0, 2, 0, 0, 0, 0, 0, 0};
        uint8_t hop[16];
        Ipv6Address("2001:db8::99").GetBytes(hop);
        rt.insert(rt.end(), hop, hop + 16);
        return rt;
    }
    if (name == "frag")
    {
        return Bytes{0, 0, 0, 0, 0, 0, 0x12, 0x34};
    }
    return Bytes{0, 0, 1, 4, 0, 0, 0, 0}; // hbh, dst
}

uint8_t
TypeOf(const std::string& name)
{
    return name == "hbh"    ? kIpProtoHopByHop
           : name == "rt"   ? kIpProtoRouting
           : name == "frag" ? kIpProtoFragment
                            : kIpProtoDestOpts;
}

/// IPv6 + the extension headers + UDP (4321 -> 5002) with size payload bytes and its checksum.
Bytes
Udp6(Ipv6Address src, Ipv6Address dst, const std::vector<std::string>& exts, uint32_t size = 64)
{
    Bytes udp(8 + size);
    for (uint32_t i = 0; i < size; ++i)
    {
        udp[8 + i] = uint8_t(i * 7 + 3);
    }
    udp[0] = 4321 >> 8;
    udp[1] = 4321 & 0xff;
    udp[2] = 5002 >> 8;
    udp[3] = 5002 & 0xff;
    udp[4] = uint8_t(udp.size() >> 8);
    udp[5] = uint8_t(udp.size());
    const uint16_t sum = L4ChecksumV6(src, dst, kIpProtoUdp, udp.data(), udp.size());
    udp[6] = uint8_t(sum >> 8);
    udp[7] = uint8_t(sum);
    Bytes chain;
    for (size_t i = 0; i < exts.size(); ++i)
    {
        Bytes e = Ext(exts[i]);
        e[0] = i + 1 < exts.size() ? TypeOf(exts[i + 1]) : kIpProtoUdp;
        chain.insert(chain.end(), e.begin(), e.end());
    }
    Bytes p(kIpv6HeaderLength);
    WriteIpv6Header(p.data(),
                    src,
                    dst,
                    exts.empty() ? kIpProtoUdp : TypeOf(exts[0]),
                    uint16_t(chain.size() + udp.size()),
                    64);
    p.insert(p.end(), chain.begin(), chain.end());
    p.insert(p.end(), udp.begin(), udp.end());
    return p;
}

Bytes
Udp4(Ipv4Address src, Ipv4Address dst, uint32_t size = 64)
{
    Bytes p(20 + 8 + size);
    for (uint32_t i = 0; i < size; ++i)
    {
        p[28 + i] = uint8_t(i * 5 + 1);
    }
    uint8_t* udp = p.data() + 20;
    udp[0] = 4321 >> 8;
    udp[1] = 4321 & 0xff;
    udp[2] = 5002 >> 8;
    udp[3] = 5002 & 0xff;
    udp[4] = uint8_t((8 + size) >> 8);
    udp[5] = uint8_t(8 + size);
    const uint16_t sum = L4Checksum(src, dst, kIpProtoUdp, udp, 8 + size);
    udp[6] = uint8_t(sum >> 8);
    udp[7] = uint8_t(sum);
    WriteIpv4Header(p.data(), src, dst, kIpProtoUdp, uint16_t(p.size()), 64, 7);
    return p;
}

// ---- a device instance behind the ABI table ----

struct HostLog
{
    int expires{0};
    int mtuCalls{0};
    uint32_t mtu{0};
    uint32_t mtuLength{0};
};

void
OnExpire(void* ctx, uint64_t)
{
    ++static_cast<HostLog*>(ctx)->expires;
}

void
OnMtu(void* ctx, const uint8_t*, uint32_t len, uint32_t mtu)
{
    auto* log = static_cast<HostLog*>(ctx);
    ++log->mtuCalls;
    log->mtu = mtu;
    log->mtuLength = len;
}

class Device
{
  public:
    explicit Device(const olab_device_ops& ops = ReferenceOffloadEngine::GetOps())
        : m_ops(ops)
    {
        const olab_host host{sizeof(olab_host), &m_log, &OnExpire, &OnMtu};
        const olab_config config{sizeof(olab_config),
                                 16,
                                 16,
                                 OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM};
        char error[256] = {};
        m_dev = m_ops.create(&host, &config, error, sizeof(error));
        EXPECT_NE(m_dev, nullptr) << error;
    }

    ~Device()
    {
        m_ops.destroy(m_dev);
    }

    uint64_t AddSa(const olab_sa& sa, std::string* reason = nullptr)
    {
        uint64_t handle = 0;
        char text[256] = {};
        const int r = m_ops.state_add(m_dev, &sa, &handle, text, sizeof(text));
        if (reason)
        {
            *reason = text;
        }
        return r == OLAB_OK ? handle : 0;
    }

    uint64_t AddPolicy(const olab_policy& p)
    {
        uint64_t handle = 0;
        char text[256] = {};
        EXPECT_EQ(m_ops.policy_add(m_dev, &p, &handle, text, sizeof(text)), OLAB_OK) << text;
        return handle;
    }

    int Tx(Bytes& packet, uint32_t* reason, const olab_tx_meta* meta = nullptr, uint32_t mtu = kMtu)
    {
        uint32_t len = packet.size();
        packet.resize(len + 512);
        const int v = m_ops.tx(m_dev, packet.data(), &len, packet.size(), meta, mtu, reason);
        packet.resize(v == OLAB_DONE ? len : packet.size() - 512);
        return v;
    }

    int Rx(Bytes& packet, olab_rx_info* info, uint32_t* reason)
    {
        uint32_t len = packet.size();
        packet.resize(len + 512);
        *info = olab_rx_info{};
        info->size = sizeof(*info);
        const int v = m_ops.rx(m_dev, packet.data(), &len, packet.size(), info, reason);
        packet.resize(v == OLAB_DONE ? len : packet.size() - 512);
        return v;
    }

    HostLog m_log;

  private:
    const olab_device_ops& m_ops;
    void* m_dev{nullptr};
};

/// An SA as the EmuNic fills it (IPv4 fields for IPv4, the v5 fields always).
olab_sa
MakeSa(uint8_t dir,
       uint8_t type,
       uint8_t mode,
       XfrmAddress saddr,
       XfrmAddress daddr,
       const XfrmSelector& sel)
{
    olab_sa sa{};
    sa.size = sizeof(sa);
    sa.host_id = sa.serial = dir + 1;
    sa.dir = dir;
    sa.type = type;
    sa.mode = mode;
    sa.saddr = AbiIpv4Of(saddr);
    sa.daddr = AbiIpv4Of(daddr);
    sa.spi = kSpi;
    sa.sel = AbiSelectorOf(sel);
    sa.algorithm = OLAB_ALG_AES_GCM;
    const Bytes key = Key();
    std::copy(key.begin(), key.end(), sa.enc_key);
    sa.enc_key_len = key.size();
    sa.icv_len = 16;
    sa.replay_window = 32;
    sa.soft_byte_limit = sa.hard_byte_limit = OLAB_INFINITY;
    sa.soft_packet_limit = sa.hard_packet_limit = OLAB_INFINITY;
    sa.family = AbiFamilyOf(daddr);
    AbiAddress6Of(saddr, sa.saddr6);
    AbiAddress6Of(daddr, sa.daddr6);
    sa.sel6 = AbiSelector6Of(sel);
    return sa;
}

olab_policy
MakePolicy(uint8_t dir, uint8_t mode, const XfrmSelector& sel, XfrmAddress ts, XfrmAddress td)
{
    olab_policy p{};
    p.size = sizeof(p);
    p.serial = dir + 1;
    p.dir = dir;
    p.tmpl_mode = mode;
    p.sel = AbiSelectorOf(sel);
    p.tmpl_saddr = AbiIpv4Of(ts);
    p.tmpl_daddr = AbiIpv4Of(td);
    p.sel6 = AbiSelector6Of(sel);
    p.tmpl_family = mode == OLAB_MODE_TUNNEL ? AbiFamilyOf(td) : p.sel6.family;
    AbiAddress6Of(ts, p.tmpl_saddr6);
    AbiAddress6Of(td, p.tmpl_daddr6);
    return p;
}

/// A sends to B through packet-offloaded SAs: the inner hosts' selector, the outer addresses
/// (the hosts themselves in transport mode).
struct Pair
{
    Pair(uint8_t mode,
         XfrmAddress src,
         XfrmAddress dst,
         XfrmAddress outerSrc,
         XfrmAddress outerDst,
         const olab_device_ops& txOps = ReferenceOffloadEngine::GetOps(),
         const olab_device_ops& rxOps = ReferenceOffloadEngine::GetOps())
        : a(txOps),
          b(rxOps)
    {
        const XfrmSelector sel = XfrmSelector::Hosts(src, dst);
        std::string why;
        EXPECT_NE(
            a.AddSa(MakeSa(OLAB_DIR_OUT, OLAB_OFFLOAD_PACKET, mode, outerSrc, outerDst, sel), &why),
            0u)
            << why;
        EXPECT_NE(
            b.AddSa(MakeSa(OLAB_DIR_IN, OLAB_OFFLOAD_PACKET, mode, outerSrc, outerDst, sel), &why),
            0u)
            << why;
        a.AddPolicy(MakePolicy(OLAB_DIR_OUT, mode, sel, outerSrc, outerDst));
        b.AddPolicy(MakePolicy(OLAB_DIR_IN, mode, sel, outerSrc, outerDst));
    }

    Device a;
    Device b;
};

class Ipv6DeviceTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        if (!GetOracle().ok)
        {
            GTEST_SKIP() << "Scapy unavailable: " << GetOracle().why;
        }
    }
};

/// Where ESP must go in transport mode (RFC 4303 3.1.1 as Linux's ip6_find_1stfragopt and
/// Scapy's split_for_transport read it): after Hop-by-Hop, Routing, and Destination Options
/// unless a Routing header came before them (those are for the final destination only).
uint32_t
ExpectedSplit(const std::vector<std::string>& exts)
{
    uint32_t split = kIpv6HeaderLength;
    bool routing = false;
    for (const std::string& e : exts)
    {
        if (e == "frag" || (e == "dst" && routing))
        {
            break;
        }
        routing = routing || e == "rt";
        split += Ext(e).size();
    }
    return split;
}

/// "" when out is plain's transport-mode ESP with ESP at split, or what is wrong.
std::string
CheckTransport(const Bytes& plain, const Bytes& out, uint32_t split)
{
    std::ostringstream why;
    if (out.size() < split + 16 || out[0] >> 4 != 6)
    {
        return "too short or not IPv6";
    }
    // The header before ESP: the last one wholly before split (a Routing header is 24 bytes).
    uint32_t prev = 6;
    for (uint32_t at = kIpv6HeaderLength; at < split; at += (plain[at + 1] + 1) * 8u)
    {
        prev = at;
    }
    if (out[prev] != kIpProtoEsp)
    {
        why << "the next header before byte " << split << " is " << int(out[prev]) << ", not ESP";
    }
    else if (uint32_t(out[4] << 8 | out[5]) != out.size() - kIpv6HeaderLength)
    {
        why << "payload length " << (out[4] << 8 | out[5]) << " for " << out.size() << " bytes";
    }
    else if (EspTransform::ReadSpi(out.data() + split) != kSpi)
    {
        why << "no SPI at byte " << split;
    }
    else
    {
        for (uint32_t i = 0; i < split; ++i)
        {
            if (i != prev && i != 4 && i != 5 && out[i] != plain[i])
            {
                why << "byte " << i << " before ESP changed";
                break;
            }
        }
    }
    return why.str();
}

// ---- layout ----

TEST(AbiV5, StructsOnlyAppend)
{
    EXPECT_EQ(OLAB_DEVICE_ABI_VERSION, 5u);
    EXPECT_EQ(sizeof(olab_selector6), 40u);
    EXPECT_EQ(offsetof(olab_capabilities, ipv6), offsetof(olab_capabilities, udp_encap) + 4);
    EXPECT_EQ(offsetof(olab_sa, family), offsetof(olab_sa, encap_oa) + 4);
    EXPECT_EQ(offsetof(olab_sa, saddr6), offsetof(olab_sa, family) + 4);
    EXPECT_EQ(offsetof(olab_sa, sel6), offsetof(olab_sa, daddr6) + 16);
    EXPECT_EQ(offsetof(olab_sa, encap_oa6), offsetof(olab_sa, sel6) + 40);
    EXPECT_EQ(offsetof(olab_policy, sel6), offsetof(olab_policy, tmpl_spi) + 4);
    EXPECT_EQ(offsetof(olab_policy, tmpl_saddr6), offsetof(olab_policy, tmpl_family) + 4);
    EXPECT_EQ(offsetof(olab_tx_meta, csum_family), offsetof(olab_tx_meta, gso_segs) + 4);
    EXPECT_EQ(offsetof(olab_rx_info, family), offsetof(olab_rx_info, daddr) + 4);
    EXPECT_EQ(offsetof(olab_rx_info, daddr6), offsetof(olab_rx_info, family) + 4);
    // The v4 fields did not move (their offsets as ABI v4 had them).
    EXPECT_EQ(offsetof(olab_sa, encap_oa), 224u);
    EXPECT_EQ(offsetof(olab_tx_meta, gso_segs), 40u);
    EXPECT_EQ(offsetof(olab_rx_info, daddr), 12u);
    EXPECT_EQ(ReferenceOffloadEngine::GetCapabilities()->ipv6, 1u);
}

// ---- the EmuNic's refusal for an IPv4-only device ----

const olab_capabilities*
V4Capabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.size = offsetof(olab_capabilities, ipv6);
        c.abi_version = 4;
        c.name = "reference-abi-v4";
        c.ipv6 = 1; // beyond its size: the host must not read it
        return c;
    }();
    return &caps;
}

const olab_capabilities*
BadIpv6Capabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.name = "bad-ipv6";
        c.ipv6 = 2;
        return c;
    }();
    return &caps;
}

std::unique_ptr<BuiltinOffloadDevice>
CreateReference(const olab_host& host, const olab_config& config, std::string* error)
{
    return ReferenceOffloadEngine::Create(host, config, error);
}

const OffloadDeviceRegistration g_v4("test:reference-abi-v4",
                                     BuiltinDeviceOps<&V4Capabilities, &CreateReference>(),
                                     920);
const OffloadDeviceRegistration g_bad("test:bad-ipv6",
                                      BuiltinDeviceOps<&BadIpv6Capabilities, &CreateReference>(),
                                      921);

Ptr<XfrmState>
Ipv6State(XfrmOffloadType type)
{
    XfrmStateConfig c;
    c.saddr = kA;
    c.daddr = kB;
    c.spi = kSpi;
    c.sel = XfrmSelector::Hosts(kA, kB);
    c.algorithm = EspAlgorithm::Gcm(Key());
    std::string error;
    auto x = Create<XfrmState>(c, EspTransform::Create(c.algorithm, &error));
    x->GetOffload().type = type;
    x->GetOffload().dir = XfrmDir::Out;
    return x;
}

XfrmOffloadResult
AddIpv6StateBehind(const std::string& device, XfrmOffloadType type)
{
    Ptr<EmuNicNetDevice> nic = CreateObject<EmuNicNetDevice>();
    nic->SetAttribute("Device", StringValue(device));
    return nic->StateAdd(Ipv6State(type));
}

TEST(AbiV5, EmuNicRefusesIpv6SasForAnIpv4OnlyDevice)
{
    for (auto type : {XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
    {
        const XfrmOffloadResult r = AddIpv6StateBehind("test:reference-abi-v4", type);
        EXPECT_EQ(r.status, XfrmOffloadStatus::NotSupported);
        EXPECT_NE(
            r.reason.find("device 'test:reference-abi-v4' is IPv4-only (ABI v4, or ipv6 = 0)"),
            std::string::npos)
            << r.reason;
    }
    // A v5 device built with ipv6 = 0 (the C example device) is refused the same way.
    const XfrmOffloadResult example = AddIpv6StateBehind("example", XfrmOffloadType::Crypto);
    EXPECT_EQ(example.status, XfrmOffloadStatus::NotSupported);
    EXPECT_NE(example.reason.find("IPv4-only"), std::string::npos) << example.reason;
    EXPECT_TRUE(AddIpv6StateBehind("reference", XfrmOffloadType::Packet).IsOk());
}

TEST(AbiV5, EmuNicRefusesIpv6PoliciesForAnIpv4OnlyDevice)
{
    Ptr<EmuNicNetDevice> nic = CreateObject<EmuNicNetDevice>();
    nic->SetAttribute("Device", StringValue("test:reference-abi-v4"));
    XfrmPolicyConfig c;
    c.sel = XfrmSelector::Hosts(kA, kB);
    c.dir = XfrmDir::Out;
    c.offloadType = XfrmOffloadType::Packet;
    const XfrmOffloadResult r = nic->PolicyAdd(Create<XfrmPolicy>(c));
    EXPECT_EQ(r.status, XfrmOffloadStatus::NotSupported);
    EXPECT_NE(r.reason.find("IPv4-only"), std::string::npos) << r.reason;
}

TEST(AbiV5, Ipv6CapabilityOtherThan0Or1IsRefusedNamingTheField)
{
    std::string error;
    EXPECT_FALSE(OffloadDeviceType::Open("test:bad-ipv6", &error));
    EXPECT_NE(error.find("olab_capabilities.ipv6"), std::string::npos) << error;
    auto v4 = OffloadDeviceType::Open("test:reference-abi-v4", &error);
    ASSERT_TRUE(v4) << error;
    EXPECT_EQ(v4->GetCapabilities().ipv6, 0u) << "read beyond a v4 device's size";
}

// ---- the reference: packet offload, transport ----

class TransportChain : public Ipv6DeviceTest,
                       public ::testing::WithParamInterface<std::vector<std::string>>
{
};

TEST_P(TransportChain, EspGoesWhereRfc4303SaysAndRoundTrips)
{
    const std::vector<std::string>& exts = GetParam();
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB);
    const Bytes plain = Udp6(kA, kB, exts);
    Bytes wire = plain;
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE) << reason;
    const uint32_t split = ExpectedSplit(exts);
    EXPECT_EQ(CheckTransport(plain, wire, split), "");
    // Scapy's ESP opens it to the original packet, and seals the original to these bytes.
    Bytes opened;
    std::string why;
    ASSERT_TRUE(ScapyDecrypt(wire, false, &opened, &why)) << why;
    EXPECT_EQ(opened, plain);
    EXPECT_EQ(ScapyEncrypt6(plain, 1, false), wire);
    // The peer device restores the chain and the payload length.
    olab_rx_info info;
    ASSERT_EQ(pair.b.Rx(wire, &info, &reason), OLAB_DONE) << reason;
    EXPECT_EQ(wire, plain);
    EXPECT_EQ(info.kind, OLAB_RX_PACKET_OFFLOAD);
    EXPECT_EQ(info.family, OLAB_FAMILY_IPV6);
    uint8_t b[16];
    kB.GetBytes(b);
    EXPECT_EQ(std::memcmp(info.daddr6, b, 16), 0);
    EXPECT_EQ(info.daddr, 0u);
}

INSTANTIATE_TEST_SUITE_P(Chains,
                         TransportChain,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"hbh"},
                                           std::vector<std::string>{"hbh", "rt"},
                                           std::vector<std::string>{"hbh", "dst", "rt"},
                                           std::vector<std::string>{"rt", "dst"},
                                           std::vector<std::string>{"dst"}));

// ---- tunnels across families ----

struct TunnelCase
{
    const char* name;
    bool inner6;
    bool outer6;
};

class Tunnel : public Ipv6DeviceTest, public ::testing::WithParamInterface<TunnelCase>
{
};

TEST_P(Tunnel, OuterHeaderAndInnerPacketRoundTrip)
{
    const TunnelCase& t = GetParam();
    const XfrmAddress src = t.inner6 ? XfrmAddress(kA) : XfrmAddress(kA4);
    const XfrmAddress dst = t.inner6 ? XfrmAddress(kB) : XfrmAddress(kB4);
    const XfrmAddress gs = t.outer6 ? XfrmAddress(kGa) : XfrmAddress(kGa4);
    const XfrmAddress gd = t.outer6 ? XfrmAddress(kGb) : XfrmAddress(kGb4);
    Pair pair(OLAB_MODE_TUNNEL, src, dst, gs, gd);
    const Bytes plain = t.inner6 ? Udp6(kA, kB, {"hbh"}) : Udp4(kA4, kB4);
    Bytes wire = plain;
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE) << reason;
    if (t.outer6)
    {
        ASSERT_EQ(wire[0] >> 4, 6);
        EXPECT_EQ(wire[6], kIpProtoEsp);
        EXPECT_EQ(wire[7], 64) << "hop limit";
        EXPECT_EQ(uint32_t(wire[4] << 8 | wire[5]), wire.size() - kIpv6HeaderLength);
        EXPECT_EQ(Ipv6DestinationOf(wire.data()), kGb);
        EXPECT_EQ(ScapyEncrypt6(plain, 1, true), wire);
    }
    else
    {
        ASSERT_EQ(wire[0], 0x45);
        EXPECT_EQ(wire[9], kIpProtoEsp);
        EXPECT_EQ(wire[8], 64) << "TTL";
        EXPECT_EQ(uint32_t(wire[2] << 8 | wire[3]), wire.size());
    }
    // Scapy finds the inner packet through the trailer's next header (4 or 41).
    Bytes opened;
    std::string why;
    ASSERT_TRUE(ScapyDecrypt(wire, true, &opened, &why)) << why;
    EXPECT_EQ(opened, plain);
    olab_rx_info info;
    ASSERT_EQ(pair.b.Rx(wire, &info, &reason), OLAB_DONE) << reason;
    EXPECT_EQ(wire, plain);
    EXPECT_EQ(info.family, t.outer6 ? OLAB_FAMILY_IPV6 : OLAB_FAMILY_IPV4);
    EXPECT_EQ(info.daddr, t.outer6 ? 0u : kGb4.Get());
}

INSTANTIATE_TEST_SUITE_P(Families,
                         Tunnel,
                         ::testing::Values(TunnelCase{"SixInSix", true, true},
                                           TunnelCase{"FourInSix", false, true},
                                           TunnelCase{"SixInFour", true, false}),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- drops ----

TEST_F(Ipv6DeviceTest, FragmentsAreDroppedBothWays)
{
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB);
    Bytes fragment = Udp6(kA, kB, {"hbh", "frag"});
    uint32_t reason = 0;
    EXPECT_EQ(pair.a.Tx(fragment, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_TX_FRAGMENT);
    // An ESP packet with a Fragment header before ESP.
    Bytes wire = Udp6(kA, kB, {"hbh"});
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE);
    Bytes frag = Ext("frag");
    frag[0] = kIpProtoEsp;
    wire[kIpv6HeaderLength] = kIpProtoFragment; // hbh now names the Fragment header
    wire.insert(wire.begin() + kIpv6HeaderLength + 8, frag.begin(), frag.end());
    const uint32_t plen = wire.size() - kIpv6HeaderLength;
    wire[4] = uint8_t(plen >> 8);
    wire[5] = uint8_t(plen);
    olab_rx_info info;
    EXPECT_EQ(pair.b.Rx(wire, &info, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_RX_FRAGMENT);
}

TEST_F(Ipv6DeviceTest, ReplayIsDropped)
{
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB);
    Bytes wire = Udp6(kA, kB, {"hbh", "rt"});
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE);
    Bytes again = wire;
    olab_rx_info info;
    ASSERT_EQ(pair.b.Rx(wire, &info, &reason), OLAB_DONE);
    EXPECT_EQ(pair.b.Rx(again, &info, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_RX_REPLAY);
}

TEST_F(Ipv6DeviceTest, PmtuIsCheckedWithEspOverhead)
{
    Pair pair(OLAB_MODE_TUNNEL, kA, kB, kGa, kGb);
    Bytes big = Udp6(kA, kB, {}, 1400);
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(big, &reason, nullptr, 1280 + 100), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_TX_PMTU);
    ASSERT_EQ(pair.a.m_log.mtuCalls, 1);
    EXPECT_EQ(pair.a.m_log.mtuLength, big.size());
    // The MTU it reported fits; one byte more does not.
    const uint32_t mtu = pair.a.m_log.mtu;
    Bytes fits = Udp6(kA, kB, {}, mtu - kIpv6HeaderLength - 8);
    ASSERT_EQ(pair.a.Tx(fits, &reason, nullptr, 1380), OLAB_DONE) << mtu;
    EXPECT_LE(fits.size(), 1380u);
    Bytes over = Udp6(kA, kB, {}, mtu - kIpv6HeaderLength - 8 + 4);
    EXPECT_EQ(pair.a.Tx(over, &reason, nullptr, 1380), OLAB_DROP);
}

TEST_F(Ipv6DeviceTest, Ipv6SuperPacketsAreUnsupported)
{
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB);
    Bytes packet = Udp6(kA, kB, {});
    olab_tx_meta meta{};
    meta.size = sizeof(meta);
    meta.gso_size = 16;
    meta.gso_segs = 4;
    uint32_t reason = 0;
    EXPECT_EQ(pair.a.Tx(packet, &reason, &meta), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_TX_UNSUPPORTED);
}

TEST_F(Ipv6DeviceTest, TruncatedAndMalformedInputNeverCrashes)
{
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB);
    Bytes wire = Udp6(kA, kB, {"hbh", "rt"});
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE);
    const Bytes whole = Udp6(kA, kB, {"hbh", "rt"});
    for (uint32_t n = 0; n < wire.size(); ++n)
    {
        Bytes cut(wire.begin(), wire.begin() + n);
        olab_rx_info info;
        const int v = pair.b.Rx(cut, &info, &reason);
        EXPECT_TRUE(v == OLAB_PASS || v == OLAB_DROP) << n;
        if (n < whole.size())
        {
            Bytes plain(whole.begin(), whole.begin() + n);
            const int t = pair.a.Tx(plain, &reason);
            EXPECT_TRUE(t == OLAB_PASS || t == OLAB_DROP) << n;
        }
    }
    // Extension header lengths that run past the packet.
    for (uint8_t length : {1, 2, 100, 255})
    {
        Bytes bad = wire;
        bad[kIpv6HeaderLength + 1] = length;
        olab_rx_info info;
        EXPECT_NE(pair.b.Rx(bad, &info, &reason), OLAB_DONE);
    }
}

// ---- crypto offload ----

TEST_F(Ipv6DeviceTest, CryptoOffloadSealsAndOpensIpv6EspWithTheChecksum)
{
    Device a;
    Device b;
    const XfrmSelector sel = XfrmSelector::Hosts(kA, kB);
    const uint64_t out =
        a.AddSa(MakeSa(OLAB_DIR_OUT, OLAB_OFFLOAD_CRYPTO, OLAB_MODE_TRANSPORT, kA, kB, sel));
    ASSERT_NE(b.AddSa(MakeSa(OLAB_DIR_IN, OLAB_OFFLOAD_CRYPTO, OLAB_MODE_TRANSPORT, kA, kB, sel)),
              0u);
    ASSERT_NE(out, 0u);
    const Bytes plain = Udp6(kA, kB, {"hbh"});
    // The stack's part (esp6_output): ESP after the Hop-by-Hop header, checksum left 0.
    const uint32_t split = kIpv6HeaderLength + 8;
    Bytes udp(plain.begin() + split, plain.end());
    udp[6] = udp[7] = 0;
    std::string error;
    auto transform = EspTransform::Create(EspAlgorithm::Gcm(Key()), &error);
    Bytes frame;
    transform->BuildFrame(kSpi, 1, udp.data(), udp.size(), kIpProtoUdp, frame);
    Bytes framed(plain.begin(), plain.begin() + split);
    framed[kIpv6HeaderLength] = kIpProtoEsp;
    framed.insert(framed.end(), frame.begin(), frame.end());
    framed[4] = uint8_t((framed.size() - kIpv6HeaderLength) >> 8);
    framed[5] = uint8_t(framed.size() - kIpv6HeaderLength);
    olab_tx_meta meta{};
    meta.size = sizeof(meta);
    meta.handle = out;
    meta.csum_start = EspTransform::kHeaderLength + 8;
    meta.csum_len = udp.size();
    meta.csum_field = 6;
    meta.csum_proto = kIpProtoUdp;
    meta.csum_family = OLAB_FAMILY_IPV6;
    kA.GetBytes(meta.csum_saddr6);
    kB.GetBytes(meta.csum_daddr6);
    uint32_t reason = 0;
    ASSERT_EQ(a.Tx(framed, &reason, &meta), OLAB_DONE) << reason;
    Bytes opened;
    ASSERT_TRUE(ScapyDecrypt(framed, false, &opened, &error)) << error;
    EXPECT_EQ(opened, plain) << "the device wrote the UDP checksum over the IPv6 pseudo-header";
    olab_rx_info info;
    ASSERT_EQ(b.Rx(framed, &info, &reason), OLAB_DONE);
    EXPECT_EQ(info.kind, OLAB_RX_CRYPTO_DONE);
    EXPECT_EQ(info.status, OLAB_RX_OK);
    EXPECT_EQ(info.family, OLAB_FAMILY_IPV6);
    EXPECT_EQ(std::memcmp(framed.data() + split + 16, plain.data() + split, udp.size()), 0)
        << "decrypted in place";
}

// ---- the IPv6 mutants are caught ----

/// The ABI table of the registered "mutant:NAME"; nullptr if there is none.
const olab_device_ops*
MutantOps(const std::string& name)
{
    std::string error;
    static std::vector<std::shared_ptr<const OffloadDeviceType>> opened; // tables stay valid
    auto type = OffloadDeviceType::Open("mutant:" + name, &error);
    if (!type)
    {
        return nullptr;
    }
    opened.push_back(type);
    return &type->GetOps();
}

TEST_F(Ipv6DeviceTest, RxNextHeaderMisplacedIsCaught)
{
    const olab_device_ops* mutant = MutantOps("ipv6-rx-next-header-misplaced");
    ASSERT_NE(mutant, nullptr);
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB, ReferenceOffloadEngine::GetOps(), *mutant);
    const Bytes plain = Udp6(kA, kB, {"hbh"});
    Bytes wire = plain;
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE);
    olab_rx_info info;
    ASSERT_EQ(pair.b.Rx(wire, &info, &reason), OLAB_DONE);
    EXPECT_NE(wire, plain);
    EXPECT_EQ(wire[6], kIpProtoUdp) << "the mutant's defect: UDP named by the fixed header";
}

TEST_F(Ipv6DeviceTest, NoExtensionWalkOnRxIsCaught)
{
    const olab_device_ops* mutant = MutantOps("ipv6-no-ext-walk");
    ASSERT_NE(mutant, nullptr);
    Pair pair(OLAB_MODE_TRANSPORT, kA, kB, kA, kB, ReferenceOffloadEngine::GetOps(), *mutant);
    Bytes wire = Udp6(kA, kB, {"hbh"});
    uint32_t reason = 0;
    ASSERT_EQ(pair.a.Tx(wire, &reason), OLAB_DONE);
    olab_rx_info info;
    EXPECT_NE(pair.b.Rx(wire, &info, &reason), OLAB_DONE) << "ESP behind hbh not decrypted";
}

} // namespace
