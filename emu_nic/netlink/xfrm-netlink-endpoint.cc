#include "xfrm-netlink-endpoint.h"

#include "ns3/ipv4-route.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/simulator.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <netinet/in.h>
#include <random>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("XfrmNetlinkEndpoint");
NS_OBJECT_ENSURE_REGISTERED(XfrmNetlinkEndpoint);

namespace
{

constexpr uint64_t kXfrmInf = ~uint64_t(0); //!< XFRM_INF
constexpr uint16_t kUdpEncapEspInUdp = 2;   //!< UDP_ENCAP_ESPINUDP (<linux/udp.h>)
constexpr uint8_t kIpsecProtoAny = 255;     //!< IPSEC_PROTO_ANY: AH, ESP or IPComp
constexpr size_t kXfrmMaxDepth = 6;         //!< XFRM_MAX_DEPTH, templates per policy
constexpr uint32_t kAcqExpires = 30;        //!< net.core.xfrm_acq_expires
constexpr uint32_t kHz = 250;               //!< CONFIG_HZ of Debian's kernels (jiffies)
constexpr size_t kDumpDatagram = 4096 - 64; //!< about NLMSG_GOODSIZE, an skb of a dump
constexpr uint32_t kMinPayload[XFRM_MSG_MAX + 1 - XFRM_MSG_BASE] = {
    sizeof(xfrm_usersa_info),        // NEWSA
    sizeof(xfrm_usersa_id),          // DELSA
    sizeof(xfrm_usersa_id),          // GETSA
    sizeof(xfrm_userpolicy_info),    // NEWPOLICY
    sizeof(xfrm_userpolicy_id),      // DELPOLICY
    sizeof(xfrm_userpolicy_id),      // GETPOLICY
    sizeof(xfrm_userspi_info),       // ALLOCSPI
    sizeof(xfrm_user_acquire),       // ACQUIRE
    sizeof(xfrm_user_expire),        // EXPIRE
    sizeof(xfrm_userpolicy_info),    // UPDPOLICY
    sizeof(xfrm_usersa_info),        // UPDSA
    sizeof(xfrm_user_polexpire),     // POLEXPIRE
    sizeof(xfrm_usersa_flush),       // FLUSHSA
    0,                               // FLUSHPOLICY
    sizeof(xfrm_aevent_id),          // NEWAE
    sizeof(xfrm_aevent_id),          // GETAE
    sizeof(xfrm_user_report),        // REPORT
    sizeof(xfrm_userpolicy_id),      // MIGRATE
    0,                               // NEWSADINFO
    sizeof(uint32_t),                // GETSADINFO
    sizeof(uint32_t),                // NEWSPDINFO
    sizeof(uint32_t),                // GETSPDINFO
    sizeof(xfrm_user_mapping),       // MAPPING (Linux checks its size, then has no handler)
    sizeof(xfrm_userpolicy_default), // SETDEFAULT
    sizeof(xfrm_userpolicy_default), // GETDEFAULT
};

/// xfrma_policy's minimum lengths (NLA_UNSPEC with .len, or the NLA_U* sizes); 0: no entry.
size_t
AttributeMinimum(uint16_t type)
{
    switch (type)
    {
    case XFRMA_ALG_AUTH:
    case XFRMA_ALG_CRYPT:
    case XFRMA_ALG_COMP:
        return sizeof(xfrm_algo);
    case XFRMA_ENCAP:
        return sizeof(xfrm_encap_tmpl);
    case XFRMA_TMPL:
        return sizeof(xfrm_user_tmpl);
    case XFRMA_SA:
        return sizeof(xfrm_usersa_info);
    case XFRMA_POLICY:
        return sizeof(xfrm_userpolicy_info);
    case XFRMA_SEC_CTX:
        return sizeof(xfrm_user_sec_ctx);
    case XFRMA_LTIME_VAL:
        return sizeof(xfrm_lifetime_cur);
    case XFRMA_REPLAY_VAL:
        return sizeof(xfrm_replay_state);
    case XFRMA_REPLAY_THRESH:
    case XFRMA_ETIMER_THRESH:
    case XFRMA_TFCPAD:
    case XFRMA_SA_EXTRA_FLAGS:
    case XFRMA_SET_MARK:
    case XFRMA_SET_MARK_MASK:
    case XFRMA_IF_ID:
    case XFRMA_MTIMER_THRESH:
        return 4;
    case XFRMA_SRCADDR:
    case XFRMA_COADDR:
        return sizeof(xfrm_address_t);
    case XFRMA_LASTUSED:
        return 8;
    case XFRMA_POLICY_TYPE:
        return sizeof(xfrm_userpolicy_type);
    case XFRMA_MIGRATE:
        return sizeof(xfrm_user_migrate);
    case XFRMA_ALG_AEAD:
        return sizeof(xfrm_algo_aead);
    case XFRMA_KMADDRESS:
        return sizeof(xfrm_user_kmaddress);
    case XFRMA_ALG_AUTH_TRUNC:
        return sizeof(xfrm_algo_auth);
    case XFRMA_MARK:
        return sizeof(xfrm_mark);
    case XFRMA_REPLAY_ESN_VAL:
        return sizeof(xfrm_replay_state_esn);
    case XFRMA_PROTO:
        return 1;
    case XFRMA_ADDRESS_FILTER:
        return sizeof(xfrm_address_filter);
    case XFRMA_OFFLOAD_DEV:
        return sizeof(xfrm_user_offload);
    default:
        return 0;
    }
}

/// One request's attributes, as xfrm_user_rcv_msg parses them: -ERANGE when one is shorter than
/// xfrma_policy allows.
int
ParseAttributes(const NetlinkMessageView& request,
                size_t fixed,
                NetlinkAttributes* attrs,
                std::string* message,
                int64_t* badOffset = nullptr)
{
    const size_t start = NLMSG_ALIGN(fixed);
    if (request.payloadLength < fixed)
    {
        *message = "Invalid header length";
        return -EINVAL;
    }
    std::string error;
    const size_t length = request.payloadLength > start ? request.payloadLength - start : 0;
    // Liberal parsing stops at a malformed trailing attribute without an error.
    attrs->Parse(request.payload + start, length, XFRMA_MAX, &error);
    for (uint16_t type : attrs->Types())
    {
        size_t got = 0;
        attrs->Get(type, &got);
        if (got < AttributeMinimum(type))
        {
            *message = "Attribute failed policy validation";
            if (badOffset)
            {
                *badOffset = int64_t(NLMSG_HDRLEN + start + attrs->Offset(type));
            }
            return -ERANGE;
        }
    }
    return 0;
}

bool
ToAddress(const xfrm_address_t& a, uint16_t family, XfrmAddress* out)
{
    if (family == AF_INET)
    {
        *out = Ipv4Address(ntohl(a.a4));
        return true;
    }
    if (family == AF_INET6)
    {
        *out = Ipv6Address(const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(a.a6)));
        return true;
    }
    return false;
}

xfrm_address_t
FromAddress(const XfrmAddress& address)
{
    xfrm_address_t a{};
    std::memcpy(&a, address.GetBytes(), address.GetLength());
    return a;
}

uint16_t
FamilyOf(const XfrmAddress& address)
{
    return address.IsIpv4() ? AF_INET : AF_INET6;
}

uint64_t
FromInf(uint64_t v)
{
    return v == kXfrmInf ? kXfrmInfinity : v;
}

/// A selector of a request as the XfrmStack holds it; false (with the reason) for what the
/// stack cannot express (port masks other than all or none, an interface).
bool
ToSelector(const xfrm_selector& s, XfrmSelector* out, std::string* why)
{
    XfrmSelector sel;
    if (s.family == AF_UNSPEC)
    {
        sel.anyFamily = true;
        if (s.prefixlen_d != 0 || s.prefixlen_s != 0)
        {
            *why = "offloadlab: a selector of no family with address prefixes is not modelled";
            return false;
        }
    }
    else
    {
        ToAddress(s.daddr, s.family, &sel.dst);
        ToAddress(s.saddr, s.family, &sel.src);
        sel.dstPrefix = s.prefixlen_d;
        sel.srcPrefix = s.prefixlen_s;
        // The stack compares masked addresses; Linux ignores the host bits too.
        sel.dst = sel.dst.Masked(sel.dstPrefix);
        sel.src = sel.src.Masked(sel.srcPrefix);
    }
    sel.proto = s.proto;
    if ((s.sport_mask != 0 && s.sport_mask != 0xffff) ||
        (s.dport_mask != 0 && s.dport_mask != 0xffff))
    {
        *why = "offloadlab: selector port masks other than 0 and 0xffff are not modelled";
        return false;
    }
    sel.sport = s.sport_mask ? ntohs(s.sport) : 0;
    sel.dport = s.dport_mask ? ntohs(s.dport) : 0;
    if (s.ifindex != 0)
    {
        *why = "offloadlab: selectors with an interface (sel.ifindex) are not modelled";
        return false;
    }
    *out = sel;
    return true;
}

XfrmLifetimeConfig
ToLifetime(const xfrm_lifetime_cfg& l)
{
    XfrmLifetimeConfig c;
    c.softByteLimit = FromInf(l.soft_byte_limit);
    c.hardByteLimit = FromInf(l.hard_byte_limit);
    c.softPacketLimit = FromInf(l.soft_packet_limit);
    c.hardPacketLimit = FromInf(l.hard_packet_limit);
    c.softAddSeconds = l.soft_add_expires_seconds;
    c.hardAddSeconds = l.hard_add_expires_seconds;
    c.softUseSeconds = l.soft_use_expires_seconds;
    c.hardUseSeconds = l.hard_use_expires_seconds;
    return c;
}

bool
HasMarkOrIfId(const NetlinkAttributes& attrs, std::string* why)
{
    xfrm_mark mark{};
    uint32_t value = 0;
    if (attrs.Read(XFRMA_MARK, &mark) && (mark.v | mark.m) != 0)
    {
        *why = "offloadlab: XFRM marks are not modelled (every emulated packet has mark 0)";
        return true;
    }
    if (attrs.Read(XFRMA_IF_ID, &value) && value != 0)
    {
        *why = "offloadlab: XFRM interfaces (if_id) are not modelled";
        return true;
    }
    if (attrs.Read(XFRMA_SET_MARK, &value) && value != 0)
    {
        *why = "offloadlab: output marks (SET_MARK) are not modelled";
        return true;
    }
    return false;
}

/// An algorithm attribute (xfrm_algo, xfrm_algo_auth or xfrm_algo_aead, then the key): false
/// when it is there but shorter than its struct and key (verify_one_alg and its kin). The name
/// is cut at 63 bytes, as Linux terminates it.
template <class Algorithm>
bool
ReadAlgorithm(const NetlinkAttributes& attrs,
              uint16_t type,
              Algorithm* alg,
              std::vector<uint8_t>* key)
{
    size_t length = 0;
    const uint8_t* a = attrs.Get(type, &length);
    if (!a)
    {
        return true;
    }
    std::memcpy(alg, a, std::min(length, sizeof(Algorithm)));
    const size_t keyBytes = (alg->alg_key_len + 7) / 8;
    if (length < sizeof(Algorithm) + keyBytes)
    {
        return false;
    }
    alg->alg_name[63] = 0;
    key->assign(a + sizeof(Algorithm), a + sizeof(Algorithm) + keyBytes);
    return true;
}

/// The selector's prefix lengths for its family (verify_newsa_info, verify_newpolicy_info):
/// "" when fine, else Linux's message; AF_UNSPEC is the caller's to judge.
std::string
SelectorPrefixError(const xfrm_selector& sel)
{
    if (sel.family == AF_INET && (sel.prefixlen_d > 32 || sel.prefixlen_s > 32))
    {
        return "Invalid prefix length in selector (must be <= 32 for IPv4)";
    }
    if (sel.family == AF_INET6 && (sel.prefixlen_d > 128 || sel.prefixlen_s > 128))
    {
        return "Invalid prefix length in selector (must be <= 128 for IPv6)";
    }
    return "";
}

/// verify_sec_ctx_len: a security context's own length must be the attribute's.
bool
SecCtxLengthOk(const NetlinkAttributes& attrs)
{
    size_t length = 0;
    const uint8_t* a = attrs.Get(XFRMA_SEC_CTX, &length);
    if (!a)
    {
        return true;
    }
    xfrm_user_sec_ctx ctx{};
    std::memcpy(&ctx, a, sizeof(ctx));
    return ctx.len <= length && ctx.len == sizeof(ctx) + ctx.ctx_len;
}

/// Linux's xfrm_id_proto_match: 0 is any protocol, IPSEC_PROTO_ANY any of AH, ESP, IPComp.
bool
ProtoMatches(uint8_t proto, uint8_t asked)
{
    return asked == 0 || proto == asked ||
           (asked == kIpsecProtoAny &&
            (proto == IPPROTO_AH || proto == IPPROTO_ESP || proto == IPPROTO_COMP));
}

/// Appends to m the attributes of a built message whose fixed part is `fixed` bytes long: the
/// attributes a notification or ACQUIRE carries after a fixed part of its own.
void
PutAttributesOf(NetlinkMessageBuilder& m, const std::vector<uint8_t>& message, size_t fixed)
{
    const size_t attributes = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
    if (message.size() > attributes)
    {
        m.PutRaw(message.data() + attributes, message.size() - attributes);
    }
}

} // namespace

TypeId
XfrmNetlinkEndpoint::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmNetlinkEndpoint")
                            .SetParent<Object>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmNetlinkEndpoint>();
    return tid;
}

XfrmNetlinkEndpoint::XfrmNetlinkEndpoint() = default;

XfrmNetlinkEndpoint::~XfrmNetlinkEndpoint() = default;

