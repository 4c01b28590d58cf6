// The one topology builder of offloadlab: the scenarios of `offloadlab run`, the emu_nic tests
// and the conformance suite all build their networks here, on one address plan.
//
//  - host-to-host (transport mode): hostA 10.0.0.1 <-EmuNic-> hostB 10.0.0.2, selectors /32;
//  - gateway-to-gateway (tunnel mode):
//      hostA 10.1.0.1 -lanA- 10.1.0.2 gwA 192.0.2.1 =wan= 192.0.2.2 gwB 10.2.0.1 -lanB- 10.2.0.2
//      hostB
//    every link is an EmuNic; only the WAN link carries ESP; subnet selectors 10.1.0.0/24 and
//    10.2.0.0/24;
//  - many tunnels (tunnel mode, tunnels N > 1): gwA =wan= gwB as above, and H = ceil(N / 100)
//    hosts on each side, each on its own LAN link (hostAj 10.(16+j).255.1 - gwA, gwB -
//    hostBj 10.(48+j).255.2, /16 each). Tunnel i = 100j + k is for hostAj's LAN
//    10.(16+j).0.0/16 <-> 10.(48+j).k.0/24, a remote subnet of its own; hostBj holds the first
//    address of each of its subnets (10.48.0.1, 10.48.1.1, ...), so that each tunnel has its own
//    traffic. (ns-3 TCP always sends from the route's source address, so the A side cannot use
//    per-tunnel addresses; and ns-3 walks a host's address list for every packet it receives,
//    hence a hundred per host.)
//
// Every node has the internet stack, global routes and the software IPsec layer (XfrmStack).
// A topology can install a test SA pair with its policies for one data path (InstallIpsec), or
// leave IPsec to the key manager (the scenarios).
#ifndef TOPOLOGY_H
#define TOPOLOGY_H

#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "esp-algorithm.h"
#include "xfrm-policy.h"
#include "xfrm-stack.h"
#include "xfrm-state.h"

