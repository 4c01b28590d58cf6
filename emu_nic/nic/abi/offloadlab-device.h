/*
 * offloadlab device ABI, version 5: the IPsec offload driver interface as plain C.
 * (v2 appended lifetime reporting to olab_capabilities and the template SPI to olab_policy;
 * v3 appended ESP-in-UDP: olab_capabilities.udp_encap and the encapsulation of olab_sa;
 * v4 appended ESP segmentation offload: the feature OLAB_FEATURE_GSO_ESP, olab_tx_meta.gso_size
 * and gso_segs, and the drop reason OLAB_DROP_TX_OVERSIZE.
 * Devices built against v1, v2 or v3 still load: the host reads only the fields their size
 * covers, and never gives them an SA or a packet they cannot see all of.)
 *
 * A vendor builds a shared library that exports the functions declared at the end of this
 * file (every one of them; a missing symbol is reported by name and the device is refused).
 * `offloadlab certify --device /path/to/libdevice.so` loads it with dlopen, puts it behind an
 * emulated NIC in real ns-3 simulations, and checks it requirement by requirement against
 * software IPsec. The reference NIC of offloadlab is itself a device of this ABI
 * (`--device reference`), and so are the mutants.
 *
 * The callbacks mirror Linux's struct xfrmdev_ops (Documentation/networking/xfrm_device.rst,
 * and the packet offload additions of v6.2): state add / delete / free, offload_ok,
 * advance_esn, update_stats, policy add / delete / free, plus the two fast-path entry points a
 * driver has (transmit and receive of one IP packet).
 *
 * Rules of the ABI (see docs/vendor-guide.md for the long version):
 *  - All calls come from one thread, never concurrently, never re-entrantly.
 *  - SPIs, ports and uint32_t IPv4 addresses are in host byte order; 16-byte addresses (v5)
 *    are in network byte order, an IPv4 address in their first 4 bytes, the rest zero (Linux's
 *    xfrm_address_t). Packets are raw IPv4 or IPv6 bytes: the version nibble tells; a device
 *    gets IPv6 only if it declares olab_capabilities.ipv6 (ABI v5).
 *  - The host owns every buffer it passes; the device must not keep pointers to them.
 *  - A device reports problems through return values, never by aborting. A device that
 *    crashes, or returns a value outside the documented range, fails certification with an
 *    error naming the callback.
 *  - Structs begin with `size`; the host sets it to sizeof() of the version it was built with.
 *    New fields are only ever appended.
 */
#ifndef OFFLOADLAB_DEVICE_H
#define OFFLOADLAB_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

#define OLAB_DEVICE_ABI_VERSION 5u
/* The oldest ABI a host still loads. */
#define OLAB_DEVICE_ABI_VERSION_MIN 1u

    /* ---- constants ------------------------------------------------------------------------- */

    /* Result of state_add / policy_add: Linux's 0, -EOPNOTSUPP and any other -errno.
     * For an algorithm, key length or mode it cannot offload a device may answer either one:
     * netdevsim, ixgbe and mlx5 return -EINVAL (FAILURE), and Linux then fails the SA add
     * (xfrm_dev_state_add passes every error but -EOPNOTSUPP up). */
    enum olab_result
    {
        OLAB_OK = 0,
        OLAB_NOT_SUPPORTED = 1, /* crypto offload falls back to software; packet offload fails */
        OLAB_FAILURE = 2        /* the request fails */
    };

    enum olab_dir
    {
        OLAB_DIR_IN = 0,
        OLAB_DIR_OUT = 1
    };

    enum olab_offload_type
    {
        OLAB_OFFLOAD_CRYPTO = 1, /* the stack does ESP framing; the device does crypto */
        OLAB_OFFLOAD_PACKET = 2  /* the device does all of ESP, policies, replay and lifetimes */
    };

    enum olab_mode
    {
        OLAB_MODE_TRANSPORT = 0,
        OLAB_MODE_TUNNEL = 1
    };

    enum olab_algorithm
    {
        OLAB_ALG_AES_GCM = 1,       /* rfc4106(gcm(aes)): key + 4-byte salt, 8-byte IV */
        OLAB_ALG_AES_CBC_SHA256 = 2 /* cbc(aes) + hmac(sha256) truncated to 128 bits */
    };

