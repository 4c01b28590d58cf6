#include "reference-offload-engine.h"

#include "device-abi-convert.h"
#include "emu-nic-net-device.h"
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "offload-device-type.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>
#include <utility>

namespace ns3
{

namespace
{
void
CopyReason(std::string* reason, const std::string& text)
{
    if (reason)
    {
        *reason = text;
    }
}

/// IPv6 in IP: the Next Header of a tunnel's IPv6 inner packet (RFC 2473).

bool
IsIpv6Bytes(const uint8_t* buf, uint32_t length)
{
    return length > 0 && buf[0] >> 4 == 6;
}

/// The final destination of an IPv6 packet, as the selector and the upper-layer checksum see it
/// (Linux's flowi6 daddr, RFC 8200 section 8.1): a Routing header's last address while segments
/// are left (type 0 and 2: the last in the list; type 4, SRv6: segment list[0]); otherwise the
/// fixed header's destination.
Ipv6Address
FinalDestination(const uint8_t* buf, uint32_t upper)
{
    uint32_t offset = kIpv6HeaderLength;
    uint8_t next = buf[6];
    while (offset + 8 <= upper && IsIpv6ExtensionHeader(next))
    {
        const uint32_t size = next == kIpProtoFragment ? 8
                              : next == kIpProtoAh     ? (uint32_t(buf[offset + 1]) + 2) * 4
                                                       : (uint32_t(buf[offset + 1]) + 1) * 8;
        if (next == kIpProtoRouting && buf[offset + 3] != 0 && size >= 8 + 16)
        {
            const uint8_t type = buf[offset + 2];
            if (type == 0 || type == 2)
            {
                return Ipv6Address(const_cast<uint8_t*>(buf + offset + size - 16));
            }
            if (type == 4)
            {
                return Ipv6Address(const_cast<uint8_t*>(buf + offset + 8));
            }
        }
        next = buf[offset];
        offset += size;
    }
    return Ipv6DestinationOf(buf);
}

/// The selector fields of a parsed IPv6 packet: ports only from a TCP or UDP header that is
/// there (not in a later fragment).
XfrmFlow
Flow6Of(const uint8_t* buf, uint32_t length, const Ipv6Chain& chain)
{
    XfrmFlow flow{Ipv6SourceOf(buf), FinalDestination(buf, chain.upperOffset), chain.upperProtocol};
    const bool ports = chain.upperProtocol == kIpProtoTcp || chain.upperProtocol == kIpProtoUdp;
    if (ports && chain.fragmentOffset == 0 && chain.upperOffset + 4 <= length)
    {
        const uint8_t* l4 = buf + chain.upperOffset;
        flow.sport = uint16_t(l4[0] << 8 | l4[1]);
        flow.dport = uint16_t(l4[2] << 8 | l4[3]);
    }
    return flow;
}

/// The selector fields of a tunnel's inner packet (nextHeader 4: IPv4, 41: IPv6); false when it
/// is not one whole packet of that family.
bool
InnerFlowOf(const uint8_t* inner, uint32_t length, uint8_t nextHeader, XfrmFlow* flow)
{
    if (nextHeader == kIpProtoIpv6)
    {
        Ipv6Chain chain;
        if (!ParseIpv6Chain(inner, length, &chain, nullptr) ||
            kIpv6HeaderLength + chain.payloadLength != length)
        {
            return false;
        }
        *flow = Flow6Of(inner, length, chain);
        return true;
    }
    if (!IsWholeIpv4Packet(inner, length, nextHeader))
    {
        return false;
    }
    *flow = FlowOfBytes(inner, length, Ipv4HeaderLength(inner, length));
    return true;
}
} // namespace

ReferenceOffloadEngine::ReferenceOffloadEngine(const olab_host& host, const olab_config& config)
    : m_host(host),
      m_config(config),
      m_sas(config.sa_capacity)
{
}

// ---- control path ----

int
ReferenceOffloadEngine::StateAdd(const olab_sa& in, uint64_t* handle, std::string* reason)
{
    // Validate into a local; store last (netdevsim's pattern).
    if (in.type != OLAB_OFFLOAD_CRYPTO && in.type != OLAB_OFFLOAD_PACKET)
    {
        CopyReason(reason,
                   "offload type " + std::to_string(in.type) + " is neither crypto nor packet");
        return OLAB_FAILURE;
    }
    if (in.dir != OLAB_DIR_IN && in.dir != OLAB_DIR_OUT)
    {
        CopyReason(reason, "offload direction must be in or out");
        return OLAB_FAILURE;
    }
    if (in.algorithm != OLAB_ALG_AES_GCM)
    {
        CopyReason(reason,
                   "Cannot offload cbc(aes) + hmac(sha256): only rfc4106(gcm(aes)) is "
                   "offloaded");
        return OLAB_NOT_SUPPORTED;
    }
    if (in.icv_len != 16)
    {
        CopyReason(reason, "Only ICV 128 is supported");
        return OLAB_NOT_SUPPORTED;
    }
    if (in.enc_key_len > sizeof(in.enc_key) || in.replay_window > ReplayWindow::kMaxSize)
    {
        CopyReason(reason,
                   in.enc_key_len > sizeof(in.enc_key)
                       ? "enc_key_len " + std::to_string(in.enc_key_len) + " too long"
                       : "replay_window " + std::to_string(in.replay_window) + " exceeds 4096");
        return OLAB_FAILURE;
    }
    const bool sizedForEncap = in.size >= offsetof(olab_sa, encap_oa) + sizeof(in.encap_oa);
    const uint8_t encapType = sizedForEncap ? in.encap_type : 0;
    if (encapType != 0 && (encapType != OLAB_ENCAP_ESPINUDP || in.type != OLAB_OFFLOAD_PACKET ||
                           in.encap_sport == 0 || in.encap_dport == 0))
    {
        CopyReason(reason,
                   encapType != OLAB_ENCAP_ESPINUDP
                       ? "encap_type " + std::to_string(encapType) + " is not ESP-in-UDP"
                   : in.type != OLAB_OFFLOAD_PACKET ? "ESP-in-UDP is offloaded in packet mode only"
                                                    : "ESP-in-UDP needs both UDP ports");
        return OLAB_FAILURE;
    }
    // ABI v5: the outer addresses and the selector of either family. Family 0 (a host that left
    // the v5 fields zero) is IPv4, as are the v1..v4 fields.
    const bool v5 = AbiHas(in, in.encap_oa6);
    const uint8_t family = v5 ? in.family : 0;
    const uint8_t selFamily = v5 ? in.sel6.family : 0;
    if ((family != 0 && family != OLAB_FAMILY_IPV4 && family != OLAB_FAMILY_IPV6) ||
        (selFamily != 0 && selFamily != OLAB_FAMILY_IPV4 && selFamily != OLAB_FAMILY_IPV6))
    {
        CopyReason(reason,
                   "family " + std::to_string(family == 4 || family == 6 ? selFamily : family) +
                       " is neither OLAB_FAMILY_IPV4 nor OLAB_FAMILY_IPV6");
        return OLAB_FAILURE;
    }
    const bool outer6 = family == OLAB_FAMILY_IPV6;
    const XfrmSelector sel =
        selFamily == OLAB_FAMILY_IPV6 ? XfrmSelectorOf(in.sel6) : XfrmSelectorOf(in.sel);
    std::string selError;
    if (!sel.Validate("sel", &selError))
    {
        CopyReason(reason, selError);
        return OLAB_FAILURE;
    }
    if (in.mode != OLAB_MODE_TUNNEL && outer6 != (selFamily == OLAB_FAMILY_IPV6))
    {
        // Linux's __xfrm_init_state: only tunnel mode changes the family.
        CopyReason(reason, "transport mode with a selector of another family than the SA's");
        return OLAB_FAILURE;
    }
    if (outer6 && encapType != 0)
    {
        CopyReason(reason, "ESP-in-UDP is offloaded for IPv4 SAs only");
        return OLAB_NOT_SUPPORTED;
    }
    const std::vector<uint8_t> blob(in.enc_key, in.enc_key + in.enc_key_len);
    ReferenceSa sa;
    std::string error;
    sa.transform = EspTransform::Create(EspAlgorithm::Gcm(blob), &error);
    if (!sa.transform)
    {
        CopyReason(reason, error);
        return OLAB_FAILURE;
    }
    sa.hostId = in.host_id;
    sa.serial = in.serial;
    sa.sel = sel;
    sa.dir = in.dir == OLAB_DIR_IN ? XfrmDir::In : XfrmDir::Out;
    sa.type = in.type == OLAB_OFFLOAD_PACKET ? XfrmOffloadType::Packet : XfrmOffloadType::Crypto;
    sa.saddr = outer6 ? XfrmAddressOf(family, in.saddr6) : XfrmAddress(Ipv4Address(in.saddr));
    sa.daddr = outer6 ? XfrmAddressOf(family, in.daddr6) : XfrmAddress(Ipv4Address(in.daddr));
    sa.spi = in.spi;
    sa.mode = in.mode == OLAB_MODE_TUNNEL ? XfrmMode::Tunnel : XfrmMode::Transport;
    sa.reqid = in.reqid;
    sa.esn = in.esn != 0;
    sa.lifetime.softByteLimit = in.soft_byte_limit;
    sa.lifetime.hardByteLimit = in.hard_byte_limit;
    sa.lifetime.softPacketLimit = in.soft_packet_limit;
    sa.lifetime.hardPacketLimit = in.hard_packet_limit;
    sa.replay = ReplayWindow(in.replay_window, sa.esn);
    if (in.seq != 0)
    {
        sa.replay.Advance(in.seq);
    }
    sa.lastSeq = in.oseq;
    if (encapType != 0)
    {
        sa.encap.type = XfrmEncapType::EspInUdp;
        sa.encap.sport = in.encap_sport;
        sa.encap.dport = in.encap_dport;
        sa.encap.oa = Ipv4Address(in.encap_oa);
    }
    const uint64_t h = m_sas.Insert(std::move(sa), &error);
    if (h == 0)
    {
        CopyReason(reason, error);
        return OLAB_FAILURE;
    }
    *handle = h;
    return OLAB_OK;
}

void
ReferenceOffloadEngine::StateDelete(uint64_t handle)
{
    if (ReferenceSa* sa = m_sas.Get(handle))
    {
        sa->deleted = true;
    }
}

void
ReferenceOffloadEngine::StateFree(uint64_t handle)
{
    m_sas.Remove(handle);
}

bool
ReferenceOffloadEngine::OffloadOk(uint64_t handle, const uint8_t* ipHeader, uint32_t headerLength)
{
    const ReferenceSa* sa = m_sas.Get(handle);
    // This device parses plain 20-byte IPv4 headers, and IPv6's fixed header (ABI v5: the
    // chain it walks itself in tx).
    const bool ipv4 = headerLength == 20 && ipHeader && ipHeader[0] >> 4 == 4;
    const bool ipv6 = headerLength == kIpv6HeaderLength && ipHeader && ipHeader[0] >> 4 == 6;
    return sa && !sa->deleted && (ipv4 || ipv6);
}

void
ReferenceOffloadEngine::StateAdvanceEsn(uint64_t handle, uint64_t replayTop)
{
    ReferenceSa* sa = m_sas.Get(handle);
    if (!sa)
    {
        return;
    }
    sa->advanceEsnCalls++;
    if (sa->type == XfrmOffloadType::Crypto && sa->dir == XfrmDir::In)
    {
        sa->replay.Advance(replayTop);
    }
}

void
ReferenceOffloadEngine::StateUpdateStats(uint64_t handle, olab_sa_stats* stats)
{
    const ReferenceSa* sa = m_sas.Get(handle);
    if (!sa)
    {
        return;
    }
    stats->bytes = sa->current.bytes;
    stats->packets = sa->current.packets;
    stats->last_seq = sa->lastSeq;
    stats->replay_drops = sa->stats.replayDrops;
    stats->integrity_failures = sa->stats.integrityFailures;
    stats->bad_padding = sa->stats.badPadding;
    stats->truncated = sa->stats.truncated;
    stats->seq_overflow = sa->stats.seqOverflow;
    stats->expired_drops = sa->stats.expiredDrops;
}

bool
ReferenceOffloadEngine::Policy::TemplateMatches(const ReferenceSa& sa) const
{
    if (sa.mode != tmplMode || (tmplReqid != 0 && sa.reqid != tmplReqid) ||
        (tmplSpi != 0 && sa.spi != tmplSpi))
    {
        return false;
    }
    return tmplMode == XfrmMode::Transport || (sa.saddr == tmplSaddr && sa.daddr == tmplDaddr);
}

int
ReferenceOffloadEngine::PolicyAdd(const olab_policy& in, uint64_t* handle, std::string* reason)
{
    if (in.dir != OLAB_DIR_IN && in.dir != OLAB_DIR_OUT)
    {
        CopyReason(reason, "only in and out policies are offloaded");
        return OLAB_NOT_SUPPORTED;
    }
    if (m_policies.size() >= m_config.policy_capacity)
    {
        CopyReason(reason,
                   "No space for policy (capacity " + std::to_string(m_config.policy_capacity) +
                       ")");
        return OLAB_FAILURE;
    }
    auto policy = std::make_unique<Policy>();
    Policy& p = *policy;
    p.handle = m_nextPolicyHandle++;
    p.serial = in.serial;
    p.dir = in.dir == OLAB_DIR_IN ? XfrmDir::In : XfrmDir::Out;
    p.priority = in.priority;
    p.tmplMode = in.tmpl_mode == OLAB_MODE_TUNNEL ? XfrmMode::Tunnel : XfrmMode::Transport;
    // ABI v5: selector and template of either family; family 0 (or a shorter struct) is IPv4.
    const bool v5 = AbiHas(in, in.tmpl_daddr6);
    const uint8_t selFamily = v5 ? in.sel6.family : 0;
    const uint8_t tmplFamily = v5 ? in.tmpl_family : 0;
    if ((selFamily != 0 && selFamily != OLAB_FAMILY_IPV4 && selFamily != OLAB_FAMILY_IPV6) ||
        (tmplFamily != 0 && tmplFamily != OLAB_FAMILY_IPV4 && tmplFamily != OLAB_FAMILY_IPV6))
    {
        CopyReason(reason, "sel6.family or tmpl_family is neither IPv4 nor IPv6");
        return OLAB_FAILURE;
    }
    p.sel = selFamily == OLAB_FAMILY_IPV6 ? XfrmSelectorOf(in.sel6) : XfrmSelectorOf(in.sel);
    std::string selError;
    if (!p.sel.Validate("sel", &selError))
    {
        CopyReason(reason, selError);
        return OLAB_FAILURE;
    }
    if (tmplFamily == OLAB_FAMILY_IPV6)
    {
        p.tmplSaddr = XfrmAddressOf(tmplFamily, in.tmpl_saddr6);
        p.tmplDaddr = XfrmAddressOf(tmplFamily, in.tmpl_daddr6);
    }
    else
    {
        p.tmplSaddr = Ipv4Address(in.tmpl_saddr);
        p.tmplDaddr = Ipv4Address(in.tmpl_daddr);
    }
    p.tmplReqid = in.tmpl_reqid;
    if (in.action != OLAB_POLICY_IPSEC && in.action != OLAB_POLICY_BYPASS)
    {
        CopyReason(reason, "action " + std::to_string(in.action) + " is neither IPSEC nor BYPASS");
        return OLAB_FAILURE;
    }
    p.bypass = in.action == OLAB_POLICY_BYPASS;
    // tmpl_spi is ABI v2: read it only from a struct that is long enough to hold it.
    if (in.size >= offsetof(olab_policy, tmpl_spi) + sizeof(in.tmpl_spi))
    {
        p.tmplSpi = in.tmpl_spi;
    }
    std::vector<const Policy*>& list = ListOf(p);
    auto at = std::upper_bound(list.begin(), list.end(), &p, [](const Policy* a, const Policy* b) {
        return a->Precedes(*b);
    });
    list.insert(at, &p);
    *handle = p.handle;
    m_policies.emplace(p.handle, std::move(policy));
    return OLAB_OK;
}

void
ReferenceOffloadEngine::PolicyDelete(uint64_t handle)
{
    auto it = m_policies.find(handle);
    if (it == m_policies.end())
    {
        return;
    }
    const Policy* p = it->second.get();
    std::vector<const Policy*>& list = ListOf(*p);
    list.erase(std::find(list.begin(), list.end(), p));
    if (list.empty())
    {
        DropEmptyList(*p);
    }
    m_policies.erase(it);
}

void
ReferenceOffloadEngine::PolicyFree(uint64_t handle)
{
    // Deleted policies are already gone from the table; nothing else is held.
}

bool
ReferenceOffloadEngine::Policy::Precedes(const Policy& other) const
{
    if (priority != other.priority)
    {
        return priority < other.priority;
    }
    return serial != other.serial ? serial < other.serial : handle < other.handle;
}

bool
ReferenceOffloadEngine::ExactKey::operator==(const ExactKey& other) const
{
    return rest == other.rest && src == other.src && dst == other.dst;
}

size_t
ReferenceOffloadEngine::ExactKeyHash::operator()(const ExactKey& key) const
{
    return (key.src.Hash() * 0x9e3779b97f4a7c15ull ^ key.dst.Hash()) * 0x9e3779b97f4a7c15ull ^
           key.rest;
}

bool
ReferenceOffloadEngine::MaskedKey::operator==(const MaskedKey& other) const
{
    return src == other.src && dst == other.dst;
}

size_t
ReferenceOffloadEngine::MaskedKeyHash::operator()(const MaskedKey& key) const
{
    return key.src.Hash() * 0x9e3779b97f4a7c15ull ^ key.dst.Hash();
}

ReferenceOffloadEngine::ExactKey
ReferenceOffloadEngine::ExactKeyOf(XfrmDir dir,
                                   const XfrmAddress& src,
                                   const XfrmAddress& dst,
                                   uint8_t proto,
                                   uint16_t sport,
                                   uint16_t dport)
{
    return ExactKey{src,
                    dst,
                    uint64_t(dir) << 40 | uint64_t(proto) << 32 | uint64_t(sport) << 16 | dport};
}

bool
ReferenceOffloadEngine::IsExact(const XfrmSelector& sel)
{
    const uint8_t longest = sel.src.GetMaxPrefixLength();
    return sel.srcPrefix == longest && sel.dstPrefix == longest;
}

ReferenceOffloadEngine::MaskedKey
ReferenceOffloadEngine::MaskedKeyOf(const XfrmAddress& src,
                                    uint8_t srcPrefix,
                                    const XfrmAddress& dst,
                                    uint8_t dstPrefix)
{
    // The family stays in the key: IPv4's and IPv6's /0 buckets are not one.
    return MaskedKey{src.Masked(srcPrefix), dst.Masked(dstPrefix)};
}

void
ReferenceOffloadEngine::DropEmptyList(const Policy& p)
{
    if (IsExact(p.sel))
    {
        m_exactPolicies.erase(
            ExactKeyOf(p.dir, p.sel.src, p.sel.dst, p.sel.proto, p.sel.sport, p.sel.dport));
        return;
    }
    auto& byLength = m_prefixPolicies[p.dir == XfrmDir::In ? 0 : 1];
    const uint16_t lengths = uint16_t(p.sel.srcPrefix << 8 | p.sel.dstPrefix);
    auto& buckets = byLength[lengths];
    buckets.erase(MaskedKeyOf(p.sel.src, p.sel.srcPrefix, p.sel.dst, p.sel.dstPrefix));
    if (buckets.empty())
    {
        byLength.erase(lengths);
    }
}

std::vector<const ReferenceOffloadEngine::Policy*>&
ReferenceOffloadEngine::ListOf(const Policy& p)
{
    if (!IsExact(p.sel))
    {
        return m_prefixPolicies[p.dir == XfrmDir::In ? 0 : 1][uint16_t(
            p.sel.srcPrefix << 8 |
            p.sel.dstPrefix)][MaskedKeyOf(p.sel.src, p.sel.srcPrefix, p.sel.dst, p.sel.dstPrefix)];
    }
    return m_exactPolicies
        [ExactKeyOf(p.dir, p.sel.src, p.sel.dst, p.sel.proto, p.sel.sport, p.sel.dport)];
}

// ---- TX ----

int
ReferenceOffloadEngine::Tx(uint8_t* buf,
                           uint32_t* len,
                           uint32_t cap,
                           const olab_tx_meta* meta,
                           uint32_t mtu,
                           uint32_t* dropReason)
{
    // gso_size is ABI v4: read only from a meta long enough to hold it.
    const bool gso = meta &&
                     meta->size >= offsetof(olab_tx_meta, gso_segs) + sizeof(meta->gso_segs) &&
                     meta->gso_size != 0;
    if (gso)
    {
        // GSO_ESP is IPv4 only in this device (ABI v5 does not ask it for IPv6): the host
        // segments IPv6 super-packets in software and must never send one.
        if (!(m_config.features & OLAB_FEATURE_GSO_ESP) || meta->gso_segs == 0 ||
            IsIpv6Bytes(buf, *len))
        {
            *dropReason = OLAB_DROP_TX_UNSUPPORTED;
            return OLAB_DROP;
        }
        if (meta->handle == 0)
        {
            return PacketOffloadTx(buf, len, cap, mtu, dropReason, meta);
        }
    }
    if (meta)
    {
        // Crypto offload: the stack framed it for one of its states. A deleted but not yet
        // freed state still encrypts: the packet was committed to it (sequence number taken)
        // before the delete, as an skb holds its xfrm_state in Linux.
        ReferenceSa* sa = m_sas.Get(meta->handle);
        if (!sa || sa->type != XfrmOffloadType::Crypto || sa->dir != XfrmDir::Out)
        {
            *dropReason = OLAB_DROP_TX_NO_STATE;
            return OLAB_DROP;
        }
        return gso ? CryptoGsoTx(sa, buf, len, cap, *meta, dropReason)
                   : CryptoTx(sa, buf, len, *meta, dropReason);
    }
    if (m_policies.empty())
    {
        return OLAB_PASS;
    }
    if (IsIpv6Bytes(buf, *len))
    {
        return PacketOffloadTx6(buf, len, cap, mtu, dropReason);
    }
    return PacketOffloadTx(buf, len, cap, mtu, dropReason, nullptr);
}

uint32_t
ReferenceOffloadEngine::GsoSegments(const uint8_t* tcp,
                                    uint32_t tcpLength,
                                    const olab_tx_meta& meta,
                                    Ipv4Address src,
                                    Ipv4Address dst)
{
    // tcp_gso_segment's cut, in m_segments (each segment's TCP bytes) and m_segmentEnds.
    m_segments.clear();
    m_segmentEnds.clear();
    if (TcpGsoSegmentCount(tcp, tcpLength, meta.gso_size) != meta.gso_segs)
    {
        return 0; // the host's count and the packet disagree: not a packet to trust
    }
    for (uint32_t n = 0; n < meta.gso_segs; ++n)
    {
        if (WriteTcpGsoSegment(tcp, tcpLength, meta.gso_size, n, src, dst, m_segments) == 0)
        {
            return 0;
        }
        m_segmentEnds.push_back(m_segments.size());
    }
    return meta.gso_segs;
}

int
ReferenceOffloadEngine::CryptoGsoTx(ReferenceSa* sa,
                                    uint8_t* buf,
                                    uint32_t* len,
                                    uint32_t cap,
                                    const olab_tx_meta& meta,
                                    uint32_t* dropReason)
{
    // The stack framed one ESP packet for the super-packet (esp_xmit, GSO skb): SPI, the first
    // sequence number, IV room, the TCP segment. Each segment becomes a whole ESP packet.
    const uint32_t length = *len;
    const uint32_t ihl = Ipv4HeaderLength(buf, length);
    const uint32_t head = EspTransform::kHeaderLength + sa->transform->GetIvLength();
    if (ihl != 20 || IsIpv4FragmentBytes(buf) || sa->mode != XfrmMode::Transport ||
        length < ihl + head + 20)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    const Ipv4Address src(uint32_t(buf[12]) << 24 | buf[13] << 16 | buf[14] << 8 | buf[15]);
    const Ipv4Address dst(uint32_t(buf[16]) << 24 | buf[17] << 16 | buf[18] << 8 | buf[19]);
    if (GsoSegments(buf + ihl + head, length - ihl - head, meta, src, dst) == 0)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    const uint64_t first = uint64_t(meta.seq_hi) << 32 | EspTransform::ReadSeqLow(buf + ihl);
    uint8_t header[20];
    std::memcpy(header, buf, sizeof(header));
    return WriteGsoSegments(*sa, header, first, buf, len, cap, dropReason);
}

int
ReferenceOffloadEngine::WriteGsoSegments(ReferenceSa& sa,
                                         const uint8_t* header,
                                         uint64_t firstSeq,
                                         uint8_t* buf,
                                         uint32_t* len,
                                         uint32_t cap,
                                         uint32_t* dropReason)
{
    // Segment n: the super-packet's IPv4 header (identification + n), ESP with sequence number
    // firstSeq + n, its own IV (the sequence number), padding, trailer and ICV.
    const uint16_t id = uint16_t(header[4] << 8 | header[5]);
    uint32_t out = 0;
    uint32_t begin = 0;
    for (size_t n = 0; n < m_segmentEnds.size(); ++n)
    {
        const uint32_t end = m_segmentEnds[n];
        sa.transform->Encapsulate(sa.spi,
                                  firstSeq + n,
                                  sa.esn,
                                  m_segments.data() + begin,
                                  end - begin,
                                  kIpProtoTcp,
                                  m_frame);
        const uint32_t total = 20 + m_frame.size();
        if (out + total > cap || total > 0xffff)
        {
            *dropReason = OLAB_DROP_TX_UNSUPPORTED;
            return OLAB_DROP;
        }
        uint8_t* ip = buf + out;
        std::memcpy(ip, header, 20);
        ip[4] = uint8_t((id + n) >> 8);
        ip[5] = uint8_t(id + n);
        RewriteIpv4Header(ip, 20, kIpProtoEsp, uint16_t(total));
        std::memcpy(ip + 20, m_frame.data(), m_frame.size());
        out += total;
        begin = end;
    }
    *len = out;
    return OLAB_DONE;
}

int
ReferenceOffloadEngine::CryptoTx(ReferenceSa* sa,
                                 uint8_t* buf,
                                 uint32_t* len,
                                 const olab_tx_meta& meta,
                                 uint32_t* dropReason)
{
    const uint32_t length = *len;
    const uint32_t minimum = EspTransform::kHeaderLength + sa->transform->GetIvLength() + 4 +
                             sa->transform->GetIcvLength();
    uint32_t esp = 0;
    uint32_t end = length;
    if (IsIpv6Bytes(buf, length))
    {
        // The stack framed ESP right after the fixed header and the extension headers it put
        // before ESP (esp6_output): ESP is the first header the chain walk does not step over.
        Ipv6Chain chain;
        std::string why;
        if (ParseIpv6Chain(buf, length, &chain, &why) && !chain.fragment &&
            chain.upperProtocol == kIpProtoEsp)
        {
            esp = chain.upperOffset;
            end = kIpv6HeaderLength + chain.payloadLength;
        }
    }
    else
    {
        esp = Ipv4HeaderLength(buf, length); // 0 for a packet too short to have one
        esp = esp != 0 && IsIpv4FragmentBytes(buf) ? 0 : esp;
    }
    if (esp == 0 || end < esp + minimum || !FillTxChecksum(buf, esp, end, meta))
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    sa->transform->Seal(buf + esp, end - esp, meta.seq_hi, sa->esn);
    sa->current.bytes += end;
    sa->current.packets++;
    *len = end;
    return OLAB_DONE;
}

bool
ReferenceOffloadEngine::FillTxChecksum(uint8_t* buf,
                                       uint32_t esp,
                                       uint32_t end,
                                       const olab_tx_meta& meta) const
{
    if (meta.csum_len == 0)
    {
        return true;
    }
    const uint32_t start = esp + meta.csum_start;
    if (!(m_config.features & OLAB_FEATURE_HW_ESP_TX_CSUM) || start + meta.csum_len > end ||
        meta.csum_field + 2u > meta.csum_len)
    {
        return false;
    }
    uint8_t* segment = buf + start;
    uint16_t sum;
    // A host older than ABI v5 has no csum_family: its inner packets are IPv4.
    if (AbiHas(meta, meta.csum_daddr6) && meta.csum_family == OLAB_FAMILY_IPV6)
    {
        // The IPv6 pseudo-header (RFC 8200 section 8.1): IPv6 transport or an IPv6 inner
        // packet in a tunnel of either family.
        sum = L4ChecksumV6(XfrmAddressOf(OLAB_FAMILY_IPV6, meta.csum_saddr6).GetIpv6(),
                           XfrmAddressOf(OLAB_FAMILY_IPV6, meta.csum_daddr6).GetIpv6(),
                           meta.csum_proto,
                           segment,
                           meta.csum_len);
    }
    else
    {
        sum = L4Checksum(Ipv4Address(meta.csum_saddr),
                         Ipv4Address(meta.csum_daddr),
                         meta.csum_proto,
                         segment,
                         meta.csum_len);
    }
    segment[meta.csum_field] = uint8_t(sum >> 8);
    segment[meta.csum_field + 1] = uint8_t(sum);
    return true;
}

const ReferenceOffloadEngine::Policy*
ReferenceOffloadEngine::LookupPolicy(XfrmDir dir, const XfrmFlow& flow) const
{
    // The first policy in lookup order whose selector matches: of the exact selectors that can
    // match (protocol and each port the flow's or any), the best; then any prefix policy
    // before it. The order is total (priority, age, handle), so the lists' minima decide.
    const Policy* best = nullptr;
    if (!m_exactPolicies.empty())
    {
        const uint8_t protos[] = {flow.proto, 0};
        const uint16_t sports[] = {flow.sport, 0};
        const uint16_t dports[] = {flow.dport, 0};
        for (size_t p = 0; p < (flow.proto ? 2 : 1); ++p)
        {
            for (size_t s = 0; s < (flow.sport ? 2 : 1); ++s)
            {
                for (size_t t = 0; t < (flow.dport ? 2 : 1); ++t)
                {
                    auto it = m_exactPolicies.find(
                        ExactKeyOf(dir, flow.src, flow.dst, protos[p], sports[s], dports[t]));
                    if (it != m_exactPolicies.end() &&
                        (!best || it->second.front()->Precedes(*best)))
                    {
                        best = it->second.front();
                    }
                }
            }
        }
    }
    // Prefix policies: the lists the flow's addresses name, one per pair of prefix lengths.
    for (const auto& [lengths, buckets] : m_prefixPolicies[dir == XfrmDir::In ? 0 : 1])
    {
        auto bucket = buckets.find(MaskedKeyOf(flow.src, lengths >> 8, flow.dst, lengths & 0xff));
        if (bucket == buckets.end())
        {
            continue;
        }
        for (const Policy* p : bucket->second)
        {
            if (best && !p->Precedes(*best))
            {
                break;
            }
            if (p->sel.Matches(flow))
            {
                best = p;
                break;
            }
        }
    }
    return best;
}

// A state at its hard limit is still selected when nothing better exists, so that CheckLifetime
// refuses the packet and raises the hard expire (Linux: xfrm_state_check_expire fails); a state
// the stack deleted is skipped.
ReferenceSa*
ReferenceOffloadEngine::SelectTxState(const Policy& policy, const XfrmFlow& flow)
{
    ReferenceSa* best = nullptr;
    auto rank = [](const ReferenceSa& sa) {
        return (sa.hardNotified ? 0 : 2) + (sa.softNotified ? 0 : 1);
    };
    // Only SAs to one address can serve: the tunnel's far end, or the flow's destination.
    const XfrmAddress& daddr = policy.tmplMode == XfrmMode::Tunnel ? policy.tmplDaddr : flow.dst;
    m_sas.ForEachTx(daddr, policy.tmplReqid, [&](uint64_t, ReferenceSa& sa) {
        if (sa.deleted || sa.dir != XfrmDir::Out || sa.type != XfrmOffloadType::Packet ||
            !policy.TemplateMatches(sa) ||
            (sa.mode == XfrmMode::Transport && sa.daddr != flow.dst) || !sa.sel.Matches(flow))
        {
            return;
        }
        if (!best || rank(sa) > rank(*best) ||
            (rank(sa) == rank(*best) && sa.serial > best->serial))
        {
            best = &sa;
        }
    });
    return best;
}

uint32_t
ReferenceOffloadEngine::InnerMtu(const ReferenceSa& sa, uint32_t headerLength, uint32_t mtu) const
{
    // esp4's and esp6's get_mtu: the tunnel's outer header is 20 or 40 bytes (the SA's family).
    const uint32_t tunnelHeader = sa.daddr.IsIpv6() ? kIpv6HeaderLength : 20;
    const uint32_t outerHeader =
        (sa.mode == XfrmMode::Tunnel ? tunnelHeader : headerLength) + (sa.encap.Enabled() ? 8 : 0);
    uint32_t inner = mtu;
    while (inner > 68)
    {
        const uint32_t payload = sa.mode == XfrmMode::Tunnel ? inner : inner - headerLength;
        if (outerHeader + sa.transform->GetFrameLength(payload) <= mtu)
        {
            break;
        }
        --inner;
    }
    return inner;
}

bool
ReferenceOffloadEngine::CheckLifetime(ReferenceSa& sa)
{
    if (XfrmHardLimitReached(sa.lifetime, sa.current))
    {
        if (!sa.hardNotified)
        {
            sa.hardNotified = true;
            m_host.check_expire(m_host.ctx, sa.hostId);
        }
        return false;
    }
    if (!sa.softNotified && XfrmSoftLimitReached(sa.lifetime, sa.current))
    {
        sa.softNotified = true;
        m_host.check_expire(m_host.ctx, sa.hostId);
    }
    return true;
}

int
ReferenceOffloadEngine::PacketOffloadTx(uint8_t* buf,
                                        uint32_t* len,
                                        uint32_t cap,
                                        uint32_t mtu,
                                        uint32_t* dropReason,
                                        const olab_tx_meta* gso)
{
    const uint32_t length = *len;
    const uint32_t ihl = Ipv4HeaderLength(buf, length);
    if (ihl == 0)
    {
        return OLAB_PASS; // not IPv4 as this device parses it: not ours to protect
    }
    const XfrmFlow flow = FlowOfBytes(buf, length, ihl);
    if (flow.proto == kIpProtoEsp)
    {
        return OLAB_PASS; // already ESP (software or crypto offload of another SA)
    }
    const Policy* policy = LookupPolicy(XfrmDir::Out, flow);
    if (!policy || policy->bypass)
    {
        return OLAB_PASS; // no policy, or a bypass (charon's IKE ports): plaintext
    }
    if (IsIpv4FragmentBytes(buf))
    {
        *dropReason = OLAB_DROP_TX_FRAGMENT;
        return OLAB_DROP;
    }
    if (ihl != 20)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED; // no IPv4 options in this device's parser
        return OLAB_DROP;
    }
    ReferenceSa* sa = SelectTxState(*policy, flow);
    if (!sa)
    {
        // Nothing usable: a hard-expired state, or none yet. No software fallback.
        *dropReason = OLAB_DROP_TX_NO_STATE;
        return OLAB_DROP;
    }
    const bool tunnel = sa->mode == XfrmMode::Tunnel;
    const bool udp = sa->encap.Enabled();
    if (gso)
    {
        return PacketOffloadGsoTx(*sa, buf, len, cap, mtu, *gso, dropReason);
    }
    const uint32_t payloadLength = tunnel ? length : length - ihl;
    // IPv4 in IPv6 (ABI v5): the tunnel's outer header is the SA's family.
    const bool outer6 = tunnel && sa->daddr.IsIpv6();
    const uint32_t ipHeader = tunnel ? (outer6 ? kIpv6HeaderLength : 20) : ihl;
    const uint32_t outerHeader = ipHeader + (udp ? 8 : 0); // RFC 3948: UDP before ESP
    const uint32_t outerLength = outerHeader + sa->transform->GetFrameLength(payloadLength);
    if (outerLength > mtu)
    {
        m_host.mtu_exceeded(m_host.ctx, buf, length, InnerMtu(*sa, ihl, mtu));
        *dropReason = OLAB_DROP_TX_PMTU;
        return OLAB_DROP;
    }
    if (outerLength > cap)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    if (!CheckLifetime(*sa))
    {
        ++sa->stats.expiredDrops;
        *dropReason = OLAB_DROP_TX_EXPIRED;
        return OLAB_DROP;
    }
    const uint64_t limit = sa->esn ? kXfrmInfinity : 0xffffffffull;
    if (sa->lastSeq >= limit)
    {
        ++sa->stats.seqOverflow;
        *dropReason = OLAB_DROP_TX_SEQ_OVERFLOW;
        return OLAB_DROP;
    }
    const uint64_t seq = ++sa->lastSeq;
    sa->current.bytes += payloadLength; // as Linux counts: the L4 segment, or the inner packet
    sa->current.packets++;

