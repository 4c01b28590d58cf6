#ifndef XFRM_NETLINK_ENDPOINT_H
#define XFRM_NETLINK_ENDPOINT_H

#include "netlink-message.h"
#include "xfrm-stack.h"

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/object.h"

#include <cstdint>
#include <functional>
#include <linux/xfrm.h>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ns3
{

/// The Linux version whose NETLINK_XFRM behaviour the endpoint follows: Debian 12's kernel
/// (crypto offload, errnos, replies), with the packet offload that 6.2 added (XFRM_OFFLOAD_PACKET
/// on states and policies), as the headers of linux-libc-dev 6.1.x carry it.
constexpr const char* kXfrmNetlinkModeledKernel = "6.1";

/**
 * Linux's NETLINK_XFRM interface (net/xfrm/xfrm_user.c) over one node's XfrmStack: what the host
 * kernel of an emulated host is to charon and `ip xfrm`.
 *
 * A client is one netlink socket (a port id). Each datagram it sends is taken apart as
 * netlink_rcv_skb does; every request gets its answer (a reply message, a dump ending in
 * NLMSG_DONE, or NLMSG_ERROR with 0 or a negative errno, with the request's sequence number and
 * the client's port id), so charon, whose netlink timeout is 0, never waits forever. States and
 * policies go to the XfrmStack; what the stack does not keep (the request's own fields and the
 * attributes Linux echoes, larval ALLOCSPI states, policy indexes) is kept here, so GETSA and
 * GETPOLICY give back what was added. Expire events of the stack go to the clients that joined
 * XFRMNLGRP_EXPIRE; a packet whose out policy has no SA makes an ACQ state and an ACQUIRE to
 * those in XFRMNLGRP_ACQUIRE, as xfrm_state_find does for charon's trap policies; what changes
 * the SAD or SPD is told to XFRMNLGRP_SA and XFRMNLGRP_POLICY (`ip xfrm monitor`).
 *
 * Runs on the simulator's thread; the I/O that carries datagrams to it runs elsewhere.
 */
class XfrmNetlinkEndpoint : public Object
{
  public:
    static TypeId GetTypeId();
    XfrmNetlinkEndpoint();
    ~XfrmNetlinkEndpoint() override;

    /// The stack whose SAD and SPD the endpoint serves; takes the stack's expire callback.
    void SetStack(Ptr<XfrmStack> stack);

    /// XFRMA_OFFLOAD_DEV names a device by ifindex: the host interface an EmuNic stands for.
    void AddInterface(int32_t ifindex, Ptr<NetDevice> device);
    /// Packet offload chosen per topology (a documented deviation: strongSwan 5.9.8 can ask only
    /// for crypto offload): a crypto-offload request on an SA becomes packet offload, and in and
    /// out policies with an ESP template are offloaded to the one interface added, as 5.9.10+
    /// asks with hw_offload = packet. Requests that already say XFRM_OFFLOAD_PACKET are as ever.
    void SetPacketOffloadForCryptoRequests(bool on);

    /// The wall clock (epoch seconds) at simulation time 0, for curlft's add and use times,
    /// which Linux gives in ktime_get_real_seconds. Default: the wall clock when SetStack ran,
    /// less the simulation time then.
    void SetEpochAtZero(int64_t seconds);

    /// A client's datagram (one or more netlink messages). Answers go to send(portId, datagram).
    void Receive(uint32_t portId, const uint8_t* data, size_t length);

    /// Where datagrams for a client go: its port id and the bytes of one datagram.
    typedef Callback<void, uint32_t, std::vector<uint8_t>> SendCallback;
    void SetSendCallback(SendCallback send);

    /// A client's socket options and groups (bind, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK).
    void SetGroups(uint32_t portId, uint32_t groups);
    /// NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP of one group (XFRMNLGRP_*).
    void ChangeGroup(uint32_t portId, uint32_t group, bool join);
    void SetExtAck(uint32_t portId, bool on);
    /// The client closed its socket.
    void RemoveClient(uint32_t portId);
    /// An XFRM option a client set on one of its real sockets, bound to localPort of protocol
    /// (xfrm-netlink-wire.h): IP_XFRM_POLICY / IPV6_XFRM_POLICY with an xfrm_userpolicy_info
    /// and no templates (Linux's xfrm_user_policy; a template is refused, as the endpoint's
    /// policies allow one kind only), or UDP_ENCAP with UDP_ENCAP_ESPINUDP. False when refused.
    bool SocketOption(uint32_t level,
                      uint32_t name,
                      uint8_t protocol,
                      uint16_t localPort,
                      const uint8_t* value,
                      size_t length);

    /// Counters of what was refused: malformed messages, unknown types, and by errno.
    uint64_t GetMalformedCount() const;

  protected:
    void DoDispose() override;

  private:
    /// What Linux echoes of an SA that the XfrmStack does not keep.
    struct SaRecord
    {
        Ptr<XfrmState> state; //!< the state this record is of (a new one may take its SPI)
        uint64_t order{0};    //!< when it was added, among SAs and larval states
        xfrm_usersa_info info{};
        std::map<uint16_t, std::vector<uint8_t>> attributes; //!< as received, by type
        uint32_t replayMaxDiff{2};   //!< x->replay_maxdiff (XFRMA_REPLAY_THRESH)
        uint32_t replayMaxAge{250};  //!< x->replay_maxage in jiffies: aevent_etime 10 at HZ 250
        int64_t newMapping{0};       //!< x->new_mapping: the last MAPPING told, in seconds
        uint16_t newMappingSport{0}; //!< x->new_mapping_sport: its port
    };

    /// An ALLOCSPI state (XFRM_STATE_ACQ): an SPI reserved for an SA still being negotiated.
    struct LarvalState
    {
        xfrm_usersa_info info{};
        EventId expiry;
        uint64_t order{0};
    };

    /// (daddr, SPI, protocol): Linux's byspi key, without the family (one per address).
    using LarvalKey = std::tuple<XfrmAddress, uint32_t, uint8_t>;
    /// An ACQ state of xfrm_state_find (SPI 0): (daddr, saddr, reqid, mode), what
    /// __find_acq_core matches of the template it stands for.
    using AcquireKey = std::tuple<XfrmAddress, XfrmAddress, uint32_t, uint8_t>;

    /// What Linux keeps of a policy beyond the XfrmStack's.
    struct PolicyRecord
    {
        xfrm_userpolicy_info info{};
        std::vector<xfrm_user_tmpl> templates;
        std::map<uint16_t, std::vector<uint8_t>> attributes;
    };

    struct Client
    {
        uint32_t groups{0};
        bool extAck{false};
    };

    /// One request's outcome: 0 or a negative errno, and the extack message.
    struct Result
    {
        int error{0};
        std::string message;
        int64_t badOffset{-1}; //!< the offending attribute, from the request's header
    };

    void Dispatch(uint32_t portId, const NetlinkMessageView& request);
    Result AddSa(uint32_t portId, const NetlinkMessageView& request, bool update);
    /// xfrm_user_state_lookup of a DELSA or GETSA request: a larval state or a live one.
    Result LookupSa(const NetlinkMessageView& request,
                    std::map<LarvalKey, LarvalState>::iterator* larval,
                    Ptr<XfrmState>* x);
    Result DeleteSa(const NetlinkMessageView& request);
    Result GetSa(uint32_t portId, const NetlinkMessageView& request);
    void DumpSa(uint32_t portId, const NetlinkMessageView& request);
    Result AllocSpi(uint32_t portId, const NetlinkMessageView& request);
    Result FlushSa(const NetlinkMessageView& request);
    Result AddPolicy(const NetlinkMessageView& request, bool update);
    Result GetPolicy(uint32_t portId, const NetlinkMessageView& request, bool remove);
    void DumpPolicy(uint32_t portId, const NetlinkMessageView& request);
    Result FlushPolicy(const NetlinkMessageView& request);
    Result GetSpdInfo(uint32_t portId, const NetlinkMessageView& request);
    Result NewSpdInfo(const NetlinkMessageView& request);
    Result GetSadInfo(uint32_t portId, const NetlinkMessageView& request);
    /// XFRM_MSG_GETAE (xfrm_get_ae): the replay state and the lifetime counters, which charon
    /// copies into an SA it re-adds.
    Result GetAe(uint32_t portId, const NetlinkMessageView& request);
    /// xfrm_new_ae: the replay state, counters and thresholds of a valid SA set from userspace
    /// (NLM_F_REPLACE required), told to XFRMNLGRP_AEVENTS as XFRM_AE_CU.
    Result NewAe(const NetlinkMessageView& request);
    /// The SA keeps an ESN replay state (XFRMA_REPLAY_ESN_VAL in its replies), else the plain one.
    static bool UsesEsnReplay(const Ptr<XfrmState>& x, const SaRecord* record);
    /// A window of size with top as its highest sequence number and, below it within the
    /// window, the numbers `received` says came (a replay state userspace gave).
    static ReplayWindow RestoredWindow(uint32_t size,
                                       bool esn,
                                       uint64_t top,
                                       const std::function<bool(uint64_t)>& received);
    /// xfrm_state_lookup of an AE request: the live state it names, nullptr for ESRCH.
    Ptr<XfrmState> FindAeState(const xfrm_aevent_id& id, const NetlinkAttributes& attrs) const;
    /// build_aevent: the SA's id, replay state, LTIME_VAL and the thresholds flags asks for.
    std::vector<uint8_t> BuildAevent(Ptr<XfrmState> x, uint32_t flags, uint32_t seq, uint32_t pid);
    /// REPLAY_ESN_VAL (esn) or REPLAY_VAL of x's live replay state.
    void PutReplay(NetlinkMessageBuilder& m, Ptr<XfrmState> x, bool esn) const;

    /// The NEWSA message Linux's copy_to_user_state_extra builds for a state or a larval one.
    std::vector<uint8_t> BuildSa(Ptr<XfrmState> x,
                                 uint16_t type,
                                 uint16_t flags,
                                 uint32_t seq,
                                 uint32_t pid);
    std::vector<uint8_t> BuildLarval(const LarvalState& larval,
                                     uint16_t flags,
                                     uint32_t seq,
                                     uint32_t pid);
    std::vector<uint8_t> BuildPolicy(Ptr<XfrmPolicy> policy,
                                     uint16_t type,
                                     uint16_t flags,
                                     uint32_t seq,
                                     uint32_t pid);
    /// Sends dump messages in datagrams of at most a page, as netlink_dump fills its skbs.
    void SendDump(uint32_t portId, uint32_t seq, const std::vector<std::vector<uint8_t>>& messages);
    /// Multicasts to the clients in group (XFRMNLGRP_*).
    void Multicast(uint32_t group, const std::vector<uint8_t>& message);
    /// km_state_notify / km_policy_notify of a request that changed the SAD or SPD: to the
    /// clients in XFRMNLGRP_SA or XFRMNLGRP_POLICY (`ip xfrm monitor`), with the request's pid
    /// and seq, multicast before the request's ack as Linux does.
    void Notify(uint32_t group, std::vector<uint8_t> message);
    /// xfrm_notify_sa's DELSA: the state's id, the state in XFRMA_SA, then its attributes.
    std::vector<uint8_t> BuildDeletedSa(const std::vector<uint8_t>& sa, uint32_t seq, uint32_t pid);
    void OnExpire(Ptr<XfrmState> x, bool hard);
    /// km_new_mapping: the NAT in front of the peer of an inbound ESP-in-UDP SA moved; an
    /// XFRM_MSG_MAPPING to XFRMNLGRP_MAPPING, rate-limited by the SA's XFRMA_MTIMER_THRESH.
    void OnMapping(Ptr<XfrmState> x, const XfrmAddress& saddr, uint16_t sport);
    /// XFRMA_LTIME_VAL into the state: its counters, and add and use times (epoch seconds).
    void SetLifetime(Ptr<XfrmState> x, const xfrm_lifetime_cur& ltime) const;
    /// XFRMA_MTIMER_THRESH of the SA: seconds between MAPPING events, 0 for none.
    static void SetMappingMaxAge(SaRecord* record, uint32_t seconds);
    void ExpireLarval(LarvalKey key);

    /// A larval or ACQ state whose time ran out: deleted, a hard EXPIRE of it told.
    template <class Map>
    void ExpireFrom(Map* states, const typename Map::key_type& key)
    {
        auto it = states->find(key);
        if (it == states->end())
        {
            return;
        }
        const xfrm_usersa_info info = it->second.info;
        states->erase(it);
        MulticastHardExpire(info);
    }

    /// km_state_expired of a larval or ACQ state: a hard EXPIRE of it to XFRMNLGRP_EXPIRE.
    void MulticastHardExpire(const xfrm_usersa_info& state);
    /// xfrm_state_find found no state for an out policy's template: unless an ACQ state of the
    /// template exists (acquire in progress), one is made and XFRM_MSG_ACQUIRE goes to
    /// XFRMNLGRP_ACQUIRE (build_acquire); with no listener there, nothing (km_is_alive).
    void OnAcquire(Ptr<XfrmPolicy> policy, const XfrmFlow& flow);
    /// The host's ifindex of the interface the flow's route leaves by (AddInterface), 0 if none.
    int32_t OutputIfindex(const XfrmFlow& flow) const;
    /// The ACQ state's xfrm_acq_expires ran out: deleted, a hard EXPIRE told.
    void ExpireAcquire(AcquireKey key);
    /// xfrm_state_add of a new SA: the ACQ state it answers goes, without a word (by the
    /// request's seq, else __find_acq_core's key).
    void RemoveAcquire(const xfrm_usersa_info& sa,
                       const XfrmAddress& daddr,
                       const XfrmAddress& saddr);

    /// The record of a live state; a stale one (the stack deleted the state) is dropped.
    SaRecord* RecordOf(const Ptr<XfrmState>& x);
    PolicyRecord* RecordOf(const Ptr<XfrmPolicy>& policy);
    Ptr<XfrmPolicy> PolicyByIndex(uint32_t index);
    /// The policy of a direction with exactly these selector bytes (Linux's identity of a
    /// policy, xfrm_policy_bysel_ctx), if it is still in the stack's SPD.
    Ptr<XfrmPolicy> PolicyBySelector(uint8_t dir, const xfrm_selector& sel);
    static std::string SelectorKey(uint8_t dir, const xfrm_selector& sel);
    /// Whether the stack still holds the policy (a link-down flush removes offloaded ones
    /// without a word, as Linux's xfrm_dev_policy_flush does).
    bool IsLive(const Ptr<XfrmPolicy>& policy) const;
    void ForgetPolicy(XfrmPolicy* policy);
    /// Forgets records whose policy or state the stack no longer holds.
    void PruneStale();
    uint32_t NewPolicyIndex(uint8_t dir);
    int64_t EpochSeconds(Time t) const;
    void Send(uint32_t portId, std::vector<uint8_t> datagram);

    Ptr<XfrmStack> m_stack;
    std::map<int32_t, Ptr<NetDevice>> m_interfaces;
    bool m_packetForCrypto{false};
    /// The offloaded IKE-port bypasses added with packet offload per topology (by port).
    std::map<uint16_t, std::vector<Ptr<XfrmPolicy>>> m_portBypass;
    /// In packet offload per topology: what strongSwan 5.9.10+ adds for a bypassed IKE socket
    /// (add_and_offload_port_bypass): in and out bypass policies of its UDP port in the device.
    void AddOffloadedPortBypass(uint16_t port);
    int64_t m_epochAtZero{0};
    SendCallback m_send;
    std::map<uint32_t, Client> m_clients;
    std::map<std::pair<XfrmAddress, uint32_t>, SaRecord> m_sas; //!< by (daddr, spi)
    std::map<LarvalKey, LarvalState> m_larval;
    std::map<AcquireKey, LarvalState> m_acquiring; //!< ACQ states of out policies' templates
    uint32_t m_acquireSeq{0};                      //!< xfrm_get_acqseq: never 0
    uint64_t m_order{0}; //!< counts SAs and larval states as they are added
    std::map<XfrmPolicy*, std::pair<Ptr<XfrmPolicy>, PolicyRecord>> m_policies;
    std::map<uint32_t, XfrmPolicy*> m_policyByIndex;
    std::map<std::string, XfrmPolicy*> m_policyBySelector; //!< by SelectorKey
    uint32_t m_indexGenerator{0};
    uint8_t m_hthresh4[2]{32, 32}; //!< XFRMA_SPD_IPV4_HTHRESH: lbits, rbits
    uint8_t m_hthresh6[2]{128, 128};
    uint64_t m_malformed{0};
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> m_notifications; //!< of this request
};

} // namespace ns3

#endif // XFRM_NETLINK_ENDPOINT_H
