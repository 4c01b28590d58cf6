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
    void Add(Ptr<XfrmPolicy> policy);
    bool Remove(Ptr<XfrmPolicy> policy);
    /// The winning policy for a flow: hardware (packet offload) before software, then the lowest
    /// priority value, then the oldest (Linux inserts after equal priorities).
    Ptr<XfrmPolicy> Lookup(XfrmDir dir, const XfrmFlow& flow) const;
    std::vector<Ptr<XfrmPolicy>> GetAll() const;
    size_t GetN() const;
    /// The SPD's ordering rule, shared with devices that hold policies.
    static bool Outranks(const XfrmPolicy& a, const XfrmPolicy& b);

  private:
    std::vector<Ptr<XfrmPolicy>> m_policies; //!< kept sorted by Outranks
};

} // namespace ns3

#endif // XFRM_STATE_TABLE_H
