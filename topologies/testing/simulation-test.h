// What GoogleTest tests of simulations share (the emu_nic tests and the conformance suite):
// a fixture that destroys the simulation after each case, readable parameter names, topologies
// whose errors fail the test, and the usual UDP rig. The networks themselves come from the one
// topology builder (topology.h); traffic from traffic/.
#ifndef SIMULATION_TEST_H
#define SIMULATION_TEST_H

#include "crafted-packets.h"
#include "emu-nic-net-device.h"
#include "ipsec-key-manager.h"
#include "payloads.h"
#include "tcp-transfer.h"
#include "topology.h"
#include "udp-endpoints.h"
#include "wire-capture.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"

#include <algorithm>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace ns3
{

/// How GoogleTest prints parameters (ctest shows them next to each test name): "sw", "tunnel".
inline void
PrintTo(XfrmOffloadType mode, std::ostream* os)
{
    *os << DataPathName(mode);
}

inline void
PrintTo(XfrmMode ipMode, std::ostream* os)
{
    *os << XfrmModeName(ipMode);
}

} // namespace ns3

namespace offloadtest
{

using namespace ns3;

/// A value-parameterised test whose simulation is destroyed after each case.
template <typename Param>
class SimulationTest : public testing::TestWithParam<Param>
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

/// A data path to test: offload mode x IPsec mode.
struct PathParam
{
    XfrmOffloadType mode;
    XfrmMode ipMode;
};

inline void
PrintTo(const PathParam& param, std::ostream* os)
{
    *os << DataPathName(param.mode) << " " << XfrmModeName(param.ipMode);
}

/// Every data path in both IPsec modes.
inline std::vector<PathParam>
AllPaths()
{
    std::vector<PathParam> all;
    for (XfrmMode ipMode : {XfrmMode::Transport, XfrmMode::Tunnel})
    {
        for (XfrmOffloadType mode :
             {XfrmOffloadType::None, XfrmOffloadType::Crypto, XfrmOffloadType::Packet})
        {
            all.push_back(PathParam{mode, ipMode});
        }
    }
    return all;
}

/// Readable test names, e.g. "packet_tunnel".
inline std::string
PathName(const testing::TestParamInfo<PathParam>& info)
{
    return std::string(DataPathName(info.param.mode)) + "_" + XfrmModeName(info.param.ipMode);
}

/// "sw", "crypto", "packet".
inline std::string
DataPathOnly(const testing::TestParamInfo<XfrmOffloadType>& info)
{
    return DataPathName(info.param);
}

/// Called with every topology BuildTestTopology builds, before its simulation runs (the
/// conformance suite keeps a pcap and the keys of each, for the tests that fail).
inline std::function<void(const Topology&)>&
TopologyBuiltHook()
{
    static std::function<void(const Topology&)> hook;
    return hook;
}

/// BuildTopology, with every SA or policy it cannot install (then or later) a test failure;
/// given onError, that decides instead.
inline std::unique_ptr<Topology>
BuildTestTopology(TopologyOptions opt, std::function<void(const std::string&)> onError = nullptr)
{
    opt.onError = onError ? std::move(onError)
                          : [](const std::string& error) { ADD_FAILURE() << error; };
    auto t = BuildTopology(opt);
    if (t && TopologyBuiltHook())
    {
        TopologyBuiltHook()(*t);
    }
    return t;
}

/// A counter of the NIC, 0 when the device never created it.
inline uint64_t
Counter(Ptr<EmuNicNetDevice> dev, const std::string& name)
{
    const auto all = dev->GetCounters();
    auto it = all.find(name);
    return it == all.end() ? 0 : it->second;
}

/// Runs the simulation for `duration` from now.
inline void
RunUntil(Time stop)
{
    Simulator::Stop(stop);
    Simulator::Run();
}

/// Runs the simulation up to the absolute time `until`.
inline void
RunTo(Time until)
{
    Simulator::Stop(until - Simulator::Now());
    Simulator::Run();
}

/// The datagrams delivered are the ones sent, in order; a short message otherwise.
inline testing::AssertionResult
SameDatagrams(const std::vector<Bytes>& got, const std::vector<Bytes>& sent)
{
    size_t i = 0;
    while (i < got.size() && i < sent.size() && got[i] == sent[i])
    {
        ++i;
    }
    if (i == got.size() && i == sent.size())
    {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << got.size() << " datagrams delivered of " << sent.size()
                                       << " sent; the first difference is datagram " << i;
}

/// The bytes a TCP receiver read are the ones sent; a short message otherwise.
inline testing::AssertionResult
SameStream(const Bytes& got, const Bytes& sent)
{
    const auto diff = std::mismatch(got.begin(), got.end(), sent.begin(), sent.end());
    if (diff.first == got.end() && diff.second == sent.end())
    {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure()
           << got.size() << " bytes received of " << sent.size()
           << " sent; the first difference is byte " << diff.first - got.begin();
}

/// A valid ESP packet for B's inbound SA (A->B) sealed with seq, carrying a UDP datagram with
/// data, as the wire from A would carry it (identification id).
inline Bytes
EspToB(const Topology& t, uint64_t seq, const Bytes& data, uint16_t id)
{
    const Bytes udp = UdpDatagramBytes(t.hostAddrA, t.hostAddrB, 5555, kUdpPort, data);
    Bytes frame;
    if (t.Tunnel())
    {
        const Bytes inner = PacketBytes(Ipv4PacketOf(t.hostAddrA, t.hostAddrB, kProtoUdp, udp, id));
        frame = SealEspFrame(t.algAB, t.spiAB, seq, t.opt.esn, inner, kProtoIpip);
    }
    else
    {
        frame = SealEspFrame(t.algAB, t.spiAB, seq, t.opt.esn, udp, kProtoUdp);
    }
    return PacketBytes(Ipv4PacketOf(t.endAddrA, t.endAddrB, kProtoEsp, frame, id));
}

/// The key manager's connection between a test topology's IPsec endpoints: the hosts (/32) in
/// transport mode, the gateways for their /24s in tunnel mode, both offloaded as `mode` says.
inline IpsecConnectionConfig
TestConnection(const Topology& t, XfrmOffloadType mode, const std::string& name)
{
    IpsecConnectionConfig c;
    c.name = name;
    const bool tunnel = t.Tunnel();
    const uint8_t prefix = tunnel ? 24 : 32;
    c.left =
        IpsecPeerConfig{t.endA, t.endAddrA, tunnel ? t.netA : t.hostAddrA, prefix, t.devA, mode};
    c.right =
        IpsecPeerConfig{t.endB, t.endAddrB, tunnel ? t.netB : t.hostAddrB, prefix, t.devB, mode};
    c.mode = tunnel ? XfrmMode::Tunnel : XfrmMode::Transport;
    return c;
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
BuildUdpRig(const TopologyOptions& opt)
{
    UdpRig rig;
    rig.t = BuildTestTopology(opt);
    rig.wire = CaptureWire(rig.t->devA, rig.t->devB);
    rig.sink = InstallUdpSink(rig.t->hostB);
    rig.sender = InstallUdpSender(rig.t->hostA, rig.t->hostAddrB);
    return rig;
}

inline UdpRig
BuildUdpRig(XfrmOffloadType mode, XfrmMode ipMode)
{
    TopologyOptions opt;
    opt.mode = mode;
    opt.ipMode = ipMode;
    return BuildUdpRig(opt);
}

} // namespace offloadtest

#endif // SIMULATION_TEST_H
