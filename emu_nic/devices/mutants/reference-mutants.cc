// The mutants of the reference device, one defect each, registered as "mutant:NAME".
#include "device-abi-convert.h"
#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"
#include "mutant-device.h"
#include "offload-device-type.h"
#include "raw-gcm.h"
#include "reference-offload-engine.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ns3
{

namespace
{
constexpr uint32_t kEspIvOffset = EspTransform::kHeaderLength;

uint64_t
SaturatingAdd(uint64_t a, uint64_t b)
{
    return a > OLAB_INFINITY - b ? OLAB_INFINITY : a + b;
}

std::vector<uint8_t>
EncKeyOf(const olab_sa& sa)
{
    return std::vector<uint8_t>(sa.enc_key, sa.enc_key + sa.enc_key_len);
}

/// Re-encrypts an ESP frame the reference sealed for sa: decrypts it, lets edit change the
/// plaintext (it gets the data after the IV), and seals it again under iv, or under the frame's
/// own IV when iv is null. The reference's GCM IV is the 64-bit sequence number, so its first
/// half is the ESN high part the ICV needs.
template <typename Edit>
void
Reseal(const olab_sa& sa, uint8_t* frame, uint32_t frameLength, const uint8_t* iv, Edit edit)
{
    uint8_t* ownIv = frame + kEspIvOffset;
    const uint32_t seqHi = uint32_t(ownIv[0]) << 24 | ownIv[1] << 16 | ownIv[2] << 8 | ownIv[3];
    uint8_t sealIv[8];
    std::memcpy(sealIv, iv ? iv : ownIv, sizeof(sealIv));
    RawGcm gcm(EncKeyOf(sa));
    gcm.DecryptIgnoringIcv(frame, frameLength);
    edit(ownIv + 8, frameLength - kEspIvOffset - 8);
    gcm.Seal(frame, frameLength, sealIv, seqHi, sa.esn);
}

/// A mutant whose defect is in what the device is told at state_add.
class StateAddMutant : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override
    {
        olab_sa changed = sa;
        Change(&changed);
        return MutantDevice::StateAdd(changed, handle, reason);
    }

  protected:
    virtual void Change(olab_sa* sa) = 0;
};

/// A mutant whose defect is in what the device is told at policy_add.
class PolicyAddMutant : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason) override
    {
        olab_policy changed = policy;
        Change(&changed);
        return MutantDevice::PolicyAdd(changed, handle, reason);
    }

  protected:
    virtual void Change(olab_policy* policy) = 0;
};

// ---- the defects ----

/// Never raises the soft lifetime expire.
class NoSoftExpire : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->soft_byte_limit = OLAB_INFINITY;
        sa->soft_packet_limit = OLAB_INFINITY;
    }
};

/// Enforces the hard lifetime 8 packets (and 8 x 1400 bytes) late.
class LateHardExpire : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->hard_packet_limit = SaturatingAdd(sa->hard_packet_limit, 8);
        sa->hard_byte_limit = SaturatingAdd(sa->hard_byte_limit, 8 * 1400);
    }
};

/// Declares OLAB_LIFETIME_EXACT (the reference's capabilities) but calls check_expire one
/// packet after the one the bound allows: the reference's call, from the packet after the limit,
/// is held until the device has handled one more packet.
class LateExpireReport : public MutantDevice
{
  public:
    explicit LateExpireReport(const olab_host& host)
        : MutantDevice(nullptr),
          m_host(host)
    {
    }

    /// The reference, created with this mutant in the place of the host's check_expire.
    static std::unique_ptr<BuiltinOffloadDevice> Create(const olab_host& host,
                                                        const olab_config& config,
                                                        std::string* error)
    {
        auto mutant = std::make_unique<LateExpireReport>(host);
        olab_host relay = host;
        relay.ctx = mutant.get();
        relay.check_expire = &LateExpireReport::Hold;
        relay.mtu_exceeded = &LateExpireReport::MtuExceeded;
        mutant->m_inner = ReferenceOffloadEngine::Create(relay, config, error);
        return mutant->m_inner ? std::move(mutant) : nullptr;
    }

    int Transmit(const TxCall& call) override
    {
        const int verdict = Forward(call);
        Release();
        return verdict;
    }

    int Receive(const RxCall& call) override
    {
        const int verdict = Forward(call);
        Release();
        return verdict;
    }

  private:
    static void MtuExceeded(void* ctx, const uint8_t* ipPacket, uint32_t len, uint32_t mtu)
    {
        const olab_host& host = static_cast<LateExpireReport*>(ctx)->m_host;
        host.mtu_exceeded(host.ctx, ipPacket, len, mtu);
    }

    static void Hold(void* ctx, uint64_t saHostId)
    {
        static_cast<LateExpireReport*>(ctx)->m_held.push_back(Held{saHostId, 2});
    }

    /// Counts the packet just handled; passes on the calls held for long enough, for SAs the
    /// host still has.
    void Release()
    {
        std::vector<Held> due;
        for (auto it = m_held.begin(); it != m_held.end();)
        {
            if (--it->packetsLeft == 0)
            {
                due.push_back(*it);
                it = m_held.erase(it);
            }
            else
            {
                ++it;
            }
        }
        for (const Held& h : due)
        {
            const bool known = std::any_of(m_sas.begin(), m_sas.end(), [&h](const auto& entry) {
                return entry.second.sa.host_id == h.saHostId;
            });
            if (known)
            {
                m_host.check_expire(m_host.ctx, h.saHostId);
            }
        }
    }

    struct Held
    {
        uint64_t saHostId;
        uint32_t packetsLeft; //!< packets (this one included) before the call goes to the host
    };

    olab_host m_host;
    std::vector<Held> m_held;
};

/// Corrupts the ICV of every 64th packet it encrypts.
class BadIcv1In64 : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const int verdict = Forward(call);
        if (verdict == OLAB_DONE && ++m_sealed % 64 == 0)
        {
            buf[*len - 1] ^= 0x5a;
        }
        return verdict;
    }

  private:
    uint64_t m_sealed{0};
};

/// Packet offload accepts replayed and too old sequence numbers: its inbound SAs get no replay
/// window. With ESN the high bits are then inferred as for a one-packet window (RFC 4304 A.2),
/// so an old packet is taken for one of the next 2^32 block and fails its ICV instead.
class NoReplayCheck : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        if (sa->type == OLAB_OFFLOAD_PACKET && sa->dir == OLAB_DIR_IN)
        {
            sa->replay_window = 0;
        }
    }
};

