// The XFRM netlink endpoint as a client sees it: charon's message sequence keys two simulated
// hosts (ALLOCSPI, UPDSA, NEWSA, NEWPOLICY x3) and their traffic flows; replies, acks and errnos
// as Linux's xfrm_user gives them (EEXIST, ESRCH, ENOENT, EINVAL with extended ack, ERANGE);
// GETSA gives back every attribute added; policy indexes, UPDPOLICY; dumps; larval states and
// time lifetimes reaching subscribers as EXPIRE; malformed and random datagrams answered or
// dropped, never a crash.

#include "simulation-test.h"
#include "udp-endpoints.h"
#include "xfrm-netlink-endpoint.h"
#include "xfrm-netlink-test-util.h"

#include "ns3/simulator.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <random>

using namespace offloadtest;
using namespace xfrmtest;

namespace
{

constexpr uint32_t kPortA = 1001;  // charon's request socket on host A
constexpr uint32_t kEvents = 1002; // charon's event socket
constexpr int32_t kIfindexA = 7;   // the host interface the EmuNic of A stands for

/// One netlink message of a datagram the endpoint sent.
struct Reply
{
    nlmsghdr header;
    std::vector<uint8_t> payload;

    int Error() const
    {
        int error = 0;
        std::memcpy(&error, payload.data(), sizeof(error));
        return error;
    }

    /// NLMSGERR_ATTR_MSG of an error ack, "" without.
    std::string ExtAck() const
    {
        const size_t skip =
            header.nlmsg_flags & NLM_F_CAPPED
                ? sizeof(nlmsgerr)
                : sizeof(int) +
                      reinterpret_cast<const nlmsghdr*>(payload.data() + sizeof(int))->nlmsg_len;
        NetlinkAttributes attrs;
        std::string error;
        if (skip > payload.size() ||
            !attrs.Parse(payload.data() + skip, payload.size() - skip, NLMSGERR_ATTR_MAX, &error))
        {
            return "";
        }
        size_t length = 0;
        const uint8_t* msg = attrs.Get(NLMSGERR_ATTR_MSG, &length);
        return msg ? std::string(reinterpret_cast<const char*>(msg)) : "";
    }

    template <class T>
    T As() const
    {
        T value{};
        std::memcpy(&value, payload.data(), std::min(sizeof(T), payload.size()));
        return value;
    }

    NetlinkAttributes Attributes(size_t fixed) const
    {
        NetlinkAttributes attrs;
        std::string error;
        EXPECT_TRUE(attrs.Parse(payload.data() + NLMSG_ALIGN(fixed),
                                payload.size() - NLMSG_ALIGN(fixed),
                                XFRMA_MAX,
                                &error))
            << error;
        return attrs;
    }
};

/// What the endpoint sent, per client, as datagrams of messages.
struct Wire
{
    std::map<uint32_t, std::vector<std::vector<Reply>>> datagrams;

    std::vector<Reply> Take(uint32_t port)
    {
        std::vector<Reply> all;
        for (const auto& d : datagrams[port])
        {
            all.insert(all.end(), d.begin(), d.end());
        }
        datagrams[port].clear();
        return all;
    }
};

std::vector<Reply>
Split(const std::vector<uint8_t>& datagram)
{
    std::vector<Reply> replies;
    for (const NetlinkMessageView& m : SplitNetlinkDatagram(datagram.data(), datagram.size()))
    {
        replies.push_back({m.header, std::vector<uint8_t>(m.payload, m.payload + m.payloadLength)});
    }
    return replies;
}

/// A node's endpoint and what it sent.
struct Endpoint
{
    Ptr<XfrmNetlinkEndpoint> endpoint;
    std::shared_ptr<Wire> wire;
    uint32_t seq{100};

    /// Sends one request; returns every message the endpoint answered with.
    std::vector<Reply> Request(
        uint16_t type,
        uint16_t flags,
        const std::vector<uint8_t>& fixed,
        const std::vector<std::pair<uint16_t, std::vector<uint8_t>>>& attrs = {},
        uint32_t port = kPortA)
    {
        NetlinkMessageBuilder b(type, NLM_F_REQUEST | flags, ++seq, port);
        b.PutRaw(fixed.data(), fixed.size());
        for (const auto& [t, v] : attrs)
        {
            b.PutAttribute(t, v.data(), v.size());
        }
        const auto bytes = b.Finish();
        endpoint->Receive(port, bytes.data(), bytes.size());
        return wire->Take(port);
    }
};

Endpoint
MakeEndpoint(Ptr<XfrmStack> stack)
{
    Endpoint e;
    e.endpoint = CreateObject<XfrmNetlinkEndpoint>();
    e.endpoint->SetStack(stack);
    e.endpoint->SetEpochAtZero(1'700'000'000);
    e.wire = std::make_shared<Wire>();
    auto wire = e.wire;
    e.endpoint->SetSendCallback(
        XfrmNetlinkEndpoint::SendCallback([wire](uint32_t port, std::vector<uint8_t> datagram) {
            wire->datagrams[port].push_back(Split(datagram));
        }));
    return e;
}

xfrm_userspi_info
SpiRequest(Ipv4Address src, Ipv4Address dst, uint32_t min = 0xc0000000, uint32_t max = 0xcfffffff)
{
    xfrm_userspi_info p{};
    p.info.family = AF_INET;
    p.info.id.daddr = Addr(dst);
    p.info.saddr = Addr(src);
    p.info.id.proto = IPPROTO_ESP;
    p.info.mode = XFRM_MODE_TUNNEL; // charon always asks with tunnel mode
    p.min = min;
    p.max = max;
    return p;
}

/// A transport-mode AES-GCM SA as charon 5.9.8 adds it.
xfrm_usersa_info
SaInfo(Ipv4Address src, Ipv4Address dst, uint32_t spi, uint32_t reqid)
{
    xfrm_usersa_info p{};
    p.sel = HostSelector(src, dst);
    p.id.daddr = Addr(dst);
    p.id.spi = htonl(spi);
    p.id.proto = IPPROTO_ESP;
    p.saddr = Addr(src);
    p.family = AF_INET;
    p.mode = XFRM_MODE_TRANSPORT;
    p.reqid = reqid;
    p.replay_window = 32;
    p.lft.soft_byte_limit = p.lft.hard_byte_limit = ~0ULL;
    p.lft.soft_packet_limit = p.lft.hard_packet_limit = ~0ULL;
    return p;
}

std::vector<uint8_t>
GcmAttribute(uint8_t seed)
{
    std::vector<uint8_t> v(sizeof(xfrm_algo_aead) + 20);
    xfrm_algo_aead a{};
    std::strcpy(a.alg_name, "rfc4106(gcm(aes))");
    a.alg_key_len = 160;
    a.alg_icv_len = 128;
    std::memcpy(v.data(), &a, sizeof(a));
    for (size_t i = 0; i < 20; ++i)
    {
        v[sizeof(a) + i] = uint8_t(seed + i);
    }
    return v;
}

xfrm_userpolicy_info
PolicyInfo(Ipv4Address src, Ipv4Address dst, uint8_t dir)
{
    return Policy(HostSelector(src, dst), dir, 366560); // charon's transport-mode priority
}

std::vector<uint8_t>
Template(Ipv4Address src, Ipv4Address dst, uint32_t reqid, uint32_t spi)
{
    return UserTemplate(src, dst, reqid, spi);
}

xfrm_usersa_id
SaId(Ipv4Address dst, uint32_t spi)
{
    xfrm_usersa_id id{};
    id.daddr = Addr(dst);
    id.spi = htonl(spi);
    id.family = AF_INET;
    id.proto = IPPROTO_ESP;
    return id;
}

/// One ack of error (0 for success) to the last request.
testing::AssertionResult
IsAck(const std::vector<Reply>& replies, int error)
{
    if (replies.size() != 1 || replies[0].header.nlmsg_type != NLMSG_ERROR)
    {
        return testing::AssertionFailure() << replies.size() << " replies, not one NLMSG_ERROR";
    }
    if (replies[0].Error() != error)
    {
        return testing::AssertionFailure() << "error " << replies[0].Error() << " ("
                                           << replies[0].ExtAck() << "), not " << error;
    }
    return testing::AssertionSuccess();
}

/// Destroys the simulation after each case, also after a failed assertion.
class XfrmNetlinkEndpointTest : public testing::Test
{
  protected:
    void TearDown() override
    {
        Simulator::Destroy();
    }
};

struct Hosts
{
    std::unique_ptr<Topology> t;
    Endpoint a;
    Endpoint b;
};

Hosts
TwoHosts()
{
    TopologyOptions opt;
    opt.installIpsec = false;
    Hosts h;
    h.t = BuildTestTopology(opt);
    h.a = MakeEndpoint(h.t->stackA);
    h.b = MakeEndpoint(h.t->stackB);
    h.a.endpoint->AddInterface(kIfindexA, h.t->devA);
    return h;
}

/// What charon does for one CHILD_SA on one host, as kernel_netlink_ipsec.c sends it: ALLOCSPI
/// for the inbound SPI, UPDSA of it, NEWSA of the outbound SA, then the out, in and fwd policies.
/// Returns the inbound SPI.
uint32_t
InstallChildSa(Endpoint& e,
               Ipv4Address me,
               Ipv4Address peer,
               uint32_t outSpi,
               std::vector<std::pair<uint16_t, std::vector<uint8_t>>> extra = {})
{
    auto spi = e.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(peer, me)));
    EXPECT_EQ(spi.size(), 1u);
    EXPECT_EQ(spi[0].header.nlmsg_type, XFRM_MSG_NEWSA);
    const uint32_t inSpi = ntohl(spi[0].As<xfrm_usersa_info>().id.spi);
    auto in = extra;
    in.emplace_back(XFRMA_ALG_AEAD, GcmAttribute(inSpi & 0xff));
    EXPECT_TRUE(
        IsAck(e.Request(XFRM_MSG_UPDSA, NLM_F_ACK, AsBytes(SaInfo(peer, me, inSpi, 1)), in), 0));
    auto out = extra;
    out.emplace_back(XFRMA_ALG_AEAD, GcmAttribute(outSpi & 0xff));
    EXPECT_TRUE(
        IsAck(e.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(SaInfo(me, peer, outSpi, 1)), out), 0));
    EXPECT_TRUE(IsAck(e.Request(XFRM_MSG_NEWPOLICY,
                                NLM_F_ACK,
                                AsBytes(PolicyInfo(me, peer, XFRM_POLICY_OUT)),
                                {{XFRMA_TMPL, Template(me, peer, 1, outSpi)}}),
                      0));
    for (uint8_t dir : {uint8_t(XFRM_POLICY_IN), uint8_t(XFRM_POLICY_FWD)})
    {
        EXPECT_TRUE(IsAck(e.Request(XFRM_MSG_NEWPOLICY,
                                    NLM_F_ACK,
                                    AsBytes(PolicyInfo(peer, me, dir)),
                                    {{XFRMA_TMPL, Template(peer, me, 1, 0)}}),
                          0));
    }
    return inSpi;
}