void
XfrmNetlinkEndpoint::DoDispose()
{
    for (auto& [key, larval] : m_larval)
    {
        larval.expiry.Cancel();
    }
    m_larval.clear();
    for (auto& [key, acquiring] : m_acquiring)
    {
        acquiring.expiry.Cancel();
    }
    m_acquiring.clear();
    m_sas.clear();
    m_policies.clear();
    m_policyByIndex.clear();
    m_policyBySelector.clear();
    m_interfaces.clear();
    if (m_stack)
    {
        m_stack->SetExpireCallback(XfrmStack::ExpireCallback());
        m_stack->SetAcquireCallback(XfrmStack::AcquireCallback());
        m_stack->SetMappingCallback(XfrmStack::MappingCallback());
    }
    m_stack = nullptr;
    m_send = SendCallback();
    Object::DoDispose();
}

void
XfrmNetlinkEndpoint::SetStack(Ptr<XfrmStack> stack)
{
    m_stack = stack;
    m_stack->SetExpireCallback(MakeCallback(&XfrmNetlinkEndpoint::OnExpire, this));
    m_stack->SetAcquireCallback(MakeCallback(&XfrmNetlinkEndpoint::OnAcquire, this));
    m_stack->SetMappingCallback(MakeCallback(&XfrmNetlinkEndpoint::OnMapping, this));
    const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    m_epochAtZero = wall - int64_t(Simulator::Now().GetSeconds());
}

void
XfrmNetlinkEndpoint::AddInterface(int32_t ifindex, Ptr<NetDevice> device)
{
    m_interfaces[ifindex] = device;
}

void
XfrmNetlinkEndpoint::SetEpochAtZero(int64_t seconds)
{
    m_epochAtZero = seconds;
}

void
XfrmNetlinkEndpoint::SetSendCallback(SendCallback send)
{
    m_send = send;
}

void
XfrmNetlinkEndpoint::SetGroups(uint32_t portId, uint32_t groups)
{
    m_clients[portId].groups = groups;
}

void
XfrmNetlinkEndpoint::ChangeGroup(uint32_t portId, uint32_t group, bool join)
{
    const uint32_t bit = 1u << (group - 1);
    uint32_t& groups = m_clients[portId].groups;
    groups = join ? groups | bit : groups & ~bit;
}

void
XfrmNetlinkEndpoint::SetExtAck(uint32_t portId, bool on)
{
    m_clients[portId].extAck = on;
}

void
XfrmNetlinkEndpoint::SetPacketOffloadForCryptoRequests(bool on)
{
    m_packetForCrypto = on;
}

void
XfrmNetlinkEndpoint::RemoveClient(uint32_t portId)
{
    const bool had = m_clients.erase(portId) > 0;
    if (had && m_clients.empty() && m_stack)
    {
        // The last XFRM socket closed: the daemon is gone, and with it its sockets' policies
        // and the port bypasses it would have removed (strongSwan does at shutdown).
        for (auto& [port, policies] : m_portBypass)
        {
            for (auto& p : policies)
            {
                m_stack->DeletePolicy(p);
            }
        }
        m_portBypass.clear();
        m_stack->ClearSocketPolicies();
    }
}

bool
XfrmNetlinkEndpoint::SocketOption(uint32_t level,
                                  uint32_t name,
                                  uint8_t protocol,
                                  uint16_t localPort,
                                  const uint8_t* value,
                                  size_t length)
{
    if (!m_stack)
    {
        return false;
    }
    constexpr uint32_t kSolIp = 0;
    constexpr uint32_t kSolIpv6 = 41;
    constexpr uint32_t kSolUdp = 17;
    constexpr uint32_t kIpXfrmPolicy = 17;
    constexpr uint32_t kIpv6XfrmPolicy = 35;
    constexpr uint32_t kUdpEncap = 100;
    constexpr uint32_t kUdpEncapEspInUdp = 2;
    if (level == kSolUdp && name == kUdpEncap)
    {
        uint32_t type = 0;
        if (length < sizeof(type))
        {
            return false;
        }
        std::memcpy(&type, value, sizeof(type));
        if (type == 0)
        {
            return true; // encapsulation off: the port's datagrams already go to the socket
                         // unless ESP arrives there, which this model leaves to the stack
        }
        if (type != kUdpEncapEspInUdp || protocol != IPPROTO_UDP)
        {
            NS_LOG_WARN("UDP_ENCAP type " << type << " is not modelled; only ESPINUDP");
            return false;
        }
        m_stack->EnableUdpEncap(localPort);
        return true;
    }
    if (!((level == kSolIp && name == kIpXfrmPolicy) ||
          (level == kSolIpv6 && name == kIpv6XfrmPolicy)))
    {
        return false;
    }
    if (length == 0)
    {
        // xfrm_user_policy with no value: the socket's policies go, in both directions.
        m_stack->ClearSocketPolicy(protocol, localPort);
        return true;
    }
    // xfrm_compile_policy: the info, then templates; the real kernel already checked both.
    xfrm_userpolicy_info info;
    if (length < sizeof(info))
    {
        return false;
    }
    std::memcpy(&info, value, sizeof(info));
    if (length > sizeof(info))
    {
        NS_LOG_WARN("offloadlab: socket policies with templates are not modelled");
        return false;
    }
    if (info.dir != XFRM_POLICY_IN && info.dir != XFRM_POLICY_OUT)
    {
        return false;
    }
    if (info.action != XFRM_POLICY_ALLOW && info.action != XFRM_POLICY_BLOCK)
    {
        return false;
    }
    m_stack->SetSocketPolicy(protocol,
                             localPort,
                             info.dir == XFRM_POLICY_IN ? XfrmDir::In : XfrmDir::Out,
                             info.action == XFRM_POLICY_ALLOW ? XfrmPolicyAction::Allow
                                                              : XfrmPolicyAction::Block);
    if (m_packetForCrypto && protocol == IPPROTO_UDP && info.action == XFRM_POLICY_ALLOW &&
        !m_portBypass.count(localPort))
    {
        AddOffloadedPortBypass(localPort);
    }
    return true;
}

void
XfrmNetlinkEndpoint::AddOffloadedPortBypass(uint16_t port)
{
    if (m_interfaces.size() != 1)
    {
        return;
    }
    // A packet-offload device looks up its own policies for every packet it sends: without
    // these, IKE that matches a CHILD_SA's selector would leave encrypted.
    std::vector<Ptr<XfrmPolicy>>& added = m_portBypass[port];
    // strongSwan's manage_bypass: IN first, then OUT, priority 32 (above any CHILD_SA's).
    for (XfrmDir dir : {XfrmDir::In, XfrmDir::Out})
    {
        XfrmPolicyConfig c;
        c.dir = dir;
        c.priority = 32;
        c.action = XfrmPolicyAction::Allow;
        c.hasTemplate = false;
        c.sel.proto = IPPROTO_UDP;
        (dir == XfrmDir::Out ? c.sel.sport : c.sel.dport) = port;
        c.offloadDev = m_interfaces.begin()->second;
        c.offloadType = XfrmOffloadType::Packet;
        std::string error;
        if (Ptr<XfrmPolicy> p = m_stack->AddPolicy(c, &error))
        {
            added.push_back(p);
            continue;
        }
        // add_port_bypass: the out one is not tried without the in one, and its failure takes
        // the in one back.
        NS_LOG_WARN("offloaded bypass of UDP port " << port << ": " << error);
        for (const Ptr<XfrmPolicy>& p : added)
        {
            m_stack->DeletePolicy(p);
        }
        added.clear();
        return;
    }
}

uint64_t
XfrmNetlinkEndpoint::GetMalformedCount() const
{
    return m_malformed;
}

int64_t
XfrmNetlinkEndpoint::EpochSeconds(Time t) const
{
    return m_epochAtZero + int64_t(t.GetSeconds());
}

void
XfrmNetlinkEndpoint::Send(uint32_t portId, std::vector<uint8_t> datagram)
{
    if (!m_send.IsNull())
    {
        m_send(portId, std::move(datagram));
    }
}

void
XfrmNetlinkEndpoint::Receive(uint32_t portId, const uint8_t* data, size_t length)
{
    const auto messages = SplitNetlinkDatagram(data, length);
    size_t consumed = 0;
    for (const NetlinkMessageView& message : messages)
    {
        consumed += NLMSG_ALIGN(message.header.nlmsg_len);
        Dispatch(portId, message);
    }
    if (consumed < length && length - consumed >= NLMSG_HDRLEN)
    {
        // netlink_rcv_skb drops the rest of a datagram at a bad length, silently.
        ++m_malformed;
        NS_LOG_LOGIC("datagram from " << portId << ": " << length - consumed
                                      << " bytes after a message of bad length ignored");
    }
}

void
XfrmNetlinkEndpoint::Dispatch(uint32_t portId, const NetlinkMessageView& request)
{
    const nlmsghdr& h = request.header;
    Result result;
    bool answered = false; // a dump answers with NLMSG_DONE, never with an ack
    if (!(h.nlmsg_flags & NLM_F_REQUEST) || h.nlmsg_type < NLMSG_MIN_TYPE)
    {
        // Not a request, or a control message: only acked when asked.
    }
    else if (h.nlmsg_type > XFRM_MSG_MAX)
    {
        ++m_malformed;
        result.error = -EINVAL;
    }
    else if ((h.nlmsg_type == XFRM_MSG_GETSA || h.nlmsg_type == XFRM_MSG_GETPOLICY) &&
             (h.nlmsg_flags & NLM_F_DUMP))
    {
        if (h.nlmsg_type == XFRM_MSG_GETSA)
        {
            DumpSa(portId, request);
        }
        else
        {
            DumpPolicy(portId, request);
        }
        answered = true;
    }
    else if (request.payloadLength < kMinPayload[h.nlmsg_type - XFRM_MSG_BASE])
    {
        ++m_malformed;
        result = {-EINVAL, "Invalid header length"};
    }
    else
    {
        switch (h.nlmsg_type)
        {
        case XFRM_MSG_NEWSA:
        case XFRM_MSG_UPDSA:
            result = AddSa(portId, request, h.nlmsg_type == XFRM_MSG_UPDSA);
            break;
        case XFRM_MSG_DELSA:
            result = DeleteSa(request);
            break;
        case XFRM_MSG_GETSA:
            result = GetSa(portId, request);
            break;
        case XFRM_MSG_ALLOCSPI:
            result = AllocSpi(portId, request);
            break;
        case XFRM_MSG_FLUSHSA:
            result = FlushSa(request);
            break;
        case XFRM_MSG_NEWPOLICY:
        case XFRM_MSG_UPDPOLICY:
            result = AddPolicy(request, h.nlmsg_type == XFRM_MSG_UPDPOLICY);
            break;
        case XFRM_MSG_GETPOLICY:
        case XFRM_MSG_DELPOLICY:
            result = GetPolicy(portId, request, h.nlmsg_type == XFRM_MSG_DELPOLICY);
            break;
        case XFRM_MSG_FLUSHPOLICY:
            result = FlushPolicy(request);
            break;
        case XFRM_MSG_GETSPDINFO:
            result = GetSpdInfo(portId, request);
            break;
        case XFRM_MSG_NEWSPDINFO:
            result = NewSpdInfo(request);
            break;
        case XFRM_MSG_GETSADINFO:
            result = GetSadInfo(portId, request);
            break;
        case XFRM_MSG_GETAE:
            result = GetAe(portId, request);
            break;
        case XFRM_MSG_NEWAE:
            result = NewAe(request);
            break;
        case XFRM_MSG_REPORT:
        case XFRM_MSG_NEWSADINFO:
        case XFRM_MSG_MAPPING:
            result.error = -EINVAL; // no handler in Linux either
            break;
        default:
            // Linux handles these (ACQUIRE, EXPIRE, POLEXPIRE, MIGRATE,
            // SETDEFAULT, GETDEFAULT); the endpoint does not yet, and says so.
            result = {-EOPNOTSUPP, "offloadlab: this XFRM message is not modelled yet"};
            break;
        }
    }
    // What the request changed goes to the groups before its ack (km_state_notify runs in the
    // handler, netlink_ack after it).
    auto notifications = std::move(m_notifications);
    m_notifications.clear();
    if (result.error == 0)
    {
        for (const auto& [group, message] : notifications)
        {
            Multicast(group, message);
        }
    }
    if (answered)
    {
        return;
    }
    if (result.error != 0)
    {
        NS_LOG_LOGIC("request type " << h.nlmsg_type << " seq " << h.nlmsg_seq << " from " << portId
                                     << ": error " << result.error << " " << result.message);
    }
    if ((h.nlmsg_flags & NLM_F_ACK) || result.error != 0)
    {
        Send(portId,
             BuildNetlinkAck(request,
                             portId,
                             result.error,
                             result.message,
                             m_clients[portId].extAck,
                             result.badOffset));
    }
}

