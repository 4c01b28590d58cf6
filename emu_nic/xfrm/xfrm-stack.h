#ifndef XFRM_STACK_H
#define XFRM_STACK_H

#include "xfrm-dev-ops.h"
#include "xfrm-offload-tag.h"
#include "xfrm-state-table.h"

#include "ns3/ip-l4-protocol.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv6-interface.h"
#include "ns3/ipv6-l3-protocol.h"
#include "ns3/ipv6-route.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/traced-callback.h"

#include <array>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ns3
{

/// Why the software IPsec layer dropped a packet: Linux's /proc/net/xfrm_stat counters.
enum class XfrmDrop : uint8_t
{
    InHdrError,        //!< ESP too short to carry SPI and sequence number
    InNoStates,        //!< unknown SPI
    InStateProtoError, //!< ICV, pad length or length failure found by the stack, or a device's
                       //!< authentication-failed status
    InBufferError,     //!< a device's CRYPTO_DONE status other than success or auth failure
                       //!< (Linux: CRYPTO_INVALID_PACKET_SYNTAX and the rest)
    InStateSeqError,   //!< replayed or too old (the SA counts which: replay, replayWindow)
    InStateExpired,    //!< state past its hard limit
    InStateMismatch,   //!< ESP for a packet-offloaded SA that its device did not process
    InNoPols,          //!< tunnel-mode packet with no policy to accept it
    InPolBlock,        //!< a block policy
    InTmplMismatch,    //!< plaintext where a policy requires IPsec, or the wrong SA
    OutNoStates,       //!< policy requires IPsec but no state
    OutStateSeqError,  //!< sequence number space exhausted
    OutStateExpired,   //!< state past its hard limit
    OutPolBlock,       //!< a block policy
    FwdHdrError,       //!< forwarded packet whose TTL ran out before protection
    OutError,          //!< packet offload: the route leaves through another device, or
                       //!< xfrm_dev_offload_ok refused (too big after ESP, IPv4 options)
    UdpInCsumErrors,   //!< a datagram to an encapsulation port whose non-zero UDP checksum is
                       //!< wrong (Linux checks it before encap_rcv, in the UDP MIB)
    Count,
};

/// "XfrmInNoStates", ...: the names of /proc/net/xfrm_stat.
const char* XfrmDropName(XfrmDrop reason);

/// What the software IPsec layer did that is not a drop.
enum class XfrmEvent : uint8_t
{
    CryptoOffloadFallback,  //!< crypto offload refused by the device, SA runs in software
    CryptoOffloadTxPackets, //!< packets encrypted by the device (crypto offload)
    CryptoOffloadRxPackets, //!< packets decrypted by the device (crypto offload)
    CryptoOffloadTxCsum,    //!< inner checksums left to the device (HW_ESP_TX_CSUM)
    LocalPmtuErrors,        //!< "fragmentation needed" delivered for a too-big packet
    UdpEncapTxPackets,      //!< ESP sent in UDP (RFC 3948)
    UdpEncapRxPackets,      //!< ESP received in UDP, handed to ESP input
    UdpEncapKeepalives,     //!< NAT keepalives (one 0xff byte) eaten
    UdpEncapToSocket,       //!< datagrams to an encapsulation port that are not ESP (IKE)
    UdpEncapNewMapping,     //!< ESP-in-UDP from another address or port than the SA's (NAT)
    GsoSoftwareSegments,    //!< segments the stack cut TCP super-packets into (software GSO)
    GsoOffloadTxPackets,    //!< TCP super-packets handed whole to a GSO_ESP device
    Count,
};

const char* XfrmEventName(XfrmEvent event);

/**
 * The software IPsec layer of an ns-3 node (Linux's XFRM): SAD, SPD, ESP output and input,
 * anti-replay, ESN, lifetimes, and the core side of crypto and packet offload.
 *
 * It hooks the node's IPv4 in three places: it interposes on the down targets of the L4
 * protocols (locally generated traffic, like xfrm_output), registers IP protocol 50 (ESP input,
 * like xfrm_input) and wraps the routing protocol (inbound and forward policy checks, protection
 * of forwarded traffic). A node with IPv6 is hooked the same way (xfrm6_output, xfrm6_rcv),
 * plus XfrmL4Guard in front of IPv6 TCP and UDP for the inbound check of local traffic, since
 * ns-3's IPv6 delivers it without asking routing. Devices that implement XfrmDevOps are offered
 * states and policies that ask for offload, with Linux's rules for fallback.
 *
 * One object, files by job: xfrm-stack.cc (control plane, lifetimes), xfrm-output.cc and
 * xfrm-input.cc (IPv4), xfrm-output6.cc and xfrm-input6.cc (IPv6), xfrm-gso.cc. Every drop is
 * counted by reason and fires the Drop trace.
 */
class UdpEncapL4Protocol;
class XfrmL4Guard;

class XfrmStack : public Object
{
  public:
    static TypeId GetTypeId();
    XfrmStack();
    ~XfrmStack() override;

    /// Hooks into the node's IPv4; call after the internet stack and its routes are installed.
    void Install(Ptr<Node> node);
    Ptr<Node> GetNode() const;

    /// XFRM_MSG_NEWSA: validate, offer to the device if asked, insert. nullptr + reason on error.
    Ptr<XfrmState> AddState(const XfrmStateConfig& config, std::string* error);
    /// XFRM_MSG_UPDSA of a state in the SAD (Linux's xfrm_state_update): its lifetime limits and
    /// (of the same type only) its encapsulation change in place, the soft expire can fire
    /// again and the lifetime timer restarts. False, with the reason, otherwise.
    bool UpdateState(Ptr<XfrmState> x,
                     const XfrmLifetimeConfig& lifetime,
                     const XfrmEncap& encap,
                     std::string* error);
    /// XFRM_MSG_DELSA: remove; the device is told to delete and free its copy.
    bool DeleteState(const XfrmAddress& daddr, uint32_t spi);
    Ptr<XfrmState> FindState(const XfrmAddress& daddr, uint32_t spi) const;
    /// XFRM_MSG_NEWPOLICY: packet-offload policies must be accepted by the device (no fallback);
    /// a policy with the same selector and direction is refused (EEXIST).
    Ptr<XfrmPolicy> AddPolicy(const XfrmPolicyConfig& config, std::string* error);
    /// XFRM_MSG_UPDPOLICY: replaces the policy with the same selector and direction (or adds
    /// one); the new one is in force before the old one goes. strongSwan sends it on every
    /// rekey, and a new template SPI moves the policy's traffic to that SA.
    Ptr<XfrmPolicy> UpdatePolicy(const XfrmPolicyConfig& config, std::string* error);
    /// XFRM_MSG_DELPOLICY.
    bool DeletePolicy(Ptr<XfrmPolicy> policy);
    /// Reads the device's counters into an offloaded state (update_stats); no-op in software.
    void UpdateStats(Ptr<XfrmState> x);
    const XfrmStateTable& GetStates() const;
    const XfrmPolicyTable& GetPolicies() const;

    /// Linux's UDP_ENCAP_ESPINUDP socket option on a UDP socket bound to `port` (charon's 4500):
    /// datagrams to the port are taken apart as RFC 3948 says. The key manager calls it.
    void EnableUdpEncap(uint16_t port);
    bool IsUdpEncapPort(uint16_t port) const;

    /// Linux's per-socket policy (setsockopt IP_XFRM_POLICY, xfrm_sk_policy_insert) of a local
    /// socket of protocol bound to port: in direction in or out, it decides instead of the SPD
    /// for every packet of that socket (from a local address and port out, to one in). charon
    /// gives its IKE sockets allow policies without templates: IKE bypasses IPsec. Set again, it
    /// replaces; no close is seen, so it lasts as long as the stack.
    void SetSocketPolicy(uint8_t protocol, uint16_t port, XfrmDir dir, XfrmPolicyAction action);
    /// Forgets every socket policy (their sockets closed).
    void ClearSocketPolicies();
    /// Forgets the socket policies of one socket (setsockopt with no value).
    void ClearSocketPolicy(uint8_t protocol, uint16_t port);
    /// The socket policies set, as (protocol, port, dir) -> action.
    std::map<std::tuple<uint8_t, uint16_t, XfrmDir>, XfrmPolicyAction> GetSocketPolicies() const;

    /// NETDEV_DOWN: delete and free every state and policy offloaded to dev.
    void FlushDevice(Ptr<NetDevice> dev);

    uint64_t GetDropCount(XfrmDrop reason) const;
    uint64_t GetEventCount(XfrmEvent event) const;
    /// Every drop counter by its xfrm_stat name.
    std::map<std::string, uint64_t> GetDropCounts() const;
    /// Every event counter by name.
    std::map<std::string, uint64_t> GetEventCounts() const;

    /// Signature of the "Drop" trace: the packet and why.
    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, XfrmDrop reason);
    /// Signature of the "Expire" trace: the state and whether the limit was the hard one.
    typedef void (*ExpireTracedCallback)(Ptr<XfrmState> state, bool hard);
    /// Signature of the "OffloadFallback" trace: the state and the device's reason.
    typedef void (*FallbackTracedCallback)(Ptr<XfrmState> state, std::string reason);

    /// The key manager's subscription (Linux's km_state_expired): soft (hard=false) or hard.
    typedef Callback<void, Ptr<XfrmState>, bool> ExpireCallback;
    void SetExpireCallback(ExpireCallback cb);

    /// The key manager's request for an SA (Linux's km_query from xfrm_state_find): an outbound
    /// packet's policy has a template no state serves; the flow is the packet's. The packet is
    /// dropped (xfrm_larval_drop) whatever the key manager does; it is told of every such
    /// packet and keeps its own acquire state, as Linux does, to ask its daemon once.
    typedef Callback<void, Ptr<XfrmPolicy>, const XfrmFlow&> AcquireCallback;
    void SetAcquireCallback(AcquireCallback cb);

    /// The key manager's news of a NAT mapping (Linux's km_new_mapping from esp_input_done2): an
    /// ESP-in-UDP packet of the inbound SA came from another address or port than the SA's (a
    /// NAT in front of the peer rebound). Told of every such packet that authenticated; the rate
    /// limit (XFRMA_MTIMER_THRESH, x->mapping_maxage) is the key manager's to apply. The SA is
    /// not changed: the daemon decides.
    typedef Callback<void, Ptr<XfrmState>, const XfrmAddress&, uint16_t> MappingCallback;
    void SetMappingCallback(MappingCallback cb);

    /// Linux's xfrm_state_check_expire: read counters, start the use time, fire soft/hard
    /// expire once each. Returns false when the state is past its hard limit. Time limits are
    /// the state's timer's (LifetimeTimer).
    bool CheckExpire(Ptr<XfrmState> x);

    // Entry points of the hooks; not for users.
    void OutputFromL4(Ptr<Packet> packet,
                      Ipv4Address src,
                      Ipv4Address dst,
                      uint8_t protocol,
                      Ptr<Ipv4Route> route);
    /// A complete IPv4 or IPv6 packet (extension headers included) from a raw socket with
    /// IP_HDRINCL or IPV6_HDRINCL (ip_local_out / rawv6_send_hdrinc): the SPD decides as for
    /// any local packet; the bytes leave as they are, in plaintext or to a packet-offload
    /// device. Returns false if XFRM dropped it. Software and crypto-offload policies cannot
    /// protect such a packet here (it is dropped, XfrmOutPolBlock is not claimed: XfrmOutError).
    bool OutputRaw(Ptr<Packet> ipPacket);
    /// Bump in the stack (the emulation): a whole IPv4 packet the emulated host behind this node
    /// sends, its own or one it forwards. The SPD decides as for a local packet, on the flow of
    /// its header and ports, and the header is the host's (TTL, TOS, ID, DF kept): plaintext as
    /// it is, ESP built here or by the device, or plaintext to a packet-offload device. A DF
    /// packet too big for its SA after ESP is refused with a PMTU error to the host (what Linux
    /// senders learn from the xfrm route's MTU). False if it was dropped or refused.
    bool OutputFromHost(Ptr<Packet> ipPacket);
    /// Where PMTU errors go (the IPv4 packet and the MTU) when the sender is the emulated host;
    /// without it they go to the node's own L4 protocols or ICMP.
    typedef Callback<void, Ptr<const Packet>, uint32_t> HostPmtuCallback;
    void SetHostPmtuCallback(HostPmtuCallback cb);
    /// ESP input; `encap` is how it came: plain ESP, or ESP-in-UDP with its UDP header removed.
    IpL4Protocol::RxStatus InputEsp(Ptr<Packet> packet,
                                    const Ipv4Header& header,
                                    Ptr<Ipv4Interface> incomingInterface,
                                    XfrmEncapType encap = XfrmEncapType::None,
                                    uint16_t encapSport = 0);
    /// A datagram to an ESP-in-UDP port (Linux's xfrm4_udp_encap_rcv): true when the stack took
    /// it (ESP, a keepalive, or a bad checksum), false to hand it to the UDP socket (IKE behind
    /// its non-ESP marker, or anything too short to be ESP).
    bool InputUdpEncap(Ptr<Packet> datagram,
                       const Ipv4Header& header,
                       Ptr<Ipv4Interface> incomingInterface);
    bool InputHook(Ptr<const Packet> packet, const Ipv4Header& header, Ptr<const NetDevice> idev);

    // The IPv6 entry points (xfrm-output6.cc, xfrm-input6.cc); not for users.
    void OutputFromL4v6(Ptr<Packet> packet,
                        Ipv6Address src,
                        Ipv6Address dst,
                        uint8_t protocol,
                        Ptr<Ipv6Route> route);
    /// ESP input over IPv6 (xfrm6_rcv): packet is the ESP frame, the extension headers before
    /// it already processed by IPv6.
    IpL4Protocol::RxStatus InputEsp6(Ptr<Packet> packet,
                                     const Ipv6Header& header,
                                     Ptr<Ipv6Interface> incomingInterface);
    /// IPv6 packets routing sees (forwarded ones): the forward policy check, then protection by
    /// an out policy. True when XFRM consumed the packet.
    bool InputHook6(Ptr<const Packet> packet, const Ipv6Header& header, Ptr<const NetDevice> idev);
    /// The inbound policy check of an IPv6 TCP or UDP segment (protocol) delivered to this node
    /// (xfrm6_policy_check); false when it was dropped.
    bool LocalInputAllowed6(Ptr<const Packet> segment, const Ipv6Header& header, uint8_t protocol);

  protected:
    void DoDispose() override;

  private:
    /// The SPD's choice for a flow (m_spd.Lookup); the policy found records the use
    /// (curlft.use_time, as Linux's xfrm_policy_lookup_bytype callers set it).
    Ptr<XfrmPolicy> LookupPolicy(XfrmDir dir, const XfrmFlow& flow);
    /// False (naming the field) when the node lacks the IP version the outer addresses or the
    /// selector need.
    bool HasFamilies(const XfrmAddress& outer, const XfrmSelector& sel, std::string* error) const;
    void Drop(XfrmDrop reason, Ptr<const Packet> packet);
    /// Offers a validated policy to its device and puts it in the SPD, then removes old.
    Ptr<XfrmPolicy> InsertPolicy(const XfrmPolicyConfig& config,
                                 Ptr<XfrmPolicy> old,
                                 std::string* error);
    void Count(XfrmEvent event);
    /// ESP output for a packet the policy says to protect: inner is the header of the packet
    /// to protect, payload what follows it. False if dropped.
    bool Protect(Ptr<XfrmPolicy> policy,
                 const Ipv4Header& inner,
                 Ptr<const Packet> payload,
                 Ptr<Ipv4Route> route);
    /// The core's checks before plaintext goes to a packet-offload device (Linux's xfrm_output,
    /// packet-offload branch): a state the policy's template resolves to (xfrm_state_find),
    /// then xfrm_dev_offload_ok (fits xfrm_state_mtu, no IPv4 options, the device's
    /// offload_ok). False if dropped; a too-big packet's sender learns the MTU after ESP.
    bool PacketOffloadOk(Ptr<XfrmPolicy> policy,
                         const Ipv4Header& header,
                         Ptr<const Packet> payload);
    /// HW_ESP_TX_CSUM: zero the inner TCP/UDP checksum in m_payload (the L4 segment of proto
    /// at start, pseudo-header from src and dst of the inner family) and tell the device where
    /// it is, as Linux leaves a CHECKSUM_PARTIAL skb's checksum to the NIC.
    void LeaveChecksumToDevice(uint8_t proto,
                               const XfrmAddress& src,
                               const XfrmAddress& dst,
                               uint32_t start,
                               uint32_t ivLength,
                               XfrmOffloadTxTag* tag);
    /// The core's part of xfrm_dev_offload_ok for crypto offload: x is offloaded to dev, the
    /// device the outer packet leaves through, and m_payload's ESP packet with an outer header
    /// of outerHeaderLength fits its MTU (else software ESP, fragmented after ESP).
    bool CryptoOffloadFits(Ptr<XfrmState> x, Ptr<NetDevice> dev, uint32_t outerHeaderLength);
    /// Device-ready ESP of m_payload for a crypto-offloaded x (esp_xmit: header, trailer and
    /// sequence number written, encryption left to the device): the handle and the ESN high
    /// bits go into tag, which the packet carries.
    Ptr<Packet> FrameForDevice(Ptr<XfrmState> x,
                               uint64_t seq,
                               uint8_t nextHeader,
                               XfrmOffloadTxTag& tag);
    /// The route's MTU when a TCP segment is larger than it (a GSO super-packet: ns-3's IPv4
    /// would fragment it), else 0; finds the route when none is given.
    uint32_t GsoLinkMtu(Ptr<const Packet> packet,
                        Ipv4Address src,
                        Ipv4Address dst,
                        uint8_t protocol,
                        Ptr<Ipv4Route>* route);
    /// The gso_size (TCP payload bytes per segment) for IPv4 packets of ipMtu bytes; 0 if none.
    uint32_t GsoSize(Ptr<const Packet> tcp, uint32_t ipMtu) const;
    /// Software GSO (tcp_gso_segment): cuts a TCP super-packet into segments of mss payload
    /// bytes and sends each through OutputFromL4, as any packet of its size.
    void SoftwareGso(Ptr<Packet> packet,
                     Ipv4Address src,
                     Ipv4Address dst,
                     uint32_t mss,
                     Ptr<Ipv4Route> route);
    /// A super-packet an IPsec policy protects: whole to a GSO_ESP device (crypto or packet
    /// offload, transport mode), else software GSO with the MSS the SA's MTU allows.
    void OutputGso(Ptr<XfrmPolicy> policy,
                   const Ipv4Header& inner,
                   Ptr<Packet> packet,
                   Ptr<Ipv4Route> route);
    /// Crypto offload of a super-packet (esp_xmit for a GSO skb): one ESP frame with the first
    /// of segs sequence numbers reserved at once (xfrm_replay_overflow_offload). False when it
    /// must be segmented in software instead (ESN low bits would wrap, offload_ok refused).
    bool CryptoOffloadGso(Ptr<XfrmState> x,
                          const Ipv4Header& inner,
                          Ptr<Packet> packet,
                          Ptr<Ipv4Route> route,
                          uint32_t mss,
                          uint32_t segs);
    /// The state that serves an outbound policy for a flow (xfrm_state_find); when there is
    /// none, the key manager is asked for one (AcquireCallback).
    Ptr<XfrmState> ResolveOutbound(Ptr<XfrmPolicy> policy, const XfrmFlow& flow);
    /// The first part of ESP output for either family (xfrm_output_one): x is the state the
    /// policy resolved to (nullptr: none), then its lifetime and its next sequence number.
    /// nullptr if dropped.
    Ptr<XfrmState> OutputState(Ptr<XfrmState> x, Ptr<const Packet> payload, uint64_t* seq);
    /// ESP of m_payload with seq and nextHeader: framed for x's crypto-offload device when tag
    /// is given (FrameForDevice), else encrypted here.
    Ptr<Packet> BuildEsp(Ptr<XfrmState> x, uint64_t seq, uint8_t nextHeader, XfrmOffloadTxTag* tag);
    /// ESP of m_payload with seq and nextHeader, sent from src to dst (SendOuter), in a UDP
    /// datagram when x has ESP-in-UDP encapsulation: framed for x's crypto-offload device when
    /// tag is given (its checksum fields already set), else encrypted here.
    void SendEsp(Ptr<XfrmState> x,
                 uint64_t seq,
                 uint8_t nextHeader,
                 const XfrmAddress& src,
                 const XfrmAddress& dst,
                 Ptr<Ipv4Route> route4,
                 Ptr<Ipv6Route> route6,
                 XfrmOffloadTxTag* tag);
    /// What IPv6 may carry through x on a link of linkMtu: xfrm_state_mtu, at least 1280.
    uint32_t Ipv6StateMtu(Ptr<XfrmState> x, uint32_t linkMtu) const;
    /// ESP output of an IPv6 packet (header inner, then payload, selector fields flow): transport
    /// or tunnel mode, to an IPv6 or (IPv6-in-IPv4) an IPv4 peer. forwarded: a router's packet,
    /// which must fit the SA's MTU or is refused with ICMPv6 Packet Too Big (ip6_forward with the
    /// xfrm route's MTU).
    bool Protect6(Ptr<XfrmPolicy> policy,
                  const XfrmFlow& flow,
                  const Ipv6Header& inner,
                  Ptr<const Packet> payload,
                  Ptr<Ipv6Route> route,
                  bool forwarded);
    /// OutputRaw of an IPv6 packet.
    bool OutputRaw6(Ptr<Packet> ipPacket);
    /// ICMPv6 Packet Too Big with mtu to the source of the packet (header, payload).
    void SendTooBig6(const Ipv6Header& header, Ptr<const Packet> payload, uint32_t mtu);
    /// The core's checks before plaintext IPv6 goes to a packet-offload device (the IPv6 side
    /// of PacketOffloadOk; the device checks the MTU after ESP). False if dropped.
    bool PacketOffloadOk6(Ptr<XfrmPolicy> policy,
                          const XfrmFlow& flow,
                          const Ipv6Header& header,
                          Ptr<const Packet> payload,
                          Ptr<Ipv6Route> route);
    /// Sends an ESP frame (or ESP-in-UDP datagram, protocol 17) from src to dst over the IP of
    /// their family; a route only when it is the one to use (transport mode), else the one
    /// to dst.
    void SendOuter(Ptr<Packet> esp,
                   const XfrmAddress& src,
                   const XfrmAddress& dst,
                   uint8_t protocol,
                   Ptr<Ipv4Route> route4,
                   Ptr<Ipv6Route> route6);
    /// The family-free part of ESP input (xfrm_input up to the mode's input): the SA, how the
    /// packet came, the device's CRYPTO_DONE status, replay, lifetime, decryption and trailer,
    /// the inner packet of tunnel mode; then the replay window and counters advance. nullptr if
    /// dropped; else the plaintext is in m_frame at *offset, *length bytes, after next header.
    Ptr<XfrmState> OpenEsp(Ptr<Packet> packet,
                           const XfrmAddress& daddr,
                           XfrmEncapType encap,
                           uint32_t* offset,
                           uint32_t* length,
                           uint8_t* nextHeader);
    /// Hands a decapsulated tunnel-mode inner packet (IPv4 or IPv6, by nextHeader) back to the
    /// IP of its family with the secpath of x (xfrm4/6 tunnel input re-injects it).
    void ReinjectInner(Ptr<XfrmState> x,
                       Ptr<Packet> inner,
                       uint8_t nextHeader,
                       Ptr<NetDevice> device);
    Ptr<Ipv6Route> RouteTo6(Ipv6Address src, Ipv6Address dst);
    /// The device the route from src to dst leaves through (either family); nullptr without a
    /// route.
    Ptr<NetDevice> OuterDevice(const XfrmAddress& src, const XfrmAddress& dst);
    /// OutputFromHost's plaintext: the host's packet, byte for byte, to the route's device.
    bool SendHostBytes(Ptr<Packet> ipPacket, Ptr<Ipv4Route> route);
    /// Sends an IPv4 packet of any size to the route's interface, past ns-3's fragmentation.
    bool SendWhole(Ptr<Packet> payload, Ipv4Header header, Ptr<Ipv4Route> route);
    /// Recomputes a decrypted TCP/UDP segment's checksum for the addresses it arrived with.
    static void FixTransportChecksum(Ipv4Address src,
                                     Ipv4Address dst,
                                     uint8_t proto,
                                     uint8_t* segment,
                                     uint32_t length);
    /// Delivers a transport-mode payload to its L4 protocol after the inbound policy check.
    IpL4Protocol::RxStatus DeliverTransport(Ptr<XfrmState> x,
                                            Ptr<Packet> payload,
                                            Ipv4Header header,
                                            Ptr<Ipv4Interface> incomingInterface);
    /// Inbound policy check for a packet that arrived in plaintext or through a secpath.
    bool InboundPolicyAllows(XfrmDir dir, const XfrmFlow& flow, Ptr<const Packet> packet);
    /// km.dying: the soft expire, once; the key manager rekeys.
    void SoftExpireState(Ptr<XfrmState> x);
    /// XFRM_STATE_EXPIRED: the hard expire; the state is deleted right after.
    void ExpireState(Ptr<XfrmState> x);
    /// Linux's xfrm_timer_handler: the time limits of one state; re-arms for the next one.
    void LifetimeTimer(Ptr<XfrmState> x);
    /// xdo_dev_state_delete now; xdo_dev_state_free now or after the GC delay.
    void DetachFromDevice(Ptr<XfrmState> x, bool freeNow);
    /// Calls xdo_dev_state_free for a deleted state if it is still waiting for it.
    void FreeDeletedState(Ptr<XfrmState> x);
    void OnMtuExceeded(Ptr<const Packet> ipPacket, uint32_t mtu);
    void AttachDevice(Ptr<NetDevice> dev);
    /// The IPv6 hooks: down targets of ICMPv6, TCP and UDP, ESP as IPv6 protocol 50, the
    /// L4 guards and the routing hook.
    void InstallIpv6();
    Ptr<Ipv4Route> RouteTo(Ipv4Address src, Ipv4Address dst);
    /// Hands a packet no policy protects to where the L4 protocol would have sent it.
    void SendPlaintext(Ptr<Packet> packet,
                       Ipv4Address src,
                       Ipv4Address dst,
                       uint8_t protocol,
                       Ptr<Ipv4Route> route);
    /// A packet-offload policy's traffic must leave through the device that holds the policy;
    /// anywhere else it would go out in plaintext (Linux drops it in validate_xmit_xfrm).
    bool LeavesThroughPolicyDevice(const XfrmPolicy& policy, Ptr<Ipv4Route> route);

    Ptr<Node> m_node;
    Ptr<Ipv4L3Protocol> m_ipv4;
    Ptr<Ipv6L3Protocol> m_ipv6; //!< nullptr on a node without IPv6
    XfrmStateTable m_sad;
    XfrmPolicyTable m_spd;
    std::map<int, IpL4Protocol::DownTargetCallback> m_l4DownTargets;
    std::map<int, IpL4Protocol::DownTargetCallback6> m_l4DownTargets6;
    std::vector<Ptr<NetDevice>> m_attachedDevices;
    std::vector<uint8_t> m_payload;  //!< reused per packet: the bytes to protect
    std::vector<uint8_t> m_frame;    //!< reused per packet: the ESP frame
    std::vector<uint8_t> m_gsoBytes; //!< reused per super-packet: its TCP bytes
    std::array<uint64_t, size_t(XfrmDrop::Count)> m_drops{};
    std::array<uint64_t, size_t(XfrmEvent::Count)> m_events{};
    uint16_t m_identification{0};
    std::set<uint16_t> m_udpEncapPorts;
    Ptr<UdpEncapL4Protocol> m_udpEncap;       //!< in front of UDP once a port is enabled
    std::vector<Ptr<XfrmL4Guard>> m_l4Guards; //!< in front of IPv6 TCP and UDP
    Time m_stateFreeDelay;
    std::vector<Ptr<XfrmState>> m_awaitingFree; //!< deleted on the device, not yet freed
    ExpireCallback m_expireCallback;
    AcquireCallback m_acquireCallback;
    MappingCallback m_mappingCallback;
    HostPmtuCallback m_hostPmtu;
    /// (protocol, port, dir) -> the socket's policy (a selector-less XfrmPolicy outside the SPD)
    std::map<std::tuple<uint8_t, uint16_t, XfrmDir>, Ptr<XfrmPolicy>> m_socketPolicies;
    /// The policy of a local socket that flow belongs to in dir, if one was set.
    Ptr<XfrmPolicy> SocketPolicyOf(XfrmDir dir, const XfrmFlow& flow) const;
    TracedCallback<Ptr<const Packet>, XfrmDrop> m_dropTrace;
    TracedCallback<Ptr<XfrmState>, bool> m_expireTrace;
    TracedCallback<Ptr<XfrmState>, std::string> m_fallbackTrace;
};

} // namespace ns3

#endif // XFRM_STACK_H
