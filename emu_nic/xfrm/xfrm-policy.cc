#include "xfrm-policy.h"

#include "ns3/simulator.h"

#include <sstream>

namespace ns3
{

bool
XfrmPolicyConfig::Validate(std::string* error) const
{
    std::ostringstream why;
    std::string selError;
    if (!sel.Validate("sel", &selError))
    {
        why << selError;
    }
    else if (offloadType == XfrmOffloadType::Crypto)
    {
        why << "offloadType: crypto (only packet offload offloads policies)";
    }
    else if (offloadType == XfrmOffloadType::Packet && !offloadDev)
    {
        why << "offloadDev: none given for a packet-offload policy";
    }
    else if (offloadType == XfrmOffloadType::Packet && dir == XfrmDir::Fwd)
    {
        why << "dir: fwd cannot be offloaded (Linux offloads in and out policies only)";
    }
    else if (action == XfrmPolicyAction::Block && hasTemplate)
    {
        why << "action: block with a template";
    }
    else if (hasTemplate && tmpl.mode == XfrmMode::Tunnel &&
             (tmpl.saddr.IsAny() || tmpl.daddr.IsAny()))
    {
        why << "tmpl: tunnel mode needs both endpoints (saddr " << tmpl.saddr << ", daddr "
            << tmpl.daddr << ")";
    }
    else if (hasTemplate && tmpl.saddr.GetFamily() != tmpl.daddr.GetFamily())
    {
        why << "tmpl: saddr " << tmpl.saddr << " and daddr " << tmpl.daddr
            << " are of two families";
    }
    else if (hasTemplate && tmpl.mode == XfrmMode::Transport && !tmpl.daddr.IsAny() &&
             tmpl.daddr.GetFamily() != sel.GetFamily())
    {
        // Linux's validate_tmpl: only tunnel mode may change the family.
        why << "tmpl: " << FamilyName(tmpl.daddr.GetFamily()) << " endpoints for an "
            << FamilyName(sel.GetFamily()) << " selector in transport mode";
    }
    if (why.tellp() > 0)
    {
        if (error)
        {
            *error = why.str();
        }
        return false;
    }
    return true;
}

namespace
{
uint64_t g_nextPolicySerial = 1;
}

XfrmPolicy::XfrmPolicy(const XfrmPolicyConfig& config)
    : m_config(config),
      m_serial(g_nextPolicySerial++),
      m_addTime(Simulator::Now())
{
}

const XfrmPolicyConfig&
XfrmPolicy::GetConfig() const
{
    return m_config;
}

bool
XfrmPolicy::RequiresIpsec() const
{
    return m_config.action == XfrmPolicyAction::Allow && m_config.hasTemplate;
}

bool
XfrmPolicy::IsHardware() const
{
    return m_config.offloadType == XfrmOffloadType::Packet;
}

XfrmDevOffload&
XfrmPolicy::GetOffload()
{
    return m_offload;
}

const XfrmDevOffload&
XfrmPolicy::GetOffload() const
{
    return m_offload;
}

bool
XfrmPolicy::TemplateMatches(const XfrmState& state) const
{
    const XfrmTemplate& t = m_config.tmpl;
    const XfrmStateConfig& c = state.GetConfig();
    if (!m_config.hasTemplate || c.mode != t.mode || (t.reqid != 0 && c.reqid != t.reqid) ||
        (t.spi != 0 && c.spi != t.spi))
    {
        return false;
    }
    if (t.mode == XfrmMode::Tunnel)
    {
        return c.saddr == t.saddr && c.daddr == t.daddr;
    }
    return true;
}

uint64_t
XfrmPolicy::GetSerial() const
{
    return m_serial;
}

Time
XfrmPolicy::GetAddTime() const
{
    return m_addTime;
}

bool
XfrmPolicy::WasUsed() const
{
    return m_used;
}

Time
XfrmPolicy::GetUseTime() const
{
    return m_useTime;
}

void
XfrmPolicy::MarkUsed(Time now)
{
    m_used = true;
    m_useTime = now;
}

} // namespace ns3