// ---- SAs ----------------------------------------------------------------------------------

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::AddSa(uint32_t portId, const NetlinkMessageView& request, bool update)
{
    xfrm_usersa_info p;
    std::memcpy(&p, request.payload, sizeof(p));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(p), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    auto fail = [](int error, std::string message) { return Result{error, std::move(message)}; };
    // verify_newsa_info, in Linux's order.
    if (p.family != AF_INET && p.family != AF_INET6)
    {
        return fail(-EINVAL, "Invalid address family");
    }
    switch (p.sel.family)
    {
    case AF_UNSPEC:
        break;
    case AF_INET:
    case AF_INET6:
        if (const std::string why = SelectorPrefixError(p.sel); !why.empty())
        {
            return fail(-EINVAL, why);
        }
        break;
    default:
        return fail(-EINVAL, "Invalid address family in selector");
    }
    const bool aead = attrs.Has(XFRMA_ALG_AEAD);
    const bool authTrunc = attrs.Has(XFRMA_ALG_AUTH_TRUNC);
    const bool auth = attrs.Has(XFRMA_ALG_AUTH);
    const bool crypt = attrs.Has(XFRMA_ALG_CRYPT);
    switch (p.id.proto)
    {
    case IPPROTO_AH:
        if (!auth && !authTrunc)
        {
            return fail(-EINVAL, "Missing required attribute for AH: AUTH_TRUNC or AUTH");
        }
        if (aead || crypt || attrs.Has(XFRMA_ALG_COMP) || attrs.Has(XFRMA_TFCPAD))
        {
            return fail(-EINVAL, "Invalid attributes for AH: AEAD, CRYPT, COMP, TFCPAD");
        }
        break;
    case IPPROTO_COMP:
        if (!attrs.Has(XFRMA_ALG_COMP))
        {
            return fail(-EINVAL, "Missing required attribute for COMP: COMP");
        }
        if (aead || auth || authTrunc || crypt || attrs.Has(XFRMA_TFCPAD))
        {
            return fail(-EINVAL,
                        "Invalid attributes for COMP: AEAD, AUTH, AUTH_TRUNC, CRYPT, TFCPAD");
        }
        if (ntohl(p.id.spi) >= 0x10000)
        {
            return fail(-EINVAL, "SPI is too large for COMP (must be < 0x10000)");
        }
        break;
    case IPPROTO_ESP:
        if (attrs.Has(XFRMA_ALG_COMP))
        {
            return fail(-EINVAL, "Invalid attribute for ESP: COMP");
        }
        if (!auth && !authTrunc && !crypt && !aead)
        {
            return fail(-EINVAL,
                        "Missing required attribute for ESP: at least one of AUTH, AUTH_TRUNC, "
                        "CRYPT, AEAD");
        }
        if (aead && (auth || authTrunc || crypt))
        {
            return fail(-EINVAL,
                        "Invalid attribute combination for ESP: AEAD can't be used with AUTH, "
                        "AUTH_TRUNC, CRYPT");
        }
        if (attrs.Has(XFRMA_TFCPAD) && p.mode != XFRM_MODE_TUNNEL)
        {
            return fail(-EINVAL, "TFC padding can only be used in tunnel mode");
        }
        break;
    case IPPROTO_ROUTING:
    case IPPROTO_DSTOPTS:
        if (attrs.Has(XFRMA_ALG_COMP) || auth || authTrunc || aead || crypt ||
            attrs.Has(XFRMA_ENCAP) || attrs.Has(XFRMA_SEC_CTX) || attrs.Has(XFRMA_TFCPAD))
        {
            return fail(-EINVAL, "Invalid attributes for DSTOPTS/ROUTING");
        }
        if (!attrs.Has(XFRMA_COADDR))
        {
            return fail(-EINVAL, "Missing required COADDR attribute for DSTOPTS/ROUTING");
        }
        break;
    default:
        return fail(-EINVAL, "Unsupported protocol");
    }
    size_t length = 0;
    xfrm_algo_aead aeadAlg{};
    xfrm_algo_auth authAlg{};
    xfrm_algo cryptAlg{};
    std::vector<uint8_t> aeadKey;
    std::vector<uint8_t> authKey;
    std::vector<uint8_t> cryptKey;
    // verify_one_alg for each algorithm attribute: the struct and its key must fit.
    if (!ReadAlgorithm(attrs, XFRMA_ALG_AEAD, &aeadAlg, &aeadKey))
    {
        return fail(-EINVAL, "Invalid AEAD attribute length");
    }
    if (!ReadAlgorithm(attrs, XFRMA_ALG_AUTH_TRUNC, &authAlg, &authKey))
    {
        return fail(-EINVAL, "Invalid AUTH_TRUNC attribute length");
    }
    xfrm_algo plainAuth{};
    std::vector<uint8_t> plainKey;
    if (!ReadAlgorithm(attrs, XFRMA_ALG_AUTH, &plainAuth, &plainKey))
    {
        return fail(-EINVAL, "Invalid AUTH attribute length");
    }
    if (auth && !authTrunc)
    {
        // attach_auth: the name and key, with the algorithm's default truncation.
        std::memcpy(authAlg.alg_name, plainAuth.alg_name, sizeof(plainAuth.alg_name));
        authAlg.alg_key_len = plainAuth.alg_key_len;
        authAlg.alg_trunc_len = 0;
        authKey = plainKey;
    }
    if (!ReadAlgorithm(attrs, XFRMA_ALG_CRYPT, &cryptAlg, &cryptKey))
    {
        return fail(-EINVAL, "Invalid CRYPT attribute length");
    }
    if (!SecCtxLengthOk(attrs))
    {
        return fail(-EINVAL, "Invalid security context length");
    }
    // verify_replay
    xfrm_replay_state_esn esn{};
    size_t esnLength = 0;
    const uint8_t* esnAttr = attrs.Get(XFRMA_REPLAY_ESN_VAL, &esnLength);
    if (esnAttr)
    {
        std::memcpy(&esn, esnAttr, sizeof(esn));
    }
    if (!esnAttr && (p.flags & XFRM_STATE_ESN))
    {
        return fail(-EINVAL, "Missing required attribute for ESN");
    }
    if (esnAttr)
    {
        if (esn.bmp_len > 128)
        {
            return fail(-EINVAL, "ESN bitmap length must be <= 128");
        }
        if (esnLength < sizeof(esn) + 4 * esn.bmp_len && esnLength != sizeof(esn))
        {
            return fail(-EINVAL, "ESN attribute is too short to fit the full bitmap length");
        }
        if (p.id.proto != IPPROTO_ESP && p.id.proto != IPPROTO_AH)
        {
            return fail(-EINVAL, "ESN only supported for ESP and AH");
        }
        if (p.replay_window != 0)
        {
            return fail(-EINVAL, "ESN not compatible with legacy replay_window");
        }
    }
    if (p.mode != XFRM_MODE_TRANSPORT && p.mode != XFRM_MODE_TUNNEL &&
        p.mode != XFRM_MODE_ROUTEOPTIMIZATION && p.mode != XFRM_MODE_BEET)
    {
        return fail(-EINVAL, "Unsupported mode");
    }
    if (attrs.Has(XFRMA_MTIMER_THRESH) && !attrs.Has(XFRMA_ENCAP))
    {
        return fail(-EINVAL, "MTIMER_THRESH attribute can only be set on ENCAP states");
    }

    // xfrm_state_construct: the algorithms the emulated kernel has.
    XfrmStateConfig c;
    if (aead)
    {
        const std::string name = aeadAlg.alg_name;
        // Linux's aead_list (xfrm_algo.c): the name with one of its ICV lengths.
        const uint32_t icv = aeadAlg.alg_icv_len;
        const bool gcmOrCcm = name == "rfc4106(gcm(aes))" || name == "rfc4309(ccm(aes))";
        const bool icv128Only =
            name == "rfc4543(gcm(aes))" || name == "rfc7539esp(chacha20,poly1305)";
        const bool known =
            (gcmOrCcm && (icv == 64 || icv == 96 || icv == 128)) || (icv128Only && icv == 128);
        if (!known)
        {
            return fail(-ENOSYS, "Requested AEAD algorithm not found");
        }
        if (name != "rfc4106(gcm(aes))" || aeadAlg.alg_icv_len != 128)
        {
            // Linux has it; the ESP codec here does only one.
            return fail(-EOPNOTSUPP,
                        "offloadlab: of the AEADs only rfc4106(gcm(aes)) with a 128-bit ICV is "
                        "modelled");
        }
        if (aeadKey.size() == 28)
        {
            return fail(-EOPNOTSUPP, "offloadlab: 192-bit AES-GCM keys are not modelled");
        }
        if (aeadKey.size() != 20 && aeadKey.size() != 36)
        {
            return fail(-EINVAL, "Kernel was unable to initialize cryptographic operations");
        }
        c.algorithm = EspAlgorithm::Gcm(aeadKey, aeadAlg.alg_icv_len);
    }
    else
    {
        const std::string authName = authAlg.alg_name;
        const std::string cryptName = cryptAlg.alg_name;
        if ((authTrunc || auth) && authName != "hmac(sha256)" && authName != "sha256")
        {
            return fail(-ENOSYS,
                        authTrunc ? "Requested AUTH_TRUNC algorithm not found"
                                  : "Requested AUTH algorithm not found");
        }
        if (authTrunc && authAlg.alg_trunc_len > 256)
        {
            return fail(-EINVAL, "Invalid length requested for truncated ICV");
        }
        if (crypt && cryptName != "cbc(aes)" && cryptName != "aes")
        {
            return fail(-ENOSYS, "Requested CRYPT algorithm not found");
        }
        if (p.id.proto == IPPROTO_ESP && !crypt)
        {
            return fail(-EINVAL, "ESP: AEAD or CRYPT must be provided");
        }
    }
    // __xfrm_init_state: only ESP exists in this kernel.
    if (p.id.proto != IPPROTO_ESP)
    {
        return fail(-EPROTONOSUPPORT, "Requested type not found");
    }
    if (p.mode != XFRM_MODE_TRANSPORT && p.mode != XFRM_MODE_TUNNEL)
    {
        return fail(-EPROTONOSUPPORT, "Requested mode not found");
    }
    if (p.sel.family != AF_UNSPEC && p.mode != XFRM_MODE_TUNNEL && p.sel.family != p.family)
    {
        return fail(-EPROTONOSUPPORT, "Only tunnel modes can accommodate a change of family");
    }
    if (!aead)
    {
        const uint32_t trunc = authTrunc ? authAlg.alg_trunc_len : 96;
        if (!auth && !authTrunc)
        {
            return fail(-EOPNOTSUPP, "offloadlab: ESP without authentication is not modelled");
        }
        if (trunc != 128 || (cryptKey.size() != 16 && cryptKey.size() != 32) ||
            authKey.size() != 32)
        {
            return fail(-EOPNOTSUPP,
                        "offloadlab: of cbc(aes) + hmac(sha256), only 128- or 256-bit AES keys "
                        "with a 256-bit HMAC key truncated to 128 bits are modelled");
        }
        c.algorithm = EspAlgorithm::CbcSha256(cryptKey, authKey);
    }
    if (HasMarkOrIfId(attrs, &r.message))
    {
        return fail(-EOPNOTSUPP, r.message);
    }
    if (attrs.Has(XFRMA_TFCPAD) || attrs.Has(XFRMA_COADDR))
    {
        return fail(-EOPNOTSUPP, "offloadlab: TFC padding and care-of addresses are not modelled");
    }
    ToAddress(p.id.daddr, p.family, &c.daddr);
    ToAddress(p.saddr, p.family, &c.saddr);
    c.spi = ntohl(p.id.spi);
    c.mode = p.mode == XFRM_MODE_TUNNEL ? XfrmMode::Tunnel : XfrmMode::Transport;
    c.reqid = p.reqid;
    xfrm_selector sel = p.sel;
    if (sel.family == AF_UNSPEC && !(p.flags & XFRM_STATE_AF_UNSPEC))
    {
        sel.family = p.family;
    }
    if (!ToSelector(sel, &c.sel, &r.message))
    {
        return fail(-EOPNOTSUPP, r.message);
    }
    c.lifetime = ToLifetime(p.lft);
    if (esnAttr)
    {
        if (esn.replay_window > esn.bmp_len * 32)
        {
            return fail(-EINVAL, "ESN replay window is too large for the chosen bitmap size");
        }
        if ((p.flags & XFRM_STATE_ESN) && esn.replay_window == 0)
        {
            return fail(-EINVAL, "ESN replay window must be > 0");
        }
        c.esn = (p.flags & XFRM_STATE_ESN) != 0;
        c.replayWindow = esn.replay_window;
        c.replayOseq = (uint64_t(esn.oseq_hi) << 32) | esn.oseq;
        c.replaySeq = (uint64_t(esn.seq_hi) << 32) | esn.seq;
    }
    else
    {
        c.replayWindow = std::min<uint32_t>(p.replay_window, 32);
        xfrm_replay_state replay{};
        if (attrs.Read(XFRMA_REPLAY_VAL, &replay))
        {
            c.replayOseq = replay.oseq;
            c.replaySeq = replay.seq;
        }
    }
    xfrm_encap_tmpl encap{};
    if (attrs.Read(XFRMA_ENCAP, &encap))
    {
        if (encap.encap_type != kUdpEncapEspInUdp)
        {
            return fail(encap.encap_type == 1 || encap.encap_type == 7 ? -EOPNOTSUPP : -EINVAL,
                        encap.encap_type == 1 || encap.encap_type == 7
                            ? "offloadlab: only kUdpEncapEspInUdp is modelled"
                            : "Unsupported encapsulation type for ESP");
        }
        c.encap.type = XfrmEncapType::EspInUdp;
        c.encap.sport = ntohs(encap.encap_sport);
        c.encap.dport = ntohs(encap.encap_dport);
        ToAddress(encap.encap_oa, p.family, &c.encap.oa);
    }
    xfrm_user_offload offload{};
    if (attrs.Read(XFRMA_OFFLOAD_DEV, &offload))
    {
        if (offload.flags & ~(XFRM_OFFLOAD_IPV6 | XFRM_OFFLOAD_INBOUND | XFRM_OFFLOAD_PACKET))
        {
            return fail(-EINVAL, "Unrecognized flags in offload request");
        }
        const bool packet = (offload.flags & XFRM_OFFLOAD_PACKET) || m_packetForCrypto;
        if ((c.encap.Enabled() && !packet) || attrs.Has(XFRMA_TFCPAD))
        {
            return fail(-EINVAL, "Encapsulation and TFC padding can't be offloaded");
        }
        auto dev = m_interfaces.find(offload.ifindex);
        if (dev == m_interfaces.end())
        {
            if (packet)
            {
                return fail(-EINVAL, "offloadlab: no emulated device has this ifindex");
            }
            // Crypto offload to a device without it: the SA runs in software (Linux).
        }
        else
        {
            c.offloadDev = dev->second;
            c.offloadDir = (offload.flags & XFRM_OFFLOAD_INBOUND) ? XfrmDir::In : XfrmDir::Out;
            c.offloadType = packet ? XfrmOffloadType::Packet : XfrmOffloadType::Crypto;
        }
    }

    // The table operation: xfrm_state_add (NEWSA) or xfrm_state_update (UPDSA).
    const auto key = std::make_pair(c.daddr, c.spi);
    auto larval = m_larval.find(LarvalKey{c.daddr, c.spi, p.id.proto});
    const bool larvalMatches = larval != m_larval.end() && larval->second.info.family == p.family;
    Ptr<XfrmState> existing = m_stack->FindState(c.daddr, c.spi);
    if (!update && (existing || larvalMatches))
    {
        return fail(-EEXIST, "");
    }
    if (update && !existing && !larvalMatches)
    {
        return fail(-ESRCH, "");
    }
    if (update && existing)
    {
        // xfrm_state_update of a valid state: lifetimes (and an encapsulation of the same type)
        // change in place; keys, replay, flags and the rest stay.
        if (existing->GetConfig().encap.Enabled() != c.encap.Enabled())
        {
            return fail(-EINVAL, "");
        }
        std::string error;
        if (!m_stack->UpdateState(existing, c.lifetime, c.encap, &error))
        {
            return fail(-EINVAL, error);
        }
        SaRecord* record = RecordOf(existing);
        if (record)
        {
            record->info.lft = p.lft;
        }
        Notify(XFRMNLGRP_SA,
               BuildSa(existing,
                       XFRM_MSG_UPDSA,
                       0,
                       request.header.nlmsg_seq,
                       request.header.nlmsg_pid));
        return r;
    }
    if (!c.Validate(&r.message))
    {
        return fail(-EOPNOTSUPP, "offloadlab: " + r.message);
    }
    std::string error;
    Ptr<XfrmState> x = m_stack->AddState(c, &error);
    if (!x)
    {
        // What Linux would take and the stack or its device cannot: said by name.
        return fail(-EOPNOTSUPP, "offloadlab: " + error);
    }
    xfrm_lifetime_cur ltime{};
    if (attrs.Read(XFRMA_LTIME_VAL, &ltime))
    {
        // xfrm_update_ae_params: the counters and times of an SA being re-added (charon's
        // MOBIKE and NAT updates), so its limits run on from where they were.
        SetLifetime(x, ltime);
    }
    if (larvalMatches)
    {
        larval->second.expiry.Cancel();
        m_larval.erase(larval);
    }
    if (!update)
    {
        RemoveAcquire(p, c.daddr, c.saddr);
    }
    SaRecord record;
    record.state = x;
    record.order = ++m_order;
    record.info = xfrm_usersa_info{}; // copy_to_user_state: zeroed, then the fields
    record.info.sel = sel;
    record.info.id = p.id;
    std::memset(record.info.id.daddr.a6 + (p.family == AF_INET ? 1 : 4),
                0,
                p.family == AF_INET ? 12 : 0);
    record.info.saddr = p.saddr;
    record.info.lft = p.lft;
    record.info.reqid = p.reqid;
    record.info.family = p.family;
    record.info.mode = p.mode;
    record.info.flags = p.flags;
    record.info.seq = p.seq;
    record.info.replay_window = esnAttr ? 0 : std::min<uint8_t>(p.replay_window, 32);
    for (uint16_t type : {uint16_t(XFRMA_ALG_AEAD),
                          uint16_t(XFRMA_ALG_AUTH_TRUNC),
                          uint16_t(XFRMA_ALG_CRYPT),
                          uint16_t(XFRMA_ENCAP)})
    {
        if (const uint8_t* a = attrs.Get(type, &length))
        {
            // The size Linux gives back: the struct and the key bytes, not what was sent.
            size_t exact = length;
            if (type == XFRMA_ALG_AEAD)
            {
                exact = sizeof(xfrm_algo_aead) + (aeadAlg.alg_key_len + 7) / 8;
            }
            else if (type == XFRMA_ALG_AUTH_TRUNC)
            {
                exact = sizeof(xfrm_algo_auth) + (authAlg.alg_key_len + 7) / 8;
            }
            else if (type == XFRMA_ALG_CRYPT)
            {
                exact = sizeof(xfrm_algo) + (cryptAlg.alg_key_len + 7) / 8;
            }
            else if (type == XFRMA_ENCAP)
            {
                exact = sizeof(xfrm_encap_tmpl);
            }
            record.attributes[type].assign(a, a + std::min(length, exact));
        }
    }
    uint32_t maxAge = 0;
    if (attrs.Read(XFRMA_MTIMER_THRESH, &maxAge))
    {
        SetMappingMaxAge(&record, maxAge);
    }
    uint32_t extraFlags = 0;
    if (attrs.Read(XFRMA_SA_EXTRA_FLAGS, &extraFlags) && extraFlags != 0)
    {
        record.attributes[XFRMA_SA_EXTRA_FLAGS].assign(
            reinterpret_cast<const uint8_t*>(&extraFlags),
            reinterpret_cast<const uint8_t*>(&extraFlags) + sizeof(extraFlags));
    }
    if (esnAttr)
    {
        record.attributes[XFRMA_REPLAY_ESN_VAL].assign(esnAttr, esnAttr + esnLength);
    }
    if (c.offloadDev)
    {
        record.attributes[XFRMA_OFFLOAD_DEV].assign(reinterpret_cast<const uint8_t*>(&offload),
                                                    reinterpret_cast<const uint8_t*>(&offload) +
                                                        sizeof(offload));
    }
    m_sas[key] = std::move(record);
    Notify(XFRMNLGRP_SA,
           BuildSa(x,
                   update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA,
                   0,
                   request.header.nlmsg_seq,
                   request.header.nlmsg_pid));
    return r;
}