/* Feature bits (Linux NETIF_F_HW_ESP, NETIF_F_HW_ESP_TX_CSUM, NETIF_F_GSO_ESP). */
#define OLAB_FEATURE_HW_ESP (1u << 0)
#define OLAB_FEATURE_HW_ESP_TX_CSUM (1u << 1)
/* ABI v4, with HW_ESP: the device segments TCP super-packets (GSO/TSO) of its SAs, in crypto
 * and in packet offload (olab_tx_meta.gso_size; see olab_tx). A device without it, and every
 * v1..v3 device, gets only packets that fit the MTU: the host segments in software. */
#define OLAB_FEATURE_GSO_ESP (1u << 2)
/* Packet offload of bypass policies, at any ABI version (no new fields: olab_policy.action was
 * a reserved byte, always 0).
 * With it the host also offers policies whose action is OLAB_POLICY_BYPASS: no template (the
 * tmpl_* fields are 0); a packet whose best policy in the device is one goes out, and comes in,
 * as it is. strongSwan 5.9.10+ installs such policies for its IKE ports with hw_offload =
 * packet, since the device's own policy lookup would otherwise encrypt IKE. A device without
 * the feature is never offered one. */
#define OLAB_FEATURE_POLICY_BYPASS (1u << 3)

/* Offload types a device offers (bits of olab_capabilities.offload_types). */
#define OLAB_OFFERS_CRYPTO (1u << OLAB_OFFLOAD_CRYPTO)
#define OLAB_OFFERS_PACKET (1u << OLAB_OFFLOAD_PACKET)

