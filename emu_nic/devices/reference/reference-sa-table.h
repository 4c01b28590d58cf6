#ifndef REFERENCE_SA_TABLE_H
#define REFERENCE_SA_TABLE_H

#include "esp-transform.h"
#include "replay-window.h"
#include "xfrm-state.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ns3
{

/// One SA as the reference NIC holds it: a validated copy of what the stack asked for, plus
/// the device's own crypto context, sequence counter, replay window and counters.
struct ReferenceSa
{
    uint64_t hostId{0}; //!< the host's name for the SA, given back in check_expire
    uint64_t serial{0}; //!< creation order: the newest SA of a policy is preferred
    XfrmSelector sel;
    XfrmDir dir{XfrmDir::Out};
    XfrmOffloadType type{XfrmOffloadType::Crypto};
    XfrmAddress saddr; //!< the outer addresses, of the SA's family (IPv4 or IPv6)
    XfrmAddress daddr;
    uint32_t spi{0};
    XfrmMode mode{XfrmMode::Transport};
    uint32_t reqid{0};
    bool esn{false};
    XfrmLifetimeConfig lifetime;
    XfrmEncap encap; //!< ESP-in-UDP (packet offload only)
    std::unique_ptr<EspTransform> transform;
    /// Packet offload: the replay window. Crypto offload: only the ESN state machine that
    /// StateAdvanceEsn keeps in step with the stack's window.
    ReplayWindow replay;
    uint64_t lastSeq{0};
    XfrmLifetimeCurrent current;
    XfrmStateStats stats;
    bool softNotified{false};
    bool hardNotified{false};
    bool deleted{false}; //!< StateDelete seen; the slot is released by StateFree
    uint64_t advanceEsnCalls{0};
};

/**
 * A fixed-capacity SA table owned by the device (netdevsim's model): slots are found by an
 * offload handle that carries a valid bit, RX entries by (daddr, SPI), and TX entries by daddr
 * and by (daddr, reqid), so that neither the receive nor the transmit path looks at every SA.
 * The handle's high 32 bits are the slot's generation, so that a handle kept past Remove never
 * names the SA that reuses the slot (the vendor guide's stale-handle rule).
 */
class ReferenceSaTable
{
  public:
    static constexpr uint64_t kValidBit = 1ull << 31;

    explicit ReferenceSaTable(uint32_t capacity = 64);
    void SetCapacity(uint32_t capacity); //!< only while empty

    /// Stores sa; returns its handle, or 0 with a message when the table is full or the RX
    /// (daddr, spi) is taken.
    uint64_t Insert(ReferenceSa&& sa, std::string* error);
    ReferenceSa* Get(uint64_t handle);
    const ReferenceSa* Get(uint64_t handle) const;
    ReferenceSa* FindRx(const XfrmAddress& daddr, uint32_t spi);
    void Remove(uint64_t handle);

    /// Calls visit(handle, sa) for every entry not yet freed, in slot order; no allocation.
    template <typename Visit>
    void ForEach(Visit&& visit)
    {
        for (uint32_t i = 0; i < m_slots.size(); ++i)
        {
            if (m_slots[i])
            {
                visit(HandleOf(i), *m_slots[i]);
            }
        }
    }

    /// Calls visit(handle, sa) for every TX entry not yet freed whose daddr is daddr and, unless
    /// reqid is 0, whose reqid is reqid; in slot order, as ForEach would meet them.
    template <typename Visit>
    void ForEachTx(const XfrmAddress& daddr, uint32_t reqid, Visit&& visit)
    {
        const auto& index = reqid != 0 ? m_txByReqid : m_txByDaddr;
        auto bucket = index.find(Key{daddr, reqid});
        if (bucket == index.end())
        {
            return;
        }
        for (uint32_t i : bucket->second)
        {
            visit(HandleOf(i), *m_slots[i]);
        }
    }

    uint32_t GetUsed() const;
    uint32_t GetCapacity() const;
    /// A readable dump of the table, like netdevsim's debugfs "ipsec" file.
    std::string Dump() const;

  private:
    /// An address of either family and a 32-bit id (SPI, reqid, or 0) as one hash key.
    struct Key
    {
        XfrmAddress daddr;
        uint32_t id;
        bool operator==(const Key& other) const;
    };

    struct KeyHash
    {
        size_t operator()(const Key& key) const;
    };

    using SlotIndex = std::unordered_map<Key, std::vector<uint32_t>, KeyHash>;
    uint64_t HandleOf(uint32_t index) const;
    /// The slot a handle names while its generation is current; UINT32_MAX otherwise.
    uint32_t IndexOf(uint64_t handle) const;
    /// Adds or removes slot index in the bucket of key, keeping the bucket in slot order.
    static void IndexSlot(SlotIndex* index, const Key& key, uint32_t slot, bool add);
    std::vector<std::unique_ptr<ReferenceSa>> m_slots;
    std::vector<uint32_t> m_generations; //!< per slot, counted up by every Insert into it
    std::unordered_map<Key, uint32_t, KeyHash> m_rxIndex; //!< by (daddr, SPI)
    SlotIndex m_txByDaddr;                                //!< by (daddr, 0): slots, in order
    SlotIndex m_txByReqid;                                //!< by (daddr, reqid)
    uint32_t m_firstFree{0};                              //!< no free slot below it
    uint32_t m_used{0};
};

} // namespace ns3

#endif // REFERENCE_SA_TABLE_H
