#ifndef EMU_NIC_NET_DEVICE_H
#define EMU_NIC_NET_DEVICE_H

#include "builtin-offload-device.h"
#include "offload-device-type.h"
#include "xfrm-dev-ops.h"
#include "xfrm-offload-tag.h"

#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/traced-callback.h"

#include <array>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ns3
{

/// Why the device dropped a packet: olab_drop_reason, value for value (checked below). Each is
/// counted, and the "Drop" trace carries it.
enum class EmuNicDrop : uint8_t
{
    TxFragment,       //!< packet offload: fragments are not offloaded
    TxPmtu,           //!< packet offload: too big once ESP is added (sender told the MTU)
    TxNoState,        //!< packet offload policy without a usable state / bad crypto handle
    TxSeqOverflow,    //!< sequence number space exhausted
    TxExpired,        //!< state past its hard limit
    TxUnsupported,    //!< packet the device cannot process (IPv4 options, malformed)
    RxFragment,       //!< packet offload: fragments are dropped on RX too
    RxAuthFail,       //!< bad ICV
    RxBadPadding,     //!< bad ESP trailer
    RxMalformed,      //!< truncated ESP or a bad inner packet
    RxReplay,         //!< replayed or too old
    RxExpired,        //!< state past its hard limit
    RxPolicyMismatch, //!< decrypted packet matches no offloaded inbound policy
    TxOversize,       //!< a frame the device returned is larger than the MTU (never sent)
    Count,
};

static_assert(uint8_t(EmuNicDrop::TxFragment) == OLAB_DROP_TX_FRAGMENT &&
                  uint8_t(EmuNicDrop::TxPmtu) == OLAB_DROP_TX_PMTU &&
                  uint8_t(EmuNicDrop::TxNoState) == OLAB_DROP_TX_NO_STATE &&
                  uint8_t(EmuNicDrop::TxSeqOverflow) == OLAB_DROP_TX_SEQ_OVERFLOW &&
                  uint8_t(EmuNicDrop::TxExpired) == OLAB_DROP_TX_EXPIRED &&
                  uint8_t(EmuNicDrop::TxUnsupported) == OLAB_DROP_TX_UNSUPPORTED &&
                  uint8_t(EmuNicDrop::RxFragment) == OLAB_DROP_RX_FRAGMENT &&
                  uint8_t(EmuNicDrop::RxAuthFail) == OLAB_DROP_RX_AUTH_FAIL &&
                  uint8_t(EmuNicDrop::RxBadPadding) == OLAB_DROP_RX_BAD_PADDING &&
                  uint8_t(EmuNicDrop::RxMalformed) == OLAB_DROP_RX_MALFORMED &&
                  uint8_t(EmuNicDrop::RxReplay) == OLAB_DROP_RX_REPLAY &&
                  uint8_t(EmuNicDrop::RxExpired) == OLAB_DROP_RX_EXPIRED &&
                  uint8_t(EmuNicDrop::RxPolicyMismatch) == OLAB_DROP_RX_POLICY_MISMATCH &&
                  uint8_t(EmuNicDrop::TxOversize) == OLAB_DROP_TX_OVERSIZE &&
                  uint8_t(EmuNicDrop::Count) == OLAB_DROP_REASON_COUNT,
              "EmuNicDrop must list olab_drop_reason in its order");

/// "TxFragment", ...
const char* EmuNicDropName(EmuNicDrop drop);

/// What the device did (driver callbacks, offloaded packets), counted by the NIC; not drops.
enum class EmuNicEvent : uint8_t
{
    StateAdd,
    StateDelete,
    StateFree,
    OffloadOkRejected,
    StateAdvanceEsn,
    StateUpdateStats,
    PolicyAdd,
    PolicyDelete,
    PolicyFree,
    CryptoTxPackets,
    CryptoRxPackets,
    CryptoRxFailures,
    PacketOffloadTxPackets,
    PacketOffloadRxPackets,
    TxCsumOffloaded,
    LifetimePoll,  //!< the host polled a POLLED lifetime (update_stats + check_expire)
    GsoTxPackets,  //!< TCP super-packets the device segmented (GSO_ESP)
    GsoTxSegments, //!< the frames it made of them
    Count,
};

const char* EmuNicEventName(EmuNicEvent event);

/**
 * The emulated IPsec offload NIC: a point-to-point device whose offload logic is a device of the
 * offloadlab device ABI (offloadlab-device.h), chosen by the "Device" attribute: any device
 * registered with OffloadDeviceRegistration (the reference, its mutants, the example device) or a
 * vendor's library.
 *
 * The NIC is the driver side: it turns the stack's XfrmDevOps calls into ABI calls, hands each
 * IPv4 packet to the device's tx/rx as bytes, turns the device's verdicts into tags (CRYPTO_DONE
 * status, secpath), counts and traces every drop by reason, relays the device's check_expire and
 * PMTU callbacks to the stack, and refuses (by name) any value outside the ABI's ranges.
 * For a packet-offloaded SA with a limit the device reports OLAB_LIFETIME_POLLED, the NIC polls
 * every lifetime_poll_ms until state_delete: the stack reads update_stats and checks the limits.
 * Administrative down makes the stack flush every offloaded state and policy; carrier loss
 * does not.
 */
class EmuNicNetDevice : public PointToPointNetDevice, public XfrmDevOps
{
  public:
    static TypeId GetTypeId();
    EmuNicNetDevice();
    ~EmuNicNetDevice() override;

    // NetDevice
    bool Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber) override;
    void SetReceiveCallback(NetDevice::ReceiveCallback cb) override;
    void SetPromiscReceiveCallback(PromiscReceiveCallback cb) override;
    bool IsLinkUp() const override;
    void AddLinkChangeCallback(Callback<void> callback) override;

    /// Administrative link state (like `ip link set dev X down`); down flushes offloaded states
    /// and policies (Linux NETDEV_DOWN -> xfrm_dev_down).
    void SetLinkDown(bool down);
    /// Carrier (cable pulled or back): the link is down while it is lost, but Linux flushes
    /// nothing on carrier loss.
    void SetCarrier(bool up);

    // XfrmDevOps
    uint32_t GetXfrmFeatures() const override;
    XfrmOffloadResult StateAdd(Ptr<XfrmState> x) override;
    void StateDelete(Ptr<XfrmState> x) override;
    void StateFree(Ptr<XfrmState> x) override;
    bool OffloadOk(const Ipv4Header& ipHeader,
                   Ptr<const Packet> payload,
                   Ptr<XfrmState> x) override;
    bool OffloadOk(const Ipv6Header& header, Ptr<const Packet> payload, Ptr<XfrmState> x) override;
    void StateAdvanceEsn(Ptr<XfrmState> x) override;
    void StateUpdateStats(Ptr<XfrmState> x) override;
    XfrmOffloadResult PolicyAdd(Ptr<XfrmPolicy> xp) override;
    void PolicyDelete(Ptr<XfrmPolicy> xp) override;
    void PolicyFree(Ptr<XfrmPolicy> xp) override;

    /// SA table size (netdevsim holds 33); changeable only while no SA is offloaded.
    void SetSaCapacity(uint32_t capacity);
    uint32_t GetSaCapacity() const;
    void SetPolicyCapacity(uint32_t capacity);
    uint32_t GetPolicyCapacity() const;
    /// The device: a registered spec ("reference", ...) or a library path; only while no SA is
    /// offloaded.
    void SetDeviceSpec(const std::string& spec);
    std::string GetDeviceSpec() const;
    const OffloadDeviceType& GetDeviceType();

    /// The instance of a device built into the program (IsBuiltin()), for its own inspection
    /// calls; nullptr for a device library.
    BuiltinOffloadDevice* GetBuiltinDevice();
    uint64_t GetDropCount(EmuNicDrop drop) const;
    /// Sees every ESP packet any EmuNic's device encrypted, as it goes to the wire, with the
    /// state whose SPI it carries (nullptr when the device used an SPI it was never given).
    /// Process-wide, for the conformance suite's independent oracle; a null callback removes it.
    using WireObserver = Callback<void, Ptr<const Packet>, Ptr<XfrmState>>;
    static void SetWireObserver(WireObserver observer);

    uint64_t GetEventCount(EmuNicEvent event) const;
    /// Every drop counter by name ("TxFragmentDrop", ...).
    std::map<std::string, uint64_t> GetDropCounts() const;
    /// Every event counter by name (driver callbacks, offloaded packets).
    std::map<std::string, uint64_t> GetEventCounts() const;
    /// Both, by name.
    std::map<std::string, uint64_t> GetCounters() const;

    /// Signature of the "Drop" trace: the packet (as it reached the device) and why.
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, EmuNicDrop reason);

  private:
    /// The frames to put on the wire for one packet (none when it was dropped): the packet
    /// itself, what the device made of it, or (GSO_ESP) the segments the device made.
    std::vector<Ptr<Packet>> ProcessTx(Ptr<Packet> packet);
    /// The frames of the device's output in m_buffer: one, or (gso) the IPv4 segments back to
    /// back; a frame over the MTU is dropped (TxOversize).
    std::vector<Ptr<Packet>> SplitSegments(Ptr<const Packet> packet, uint32_t length, bool gso);
    /// The packet to deliver (nullptr when dropped); *protocol becomes the version the device's
    /// output has (a tunnel's inner packet may be of the other family).
    Ptr<const Packet> ProcessRx(Ptr<const Packet> packet, uint16_t* protocol);
    /// ABI v5 with olab_capabilities.ipv6: the device takes IPv6 SAs, policies and packets.
    bool DeviceDoesIpv6();
    /// The reason an IPv4-only device is refused an IPv6 SA or policy.
    std::string Ipv4OnlyReason();
    bool InterceptRx(Ptr<NetDevice> dev,
                     Ptr<const Packet> packet,
                     uint16_t protocol,
                     const Address& from);
    bool InterceptPromiscRx(Ptr<NetDevice> dev,
                            Ptr<const Packet> packet,
                            uint16_t protocol,
                            const Address& from,
                            const Address& to,
                            NetDevice::PacketType type);
    void Drop(EmuNicDrop reason, Ptr<const Packet> packet);
    /// For the wire observer: the outbound state an encrypted packet's SPI names.
    /// Packet offload's fragment rule, kept by the NIC itself whatever the device does (the
    /// v3 series: "Fragments are dropped, both in RX and TX"; mlx5's steering never matches a
    /// fragment): a TX fragment an offloaded out policy selects, or an RX ESP fragment for an
    /// address with a packet-offloaded inbound SA. ip is length bytes of IPv4 or IPv6 (a
    /// Fragment header anywhere in the chain).
    bool IsOffloadedFragment(const uint8_t* ip, uint32_t length, XfrmDir dir) const;
    bool IsOffloadedFragment6(const uint8_t* ip, uint32_t length, XfrmDir dir) const;
    Ptr<XfrmState> StateOfEsp(const uint8_t* ip, uint32_t length) const;
    /// The device instance, created on first use from the attributes.
    void* Engine();
    void DestroyEngine(const char* why);
    // The host side of the ABI (olab_host).
    static void OnCheckExpire(void* ctx, uint64_t saHostId);
    static void OnMtuExceeded(void* ctx, const uint8_t* ipPacket, uint32_t len, uint32_t mtu);
    /// The poll period of a packet-offloaded SA whose finite limits include a kind the device
    /// reports OLAB_LIFETIME_POLLED; zero when the device reports every limit it has itself.
    Time LifetimePollPeriod(Ptr<XfrmState> x);
    /// One poll (mlx5's once-a-second mlx5e_ipsec_handle_sw_limits): the stack reads the
    /// counters through update_stats and checks the limits (xfrm_state_check_expire).
    void PollLifetime(uint64_t saHostId, Time period);
    void StopLifetimePoll(uint64_t saHostId);
    /// Enters or leaves the per-packet indexes of offloaded states (m_txStatesBySpi, ...).
    void IndexState(Ptr<XfrmState> x, bool add);

    bool m_espOffload;
    bool m_espTxCsumOffload;
    bool m_gsoEspOffload;
    uint32_t m_saCapacity{64};
    uint32_t m_policyCapacity{64};
    std::string m_deviceSpec{"reference"};
    std::shared_ptr<const OffloadDeviceType> m_type;
    void* m_engine{nullptr};
    /// Set by the first offload request: until then tx/rx need not ask the device.
    bool m_everOffloaded{false};
    std::unordered_map<uint64_t, Ptr<XfrmState>> m_states; //!< by host id, until state_free

    /// An SA's destination and SPI, of either family.
    struct SpiKey
    {
        XfrmAddress daddr;
        uint32_t spi;
        bool operator==(const SpiKey& other) const;
    };

    struct SpiKeyHash
    {
        size_t operator()(const SpiKey& key) const;
    };

    /// Outbound offloaded states by (daddr, SPI), the newest of each, until state_free: which
    /// SA an ESP packet on the wire belongs to, without a walk over every state.
    std::unordered_map<SpiKey, Ptr<XfrmState>, SpiKeyHash> m_txStatesBySpi;
    /// Packet-offloaded inbound states per daddr, until state_free: whose ESP fragments to drop.
    std::unordered_map<XfrmAddress, uint32_t, XfrmAddressHash> m_packetRxStatesByDaddr;
    std::unordered_map<uint64_t, EventId> m_lifetimePolls; //!< by host id, until state_delete
    std::vector<Ptr<XfrmPolicy>> m_policies;               //!< offloaded, until policy_delete
    Ptr<Packet> m_txPacket; //!< the packet in the device's tx, for mtu_exceeded
    bool m_adminDown{false};
    bool m_carrier{true};
    NetDevice::ReceiveCallback m_nodeRxCallback;
    NetDevice::PromiscReceiveCallback m_nodePromiscCallback;
    TracedCallback<> m_linkChange;
    std::vector<uint8_t> m_buffer; //!< reused per packet
    std::array<uint64_t, size_t(EmuNicDrop::Count)> m_drops{};
    std::array<uint64_t, size_t(EmuNicEvent::Count)> m_events{};

    TracedCallback<Ptr<const Packet>, EmuNicDrop> m_dropTrace;
};

} // namespace ns3

#endif // EMU_NIC_NET_DEVICE_H
