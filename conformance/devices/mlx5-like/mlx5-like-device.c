/*
 * mlx5-like: an IPsec offload NIC behind the offloadlab device ABI
 * (emu_nic/nic/abi/offloadlab-device.h), modelled on what Linux's mlx5 driver
 * (drivers/net/ethernet/mellanox/mlx5/core/en_accel/ipsec*.c) states about its hardware, in
 * plain C11 with OpenSSL EVP. It offers crypto and packet offload, transport and tunnel mode,
 * ESN, HW_ESP and HW_ESP_TX_CSUM.
 *
 *  - state_add validates as mlx5e_xfrm_validate_state() and answers -EINVAL (OLAB_FAILURE)
 *    with mlx5's extack text for anything it does not offload;
 *  - the IV is seqiv's: the 64-bit sequence number XOR a random 64-bit value per SA
 *    (mlx5e_ipsec_build_accel_xfrm_attrs() hands seqiv's salt to the hardware as seq_iv);
 *  - packet offload: the device holds the policies (mlx5e_xfrm_add_policy()), chooses the SA
 *    by the policy's template, adds and removes all of ESP, checks replay in the device, never
 *    matches IP fragments (setup_fte_no_frags()) and does not check PMTU (the core's
 *    xfrm_dev_offload_ok() does) nor the pad contents (esp_remove_trailer() never reads them);
 *  - lifetimes: packet limits come from a hardware counter event (check_expire on the packet
 *    that reaches the limit), byte limits are polled by the host once a second, as mlx5's
 *    mlx5e_ipsec_handle_sw_limits() work does;
 *  - update_stats is mlx5e_xfrm_update_stats(): the hardware counts whole IPv4 packets per
 *    rule, the driver subtracts the failed ones and an IPv4 header per packet.
 *
 * It uses nothing of offloadlab but the ABI header, as a vendor's library would.
 */
#include "offloadlab-device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Built with hidden visibility: only the ABI's functions leave the library. */
#define MLX5_API __attribute__((visibility("default")))

enum
{
    MLX5_MAX_SA = 1024,
    MLX5_MAX_POLICIES = 1024,
    MLX5_MAX_REPLAY_WINDOW = 256, /* MLX5_IPSEC_ASO_REPLAY_WIN_256BIT */
    REPLAY_WORDS = MLX5_MAX_REPLAY_WINDOW / 64,
    IPV4_HEADER_LEN = 20, /* sizeof(struct iphdr): what update_stats subtracts per packet */
    ESP_HEADER_LEN = 8,   /* SPI + sequence number */
    GCM_IV_LEN = 8,
    GCM_SALT_LEN = 4,
    GCM_ICV_LEN = 16,
    ESP_TRAILER_LEN = 2, /* pad length + next header */
    IP_PROTO_IPIP = 4,
    IP_PROTO_TCP = 6,
    IP_PROTO_UDP = 17,
    IP_PROTO_ESP = 50,
    TUNNEL_TTL = 0x40, /* IPSEC_TUNNEL_DEFAULT_TTL of ipsec_fs.c */
};

/* ---- tables ----------------------------------------------------------------------------- */

/* A flow counter (mlx5_fc): packets and the IPv4 bytes of the packets a rule matched. */
struct mlx5_counter
{
    uint64_t packets;
    uint64_t bytes;
};

struct mlx5_sa
{
    uint32_t obj_id; /* the hardware's IPsec object id; 0: free slot */
    int deleted;     /* state_delete seen: its rules are gone */
    uint64_t host_id;
    uint64_t serial;
    uint8_t dir;
    uint8_t type;
    uint8_t mode;
    uint8_t esn;
    uint32_t saddr;
    uint32_t daddr;
    uint32_t spi;
    uint32_t reqid;
    struct olab_selector sel;
    uint8_t salt[GCM_SALT_LEN];
    uint64_t seq_iv; /* seqiv's per-SA random value; IV = sequence number XOR seq_iv */
    EVP_CIPHER_CTX* ctx;
    uint64_t oseq; /* TX: last sequence number used */
    /* RX: the replay state; crypto offload keeps only top, moved by advance_esn. */
    uint32_t window;
    uint64_t top;
    uint64_t bitmap[REPLAY_WORDS]; /* bit i: sequence number top - i was received */
    /* Packet lifetime: the ASO down-counter, seen as a count of packets carried. */
    uint64_t soft_packets;
    uint64_t hard_packets;
    uint64_t lifetime_packets;
    /* Flow counters as ipsec_fs.c creates them: the SA rule, and on RX the status drops. */
    struct mlx5_counter fc;
    struct mlx5_counter auth;
    struct mlx5_counter trailer;
    struct mlx5_counter replay;
    uint64_t malformed;
    uint64_t seq_overflow;
    uint64_t expired;
};

struct mlx5_policy
{
    uint32_t obj_id; /* 0: free slot */
    int deleted;
    uint64_t serial;
    uint8_t dir;
    uint8_t tmpl_mode;
    uint32_t priority;
    struct olab_selector sel;
    uint32_t tmpl_saddr;
    uint32_t tmpl_daddr;
    uint32_t tmpl_reqid;
    uint32_t tmpl_spi;
};

struct mlx5_device
{
    struct olab_host host;
    int has_host;
    uint32_t sa_capacity;
    uint32_t policy_capacity;
    uint32_t features;
    uint32_t next_obj_id;
    uint16_t next_ip_id;
    struct mlx5_sa* sas;
    struct mlx5_policy* policies;
};

/* A handle: the object id (high 32 bits) | slot + 1. The id makes a stale handle useless once
 * its slot holds a new object. */
static uint64_t
make_handle(uint32_t obj_id, uint32_t slot)
{
    return (uint64_t)obj_id << 32 | (uint64_t)(slot + 1);
}

static const struct olab_capabilities g_capabilities = {
    .size = sizeof(struct olab_capabilities),
    .abi_version = OLAB_DEVICE_ABI_VERSION,
    .name = "mlx5-like",
    .description = "mlx5-like: crypto and packet offload of rfc4106(gcm(aes)) as Linux's mlx5 "
                   "driver states it, in C",
    .features = OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM,
    .offload_types = OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET,
    .algorithms = 1u << OLAB_ALG_AES_GCM,
    .max_sa = MLX5_MAX_SA,
    .max_policies = MLX5_MAX_POLICIES,
    .max_replay_window = MLX5_MAX_REPLAY_WINDOW,
    .esn = 1,
    .tunnel = 1,
    .lifetime_packets = OLAB_LIFETIME_EXACT,
    .lifetime_bytes = OLAB_LIFETIME_POLLED,
    .lifetime_poll_ms = 1000, /* MLX5_IPSEC_RESCHED */
};