    const uint8_t* payload = tunnel ? buf : buf + ihl;
    sa->transform->Encapsulate(sa->spi,
                               seq,
                               sa->esn,
                               payload,
                               payloadLength,
                               tunnel ? kIpProtoIpip : flow.proto,
                               m_frame);
    const uint8_t protocol = udp ? kIpProtoUdp : kIpProtoEsp;
    if (outer6)
    {
        WriteIpv6Header(buf,
                        sa->saddr.GetIpv6(),
                        sa->daddr.GetIpv6(),
                        protocol,
                        uint16_t(outerLength - kIpv6HeaderLength),
                        64);
    }
    else if (tunnel)
    {
        WriteIpv4Header(buf,
                        sa->saddr.GetIpv4(),
                        sa->daddr.GetIpv4(),
                        protocol,
                        uint16_t(outerLength),
                        64,
                        m_identification++);
    }
    else
    {
        RewriteIpv4Header(buf, ihl, protocol, uint16_t(outerLength));
    }
    if (udp)
    {
        WriteEspInUdpHeader(buf + ipHeader,
                            sa->encap.sport,
                            sa->encap.dport,
                            outerLength - ipHeader);
    }
    std::memcpy(buf + outerHeader, m_frame.data(), m_frame.size());
    *len = outerLength;
    return OLAB_DONE;
}