/// Accepts one sequence number left of the replay window (below the largest window the reference
/// takes, 4096, which it keeps exact).
class ReplayWindowOffByOne : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        // Not past the largest window the reference takes, or the SA would only be refused.
        const olab_capabilities& caps = *ReferenceOffloadEngine::GetCapabilities();
        sa->replay_window +=
            sa->replay_window && sa->replay_window < caps.max_replay_window ? 1 : 0;
    }
};

/// Ignores state_delete and state_free: the SA keeps its slot and keys.
class NoStateFree : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    void StateDelete(uint64_t handle) override
    {
    }

    void StateFree(uint64_t handle) override
    {
    }
};

/// Packet offload lets policy-selected traffic out unencrypted.
class PacketPlaintext : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const uint32_t ihl = meta ? 0 : Ipv4HeaderLength(buf, *len);
        if (ihl != 0)
        {
            const XfrmFlow flow = FlowOfBytes(buf, *len, ihl);
            for (const auto& [handle, policy] : m_policies)
            {
                if (flow.proto != kIpProtoEsp && policy.dir == OLAB_DIR_OUT &&
                    XfrmSelectorOf(policy.sel).Matches(flow))
                {
                    return OLAB_PASS;
                }
            }
        }
        return Forward(call);
    }
};

/// update_stats reports one packet and its bytes short.
class StatsShort : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override
    {
        MutantDevice::StateUpdateStats(handle, stats);
        if (stats->packets > 0)
        {
            stats->bytes -= stats->bytes / stats->packets;
            stats->packets -= 1;
        }
    }
};

/// Counts only what a lifetime limit needs: update_stats reports nothing for an SA without byte
/// or packet limits (a device that gives counters only to SAs with hardware limits). The use
/// time of such an SA never starts.
class CountsLimitedOnly : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override
    {
        const int rc = MutantDevice::StateAdd(sa, handle, reason);
        if (rc == 0)
        {
            m_unlimited[*handle] =
                sa.soft_byte_limit == OLAB_INFINITY && sa.hard_byte_limit == OLAB_INFINITY &&
                sa.soft_packet_limit == OLAB_INFINITY && sa.hard_packet_limit == OLAB_INFINITY;
        }
        return rc;
    }

    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override
    {
        MutantDevice::StateUpdateStats(handle, stats);
        if (m_unlimited[handle])
        {
            stats->bytes = 0;
            stats->packets = 0;
        }
    }

  private:
    std::map<uint64_t, bool> m_unlimited;
};

/// Uses the same GCM IV for every packet of an SA.
class IvReuse : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const int verdict = Forward(call);
        if (verdict != OLAB_DONE)
        {
            return verdict;
        }
        ForEachTxPacket(call, [](uint8_t* ip, uint32_t length, uint32_t, const olab_sa* sa) {
            if (sa)
            {
                static const uint8_t kFixedIv[8] = {0, 0, 0, 0, 0, 0, 0, 1};
                const uint32_t ihl = Ipv4HeaderLength(ip, length);
                Reseal(*sa, ip + ihl, length - ihl, kFixedIv, [](uint8_t*, uint32_t) {});
            }
        });
        return verdict;
    }
};

/// Pads with zero bytes instead of 1, 2, 3, ... (crypto offload: over the stack's padding). A
/// Linux receiver never reads pad bytes, so only the advisory PAD-CONTENT notices: it is not a
/// mutant (certification must pass it) but the proof that an advisory finding fails nothing.
class PadZero : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const int verdict = Forward(call);
        if (verdict != OLAB_DONE)
        {
            return verdict;
        }
        ForEachTxPacket(call, [](uint8_t* ip, uint32_t total, uint32_t, const olab_sa* sa) {
            if (!sa)
            {
                return;
            }
            const uint32_t ihl = Ipv4HeaderLength(ip, total);
            Reseal(*sa, ip + ihl, total - ihl, nullptr, [](uint8_t* data, uint32_t length) {
                // data: payload, padding, pad length, next header, then the 16-byte ICV.
                const uint32_t padLength = data[length - 16 - 2];
                std::memset(data + length - 16 - 2 - padLength, 0, padLength);
            });
        });
        return verdict;
    }
};

/// Packet offload starts sequence numbers at 2 instead of 1.
class SeqStart2 : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->oseq = sa->oseq == 0 ? 1 : sa->oseq;
    }
};

/// Advertises HW_ESP_TX_CSUM but never writes the inner checksum.
class NoTxCsum : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        if (!meta)
        {
            return Forward(call);
        }
        olab_tx_meta noChecksum = *meta;
        noChecksum.csum_len = 0;
        return Forward(TxCall{buf, len, cap, &noChecksum, mtu, dropReason});
    }
};

/// Crypto offload RX reports success for a bad ICV (and hands on what the data decrypts to).
class CryptoRxOkOnBadIcv : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        const int verdict = Forward(call);
        uint64_t handle = 0;
        const olab_sa* sa = verdict == OLAB_DONE && info->kind == OLAB_RX_CRYPTO_DONE &&
                                    info->status == OLAB_RX_AUTH_FAILED
                                ? InboundSa(info->daddr, info->spi, &handle)
                                : nullptr;
        if (sa)
        {
            const uint32_t ihl = Ipv4HeaderLength(buf, *len);
            RawGcm(EncKeyOf(*sa)).DecryptIgnoringIcv(buf + ihl, *len - ihl);
            info->status = OLAB_RX_OK;
            ++m_hidden[handle];
        }
        return verdict;
    }

    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override
    {
        MutantDevice::StateUpdateStats(handle, stats);
        auto it = m_hidden.find(handle);
        if (it != m_hidden.end())
        {
            stats->integrity_failures -= std::min(stats->integrity_failures, it->second);
        }
    }

    void StateFree(uint64_t handle) override
    {
        MutantDevice::StateFree(handle);
        m_hidden.erase(handle);
    }

  private:
    std::map<uint64_t, uint64_t> m_hidden; //!< ICV failures reported as success, by handle
};

/// Uses only the first 16 bytes of a 256-bit AES-GCM key (netdevsim's bug).
class Gcm256ShortKey : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        if (sa->algorithm == OLAB_ALG_AES_GCM && sa->enc_key_len == 36)
        {
            std::memmove(sa->enc_key + 16, sa->enc_key + 32, 4); // AES-128, then the salt
            sa->enc_key_len = 20;
        }
    }
};

