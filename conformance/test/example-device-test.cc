// The in-tree example device (conformance/devices/example/example-device.c), loaded with dlopen
// as `offloadlab certify` loads a vendor's library: it refuses what it does not offload, its
// ESP is what offloadlab's own EspTransform opens and seals, and the broken plugins built from
// it have exactly the defects the certify error tests rely on.
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "offloadlab-device.h"

#include "ns3/packet.h"

#include <csignal>
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

/// dlopen'ed device library with the ABI's functions resolved by name.
struct Library
{
    explicit Library(const char* path)
    {
        handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
        {
            error = dlerror();
            return;
        }
        // Every callback, by its exported name; a missing one stays nullptr.
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

/// One device instance of a library.
struct Device
{
    explicit Device(const olab_device_ops& o,
                    uint32_t capacity = 8,
                    uint32_t features = OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM)
        : ops(o)
    {
        host.size = sizeof(host);
        olab_config config{};
        config.size = sizeof(config);
        config.sa_capacity = capacity;
        config.features = features;
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

    /// state_add; returns the result, the handle and the reason.
    int Add(const olab_sa& sa, uint64_t* handle, std::string* reason = nullptr)
    {
        char text[256] = "";
        *handle = 0;
        const int result = ops.state_add(dev, &sa, handle, text, sizeof(text));
        if (reason)
        {
            *reason = text;
        }
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

    int Tx(Bytes& packet, const olab_tx_meta* meta, uint32_t* dropReason)
    {
        uint32_t len = packet.size();
        const int verdict = ops.tx(dev, packet.data(), &len, packet.size(), meta, 1500, dropReason);
        EXPECT_EQ(len, packet.size()); // crypto offload encrypts in place
        return verdict;
    }

    int Rx(Bytes& packet, olab_rx_info* info)
    {
        uint32_t len = packet.size();
        uint32_t dropReason = 0;
        *info = olab_rx_info{};
        info->size = sizeof(*info);
        const int verdict = ops.rx(dev, packet.data(), &len, packet.size(), info, &dropReason);
        EXPECT_EQ(len, packet.size());
        return verdict;
    }

    const olab_device_ops& ops;
    olab_host host{};
    void* dev{nullptr};
};

/// key || salt for rfc4106(gcm(aes)), as Linux and olab_sa.enc_key take it.
Bytes
GcmBlob(uint8_t seed, size_t keyBytes)
{
    Bytes blob(keyBytes + 4);
    for (size_t i = 0; i < blob.size(); ++i)
    {
        blob[i] = static_cast<uint8_t>(seed * 13 + 7 * i + 3);
    }
    return blob;
}

olab_sa
GcmSa(const Bytes& blob, uint8_t dir, uint32_t spi, uint8_t mode = OLAB_MODE_TRANSPORT)
{
    olab_sa sa{};
    sa.size = sizeof(sa);
    sa.host_id = spi;
    sa.dir = dir;
    sa.type = OLAB_OFFLOAD_CRYPTO;
    sa.mode = mode;
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
    auto transform = EspTransform::Create(EspAlgorithm::Gcm(blob), &error);
    EXPECT_TRUE(transform) << error;
    return transform;
}

/// IPv4 header (serialized by ns-3) in front of payload.
Bytes
WithIpv4(uint8_t proto, const Bytes& payload, Ipv4Address src = kSrc, Ipv4Address dst = kDst)
{
    Ptr<Packet> p = Create<Packet>(payload.data(), payload.size());
    p->AddHeader(MakeIpv4Header(src, dst, proto, payload.size(), 64, 7));
    Bytes out;
    CopyPacketBytes(p, out);
    return out;
}

Bytes
Pattern(size_t length, uint8_t seed)
{
    Bytes bytes(length);
    for (size_t i = 0; i < length; ++i)
    {
        bytes[i] = static_cast<uint8_t>(seed + 31 * i);
    }
    return bytes;
}

/// A UDP (or TCP) segment with a zero checksum field, as the stack hands it down with
/// HW_ESP_TX_CSUM.
Bytes
Segment(uint8_t proto, size_t payloadLength)
{
    const size_t header = proto == kIpProtoUdp ? 8 : 20;
    Bytes segment(header + payloadLength, 0);
    segment[0] = 0x12; // ports 0x1234 -> 0x5678
    segment[1] = 0x34;
    segment[2] = 0x56;
    segment[3] = 0x78;
    if (proto == kIpProtoUdp)
    {
        segment[4] = uint8_t(segment.size() >> 8);
        segment[5] = uint8_t(segment.size());
    }
    else
    {
        segment[12] = 5 << 4; // data offset
        segment[13] = 0x18;   // PSH ACK
    }
    const Bytes payload = Pattern(payloadLength, 0x5a);
    std::copy(payload.begin(), payload.end(), segment.begin() + header);
    return segment;
}

/// What the stack hands the device in crypto offload: IPv4 + a frame from BuildFrame.
Bytes
FramedPacket(const EspTransform& t,
             uint32_t spi,
             uint32_t seq,
             const Bytes& payload,
             uint8_t nextHeader)
{
    Bytes frame;
    t.BuildFrame(spi, seq, payload.data(), payload.size(), nextHeader, frame);
    return WithIpv4(kIpProtoEsp, frame);
}

olab_tx_meta
Meta(uint64_t handle)
{
    olab_tx_meta meta{};
    meta.size = sizeof(meta);
    meta.handle = handle;
    return meta;
}

/// Opens the ESP frame of packet with t; yields the payload and next header.
::testing::AssertionResult
OpensTo(EspTransform& t, Bytes packet, const Bytes& payload, uint8_t nextHeader)
{
    uint8_t* frame = packet.data() + 20;
    const uint32_t frameLength = packet.size() - 20;
    const EspStatus status = t.Open(frame, frameLength, 0, false);
    if (status != EspStatus::Ok)
    {
        return ::testing::AssertionFailure() << "EspTransform::Open: " << EspStatusName(status);
    }
    uint32_t offset = 0;
    uint32_t length = 0;
    uint8_t next = 0;
    const EspStatus trailer = t.ParseTrailer(frame, frameLength, &offset, &length, &next);
    if (trailer != EspStatus::Ok)
    {
        return ::testing::AssertionFailure() << "ParseTrailer: " << EspStatusName(trailer);
    }
    if (Bytes(frame + offset, frame + offset + length) != payload || next != nextHeader)
    {
        return ::testing::AssertionFailure() << "payload or next header differ";
    }
    return ::testing::AssertionSuccess();
}

class ExampleDevice : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_lib.handle) << m_lib.error;
    }

    Library m_lib{OFFLOADLAB_EXAMPLE_DEVICE};
};

TEST_F(ExampleDevice, CapabilitiesAreSane)
{
    ASSERT_TRUE(m_lib.ops.get_capabilities);
    const olab_capabilities* caps = m_lib.ops.get_capabilities();
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->size, sizeof(olab_capabilities));
    EXPECT_EQ(caps->abi_version, OLAB_DEVICE_ABI_VERSION);
    EXPECT_STREQ(caps->name, "example");
    EXPECT_TRUE(caps->description && *caps->description);
    EXPECT_EQ(caps->features, OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM);
    EXPECT_EQ(caps->offload_types, OLAB_OFFERS_CRYPTO);
    EXPECT_EQ(caps->algorithms, 1u << OLAB_ALG_AES_GCM);
    EXPECT_EQ(caps->esn, 0u);
    EXPECT_EQ(caps->tunnel, 1u);
    EXPECT_GE(caps->max_sa, 2u);
    // Every callback is exported, C-named.
    for (const char* name : {"olab_get_capabilities",
                             "olab_create",
                             "olab_destroy",
                             "olab_state_add",
                             "olab_state_delete",
                             "olab_state_free",
                             "olab_offload_ok",
                             "olab_state_advance_esn",
                             "olab_state_update_stats",
                             "olab_policy_add",
                             "olab_policy_delete",
                             "olab_policy_free",
                             "olab_tx",
                             "olab_rx"})
    {
        EXPECT_TRUE(dlsym(m_lib.handle, name)) << name;
    }
}