int
ReferenceOffloadEngine::PacketOffloadGsoTx(ReferenceSa& sa,
                                           uint8_t* buf,
                                           uint32_t* len,
                                           uint32_t cap,
                                           uint32_t mtu,
                                           const olab_tx_meta& meta,
                                           uint32_t* dropReason)
{
    // A plaintext TCP super-packet the policy selected: segment (tcp_gso_segment), then each
    // segment is one packet of the SA: its sequence number, its count, its ESP.
    const uint32_t length = *len;
    const Ipv4Address src(uint32_t(buf[12]) << 24 | buf[13] << 16 | buf[14] << 8 | buf[15]);
    const Ipv4Address dst(uint32_t(buf[16]) << 24 | buf[17] << 16 | buf[18] << 8 | buf[19]);
    if (sa.mode != XfrmMode::Transport || sa.encap.Enabled() || buf[9] != kIpProtoTcp ||
        GsoSegments(buf + 20, length - 20, meta, src, dst) == 0)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    // The first segment is the largest: if it fits, they all do.
    const uint32_t largest = 20 + sa.transform->GetFrameLength(m_segmentEnds[0]);
    if (largest > mtu)
    {
        m_host.mtu_exceeded(m_host.ctx, buf, 20 + m_segmentEnds[0], InnerMtu(sa, 20, mtu));
        *dropReason = OLAB_DROP_TX_PMTU;
        return OLAB_DROP;
    }
    if (!CheckLifetime(sa))
    {
        ++sa.stats.expiredDrops;
        *dropReason = OLAB_DROP_TX_EXPIRED;
        return OLAB_DROP;
    }
    // Numbers for every segment, or none: never a wrap (the whole super-packet is refused).
    const uint64_t limit = sa.esn ? kXfrmInfinity : 0xffffffffull;
    const uint64_t segs = m_segmentEnds.size();
    if (sa.lastSeq > limit - segs)
    {
        ++sa.stats.seqOverflow;
        *dropReason = OLAB_DROP_TX_SEQ_OVERFLOW;
        return OLAB_DROP;
    }
    uint8_t header[20];
    std::memcpy(header, buf, sizeof(header));
    const int verdict = WriteGsoSegments(sa, header, sa.lastSeq + 1, buf, len, cap, dropReason);
    if (verdict == OLAB_DONE)
    {
        sa.lastSeq += segs;
        sa.current.bytes += m_segments.size(); // every segment's L4 bytes, as Linux counts
        sa.current.packets += segs;
    }
    return verdict;
}

