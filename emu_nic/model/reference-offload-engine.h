#ifndef REFERENCE_OFFLOAD_ENGINE_H
#define REFERENCE_OFFLOAD_ENGINE_H

#include "emu-nic-sa-table.h"
#include "offloadlab-device.h"
#include "reference-engine-mutants.h"
#include "xfrm-selector.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ns3
{

/**
 * The reference NIC's offload logic behind the device ABI (offloadlab-device.h): what a vendor
 * would put in silicon and firmware. It sees only what the ABI gives it (C structs, raw IPv4
 * bytes, the host's two callbacks), so it is certified exactly like a vendor's device.
 *
 * Crypto offload: TX writes IV, ciphertext and ICV into a frame the stack built (and the inner
 * checksum under HW_ESP_TX_CSUM); RX decrypts in place and reports CRYPTO_DONE + status. Packet
 * offload: the engine holds states and policies, adds and removes ESP itself, keeps sequence
 * numbers, replay windows, ESN and lifetimes, drops fragments and does the PMTU check.
 *
 * A defect other than None makes it one of the conformance suite's mutants.
 */
class ReferenceOffloadEngine
{
  public:
    ReferenceOffloadEngine(const olab_host& host, const olab_config& config, EngineDefect defect);

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason);
    void StateDelete(uint64_t handle);
    void StateFree(uint64_t handle);
    bool OffloadOk(uint64_t handle, const uint8_t* ipHeader, uint32_t headerLength) const;
    void StateAdvanceEsn(uint64_t handle, uint64_t replayTop);
    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats);
    int PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason);
    void PolicyDelete(uint64_t handle);
    void PolicyFree(uint64_t handle);
    int Tx(uint8_t* buf, uint32_t* len, uint32_t cap, const olab_tx_meta* meta, uint32_t mtu,
           uint32_t* dropReason);
    int Rx(uint8_t* buf, uint32_t* len, uint32_t cap, olab_rx_info* info, uint32_t* dropReason);

    // Inspection, for the reference's own tests (a vendor device has none of this).
    const EmuNicSaTable& GetSaTable() const;
    const EmuNicSa* GetSa(uint64_t handle) const;
    uint32_t GetPolicyCount() const;
    std::string Dump() const;

    /// The built-in devices' ABI tables: the reference, and one per mutant.
    static const olab_device_ops& GetOps(EngineDefect defect);
    static const olab_capabilities& GetCapabilities();

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
        Ipv4Address tmplSaddr;
        Ipv4Address tmplDaddr;
        uint32_t tmplReqid{0};
        bool TemplateMatches(const EmuNicSa& sa) const;
    };

    int CryptoTx(uint8_t* buf, uint32_t* len, const olab_tx_meta& meta, uint32_t* dropReason);
    int PacketOffloadTx(uint8_t* buf, uint32_t* len, uint32_t cap, uint32_t mtu,
                        uint32_t* dropReason);
    int CryptoRx(EmuNicSa& sa, uint8_t* buf, uint32_t len, uint32_t ihl, olab_rx_info* info);
    int PacketOffloadRx(EmuNicSa& sa, uint8_t* buf, uint32_t* len, uint32_t ihl, olab_rx_info* info,
                        uint32_t* dropReason);
    const Policy* LookupPolicy(XfrmDir dir, const XfrmFlow& flow) const;
    EmuNicSa* SelectTxState(const Policy& policy, const XfrmFlow& flow);
    uint32_t InnerMtu(const EmuNicSa& sa, uint32_t headerLength, uint32_t mtu) const;
    /// Soft/hard limits, checked before a packet is counted; false when past the hard limit.
    bool CheckLifetime(EmuNicSa& sa);
    void MaybeCorruptIcv(uint8_t* frameEnd);
    bool Has(EngineDefect defect) const;

    olab_host m_host;
    olab_config m_config;
    EngineDefect m_defect;
    EmuNicSaTable m_sas;
    std::vector<Policy> m_policies; //!< in lookup order: priority, then age
    uint64_t m_nextPolicyHandle{1};
    std::vector<uint8_t> m_frame; //!< reused per packet
    uint16_t m_identification{0};
    uint64_t m_sealed{0}; //!< packets encrypted, for the bad-icv-1-in-64 mutant
};

} // namespace ns3

#endif // REFERENCE_OFFLOAD_ENGINE_H