/// Packet offload without ESN starts its sequence numbers again after 2^32-1: the reference's SA
/// that ran out is replaced by a copy that counts from 1 again, with the same keys (so sequence
/// numbers and GCM IVs repeat); its counters and lifetime carry on.
class SeqWraps : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const int verdict = Forward(call);
        if (meta || verdict != OLAB_DROP || *dropReason != OLAB_DROP_TX_SEQ_OVERFLOW || !Restart())
        {
            return verdict;
        }
        return Forward(call);
    }

    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override
    {
        MutantDevice::StateUpdateStats(handle, stats);
        auto it = m_before.find(handle);
        if (it != m_before.end())
        {
            stats->bytes += it->second.bytes;
            stats->packets += it->second.packets;
        }
    }

    void StateFree(uint64_t handle) override
    {
        MutantDevice::StateFree(handle);
        m_before.erase(handle);
    }

  private:
    /// Replaces the live outbound SA that ran out of numbers; false when none did.
    bool Restart()
    {
        for (auto& [handle, known] : m_sas)
        {
            const olab_sa& sa = known.sa;
            if (known.deleted || sa.dir != OLAB_DIR_OUT || sa.type != OLAB_OFFLOAD_PACKET || sa.esn)
            {
                continue;
            }
            olab_sa_stats stats{};
            stats.size = sizeof(stats);
            m_inner->StateUpdateStats(known.inner, &stats);
            if (stats.seq_overflow == 0)
            {
                continue;
            }
            // The copy may carry only what the SA had left of its lifetime.
            olab_sa again = sa;
            again.oseq = 0;
            again.hard_byte_limit = Remaining(sa.hard_byte_limit, stats.bytes);
            again.hard_packet_limit = Remaining(sa.hard_packet_limit, stats.packets);
            again.soft_byte_limit = Remaining(sa.soft_byte_limit, stats.bytes);
            again.soft_packet_limit = Remaining(sa.soft_packet_limit, stats.packets);
            m_inner->StateDelete(known.inner);
            m_inner->StateFree(known.inner);
            uint64_t fresh = 0;
            std::string reason;
            if (m_inner->StateAdd(again, &fresh, &reason) != OLAB_OK)
            {
                known.inner = 0; // gone from the reference: the host's handle leads nowhere now
                return false;
            }
            known.inner = fresh;
            m_before[handle].bytes += stats.bytes;
            m_before[handle].packets += stats.packets;
            return true;
        }
        return false;
    }

    /// What is left of a limit after `used`; a limit already reached is not raised again.
    static uint64_t Remaining(uint64_t limit, uint64_t used)
    {
        return limit == OLAB_INFINITY || used >= limit ? OLAB_INFINITY : limit - used;
    }

    std::map<uint64_t, olab_sa_stats> m_before; //!< what the SA counted before it restarted
};

/// Ignores policy_delete: the policy keeps selecting traffic.
class NoPolicyDelete : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    void PolicyDelete(uint64_t handle) override
    {
    }
};

/// Ignores advance_esn, so crypto offload RX loses the ESN high bits.
class EsnNoAdvance : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    void StateAdvanceEsn(uint64_t handle, uint64_t replayTop) override
    {
    }
};

/// Packet offload RX delivers decrypted traffic that matches no inbound policy, or not the
/// selector of the SA that carried it: the reference's policy-mismatch drop becomes a delivery.
class PacketRxNoPolicyCheck : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        const uint32_t ihl = Ipv4HeaderLength(buf, *len);
        const bool esp = ihl != 0 && buf[9] == kIpProtoEsp && *len >= ihl + 8;
        const uint32_t spi = esp ? EspTransform::ReadSpi(buf + ihl) : 0;
        const uint32_t daddr = uint32_t(buf[16]) << 24 | buf[17] << 16 | buf[18] << 8 | buf[19];
        const int verdict = Forward(call);
        if (!esp || verdict != OLAB_DROP || *dropReason != OLAB_DROP_RX_POLICY_MISMATCH)
        {
            return verdict;
        }
        // The reference checks the policy last, on the plaintext packet it already wrote.
        *len = uint32_t(buf[2]) << 8 | buf[3];
        info->kind = OLAB_RX_PACKET_OFFLOAD;
        info->status = OLAB_RX_OK;
        info->spi = spi;
        info->daddr = daddr;
        return OLAB_DONE;
    }
};

/// Packet offload ignores policy priorities: of two overlapping offloaded policies the older one
/// decides.
class PolicyPriorityIgnored : public PolicyAddMutant
{
  public:
    using PolicyAddMutant::PolicyAddMutant;

  protected:
    void Change(olab_policy* policy) override
    {
        policy->priority = 0;
    }
};

/// Declares OLAB_FEATURE_POLICY_BYPASS but takes a bypass policy for an IPsec one with an empty
/// template: what the bypass selects is protected (or dropped), never let out as it is.
class BypassEncrypts : public PolicyAddMutant
{
  public:
    using PolicyAddMutant::PolicyAddMutant;

  protected:
    void Change(olab_policy* policy) override
    {
        if (policy->action == OLAB_POLICY_BYPASS)
        {
            policy->action = OLAB_POLICY_IPSEC;
        }
    }
};

/// Ranks every bypass policy above all others, whatever its priority (a device that looks up
/// its bypass table before its IPsec one).
class BypassOutranksAll : public PolicyAddMutant
{
  public:
    using PolicyAddMutant::PolicyAddMutant;

  protected:
    void Change(olab_policy* policy) override
    {
        if (policy->action == OLAB_POLICY_BYPASS)
        {
            policy->priority = 0;
        }
    }
};

/// Reads an out bypass's port as the destination port: strongSwan's IKE hole for source port
/// 500 also lets out what any local socket sends to port 500.
class BypassPortSwapped : public PolicyAddMutant
{
  public:
    using PolicyAddMutant::PolicyAddMutant;

  protected:
    void Change(olab_policy* policy) override
    {
        if (policy->action == OLAB_POLICY_BYPASS && policy->dir == OLAB_DIR_OUT)
        {
            std::swap(policy->sel.sport, policy->sel.dport);
            std::swap(policy->sel6.sport, policy->sel6.dport);
        }
    }
};

