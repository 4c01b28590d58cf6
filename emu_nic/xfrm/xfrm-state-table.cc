#include "xfrm-state-table.h"

#include <algorithm>
#include <sstream>

namespace ns3
{

bool
XfrmTableKey::operator==(const XfrmTableKey& other) const
{
    return n == other.n && a == other.a && b == other.b;
}

bool
XfrmTableKey::operator<(const XfrmTableKey& other) const
{
    return a != other.a ? a < other.a : b != other.b ? b < other.b : n < other.n;
}

size_t
XfrmTableKeyHash::operator()(const XfrmTableKey& key) const
{
    return key.a.Hash() ^ (key.b.Hash() * 0x9e3779b97f4a7c15ull) ^
           (uint64_t(key.n) * 0xc2b2ae3d27d4eb4full);
}

// ---- SAD ----

XfrmTableKey
XfrmStateTable::Key(const XfrmAddress& daddr, uint32_t n)
{
    return XfrmTableKey{daddr, XfrmAddress(), n};
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
    m_byReqid[Key(c.daddr, c.reqid)].push_back(x);
    m_byDaddr[Key(c.daddr)].push_back(x);
    return true;
}

Ptr<XfrmState>
XfrmStateTable::Find(const XfrmAddress& daddr, uint32_t spi) const
{
    auto it = m_states.find(Key(daddr, spi));
    return it == m_states.end() ? nullptr : it->second;
}

void
XfrmStateTable::Unlink(Index* index, const XfrmTableKey& key, const Ptr<XfrmState>& x)
{
    auto bucket = index->find(key);
    if (bucket == index->end())
    {
        return;
    }
    Bucket& states = bucket->second;
    states.erase(std::remove(states.begin(), states.end(), x), states.end());
    if (states.empty())
    {
        index->erase(bucket);
    }
}

Ptr<XfrmState>
XfrmStateTable::Remove(const XfrmAddress& daddr, uint32_t spi)
{
    auto it = m_states.find(Key(daddr, spi));
    if (it == m_states.end())
    {
        return nullptr;
    }
    Ptr<XfrmState> x = it->second;
    m_states.erase(it);
    Unlink(&m_byReqid, Key(daddr, x->GetConfig().reqid), x);
    Unlink(&m_byDaddr, Key(daddr), x);
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

bool
XfrmStateTable::CanServe(const XfrmState& x, const XfrmPolicy& policy, const XfrmFlow& flow)
{
    if (x.IsHardExpired() || !policy.TemplateMatches(x) || !x.GetConfig().sel.Matches(flow))
    {
        return false;
    }
    if (x.GetOffload().ops && x.GetOffload().dir == XfrmDir::In)
    {
        return false;
    }
    // Packet offload pairs only offloaded policies with offloaded states, on one device
    // (Linux's xfrm_state_find): a software policy never runs a packet-offloaded SA.
    if (x.IsOffloaded(XfrmOffloadType::Packet) != policy.IsHardware() ||
        (policy.IsHardware() && x.GetOffload().dev != policy.GetOffload().dev))
    {
        return false;
    }
    return x.GetConfig().mode != XfrmMode::Transport || x.GetConfig().daddr == flow.dst;
}

Ptr<XfrmState>
XfrmStateTable::FindOutbound(const XfrmPolicy& policy, const XfrmFlow& flow) const
{
    const XfrmPolicyConfig& config = policy.GetConfig();
    if (!config.hasTemplate)
    {
        return nullptr;
    }
    // Only states to one address can serve: the tunnel's far end, or the flow's destination
    // in transport mode. The narrowest index the template allows gives the candidates.
    const XfrmTemplate& t = config.tmpl;
    const XfrmAddress daddr = t.mode == XfrmMode::Tunnel ? t.daddr : flow.dst;
    if (t.spi != 0)
    {
        Ptr<XfrmState> x = Find(daddr, t.spi);
        return x && CanServe(*x, policy, flow) ? x : nullptr;
    }
    const auto& index = t.reqid != 0 ? m_byReqid : m_byDaddr;
    auto bucket = index.find(Key(daddr, t.reqid)); // reqid 0: the daddr index
    if (bucket == index.end())
    {
        return nullptr;
    }
    // The preference is a total order (serials are unique), so the bucket's order is irrelevant.
    Ptr<XfrmState> best;
    for (const Ptr<XfrmState>& x : bucket->second)
    {
        if (CanServe(*x, policy, flow) && IsBetterOutbound(*x, PeekPointer(best)))
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

// ---- SPD ----

namespace
{
/// Room between neighbouring labels of an exact chain: inserts between two entries halve it.
constexpr uint64_t kLabelGap = 1ull << 20;
constexpr uint64_t kFirstLabel = 1ull << 63;
} // namespace

bool
XfrmPolicyTable::IsExact(const XfrmSelector& sel)
{
    return sel.srcPrefix == sel.src.GetMaxPrefixLength() &&
           sel.dstPrefix == sel.dst.GetMaxPrefixLength();
}

size_t
XfrmPolicyTable::DirIndex(XfrmDir dir)
{
    return size_t(dir);
}

XfrmTableKey
XfrmPolicyTable::AddressKey(const XfrmAddress& src, const XfrmAddress& dst)
{
    return XfrmTableKey{src, dst, 0};
}

uint64_t
XfrmPolicyTable::SelectorKey(uint8_t proto, uint16_t sport, uint16_t dport)
{
    return (uint64_t(proto) << 32) | (uint64_t(sport) << 16) | dport;
}

XfrmTableKey
XfrmPolicyTable::MaskedKey(const XfrmAddress& src,
                           uint8_t srcPrefix,
                           const XfrmAddress& dst,
                           uint8_t dstPrefix)
{
    return XfrmTableKey{src.Masked(srcPrefix), dst.Masked(dstPrefix), 0};
}

bool
XfrmPolicyTable::SameSelector(const XfrmSelector& a, const XfrmSelector& b)
{
    return a.src == b.src && a.srcPrefix == b.srcPrefix && a.dst == b.dst &&
           a.dstPrefix == b.dstPrefix && a.proto == b.proto && a.sport == b.sport &&
           a.dport == b.dport;
}

size_t
XfrmPolicyTable::InsertPosition(const std::vector<std::unique_ptr<Entry>>& list,
                                const XfrmPolicy& policy)
{
    if (policy.IsHardware())
    {
        return 0; // packet-offload policies enter at the head, to speed up lookups
    }
    // After the last policy that is not worse: equal priorities keep their age order. Linux
    // walks the whole list, not only a sorted prefix, since hardware policies break the order.
    size_t at = 0;
    for (size_t i = 0; i < list.size(); ++i)
    {
        if (policy.GetConfig().priority >= list[i]->policy->GetConfig().priority)
        {
            at = i + 1;
        }
    }
    return at;
}

void
XfrmPolicyTable::InsertByLabel(std::vector<Entry*>* bucket, Entry* added)
{
    auto before = std::find_if(bucket->begin(), bucket->end(), [added](const Entry* e) {
        return e->label > added->label;
    });
    bucket->insert(before, added);
}

void
XfrmPolicyTable::ExactChain::Label(size_t at)
{
    const size_t n = order.size();
    uint64_t& label = order[at]->label;
    if (n == 1)
    {
        label = kFirstLabel;
        return;
    }
    const bool head = at == 0;
    const bool tail = at + 1 == n;
    if (head && order[1]->label > kLabelGap)
    {
        label = order[1]->label - kLabelGap;
        return;
    }
    if (tail && order[at - 1]->label < UINT64_MAX - kLabelGap)
    {
        label = order[at - 1]->label + kLabelGap;
        return;
    }
    if (!head && !tail && order[at + 1]->label - order[at - 1]->label >= 2)
    {
        label = order[at - 1]->label + (order[at + 1]->label - order[at - 1]->label) / 2;
        return;
    }
    // No room left: spread the whole chain out again (rare; the order itself is unchanged).
    for (size_t i = 0; i < n; ++i)
    {
        order[i]->label = (1ull << 62) + i * kLabelGap;
    }
}

void
XfrmPolicyTable::PrefixList::Renumber()
{
    uint32_t max = 0;
    for (size_t i = 0; i < order.size(); ++i)
    {
        max = std::max(max, order[i]->policy->GetConfig().priority);
        order[i]->label = i;
        order[i]->maxPriority = max;
    }
}

std::vector<XfrmPolicyTable::Entry*>&
XfrmPolicyTable::PrefixList::BucketOf(const XfrmSelector& sel)
{
    auto& buckets = byPrefix[uint16_t(sel.srcPrefix << 8 | sel.dstPrefix)];
    return buckets[MaskedKey(sel.src, sel.srcPrefix, sel.dst, sel.dstPrefix)];
}

void
XfrmPolicyTable::Add(Ptr<XfrmPolicy> policy)
{
    const XfrmPolicyConfig& c = policy->GetConfig();
    const size_t d = DirIndex(c.dir);
    auto entry = std::make_unique<Entry>();
    entry->policy = policy;
    Entry* added = entry.get();
    ++m_n;
    if (!IsExact(c.sel))
    {
        PrefixList& list = m_inexact[d];
        const size_t at = InsertPosition(list.order, *policy);
        list.order.insert(list.order.begin() + at, std::move(entry));
        list.Renumber();
        InsertByLabel(&list.BucketOf(c.sel), added);
        return;
    }
    ExactChain& chain = m_exact[d][AddressKey(c.sel.src, c.sel.dst)];
    const size_t at = InsertPosition(chain.order, *policy);
    chain.order.insert(chain.order.begin() + at, std::move(entry));
    chain.Label(at);
    InsertByLabel(&chain.bySelector[SelectorKey(c.sel.proto, c.sel.sport, c.sel.dport)], added);
}

bool
XfrmPolicyTable::Remove(Ptr<XfrmPolicy> policy)
{
    const XfrmPolicyConfig& c = policy->GetConfig();
    const size_t d = DirIndex(c.dir);
    auto same = [&policy](const std::unique_ptr<Entry>& e) { return e->policy == policy; };
    if (!IsExact(c.sel))
    {
        PrefixList& list = m_inexact[d];
        auto it = std::find_if(list.order.begin(), list.order.end(), same);
        if (it == list.order.end())
        {
            return false;
        }
        const uint16_t lengths = uint16_t(c.sel.srcPrefix << 8 | c.sel.dstPrefix);
        std::vector<Entry*>& bucket = list.BucketOf(c.sel);
        bucket.erase(std::find(bucket.begin(), bucket.end(), it->get()));
        if (bucket.empty())
        {
            auto& buckets = list.byPrefix[lengths];
            buckets.erase(MaskedKey(c.sel.src, c.sel.srcPrefix, c.sel.dst, c.sel.dstPrefix));
            if (buckets.empty())
            {
                list.byPrefix.erase(lengths);
            }
        }
        list.order.erase(it);
        list.Renumber();
        --m_n;
        return true;
    }
    auto chainIt = m_exact[d].find(AddressKey(c.sel.src, c.sel.dst));
    if (chainIt == m_exact[d].end())
    {
        return false;
    }
    ExactChain& chain = chainIt->second;
    auto it = std::find_if(chain.order.begin(), chain.order.end(), same);
    if (it == chain.order.end())
    {
        return false;
    }
    auto bucket = chain.bySelector.find(SelectorKey(c.sel.proto, c.sel.sport, c.sel.dport));
    bucket->second.erase(std::find(bucket->second.begin(), bucket->second.end(), it->get()));
    if (bucket->second.empty())
    {
        chain.bySelector.erase(bucket);
    }
    chain.order.erase(it);
    if (chain.order.empty())
    {
        m_exact[d].erase(chainIt);
    }
    --m_n;
    return true;
}

Ptr<XfrmPolicy>
XfrmPolicyTable::Lookup(XfrmDir dir, const XfrmFlow& flow) const
{
    const size_t d = DirIndex(dir);
    Ptr<XfrmPolicy> best;
    const auto& chains = m_exact[d];
    auto chainIt = chains.empty() ? chains.end() : chains.find(AddressKey(flow.src, flow.dst));
    if (chainIt != chains.end())
    {
        const ExactChain& chain = chainIt->second;
        // Every policy of the chain matches the addresses; a selector matches the rest when
        // each of protocol and ports is the flow's or 0 (any). Probe those selectors only.
        const Entry* first = nullptr;
        const uint8_t protos[] = {flow.proto, 0};
        const uint16_t sports[] = {flow.sport, 0};
        const uint16_t dports[] = {flow.dport, 0};
        for (size_t p = 0; p < (flow.proto ? 2 : 1); ++p)
        {
            for (size_t s = 0; s < (flow.sport ? 2 : 1); ++s)
            {
                for (size_t t = 0; t < (flow.dport ? 2 : 1); ++t)
                {
                    auto bucket =
                        chain.bySelector.find(SelectorKey(protos[p], sports[s], dports[t]));
                    if (bucket != chain.bySelector.end() &&
                        (!first || bucket->second.front()->label < first->label))
                    {
                        first = bucket->second.front();
                    }
                }
            }
        }
        if (first)
        {
            best = first->policy;
        }
    }
    // The prefix list's walk (__xfrm_policy_eval_candidates) returns its first match, unless it
    // met a policy that is not better than the exact match before or at it. So: the first
    // match, from the buckets its prefix lengths and the flow's addresses name, then the
    // highest priority value up to it.
    const PrefixList& list = m_inexact[d];
    const Entry* match = nullptr;
    for (const auto& [lengths, buckets] : list.byPrefix)
    {
        auto bucket = buckets.find(
            MaskedKey(flow.src, uint8_t(lengths >> 8), flow.dst, uint8_t(lengths & 0xff)));
        if (bucket == buckets.end())
        {
            continue;
        }
        for (const Entry* e : bucket->second)
        {
            if (match && e->label > match->label)
            {
                break; // in lookup order: nothing earlier is left in this bucket
            }
            if (e->policy->GetConfig().sel.Matches(flow))
            {
                match = e;
                break;
            }
        }
    }
    if (match && (!best || match->maxPriority < best->GetConfig().priority))
    {
        return match->policy;
    }
    return best;
}

Ptr<XfrmPolicy>
XfrmPolicyTable::FindBySelector(XfrmDir dir, const XfrmSelector& sel) const
{
    const size_t d = DirIndex(dir);
    if (IsExact(sel))
    {
        auto chainIt = m_exact[d].find(AddressKey(sel.src, sel.dst));
        if (chainIt == m_exact[d].end())
        {
            return nullptr;
        }
        const auto& bySelector = chainIt->second.bySelector;
        auto bucket = bySelector.find(SelectorKey(sel.proto, sel.sport, sel.dport));
        return bucket == bySelector.end() ? nullptr : bucket->second.front()->policy;
    }
    const PrefixList& list = m_inexact[d];
    auto buckets = list.byPrefix.find(uint16_t(sel.srcPrefix << 8 | sel.dstPrefix));
    if (buckets == list.byPrefix.end())
    {
        return nullptr;
    }
    auto bucket = buckets->second.find(MaskedKey(sel.src, sel.srcPrefix, sel.dst, sel.dstPrefix));
    if (bucket == buckets->second.end())
    {
        return nullptr;
    }
    for (const Entry* e : bucket->second)
    {
        if (SameSelector(e->policy->GetConfig().sel, sel))
        {
            return e->policy;
        }
    }
    return nullptr;
}

std::vector<Ptr<XfrmPolicy>>
XfrmPolicyTable::GetAll() const
{
    std::vector<Ptr<XfrmPolicy>> all;
    all.reserve(m_n);
    for (const auto& chains : m_exact)
    {
        std::vector<XfrmTableKey> keys;
        keys.reserve(chains.size());
        for (const auto& [key, chain] : chains)
        {
            keys.push_back(key);
        }
        std::sort(keys.begin(), keys.end());
        for (const XfrmTableKey& key : keys)
        {
            for (const auto& e : chains.at(key).order)
            {
                all.push_back(e->policy);
            }
        }
    }
    for (const auto& list : m_inexact)
    {
        for (const auto& e : list.order)
        {
            all.push_back(e->policy);
        }
    }
    return all;
}

size_t
XfrmPolicyTable::GetN() const
{
    return m_n;
}

} // namespace ns3