// ---- RX ----

int
ReferenceOffloadEngine::Rx(uint8_t* buf,
                           uint32_t* len,
                           uint32_t cap,
                           olab_rx_info* info,
                           uint32_t* dropReason)
{
    if (m_sas.GetUsed() == 0 && m_policies.empty())
    {
        return OLAB_PASS;
    }
    const uint32_t length = *len;
    if (IsIpv6Bytes(buf, length))
    {
        return Rx6(buf, len, info, dropReason);
    }
    const uint32_t ihl = Ipv4HeaderLength(buf, length);
    if (ihl == 0)
    {
        return OLAB_PASS; // the stack counts malformed IP
    }
    const bool fragment = IsIpv4FragmentBytes(buf);
    const XfrmFlow flow = FlowOfBytes(buf, length, ihl);
    if (flow.proto == kIpProtoEsp)
    {
        if (length < ihl + EspTransform::kHeaderLength)
        {
            return OLAB_PASS; // too short to name an SA: the stack counts it
        }
        ReferenceSa* sa = m_sas.FindRx(flow.dst.GetIpv4(), EspTransform::ReadSpi(buf + ihl));
        if (!sa || sa->encap.Enabled())
        {
            // Not offloaded: software IPsec may know the SPI. Plain ESP for an ESP-in-UDP SA:
            // the stack refuses the mismatch.
            return OLAB_PASS;
        }
        if (sa->type == XfrmOffloadType::Packet)
        {
            if (fragment)
            {
                *dropReason = OLAB_DROP_RX_FRAGMENT;
                return OLAB_DROP;
            }
            return PacketOffloadRx(*sa, buf, len, ihl, info, dropReason);
        }
        // Crypto offload cannot decrypt a fragment: the stack reassembles and decrypts it.
        return fragment ? int(OLAB_PASS) : CryptoRx(*sa, buf, length, ihl, info);
    }
    if (flow.proto == kIpProtoUdp && !fragment)
    {
        const int verdict = UdpEncapRx(buf, len, ihl, info, dropReason);
        if (verdict != OLAB_PASS)
        {
            return verdict;
        }
    }
    const Policy* in =
        fragment ? LookupPolicy(XfrmDir::In, XfrmFlow{flow.src, flow.dst, flow.proto, 0, 0})
                 : nullptr;
    if (in && !in->bypass)
    {
        *dropReason = OLAB_DROP_RX_FRAGMENT;
        return OLAB_DROP;
    }
    return OLAB_PASS;
}