/// Crypto offload RX reports a bad ICV as failed but leaves the unauthenticated plaintext in the
/// buffer (GCM decrypts before it checks the tag).
class CryptoRxPlaintextOnBadIcv : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        const int verdict = Forward(call);
        uint64_t handle = 0;
        const olab_sa* sa = verdict == OLAB_DONE && info->kind == OLAB_RX_CRYPTO_DONE &&
                                    info->status == OLAB_RX_AUTH_FAILED
                                ? InboundSa(info->daddr, info->spi, &handle)
                                : nullptr;
        if (sa)
        {
            const uint32_t ihl = Ipv4HeaderLength(buf, *len);
            RawGcm(EncKeyOf(*sa)).DecryptIgnoringIcv(buf + ihl, *len - ihl);
        }
        return verdict;
    }
};

/// Packet offload TX prefers the oldest usable SA of a policy to the newest: the reference is
/// told the creation order backwards.
class OldestSa : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->serial = ~sa->serial;
    }
};

/// Hands out the lowest free number as an SA's handle (a slot index without a generation), so a
/// handle kept past state_free names the next SA added.
class HandleNoGeneration : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override
    {
        const int result = MutantDevice::StateAdd(sa, handle, reason);
        if (result != OLAB_OK)
        {
            return result;
        }
        uint64_t lowest = 1;
        while (m_sas.count(lowest) != 0 && lowest != *handle)
        {
            ++lowest;
        }
        if (lowest != *handle)
        {
            m_sas[lowest] = m_sas[*handle];
            m_sas.erase(*handle);
            *handle = lowest;
        }
        return result;
    }
};

/// Under HW_ESP_TX_CSUM sends a UDP checksum that computes to 0 as 0 (RFC 768 says 0xffff: 0
/// means "no checksum").
class UdpCsumZero : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const uint32_t ihl = meta ? Ipv4HeaderLength(buf, *len) : 0;
        const uint32_t start = ihl + (meta ? meta->csum_start : 0);
        if (ihl == 0 || meta->csum_len == 0 || meta->csum_proto != kIpProtoUdp ||
            start + meta->csum_len > *len || meta->csum_field + 2u > meta->csum_len)
        {
            return Forward(call);
        }
        uint8_t* field = buf + start + meta->csum_field;
        field[0] = field[1] = 0;
        const uint16_t sum = L4Checksum(Ipv4Address(meta->csum_saddr),
                                        Ipv4Address(meta->csum_daddr),
                                        meta->csum_proto,
                                        buf + start,
                                        meta->csum_len);
        if (sum != 0xffff) // L4Checksum already turned a computed 0 into 0xffff
        {
            return Forward(call);
        }
        olab_tx_meta left = *meta; // the field stays 0
        left.csum_len = 0;
        return Forward(TxCall{buf, len, cap, &left, mtu, dropReason});
    }
};

/// Ipv4Address of the four bytes at p (network order).
Ipv4Address
AddressAt(const uint8_t* p)
{
    return Ipv4Address(uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]);
}

/// Reseals ip, an ESP packet of total bytes (20-byte IPv4 header, transport-mode TCP inside)
/// the reference sealed for sa, after edit changed its TCP segment; the TCP checksum is redone
/// for what the segment carries.
template <typename Edit>
void
ResealTcp(const olab_sa& sa, uint8_t* ip, uint32_t total, Edit edit)
{
    const Ipv4Address src = AddressAt(ip + 12);
    const Ipv4Address dst = AddressAt(ip + 16);
    Reseal(sa, ip + 20, total - 20, nullptr, [&](uint8_t* data, uint32_t length) {
        // data: the TCP segment, padding, pad length, next header, then the 16-byte ICV.
        const uint32_t tcpLength = length - 16 - 2 - data[length - 16 - 2];
        edit(data);
        data[16] = data[17] = 0;
        const uint16_t sum = L4Checksum(src, dst, kIpProtoTcp, data, tcpLength);
        data[16] = uint8_t(sum >> 8);
        data[17] = uint8_t(sum);
    });
}

/// ESP-in-UDP packet offload TX writes a non-zero UDP checksum that is not the datagram's (a
/// device that sums the datagram before it encrypts it).
class UdpEncapBadChecksum : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const int verdict = Forward(call);
        const uint32_t ihl = Ipv4HeaderLength(buf, *len);
        if (meta || verdict != OLAB_DONE || ihl == 0 || buf[9] != kIpProtoUdp || *len < ihl + 8)
        {
            return verdict;
        }
        uint8_t* udp = buf + ihl;
        udp[6] = udp[7] = 0;
        const uint16_t right =
            L4Checksum(AddressAt(buf + 12), AddressAt(buf + 16), kIpProtoUdp, udp, *len - ihl);
        const uint16_t wrong = uint16_t(right + 0x1234) == 0 ? 0x1234 : uint16_t(right + 0x1234);
        udp[6] = uint8_t(wrong >> 8);
        udp[7] = uint8_t(wrong);
        return verdict;
    }
};

/// ESP-in-UDP packet offload RX takes every datagram to port 4500 for ESP, without looking for
/// the non-ESP marker or a keepalive: what names no SA of its own it drops as malformed.
class UdpEncapNoMarkerCheck : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        const uint32_t ihl = Ipv4HeaderLength(buf, *len);
        const bool toNatT = ihl != 0 && buf[9] == kIpProtoUdp && *len >= ihl + 8 &&
                            (buf[ihl + 2] << 8 | buf[ihl + 3]) == 4500;
        const int verdict = Forward(call);
        if (toNatT && verdict == OLAB_PASS)
        {
            *dropReason = OLAB_DROP_RX_MALFORMED;
            return OLAB_DROP;
        }
        return verdict;
    }
};

/// ESP-in-UDP packet offload TX ignores the SA's encapsulation: plain ESP leaves.
class UdpEncapIgnored : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const int verdict = Forward(call);
        const uint32_t ihl = Ipv4HeaderLength(buf, *len);
        if (meta || verdict != OLAB_DONE || ihl == 0 || buf[9] != kIpProtoUdp ||
            *len < ihl + 8 + EspTransform::kHeaderLength)
        {
            return verdict;
        }
        std::memmove(buf + ihl, buf + ihl + 8, *len - ihl - 8);
        *len -= 8;
        RewriteIpv4Header(buf, ihl, kIpProtoEsp, uint16_t(*len));
        return verdict;
    }
};

