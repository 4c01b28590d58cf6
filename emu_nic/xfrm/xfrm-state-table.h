#ifndef XFRM_STATE_TABLE_H
#define XFRM_STATE_TABLE_H

#include "xfrm-policy.h"
#include "xfrm-state.h"

#include <unordered_map>
#include <vector>

namespace ns3
{

/// The SAD: states by (daddr, SPI), and Linux's choice of the state that serves a policy.
class XfrmStateTable
{
  public:
    /// Adds a state; false (with the reason) if (daddr, spi) is taken.
    bool Add(Ptr<XfrmState> x, std::string* error);
    Ptr<XfrmState> Find(Ipv4Address daddr, uint32_t spi) const;
    Ptr<XfrmState> Remove(Ipv4Address daddr, uint32_t spi);
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
    static uint64_t Key(Ipv4Address daddr, uint32_t spi);
    std::unordered_map<uint64_t, Ptr<XfrmState>> m_states;
};

/// The SPD: ordered policies per direction; hardware policies outrank software ones.
class XfrmPolicyTable
{
  public:
    /// Linux's xfrm_policy_insert_list: a policy joins the list of its kind (exact: both
    /// prefixes /32, else by prefix). A packet-offload policy enters at the head of its list;
    /// a software one right after the last policy whose priority value is not above its own,
    /// or at the head when there is none.
    void Add(Ptr<XfrmPolicy> policy);
    bool Remove(Ptr<XfrmPolicy> policy);
    /// Linux's xfrm_policy_lookup_bytype: the first match of the exact list, unless the prefix
    /// list has a match of strictly better priority before a policy that is not better.
    Ptr<XfrmPolicy> Lookup(XfrmDir dir, const XfrmFlow& flow) const;
    /// The policy with exactly this selector and direction (xfrm_policy_bysel_ctx), if any.
    Ptr<XfrmPolicy> FindBySelector(XfrmDir dir, const XfrmSelector& sel) const;
    /// Exact list then prefix list, each in lookup order.
    std::vector<Ptr<XfrmPolicy>> GetAll() const;
    size_t GetN() const;
    /// Whether a selector goes to the exact list (Linux's default hash thresholds, 32/32).
    static bool IsExact(const XfrmSelector& sel);

  private:
    std::vector<Ptr<XfrmPolicy>> m_exact;   //!< in lookup order
    std::vector<Ptr<XfrmPolicy>> m_inexact; //!< in lookup order
};

} // namespace ns3

#endif // XFRM_STATE_TABLE_H
