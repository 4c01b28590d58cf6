// The netdevsim-like device (conformance/devices/netdevsim-like), loaded with dlopen as
// `offloadlab certify` loads it: netdevsim's refusals and extack messages, its 33-entry table
// with index | NSIM_IPSEC_VALID handles, and ESP that offloadlab's own EspTransform opens and
// seals (the crypto netdevsim only pretends to do).
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "offloadlab-device.h"

#include "ns3/packet.h"

#include <algorithm>
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

const Ipv4Address kSrc("10.0.0.1");
const Ipv4Address kDst("10.0.0.2");
constexpr uint64_t kValid = 1u << 31; // NSIM_IPSEC_VALID

class NetdevsimLike : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        m_lib = dlopen(OFFLOADLAB_NETDEVSIM_LIKE_DEVICE, RTLD_NOW | RTLD_LOCAL);
        ASSERT_TRUE(m_lib) << dlerror();
#define NSIM_RESOLVE(field)                                                                        \
    m_ops.field = reinterpret_cast<decltype(m_ops.field)>(dlsym(m_lib, "olab_" #field));           \
    ASSERT_TRUE(m_ops.field) << "olab_" #field " is not exported"
        NSIM_RESOLVE(get_capabilities);
        NSIM_RESOLVE(create);
        NSIM_RESOLVE(destroy);
        NSIM_RESOLVE(state_add);
        NSIM_RESOLVE(state_delete);
        NSIM_RESOLVE(state_free);
        NSIM_RESOLVE(offload_ok);
        NSIM_RESOLVE(state_advance_esn);
        NSIM_RESOLVE(state_update_stats);
        NSIM_RESOLVE(policy_add);
        NSIM_RESOLVE(policy_delete);
        NSIM_RESOLVE(policy_free);
        NSIM_RESOLVE(tx);
        NSIM_RESOLVE(rx);
#undef NSIM_RESOLVE
        Create(64); // the NIC's default SaCapacity, more than netdevsim has
    }

    void TearDown() override
    {
        if (m_dev)
        {
            m_ops.destroy(m_dev);
        }
        if (m_lib)
        {
            dlclose(m_lib);
        }
    }

    void Create(uint32_t capacity, uint32_t features = OLAB_FEATURE_HW_ESP)
    {
        if (m_dev)
        {
            m_ops.destroy(m_dev);
        }
        olab_host host{};
        host.size = sizeof(host);
        olab_config config{};
        config.size = sizeof(config);
        config.sa_capacity = capacity;
        config.features = features;
        char error[128] = "";
        m_dev = m_ops.create(&host, &config, error, sizeof(error));
        ASSERT_TRUE(m_dev) << error;
    }

    int Add(const olab_sa& sa, uint64_t* handle, std::string* reason)
    {
        char text[256] = "";
        *handle = 0;
        const int result = m_ops.state_add(m_dev, &sa, handle, text, sizeof(text));
        *reason = text;
        return result;
    }

    uint64_t AddOk(const olab_sa& sa)
    {
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(Add(sa, &handle, &reason), OLAB_OK) << reason;
        return handle;
    }

    int Tx(Bytes& packet, uint64_t handle, uint32_t* dropReason)
    {
        olab_tx_meta meta{};
        meta.size = sizeof(meta);
        meta.handle = handle;
        uint32_t len = packet.size();
        return m_ops.tx(m_dev, packet.data(), &len, packet.size(), &meta, 1500, dropReason);
    }

    int Rx(Bytes& packet, olab_rx_info* info)
    {
        *info = olab_rx_info{};
        info->size = sizeof(*info);
        uint32_t len = packet.size();
        uint32_t dropReason = 0;
        return m_ops.rx(m_dev, packet.data(), &len, packet.size(), info, &dropReason);
    }

    void* m_lib{nullptr};
    olab_device_ops m_ops{};
    void* m_dev{nullptr};
};

/// key || salt, 16 + 4 bytes unless told.
Bytes
Blob(uint8_t seed, size_t keyBytes = 16)
{
    Bytes blob(keyBytes + 4);
    for (size_t i = 0; i < blob.size(); ++i)
    {
        blob[i] = static_cast<uint8_t>(seed * 29 + 11 * i + 1);
    }
    return blob;
}

