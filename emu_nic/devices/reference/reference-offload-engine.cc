#include "reference-offload-engine.h"

#include "device-abi-convert.h"
#include "emu-nic-net-device.h"
#include "esp-algorithm.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
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
    sa.sel = XfrmSelectorOf(in.sel);
    sa.dir = in.dir == OLAB_DIR_IN ? XfrmDir::In : XfrmDir::Out;
    sa.type = in.type == OLAB_OFFLOAD_PACKET ? XfrmOffloadType::Packet : XfrmOffloadType::Crypto;
    sa.saddr = Ipv4Address(in.saddr);
    sa.daddr = Ipv4Address(in.daddr);
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
    // This device parses plain 20-byte IPv4 headers only.
    return sa && !sa->deleted && headerLength == 20;
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
    p.sel = XfrmSelectorOf(in.sel);
    p.tmplMode = in.tmpl_mode == OLAB_MODE_TUNNEL ? XfrmMode::Tunnel : XfrmMode::Transport;
    p.tmplSaddr = Ipv4Address(in.tmpl_saddr);
    p.tmplDaddr = Ipv4Address(in.tmpl_daddr);
    p.tmplReqid = in.tmpl_reqid;
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
    return addresses == other.addresses && rest == other.rest;
}

size_t
ReferenceOffloadEngine::ExactKeyHash::operator()(const ExactKey& key) const
{
    return std::hash<uint64_t>()(key.addresses * 0x9e3779b97f4a7c15ull ^ key.rest);
}

ReferenceOffloadEngine::ExactKey
ReferenceOffloadEngine::ExactKeyOf(XfrmDir dir,
                                   Ipv4Address src,
                                   Ipv4Address dst,
                                   uint8_t proto,
                                   uint16_t sport,
                                   uint16_t dport)
{
    return ExactKey{uint64_t(src.Get()) << 32 | dst.Get(),
                    uint64_t(dir) << 40 | uint64_t(proto) << 32 | uint64_t(sport) << 16 | dport};
}

bool
ReferenceOffloadEngine::IsExact(const XfrmSelector& sel)
{
    return sel.srcPrefix == 32 && sel.dstPrefix == 32;
}

uint64_t
ReferenceOffloadEngine::MaskedKey(Ipv4Address src,
                                  uint8_t srcPrefix,
                                  Ipv4Address dst,
                                  uint8_t dstPrefix)
{
    auto masked = [](Ipv4Address a, uint8_t prefix) -> uint64_t {
        return prefix == 0 ? 0 : prefix >= 32 ? a.Get() : a.Get() & ~(0xffffffffu >> prefix);
    };
    return masked(src, srcPrefix) << 32 | masked(dst, dstPrefix);
}

