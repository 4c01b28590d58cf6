#ifndef REFERENCE_OFFLOAD_ENGINE_H
#define REFERENCE_OFFLOAD_ENGINE_H

#include "builtin-offload-device.h"
#include "ipv6-packet-util.h"
#include "reference-sa-table.h"
#include "xfrm-selector.h"

#include "ns3/ptr.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ns3
{

class EmuNicNetDevice;

/**
 * The reference NIC's offload logic behind the device ABI (offloadlab-device.h): what a vendor
 * would put in silicon and firmware. It sees only what the ABI gives it (C structs, raw IPv4
 * and IPv6 bytes, the host's two callbacks), so it is certified exactly like a vendor's device.
 * It declares ABI v5's ipv6: SAs and policies of either family, tunnels across families (IPv4
 * in IPv6, IPv6 in IPv4), and ESP placed in IPv6's extension header chain as Linux places it.
 *
 * Crypto offload: TX writes IV, ciphertext and ICV into a frame the stack built (and the inner
 * checksum under HW_ESP_TX_CSUM); RX decrypts in place and reports CRYPTO_DONE + status. Packet
 * offload: the engine holds states and policies, adds and removes ESP itself, keeps sequence
 * numbers, replay windows, ESN and lifetimes, drops fragments and does the PMTU check.
 *
 * It registers itself as the built-in device "reference".
 */
class ReferenceOffloadEngine : public BuiltinOffloadDevice
{
  public:
    ReferenceOffloadEngine(const olab_host& host, const olab_config& config);

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override;
    void StateDelete(uint64_t handle) override;
    void StateFree(uint64_t handle) override;
    bool OffloadOk(uint64_t handle, const uint8_t* ipHeader, uint32_t headerLength) override;
    void StateAdvanceEsn(uint64_t handle, uint64_t replayTop) override;
    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override;
    int PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason) override;
    void PolicyDelete(uint64_t handle) override;
    void PolicyFree(uint64_t handle) override;
    int Tx(uint8_t* buf,
           uint32_t* len,
           uint32_t cap,
           const olab_tx_meta* meta,
           uint32_t mtu,
           uint32_t* dropReason) override;
    int Rx(uint8_t* buf,
           uint32_t* len,
           uint32_t cap,
           olab_rx_info* info,
           uint32_t* dropReason) override;

    // Inspection, for the reference's own tests (a vendor device has none of this).
    const ReferenceSaTable& GetSaTable() const;
    const ReferenceSa* GetSa(uint64_t handle) const;
    uint32_t GetPolicyCount() const;
    std::string Dump() const;

    /// The engine behind a NIC whose device is the reference; nullptr for any other device.
    static ReferenceOffloadEngine* Of(Ptr<EmuNicNetDevice> nic);

    /// A new engine, or nullptr with the field that is out of range (the ABI's olab_create).
    static std::unique_ptr<BuiltinOffloadDevice> Create(const olab_host& host,
                                                        const olab_config& config,
                                                        std::string* error);
    /// The reference's ABI table and capabilities.
    static const olab_device_ops& GetOps();
    static const olab_capabilities* GetCapabilities();

  private:
    /// An offloaded policy as the engine keeps it.
    struct Policy
    {
        uint64_t handle{0};
        uint64_t serial{0};
        XfrmDir dir{XfrmDir::Out};
        uint32_t priority{0};
        XfrmSelector sel;
        XfrmMode tmplMode{XfrmMode::Transport};
        XfrmAddress tmplSaddr;
        XfrmAddress tmplDaddr;
        uint32_t tmplReqid{0};
        uint32_t tmplSpi{0}; //!< 0: the newest matching SA serves; else only this SPI
        bool bypass{false};  //!< OLAB_POLICY_BYPASS: what matches passes in plaintext
        bool TemplateMatches(const ReferenceSa& sa) const;
        /// Lookup order: lower priority value first, then the older policy (Linux's SPD
        /// order), then the one added first.
        bool Precedes(const Policy& other) const;
    };

    /// Where an exact policy (both prefixes the family's longest) is indexed: every field of
    /// its selector.
    struct ExactKey
    {
        XfrmAddress src;
        XfrmAddress dst;
        uint64_t rest; //!< direction, protocol, source port, destination port
        bool operator==(const ExactKey& other) const;
    };

    /// The masked addresses of a prefix policy's bucket.
    struct MaskedKey
    {
        XfrmAddress src;
        XfrmAddress dst;
        bool operator==(const MaskedKey& other) const;
    };

    struct MaskedKeyHash
    {
        size_t operator()(const MaskedKey& key) const;
    };

    struct ExactKeyHash
    {
        size_t operator()(const ExactKey& key) const;
    };

    static ExactKey ExactKeyOf(XfrmDir dir,
                               const XfrmAddress& src,
                               const XfrmAddress& dst,
                               uint8_t proto,
                               uint16_t sport,
                               uint16_t dport);
    static bool IsExact(const XfrmSelector& sel);
    static MaskedKey MaskedKeyOf(const XfrmAddress& src,
                                 uint8_t srcPrefix,
                                 const XfrmAddress& dst,
                                 uint8_t dstPrefix);
    /// The index list a policy belongs to.
    std::vector<const Policy*>& ListOf(const Policy& policy);
    /// Removes a policy's now empty index list.
    void DropEmptyList(const Policy& policy);

    /// Crypto offload of one framed packet for sa (an outbound crypto-offload state, not null),
    /// IPv4 or IPv6: ESP at the first header after the outer IP header (and, IPv6, the
    /// extension headers the stack put before it).
    int CryptoTx(ReferenceSa* sa,
                 uint8_t* buf,
                 uint32_t* len,
                 const olab_tx_meta& meta,
                 uint32_t* dropReason);
    /// HW_ESP_TX_CSUM: fills the inner TCP/UDP checksum the stack left (CHECKSUM_PARTIAL) in
    /// the segment at esp + meta.csum_start, with the pseudo-header of the inner family. False
    /// when the meta asks for what this packet or device cannot do.
    bool FillTxChecksum(uint8_t* buf, uint32_t esp, uint32_t end, const olab_tx_meta& meta) const;
    /// gso: the meta of a super-packet (GSO_ESP), nullptr for any other packet.
    int PacketOffloadTx(uint8_t* buf,
                        uint32_t* len,
                        uint32_t cap,
                        uint32_t mtu,
                        uint32_t* dropReason,
                        const olab_tx_meta* gso);
    /// GSO_ESP, crypto offload: the stack's one ESP frame for a TCP super-packet, as segments.
    int CryptoGsoTx(ReferenceSa* sa,
                    uint8_t* buf,
                    uint32_t* len,
                    uint32_t cap,
                    const olab_tx_meta& meta,
                    uint32_t* dropReason);
    /// GSO_ESP, packet offload: a plaintext TCP super-packet the policy selected, as segments.
    int PacketOffloadGsoTx(ReferenceSa& sa,
                           uint8_t* buf,
                           uint32_t* len,
                           uint32_t cap,
                           uint32_t mtu,
                           const olab_tx_meta& meta,
                           uint32_t* dropReason);
    /// Cuts the TCP bytes of a super-packet into meta.gso_segs segments (m_segments,
    /// m_segmentEnds); 0 when they do not add up to gso_segs.
    uint32_t GsoSegments(const uint8_t* tcp,
                         uint32_t tcpLength,
                         const olab_tx_meta& meta,
                         Ipv4Address src,
                         Ipv4Address dst);
    /// Writes m_segments into buf as ESP packets of sa with sequence numbers from firstSeq.
    int WriteGsoSegments(ReferenceSa& sa,
                         const uint8_t* header,
                         uint64_t firstSeq,
                         uint8_t* buf,
                         uint32_t* len,
                         uint32_t cap,
                         uint32_t* dropReason);
    /// Packet offload RX of ESP-in-UDP (RFC 3948): OLAB_PASS for what is not ours.
    int UdpEncapRx(uint8_t* buf,
                   uint32_t* len,
                   uint32_t ihl,
                   olab_rx_info* info,
                   uint32_t* dropReason);
    int CryptoRx(ReferenceSa& sa, uint8_t* buf, uint32_t len, uint32_t ihl, olab_rx_info* info);
    // IPv6 (ABI v5): the same steps, ESP found in (or put into) the extension header chain.
    int PacketOffloadTx6(uint8_t* buf,
                         uint32_t* len,
                         uint32_t cap,
                         uint32_t mtu,
                         uint32_t* dropReason);
    int Rx6(uint8_t* buf, uint32_t* len, olab_rx_info* info, uint32_t* dropReason);
    /// Packet offload RX of the ESP at esp (the first header past the extension headers), whose
    /// Next Header field is at field.
    int PacketOffloadRx6(ReferenceSa& sa,
                         uint8_t* buf,
                         uint32_t* len,
                         uint32_t esp,
                         uint32_t field,
                         olab_rx_info* info,
                         uint32_t* dropReason);
    /// Tunnel mode TX: the outer header (of the SA's family; then UDP for an ESP-in-UDP SA) and
    /// ESP with nextHeader (4 or 41) around the inner packet of length bytes in buf; the caller
    /// checked size and state.
    int TunnelEncapsulate(ReferenceSa& sa,
                          uint8_t* buf,
                          uint32_t* len,
                          uint32_t length,
                          uint8_t nextHeader,
                          uint64_t seq);
    /// The SA's destination as rx_info carries it (v5: with its family).
    static void FillRxAddress(const ReferenceSa& sa, olab_rx_info* info);
    int PacketOffloadRx(ReferenceSa& sa,
                        uint8_t* buf,
                        uint32_t* len,
                        uint32_t ihl,
                        olab_rx_info* info,
                        uint32_t* dropReason);
    const Policy* LookupPolicy(XfrmDir dir, const XfrmFlow& flow) const;
    ReferenceSa* SelectTxState(const Policy& policy, const XfrmFlow& flow);
    uint32_t InnerMtu(const ReferenceSa& sa, uint32_t headerLength, uint32_t mtu) const;
    /// Soft/hard limits, checked before a packet is counted; false when past the hard limit.
    bool CheckLifetime(ReferenceSa& sa);

    olab_host m_host;
    olab_config m_config;
    ReferenceSaTable m_sas;
    std::unordered_map<uint64_t, std::unique_ptr<Policy>> m_policies; //!< by handle
    /// Exact policies by selector, each list in lookup order; lookup probes the (at most eight)
    /// selectors that can match a flow.
    std::unordered_map<ExactKey, std::vector<const Policy*>, ExactKeyHash> m_exactPolicies;
    /// The others, per direction (in, out): by (source prefix length << 8 | destination prefix
    /// length), then by the masked addresses (whose family keeps IPv4 and IPv6 apart); each
    /// list in lookup order.
    std::map<uint16_t, std::unordered_map<MaskedKey, std::vector<const Policy*>, MaskedKeyHash>>
        m_prefixPolicies[2];
    uint64_t m_nextPolicyHandle{1};
    std::vector<uint8_t> m_frame;        //!< reused per packet
    std::vector<uint8_t> m_segments;     //!< GSO: the TCP bytes of every segment, back to back
    std::vector<uint32_t> m_segmentEnds; //!< GSO: where each segment ends in m_segments
    uint16_t m_identification{0};
};

} // namespace ns3

#endif // REFERENCE_OFFLOAD_ENGINE_H
