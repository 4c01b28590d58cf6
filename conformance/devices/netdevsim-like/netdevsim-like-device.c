/*
 * netdevsim-like: Linux's netdevsim IPsec offload (drivers/net/netdevsim/ipsec.c) behind the
 * offloadlab device ABI (emu_nic/nic/abi/offloadlab-device.h), with the crypto that netdevsim
 * only pretends to do done for real with OpenSSL's EVP AES-GCM.
 *
 * What it keeps of netdevsim: crypto offload only; rfc4106(gcm(aes)) with a 128-bit ICV and a
 * 128-bit key + 32-bit salt; a fixed table of NSIM_IPSEC_MAX_SA_COUNT (33) SAs owned by the
 * device, a handle that is the table index | NSIM_IPSEC_VALID; validation before anything is
 * stored; -EINVAL / -ENOSPC (OLAB_FAILURE) with netdevsim's extack messages; delete releases
 * the slot (netdevsim has no xdo_dev_state_free); no advance_esn, so (as xfrm_dev_state_add
 * decides for such a device) no ESN; no policy offload; offload_ok accepts everything.
 * What it adds: the IV, the encryption and the ICV on TX, the ICV check and decryption on RX,
 * the inner checksum of NETIF_F_HW_ESP_TX_CSUM. README.md lists the differences.
 *
 * It uses nothing of offloadlab but the ABI header.
 */
#include "offloadlab-device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hidden visibility by default (the build sets it): only the ABI leaves the library. */
#define NSIM_EXPORT __attribute__((visibility("default")))

/* netdevsim.h */
#define NSIM_IPSEC_MAX_SA_COUNT 33
#define NSIM_IPSEC_VALID (1u << 31)
/* ipsec.c */
#define NSIM_IPSEC_AUTH_BITS 128

/* rfc4106(gcm(aes)) as netdevsim takes it: 16-byte key, 4-byte salt, 8-byte IV, 16-byte ICV. */
#define NSIM_KEY_BYTES 16
#define NSIM_SALT_BYTES 4
#define NSIM_IV_BYTES 8
#define NSIM_ICV_BYTES (NSIM_IPSEC_AUTH_BITS / 8)

/* The ESP frame after the IPv4 header: SPI, sequence number, IV, ciphertext, ICV. */
#define ESP_SPI_OFFSET 0
#define ESP_SEQ_OFFSET 4
#define ESP_IV_OFFSET 8
#define ESP_DATA_OFFSET (ESP_IV_OFFSET + NSIM_IV_BYTES)
#define ESP_TRAILER_BYTES 2 /* pad length, next header */
#define IPPROTO_ESP_NUMBER 50
#define IPPROTO_UDP_NUMBER 17
#define IPV4_MAX_LEN 65535u

struct nsim_sa
{
    bool used;
    bool rx;
    uint32_t ipaddr; /* the SA's destination, as netdevsim's sa.ipaddr */
    uint32_t spi;
    uint8_t salt[NSIM_SALT_BYTES];
    /* TX: the IV is the 64-bit sequence number XOR this per-SA random value, as Linux's own
     * IV generator for rfc4106 does (crypto/seqiv.c): unique per packet, not guessable. */
    uint8_t iv_mask[NSIM_IV_BYTES];
    EVP_CIPHER_CTX* aead; /* keyed at state_add; per packet only the nonce changes */
};

struct nsim_ipsec
{
    struct nsim_sa sa[NSIM_IPSEC_MAX_SA_COUNT];
    uint32_t count;
    uint32_t slots;    /* the table size the host asked for, at most NSIM_IPSEC_MAX_SA_COUNT */
    uint32_t features; /* what the host enabled of ours */
    uint32_t ok;       /* netdevsim's debugfs counters */
    uint32_t tx;
    uint8_t scratch[IPV4_MAX_LEN]; /* RX decrypts here first: a forged packet stays ciphertext */
};

