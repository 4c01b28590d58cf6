#include "reference-sa-table.h"

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

uint64_t
ReferenceSaTable::RxKey(Ipv4Address daddr, uint32_t spi)
{
    return (uint64_t(daddr.Get()) << 32) | spi;
}

uint64_t
ReferenceSaTable::Insert(ReferenceSa&& sa, std::string* error)
{
    const bool rx = sa.dir == XfrmDir::In;
    auto taken = rx ? m_rxIndex.find(RxKey(sa.daddr, sa.spi)) : m_rxIndex.end();
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
    for (uint32_t i = 0; i < m_slots.size(); ++i)
    {
        if (!m_slots[i])
        {
            m_slots[i] = std::make_unique<ReferenceSa>(std::move(sa));
            ++m_generations[i];
            if (rx)
            {
                m_rxIndex[RxKey(m_slots[i]->daddr, m_slots[i]->spi)] = i;
            }
            ++m_used;
            return HandleOf(i);
        }
    }
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
ReferenceSaTable::FindRx(Ipv4Address daddr, uint32_t spi)
{
    auto it = m_rxIndex.find(RxKey(daddr, spi));
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
    auto indexed = m_rxIndex.find(RxKey(sa->daddr, sa->spi));
    if (sa->dir == XfrmDir::In && indexed != m_rxIndex.end() && indexed->second == index)
    {
        m_rxIndex.erase(indexed); // only our own entry: a re-added SA may own the key now
    }
    m_slots[index].reset();
    --m_used;
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
