#ifndef XFRM_POLICY_H
#define XFRM_POLICY_H

#include "xfrm-state.h"

#include "ns3/nstime.h"
#include "ns3/simple-ref-count.h"

namespace ns3
{

enum class XfrmPolicyAction : uint8_t
{
    Allow, //!< with a template: protect with IPsec; without: let plaintext pass (bypass)
    Block,
};

/// What SA a policy needs (Linux's xfrm_user_tmpl, ESP only).
struct XfrmTemplate
{
    XfrmAddress saddr; //!< tunnel endpoints; unused in transport mode
    XfrmAddress daddr;
    XfrmMode mode{XfrmMode::Transport};
    uint32_t reqid{0}; //!< 0 matches any state
    /// xfrm_tmpl.id.spi: 0 lets the newest matching state serve; otherwise only the state with
    /// this SPI does (strongSwan sets it, and UPDPOLICY moves it to the new SA on rekey).
    uint32_t spi{0};
};

/// What a key manager asks for when it adds a policy (Linux's xfrm_userpolicy_info + template).
struct XfrmPolicyConfig
{
    XfrmSelector sel;
    XfrmDir dir{XfrmDir::Out};
    uint32_t priority{0}; //!< lower value wins, as in Linux
    XfrmPolicyAction action{XfrmPolicyAction::Allow};
    bool hasTemplate{true};
    XfrmTemplate tmpl;
    /// Offload request: only packet offload offloads policies.
    Ptr<NetDevice> offloadDev;
    XfrmOffloadType offloadType{XfrmOffloadType::None};

    bool Validate(std::string* error) const;
};

/// One SPD entry (Linux's xfrm_policy).
class XfrmPolicy : public SimpleRefCount<XfrmPolicy>
{
  public:
    explicit XfrmPolicy(const XfrmPolicyConfig& config);

    const XfrmPolicyConfig& GetConfig() const;
    /// True when this policy asks for ESP (allow + template).
    bool RequiresIpsec() const;
    /// True when the policy lives in a device (packet offload); such policies outrank software
    /// ones.
    bool IsHardware() const;
    XfrmDevOffload& GetOffload();
    const XfrmDevOffload& GetOffload() const;
    /// Whether a state can serve this policy's template.
    bool TemplateMatches(const XfrmState& state) const;
    uint64_t GetSerial() const;

    /// Linux's curlft of a policy: when it was added (the simulation time), and when a packet
    /// last matched it (use_time, set on every lookup that finds it).
    Time GetAddTime() const;
    bool WasUsed() const;
    Time GetUseTime() const;
    void MarkUsed(Time now);

  private:
    XfrmPolicyConfig m_config;
    XfrmDevOffload m_offload;
    uint64_t m_serial;
    Time m_addTime;
    bool m_used{false};
    Time m_useTime;
};

} // namespace ns3

#endif // XFRM_POLICY_H
