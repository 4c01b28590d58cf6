// Shared fixture of the offload simulation tests (header only).
//
// Builds real ns-3 topologies with EmuNic links, the internet stack, global routing and the
// software IPsec layer (XfrmStack), and installs matching rfc4106(gcm(aes)) SA pairs and policies
// for one of the three data paths: software IPsec, crypto offload or packet offload.
//
//  - host-to-host (transport mode): A 10.1.1.1 <-EmuNic-> B 10.1.1.2, selectors /32;
//  - gateway-to-gateway (tunnel mode):
//      hostA 10.1.1.1 -LAN- 10.1.1.2 gwA 10.1.2.1 =WAN= 10.1.2.2 gwB 10.1.3.1 -LAN- 10.1.3.2 hostB
//    LANs are plain EmuNic links (no offload requested on them), the WAN link carries ESP,
//    subnet selectors, out + in policies on each gateway and a software fwd policy for the
//    remote subnet.
//
// Besides the topology it has the small tools every test file needs: UDP senders and sinks on
// ns-3 sockets, a capture of the IPsec link (PhyTxBegin of both ends, PPP header stripped), and
// builders of crafted IPv4 / UDP / ESP packets for injection from the peer device.

#ifndef OFFLOAD_TEST_TOPOLOGY_H
#define OFFLOAD_TEST_TOPOLOGY_H

#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipsec-helper.h"
#include "xfrm-policy.h"
#include "xfrm-stack.h"
#include "xfrm-state.h"