/* ---- bytes ------------------------------------------------------------------------------ */

static uint32_t
read_be32(const uint8_t* p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t
read_be16(const uint8_t* p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
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
write_be16(uint8_t* p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
write_be64(uint8_t* p, uint64_t v)
{
    write_be32(p, (uint32_t)(v >> 32));
    write_be32(p + 4, (uint32_t)v);
}

static void
set_message(char* out, size_t out_len, const char* message)
{
    if (out != NULL && out_len > 0)
    {
        snprintf(out, out_len, "%s", message);
    }
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

static void
ipv4_set_checksum(uint8_t* ip, uint32_t ihl)
{
    ip[10] = 0;
    ip[11] = 0;
    write_be16(ip + 10, (uint16_t)~sum16(0, ip, ihl));
}

/* TCP/UDP checksum over the pseudo-header and the segment (checksum field zeroed before). */
static uint16_t
l4_checksum(uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t* segment, uint32_t len)
{
    uint8_t pseudo[12];
    write_be32(pseudo, saddr);
    write_be32(pseudo + 4, daddr);
    pseudo[8] = 0;
    pseudo[9] = proto;
    write_be16(pseudo + 10, (uint16_t)len);
    const uint16_t sum = (uint16_t)~sum16(sum16(0, pseudo, sizeof(pseudo)), segment, len);
    /* RFC 768: a UDP checksum that computes to zero goes out as all ones. */
    return proto == IP_PROTO_UDP && sum == 0 ? 0xffff : sum;
}

/* The IPv4 header length when buf holds a whole IPv4 packet of len bytes (tot_len agreeing),
 * else 0. */
static uint32_t
ipv4_header_len(const uint8_t* buf, uint32_t len)
{
    if (buf == NULL || len < IPV4_HEADER_LEN || (buf[0] >> 4) != 4)
    {
        return 0;
    }
    const uint32_t ihl = (uint32_t)(buf[0] & 0x0f) * 4;
    const uint32_t tot_len = read_be16(buf + 2);
    return ihl >= IPV4_HEADER_LEN && ihl <= tot_len && tot_len <= len ? ihl : 0;
}

static int
ipv4_is_fragment(const uint8_t* ip)
{
    /* MF set or a non-zero fragment offset. */
    return ((ip[6] & 0x3f) | ip[7]) != 0;
}

/* ---- selectors and templates ---------------------------------------------------------- */

/* What a selector looks at in a packet. Ports are unknown in fragments. */
struct mlx5_flow
{
    uint32_t saddr;
    uint32_t daddr;
    uint8_t proto;
    int has_ports;
    uint16_t sport;
    uint16_t dport;
};

static void
flow_of(const uint8_t* ip, uint32_t ihl, uint32_t len, struct mlx5_flow* f)
{
    f->saddr = read_be32(ip + 12);
    f->daddr = read_be32(ip + 16);
    f->proto = ip[9];
    f->has_ports = !ipv4_is_fragment(ip) &&
                   (f->proto == IP_PROTO_TCP || f->proto == IP_PROTO_UDP) && len >= ihl + 4;
    f->sport = f->has_ports ? read_be16(ip + ihl) : 0;
    f->dport = f->has_ports ? read_be16(ip + ihl + 2) : 0;
}

static int
prefix_match(uint32_t a, uint32_t b, uint8_t prefix)
{
    if (prefix == 0)
    {
        return 1;
    }
    const uint32_t mask = prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
    return (a & mask) == (b & mask);
}

/* xfrm_selector_match() for IPv4; a fragment matches whatever its ports would be, because
 * mlx5's rules never look at fragments (they are dropped, not let through). */
static int
selector_match(const struct olab_selector* s, const struct mlx5_flow* f)
{
    return prefix_match(f->saddr, s->saddr, s->sprefix) &&
           prefix_match(f->daddr, s->daddr, s->dprefix) &&
           (s->proto == 0 || s->proto == f->proto) &&
           (s->sport == 0 || !f->has_ports || s->sport == f->sport) &&
           (s->dport == 0 || !f->has_ports || s->dport == f->dport);
}

/* xfrm_state_ok(): may this SA serve this policy's template? */
static int
template_accepts(const struct mlx5_policy* p, const struct mlx5_sa* sa)
{
    return (p->tmpl_reqid == 0 || p->tmpl_reqid == sa->reqid) && p->tmpl_mode == sa->mode &&
           (p->tmpl_spi == 0 || p->tmpl_spi == sa->spi) &&
           (sa->mode != OLAB_MODE_TUNNEL || p->tmpl_saddr == 0 || p->tmpl_saddr == sa->saddr);
}

/* The policy that decides a flow: the lowest priority value, ties to the older policy. */
static struct mlx5_policy*
best_policy(struct mlx5_device* dev, uint8_t dir, const struct mlx5_flow* f)
{
    struct mlx5_policy* best = NULL;
    for (uint32_t i = 0; i < dev->policy_capacity; ++i)
    {
        struct mlx5_policy* p = &dev->policies[i];
        if (p->obj_id == 0 || p->deleted || p->dir != dir || !selector_match(&p->sel, f))
        {
            continue;
        }
        if (best == NULL || p->priority < best->priority ||
            (p->priority == best->priority && p->serial < best->serial))
        {
            best = p;
        }
    }
    return best;
}

/* xfrm_state_find() for an outbound policy: the newest packet-offload SA its template accepts,
 * to the template's tunnel endpoints or, in transport mode, to the packet's addresses. */
static struct mlx5_sa*
tx_state_of(struct mlx5_device* dev, const struct mlx5_policy* p, const struct mlx5_flow* f)
{
    struct mlx5_sa* best = NULL;
    for (uint32_t i = 0; i < dev->sa_capacity; ++i)
    {
        struct mlx5_sa* sa = &dev->sas[i];
        if (sa->obj_id == 0 || sa->deleted || sa->dir != OLAB_DIR_OUT ||
            sa->type != OLAB_OFFLOAD_PACKET || !template_accepts(p, sa) ||
            !selector_match(&sa->sel, f))
        {
            continue;
        }
        const int endpoints =
            sa->mode == OLAB_MODE_TUNNEL
                ? sa->daddr == p->tmpl_daddr && (p->tmpl_saddr == 0 || sa->saddr == p->tmpl_saddr)
                : sa->daddr == f->daddr && sa->saddr == f->saddr;
        if (endpoints && (best == NULL || sa->serial > best->serial))
        {
            best = sa;
        }
    }
    return best;
}

static struct mlx5_sa*
rx_state_of(struct mlx5_device* dev, uint32_t daddr, uint32_t spi)
{
    for (uint32_t i = 0; i < dev->sa_capacity; ++i)
    {
        struct mlx5_sa* sa = &dev->sas[i];
        if (sa->obj_id != 0 && !sa->deleted && sa->dir == OLAB_DIR_IN && sa->daddr == daddr &&
            sa->spi == spi)
        {
            return sa;
        }
    }
    return NULL;
}

/* Is there an inbound packet-offload SA to daddr (and spi, when known)? For RX fragments. */
static int
rx_packet_state_to(struct mlx5_device* dev, uint32_t daddr, int spi_known, uint32_t spi)
{
    for (uint32_t i = 0; i < dev->sa_capacity; ++i)
    {
        const struct mlx5_sa* sa = &dev->sas[i];
        if (sa->obj_id != 0 && !sa->deleted && sa->dir == OLAB_DIR_IN &&
            sa->type == OLAB_OFFLOAD_PACKET && sa->daddr == daddr && (!spi_known || sa->spi == spi))
        {
            return 1;
        }
    }
    return 0;
}

static struct mlx5_sa*
sa_of(struct mlx5_device* dev, uint64_t handle)
{
    const uint64_t slot = (handle & 0xffffffffu) - 1;
    if (dev == NULL || slot >= dev->sa_capacity)
    {
        return NULL;
    }
    struct mlx5_sa* sa = &dev->sas[slot];
    return sa->obj_id != 0 && sa->obj_id == (uint32_t)(handle >> 32) ? sa : NULL;
}

static struct mlx5_policy*
policy_of(struct mlx5_device* dev, uint64_t handle)
{
    const uint64_t slot = (handle & 0xffffffffu) - 1;
    if (dev == NULL || slot >= dev->policy_capacity)
    {
        return NULL;
    }
    struct mlx5_policy* p = &dev->policies[slot];
    return p->obj_id != 0 && p->obj_id == (uint32_t)(handle >> 32) ? p : NULL;
}

static uint32_t
new_obj_id(struct mlx5_device* dev)
{
    if (++dev->next_obj_id == 0)
    {
        ++dev->next_obj_id;
    }
    return dev->next_obj_id;
}

static void
release_sa(struct mlx5_sa* sa)
{
    EVP_CIPHER_CTX_free(sa->ctx);     /* also wipes the expanded key */
    OPENSSL_cleanse(sa, sizeof(*sa)); /* keys, salt, seq_iv; obj_id 0 frees the slot */
}

/* ---- replay and ESN (RFC 4303 3.4.3 and appendix A) ----------------------------------- */

/* xfrm_replay_seqhi(): the high-order bits of a received sequence number, from the window. */
static uint32_t
infer_seq_hi(uint64_t top, uint32_t window, uint32_t seq_lo)
{
    const uint32_t top_lo = (uint32_t)top;
    uint32_t top_hi = (uint32_t)(top >> 32);
    const uint32_t bottom = top_lo - window + 1;
    if (top_lo >= window - 1) /* RFC 4303 A2.2: Tl >= W - 1 (ESN needs a window: W >= 1) */
    {
        if (seq_lo < bottom)
        {
            ++top_hi; /* the window lies in one subspace: a low number is the next one */
        }
    }
    else if (seq_lo >= bottom)
    {
        --top_hi; /* the window spans two subspaces: a high number is the previous one */
    }
    return top_hi;
}

/* 1: seq may be accepted; 0: replayed or left of the window. */
static int
replay_check(const struct mlx5_sa* sa, uint64_t seq)
{
    if (seq == 0)
    {
        return 0;
    }
    if (seq > sa->top)
    {
        return 1;
    }
    const uint64_t behind = sa->top - seq;
    if (behind >= sa->window)
    {
        return 0;
    }
    return !(sa->bitmap[behind / 64] >> (behind % 64) & 1);
}

static void
replay_advance(struct mlx5_sa* sa, uint64_t seq)
{
    if (seq > sa->top)
    {
        const uint64_t shift = seq - sa->top;
        if (shift >= MLX5_MAX_REPLAY_WINDOW)
        {
            memset(sa->bitmap, 0, sizeof(sa->bitmap));
        }
        else
        {
            const unsigned words = (unsigned)(shift / 64);
            const unsigned bits = (unsigned)(shift % 64);
            for (int i = REPLAY_WORDS - 1; i >= 0; --i)
            {
                const int from = i - (int)words;
                uint64_t w = from >= 0 ? sa->bitmap[from] << bits : 0;
                if (bits != 0 && from - 1 >= 0)
                {
                    w |= sa->bitmap[from - 1] >> (64 - bits);
                }
                sa->bitmap[i] = w;
            }
        }
        sa->top = seq;
        sa->bitmap[0] |= 1;
        return;
    }
    const uint64_t behind = sa->top - seq;
    sa->bitmap[behind / 64] |= 1ull << (behind % 64);
}

/* ---- lifetimes ------------------------------------------------------------------------ */

/* The ASO packet counter counted one more packet: its soft and hard events fire on the packet
 * that reaches the limit (mlx5e_ipsec_handle_event() then calls xfrm_state_check_expire()). */
static void
count_lifetime_packet(struct mlx5_device* dev, struct mlx5_sa* sa)
{
    ++sa->lifetime_packets;
    const int event =
        sa->lifetime_packets == sa->soft_packets || sa->lifetime_packets == sa->hard_packets;
    if (event && dev->has_host && dev->host.check_expire != NULL)
    {
        dev->host.check_expire(dev->host.ctx, sa->host_id);
    }
}

static int
past_hard_packet_limit(const struct mlx5_sa* sa)
{
    return sa->lifetime_packets >= sa->hard_packets;
}

static void
count(struct mlx5_counter* c, uint64_t bytes)
{
    ++c->packets;
    c->bytes += bytes;
}

/* ---- AES-GCM (RFC 4106) --------------------------------------------------------------- */

/* Frame (SPI .. ICV) lengths GCM ESP can have: payload + trailer a multiple of 4. */
static int
frame_is_well_formed(uint32_t frame_len)
{
    const uint32_t fixed = ESP_HEADER_LEN + GCM_IV_LEN + GCM_ICV_LEN;
    return frame_len >= fixed + ESP_TRAILER_LEN && frame_len <= (1u << 20) &&
           (frame_len - fixed) % 4 == 0;
}

/* AAD: SPI || sequence number, or SPI || high bits || low bits with ESN (RFC 4106 5). */
static uint32_t
make_aad(const struct mlx5_sa* sa, const uint8_t* frame, uint32_t seq_hi, uint8_t* aad)
{
    memcpy(aad, frame, 4);
    if (!sa->esn)
    {
        memcpy(aad + 4, frame + 4, 4);
        return 8;
    }
    write_be32(aad + 4, seq_hi);
    memcpy(aad + 8, frame + 4, 4);
    return 12;
}

/* Writes the IV (seqiv) and encrypts payload + trailer in place, then the ICV. */
static int
seal(struct mlx5_sa* sa, uint8_t* frame, uint32_t frame_len, uint64_t seq)
{
    uint8_t* iv = frame + ESP_HEADER_LEN;
    uint8_t* data = iv + GCM_IV_LEN;
    const int data_len = (int)(frame_len - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN);
    write_be64(iv, seq ^ sa->seq_iv);
    uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
    memcpy(nonce, sa->salt, GCM_SALT_LEN);
    memcpy(nonce + GCM_SALT_LEN, iv, GCM_IV_LEN);
    uint8_t aad[12];
    const int aad_len = (int)make_aad(sa, frame, (uint32_t)(seq >> 32), aad);
    int out = 0;
    int last = 0;
    return EVP_EncryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) == 1 &&
           EVP_EncryptUpdate(sa->ctx, NULL, &out, aad, aad_len) == 1 &&
           EVP_EncryptUpdate(sa->ctx, data, &out, data, data_len) == 1 && out == data_len &&
           EVP_EncryptFinal_ex(sa->ctx, data + out, &last) == 1 &&
           EVP_CIPHER_CTX_ctrl(sa->ctx, EVP_CTRL_GCM_GET_TAG, GCM_ICV_LEN, data + data_len) == 1;
}

/* Checks the ICV and decrypts in place. On a bad ICV the ciphertext is restored (GCM only
 * checks the tag after decrypting), so no unauthenticated plaintext stays in the buffer. */
static int
open_in_place(struct mlx5_sa* sa, uint8_t* frame, uint32_t frame_len, uint32_t seq_hi)
{
    uint8_t* data = frame + ESP_HEADER_LEN + GCM_IV_LEN;
    const int data_len = (int)(frame_len - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN);
    uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
    memcpy(nonce, sa->salt, GCM_SALT_LEN);
    memcpy(nonce + GCM_SALT_LEN, frame + ESP_HEADER_LEN, GCM_IV_LEN);
    uint8_t aad[12];
    const int aad_len = (int)make_aad(sa, frame, seq_hi, aad);
    int out = 0;
    if (EVP_DecryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(sa->ctx, NULL, &out, aad, aad_len) != 1)
    {
        return 0; /* nothing decrypted yet */
    }
    if (EVP_DecryptUpdate(sa->ctx, data, &out, data, data_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(sa->ctx, EVP_CTRL_GCM_SET_TAG, GCM_ICV_LEN, data + data_len) == 1 &&
        EVP_DecryptFinal_ex(sa->ctx, data + out, &out) == 1)
    {
        return 1;
    }
    /* CTR mode: the same keystream applied again gives the ciphertext back. */
    if (EVP_DecryptInit_ex(sa->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(sa->ctx, data, &out, data, data_len) != 1)
    {
        OPENSSL_cleanse(data, (size_t)data_len);
    }
    return 0;
}

/* ---- the ABI: device -------------------------------------------------------------------- */

MLX5_API const struct olab_capabilities*
olab_get_capabilities(void)
{
    return &g_capabilities;
}

MLX5_API void*
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
    if (config->sa_capacity == 0 || config->sa_capacity > MLX5_MAX_SA)
    {
        char message[96];
        snprintf(message,
                 sizeof(message),
                 "sa_capacity %u out of range 1..%u",
                 config->sa_capacity,
                 (unsigned)MLX5_MAX_SA);
        set_message(error, error_len, message);
        return NULL;
    }
    if (config->policy_capacity > MLX5_MAX_POLICIES)
    {
        char message[96];
        snprintf(message,
                 sizeof(message),
                 "policy_capacity %u out of range 0..%u",
                 config->policy_capacity,
                 (unsigned)MLX5_MAX_POLICIES);
        set_message(error, error_len, message);
        return NULL;
    }
    struct mlx5_device* dev = calloc(1, sizeof(*dev));
    struct mlx5_sa* sas = calloc(config->sa_capacity, sizeof(*sas));
    struct mlx5_policy* policies =
        calloc(config->policy_capacity ? config->policy_capacity : 1, sizeof(*policies));
    if (dev == NULL || sas == NULL || policies == NULL)
    {
        free(dev);
        free(sas);
        free(policies);
        set_message(error, error_len, "out of memory");
        return NULL;
    }
    if (host != NULL && host->size >= sizeof(struct olab_host))
    {
        dev->host = *host;
        dev->has_host = 1;
    }
    dev->sa_capacity = config->sa_capacity;
    dev->policy_capacity = config->policy_capacity;
    dev->features = config->features & g_capabilities.features;
    dev->sas = sas;
    dev->policies = policies;
    return dev;
}

MLX5_API void
olab_destroy(void* handle)
{
    struct mlx5_device* dev = handle;
    if (dev == NULL)
    {
        return;
    }
    for (uint32_t i = 0; i < dev->sa_capacity; ++i)
    {
        if (dev->sas[i].obj_id != 0)
        {
            release_sa(&dev->sas[i]);
        }
    }
    free(dev->sas);
    free(dev->policies);
    free(dev);
}

/* ---- the ABI: states -------------------------------------------------------------------- */

/* mlx5e_xfrm_validate_state(): NULL when the SA can be offloaded, else the extack message
 * (every refusal there is -EINVAL). */
static const char*
validate_state(const struct olab_sa* sa)
{
    if (sa->algorithm == OLAB_ALG_AES_CBC_SHA256 || sa->auth_key_len != 0)
    {
        return "Cannot offload authenticated xfrm states";
    }
    if (sa->algorithm != OLAB_ALG_AES_GCM || sa->icv_len != GCM_ICV_LEN)
    {
        return "Only AES-GCM-ICV16 xfrm state may be offloaded";
    }
    if (sa->enc_key_len != 16 + GCM_SALT_LEN && sa->enc_key_len != 32 + GCM_SALT_LEN)
    {
        return "Cannot offload xfrm states with AEAD key length other than 128/256 bit";
    }
    if (sa->sel.proto != 0 && sa->sel.proto != IP_PROTO_UDP && sa->sel.proto != IP_PROTO_TCP)
    {
        return "Device does not support upper protocol other than TCP/UDP";
    }
    if (sa->mode != OLAB_MODE_TRANSPORT && sa->mode != OLAB_MODE_TUNNEL)
    {
        return "Only transport and tunnel xfrm states may be offloaded";
    }
    if (sa->dir != OLAB_DIR_IN && sa->dir != OLAB_DIR_OUT)
    {
        return "Offload direction must be in or out"; /* not mlx5: the core never asks */
    }
    if (sa->type == OLAB_OFFLOAD_CRYPTO)
    {
        return NULL;
    }
    if (sa->type != OLAB_OFFLOAD_PACKET)
    {
        return "Unsupported xfrm offload type";
    }
    if (sa->dir == OLAB_DIR_IN && sa->replay_window != 32 && sa->replay_window != 64 &&
        sa->replay_window != 128 && sa->replay_window != 256)
    {
        return "Unsupported replay window size";
    }
    if (sa->reqid == 0)
    {
        return "Cannot offload without reqid";
    }
    if (sa->soft_byte_limit >= sa->hard_byte_limit && sa->hard_byte_limit != OLAB_INFINITY)
    {
        return "Hard byte limit must be greater than soft one";
    }
    if (sa->soft_byte_limit == 0 || sa->hard_byte_limit == 0)
    {
        return "Soft/hard byte limits can't be 0";
    }
    if (sa->soft_packet_limit >= sa->hard_packet_limit && sa->hard_packet_limit != OLAB_INFINITY)
    {
        return "Hard packet limit must be greater than soft one";
    }
    if (sa->soft_packet_limit == 0 || sa->hard_packet_limit == 0)
    {
        return "Soft/hard packet limits can't be 0";
    }
    return NULL;
}

MLX5_API int
olab_state_add(void* handle,
               const struct olab_sa* sa,
               uint64_t* out_handle,
               char* reason,
               size_t reason_len)
{
    struct mlx5_device* dev = handle;
    if (dev == NULL || sa == NULL || out_handle == NULL || sa->size < sizeof(struct olab_sa))
    {
        set_message(reason, reason_len, "olab_sa missing or smaller than ABI version 1");
        return OLAB_FAILURE;
    }
    const char* refused = validate_state(sa);
    if (refused != NULL)
    {
        set_message(reason, reason_len, refused);
        return OLAB_FAILURE;
    }
    /* The RX steering rule matches (daddr, SPI): a second one is -EEXIST. */
    if (sa->dir == OLAB_DIR_IN && rx_state_of(dev, sa->daddr, sa->spi) != NULL)
    {
        set_message(reason,
                    reason_len,
                    "Device failed to offload this state: an Rx SA with this (daddr, SPI) exists");
        return OLAB_FAILURE;
    }
    uint32_t slot = 0;
    while (slot < dev->sa_capacity && dev->sas[slot].obj_id != 0)
    {
        ++slot;
    }
    if (slot == dev->sa_capacity)
    {
        set_message(reason, reason_len, "Device failed to offload this state: no free SA context");
        return OLAB_FAILURE;
    }
    uint64_t seq_iv = 0;
    if (RAND_bytes((unsigned char*)&seq_iv, sizeof(seq_iv)) != 1)
    {
        set_message(reason, reason_len, "Device failed to offload this state: no random IV seed");
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
        set_message(reason, reason_len, "Device failed to offload this state: key setup failed");
        return OLAB_FAILURE;
    }
    /* Store last: a refusal above leaves nothing behind. */
    struct mlx5_sa* entry = &dev->sas[slot];
    memset(entry, 0, sizeof(*entry));
    entry->obj_id = new_obj_id(dev);
    entry->host_id = sa->host_id;
    entry->serial = sa->serial;
    entry->dir = sa->dir;
    entry->type = sa->type;
    entry->mode = sa->mode;
    entry->esn = sa->esn ? 1 : 0;
    entry->saddr = sa->saddr;
    entry->daddr = sa->daddr;
    entry->spi = sa->spi;
    entry->reqid = sa->reqid;
    entry->sel = sa->sel;
    memcpy(entry->salt, sa->enc_key + key_len, GCM_SALT_LEN);
    entry->seq_iv = seq_iv;
    entry->ctx = ctx;
    entry->oseq = sa->esn ? sa->oseq : (uint32_t)sa->oseq;
    entry->window = sa->replay_window;
    entry->top = sa->esn ? sa->seq : (uint32_t)sa->seq;
    if (entry->top != 0)
    {
        entry->bitmap[0] = 1; /* the top was received */
    }
    const int packet = sa->type == OLAB_OFFLOAD_PACKET;
    entry->soft_packets = packet ? sa->soft_packet_limit : OLAB_INFINITY;
    entry->hard_packets = packet ? sa->hard_packet_limit : OLAB_INFINITY;
    *out_handle = make_handle(entry->obj_id, slot);
    return OLAB_OK;
}

MLX5_API void
olab_state_delete(void* handle, uint64_t sa_handle)
{
    struct mlx5_sa* sa = sa_of(handle, sa_handle);
    if (sa != NULL)
    {
        sa->deleted = 1; /* mlx5e_xfrm_del_state(): out of the SADB; (daddr, SPI) free again */
    }
}

MLX5_API void
olab_state_free(void* handle, uint64_t sa_handle)
{
    struct mlx5_sa* sa = sa_of(handle, sa_handle);
    if (sa != NULL)
    {
        release_sa(sa);
    }
}

/* mlx5e_ipsec_offload_ok(): no IPv4 options. */
MLX5_API int
olab_offload_ok(void* handle, uint64_t sa_handle, const uint8_t* ip_header, uint32_t header_len)
{
    return sa_of(handle, sa_handle) != NULL && ip_header != NULL && header_len == IPV4_HEADER_LEN &&
           (ip_header[0] >> 4) == 4 && (ip_header[0] & 0x0f) == 5;
}

/* mlx5e_xfrm_advance_esn_state(): crypto offload RX follows the stack's replay window top. */
MLX5_API void
olab_state_advance_esn(void* handle, uint64_t sa_handle, uint64_t replay_top)
{
    struct mlx5_sa* sa = sa_of(handle, sa_handle);
    if (sa != NULL && sa->esn && sa->type == OLAB_OFFLOAD_CRYPTO && sa->dir == OLAB_DIR_IN)
    {
        sa->top = replay_top;
    }
}

/* mlx5e_xfrm_update_stats(): the rule's counter counts every packet it matched with its IPv4
 * bytes; the failed ones (ICV, trailer, replay) are subtracted, then one IPv4 header per packet,
 * which leaves what Linux counts (the L4 segment, or the inner packet in tunnel mode). */
MLX5_API void
olab_state_update_stats(void* handle, uint64_t sa_handle, struct olab_sa_stats* stats)
{
    if (stats == NULL || stats->size < sizeof(struct olab_sa_stats))
    {
        return;
    }
    const uint32_t size = stats->size;
    memset(stats, 0, sizeof(*stats));
    stats->size = size;
    const struct mlx5_sa* sa = sa_of(handle, sa_handle);
    if (sa == NULL || sa->type != OLAB_OFFLOAD_PACKET)
    {
        return; /* crypto offload: the stack counts itself */
    }
    const uint64_t failed_packets = sa->auth.packets + sa->trailer.packets + sa->replay.packets;
    const uint64_t failed_bytes = sa->auth.bytes + sa->trailer.bytes + sa->replay.bytes;
    const uint64_t success_packets = sa->fc.packets - failed_packets;
    stats->packets = success_packets;
    stats->bytes = sa->fc.bytes - failed_bytes - IPV4_HEADER_LEN * success_packets;
    stats->last_seq = sa->dir == OLAB_DIR_OUT ? sa->oseq : 0;
    stats->replay_drops = sa->replay.packets;
    stats->integrity_failures = sa->auth.packets;
    stats->bad_padding = sa->trailer.packets;
    stats->truncated = sa->malformed;
    stats->seq_overflow = sa->seq_overflow;
    stats->expired_drops = sa->expired;
}

/* ---- the ABI: policies ------------------------------------------------------------------ */

/* mlx5e_xfrm_validate_policy(): NULL when the policy can be offloaded, else the message. */
static const char*
validate_policy(const struct olab_policy* p)
{
    if (p->dir != OLAB_DIR_IN && p->dir != OLAB_DIR_OUT)
    {
        return "Cannot offload forward policy";
    }
    if (p->tmpl_reqid == 0 && p->sel.proto == 0 && p->sel.saddr == 0 && p->sel.daddr == 0)
    {
        return "Unsupported policy with reqid 0 without at least one of upper protocol or ip "
               "addr(s) different than 0";
    }
    if (p->sel.proto != 0 && p->sel.proto != IP_PROTO_UDP && p->sel.proto != IP_PROTO_TCP)
    {
        return "Device does not support upper protocol other than TCP/UDP";
    }
    if (p->priority == UINT32_MAX)
    {
        return "Device does not support requested policy priority";
    }
    return NULL;
}

MLX5_API int
olab_policy_add(void* handle,
                const struct olab_policy* policy,
                uint64_t* out_handle,
                char* reason,
                size_t reason_len)
{
    struct mlx5_device* dev = handle;
    /* A v1 host's policy ends before tmpl_spi: its template names no SPI. */
    if (dev == NULL || policy == NULL || out_handle == NULL ||
        policy->size < offsetof(struct olab_policy, tmpl_spi))
    {
        set_message(reason, reason_len, "olab_policy missing or smaller than ABI version 1");
        return OLAB_FAILURE;
    }
    const char* refused = validate_policy(policy);
    if (refused != NULL)
    {
        set_message(reason, reason_len, refused);
        return OLAB_FAILURE;
    }
    uint32_t slot = 0;
    while (slot < dev->policy_capacity && dev->policies[slot].obj_id != 0)
    {
        ++slot;
    }
    if (slot == dev->policy_capacity)
    {
        set_message(reason, reason_len, "Device failed to offload this policy: table full");
        return OLAB_FAILURE;
    }
    struct mlx5_policy* entry = &dev->policies[slot];
    memset(entry, 0, sizeof(*entry));
    entry->obj_id = new_obj_id(dev);
    entry->serial = policy->serial;
    entry->dir = policy->dir;
    entry->tmpl_mode = policy->tmpl_mode;
    entry->priority = policy->priority;
    entry->sel = policy->sel;
    entry->tmpl_saddr = policy->tmpl_saddr;
    entry->tmpl_daddr = policy->tmpl_daddr;
    entry->tmpl_reqid = policy->tmpl_reqid;
    entry->tmpl_spi = policy->size >= sizeof(struct olab_policy) ? policy->tmpl_spi : 0;
    *out_handle = make_handle(entry->obj_id, slot);
    return OLAB_OK;
}

MLX5_API void
olab_policy_delete(void* handle, uint64_t policy_handle)
{
    struct mlx5_policy* p = policy_of(handle, policy_handle);
    if (p != NULL)
    {
        p->deleted = 1; /* mlx5e_accel_ipsec_fs_del_pol(): its rule is gone */
    }
}

MLX5_API void
olab_policy_free(void* handle, uint64_t policy_handle)
{
    struct mlx5_policy* p = policy_of(handle, policy_handle);
    if (p != NULL)
    {
        memset(p, 0, sizeof(*p));
    }
}

/* ---- the ABI: transmit ------------------------------------------------------------------ */

/* Crypto offload: the stack framed ESP; fill the inner checksum when asked (SWP checksum), then
 * write the IV, encrypt and write the ICV. */
static int
tx_crypto(struct mlx5_device* dev,
          uint8_t* buf,
          uint32_t len,
          const struct olab_tx_meta* meta,
          uint32_t* drop_reason)
{
    if (meta->size < sizeof(struct olab_tx_meta))
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    /* A deleted but not yet freed SA still encrypts what the stack committed to it. */
    struct mlx5_sa* sa = sa_of(dev, meta->handle);
    if (sa == NULL || sa->dir != OLAB_DIR_OUT || sa->type != OLAB_OFFLOAD_CRYPTO)
    {
        *drop_reason = OLAB_DROP_TX_NO_STATE;
        return OLAB_DROP;
    }
    const uint32_t ihl = ipv4_header_len(buf, len);
    if (ihl == 0 || buf[9] != IP_PROTO_ESP || ipv4_is_fragment(buf))
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    uint8_t* frame = buf + ihl;
    const uint32_t frame_len = read_be16(buf + 2) - ihl;
    if (!frame_is_well_formed(frame_len))
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    if (meta->csum_len != 0)
    {
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
        write_be16(segment + meta->csum_field, 0);
        write_be16(segment + meta->csum_field,
                   l4_checksum(meta->csum_saddr,
                               meta->csum_daddr,
                               meta->csum_proto,
                               segment,
                               meta->csum_len));
    }
    const uint64_t seq = (uint64_t)(sa->esn ? meta->seq_hi : 0) << 32 | read_be32(frame + 4);
    if (!seal(sa, frame, frame_len, seq))
    {
        OPENSSL_cleanse(frame + ESP_HEADER_LEN, frame_len - ESP_HEADER_LEN);
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    return OLAB_DONE;
}

/* Packet offload: the policy table, then the SA table, then ESP encapsulation (the packet
 * reformat of ipsec_fs.c) and encryption. */
static int
tx_packet(struct mlx5_device* dev, uint8_t* buf, uint32_t* len, uint32_t cap, uint32_t* drop_reason)
{
    const uint32_t ihl = ipv4_header_len(buf, *len);
    if (ihl == 0 || buf[9] == IP_PROTO_ESP)
    {
        return OLAB_PASS; /* not IPv4, or ESP the stack already made */
    }
    const uint32_t ip_len = read_be16(buf + 2);
    struct mlx5_flow f;
    flow_of(buf, ihl, ip_len, &f);
    const struct mlx5_policy* p = best_policy(dev, OLAB_DIR_OUT, &f);
    if (p == NULL)
    {
        return OLAB_PASS; /* the policy table misses: the packet goes out as it is */
    }
    if (ipv4_is_fragment(buf))
    {
        *drop_reason = OLAB_DROP_TX_FRAGMENT; /* setup_fte_no_frags(): never offloaded */
        return OLAB_DROP;
    }
    struct mlx5_sa* sa = tx_state_of(dev, p, &f);
    if (sa == NULL)
    {
        *drop_reason = OLAB_DROP_TX_NO_STATE; /* the SA table misses: mlx5 drops */
        return OLAB_DROP;
    }
    if (past_hard_packet_limit(sa))
    {
        ++sa->expired;
        *drop_reason = OLAB_DROP_TX_EXPIRED;
        return OLAB_DROP;
    }
    const uint64_t seq = sa->oseq + 1;
    if (seq == 0 || (!sa->esn && seq > UINT32_MAX))
    {
        ++sa->seq_overflow; /* RFC 4303 3.3.3: never cycle */
        *drop_reason = OLAB_DROP_TX_SEQ_OVERFLOW;
        return OLAB_DROP;
    }
    const int tunnel = sa->mode == OLAB_MODE_TUNNEL;
    /* What the ESP payload carries: the L4 segment, or the whole inner packet. */
    const uint32_t header = tunnel ? IPV4_HEADER_LEN : ihl;
    const uint32_t payload_len = tunnel ? ip_len : ip_len - ihl;
    const uint8_t next_header = tunnel ? IP_PROTO_IPIP : buf[9];
    const uint32_t pad_len = (4 - (payload_len + ESP_TRAILER_LEN) % 4) % 4;
    const uint32_t frame_len =
        ESP_HEADER_LEN + GCM_IV_LEN + payload_len + pad_len + ESP_TRAILER_LEN + GCM_ICV_LEN;
    if (header + frame_len > cap || header + frame_len > 0xffff)
    {
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    /* The hardware counts the packet as the SA rule sees it: an IPv4 header and the payload. */
    const uint64_t counted = tunnel ? (uint64_t)IPV4_HEADER_LEN + ip_len : ip_len;
    uint8_t* frame = buf + header;
    memmove(frame + ESP_HEADER_LEN + GCM_IV_LEN, buf + (tunnel ? 0 : ihl), payload_len);
    if (tunnel)
    {
        /* The outer header (RFC 4303 tunnel mode, Linux xfrm4 tunnel output): DSCP copied,
         * ECN per RFC 6040 (CE becomes ECT(0)), DF copied, TTL 64. */
        const uint8_t* inner = frame + ESP_HEADER_LEN + GCM_IV_LEN;
        const uint8_t ecn = inner[1] & 3;
        buf[0] = 0x45;
        buf[1] = (uint8_t)((inner[1] & 0xfc) | (ecn == 3 ? 2 : ecn));
        write_be16(buf + 4, dev->next_ip_id++);
        buf[6] = inner[6] & 0x40;
        buf[7] = 0;
        buf[8] = TUNNEL_TTL;
        write_be32(buf + 12, sa->saddr);
        write_be32(buf + 16, sa->daddr);
    }
    buf[9] = IP_PROTO_ESP;
    write_be16(buf + 2, (uint16_t)(header + frame_len));
    ipv4_set_checksum(buf, header);
    write_be32(frame, sa->spi);
    write_be32(frame + 4, (uint32_t)seq);
    uint8_t* trailer = frame + ESP_HEADER_LEN + GCM_IV_LEN + payload_len;
    for (uint32_t i = 0; i < pad_len; ++i)
    {
        trailer[i] = (uint8_t)(i + 1); /* RFC 4303 2.4 */
    }
    trailer[pad_len] = (uint8_t)pad_len;
    trailer[pad_len + 1] = next_header;
    if (!seal(sa, frame, frame_len, seq))
    {
        OPENSSL_cleanse(frame + ESP_HEADER_LEN, frame_len - ESP_HEADER_LEN);
        *drop_reason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    *len = header + frame_len;
    sa->oseq = seq;
    count(&sa->fc, counted);
    count_lifetime_packet(dev, sa);
    return OLAB_DONE;
}

MLX5_API int
olab_tx(void* handle,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        const struct olab_tx_meta* meta,
        uint32_t mtu,
        uint32_t* drop_reason)
{
    (void)mtu; /* the core checks PMTU for packet offload (xfrm_dev_offload_ok()); mlx5 does not */
    struct mlx5_device* dev = handle;
    uint32_t ignored = 0;
    if (drop_reason == NULL)
    {
        drop_reason = &ignored;
    }
    if (dev == NULL || buf == NULL || len == NULL)
    {
        return OLAB_PASS;
    }
    if (meta != NULL)
    {
        return tx_crypto(dev, buf, *len, meta, drop_reason);
    }
    return tx_packet(dev, buf, len, cap, drop_reason);
}

/* ---- the ABI: receive ------------------------------------------------------------------- */

/* Crypto offload: decrypt in place and report (xo->flags = CRYPTO_DONE, xo->status). */
static int
rx_crypto(struct mlx5_sa* sa, uint8_t* frame, uint32_t frame_len, struct olab_rx_info* info)
{
    info->kind = OLAB_RX_CRYPTO_DONE;
    if (!frame_is_well_formed(frame_len))
    {
        info->status = OLAB_RX_TRUNCATED;
        return OLAB_DONE;
    }
    const uint32_t seq_hi = sa->esn ? infer_seq_hi(sa->top, sa->window, read_be32(frame + 4)) : 0;
    info->status = open_in_place(sa, frame, frame_len, seq_hi) ? OLAB_RX_OK : OLAB_RX_AUTH_FAILED;
    return OLAB_DONE;
}

/* After decryption: does the SA's selector and the inbound policy that decides the packet
 * accept it with this SA (xfrm_policy_check() of the offloaded policies)? */
static int
rx_policy_accepts(struct mlx5_device* dev,
                  const struct mlx5_sa* sa,
                  const uint8_t* ip,
                  uint32_t len)
{
    const uint32_t ihl = ipv4_header_len(ip, len);
    if (ihl == 0)
    {
        return 0;
    }
    struct mlx5_flow f;
    flow_of(ip, ihl, len, &f);
    const struct mlx5_policy* p = best_policy(dev, OLAB_DIR_IN, &f);
    return selector_match(&sa->sel, &f) && p != NULL && template_accepts(p, sa);
}

/* Packet offload: the SA rule, replay (ASO), decryption, the status table (ICV, trailer), the
 * counters, then the plaintext goes to the stack. */
static int
rx_packet(struct mlx5_device* dev,
          struct mlx5_sa* sa,
          uint8_t* buf,
          uint32_t* len,
          struct olab_rx_info* info,
          uint32_t* drop_reason)
{
    const uint32_t ihl = (uint32_t)(buf[0] & 0x0f) * 4;
    const uint32_t ip_len = read_be16(buf + 2);
    uint8_t* frame = buf + ihl;
    const uint32_t frame_len = ip_len - ihl;
    if (!frame_is_well_formed(frame_len))
    {
        ++sa->malformed;
        *drop_reason = OLAB_DROP_RX_MALFORMED;
        return OLAB_DROP;
    }
    if (past_hard_packet_limit(sa))
    {
        ++sa->expired;
        *drop_reason = OLAB_DROP_RX_EXPIRED;
        return OLAB_DROP;
    }
    const uint32_t seq_lo = read_be32(frame + 4);
    const uint32_t seq_hi = sa->esn ? infer_seq_hi(sa->top, sa->window, seq_lo) : 0;
    const uint64_t seq = (uint64_t)seq_hi << 32 | seq_lo;
    if (!replay_check(sa, seq))
    {
        count(&sa->fc, ip_len);
        count(&sa->replay, ip_len);
        *drop_reason = OLAB_DROP_RX_REPLAY;
        return OLAB_DROP;
    }
    if (!open_in_place(sa, frame, frame_len, seq_hi))
    {
        count(&sa->fc, ip_len);
        count(&sa->auth, ip_len);
        *drop_reason = OLAB_DROP_RX_AUTH_FAIL;
        return OLAB_DROP;
    }
    const uint8_t* data = frame + ESP_HEADER_LEN + GCM_IV_LEN;
    const uint32_t data_len = frame_len - ESP_HEADER_LEN - GCM_IV_LEN - GCM_ICV_LEN;
    const uint8_t pad_len = data[data_len - 2];
    const uint8_t next_header = data[data_len - 1];
    /* esp_remove_trailer(): the pad length must leave a payload; the pad bytes are not read. */
    if ((uint32_t)pad_len + ESP_TRAILER_LEN >= data_len)
    {
        count(&sa->fc, ip_len);
        count(&sa->trailer, ip_len);
        *drop_reason = OLAB_DROP_RX_BAD_PADDING;
        return OLAB_DROP;
    }
    const uint32_t payload_len = data_len - pad_len - ESP_TRAILER_LEN;
    const int tunnel = sa->mode == OLAB_MODE_TUNNEL;
    uint32_t out_len;
    uint64_t counted;
    if (tunnel)
    {
        /* The inner packet must be IPv4 as long as it says (xfrm4 tunnel input). */
        const uint32_t inner_ihl =
            payload_len >= IPV4_HEADER_LEN ? ipv4_header_len(data, payload_len) : 0;
        if (next_header != IP_PROTO_IPIP || inner_ihl == 0)
        {
            ++sa->malformed;
            *drop_reason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        const int outer_ce = (buf[1] & 3) == 3;
        out_len = read_be16(data + 2);
        memmove(buf, data, out_len);
        /* ipip_ecn_decapsulate(): CE on the outer header marks an ECN-capable inner packet. */
        if (outer_ce && (buf[1] & 3) != 0 && (buf[1] & 3) != 3)
        {
            buf[1] |= 3;
            ipv4_set_checksum(buf, inner_ihl);
        }
        counted = (uint64_t)IPV4_HEADER_LEN + out_len;
    }
    else
    {
        memmove(buf + ihl, data, payload_len);
        out_len = ihl + payload_len;
        buf[9] = next_header;
        write_be16(buf + 2, (uint16_t)out_len);
        ipv4_set_checksum(buf, ihl);
        counted = out_len;
    }
    replay_advance(sa, seq);
    count(&sa->fc, counted);
    count_lifetime_packet(dev, sa);
    *len = out_len;
    if (!rx_policy_accepts(dev, sa, buf, out_len))
    {
        *drop_reason = OLAB_DROP_RX_POLICY_MISMATCH;
        return OLAB_DROP;
    }
    info->kind = OLAB_RX_PACKET_OFFLOAD;
    return OLAB_DONE;
}

MLX5_API int
olab_rx(void* handle,
        uint8_t* buf,
        uint32_t* len,
        uint32_t cap,
        struct olab_rx_info* info,
        uint32_t* drop_reason)
{
    (void)cap; /* decryption only ever shrinks the packet */
    struct mlx5_device* dev = handle;
    uint32_t ignored = 0;
    if (drop_reason == NULL)
    {
        drop_reason = &ignored;
    }
    if (dev == NULL || buf == NULL || len == NULL || info == NULL ||
        info->size < sizeof(struct olab_rx_info))
    {
        return OLAB_PASS;
    }
    const uint32_t ihl = ipv4_header_len(buf, *len);
    if (ihl == 0)
    {
        return OLAB_PASS;
    }
    const uint32_t ip_len = read_be16(buf + 2);
    const uint32_t daddr = read_be32(buf + 16);
    if (ipv4_is_fragment(buf))
    {
        /* Fragments never match mlx5's rules; in packet offload nothing reassembles them for the
         * SA, so a fragment of its ESP, or of traffic its inbound policies select, is dropped.
         * In crypto offload the stack reassembles and decrypts them itself. */
        const int first = (buf[6] & 0x1f) == 0 && buf[7] == 0;
        int selected;
        if (buf[9] == IP_PROTO_ESP)
        {
            selected = rx_packet_state_to(dev,
                                          daddr,
                                          first && ip_len >= ihl + 4,
                                          first && ip_len >= ihl + 4 ? read_be32(buf + ihl) : 0);
        }
        else
        {
            struct mlx5_flow f;
            flow_of(buf, ihl, ip_len, &f);
            selected = best_policy(dev, OLAB_DIR_IN, &f) != NULL;
        }
        if (selected)
        {
            *drop_reason = OLAB_DROP_RX_FRAGMENT;
            return OLAB_DROP;
        }
        return OLAB_PASS;
    }
    if (buf[9] != IP_PROTO_ESP || ip_len < ihl + ESP_HEADER_LEN)
    {
        return OLAB_PASS;
    }
    const uint32_t spi = read_be32(buf + ihl);
    struct mlx5_sa* sa = rx_state_of(dev, daddr, spi);
    if (sa == NULL)
    {
        return OLAB_PASS; /* not offloaded here: software IPsec may know the SPI */
    }
    info->spi = spi;
    info->daddr = daddr;
    if (sa->type == OLAB_OFFLOAD_CRYPTO)
    {
        return rx_crypto(sa, buf + ihl, ip_len - ihl, info);
    }
    return rx_packet(dev, sa, buf, len, info, drop_reason);
}