/* A lifetime limit that is never reached. */
#define OLAB_INFINITY UINT64_MAX

    /* How a packet-offload device reports that an SA's counters reached a lifetime limit
     * (olab_capabilities.lifetime_packets / lifetime_bytes, ABI v2). Linux accepts both: the
     * device document lets the driver call xfrm_state_check_expire() when it notices a limit;
     * mlx5 does it from a hardware counter event for packet limits and polls byte counts. */
    enum olab_lifetime_report
    {
        /* The device calls check_expire from tx or rx on the packet that reaches the limit
         * (eager, at N) or on the next one (check before count, at N + 1). */
        OLAB_LIFETIME_EXACT = 0,
        /* The device calls check_expire for it only when the host polls: every
         * lifetime_poll_ms the host reads update_stats and checks the limits itself, as mlx5's
         * once-a-second work does. An expire may come up to one period late. */
        OLAB_LIFETIME_POLLED = 1
    };

    /* Verdict of the fast path for one packet. */
    enum olab_verdict
    {
        OLAB_PASS = 0, /* not the device's business: the packet goes on unchanged */
        OLAB_DONE = 1, /* the device rewrote the packet in the buffer (and its length) */
        OLAB_DROP = 2  /* the device dropped the packet; *drop_reason says why */
    };

    /* Why a device dropped a packet. The host counts drops per reason. */
    enum olab_drop_reason
    {
        OLAB_DROP_TX_FRAGMENT = 0,     /* packet offload: fragments are not offloaded */
        OLAB_DROP_TX_PMTU = 1,         /* packet offload: too big once ESP is added */
        OLAB_DROP_TX_NO_STATE = 2,     /* no usable state for the policy / handle */
        OLAB_DROP_TX_SEQ_OVERFLOW = 3, /* sequence number space exhausted */
        OLAB_DROP_TX_EXPIRED = 4,      /* state past its hard limit */
        OLAB_DROP_TX_UNSUPPORTED = 5,  /* packet the device cannot process */
        OLAB_DROP_RX_FRAGMENT = 6,
        OLAB_DROP_RX_AUTH_FAIL = 7,
        OLAB_DROP_RX_BAD_PADDING = 8,
        OLAB_DROP_RX_MALFORMED = 9,
        OLAB_DROP_RX_REPLAY = 10,
        OLAB_DROP_RX_EXPIRED = 11,
        OLAB_DROP_RX_POLICY_MISMATCH = 12,
        /* ABI v4: a frame the device returned is larger than the link MTU (the host drops such
         * a frame itself, and counts it under this reason). */
        OLAB_DROP_TX_OVERSIZE = 13,
        OLAB_DROP_REASON_COUNT = 14
    };

    /* Crypto offload RX status (Linux xo->status after CRYPTO_DONE). */
    enum olab_rx_status
    {
        OLAB_RX_OK = 0,
        OLAB_RX_TRUNCATED = 1,
        OLAB_RX_AUTH_FAILED = 2,
        OLAB_RX_BAD_PADDING = 3
    };

    /* ---- what the device says about itself ------------------------------------------------- */

    struct olab_capabilities
    {
        uint32_t size;
        uint32_t abi_version;       /* OLAB_DEVICE_ABI_VERSION the device was built against */
        const char* name;           /* short name, e.g. "acme-nic" */
        const char* description;    /* one line */
        uint32_t features;          /* OLAB_FEATURE_* */
        uint32_t offload_types;     /* OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET */
        uint32_t algorithms;        /* bit (1 << olab_algorithm) per algorithm it offloads */
        uint32_t max_sa;            /* largest SA table the device can have */
        uint32_t max_policies;      /* largest policy table (packet offload) */
        uint32_t max_replay_window; /* largest anti-replay window in packets (packet offload) */
        uint32_t esn;               /* 1 when it offloads SAs with extended sequence numbers */
        uint32_t tunnel;            /* 1 when it offloads tunnel mode (transport is required) */
        /* ABI v2. A v1 device (smaller size) reports both limits OLAB_LIFETIME_EXACT. */
        uint8_t lifetime_packets; /* olab_lifetime_report for packet limits */
        uint8_t lifetime_bytes;   /* olab_lifetime_report for byte limits */
        uint16_t reserved_v2;
        uint32_t lifetime_poll_ms; /* the POLLED period, 1..60000 ms (0 when nothing is POLLED) */
        /* ABI v3. 1 when the device offloads UDP-encapsulated SAs (RFC 3948 ESP-in-UDP) in
         * packet offload, as later Linux kernels allow drivers that can; 0 (and every v1/v2
         * device): the host refuses such SAs for it. Crypto offload of them is never offered
         * (Linux 6.1 to 6.10: "Encapsulation and TFC padding can't be offloaded"). */
        uint32_t udp_encap;
        /* ABI v5. 1 when the device offloads SAs and policies with IPv6 outer addresses or
         * IPv6 selectors and processes IPv6 packets (olab_sa.family, olab_selector6, ...); 0 (and
         * every v1..v4 device): the host refuses such SAs and policies for it (crypto offload:
         * NOT_SUPPORTED, the stack encrypts in software) and never hands it an IPv6 packet. */
        uint32_t ipv6;
    };

    /* ---- what the host gives the device ---------------------------------------------------- */

    /* The host's side, called by the device (like a driver calls into the XFRM core). */
    struct olab_host
    {
        uint32_t size;
        void* ctx; /* pass back unchanged */
        /* xfrm_state_check_expire: the SA's counters crossed a soft or hard limit. The host then
         * reads the counters with update_stats and tells the key manager. Packet offload only. */
        void (*check_expire)(void* ctx, uint64_t sa_host_id);
        /* Packet offload PMTU check, defence in depth: the host's core already drops a packet
         * too big once ESP is added and tells its sender (Linux's xfrm_dev_offload_ok), so a
         * device never has to. A device that checks again calls this from tx before returning
         * OLAB_DROP / OLAB_DROP_TX_PMTU: ip_packet (len bytes) needs mtu. */
        void (*mtu_exceeded)(void* ctx, const uint8_t* ip_packet, uint32_t len, uint32_t mtu);
    };

    /* How the host wants the device set up. */
    struct olab_config
    {
        uint32_t size;
        uint32_t sa_capacity;     /* SA slots (rx and tx share them); <= max_sa */
        uint32_t policy_capacity; /* offloaded policies; <= max_policies */
        uint32_t features;        /* the subset of the advertised features the host enabled */
    };