/// Packet offload tunnel mode sends the outer IPv4 header with TTL 1 (Linux sets the route's hop
/// limit, 64 by default).
class TunnelTtl1 : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        const int verdict = Forward(call);
        const olab_sa* sa = !meta && verdict == OLAB_DONE ? SaOfTx(meta, buf, *len) : nullptr;
        if (sa && sa->mode == OLAB_MODE_TUNNEL)
        {
            buf[8] = 1; // the outer header is not authenticated: no reseal needed
            RewriteIpv4Header(buf, Ipv4HeaderLength(buf, *len), buf[9], uint16_t(*len));
        }
        return verdict;
    }
};

/// Packet offload ignores the initial replay state of an outbound SA (oseq): it always starts at
/// sequence number 1.
class IgnoresOseq : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->oseq = sa->dir == OLAB_DIR_OUT ? 0 : sa->oseq;
    }
};

/// Ignores the initial replay state of an inbound SA (seq): its window starts at 0.
class IgnoresRxSeq : public StateAddMutant
{
  public:
    using StateAddMutant::StateAddMutant;

  protected:
    void Change(olab_sa* sa) override
    {
        sa->seq = sa->dir == OLAB_DIR_IN ? 0 : sa->seq;
    }
};

/// Crypto offload TX ignores meta->seq_hi: with ESN the ICV is computed with high bits 0.
class CryptoTxIgnoresSeqHi : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        if (!meta)
        {
            return Forward(call);
        }
        olab_tx_meta low = *meta;
        low.seq_hi = 0;
        return Forward(TxCall{buf, len, cap, &low, mtu, dropReason});
    }
};

/// Packet offload lets any SA serve any policy: the template's reqid is not looked at.
class IgnoresTmplReqid : public PolicyAddMutant
{
  public:
    using PolicyAddMutant::PolicyAddMutant;

  protected:
    void Change(olab_policy* policy) override
    {
        policy->tmpl_reqid = 0;
    }
};

/// Packet offload RX accepts a packet whose ICV does not verify: it seals the frame again under
/// the SA's key and lets the reference take it.
class PacketRxIgnoresIcv : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        const int verdict = Forward(call);
        const uint32_t ihl = Ipv4HeaderLength(buf, *len);
        if (verdict != OLAB_DROP || *dropReason != OLAB_DROP_RX_AUTH_FAIL || ihl == 0 ||
            *len < ihl + kEspIvOffset + 8 + 16)
        {
            return verdict;
        }
        const uint32_t daddr = uint32_t(buf[16]) << 24 | buf[17] << 16 | buf[18] << 8 | buf[19];
        uint64_t handle = 0;
        const olab_sa* sa = InboundSa(daddr, EspTransform::ReadSpi(buf + ihl), &handle);
        if (!sa || sa->type != OLAB_OFFLOAD_PACKET)
        {
            return verdict;
        }
        Reseal(*sa, buf + ihl, *len - ihl, nullptr, [](uint8_t*, uint32_t) {});
        return Forward(call);
    }
};

/// Packet offload policies ignore the selector's ports: a policy for one port takes the whole
/// protocol.
class PolicyIgnoresPorts : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason) override
    {
        olab_policy wide = policy;
        wide.sel.sport = wide.sel.dport = 0;
        return MutantDevice::PolicyAdd(wide, handle, reason);
    }
};

/// Claims tunnel mode in its capabilities but refuses every tunnel-mode SA (not supported).
class TunnelClaimedNotKept : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override
    {
        if (sa.mode == OLAB_MODE_TUNNEL)
        {
            if (reason)
            {
                *reason = "tunnel mode is not offloaded";
            }
            return OLAB_NOT_SUPPORTED;
        }
        return MutantDevice::StateAdd(sa, handle, reason);
    }
};

// ---- ESP segmentation offload (GSO_ESP) ----

/// A mutant whose defect is in the segments the reference made of a TCP super-packet: each is
/// changed after the fact, with the SA that sealed it and its index n.
class GsoSegmentMutant : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const int verdict = Forward(call);
        if (!call.meta || call.meta->gso_size == 0 || verdict != OLAB_DONE)
        {
            return verdict;
        }
        ForEachTxPacket(call, [this](uint8_t* ip, uint32_t total, uint32_t n, const olab_sa* sa) {
            if (sa)
            {
                Change(*sa, ip, total, n);
            }
        });
        return verdict;
    }

  protected:
    /// ip: segment n, an ESP packet of total bytes (20-byte IPv4 header) sealed for sa.
    virtual void Change(const olab_sa& sa, uint8_t* ip, uint32_t total, uint32_t n) = 0;
};

/// GSO: every segment carries the first segment's sequence number (each still has its own IV
/// and a right ICV).
class GsoReusesSeq : public GsoSegmentMutant
{
  public:
    using GsoSegmentMutant::GsoSegmentMutant;

  protected:
    void Change(const olab_sa& sa, uint8_t* ip, uint32_t total, uint32_t n) override
    {
        uint8_t* frame = ip + 20;
        if (n == 0)
        {
            std::memcpy(m_firstSeq, frame + 4, 4);
            return;
        }
        std::memcpy(frame + 4, m_firstSeq, 4);
        Reseal(sa, frame, total - 20, nullptr, [](uint8_t*, uint32_t) {});
    }

  private:
    uint8_t m_firstSeq[4]{};
};

/// GSO: every segment is sealed under the first segment's IV.
class GsoRepeatsIv : public GsoSegmentMutant
{
  public:
    using GsoSegmentMutant::GsoSegmentMutant;

  protected:
    void Change(const olab_sa& sa, uint8_t* ip, uint32_t total, uint32_t n) override
    {
        uint8_t* frame = ip + 20;
        if (n == 0)
        {
            std::memcpy(m_firstIv, frame + kEspIvOffset, 8);
            return;
        }
        Reseal(sa, frame, total - 20, m_firstIv, [](uint8_t*, uint32_t) {});
    }

  private:
    uint8_t m_firstIv[8]{};
};

/// GSO: every segment keeps the super-packet's TCP sequence number (its checksum right for
/// what it carries).
class GsoNoTcpFixup : public GsoSegmentMutant
{
  public:
    using GsoSegmentMutant::GsoSegmentMutant;

  protected:
    void Change(const olab_sa& sa, uint8_t* ip, uint32_t total, uint32_t n) override
    {
        ResealTcp(sa, ip, total, [&](uint8_t* tcp) {
            if (n == 0)
            {
                std::memcpy(m_firstSeq, tcp + 4, 4); // the first keeps its own
            }
            else
            {
                std::memcpy(tcp + 4, m_firstSeq, 4);
            }
        });
    }

