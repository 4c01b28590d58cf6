// What each stage of a host's network stack costs, in cycles, shared by every mode.
#ifndef SCALE_COSTS_H
#define SCALE_COSTS_H

#include "scale-wire.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ns3
{

/**
 * AES-GCM-128 cycles for one call on n bytes: a table of (bytes, cycles) measured with
 * OpenSSL's EVP, interpolated linearly between its points and extrapolated from the last two.
 */
class CipherCost
{
  public:
    CipherCost() = default;
    explicit CipherCost(std::vector<std::pair<uint32_t, double>> points);
    double Cycles(uint32_t bytes) const;
    const std::vector<std::pair<uint32_t, double>>& GetPoints() const;
    /// The same table with every cost times factor (the sensitivity run).
    CipherCost Scaled(double factor) const;

  private:
    std::vector<std::pair<uint32_t, double>> m_points; //!< by bytes, ascending
};

/**
 * The cost of each stage, one set for all four modes. Which stages a mode runs, and on which
 * side, is the model (ScaleHost); how much each costs is here. Every field is cycles.
 *
 * Fitted from the reference's 1-CPU cells (ScaleCalibration): driverPacket from baseline,
 * xfrmPacket from crypto offload, espSoftwarePacket from software IPsec. Measured on the
 * running machine: copyByte (memcpy) and the cipher. The rest are stated assumptions.
 */
struct ScaleCosts
{
    double driverPacket{500};       //!< per MTU packet received: descriptor, skb, GRO merge
    double tcpSegmentRx{2000};      //!< per GRO segment: IP and TCP receive, socket queueing
    double tcpSegmentTx{2000};      //!< per TSO segment: TCP and IP output, the driver's send
    double tcpPacketTx{1000};       //!< per MSS packet sent where GSO is off: TCP and IP output
                                    //!< (also a UDP datagram's UDP and IP output)
    double udpPacketRx{1000};       //!< per UDP datagram received: IP, UDP, the socket queue
    double ackRx{600};              //!< per ACK received: driver, TCP's ACK processing
    double ackTx{600};              //!< per ACK sent
    double copyByte{0.1};           //!< the receiver's copy to user space, per payload byte
    double xfrmPacket{600};         //!< XFRM state work per ESP packet: xfrm_input (RX), or
                                    //!< xfrm_output per segment on TX
    double espSoftwarePacket{2000}; //!< software ESP per packet beyond XFRM: crypto API, skb
                                    //!< copy-on-write, software GSO on TX
    double saLockPacket{150};       //!< per ESP packet under the SA's lock (replay, sequence,
                                    //!< counters), where the CPU does the SA's state work
    CipherCost cipher;              //!< AES-GCM-128 per call on n bytes

    /// Every cycle field (not the cipher) by its scaling.json name.
    static const std::vector<std::pair<std::string, double ScaleCosts::*>>& Names();
};

} // namespace ns3

#endif // SCALE_COSTS_H
