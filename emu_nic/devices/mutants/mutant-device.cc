#include "mutant-device.h"

#include "esp-transform.h"
#include "ipv4-packet-util.h"
#include "ipv6-packet-util.h"

#include <cstring>

namespace ns3
{

MutantDevice::MutantDevice(std::unique_ptr<BuiltinOffloadDevice> inner)
    : m_inner(std::move(inner))
{
}

uint64_t
MutantDevice::Inner(uint64_t handle) const
{
    auto it = m_sas.find(handle);
    return it == m_sas.end() ? 0 : it->second.inner;
}

int
MutantDevice::StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason)
{
    uint64_t inner = 0;
    const int result = m_inner->StateAdd(sa, &inner, reason);
    if (result == OLAB_OK)
    {
        *handle = m_nextHandle++;
        m_sas[*handle] = Known{sa, inner, false};
    }
    return result;
}

void
MutantDevice::StateDelete(uint64_t handle)
{
    m_inner->StateDelete(Inner(handle));
    auto it = m_sas.find(handle);
    if (it != m_sas.end())
    {
        it->second.deleted = true;
    }
}

void
MutantDevice::StateFree(uint64_t handle)
{
    m_inner->StateFree(Inner(handle));
    m_sas.erase(handle);
}

bool
MutantDevice::OffloadOk(uint64_t handle, const uint8_t* ipHeader, uint32_t headerLength)
{
    return m_inner->OffloadOk(Inner(handle), ipHeader, headerLength);
}

void
MutantDevice::StateAdvanceEsn(uint64_t handle, uint64_t replayTop)
{
    m_inner->StateAdvanceEsn(Inner(handle), replayTop);
}

void
MutantDevice::StateUpdateStats(uint64_t handle, olab_sa_stats* stats)
{
    m_inner->StateUpdateStats(Inner(handle), stats);
}

int
MutantDevice::PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason)
{
    const int result = m_inner->PolicyAdd(policy, handle, reason);
    if (result == OLAB_OK)
    {
        m_policies[*handle] = policy;
    }
    return result;
}

void
MutantDevice::PolicyDelete(uint64_t handle)
{
    m_inner->PolicyDelete(handle);
    m_policies.erase(handle);
}

void
MutantDevice::PolicyFree(uint64_t handle)
{
    m_inner->PolicyFree(handle);
}

int
MutantDevice::Tx(uint8_t* buf,
                 uint32_t* len,
                 uint32_t cap,
                 const olab_tx_meta* meta,
                 uint32_t mtu,
                 uint32_t* dropReason)
{
    return Transmit(TxCall{buf, len, cap, meta, mtu, dropReason});
}

int
MutantDevice::Rx(uint8_t* buf,
                 uint32_t* len,
                 uint32_t cap,
                 olab_rx_info* info,
                 uint32_t* dropReason)
{
    return Receive(RxCall{buf, len, cap, info, dropReason});
}

int
MutantDevice::Transmit(const TxCall& call)
{
    return Forward(call);
}

int
MutantDevice::Receive(const RxCall& call)
{
    return Forward(call);
}

int
MutantDevice::Forward(const TxCall& call)
{
    if (!call.meta)
    {
        return m_inner->Tx(call.buf, call.len, call.cap, nullptr, call.mtu, call.dropReason);
    }
    olab_tx_meta inner = *call.meta;
    inner.handle = Inner(call.meta->handle);
    return m_inner->Tx(call.buf, call.len, call.cap, &inner, call.mtu, call.dropReason);
}

int
MutantDevice::Forward(const RxCall& call)
{
    return m_inner->Rx(call.buf, call.len, call.cap, call.info, call.dropReason);
}

const olab_sa*
MutantDevice::SaOfTx(const olab_tx_meta* meta, const uint8_t* ip, uint32_t length) const
{
    if (meta)
    {
        auto it = m_sas.find(meta->handle);
        return it == m_sas.end() ? nullptr : &it->second.sa;
    }
    if (length >= kIpv6HeaderLength && ip[0] >> 4 == 6)
    {
        // ABI v5: the ESP behind IPv6's extension headers, for the SA of that IPv6 destination.
        Ipv6Chain chain;
        if (!ParseIpv6Chain(ip, length, &chain, nullptr) || chain.upperProtocol != kIpProtoEsp ||
            length < chain.upperOffset + EspTransform::kHeaderLength)
        {
            return nullptr;
        }
        const uint32_t spi = EspTransform::ReadSpi(ip + chain.upperOffset);
        for (const auto& [handle, known] : m_sas)
        {
            const olab_sa& sa = known.sa;
            if (!known.deleted && sa.dir == OLAB_DIR_OUT && sa.spi == spi &&
                sa.family == OLAB_FAMILY_IPV6 && std::memcmp(sa.daddr6, ip + 24, 16) == 0)
            {
                return &sa;
            }
        }
        return nullptr;
    }
    const uint32_t ihl = Ipv4HeaderLength(ip, length);
    if (ihl == 0 || ip[9] != kIpProtoEsp || length < ihl + EspTransform::kHeaderLength)
    {
        return nullptr;
    }
    const uint32_t spi = EspTransform::ReadSpi(ip + ihl);
    const uint32_t daddr = uint32_t(ip[16]) << 24 | ip[17] << 16 | ip[18] << 8 | ip[19];
    for (const auto& [handle, known] : m_sas)
    {
        const olab_sa& sa = known.sa;
        if (!known.deleted && sa.dir == OLAB_DIR_OUT && sa.spi == spi && sa.daddr == daddr)
        {
            return &sa;
        }
    }
    return nullptr;
}

const olab_sa*
MutantDevice::InboundSa(uint32_t daddr, uint32_t spi, uint64_t* handle) const
{
    const olab_sa* newest = nullptr;
    for (const auto& [h, known] : m_sas) // handles grow: the last match is the newest
    {
        const olab_sa& sa = known.sa;
        if (!known.deleted && sa.dir == OLAB_DIR_IN && sa.spi == spi && sa.daddr == daddr)
        {
            newest = &sa;
            *handle = h;
        }
    }
    return newest;
}

} // namespace ns3