TEST_F(ExampleDevice, CreateRefusesBadConfigWithAMessage)
{
    const uint32_t maxSa = m_lib.ops.get_capabilities()->max_sa;
    olab_host host{};
    host.size = sizeof(host);
    for (uint32_t capacity : {0u, maxSa + 1})
    {
        olab_config config{};
        config.size = sizeof(config);
        config.sa_capacity = capacity;
        char error[128] = "";
        EXPECT_EQ(m_lib.ops.create(&host, &config, error, sizeof(error)), nullptr) << capacity;
        EXPECT_NE(std::string(error).find("sa_capacity"), std::string::npos) << error;
    }
    olab_config tooSmall{};
    tooSmall.size = 4;
    tooSmall.sa_capacity = 1;
    char error[128] = "";
    EXPECT_EQ(m_lib.ops.create(&host, &tooSmall, error, sizeof(error)), nullptr);
    EXPECT_STRNE(error, "");
}

TEST_F(ExampleDevice, StateAddOfGcmCryptoGivesDistinctHandles)
{
    Device d(m_lib.ops);
    std::set<uint64_t> handles;
    handles.insert(d.AddOk(GcmSa(GcmBlob(1, 16), OLAB_DIR_OUT, 0x100)));
    handles.insert(d.AddOk(GcmSa(GcmBlob(2, 16), OLAB_DIR_IN, 0x101)));
    handles.insert(d.AddOk(GcmSa(GcmBlob(3, 32), OLAB_DIR_OUT, 0x102, OLAB_MODE_TUNNEL)));
    handles.insert(d.AddOk(GcmSa(GcmBlob(4, 32), OLAB_DIR_IN, 0x103, OLAB_MODE_TUNNEL)));
    EXPECT_EQ(handles.size(), 4u);
    EXPECT_EQ(handles.count(0), 0u);
}