TEST_F(XfrmNetlinkEndpointTest, CharonsSequenceKeysBothHostsAndTrafficFlows)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    // The two charons agree on SPIs: each end's inbound SPI is the other's outbound one.
    auto spiB = h.b.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(a, b)));
    ASSERT_EQ(spiB.size(), 1u);
    const uint32_t spiAB = ntohl(spiB[0].As<xfrm_usersa_info>().id.spi);
    const uint32_t spiBA = InstallChildSa(h.a, a, b, spiAB);
    // B: UPDSA of the larval state it allocated, NEWSA out, the policies.
    EXPECT_TRUE(IsAck(h.b.Request(XFRM_MSG_UPDSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, spiAB, 1)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(spiAB & 0xff)}}),
                      0));
    EXPECT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(b, a, spiBA, 1)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(spiBA & 0xff)}}),
                      0));
    EXPECT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(b, a, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(b, a, 1, spiBA)}}),
                      0));
    EXPECT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(a, b, XFRM_POLICY_IN)),
                                  {{XFRMA_TMPL, Template(a, b, 1, 0)}}),
                      0));
    ASSERT_TRUE(h.t->stackA->FindState(b, spiAB));
    ASSERT_TRUE(h.t->stackB->FindState(b, spiAB));
    ASSERT_TRUE(h.t->stackB->FindState(a, spiBA));

    auto sink = InstallUdpSink(h.t->hostB);
    auto sender = InstallUdpSender(h.t->hostA, b);
    std::vector<std::vector<uint8_t>> sent(10, std::vector<uint8_t>(100, 0x5a));
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    EXPECT_EQ(Delivered(*sink, sent), sent.size());
    // Every datagram went through the SAs the endpoint installed: GETSA counts them.
    auto got = h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, spiAB)));
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].header.nlmsg_type, XFRM_MSG_NEWSA);
    const auto info = got[0].As<xfrm_usersa_info>();
    EXPECT_EQ(info.curlft.packets, sent.size());
    EXPECT_EQ(info.curlft.add_time, 1'700'000'000u);
    EXPECT_EQ(info.curlft.use_time, 1'700'000'001u); // the first packet, in epoch seconds
    auto replay = got[0].Attributes(sizeof(xfrm_usersa_info));
    xfrm_replay_state r{};
    ASSERT_TRUE(replay.Read(XFRMA_REPLAY_VAL, &r));
    EXPECT_EQ(r.oseq, sent.size());
    // GETPOLICY shows the out policy used (charon's DPD and inactivity read it).
    xfrm_userpolicy_id pid{};
    pid.sel = HostSelector(a, b);
    pid.dir = XFRM_POLICY_OUT;
    auto pol = h.a.Request(XFRM_MSG_GETPOLICY, 0, AsBytes(pid));
    ASSERT_EQ(pol.size(), 1u);
    ASSERT_EQ(pol[0].header.nlmsg_type, XFRM_MSG_NEWPOLICY);
    EXPECT_EQ(pol[0].As<xfrm_userpolicy_info>().curlft.use_time, 1'700'000'001u);
    Simulator::Destroy();
}

xfrm_selector
SubnetSelector(Ipv4Address src, Ipv4Address dst, uint8_t prefix)
{
    xfrm_selector sel = HostSelector(src, dst);
    sel.prefixlen_s = sel.prefixlen_d = prefix;
    return sel;
}

/// One gateway's half of a tunnel as charon adds it: the SAs with XFRM_STATE_AF_UNSPEC and a
/// zero selector, offloaded to ifindex as the mode asks (5.9.10's hw_offload=crypto|packet),
/// and the out, in and fwd policies (the offload attribute on out and in only, for packet).
void
InstallTunnel(Endpoint& e,
              Ipv4Address me,
              Ipv4Address peer,
              Ipv4Address myNet,
              Ipv4Address peerNet,
              uint32_t inSpi,
              uint32_t outSpi,
              XfrmOffloadType mode,
              int32_t ifindex)
{
    for (bool inbound : {true, false})
    {
        xfrm_usersa_info p = inbound ? SaInfo(peer, me, inSpi, 1) : SaInfo(me, peer, outSpi, 1);
        p.mode = XFRM_MODE_TUNNEL;
        p.sel = xfrm_selector{};
        p.flags = XFRM_STATE_AF_UNSPEC;
        std::vector<std::pair<uint16_t, std::vector<uint8_t>>> attrs = {
            {XFRMA_ALG_AEAD, GcmAttribute(uint8_t(inbound ? inSpi : outSpi))}};
        if (mode != XfrmOffloadType::None)
        {
            xfrm_user_offload o{
                ifindex,
                uint8_t((inbound ? XFRM_OFFLOAD_INBOUND : 0) |
                        (mode == XfrmOffloadType::Packet ? XFRM_OFFLOAD_PACKET : 0))};
            attrs.emplace_back(XFRMA_OFFLOAD_DEV, AsBytes(o));
        }
        EXPECT_TRUE(IsAck(e.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(p), attrs), 0));
    }

    struct Pol
    {
        uint8_t dir;
        Ipv4Address src, dst, tsrc, tdst;
        uint32_t spi;
    };

    for (const Pol& q : {Pol{XFRM_POLICY_OUT, myNet, peerNet, me, peer, outSpi},
                         Pol{XFRM_POLICY_IN, peerNet, myNet, peer, me, 0},
                         Pol{XFRM_POLICY_FWD, peerNet, myNet, peer, me, 0}})
    {
        xfrm_userpolicy_info p = PolicyInfo(q.src, q.dst, q.dir);
        p.sel = SubnetSelector(q.src, q.dst, 24);
        auto t = Template(q.tsrc, q.tdst, 1, q.spi);
        reinterpret_cast<xfrm_user_tmpl*>(t.data())->mode = XFRM_MODE_TUNNEL;
        std::vector<std::pair<uint16_t, std::vector<uint8_t>>> attrs = {{XFRMA_TMPL, t}};
        if (mode == XfrmOffloadType::Packet && q.dir != XFRM_POLICY_FWD)
        {
            attrs.emplace_back(XFRMA_OFFLOAD_DEV,
                               AsBytes(xfrm_user_offload{ifindex, XFRM_OFFLOAD_PACKET}));
        }
        EXPECT_TRUE(IsAck(e.Request(XFRM_MSG_NEWPOLICY, NLM_F_ACK, AsBytes(p), attrs), 0));
    }
}

using XfrmNetlinkTunnelTest = SimulationTest<XfrmOffloadType>;

// A gateway-to-gateway tunnel keyed through the endpoints in each data path: the device takes
// the SAs (and in packet offload the policies) the messages ask for, and the subnets talk.
TEST_P(XfrmNetlinkTunnelTest, CharonsTunnelCarriesTraffic)
{
    TopologyOptions opt;
    opt.installIpsec = false;
    opt.ipMode = XfrmMode::Tunnel;
    auto t = BuildTestTopology(opt);
    Endpoint a = MakeEndpoint(t->stackA);
    Endpoint b = MakeEndpoint(t->stackB);
    a.endpoint->AddInterface(7, t->devA);
    b.endpoint->AddInterface(8, t->devB);
    InstallTunnel(a,
                  t->endAddrA,
                  t->endAddrB,
                  t->netA,
                  t->netB,
                  0xc0000002,
                  0xc0000001,
                  GetParam(),
                  7);
    InstallTunnel(b,
                  t->endAddrB,
                  t->endAddrA,
                  t->netB,
                  t->netA,
                  0xc0000001,
                  0xc0000002,
                  GetParam(),
                  8);
    Ptr<XfrmState> out = t->stackA->FindState(t->endAddrB, 0xc0000001);
    ASSERT_TRUE(out);
    EXPECT_TRUE(out->GetConfig().sel.anyFamily);
    EXPECT_EQ(out->GetOffload().type, GetParam());
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, t->hostAddrB);
    std::vector<std::vector<uint8_t>> sent(20, std::vector<uint8_t>(300, 0x33));
    ScheduleDatagrams(sender, sent, Seconds(1), MilliSeconds(5));
    RunUntil(Seconds(2));
    EXPECT_EQ(Delivered(*sink, sent), sent.size());
    auto got = a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(t->endAddrB, 0xc0000001)));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].As<xfrm_usersa_info>().curlft.packets, sent.size());
    EXPECT_EQ(got[0].As<xfrm_usersa_info>().sel.family, AF_UNSPEC);
    Simulator::Destroy();
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         XfrmNetlinkTunnelTest,
                         testing::Values(XfrmOffloadType::None,
                                         XfrmOffloadType::Crypto,
                                         XfrmOffloadType::Packet),
                         DataPathOnly);