/* Address families of the v5 fields (olab_sa.family, olab_selector6.family, ...). */
#define OLAB_FAMILY_IPV4 4u
#define OLAB_FAMILY_IPV6 6u

    /* An IPv4 XFRM selector: prefixes, protocol (0 any) and ports (0 any). */
    struct olab_selector
    {
        uint32_t saddr;
        uint32_t daddr;
        uint8_t sprefix;
        uint8_t dprefix;
        uint8_t proto;
        uint8_t reserved;
        uint16_t sport;
        uint16_t dport;
    };

    /* ABI v5: an XFRM selector of either family (Linux's xfrm_selector with its family):
     * addresses in network byte order (IPv4 in the first 4 bytes), prefixes up to 32 or 128,
     * protocol (0 any) and ports (0 any). For an IPv4 selector it says what olab_selector says. */
    struct olab_selector6
    {
        uint8_t family; /* OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6 */
        uint8_t sprefix;
        uint8_t dprefix;
        uint8_t proto;
        uint16_t sport;
        uint16_t dport;
        uint8_t saddr[16];
        uint8_t daddr[16];
    };

    /* A security association (Linux xfrm_state with its xso offload request). */
    struct olab_sa
    {
        uint32_t size;
        uint64_t host_id; /* the host's name for it; passed back in check_expire */
        uint64_t serial;  /* creation order: for one policy a device prefers the newest SA */
        uint8_t dir;      /* olab_dir */
        uint8_t type;     /* olab_offload_type */
        uint8_t mode;     /* olab_mode */
        uint8_t esn;      /* 1: extended sequence numbers (RFC 4304) */
        uint32_t saddr;
        uint32_t daddr;
        uint32_t spi;
        uint32_t reqid;
        struct olab_selector sel;
        uint8_t algorithm;    /* olab_algorithm */
        uint8_t enc_key_len;  /* GCM: 20 or 36 (key then salt); CBC: 16, 24 or 32 */
        uint8_t auth_key_len; /* CBC: 32; GCM: 0 */
        uint8_t icv_len;      /* bytes, 16 */
        uint8_t enc_key[36];
        uint8_t auth_key[64];
        uint32_t replay_window;   /* packets; 0 = no replay check (packet offload only) */
        uint64_t oseq;            /* TX: last sequence number sent; the next packet carries oseq + 1
                                   * (Linux XFRMA_REPLAY_STATE, used to migrate an SA; usually 0) */
        uint64_t seq;             /* RX: highest sequence number already received (usually 0) */
        uint64_t soft_byte_limit; /* OLAB_INFINITY for none (packet offload only) */
        uint64_t hard_byte_limit;
        uint64_t soft_packet_limit;
        uint64_t hard_packet_limit;
        /* ABI v3: XFRMA_ENCAP. encap_type 0: plain ESP; 2 (OLAB_ENCAP_ESPINUDP): ESP in UDP from
         * encap_sport to encap_dport (TX), or arriving at encap_dport (RX), RFC 3948. Only
         * packet-offload SAs, and only for a device that declares udp_encap. */
        uint8_t encap_type;
        uint8_t reserved_v3;
        uint16_t encap_sport;
        uint16_t encap_dport;
        uint16_t reserved_v3b;
        uint32_t encap_oa; /* the peer's original address before a NAT (NAT-OA); informational */
        /* ABI v5. The outer addresses (the SA's family, Linux's props.family) and the selector,
         * whose family may differ in tunnel mode (IPv4 in IPv6, IPv6 in IPv4). For an IPv4 SA
         * saddr, daddr, sel and encap_oa above say the same; for an IPv6 one they are 0. */
        uint8_t family; /* OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6: of saddr6 and daddr6 */
        uint8_t reserved_v5[3];
        uint8_t saddr6[16];
        uint8_t daddr6[16];
        struct olab_selector6 sel6;
        uint8_t encap_oa6[16]; /* NAT-OA of either family (the SA's) */
    };

