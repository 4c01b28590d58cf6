// Packet offload has no software path: a packet-offload policy's traffic leaves only through the
// device that holds the policy (Linux: validate_xmit_xfrm, "sent to HW IPsec packet offload
// engine, but to wrong device"); a software policy never runs a packet-offloaded state and an
// offloaded policy never a software one (xfrm_state_find); and ESP for a packet-offloaded SA that
// reaches the stack some other way is not decrypted in software.
#include "emu-nic-helper.h"
#include "emu-nic-net-device.h"
#include "esp-algorithm.h"
#include "ipsec-helper.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <gtest/gtest.h>

using namespace ns3;

namespace
{
struct TwoLinks
{
    NodeContainer hosts;
    NetDeviceContainer first;  //!< 10.1.1.0/24: holds the offloaded policy
    NetDeviceContainer second; //!< 10.2.2.0/24: the route to 10.2.2.2
    Ptr<XfrmStack> stackA;
};

TwoLinks
Build()
{
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    TwoLinks t;
    t.hosts.Create(2);
    EmuNicHelper link;
    t.first = link.Install(t.hosts);
    t.second = link.Install(t.hosts);
    InternetStackHelper().Install(t.hosts);
    Ipv4AddressHelper a("10.1.1.0", "255.255.255.0");
    a.Assign(t.first);
    Ipv4AddressHelper b("10.2.2.0", "255.255.255.0");
    b.Assign(t.second);
    IpsecHelper ipsec;
    t.stackA = ipsec.Install(t.hosts.Get(0));
    ipsec.Install(t.hosts.Get(1));
    return t;
}

/// Sends one UDP datagram from host A to dst; returns how many host B received.
uint32_t
SendOne(TwoLinks& t, Ipv4Address dst)
{
    Ptr<Socket> rx = Socket::CreateSocket(t.hosts.Get(1), UdpSocketFactory::GetTypeId());
    rx->Bind(InetSocketAddress(Ipv4Address::GetAny(), 7000));
    uint32_t received = 0;
    rx->SetRecvCallback(MakeCallback(+[](uint32_t* n, Ptr<Socket> s) {
                            while (s->Recv())
                            {
                                ++*n;
                            }
                        }).Bind(&received));
    Ptr<Socket> tx = Socket::CreateSocket(t.hosts.Get(0), UdpSocketFactory::GetTypeId());
    Simulator::Schedule(Seconds(1), [tx, dst]() {
        tx->SendTo(Create<Packet>(100), 0, InetSocketAddress(dst, 7000));
    });
    Simulator::Stop(Seconds(2));
    Simulator::Run();
    return received;
}
} // namespace

TEST(PacketOffloadPairingTest, OffloadedPolicyTrafficRoutedElsewhereIsDroppedNotSentInPlaintext)
{
    TwoLinks t = Build();
    XfrmPolicyConfig p;
    p.dir = XfrmDir::Out;
    p.sel = XfrmSelector::Subnets(Ipv4Address("0.0.0.0"), 0, Ipv4Address("10.2.2.2"), 32);
    p.tmpl.mode = XfrmMode::Transport;
    p.offloadType = XfrmOffloadType::Packet;
    p.offloadDev = t.first.Get(0); // but 10.2.2.2 is reached through t.second
    std::string error;
    ASSERT_TRUE(t.stackA->AddPolicy(p, &error)) << error;
    uint64_t plaintextOnSecond = 0;
    t.second.Get(0)->TraceConnectWithoutContext(
        "PhyTxBegin",
        MakeCallback(+[](uint64_t* n, Ptr<const Packet>) { ++*n; }).Bind(&plaintextOnSecond));

    EXPECT_EQ(SendOne(t, Ipv4Address("10.2.2.2")), 0u);
    EXPECT_EQ(plaintextOnSecond, 0u);
    EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutError), 1u);
    Simulator::Destroy();
}

