// The mlx5-like device (conformance/devices/mlx5-like/mlx5-like-device.c), loaded with dlopen as
// `offloadlab certify` loads it: it refuses what mlx5e_xfrm_validate_state() and
// mlx5e_xfrm_validate_policy() refuse, with their messages and -EINVAL, and its packet offload
// ESP is what offloadlab's own EspTransform opens (seqiv IVs, ESN, tunnel mode), with its replay
// window, policy template, fragment, lifetime event and counter rules.
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "offloadlab-device.h"

#include "ns3/packet.h"

#include <cstring>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

using namespace ns3;

namespace
{

using Bytes = std::vector<uint8_t>;

const Ipv4Address kA("10.0.0.1");
const Ipv4Address kB("10.0.0.2");
const Ipv4Address kHostA("192.168.1.1");
const Ipv4Address kHostB("192.168.2.1");

struct Library
{
    Library()
    {
        handle = dlopen(OFFLOADLAB_MLX5_LIKE_DEVICE, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
        {
            error = dlerror();
            return;
        }
        auto get = [this](const char* name) { return dlsym(handle, name); };
        ops.get_capabilities =
            reinterpret_cast<decltype(ops.get_capabilities)>(get("olab_get_capabilities"));
        ops.create = reinterpret_cast<decltype(ops.create)>(get("olab_create"));
        ops.destroy = reinterpret_cast<decltype(ops.destroy)>(get("olab_destroy"));
        ops.state_add = reinterpret_cast<decltype(ops.state_add)>(get("olab_state_add"));
        ops.state_delete = reinterpret_cast<decltype(ops.state_delete)>(get("olab_state_delete"));
        ops.state_free = reinterpret_cast<decltype(ops.state_free)>(get("olab_state_free"));
        ops.offload_ok = reinterpret_cast<decltype(ops.offload_ok)>(get("olab_offload_ok"));
        ops.state_advance_esn =
            reinterpret_cast<decltype(ops.state_advance_esn)>(get("olab_state_advance_esn"));
        ops.state_update_stats =
            reinterpret_cast<decltype(ops.state_update_stats)>(get("olab_state_update_stats"));
        ops.policy_add = reinterpret_cast<decltype(ops.policy_add)>(get("olab_policy_add"));
        ops.policy_delete =
            reinterpret_cast<decltype(ops.policy_delete)>(get("olab_policy_delete"));
        ops.policy_free = reinterpret_cast<decltype(ops.policy_free)>(get("olab_policy_free"));
        ops.tx = reinterpret_cast<decltype(ops.tx)>(get("olab_tx"));
        ops.rx = reinterpret_cast<decltype(ops.rx)>(get("olab_rx"));
    }

    ~Library()
    {
        if (handle)
        {
            dlclose(handle);
        }
    }

    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    void* handle{nullptr};
    std::string error;
    olab_device_ops ops{};
};

/// One device instance; records the check_expire calls it makes.
struct Device
{
    explicit Device(const olab_device_ops& o)
        : ops(o)
    {
        host.size = sizeof(host);
        host.ctx = this;
        host.check_expire = [](void* ctx, uint64_t id) {
            static_cast<Device*>(ctx)->expires.push_back(id);
        };
        olab_config config{};
        config.size = sizeof(config);
        config.sa_capacity = 8;
        config.policy_capacity = 8;
        config.features = OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM;
        char error[128] = "";
        dev = ops.create(&host, &config, error, sizeof(error));
        EXPECT_NE(dev, nullptr) << error;
    }

    ~Device()
    {
        if (dev)
        {
            ops.destroy(dev);
        }
    }

    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    int Add(const olab_sa& sa, uint64_t* handle, std::string* reason)
    {
        char text[256] = "";
        *handle = 0;
        const int result = ops.state_add(dev, &sa, handle, text, sizeof(text));
        *reason = text;
        return result;
    }

