#ifndef XFRM_STATE_H
#define XFRM_STATE_H

#include "esp-transform.h"
#include "replay-window.h"
#include "xfrm-selector.h"

#include "ns3/event-id.h"
#include "ns3/net-device.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/simple-ref-count.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace ns3
{

class XfrmDevOps;

enum class XfrmMode : uint8_t
{
    Transport,
    Tunnel,
};

/// Direction: of a policy (in, out, fwd) or of an offloaded state (in, out).
enum class XfrmDir : uint8_t
{
    In,
    Out,
    Fwd,
};

/// Linux's XFRM_DEV_OFFLOAD_* types. Of a run, a test case or a catalog entry it is the data
/// path: None is software IPsec.
enum class XfrmOffloadType : uint8_t
{
    None,
    Crypto,
    Packet,
};

const char* XfrmModeName(XfrmMode mode);
const char* XfrmDirName(XfrmDir dir);
/// "none", "crypto", "packet" (Linux's `ip xfrm` words).
const char* XfrmOffloadTypeName(XfrmOffloadType type);
/// The short name of the data path an offload type selects: "sw", "crypto", "packet".
const char* DataPathName(XfrmOffloadType type);
/// The offload type of a data path name; false when name is none of them.
bool ParseDataPath(const std::string& name, XfrmOffloadType* type);

constexpr uint64_t kXfrmInfinity = std::numeric_limits<uint64_t>::max();

/// Soft and hard limits, Linux's xfrm_lifetime_cfg. Time limits are in seconds, 0 for none (as
/// Linux's *_expires_seconds): `add` counts from the install, `use` from the first packet.
struct XfrmLifetimeConfig
{
    uint64_t softByteLimit{kXfrmInfinity};
    uint64_t hardByteLimit{kXfrmInfinity};
    uint64_t softPacketLimit{kXfrmInfinity};
    uint64_t hardPacketLimit{kXfrmInfinity};
    uint64_t softAddSeconds{0};
    uint64_t hardAddSeconds{0};
    uint64_t softUseSeconds{0};
    uint64_t hardUseSeconds{0};

    bool HasTimeLimit() const;
};

/// Linux's xfrm_lifetime_cur: what the SA has carried, when it was added and first used.
struct XfrmLifetimeCurrent
{
    uint64_t bytes{0};
    uint64_t packets{0};
    Time addTime;            //!< when the state was created (xfrm_state_alloc)
    bool used{false};        //!< use_time != 0 in Linux
    Time useTime;            //!< the first packet, or (packet offload) when its counters showed one
    bool lastUsedSet{false}; //!< x->lastused != 0 in Linux
    Time lastUsed; //!< the latest packet the stack counted (x->lastused; packet offload: never)

    /// One packet of `length` bytes counted at `now`, as xfrm_input and xfrm_output_one count
    /// it, x->lastused with it.
    void Count(uint64_t length, Time now)
    {
        bytes += length;
        ++packets;
        lastUsedSet = true;
        lastUsed = now;
    }
};

/// A packet is refused once the hard limit is reached (checked before counting it, as
/// Linux's xfrm_state_check_expire does); the soft limit fires once the counters reach it.
bool XfrmHardLimitReached(const XfrmLifetimeConfig& limits, const XfrmLifetimeCurrent& current);
bool XfrmSoftLimitReached(const XfrmLifetimeConfig& limits, const XfrmLifetimeCurrent& current);

/// Per-SA error counters (Linux's xfrm_stats plus what DPDK's lib/ipsec keeps per SA).
struct XfrmStateStats
{
    /// Every replay drop: Linux xfrm_stats.replay + replay_window (what a packet-offload device
    /// reports as replay_drops).
    uint64_t replayDrops{0};
    /// The part of replayDrops left of the window (xfrm_stats.replay_window); kept by the stack,
    /// so 0 for a packet-offloaded SA, whose device reports only the sum.
    uint64_t replayWindow{0};
    uint64_t integrityFailures{0}; //!< bad ICV (xfrm_stats.integrity_failed)
    /// Linux keeps no per-SA counter for these (they go to XfrmInStateProtoError); a device may
    /// report them through update_stats, the stack does not count them.
    uint64_t badPadding{0};
    uint64_t truncated{0};
    uint64_t seqOverflow{0};  //!< TX packets refused because the sequence number space ran out
    uint64_t expiredDrops{0}; //!< packets refused after the hard limit
};

/// Linux's encap_type values (UDP_ENCAP_*): how ESP is carried.
enum class XfrmEncapType : uint8_t
{
    None = 0,
    EspInUdp = 2, //!< UDP_ENCAP_ESPINUDP, RFC 3948
};

/// XFRMA_ENCAP (struct xfrm_encap_tmpl): UDP encapsulation of an SA's ESP, as IKE sets it up
/// when it finds a NAT (RFC 3948).
struct XfrmEncap
{
    XfrmEncapType type{XfrmEncapType::None};
    uint16_t sport{4500}; //!< the UDP source port of the SA's packets (the sender's port)
    uint16_t dport{4500}; //!< their destination port
    /// encap_oa: the peer's original address, before the NAT (NAT-OA); informational, as in
    /// Linux's ESP, which fixes up transport-mode checksums without it.
    XfrmAddress oa;

    bool Enabled() const
    {
        return type != XfrmEncapType::None;
    }
};

/**
 * What a key manager asks for when it adds an SA: Linux's xfrm_usersa_info with the AEAD/ENC/AUTH,
 * replay and XFRMA_OFFLOAD_DEV attributes. The SA's identity is (daddr, spi, ESP).
 */
struct XfrmStateConfig
{
    XfrmAddress saddr; //!< the outer addresses: the SA's family (Linux's props.family)
    XfrmAddress daddr;
    uint32_t spi{0};
    XfrmMode mode{XfrmMode::Transport};
    uint32_t reqid{0};
    XfrmSelector sel;
    EspAlgorithm algorithm;
    uint32_t replayWindow{32};
    bool esn{false};
    /// Initial replay state (Linux XFRMA_REPLAY_STATE / XFRMA_REPLAY_ESN_VAL, as used to migrate
    /// an SA): the last sequence number sent, and the highest one received.
    uint64_t replayOseq{0};
    uint64_t replaySeq{0};
    XfrmLifetimeConfig lifetime;
    XfrmEncap encap; //!< ESP-in-UDP; none by default
    /// Offload request: device, direction and type; no device means software only.
    Ptr<NetDevice> offloadDev;
    XfrmDir offloadDir{XfrmDir::Out};
    XfrmOffloadType offloadType{XfrmOffloadType::None};

    /// Checks every field; on failure names the field and the value.
    bool Validate(std::string* error) const;
};

/// The device side of an offloaded state, Linux's xfrm_dev_offload (x->xso).
struct XfrmDevOffload
{
    Ptr<NetDevice> dev;
    XfrmDevOps* ops{nullptr};
    XfrmDir dir{XfrmDir::Out};
    XfrmOffloadType type{XfrmOffloadType::None};
    uint64_t handle{0}; //!< opaque to the stack; the driver's context for the fast path
};

/// One security association as the software IPsec layer holds it (Linux's xfrm_state).
class XfrmState : public SimpleRefCount<XfrmState>
{
  public:
    XfrmState(const XfrmStateConfig& config, std::unique_ptr<EspTransform> transform);

    const XfrmStateConfig& GetConfig() const;
    uint32_t GetSpi() const;
    EspTransform& GetTransform();
    ReplayWindow& GetReplayWindow();
    const ReplayWindow& GetReplayWindow() const;
    XfrmDevOffload& GetOffload();
    const XfrmDevOffload& GetOffload() const;
    bool IsOffloaded(XfrmOffloadType type) const;

    /// Takes the next outbound sequence number; false once the space is exhausted
    /// (2^32 - 1 without ESN, RFC 4303 3.3.3: no cycling).
    bool NextSeq(uint64_t* seq);
    uint64_t GetLastSeq() const;
    /// Sets the last sent sequence number: the device's count in packet offload (update_stats),
    /// or a migrated replay state.
    void SetLastSeq(uint64_t seq);

    XfrmLifetimeCurrent& GetCurrent();
    const XfrmLifetimeCurrent& GetCurrent() const;
    XfrmStateStats& GetStats();
    const XfrmStateStats& GetStats() const;

    bool IsSoftExpired() const; //!< Linux km.dying
    bool IsHardExpired() const; //!< Linux XFRM_STATE_EXPIRED
    void SetSoftExpired();
    void SetHardExpired();
    /// XFRM_MSG_UPDSA of a valid state (xfrm_state_update): new limits and encapsulation ports,
    /// and the soft expire may fire again (km.dying = 0). Keys, replay and the rest stay.
    void Update(const XfrmLifetimeConfig& lifetime, const XfrmEncap& encap);

    uint64_t GetSerial() const; //!< creation order, used to prefer the newest state

    /// The first use starts the use-time limits; later calls change nothing.
    void MarkUsed(Time now);
    /// The state's lifetime timer (Linux's x->mtimer), run by the stack.
    EventId& GetLifetimeTimer();

  private:
    XfrmStateConfig m_config;
    std::unique_ptr<EspTransform> m_transform;
    ReplayWindow m_replay;
    XfrmDevOffload m_offload;
    uint64_t m_lastSeq{0};
    XfrmLifetimeCurrent m_current;
    XfrmStateStats m_stats;
    bool m_softExpired{false};
    bool m_hardExpired{false};
    uint64_t m_serial;
    EventId m_lifetimeTimer;
};

} // namespace ns3

#endif // XFRM_STATE_H