TEST_F(XfrmNetlinkEndpointTest, GetSaGivesBackWhatWasAdded)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    xfrm_encap_tmpl encap{};
    encap.encap_type = 2;
    encap.encap_sport = htons(4500);
    encap.encap_dport = htons(4501);
    encap.encap_oa = Addr(Ipv4Address("192.0.2.9"));
    xfrm_user_offload offload{kIfindexA, XFRM_OFFLOAD_PACKET};
    const auto aead = GcmAttribute(0x40);
    xfrm_usersa_info p = SaInfo(a, b, 0x1234, 7);
    p.lft.soft_add_expires_seconds = 100;
    p.lft.hard_add_expires_seconds = 200;
    p.flags = XFRM_STATE_NOECN;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(p),
                                  {{XFRMA_ALG_AEAD, aead},
                                   {XFRMA_ENCAP, AsBytes(encap)},
                                   {XFRMA_OFFLOAD_DEV, AsBytes(offload)}}),
                      0));
    ASSERT_TRUE(h.t->stackA->FindState(b, 0x1234)->IsOffloaded(XfrmOffloadType::Packet));
    auto got = h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, 0x1234)));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].header.nlmsg_pid, kPortA);
    EXPECT_EQ(got[0].header.nlmsg_seq, h.a.seq);
    const auto info = got[0].As<xfrm_usersa_info>();
    EXPECT_EQ(std::memcmp(&info.sel, &p.sel, sizeof(p.sel)), 0);
    EXPECT_EQ(std::memcmp(&info.id, &p.id, sizeof(p.id)), 0);
    EXPECT_EQ(std::memcmp(&info.lft, &p.lft, sizeof(p.lft)), 0);
    EXPECT_EQ(info.reqid, 7u);
    EXPECT_EQ(info.flags, XFRM_STATE_NOECN);
    EXPECT_EQ(info.replay_window, 32);
    auto attrs = got[0].Attributes(sizeof(xfrm_usersa_info));
    size_t length = 0;
    const uint8_t* key = attrs.Get(XFRMA_ALG_AEAD, &length);
    ASSERT_TRUE(key);
    EXPECT_EQ(std::vector<uint8_t>(key, key + length), aead); // keys included: charon re-adds
    xfrm_encap_tmpl e{};
    ASSERT_TRUE(attrs.Read(XFRMA_ENCAP, &e));
    EXPECT_EQ(AsBytes(e), AsBytes(encap));
    xfrm_user_offload o{};
    ASSERT_TRUE(attrs.Read(XFRMA_OFFLOAD_DEV, &o));
    EXPECT_EQ(o.ifindex, kIfindexA);
    EXPECT_EQ(o.flags, XFRM_OFFLOAD_PACKET);
    EXPECT_TRUE(attrs.Has(XFRMA_REPLAY_VAL));
    // Linux's order of copy_to_user_state_extra.
    EXPECT_EQ(
        attrs.Order(),
        (std::vector<uint16_t>{XFRMA_ALG_AEAD, XFRMA_ENCAP, XFRMA_REPLAY_VAL, XFRMA_OFFLOAD_DEV}));
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, ErrnosAreLinuxs)
{
    Hosts h = TwoHosts();
    h.a.endpoint->SetExtAck(kPortA, true);
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> gcm = {
        {XFRMA_ALG_AEAD, GcmAttribute(1)}};
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(SaInfo(a, b, 0x100, 1)), gcm), 0));
    // A duplicate is EEXIST; UPDSA of an SA nobody added is ESRCH.
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(SaInfo(a, b, 0x100, 1)), gcm), -EEXIST));
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_UPDSA, 0, AsBytes(SaInfo(a, b, 0x101, 1)), gcm), -ESRCH));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, 0x999))), -ESRCH));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, 0, AsBytes(SaId(b, 0x999))), -ESRCH));
    // Validation in Linux's order, with its extended ack.
    xfrm_usersa_info bad = SaInfo(a, b, 0x102, 1);
    bad.family = 99;
    auto r = h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(bad), gcm);
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(), "Invalid address family");
    EXPECT_FALSE(r[0].header.nlmsg_flags & NLM_F_CAPPED); // the whole request is echoed
    EXPECT_EQ(r[0].header.nlmsg_len,
              NLMSG_HDRLEN + sizeof(int) + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(xfrm_usersa_info)) +
                  NLA_HDRLEN + NLA_ALIGN(GcmAttribute(1).size()) +
                  NLA_ALIGN(sizeof("Invalid address family")) + NLA_HDRLEN);
    r = h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(SaInfo(a, b, 0x103, 1)));
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(),
              "Missing required attribute for ESP: at least one of AUTH, AUTH_TRUNC, CRYPT, AEAD");
    auto unknown = GcmAttribute(1);
    std::strcpy(reinterpret_cast<char*>(unknown.data()), "rfc9999(aes)");
    r = h.a.Request(XFRM_MSG_NEWSA,
                    0,
                    AsBytes(SaInfo(a, b, 0x104, 1)),
                    {{XFRMA_ALG_AEAD, unknown}});
    ASSERT_TRUE(IsAck(r, -ENOSYS));
    EXPECT_EQ(r[0].ExtAck(), "Requested AEAD algorithm not found");
    // One Linux has and this ESP does not: refused by name, not as "not found".
    auto ccm = GcmAttribute(1);
    std::strcpy(reinterpret_cast<char*>(ccm.data()), "rfc4309(ccm(aes))");
    r = h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(SaInfo(a, b, 0x104, 1)), {{XFRMA_ALG_AEAD, ccm}});
    ASSERT_TRUE(IsAck(r, -EOPNOTSUPP));
    EXPECT_EQ(r[0].ExtAck().rfind("offloadlab: ", 0), 0u);
    // AH: the algorithm attaches, then the type is missing from this kernel.
    xfrm_usersa_info ah = SaInfo(a, b, 0x105, 1);
    ah.id.proto = IPPROTO_AH;
    std::vector<uint8_t> hmac(sizeof(xfrm_algo_auth) + 32);
    xfrm_algo_auth auth{};
    std::strcpy(auth.alg_name, "hmac(sha256)");
    auth.alg_key_len = 256;
    auth.alg_trunc_len = 128;
    std::memcpy(hmac.data(), &auth, sizeof(auth));
    r = h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(ah), {{XFRMA_ALG_AUTH_TRUNC, hmac}});
    ASSERT_TRUE(IsAck(r, -EPROTONOSUPPORT));
    EXPECT_EQ(r[0].ExtAck(), "Requested type not found");
    std::strcpy(auth.alg_name, "hmac(sha1024)");
    std::memcpy(hmac.data(), &auth, sizeof(auth));
    r = h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(ah), {{XFRMA_ALG_AUTH_TRUNC, hmac}});
    ASSERT_TRUE(IsAck(r, -ENOSYS));
    EXPECT_EQ(r[0].ExtAck(), "Requested AUTH_TRUNC algorithm not found");
    // An attribute shorter than its policy: ERANGE.
    r = h.a.Request(XFRM_MSG_NEWSA,
                    0,
                    AsBytes(SaInfo(a, b, 0x106, 1)),
                    {{XFRMA_ALG_AEAD, GcmAttribute(1)}, {XFRMA_ENCAP, std::vector<uint8_t>(8)}});
    ASSERT_TRUE(IsAck(r, -ERANGE));
    EXPECT_EQ(r[0].ExtAck(), "Attribute failed policy validation");
    // Crypto offload of an encapsulated SA: Linux 6.1's refusal.
    xfrm_encap_tmpl encap{};
    encap.encap_type = 2;
    xfrm_user_offload crypto{kIfindexA, 0};
    r = h.a.Request(XFRM_MSG_NEWSA,
                    0,
                    AsBytes(SaInfo(a, b, 0x107, 1)),
                    {{XFRMA_ALG_AEAD, GcmAttribute(1)},
                     {XFRMA_ENCAP, AsBytes(encap)},
                     {XFRMA_OFFLOAD_DEV, AsBytes(crypto)}});
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(), "Encapsulation and TFC padding can't be offloaded");
    // Crypto offload to an interface the emulation has no device for runs in software.
    xfrm_user_offload elsewhere{99, 0};
    EXPECT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_NEWSA,
                    NLM_F_ACK,
                    AsBytes(SaInfo(a, b, 0x108, 1)),
                    {{XFRMA_ALG_AEAD, GcmAttribute(1)}, {XFRMA_OFFLOAD_DEV, AsBytes(elsewhere)}}),
        0));
    EXPECT_FALSE(h.t->stackA->FindState(b, 0x108)->GetOffload().ops);
    // Marks are refused by name rather than ignored.
    xfrm_mark mark{1, 0xffffffff};
    r = h.a.Request(XFRM_MSG_NEWSA,
                    0,
                    AsBytes(SaInfo(a, b, 0x109, 1)),
                    {{XFRMA_ALG_AEAD, GcmAttribute(1)}, {XFRMA_MARK, AsBytes(mark)}});
    ASSERT_TRUE(IsAck(r, -EOPNOTSUPP));
    EXPECT_NE(r[0].ExtAck().find("marks are not modelled"), std::string::npos);
    // Policies.
    const auto out = AsBytes(PolicyInfo(a, b, XFRM_POLICY_OUT));
    const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> tmpl = {
        {XFRMA_TMPL, Template(a, b, 1, 0x100)}};
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWPOLICY, NLM_F_ACK, out, tmpl), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWPOLICY, 0, out, tmpl), -EEXIST));
    xfrm_userpolicy_id missing{};
    missing.sel = HostSelector(b, a);
    missing.dir = XFRM_POLICY_OUT;
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELPOLICY, 0, AsBytes(missing)), -ENOENT));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETPOLICY, 0, AsBytes(missing)), -ENOENT));
    xfrm_userpolicy_info unspec = PolicyInfo(a, b, XFRM_POLICY_IN);
    unspec.sel.family = AF_UNSPEC;
    r = h.a.Request(XFRM_MSG_NEWPOLICY, 0, AsBytes(unspec));
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(), "Invalid selector family");
    xfrm_userpolicy_info wrongIndex = PolicyInfo(a, b, XFRM_POLICY_IN);
    wrongIndex.index = 17; // direction 1 in its low bits
    r = h.a.Request(XFRM_MSG_NEWPOLICY, 0, AsBytes(wrongIndex));
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(), "Policy index doesn't match direction");
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, AllocSpiReservesLarvalStatesThatExpire)
{
    Hosts h = TwoHosts();
    h.a.endpoint->SetGroups(kEvents, 1u << (XFRMNLGRP_EXPIRE - 1));
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    auto first = h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(b, a)));
    auto second = h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(b, a)));
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    const auto larval = first[0].As<xfrm_usersa_info>();
    const uint32_t spi1 = ntohl(larval.id.spi);
    const uint32_t spi2 = ntohl(second[0].As<xfrm_usersa_info>().id.spi);
    EXPECT_GE(spi1, 0xc0000000u);
    EXPECT_LE(spi1, 0xcfffffffu);
    EXPECT_NE(spi1, spi2); // each call reserves a new larval state
    EXPECT_EQ(larval.sel.family, AF_UNSPEC);
    EXPECT_EQ(larval.sel.prefixlen_d, 32);
    EXPECT_EQ(larval.lft.hard_add_expires_seconds, 30u);
    EXPECT_EQ(larval.curlft.add_time, 1'700'000'000u);
    EXPECT_EQ(larval.mode, XFRM_MODE_TUNNEL);
    EXPECT_EQ(first[0].Attributes(sizeof(xfrm_usersa_info)).Types(),
              std::vector<uint16_t>{XFRMA_REPLAY_VAL});
    // A reserved SPI is an SA already: NEWSA of it is EEXIST, GETSA finds it, DELSA frees it.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  0,
                                  AsBytes(SaInfo(b, a, spi1, 1)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(1)}}),
                      -EEXIST));
    auto got = h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, spi1)));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].header.nlmsg_type, XFRM_MSG_NEWSA);
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, NLM_F_ACK, AsBytes(SaId(a, spi2))), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, spi2))), -ESRCH));
    // The range is Linux's: min above max is EINVAL, one taken SPI is ENOENT.
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(b, a, 10, 9))), -EINVAL));
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(b, a, spi1, spi1))), -ENOENT));
    // Nobody completed the first one: 30 s later it is gone, with a hard EXPIRE to the group.
    RunUntil(Seconds(31));
    auto events = h.a.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].header.nlmsg_type, XFRM_MSG_EXPIRE);
    EXPECT_EQ(events[0].header.nlmsg_pid, 0u);
    const auto expire = events[0].As<xfrm_user_expire>();
    EXPECT_EQ(ntohl(expire.state.id.spi), spi1);
    EXPECT_EQ(expire.hard, 1);
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, spi1))), -ESRCH));
    Simulator::Destroy();
}

/// The ACQUIRE messages among what a client got.
std::vector<Reply>
Acquires(const std::vector<Reply>& events)
{
    std::vector<Reply> out;
    for (const Reply& r : events)
    {
        if (r.header.nlmsg_type == XFRM_MSG_ACQUIRE)
        {
            out.push_back(r);
        }
    }
    return out;
}