    uint64_t AddOk(const olab_sa& sa)
    {
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(Add(sa, &handle, &reason), OLAB_OK) << reason;
        EXPECT_NE(handle, 0u);
        return handle;
    }

    int AddPolicy(const olab_policy& p, uint64_t* handle, std::string* reason)
    {
        char text[256] = "";
        *handle = 0;
        const int result = ops.policy_add(dev, &p, handle, text, sizeof(text));
        *reason = text;
        return result;
    }

    uint64_t AddPolicyOk(const olab_policy& p)
    {
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(AddPolicy(p, &handle, &reason), OLAB_OK) << reason;
        return handle;
    }

    /// Packet offload TX (meta NULL); the packet grows in place.
    int Tx(Bytes& packet, uint32_t* dropReason)
    {
        uint32_t len = packet.size();
        packet.resize(len + 512);
        *dropReason = 0;
        const int verdict =
            ops.tx(dev, packet.data(), &len, packet.size(), nullptr, 1500, dropReason);
        packet.resize(verdict == OLAB_DONE ? len : packet.size() - 512);
        return verdict;
    }

    int Rx(Bytes& packet, olab_rx_info* info, uint32_t* dropReason)
    {
        uint32_t len = packet.size();
        *info = olab_rx_info{};
        info->size = sizeof(*info);
        *dropReason = 0;
        const int verdict = ops.rx(dev, packet.data(), &len, packet.size(), info, dropReason);
        if (verdict == OLAB_DONE)
        {
            packet.resize(len);
        }
        return verdict;
    }

    olab_sa_stats Stats(uint64_t handle)
    {
        olab_sa_stats stats{};
        stats.size = sizeof(stats);
        ops.state_update_stats(dev, handle, &stats);
        return stats;
    }

    const olab_device_ops& ops;
    olab_host host{};
    void* dev{nullptr};
    std::vector<uint64_t> expires;
};

Bytes
GcmBlob(uint8_t seed, size_t keyBytes = 16)
{
    Bytes blob(keyBytes + 4);
    for (size_t i = 0; i < blob.size(); ++i)
    {
        blob[i] = static_cast<uint8_t>(seed * 11 + 5 * i + 1);
    }
    return blob;
}

/// A packet-offload SA from A to B (transport: the hosts are A and B; tunnel: gateways).
olab_sa
PacketSa(const Bytes& blob, uint8_t dir, uint32_t spi, uint8_t mode = OLAB_MODE_TRANSPORT)
{
    olab_sa sa{};
    sa.size = sizeof(sa);
    sa.host_id = spi;
    sa.serial = spi;
    sa.dir = dir;
    sa.type = OLAB_OFFLOAD_PACKET;
    sa.mode = mode;
    sa.saddr = kA.Get();
    sa.daddr = kB.Get();
    sa.spi = spi;
    sa.reqid = 1;
    sa.algorithm = OLAB_ALG_AES_GCM;
    sa.enc_key_len = blob.size();
    sa.icv_len = 16;
    std::memcpy(sa.enc_key, blob.data(), blob.size());
    sa.replay_window = dir == OLAB_DIR_IN ? 32 : 0;
    sa.soft_byte_limit = sa.hard_byte_limit = OLAB_INFINITY;
    sa.soft_packet_limit = sa.hard_packet_limit = OLAB_INFINITY;
    return sa;
}

olab_policy
Policy(uint8_t dir, uint8_t mode = OLAB_MODE_TRANSPORT)
{
    olab_policy p{};
    p.size = sizeof(p);
    p.serial = 1;
    p.dir = dir;
    p.tmpl_mode = mode;
    const bool tunnel = mode == OLAB_MODE_TUNNEL;
    p.sel.saddr = (tunnel ? kHostA : kA).Get();
    p.sel.daddr = (tunnel ? kHostB : kB).Get();
    p.sel.sprefix = p.sel.dprefix = 32;
    p.tmpl_saddr = kA.Get();
    p.tmpl_daddr = kB.Get();
    p.tmpl_reqid = 1;
    return p;
}

Bytes
Udp(Ipv4Address src, Ipv4Address dst, size_t length, uint8_t seed)
{
    Bytes segment(8 + length);
    segment[0] = 0x12;
    segment[1] = 0x34;
    segment[2] = 0x56;
    segment[3] = 0x78;
    segment[4] = uint8_t(segment.size() >> 8);
    segment[5] = uint8_t(segment.size());
    for (size_t i = 0; i < length; ++i)
    {
        segment[8 + i] = static_cast<uint8_t>(seed + 7 * i);
    }
    Ptr<Packet> p = Create<Packet>(segment.data(), segment.size());
    p->AddHeader(MakeIpv4Header(src, dst, kIpProtoUdp, segment.size(), 64, 9));
    Bytes out;
    CopyPacketBytes(p, out);
    return out;
}

/// Opens a packet-offload ESP packet with EspTransform; yields the payload.
::testing::AssertionResult
OpensTo(const Bytes& blob,
        Bytes packet,
        uint32_t seqHi,
        bool esn,
        const Bytes& payload,
        uint8_t nextHeader)
{
    std::string error;
    auto t = EspTransform::Create(EspAlgorithm::Gcm(blob), &error);
    if (!t)
    {
        return ::testing::AssertionFailure() << error;
    }
    uint8_t* frame = packet.data() + 20;
    const uint32_t frameLength = packet.size() - 20;
    const EspStatus status = t->Open(frame, frameLength, seqHi, esn);
    if (status != EspStatus::Ok)
    {
        return ::testing::AssertionFailure() << "EspTransform::Open: " << EspStatusName(status);
    }
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t next = 0;
    if (t->ParseTrailer(frame, frameLength, &offset, &length, &next) != EspStatus::Ok ||
        Bytes(frame + offset, frame + offset + length) != payload || next != nextHeader)
    {
        return ::testing::AssertionFailure() << "trailer, payload or next header differ";
    }
    return ::testing::AssertionSuccess();
}

uint32_t
Be32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

class Mlx5LikeDevice : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_lib.handle) << m_lib.error;
    }

    Library m_lib;
};

