#include "xfrm-state.h"

#include "ns3/simulator.h"

#include <sstream>

namespace ns3
{

const char*
XfrmModeName(XfrmMode mode)
{
    return mode == XfrmMode::Transport ? "transport" : "tunnel";
}

const char*
XfrmDirName(XfrmDir dir)
{
    switch (dir)
    {
    case XfrmDir::In:
        return "in";
    case XfrmDir::Out:
        return "out";
    case XfrmDir::Fwd:
        return "fwd";
    }
    return "?";
}

const char*
XfrmOffloadTypeName(XfrmOffloadType type)
{
    switch (type)
    {
    case XfrmOffloadType::None:
        return "none";
    case XfrmOffloadType::Crypto:
        return "crypto";
    case XfrmOffloadType::Packet:
        return "packet";
    }
    return "?";
}

const char*
DataPathName(XfrmOffloadType type)
{
    return type == XfrmOffloadType::None ? "sw" : XfrmOffloadTypeName(type);
}

bool
ParseDataPath(const std::string& name, XfrmOffloadType* type)
{
    for (XfrmOffloadType t :
         {XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
    {
        if (name == DataPathName(t))
        {
            *type = t;
            return true;
        }
    }
    return false;
}

bool
XfrmLifetimeConfig::HasTimeLimit() const
{
    return softAddSeconds || hardAddSeconds || softUseSeconds || hardUseSeconds;
}

bool
XfrmHardLimitReached(const XfrmLifetimeConfig& limits, const XfrmLifetimeCurrent& current)
{
    return current.bytes >= limits.hardByteLimit || current.packets >= limits.hardPacketLimit;
}

bool
XfrmSoftLimitReached(const XfrmLifetimeConfig& limits, const XfrmLifetimeCurrent& current)
{
    return current.bytes >= limits.softByteLimit || current.packets >= limits.softPacketLimit;
}

bool
XfrmStateConfig::Validate(std::string* error) const
{
    std::ostringstream why;
    std::string selError;
    if (spi < 256)
    {
        // RFC 4303 2.1: SPIs 1..255 are reserved by IANA, 0 is never on the wire.
        why << "spi: 0x" << std::hex << spi << " is reserved (must be >= 0x100)";
    }
    else if (saddr.GetFamily() != daddr.GetFamily())
    {
        why << "saddr: " << saddr << " and daddr " << daddr << " are of two families";
    }
    else if (!sel.Validate("sel", &selError))
    {
        why << selError;
    }
    else if (mode == XfrmMode::Transport && !sel.anyFamily && sel.GetFamily() != daddr.GetFamily())
    {
        // Linux's xfrm_state_construct gives an unset selector the SA's family; a set one must
        // agree in transport mode, where the selector's addresses are the SA's.
        why << "sel: " << FamilyName(sel.GetFamily()) << " selector for an "
            << FamilyName(daddr.GetFamily()) << " SA in transport mode";
    }
    else if (replayWindow > ReplayWindow::kMaxSize)
    {
        why << "replayWindow: " << replayWindow << " exceeds " << ReplayWindow::kMaxSize;
    }
    else if (!esn && (replayOseq > 0xffffffffull || replaySeq > 0xffffffffull))
    {
        why << (replayOseq > 0xffffffffull ? "replayOseq: " : "replaySeq: ")
            << (replayOseq > 0xffffffffull ? replayOseq : replaySeq)
            << " exceeds 2^32-1 without esn";
    }
    else if (esn && replayWindow == 0)
    {
        why << "replayWindow: 0 with esn on (ESN needs a replay window, as in Linux)";
    }
    // No lifetime limit is checked against another, as Linux's verify_newsa_info checks none: a
    // soft limit above the hard one just never fires.
    else if (encap.Enabled() && encap.type != XfrmEncapType::EspInUdp)
    {
        why << "encap.type: " << int(encap.type) << " (only 2, UDP_ENCAP_ESPINUDP)";
    }
    else if (encap.Enabled() && (encap.sport == 0 || encap.dport == 0))
    {
        why << (encap.sport == 0 ? "encap.sport" : "encap.dport") << ": 0 is no UDP port";
    }
    else if (encap.Enabled() && daddr.IsIpv6())
    {
        // Linux has it (esp6 with udpv6_encap_enable); here only IPv4 carries ESP-in-UDP.
        why << "encap.type: " << int(encap.type) << " for IPv6 SA " << daddr
            << " (ESP-in-UDP over IPv6 is not built; over IPv4 it carries either inner family)";
    }
    else if (offloadType != XfrmOffloadType::None && !offloadDev)
    {
        why << "offloadDev: none given for offload type " << XfrmOffloadTypeName(offloadType);
    }
    else if (offloadType != XfrmOffloadType::None && offloadDir == XfrmDir::Fwd)
    {
        why << "offloadDir: fwd (an offloaded state is in or out)";
    }
    else
    {
        std::string algorithmError;
        if (!algorithm.Validate(&algorithmError))
        {
            why << "algorithm." << algorithmError;
        }
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
uint64_t g_nextSerial = 1;
}

XfrmState::XfrmState(const XfrmStateConfig& config, std::unique_ptr<EspTransform> transform)
    : m_config(config),
      m_transform(std::move(transform)),
      m_replay(config.replayWindow, config.esn),
      m_lastSeq(config.replayOseq),
      m_serial(g_nextSerial++)
{
    m_current.addTime = Simulator::Now();
    if (config.replaySeq != 0)
    {
        m_replay.Advance(config.replaySeq);
    }
}

const XfrmStateConfig&
XfrmState::GetConfig() const
{
    return m_config;
}

uint32_t
XfrmState::GetSpi() const
{
    return m_config.spi;
}

EspTransform&
XfrmState::GetTransform()
{
    return *m_transform;
}

ReplayWindow&
XfrmState::GetReplayWindow()
{
    return m_replay;
}

const ReplayWindow&
XfrmState::GetReplayWindow() const
{
    return m_replay;
}

XfrmDevOffload&
XfrmState::GetOffload()
{
    return m_offload;
}

const XfrmDevOffload&
XfrmState::GetOffload() const
{
    return m_offload;
}

bool
XfrmState::IsOffloaded(XfrmOffloadType type) const
{
    return m_offload.ops != nullptr && m_offload.type == type;
}

bool
XfrmState::NextSeq(uint64_t* seq)
{
    const uint64_t limit = m_config.esn ? kXfrmInfinity : 0xffffffffull;
    if (m_lastSeq >= limit)
    {
        return false;
    }
    *seq = ++m_lastSeq;
    return true;
}

uint64_t
XfrmState::GetLastSeq() const
{
    return m_lastSeq;
}

void
XfrmState::SetLastSeq(uint64_t seq)
{
    m_lastSeq = seq;
}

XfrmLifetimeCurrent&
XfrmState::GetCurrent()
{
    return m_current;
}

const XfrmLifetimeCurrent&
XfrmState::GetCurrent() const
{
    return m_current;
}

XfrmStateStats&
XfrmState::GetStats()
{
    return m_stats;
}

const XfrmStateStats&
XfrmState::GetStats() const
{
    return m_stats;
}

bool
XfrmState::IsSoftExpired() const
{
    return m_softExpired;
}

bool
XfrmState::IsHardExpired() const
{
    return m_hardExpired;
}

void
XfrmState::SetSoftExpired()
{
    m_softExpired = true;
}

void
XfrmState::SetHardExpired()
{
    m_softExpired = true;
    m_hardExpired = true;
}

void
XfrmState::Update(const XfrmLifetimeConfig& lifetime, const XfrmEncap& encap)
{
    m_config.lifetime = lifetime;
    m_config.encap = encap;
    m_softExpired = false;
}

uint64_t
XfrmState::GetSerial() const
{
    return m_serial;
}

void
XfrmState::MarkUsed(Time now)
{
    if (!m_current.used)
    {
        m_current.used = true;
        m_current.useTime = now;
    }
}

EventId&
XfrmState::GetLifetimeTimer()
{
    return m_lifetimeTimer;
}

} // namespace ns3