#include "ns3/boolean.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/uinteger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace offloadtest
{

/// A value-parameterised test whose simulation is destroyed after each case.
template<typename Param> class SimulationTest : public testing::TestWithParam<Param>
{
  protected:
    void TearDown() override
    {
        ns3::Simulator::Destroy();
    }
};

using namespace ns3;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kUdpPort = 9000;
constexpr uint16_t kEtherTypeIpv4Value = 0x0800;
constexpr uint8_t kProtoIpip = 4;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoEsp = 50;

// ---------------------------------------------------------------------------------------------
// Modes

/// The three data paths of DESIGN.md.
enum class Mode : uint8_t
{
    Sw,
    Crypto,
    Packet,
};

/// Host-to-host transport mode, or gateway-to-gateway tunnel mode.
enum class IpMode : uint8_t
{
    Transport,
    Tunnel,
};

inline const char*
ModeName(Mode mode)
{
    switch (mode)
    {
        case Mode::Sw:
            return "sw";
        case Mode::Crypto:
            return "crypto";
        case Mode::Packet:
            return "packet";
    }
    return "?";
}

inline const char*
IpModeName(IpMode ipMode)
{
    return ipMode == IpMode::Transport ? "transport" : "tunnel";
}

/// A data path to test: offload mode x IPsec mode.
struct PathParam
{
    Mode mode;
    IpMode ipMode;
};

/// How GoogleTest prints parameters (ctest shows them next to each test name).
inline void
PrintTo(Mode mode, std::ostream* os)
{
    *os << ModeName(mode);
}

inline void
PrintTo(const PathParam& param, std::ostream* os)
{
    *os << ModeName(param.mode) << " " << IpModeName(param.ipMode);
}

/// Readable test names, e.g. "packet_tunnel".
inline std::string
PathName(const testing::TestParamInfo<PathParam>& info)
{
    return std::string(ModeName(info.param.mode)) + "_" + IpModeName(info.param.ipMode);
}

inline XfrmOffloadType
OffloadTypeOf(Mode mode)
{
    switch (mode)
    {
        case Mode::Sw:
            return XfrmOffloadType::None;
        case Mode::Crypto:
            return XfrmOffloadType::Crypto;
        case Mode::Packet:
            return XfrmOffloadType::Packet;
    }
    return XfrmOffloadType::None;
}

// ---------------------------------------------------------------------------------------------
// Keys

/// 16-byte AES key followed by the 4-byte salt, as `ip xfrm ... aead 'rfc4106(gcm(aes))'` takes.
inline Bytes
GcmKeyBlob(uint8_t seed)
{
    Bytes blob(20);
    for (size_t i = 0; i < blob.size(); ++i)
    {
        blob[i] = static_cast<uint8_t>(seed + 7 * i + 1);
    }
    return blob;
}

inline EspAlgorithm
DefaultGcm(uint8_t seed)
{
    return EspAlgorithm::Gcm(GcmKeyBlob(seed));
}

inline EspAlgorithm
CbcSha256Algorithm(uint8_t seed)
{
    Bytes enc(16);
    Bytes auth(32);
    for (size_t i = 0; i < enc.size(); ++i)
    {
        enc[i] = static_cast<uint8_t>(seed + 3 * i);
    }
    for (size_t i = 0; i < auth.size(); ++i)
    {
        auth[i] = static_cast<uint8_t>(seed * 5 + 11 * i);
    }
    return EspAlgorithm::CbcSha256(enc, auth);
}

inline std::string
Dotted(Ipv4Address a)
{
    std::ostringstream os;
    a.Print(os);
    return os.str();
}

// ---------------------------------------------------------------------------------------------
// Topology

struct TopologyOptions
{
    Mode mode{Mode::Sw};
    IpMode ipMode{IpMode::Transport};
    /// Install the SA pairs and policies (false: the test adds its own).
    bool installIpsec{true};
    /// Algorithms of the A->B and B->A SAs; default rfc4106(gcm(aes)) with distinct keys.
    std::optional<EspAlgorithm> algorithmAB;
    std::optional<EspAlgorithm> algorithmBA;
    bool esn{false};
    uint32_t replayWindow{32};
    XfrmLifetimeConfig lifetimeOutA; //!< the A->B SA on A (the sender's outbound SA)
    XfrmLifetimeConfig lifetimeInB;  //!< the A->B SA on B (the receiver's inbound SA)
    uint32_t policyPriority{0};      //!< priority of the installed out/in policies
    // Attributes of the two EmuNic devices of the IPsec link.
    bool espOffload{true};
    uint32_t saCapacity{64};
    uint32_t policyCapacity{64};
    std::string dataRate{"1Gbps"};
    Time delay{MicroSeconds(20)};
};

struct Topology
{
    TopologyOptions opt;
    NodeContainer nodes;
    Ptr<Node> hostA; //!< traffic source / sink
    Ptr<Node> hostB;
    Ptr<Node> endA; //!< IPsec endpoints: the hosts (transport) or the gateways (tunnel)
    Ptr<Node> endB;
    Ptr<EmuNicNetDevice> devA; //!< the two ends of the IPsec link
    Ptr<EmuNicNetDevice> devB;
    std::vector<Ptr<EmuNicNetDevice>> lanDevices; //!< tunnel only: the plain LAN devices
    Ptr<XfrmStack> stackA;
    Ptr<XfrmStack> stackB;
    Ipv4Address hostAddrA;
    Ipv4Address hostAddrB;
    Ipv4Address endAddrA; //!< addresses on the IPsec link
    Ipv4Address endAddrB;
    Ipv4Address netA{"10.1.1.0"}; //!< tunnel: the protected subnets (/24)
    Ipv4Address netB{"10.1.3.0"};
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

    bool Tunnel() const
    {
        return opt.ipMode == IpMode::Tunnel;
    }

    /**
     * The configuration of one SA of the pair. aToB chooses the flow (A->B or B->A); onSender
     * chooses the copy: the sender's outbound SA (offload dir out on the sender's IPsec device)
     * or the receiver's inbound SA (dir in on the receiver's device).
     */
    XfrmStateConfig SaConfig(bool aToB, bool onSender, XfrmOffloadType type) const
    {
        XfrmStateConfig c;
        c.saddr = aToB ? endAddrA : endAddrB;
        c.daddr = aToB ? endAddrB : endAddrA;
        c.spi = aToB ? spiAB : spiBA;
        c.reqid = aToB ? reqidAB : reqidBA;
        c.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
        c.sel = Tunnel() ? XfrmSelector::Subnets(aToB ? netA : netB, 24, aToB ? netB : netA, 24)
                         : XfrmSelector::Hosts(aToB ? hostAddrA : hostAddrB,
                                               aToB ? hostAddrB : hostAddrA);
        c.algorithm = aToB ? algAB : algBA;
        c.replayWindow = opt.replayWindow;
        c.esn = opt.esn;
        c.offloadType = type;
        if (type != XfrmOffloadType::None)
        {
            const bool onA = aToB == onSender;
            c.offloadDev = onA ? Ptr<NetDevice>(devA) : Ptr<NetDevice>(devB);
            c.offloadDir = onSender ? XfrmDir::Out : XfrmDir::In;
        }
        return c;
    }

    /// The out or in (or fwd) policy of one end; packet offload only for out and in.
    XfrmPolicyConfig PolicyConfig(bool onA, XfrmDir dir, XfrmOffloadType type) const
    {
        // Out policies protect the end's own flow; in and fwd policies accept the peer's.
        const bool aToB = (dir == XfrmDir::Out) == onA;
        XfrmPolicyConfig p;
        p.dir = dir;
        p.priority = opt.policyPriority;
        p.sel = Tunnel() ? XfrmSelector::Subnets(aToB ? netA : netB, 24, aToB ? netB : netA, 24)
                         : XfrmSelector::Hosts(aToB ? hostAddrA : hostAddrB,
                                               aToB ? hostAddrB : hostAddrA);
        p.action = XfrmPolicyAction::Allow;
        p.hasTemplate = true;
        p.tmpl.mode = Tunnel() ? XfrmMode::Tunnel : XfrmMode::Transport;
        p.tmpl.saddr = aToB ? endAddrA : endAddrB;
        p.tmpl.daddr = aToB ? endAddrB : endAddrA;
        p.tmpl.reqid = aToB ? reqidAB : reqidBA;
        if (type == XfrmOffloadType::Packet && dir != XfrmDir::Fwd)
        {
            p.offloadType = XfrmOffloadType::Packet;
            p.offloadDev = onA ? Ptr<NetDevice>(devA) : Ptr<NetDevice>(devB);
        }
        return p;
    }

    Ptr<XfrmState> AddSa(bool aToB, bool onSender, XfrmOffloadType type,
                         const XfrmLifetimeConfig& lifetime)
    {
        XfrmStateConfig c = SaConfig(aToB, onSender, type);
        c.lifetime = lifetime;
        const bool onA = aToB == onSender;
        std::string error;
        Ptr<XfrmState> x = (onA ? stackA : stackB)->AddState(c, &error);
        EXPECT_TRUE(x) << "AddState " << (aToB ? "A->B" : "B->A") << " on " << (onA ? "A" : "B")
                       << ": " << error;
        return x;
    }

    Ptr<XfrmPolicy> AddPolicy(bool onA, XfrmDir dir, XfrmOffloadType type)
    {
        std::string error;
        Ptr<XfrmPolicy> p =
            (onA ? stackA : stackB)->AddPolicy(PolicyConfig(onA, dir, type), &error);
        EXPECT_TRUE(p) << "AddPolicy " << XfrmDirName(dir) << " on " << (onA ? "A" : "B") << ": "
                       << error;
        if (p)
        {
            (onA ? policiesA : policiesB).push_back(p);
        }
        return p;
    }

    /// Installs both SA pairs and the policies of both ends for the configured mode.
    void InstallIpsec()
    {
        const XfrmOffloadType type = OffloadTypeOf(opt.mode);
        outA = AddSa(true, true, type, opt.lifetimeOutA);
        inB = AddSa(true, false, type, opt.lifetimeInB);
        outB = AddSa(false, true, type, XfrmLifetimeConfig{});
        inA = AddSa(false, false, type, XfrmLifetimeConfig{});
        for (bool onA : {true, false})
        {
            AddPolicy(onA, XfrmDir::Out, type);
            AddPolicy(onA, XfrmDir::In, type);
            if (Tunnel())
            {
                AddPolicy(onA, XfrmDir::Fwd, XfrmOffloadType::None);
            }
        }
    }

    std::map<std::string, uint64_t> CountersA() const
    {
        return devA->GetCounters();
    }

    std::map<std::string, uint64_t> CountersB() const
    {
        return devB->GetCounters();
    }
};

/// A counter of the NIC, 0 when the device never created it.
inline uint64_t
Counter(Ptr<EmuNicNetDevice> dev, const std::string& name)
{
    const auto all = dev->GetCounters();
    auto it = all.find(name);
    return it == all.end() ? 0 : it->second;
}

inline void
EnableChecksums()
{
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
}

inline std::unique_ptr<Topology>
BuildTopology(const TopologyOptions& opt)
{
    EnableChecksums();
    auto t = std::make_unique<Topology>();
    t->opt = opt;
    t->algAB = opt.algorithmAB ? *opt.algorithmAB : DefaultGcm(0x11);
    t->algBA = opt.algorithmBA ? *opt.algorithmBA : DefaultGcm(0x77);

    EmuNicHelper ipsecLink;
    ipsecLink.SetDeviceAttribute("DataRate", StringValue(opt.dataRate));
    ipsecLink.SetDeviceAttribute("EspOffload", BooleanValue(opt.espOffload));
    ipsecLink.SetDeviceAttribute("SaCapacity", UintegerValue(opt.saCapacity));
    ipsecLink.SetDeviceAttribute("PolicyCapacity", UintegerValue(opt.policyCapacity));
    ipsecLink.SetChannelAttribute("Delay", TimeValue(opt.delay));
    ipsecLink.SetQueueSize("1000p");

    InternetStackHelper internet;
    Ipv4AddressHelper addresses;
    if (opt.ipMode == IpMode::Transport)
    {
        t->nodes.Create(2);
        t->hostA = t->endA = t->nodes.Get(0);
        t->hostB = t->endB = t->nodes.Get(1);
        NetDeviceContainer link = ipsecLink.Install(t->hostA, t->hostB);
        t->devA = DynamicCast<EmuNicNetDevice>(link.Get(0));
        t->devB = DynamicCast<EmuNicNetDevice>(link.Get(1));
        internet.Install(t->nodes);
        addresses.SetBase("10.1.1.0", "255.255.255.0");
        Ipv4InterfaceContainer ifs = addresses.Assign(link);
        t->hostAddrA = t->endAddrA = ifs.GetAddress(0);
        t->hostAddrB = t->endAddrB = ifs.GetAddress(1);
    }
    else
    {
        t->nodes.Create(4);
        t->hostA = t->nodes.Get(0);
        t->endA = t->nodes.Get(1);
        t->endB = t->nodes.Get(2);
        t->hostB = t->nodes.Get(3);
        EmuNicHelper lan; // plain EmuNic: nobody asks it for offload
        lan.SetDeviceAttribute("DataRate", StringValue(opt.dataRate));
        lan.SetChannelAttribute("Delay", TimeValue(opt.delay));
        lan.SetQueueSize("1000p");
        NetDeviceContainer lanA = lan.Install(t->hostA, t->endA);
        NetDeviceContainer wan = ipsecLink.Install(t->endA, t->endB);
        NetDeviceContainer lanB = lan.Install(t->endB, t->hostB);
        for (NetDeviceContainer* c : {&lanA, &lanB})
        {
            for (uint32_t i = 0; i < c->GetN(); ++i)
            {
                t->lanDevices.push_back(DynamicCast<EmuNicNetDevice>(c->Get(i)));
            }
        }
        t->devA = DynamicCast<EmuNicNetDevice>(wan.Get(0));
        t->devB = DynamicCast<EmuNicNetDevice>(wan.Get(1));
        internet.Install(t->nodes);
        addresses.SetBase("10.1.1.0", "255.255.255.0");
        Ipv4InterfaceContainer ifA = addresses.Assign(lanA);
        addresses.SetBase("10.1.2.0", "255.255.255.0");
        Ipv4InterfaceContainer ifW = addresses.Assign(wan);
        addresses.SetBase("10.1.3.0", "255.255.255.0");
        Ipv4InterfaceContainer ifB = addresses.Assign(lanB);
        t->hostAddrA = ifA.GetAddress(0);
        t->endAddrA = ifW.GetAddress(0);
        t->endAddrB = ifW.GetAddress(1);
        t->hostAddrB = ifB.GetAddress(1);
    }
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    IpsecHelper ipsec;
    t->stackA = ipsec.Install(t->endA);
    t->stackB = ipsec.Install(t->endB);
    if (opt.installIpsec)
    {
        t->InstallIpsec();
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// UDP traffic on ns-3 sockets

/// Payload of datagram `index` with `size` bytes; a 16-byte marker leads when there is room, so
/// that the plaintext is recognisable on the wire.
inline Bytes
DatagramPayload(uint32_t index, uint32_t size)
{
    static const char kMarker[] = "OFFLOADLAB-PLAIN"; // 16 characters
    Bytes b(size);
    for (uint32_t i = 0; i < size; ++i)
    {
        b[i] = static_cast<uint8_t>(index * 31 + i * 7 + 3);
    }
    if (size >= 16)
    {
        std::copy(kMarker, kMarker + 16, b.begin());
    }
    return b;
}

inline const Bytes&
PlaintextMarker()
{
    static const Bytes marker{'O', 'F', 'F', 'L', 'O', 'A', 'D', 'L',
                              'A', 'B', '-', 'P', 'L', 'A', 'I', 'N'};
    return marker;
}

struct UdpSink
{
    Ptr<Socket> socket;
    std::vector<Bytes> received;
};

inline std::shared_ptr<UdpSink>
InstallUdpSink(Ptr<Node> node, uint16_t port = kUdpPort)
{
    auto sink = std::make_shared<UdpSink>();
    sink->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    sink->socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), port));
    UdpSink* raw = sink.get();
    sink->socket->SetRecvCallback(Callback<void, Ptr<Socket>>(
        [raw](Ptr<Socket> s)
        {
            Address from;
            while (Ptr<Packet> p = s->RecvFrom(from))
            {
                Bytes b(p->GetSize());
                if (!b.empty())
                {
                    p->CopyData(b.data(), b.size());
                }
                raw->received.push_back(std::move(b));
            }
        }));
    return sink;
}