// charon's trap policies (start_action = trap): an out policy whose template no SA serves.
// The first packet makes an ACQ state and one ACQUIRE for the listener (xfrm_state_find,
// build_acquire); later packets while it lives make none; the outbound SA that answers it
// replaces it without a word; one nobody answers expires after 30 s with a hard EXPIRE, and
// the next packet acquires again. Every packet meanwhile is dropped (xfrm_larval_drop).
TEST_F(XfrmNetlinkEndpointTest, TrapPolicyAcquiresOnceUntilAnsweredOrExpired)
{
    Hosts h = TwoHosts();
    h.a.endpoint->SetGroups(kEvents, 1u << (XFRMNLGRP_ACQUIRE - 1) | 1u << (XFRMNLGRP_EXPIRE - 1));
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    constexpr uint32_t kReqid = 5;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(a, b, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(a, b, kReqid, 0)}}),
                      0));
    auto sender = InstallUdpSender(h.t->hostA, b);
    const std::vector<std::vector<uint8_t>> three(3, std::vector<uint8_t>(50, 0x11));
    ScheduleDatagrams(sender, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    auto acquires = Acquires(h.a.wire->Take(kEvents));
    ASSERT_EQ(acquires.size(), 1u) << "one ACQUIRE while the ACQ state lives";
    EXPECT_EQ(acquires[0].header.nlmsg_pid, 0u);
    EXPECT_EQ(acquires[0].header.nlmsg_seq, 0u);
    const auto acquire = acquires[0].As<xfrm_user_acquire>();
    EXPECT_EQ(acquire.id.daddr.a4, Addr(b).a4);
    EXPECT_EQ(acquire.id.spi, 0u);
    EXPECT_EQ(acquire.id.proto, IPPROTO_ESP);
    EXPECT_EQ(acquire.saddr.a4, Addr(a).a4);
    // The packet's flow: hosts /32, UDP, its exact ports.
    EXPECT_EQ(acquire.sel.saddr.a4, Addr(a).a4);
    EXPECT_EQ(acquire.sel.daddr.a4, Addr(b).a4);
    EXPECT_EQ(acquire.sel.prefixlen_s, 32);
    EXPECT_EQ(acquire.sel.prefixlen_d, 32);
    EXPECT_EQ(acquire.sel.proto, IPPROTO_UDP);
    EXPECT_EQ(ntohs(acquire.sel.dport), kUdpPort);
    EXPECT_EQ(acquire.sel.dport_mask, 0xffff);
    EXPECT_NE(acquire.sel.sport, 0);
    EXPECT_EQ(acquire.sel.sport_mask, 0xffff);
    EXPECT_EQ(acquire.sel.family, AF_INET);
    // The policy as GETPOLICY gives it, direction out.
    EXPECT_EQ(acquire.policy.dir, XFRM_POLICY_OUT);
    EXPECT_EQ(acquire.policy.index, 1u);
    EXPECT_EQ(acquire.policy.priority, 366560u);
    EXPECT_EQ(acquire.ealgos, ~0u);
    EXPECT_NE(acquire.seq, 0u);
    auto attrs = acquires[0].Attributes(sizeof(xfrm_user_acquire));
    EXPECT_EQ(attrs.Types(), (std::vector<uint16_t>{XFRMA_TMPL, XFRMA_POLICY_TYPE}));
    xfrm_user_tmpl tmpl{};
    ASSERT_TRUE(attrs.Read(XFRMA_TMPL, &tmpl));
    EXPECT_EQ(tmpl.reqid, kReqid); // what charon's process_acquire reads
    EXPECT_EQ(h.t->stackA->GetDropCount(XfrmDrop::OutNoStates), 3u);
    // The ACQ state is in the SAD's dump (SPI 0, the acquire's seq).
    auto dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    ASSERT_EQ(dump.size(), 2u);
    const auto acq = dump[0].As<xfrm_usersa_info>();
    EXPECT_EQ(acq.id.spi, 0u);
    EXPECT_EQ(acq.reqid, kReqid);
    EXPECT_EQ(acq.seq, acquire.seq);
    EXPECT_EQ(acq.lft.hard_add_expires_seconds, 30u);
    EXPECT_EQ(acq.curlft.add_time, 1'700'000'001u);
    // Not by its SPI: an SPI-0 state is in no byspi lookup.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, 0))), -ESRCH));

    // charon's answer: the outbound SA of the reqid replaces the ACQ state; traffic leaves.
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, 0x400, kReqid)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(4)}}),
                      0));
    dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    ASSERT_EQ(dump.size(), 2u);
    EXPECT_EQ(ntohl(dump[0].As<xfrm_usersa_info>().id.spi), 0x400u);
    ScheduleDatagrams(sender, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    EXPECT_TRUE(h.a.wire->Take(kEvents).empty());
    EXPECT_EQ(h.t->stackA->GetDropCount(XfrmDrop::OutNoStates), 3u);
    EXPECT_EQ(h.t->stackA->FindState(b, 0x400)->GetCurrent().packets, 3u);

    // Without the SA the next packet acquires again; nobody answers: 30 s later the ACQ state
    // is gone with a hard EXPIRE of SPI 0, and the next packet acquires once more.
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, NLM_F_ACK, AsBytes(SaId(b, 0x400))), 0));
    ScheduleDatagrams(sender, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    acquires = Acquires(h.a.wire->Take(kEvents));
    ASSERT_EQ(acquires.size(), 1u);
    const uint32_t second = acquires[0].As<xfrm_user_acquire>().seq;
    EXPECT_GT(second, acquire.seq);
    RunUntil(Seconds(30));
    auto events = h.a.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].header.nlmsg_type, XFRM_MSG_EXPIRE);
    const auto expire = events[0].As<xfrm_user_expire>();
    EXPECT_EQ(expire.hard, 1);
    EXPECT_EQ(expire.state.id.spi, 0u);
    EXPECT_EQ(expire.state.seq, second);
    dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    EXPECT_EQ(dump.size(), 1u); // NLMSG_DONE only
    ScheduleDatagrams(sender, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    acquires = Acquires(h.a.wire->Take(kEvents));
    ASSERT_EQ(acquires.size(), 1u);
    const uint32_t third = acquires[0].As<xfrm_user_acquire>().seq;
    EXPECT_GT(third, second);
    // ALLOCSPI with the acquire's seq takes the ACQ state over (xfrm_alloc_userspi): the SPI
    // goes to it, its selector stays the packet's; no second state.
    xfrm_userspi_info take = SpiRequest(a, b);
    take.info.seq = third;
    take.info.reqid = kReqid;
    take.info.mode = XFRM_MODE_TRANSPORT;
    auto taken = h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(take));
    ASSERT_EQ(taken.size(), 1u);
    ASSERT_EQ(taken[0].header.nlmsg_type, XFRM_MSG_NEWSA);
    const auto larval = taken[0].As<xfrm_usersa_info>();
    EXPECT_GE(ntohl(larval.id.spi), 0xc0000000u);
    EXPECT_EQ(larval.sel.proto, IPPROTO_UDP);
    EXPECT_EQ(ntohs(larval.sel.dport), kUdpPort);
    EXPECT_EQ(larval.seq, third);
    dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    EXPECT_EQ(dump.size(), 2u);
    // FLUSHSA takes ACQ and larval states too.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{})), 0));
    dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    EXPECT_EQ(dump.size(), 1u);

    // With nobody in XFRMNLGRP_ACQUIRE, no ACQ state is made (km_is_alive).
    ASSERT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(b, a, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(b, a, kReqid, 0)}}),
                      0));
    auto senderB = InstallUdpSender(h.t->hostB, a);
    ScheduleDatagrams(senderB, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    EXPECT_EQ(h.t->stackB->GetDropCount(XfrmDrop::OutNoStates), 3u);
    dump = h.b.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    EXPECT_EQ(dump.size(), 1u);
    Simulator::Destroy();
}

// `ip xfrm monitor` (a client in XFRMNLGRP_SA): each SA change, as xfrm_notify_sa builds it,
// with the request's seq and pid, before the request's ack. (Policies and larval states are
// compared with the real kernel in xfrm-netlink-kernel-diff-test; the kernel there has no ESP
// for SAs with keys.)
/// The MAPPING events of B's listener when A's ESP-in-UDP leaves from port aPort and B's
/// inbound SA expects the peer on 4500 (maxAge: its XFRMA_MTIMER_THRESH, 0 for none): five
/// datagrams at 1 s, five more at 5 s. B's GETSA of the SA afterwards in *sa.
struct MappingRun
{
    std::vector<Reply> early; //!< the MAPPINGs of the datagrams at 1 s
    std::vector<Reply> late;  //!< of those at 5 s
    Reply sa;
    uint32_t delivered{0}; //!< datagrams B's sink took, of the ten
};

MappingRun
RunMapping(uint16_t aPort, uint32_t maxAge)
{
    TopologyOptions opt;
    opt.installIpsec = false;
    opt.udpEncap = true;
    opt.encapPortA = aPort;
    opt.encapPortB = 4500;
    auto t = BuildTestTopology(opt);
    Endpoint a = MakeEndpoint(t->stackA);
    Endpoint b = MakeEndpoint(t->stackB);
    b.endpoint->SetGroups(kEvents, 1u << (XFRMNLGRP_MAPPING - 1));
    const Ipv4Address ha = t->hostAddrA;
    const Ipv4Address hb = t->hostAddrB;
    constexpr uint32_t kSpi = 0xc0de0001;
    auto encap = [](uint16_t sport, uint16_t dport) {
        xfrm_encap_tmpl e{};
        e.encap_type = 2; // UDP_ENCAP_ESPINUDP
        e.encap_sport = htons(sport);
        e.encap_dport = htons(dport);
        return AsBytes(e);
    };
    EXPECT_TRUE(
        IsAck(a.Request(XFRM_MSG_NEWSA,
                        NLM_F_ACK,
                        AsBytes(SaInfo(ha, hb, kSpi, 1)),
                        {{XFRMA_ALG_AEAD, GcmAttribute(1)}, {XFRMA_ENCAP, encap(aPort, 4500)}}),
              0));
    EXPECT_TRUE(IsAck(a.Request(XFRM_MSG_NEWPOLICY,
                                NLM_F_ACK,
                                AsBytes(PolicyInfo(ha, hb, XFRM_POLICY_OUT)),
                                {{XFRMA_TMPL, Template(ha, hb, 1, kSpi)}}),
                      0));
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> in = {{XFRMA_ALG_AEAD, GcmAttribute(1)},
                                                                 {XFRMA_ENCAP, encap(4500, 4500)}};
    if (maxAge != 0)
    {
        in.emplace_back(XFRMA_MTIMER_THRESH, AsBytes(maxAge));
    }
    EXPECT_TRUE(
        IsAck(b.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(SaInfo(ha, hb, kSpi, 1)), in), 0));
    EXPECT_TRUE(IsAck(b.Request(XFRM_MSG_NEWPOLICY,
                                NLM_F_ACK,
                                AsBytes(PolicyInfo(ha, hb, XFRM_POLICY_IN)),
                                {{XFRMA_TMPL, Template(ha, hb, 1, 0)}}),
                      0));
    auto sink = InstallUdpSink(t->hostB);
    auto sender = InstallUdpSender(t->hostA, hb);
    const std::vector<std::vector<uint8_t>> five(5, std::vector<uint8_t>(60, 0x33));
    ScheduleDatagrams(sender, five, Seconds(1), MilliSeconds(10));
    MappingRun run;
    RunUntil(Seconds(2));
    run.early = b.wire->Take(kEvents);
    // The helpers' times count from now (2 s): the second five leave at 5 s.
    ScheduleDatagrams(sender, five, Seconds(3), MilliSeconds(10));
    RunUntil(Seconds(4));
    run.late = b.wire->Take(kEvents);
    run.delivered = uint32_t(sink->received.size());
    auto got = b.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(hb, kSpi)));
    EXPECT_EQ(got.size(), 1u);
    if (!got.empty())
    {
        run.sa = got[0];
    }
    Simulator::Destroy();
    return run;
}