void
ReferenceOffloadEngine::DropEmptyList(const Policy& p)
{
    if (IsExact(p.sel))
    {
        m_exactPolicies.erase(ExactKeyOf(p.dir,
                                         p.sel.src.GetIpv4(),
                                         p.sel.dst.GetIpv4(),
                                         p.sel.proto,
                                         p.sel.sport,
                                         p.sel.dport));
        return;
    }
    auto& byLength = m_prefixPolicies[p.dir == XfrmDir::In ? 0 : 1];
    const uint16_t lengths = uint16_t(p.sel.srcPrefix << 8 | p.sel.dstPrefix);
    auto& buckets = byLength[lengths];
    buckets.erase(
        MaskedKey(p.sel.src.GetIpv4(), p.sel.srcPrefix, p.sel.dst.GetIpv4(), p.sel.dstPrefix));
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
        return m_prefixPolicies
            [p.dir == XfrmDir::In ? 0 : 1][uint16_t(p.sel.srcPrefix << 8 | p.sel.dstPrefix)]
            [MaskedKey(p.sel.src.GetIpv4(), p.sel.srcPrefix, p.sel.dst.GetIpv4(), p.sel.dstPrefix)];
    }
    return m_exactPolicies[ExactKeyOf(p.dir,
                                      p.sel.src.GetIpv4(),
                                      p.sel.dst.GetIpv4(),
                                      p.sel.proto,
                                      p.sel.sport,
                                      p.sel.dport)];
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
        if (!(m_config.features & OLAB_FEATURE_GSO_ESP) || meta->gso_segs == 0)
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
    const uint32_t ihl = Ipv4HeaderLength(buf, length);
    const uint32_t minimum = EspTransform::kHeaderLength + sa->transform->GetIvLength() + 4 +
                             sa->transform->GetIcvLength();
    if (ihl == 0 || IsIpv4FragmentBytes(buf) || length < ihl + minimum)
    {
        *dropReason = OLAB_DROP_TX_UNSUPPORTED;
        return OLAB_DROP;
    }
    if (meta.csum_len != 0)
    {
        // HW_ESP_TX_CSUM: the inner checksum is ours to fill before encryption.
        const uint32_t start = ihl + meta.csum_start;
        if (!(m_config.features & OLAB_FEATURE_HW_ESP_TX_CSUM) || start + meta.csum_len > length ||
            meta.csum_field + 2u > meta.csum_len)
        {
            *dropReason = OLAB_DROP_TX_UNSUPPORTED;
            return OLAB_DROP;
        }
        uint8_t* segment = buf + start;
        const uint16_t sum = L4Checksum(Ipv4Address(meta.csum_saddr),
                                        Ipv4Address(meta.csum_daddr),
                                        meta.csum_proto,
                                        segment,
                                        meta.csum_len);
        segment[meta.csum_field] = uint8_t(sum >> 8);
        segment[meta.csum_field + 1] = uint8_t(sum);
    }
    sa->transform->Seal(buf + ihl, length - ihl, meta.seq_hi, sa->esn);
    sa->current.bytes += length;
    sa->current.packets++;
    return OLAB_DONE;
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
                    auto it = m_exactPolicies.find(ExactKeyOf(dir,
                                                              flow.src.GetIpv4(),
                                                              flow.dst.GetIpv4(),
                                                              protos[p],
                                                              sports[s],
                                                              dports[t]));
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
        auto bucket = buckets.find(
            MaskedKey(flow.src.GetIpv4(), lengths >> 8, flow.dst.GetIpv4(), lengths & 0xff));
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
    const Ipv4Address daddr =
        policy.tmplMode == XfrmMode::Tunnel ? policy.tmplDaddr : flow.dst.GetIpv4();
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
    const uint32_t outerHeader =
        (sa.mode == XfrmMode::Tunnel ? 20 : headerLength) + (sa.encap.Enabled() ? 8 : 0);
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
    if (!policy)
    {
        return OLAB_PASS;
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
    const uint32_t ipHeader = tunnel ? 20 : ihl;
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
    if (tunnel)
    {
        WriteIpv4Header(buf,
                        sa->saddr,
                        sa->daddr,
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
        uint8_t* h = buf + ipHeader;
        const uint32_t udpLength = outerLength - ipHeader;
        h[0] = uint8_t(sa->encap.sport >> 8);
        h[1] = uint8_t(sa->encap.sport);
        h[2] = uint8_t(sa->encap.dport >> 8);
        h[3] = uint8_t(sa->encap.dport);
        h[4] = uint8_t(udpLength >> 8);
        h[5] = uint8_t(udpLength);
        h[6] = h[7] = 0; // RFC 3948 2.1: the checksum SHOULD be zero
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
    if (fragment && LookupPolicy(XfrmDir::In, XfrmFlow{flow.src, flow.dst, flow.proto, 0, 0}))
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
    info->daddr = sa.daddr.Get();
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
        if (!IsWholeIpv4Packet(payload, payloadLength, nextHeader))
        {
            ++sa.stats.truncated;
            *dropReason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        inner = FlowOfBytes(payload, payloadLength, Ipv4HeaderLength(payload, payloadLength));
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
    info->daddr = sa.daddr.Get();
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
        OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM | OLAB_FEATURE_GSO_ESP,
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