/// ICMP errors a UDP socket was told about (UdpSocketImpl's "IcmpCallback").
struct IcmpRecord
{
    Ipv4Address source;
    uint8_t type{0};
    uint8_t code{0};
    uint32_t info{0};
};

struct UdpSender
{
    Ptr<Socket> socket;
    std::vector<IcmpRecord> icmp;
    uint32_t sendFailures{0};
};

inline std::shared_ptr<UdpSender>
InstallUdpSender(Ptr<Node> node, Ipv4Address dst, uint16_t port = kUdpPort)
{
    auto sender = std::make_shared<UdpSender>();
    sender->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    sender->socket->Bind();
    sender->socket->Connect(InetSocketAddress(dst, port));
    UdpSender* raw = sender.get();
    sender->socket->SetAttribute(
        "IcmpCallback",
        CallbackValue(Callback<void, Ipv4Address, uint8_t, uint8_t, uint8_t, uint32_t>(
            [raw](Ipv4Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info) {
                raw->icmp.push_back(IcmpRecord{source, type, code, info});
            })));
    return sender;
}

inline void
ScheduleDatagram(std::shared_ptr<UdpSender> sender, Time at, const Bytes& payload)
{
    Simulator::Schedule(at,
                        [sender, payload]()
                        {
                            Ptr<Packet> p = payload.empty()
                                                ? Create<Packet>()
                                                : Create<Packet>(payload.data(), payload.size());
                            if (sender->socket->Send(p) < 0)
                            {
                                ++sender->sendFailures;
                            }
                        });
}