  private:
    uint8_t m_firstSeq[4]{};
};

/// GSO: every segment carries every flag of the super-packet (FIN and PSH not kept for the last,
/// CWR not for the first: tcp_gso_segment's rules ignored); checksums right for what is sent.
class GsoFlagsCopied : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const int verdict = Forward(call);
        if (!call.meta || call.meta->gso_size == 0 || verdict != OLAB_DONE)
        {
            return verdict;
        }
        // The reference cut the flags right: together its segments hold the super-packet's.
        uint8_t flags = 0;
        ForEachTxPacket(call, [&flags](uint8_t* ip, uint32_t total, uint32_t, const olab_sa* sa) {
            if (sa)
            {
                Reseal(*sa, ip + 20, total - 20, nullptr, [&flags](uint8_t* data, uint32_t) {
                    flags |= data[13];
                });
            }
        });
        ForEachTxPacket(call, [flags](uint8_t* ip, uint32_t total, uint32_t, const olab_sa* sa) {
            if (sa)
            {
                ResealTcp(*sa, ip, total, [flags](uint8_t* tcp) { tcp[13] = flags; });
            }
        });
        return verdict;
    }
};

/// GSO: sizes segments by the link MTU less the IPv4 and TCP headers, ignoring the host's
/// gso_size and so ESP's overhead: its segments are larger than the MTU.
class GsoOversizeSegments : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        if (!meta || meta->gso_size == 0)
        {
            return Forward(call);
        }
        // The TCP header follows the IPv4 header (packet offload) or ESP header and IV (crypto).
        const uint32_t tcpAt = 20 + (meta->handle != 0 ? kEspIvOffset + 8 : 0);
        const uint32_t tcpHeader = *len > tcpAt ? TcpHeaderLength(buf + tcpAt, *len - tcpAt) : 0;
        if (tcpHeader == 0 || mtu <= 20 + tcpHeader)
        {
            return Forward(call);
        }
        olab_tx_meta own = *meta;
        own.gso_size = mtu - 20 - tcpHeader;
        own.gso_segs = TcpGsoSegmentCount(buf + tcpAt, *len - tcpAt, own.gso_size);
        return Forward(TxCall{buf, len, cap, &own, mtu, dropReason});
    }
};

/// GSO, packet offload: update_stats counts a super-packet as one packet with its bytes once
/// (as the stack counts a crypto-offload GSO skb), not every segment it put on the wire.
class GsoCountsOnce : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const bool gso = call.meta && call.meta->gso_size != 0 && call.meta->handle == 0;
        const uint32_t tcpHeader =
            gso && *call.len > 20 ? TcpHeaderLength(call.buf + 20, *call.len - 20) : 0;
        const int verdict = Forward(call);
        if (!gso || verdict != OLAB_DONE)
        {
            return verdict;
        }
        uint32_t segments = 0;
        const olab_sa* sa = nullptr;
        ForEachTxPacket(call, [&](uint8_t*, uint32_t, uint32_t, const olab_sa* s) {
            ++segments;
            sa = s ? s : sa;
        });
        for (const auto& [handle, known] : m_sas)
        {
            if (sa == &known.sa && segments > 1)
            {
                // Every segment but the first repeats the TCP header the device counted.
                m_uncounted[handle].packets += segments - 1;
                m_uncounted[handle].bytes += uint64_t(segments - 1) * tcpHeader;
            }
        }
        return verdict;
    }

    void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) override
    {
        MutantDevice::StateUpdateStats(handle, stats);
        auto it = m_uncounted.find(handle);
        if (it != m_uncounted.end())
        {
            stats->packets -= std::min(stats->packets, it->second.packets);
            stats->bytes -= std::min(stats->bytes, it->second.bytes);
        }
    }

  private:
    struct Uncounted
    {
        uint64_t packets{0};
        uint64_t bytes{0};
    };

    std::map<uint64_t, Uncounted> m_uncounted;
};

/// IPv6 packet offload RX, transport mode: after decrypting ESP behind extension headers, the
/// device writes ESP's next header into the fixed header instead of the extension header that
/// named ESP, which keeps naming 50. Right when ESP follows the fixed header; behind Hop-by-Hop
/// or Routing the host parses the extension headers as the upper layer and drops the packet.
class Ipv6RxNextHeaderMisplaced : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        Ipv6Chain before;
        const bool behind = *len >= kIpv6HeaderLength && buf[0] >> 4 == 6 &&
                            ParseIpv6Chain(buf, *len, &before, nullptr) &&
                            before.upperProtocol == kIpProtoEsp &&
                            before.upperOffset > kIpv6HeaderLength;
        const uint8_t first = behind ? buf[6] : 0;
        const int verdict = Forward(call);
        Ipv6Chain after;
        if (!behind || verdict != OLAB_DONE || buf[6] != first ||
            !ParseIpv6Chain(buf, *len, &after, nullptr) || after.upperProtocol == kIpProtoEsp)
        {
            return verdict; // not decrypted in place of ESP here
        }
        // The field that named ESP now names what ESP carried: move that into the fixed header.
        const uint32_t field = Ipv6FieldNaming(buf, before.upperOffset);
        buf[6] = buf[field];
        buf[field] = kIpProtoEsp;
        return verdict;
    }
};

/// IPv6 RX looks for ESP only right after the 40-byte fixed header: ESP behind an extension
/// header is not recognised, and goes up to the host still encrypted.
class Ipv6NoExtWalk : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Receive(const RxCall& call) override
    {
        const auto& [buf, len, cap, info, dropReason] = call;
        if (*len >= kIpv6HeaderLength && buf[0] >> 4 == 6 && buf[6] != kIpProtoEsp)
        {
            return OLAB_PASS;
        }
        return Forward(call);
    }
};

/// Crypto offload TX fills every inner checksum with the IPv4 pseudo-header (the ABI v4
/// fields, zero for IPv6 addresses), ignoring csum_family.
class Ipv6CsumIgnoresFamily : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int Transmit(const TxCall& call) override
    {
        const auto& [buf, len, cap, meta, mtu, dropReason] = call;
        if (!meta || meta->csum_len == 0 || meta->csum_family != OLAB_FAMILY_IPV6)
        {
            return Forward(call);
        }
        olab_tx_meta v4 = *meta;
        v4.csum_family = OLAB_FAMILY_IPV4;
        return Forward(TxCall{buf, len, cap, &v4, mtu, dropReason});
    }
};