#define OLAB_ENCAP_ESPINUDP 2u

#define OLAB_POLICY_IPSEC 0u  /* the template's SA protects what matches */
#define OLAB_POLICY_BYPASS 1u /* what matches passes in plaintext */

    /* A policy (packet offload only): Linux xfrm_policy with one ESP template, or a bypass. */
    struct olab_policy
    {
        uint32_t size;
        uint64_t serial;   /* creation order: ties of priority go to the older policy */
        uint8_t dir;       /* olab_dir */
        uint8_t tmpl_mode; /* olab_mode an SA must have to serve this policy */
        uint8_t action;    /* OLAB_POLICY_IPSEC, or OLAB_POLICY_BYPASS (OLAB_FEATURE_POLICY_BYPASS) */
        uint8_t reserved;
        uint32_t priority; /* lower wins */
        struct olab_selector sel;
        uint32_t tmpl_saddr; /* tunnel endpoints; unused in transport mode */
        uint32_t tmpl_daddr;
        uint32_t tmpl_reqid; /* 0 matches any SA */
        /* ABI v2: the template's SPI (Linux xfrm_tmpl.id.spi, which strongSwan sets and moves
         * to a new SA with XFRM_MSG_UPDPOLICY on rekey). 0: the newest SA that matches reqid,
         * mode and endpoints serves the policy; otherwise only the SA with this SPI does. The
         * host resolves the state the same way (xfrm_state_find) and updates a policy by
         * policy_delete + policy_free + policy_add. */
        uint32_t tmpl_spi;
        /* ABI v5. The selector of either family, and the template's tunnel endpoints of the
         * outer family (tmpl_family; may differ from the selector's in tunnel mode). For an
         * IPv4 policy sel, tmpl_saddr and tmpl_daddr above say the same; otherwise they are 0. */
        struct olab_selector6 sel6;
        uint8_t tmpl_family; /* OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6 */
        uint8_t reserved_v5[3];
        uint8_t tmpl_saddr6[16];
        uint8_t tmpl_daddr6[16];
    };

    /* Counters of one SA as update_stats reports them (Linux lifetime current + xfrm_stats). */
    struct olab_sa_stats
    {
        uint32_t size;
        /* Bytes carried as Linux counts skb->len once the outer IP header is pulled (xfrm_output,
         * xfrm_input): in transport mode the L4 segment after the IPv4 header (options
         * included in the header), in tunnel mode the whole inner IPv4 packet. ESP header,
         * IV, trailer and ICV never count. */
        uint64_t bytes;
        uint64_t packets;
        uint64_t last_seq;           /* TX: last sequence number used */
        uint64_t replay_drops;       /* Linux xfrm_stats.replay (+ replay_window: too old) */
        uint64_t integrity_failures; /* xfrm_stats.integrity_failed */
        /* Optional: Linux keeps no per-SA counters for trailer errors (they go to the MIB's
         * XfrmInStateProtoError); a device may leave these 0. */
        uint64_t bad_padding;
        uint64_t truncated;
        uint64_t seq_overflow;
        uint64_t expired_drops;
    };

    /* Crypto offload TX: what the stack tells the device with a framed packet (skb xfrm_offload).
     * The ESP header, sequence number, padding and trailer are written; the device writes IV,
     * ciphertext and ICV.
     * ABI v4, only for a device with OLAB_FEATURE_GSO_ESP: gso_size != 0 marks a TCP
     * super-packet to cut into gso_segs segments of gso_size TCP payload bytes (the last one
     * shorter), as Linux's NETIF_F_GSO_ESP devices get it from esp_xmit:
     *  - handle != 0 (crypto offload, transport mode): IPv4 header (protocol ESP, its total
     *    length the whole buffer), SPI, the first segment's sequence number, 8 zero IV bytes,
     *    then the whole TCP segment; no padding, trailer or ICV. The host reserved gso_segs
     *    sequence numbers: segment n carries the first + n (ESN: with seq_hi, never crossing
     *    into new high bits), its own IV, padding, trailer (next header 6) and ICV.
     *  - handle == 0 (packet offload): the plaintext IPv4 TCP super-packet, which the device's
     *    policies protect as any packet; each segment takes the SA's next sequence number and
     *    counts as one packet (lifetimes, update_stats).
     * Either way the device writes the segments back to back into buf, each a whole IPv4 ESP
     * packet no larger than mtu: the outer header's total length and identification (+ n) and
     * checksum its own, the TCP sequence number advanced by n * gso_size, FIN and PSH only on
     * the last segment, CWR only on the first, and the TCP checksum computed for the segment.
     * *len is the sum of their lengths; the host sends each as its own frame. */
    struct olab_tx_meta
    {
        uint32_t size;
        uint64_t handle; /* from state_add; 0: a packet-offload GSO packet (ABI v4) */
        uint32_t seq_hi; /* ESN high-order bits */
        /* HW_ESP_TX_CSUM: inner L4 checksum to fill before encryption: segment at csum_start
         * bytes after the SPI, csum_len bytes long, checksum field at csum_field within it,
         * pseudo-header from csum_saddr, csum_daddr, csum_proto. csum_len 0: nothing to do. */
        uint16_t csum_start;
        uint16_t csum_len;
        uint16_t csum_field;
        uint8_t csum_proto;
        uint8_t reserved;
        uint32_t csum_saddr;
        uint32_t csum_daddr;
        /* ABI v4 (OLAB_FEATURE_GSO_ESP): TCP payload bytes per segment, 0 for a packet that is
         * not a super-packet; and the number of segments, ceil(TCP payload / gso_size). */
        uint32_t gso_size;
        uint32_t gso_segs;
        /* ABI v5: the checksum pseudo-header's family and addresses (IPv6 for an IPv6 inner
         * packet: RFC 8200 section 8.1, the destination the final one of a Routing header).
         * For IPv4, csum_saddr and csum_daddr above say the same. GSO super-packets are IPv4. */
        uint8_t csum_family; /* OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6 */
        uint8_t reserved_v5[3];
        uint8_t csum_saddr6[16];
        uint8_t csum_daddr6[16];
    };

    /* What rx says about a packet it returned OLAB_DONE for. */
    struct olab_rx_info
    {
        uint32_t size;
        uint8_t kind;   /* 1: crypto offload, decrypted in place (CRYPTO_DONE) + status;
                         * 2: packet offload, ESP removed, the buffer is the plaintext IP packet */
        uint8_t status; /* kind 1: olab_rx_status */
        uint8_t reserved[2];
        uint32_t spi;   /* the SA that processed it */
        uint32_t daddr; /* its destination, when it is IPv4 */
        /* ABI v5: the SA's destination of either family. 0 (left by a v1..v4 device): IPv4,
         * daddr says it. */
        uint8_t family; /* 0, OLAB_FAMILY_IPV4 or OLAB_FAMILY_IPV6 */
        uint8_t reserved_v5[3];
        uint8_t daddr6[16];
    };

