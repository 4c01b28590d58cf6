#include "xfrm-offload-tag.h"

#include <algorithm>

namespace ns3
{

namespace
{
/// An address in a tag: its family's byte, then 16 bytes (IPv4 in the first 4).
constexpr uint32_t kAddressSize = 1 + 16;

void
WriteAddress(TagBuffer& buffer, const XfrmAddress& address)
{
    uint8_t bytes[16] = {};
    std::copy(address.GetBytes(), address.GetBytes() + address.GetLength(), bytes);
    buffer.WriteU8(static_cast<uint8_t>(address.GetFamily()));
    buffer.Write(bytes, sizeof(bytes));
}

XfrmAddress
ReadAddress(TagBuffer& buffer)
{
    const auto family = static_cast<XfrmAddress::Family>(buffer.ReadU8());
    uint8_t bytes[16];
    buffer.Read(bytes, sizeof(bytes));
    if (family == XfrmAddress::Family::Ipv6)
    {
        return Ipv6Address(bytes);
    }
    return Ipv4Address(uint32_t(bytes[0]) << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
}
} // namespace

NS_OBJECT_ENSURE_REGISTERED(XfrmOffloadTxTag);
NS_OBJECT_ENSURE_REGISTERED(XfrmOffloadRxTag);
NS_OBJECT_ENSURE_REGISTERED(XfrmSecPathTag);

TypeId
XfrmOffloadTxTag::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmOffloadTxTag")
                            .SetParent<Tag>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmOffloadTxTag>();
    return tid;
}

TypeId
XfrmOffloadTxTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
XfrmOffloadTxTag::GetSerializedSize() const
{
    return 8 + 4 + 2 + 2 + 2 + 1 + 2 * kAddressSize + 4 + 4;
}

void
XfrmOffloadTxTag::Serialize(TagBuffer buffer) const
{
    buffer.WriteU64(handle);
    buffer.WriteU32(seqHi);
    buffer.WriteU16(csumStart);
    buffer.WriteU16(csumLength);
    buffer.WriteU16(csumField);
    buffer.WriteU8(csumProto);
    WriteAddress(buffer, csumSrc);
    WriteAddress(buffer, csumDst);
    buffer.WriteU32(gsoSize);
    buffer.WriteU32(gsoSegs);
}

void
XfrmOffloadTxTag::Deserialize(TagBuffer buffer)
{
    handle = buffer.ReadU64();
    seqHi = buffer.ReadU32();
    csumStart = buffer.ReadU16();
    csumLength = buffer.ReadU16();
    csumField = buffer.ReadU16();
    csumProto = buffer.ReadU8();
    csumSrc = ReadAddress(buffer);
    csumDst = ReadAddress(buffer);
    gsoSize = buffer.ReadU32();
    gsoSegs = buffer.ReadU32();
}

void
XfrmOffloadTxTag::Print(std::ostream& os) const
{
    os << "xfrm-offload-tx handle=" << handle << " seqhi=" << seqHi;
    if (gsoSize != 0)
    {
        os << " gso_size=" << gsoSize << " gso_segs=" << gsoSegs;
    }
}

TypeId
XfrmOffloadRxTag::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmOffloadRxTag")
                            .SetParent<Tag>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmOffloadRxTag>();
    return tid;
}

TypeId
XfrmOffloadRxTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
XfrmOffloadRxTag::GetSerializedSize() const
{
    return 9;
}

void
XfrmOffloadRxTag::Serialize(TagBuffer buffer) const
{
    buffer.WriteU32(nodeId);
    buffer.WriteU32(spi);
    buffer.WriteU8(static_cast<uint8_t>(status));
}

void
XfrmOffloadRxTag::Deserialize(TagBuffer buffer)
{
    nodeId = buffer.ReadU32();
    spi = buffer.ReadU32();
    status = static_cast<EspStatus>(buffer.ReadU8());
}

void
XfrmOffloadRxTag::Print(std::ostream& os) const
{
    os << "xfrm-offload-rx CRYPTO_DONE spi=0x" << std::hex << spi << std::dec
       << " status=" << EspStatusName(status);
}

TypeId
XfrmSecPathTag::GetTypeId()
{
    static TypeId tid = TypeId("ns3::XfrmSecPathTag")
                            .SetParent<Tag>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<XfrmSecPathTag>();
    return tid;
}

TypeId
XfrmSecPathTag::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
XfrmSecPathTag::GetSerializedSize() const
{
    return 4 + 4 + kAddressSize + 1;
}

void
XfrmSecPathTag::Serialize(TagBuffer buffer) const
{
    buffer.WriteU32(nodeId);
    buffer.WriteU32(spi);
    WriteAddress(buffer, daddr);
    buffer.WriteU8(packetOffload ? 1 : 0);
}

void
XfrmSecPathTag::Deserialize(TagBuffer buffer)
{
    nodeId = buffer.ReadU32();
    spi = buffer.ReadU32();
    daddr = ReadAddress(buffer);
    packetOffload = buffer.ReadU8() != 0;
}

void
XfrmSecPathTag::Print(std::ostream& os) const
{
    os << "secpath node=" << nodeId << " spi=0x" << std::hex << spi << std::dec
       << (packetOffload ? " packet-offload" : "");
}

} // namespace ns3