olab_sa
GcmSa(const Bytes& blob, uint8_t dir, uint32_t spi)
{
    olab_sa sa{};
    sa.size = sizeof(sa);
    sa.host_id = spi;
    sa.dir = dir;
    sa.type = OLAB_OFFLOAD_CRYPTO;
    sa.mode = OLAB_MODE_TRANSPORT;
    sa.saddr = kSrc.Get();
    sa.daddr = kDst.Get();
    sa.spi = spi;
    sa.algorithm = OLAB_ALG_AES_GCM;
    sa.enc_key_len = blob.size();
    sa.icv_len = 16;
    std::memcpy(sa.enc_key, blob.data(), blob.size());
    sa.soft_byte_limit = sa.hard_byte_limit = OLAB_INFINITY;
    sa.soft_packet_limit = sa.hard_packet_limit = OLAB_INFINITY;
    return sa;
}

std::unique_ptr<EspTransform>
TransformOf(const Bytes& blob)
{
    std::string error;
    auto t = EspTransform::Create(EspAlgorithm::Gcm(blob), &error);
    EXPECT_TRUE(t) << error;
    return t;
}

/// IPv4 + the plaintext frame the stack builds in crypto offload (zero IV and ICV).
Bytes
Framed(const EspTransform& t, uint32_t spi, uint32_t seq, const Bytes& payload)
{
    Bytes frame;
    t.BuildFrame(spi, seq, payload.data(), payload.size(), kIpProtoUdp, frame);
    Ptr<Packet> p = Create<Packet>(frame.data(), frame.size());
    p->AddHeader(MakeIpv4Header(kSrc, kDst, kIpProtoEsp, frame.size(), 64, 1));
    Bytes out;
    CopyPacketBytes(p, out);
    return out;
}

Bytes
Payload(size_t length, uint8_t seed)
{
    Bytes b(length);
    for (size_t i = 0; i < length; ++i)
    {
        b[i] = static_cast<uint8_t>(seed + 7 * i);
    }
    return b;
}

TEST_F(NetdevsimLike, OffersWhatNetdevsimOffers)
{
    const olab_capabilities* caps = m_ops.get_capabilities();
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->size, sizeof(olab_capabilities));
    EXPECT_EQ(caps->abi_version, OLAB_DEVICE_ABI_VERSION);
    EXPECT_STREQ(caps->name, "netdevsim-like");
    EXPECT_EQ(caps->offload_types, OLAB_OFFERS_CRYPTO);
    EXPECT_EQ(caps->features, OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM);
    EXPECT_EQ(caps->algorithms, 1u << OLAB_ALG_AES_GCM);
    EXPECT_EQ(caps->max_sa, 33u); // NSIM_IPSEC_MAX_SA_COUNT
    EXPECT_EQ(caps->esn, 0u);
    EXPECT_EQ(caps->tunnel, 1u);
}

// Each refusal is -EINVAL (FAILURE, never a software fallback) with netdevsim's (or, for ESN,
// xfrm_dev_state_add's) message, and keeps no slot.
TEST_F(NetdevsimLike, RefusesWithNetdevsimsMessages)
{
    Create(1);

    struct Refusal
    {
        const char* what;
        void (*change)(olab_sa&);
        std::string message;
    };

    // nsim_ipsec_parse_proto_keys's netdev_err detail after the extack message.
    const std::string keyData = "netdevsim: Failed to get key data for SA table (";
    const Refusal refusals[] = {
        {"cbc(aes)+hmac(sha256)",
         [](olab_sa& sa) {
             sa.algorithm = OLAB_ALG_AES_CBC_SHA256;
             sa.enc_key_len = 16;
             sa.auth_key_len = 32;
         },
         keyData + "Unsupported IPsec algorithm)"},
        {"gcm 256-bit key",
         [](olab_sa& sa) { sa.enc_key_len = 36; },
         keyData + "IPsec hw offload only supports 128 bit keys with optional 32 bit salt)"},
        {"gcm 192-bit key",
         [](olab_sa& sa) { sa.enc_key_len = 28; },
         keyData + "IPsec hw offload only supports 128 bit keys with optional 32 bit salt)"},
        {"ICV 96",
         [](olab_sa& sa) { sa.icv_len = 12; },
         keyData + "IPsec offload requires 128 bit authentication)"},
        {"ICV 64",
         [](olab_sa& sa) { sa.icv_len = 8; },
         keyData + "IPsec offload requires 128 bit authentication)"},
        {"ESN", [](olab_sa& sa) { sa.esn = 1; }, "Device doesn't support offload with ESN"},
        {"packet offload",
         [](olab_sa& sa) { sa.type = OLAB_OFFLOAD_PACKET; },
         "netdevsim: Unsupported ipsec offload type"},
    };
    for (const auto& r : refusals)
    {
        olab_sa sa = GcmSa(Blob(1), OLAB_DIR_IN, 0x200);
        r.change(sa);
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(Add(sa, &handle, &reason), OLAB_FAILURE) << r.what;
        EXPECT_EQ(reason, r.message) << r.what;
    }
    // The one slot is still free.
    EXPECT_EQ(AddOk(GcmSa(Blob(1), OLAB_DIR_IN, 0x200)), kValid | 0);

    olab_policy policy{};
    policy.size = sizeof(policy);
    uint64_t handle = 0;
    char reason[128] = "";
    EXPECT_EQ(m_ops.policy_add(m_dev, &policy, &handle, reason, sizeof(reason)),
              OLAB_NOT_SUPPORTED);
    EXPECT_STREQ(reason, "Policy offload is not supported");
}