static const struct olab_capabilities nsim_capabilities = {
    .size = sizeof(struct olab_capabilities),
    .abi_version = OLAB_DEVICE_ABI_VERSION,
    .name = "netdevsim-like",
    .description = "Linux netdevsim's IPsec crypto offload (33 SAs, rfc4106(gcm(aes)) 128-bit) "
                   "with real AES-GCM",
    /* NSIM_ESP_FEATURES: HW_ESP | HW_ESP_TX_CSUM (| GSO_ESP, which the ABI has no bit for). */
    .features = OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM,
    .offload_types = OLAB_OFFERS_CRYPTO,
    .algorithms = 1u << OLAB_ALG_AES_GCM,
    .max_sa = NSIM_IPSEC_MAX_SA_COUNT,
    .max_policies = 0,
    .max_replay_window = 0,
    .esn = 0,    /* no xdo_dev_state_advance_esn */
    .tunnel = 1, /* netdevsim never looks at the mode */
    .lifetime_packets = OLAB_LIFETIME_EXACT,
    .lifetime_bytes = OLAB_LIFETIME_EXACT,
    .lifetime_poll_ms = 0,
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void
nsim_err(char* out, size_t out_len, const char* fmt, const char* detail)
{
    if (out != NULL && out_len > 0)
    {
        snprintf(out, out_len, fmt, detail);
    }
}

static uint32_t
get_be32(const uint8_t* p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
put_be64(uint8_t* p, uint64_t v)
{
    for (int i = 7; i >= 0; --i)
    {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Where the ESP frame of an IPv4 ESP packet starts, or 0 when buf is not one the device can
 * work on (not IPv4, longer than IPv4 allows, not ESP, a fragment, a header longer than the
 * packet). */
static uint32_t
esp_frame_offset(const uint8_t* buf, uint32_t len)
{
    if (buf == NULL || len < 20 || len > IPV4_MAX_LEN || (buf[0] & 0xf0) != 0x40)
    {
        return 0;
    }
    const uint32_t ihl = (buf[0] & 0x0fu) * 4u;
    const bool fragment = (buf[6] & 0x20) != 0 || ((buf[6] & 0x1f) | buf[7]) != 0;
    if (ihl < 20 || ihl > len || buf[9] != IPPROTO_ESP_NUMBER || fragment)
    {
        return 0;
    }
    return ihl;
}

/* One's-complement sum of 16-bit big-endian words (RFC 1071), not folded. */
static uint64_t
ones_sum(const uint8_t* p, size_t n, uint64_t acc)
{
    size_t i = 0;
    for (; i + 1 < n; i += 2)
    {
        acc += ((uint32_t)p[i] << 8) | p[i + 1];
    }
    if (i < n)
    {
        acc += (uint32_t)p[i] << 8;
    }
    return acc;
}

static uint16_t
fold(uint64_t acc)
{
    while (acc > 0xffff)
    {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)acc;
}

/* NETIF_F_HW_ESP_TX_CSUM: the inner TCP/UDP checksum, as olab_tx_meta describes it. Returns
 * false when the description does not fit the frame. */
static bool
fill_inner_checksum(uint8_t* frame, uint32_t frame_len, const struct olab_tx_meta* meta)
{
    const uint32_t start = meta->csum_start;
    const uint32_t n = meta->csum_len;
    const uint32_t plaintext_end = frame_len - NSIM_ICV_BYTES - ESP_TRAILER_BYTES;
    if (start < ESP_DATA_OFFSET || start + n > plaintext_end || (uint32_t)meta->csum_field + 2 > n)
    {
        return false;
    }
    uint8_t* segment = frame + start;
    uint8_t* field = segment + meta->csum_field;
    field[0] = field[1] = 0;
    /* Pseudo-header: source, destination, zero, protocol, L4 length. */
    uint64_t acc = (meta->csum_saddr >> 16) + (meta->csum_saddr & 0xffff) +
                   (meta->csum_daddr >> 16) + (meta->csum_daddr & 0xffff) + meta->csum_proto + n;
    acc = ones_sum(segment, n, acc);
    uint16_t csum = (uint16_t)~fold(acc);
    if (csum == 0 && meta->csum_proto == IPPROTO_UDP_NUMBER)
    {
        csum = 0xffff; /* RFC 768: zero would mean "no checksum" */
    }
    field[0] = (uint8_t)(csum >> 8);
    field[1] = (uint8_t)csum;
    return true;
}

/* ---- the SA table (nsim_ipsec_find_empty_idx, the handle) -------------------------------- */

static int
nsim_ipsec_find_empty_idx(const struct nsim_ipsec* ipsec)
{
    if (ipsec->count >= ipsec->slots)
    {
        return -1;
    }
    for (uint32_t i = 0; i < ipsec->slots; ++i)
    {
        if (!ipsec->sa[i].used)
        {
            return (int)i;
        }
    }
    return -1;
}

/* The SA a handle names, as nsim_ipsec_tx finds it: index below the table size, slot in use. */
static struct nsim_sa*
nsim_sa_of(struct nsim_ipsec* ipsec, uint64_t handle)
{
    if (ipsec == NULL || !(handle & NSIM_IPSEC_VALID))
    {
        return NULL;
    }
    const uint64_t sa_idx = handle & ~(uint64_t)NSIM_IPSEC_VALID;
    if (sa_idx >= NSIM_IPSEC_MAX_SA_COUNT || !ipsec->sa[sa_idx].used)
    {
        return NULL;
    }
    return &ipsec->sa[sa_idx];
}

static struct nsim_sa*
nsim_rx_sa(struct nsim_ipsec* ipsec, uint32_t daddr, uint32_t spi)
{
    for (uint32_t i = 0; i < ipsec->slots; ++i)
    {
        struct nsim_sa* sa = &ipsec->sa[i];
        if (sa->used && sa->rx && sa->spi == spi && sa->ipaddr == daddr)
        {
            return sa;
        }
    }
    return NULL;
}

static void
nsim_sa_clear(struct nsim_sa* sa)
{
    EVP_CIPHER_CTX_free(sa->aead);
    OPENSSL_cleanse(sa, sizeof(*sa));
}

/* nsim_ipsec_parse_proto_keys: rfc4106(gcm(aes)), ICV 128, a 128-bit key with its salt. The
 * detail goes where netdevsim's netdev_err goes: after the extack message. */
static const char*
nsim_parse_proto_keys(const struct olab_sa* sa)
{
    if (sa->algorithm == OLAB_ALG_AES_CBC_SHA256)
    {
        return "Unsupported IPsec algorithm"; /* no xs->aead */
    }
    if ((uint32_t)sa->icv_len * 8 != NSIM_IPSEC_AUTH_BITS)
    {
        return "IPsec offload requires 128 bit authentication";
    }
    if (sa->algorithm != OLAB_ALG_AES_GCM)
    {
        return "Unsupported IPsec algorithm - please use rfc4106(gcm(aes))";
    }
    /* netdevsim takes any key longer than 128 bits and uses its first 16 bytes as the key and
     * the next 4 as the salt; with real crypto that would cut a 256-bit key (GCM-256-KEY), so
     * only 128 + 32 bits are accepted. */
    if (sa->enc_key_len != NSIM_KEY_BYTES + NSIM_SALT_BYTES)
    {
        return "IPsec hw offload only supports 128 bit keys with optional 32 bit salt";
    }
    return NULL;
}

/* ---- the ABI ---------------------------------------------------------------------------- */

NSIM_EXPORT const struct olab_capabilities*
olab_get_capabilities(void)
{
    return &nsim_capabilities;
}

NSIM_EXPORT void*
olab_create(const struct olab_host* host,
            const struct olab_config* config,
            char* error,
            size_t error_len)
{
    (void)host; /* crypto offload never calls back into the host */
    if (config == NULL || config->size < sizeof(*config))
    {
        nsim_err(error, error_len, "%s", "olab_config is missing or smaller than ABI version 1");
        return NULL;
    }
    if (config->sa_capacity == 0)
    {
        nsim_err(error, error_len, "%s", "olab_config.sa_capacity is 0");
        return NULL;
    }
    struct nsim_ipsec* ipsec = calloc(1, sizeof(*ipsec));
    if (ipsec == NULL)
    {
        nsim_err(error, error_len, "%s", "out of memory");
        return NULL;
    }
    /* netdevsim's table has 33 entries whatever is asked; a smaller request shrinks it. */
    ipsec->slots = config->sa_capacity < NSIM_IPSEC_MAX_SA_COUNT ? config->sa_capacity
                                                                 : NSIM_IPSEC_MAX_SA_COUNT;
    ipsec->features = config->features & nsim_capabilities.features;
    return ipsec;
}

NSIM_EXPORT void
olab_destroy(void* dev)
{
    struct nsim_ipsec* ipsec = dev;
    if (ipsec == NULL)
    {
        return;
    }
    /* nsim_ipsec_teardown only complains about SAs left; here they are released. */
    for (uint32_t i = 0; i < NSIM_IPSEC_MAX_SA_COUNT; ++i)
    {
        if (ipsec->sa[i].used)
        {
            nsim_sa_clear(&ipsec->sa[i]);
        }
    }
    OPENSSL_cleanse(ipsec->scratch, sizeof(ipsec->scratch));
    free(ipsec);
}

/* nsim_ipsec_add_sa, after the checks xfrm_dev_state_add makes before it calls the driver. */
NSIM_EXPORT int
olab_state_add(void* dev, const struct olab_sa* sa, uint64_t* handle, char* reason, size_t len)
{
    struct nsim_ipsec* ipsec = dev;
    if (ipsec == NULL || sa == NULL || handle == NULL || sa->size < sizeof(*sa))
    {
        nsim_err(reason, len, "%s", "olab_sa is missing or smaller than ABI version 2");
        return OLAB_FAILURE;
    }
    if (sa->dir != OLAB_DIR_IN && sa->dir != OLAB_DIR_OUT)
    {
        nsim_err(reason, len, "%s", "Unrecognized offload direction");
        return OLAB_FAILURE;
    }
    /* xfrm_dev_state_add: a crypto-offload ESN SA needs xdo_dev_state_advance_esn. */
    if (sa->esn && sa->type == OLAB_OFFLOAD_CRYPTO)
    {
        nsim_err(reason, len, "%s", "Device doesn't support offload with ESN");
        return OLAB_FAILURE;
    }
    if (sa->type != OLAB_OFFLOAD_CRYPTO)
    {
        nsim_err(reason, len, "%s", "netdevsim: Unsupported ipsec offload type");
        return OLAB_FAILURE;
    }
    if (sa->mode != OLAB_MODE_TRANSPORT && sa->mode != OLAB_MODE_TUNNEL)
    {
        nsim_err(reason, len, "%s", "Unsupported XFRM mode for offload");
        return OLAB_FAILURE;
    }
    const int idx = nsim_ipsec_find_empty_idx(ipsec);
    if (idx < 0)
    {
        nsim_err(reason, len, "%s", "netdevsim: No space for SA in Rx table!"); /* -ENOSPC */
        return OLAB_FAILURE;
    }
    const char* key_problem = nsim_parse_proto_keys(sa);
    if (key_problem != NULL)
    {
        nsim_err(reason, len, "netdevsim: Failed to get key data for SA table (%s)", key_problem);
        return OLAB_FAILURE;
    }

    /* Prepare in a local; the table entry is written only once everything worked. */
    struct nsim_sa entry;
    memset(&entry, 0, sizeof(entry));
    entry.used = true;
    entry.rx = sa->dir == OLAB_DIR_IN;
    entry.ipaddr = sa->daddr;
    entry.spi = sa->spi;
    memcpy(entry.salt, sa->enc_key + NSIM_KEY_BYTES, NSIM_SALT_BYTES);
    entry.aead = EVP_CIPHER_CTX_new();
    const bool keyed =
        entry.aead != NULL &&
        EVP_CipherInit_ex(entry.aead, EVP_aes_128_gcm(), NULL, NULL, NULL, entry.rx ? 0 : 1) == 1 &&
        EVP_CIPHER_CTX_ctrl(entry.aead,
                            EVP_CTRL_GCM_SET_IVLEN,
                            NSIM_SALT_BYTES + NSIM_IV_BYTES,
                            NULL) == 1 &&
        EVP_CipherInit_ex(entry.aead, NULL, NULL, sa->enc_key, NULL, -1) == 1;
    if (!keyed || (!entry.rx && RAND_bytes(entry.iv_mask, sizeof(entry.iv_mask)) != 1))
    {
        nsim_sa_clear(&entry);
        nsim_err(reason, len, "%s", "netdevsim: AES-GCM key setup failed");
        return OLAB_FAILURE;
    }
    ipsec->sa[idx] = entry;
    /* "the XFRM stack doesn't like offload_handle == 0": index | valid bit. */
    *handle = (uint64_t)(uint32_t)idx | NSIM_IPSEC_VALID;
    ipsec->count++;
    return OLAB_OK;
}

/* nsim_ipsec_del_sa: the slot is free again at once. */
NSIM_EXPORT void
olab_state_delete(void* dev, uint64_t handle)
{
    struct nsim_ipsec* ipsec = dev;
    struct nsim_sa* sa = nsim_sa_of(ipsec, handle);
    if (sa == NULL)
    {
        return; /* netdevsim: "Invalid SA for delete" */
    }
    nsim_sa_clear(sa);
    ipsec->count--;
}

/* netdevsim has no xdo_dev_state_free: delete already released everything. The slot may hold
 * a new SA by now (a rekey re-adds before the old state is freed), so this must not touch it. */
NSIM_EXPORT void
olab_state_free(void* dev, uint64_t handle)
{
    (void)dev;
    (void)handle;
}

/* nsim_ipsec_offload_ok: accepts; the core has already refused IPv4 options and oversize. */
NSIM_EXPORT int
olab_offload_ok(void* dev, uint64_t handle, const uint8_t* ip_header, uint32_t header_len)
{
    (void)handle;
    (void)ip_header;
    (void)header_len;
    struct nsim_ipsec* ipsec = dev;
    if (ipsec != NULL)
    {
        ipsec->ok++;
    }
    return 1;
}

/* Never called: ESN SAs are refused. */
NSIM_EXPORT void
olab_state_advance_esn(void* dev, uint64_t handle, uint64_t replay_top)
{
    (void)dev;
    (void)handle;
    (void)replay_top;
}

/* netdevsim has no xdo_dev_state_update_stats: the stack keeps every counter in crypto
 * offload. Report nothing counted. */
NSIM_EXPORT void
olab_state_update_stats(void* dev, uint64_t handle, struct olab_sa_stats* stats)
{
    (void)dev;
    (void)handle;
    if (stats != NULL && stats->size >= sizeof(*stats))
    {
        const uint32_t size = stats->size;
        memset(stats, 0, sizeof(*stats));
        stats->size = size;
    }
}

/* No xdo_dev_policy_add (Linux: "Policy offload is not supported"). */
NSIM_EXPORT int
olab_policy_add(void* dev,
                const struct olab_policy* policy,
                uint64_t* handle,
                char* reason,
                size_t len)
{
    (void)dev;
    (void)policy;
    (void)handle;
    nsim_err(reason, len, "%s", "Policy offload is not supported");
    return OLAB_NOT_SUPPORTED;
}

NSIM_EXPORT void
olab_policy_delete(void* dev, uint64_t handle)
{
    (void)dev;
    (void)handle;
}

NSIM_EXPORT void
olab_policy_free(void* dev, uint64_t handle)
{
    (void)dev;
    (void)handle;
}

static int
tx_drop(uint32_t* drop_reason, uint32_t why)
{
    if (drop_reason != NULL)
    {
        *drop_reason = why;
    }
    return OLAB_DROP;
}

/* nsim_ipsec_tx, then what netdevsim leaves out: IV, encryption, ICV (RFC 4106). */
NSIM_EXPORT int
olab_tx(void* dev,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        const struct olab_tx_meta* meta,
        uint32_t mtu,
        uint32_t* drop_reason)
{
    (void)cap; /* in place: crypto offload never changes the length */
    (void)mtu; /* the stack only hands down what fits */
    if (meta == NULL)
    {
        return OLAB_PASS; /* no sec_path: not ours to check */
    }
    if (meta->size < sizeof(*meta) || len == NULL)
    {
        return tx_drop(drop_reason, OLAB_DROP_TX_UNSUPPORTED);
    }
    struct nsim_ipsec* ipsec = dev;
    /* "bad sa_idx" / "unused sa_idx": netdevsim drops the packet. */
    struct nsim_sa* tsa = nsim_sa_of(ipsec, meta->handle);
    if (tsa == NULL || tsa->rx)
    {
        return tx_drop(drop_reason, OLAB_DROP_TX_NO_STATE);
    }
    const uint32_t off = esp_frame_offset(buf, *len);
    if (off == 0 || *len - off < ESP_DATA_OFFSET + ESP_TRAILER_BYTES + NSIM_ICV_BYTES)
    {
        return tx_drop(drop_reason, OLAB_DROP_TX_UNSUPPORTED);
    }
    uint8_t* frame = buf + off;
    const uint32_t frame_len = *len - off;
    /* netdevsim has the skb's xfrm_state; the ABI gives only the index, so make sure the slot
     * still holds this packet's SA and not one added after it was deleted. */
    if (get_be32(frame + ESP_SPI_OFFSET) != tsa->spi || get_be32(buf + 16) != tsa->ipaddr)
    {
        return tx_drop(drop_reason, OLAB_DROP_TX_NO_STATE);
    }
    if (meta->csum_len != 0 && (!(ipsec->features & OLAB_FEATURE_HW_ESP_TX_CSUM) ||
                                !fill_inner_checksum(frame, frame_len, meta)))
    {
        return tx_drop(drop_reason, OLAB_DROP_TX_UNSUPPORTED);
    }

    /* seqiv: IV = 64-bit sequence number XOR the SA's mask. */
    const uint64_t seq = ((uint64_t)meta->seq_hi << 32) | get_be32(frame + ESP_SEQ_OFFSET);
    uint8_t* iv = frame + ESP_IV_OFFSET;
    put_be64(iv, seq);
    for (int i = 0; i < NSIM_IV_BYTES; ++i)
    {
        iv[i] ^= tsa->iv_mask[i];
    }
    uint8_t nonce[NSIM_SALT_BYTES + NSIM_IV_BYTES];
    memcpy(nonce, tsa->salt, NSIM_SALT_BYTES);
    memcpy(nonce + NSIM_SALT_BYTES, iv, NSIM_IV_BYTES);
    uint8_t* data = frame + ESP_DATA_OFFSET;
    const int data_len = (int)(frame_len - ESP_DATA_OFFSET - NSIM_ICV_BYTES);
    int n = 0;
    /* AAD = SPI || sequence number (RFC 4106 section 5; no ESN here). */
    const bool sealed =
        EVP_CipherInit_ex(tsa->aead, NULL, NULL, NULL, nonce, 1) == 1 &&
        EVP_CipherUpdate(tsa->aead, NULL, &n, frame, ESP_IV_OFFSET) == 1 &&
        EVP_CipherUpdate(tsa->aead, data, &n, data, data_len) == 1 && n == data_len &&
        EVP_CipherFinal_ex(tsa->aead, data + n, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(tsa->aead, EVP_CTRL_GCM_GET_TAG, NSIM_ICV_BYTES, data + data_len) == 1;
    if (!sealed)
    {
        /* Nothing leaves in the clear. */
        OPENSSL_cleanse(data, (size_t)data_len + NSIM_ICV_BYTES);
        return tx_drop(drop_reason, OLAB_DROP_TX_UNSUPPORTED);
    }
    ipsec->tx++;
    return OLAB_DONE;
}

/* RX: ICV check and decryption of ESP for an inbound SA, reported as CRYPTO_DONE + status. */
NSIM_EXPORT int
olab_rx(void* dev,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        struct olab_rx_info* info,
        uint32_t* drop_reason)
{
    (void)cap;
    (void)drop_reason; /* crypto offload reports; the stack decides */
    struct nsim_ipsec* ipsec = dev;
    if (ipsec == NULL || len == NULL || info == NULL || info->size < sizeof(*info))
    {
        return OLAB_PASS;
    }
    const uint32_t off = esp_frame_offset(buf, *len);
    if (off == 0 || *len - off < ESP_IV_OFFSET)
    {
        return OLAB_PASS; /* not ESP, a fragment (the stack reassembles), or no SPI to read */
    }
    uint8_t* frame = buf + off;
    const uint32_t frame_len = *len - off;
    const uint32_t daddr = get_be32(buf + 16);
    const uint32_t spi = get_be32(frame + ESP_SPI_OFFSET);
    struct nsim_sa* sa = nsim_rx_sa(ipsec, daddr, spi);
    if (sa == NULL)
    {
        return OLAB_PASS; /* not offloaded here: software IPsec may know the SPI */
    }
    info->kind = OLAB_RX_CRYPTO_DONE;
    info->spi = spi;
    info->daddr = daddr;
    if (frame_len < ESP_DATA_OFFSET + ESP_TRAILER_BYTES + NSIM_ICV_BYTES)
    {
        info->status = OLAB_RX_TRUNCATED; /* no room for a trailer and an ICV */
        return OLAB_DONE;
    }
    uint8_t nonce[NSIM_SALT_BYTES + NSIM_IV_BYTES];
    memcpy(nonce, sa->salt, NSIM_SALT_BYTES);
    memcpy(nonce + NSIM_SALT_BYTES, frame + ESP_IV_OFFSET, NSIM_IV_BYTES);
    uint8_t* data = frame + ESP_DATA_OFFSET;
    const int data_len = (int)(frame_len - ESP_DATA_OFFSET - NSIM_ICV_BYTES);
    int n = 0;
    /* Into the scratch buffer; the packet changes only once the ICV is right. */
    const bool opened =
        EVP_CipherInit_ex(sa->aead, NULL, NULL, NULL, nonce, 0) == 1 &&
        EVP_CipherUpdate(sa->aead, NULL, &n, frame, ESP_IV_OFFSET) == 1 &&
        EVP_CipherUpdate(sa->aead, ipsec->scratch, &n, data, data_len) == 1 && n == data_len &&
        EVP_CIPHER_CTX_ctrl(sa->aead, EVP_CTRL_GCM_SET_TAG, NSIM_ICV_BYTES, data + data_len) == 1 &&
        EVP_CipherFinal_ex(sa->aead, ipsec->scratch + n, &n) == 1;
    if (opened)
    {
        memcpy(data, ipsec->scratch, (size_t)data_len);
    }
    OPENSSL_cleanse(ipsec->scratch, (size_t)data_len);
    info->status = opened ? OLAB_RX_OK : OLAB_RX_AUTH_FAILED;
    return OLAB_DONE;
}