#include "ns3/data-rate.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ns3
{

/// 16-byte AES key followed by the 4-byte salt, as `ip xfrm ... aead 'rfc4106(gcm(aes))'` takes.
std::vector<uint8_t> GcmKeyBlob(uint8_t seed);
/// rfc4106(gcm(aes)) with a 128-bit key derived from seed.
EspAlgorithm DefaultGcm(uint8_t seed);
/// cbc(aes) + hmac(sha256) with keys derived from seed.
EspAlgorithm CbcSha256Algorithm(uint8_t seed);
/// "10.0.0.1" (or an IPv6 address's text).
std::string Dotted(const XfrmAddress& address);

struct TopologyOptions
{
    XfrmOffloadType mode{XfrmOffloadType::None}; //!< the data path of the IPsec endpoints
    XfrmMode ipMode{XfrmMode::Transport};        //!< host-to-host (transport) or gateways (tunnel)
    // Every link, and the two EmuNic devices of the IPsec link.
    DataRate dataRate{"1Gbps"};
    Time delay{MicroSeconds(20)};
    std::string queueSize{"1000p"}; //!< "" keeps the device's default queue
    bool espOffload{true};
    uint32_t saCapacity{64};
    uint32_t policyCapacity{64};
    /// Install the test SA pair and policies (false: the caller, or a key manager, adds them).
    bool installIpsec{true};
    /// Algorithms of the A->B and B->A SAs; default rfc4106(gcm(aes)) with distinct keys.
    std::optional<EspAlgorithm> algorithmAB;
    std::optional<EspAlgorithm> algorithmBA;
    bool esn{false};
    uint32_t replayWindow{32};
    XfrmLifetimeConfig lifetimeOutA; //!< the A->B SA on A (the sender's outbound SA)
    XfrmLifetimeConfig lifetimeInB;  //!< the A->B SA on B (the receiver's inbound SA)
    uint32_t policyPriority{0};      //!< priority of the installed out/in policies
    /// The test SA pair in ESP-in-UDP (RFC 3948): A's packets from encapPortA to encapPortB,
    /// B's back; each end's stack takes ESP-in-UDP on its own port (a peer behind a NAT is
    /// seen from another port than 4500).
    bool udpEncap{false};
    uint16_t encapPortA{4500};
    uint16_t encapPortB{4500};
    /// Tunnel mode: the number of subnet pairs between the gateways (1..1000); above 1 the
    /// shape has many hosts (see above) and the test SA pair is not installed (a key manager
    /// adds one connection per tunnel).
    uint32_t tunnels{1};
    /// The IP version of the protected traffic (hosts, selectors) and of the SA endpoints
    /// (ESP's outer header). Transport mode needs one family; tunnel mode allows IPv6-in-IPv6,
    /// IPv4-in-IPv6 and IPv6-in-IPv4. Any IPv6 makes every link dual-stack (IPv6 on fd00::/8
    /// ULA prefixes: ns-3 never forwards 2001:db8::/32) with static routes; one tunnel only.
    XfrmAddress::Family innerFamily{XfrmAddress::Family::Ipv4};
    XfrmAddress::Family outerFamily{XfrmAddress::Family::Ipv4};
    /// Told of every SA or policy the topology could not install; without one the message is
    /// logged and kept in Topology::errors.
    std::function<void(const std::string&)> onError;
};

/// The helper for a link of opt's rate, delay and queue (every link of a topology is an EmuNic).
EmuNicHelper LinkHelperOf(const TopologyOptions& opt);

/// A wire link worth capturing.
struct TopologyLink
{
    std::string name;
    Ptr<NetDevice> captureDevice;
};

struct Topology
{
    TopologyOptions opt;
    std::string name; //!< "host-to-host-transport" or "gateway-tunnel", "-v6" / "-4in6" / "-6in4"
    NodeContainer nodes;
    std::vector<std::string> nodeNames; //!< in the order of `nodes`
    std::vector<TopologyLink> links;
    NetDeviceContainer devices; //!< every device of every link
    Ptr<Node> hostA;            //!< traffic source / sink (many tunnels: the first host)
    Ptr<Node> hostB;
    Ptr<Node> endA; //!< IPsec endpoints: the hosts (transport) or the gateways (tunnel)
    Ptr<Node> endB;
    Ptr<EmuNicNetDevice> devA; //!< the two ends of the IPsec link
    Ptr<EmuNicNetDevice> devB;
    std::vector<Ptr<EmuNicNetDevice>> lanDevices; //!< tunnel only: the LAN devices
    Ptr<XfrmStack> stackA;                        //!< the endpoints' IPsec layers
    Ptr<XfrmStack> stackB;
    Ipv4Address hostAddrA;
    Ipv4Address hostAddrB;
    Ipv4Address endAddrA; //!< addresses on the IPsec link
    Ipv4Address endAddrB;
    Ipv4Address netA{"10.1.0.0"}; //!< tunnel: the protected subnets (/24)
    Ipv4Address netB{"10.2.0.0"};
    // Their IPv6 twins, set when the options ask for IPv6.
    Ipv6Address hostAddr6A;
    Ipv6Address hostAddr6B;
    Ipv6Address endAddr6A;
    Ipv6Address endAddr6B;
    Ipv6Address net6A{"fd00:1::"}; //!< tunnel: the protected IPv6 subnets (/64)
    Ipv6Address net6B{"fd00:2::"};
    /// Many tunnels: tunnel i protects tunnelNetsA[i]/16 <-> tunnelNetsB[i]/24, between the
    /// addresses tunnelHostsA[i] on tunnelNodesA[i] and tunnelHostsB[i] on tunnelNodesB[i].
    /// Empty with one tunnel (netA <-> netB, hostAddrA on hostA, hostAddrB on hostB).
    std::vector<Ipv4Address> tunnelNetsA;
    std::vector<Ipv4Address> tunnelNetsB;
    std::vector<Ipv4Address> tunnelHostsA;
    std::vector<Ipv4Address> tunnelHostsB;
    std::vector<Ptr<Node>> tunnelNodesA;
    std::vector<Ptr<Node>> tunnelNodesB;
    // The test SA pair.
    uint32_t spiAB{0x0000a0b1};
    uint32_t spiBA{0x0000b0a2};
    uint32_t reqidAB{1};
    uint32_t reqidBA{2};
    EspAlgorithm algAB;
    EspAlgorithm algBA;
    Ptr<XfrmState> outA; //!< A->B on A
    Ptr<XfrmState> inB;  //!< A->B on B
    Ptr<XfrmState> outB; //!< B->A on B
    Ptr<XfrmState> inA;  //!< B->A on A
    std::vector<Ptr<XfrmPolicy>> policiesA;
    std::vector<Ptr<XfrmPolicy>> policiesB;
    std::vector<std::string> errors; //!< what could not be installed (when opt.onError is unset)

    bool Tunnel() const;
    bool UsesIpv6() const; //!< either family is IPv6

    /// The addresses the SAs and policies use, in the families the options chose: a host
    /// (protected traffic), an IPsec endpoint, a protected subnet and its prefix length.
    XfrmAddress HostAddr(bool a) const;
    XfrmAddress EndAddr(bool a) const;
    XfrmAddress Net(bool a) const;
    uint8_t NetPrefix() const;

    /// The node's name ("hostA", "gwB", ...), or "node<id>".
    std::string NodeName(uint32_t nodeId) const;

    /**
     * The configuration of one SA of the pair. aToB chooses the flow (A->B or B->A); onSender
     * chooses the copy: the sender's outbound SA (offload dir out on the sender's IPsec device)
     * or the receiver's inbound SA (dir in on the receiver's device).
     */
    XfrmStateConfig SaConfig(bool aToB, bool onSender, XfrmOffloadType type) const;
    /// The out or in (or fwd) policy of one end; packet offload only for out and in.
    XfrmPolicyConfig PolicyConfig(bool onA, XfrmDir dir, XfrmOffloadType type) const;
    /// Adds one SA of the pair; nullptr (and an error) when the stack refuses it.
    Ptr<XfrmState> AddSa(bool aToB,
                         bool onSender,
                         XfrmOffloadType type,
                         const XfrmLifetimeConfig& lifetime);
    /// Adds one policy of one end; nullptr (and an error) when the stack refuses it.
    Ptr<XfrmPolicy> AddPolicy(bool onA, XfrmDir dir, XfrmOffloadType type);
    /// Installs both SA pairs and the policies of both ends for opt.mode.
    void InstallIpsec();

    /// Records or reports an error (opt.onError).
    void Fail(const std::string& error);
};

/// Builds the topology opt.ipMode names, with checksums on (as on a real host).
std::unique_ptr<Topology> BuildTopology(const TopologyOptions& opt);

} // namespace ns3

#endif // TOPOLOGY_H
