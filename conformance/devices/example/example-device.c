/*
 * The offloadlab example device: a minimal but real IPsec crypto-offload NIC behind the
 * offloadlab device ABI (emu_nic/nic/abi/offloadlab-device.h), in plain C11 with OpenSSL EVP.
 *
 * It is what a vendor's device looks like when it only does crypto offload (Linux's
 * netdevsim, with real crypto): the stack frames ESP (SPI, sequence number, padding,
 * trailer) and the device writes the IV, encrypts and writes the ICV on TX, and checks the ICV
 * and decrypts in place on RX, reporting CRYPTO_DONE with a status. Anti-replay, ESN and
 * lifetimes stay in the stack. Offloaded: rfc4106(gcm(aes)) with 128- or 256-bit keys and a
 * 16-byte ICV, transport and tunnel mode, no ESN.
 *
 * It uses nothing of offloadlab but the ABI header, as a vendor's library would.
 *
 * Built once as the example device and once per defect as the broken plugins the error tests
 * of the certify runner load (one compile definition each):
 *   EXAMPLE_BROKEN_MISSING_SYMBOL  olab_rx is not exported
 *   EXAMPLE_BROKEN_CRASH_TX        olab_tx dereferences NULL on the first packet with meta
 *   EXAMPLE_BROKEN_GARBAGE         olab_state_add returns 7, outside enum olab_result
 *   EXAMPLE_ABI_V1                 not broken: capabilities as an ABI v1 device reports them
 */
#include "offloadlab-device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Built with hidden visibility: only the ABI's functions leave the library. */
#define EXAMPLE_API __attribute__((visibility("default")))
#ifdef EXAMPLE_BROKEN_MISSING_SYMBOL
#define EXAMPLE_RX_API __attribute__((visibility("hidden")))
#else
#define EXAMPLE_RX_API EXAMPLE_API
#endif

#if defined(EXAMPLE_BROKEN_MISSING_SYMBOL)
#define EXAMPLE_NAME "example-broken-missing-symbol"
#elif defined(EXAMPLE_BROKEN_CRASH_TX)
#define EXAMPLE_NAME "example-broken-crash-tx"
#elif defined(EXAMPLE_BROKEN_GARBAGE)
#define EXAMPLE_NAME "example-broken-garbage"
#elif defined(EXAMPLE_ABI_V1)
#define EXAMPLE_NAME "example-abi-v1"
#else
#define EXAMPLE_NAME "example"
#endif

enum
{
    EXAMPLE_MAX_SA = 128,
    ESP_HEADER_LEN = 8, /* SPI + sequence number */
    GCM_IV_LEN = 8,
    GCM_SALT_LEN = 4,
    GCM_ICV_LEN = 16,
    ESP_TRAILER_LEN = 2, /* pad length + next header */
    IP_PROTO_ESP = 50,
    IP_PROTO_UDP = 17,
};

/* A handle: generation (high 32 bits) | valid bit | slot. The generation makes a handle of a
 * freed slot useless once the slot holds a new SA. */
#define EXAMPLE_HANDLE_VALID (1ull << 31)
#define EXAMPLE_HANDLE_SLOT_MASK 0x7fffffffull

struct example_sa
{
    int used;
    int deleted; /* state_delete seen: off the RX path; TX of committed packets goes on */
    uint32_t generation;
    uint8_t dir;
    uint32_t daddr;
    uint32_t spi;
    uint8_t salt[GCM_SALT_LEN];
    EVP_CIPHER_CTX* ctx; /* keyed once at state_add; per packet only the nonce is set */
};

struct example_device
{
    struct olab_host host;
    uint32_t capacity;
    uint32_t features;
    uint32_t next_generation;
    struct example_sa sas[EXAMPLE_MAX_SA];
};