TEST(PacketOffloadPairingTest, TrafficTheOffloadedPolicyDoesNotSelectStillFlows)
{
    TwoLinks t = Build();
    XfrmPolicyConfig p;
    p.dir = XfrmDir::Out;
    p.sel = XfrmSelector::Subnets(Ipv4Address("0.0.0.0"), 0, Ipv4Address("10.1.1.2"), 32);
    p.tmpl.mode = XfrmMode::Transport;
    p.offloadType = XfrmOffloadType::Packet;
    p.offloadDev = t.first.Get(0);
    std::string error;
    ASSERT_TRUE(t.stackA->AddPolicy(p, &error)) << error;
    EXPECT_EQ(SendOne(t, Ipv4Address("10.2.2.2")), 1u);
    EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutError), 0u);
    Simulator::Destroy();
}

namespace
{
const EspAlgorithm kKeys = EspAlgorithm::Gcm(std::vector<uint8_t>(20, 0x5a));

XfrmStateConfig
SaTo(Ipv4Address saddr, Ipv4Address daddr)
{
    XfrmStateConfig s;
    s.saddr = saddr;
    s.daddr = daddr;
    s.spi = 0x4242;
    s.mode = XfrmMode::Transport;
    s.reqid = 1;
    s.sel = XfrmSelector::Hosts(saddr, daddr);
    s.algorithm = kKeys;
    return s;
}

XfrmPolicyConfig
OutPolicyTo(Ipv4Address daddr)
{
    XfrmPolicyConfig p;
    p.dir = XfrmDir::Out;
    p.sel = XfrmSelector::Subnets(Ipv4Address("0.0.0.0"), 0, daddr, 32);
    p.tmpl.mode = XfrmMode::Transport;
    p.tmpl.reqid = 1;
    return p;
}
} // namespace

TEST(PacketOffloadPairingTest, SoftwarePolicyNeverRunsAPacketOffloadedState)
{
    TwoLinks t = Build();
    std::string error;
    XfrmStateConfig s = SaTo(Ipv4Address("10.1.1.1"), Ipv4Address("10.1.1.2"));
    s.offloadType = XfrmOffloadType::Packet;
    s.offloadDev = t.first.Get(0);
    s.offloadDir = XfrmDir::Out;
    ASSERT_TRUE(t.stackA->AddState(s, &error)) << error;
    ASSERT_TRUE(t.stackA->AddPolicy(OutPolicyTo(Ipv4Address("10.1.1.2")), &error)) << error;

    EXPECT_EQ(SendOne(t, Ipv4Address("10.1.1.2")), 0u);
    EXPECT_EQ(t.stackA->GetDropCount(XfrmDrop::OutNoStates), 1u);
    EXPECT_EQ(t.stackA->FindState(Ipv4Address("10.1.1.2"), 0x4242)->GetLastSeq(), 0u);
    Simulator::Destroy();
}

TEST(PacketOffloadPairingTest, EspForAPacketOffloadedSaIsNotDecryptedInSoftware)
{
    TwoLinks t = Build();
    Ptr<XfrmStack> stackB = t.hosts.Get(1)->GetObject<XfrmStack>();
    std::string error;
    // A protects 10.2.2.2 in software; it goes out over the second link.
    ASSERT_TRUE(t.stackA->AddState(SaTo(Ipv4Address("10.2.2.1"), Ipv4Address("10.2.2.2")), &error))
        << error;
    ASSERT_TRUE(t.stackA->AddPolicy(OutPolicyTo(Ipv4Address("10.2.2.2")), &error)) << error;
    // B holds the same SA packet-offloaded to its FIRST device, which never sees this ESP.
    XfrmStateConfig in = SaTo(Ipv4Address("10.2.2.1"), Ipv4Address("10.2.2.2"));
    in.offloadType = XfrmOffloadType::Packet;
    in.offloadDev = t.first.Get(1);
    in.offloadDir = XfrmDir::In;
    ASSERT_TRUE(stackB->AddState(in, &error)) << error;

    EXPECT_EQ(SendOne(t, Ipv4Address("10.2.2.2")), 0u);
    EXPECT_EQ(stackB->GetDropCount(XfrmDrop::InStateMismatch), 1u);
    Simulator::Destroy();
}