int
ReferenceOffloadEngine::UdpEncapRx(uint8_t* buf,
                                   uint32_t* len,
                                   uint32_t ihl,
                                   olab_rx_info* info,
                                   uint32_t* dropReason)
{
    // RFC 3948 as Linux's __xfrm4_udp_encap_rcv: only ESP (more than an ESP header, not the
    // four-zero-byte non-ESP marker) for an offloaded ESP-in-UDP SA on its port is ours;
    // keepalives, IKE and the rest go to the host unchanged.
    const uint32_t length = *len;
    if (length < ihl + 8)
    {
        return OLAB_PASS;
    }
    const uint8_t* udp = buf + ihl;
    const uint32_t udpLength = uint32_t(udp[4]) << 8 | udp[5];
    if (udpLength != length - ihl || udpLength <= 8 + EspTransform::kHeaderLength)
    {
        return OLAB_PASS;
    }
    const uint32_t spi = EspTransform::ReadSpi(udp + 8);
    if (spi == 0)
    {
        return OLAB_PASS; // the non-ESP marker: IKE
    }
    ReferenceSa* sa = m_sas.FindRx(FlowOfBytes(buf, length, ihl).dst.GetIpv4(), spi);
    const uint16_t dport = uint16_t(udp[2] << 8 | udp[3]);
    if (!sa || sa->type != XfrmOffloadType::Packet || !sa->encap.Enabled() ||
        dport != sa->encap.dport)
    {
        return OLAB_PASS;
    }
    if (udp[6] != 0 || udp[7] != 0)
    {
        // A non-zero checksum must be right (Linux checks it before encap_rcv); the host's
        // check counts a wrong one, so leave the packet to it then.
        std::vector<uint8_t> copy(udp, udp + udpLength);
        copy[6] = copy[7] = 0;
        const Ipv4Address src(uint32_t(buf[12]) << 24 | buf[13] << 16 | buf[14] << 8 | buf[15]);
        const Ipv4Address dst(uint32_t(buf[16]) << 24 | buf[17] << 16 | buf[18] << 8 | buf[19]);
        if (L4Checksum(src, dst, kIpProtoUdp, copy.data(), udpLength) !=
            uint16_t(udp[6] << 8 | udp[7]))
        {
            return OLAB_PASS;
        }
    }
    // Take the UDP header out: the ESP frame follows the IP header, as for plain ESP.
    std::memmove(buf + ihl, buf + ihl + 8, length - ihl - 8);
    *len = length - 8;
    RewriteIpv4Header(buf, ihl, kIpProtoEsp, uint16_t(*len));
    return PacketOffloadRx(*sa, buf, len, ihl, info, dropReason);
}