// esp_input_done2 -> km_new_mapping -> xfrm_send_mapping: ESP-in-UDP that authenticates but
// comes from another port than the inbound SA's (the peer's NAT rebound) is news for the
// daemon, one XFRM_MSG_MAPPING per packet; with XFRMA_MTIMER_THRESH one per new port, or per
// that many seconds. From the expected port, none. The SA itself is not changed.
TEST_F(XfrmNetlinkEndpointTest, NatMappingChangesReachTheMappingGroup)
{
    const MappingRun same = RunMapping(4500, 0);
    EXPECT_TRUE(same.early.empty() && same.late.empty()) << "the peer did not move";
    EXPECT_EQ(same.delivered, 10u);

    const MappingRun moved = RunMapping(4501, 0);
    EXPECT_EQ(moved.delivered, 10u) << "the packets still pass: the daemon decides";
    ASSERT_EQ(moved.early.size(), 5u) << "no mapping_maxage: every packet tells";
    EXPECT_EQ(moved.late.size(), 5u);
    const Reply& r = moved.early[0];
    EXPECT_EQ(r.header.nlmsg_type, XFRM_MSG_MAPPING);
    EXPECT_EQ(r.header.nlmsg_pid, 0u);
    EXPECT_EQ(r.header.nlmsg_seq, 0u);
    EXPECT_EQ(r.payload.size(), sizeof(xfrm_user_mapping));
    const auto m = r.As<xfrm_user_mapping>();
    EXPECT_EQ(ntohl(m.id.spi), 0xc0de0001u);
    EXPECT_EQ(m.id.proto, IPPROTO_ESP);
    EXPECT_EQ(m.id.family, AF_INET);
    EXPECT_EQ(m.reqid, 1u);
    EXPECT_EQ(ntohs(m.old_sport), 4500);
    EXPECT_EQ(ntohs(m.new_sport), 4501);
    EXPECT_EQ(std::memcmp(&m.old_saddr, &m.new_saddr, sizeof(m.old_saddr)), 0)
        << "the address did not change, only the port";
    // The SA still expects 4500.
    auto attrs = moved.sa.Attributes(sizeof(xfrm_usersa_info));
    xfrm_encap_tmpl e{};
    ASSERT_TRUE(attrs.Read(XFRMA_ENCAP, &e));
    EXPECT_EQ(ntohs(e.encap_sport), 4500);
    EXPECT_FALSE(attrs.Has(XFRMA_MTIMER_THRESH));

    const MappingRun limited = RunMapping(4501, 3);
    EXPECT_EQ(limited.early.size(), 1u) << "one per 3 s for the same new port";
    EXPECT_EQ(limited.late.size(), 1u) << "4 s later: told again";
    EXPECT_EQ(limited.delivered, 10u);
    // GETSA: x->lastused (the last packet, at 5.04 s) and mapping_maxage, in Linux's order.
    auto la = limited.sa.Attributes(sizeof(xfrm_usersa_info));
    EXPECT_EQ(la.Order(),
              (std::vector<uint16_t>{XFRMA_LASTUSED,
                                     XFRMA_ALG_AEAD,
                                     XFRMA_ENCAP,
                                     XFRMA_REPLAY_VAL,
                                     XFRMA_MTIMER_THRESH}));
    uint64_t lastUsed = 0;
    ASSERT_TRUE(la.Read(XFRMA_LASTUSED, &lastUsed));
    EXPECT_EQ(lastUsed, 1'700'000'005u);
    uint32_t maxAge = 0;
    ASSERT_TRUE(la.Read(XFRMA_MTIMER_THRESH, &maxAge));
    EXPECT_EQ(maxAge, 3u);
    EXPECT_EQ(limited.sa.As<xfrm_usersa_info>().curlft.use_time, 1'700'000'001u);
}

// xfrm_new_ae: userspace sets a valid SA's replay state and counters (NLM_F_REPLACE), and
// the datapath goes on from them: an inbound window moved to 1000 drops the peer's packets
// 1..3 as too old; the peer's outbound sequence moved past it lets them in again. Each change
// goes to XFRMNLGRP_AEVENTS as XFRM_AE_CU before the ack; refusals, with Linux's errnos and
// messages, tell nobody.
TEST_F(XfrmNetlinkEndpointTest, NewAeMovesReplayStateAndCounters)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    constexpr uint32_t kSpi = 0xc0de0101;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, kSpi, 1)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(9)}}),
                      0));
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(a, b, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(a, b, 1, kSpi)}}),
                      0));
    ASSERT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, kSpi, 1)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(9)}}),
                      0));
    h.b.endpoint->SetGroups(kEvents, 1u << (XFRMNLGRP_AEVENTS - 1));
    h.b.endpoint->SetExtAck(kPortA, true);
    xfrm_aevent_id id{};
    id.sa_id.daddr = Addr(b);
    id.sa_id.spi = htonl(kSpi);
    id.sa_id.family = AF_INET;
    id.sa_id.proto = IPPROTO_ESP;
    id.saddr = Addr(a);
    id.reqid = 1;

    // Refusals first, in xfrm_new_ae's order.
    auto refused = h.b.Request(XFRM_MSG_NEWAE, NLM_F_REPLACE | NLM_F_ACK, AsBytes(id));
    ASSERT_TRUE(IsAck(refused, -EINVAL));
    EXPECT_EQ(refused[0].ExtAck(), "Missing required attribute for AE");
    xfrm_replay_state moved{};
    moved.seq = 1000;
    moved.bitmap = 1;
    refused =
        h.b.Request(XFRM_MSG_NEWAE, NLM_F_ACK, AsBytes(id), {{XFRMA_REPLAY_VAL, AsBytes(moved)}});
    ASSERT_TRUE(IsAck(refused, -EINVAL));
    EXPECT_EQ(refused[0].ExtAck(), "NLM_F_REPLACE flag is required");
    xfrm_aevent_id missing = id;
    missing.sa_id.spi = htonl(kSpi + 1);
    EXPECT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWAE,
                                  NLM_F_REPLACE | NLM_F_ACK,
                                  AsBytes(missing),
                                  {{XFRMA_REPLAY_VAL, AsBytes(moved)}}),
                      -ESRCH));
    auto spi = h.b.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(SpiRequest(a, b)));
    ASSERT_EQ(spi.size(), 1u);
    xfrm_aevent_id larval = id;
    larval.sa_id.spi = spi[0].As<xfrm_usersa_info>().id.spi;
    refused = h.b.Request(XFRM_MSG_NEWAE,
                          NLM_F_REPLACE | NLM_F_ACK,
                          AsBytes(larval),
                          {{XFRMA_REPLAY_VAL, AsBytes(moved)}});
    ASSERT_TRUE(IsAck(refused, -EINVAL));
    EXPECT_EQ(refused[0].ExtAck(), "SA must be in VALID state");
    EXPECT_TRUE(h.b.wire->Take(kEvents).empty()) << "a refused NEWAE tells nobody";

    // B's window to 1000, counters and the replay threshold with it.
    xfrm_lifetime_cur ltime{};
    ltime.bytes = 12345;
    ltime.packets = 67;
    ltime.add_time = 1'700'000'000;
    ltime.use_time = 1'700'000'000;
    ASSERT_TRUE(IsAck(h.b.Request(XFRM_MSG_NEWAE,
                                  NLM_F_REPLACE | NLM_F_ACK,
                                  AsBytes(id),
                                  {{XFRMA_REPLAY_VAL, AsBytes(moved)},
                                   {XFRMA_LTIME_VAL, AsBytes(ltime)},
                                   {XFRMA_REPLAY_THRESH, AsBytes(uint32_t(7))}}),
                      0));
    auto events = h.b.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].header.nlmsg_type, XFRM_MSG_NEWAE);
    EXPECT_EQ(events[0].header.nlmsg_pid, kPortA);
    EXPECT_EQ(events[0].header.nlmsg_seq, h.b.seq);
    EXPECT_EQ(events[0].As<xfrm_aevent_id>().flags, uint32_t(XFRM_AE_CU));
    EXPECT_EQ(ntohl(events[0].As<xfrm_aevent_id>().sa_id.spi), kSpi);
    xfrm_replay_state told{};
    ASSERT_TRUE(events[0].Attributes(sizeof(xfrm_aevent_id)).Read(XFRMA_REPLAY_VAL, &told));
    EXPECT_EQ(told.seq, 1000u);

    auto sink = InstallUdpSink(h.t->hostB);
    auto sender = InstallUdpSender(h.t->hostA, b);
    const std::vector<std::vector<uint8_t>> three(3, std::vector<uint8_t>(40, 0x44));
    ScheduleDatagrams(sender, three, Seconds(1), MilliSeconds(10));
    RunUntil(Seconds(2));
    EXPECT_EQ(sink->received.size(), 0u) << "sequence numbers 1..3 are too old for 1000";
    EXPECT_EQ(h.t->stackB->GetDropCount(XfrmDrop::InStateSeqError), 3u);

    // A's outbound sequence past B's window: its next packets are 1011..1013.
    xfrm_aevent_id out = id;
    xfrm_replay_state oseq{};
    oseq.oseq = 1010;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWAE,
                                  NLM_F_REPLACE | NLM_F_ACK,
                                  AsBytes(out),
                                  {{XFRMA_REPLAY_VAL, AsBytes(oseq)}}),
                      0));
    ScheduleDatagrams(sender, three, Seconds(0), MilliSeconds(10));
    RunUntil(Seconds(1));
    EXPECT_EQ(sink->received.size(), 3u);

    xfrm_aevent_id ask = id;
    ask.flags = XFRM_AE_RTHR | XFRM_AE_ETHR;
    auto ae = h.b.Request(XFRM_MSG_GETAE, 0, AsBytes(ask));
    ASSERT_EQ(ae.size(), 1u);
    ASSERT_EQ(ae[0].header.nlmsg_type, XFRM_MSG_NEWAE);
    auto attrs = ae[0].Attributes(sizeof(xfrm_aevent_id));
    EXPECT_EQ(attrs.Order(),
              (std::vector<uint16_t>{XFRMA_REPLAY_VAL,
                                     XFRMA_LTIME_VAL,
                                     XFRMA_REPLAY_THRESH,
                                     XFRMA_ETIMER_THRESH}));
    xfrm_replay_state r{};
    ASSERT_TRUE(attrs.Read(XFRMA_REPLAY_VAL, &r));
    EXPECT_EQ(r.seq, 1013u);
    EXPECT_EQ(r.bitmap & 0x7, 0x7u) << "1013, 1012, 1011";
    EXPECT_EQ(r.bitmap & (1u << 13), 1u << 13) << "1000, from the NEWAE, 13 below the top";
    xfrm_lifetime_cur lt{};
    ASSERT_TRUE(attrs.Read(XFRMA_LTIME_VAL, &lt));
    EXPECT_EQ(lt.packets, 67u + 3u) << "counted on from the NEWAE's counters";
    EXPECT_GT(lt.bytes, 12345u);
    uint32_t threshold = 0;
    ASSERT_TRUE(attrs.Read(XFRMA_REPLAY_THRESH, &threshold));
    EXPECT_EQ(threshold, 7u);
    uint32_t etime = 0;
    ASSERT_TRUE(attrs.Read(XFRMA_ETIMER_THRESH, &etime));
    EXPECT_EQ(etime, 10u) << "net.core.xfrm_aevent_etime, untouched";
    auto outAe = h.a.Request(XFRM_MSG_GETAE, 0, AsBytes(out));
    ASSERT_EQ(outAe.size(), 1u);
    xfrm_replay_state ro{};
    ASSERT_TRUE(outAe[0].Attributes(sizeof(xfrm_aevent_id)).Read(XFRMA_REPLAY_VAL, &ro));
    EXPECT_EQ(ro.oseq, 1013u);
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, MonitorHearsEverySaChange)
{
    Hosts h = TwoHosts();
    constexpr uint32_t kMonitor = 1003;
    h.a.endpoint->SetGroups(kMonitor, 1u << (XFRMNLGRP_SA - 1));
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, 0x500, 3)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(5)}}),
                      0));
    const uint32_t addSeq = h.a.seq;
    auto heard = h.a.wire->Take(kMonitor);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].header.nlmsg_type, XFRM_MSG_NEWSA);
    EXPECT_EQ(heard[0].header.nlmsg_seq, addSeq);
    EXPECT_EQ(heard[0].header.nlmsg_pid, kPortA);
    EXPECT_EQ(ntohl(heard[0].As<xfrm_usersa_info>().id.spi), 0x500u);
    EXPECT_TRUE(heard[0].Attributes(sizeof(xfrm_usersa_info)).Has(XFRMA_ALG_AEAD));
    // UPDSA of its limits.
    xfrm_usersa_info p = SaInfo(a, b, 0x500, 3);
    p.lft.hard_byte_limit = 1'000'000;
    ASSERT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_UPDSA, NLM_F_ACK, AsBytes(p), {{XFRMA_ALG_AEAD, GcmAttribute(5)}}),
        0));
    heard = h.a.wire->Take(kMonitor);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].header.nlmsg_type, XFRM_MSG_UPDSA);
    EXPECT_EQ(heard[0].As<xfrm_usersa_info>().lft.hard_byte_limit, 1'000'000u);
    // A refused request tells nobody.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, 0x500, 3)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(5)}}),
                      -EEXIST));
    EXPECT_TRUE(h.a.wire->Take(kMonitor).empty());
    // DELSA: the id, then the state in XFRMA_SA with its attributes.
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, NLM_F_ACK, AsBytes(SaId(b, 0x500))), 0));
    heard = h.a.wire->Take(kMonitor);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].header.nlmsg_type, XFRM_MSG_DELSA);
    EXPECT_EQ(ntohl(heard[0].As<xfrm_usersa_id>().spi), 0x500u);
    auto attrs = heard[0].Attributes(sizeof(xfrm_usersa_id));
    xfrm_usersa_info gone{};
    ASSERT_TRUE(attrs.Read(XFRMA_SA, &gone));
    EXPECT_EQ(gone.reqid, 3u);
    EXPECT_TRUE(attrs.Has(XFRMA_ALG_AEAD));
    // FLUSHSA of an empty SAD tells nobody; of a full one, the protocol.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{})), 0));
    EXPECT_TRUE(h.a.wire->Take(kMonitor).empty());
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(SaInfo(a, b, 0x501, 3)),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(6)}}),
                      0));
    h.a.wire->Take(kMonitor);
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{IPPROTO_ESP})),
              0));
    heard = h.a.wire->Take(kMonitor);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].header.nlmsg_type, XFRM_MSG_FLUSHSA);
    EXPECT_EQ(heard[0].As<xfrm_usersa_flush>().proto, IPPROTO_ESP);
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, TimeLifetimesReachTheEventGroup)
{
    Hosts h = TwoHosts();
    h.a.endpoint->SetGroups(kEvents, 0xc3); // charon's event socket
    h.a.endpoint->SetGroups(kPortA, 0);     // and its request socket, in no group
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    xfrm_usersa_info p = SaInfo(a, b, 0x200, 1);
    p.lft.soft_add_expires_seconds = 5;
    p.lft.hard_add_expires_seconds = 10;
    ASSERT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(p), {{XFRMA_ALG_AEAD, GcmAttribute(2)}}),
        0));
    RunUntil(Seconds(6));
    auto events = h.a.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    auto expire = events[0].As<xfrm_user_expire>();
    EXPECT_EQ(ntohl(expire.state.id.spi), 0x200u);
    EXPECT_EQ(expire.hard, 0); // soft: charon rekeys
    EXPECT_EQ(expire.state.lft.soft_add_expires_seconds, 5u);
    RunUntil(Seconds(5));
    events = h.a.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    expire = events[0].As<xfrm_user_expire>();
    EXPECT_EQ(expire.hard, 1); // hard: deleted, charon recreates
    EXPECT_TRUE(h.a.wire->Take(kPortA).empty());
    EXPECT_FALSE(h.t->stackA->FindState(b, 0x200));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, 0x200))), -ESRCH));
    // UPDSA of a live SA moves its limits and re-arms the soft expire (xfrm_state_update).
    p.id.spi = htonl(0x201);
    ASSERT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(p), {{XFRMA_ALG_AEAD, GcmAttribute(3)}}),
        0));
    p.lft.soft_add_expires_seconds = 100;
    p.lft.hard_add_expires_seconds = 200;
    ASSERT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_UPDSA, NLM_F_ACK, AsBytes(p), {{XFRMA_ALG_AEAD, GcmAttribute(3)}}),
        0));
    RunUntil(Seconds(20));
    EXPECT_TRUE(h.a.wire->Take(kEvents).empty());
    EXPECT_EQ(h.t->stackA->FindState(b, 0x201)->GetConfig().lifetime.hardAddSeconds, 200u);
    Simulator::Destroy();
}