TEST_F(ExampleDevice, RefusesWhatItDoesNotOffloadWithAReason)
{
    Device d(m_lib.ops, 1);

    struct Refusal
    {
        const char* what;
        void (*change)(olab_sa&);
        int result;
    };

    const Refusal refusals[] = {
        {"packet offload", [](olab_sa& sa) { sa.type = OLAB_OFFLOAD_PACKET; }, OLAB_NOT_SUPPORTED},
        {"cbc(aes)+hmac(sha256)",
         [](olab_sa& sa) {
             sa.algorithm = OLAB_ALG_AES_CBC_SHA256;
             sa.enc_key_len = 16;
             sa.auth_key_len = 32;
         },
         OLAB_NOT_SUPPORTED},
        {"ESN", [](olab_sa& sa) { sa.esn = 1; }, OLAB_NOT_SUPPORTED},
        {"ICV 64", [](olab_sa& sa) { sa.icv_len = 8; }, OLAB_NOT_SUPPORTED},
        {"192-bit key", [](olab_sa& sa) { sa.enc_key_len = 28; }, OLAB_NOT_SUPPORTED},
        {"offload type none", [](olab_sa& sa) { sa.type = 0; }, OLAB_FAILURE},
        {"direction 5", [](olab_sa& sa) { sa.dir = 5; }, OLAB_FAILURE},
        {"struct from no ABI", [](olab_sa& sa) { sa.size = 8; }, OLAB_FAILURE},
    };
    for (const auto& r : refusals)
    {
        olab_sa sa = GcmSa(GcmBlob(1, 16), OLAB_DIR_OUT, 0x200);
        r.change(sa);
        uint64_t handle = 0;
        std::string reason;
        EXPECT_EQ(d.Add(sa, &handle, &reason), r.result) << r.what;
        EXPECT_FALSE(reason.empty()) << r.what;
    }
    // Refusals keep no slot: the one slot is still free.
    d.AddOk(GcmSa(GcmBlob(1, 16), OLAB_DIR_OUT, 0x200));
    // No packet offload, so no policies either.
    olab_policy policy{};
    policy.size = sizeof(policy);
    uint64_t handle = 0;
    char reason[128] = "";
    EXPECT_EQ(m_lib.ops.policy_add(d.dev, &policy, &handle, reason, sizeof(reason)),
              OLAB_NOT_SUPPORTED);
    EXPECT_STRNE(reason, "");
}