int
ReferenceOffloadEngine::CryptoRx(ReferenceSa& sa,
                                 uint8_t* buf,
                                 uint32_t length,
                                 uint32_t ihl,
                                 olab_rx_info* info)
{
    uint8_t* frame = buf + ihl;
    const uint32_t frameLength = length - ihl;
    const uint32_t seqHi = sa.esn ? sa.replay.InferSeqHi(EspTransform::ReadSeqLow(frame)) : 0;
    // On failure the frame is left as it arrived (GCM restores the ciphertext).
    const EspStatus status = sa.transform->Open(frame, frameLength, seqHi, sa.esn);
    sa.current.bytes += length;
    sa.current.packets++;
    if (status == EspStatus::AuthFailed)
    {
        ++sa.stats.integrityFailures;
    }
    else if (status != EspStatus::Ok)
    {
        ++sa.stats.truncated;
    }
    info->kind = OLAB_RX_CRYPTO_DONE;
    switch (status)
    {
    case EspStatus::Ok:
        info->status = OLAB_RX_OK;
        break;
    case EspStatus::AuthFailed:
        info->status = OLAB_RX_AUTH_FAILED;
        break;
    case EspStatus::BadPadding:
        info->status = OLAB_RX_BAD_PADDING;
        break;
    case EspStatus::Truncated:
        info->status = OLAB_RX_TRUNCATED;
        break;
    }
    info->spi = sa.spi;
    FillRxAddress(sa, info);
    return OLAB_DONE;
}

