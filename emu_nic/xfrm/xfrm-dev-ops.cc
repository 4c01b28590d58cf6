#include "xfrm-dev-ops.h"

namespace ns3
{

const char*
XfrmOffloadStatusName(XfrmOffloadStatus status)
{
    switch (status)
    {
    case XfrmOffloadStatus::Success:
        return "success";
    case XfrmOffloadStatus::NotSupported:
        return "not-supported";
    case XfrmOffloadStatus::Failure:
        return "failure";
    }
    return "?";
}

XfrmOffloadResult
XfrmOffloadResult::Ok()
{
    return {XfrmOffloadStatus::Success, ""};
}

XfrmOffloadResult
XfrmOffloadResult::NotSupported(const std::string& reason)
{
    return {XfrmOffloadStatus::NotSupported, reason};
}

XfrmOffloadResult
XfrmOffloadResult::Fail(const std::string& reason)
{
    return {XfrmOffloadStatus::Failure, reason};
}

bool
XfrmOffloadResult::IsOk() const
{
    return status == XfrmOffloadStatus::Success;
}

void
XfrmDevOps::SetXfrmStackHooks(const StackHooks& hooks)
{
    m_hooks = hooks;
}

void
XfrmDevOps::NotifyCheckExpire(Ptr<XfrmState> x) const
{
    if (!m_hooks.checkExpire.IsNull())
    {
        m_hooks.checkExpire(x);
    }
}

void
XfrmDevOps::NotifyMtuExceeded(Ptr<const Packet> ipPacket, uint32_t mtu) const
{
    if (!m_hooks.mtuExceeded.IsNull())
    {
        m_hooks.mtuExceeded(ipPacket, mtu);
    }
}

void
XfrmDevOps::NotifyDeviceDown() const
{
    if (!m_hooks.deviceDown.IsNull())
    {
        m_hooks.deviceDown();
    }
}

XfrmDevOps*
GetXfrmDevOps(Ptr<NetDevice> dev)
{
    return dev ? dynamic_cast<XfrmDevOps*>(PeekPointer(dev)) : nullptr;
}

} // namespace ns3
