// Every packet the two ends of a link start to transmit, as IPv4 or IPv6 bytes: what the wire
// carried, for tests and the conformance suite to read.
#ifndef WIRE_CAPTURE_H
#define WIRE_CAPTURE_H

#include "ns3/net-device.h"
#include "ns3/nstime.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ns3
{

struct WirePacket
{
    bool fromA{true};        //!< transmitted by the first device (else by the second)
    std::vector<uint8_t> ip; //!< the IP packet as on the wire (either version), PPP header removed
    Time at;
};

struct WireCapture
{
    std::vector<WirePacket> packets;
    uint32_t nonIp{0}; //!< frames that are neither IPv4 nor IPv6

    std::vector<const WirePacket*> From(bool fromA) const;
};

/// Records every packet either end of a point-to-point link starts to transmit (PhyTxBegin), so
/// each wire packet once.
std::shared_ptr<WireCapture> CaptureWire(Ptr<NetDevice> a, Ptr<NetDevice> b);

} // namespace ns3

#endif // WIRE_CAPTURE_H
