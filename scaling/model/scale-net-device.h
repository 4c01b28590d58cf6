// The scaling model's NIC and wire: a full-duplex link that carries TSO/GRO segments whole but
// charges each the exact wire bytes of the MTU packets it stands for.
#ifndef SCALE_NET_DEVICE_H
#define SCALE_NET_DEVICE_H

#include "scale-host.h"
#include "scale-wire.h"

#include "ns3/channel.h"
#include "ns3/data-rate.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/nstime.h"

#include <deque>
#include <memory>

namespace ns3
{

class ScaleChannel;

/**
 * A NIC of the scaling model. IP hands it TCP segments of up to 64 KiB (its MTU is 65535, so
 * IP never fragments them), as Linux hands a TSO NIC a super-packet. The NIC cuts each into
 * MSS-sized packets only in its arithmetic: it holds the wire for their exact bytes (ScaleWire:
 * Ethernet, IP, TCP with timestamps, ESP header, IV, padding, trailer, ICV) at its data rate,
 * and in crypto and packet offload no faster than its crypto engine's cap. The host's cores
 * (ScaleHost) work on a segment before it is sent and after it is received.
 */
class ScaleNetDevice : public NetDevice
{
  public:
    static TypeId GetTypeId();

    void Setup(Ptr<ScaleHost> host, const ScaleWire& wire, bool isSender);
    void Attach(Ptr<ScaleChannel> channel);
    /// Wire bytes and packets the link carried since ResetStats.
    uint64_t GetWireBytes() const;
    uint64_t GetWirePackets() const;
    uint64_t GetDrops() const; //!< packets refused: not a stream's TCP or UDP
    void ResetStats();
    /// Called by the channel when a segment's last bit arrives.
    void ReceiveFromChannel(Ptr<Packet> packet, ScaleSegment segment);

    // NetDevice
    void SetIfIndex(const uint32_t index) override;
    uint32_t GetIfIndex() const override;
    Ptr<Channel> GetChannel() const override;
    void SetAddress(Address address) override;
    Address GetAddress() const override;
    bool SetMtu(const uint16_t mtu) override;
    uint16_t GetMtu() const override;
    bool IsLinkUp() const override;
    void AddLinkChangeCallback(Callback<void> callback) override;
    bool IsBroadcast() const override;
    Address GetBroadcast() const override;
    bool IsMulticast() const override;
    Address GetMulticast(Ipv4Address multicastGroup) const override;
    Address GetMulticast(Ipv6Address addr) const override;
    bool IsBridge() const override;
    bool IsPointToPoint() const override;
    bool Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber) override;
    bool SendFrom(Ptr<Packet> packet,
                  const Address& source,
                  const Address& dest,
                  uint16_t protocolNumber) override;
    Ptr<Node> GetNode() const override;
    void SetNode(Ptr<Node> node) override;
    bool NeedsArp() const override;
    void SetReceiveCallback(NetDevice::ReceiveCallback cb) override;
    void SetPromiscReceiveCallback(PromiscReceiveCallback cb) override;
    bool SupportsSendFrom() const override;

  protected:
    void DoDispose() override;

  private:
    struct Queued
    {
        Ptr<Packet> packet;
        ScaleSegment segment;
    };

    /// The segment a packet from IP is (false: not TCP/IPv4, which the model does not carry).
    bool Classify(Ptr<const Packet> packet, ScaleSegment* segment) const;
    void Enqueue(Ptr<Packet> packet, ScaleSegment segment);
    void StartTransmit();
    void TransmitDone();

    Ptr<ScaleHost> m_host;
    std::unique_ptr<ScaleWire> m_wire;
    bool m_isSender{true};
    Ptr<ScaleChannel> m_channel;
    Ptr<Node> m_node;
    Mac48Address m_address;
    uint32_t m_ifIndex{0};
    uint16_t m_mtu{65535};
    DataRate m_rate;
    DataRate m_cryptoCap;
    Time m_delay;
    std::deque<Queued> m_queue;
    bool m_transmitting{false};
    NetDevice::ReceiveCallback m_rxCallback;
    uint64_t m_wireBytes{0};
    uint64_t m_wirePackets{0};
    uint64_t m_drops{0};
};

/// Two ScaleNetDevices and the wire between them, one way each.
class ScaleChannel : public Channel
{
  public:
    static TypeId GetTypeId();
    void Attach(Ptr<ScaleNetDevice> device);
    /// Delivers the segment to the other device after delay.
    void Transmit(Ptr<const ScaleNetDevice> from, Ptr<Packet> packet, ScaleSegment s, Time delay);
    std::size_t GetNDevices() const override;
    Ptr<NetDevice> GetDevice(std::size_t i) const override;

  protected:
    void DoDispose() override;

  private:
    Ptr<ScaleNetDevice> m_devices[2];
    uint32_t m_count{0};
};

} // namespace ns3

#endif // SCALE_NET_DEVICE_H
