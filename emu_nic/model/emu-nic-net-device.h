#ifndef EMU_NIC_NET_DEVICE_H
#define EMU_NIC_NET_DEVICE_H

#include "emu-nic-sa-table.h"
#include "xfrm-dev-ops.h"
#include "xfrm-offload-tag.h"

#include "ns3/point-to-point-net-device.h"
#include "ns3/traced-callback.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace ns3
{

/// Why the reference NIC dropped a packet; each has a trace source "<Name>Drop" and a counter.
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
    Count,
};

const char* EmuNicDropName(EmuNicDrop drop);

/// What the reference NIC did (driver callbacks, offloaded packets); counters, not drops.
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
    Count,
};

const char* EmuNicEventName(EmuNicEvent event);

/**
 * The reference IPsec offload NIC: a point-to-point device that implements Linux's crypto
 * offload and packet (full) offload with real AES-GCM.
 *
 * Crypto offload: on TX the stack has built ESP header, trailer and sequence number and tagged
 * the packet with the state's handle; the device writes IV, ciphertext and ICV. On RX the device
 * decrypts in place and tags the packet CRYPTO_DONE with a status; the stack strips headers and
 * keeps the replay window. Packet offload: the device holds states and policies, adds and
 * removes ESP itself, keeps sequence numbers, replay windows, ESN and lifetimes, drops fragments,
 * and does the PMTU check. Link down makes the stack flush every offloaded state and policy.
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

    /// Administrative link state (like `ip link set dev X down`); down flushes offloaded SAs.
    void SetLinkDown(bool down);

    // XfrmDevOps
    uint32_t GetXfrmFeatures() const override;
    XfrmOffloadResult StateAdd(Ptr<XfrmState> x) override;
    void StateDelete(Ptr<XfrmState> x) override;
    void StateFree(Ptr<XfrmState> x) override;
    bool OffloadOk(const Ipv4Header& ipHeader, Ptr<const Packet> payload,
                   Ptr<XfrmState> x) override;
    void StateAdvanceEsn(Ptr<XfrmState> x) override;
    void StateUpdateStats(Ptr<XfrmState> x) override;
    XfrmOffloadResult PolicyAdd(Ptr<XfrmPolicy> xp) override;
    void PolicyDelete(Ptr<XfrmPolicy> xp) override;
    void PolicyFree(Ptr<XfrmPolicy> xp) override;

    /// SA table size (netdevsim holds 33); changeable only while the table is empty.
    void SetSaCapacity(uint32_t capacity);
    uint32_t GetSaCapacity() const;

    // Inspection
    const EmuNicSaTable& GetSaTable() const;
    const EmuNicSa* GetSa(uint64_t handle) const;
    uint32_t GetPolicyCount() const;
    uint64_t GetDropCount(EmuNicDrop drop) const;
    /// Every counter by name: drops, offloaded packets, driver callback counts.
    std::map<std::string, uint64_t> GetCounters() const;
    std::string Dump() const;

  private:
    Ptr<Packet> ProcessTx(Ptr<Packet> packet);
    Ptr<Packet> CryptoTx(Ptr<Packet> packet, const XfrmOffloadTxTag& tag);
    Ptr<Packet> PacketOffloadTx(Ptr<Packet> packet);
    Ptr<const Packet> ProcessRx(Ptr<const Packet> packet);
    Ptr<const Packet> CryptoRx(EmuNicSa& sa, Ptr<const Packet> packet, uint32_t ihl);
    Ptr<const Packet> PacketOffloadRx(EmuNicSa& sa, Ptr<const Packet> packet, uint32_t ihl);
    bool InterceptRx(Ptr<NetDevice> dev, Ptr<const Packet> packet, uint16_t protocol,
                     const Address& from);
    bool InterceptPromiscRx(Ptr<NetDevice> dev, Ptr<const Packet> packet, uint16_t protocol,
                            const Address& from, const Address& to, NetDevice::PacketType type);
    Ptr<XfrmPolicy> LookupHwPolicy(XfrmDir dir, const XfrmFlow& flow) const;
    EmuNicSa* SelectTxState(const XfrmPolicy& policy, const XfrmFlow& flow);
    /// Largest plaintext packet that still fits the MTU after this SA's ESP.
    uint32_t InnerMtu(const EmuNicSa& sa, uint32_t headerLength) const;
    /// Soft/hard limits, checked before a packet is counted; false when past the hard limit.
    bool CheckLifetime(EmuNicSa& sa);
    void Drop(EmuNicDrop drop, Ptr<const Packet> packet);
    TracedCallback<Ptr<const Packet>>& DropTrace(EmuNicDrop drop);

    bool m_espOffload;
    bool m_espTxCsumOffload;
    uint32_t m_policyCapacity;
    bool m_adminDown{false};
    EmuNicSaTable m_sas;
    std::vector<Ptr<XfrmPolicy>> m_policies; //!< offloaded policies, in SPD order
    NetDevice::ReceiveCallback m_nodeRxCallback;
    NetDevice::PromiscReceiveCallback m_nodePromiscCallback;
    TracedCallback<> m_linkChange;
    std::vector<uint8_t> m_buffer; //!< reused per packet
    std::vector<uint8_t> m_frame;  //!< reused per packet
    uint16_t m_identification{0};
    std::array<uint64_t, size_t(EmuNicDrop::Count)> m_drops{};
    std::array<uint64_t, size_t(EmuNicEvent::Count)> m_events{};

    TracedCallback<Ptr<const Packet>> m_txFragmentDrop;
    TracedCallback<Ptr<const Packet>> m_txPmtuDrop;
    TracedCallback<Ptr<const Packet>> m_txNoStateDrop;
    TracedCallback<Ptr<const Packet>> m_txSeqOverflowDrop;
    TracedCallback<Ptr<const Packet>> m_txExpiredDrop;
    TracedCallback<Ptr<const Packet>> m_txUnsupportedDrop;
    TracedCallback<Ptr<const Packet>> m_rxFragmentDrop;
    TracedCallback<Ptr<const Packet>> m_rxAuthFailDrop;
    TracedCallback<Ptr<const Packet>> m_rxBadPaddingDrop;
    TracedCallback<Ptr<const Packet>> m_rxMalformedDrop;
    TracedCallback<Ptr<const Packet>> m_rxReplayDrop;
    TracedCallback<Ptr<const Packet>> m_rxExpiredDrop;
    TracedCallback<Ptr<const Packet>> m_rxPolicyMismatchDrop;
};

} // namespace ns3

#endif // EMU_NIC_NET_DEVICE_H
