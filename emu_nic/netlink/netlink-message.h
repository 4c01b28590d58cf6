// The netlink framing the XFRM endpoint speaks (<linux/netlink.h>): splitting a datagram into
// messages, reading attributes as Linux's nla_parse does, building messages and NLMSG_ERROR acks.
// Nothing XFRM-specific lives here.
#ifndef NETLINK_MESSAGE_H
#define NETLINK_MESSAGE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <linux/netlink.h>
#include <string>
#include <vector>

namespace ns3
{

/// One message of a datagram: its header and what follows it.
struct NetlinkMessageView
{
    nlmsghdr header;
    const uint8_t* payload{nullptr}; //!< nlmsg_len - NLMSG_HDRLEN bytes
    size_t payloadLength{0};
};

/// The messages of a datagram in order, as netlink_rcv_skb walks them: it stops at a message
/// whose length is below the header or runs past the datagram (Linux drops the rest silently).
std::vector<NetlinkMessageView> SplitNetlinkDatagram(const uint8_t* data, size_t length);

/// The attributes of a message after its fixed part (Linux's nlmsg_parse, NL_VALIDATE_LIBERAL as
/// xfrm_user uses it: types above the largest known one are skipped; a later attribute of a type
/// replaces an earlier one).
class NetlinkAttributes
{
  public:
    /// False, with the offending attribute's type in error, when an attribute header or length
    /// runs past the data (Linux: -EINVAL, "Invalid attribute").
    bool Parse(const uint8_t* data, size_t length, uint16_t maxType, std::string* error);
    bool Has(uint16_t type) const;
    /// The attribute's payload and its length; nullptr when absent.
    const uint8_t* Get(uint16_t type, size_t* length) const;

    /// Copies a fixed-size attribute into out; false when absent.
    template <class T>
    bool Read(uint16_t type, T* out) const
    {
        size_t length = 0;
        const uint8_t* data = Get(type, &length);
        if (!data)
        {
            return false;
        }
        std::memset(out, 0, sizeof(T));
        std::memcpy(out, data, length < sizeof(T) ? length : sizeof(T));
        return true;
    }

    /// The attributes present, in type order.
    std::vector<uint16_t> Types() const;
    /// The types of the attributes as they came, in message order (repeats included).
    const std::vector<uint16_t>& Order() const;
    /// Where the attribute (its header) starts, from the start of the parsed data.
    size_t Offset(uint16_t type) const;

  private:
    struct Slot
    {
        const uint8_t* data{nullptr};
        size_t length{0};
        size_t offset{0};
        bool present{false};
    };

    std::vector<Slot> m_slots; //!< by type
    std::vector<uint16_t> m_order;
};

/// Builds one netlink message: header, fixed part, then attributes, aligned as the kernel aligns
/// them (NLMSG_ALIGN, NLA_ALIGN); padding bytes are zero.
class NetlinkMessageBuilder
{
  public:
    NetlinkMessageBuilder(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid);

    /// Appends bytes to the fixed part (before any attribute), padded to 4 bytes.
    void PutRaw(const void* data, size_t length);

    template <class T>
    void Put(const T& fixed)
    {
        PutRaw(&fixed, sizeof(T));
    }

    void PutAttribute(uint16_t type, const void* data, size_t length);

    template <class T>
    void PutAttribute(uint16_t type, const T& value)
    {
        PutAttribute(type, &value, sizeof(T));
    }

    /// Opens a nested attribute; CloseNest sets its length.
    size_t OpenNest(uint16_t type);
    void CloseNest(size_t offset);

    /// The message with nlmsg_len set.
    std::vector<uint8_t> Finish();

  private:
    std::vector<uint8_t> m_bytes;
};

/// Linux's netlink_ack: NLMSG_ERROR to the requester (pid portId, the request's sequence
/// number) carrying error (0 for an ACK, else a negative errno) and the request's header; for an
/// error also the request's payload. With NETLINK_EXT_ACK on, a non-empty message goes in an
/// NLMSGERR_ATTR_MSG attribute and NLM_F_ACK_TLVS is set; an ACK carries none. badOffset, when
/// not negative, is where the offending attribute starts from the request's header
/// (NLMSGERR_ATTR_OFFS, after the message, as netlink_ack_tlv_fill puts it).
std::vector<uint8_t> BuildNetlinkAck(const NetlinkMessageView& request,
                                     uint32_t portId,
                                     int error,
                                     const std::string& message,
                                     bool extAck,
                                     int64_t badOffset = -1);

/// NLMSG_DONE closing a dump: NLM_F_MULTI, a 4-byte zero error.
std::vector<uint8_t> BuildNetlinkDone(uint32_t seq, uint32_t portId);

} // namespace ns3

#endif // NETLINK_MESSAGE_H