TEST_F(ExampleDevice, FullTableFailsUntilASlotIsFreed)
{
    Device d(m_lib.ops, 3);
    std::vector<uint64_t> handles;
    for (uint32_t spi = 1; spi <= 3; ++spi)
    {
        handles.push_back(d.AddOk(GcmSa(GcmBlob(spi, 16), OLAB_DIR_OUT, spi)));
    }
    uint64_t handle = 0;
    std::string reason;
    EXPECT_EQ(d.Add(GcmSa(GcmBlob(9, 16), OLAB_DIR_OUT, 9), &handle, &reason), OLAB_FAILURE);
    EXPECT_NE(reason.find("No space for SA"), std::string::npos) << reason;
    // Delete alone keeps the slot (packets in flight); free releases it.
    m_lib.ops.state_delete(d.dev, handles[1]);
    EXPECT_EQ(d.Add(GcmSa(GcmBlob(9, 16), OLAB_DIR_OUT, 9), &handle, &reason), OLAB_FAILURE);
    m_lib.ops.state_free(d.dev, handles[1]);
    const uint64_t reused = d.AddOk(GcmSa(GcmBlob(9, 16), OLAB_DIR_OUT, 9));
    EXPECT_NE(reused, handles[1]) << "a freed handle must not name the new SA";
    uint32_t dropReason = 0;
    auto t = TransformOf(GcmBlob(2, 16));
    Bytes packet = FramedPacket(*t, 2, 1, Pattern(40, 1), kIpProtoUdp);
    const olab_tx_meta stale = Meta(handles[1]);
    EXPECT_EQ(d.Tx(packet, &stale, &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE);
}

TEST_F(ExampleDevice, DuplicateRxSpiFailsUntilDeleted)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(5, 16);
    const uint64_t first = d.AddOk(GcmSa(blob, OLAB_DIR_IN, 0x300));
    uint64_t handle = 0;
    std::string reason;
    EXPECT_EQ(d.Add(GcmSa(blob, OLAB_DIR_IN, 0x300), &handle, &reason), OLAB_FAILURE);
    EXPECT_FALSE(reason.empty());
    // Deleted leaves the datapath at once: RX ignores it and the (daddr, SPI) is free again.
    m_lib.ops.state_delete(d.dev, first);
    auto t = TransformOf(blob);
    Bytes frame;
    t->Encapsulate(0x300, 1, false, Pattern(30, 2).data(), 30, kIpProtoUdp, frame);
    Bytes packet = WithIpv4(kIpProtoEsp, frame);
    olab_rx_info info{};
    EXPECT_EQ(d.Rx(packet, &info), OLAB_PASS);
    const uint64_t second = d.AddOk(GcmSa(blob, OLAB_DIR_IN, 0x300));
    EXPECT_NE(second, first);
    EXPECT_EQ(d.Rx(packet, &info), OLAB_DONE);
    EXPECT_EQ(info.status, OLAB_RX_OK);
    m_lib.ops.state_free(d.dev, first); // freeing the old one leaves the new one alone
    packet = WithIpv4(kIpProtoEsp, frame);
    EXPECT_EQ(d.Rx(packet, &info), OLAB_DONE);
}

TEST_F(ExampleDevice, OffloadOkRefusesIpv4Options)
{
    Device d(m_lib.ops);
    const uint64_t handle = d.AddOk(GcmSa(GcmBlob(1, 16), OLAB_DIR_OUT, 0x400));
    Bytes plain = WithIpv4(kIpProtoUdp, Segment(kIpProtoUdp, 10));
    EXPECT_EQ(m_lib.ops.offload_ok(d.dev, handle, plain.data(), 20), 1);
    // The same header with 4 bytes of options (NOP NOP NOP EOL): IHL 6.
    Bytes options(plain.begin(), plain.begin() + 20);
    options[0] = 0x46;
    options.insert(options.end(), {1, 1, 1, 0});
    EXPECT_EQ(m_lib.ops.offload_ok(d.dev, handle, options.data(), options.size()), 0);
    // header_len alone says options too (a host serializer may leave the IHL field at 5).
    options[0] = 0x45;
    EXPECT_EQ(m_lib.ops.offload_ok(d.dev, handle, options.data(), options.size()), 0);
    EXPECT_EQ(m_lib.ops.offload_ok(d.dev, handle ^ (1ull << 31), plain.data(), 20), 0);
    m_lib.ops.state_delete(d.dev, handle);
    EXPECT_EQ(m_lib.ops.offload_ok(d.dev, handle, plain.data(), 20), 0);
}

