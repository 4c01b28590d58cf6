#include "reference-sa-table.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

ReferenceSaTable::ReferenceSaTable(uint32_t capacity)
    : m_slots(capacity),
      m_generations(capacity)
{
}

void
ReferenceSaTable::SetCapacity(uint32_t capacity)
{
    if (m_used == 0)
    {
        m_slots.clear();
        m_slots.resize(capacity);
        m_generations.resize(capacity); // generations only grow: old handles stay stale
        m_firstFree = 0;
    }
}

uint64_t
ReferenceSaTable::HandleOf(uint32_t index) const
{
    return uint64_t(m_generations[index]) << 32 | kValidBit | index;
}

uint32_t
ReferenceSaTable::IndexOf(uint64_t handle) const
{
    const uint64_t index = handle & (kValidBit - 1);
    if (!(handle & kValidBit) || index >= m_slots.size() || !m_slots[index] ||
        uint32_t(handle >> 32) != m_generations[index])
    {
        return UINT32_MAX;
    }
    return uint32_t(index);
}

bool
ReferenceSaTable::Key::operator==(const Key& other) const
{
    return id == other.id && daddr == other.daddr;
}

size_t
ReferenceSaTable::KeyHash::operator()(const Key& key) const
{
    return key.daddr.Hash() * 0x9e3779b97f4a7c15ull ^ key.id;
}

uint64_t
ReferenceSaTable::Insert(ReferenceSa&& sa, std::string* error)
{
    const bool rx = sa.dir == XfrmDir::In;
    auto taken = rx ? m_rxIndex.find(Key{sa.daddr, sa.spi}) : m_rxIndex.end();
    if (taken != m_rxIndex.end() && m_slots[taken->second]->deleted)
    {
        // Deleted, waiting for state_free: it left the datapath, so its (daddr, SPI) is free.
        m_rxIndex.erase(taken);
        taken = m_rxIndex.end();
    }
    if (taken != m_rxIndex.end())
    {
        if (error)
        {
            std::ostringstream os;
            os << "spi: 0x" << std::hex << sa.spi << std::dec << " to " << sa.daddr
               << " is already in the Rx table";
            *error = os.str();
        }
        return 0;
    }
    // The lowest free slot, as a scan from 0 would find it.
    for (uint32_t i = m_firstFree; i < m_slots.size(); ++i)
    {
        if (!m_slots[i])
        {
            m_slots[i] = std::make_unique<ReferenceSa>(std::move(sa));
            ++m_generations[i];
            const ReferenceSa& stored = *m_slots[i];
            if (rx)
            {
                m_rxIndex[Key{stored.daddr, stored.spi}] = i;
            }
            else
            {
                IndexSlot(&m_txByDaddr, Key{stored.daddr, 0}, i, true);
                IndexSlot(&m_txByReqid, Key{stored.daddr, stored.reqid}, i, true);
            }
            m_firstFree = i + 1;
            ++m_used;
            return HandleOf(i);
        }
    }
    m_firstFree = m_slots.size();
    if (error)
    {
        std::ostringstream os;
        os << "No space for SA in " << (rx ? "Rx" : "Tx") << " table (capacity " << m_slots.size()
           << ")";
        *error = os.str();
    }
    return 0;
}

ReferenceSa*
ReferenceSaTable::Get(uint64_t handle)
{
    const uint32_t index = IndexOf(handle);
    return index == UINT32_MAX ? nullptr : m_slots[index].get();
}

const ReferenceSa*
ReferenceSaTable::Get(uint64_t handle) const
{
    return const_cast<ReferenceSaTable*>(this)->Get(handle);
}

ReferenceSa*
ReferenceSaTable::FindRx(const XfrmAddress& daddr, uint32_t spi)
{
    auto it = m_rxIndex.find(Key{daddr, spi});
    if (it == m_rxIndex.end())
    {
        return nullptr;
    }
    ReferenceSa* sa = m_slots[it->second].get();
    return (sa && !sa->deleted) ? sa : nullptr;
}

void
ReferenceSaTable::Remove(uint64_t handle)
{
    const uint32_t index = IndexOf(handle);
    if (index == UINT32_MAX)
    {
        return; // never given out, or already freed: a stale handle touches nothing
    }
    const ReferenceSa* sa = m_slots[index].get();
    auto indexed = m_rxIndex.find(Key{sa->daddr, sa->spi});
    if (sa->dir == XfrmDir::In && indexed != m_rxIndex.end() && indexed->second == index)
    {
        m_rxIndex.erase(indexed); // only our own entry: a re-added SA may own the key now
    }
    if (sa->dir != XfrmDir::In)
    {
        IndexSlot(&m_txByDaddr, Key{sa->daddr, 0}, index, false);
        IndexSlot(&m_txByReqid, Key{sa->daddr, sa->reqid}, index, false);
    }
    m_slots[index].reset();
    m_firstFree = std::min(m_firstFree, index);
    --m_used;
}

void
ReferenceSaTable::IndexSlot(SlotIndex* index, const Key& key, uint32_t slot, bool add)
{
    std::vector<uint32_t>& slots = (*index)[key];
    auto at = std::lower_bound(slots.begin(), slots.end(), slot);
    if (add)
    {
        slots.insert(at, slot);
        return;
    }
    if (at != slots.end() && *at == slot)
    {
        slots.erase(at);
    }
    if (slots.empty())
    {
        index->erase(key);
    }
}

uint32_t
ReferenceSaTable::GetUsed() const
{
    return m_used;
}

uint32_t
ReferenceSaTable::GetCapacity() const
{
    return m_slots.size();
}

std::string
ReferenceSaTable::Dump() const
{
    std::ostringstream os;
    os << "SA count=" << m_used << " capacity=" << m_slots.size() << "\n";
    for (uint32_t i = 0; i < m_slots.size(); ++i)
    {
        const ReferenceSa* sa = m_slots[i].get();
        if (!sa)
        {
            continue;
        }
        os << "sa[" << i << "] " << XfrmDirName(sa->dir) << " " << XfrmOffloadTypeName(sa->type)
           << " " << XfrmModeName(sa->mode) << " spi=0x" << std::hex << sa->spi << std::dec << " "
           << sa->saddr << "->" << sa->daddr << " esn=" << sa->esn
           << " packets=" << sa->current.packets << " bytes=" << sa->current.bytes
           << (sa->deleted ? " deleted" : "") << "\n";
    }
    return os.str();
}

} // namespace ns3
