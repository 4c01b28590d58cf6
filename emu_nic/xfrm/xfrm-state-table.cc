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
XfrmPolicyTable::IsExact(const XfrmSelector& sel)
{
    return sel.srcPrefix == 32 && sel.dstPrefix == 32;
}

void
XfrmPolicyTable::Add(Ptr<XfrmPolicy> policy)
{
    std::vector<Ptr<XfrmPolicy>>& list = IsExact(policy->GetConfig().sel) ? m_exact : m_inexact;
    auto at = list.begin();
    if (!policy->IsHardware())
    {
        // After the last policy that is not worse: equal priorities keep their age order.
        for (auto it = list.begin(); it != list.end(); ++it)
        {
            if (policy->GetConfig().priority >= (*it)->GetConfig().priority)
            {
                at = it + 1;
            }
        }
    }
    list.insert(at, policy);
}

bool
XfrmPolicyTable::Remove(Ptr<XfrmPolicy> policy)
{
    for (auto* list : {&m_exact, &m_inexact})
    {
        auto it = std::find(list->begin(), list->end(), policy);
        if (it != list->end())
        {
            list->erase(it);
            return true;
        }
    }
    return false;
}

Ptr<XfrmPolicy>
XfrmPolicyTable::Lookup(XfrmDir dir, const XfrmFlow& flow) const
{
    Ptr<XfrmPolicy> best;
    for (const auto& p : m_exact)
    {
        if (p->GetConfig().dir == dir && p->GetConfig().sel.Matches(flow))
        {
            best = p;
            break;
        }
    }
    // __xfrm_policy_eval_candidates: the walk stops at the first policy that is not better
    // than the exact match.
    for (const auto& p : m_inexact)
    {
        if (p->GetConfig().dir != dir)
        {
            continue;
        }
        if (best && p->GetConfig().priority >= best->GetConfig().priority)
        {
            break;
        }
        if (p->GetConfig().sel.Matches(flow))
        {
            return p;
        }
    }
    return best;
}

Ptr<XfrmPolicy>
XfrmPolicyTable::FindBySelector(XfrmDir dir, const XfrmSelector& sel) const
{
    for (const auto* list : {&m_exact, &m_inexact})
    {
        for (const auto& p : *list)
        {
            const XfrmSelector& s = p->GetConfig().sel;
            if (p->GetConfig().dir == dir && s.src == sel.src && s.srcPrefix == sel.srcPrefix &&
                s.dst == sel.dst && s.dstPrefix == sel.dstPrefix && s.proto == sel.proto &&
                s.sport == sel.sport && s.dport == sel.dport)
            {
                return p;
            }
        }
    }
    return nullptr;
}

std::vector<Ptr<XfrmPolicy>>
XfrmPolicyTable::GetAll() const
{
    std::vector<Ptr<XfrmPolicy>> all = m_exact;
    all.insert(all.end(), m_inexact.begin(), m_inexact.end());
    return all;
}

size_t
XfrmPolicyTable::GetN() const
{
    return m_exact.size() + m_inexact.size();
}

} // namespace ns3