static const struct olab_capabilities g_capabilities = {
#ifdef EXAMPLE_ABI_V1
    /* As a device built against ABI v1 says it: the struct ends before the v2 fields. */
    .size = offsetof(struct olab_capabilities, lifetime_packets),
    .abi_version = 1,
#else
    .size = sizeof(struct olab_capabilities),
    .abi_version = OLAB_DEVICE_ABI_VERSION,
#endif
    .name = EXAMPLE_NAME,
    .description = "offloadlab example device: crypto offload of rfc4106(gcm(aes)), in C",
    .features = OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM,
    .offload_types = OLAB_OFFERS_CRYPTO,
    .algorithms = 1u << OLAB_ALG_AES_GCM,
    .max_sa = EXAMPLE_MAX_SA,
    .max_policies = 0,
    .max_replay_window = 0,
    .esn = 0,
    .tunnel = 1,
};

/* ---- helpers --------------------------------------------------------------------------- */

static uint32_t
read_be32(const uint8_t* p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
write_be32(uint8_t* p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
set_message(char* out, size_t out_len, const char* message)
{
    if (out != NULL && out_len > 0)
    {
        snprintf(out, out_len, "%s", message);
    }
}

/* IPv4 header length, or 0 when buf does not start with a plausible IPv4 header. */
static uint32_t
ipv4_header_len(const uint8_t* buf, uint32_t len)
{
    if (len < 20 || (buf[0] >> 4) != 4)
    {
        return 0;
    }
    const uint32_t ihl = (uint32_t)(buf[0] & 0x0f) * 4;
    return ihl >= 20 && ihl <= len ? ihl : 0;
}

static int
ipv4_is_fragment(const uint8_t* buf)
{
    /* MF set or a non-zero fragment offset. */
    return ((buf[6] & 0x3f) | buf[7]) != 0;
}

/* RFC 1071 one's-complement sum, folded, not inverted. */
static uint32_t
sum16(uint32_t sum, const uint8_t* p, uint32_t len)
{
    for (; len > 1; p += 2, len -= 2)
    {
        sum += (uint32_t)p[0] << 8 | p[1];
    }
    if (len == 1)
    {
        sum += (uint32_t)p[0] << 8;
    }
    while (sum >> 16)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* TCP/UDP checksum over the pseudo-header and the segment (checksum field zero). */
static uint16_t
l4_checksum(uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t* segment, uint32_t len)
{
    uint8_t pseudo[12];
    write_be32(pseudo, saddr);
    write_be32(pseudo + 4, daddr);
    pseudo[8] = 0;
    pseudo[9] = proto;
    pseudo[10] = (uint8_t)(len >> 8);
    pseudo[11] = (uint8_t)len;
    const uint16_t sum = (uint16_t)~sum16(sum16(0, pseudo, sizeof(pseudo)), segment, len);
    /* RFC 768: a computed zero is sent as all ones (zero means "no checksum"). */
    return proto == IP_PROTO_UDP && sum == 0 ? 0xffff : sum;
}

static struct example_sa*
lookup(struct example_device* dev, uint64_t handle)
{
    const uint64_t slot = handle & EXAMPLE_HANDLE_SLOT_MASK;
    if (dev == NULL || !(handle & EXAMPLE_HANDLE_VALID) || slot >= dev->capacity)
    {
        return NULL;
    }
    struct example_sa* sa = &dev->sas[slot];
    return sa->used && sa->generation == (uint32_t)(handle >> 32) ? sa : NULL;
}

static struct example_sa*
lookup_rx(struct example_device* dev, uint32_t daddr, uint32_t spi)
{
    for (uint32_t i = 0; i < dev->capacity; ++i)
    {
        struct example_sa* sa = &dev->sas[i];
        if (sa->used && !sa->deleted && sa->dir == OLAB_DIR_IN && sa->daddr == daddr &&
            sa->spi == spi)
        {
            return sa;
        }
    }
    return NULL;
}

static void
release(struct example_sa* sa)
{
    EVP_CIPHER_CTX_free(sa->ctx); /* also wipes the expanded key */
    OPENSSL_cleanse(sa->salt, sizeof(sa->salt));
    const uint32_t generation = sa->generation;
    memset(sa, 0, sizeof(*sa));
    sa->generation = generation;
}

/* RFC 4106: nonce = salt || IV; AAD = SPI || sequence number (section 5, no ESN). */
static void
make_nonce(const struct example_sa* sa, const uint8_t* frame, uint8_t* nonce)
{
    memcpy(nonce, sa->salt, GCM_SALT_LEN);
    memcpy(nonce + GCM_SALT_LEN, frame + ESP_HEADER_LEN, GCM_IV_LEN);
}

/* Frame (SPI .. ICV) lengths GCM ESP can have: payload + trailer a multiple of 4. */
static int
frame_is_well_formed(uint32_t frame_len)
{
    const uint32_t fixed = ESP_HEADER_LEN + GCM_IV_LEN + GCM_ICV_LEN;
    return frame_len >= fixed + ESP_TRAILER_LEN && frame_len <= (1u << 30) &&
           (frame_len - fixed) % 4 == 0;
}

static int
seal(struct example_sa* sa, uint8_t* frame, uint32_t frame_len, uint32_t seq_hi)
{
    uint8_t* iv = frame + ESP_HEADER_LEN;
    uint8_t* data = iv + GCM_IV_LEN;
    const int data_len = (int)(frame_len - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN);
    /* RFC 4106 3.1 allows a counter: the 64-bit sequence number never repeats within an SA. */
    write_be32(iv, seq_hi);
    memcpy(iv + 4, frame + 4, 4);
    uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
    make_nonce(sa, frame, nonce);
    int out = 0;
    int last = 0;
    return EVP_EncryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) == 1 &&
           EVP_EncryptUpdate(sa->ctx, NULL, &out, frame, ESP_HEADER_LEN) == 1 &&
           EVP_EncryptUpdate(sa->ctx, data, &out, data, data_len) == 1 && out == data_len &&
           EVP_EncryptFinal_ex(sa->ctx, data + out, &last) == 1 &&
           EVP_CIPHER_CTX_ctrl(sa->ctx, EVP_CTRL_GCM_GET_TAG, GCM_ICV_LEN, data + data_len) == 1;
}

static uint8_t
open_in_place(struct example_sa* sa, uint8_t* frame, uint32_t frame_len)
{
    if (!frame_is_well_formed(frame_len))
    {
        return OLAB_RX_TRUNCATED;
    }
    uint8_t* data = frame + ESP_HEADER_LEN + GCM_IV_LEN;
    const int data_len = (int)(frame_len - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN);
    uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
    make_nonce(sa, frame, nonce);
    int out = 0;
    if (EVP_DecryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(sa->ctx, NULL, &out, frame, ESP_HEADER_LEN) != 1)
    {
        return OLAB_RX_AUTH_FAILED; /* nothing decrypted yet */
    }
    if (EVP_DecryptUpdate(sa->ctx, data, &out, data, data_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(sa->ctx, EVP_CTRL_GCM_SET_TAG, GCM_ICV_LEN, data + data_len) == 1 &&
        EVP_DecryptFinal_ex(sa->ctx, data + out, &out) == 1)
    {
        return OLAB_RX_OK;
    }
    /* The tag is only checked after decrypting in place: apply the same keystream again so
     * that a forged packet leaves no unauthenticated plaintext behind. */
    if (EVP_DecryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(sa->ctx, data, &out, data, data_len) != 1)
    {
        OPENSSL_cleanse(data, (size_t)data_len);
    }
    return OLAB_RX_AUTH_FAILED;
}

/* ---- the ABI --------------------------------------------------------------------------- */

EXAMPLE_API const struct olab_capabilities*
olab_get_capabilities(void)
{
    return &g_capabilities;
}

EXAMPLE_API void*
olab_create(const struct olab_host* host,
            const struct olab_config* config,
            char* error,
            size_t error_len)
{
    if (config == NULL || config->size < sizeof(struct olab_config))
    {
        set_message(error, error_len, "olab_config missing or smaller than ABI version 1");
        return NULL;
    }
    if (config->sa_capacity == 0 || config->sa_capacity > EXAMPLE_MAX_SA)
    {
        char message[96];
        snprintf(message,
                 sizeof(message),
                 "sa_capacity %u out of range 1..%u",
                 config->sa_capacity,
                 (unsigned)EXAMPLE_MAX_SA);
        set_message(error, error_len, message);
        return NULL;
    }
    struct example_device* dev = calloc(1, sizeof(*dev));
    if (dev == NULL)
    {
        set_message(error, error_len, "out of memory");
        return NULL;
    }
    /* Crypto offload never calls the host; keep it anyway, as a real driver keeps its netdev. */
    if (host != NULL && host->size >= sizeof(struct olab_host))
    {
        dev->host = *host;
    }
    dev->capacity = config->sa_capacity;
    dev->features = config->features & g_capabilities.features;
    return dev;
}

EXAMPLE_API void
olab_destroy(void* handle)
{
    struct example_device* dev = handle;
    if (dev == NULL)
    {
        return;
    }
    for (uint32_t i = 0; i < dev->capacity; ++i)
    {
        if (dev->sas[i].used)
        {
            release(&dev->sas[i]);
        }
    }
    free(dev);
}

EXAMPLE_API int
olab_state_add(void* handle,
               const struct olab_sa* sa,
               uint64_t* out_handle,
               char* reason,
               size_t reason_len)
{
#ifdef EXAMPLE_BROKEN_GARBAGE
    (void)handle;
    (void)sa;
    (void)out_handle;
    (void)reason;
    (void)reason_len;
    return 7; /* not an olab_result: the host must refuse the device, naming the callback */
#else
    struct example_device* dev = handle;
    if (dev == NULL || sa == NULL || out_handle == NULL || sa->size < sizeof(struct olab_sa))
    {
        set_message(reason, reason_len, "olab_sa missing or smaller than ABI version 1");
        return OLAB_FAILURE;
    }
    /* Validate everything before touching the table (netdevsim's order). */
    if (sa->type != OLAB_OFFLOAD_CRYPTO)
    {
        set_message(reason,
                    reason_len,
                    sa->type == OLAB_OFFLOAD_PACKET
                        ? "Packet offload is not supported: this device offloads crypto only"
                        : "Unknown offload type");
        return sa->type == OLAB_OFFLOAD_PACKET ? OLAB_NOT_SUPPORTED : OLAB_FAILURE;
    }
    if (sa->dir != OLAB_DIR_IN && sa->dir != OLAB_DIR_OUT)
    {
        set_message(reason, reason_len, "Offload direction must be in or out");
        return OLAB_FAILURE;
    }
    if (sa->algorithm != OLAB_ALG_AES_GCM)
    {
        set_message(reason, reason_len, "Cannot offload this algorithm: only rfc4106(gcm(aes))");
        return OLAB_NOT_SUPPORTED;
    }
    if (sa->enc_key_len != 20 && sa->enc_key_len != 36)
    {
        set_message(reason,
                    reason_len,
                    "Only 128- and 256-bit rfc4106(gcm(aes)) keys (20 or 36 bytes with salt)");
        return OLAB_NOT_SUPPORTED;
    }
    if (sa->icv_len != GCM_ICV_LEN)
    {
        set_message(reason, reason_len, "Only ICV 128 is supported");
        return OLAB_NOT_SUPPORTED;
    }
    if (sa->esn)
    {
        set_message(reason, reason_len, "ESN is not supported by this device");
        return OLAB_NOT_SUPPORTED;
    }
    if (sa->mode != OLAB_MODE_TRANSPORT && sa->mode != OLAB_MODE_TUNNEL)
    {
        set_message(reason, reason_len, "Only transport and tunnel mode are supported");
        return OLAB_NOT_SUPPORTED;
    }
    if (sa->dir == OLAB_DIR_IN && lookup_rx(dev, sa->daddr, sa->spi) != NULL)
    {
        set_message(reason, reason_len, "An Rx SA with this (daddr, SPI) is already offloaded");
        return OLAB_FAILURE;
    }
    uint32_t slot = 0;
    while (slot < dev->capacity && dev->sas[slot].used)
    {
        ++slot;
    }
    if (slot == dev->capacity)
    {
        set_message(reason, reason_len, "No space for SA in the device table");
        return OLAB_FAILURE;
    }
    const uint32_t key_len = sa->enc_key_len - GCM_SALT_LEN;
    const EVP_CIPHER* cipher = key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const int keyed =
        ctx != NULL &&
        (sa->dir == OLAB_DIR_OUT ? EVP_EncryptInit_ex(ctx, cipher, NULL, sa->enc_key, NULL)
                                 : EVP_DecryptInit_ex(ctx, cipher, NULL, sa->enc_key, NULL)) == 1;
    if (!keyed)
    {
        EVP_CIPHER_CTX_free(ctx);
        set_message(reason, reason_len, "OpenSSL: AES-GCM key setup failed");
        return OLAB_FAILURE;
    }
    /* Store last. */
    struct example_sa* entry = &dev->sas[slot];
    entry->used = 1;
    entry->deleted = 0;
    entry->generation = ++dev->next_generation;
    entry->dir = sa->dir;
    entry->daddr = sa->daddr;
    entry->spi = sa->spi;
    memcpy(entry->salt, sa->enc_key + key_len, GCM_SALT_LEN);
    entry->ctx = ctx;
    *out_handle = (uint64_t)entry->generation << 32 | EXAMPLE_HANDLE_VALID | slot;
    return OLAB_OK;
#endif
}

EXAMPLE_API void
olab_state_delete(void* handle, uint64_t sa_handle)
{
    struct example_sa* sa = lookup(handle, sa_handle);
    if (sa != NULL)
    {
        sa->deleted = 1; /* its (daddr, SPI) may be offloaded again at once */
    }
}

EXAMPLE_API void
olab_state_free(void* handle, uint64_t sa_handle)
{
    struct example_sa* sa = lookup(handle, sa_handle);
    if (sa != NULL)
    {
        release(sa);
    }
}

EXAMPLE_API int
olab_offload_ok(void* handle, uint64_t sa_handle, const uint8_t* ip_header, uint32_t header_len)
{
    const struct example_sa* sa = lookup(handle, sa_handle);
    /* This device's parser knows plain 20-byte IPv4 headers only: no options. Both the length
     * the host gives and the IHL field must say so. */
    return sa != NULL && !sa->deleted && ip_header != NULL && header_len == 20 &&
           ipv4_header_len(ip_header, header_len) == 20;
}

EXAMPLE_API void
olab_state_advance_esn(void* handle, uint64_t sa_handle, uint64_t replay_top)
{
    /* No ESN SAs are accepted, so there is no high-order state to keep in step. */
    (void)handle;
    (void)sa_handle;
    (void)replay_top;
}

EXAMPLE_API void
olab_state_update_stats(void* handle, uint64_t sa_handle, struct olab_sa_stats* stats)
{
    /* Crypto offload: the stack counts packets, bytes, replay and ICV failures itself. */
    (void)handle;
    (void)sa_handle;
    if (stats != NULL && stats->size >= sizeof(struct olab_sa_stats))
    {
        const uint32_t size = stats->size;
        memset(stats, 0, sizeof(*stats));
        stats->size = size;
    }
}

EXAMPLE_API int
olab_policy_add(void* handle,
                const struct olab_policy* policy,
                uint64_t* out_handle,
                char* reason,
                size_t reason_len)
{
    (void)handle;
    (void)policy;
    (void)out_handle;
    set_message(reason, reason_len, "Policy offload (packet offload) is not supported");
    return OLAB_NOT_SUPPORTED;
}

EXAMPLE_API void
olab_policy_delete(void* handle, uint64_t policy_handle)
{
    (void)handle;
    (void)policy_handle;
}

EXAMPLE_API void
olab_policy_free(void* handle, uint64_t policy_handle)
{
    (void)handle;
    (void)policy_handle;
}

EXAMPLE_API int
olab_tx(void* handle,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        const struct olab_tx_meta* meta,
        uint32_t mtu,
        uint32_t* drop_reason)
{
    (void)cap; /* crypto offload encrypts in place: the length never changes */
    (void)mtu; /* the stack only offloads what fits (no packet offload PMTU check here) */
    if (meta == NULL)
    {
        return OLAB_PASS; /* no offloaded policies: plaintext and software ESP go on as they are */
    }
#ifdef EXAMPLE_BROKEN_CRASH_TX
    volatile uint8_t* volatile nowhere = NULL;
    *nowhere = 1; /* the crash the certify runner must survive and name */
#endif
    uint32_t ignored = 0;
    if (drop_reason == NULL)
    {
        drop_reason = &ignored;
    }
    if (meta->size < sizeof(struct olab_tx_meta))
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    struct example_device* dev = handle;
    /* A deleted but not yet freed SA still encrypts: the stack committed the packet to it. */
    struct example_sa* sa = lookup(dev, meta->handle);
    if (sa == NULL || sa->dir != OLAB_DIR_OUT)
    {
        *drop_reason = OLAB_DROP_TX_NO_STATE;
        return OLAB_DROP;
    }
    const uint32_t ihl = buf != NULL && len != NULL ? ipv4_header_len(buf, *len) : 0;
    if (ihl == 0 || ipv4_is_fragment(buf) || !frame_is_well_formed(*len - ihl))
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    uint8_t* frame = buf + ihl;
    const uint32_t frame_len = *len - ihl;
    if (meta->csum_len != 0)
    {
        /* HW_ESP_TX_CSUM: the inner TCP/UDP checksum is ours to fill before encryption. */
        const uint32_t end = (uint32_t)meta->csum_start + meta->csum_len;
        if (!(dev->features & OLAB_FEATURE_HW_ESP_TX_CSUM) ||
            meta->csum_start < ESP_HEADER_LEN + GCM_IV_LEN ||
            end > frame_len - GCM_ICV_LEN - ESP_TRAILER_LEN ||
            (uint32_t)meta->csum_field + 2 > meta->csum_len)
        {
            *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
            return OLAB_DROP;
        }
        uint8_t* segment = frame + meta->csum_start;
        segment[meta->csum_field] = 0;
        segment[meta->csum_field + 1] = 0;
        const uint16_t sum = l4_checksum(meta->csum_saddr,
                                         meta->csum_daddr,
                                         meta->csum_proto,
                                         segment,
                                         meta->csum_len);
        segment[meta->csum_field] = (uint8_t)(sum >> 8);
        segment[meta->csum_field + 1] = (uint8_t)sum;
    }
    if (!seal(sa, frame, frame_len, meta->seq_hi))
    {
        /* Never let plaintext out: a failed cipher drops the packet. */
        OPENSSL_cleanse(frame + ESP_HEADER_LEN, frame_len - ESP_HEADER_LEN);
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    return OLAB_DONE;
}

EXAMPLE_RX_API int
olab_rx(void* handle,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        struct olab_rx_info* info,
        uint32_t* drop_reason)
{
    (void)cap;
    (void)drop_reason; /* crypto offload reports, the stack drops */
    struct example_device* dev = handle;
    if (dev == NULL || buf == NULL || len == NULL || info == NULL ||
        info->size < sizeof(struct olab_rx_info))
    {
        return OLAB_PASS;
    }
    const uint32_t ihl = ipv4_header_len(buf, *len);
    /* A fragment is reassembled and decrypted by the stack; the device takes whole packets. */
    if (ihl == 0 || buf[9] != IP_PROTO_ESP || ipv4_is_fragment(buf) || *len < ihl + ESP_HEADER_LEN)
    {
        return OLAB_PASS;
    }
    uint8_t* frame = buf + ihl;
    const uint32_t daddr = read_be32(buf + 16);
    const uint32_t spi = read_be32(frame);
    struct example_sa* sa = lookup_rx(dev, daddr, spi);
    if (sa == NULL)
    {
        return OLAB_PASS; /* not offloaded: software IPsec may know the SPI */
    }
    info->kind = OLAB_RX_CRYPTO_DONE;
    info->status = open_in_place(sa, frame, *len - ihl);
    info->spi = spi;
    info->daddr = daddr;
    return OLAB_DONE;
}