int
ReferenceOffloadEngine::PacketOffloadRx(ReferenceSa& sa,
                                        uint8_t* buf,
                                        uint32_t* len,
                                        uint32_t ihl,
                                        olab_rx_info* info,
                                        uint32_t* dropReason)
{
    uint8_t* frame = buf + ihl;
    const uint32_t frameLength = *len - ihl;
    const uint32_t seqLow = EspTransform::ReadSeqLow(frame);
    uint64_t seq = 0;
    if (sa.replay.Check(seqLow, &seq) != ReplayVerdict::Ok)
    {
        ++sa.stats.replayDrops;
        *dropReason = OLAB_DROP_RX_REPLAY;
        return OLAB_DROP;
    }
    if (!CheckLifetime(sa))
    {
        ++sa.stats.expiredDrops;
        *dropReason = OLAB_DROP_RX_EXPIRED;
        return OLAB_DROP;
    }
    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
    const EspStatus status = sa.transform->Decapsulate(frame,
                                                       frameLength,
                                                       uint32_t(seq >> 32),
                                                       sa.esn,
                                                       &offset,
                                                       &payloadLength,
                                                       &nextHeader);
    if (status == EspStatus::AuthFailed)
    {
        ++sa.stats.integrityFailures;
        *dropReason = OLAB_DROP_RX_AUTH_FAIL;
        return OLAB_DROP;
    }
    if (status == EspStatus::BadPadding)
    {
        ++sa.stats.badPadding;
        *dropReason = OLAB_DROP_RX_BAD_PADDING;
        return OLAB_DROP;
    }
    if (status != EspStatus::Ok)
    {
        ++sa.stats.truncated;
        *dropReason = OLAB_DROP_RX_MALFORMED;
        return OLAB_DROP;
    }
    const uint8_t* payload = frame + offset;
    XfrmFlow inner; // the decrypted packet's selector fields, for the inbound policy check
    uint32_t plainLength = 0;
    if (sa.mode == XfrmMode::Tunnel)
    {
        // The inner packet is IPv4 (4) or, ABI v5, IPv6 (41).
        if (!InnerFlowOf(payload, payloadLength, nextHeader, &inner))
        {
            ++sa.stats.truncated;
            *dropReason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        std::memmove(buf, payload, payloadLength);
        plainLength = payloadLength;
    }
    else
    {
        inner = FlowOfBytes(buf, ihl + 4, ihl); // addresses of the outer header
        inner.proto = nextHeader;
        inner.sport = inner.dport = 0;
        if ((nextHeader == kIpProtoTcp || nextHeader == kIpProtoUdp) && payloadLength >= 4)
        {
            inner.sport = uint16_t(payload[0] << 8 | payload[1]);
            inner.dport = uint16_t(payload[2] << 8 | payload[3]);
        }
        std::memmove(buf + ihl, payload, payloadLength);
        plainLength = ihl + payloadLength;
        RewriteIpv4Header(buf, ihl, nextHeader, uint16_t(plainLength));
    }
    const Policy* policy = LookupPolicy(XfrmDir::In, inner);
    if (!policy || !policy->TemplateMatches(sa) || !sa.sel.Matches(inner))
    {
        *dropReason = OLAB_DROP_RX_POLICY_MISMATCH;
        return OLAB_DROP;
    }
    sa.replay.Advance(seq);
    sa.current.bytes += payloadLength; // what ESP carried, as Linux's xfrm_input counts
    sa.current.packets++;
    *len = plainLength;
    info->kind = OLAB_RX_PACKET_OFFLOAD;
    info->status = OLAB_RX_OK;
    info->spi = sa.spi;
    FillRxAddress(sa, info);
    return OLAB_DONE;
}

// ---- IPv6 (ABI v5) ----

void
ReferenceOffloadEngine::FillRxAddress(const ReferenceSa& sa, olab_rx_info* info)
{
    info->daddr = AbiIpv4Of(sa.daddr);
    if (AbiHas(*info, info->daddr6)) // a host built against v1..v4 has no room for it
    {
        info->family = AbiFamilyOf(sa.daddr);
        AbiAddress6Of(sa.daddr, info->daddr6);
    }
}

int
ReferenceOffloadEngine::TunnelEncapsulate(ReferenceSa& sa,
                                          uint8_t* buf,
                                          uint32_t* len,
                                          uint32_t length,
                                          uint8_t nextHeader,
                                          uint64_t seq)
{
    sa.transform->Encapsulate(sa.spi, seq, sa.esn, buf, length, nextHeader, m_frame);
    uint32_t outerLength;
    if (sa.daddr.IsIpv6())
    {
        // xfrm6_mode_tunnel: a new IPv6 header, hop limit 64 as the IPv4 outer's TTL.
        outerLength = kIpv6HeaderLength + m_frame.size();
        WriteIpv6Header(buf,
                        sa.saddr.GetIpv6(),
                        sa.daddr.GetIpv6(),
                        kIpProtoEsp,
                        uint16_t(m_frame.size()),
                        64);
        std::memcpy(buf + kIpv6HeaderLength, m_frame.data(), m_frame.size());
    }
    else
    {
        // RFC 3948: UDP between the IPv4 header and ESP for an ESP-in-UDP SA, its checksum
        // zero.
        const uint32_t udpLength = sa.encap.Enabled() ? 8 + m_frame.size() : 0;
        outerLength = 20 + (udpLength ? 8 : 0) + m_frame.size();
        WriteIpv4Header(buf,
                        sa.saddr.GetIpv4(),
                        sa.daddr.GetIpv4(),
                        udpLength ? kIpProtoUdp : kIpProtoEsp,
                        uint16_t(outerLength),
                        64,
                        m_identification++);
        if (udpLength)
        {
            WriteEspInUdpHeader(buf + 20, sa.encap.sport, sa.encap.dport, udpLength);
        }
        std::memcpy(buf + outerLength - m_frame.size(), m_frame.data(), m_frame.size());
    }
    *len = outerLength;
    return OLAB_DONE;
}

int
ReferenceOffloadEngine::PacketOffloadTx6(uint8_t* buf,
                                         uint32_t* len,
                                         uint32_t cap,
                                         uint32_t mtu,
                                         uint32_t* dropReason)
{
    const uint32_t length = *len;
    Ipv6Chain chain;
    std::string why;
    if (!ParseIpv6Chain(buf, length, &chain, &why))
    {
        // No flow to match a policy against: refused rather than let out unprotected.
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    if (chain.upperProtocol == kIpProtoEsp)
    {
        return OLAB_PASS; // already ESP (software or crypto offload of another SA)
    }
    const XfrmFlow flow = Flow6Of(buf, length, chain);
    const Policy* policy = LookupPolicy(XfrmDir::Out, flow);
    if (!policy || policy->bypass)
    {
        return OLAB_PASS; // no policy, or a bypass (charon's IKE ports): plaintext
    }
    if (chain.fragment)
    {
        // A Fragment header anywhere in the chain: packet offload does not take fragments.
        *dropReason = OLAB_DROP_TX_FRAGMENT;
        return OLAB_DROP;
    }
    ReferenceSa* sa = SelectTxState(*policy, flow);
    if (!sa)
    {
        *dropReason = OLAB_DROP_TX_NO_STATE;
        return OLAB_DROP;
    }
    const uint32_t end = kIpv6HeaderLength + chain.payloadLength; // the rest is link padding
    const bool tunnel = sa->mode == XfrmMode::Tunnel;
    const bool udp = sa->encap.Enabled();
    if (udp && (!tunnel || sa->daddr.IsIpv6()))
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED; // ESP-in-UDP only in an IPv4 outer header
        return OLAB_DROP;
    }
    // Transport: ESP where RFC 4303 section 3.1.1 puts it (after Hop-by-Hop, Routing, and
    // Destination Options before a Routing header: ip6_find_1stfragopt, as esp6 transport mode
    // does in xfrm6_transport_output); the headers from there on are ESP's payload.
    const uint32_t esp = tunnel ? 0 : chain.espOffset;
    const uint32_t payloadLength = end - esp;
    const uint32_t outerHeader =
        tunnel ? (sa->daddr.IsIpv6() ? kIpv6HeaderLength : 20 + (udp ? 8 : 0)) : chain.espOffset;
    const uint32_t outerLength = outerHeader + sa->transform->GetFrameLength(payloadLength);
    if (outerLength > mtu)
    {
        // xfrm_state_mtu (IPv6): the MTU the inner packet may have with this SA's overhead.
        m_host.mtu_exceeded(m_host.ctx, buf, end, InnerMtu(*sa, chain.espOffset, mtu));
        *dropReason = OLAB_DROP_TX_PMTU;
        return OLAB_DROP;
    }
    const bool outer6 = !tunnel || sa->daddr.IsIpv6();
    if (outerLength > cap || outerLength > (outer6 ? kIpv6HeaderLength : 0) + 0xffff)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    if (!CheckLifetime(*sa))
    {
        ++sa->stats.expiredDrops;
        *dropReason = OLAB_DROP_TX_EXPIRED;
        return OLAB_DROP;
    }
    const uint64_t limit = sa->esn ? kXfrmInfinity : 0xffffffffull;
    if (sa->lastSeq >= limit)
    {
        ++sa->stats.seqOverflow;
        *dropReason = OLAB_DROP_TX_SEQ_OVERFLOW;
        return OLAB_DROP;
    }
    const uint64_t seq = ++sa->lastSeq;
    // As Linux counts: what ESP carries (the headers after ESP's place and the L4 segment, or
    // the whole inner packet).
    sa->current.bytes += payloadLength;
    sa->current.packets++;
    if (tunnel)
    {
        return TunnelEncapsulate(*sa, buf, len, end, kIpProtoIpv6, seq);
    }
    // ESP's next header is the header that followed; the field that named it names ESP now.
    const uint8_t nextHeader = buf[chain.espNextHeaderField];
    sa->transform
        ->Encapsulate(sa->spi, seq, sa->esn, buf + esp, payloadLength, nextHeader, m_frame);
    buf[chain.espNextHeaderField] = kIpProtoEsp;
    std::memcpy(buf + esp, m_frame.data(), m_frame.size());
    buf[4] = uint8_t((outerLength - kIpv6HeaderLength) >> 8);
    buf[5] = uint8_t(outerLength - kIpv6HeaderLength);
    *len = outerLength;
    return OLAB_DONE;
}

int
ReferenceOffloadEngine::Rx6(uint8_t* buf, uint32_t* len, olab_rx_info* info, uint32_t* dropReason)
{
    const uint32_t length = *len;
    Ipv6Chain chain;
    if (!ParseIpv6Chain(buf, length, &chain, nullptr))
    {
        return OLAB_PASS; // the stack counts malformed IPv6
    }
    const uint32_t end = kIpv6HeaderLength + chain.payloadLength;
    if (chain.upperProtocol == kIpProtoEsp && chain.fragmentOffset == 0)
    {
        // ESP is the first header the walk does not step over, wherever the sender put it
        // (xfrm6_rcv_spi: ipv6_hdr(skb)->daddr and the SPI).
        const uint32_t esp = chain.upperOffset;
        if (end < esp + EspTransform::kHeaderLength)
        {
            return OLAB_PASS; // too short to name an SA: the stack counts it
        }
        ReferenceSa* sa = m_sas.FindRx(Ipv6DestinationOf(buf), EspTransform::ReadSpi(buf + esp));
        if (!sa || sa->encap.Enabled())
        {
            return OLAB_PASS;
        }
        if (sa->type == XfrmOffloadType::Packet)
        {
            if (chain.fragment)
            {
                *dropReason = OLAB_DROP_RX_FRAGMENT;
                return OLAB_DROP;
            }
            *len = end;
            return PacketOffloadRx6(*sa,
                                    buf,
                                    len,
                                    esp,
                                    Ipv6FieldNaming(buf, esp),
                                    info,
                                    dropReason);
        }
        if (chain.fragment)
        {
            return OLAB_PASS; // crypto offload: the stack reassembles and decrypts
        }
        *len = end;
        return CryptoRx(*sa, buf, end, esp, info);
    }
    const Policy* in = chain.fragment
                           ? LookupPolicy(XfrmDir::In,
                                          XfrmFlow{Ipv6SourceOf(buf),
                                                   FinalDestination(buf, chain.upperOffset),
                                                   chain.upperProtocol,
                                                   0,
                                                   0})
                           : nullptr;
    if (in && !in->bypass)
    {
        *dropReason = OLAB_DROP_RX_FRAGMENT;
        return OLAB_DROP;
    }
    return OLAB_PASS;
}

int
ReferenceOffloadEngine::PacketOffloadRx6(ReferenceSa& sa,
                                         uint8_t* buf,
                                         uint32_t* len,
                                         uint32_t esp,
                                         uint32_t field,
                                         olab_rx_info* info,
                                         uint32_t* dropReason)
{
    uint8_t* frame = buf + esp;
    const uint32_t frameLength = *len - esp;
    uint64_t seq = 0;
    if (sa.replay.Check(EspTransform::ReadSeqLow(frame), &seq) != ReplayVerdict::Ok)
    {
        ++sa.stats.replayDrops;
        *dropReason = OLAB_DROP_RX_REPLAY;
        return OLAB_DROP;
    }
    if (!CheckLifetime(sa))
    {
        ++sa.stats.expiredDrops;
        *dropReason = OLAB_DROP_RX_EXPIRED;
        return OLAB_DROP;
    }
    uint32_t offset = 0;
    uint32_t payloadLength = 0;
    uint8_t nextHeader = 0;
    const EspStatus status = sa.transform->Decapsulate(frame,
                                                       frameLength,
                                                       uint32_t(seq >> 32),
                                                       sa.esn,
                                                       &offset,
                                                       &payloadLength,
                                                       &nextHeader);
    if (status != EspStatus::Ok)
    {
        const bool auth = status == EspStatus::AuthFailed;
        const bool padding = status == EspStatus::BadPadding;
        ++(auth ? sa.stats.integrityFailures : padding ? sa.stats.badPadding : sa.stats.truncated);
        *dropReason = auth      ? OLAB_DROP_RX_AUTH_FAIL
                      : padding ? OLAB_DROP_RX_BAD_PADDING
                                : OLAB_DROP_RX_MALFORMED;
        return OLAB_DROP;
    }
    const uint8_t* payload = frame + offset;
    XfrmFlow inner;
    uint32_t plainLength = 0;
    if (sa.mode == XfrmMode::Tunnel)
    {
        // The inner packet is IPv4 (4) or IPv6 (41), whatever the outer family.
        if (!InnerFlowOf(payload, payloadLength, nextHeader, &inner))
        {
            ++sa.stats.truncated;
            *dropReason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        std::memmove(buf, payload, payloadLength);
        plainLength = payloadLength;
    }
    else
    {
        // Transport: the headers before ESP stay, the one that named ESP names what ESP
        // carried, and the payload length shrinks by ESP's overhead (esp6_input_done2).
        std::memmove(buf + esp, payload, payloadLength);
        plainLength = esp + payloadLength;
        buf[field] = nextHeader;
        buf[4] = uint8_t((plainLength - kIpv6HeaderLength) >> 8);
        buf[5] = uint8_t(plainLength - kIpv6HeaderLength);
        Ipv6Chain chain;
        if (plainLength - kIpv6HeaderLength == 0 ||
            !ParseIpv6Chain(buf, plainLength, &chain, nullptr))
        {
            ++sa.stats.truncated;
            *dropReason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        inner = Flow6Of(buf, plainLength, chain);
    }
    const Policy* policy = LookupPolicy(XfrmDir::In, inner);
    if (!policy || !policy->TemplateMatches(sa) || !sa.sel.Matches(inner))
    {
        *dropReason = OLAB_DROP_RX_POLICY_MISMATCH;
        return OLAB_DROP;
    }
    sa.replay.Advance(seq);
    sa.current.bytes += payloadLength; // what ESP carried, as Linux's xfrm_input counts
    sa.current.packets++;
    *len = plainLength;
    info->kind = OLAB_RX_PACKET_OFFLOAD;
    info->status = OLAB_RX_OK;
    info->spi = sa.spi;
    FillRxAddress(sa, info);
    return OLAB_DONE;
}

// ---- inspection ----

const ReferenceSaTable&
ReferenceOffloadEngine::GetSaTable() const
{
    return m_sas;
}

const ReferenceSa*
ReferenceOffloadEngine::GetSa(uint64_t handle) const
{
    return m_sas.Get(handle);
}

uint32_t
ReferenceOffloadEngine::GetPolicyCount() const
{
    return m_policies.size();
}

std::string
ReferenceOffloadEngine::Dump() const
{
    std::ostringstream os;
    os << m_sas.Dump() << "policies=" << m_policies.size() << "\n";
    return os.str();
}

// ---- the built-in device ----

ReferenceOffloadEngine*
ReferenceOffloadEngine::Of(Ptr<EmuNicNetDevice> nic)
{
    if (!nic || nic->GetDeviceType().GetOps().create != GetOps().create)
    {
        return nullptr;
    }
    return static_cast<ReferenceOffloadEngine*>(nic->GetBuiltinDevice());
}

std::unique_ptr<BuiltinOffloadDevice>
ReferenceOffloadEngine::Create(const olab_host& host, const olab_config& config, std::string* error)
{
    const olab_capabilities& caps = *GetCapabilities();
    if (!host.check_expire || !host.mtu_exceeded)
    {
        *error = "host: check_expire and mtu_exceeded are required";
        return nullptr;
    }
    if (config.sa_capacity == 0 || config.sa_capacity > caps.max_sa)
    {
        *error = "sa_capacity: " + std::to_string(config.sa_capacity) + " is not in 1.." +
                 std::to_string(caps.max_sa);
        return nullptr;
    }
    if (config.policy_capacity == 0 || config.policy_capacity > caps.max_policies)
    {
        *error = "policy_capacity: " + std::to_string(config.policy_capacity) + " is not in 1.." +
                 std::to_string(caps.max_policies);
        return nullptr;
    }
    return std::make_unique<ReferenceOffloadEngine>(host, config);
}

const olab_capabilities*
ReferenceOffloadEngine::GetCapabilities()
{
    static const olab_capabilities caps{
        sizeof(olab_capabilities),
        OLAB_DEVICE_ABI_VERSION,
        "reference",
        "offloadlab reference NIC: crypto and packet offload, rfc4106(gcm(aes)), ESP GSO",
        OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM | OLAB_FEATURE_GSO_ESP |
            OLAB_FEATURE_POLICY_BYPASS,
        OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET,
        1u << OLAB_ALG_AES_GCM,
        1u << 20,
        1u << 20,
        ReplayWindow::kMaxSize,
        1,
        1,
        OLAB_LIFETIME_EXACT, // check before count: check_expire from the packet after a limit
        OLAB_LIFETIME_EXACT,
        0,
        0,
        1, // udp_encap: ESP-in-UDP in packet offload
        1, // ipv6 (ABI v5): IPv6 SAs, policies and packets, tunnels across families
    };
    return &caps;
}

const olab_device_ops&
ReferenceOffloadEngine::GetOps()
{
    return BuiltinDeviceOps<&ReferenceOffloadEngine::GetCapabilities,
                            &ReferenceOffloadEngine::Create>();
}

namespace
{
const OffloadDeviceRegistration g_reference("reference", ReferenceOffloadEngine::GetOps(), 0);
} // namespace

} // namespace ns3