TEST_F(ExampleDevice, TxSealsWhatEspTransformOpens)
{
    Device d(m_lib.ops);
    for (size_t keyBytes : {16u, 32u})
    {
        const Bytes blob = GcmBlob(uint8_t(keyBytes), keyBytes);
        const uint32_t spi = 0x500 + keyBytes;
        const uint64_t handle = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, spi));
        auto stack = TransformOf(blob); // frames, as the stack does
        auto peer = TransformOf(blob);  // opens, as the receiving host does
        uint32_t seq = 1;
        // (No empty payload: Linux's esp_remove_trailer refuses it, so no peer would open it.)
        for (size_t length : {1u, 13u, 100u, 1400u})
        {
            const Bytes payload = Pattern(length, uint8_t(length));
            Bytes packet = FramedPacket(*stack, spi, seq++, payload, kIpProtoUdp);
            const Bytes framed = packet;
            const olab_tx_meta meta = Meta(handle);
            uint32_t dropReason = 0;
            ASSERT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DONE) << dropReason;
            // Header, SPI and sequence number untouched; the rest no longer plaintext.
            EXPECT_TRUE(std::equal(framed.begin(), framed.begin() + 28, packet.begin()));
            if (length >= 16)
            {
                EXPECT_FALSE(std::equal(payload.begin(), payload.end(), packet.begin() + 36));
            }
            EXPECT_TRUE(OpensTo(*peer, packet, payload, kIpProtoUdp))
                << keyBytes * 8 << "-bit key, payload " << length;
        }
        // A tunnel-mode frame is the same ESP around a whole inner packet.
        const Bytes inner = WithIpv4(kIpProtoUdp, Segment(kIpProtoUdp, 50));
        Bytes packet = FramedPacket(*stack, spi, seq++, inner, kIpProtoIpip);
        const olab_tx_meta meta = Meta(handle);
        uint32_t dropReason = 0;
        ASSERT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DONE);
        EXPECT_TRUE(OpensTo(*peer, packet, inner, kIpProtoIpip));
    }
}

TEST_F(ExampleDevice, TxIvIsUniquePerPacket)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(7, 16);
    const uint64_t handle = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x600));
    auto stack = TransformOf(blob);
    const Bytes payload = Pattern(64, 3);
    std::set<Bytes> ivs;
    std::set<Bytes> ciphertexts;
    const uint32_t packets = 64;
    for (uint32_t seq = 1; seq <= packets; ++seq)
    {
        Bytes packet = FramedPacket(*stack, 0x600, seq, payload, kIpProtoUdp);
        const olab_tx_meta meta = Meta(handle);
        uint32_t dropReason = 0;
        ASSERT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DONE);
        const Bytes iv(packet.begin() + 28, packet.begin() + 36);
        // RFC 4106 3.1 counter IV: the 64-bit sequence number (high bits 0 without ESN).
        EXPECT_EQ(iv,
                  (Bytes{0,
                         0,
                         0,
                         0,
                         uint8_t(seq >> 24),
                         uint8_t(seq >> 16),
                         uint8_t(seq >> 8),
                         uint8_t(seq)}));
        ivs.insert(iv);
        ciphertexts.insert(Bytes(packet.begin() + 36, packet.end()));
    }
    EXPECT_EQ(ivs.size(), packets);
    EXPECT_EQ(ciphertexts.size(), packets) << "same plaintext must not give the same ciphertext";
}