/// Not a mutant: a correct device that offloads IPv6 but no cross-family tunnel (IPv4 in IPv6,
/// IPv6 in IPv4), and says so at state_add with -EOPNOTSUPP, as a driver whose hardware cannot
/// build the other family's outer header would. Linux runs such crypto-offload SAs in software
/// and returns the error to the key manager for packet offload; certification must pass it.
class Ipv6SameFamilyOnly : public MutantDevice
{
  public:
    using MutantDevice::MutantDevice;

    int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) override
    {
        if (sa.size >= offsetof(olab_sa, sel6) + sizeof(sa.sel6) && sa.mode == OLAB_MODE_TUNNEL &&
            sa.sel6.family != sa.family)
        {
            *reason = "this device offloads no tunnel between address families";
            return OLAB_NOT_SUPPORTED;
        }
        return MutantDevice::StateAdd(sa, handle, reason);
    }
};

// ---- registration ----

template <typename Mutant>
std::unique_ptr<BuiltinOffloadDevice>
Create(const olab_host& host, const olab_config& config, std::string* error)
{
    std::unique_ptr<BuiltinOffloadDevice> reference =
        ReferenceOffloadEngine::Create(host, config, error);
    return reference ? std::make_unique<Mutant>(std::move(reference)) : nullptr;
}

template <typename Mutant>
const olab_device_ops&
OpsOf()
{
    return BuiltinDeviceOps<&ReferenceOffloadEngine::GetCapabilities, &Create<Mutant>>();
}

const olab_device_ops&
LateExpireReportOps()
{
    return BuiltinDeviceOps<&ReferenceOffloadEngine::GetCapabilities, &LateExpireReport::Create>();
}

/// The reference created with its own table sizes instead of the host's (olab_config).
template <bool Sas, bool Policies>
std::unique_ptr<BuiltinOffloadDevice>
CreateIgnoringCapacity(const olab_host& host, const olab_config& config, std::string* error)
{
    olab_config own = config;
    own.sa_capacity = Sas ? 1024 : config.sa_capacity;
    own.policy_capacity = Policies ? 1024 : config.policy_capacity;
    return Create<MutantDevice>(host, own, error);
}

template <bool Sas, bool Policies>
const olab_device_ops&
IgnoringCapacityOps()
{
    return BuiltinDeviceOps<&ReferenceOffloadEngine::GetCapabilities,
                            &CreateIgnoringCapacity<Sas, Policies>>();
}

/// The mutants in listing order: name, ABI table, the one defect (their registration note).
struct Mutant
{
    const char* name;
    const olab_device_ops& (*ops)();
    const char* defect;
};

