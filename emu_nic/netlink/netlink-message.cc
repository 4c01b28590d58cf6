#include "netlink-message.h"

#include <algorithm>

namespace ns3
{

std::vector<NetlinkMessageView>
SplitNetlinkDatagram(const uint8_t* data, size_t length)
{
    std::vector<NetlinkMessageView> messages;
    size_t offset = 0;
    while (length - offset >= NLMSG_HDRLEN)
    {
        NetlinkMessageView view;
        std::memcpy(&view.header, data + offset, sizeof(nlmsghdr));
        const size_t messageLength = view.header.nlmsg_len;
        if (messageLength < NLMSG_HDRLEN || messageLength > length - offset)
        {
            break;
        }
        view.payload = data + offset + NLMSG_HDRLEN;
        view.payloadLength = messageLength - NLMSG_HDRLEN;
        messages.push_back(view);
        offset += std::min<size_t>(NLMSG_ALIGN(messageLength), length - offset);
    }
    return messages;
}

bool
NetlinkAttributes::Parse(const uint8_t* data, size_t length, uint16_t maxType, std::string* error)
{
    m_slots.assign(size_t(maxType) + 1, Slot{});
    m_order.clear();
    size_t offset = 0;
    while (length - offset >= NLA_HDRLEN)
    {
        nlattr attr;
        std::memcpy(&attr, data + offset, sizeof(attr));
        if (attr.nla_len < NLA_HDRLEN || attr.nla_len > length - offset)
        {
            *error = "Invalid attribute (type " + std::to_string(attr.nla_type & NLA_TYPE_MASK) +
                     ", length " + std::to_string(attr.nla_len) + ")";
            return false;
        }
        const uint16_t type = attr.nla_type & NLA_TYPE_MASK;
        m_order.push_back(type);
        if (type <= maxType)
        {
            m_slots[type] =
                Slot{data + offset + NLA_HDRLEN, size_t(attr.nla_len) - NLA_HDRLEN, offset, true};
        }
        offset += std::min<size_t>(NLA_ALIGN(attr.nla_len), length - offset);
    }
    // Linux's nla_parse refuses trailing bytes that are not a whole attribute header.
    if (offset != length)
    {
        *error = "Invalid attribute: " + std::to_string(length - offset) + " trailing bytes";
        return false;
    }
    return true;
}

size_t
NetlinkAttributes::Offset(uint16_t type) const
{
    return Has(type) ? m_slots[type].offset : 0;
}

const std::vector<uint16_t>&
NetlinkAttributes::Order() const
{
    return m_order;
}

bool
NetlinkAttributes::Has(uint16_t type) const
{
    return type < m_slots.size() && m_slots[type].present;
}

const uint8_t*
NetlinkAttributes::Get(uint16_t type, size_t* length) const
{
    if (!Has(type))
    {
        return nullptr;
    }
    *length = m_slots[type].length;
    return m_slots[type].data;
}

std::vector<uint16_t>
NetlinkAttributes::Types() const
{
    std::vector<uint16_t> types;
    for (size_t t = 0; t < m_slots.size(); ++t)
    {
        if (m_slots[t].present)
        {
            types.push_back(uint16_t(t));
        }
    }
    return types;
}

NetlinkMessageBuilder::NetlinkMessageBuilder(uint16_t type,
                                             uint16_t flags,
                                             uint32_t seq,
                                             uint32_t pid)
{
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = seq;
    header.nlmsg_pid = pid;
    PutRaw(&header, sizeof(header));
}

void
NetlinkMessageBuilder::PutRaw(const void* data, size_t length)
{
    const auto* bytes = static_cast<const uint8_t*>(data);
    m_bytes.insert(m_bytes.end(), bytes, bytes + length);
    m_bytes.resize(NLMSG_ALIGN(m_bytes.size()), 0);
}

void
NetlinkMessageBuilder::PutAttribute(uint16_t type, const void* data, size_t length)
{
    nlattr attr{};
    attr.nla_len = uint16_t(NLA_HDRLEN + length);
    attr.nla_type = type;
    const auto* header = reinterpret_cast<const uint8_t*>(&attr);
    m_bytes.insert(m_bytes.end(), header, header + sizeof(attr));
    const auto* bytes = static_cast<const uint8_t*>(data);
    m_bytes.insert(m_bytes.end(), bytes, bytes + length);
    m_bytes.resize(m_bytes.size() + (NLA_ALIGN(length) - length), 0);
}

size_t
NetlinkMessageBuilder::OpenNest(uint16_t type)
{
    const size_t offset = m_bytes.size();
    PutAttribute(type, nullptr, 0);
    return offset;
}

void
NetlinkMessageBuilder::CloseNest(size_t offset)
{
    const auto length = uint16_t(m_bytes.size() - offset);
    std::memcpy(m_bytes.data() + offset, &length, sizeof(length));
}

std::vector<uint8_t>
NetlinkMessageBuilder::Finish()
{
    const auto length = uint32_t(m_bytes.size());
    std::memcpy(m_bytes.data(), &length, sizeof(length));
    return m_bytes;
}

std::vector<uint8_t>
BuildNetlinkAck(const NetlinkMessageView& request,
                uint32_t portId,
                int error,
                const std::string& message,
                bool extAck,
                int64_t badOffset)
{
    const bool offs = extAck && error != 0 && badOffset >= 0;
    const bool tlvs = (extAck && error != 0 && !message.empty()) || offs;
    NetlinkMessageBuilder ack(
        NLMSG_ERROR,
        uint16_t((error == 0 ? NLM_F_CAPPED : 0) | (tlvs ? NLM_F_ACK_TLVS : 0)),
        request.header.nlmsg_seq,
        portId);
    ack.PutRaw(&error, sizeof(error));
    // nlmsgerr.msg: the request's header, then (errors only) the rest of the request.
    nlmsghdr original = request.header;
    std::vector<uint8_t> echo(reinterpret_cast<const uint8_t*>(&original),
                              reinterpret_cast<const uint8_t*>(&original) + sizeof(original));
    if (error != 0)
    {
        echo.insert(echo.end(), request.payload, request.payload + request.payloadLength);
    }
    ack.PutRaw(echo.data(), echo.size());
    if (tlvs && !message.empty())
    {
        ack.PutAttribute(NLMSGERR_ATTR_MSG, message.c_str(), message.size() + 1);
    }
    if (offs)
    {
        const auto offset = uint32_t(badOffset);
        ack.PutAttribute(NLMSGERR_ATTR_OFFS, offset);
    }
    return ack.Finish();
}

std::vector<uint8_t>
BuildNetlinkDone(uint32_t seq, uint32_t portId)
{
    NetlinkMessageBuilder done(NLMSG_DONE, NLM_F_MULTI, seq, portId);
    const int32_t zero = 0;
    done.Put(zero);
    return done.Finish();
}

} // namespace ns3