TEST_F(Mlx5LikeDevice, Capabilities)
{
    const olab_capabilities* caps = m_lib.ops.get_capabilities();
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->size, sizeof(olab_capabilities));
    EXPECT_EQ(caps->abi_version, OLAB_DEVICE_ABI_VERSION);
    EXPECT_STREQ(caps->name, "mlx5-like");
    EXPECT_EQ(caps->offload_types, OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET);
    EXPECT_EQ(caps->features, OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM);
    EXPECT_EQ(caps->algorithms, 1u << OLAB_ALG_AES_GCM);
    EXPECT_EQ(caps->max_replay_window, 256u);
    EXPECT_EQ(caps->esn, 1u);
    EXPECT_EQ(caps->tunnel, 1u);
    EXPECT_EQ(caps->lifetime_packets, OLAB_LIFETIME_EXACT);
    EXPECT_EQ(caps->lifetime_bytes, OLAB_LIFETIME_POLLED);
    EXPECT_EQ(caps->lifetime_poll_ms, 1000u);
}

/// mlx5e_xfrm_validate_state(): every refusal is -EINVAL with its extack text, and leaves
/// nothing behind (the same SA, corrected, is then accepted into the one free slot).
TEST_F(Mlx5LikeDevice, StateRefusalsAreEinvalWithMlx5Messages)
{
    Device dev(m_lib.ops);
    const Bytes blob = GcmBlob(1);

    struct Refusal
    {
        const char* message;
        void (*edit)(olab_sa&);
    };

    const Refusal refusals[] = {
        {"Cannot offload authenticated xfrm states",
         [](olab_sa& sa) {
             sa.algorithm = OLAB_ALG_AES_CBC_SHA256;
             sa.enc_key_len = 16;
             sa.auth_key_len = 32;
         }},
        {"Only AES-GCM-ICV16 xfrm state may be offloaded", [](olab_sa& sa) { sa.icv_len = 8; }},
        {"Cannot offload xfrm states with AEAD key length other than 128/256 bit",
         [](olab_sa& sa) { sa.enc_key_len = 28; }},
        {"Device does not support upper protocol other than TCP/UDP",
         [](olab_sa& sa) { sa.sel.proto = 1; }},
        {"Unsupported xfrm offload type", [](olab_sa& sa) { sa.type = 3; }},
        {"Unsupported replay window size", [](olab_sa& sa) { sa.replay_window = 100; }},
        {"Unsupported replay window size", [](olab_sa& sa) { sa.replay_window = 512; }},
        {"Cannot offload without reqid", [](olab_sa& sa) { sa.reqid = 0; }},
        {"Hard byte limit must be greater than soft one",
         [](olab_sa& sa) { sa.soft_byte_limit = sa.hard_byte_limit = 1000; }},
        {"Soft/hard byte limits can't be 0", [](olab_sa& sa) { sa.soft_byte_limit = 0; }},
        {"Hard packet limit must be greater than soft one",
         [](olab_sa& sa) {
             sa.soft_packet_limit = 10;
             sa.hard_packet_limit = 5;
         }},
        {"Soft/hard packet limits can't be 0", [](olab_sa& sa) { sa.soft_packet_limit = 0; }},
    };
    for (const Refusal& r : refusals)
    {
        olab_sa sa = PacketSa(blob, OLAB_DIR_IN, 0x100);
        r.edit(sa);
        uint64_t handle = 7;
        std::string reason;
        EXPECT_EQ(dev.Add(sa, &handle, &reason), OLAB_FAILURE) << r.message;
        EXPECT_EQ(reason, r.message);
    }
    // Crypto offload: the same algorithm rules, but no reqid, window or lifetime rules.
    olab_sa crypto = PacketSa(blob, OLAB_DIR_IN, 0x101);
    crypto.type = OLAB_OFFLOAD_CRYPTO;
    crypto.reqid = 0;
    crypto.replay_window = 100;
    dev.AddOk(crypto);
    crypto.spi = 0x102;
    crypto.icv_len = 12;
    uint64_t handle = 0;
    std::string reason;
    EXPECT_EQ(dev.Add(crypto, &handle, &reason), OLAB_FAILURE);
    EXPECT_EQ(reason, "Only AES-GCM-ICV16 xfrm state may be offloaded");
    // Every window mlx5 has, and an outbound SA needs none.
    for (uint32_t window : {32u, 64u, 128u, 256u})
    {
        olab_sa sa = PacketSa(blob, OLAB_DIR_IN, 0x200 + window);
        sa.replay_window = window;
        dev.AddOk(sa);
    }
    dev.AddOk(PacketSa(blob, OLAB_DIR_OUT, 0x300));
    // A second inbound (daddr, SPI) is refused; after state_delete it may come back at once.
    olab_sa twin = PacketSa(blob, OLAB_DIR_IN, 0x220);
    EXPECT_EQ(dev.Add(twin, &handle, &reason), OLAB_FAILURE);
    EXPECT_NE(reason.find("Device failed to offload this state"), std::string::npos) << reason;
    dev.AddOk(PacketSa(blob, OLAB_DIR_IN, 0x3ff));
    olab_sa last = PacketSa(blob, OLAB_DIR_IN, 0x400);
    const uint64_t lastHandle = dev.AddOk(last); // the 8th and last slot
    olab_sa full = PacketSa(blob, OLAB_DIR_IN, 0x401);
    EXPECT_EQ(dev.Add(full, &handle, &reason), OLAB_FAILURE);
    EXPECT_NE(reason.find("Device failed to offload this state"), std::string::npos) << reason;
    dev.ops.state_delete(dev.dev, lastHandle);
    dev.ops.state_free(dev.dev, lastHandle);
    EXPECT_EQ(dev.Add(full, &handle, &reason), OLAB_OK) << reason;
    EXPECT_NE(handle, lastHandle) << "a stale handle must not name the SA that reuses its slot";
}

