#ifndef XFRM_STATE_TABLE_H
#define XFRM_STATE_TABLE_H

#include "xfrm-policy.h"
#include "xfrm-state.h"

#include <array>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ns3
{

/// A table key of up to two addresses and a number (an SPI, a reqid): what Linux's state and
/// policy hashes mix, for either family.
struct XfrmTableKey
{
    XfrmAddress a;
    XfrmAddress b;
    uint32_t n{0};

    bool operator==(const XfrmTableKey& other) const;
    bool operator<(const XfrmTableKey& other) const;
};

struct XfrmTableKeyHash
{
    size_t operator()(const XfrmTableKey& key) const;
};

/**
 * The SAD: states by (daddr, SPI), and Linux's choice of the state that serves a policy.
 *
 * Besides the (daddr, SPI) hash (Linux's state_byspi), states are indexed by (daddr, reqid) and
 * by daddr (Linux's state_bydst), so FindOutbound looks only at the states a template can name:
 * its cost does not grow with the number of SAs to other peers or of other tunnels.
 */
class XfrmStateTable
{
  public:
    /// Adds a state; false (with the reason) if (daddr, spi) is taken.
    bool Add(Ptr<XfrmState> x, std::string* error);
    Ptr<XfrmState> Find(const XfrmAddress& daddr, uint32_t spi) const;
    Ptr<XfrmState> Remove(const XfrmAddress& daddr, uint32_t spi);
    /// The state that protects a flow under this policy: the template must match and the state
    /// must not be hard-expired, its selector must match the flow, and a packet-offloaded state
    /// serves only an offloaded policy of its device; prefer one that is not dying, then the newest
    /// (Linux's xfrm_state_look_at), so a rekeyed SA takes over before the old one is deleted.
    Ptr<XfrmState> FindOutbound(const XfrmPolicy& policy, const XfrmFlow& flow) const;
    std::vector<Ptr<XfrmState>> GetAll() const; //!< in creation order
    size_t GetN() const;

    /// True when candidate should be preferred over current for outbound traffic.
    static bool IsBetterOutbound(const XfrmState& candidate, const XfrmState* current);

  private:
    using Bucket = std::vector<Ptr<XfrmState>>;
    using Index = std::unordered_map<XfrmTableKey, Bucket, XfrmTableKeyHash>;
    static XfrmTableKey Key(const XfrmAddress& daddr, uint32_t n = 0);
    static void Unlink(Index* index, const XfrmTableKey& key, const Ptr<XfrmState>& x);
    /// Whether x may serve policy for flow (everything FindOutbound asks but the preference).
    static bool CanServe(const XfrmState& x, const XfrmPolicy& policy, const XfrmFlow& flow);

    std::unordered_map<XfrmTableKey, Ptr<XfrmState>, XfrmTableKeyHash> m_states; //!< (daddr, spi)
    Index m_byReqid; //!< by (daddr, reqid)
    Index m_byDaddr; //!< by daddr
};

/**
 * The SPD: ordered policies per direction; hardware policies outrank software ones.
 *
 * As Linux keeps them: exact policies (both prefixes the family's longest) in a hash by (direction,
 * source, destination), one chain per pair (Linux's policy_bydst chains, without collisions); the
 * others in one list per direction (the inexact list). Both are indexed so that lookup cost does
 * not grow with the number of policies: a chain by (protocol, source port, destination port), so
 * the first matching policy takes at most eight probes; the inexact list by prefix lengths and
 * masked addresses (one probe per pair of prefix lengths in use), with the highest priority
 * value up to each entry, which is all the walk's stopping rule needs.
 */
class XfrmPolicyTable
{
  public:
    /// Linux's xfrm_policy_insert_list: a policy joins the list of its kind (exact: both
    /// prefixes /32, in the chain of its direction and addresses; else the prefix list of its
    /// direction). A packet-offload policy enters at the head of its list; a software one right
    /// after the last policy whose priority value is not above its own, or at the head when
    /// there is none.
    void Add(Ptr<XfrmPolicy> policy);
    bool Remove(Ptr<XfrmPolicy> policy);
    /// Linux's xfrm_policy_lookup_bytype: the first match of the exact chain, unless the prefix
    /// list has a match of strictly better priority before a policy that is not better.
    Ptr<XfrmPolicy> Lookup(XfrmDir dir, const XfrmFlow& flow) const;
    /// The policy with exactly this selector and direction (xfrm_policy_bysel_ctx), if any.
    Ptr<XfrmPolicy> FindBySelector(XfrmDir dir, const XfrmSelector& sel) const;
    /// Exact policies then prefix policies; each by direction (in, out, fwd), exact chains by
    /// (source, destination), each chain and list in lookup order.
    std::vector<Ptr<XfrmPolicy>> GetAll() const;
    size_t GetN() const;
    /// Whether a selector goes to the exact list (Linux's default hash thresholds: 32/32 for
    /// IPv4, 128/128 for IPv6).
    static bool IsExact(const XfrmSelector& sel);

  private:
    /// A policy in its list and its place there: labels grow along the list.
    struct Entry
    {
        Ptr<XfrmPolicy> policy;
        uint64_t label{0};
        uint32_t maxPriority{0}; //!< inexact list: the highest priority value up to here
    };

    /// The exact policies of one (direction, source, destination).
    struct ExactChain
    {
        std::vector<std::unique_ptr<Entry>> order; //!< lookup order
        /// By (protocol, source port, destination port): the entries of that selector, in
        /// lookup order.
        std::unordered_map<uint64_t, std::vector<Entry*>> bySelector;
        /// Labels entries so that they grow along the chain after inserting at index at.
        void Label(size_t at);
    };

    /// The inexact policies of one direction.
    struct PrefixList
    {
        std::vector<std::unique_ptr<Entry>> order; //!< lookup order
        /// By (source prefix length << 8 | destination prefix length), then by the masked
        /// addresses: the entries, in lookup order.
        std::map<uint16_t, std::unordered_map<XfrmTableKey, std::vector<Entry*>, XfrmTableKeyHash>>
            byPrefix;
        /// Labels are positions; recomputes them and the running priority maxima.
        void Renumber();
        std::vector<Entry*>& BucketOf(const XfrmSelector& sel);
    };

    static constexpr size_t kDirs = 3; //!< in, out, fwd
    static size_t DirIndex(XfrmDir dir);
    static XfrmTableKey AddressKey(const XfrmAddress& src, const XfrmAddress& dst);
    static uint64_t SelectorKey(uint8_t proto, uint16_t sport, uint16_t dport);
    /// The inexact list's bucket of a pair of prefix lengths for these addresses.
    static XfrmTableKey MaskedKey(const XfrmAddress& src,
                                  uint8_t srcPrefix,
                                  const XfrmAddress& dst,
                                  uint8_t dstPrefix);
    static bool SameSelector(const XfrmSelector& a, const XfrmSelector& b);
    /// Where Linux's xfrm_policy_insert_list puts policy in a list of entries.
    static size_t InsertPosition(const std::vector<std::unique_ptr<Entry>>& list,
                                 const XfrmPolicy& policy);
    /// Puts added into bucket, which is in lookup order (by label).
    static void InsertByLabel(std::vector<Entry*>* bucket, Entry* added);

    /// Per direction: exact chains by (source, destination).
    std::array<std::unordered_map<XfrmTableKey, ExactChain, XfrmTableKeyHash>, kDirs> m_exact;
    std::array<PrefixList, kDirs> m_inexact;
    size_t m_n{0};
};

} // namespace ns3

#endif // XFRM_STATE_TABLE_H
