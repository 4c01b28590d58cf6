// The conformance suite's mutants: the reference device with exactly one defect each, as
// wrappers around it. `offloadlab certify --device mutant:NAME` must fail every one of them; a
// mutant the suite cannot catch marks a requirement that is not really tested. Nothing here is
// reachable from the reference's own code: a mutant changes what the reference is asked or what
// it answers, at the device ABI, as a vendor's buggy device would.
#ifndef MUTANT_DEVICE_H
#define MUTANT_DEVICE_H

#include "builtin-offload-device.h"

#include <map>
#include <memory>

namespace ns3
{

/// Forwards every call to the wrapped device and keeps what it was told (SAs and policies by
/// handle), for the defects to use. SA handles are its own, mapped to the wrapped device's, so a
/// defect may replace the wrapped device's SA behind a handle the host keeps.
class MutantDevice : public BuiltinOffloadDevice
{
  public:
    explicit MutantDevice(std::unique_ptr<BuiltinOffloadDevice> inner);

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
           uint32_t* dropReason) final;
    int Rx(uint8_t* buf,
           uint32_t* len,
           uint32_t cap,
           olab_rx_info* info,
           uint32_t* dropReason) final;

  protected:
    /// The arguments of one tx or rx call.
    struct TxCall
    {
        uint8_t* buf;
        uint32_t* len;
        uint32_t cap;
        const olab_tx_meta* meta;
        uint32_t mtu;
        uint32_t* dropReason;
    };

    struct RxCall
    {
        uint8_t* buf;
        uint32_t* len;
        uint32_t cap;
        olab_rx_info* info;
        uint32_t* dropReason;
    };

    /// What the mutant does with a packet to send, or one received: the wrapped device's by
    /// default. Forward hands a call on to the wrapped device.
    virtual int Transmit(const TxCall& call);
    virtual int Receive(const RxCall& call);
    int Forward(const TxCall& call);
    int Forward(const RxCall& call);

    /// The wrapped device's handle for one of ours (0 for a handle it never gave out).
    uint64_t Inner(uint64_t handle) const;
    /// The SA that encrypted an ESP packet tx just returned: the crypto-offload handle's, or the
    /// live outbound SA whose SPI and destination the packet carries; nullptr when none is known.
    const olab_sa* SaOfTx(const olab_tx_meta* meta, const uint8_t* ip, uint32_t length) const;

    /// Calls edit(ip, length, n, sa) for every packet tx just returned (OLAB_DONE): the one
    /// packet, or each segment n of a GSO super-packet (olab_tx_meta.gso_size), back to back
    /// by IPv4 total length; sa is the SA that sealed it, nullptr when none is known.
    template <typename Edit>
    void ForEachTxPacket(const TxCall& call, Edit edit) const
    {
        const olab_tx_meta* meta = call.meta;
        if (!meta || meta->gso_size == 0)
        {
            edit(call.buf, *call.len, 0u, SaOfTx(meta, call.buf, *call.len));
            return;
        }
        uint32_t offset = 0;
        for (uint32_t n = 0; offset + 20 <= *call.len; ++n)
        {
            uint8_t* ip = call.buf + offset;
            const uint32_t total = uint32_t(ip[2]) << 8 | ip[3];
            if (total < 20 || offset + total > *call.len)
            {
                return;
            }
            edit(ip, total, n, SaOfTx(meta->handle != 0 ? meta : nullptr, ip, total));
            offset += total;
        }
    }

    /// The live inbound SA of (daddr, spi), the newest if several; nullptr when none is known.
    const olab_sa* InboundSa(uint32_t daddr, uint32_t spi, uint64_t* handle) const;

    /// An SA as the device was told it.
    struct Known
    {
        olab_sa sa;
        uint64_t inner{0};   //!< the wrapped device's handle
        bool deleted{false}; //!< state_delete seen (the device may still finish its packets)
    };

    std::unique_ptr<BuiltinOffloadDevice> m_inner;
    std::map<uint64_t, Known> m_sas;            //!< by our handle (in creation order), until free
    std::map<uint64_t, olab_policy> m_policies; //!< by handle, until policy_delete
    uint64_t m_nextHandle{1};
};

} // namespace ns3

#endif // MUTANT_DEVICE_H