TEST_F(Mlx5LikeDevice, PolicyRefusalsAreMlx5s)
{
    Device dev(m_lib.ops);

    struct Refusal
    {
        const char* message;
        void (*edit)(olab_policy&);
    };

    const Refusal refusals[] = {
        {"Cannot offload forward policy", [](olab_policy& p) { p.dir = 2; }},
        {"Unsupported policy with reqid 0 without at least one of upper protocol or ip addr(s) "
         "different than 0",
         [](olab_policy& p) {
             p.tmpl_reqid = 0;
             p.sel = olab_selector{};
         }},
        {"Device does not support upper protocol other than TCP/UDP",
         [](olab_policy& p) { p.sel.proto = 1; }},
        {"Device does not support requested policy priority",
         [](olab_policy& p) { p.priority = UINT32_MAX; }},
    };
    for (const Refusal& r : refusals)
    {
        olab_policy p = Policy(OLAB_DIR_OUT);
        r.edit(p);
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(dev.AddPolicy(p, &handle, &reason), OLAB_FAILURE) << r.message;
        EXPECT_EQ(reason, r.message);
    }
    olab_policy anyHost = Policy(OLAB_DIR_OUT);
    anyHost.tmpl_reqid = 0; // reqid 0 is fine with an address
    dev.AddPolicyOk(anyHost);
}