// 33 SAs whatever the host asks for more; handle = first free index | NSIM_IPSEC_VALID; a full
// table is -ENOSPC; delete frees the slot at once and free never touches the SA that took it.
TEST_F(NetdevsimLike, ThirtyThreeSlotsIndexHandlesAndDeleteReleases)
{
    const Bytes blob = Blob(2);
    std::vector<uint64_t> handles;
    for (uint32_t i = 0; i < 33; ++i)
    {
        handles.push_back(AddOk(GcmSa(blob, i % 2 ? OLAB_DIR_IN : OLAB_DIR_OUT, 0x1000 + i)));
        EXPECT_EQ(handles.back(), kValid | i);
    }
    uint64_t handle = 0;
    std::string reason;
    EXPECT_EQ(Add(GcmSa(blob, OLAB_DIR_OUT, 0x2000), &handle, &reason), OLAB_FAILURE);
    EXPECT_EQ(reason, "netdevsim: No space for SA in Rx table!");

    // Delete slot 4 (an outbound SA); a rekey takes the slot before the old state is freed.
    m_ops.state_delete(m_dev, handles[4]);
    const Bytes newBlob = Blob(3);
    const uint64_t rekeyed = AddOk(GcmSa(newBlob, OLAB_DIR_OUT, 0x2000));
    EXPECT_EQ(rekeyed, handles[4]);
    m_ops.state_free(m_dev, handles[4]);
    auto stack = TransformOf(newBlob);
    auto peer = TransformOf(newBlob);
    Bytes packet = Framed(*stack, 0x2000, 1, Payload(40, 1));
    uint32_t dropReason = 99;
    ASSERT_EQ(Tx(packet, rekeyed, &dropReason), OLAB_DONE) << "free hit the new SA";
    EXPECT_EQ(peer->Open(packet.data() + 20, packet.size() - 20, 0, false), EspStatus::Ok);
    // A packet still carrying the deleted SA's SPI is not sealed with the new SA's key.
    Bytes stale = Framed(*stack, 0x1004, 7, Payload(40, 2));
    EXPECT_EQ(Tx(stale, handles[4], &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE);
}

TEST_F(NetdevsimLike, TxSealsWhatEspTransformOpensWithUniqueIvs)
{
    const Bytes blob = Blob(4);
    const uint64_t out = AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x300));
    const uint64_t in = AddOk(GcmSa(blob, OLAB_DIR_IN, 0x301));
    auto stack = TransformOf(blob);
    auto peer = TransformOf(blob);
    std::set<Bytes> ivs;
    for (uint32_t seq = 1; seq <= 20; ++seq)
    {
        const Bytes payload = Payload(seq * 13, uint8_t(seq));
        Bytes packet = Framed(*stack, 0x300, seq, payload);
        uint32_t dropReason = 0;
        ASSERT_EQ(Tx(packet, out, &dropReason), OLAB_DONE);
        uint8_t* frame = packet.data() + 20;
        ivs.insert(Bytes(frame + 8, frame + 16));
        ASSERT_EQ(peer->Open(frame, packet.size() - 20, 0, false), EspStatus::Ok) << seq;
        uint32_t offset = 0;
        uint32_t length = 0;
        uint8_t next = 0;
        ASSERT_EQ(peer->ParseTrailer(frame, packet.size() - 20, &offset, &length, &next),
                  EspStatus::Ok);
        EXPECT_EQ(Bytes(frame + offset, frame + offset + length), payload);
    }
    EXPECT_EQ(ivs.size(), 20u);
    // Not for an inbound handle, nor without a handle; not the device's business without meta.
    Bytes packet = Framed(*stack, 0x301, 1, Payload(10, 0));
    const Bytes before = packet;
    uint32_t dropReason = 0;
    EXPECT_EQ(Tx(packet, in, &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE);
    EXPECT_EQ(Tx(packet, kValid | 30, &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE);
    uint32_t len = packet.size();
    EXPECT_EQ(m_ops.tx(m_dev, packet.data(), &len, packet.size(), nullptr, 1500, &dropReason),
              OLAB_PASS);
    EXPECT_EQ(packet, before);
}

TEST_F(NetdevsimLike, TxFillsTheInnerUdpChecksum)
{
    Create(4, OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM);
    const Bytes blob = Blob(5);
    const uint64_t out = AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x400));
    auto stack = TransformOf(blob);
    auto peer = TransformOf(blob);
    Bytes udp = Payload(8 + 37, 9);
    udp[4] = 0;
    udp[5] = uint8_t(udp.size());
    udp[6] = udp[7] = 0;
    const uint16_t want = L4Checksum(kSrc, kDst, kIpProtoUdp, udp.data(), udp.size());
    Bytes packet = Framed(*stack, 0x400, 1, udp);
    olab_tx_meta meta{};
    meta.size = sizeof(meta);
    meta.handle = out;
    meta.csum_start = 16;
    meta.csum_len = udp.size();
    meta.csum_field = 6;
    meta.csum_proto = kIpProtoUdp;
    meta.csum_saddr = kSrc.Get();
    meta.csum_daddr = kDst.Get();
    uint32_t len = packet.size();
    uint32_t dropReason = 0;
    ASSERT_EQ(m_ops.tx(m_dev, packet.data(), &len, packet.size(), &meta, 1500, &dropReason),
              OLAB_DONE);
    uint8_t* frame = packet.data() + 20;
    ASSERT_EQ(peer->Open(frame, packet.size() - 20, 0, false), EspStatus::Ok);
    EXPECT_EQ(uint16_t(frame[16 + 6] << 8 | frame[16 + 7]), want);
}