const Mutant kMutants[] = {
    {"no-soft-expire", &OpsOf<NoSoftExpire>, "never raises the soft lifetime expire"},
    {"late-hard-expire",
     &OpsOf<LateHardExpire>,
     "enforces the hard lifetime 8 packets (8 x 1400 bytes) late"},
    {"late-expire-report",
     &LateExpireReportOps,
     "calls check_expire two packets after a limit although it declares exact reporting"},
    {"bad-icv-1-in-64", &OpsOf<BadIcv1In64>, "corrupts the ICV of every 64th packet it encrypts"},
    {"no-replay-check",
     &OpsOf<NoReplayCheck>,
     "packet offload accepts replayed and too old sequence numbers"},
    {"replay-window-off-by-one",
     &OpsOf<ReplayWindowOffByOne>,
     "accepts one sequence number left of a replay window below 4096"},
    {"no-state-free",
     &OpsOf<NoStateFree>,
     "ignores state_delete and state_free: the SA keeps its slot and keys"},
    {"packet-plaintext",
     &OpsOf<PacketPlaintext>,
     "packet offload lets policy-selected traffic out unencrypted"},
    {"stats-short", &OpsOf<StatsShort>, "update_stats reports one packet and its bytes short"},
    {"counts-limited-only",
     &OpsOf<CountsLimitedOnly>,
     "update_stats reports no bytes or packets for an SA without byte or packet limits"},
    {"iv-reuse", &OpsOf<IvReuse>, "uses the same GCM IV for every packet of an SA"},
    {"seq-start-2", &OpsOf<SeqStart2>, "packet offload starts sequence numbers at 2 instead of 1"},
    {"no-tx-csum",
     &OpsOf<NoTxCsum>,
     "advertises HW_ESP_TX_CSUM but never writes the inner checksum"},
    {"crypto-rx-ok-on-bad-icv",
     &OpsOf<CryptoRxOkOnBadIcv>,
     "crypto offload RX reports success for a bad ICV"},
    {"gcm256-short-key",
     &OpsOf<Gcm256ShortKey>,
     "uses only the first 16 bytes of a 256-bit AES-GCM key"},
    {"seq-wraps",
     &OpsOf<SeqWraps>,
     "packet offload without ESN starts its sequence numbers again after 2^32-1"},
    {"no-policy-delete",
     &OpsOf<NoPolicyDelete>,
     "ignores policy_delete: the policy keeps selecting traffic"},
    {"esn-no-advance",
     &OpsOf<EsnNoAdvance>,
     "ignores advance_esn, so crypto offload RX loses the ESN high bits"},
    {"packet-rx-no-policy-check",
     &OpsOf<PacketRxNoPolicyCheck>,
     "packet offload RX delivers decrypted traffic outside every inbound policy or the SA's "
     "selector"},
    {"policy-priority-ignored",
     &OpsOf<PolicyPriorityIgnored>,
     "packet offload ignores policy priorities: the older of two overlapping policies wins"},
    {"crypto-rx-plaintext-on-bad-icv",
     &OpsOf<CryptoRxPlaintextOnBadIcv>,
     "crypto offload RX leaves the unauthenticated plaintext in the buffer after a bad ICV"},
    {"oldest-sa",
     &OpsOf<OldestSa>,
     "packet offload TX uses the oldest instead of the newest SA of a policy"},
    {"udp-csum-zero",
     &OpsOf<UdpCsumZero>,
     "under HW_ESP_TX_CSUM sends a UDP checksum that computes to 0 as 0, not 0xffff"},
    {"tunnel-ttl-1",
     &OpsOf<TunnelTtl1>,
     "packet offload tunnel mode sends the outer IPv4 header with TTL 1"},
    {"ignores-oseq",
     &OpsOf<IgnoresOseq>,
     "packet offload ignores oseq: every outbound SA starts at sequence number 1"},
    {"ignores-rx-seq",
     &OpsOf<IgnoresRxSeq>,
     "ignores seq: every inbound SA's replay window starts at 0"},
    {"crypto-tx-ignores-seq-hi",
     &OpsOf<CryptoTxIgnoresSeqHi>,
     "crypto offload TX ignores seq_hi: ESN ICVs are computed with high bits 0"},
    {"ignores-tmpl-reqid",
     &OpsOf<IgnoresTmplReqid>,
     "packet offload lets any SA serve any policy, ignoring tmpl_reqid"},
    {"ignores-sa-capacity",
     &IgnoringCapacityOps<true, false>,
     "ignores olab_config.sa_capacity: its SA table holds 1024"},
    {"packet-rx-ignores-icv",
     &OpsOf<PacketRxIgnoresIcv>,
     "packet offload RX accepts packets whose ICV does not verify"},
    {"policy-ignores-ports",
     &OpsOf<PolicyIgnoresPorts>,
     "packet offload policies ignore the selector's ports"},
    {"tunnel-claimed-not-kept",
     &OpsOf<TunnelClaimedNotKept>,
     "claims tunnel mode but refuses every tunnel-mode SA"},
    {"udpencap-bad-checksum",
     &OpsOf<UdpEncapBadChecksum>,
     "ESP-in-UDP packet offload sends a non-zero UDP checksum that is wrong"},
    {"udpencap-no-marker-check",
     &OpsOf<UdpEncapNoMarkerCheck>,
     "ESP-in-UDP packet offload RX takes every datagram to port 4500 for ESP (no non-ESP marker "
     "or keepalive check) and drops IKE"},
    {"udpencap-ignored",
     &OpsOf<UdpEncapIgnored>,
     "ESP-in-UDP packet offload sends plain ESP, ignoring the SA's encapsulation"},
    {"ignores-policy-capacity",
     &IgnoringCapacityOps<false, true>,
     "ignores olab_config.policy_capacity: its policy table holds 1024"},
    {"gso-reuses-seq",
     &OpsOf<GsoReusesSeq>,
     "GSO: every segment of a TCP super-packet carries the first segment's sequence number"},
    {"gso-repeats-iv",
     &OpsOf<GsoRepeatsIv>,
     "GSO: every segment of a TCP super-packet is sealed under the first segment's IV"},
    {"gso-no-tcp-fixup",
     &OpsOf<GsoNoTcpFixup>,
     "GSO: every segment keeps the super-packet's TCP sequence number"},
    {"gso-flags-copied",
     &OpsOf<GsoFlagsCopied>,
     "GSO: every segment of a TCP super-packet keeps all its flags (FIN and PSH on every "
     "segment, CWR on every one)"},
    {"gso-counts-once",
     &OpsOf<GsoCountsOnce>,
     "GSO, packet offload: update_stats counts a TCP super-packet as one packet with its bytes "
     "once, not each segment"},
    {"gso-oversize-segments",
     &OpsOf<GsoOversizeSegments>,
     "GSO: sizes segments by the MTU less IPv4 and TCP headers, ignoring ESP's overhead, so "
     "they exceed the MTU"},
    {"ipv6-rx-next-header-misplaced",
     &OpsOf<Ipv6RxNextHeaderMisplaced>,
     "IPv6 packet offload RX behind extension headers writes ESP's next header into the fixed "
     "header, leaving the header that named ESP naming 50"},
    {"ipv6-no-ext-walk",
     &OpsOf<Ipv6NoExtWalk>,
     "IPv6 RX expects ESP right after the 40-byte header and passes ESP behind an extension "
     "header up undecrypted"},
    {"ipv6-csum-ignores-family",
     &OpsOf<Ipv6CsumIgnoresFamily>,
     "crypto offload TX fills IPv6 inner checksums with the IPv4 pseudo-header, ignoring "
     "csum_family"},
    {"bypass-encrypts",
     &OpsOf<BypassEncrypts>,
     "declares OLAB_FEATURE_POLICY_BYPASS but protects what a bypass policy selects"},
    {"bypass-outranks-all",
     &OpsOf<BypassOutranksAll>,
     "packet offload ranks bypass policies above every other policy, ignoring their priority"},
    {"bypass-port-swapped",
     &OpsOf<BypassPortSwapped>,
     "packet offload matches an out bypass policy's source port against the destination port"},
};

/// Devices that break only an advisory check: certification must pass them and report the
/// finding (conformance/test/mutation-score-test.cc), so they are not mutants.
const Mutant kAdvisoryOnly[] = {
    {"pad-zero",
     &OpsOf<PadZero>,
     "pads with zero bytes instead of 1, 2, 3, ... (advisory PAD-CONTENT only)"},
    {"handle-no-generation",
     &OpsOf<HandleNoGeneration>,
     "reuses a freed SA's handle for the next SA (advisory DEV-STALE-HANDLE only)"},
};

/// Correct devices that offer less than the reference: certification must pass them, skipping
/// what they do not offer (conformance/test/mutation-score-test.cc).
const Mutant kCorrectVariants[] = {
    {"ipv6-same-family",
     &OpsOf<Ipv6SameFamilyOnly>,
     "offloads IPv6 but refuses cross-family tunnel SAs with -EOPNOTSUPP (correct, not a defect)"},
};

/// Registers every mutant, listed after the reference and the example device, when the program
/// starts, then the advisory-only devices as "advisory:NAME" and the correct variants as
/// "variant:NAME".
struct MutantRegistrations
{
    MutantRegistrations()
    {
        int order = 100;
        for (const Mutant& m : kMutants)
        {
            OffloadDeviceRegistration(std::string("mutant:") + m.name, m.ops(), order++, m.defect);
        }
        for (const Mutant& m : kAdvisoryOnly)
        {
            OffloadDeviceRegistration(std::string("advisory:") + m.name,
                                      m.ops(),
                                      order++,
                                      m.defect);
        }
        for (const Mutant& m : kCorrectVariants)
        {
            OffloadDeviceRegistration(std::string("variant:") + m.name, m.ops(), order++, m.defect);
        }
    }
} g_mutants;

} // namespace

} // namespace ns3