/// mlx5e_ipsec_offload_ok(): no IPv4 options.
TEST_F(Mlx5LikeDevice, OffloadOkRefusesIpv4Options)
{
    Device dev(m_lib.ops);
    olab_sa sa = PacketSa(GcmBlob(2), OLAB_DIR_OUT, 0x500);
    sa.type = OLAB_OFFLOAD_CRYPTO;
    const uint64_t handle = dev.AddOk(sa);
    uint8_t header[24] = {0x45};
    EXPECT_EQ(dev.ops.offload_ok(dev.dev, handle, header, 20), 1);
    header[0] = 0x46;
    EXPECT_EQ(dev.ops.offload_ok(dev.dev, handle, header, 24), 0);
}

/// Two devices back to back in packet offload: A's ESP opens with EspTransform (independent of
/// the device), carries sequence numbers from 1 and across 2^32 with ESN, IVs that are unique and
/// not the bare sequence number (seqiv), and B gives the plaintext back, checking replay in its
/// window.
void
RoundTrip(const olab_device_ops& ops,
          uint8_t mode,
          uint64_t start,
          uint32_t window = 256,
          uint32_t packets = 6)
{
    Device a(ops);
    Device b(ops);
    const Bytes blob = GcmBlob(3, 32);
    olab_sa out = PacketSa(blob, OLAB_DIR_OUT, 0x600, mode);
    olab_sa in = PacketSa(blob, OLAB_DIR_IN, 0x600, mode);
    out.esn = in.esn = 1;
    out.oseq = in.seq = start;
    in.replay_window = window;
    const uint64_t outHandle = a.AddOk(out);
    const uint64_t inHandle = b.AddOk(in);
    a.AddPolicyOk(Policy(OLAB_DIR_OUT, mode));
    b.AddPolicyOk(Policy(OLAB_DIR_IN, mode));
    const bool tunnel = mode == OLAB_MODE_TUNNEL;
    std::set<uint64_t> ivs;
    std::vector<Bytes> wire;
    uint64_t l4Bytes = 0;
    for (uint32_t i = 0; i < packets; ++i)
    {
        const Bytes plain = Udp(tunnel ? kHostA : kA, tunnel ? kHostB : kB, 10 + i % 8, uint8_t(i));
        l4Bytes += tunnel ? plain.size() : plain.size() - 20;
        Bytes packet = plain;
        uint32_t reason = 0;
        ASSERT_EQ(a.Tx(packet, &reason), OLAB_DONE) << "drop reason " << reason;
        ASSERT_EQ(packet[9], kIpProtoEsp);
        EXPECT_EQ(Be32(packet.data() + 12), kA.Get());
        EXPECT_EQ(Be32(packet.data() + 16), kB.Get());
        const uint64_t seq = start + 1 + i;
        EXPECT_EQ(Be32(packet.data() + 24), uint32_t(seq));
        const uint64_t iv = uint64_t(Be32(packet.data() + 28)) << 32 | Be32(packet.data() + 32);
        EXPECT_NE(iv, seq) << "seqiv XORs a random value into the sequence number";
        ivs.insert(iv);
        const Bytes payload = tunnel ? plain : Bytes(plain.begin() + 20, plain.end());
        EXPECT_TRUE(
            OpensTo(blob, packet, uint32_t(seq >> 32), true, payload, tunnel ? 4 : kIpProtoUdp));
        wire.push_back(packet);
        olab_rx_info info{};
        ASSERT_EQ(b.Rx(packet, &info, &reason), OLAB_DONE) << "drop reason " << reason;
        EXPECT_EQ(info.kind, OLAB_RX_PACKET_OFFLOAD);
        EXPECT_EQ(info.spi, 0x600u);
        if (tunnel)
        {
            EXPECT_EQ(packet, plain);
        }
        else
        {
            EXPECT_EQ(Bytes(packet.begin() + 20, packet.end()), payload);
            EXPECT_EQ(packet[9], kIpProtoUdp);
            EXPECT_EQ(size_t(packet[2] << 8 | packet[3]), plain.size());
        }
    }
    EXPECT_EQ(ivs.size(), packets);
    // A replayed packet is dropped and counted; the counters are Linux's bytes.
    Bytes again = wire[packets - 2]; // inside the window
    olab_rx_info info{};
    uint32_t reason = 0;
    EXPECT_EQ(b.Rx(again, &info, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_RX_REPLAY);
    const olab_sa_stats tx = a.Stats(outHandle);
    const olab_sa_stats rx = b.Stats(inHandle);
    EXPECT_EQ(tx.packets, packets);
    EXPECT_EQ(tx.bytes, l4Bytes);
    EXPECT_EQ(tx.last_seq, start + packets);
    EXPECT_EQ(rx.packets, packets);
    EXPECT_EQ(rx.bytes, l4Bytes);
    EXPECT_EQ(rx.replay_drops, 1u);
}

TEST_F(Mlx5LikeDevice, PacketOffloadTransportRoundTrip)
{
    RoundTrip(m_lib.ops, OLAB_MODE_TRANSPORT, 0xfffffffd);
    // From the start: the window then spans the subspace below 0 (RFC 4303 A2.2, case B).
    RoundTrip(m_lib.ops, OLAB_MODE_TRANSPORT, 0, 32, 40);
}

TEST_F(Mlx5LikeDevice, PacketOffloadTunnelRoundTrip)
{
    RoundTrip(m_lib.ops, OLAB_MODE_TUNNEL, 0xfffffffd);
}

/// The template chooses the SA: the newest that matches when tmpl_spi is 0, only the named one
/// otherwise; no SA for a policy is a drop, never plaintext.
TEST_F(Mlx5LikeDevice, TemplateChoosesTheSa)
{
    Device a(m_lib.ops);
    const Bytes blob = GcmBlob(4);
    olab_sa older = PacketSa(blob, OLAB_DIR_OUT, 0x700);
    olab_sa newer = PacketSa(blob, OLAB_DIR_OUT, 0x701);
    older.serial = 10;
    newer.serial = 11;
    olab_policy p = Policy(OLAB_DIR_OUT);
    const uint64_t policy = a.AddPolicyOk(p);
    Bytes packet = Udp(kA, kB, 20, 1);
    uint32_t reason = 0;
    EXPECT_EQ(a.Tx(packet, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_TX_NO_STATE);
    a.AddOk(older);
    a.AddOk(newer);
    packet = Udp(kA, kB, 20, 1);
    ASSERT_EQ(a.Tx(packet, &reason), OLAB_DONE);
    EXPECT_EQ(Be32(packet.data() + 20), 0x701u) << "the newest SA";
    a.ops.policy_delete(a.dev, policy);
    a.ops.policy_free(a.dev, policy);
    p.tmpl_spi = 0x700;
    a.AddPolicyOk(p);
    packet = Udp(kA, kB, 20, 1);
    ASSERT_EQ(a.Tx(packet, &reason), OLAB_DONE);
    EXPECT_EQ(Be32(packet.data() + 20), 0x700u) << "the template's SPI";
    // Traffic no policy selects is not the device's business.
    packet = Udp(kA, Ipv4Address("10.0.0.9"), 20, 1);
    const Bytes plain = packet;
    EXPECT_EQ(a.Tx(packet, &reason), OLAB_PASS);
    EXPECT_EQ(packet, plain);
}

/// setup_fte_no_frags(): a fragment the policies select is dropped on TX and RX.
TEST_F(Mlx5LikeDevice, FragmentsAreDropped)
{
    Device a(m_lib.ops);
    a.AddOk(PacketSa(GcmBlob(5), OLAB_DIR_OUT, 0x800));
    a.AddOk(PacketSa(GcmBlob(5), OLAB_DIR_IN, 0x801));
    a.AddPolicyOk(Policy(OLAB_DIR_OUT));
    Bytes fragment = Udp(kA, kB, 40, 2);
    fragment[6] = 0x20; // MF
    fragment[10] = fragment[11] = 0;
    uint32_t reason = 0;
    EXPECT_EQ(a.Tx(fragment, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_TX_FRAGMENT);
    Bytes esp = Udp(kA, kB, 40, 2);
    esp[9] = kIpProtoEsp;
    esp[20] = esp[21] = 0;
    esp[22] = 0x08;
    esp[23] = 0x01; // SPI 0x801
    esp[6] = 0x20;
    olab_rx_info info{};
    EXPECT_EQ(a.Rx(esp, &info, &reason), OLAB_DROP);
    EXPECT_EQ(reason, OLAB_DROP_RX_FRAGMENT);
}

/// Packet limits: check_expire on the packet that reaches the soft and the hard limit (the
/// hardware event), nothing for bytes (polled), and the SA drops past its hard packet limit.
TEST_F(Mlx5LikeDevice, PacketLimitsRaiseOnTheLimitAndHardStops)
{
    Device a(m_lib.ops);
    olab_sa out = PacketSa(GcmBlob(6), OLAB_DIR_OUT, 0x900);
    out.soft_packet_limit = 2;
    out.hard_packet_limit = 4;
    out.soft_byte_limit = 10; // crossed by the first packet: the host polls, no event
    out.hard_byte_limit = 20;
    a.AddOk(out);
    a.AddPolicyOk(Policy(OLAB_DIR_OUT));
    std::vector<size_t> expiresAfter;
    for (uint32_t i = 0; i < 5; ++i)
    {
        Bytes packet = Udp(kA, kB, 30, uint8_t(i));
        uint32_t reason = 0;
        const int verdict = a.Tx(packet, &reason);
        if (i < 4)
        {
            EXPECT_EQ(verdict, OLAB_DONE) << "packet " << i + 1;
        }
        else
        {
            EXPECT_EQ(verdict, OLAB_DROP);
            EXPECT_EQ(reason, OLAB_DROP_TX_EXPIRED);
        }
        expiresAfter.push_back(a.expires.size());
    }
    EXPECT_EQ(expiresAfter, (std::vector<size_t>{0, 1, 1, 2, 2}));
    for (uint64_t id : a.expires)
    {
        EXPECT_EQ(id, 0x900u);
    }
}

} // namespace