TEST_F(ExampleDevice, TxWritesTheInnerChecksum)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(8, 16);
    const uint64_t handle = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x700));
    auto stack = TransformOf(blob);
    auto peer = TransformOf(blob);
    const Ipv4Address innerSrc("10.1.0.5");
    const Ipv4Address innerDst("10.2.0.9");
    uint32_t seq = 1;
    for (uint8_t proto : {kIpProtoUdp, kIpProtoTcp})
    {
        for (bool tunnel : {false, true})
        {
            for (size_t length : {0u, 1u, 33u, 500u})
            {
                const Bytes segment = Segment(proto, length);
                const Bytes payload =
                    tunnel ? WithIpv4(proto, segment, innerSrc, innerDst) : segment;
                Bytes packet =
                    FramedPacket(*stack, 0x700, seq++, payload, tunnel ? kIpProtoIpip : proto);
                olab_tx_meta meta = Meta(handle);
                meta.csum_start = 8 + 8 + (tunnel ? 20 : 0); // after SPI, seq, IV (and inner IP)
                meta.csum_len = segment.size();
                meta.csum_field = proto == kIpProtoUdp ? 6 : 16;
                meta.csum_proto = proto;
                meta.csum_saddr = (tunnel ? innerSrc : kSrc).Get();
                meta.csum_daddr = (tunnel ? innerDst : kDst).Get();
                uint32_t dropReason = 0;
                ASSERT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DONE);

                uint8_t* frame = packet.data() + 20;
                ASSERT_EQ(peer->Open(frame, packet.size() - 20, 0, false), EspStatus::Ok);
                uint8_t* written = frame + meta.csum_start;
                const uint16_t got =
                    uint16_t(written[meta.csum_field] << 8) | written[meta.csum_field + 1];
                // Expected: ns-3's Internet checksum (another implementation than the C one).
                Bytes zeroed(written, written + meta.csum_len);
                zeroed[meta.csum_field] = zeroed[meta.csum_field + 1] = 0;
                const uint16_t want = L4Checksum(tunnel ? innerSrc : kSrc,
                                                 tunnel ? innerDst : kDst,
                                                 proto,
                                                 zeroed.data(),
                                                 zeroed.size());
                EXPECT_EQ(got, want)
                    << int(proto) << (tunnel ? " tunnel " : " transport ") << length;
                EXPECT_NE(got, 0) << "the field must be written";
                // The rest of the segment is untouched.
                zeroed[meta.csum_field] = uint8_t(got >> 8);
                zeroed[meta.csum_field + 1] = uint8_t(got);
                EXPECT_EQ(Bytes(written, written + meta.csum_len), zeroed);
            }
        }
    }
}

TEST_F(ExampleDevice, TxChecksumOnlyWhenTheHostEnabledIt)
{
    Device d(m_lib.ops, 8, OLAB_FEATURE_HW_ESP);
    const Bytes blob = GcmBlob(9, 16);
    const uint64_t handle = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x800));
    auto stack = TransformOf(blob);
    const Bytes segment = Segment(kIpProtoUdp, 20);
    Bytes packet = FramedPacket(*stack, 0x800, 1, segment, kIpProtoUdp);
    olab_tx_meta meta = Meta(handle);
    meta.csum_start = 16;
    meta.csum_len = segment.size();
    meta.csum_field = 6;
    meta.csum_proto = kIpProtoUdp;
    uint32_t dropReason = 0;
    EXPECT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_UNSUPPORTED);
}

TEST_F(ExampleDevice, TxPassesWithoutMetaAndDropsWithoutState)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(10, 16);
    const uint64_t out = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0x900));
    const uint64_t in = d.AddOk(GcmSa(blob, OLAB_DIR_IN, 0x901));
    auto stack = TransformOf(blob);

    // No meta: plaintext (no packet offload policies here) goes on untouched.
    Bytes plain = WithIpv4(kIpProtoUdp, Segment(kIpProtoUdp, 30));
    const Bytes original = plain;
    uint32_t dropReason = 0;
    EXPECT_EQ(d.Tx(plain, nullptr, &dropReason), OLAB_PASS);
    EXPECT_EQ(plain, original);

    struct Case
    {
        const char* what;
        uint64_t handle;
    };

    for (const Case& c : {Case{"unknown handle", out + 1},
                          Case{"no valid bit", out & 0xffff},
                          Case{"inbound SA", in}})
    {
        Bytes packet = FramedPacket(*stack, 0x900, 1, Pattern(20, 1), kIpProtoUdp);
        const olab_tx_meta meta = Meta(c.handle);
        EXPECT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DROP) << c.what;
        EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE) << c.what;
    }

    // Deleted but not freed: packets the stack already committed are still encrypted.
    m_lib.ops.state_delete(d.dev, out);
    Bytes packet = FramedPacket(*stack, 0x900, 2, Pattern(20, 1), kIpProtoUdp);
    const olab_tx_meta meta = Meta(out);
    EXPECT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DONE);
    m_lib.ops.state_free(d.dev, out);
    packet = FramedPacket(*stack, 0x900, 3, Pattern(20, 1), kIpProtoUdp);
    EXPECT_EQ(d.Tx(packet, &meta, &dropReason), OLAB_DROP);
    EXPECT_EQ(dropReason, OLAB_DROP_TX_NO_STATE);
}