// RX decrypts what EspTransform seals; a bad ICV is reported and the buffer keeps the
// ciphertext; a truncated frame is reported; what is not an inbound SA of this device passes.
TEST_F(NetdevsimLike, RxReportsCryptoDoneAndLeavesNoForgedPlaintext)
{
    const Bytes blob = Blob(6);
    AddOk(GcmSa(blob, OLAB_DIR_IN, 0x500));
    AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x501));
    auto peer = TransformOf(blob);
    const Bytes payload = Payload(77, 3);
    Bytes sealed = Framed(*peer, 0x500, 9, payload);
    peer->Seal(sealed.data() + 20, sealed.size() - 20, 0, false);

    Bytes good = sealed;
    olab_rx_info info{};
    ASSERT_EQ(Rx(good, &info), OLAB_DONE);
    EXPECT_EQ(info.kind, OLAB_RX_CRYPTO_DONE);
    EXPECT_EQ(info.status, OLAB_RX_OK);
    EXPECT_EQ(info.spi, 0x500u);
    EXPECT_EQ(info.daddr, kDst.Get());
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), good.begin() + 20 + 16));

    Bytes forged = sealed;
    forged[20 + 16 + 5] ^= 0x40;
    const Bytes forgedCopy = forged;
    ASSERT_EQ(Rx(forged, &info), OLAB_DONE);
    EXPECT_EQ(info.status, OLAB_RX_AUTH_FAILED);
    EXPECT_EQ(forged, forgedCopy) << "unauthenticated plaintext left in the buffer";

    Bytes truncated(sealed.begin(), sealed.begin() + 20 + 8 + 8 + 10);
    truncated[2] = 0;
    truncated[3] = uint8_t(truncated.size());
    ASSERT_EQ(Rx(truncated, &info), OLAB_DONE);
    EXPECT_EQ(info.status, OLAB_RX_TRUNCATED);

    for (uint32_t spi : {0x501u, 0x999u}) // an outbound SA's SPI, an unknown SPI
    {
        Bytes other = Framed(*peer, spi, 1, payload);
        const Bytes copy = other;
        EXPECT_EQ(Rx(other, &info), OLAB_PASS) << spi;
        EXPECT_EQ(other, copy);
    }
}

} // namespace