#define OLAB_RX_CRYPTO_DONE 1
#define OLAB_RX_PACKET_OFFLOAD 2

    /* ---- the functions a device library exports -------------------------------------------- */

    /* What the device offers; a static struct, valid until the library is unloaded. */
    const struct olab_capabilities* olab_get_capabilities(void);

    /* One device instance per emulated NIC. On failure returns NULL and writes a message naming
     * the field into error (error_len bytes, NUL-terminated). */
    void* olab_create(const struct olab_host* host,
                      const struct olab_config* config,
                      char* error,
                      size_t error_len);
    void olab_destroy(void* dev);

    /* xdo_dev_state_add: validate, store, and return a non-zero handle. On NOT_SUPPORTED or
     * FAILURE write the reason (Linux's extack message). */
    int olab_state_add(void* dev,
                       const struct olab_sa* sa,
                       uint64_t* handle,
                       char* reason,
                       size_t reason_len);
    /* xdo_dev_state_delete: traffic on the SA stops now; packets already handed to tx with this
     * handle may still be encrypted. */
    void olab_state_delete(void* dev, uint64_t handle);
    /* xdo_dev_state_free: release the slot; the handle is never used again. */
    void olab_state_free(void* dev, uint64_t handle);
    /* xdo_dev_offload_ok: may the device process this packet for this SA? ip_header is the
     * IPv4 header (with options) of the packet to protect, or (ABI v5, ipv6 devices) its 40-byte
     * IPv6 header (header_len 40; the version nibble tells). Returns 1 yes, 0 no. */
    int olab_offload_ok(void* dev, uint64_t handle, const uint8_t* ip_header, uint32_t header_len);
    /* xdo_dev_state_advance_esn: crypto offload RX; the stack's replay window top moved. */
    void olab_state_advance_esn(void* dev, uint64_t handle, uint64_t replay_top);
    /* xdo_dev_state_update_stats: write the SA's counters (packet offload counts in the device). */
    void olab_state_update_stats(void* dev, uint64_t handle, struct olab_sa_stats* stats);

    /* xdo_dev_policy_add / delete / free (packet offload). */
    int olab_policy_add(void* dev,
                        const struct olab_policy* policy,
                        uint64_t* handle,
                        char* reason,
                        size_t reason_len);
    void olab_policy_delete(void* dev, uint64_t handle);
    void olab_policy_free(void* dev, uint64_t handle);

    /* Transmit one IPv4 (ABI v5 ipv6 devices: or IPv6) packet of *len bytes in buf (capacity
     * cap). meta is non-NULL for crypto offload packets the stack framed, NULL otherwise
     * (packet offload policies apply); for a
     * device with OLAB_FEATURE_GSO_ESP it is also non-NULL, with handle 0 and gso_size set, for a
     * plaintext TCP super-packet (see olab_tx_meta). mtu is the link MTU. Returns an
     * olab_verdict; on OLAB_DONE *len is the new length (<= cap; for a super-packet the segments
     * back to back, cap leaving room for every segment's headers and trailer), on OLAB_DROP
     * *drop_reason is an olab_drop_reason. */
    int olab_tx(void* dev,
                uint8_t* buf,
                uint32_t* len,
                uint32_t cap,
                const struct olab_tx_meta* meta,
                uint32_t mtu,
                uint32_t* drop_reason);
    /* Receive one IPv4 (or, ABI v5 ipv6 devices, IPv6) packet. Returns an olab_verdict; on
     * OLAB_DONE fills info. */
    int olab_rx(void* dev,
                uint8_t* buf,
                uint32_t* len,
                uint32_t cap,
                struct olab_rx_info* info,
                uint32_t* drop_reason);

    /* ---- the same functions as a table (how built-in devices are registered) --------------- */

    struct olab_device_ops
    {
        const struct olab_capabilities* (*get_capabilities)(void);
        void* (*create)(const struct olab_host*, const struct olab_config*, char*, size_t);
        void (*destroy)(void*);
        int (*state_add)(void*, const struct olab_sa*, uint64_t*, char*, size_t);
        void (*state_delete)(void*, uint64_t);
        void (*state_free)(void*, uint64_t);
        int (*offload_ok)(void*, uint64_t, const uint8_t*, uint32_t);
        void (*state_advance_esn)(void*, uint64_t, uint64_t);
        void (*state_update_stats)(void*, uint64_t, struct olab_sa_stats*);
        int (*policy_add)(void*, const struct olab_policy*, uint64_t*, char*, size_t);
        void (*policy_delete)(void*, uint64_t);
        void (*policy_free)(void*, uint64_t);
        int (*tx)(void*,
                  uint8_t*,
                  uint32_t*,
                  uint32_t,
                  const struct olab_tx_meta*,
                  uint32_t,
                  uint32_t*);
        int (*rx)(void*, uint8_t*, uint32_t*, uint32_t, struct olab_rx_info*, uint32_t*);
    };

#ifdef __cplusplus
}
#endif

#endif /* OFFLOADLAB_DEVICE_H */