// charon's update_sa (MOBIKE, a NAT's new port): GETSA, GETAE, DELSA, then NEWSA with every
// attribute of the GETSA reply plus the replay state and LTIME_VAL of GETAE. The re-added SA
// carries on: its counters, add time (so its lifetimes) and sequence numbers are the old ones.
TEST_F(XfrmNetlinkEndpointTest, UpdateSaCarriesCountersAndReplayOver)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    xfrm_usersa_info p = SaInfo(a, b, 0x700, 1);
    p.lft.soft_add_expires_seconds = 50;
    p.lft.hard_add_expires_seconds = 60;
    ASSERT_TRUE(IsAck(
        h.a.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(p), {{XFRMA_ALG_AEAD, GcmAttribute(7)}}),
        0));
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(a, b, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(a, b, 1, 0x700)}}),
                      0));
    auto sender = InstallUdpSender(h.t->hostA, b);
    ScheduleDatagrams(sender,
                      std::vector<std::vector<uint8_t>>(5, std::vector<uint8_t>(50)),
                      Seconds(10),
                      MilliSeconds(1));
    RunUntil(Seconds(20));
    auto sa = h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(b, 0x700)));
    ASSERT_EQ(sa.size(), 1u);
    xfrm_aevent_id ae{};
    ae.sa_id = SaId(b, 0x700);
    ae.flags = XFRM_AE_RVAL;
    auto got = h.a.Request(XFRM_MSG_GETAE, 0, AsBytes(ae));
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].header.nlmsg_type, XFRM_MSG_NEWAE);
    EXPECT_EQ(got[0].header.nlmsg_pid, kPortA); // the request header's pid (xfrm_get_ae)
    EXPECT_EQ(got[0].As<xfrm_aevent_id>().flags, XFRM_AE_RVAL);
    auto aeAttrs = got[0].Attributes(sizeof(xfrm_aevent_id));
    EXPECT_EQ(aeAttrs.Order(), (std::vector<uint16_t>{XFRMA_REPLAY_VAL, XFRMA_LTIME_VAL}));
    xfrm_replay_state replay{};
    xfrm_lifetime_cur ltime{};
    ASSERT_TRUE(aeAttrs.Read(XFRMA_REPLAY_VAL, &replay));
    ASSERT_TRUE(aeAttrs.Read(XFRMA_LTIME_VAL, &ltime));
    EXPECT_EQ(replay.oseq, 5u);
    EXPECT_EQ(ltime.packets, 5u);
    EXPECT_EQ(ltime.add_time, 1'700'000'000u);
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, NLM_F_ACK, AsBytes(SaId(b, 0x700))), 0));
    // The re-add, as kernel_netlink_ipsec.c's update_sa builds it.
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> attrs;
    NetlinkAttributes old = sa[0].Attributes(sizeof(xfrm_usersa_info));
    for (uint16_t type : old.Order())
    {
        size_t length = 0;
        const uint8_t* v = old.Get(type, &length);
        if (type != XFRMA_REPLAY_VAL)
        {
            attrs.emplace_back(type, std::vector<uint8_t>(v, v + length));
        }
    }
    attrs.emplace_back(XFRMA_REPLAY_VAL, AsBytes(replay));
    attrs.emplace_back(XFRMA_LTIME_VAL, AsBytes(ltime));
    ASSERT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_NEWSA, NLM_F_ACK, AsBytes(sa[0].As<xfrm_usersa_info>()), attrs),
              0));
    Ptr<XfrmState> x = h.t->stackA->FindState(b, 0x700);
    ASSERT_TRUE(x);
    EXPECT_EQ(x->GetCurrent().packets, 5u);
    EXPECT_EQ(x->GetCurrent().addTime, Seconds(0));
    EXPECT_EQ(x->GetLastSeq(), 5u);
    // The soft add limit still fires 50 s after the first install, not after the re-add.
    h.a.endpoint->SetGroups(kEvents, 1u << (XFRMNLGRP_EXPIRE - 1));
    RunTo(Seconds(51));
    auto events = h.a.wire->Take(kEvents);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].As<xfrm_user_expire>().hard, 0);
    Simulator::Destroy();
}