TEST_F(ExampleDevice, RxOpensWhatEspTransformSeals)
{
    Device d(m_lib.ops);
    for (size_t keyBytes : {16u, 32u})
    {
        const Bytes blob = GcmBlob(uint8_t(keyBytes + 1), keyBytes);
        const uint32_t spi = 0xa00 + keyBytes;
        d.AddOk(GcmSa(blob, OLAB_DIR_IN, spi));
        auto peer = TransformOf(blob);
        auto stack = TransformOf(blob);
        uint64_t seq = 1;
        for (size_t length : {1u, 7u, 200u, 1400u})
        {
            const Bytes payload = Pattern(length, uint8_t(length + 9));
            Bytes frame;
            peer->Encapsulate(spi,
                              seq++,
                              false,
                              payload.data(),
                              payload.size(),
                              kIpProtoTcp,
                              frame);
            Bytes packet = WithIpv4(kIpProtoEsp, frame);
            olab_rx_info info{};
            ASSERT_EQ(d.Rx(packet, &info), OLAB_DONE);
            EXPECT_EQ(info.kind, OLAB_RX_CRYPTO_DONE);
            EXPECT_EQ(info.status, OLAB_RX_OK);
            EXPECT_EQ(info.spi, spi);
            EXPECT_EQ(info.daddr, kDst.Get());
            // Decrypted in place: the stack parses the trailer of what the device left.
            uint32_t offset = 0;
            uint32_t plainLength = 0;
            uint8_t next = 0;
            ASSERT_EQ(stack->ParseTrailer(packet.data() + 20,
                                          packet.size() - 20,
                                          &offset,
                                          &plainLength,
                                          &next),
                      EspStatus::Ok);
            EXPECT_EQ(
                Bytes(packet.begin() + 20 + offset, packet.begin() + 20 + offset + plainLength),
                payload);
            EXPECT_EQ(next, kIpProtoTcp);
        }
    }
}

TEST_F(ExampleDevice, RxReportsBadIcvAndTruncationAndLeavesNoPlaintext)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(11, 16);
    d.AddOk(GcmSa(blob, OLAB_DIR_IN, 0xb00));
    auto peer = TransformOf(blob);
    Bytes frame;
    const Bytes payload = Pattern(100, 4);
    peer->Encapsulate(0xb00, 5, false, payload.data(), payload.size(), kIpProtoUdp, frame);

    for (size_t flip : {frame.size() - 1, size_t(20), size_t(4), size_t(10)}) // ICV, data, seq, IV
    {
        Bytes bad = frame;
        bad[flip] ^= 0x01;
        Bytes packet = WithIpv4(kIpProtoEsp, bad);
        const Bytes sent = packet;
        olab_rx_info info{};
        ASSERT_EQ(d.Rx(packet, &info), OLAB_DONE) << flip;
        EXPECT_EQ(info.kind, OLAB_RX_CRYPTO_DONE);
        EXPECT_EQ(info.status, OLAB_RX_AUTH_FAILED) << "byte " << flip << " flipped";
        EXPECT_EQ(packet, sent) << "a forged packet must be left as it came";
    }
    // Shorter than header + IV + trailer + ICV, and not 4-byte aligned.
    for (size_t length : {size_t(20), frame.size() - 1})
    {
        Bytes packet = WithIpv4(kIpProtoEsp, Bytes(frame.begin(), frame.begin() + length));
        olab_rx_info info{};
        ASSERT_EQ(d.Rx(packet, &info), OLAB_DONE) << length;
        EXPECT_EQ(info.status, OLAB_RX_TRUNCATED) << length;
    }
}