/// Schedules one datagram per payload, `gap` apart from `start`; returns when the last goes.
inline Time
ScheduleDatagrams(std::shared_ptr<UdpSender> sender, const std::vector<Bytes>& payloads, Time start,
                  Time gap)
{
    Time at = start;
    for (const auto& p : payloads)
    {
        ScheduleDatagram(sender, at, p);
        at += gap;
    }
    return at;
}

inline void
RunUntil(Time stop)
{
    Simulator::Stop(stop);
    Simulator::Run();
}

// ---------------------------------------------------------------------------------------------
// The wire of the IPsec link

struct WirePacket
{
    bool fromA{true}; //!< transmitted by devA (else by devB)
    Bytes ip;         //!< the IPv4 packet as on the wire, PPP header removed
    Time at;
};

struct WireCapture
{
    std::vector<WirePacket> packets;
    uint32_t nonIpv4{0};

    std::vector<const WirePacket*> From(bool fromA) const
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
};

/// Records every packet either end of the link starts to transmit (each wire packet once).
inline std::shared_ptr<WireCapture>
CaptureWire(Ptr<EmuNicNetDevice> a, Ptr<EmuNicNetDevice> b)
{
    auto capture = std::make_shared<WireCapture>();
    WireCapture* raw = capture.get();
    for (bool fromA : {true, false})
    {
        (fromA ? a : b)
            ->TraceConnectWithoutContext(
                "PhyTxBegin", Callback<void, Ptr<const Packet>>(
                                  [raw, fromA](Ptr<const Packet> p)
                                  {
                                      Bytes bytes(p->GetSize());
                                      if (!bytes.empty())
                                      {
                                          p->CopyData(bytes.data(), bytes.size());
                                      }
                                      // PPP header: protocol 0x0021 is IPv4.
                                      if (bytes.size() < 2 || bytes[0] != 0x00 || bytes[1] != 0x21)
                                      {
                                          ++raw->nonIpv4;
                                          return;
                                      }
                                      raw->packets.push_back(
                                          WirePacket{fromA, Bytes(bytes.begin() + 2, bytes.end()),
                                                     Simulator::Now()});
                                  }));
    }
    return capture;
}