// An ESN SA (charon's -esn proposals, or a window above 32) round-trips its ESN replay state
// at its own length; an AH or IPComp larval state is found, deleted and flushed by protocol.
TEST_F(XfrmNetlinkEndpointTest, EsnStateAndLarvalProtocols)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    xfrm_usersa_info p = SaInfo(b, a, 0x800, 1);
    p.replay_window = 0;
    p.flags = XFRM_STATE_ESN;
    xfrm_replay_state_esn esn{};
    esn.bmp_len = 4;
    esn.replay_window = 128;
    std::vector<uint8_t> esnValue(sizeof(esn) + 16);
    std::memcpy(esnValue.data(), &esn, sizeof(esn));
    ASSERT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_NEWSA,
                          NLM_F_ACK,
                          AsBytes(p),
                          {{XFRMA_REPLAY_ESN_VAL, esnValue}, {XFRMA_ALG_AEAD, GcmAttribute(8)}}),
              0));
    Ptr<XfrmState> x = h.t->stackA->FindState(a, 0x800);
    ASSERT_TRUE(x);
    EXPECT_TRUE(x->GetConfig().esn);
    EXPECT_EQ(x->GetConfig().replayWindow, 128u);
    auto got = h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, 0x800)));
    ASSERT_EQ(got.size(), 1u);
    size_t length = 0;
    auto attrs = got[0].Attributes(sizeof(xfrm_usersa_info));
    ASSERT_TRUE(attrs.Get(XFRMA_REPLAY_ESN_VAL, &length));
    EXPECT_EQ(length, sizeof(esn) + 16);
    EXPECT_FALSE(attrs.Has(XFRMA_REPLAY_VAL));
    // NEWAE of the ESN state: top 2^32 + 5 across the 32-bit wrap, some below it received, the
    // outbound number past 2^32; GETAE gives back the same bytes (bit (seq - 1) mod 128).
    xfrm_replay_state_esn moved = esn;
    moved.seq_hi = 1;
    moved.seq = 5;
    moved.oseq_hi = 1;
    moved.oseq = 9;
    std::vector<uint8_t> movedValue(sizeof(moved) + 16);
    std::memcpy(movedValue.data(), &moved, sizeof(moved));
    for (const uint64_t seq : {(1ull << 32) + 5, (1ull << 32) + 3, (1ull << 32) - 2})
    {
        const uint32_t bit = uint32_t((seq - 1) % 128);
        movedValue[sizeof(moved) + bit / 8] |= uint8_t(1u << (bit % 8));
    }
    xfrm_aevent_id ae{};
    ae.sa_id.daddr = Addr(a);
    ae.sa_id.spi = htonl(0x800);
    ae.sa_id.family = AF_INET;
    ae.sa_id.proto = IPPROTO_ESP;
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWAE,
                                  NLM_F_REPLACE | NLM_F_ACK,
                                  AsBytes(ae),
                                  {{XFRMA_REPLAY_ESN_VAL, movedValue}}),
                      0));
    EXPECT_EQ(x->GetReplayWindow().GetTop(), (1ull << 32) + 5);
    EXPECT_EQ(x->GetLastSeq(), (1ull << 32) + 9);
    auto aeGot = h.a.Request(XFRM_MSG_GETAE, 0, AsBytes(ae));
    ASSERT_EQ(aeGot.size(), 1u);
    const uint8_t* back =
        aeGot[0].Attributes(sizeof(xfrm_aevent_id)).Get(XFRMA_REPLAY_ESN_VAL, &length);
    ASSERT_TRUE(back);
    EXPECT_EQ(std::vector<uint8_t>(back, back + length), movedValue);
    // A bitmap of another size than the state's: Linux's xfrm_replay_verify_len refuses it.
    std::vector<uint8_t> shorter = movedValue;
    reinterpret_cast<xfrm_replay_state_esn*>(shorter.data())->bmp_len = 2;
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWAE,
                                  NLM_F_REPLACE | NLM_F_ACK,
                                  AsBytes(ae),
                                  {{XFRMA_REPLAY_ESN_VAL, shorter}}),
                      -EINVAL));
    // ESN without its attribute: Linux's verify_replay.
    xfrm_usersa_info noEsn = SaInfo(b, a, 0x802, 1);
    noEsn.flags = XFRM_STATE_ESN;
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_NEWSA, 0, AsBytes(noEsn), {{XFRMA_ALG_AEAD, GcmAttribute(8)}}),
              -EINVAL));
    // Larval states by protocol.
    xfrm_userspi_info comp = SpiRequest(b, a, 0x100, 0x200);
    comp.info.id.proto = IPPROTO_COMP;
    auto cpi = h.a.Request(XFRM_MSG_ALLOCSPI, 0, AsBytes(comp));
    ASSERT_EQ(cpi.size(), 1u);
    const uint32_t value = ntohl(cpi[0].As<xfrm_usersa_info>().id.spi);
    xfrm_usersa_id id = SaId(a, value);
    id.proto = IPPROTO_COMP;
    EXPECT_EQ(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(id)).at(0).header.nlmsg_type, XFRM_MSG_NEWSA);
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, value))), -ESRCH)); // not ESP
    // FLUSHSA of ESP leaves the IPComp one; of IPSEC_PROTO_ANY takes it.
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{IPPROTO_ESP})),
              0));
    EXPECT_FALSE(h.t->stackA->FindState(a, 0x800));
    EXPECT_EQ(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(id)).at(0).header.nlmsg_type, XFRM_MSG_NEWSA);
    EXPECT_TRUE(
        IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{255})), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELSA, 0, AsBytes(id)), -ESRCH));
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, PolicyIndexesAndUpdPolicyAsLinux)
{
    Hosts h = TwoHosts();
    const Ipv4Address a = h.t->hostAddrA;
    const Ipv4Address b = h.t->hostAddrB;
    const uint32_t in = InstallChildSa(h.a, a, b, 0x300);
    // xfrm_gen_index: out 1, in 8, fwd 18 (one generator for all, the direction in the low bits).
    auto dump = h.a.Request(XFRM_MSG_GETPOLICY, NLM_F_DUMP, {});
    ASSERT_EQ(dump.size(), 4u);
    EXPECT_EQ(dump.back().header.nlmsg_type, NLMSG_DONE);
    std::map<uint8_t, uint32_t> index;
    for (size_t i = 0; i + 1 < dump.size(); ++i)
    {
        EXPECT_EQ(dump[i].header.nlmsg_flags, NLM_F_MULTI);
        const auto p = dump[i].As<xfrm_userpolicy_info>();
        index[p.dir] = p.index;
    }
    EXPECT_EQ(index[XFRM_POLICY_OUT], 1u);
    EXPECT_EQ(index[XFRM_POLICY_IN], 8u);
    EXPECT_EQ(index[XFRM_POLICY_FWD], 18u);
    // The dump ends with NLMSG_DONE in a datagram of its own.
    ASSERT_FALSE(h.a.wire->datagrams[kPortA].size());
    // UPDPOLICY (charon's rekey) keeps the index and moves the template SPI: the stack now
    // picks the new outbound SA.
    xfrm_usersa_info newOut = SaInfo(a, b, 0x301, 1);
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_NEWSA,
                                  NLM_F_ACK,
                                  AsBytes(newOut),
                                  {{XFRMA_ALG_AEAD, GcmAttribute(9)}}),
                      0));
    ASSERT_TRUE(IsAck(h.a.Request(XFRM_MSG_UPDPOLICY,
                                  NLM_F_ACK,
                                  AsBytes(PolicyInfo(a, b, XFRM_POLICY_OUT)),
                                  {{XFRMA_TMPL, Template(a, b, 1, 0x301)}}),
                      0));
    xfrm_userpolicy_id byIndex{};
    byIndex.index = 1;
    byIndex.dir = XFRM_POLICY_OUT;
    auto got = h.a.Request(XFRM_MSG_GETPOLICY, 0, AsBytes(byIndex));
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].header.nlmsg_type, XFRM_MSG_NEWPOLICY);
    auto attrs = got[0].Attributes(sizeof(xfrm_userpolicy_info));
    xfrm_user_tmpl t{};
    ASSERT_TRUE(attrs.Read(XFRMA_TMPL, &t));
    EXPECT_EQ(ntohl(t.id.spi), 0x301u);
    Ptr<XfrmPolicy> policy =
        h.t->stackA->GetPolicies().Lookup(XfrmDir::Out, XfrmFlow{a, b, 17, 1, 2});
    ASSERT_TRUE(policy);
    EXPECT_EQ(policy->GetConfig().tmpl.spi, 0x301u);
    // DELPOLICY by index, then it is gone; the other two remain.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_DELPOLICY, NLM_F_ACK, AsBytes(byIndex)), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETPOLICY, 0, AsBytes(byIndex)), -ENOENT));
    EXPECT_EQ(h.t->stackA->GetPolicies().GetN(), 2u);
    // GETSPDINFO counts them and gives Linux's hash thresholds.
    auto spd = h.a.Request(XFRM_MSG_GETSPDINFO, 0, AsBytes(uint32_t(0xffffffff)));
    ASSERT_EQ(spd.size(), 1u);
    EXPECT_EQ(spd[0].header.nlmsg_type, XFRM_MSG_NEWSPDINFO);
    NetlinkAttributes sa;
    std::string error;
    ASSERT_TRUE(
        sa.Parse(spd[0].payload.data() + 4, spd[0].payload.size() - 4, XFRMA_SPD_MAX, &error));
    xfrmu_spdinfo info{};
    xfrmu_spdhthresh v4{};
    xfrmu_spdhthresh v6{};
    ASSERT_TRUE(sa.Read(XFRMA_SPD_INFO, &info));
    ASSERT_TRUE(sa.Read(XFRMA_SPD_IPV4_HTHRESH, &v4));
    ASSERT_TRUE(sa.Read(XFRMA_SPD_IPV6_HTHRESH, &v6));
    EXPECT_EQ(info.incnt, 1u);
    EXPECT_EQ(info.outcnt, 0u);
    EXPECT_EQ(info.fwdcnt, 1u);
    EXPECT_EQ(v4.lbits, 32);
    EXPECT_EQ(v6.rbits, 128);
    // FLUSHSA and FLUSHPOLICY empty both tables; a flush of empty tables is still 0.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{0})), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHPOLICY, NLM_F_ACK, {}), 0));
    EXPECT_EQ(h.t->stackA->GetStates().GetN(), 0u);
    EXPECT_EQ(h.t->stackA->GetPolicies().GetN(), 0u);
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHPOLICY, NLM_F_ACK, {}), 0));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_GETSA, 0, AsBytes(SaId(a, in))), -ESRCH));
    dump = h.a.Request(XFRM_MSG_GETSA, NLM_F_DUMP, {});
    ASSERT_EQ(dump.size(), 1u);
    EXPECT_EQ(dump[0].header.nlmsg_type, NLMSG_DONE);
    Simulator::Destroy();
}