XfrmNetlinkEndpoint::SaRecord*
XfrmNetlinkEndpoint::RecordOf(const Ptr<XfrmState>& x)
{
    const auto key = std::make_pair(x->GetConfig().daddr, x->GetSpi());
    auto it = m_sas.find(key);
    if (it == m_sas.end())
    {
        return nullptr;
    }
    if (it->second.state != x)
    {
        m_sas.erase(it); // the record of a state deleted since (a flush by link down)
        return nullptr;
    }
    return &it->second;
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::LookupSa(const NetlinkMessageView& request,
                              std::map<LarvalKey, LarvalState>::iterator* larval,
                              Ptr<XfrmState>* x)
{
    xfrm_usersa_id id;
    std::memcpy(&id, request.payload, sizeof(id));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(id), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    *larval = m_larval.end();
    *x = nullptr;
    // xfrm_user_state_lookup: by SPI for AH, ESP and IPComp; the others need XFRMA_SRCADDR, and
    // no state of theirs exists here.
    XfrmAddress daddr;
    if (id.proto != IPPROTO_ESP && id.proto != IPPROTO_AH && id.proto != IPPROTO_COMP)
    {
        return {attrs.Has(XFRMA_SRCADDR) ? -ESRCH : -EINVAL, ""};
    }
    if (!ToAddress(id.daddr, id.family, &daddr))
    {
        return {-ESRCH, ""};
    }
    auto found = m_larval.find(LarvalKey{daddr, ntohl(id.spi), id.proto});
    if (found != m_larval.end() && found->second.info.family == id.family)
    {
        *larval = found;
        return r;
    }
    Ptr<XfrmState> state =
        id.proto == IPPROTO_ESP ? m_stack->FindState(daddr, ntohl(id.spi)) : nullptr;
    if (!state || FamilyOf(state->GetConfig().daddr) != id.family)
    {
        return {-ESRCH, ""};
    }
    *x = state;
    return r;
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::DeleteSa(const NetlinkMessageView& request)
{
    std::map<LarvalKey, LarvalState>::iterator larval;
    Ptr<XfrmState> x;
    Result r = LookupSa(request, &larval, &x);
    if (r.error)
    {
        return r;
    }
    const uint32_t seq = request.header.nlmsg_seq;
    const uint32_t pid = request.header.nlmsg_pid;
    if (larval != m_larval.end())
    {
        Notify(XFRMNLGRP_SA, BuildDeletedSa(BuildLarval(larval->second, 0, 0, 0), seq, pid));
        larval->second.expiry.Cancel();
        m_larval.erase(larval);
        return r;
    }
    Notify(XFRMNLGRP_SA, BuildDeletedSa(BuildSa(x, XFRM_MSG_NEWSA, 0, 0, 0), seq, pid));
    const XfrmAddress daddr = x->GetConfig().daddr;
    const uint32_t spi = x->GetSpi();
    m_stack->DeleteState(daddr, spi);
    m_sas.erase(std::make_pair(daddr, spi));
    return r;
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::GetSa(uint32_t portId, const NetlinkMessageView& request)
{
    std::map<LarvalKey, LarvalState>::iterator larval;
    Ptr<XfrmState> x;
    Result r = LookupSa(request, &larval, &x);
    if (r.error)
    {
        return r;
    }
    const uint32_t seq = request.header.nlmsg_seq;
    Send(portId,
         larval != m_larval.end() ? BuildLarval(larval->second, 0, seq, portId)
                                  : BuildSa(x, XFRM_MSG_NEWSA, 0, seq, portId));
    return r;
}

std::vector<uint8_t>
XfrmNetlinkEndpoint::BuildSa(Ptr<XfrmState> x,
                             uint16_t type,
                             uint16_t flags,
                             uint32_t seq,
                             uint32_t pid)
{
    m_stack->UpdateStats(x);
    const XfrmStateConfig& c = x->GetConfig();
    SaRecord fallback;
    SaRecord* record = RecordOf(x);
    if (!record)
    {
        // A state added by another key manager: what the stack knows of it.
        fallback.info.family = FamilyOf(c.daddr);
        fallback.info.id.daddr = FromAddress(c.daddr);
        fallback.info.id.spi = htonl(c.spi);
        fallback.info.id.proto = IPPROTO_ESP;
        fallback.info.saddr = FromAddress(c.saddr);
        fallback.info.mode = c.mode == XfrmMode::Tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
        fallback.info.reqid = c.reqid;
        record = &fallback;
    }
    xfrm_usersa_info p = record->info; // copy_to_user_state: the request's fields, then the live
    const XfrmLifetimeCurrent& cur = x->GetCurrent();
    p.curlft = {};
    p.curlft.bytes = cur.bytes;
    p.curlft.packets = cur.packets;
    p.curlft.add_time = EpochSeconds(cur.addTime);
    p.curlft.use_time = cur.used ? EpochSeconds(cur.useTime) : 0;
    const XfrmStateStats& stats = x->GetStats();
    p.stats.replay_window = uint32_t(stats.replayWindow);
    p.stats.replay = uint32_t(stats.replayDrops - stats.replayWindow);
    p.stats.integrity_failed = uint32_t(stats.integrityFailures);
    p.seq = record->info.seq;
    NetlinkMessageBuilder m(type, flags, seq, pid);
    m.Put(p);
    auto put = [&](uint16_t t) {
        auto it = record->attributes.find(t);
        if (it != record->attributes.end())
        {
            m.PutAttribute(t, it->second.data(), it->second.size());
        }
    };
    put(XFRMA_SA_EXTRA_FLAGS);
    if (cur.lastUsedSet)
    {
        // x->lastused, the latest packet in wall-clock seconds (x86-64 needs no XFRMA_PAD).
        const uint64_t lastUsed = uint64_t(EpochSeconds(cur.lastUsed));
        m.PutAttribute(XFRMA_LASTUSED, lastUsed);
    }
    put(XFRMA_ALG_AEAD);
    auto trunc = record->attributes.find(XFRMA_ALG_AUTH_TRUNC);
    if (trunc != record->attributes.end() && trunc->second.size() >= sizeof(xfrm_algo_auth))
    {
        // copy_to_user_auth: both forms, under the canonical name.
        xfrm_algo_auth a;
        std::memcpy(&a, trunc->second.data(), sizeof(a));
        std::memset(a.alg_name, 0, sizeof(a.alg_name));
        std::strcpy(a.alg_name, "hmac(sha256)");
        const uint8_t* key = trunc->second.data() + sizeof(a);
        const size_t keyBytes = trunc->second.size() - sizeof(a);
        std::vector<uint8_t> plain(sizeof(xfrm_algo) + keyBytes);
        std::memcpy(plain.data(), a.alg_name, sizeof(a.alg_name));
        std::memcpy(plain.data() + sizeof(a.alg_name), &a.alg_key_len, sizeof(a.alg_key_len));
        std::memcpy(plain.data() + sizeof(xfrm_algo), key, keyBytes);
        m.PutAttribute(XFRMA_ALG_AUTH, plain.data(), plain.size());
        std::vector<uint8_t> truncated(sizeof(a) + keyBytes);
        std::memcpy(truncated.data(), &a, sizeof(a));
        std::memcpy(truncated.data() + sizeof(a), key, keyBytes);
        m.PutAttribute(XFRMA_ALG_AUTH_TRUNC, truncated.data(), truncated.size());
    }
    auto crypt = record->attributes.find(XFRMA_ALG_CRYPT);
    if (crypt != record->attributes.end())
    {
        std::vector<uint8_t> algo = crypt->second;
        std::memset(algo.data(), 0, 64);
        std::strcpy(reinterpret_cast<char*>(algo.data()), "cbc(aes)");
        m.PutAttribute(XFRMA_ALG_CRYPT, algo.data(), algo.size());
    }
    auto encap = record->attributes.find(XFRMA_ENCAP);
    if (c.encap.Enabled() && encap != record->attributes.end())
    {
        xfrm_encap_tmpl e{};
        std::memcpy(&e, encap->second.data(), std::min(encap->second.size(), sizeof(e)));
        e.encap_sport = htons(c.encap.sport);
        e.encap_dport = htons(c.encap.dport);
        m.PutAttribute(XFRMA_ENCAP, e);
    }
    PutReplay(m, x, UsesEsnReplay(x, record));
    if (x->GetOffload().ops)
    {
        put(XFRMA_OFFLOAD_DEV);
    }
    put(XFRMA_MTIMER_THRESH); // last in copy_to_user_state_extra
    return m.Finish();
}

void
XfrmNetlinkEndpoint::PutReplay(NetlinkMessageBuilder& m, Ptr<XfrmState> x, bool esn) const
{
    if (esn)
    {
        const ReplayWindow& w = x->GetReplayWindow();
        const uint32_t words = (w.GetSize() + 31) / 32;
        std::vector<uint8_t> value(sizeof(xfrm_replay_state_esn) + 4 * words);
        xfrm_replay_state_esn esn{};
        esn.bmp_len = words;
        esn.oseq = uint32_t(x->GetLastSeq());
        esn.oseq_hi = uint32_t(x->GetLastSeq() >> 32);
        esn.seq = uint32_t(w.GetTop());
        esn.seq_hi = uint32_t(w.GetTop() >> 32);
        esn.replay_window = w.GetSize();
        std::memcpy(value.data(), &esn, sizeof(esn));
        for (uint32_t i = 0; i < w.GetSize() && i < w.GetTop(); ++i)
        {
            // Linux's ESN bitmap: bit (seq - 1) mod replay_window (xfrm_replay_advance_esn).
            const uint64_t s = w.GetTop() - i;
            if (w.WasReceived(s))
            {
                const uint32_t bit = uint32_t((s - 1) % w.GetSize());
                value[sizeof(esn) + bit / 8] |= uint8_t(1u << (bit % 8));
            }
        }
        m.PutAttribute(XFRMA_REPLAY_ESN_VAL, value.data(), value.size());
    }
    else
    {
        const ReplayWindow& w = x->GetReplayWindow();
        xfrm_replay_state replay{};
        replay.oseq = uint32_t(x->GetLastSeq());
        replay.seq = uint32_t(w.GetTop());
        for (uint32_t i = 0; i < 32 && i < w.GetSize() && i < w.GetTop(); ++i)
        {
            if (w.WasReceived(w.GetTop() - i))
            {
                replay.bitmap |= 1u << i;
            }
        }
        m.PutAttribute(XFRMA_REPLAY_VAL, replay);
    }
}

std::vector<uint8_t>
XfrmNetlinkEndpoint::BuildLarval(const LarvalState& larval,
                                 uint16_t flags,
                                 uint32_t seq,
                                 uint32_t pid)
{
    NetlinkMessageBuilder m(XFRM_MSG_NEWSA, flags, seq, pid);
    m.Put(larval.info);
    m.PutAttribute(XFRMA_REPLAY_VAL, xfrm_replay_state{});
    return m.Finish();
}

void
XfrmNetlinkEndpoint::SendDump(uint32_t portId,
                              uint32_t seq,
                              const std::vector<std::vector<uint8_t>>& messages)
{
    std::vector<uint8_t> datagram;
    for (const auto& message : messages)
    {
        if (!datagram.empty() && datagram.size() + message.size() > kDumpDatagram)
        {
            Send(portId, std::move(datagram));
            datagram.clear();
        }
        datagram.insert(datagram.end(), message.begin(), message.end());
    }
    if (!datagram.empty())
    {
        Send(portId, std::move(datagram));
    }
    Send(portId, BuildNetlinkDone(seq, portId));
}

void
XfrmNetlinkEndpoint::DumpSa(uint32_t portId, const NetlinkMessageView& request)
{
    NetlinkAttributes attrs;
    std::string message;
    std::vector<std::vector<uint8_t>> messages;
    // xfrm_dump_sa parses attributes right after the header (no fixed part).
    uint8_t proto = 0;
    if (ParseAttributes(request, 0, &attrs, &message) == 0)
    {
        attrs.Read(XFRMA_PROTO, &proto);
    }
    const uint32_t seq = request.header.nlmsg_seq;
    PruneStale();
    // Newest first, as Linux's state_all list, larval states among the stack's.
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> entries;
    if (ProtoMatches(IPPROTO_ESP, proto))
    {
        for (const Ptr<XfrmState>& x : m_stack->GetStates().GetAll())
        {
            const SaRecord* record = RecordOf(x);
            entries.emplace_back(record ? record->order : 0,
                                 BuildSa(x, XFRM_MSG_NEWSA, NLM_F_MULTI, seq, portId));
        }
    }
    for (const auto& [key, larval] : m_larval)
    {
        if (ProtoMatches(std::get<2>(key), proto))
        {
            entries.emplace_back(larval.order, BuildLarval(larval, NLM_F_MULTI, seq, portId));
        }
    }
    for (const auto& [key, acquiring] : m_acquiring)
    {
        if (ProtoMatches(IPPROTO_ESP, proto))
        {
            entries.emplace_back(acquiring.order, BuildLarval(acquiring, NLM_F_MULTI, seq, portId));
        }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.first > b.first;
    });
    for (auto& entry : entries)
    {
        messages.push_back(std::move(entry.second));
    }
    SendDump(portId, seq, messages);
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::AllocSpi(uint32_t portId, const NetlinkMessageView& request)
{
    xfrm_userspi_info p;
    std::memcpy(&p, request.payload, sizeof(p));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(p), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    if (p.info.id.proto == IPPROTO_COMP && p.max >= 0x10000)
    {
        return {-EINVAL, "IPCOMP SPI must be <= 65535"};
    }
    if (p.info.id.proto != IPPROTO_ESP && p.info.id.proto != IPPROTO_AH &&
        p.info.id.proto != IPPROTO_COMP)
    {
        return {-EINVAL, "Invalid protocol, must be one of AH, ESP, IPCOMP"};
    }
    if (p.min > p.max)
    {
        return {-EINVAL, "Invalid SPI range: min > max"};
    }
    if (HasMarkOrIfId(attrs, &r.message))
    {
        return {-EOPNOTSUPP, r.message};
    }
    XfrmAddress daddr;
    XfrmAddress saddr;
    if (!ToAddress(p.info.id.daddr, p.info.family, &daddr) ||
        !ToAddress(p.info.saddr, p.info.family, &saddr))
    {
        return {-EINVAL, "offloadlab: ALLOCSPI of an address family other than IPv4 and IPv6"};
    }
    // xfrm_alloc_spi: one SPI in [min, max] that no state of daddr has.
    auto taken = [&](uint32_t spi) {
        return (p.info.id.proto == IPPROTO_ESP && m_stack->FindState(daddr, spi)) ||
               m_larval.count(LarvalKey{daddr, spi, p.info.id.proto});
    };
    uint32_t spi = 0;
    if (p.min == p.max)
    {
        if (p.min != 0 && !taken(p.min))
        {
            spi = p.min;
        }
        else if (p.min != 0)
        {
            // Linux 6.1 gives no message; later kernels this one.
            return {-ENOENT, "No SPI available in the requested range"};
        }
    }
    else
    {
        static std::mt19937 s_random(std::random_device{}());
        const uint32_t range = p.max - p.min + 1; // 0 for the whole space, as in Linux
        for (uint32_t tries = 0; tries < range; ++tries)
        {
            const uint32_t candidate =
                p.min + uint32_t(std::uniform_int_distribution<uint64_t>(0, range - 1)(s_random));
            if (candidate != 0 && !taken(candidate))
            {
                spi = candidate;
                break;
            }
        }
    }
    if (spi == 0)
    {
        return {-ENOENT, "No SPI available in the requested range"};
    }
    // xfrm_alloc_userspi takes over the ACQ state of the request's seq (same daddr), else the
    // one of its endpoints, reqid and mode (xfrm_find_acq): it keeps that state's selector and
    // lifetime and gets the SPI. charon asks with seq 0, reqid 0 and its own address as daddr,
    // so it never meets its outbound ACQ states; `ip xfrm state allocspi` may.
    auto acquired = m_acquiring.end();
    if (p.info.seq != 0)
    {
        acquired = std::find_if(m_acquiring.begin(), m_acquiring.end(), [&](const auto& entry) {
            return entry.second.info.seq == p.info.seq && std::get<0>(entry.first) == daddr;
        });
    }
    if (acquired == m_acquiring.end() && p.info.id.proto == IPPROTO_ESP)
    {
        acquired = m_acquiring.find(AcquireKey{daddr, saddr, p.info.reqid, p.info.mode});
    }
    if (acquired != m_acquiring.end())
    {
        LarvalState taken = acquired->second;
        taken.info.id.spi = htonl(spi);
        const Time left = Simulator::GetDelayLeft(taken.expiry);
        taken.expiry.Cancel();
        m_acquiring.erase(acquired);
        taken.expiry = Simulator::Schedule(left,
                                           &XfrmNetlinkEndpoint::ExpireLarval,
                                           this,
                                           LarvalKey{daddr, spi, p.info.id.proto});
        auto& stored = m_larval[LarvalKey{daddr, spi, p.info.id.proto}];
        stored = taken;
        Send(portId, BuildLarval(stored, 0, request.header.nlmsg_seq, portId));
        return r;
    }
    // __find_acq_core creates a larval state (XFRM_STATE_ACQ) with the request's endpoints.
    LarvalState larval;
    xfrm_usersa_info& info = larval.info;
    info.sel.daddr = p.info.id.daddr;
    info.sel.saddr = p.info.saddr;
    info.sel.prefixlen_d = info.sel.prefixlen_s = p.info.family == AF_INET ? 32 : 128;
    info.id.daddr = p.info.id.daddr;
    info.id.spi = htonl(spi);
    info.id.proto = p.info.id.proto;
    info.saddr = p.info.saddr;
    info.family = p.info.family;
    info.mode = p.info.mode;
    info.reqid = p.info.reqid;
    info.lft.soft_byte_limit = info.lft.hard_byte_limit = kXfrmInf;
    info.lft.soft_packet_limit = info.lft.hard_packet_limit = kXfrmInf;
    info.lft.hard_add_expires_seconds = kAcqExpires;
    info.curlft.add_time = EpochSeconds(Simulator::Now());
    larval.expiry = Simulator::Schedule(Seconds(kAcqExpires),
                                        &XfrmNetlinkEndpoint::ExpireLarval,
                                        this,
                                        LarvalKey{daddr, spi, p.info.id.proto});
    larval.order = ++m_order;
    auto& stored = m_larval[LarvalKey{daddr, spi, p.info.id.proto}];
    stored = larval;
    Send(portId, BuildLarval(stored, 0, request.header.nlmsg_seq, portId));
    return r;
}

void
XfrmNetlinkEndpoint::ExpireLarval(LarvalKey key)
{
    // xfrm_timer_handler: the larval state's hard add limit: deleted, EXPIRE (hard) told.
    ExpireFrom(&m_larval, key);
}

void
XfrmNetlinkEndpoint::MulticastHardExpire(const xfrm_usersa_info& state)
{
    xfrm_user_expire expire{};
    expire.state = state;
    expire.hard = 1;
    NetlinkMessageBuilder m(XFRM_MSG_EXPIRE, 0, 0, 0);
    m.Put(expire);
    Multicast(XFRMNLGRP_EXPIRE, m.Finish());
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::FlushSa(const NetlinkMessageView& request)
{
    xfrm_usersa_flush p;
    std::memcpy(&p, request.payload, sizeof(p));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(p), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    // xfrm_state_flush: what xfrm_id_proto_match takes; nothing to flush is still 0.
    size_t flushed = 0;
    for (auto it = m_larval.begin(); it != m_larval.end();)
    {
        if (ProtoMatches(std::get<2>(it->first), p.proto))
        {
            it->second.expiry.Cancel();
            it = m_larval.erase(it);
            ++flushed;
        }
        else
        {
            ++it;
        }
    }
    if (ProtoMatches(IPPROTO_ESP, p.proto))
    {
        for (auto& [key, acquiring] : m_acquiring)
        {
            acquiring.expiry.Cancel();
        }
        flushed += m_acquiring.size();
        m_acquiring.clear();
        for (const Ptr<XfrmState>& x : m_stack->GetStates().GetAll())
        {
            m_stack->DeleteState(x->GetConfig().daddr, x->GetSpi());
            ++flushed;
        }
        m_sas.clear();
    }
    // xfrm_flush_sa tells the group only when something went (an empty table is -ESRCH there).
    if (flushed != 0)
    {
        NetlinkMessageBuilder m(XFRM_MSG_FLUSHSA,
                                0,
                                request.header.nlmsg_seq,
                                request.header.nlmsg_pid);
        m.Put(p);
        Notify(XFRMNLGRP_SA, m.Finish());
    }
    return r;
}

void
XfrmNetlinkEndpoint::OnExpire(Ptr<XfrmState> x, bool hard)
{
    // km_state_expired -> build_expire: the state as GETSA shows it, and whether it is hard.
    const std::vector<uint8_t> sa = BuildSa(x, XFRM_MSG_NEWSA, 0, 0, 0);
    xfrm_user_expire expire{};
    std::memcpy(&expire.state, sa.data() + NLMSG_HDRLEN, sizeof(expire.state));
    expire.hard = hard ? 1 : 0;
    NetlinkMessageBuilder m(XFRM_MSG_EXPIRE, 0, 0, 0);
    m.Put(expire);
    Multicast(XFRMNLGRP_EXPIRE, m.Finish());
}

void
XfrmNetlinkEndpoint::SetLifetime(Ptr<XfrmState> x, const xfrm_lifetime_cur& ltime) const
{
    XfrmLifetimeCurrent& cur = x->GetCurrent();
    cur.bytes = ltime.bytes;
    cur.packets = ltime.packets;
    cur.addTime = Seconds(double(int64_t(ltime.add_time) - m_epochAtZero));
    cur.used = ltime.use_time != 0;
    cur.useTime = cur.used ? Seconds(double(int64_t(ltime.use_time) - m_epochAtZero)) : Time();
}

void
XfrmNetlinkEndpoint::SetMappingMaxAge(SaRecord* record, uint32_t seconds)
{
    // x->mapping_maxage (xfrm_update_ae_params): MAPPING's rate limit; GETSA shows it when set.
    if (seconds == 0)
    {
        record->attributes.erase(XFRMA_MTIMER_THRESH);
        return;
    }
    record->attributes[XFRMA_MTIMER_THRESH].assign(reinterpret_cast<const uint8_t*>(&seconds),
                                                   reinterpret_cast<const uint8_t*>(&seconds) +
                                                       sizeof(seconds));
}

void
XfrmNetlinkEndpoint::OnMapping(Ptr<XfrmState> x, const XfrmAddress& saddr, uint16_t sport)
{
    SaRecord* record = RecordOf(x);
    if (!record)
    {
        return; // another key manager's SA
    }
    // km_new_mapping: with x->mapping_maxage set, one event per new port, or per maxage seconds
    // (jiffies / HZ) for the same one; without it, one for every packet.
    uint32_t maxAge = 0;
    auto limit = record->attributes.find(XFRMA_MTIMER_THRESH);
    if (limit != record->attributes.end())
    {
        std::memcpy(&maxAge, limit->second.data(), sizeof(maxAge));
    }
    const int64_t now = int64_t(Simulator::Now().GetSeconds());
    if (maxAge != 0)
    {
        if (now - record->newMapping <= int64_t(maxAge) && record->newMappingSport == sport)
        {
            return;
        }
        record->newMapping = now;
        record->newMappingSport = sport;
    }
    // xfrm_send_mapping -> build_mapping: ESP with an encapsulation only (it is, to get here).
    const XfrmStateConfig& c = x->GetConfig();
    xfrm_user_mapping um{};
    um.id.daddr = FromAddress(c.daddr);
    um.id.spi = htonl(c.spi);
    um.id.family = FamilyOf(c.daddr);
    um.id.proto = IPPROTO_ESP;
    um.new_saddr = FromAddress(saddr);
    um.old_saddr = FromAddress(c.saddr);
    um.new_sport = htons(sport);
    um.old_sport = htons(c.encap.sport);
    um.reqid = c.reqid;
    NetlinkMessageBuilder m(XFRM_MSG_MAPPING, 0, 0, 0);
    m.Put(um);
    Multicast(XFRMNLGRP_MAPPING, m.Finish());
}

void
XfrmNetlinkEndpoint::Multicast(uint32_t group, const std::vector<uint8_t>& message)
{
    for (const auto& [portId, client] : m_clients)
    {
        if (client.groups & (1u << (group - 1)))
        {
            Send(portId, message);
        }
    }
}

void
XfrmNetlinkEndpoint::Notify(uint32_t group, std::vector<uint8_t> message)
{
    m_notifications.emplace_back(group, std::move(message));
}

std::vector<uint8_t>
XfrmNetlinkEndpoint::BuildDeletedSa(const std::vector<uint8_t>& sa, uint32_t seq, uint32_t pid)
{
    xfrm_usersa_info info;
    std::memcpy(&info, sa.data() + NLMSG_HDRLEN, sizeof(info));
    xfrm_usersa_id id{};
    id.daddr = info.id.daddr;
    id.spi = info.id.spi;
    id.family = info.family;
    id.proto = info.id.proto;
    NetlinkMessageBuilder m(XFRM_MSG_DELSA, 0, seq, pid);
    m.Put(id);
    m.PutAttribute(XFRMA_SA, info);
    PutAttributesOf(m, sa, sizeof(info));
    return m.Finish();
}

int32_t
XfrmNetlinkEndpoint::OutputIfindex(const XfrmFlow& flow) const
{
    // fl4->flowi4_oif after the route lookup (or _decode_session4's dst device when forwarded):
    // the interface the flow leaves by, as the host names it. 0 where the host has none.
    Ptr<Ipv4> ipv4 = m_stack->GetObject<Ipv4>();
    if (flow.dst.GetFamily() != XfrmAddress::Family::Ipv4 || !ipv4 || !ipv4->GetRoutingProtocol())
    {
        return 0;
    }
    Ipv4Header header;
    header.SetSource(flow.src.GetIpv4());
    header.SetDestination(flow.dst.GetIpv4());
    header.SetProtocol(flow.proto);
    Socket::SocketErrno error;
    Ptr<Ipv4Route> route = ipv4->GetRoutingProtocol()->RouteOutput(nullptr, header, nullptr, error);
    for (const auto& [ifindex, device] : m_interfaces)
    {
        if (route && device == route->GetOutputDevice())
        {
            return ifindex;
        }
    }
    return 0;
}

void
XfrmNetlinkEndpoint::OnAcquire(Ptr<XfrmPolicy> policy, const XfrmFlow& flow)
{
    bool listened = false;
    for (const auto& [portId, client] : m_clients)
    {
        listened = listened || (client.groups & (1u << (XFRMNLGRP_ACQUIRE - 1)));
    }
    const PolicyRecord* record = RecordOf(policy);
    if (!listened || !record || record->templates.empty())
    {
        return; // km_is_alive: no key manager listens; or not a policy of a netlink client
    }
    const XfrmTemplate& tmpl = policy->GetConfig().tmpl;
    // xfrm_init_tempstate: the template's endpoints, the flow's where the template has none
    // (transport mode).
    const XfrmAddress daddr = tmpl.daddr.IsAny() ? flow.dst : tmpl.daddr;
    const XfrmAddress saddr = tmpl.saddr.IsAny() ? flow.src : tmpl.saddr;
    const uint8_t mode = tmpl.mode == XfrmMode::Tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
    const AcquireKey key{daddr, saddr, tmpl.reqid, mode};
    if (m_acquiring.count(key))
    {
        return; // xfrm_state_look_at: acquire in progress (-EAGAIN), no second ACQUIRE
    }
    LarvalState acquiring;
    xfrm_usersa_info& info = acquiring.info;
    const uint16_t family = FamilyOf(daddr);
    info.id.daddr = FromAddress(daddr);
    info.id.spi = htonl(tmpl.spi);
    info.id.proto = IPPROTO_ESP;
    info.saddr = FromAddress(saddr);
    // __xfrm4_init_tempsel / __xfrm6_init_tempsel: the packet's flow, host prefixes, exact
    // ports (an ICMP or ICMPv6 message's type and code, as the flow carries them).
    info.sel.daddr = FromAddress(flow.dst);
    info.sel.saddr = FromAddress(flow.src);
    info.sel.dport = htons(flow.dport);
    info.sel.dport_mask = 0xffff;
    info.sel.sport = htons(flow.sport);
    info.sel.sport_mask = 0xffff;
    info.sel.family = FamilyOf(flow.dst);
    info.sel.prefixlen_d = info.sel.prefixlen_s = info.sel.family == AF_INET ? 32 : 128;
    info.sel.proto = flow.proto;
    info.sel.ifindex = OutputIfindex(flow);
    info.family = family;
    info.mode = mode;
    info.reqid = tmpl.reqid;
    do
    {
        info.seq = ++m_acquireSeq;
    } while (info.seq == 0);
    info.lft.soft_byte_limit = info.lft.hard_byte_limit = kXfrmInf;
    info.lft.soft_packet_limit = info.lft.hard_packet_limit = kXfrmInf;
    info.lft.hard_add_expires_seconds = kAcqExpires;
    info.curlft.add_time = EpochSeconds(Simulator::Now());
    acquiring.order = ++m_order;
    acquiring.expiry =
        Simulator::Schedule(Seconds(kAcqExpires), &XfrmNetlinkEndpoint::ExpireAcquire, this, key);
    m_acquiring[key] = acquiring;

    // build_acquire: the state's id, saddr and selector, the policy as copy_to_user_policy
    // gives it (direction out), the template's algorithm masks, the seq; then the policy's
    // attributes as GETPOLICY gives them (templates, policy type, 6.2's offload device).
    const std::vector<uint8_t> built = BuildPolicy(policy, XFRM_MSG_NEWPOLICY, 0, 0, 0);
    xfrm_user_acquire acquire{};
    acquire.id = info.id;
    acquire.saddr = info.saddr;
    acquire.sel = info.sel;
    std::memcpy(&acquire.policy, built.data() + NLMSG_HDRLEN, sizeof(acquire.policy));
    acquire.policy.dir = XFRM_POLICY_OUT;
    acquire.policy.share = XFRM_SHARE_ANY;
    const xfrm_user_tmpl* match = &record->templates.front();
    for (const xfrm_user_tmpl& t : record->templates)
    {
        if (t.reqid == tmpl.reqid && t.id.proto == IPPROTO_ESP)
        {
            match = &t;
            break;
        }
    }
    acquire.aalgos = match->aalgos;
    acquire.ealgos = match->ealgos;
    acquire.calgos = match->calgos;
    acquire.seq = info.seq;
    NetlinkMessageBuilder m(XFRM_MSG_ACQUIRE, 0, 0, 0);
    m.Put(acquire);
    PutAttributesOf(m, built, sizeof(xfrm_userpolicy_info));
    NS_LOG_INFO("ACQUIRE seq " << info.seq << " for reqid " << tmpl.reqid << " to " << daddr);
    Multicast(XFRMNLGRP_ACQUIRE, m.Finish());
}

void
XfrmNetlinkEndpoint::ExpireAcquire(AcquireKey key)
{
    // xfrm_timer_handler: an ACQ state past xfrm_acq_expires is deleted and, though its SPI is
    // 0, told as a hard expire.
    ExpireFrom(&m_acquiring, key);
}

void
XfrmNetlinkEndpoint::RemoveAcquire(const xfrm_usersa_info& sa,
                                   const XfrmAddress& daddr,
                                   const XfrmAddress& saddr)
{
    if (sa.id.proto != IPPROTO_ESP)
    {
        return;
    }
    auto found = m_acquiring.end();
    if (sa.seq != 0)
    {
        // __xfrm_find_acq_byseq, then the same daddr.
        found = std::find_if(m_acquiring.begin(), m_acquiring.end(), [&](const auto& entry) {
            return entry.second.info.seq == sa.seq && std::get<0>(entry.first) == daddr;
        });
    }
    if (found == m_acquiring.end())
    {
        found = m_acquiring.find(AcquireKey{daddr, saddr, sa.reqid, sa.mode});
    }
    if (found != m_acquiring.end())
    {
        found->second.expiry.Cancel();
        m_acquiring.erase(found);
    }
}

// ---- Policies -----------------------------------------------------------------------------

uint32_t
XfrmNetlinkEndpoint::NewPolicyIndex(uint8_t dir)
{
    // xfrm_gen_index: one generator for every direction, the direction in the low 3 bits.
    for (;;)
    {
        uint32_t index = m_indexGenerator | dir;
        m_indexGenerator += 8;
        if (index == 0)
        {
            index = 8;
        }
        if (!m_policyByIndex.count(index))
        {
            return index;
        }
    }
}

XfrmNetlinkEndpoint::PolicyRecord*
XfrmNetlinkEndpoint::RecordOf(const Ptr<XfrmPolicy>& policy)
{
    auto it = m_policies.find(PeekPointer(policy));
    return it == m_policies.end() ? nullptr : &it->second.second;
}

Ptr<XfrmPolicy>
XfrmNetlinkEndpoint::PolicyByIndex(uint32_t index)
{
    auto it = m_policyByIndex.find(index);
    if (it == m_policyByIndex.end())
    {
        return nullptr;
    }
    Ptr<XfrmPolicy> policy = m_policies.at(it->second).first;
    if (!IsLive(policy))
    {
        ForgetPolicy(PeekPointer(policy));
        return nullptr;
    }
    return policy;
}

std::string
XfrmNetlinkEndpoint::SelectorKey(uint8_t dir, const xfrm_selector& sel)
{
    std::string key(1, char(dir));
    key.append(reinterpret_cast<const char*>(&sel), sizeof(sel));
    return key;
}

Ptr<XfrmPolicy>
XfrmNetlinkEndpoint::PolicyBySelector(uint8_t dir, const xfrm_selector& sel)
{
    auto it = m_policyBySelector.find(SelectorKey(dir, sel));
    if (it == m_policyBySelector.end())
    {
        return nullptr;
    }
    Ptr<XfrmPolicy> policy = m_policies.at(it->second).first;
    if (!IsLive(policy))
    {
        ForgetPolicy(PeekPointer(policy));
        return nullptr;
    }
    return policy;
}

bool
XfrmNetlinkEndpoint::IsLive(const Ptr<XfrmPolicy>& policy) const
{
    const XfrmPolicyConfig& c = policy->GetConfig();
    return m_stack->GetPolicies().FindBySelector(c.dir, c.sel) == policy;
}

void
XfrmNetlinkEndpoint::ForgetPolicy(XfrmPolicy* policy)
{
    auto it = m_policies.find(policy);
    if (it == m_policies.end())
    {
        return;
    }
    const PolicyRecord& record = it->second.second;
    m_policyByIndex.erase(record.info.index);
    m_policyBySelector.erase(SelectorKey(record.info.dir, record.info.sel));
    m_policies.erase(it);
}

void
XfrmNetlinkEndpoint::PruneStale()
{
    std::vector<XfrmPolicy*> stale;
    for (const auto& [raw, entry] : m_policies)
    {
        if (!IsLive(entry.first))
        {
            stale.push_back(raw);
        }
    }
    for (XfrmPolicy* policy : stale)
    {
        ForgetPolicy(policy);
    }
    for (auto it = m_sas.begin(); it != m_sas.end();)
    {
        it = m_stack->FindState(it->first.first, it->first.second) == it->second.state
                 ? std::next(it)
                 : m_sas.erase(it);
    }
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::AddPolicy(const NetlinkMessageView& request, bool update)
{
    xfrm_userpolicy_info p;
    std::memcpy(&p, request.payload, sizeof(p));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(p), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    // verify_newpolicy_info
    if (p.share > XFRM_SHARE_UNIQUE)
    {
        return {-EINVAL, "Invalid policy share"};
    }
    if (p.action > XFRM_POLICY_BLOCK)
    {
        return {-EINVAL, "Invalid policy action"};
    }
    switch (p.sel.family)
    {
    case AF_INET:
    case AF_INET6:
        if (const std::string why = SelectorPrefixError(p.sel); !why.empty())
        {
            return {-EINVAL, why};
        }
        break;
    default:
        return {-EINVAL, "Invalid selector family"};
    }
    if (p.dir > XFRM_POLICY_FWD)
    {
        return {-EINVAL, "Invalid policy direction"};
    }
    if (p.index != 0 && (p.index & 7) != p.dir)
    {
        return {-EINVAL, "Policy index doesn't match direction"};
    }
    if (!SecCtxLengthOk(attrs))
    {
        return {-EINVAL, "Invalid security context length"};
    }
    xfrm_userpolicy_type type{};
    if (attrs.Read(XFRMA_POLICY_TYPE, &type) && type.type != XFRM_POLICY_TYPE_MAIN)
    {
        if (type.type == XFRM_POLICY_TYPE_SUB)
        {
            return {-EOPNOTSUPP, "offloadlab: sub policies are not modelled"};
        }
        return {-EINVAL, "Invalid policy type"};
    }
    // validate_tmpl
    std::vector<xfrm_user_tmpl> templates;
    size_t length = 0;
    if (const uint8_t* t = attrs.Get(XFRMA_TMPL, &length))
    {
        const size_t n = length / sizeof(xfrm_user_tmpl);
        if (n > kXfrmMaxDepth)
        {
            return {-EINVAL, "Template count must be <= XFRM_MAX_DEPTH (6)"};
        }
        uint16_t previous = p.sel.family;
        for (size_t i = 0; i < n; ++i)
        {
            xfrm_user_tmpl ut;
            std::memcpy(&ut, t + i * sizeof(ut), sizeof(ut));
            if (ut.family == AF_UNSPEC)
            {
                ut.family = p.sel.family;
            }
            switch (ut.mode)
            {
            case XFRM_MODE_TUNNEL:
            case XFRM_MODE_BEET:
                if (ut.optional && p.dir == XFRM_POLICY_OUT)
                {
                    return {-EINVAL, "Mode in optional template not allowed in outbound policy"};
                }
                break;
            default:
                if (ut.family != previous)
                {
                    return {-EINVAL, "Mode in template doesn't support a family change"};
                }
                break;
            }
            if (ut.mode >= XFRM_MODE_MAX)
            {
                return {-EINVAL, "Mode in template must be < XFRM_MODE_MAX (5)"};
            }
            previous = ut.family;
            if (ut.family != AF_INET && ut.family != AF_INET6)
            {
                return {-EINVAL, "Invalid family in template"};
            }
            const uint8_t proto = ut.id.proto;
            if (proto != IPPROTO_AH && proto != IPPROTO_ESP && proto != IPPROTO_COMP &&
                proto != IPPROTO_ROUTING && proto != IPPROTO_DSTOPTS)
            {
                return {-EINVAL, "Invalid XFRM protocol in template"};
            }
            templates.push_back(ut);
        }
    }
    xfrm_user_offload offload{};
    const bool offloaded = attrs.Read(XFRMA_OFFLOAD_DEV, &offload);
    if (offloaded && offload.flags != XFRM_OFFLOAD_PACKET)
    {
        return {-EINVAL, "Unrecognized flags in offload request"};
    }
    if (HasMarkOrIfId(attrs, &r.message))
    {
        return {-EOPNOTSUPP, r.message};
    }
    if (templates.size() > 1 || (templates.size() == 1 && templates[0].id.proto != IPPROTO_ESP))
    {
        return {-EOPNOTSUPP, "offloadlab: a policy takes at most one template, of ESP"};
    }
    if (templates.size() == 1 && templates[0].optional)
    {
        return {-EOPNOTSUPP, "offloadlab: optional templates are not modelled"};
    }
    if (p.lft.soft_add_expires_seconds || p.lft.hard_add_expires_seconds ||
        p.lft.soft_use_expires_seconds || p.lft.hard_use_expires_seconds)
    {
        return {-EOPNOTSUPP, "offloadlab: policy lifetimes are not modelled"};
    }

    XfrmPolicyConfig c;
    if (!ToSelector(p.sel, &c.sel, &r.message))
    {
        return {-EOPNOTSUPP, r.message};
    }
    c.dir = p.dir == XFRM_POLICY_IN ? XfrmDir::In
                                    : (p.dir == XFRM_POLICY_OUT ? XfrmDir::Out : XfrmDir::Fwd);
    c.priority = p.priority;
    c.action = p.action == XFRM_POLICY_BLOCK ? XfrmPolicyAction::Block : XfrmPolicyAction::Allow;
    c.hasTemplate = !templates.empty();
    if (c.hasTemplate)
    {
        const xfrm_user_tmpl& ut = templates[0];
        ToAddress(ut.saddr, ut.family, &c.tmpl.saddr);
        ToAddress(ut.id.daddr, ut.family, &c.tmpl.daddr);
        c.tmpl.mode = ut.mode == XFRM_MODE_TUNNEL ? XfrmMode::Tunnel : XfrmMode::Transport;
        c.tmpl.reqid = ut.reqid;
        c.tmpl.spi = ntohl(ut.id.spi);
        if (ut.mode != XFRM_MODE_TRANSPORT && ut.mode != XFRM_MODE_TUNNEL)
        {
            return {-EOPNOTSUPP,
                    "offloadlab: template modes other than transport and tunnel "
                    "are not modelled"};
        }
    }
    if (offloaded)
    {
        auto dev = m_interfaces.find(offload.ifindex);
        if (dev == m_interfaces.end())
        {
            return {-EINVAL, "offloadlab: no emulated device has this ifindex"};
        }
        c.offloadDev = dev->second;
        c.offloadType = XfrmOffloadType::Packet;
    }
    else if (m_packetForCrypto && c.hasTemplate && c.dir != XfrmDir::Fwd &&
             m_interfaces.size() == 1)
    {
        // What charon 5.9.10+ adds with hw_offload = packet (forward policies stay software).
        c.offloadDev = m_interfaces.begin()->second;
        c.offloadType = XfrmOffloadType::Packet;
    }
    // xfrm_policy_insert: identity is (dir, selector bytes); priority is not part of it.
    Ptr<XfrmPolicy> old = PolicyBySelector(p.dir, p.sel);
    if (old && !update)
    {
        return {-EEXIST, ""};
    }
    std::string error;
    Ptr<XfrmPolicy> policy;
    if (old)
    {
        // The stack replaces by its own notion of the selector; the bytes matched.
        policy = m_stack->UpdatePolicy(c, &error);
    }
    else if (m_stack->GetPolicies().FindBySelector(c.dir, c.sel))
    {
        // Another selector encoding of what the stack holds (host bits): one of them.
        return {-EEXIST, ""};
    }
    else
    {
        policy = m_stack->AddPolicy(c, &error);
    }
    if (!policy)
    {
        return {-EINVAL, error};
    }
    PolicyRecord record;
    record.info = p;
    record.info.share = 0; // not stored by Linux
    record.info.curlft = {};
    record.templates = templates;
    if (offloaded)
    {
        record.attributes[XFRMA_OFFLOAD_DEV].assign(reinterpret_cast<const uint8_t*>(&offload),
                                                    reinterpret_cast<const uint8_t*>(&offload) +
                                                        sizeof(offload));
    }
    if (old)
    {
        record.info.index = RecordOf(old)->info.index;
        ForgetPolicy(PeekPointer(old));
    }
    else
    {
        record.info.index =
            p.index != 0 && !m_policyByIndex.count(p.index) ? p.index : NewPolicyIndex(p.dir);
    }
    m_policyByIndex[record.info.index] = PeekPointer(policy);
    m_policyBySelector[SelectorKey(p.dir, p.sel)] = PeekPointer(policy);
    m_policies[PeekPointer(policy)] = {policy, std::move(record)};
    Notify(XFRMNLGRP_POLICY,
           BuildPolicy(policy,
                       update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY,
                       0,
                       request.header.nlmsg_seq,
                       request.header.nlmsg_pid));
    return r;
}

std::vector<uint8_t>
XfrmNetlinkEndpoint::BuildPolicy(Ptr<XfrmPolicy> policy,
                                 uint16_t type,
                                 uint16_t flags,
                                 uint32_t seq,
                                 uint32_t pid)
{
    const PolicyRecord& record = *RecordOf(policy);
    xfrm_userpolicy_info p = record.info;
    p.curlft = {};
    p.curlft.add_time = EpochSeconds(policy->GetAddTime());
    p.curlft.use_time = policy->WasUsed() ? EpochSeconds(policy->GetUseTime()) : 0;
    NetlinkMessageBuilder m(type, flags, seq, pid);
    m.Put(p);
    if (!record.templates.empty())
    {
        m.PutAttribute(XFRMA_TMPL,
                       record.templates.data(),
                       record.templates.size() * sizeof(xfrm_user_tmpl));
    }
    // copy_to_user_policy_type: with CONFIG_XFRM_SUB_POLICY=y (Debian's kernels) always there.
    xfrm_userpolicy_type main{};
    main.type = XFRM_POLICY_TYPE_MAIN;
    m.PutAttribute(XFRMA_POLICY_TYPE, &main, sizeof(main));
    auto offload = record.attributes.find(XFRMA_OFFLOAD_DEV);
    if (offload != record.attributes.end() && policy->GetOffload().ops)
    {
        m.PutAttribute(XFRMA_OFFLOAD_DEV, offload->second.data(), offload->second.size());
    }
    return m.Finish();
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::GetPolicy(uint32_t portId, const NetlinkMessageView& request, bool remove)
{
    xfrm_userpolicy_id id;
    std::memcpy(&id, request.payload, sizeof(id));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(id), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    xfrm_userpolicy_type type{};
    if (attrs.Read(XFRMA_POLICY_TYPE, &type) && type.type != XFRM_POLICY_TYPE_MAIN)
    {
        if (type.type == XFRM_POLICY_TYPE_SUB)
        {
            return {-EOPNOTSUPP, "offloadlab: sub policies are not modelled"};
        }
        return {-EINVAL, "Invalid policy type"};
    }
    if (id.dir > XFRM_POLICY_FWD)
    {
        return {-EINVAL, "Invalid policy direction"};
    }
    xfrm_mark mark{};
    uint32_t ifId = 0;
    if ((attrs.Read(XFRMA_MARK, &mark) && (mark.v | mark.m)) ||
        (attrs.Read(XFRMA_IF_ID, &ifId) && ifId))
    {
        return {-ENOENT, ""}; // no policy here has a mark or an interface
    }
    Ptr<XfrmPolicy> policy;
    if (id.index != 0)
    {
        policy = (id.index & 7) == id.dir ? PolicyByIndex(id.index) : nullptr;
    }
    else
    {
        if (!SecCtxLengthOk(attrs))
        {
            return {-EINVAL, "Invalid security context length"};
        }
        policy = PolicyBySelector(id.dir, id.sel);
    }
    if (!policy)
    {
        return {-ENOENT, ""};
    }
    if (!remove)
    {
        Send(portId, BuildPolicy(policy, XFRM_MSG_NEWPOLICY, 0, request.header.nlmsg_seq, portId));
        return r;
    }
    // xfrm_notify_policy's DELPOLICY: the id as asked (index, or the policy's selector), the
    // policy in XFRMA_POLICY, then its attributes.
    const std::vector<uint8_t> full = BuildPolicy(policy, XFRM_MSG_NEWPOLICY, 0, 0, 0);
    xfrm_userpolicy_info info;
    std::memcpy(&info, full.data() + NLMSG_HDRLEN, sizeof(info));
    xfrm_userpolicy_id gone{};
    gone.dir = id.dir;
    if (id.index != 0)
    {
        gone.index = info.index;
    }
    else
    {
        gone.sel = info.sel;
    }
    NetlinkMessageBuilder m(XFRM_MSG_DELPOLICY,
                            0,
                            request.header.nlmsg_seq,
                            request.header.nlmsg_pid);
    m.Put(gone);
    m.PutAttribute(XFRMA_POLICY, info);
    PutAttributesOf(m, full, sizeof(info));
    Notify(XFRMNLGRP_POLICY, m.Finish());
    m_stack->DeletePolicy(policy);
    ForgetPolicy(PeekPointer(policy));
    return r;
}

void
XfrmNetlinkEndpoint::DumpPolicy(uint32_t portId, const NetlinkMessageView& request)
{
    PruneStale();
    std::vector<std::vector<uint8_t>> messages;
    const uint32_t seq = request.header.nlmsg_seq;
    // Newest first (policy_all), each with its own direction.
    std::vector<std::pair<uint64_t, Ptr<XfrmPolicy>>> order;
    for (auto& [raw, entry] : m_policies)
    {
        order.emplace_back(entry.first->GetSerial(), entry.first);
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        return a.first > b.first;
    });
    for (const auto& [serial, policy] : order)
    {
        messages.push_back(BuildPolicy(policy, XFRM_MSG_NEWPOLICY, NLM_F_MULTI, seq, portId));
    }
    SendDump(portId, seq, messages);
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::FlushPolicy(const NetlinkMessageView& request)
{
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, 0, &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    xfrm_userpolicy_type type{};
    if (attrs.Read(XFRMA_POLICY_TYPE, &type) && type.type != XFRM_POLICY_TYPE_MAIN)
    {
        if (type.type == XFRM_POLICY_TYPE_SUB)
        {
            return {-EOPNOTSUPP, "offloadlab: sub policies are not modelled"};
        }
        return {-EINVAL, "Invalid policy type"};
    }
    PruneStale();
    const bool any = !m_policies.empty();
    for (auto& [raw, entry] : m_policies)
    {
        m_stack->DeletePolicy(entry.first);
    }
    m_policies.clear();
    m_policyByIndex.clear();
    m_policyBySelector.clear();
    if (any)
    {
        // xfrm_notify_policy_flush: no body, the policy type (an empty SPD is -ESRCH there, and
        // nobody is told).
        NetlinkMessageBuilder m(XFRM_MSG_FLUSHPOLICY,
                                0,
                                request.header.nlmsg_seq,
                                request.header.nlmsg_pid);
        xfrm_userpolicy_type main{};
        main.type = XFRM_POLICY_TYPE_MAIN;
        m.PutAttribute(XFRMA_POLICY_TYPE, &main, sizeof(main));
        Notify(XFRMNLGRP_POLICY, m.Finish());
    }
    return r;
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::GetAe(uint32_t portId, const NetlinkMessageView& request)
{
    xfrm_aevent_id id;
    std::memcpy(&id, request.payload, sizeof(id));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(id), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    Ptr<XfrmState> x = FindAeState(id, attrs);
    if (!x)
    {
        return {-ESRCH, ""};
    }
    // build_aevent: the reply's pid is the request header's (xfrm_get_ae's c.portid).
    Send(portId, BuildAevent(x, id.flags, request.header.nlmsg_seq, request.header.nlmsg_pid));
    return r;
}

bool
XfrmNetlinkEndpoint::UsesEsnReplay(const Ptr<XfrmState>& x, const SaRecord* record)
{
    return x->GetConfig().esn || (record && record->attributes.count(XFRMA_REPLAY_ESN_VAL));
}

ReplayWindow
XfrmNetlinkEndpoint::RestoredWindow(uint32_t size,
                                    bool esn,
                                    uint64_t top,
                                    const std::function<bool(uint64_t)>& received)
{
    ReplayWindow w(size, esn);
    if (top == 0)
    {
        return w;
    }
    w.Advance(top);
    for (uint64_t seq = top - 1; seq > 0 && top - seq < size; --seq)
    {
        if (received(seq))
        {
            w.Advance(seq); // below the top: only marks it
        }
    }
    return w;
}

Ptr<XfrmState>
XfrmNetlinkEndpoint::FindAeState(const xfrm_aevent_id& id, const NetlinkAttributes& attrs) const
{
    xfrm_mark mark{};
    if (attrs.Read(XFRMA_MARK, &mark) && (mark.v & mark.m) != 0)
    {
        return nullptr; // no state here has a mark
    }
    XfrmAddress daddr;
    Ptr<XfrmState> x;
    if (ToAddress(id.sa_id.daddr, id.sa_id.family, &daddr) && id.sa_id.proto == IPPROTO_ESP)
    {
        x = m_stack->FindState(daddr, ntohl(id.sa_id.spi));
    }
    return x && FamilyOf(x->GetConfig().daddr) == id.sa_id.family ? x : nullptr;
}

std::vector<uint8_t>
XfrmNetlinkEndpoint::BuildAevent(Ptr<XfrmState> x, uint32_t flags, uint32_t seq, uint32_t pid)
{
    m_stack->UpdateStats(x);
    xfrm_aevent_id reply{};
    reply.sa_id.daddr = FromAddress(x->GetConfig().daddr);
    reply.sa_id.spi = htonl(x->GetSpi());
    reply.sa_id.family = FamilyOf(x->GetConfig().daddr);
    reply.sa_id.proto = IPPROTO_ESP;
    reply.saddr = FromAddress(x->GetConfig().saddr);
    reply.flags = flags;
    reply.reqid = x->GetConfig().reqid;
    NetlinkMessageBuilder m(XFRM_MSG_NEWAE, 0, seq, pid);
    m.Put(reply);
    const SaRecord* record = RecordOf(x);
    PutReplay(m, x, UsesEsnReplay(x, record));
    const XfrmLifetimeCurrent& cur = x->GetCurrent();
    xfrm_lifetime_cur ltime{};
    ltime.bytes = cur.bytes;
    ltime.packets = cur.packets;
    ltime.add_time = uint64_t(EpochSeconds(cur.addTime));
    ltime.use_time = cur.used ? uint64_t(EpochSeconds(cur.useTime)) : 0;
    m.PutAttribute(XFRMA_LTIME_VAL, ltime);
    if (flags & XFRM_AE_RTHR)
    {
        m.PutAttribute(XFRMA_REPLAY_THRESH, record ? record->replayMaxDiff : uint32_t(2));
    }
    if (flags & XFRM_AE_ETHR)
    {
        // x->replay_maxage * 10 / HZ: 100 ms units of a value kept in jiffies. NEWAE stores
        // its ETIMER_THRESH as jiffies unconverted, as Linux does.
        const uint32_t maxAge = record ? record->replayMaxAge : kHz; // aevent_etime 10: 1 s
        m.PutAttribute(XFRMA_ETIMER_THRESH, uint32_t(maxAge * 10 / kHz));
    }
    return m.Finish();
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::NewAe(const NetlinkMessageView& request)
{
    xfrm_aevent_id id;
    std::memcpy(&id, request.payload, sizeof(id));
    NetlinkAttributes attrs;
    Result r;
    r.error = ParseAttributes(request, sizeof(id), &attrs, &r.message, &r.badOffset);
    if (r.error)
    {
        return r;
    }
    size_t esnLength = 0;
    const uint8_t* re = attrs.Get(XFRMA_REPLAY_ESN_VAL, &esnLength);
    const bool rp = attrs.Has(XFRMA_REPLAY_VAL);
    const bool lt = attrs.Has(XFRMA_LTIME_VAL);
    const bool et = attrs.Has(XFRMA_ETIMER_THRESH);
    const bool rt = attrs.Has(XFRMA_REPLAY_THRESH);
    if (!lt && !rp && !re && !et && !rt)
    {
        return {-EINVAL, "Missing required attribute for AE"};
    }
    if (!(request.header.nlmsg_flags & NLM_F_REPLACE))
    {
        return {-EINVAL, "NLM_F_REPLACE flag is required"}; // "pedantic mode"
    }
    Ptr<XfrmState> x = FindAeState(id, attrs);
    XfrmAddress daddr;
    if (!x)
    {
        // xfrm_state_lookup finds larval (ALLOCSPI) states too, unmarked; they are not VALID.
        xfrm_mark mark{};
        const bool marked = attrs.Read(XFRMA_MARK, &mark) && (mark.v & mark.m) != 0;
        if (!marked && ToAddress(id.sa_id.daddr, id.sa_id.family, &daddr) &&
            m_larval.count(LarvalKey{daddr, ntohl(id.sa_id.spi), id.sa_id.proto}))
        {
            return {-EINVAL, "SA must be in VALID state"};
        }
        return {-ESRCH, ""};
    }
    SaRecord* record = RecordOf(x);
    ReplayWindow& window = x->GetReplayWindow();
    xfrm_replay_state replay{};
    if (UsesEsnReplay(x, record) && re)
    {
        // xfrm_replay_verify_len: the new state must have the old one's shape.
        xfrm_replay_state_esn up{};
        std::memcpy(&up, re, std::min(esnLength, sizeof(up)));
        if (esnLength < sizeof(up) || esnLength < sizeof(up) + size_t(up.bmp_len) * 4)
        {
            return {-EINVAL, "ESN attribute is too short"};
        }
        if (up.bmp_len != (window.GetSize() + 31) / 32)
        {
            return {-EINVAL, "New ESN size doesn't match the existing SA's ESN size"};
        }
        if (up.replay_window > up.bmp_len * 32)
        {
            return {-EINVAL, "ESN replay window is longer than the bitmap"};
        }
        // xfrm_update_ae_params from here on; nothing fails any more. The ESN bitmap's bit for
        // seq is (seq - 1) mod replay_window (xfrm_replay_advance_esn).
        const uint8_t* bitmap = re + sizeof(up);
        const uint32_t size = window.GetSize();
        window = RestoredWindow(size, true, uint64_t(up.seq_hi) << 32 | up.seq, [&](uint64_t seq) {
            const uint32_t bit = uint32_t((seq - 1) % size);
            return (bitmap[bit / 8] & (1u << (bit % 8))) != 0;
        });
        x->SetLastSeq(uint64_t(up.oseq_hi) << 32 | up.oseq);
    }
    else if (!UsesEsnReplay(x, record) && attrs.Read(XFRMA_REPLAY_VAL, &replay))
    {
        // x->replay: bit i of the bitmap is seq - i. An ESN state leaves it unused, as Linux.
        window = RestoredWindow(window.GetSize(), false, replay.seq, [&](uint64_t seq) {
            const uint64_t i = replay.seq - seq;
            return i < 32 && (replay.bitmap & (1u << i)) != 0;
        });
        x->SetLastSeq(replay.oseq);
    }
    xfrm_lifetime_cur ltime{};
    if (attrs.Read(XFRMA_LTIME_VAL, &ltime))
    {
        SetLifetime(x, ltime); // the limits count on from these at the next packet
    }
    if (record)
    {
        attrs.Read(XFRMA_REPLAY_THRESH, &record->replayMaxDiff);
        attrs.Read(XFRMA_ETIMER_THRESH, &record->replayMaxAge);
        uint32_t maxAge = 0;
        if (attrs.Read(XFRMA_MTIMER_THRESH, &maxAge))
        {
            SetMappingMaxAge(record, maxAge);
        }
    }
    // km_state_notify -> xfrm_aevent_state_notify: the new state, as XFRM_AE_CU.
    Notify(XFRMNLGRP_AEVENTS,
           BuildAevent(x, XFRM_AE_CU, request.header.nlmsg_seq, request.header.nlmsg_pid));
    return r;
}

// ---- SPD and SAD information --------------------------------------------------------------

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::GetSpdInfo(uint32_t portId, const NetlinkMessageView& request)
{
    uint32_t flags;
    std::memcpy(&flags, request.payload, sizeof(flags));
    PruneStale();
    xfrmu_spdinfo info{};
    for (auto& [raw, entry] : m_policies)
    {
        switch (entry.second.info.dir)
        {
        case XFRM_POLICY_IN:
            ++info.incnt;
            break;
        case XFRM_POLICY_OUT:
            ++info.outcnt;
            break;
        default:
            ++info.fwdcnt;
            break;
        }
    }
    xfrmu_spdhinfo hinfo{};
    hinfo.spdhcnt = 7; // policy_idx_hmask before any resize
    hinfo.spdhmcnt = 1048576;
    xfrmu_spdhthresh thresh4{m_hthresh4[0], m_hthresh4[1]};
    xfrmu_spdhthresh thresh6{m_hthresh6[0], m_hthresh6[1]};
    NetlinkMessageBuilder m(XFRM_MSG_NEWSPDINFO, 0, request.header.nlmsg_seq, portId);
    m.Put(flags);
    m.PutAttribute(XFRMA_SPD_INFO, info);
    m.PutAttribute(XFRMA_SPD_HINFO, hinfo);
    m.PutAttribute(XFRMA_SPD_IPV4_HTHRESH, thresh4);
    m.PutAttribute(XFRMA_SPD_IPV6_HTHRESH, thresh6);
    Send(portId, m.Finish());
    return {};
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::NewSpdInfo(const NetlinkMessageView& request)
{
    NetlinkAttributes attrs;
    std::string error;
    const size_t start = NLMSG_ALIGN(sizeof(uint32_t));
    attrs.Parse(request.payload + start,
                request.payloadLength > start ? request.payloadLength - start : 0,
                XFRMA_SPD_MAX,
                &error);
    size_t length = 0;
    for (uint16_t type : {uint16_t(XFRMA_SPD_IPV4_HTHRESH), uint16_t(XFRMA_SPD_IPV6_HTHRESH)})
    {
        if (attrs.Get(type, &length) && length < sizeof(xfrmu_spdhthresh))
        {
            return {-ERANGE,
                    "Attribute failed policy validation",
                    int64_t(NLMSG_HDRLEN + start + attrs.Offset(type))};
        }
    }
    const uint8_t* v4 = attrs.Get(XFRMA_SPD_IPV4_HTHRESH, &length);
    const uint8_t* v6 = attrs.Get(XFRMA_SPD_IPV6_HTHRESH, &length);
    if (v4 && (v4[0] > 32 || v4[1] > 32))
    {
        return {-EINVAL, "Invalid hash threshold (must be <= 32 for IPv4)"};
    }
    if (v6 && (v6[0] > 128 || v6[1] > 128))
    {
        return {-EINVAL, "Invalid hash threshold (must be <= 128 for IPv6)"};
    }
    if (v4)
    {
        // The stack's exact/inexact split is Linux's default thresholds; others are kept and
        // reported but do not change which list a policy goes to (only lookup speed in Linux).
        m_hthresh4[0] = v4[0];
        m_hthresh4[1] = v4[1];
    }
    if (v6)
    {
        m_hthresh6[0] = v6[0];
        m_hthresh6[1] = v6[1];
    }
    return {};
}

XfrmNetlinkEndpoint::Result
XfrmNetlinkEndpoint::GetSadInfo(uint32_t portId, const NetlinkMessageView& request)
{
    uint32_t flags;
    std::memcpy(&flags, request.payload, sizeof(flags));
    const uint32_t count =
        uint32_t(m_stack->GetStates().GetN() + m_larval.size() + m_acquiring.size());
    xfrmu_sadhinfo hinfo{};
    hinfo.sadhcnt = 8;
    hinfo.sadhmcnt = 1048576;
    NetlinkMessageBuilder m(XFRM_MSG_NEWSADINFO, 0, request.header.nlmsg_seq, portId);
    m.Put(flags);
    m.PutAttribute(XFRMA_SAD_CNT, count);
    m.PutAttribute(XFRMA_SAD_HINFO, hinfo);
    Send(portId, m.Finish());
    return {};
}

} // namespace ns3