/// The usual rig of a UDP test: the topology, a capture of the IPsec link, a UDP sink on host B
/// and a sender on host A towards it.
struct UdpRig
{
    std::unique_ptr<Topology> t;
    std::shared_ptr<WireCapture> wire;
    std::shared_ptr<UdpSink> sink;
    std::shared_ptr<UdpSender> sender;
};

inline UdpRig
BuildUdpRig(Mode mode, IpMode ipMode)
{
    TopologyOptions opt;
    opt.mode = mode;
    opt.ipMode = ipMode;
    UdpRig rig;
    rig.t = BuildTopology(opt);
    rig.wire = CaptureWire(rig.t->devA, rig.t->devB);
    rig.sink = InstallUdpSink(rig.t->hostB);
    rig.sender = InstallUdpSender(rig.t->hostA, rig.t->hostAddrB);
    return rig;
}

inline uint32_t
IpHeaderLength(const Bytes& ip)
{
    return ip.empty() ? 0 : uint32_t(ip[0] & 0x0f) * 4;
}

inline uint8_t
IpProtocol(const Bytes& ip)
{
    return ip.size() > 9 ? ip[9] : 0;
}

inline uint32_t
ReadBe32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

inline void
WriteBe32(uint8_t* p, uint32_t v)
{
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

inline uint32_t
EspSpiOf(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    return ip.size() >= ihl + 8 ? ReadBe32(ip.data() + ihl) : 0;
}

inline uint32_t
EspSeqOf(const Bytes& ip)
{
    const uint32_t ihl = IpHeaderLength(ip);
    return ip.size() >= ihl + 8 ? ReadBe32(ip.data() + ihl + 4) : 0;
}

inline bool
IsFragment(const Bytes& ip)
{
    return ip.size() >= 8 && ((ip[6] & 0x20) != 0 || ((ip[6] & 0x1f) | ip[7]) != 0);
}

inline bool
Contains(const Bytes& haystack, const Bytes& needle)
{
    return !needle.empty() && std::search(haystack.begin(), haystack.end(), needle.begin(),
                                          needle.end()) != haystack.end();
}

// ---------------------------------------------------------------------------------------------
// Crafted packets

inline Bytes
PacketBytes(Ptr<const Packet> p)
{
    Bytes b(p->GetSize());
    if (!b.empty())
    {
        p->CopyData(b.data(), b.size());
    }
    return b;
}

/// A UDP datagram (header + data) with a correct checksum over the IPv4 pseudo-header.
inline Bytes
UdpDatagramBytes(Ipv4Address src, Ipv4Address dst, uint16_t sport, uint16_t dport,
                 const Bytes& data)
{
    Ptr<Packet> p = data.empty() ? Create<Packet>() : Create<Packet>(data.data(), data.size());
    UdpHeader udp;
    udp.SetSourcePort(sport);
    udp.SetDestinationPort(dport);
    udp.EnableChecksums();
    udp.InitializeChecksum(src, dst, kProtoUdp);
    p->AddHeader(udp);
    return PacketBytes(p);
}

/// An IPv4 packet with a checksummed header; fragment fields as given.
inline Ptr<Packet>
Ipv4PacketOf(Ipv4Address src, Ipv4Address dst, uint8_t protocol, const Bytes& payload,
             uint16_t identification = 0x4242, bool moreFragments = false,
             uint16_t fragmentOffsetBytes = 0)
{
    Ptr<Packet> p =
        payload.empty() ? Create<Packet>() : Create<Packet>(payload.data(), payload.size());
    Ipv4Header h;
    h.SetSource(src);
    h.SetDestination(dst);
    h.SetProtocol(protocol);
    h.SetPayloadSize(payload.size());
    h.SetTtl(64);
    h.SetIdentification(identification);
    if (moreFragments)
    {
        h.SetMoreFragments();
    }
    else
    {
        h.SetLastFragment();
    }
    h.SetFragmentOffset(fragmentOffsetBytes);
    h.EnableChecksum();
    p->AddHeader(h);
    return p;
}

inline Bytes
Ipv4Bytes(Ipv4Address src, Ipv4Address dst, uint8_t protocol, const Bytes& payload)
{
    return PacketBytes(Ipv4PacketOf(src, dst, protocol, payload));
}

/// An ESP frame (SPI .. ICV) sealed with an independent EspTransform of the same keys.
inline Bytes
SealEspFrame(const EspAlgorithm& algorithm, uint32_t spi, uint64_t seq, bool esn,
             const Bytes& payload, uint8_t nextHeader)
{
    std::string error;
    auto transform = EspTransform::Create(algorithm, &error);
    EXPECT_TRUE(transform) << error;
    Bytes frame;
    if (transform)
    {
        transform->Encapsulate(spi, seq, esn, payload.data(), payload.size(), nextHeader, frame);
    }
    return frame;
}

/// Hands a crafted IPv4 packet to a device for transmission (as a raw socket would).
inline void
InjectFrom(Ptr<EmuNicNetDevice> dev, Ptr<EmuNicNetDevice> peer, Ptr<Packet> ipPacket)
{
    dev->Send(ipPacket, peer->GetAddress(), kEtherTypeIpv4Value);
}

inline void
ScheduleInject(Time at, Ptr<EmuNicNetDevice> dev, Ptr<EmuNicNetDevice> peer, const Bytes& ip)
{
    Simulator::Schedule(at, [dev, peer, ip]()
                        { InjectFrom(dev, peer, Create<Packet>(ip.data(), ip.size())); });
}

} // namespace offloadtest

#endif // OFFLOAD_TEST_TOPOLOGY_H