TEST_F(ExampleDevice, RxPassesWhatIsNotItsOwn)
{
    Device d(m_lib.ops);
    const Bytes blob = GcmBlob(12, 16);
    d.AddOk(GcmSa(blob, OLAB_DIR_IN, 0xc00));
    d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0xc01));
    auto peer = TransformOf(blob);
    auto esp = [&](uint32_t spi, Ipv4Address dst) {
        Bytes frame;
        peer->Encapsulate(spi, 1, false, Pattern(40, 1).data(), 40, kIpProtoUdp, frame);
        return WithIpv4(kIpProtoEsp, frame, kSrc, dst);
    };
    Bytes fragment = esp(0xc00, kDst);
    fragment[6] |= 0x20; // more fragments

    struct Case
    {
        const char* what;
        Bytes packet;
    };

    const Case cases[] = {
        {"unknown SPI", esp(0xc99, kDst)},
        {"other daddr", esp(0xc00, Ipv4Address("10.0.0.3"))},
        {"outbound SA's SPI", esp(0xc01, kDst)},
        {"fragment (the stack reassembles)", fragment},
        {"UDP", WithIpv4(kIpProtoUdp, Segment(kIpProtoUdp, 40))},
        {"ESP shorter than SPI + seq", WithIpv4(kIpProtoEsp, Bytes{0, 0, 0x0c, 0})},
        {"not IPv4", Bytes(40, 0x60)},
    };
    for (const Case& c : cases)
    {
        Bytes packet = c.packet;
        olab_rx_info info{};
        EXPECT_EQ(d.Rx(packet, &info), OLAB_PASS) << c.what;
        EXPECT_EQ(packet, c.packet) << c.what;
    }
}

TEST_F(ExampleDevice, UpdateStatsLeavesCountingToTheStack)
{
    Device d(m_lib.ops);
    const uint64_t handle = d.AddOk(GcmSa(GcmBlob(13, 16), OLAB_DIR_IN, 0xd00));
    m_lib.ops.state_advance_esn(d.dev, handle, 1ull << 33); // no ESN: nothing to do, no crash
    olab_sa_stats stats;
    std::memset(&stats, 0xff, sizeof(stats));
    stats.size = sizeof(stats);
    m_lib.ops.state_update_stats(d.dev, handle, &stats);
    EXPECT_EQ(stats.size, sizeof(stats));
    EXPECT_EQ(stats.packets, 0u);
    EXPECT_EQ(stats.bytes, 0u);
    EXPECT_EQ(stats.integrity_failures, 0u);
}

// ---- the broken plugins: each has the one defect its name says, nothing else ----

TEST(BrokenDevice, MissingSymbolLacksOnlyOlabRx)
{
    Library lib(OFFLOADLAB_BROKEN_MISSING_SYMBOL);
    ASSERT_TRUE(lib.handle) << lib.error;
    EXPECT_EQ(dlsym(lib.handle, "olab_rx"), nullptr);
    EXPECT_TRUE(lib.ops.tx && lib.ops.state_add && lib.ops.create && lib.ops.get_capabilities);
}

TEST(BrokenDevice, CrashTxDiesOnTheFirstPacketWithMeta)
{
    Library lib(OFFLOADLAB_BROKEN_CRASH_TX);
    ASSERT_TRUE(lib.handle) << lib.error;
    Device d(lib.ops);
    const Bytes blob = GcmBlob(14, 16);
    const uint64_t handle = d.AddOk(GcmSa(blob, OLAB_DIR_OUT, 0xe00));
    Bytes plain = WithIpv4(kIpProtoUdp, Segment(kIpProtoUdp, 30));
    uint32_t dropReason = 0;
    EXPECT_EQ(d.Tx(plain, nullptr, &dropReason), OLAB_PASS); // fine until then
    auto stack = TransformOf(blob);
    Bytes packet = FramedPacket(*stack, 0xe00, 1, Pattern(30, 1), kIpProtoUdp);
    const olab_tx_meta meta = Meta(handle);
    EXPECT_EXIT(
        {
            uint32_t len = packet.size();
            uint32_t reason = 0;
            lib.ops.tx(d.dev, packet.data(), &len, len, &meta, 1500, &reason);
            std::exit(0);
        },
        ::testing::KilledBySignal(SIGSEGV),
        "");
}

TEST(BrokenDevice, GarbageStateAddReturnsSeven)
{
    Library lib(OFFLOADLAB_BROKEN_GARBAGE);
    ASSERT_TRUE(lib.handle) << lib.error;
    Device d(lib.ops);
    uint64_t handle = 0;
    EXPECT_EQ(d.Add(GcmSa(GcmBlob(15, 16), OLAB_DIR_OUT, 0xf00), &handle), 7);
}

} // namespace
