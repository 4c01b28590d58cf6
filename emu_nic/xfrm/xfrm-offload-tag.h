#ifndef XFRM_OFFLOAD_TAG_H
#define XFRM_OFFLOAD_TAG_H

#include "esp-transform.h"
#include "xfrm-address.h"

#include "ns3/tag.h"

#include <cstdint>

namespace ns3
{

/**
 * Crypto offload TX: what the stack tells the device along with a packet whose ESP header,
 * trailer and sequence number it already wrote (Linux: the skb's xfrm_offload + xso handle).
 * With gsoSize set it marks a TCP super-packet for a GSO_ESP device (Linux's skb_shinfo
 * gso_size / gso_segs with SKB_GSO_ESP): crypto offload framed once (handle set, no trailer),
 * or packet offload plaintext (handle 0).
 */
class XfrmOffloadTxTag : public Tag
{
  public:
    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(TagBuffer buffer) const override;
    void Deserialize(TagBuffer buffer) override;
    void Print(std::ostream& os) const override;

    uint64_t handle{0}; //!< the device's offload handle of the state
    uint32_t seqHi{0};  //!< ESN high-order bits (Linux xo->seq.hi)

    /// Inner checksum left to the device (HW_ESP_TX_CSUM, Linux CHECKSUM_PARTIAL): the L4
    /// segment at csumStart (from the SPI) of csumLength bytes, checksum field at csumField
    /// within it, pseudo-header from csumSrc, csumDst, csumProto (IPv4 or IPv6: the inner
    /// packet's family; for IPv6 csumDst is the final destination). csumLength 0: nothing to do.
    uint16_t csumStart{0};
    uint16_t csumLength{0};
    uint16_t csumField{0};
    uint8_t csumProto{0};
    XfrmAddress csumSrc;
    XfrmAddress csumDst;

    uint32_t gsoSize{0}; //!< TCP payload bytes per segment; 0: not a super-packet
    uint32_t gsoSegs{0}; //!< segments the device makes of it
};

/// Crypto offload RX: the device decrypted in place (Linux CRYPTO_DONE + xo->status).
class XfrmOffloadRxTag : public Tag
{
  public:
    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(TagBuffer buffer) const override;
    void Deserialize(TagBuffer buffer) override;
    void Print(std::ostream& os) const override;

    uint32_t nodeId{0}; //!< tags travel with packets across links; only this node may trust it
    uint32_t spi{0};
    EspStatus status{EspStatus::Ok};
};

/**
 * The secpath: this packet arrived protected by an SA on this node, either decapsulated by the
 * stack (tunnel mode, re-injected) or by a packet-offload device. Inbound policy checks use it.
 */
class XfrmSecPathTag : public Tag
{
  public:
    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(TagBuffer buffer) const override;
    void Deserialize(TagBuffer buffer) override;
    void Print(std::ostream& os) const override;

    uint32_t nodeId{0};
    uint32_t spi{0};
    XfrmAddress daddr; //!< the SA's destination, of the SA's (outer) family
    bool packetOffload{false};
};

} // namespace ns3

#endif // XFRM_OFFLOAD_TAG_H
