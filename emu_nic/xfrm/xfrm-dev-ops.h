#ifndef XFRM_DEV_OPS_H
#define XFRM_DEV_OPS_H

#include "xfrm-policy.h"
#include "xfrm-state.h"

#include "ns3/callback.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv6-header.h"
#include "ns3/packet.h"

#include <cstdint>
#include <string>

namespace ns3
{

/// Feature bits a device advertises (Linux NETIF_F_HW_ESP, NETIF_F_HW_ESP_TX_CSUM).
enum XfrmDevFeature : uint32_t
{
    XFRM_DEV_FEATURE_HW_ESP = 1u << 0,
    XFRM_DEV_FEATURE_HW_ESP_TX_CSUM = 1u << 1,
    XFRM_DEV_FEATURE_GSO_ESP = 1u << 2, //!< NETIF_F_GSO_ESP: the device segments super-packets
};

/// The three result classes of xdo_dev_state_add / xdo_dev_policy_add.
enum class XfrmOffloadStatus : uint8_t
{
    Success,
    NotSupported, //!< -EOPNOTSUPP: crypto offload falls back to software; packet offload fails
    Failure,      //!< any other error: the request fails
};

const char* XfrmOffloadStatusName(XfrmOffloadStatus status);

struct XfrmOffloadResult
{
    XfrmOffloadStatus status{XfrmOffloadStatus::Success};
    std::string reason; //!< the driver's extack message

    static XfrmOffloadResult Ok();
    static XfrmOffloadResult NotSupported(const std::string& reason);
    static XfrmOffloadResult Fail(const std::string& reason);
    bool IsOk() const;
};

/**
 * The offload driver interface: Linux's struct xfrmdev_ops, one method per callback.
 *
 * The stack calls these; a device implements them. The device calls back into the stack only
 * through the hooks the stack installs with SetXfrmStackHooks: CheckExpire (Linux's
 * xfrm_state_check_expire, after which the stack reads the counters with StateUpdateStats),
 * MtuExceeded (the local error / ICMP "fragmentation needed" of the packet-offload PMTU check)
 * and DeviceDown (the netdev notifier's NETDEV_DOWN / NETDEV_UNREGISTER).
 */
class XfrmDevOps
{
  public:
    /// The stack's side, as the device sees it.
    struct StackHooks
    {
        Callback<void, Ptr<XfrmState>> checkExpire;
        /// The IP packet (header included; IPv4, or IPv6 with its extension headers: the version
        /// nibble tells) that was too big, and the MTU its sender must use (for IPv6, ICMPv6
        /// Packet Too Big's MTU).
        Callback<void, Ptr<const Packet>, uint32_t> mtuExceeded;
        /// The device was set administratively down or goes away (Linux xfrm_dev_event on
        /// NETDEV_DOWN / NETDEV_UNREGISTER); carrier loss is not this.
        Callback<void> deviceDown;
    };

    virtual ~XfrmDevOps() = default;

    /// NETIF_F_HW_ESP and friends; without HW_ESP the stack never offloads to this device.
    virtual uint32_t GetXfrmFeatures() const = 0;

    /// xdo_dev_state_add: validate, store, enable; on success set x->GetOffload().handle.
    virtual XfrmOffloadResult StateAdd(Ptr<XfrmState> x) = 0;
    /// xdo_dev_state_delete: stop using the state (traffic on it stops now).
    virtual void StateDelete(Ptr<XfrmState> x) = 0;
    /// xdo_dev_state_free: release what StateAdd took.
    virtual void StateFree(Ptr<XfrmState> x) = 0;
    /// xdo_dev_offload_ok: can the device do this packet (ipHeader is the packet to protect)?
    virtual bool OffloadOk(const Ipv4Header& ipHeader,
                           Ptr<const Packet> payload,
                           Ptr<XfrmState> x) = 0;
    /// xdo_dev_offload_ok for an IPv6 packet: header is its fixed 40-byte header, payload
    /// everything after it (extension headers included).
    virtual bool OffloadOk(const Ipv6Header& header,
                           Ptr<const Packet> payload,
                           Ptr<XfrmState> x) = 0;
    /// xdo_dev_state_advance_esn: the stack's replay state moved; update the ESN state machine.
    virtual void StateAdvanceEsn(Ptr<XfrmState> x) = 0;
    /// xdo_dev_state_update_stats: copy the device's counters into x->GetCurrent() (and stats).
    virtual void StateUpdateStats(Ptr<XfrmState> x) = 0;

    /// xdo_dev_policy_add (packet offload only).
    virtual XfrmOffloadResult PolicyAdd(Ptr<XfrmPolicy> xp) = 0;
    virtual void PolicyDelete(Ptr<XfrmPolicy> xp) = 0;
    virtual void PolicyFree(Ptr<XfrmPolicy> xp) = 0;

    void SetXfrmStackHooks(const StackHooks& hooks);

  protected:
    /// For the device: what Linux drivers do with xfrm_state_check_expire().
    void NotifyCheckExpire(Ptr<XfrmState> x) const;
    void NotifyMtuExceeded(Ptr<const Packet> ipPacket, uint32_t mtu) const;
    void NotifyDeviceDown() const;

  private:
    StackHooks m_hooks;
};

/// The interface of a device, or nullptr when it has none (a plain NIC).
XfrmDevOps* GetXfrmDevOps(Ptr<NetDevice> dev);

} // namespace ns3

#endif // XFRM_DEV_OPS_H
