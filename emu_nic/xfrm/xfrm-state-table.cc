#include "xfrm-state-table.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

uint64_t
XfrmStateTable::Key(Ipv4Address daddr, uint32_t spi)
{
    return (uint64_t(daddr.Get()) << 32) | spi;
}

bool
XfrmStateTable::Add(Ptr<XfrmState> x, std::string* error)
{
    const auto& c = x->GetConfig();
    if (!m_states.emplace(Key(c.daddr, c.spi), x).second)
    {
        if (error)
        {
            std::ostringstream os;
            os << "spi: 0x" << std::hex << c.spi << std::dec << " to " << c.daddr
               << " already exists";
            *error = os.str();
        }
        return false;
    }
    return true;
}

Ptr<XfrmState>
XfrmStateTable::Find(Ipv4Address daddr, uint32_t spi) const
{
    auto it = m_states.find(Key(daddr, spi));
    return it == m_states.end() ? nullptr : it->second;
}

Ptr<XfrmState>
XfrmStateTable::Remove(Ipv4Address daddr, uint32_t spi)
{
    auto it = m_states.find(Key(daddr, spi));
    if (it == m_states.end())
    {
        return nullptr;
    }
    Ptr<XfrmState> x = it->second;
    m_states.erase(it);
    return x;
}

bool
XfrmStateTable::IsBetterOutbound(const XfrmState& candidate, const XfrmState* current)
{
    if (!current)
    {
        return true;
    }
    if (candidate.IsSoftExpired() != current->IsSoftExpired())
    {
        return !candidate.IsSoftExpired();
    }
    return candidate.GetSerial() > current->GetSerial();
}

Ptr<XfrmState>
XfrmStateTable::FindOutbound(const XfrmPolicy& policy, const XfrmFlow& flow) const
{
    Ptr<XfrmState> best;
    for (const auto& [key, x] : m_states)
    {
        if (x->IsHardExpired() || !policy.TemplateMatches(*x) || !x->GetConfig().sel.Matches(flow))
        {
            continue;
        }
        if (x->GetOffload().ops && x->GetOffload().dir == XfrmDir::In)
        {
            continue;
        }
        // Packet offload pairs only offloaded policies with offloaded states, on one device
        // (Linux's xfrm_state_find): a software policy never runs a packet-offloaded SA.
        if (x->IsOffloaded(XfrmOffloadType::Packet) != policy.IsHardware() ||
            (policy.IsHardware() && x->GetOffload().dev != policy.GetOffload().dev))
        {
            continue;
        }
        if (x->GetConfig().mode == XfrmMode::Transport && x->GetConfig().daddr != flow.dst)
        {
            continue;
        }
        if (IsBetterOutbound(*x, PeekPointer(best)))
        {
            best = x;
        }
    }
    return best;
}

std::vector<Ptr<XfrmState>>
XfrmStateTable::GetAll() const
{
    std::vector<Ptr<XfrmState>> all;
    all.reserve(m_states.size());
    for (const auto& [key, x] : m_states)
    {
        all.push_back(x);
    }
    std::sort(all.begin(), all.end(), [](const Ptr<XfrmState>& a, const Ptr<XfrmState>& b) {
        return a->GetSerial() < b->GetSerial();
    });
    return all;
}

size_t
XfrmStateTable::GetN() const
{
    return m_states.size();
}

bool
XfrmPolicyTable::Outranks(const XfrmPolicy& a, const XfrmPolicy& b)
{
    if (a.IsHardware() != b.IsHardware())
    {
        return a.IsHardware();
    }
    if (a.GetConfig().priority != b.GetConfig().priority)
    {
        return a.GetConfig().priority < b.GetConfig().priority;
    }
    return a.GetSerial() < b.GetSerial();
}

void
XfrmPolicyTable::Add(Ptr<XfrmPolicy> policy)
{
    auto at = std::upper_bound(
        m_policies.begin(),
        m_policies.end(),
        policy,
        [](const Ptr<XfrmPolicy>& a, const Ptr<XfrmPolicy>& b) { return Outranks(*a, *b); });
    m_policies.insert(at, policy);
}

bool
XfrmPolicyTable::Remove(Ptr<XfrmPolicy> policy)
{
    auto it = std::find(m_policies.begin(), m_policies.end(), policy);
    if (it == m_policies.end())
    {
        return false;
    }
    m_policies.erase(it);
    return true;
}

Ptr<XfrmPolicy>
XfrmPolicyTable::Lookup(XfrmDir dir, const XfrmFlow& flow) const
{
    for (const auto& p : m_policies)
    {
        if (p->GetConfig().dir == dir && p->GetConfig().sel.Matches(flow))
        {
            return p;
        }
    }
    return nullptr;
}

std::vector<Ptr<XfrmPolicy>>
XfrmPolicyTable::GetAll() const
{
    return m_policies;
}

size_t
XfrmPolicyTable::GetN() const
{
    return m_policies.size();
}

} // namespace ns3