TEST_F(XfrmNetlinkEndpointTest, MalformedInputIsAnsweredOrDroppedNeverFatal)
{
    Hosts h = TwoHosts();
    h.a.endpoint->SetExtAck(kPortA, true);
    // Shorter than its fixed part: EINVAL, "Invalid header length".
    auto r = h.a.Request(XFRM_MSG_NEWSA, 0, std::vector<uint8_t>(16));
    ASSERT_TRUE(IsAck(r, -EINVAL));
    EXPECT_EQ(r[0].ExtAck(), "Invalid header length");
    // A type Linux does not know, and one without a handler: EINVAL.
    EXPECT_TRUE(IsAck(h.a.Request(99, 0, {}), -EINVAL));
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_MAPPING, 0, {}), -EINVAL));
    // Not a request, or a control message: nothing unless an ack is asked for.
    NetlinkMessageBuilder noRequest(XFRM_MSG_GETSPDINFO, 0, 1, kPortA);
    noRequest.Put(uint32_t(0));
    auto bytes = noRequest.Finish();
    h.a.endpoint->Receive(kPortA, bytes.data(), bytes.size());
    EXPECT_TRUE(h.a.wire->Take(kPortA).empty());
    EXPECT_TRUE(IsAck(h.a.Request(NLMSG_NOOP, NLM_F_ACK, {}), 0));
    // Two requests in a datagram, then a message whose length runs past the end: both
    // answered, the rest dropped and counted.
    std::vector<uint8_t> datagram;
    for (uint32_t seq : {7u, 8u})
    {
        NetlinkMessageBuilder b(XFRM_MSG_GETSPDINFO, NLM_F_REQUEST, seq, kPortA);
        b.Put(uint32_t(0));
        auto m = b.Finish();
        datagram.insert(datagram.end(), m.begin(), m.end());
    }
    nlmsghdr broken{};
    broken.nlmsg_len = 200;
    broken.nlmsg_type = XFRM_MSG_GETSPDINFO;
    broken.nlmsg_flags = NLM_F_REQUEST;
    const auto* raw = reinterpret_cast<const uint8_t*>(&broken);
    datagram.insert(datagram.end(), raw, raw + sizeof(broken));
    const uint64_t malformed = h.a.endpoint->GetMalformedCount();
    h.a.endpoint->Receive(kPortA, datagram.data(), datagram.size());
    auto replies = h.a.wire->Take(kPortA);
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].header.nlmsg_seq, 7u);
    EXPECT_EQ(replies[1].header.nlmsg_seq, 8u);
    EXPECT_EQ(h.a.endpoint->GetMalformedCount(), malformed + 1);
    // Random datagrams, and random changes to well-formed requests: every request message that
    // asks for an ack gets exactly one answer or a dump, and nothing crashes.
    std::mt19937 random(5);
    const auto valid = [&] {
        NetlinkMessageBuilder b(XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, 1, kPortA);
        b.Put(SaInfo(h.t->hostAddrA, h.t->hostAddrB, 0x500, 1));
        b.PutAttribute(XFRMA_ALG_AEAD, GcmAttribute(5).data(), GcmAttribute(5).size());
        return b.Finish();
    }();
    uint32_t acked = 0;
    for (int i = 0; i < 20000; ++i)
    {
        std::vector<uint8_t> d;
        if (i % 2)
        {
            d.resize(random() % 600);
            for (auto& byte : d)
            {
                byte = uint8_t(random());
            }
        }
        else
        {
            d = valid;
            for (int flips = 1 + random() % 4; flips > 0; --flips)
            {
                d[random() % d.size()] = uint8_t(random());
            }
        }
        h.a.endpoint->Receive(kPortA, d.data(), d.size());
        const auto answers = h.a.wire->Take(kPortA);
        for (const NetlinkMessageView& m : SplitNetlinkDatagram(d.data(), d.size()))
        {
            const uint16_t asked = NLM_F_REQUEST | NLM_F_ACK;
            if ((m.header.nlmsg_flags & asked) != asked)
            {
                continue;
            }
            ++acked;
            bool answered = false;
            for (const Reply& a : answers)
            {
                answered = answered || a.header.nlmsg_seq == m.header.nlmsg_seq;
            }
            EXPECT_TRUE(answered) << "type " << m.header.nlmsg_type << " seq " << m.header.nlmsg_seq
                                  << " got no answer";
        }
    }
    EXPECT_GT(acked, 5000u); // the mutated requests mostly keep their flags
    // Still answering.
    EXPECT_TRUE(IsAck(h.a.Request(XFRM_MSG_FLUSHSA, NLM_F_ACK, AsBytes(xfrm_usersa_flush{0})), 0));
    Simulator::Destroy();
}

} // namespace

namespace
{
xfrm_userpolicy_info
SocketPolicy(uint8_t dir, uint8_t action)
{
    xfrm_userpolicy_info p{};
    p.dir = dir;
    p.action = action;
    p.sel.family = AF_INET;
    return p;
}

constexpr uint32_t kSolIp = 0;
constexpr uint32_t kIpXfrmPolicy = 17;
constexpr uint32_t kSolUdp = 17;
constexpr uint32_t kUdpEncap = 100;

/// setsockopt(IP_XFRM_POLICY) of a UDP socket on port, as the preload reports it.
bool
SetSocketPolicy(XfrmNetlinkEndpoint& e, uint16_t port, const xfrm_userpolicy_info& p)
{
    return e.SocketOption(kSolIp,
                          kIpXfrmPolicy,
                          IPPROTO_UDP,
                          port,
                          reinterpret_cast<const uint8_t*>(&p),
                          sizeof(p));
}
} // namespace

// charon's socket-default plugin: IP_XFRM_POLICY allow (in and out) on its IKE sockets, and
// UDP_ENCAP on the NAT-T one; the preload sends both (xfrm-netlink-wire.h SocketOption).
TEST_F(XfrmNetlinkEndpointTest, SocketOptionsBecomeSocketPoliciesAndClearAsInLinux)
{
    Hosts h = TwoHosts();
    Ptr<XfrmStack> stack = h.t->stackA;
    XfrmNetlinkEndpoint& e = *h.a.endpoint;
    for (uint8_t dir : {uint8_t(XFRM_POLICY_OUT), uint8_t(XFRM_POLICY_IN)})
    {
        EXPECT_TRUE(SetSocketPolicy(e, 500, SocketPolicy(dir, XFRM_POLICY_ALLOW)));
    }
    auto sockets = stack->GetSocketPolicies();
    EXPECT_EQ(sockets.size(), 2u);
    const auto out = std::make_tuple(uint8_t(17), uint16_t(500), XfrmDir::Out);
    const auto in = std::make_tuple(uint8_t(17), uint16_t(500), XfrmDir::In);
    EXPECT_EQ(sockets[out], XfrmPolicyAction::Allow);
    EXPECT_EQ(sockets[in], XfrmPolicyAction::Allow);

    // Refused: a template (not modelled), a forward direction, an unknown action or option.
    struct
    {
        xfrm_userpolicy_info info;
        xfrm_user_tmpl tmpl;
    } withTemplate{SocketPolicy(XFRM_POLICY_OUT, XFRM_POLICY_ALLOW), {}};

    EXPECT_FALSE(e.SocketOption(kSolIp,
                                kIpXfrmPolicy,
                                IPPROTO_UDP,
                                501,
                                reinterpret_cast<const uint8_t*>(&withTemplate),
                                sizeof(withTemplate)));
    const xfrm_userpolicy_info fwd = SocketPolicy(XFRM_POLICY_FWD, XFRM_POLICY_ALLOW);
    EXPECT_FALSE(SetSocketPolicy(e, 501, fwd));
    const xfrm_userpolicy_info odd = SocketPolicy(XFRM_POLICY_OUT, 7);
    EXPECT_FALSE(SetSocketPolicy(e, 501, odd));
    EXPECT_FALSE(e.SocketOption(kSolIp, 99, IPPROTO_UDP, 501, nullptr, 0));
    EXPECT_EQ(stack->GetSocketPolicies().size(), 2u);
    // xfrm_user_policy with no value clears the socket's policies.
    EXPECT_TRUE(e.SocketOption(kSolIp, kIpXfrmPolicy, IPPROTO_UDP, 500, nullptr, 0));
    EXPECT_TRUE(stack->GetSocketPolicies().empty());
    // UDP_ENCAP_ESPINUDP makes the port an encapsulation port; other types are refused.
    const uint32_t espInUdp = 2;
    const uint32_t nonIke = 1;
    EXPECT_FALSE(stack->IsUdpEncapPort(4500));
    EXPECT_TRUE(e.SocketOption(kSolUdp,
                               kUdpEncap,
                               IPPROTO_UDP,
                               4500,
                               reinterpret_cast<const uint8_t*>(&espInUdp),
                               sizeof(espInUdp)));
    EXPECT_TRUE(stack->IsUdpEncapPort(4500));
    EXPECT_FALSE(e.SocketOption(kSolUdp,
                                kUdpEncap,
                                IPPROTO_UDP,
                                4501,
                                reinterpret_cast<const uint8_t*>(&nonIke),
                                sizeof(nonIke)));
    EXPECT_FALSE(stack->IsUdpEncapPort(4501));
}

// Packet offload per topology: a bypassed IKE socket gets in and out bypass policies of its
// port in the device, as strongSwan 5.9.10+'s manage_bypass installs them (priority 32, in
// first); they and the socket policies go when the daemon's last XFRM socket closes.
TEST_F(XfrmNetlinkEndpointTest, PacketOffloadAddsOffloadedIkePortBypassUntilTheDaemonCloses)
{
    Hosts h = TwoHosts();
    Ptr<XfrmStack> stack = h.t->stackA;
    XfrmNetlinkEndpoint& e = *h.a.endpoint;
    e.SetPacketOffloadForCryptoRequests(true);
    e.SetGroups(kPortA, 0); // charon's request socket
    for (uint8_t dir : {uint8_t(XFRM_POLICY_OUT), uint8_t(XFRM_POLICY_IN)})
    {
        EXPECT_TRUE(SetSocketPolicy(e, 500, SocketPolicy(dir, XFRM_POLICY_ALLOW)));
    }
    std::vector<Ptr<XfrmPolicy>> bypasses;
    for (const auto& p : stack->GetPolicies().GetAll())
    {
        bypasses.push_back(p);
    }
    ASSERT_EQ(bypasses.size(), 2u);
    EXPECT_EQ(bypasses[0]->GetConfig().dir, XfrmDir::In);
    EXPECT_EQ(bypasses[1]->GetConfig().dir, XfrmDir::Out);
    for (const auto& p : bypasses)
    {
        const XfrmPolicyConfig& c = p->GetConfig();
        EXPECT_FALSE(c.hasTemplate);
        EXPECT_EQ(c.priority, 32u);
        EXPECT_EQ(c.sel.proto, IPPROTO_UDP);
        EXPECT_EQ(c.dir == XfrmDir::In ? c.sel.dport : c.sel.sport, 500);
        EXPECT_TRUE(p->IsHardware()) << "offloaded to the EmuNic, whose device takes bypasses";
    }
    e.RemoveClient(kPortA);
    EXPECT_EQ(stack->GetPolicies().GetN(), 0u);
    EXPECT_TRUE(stack->GetSocketPolicies().empty());
}
