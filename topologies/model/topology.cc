#include "topology.h"

namespace ns3
{

const char*
IpsecRunModeName(IpsecRunMode mode)
{
    switch (mode)
    {
        case IpsecRunMode::Software:
            return "sw";
        case IpsecRunMode::Crypto:
            return "crypto";
        case IpsecRunMode::Packet:
            return "packet";
    }
    return "?";
}

bool
ParseIpsecRunMode(const std::string& name, IpsecRunMode* mode)
{
    for (IpsecRunMode m : {IpsecRunMode::Software, IpsecRunMode::Crypto, IpsecRunMode::Packet})
    {
        if (name == IpsecRunModeName(m))
        {
            *mode = m;
            return true;
        }
    }
    return false;
}

XfrmOffloadType
OffloadTypeOf(IpsecRunMode mode)
{
    switch (mode)
    {
        case IpsecRunMode::Crypto:
            return XfrmOffloadType::Crypto;
        case IpsecRunMode::Packet:
            return XfrmOffloadType::Packet;
        case IpsecRunMode::Software:
            break;
    }
    return XfrmOffloadType::None;
}

} // namespace ns3
