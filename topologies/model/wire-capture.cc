#include "wire-capture.h"

#include "ns3/callback.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"

namespace ns3
{

std::vector<const WirePacket*>
WireCapture::From(bool fromA) const
{
    std::vector<const WirePacket*> out;
    for (const auto& p : packets)
    {
        if (p.fromA == fromA)
        {
            out.push_back(&p);
        }
    }
    return out;
}

std::shared_ptr<WireCapture>
CaptureWire(Ptr<NetDevice> a, Ptr<NetDevice> b)
{
    auto capture = std::make_shared<WireCapture>();
    WireCapture* raw = capture.get();
    for (bool fromA : {true, false})
    {
        auto record = [raw, fromA](Ptr<const Packet> p) {
            std::vector<uint8_t> bytes(p->GetSize());
            if (!bytes.empty())
            {
                p->CopyData(bytes.data(), bytes.size());
            }
            // PPP header: protocol 0x0021 is IPv4, 0x0057 IPv6.
            if (bytes.size() < 2 || bytes[0] != 0x00 || (bytes[1] != 0x21 && bytes[1] != 0x57))
            {
                ++raw->nonIp;
                return;
            }
            raw->packets.push_back(WirePacket{fromA,
                                              std::vector<uint8_t>(bytes.begin() + 2, bytes.end()),
                                              Simulator::Now()});
        };
        (fromA ? a : b)
            ->TraceConnectWithoutContext("PhyTxBegin", Callback<void, Ptr<const Packet>>(record));
    }
    return capture;
}

} // namespace ns3
