#include "host-port.h"

#include "tap-device.h"

#include "ns3/arp-header.h"
#include "ns3/icmpv4.h"
#include "ns3/ipv4-header.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <unistd.h>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("HostPort");

NS_OBJECT_ENSURE_REGISTERED(HostPort);

namespace
{
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
} // namespace

const char*
HostPortDropName(HostPortDrop reason)
{
    switch (reason)
    {
    case HostPortDrop::NotIpv4:
        return "NotIpv4";
    case HostPortDrop::Malformed:
        return "Malformed";
    case HostPortDrop::RefusedByXfrm:
        return "RefusedByXfrm";
    case HostPortDrop::TapWriteFailed:
        return "TapWriteFailed";
    case HostPortDrop::FragmentsExpired:
        return "FragmentsExpired";
    case HostPortDrop::FragmentsOverLimit:
        return "FragmentsOverLimit";
    case HostPortDrop::DuplicateFragment:
        return "DuplicateFragment";
    case HostPortDrop::Count:
        break;
    }
    return "?";
}

TypeId
HostPort::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::HostPort")
            .SetParent<Object>()
            .SetGroupName("Emulation")
            .AddConstructor<HostPort>()
            .AddTraceSource("Drop",
                            "A frame from the host or a packet for it was dropped, and why",
                            MakeTraceSourceAccessor(&HostPort::m_dropTrace),
                            "ns3::HostPort::DropTracedCallback");
    return tid;
}

void
HostPort::Setup(Ptr<Node> node, Ptr<XfrmStack> stack, Ptr<FdNetDevice> tap, Ipv4Address hostAddress)
{
    m_node = node;
    m_stack = stack;
    m_tap = tap;
    m_hostAddress = hostAddress;
    tap->SetReceiveCallback(MakeCallback(&HostPort::FromHost, this));
    stack->SetHostPmtuCallback(MakeCallback(&HostPort::SendFragNeeded, this));
}

bool
HostPort::FromHost(Ptr<NetDevice> dev,
                   Ptr<const Packet> packet,
                   uint16_t protocol,
                   const Address& from)
{
    if (Mac48Address::IsMatchingType(from))
    {
        m_hostMac = Mac48Address::ConvertFrom(from);
        m_hostMacKnown = true;
    }
    if (protocol == kEtherTypeArp)
    {
        AnswerArp(packet);
        return true;
    }
    if (protocol != kEtherTypeIpv4)
    {
        NS_LOG_LOGIC("frame of EtherType 0x" << std::hex << protocol << " from the host");
        Drop(HostPortDrop::NotIpv4, packet);
        return true;
    }
    uint8_t first = 0;
    if (packet->GetSize() < 20 || packet->CopyData(&first, 1) != 1 || (first >> 4) != 4)
    {
        NS_LOG_LOGIC("IPv4 frame from the host that is not IPv4");
        Drop(HostPortDrop::Malformed, packet);
        return true;
    }
    ++m_fromHost;
    // Linux's XFRM would have seen the datagram whole (xfrm_output before ip_fragment); the
    // host's kernel fragmented it only because its link has no IPsec in it.
    const Ipv4Reassembler::Outcome o = m_reassembler.Add(packet, Simulator::Now());
    for (const Ptr<Packet>& first : o.expired)
    {
        NS_LOG_LOGIC("fragments of a host's datagram not completed in 30 s: dropped");
        Drop(HostPortDrop::FragmentsExpired, first);
    }
    if (o.malformed)
    {
        NS_LOG_LOGIC("a fragment of the host's: " << o.malformed << ": dropped");
        Drop(HostPortDrop::Malformed, packet);
        return true;
    }
    if (o.duplicate || o.overLimit)
    {
        NS_LOG_LOGIC("a fragment of the host's: "
                     << (o.duplicate ? "a duplicate" : "64 datagrams pending") << ": dropped");
        Drop(o.duplicate ? HostPortDrop::DuplicateFragment : HostPortDrop::FragmentsOverLimit,
             packet);
        return true;
    }
    Ptr<Packet> datagram = o.whole;
    if (!datagram)
    {
        return true; // a fragment, kept until its datagram is whole
    }
    m_reassembled += o.reassembled ? 1 : 0;
    if (!m_stack->OutputFromHost(datagram))
    {
        NS_LOG_LOGIC("XFRM refused a packet of the host");
        Drop(HostPortDrop::RefusedByXfrm, packet);
    }
    return true;
}

void
HostPort::AnswerArp(Ptr<const Packet> packet)
{
    ArpHeader arp;
    Ptr<Packet> copy = packet->Copy();
    if (copy->GetSize() < 28 || copy->RemoveHeader(arp) == 0)
    {
        Drop(HostPortDrop::Malformed, packet);
        return;
    }
    const Ipv4Address wanted = arp.GetDestinationIpv4Address();
    // Only requests; not for the host's own address, and not the probes of RFC 5227 (sender
    // 0.0.0.0), which an answer would turn into an address conflict.
    if (!arp.IsRequest() || wanted == m_hostAddress || wanted == Ipv4Address::GetAny() ||
        arp.GetSourceIpv4Address() == Ipv4Address::GetAny())
    {
        return;
    }
    ArpHeader reply;
    reply.SetReply(m_tap->GetAddress(),
                   wanted,
                   arp.GetSourceHardwareAddress(),
                   arp.GetSourceIpv4Address());
    Ptr<Packet> answer = Create<Packet>();
    answer->AddHeader(reply);
    ++m_arpReplies;
    m_tap->Send(answer, arp.GetSourceHardwareAddress(), kEtherTypeArp);
}

void
HostPort::SetHostMac(Mac48Address mac)
{
    m_hostMac = mac;
    m_hostMacKnown = true;
}

void
HostPort::StartWriter(int tapFd, size_t queueLimit)
{
    if (m_writerRunning || !m_tap)
    {
        return;
    }
    m_queueLimit = queueLimit;
    m_tapFd = tapFd;
    m_writerRunning = true;
    m_writer = std::thread(&HostPort::WriterLoop, this);
}

void
HostPort::StopWriter()
{
    {
        std::lock_guard<std::mutex> lock(m_writerMutex);
        if (!m_writerRunning)
        {
            return;
        }
        m_writerRunning = false;
        m_frames.clear();
    }
    m_writerWake.notify_all();
    m_writer.join();
}

void
HostPort::WriterLoop()
{
    RunThisThreadAsBatch(); // woken for each frame, it must not preempt the simulator
    const int fd = m_tapFd;
    std::unique_lock<std::mutex> lock(m_writerMutex);
    while (true)
    {
        m_writerWake.wait(lock, [this] { return !m_frames.empty() || !m_writerRunning; });
        if (!m_writerRunning)
        {
            return;
        }
        std::vector<uint8_t> frame = std::move(m_frames.front());
        m_frames.pop_front();
        lock.unlock();
        if (write(fd, frame.data(), frame.size()) != ssize_t(frame.size()))
        {
            ++m_writeFailures;
        }
        lock.lock();
    }
}

void
HostPort::Deliver(Ptr<Packet> ipPacket)
{
    const uint32_t mtu = m_tap->GetMtu();
    Ipv4Header h;
    if (ipPacket->GetSize() <= mtu || ipPacket->PeekHeader(h) == 0 || h.IsDontFragment())
    {
        WriteToHost(ipPacket);
        return;
    }
    // The node reassembled the datagram (to decrypt it, or as its destination): the host gets
    // it in fragments its link can carry, and its own IP reassembles them, as a Linux host does
    // with the fragments it receives.
    Ptr<Packet> payload = ipPacket->Copy();
    payload->RemoveHeader(h);
    const uint32_t chunk = (mtu - h.GetSerializedSize()) & ~7u;
    const uint32_t size = payload->GetSize();
    for (uint32_t off = 0; off < size; off += chunk)
    {
        const uint32_t n = std::min(chunk, size - off);
        Ptr<Packet> piece = payload->CreateFragment(off, n);
        Ipv4Header f = h;
        f.SetPayloadSize(n);
        f.SetFragmentOffset(uint16_t(h.GetFragmentOffset() + off));
        if (off + n < size || !h.IsLastFragment())
        {
            f.SetMoreFragments();
        }
        else
        {
            f.SetLastFragment();
        }
        f.EnableChecksum();
        piece->AddHeader(f);
        ++m_fragmentsToHost;
        WriteToHost(piece);
    }
}

uint64_t
HostPort::GetFragmentsPending() const
{
    return m_reassembler.GetPending();
}

uint64_t
HostPort::GetReassembled() const
{
    return m_reassembled;
}

void
HostPort::WriteToHost(Ptr<Packet> ipPacket)
{
    const Address to = m_hostMacKnown ? Address(m_hostMac) : m_tap->GetBroadcast();
    ++m_toHost;
    if (m_writerRunning)
    {
        // The Ethernet frame FdNetDevice would write (DIX, no padding: the TAP takes it as is).
        std::vector<uint8_t> frame(14 + ipPacket->GetSize());
        Mac48Address::ConvertFrom(to).CopyTo(frame.data());
        Mac48Address::ConvertFrom(m_tap->GetAddress()).CopyTo(frame.data() + 6);
        frame[12] = uint8_t(kEtherTypeIpv4 >> 8);
        frame[13] = uint8_t(kEtherTypeIpv4 & 0xff);
        ipPacket->CopyData(frame.data() + 14, ipPacket->GetSize());
        bool queued = false;
        {
            std::lock_guard<std::mutex> lock(m_writerMutex);
            if (m_frames.size() < m_queueLimit)
            {
                m_frames.push_back(std::move(frame));
                queued = true;
            }
        }
        if (queued)
        {
            m_writerWake.notify_one();
        }
        else
        {
            NS_LOG_LOGIC("the TAP writer's queue is full: a packet for the host dropped");
            Drop(HostPortDrop::TapWriteFailed, ipPacket);
        }
        return;
    }
    if (!m_tap->Send(ipPacket, to, kEtherTypeIpv4))
    {
        NS_LOG_LOGIC("the TAP did not take a packet for the host");
        Drop(HostPortDrop::TapWriteFailed, ipPacket);
    }
}

void
HostPort::SendFragNeeded(Ptr<const Packet> ipPacket, uint32_t mtu)
{
    Ptr<Packet> copy = ipPacket->Copy();
    Ipv4Header original;
    original.EnableChecksum(); // quoted with its checksum, as the host sent it
    if (copy->RemoveHeader(original) == 0)
    {
        return;
    }
    uint8_t first8[8] = {};
    copy->CopyData(first8, std::min<uint32_t>(8, copy->GetSize()));
    Icmpv4DestinationUnreachable unreach;
    unreach.SetNextHopMtu(uint16_t(std::min<uint32_t>(mtu, 0xffff)));
    unreach.SetHeader(original);
    unreach.SetData(Create<Packet>(first8, std::min<uint32_t>(8, copy->GetSize())));
    Ptr<Packet> icmp = Create<Packet>();
    icmp->AddHeader(unreach);
    Icmpv4Header header;
    header.SetType(Icmpv4Header::ICMPV4_DEST_UNREACH);
    header.SetCode(Icmpv4DestinationUnreachable::ICMPV4_FRAG_NEEDED);
    if (Node::ChecksumEnabled())
    {
        header.EnableChecksum();
    }
    icmp->AddHeader(header);
    Ipv4Header ip;
    ip.SetSource(original.GetDestination());
    ip.SetDestination(original.GetSource());
    ip.SetProtocol(1);
    ip.SetTtl(64);
    ip.SetPayloadSize(icmp->GetSize());
    if (Node::ChecksumEnabled())
    {
        ip.EnableChecksum();
    }
    icmp->AddHeader(ip);
    ++m_fragNeeded;
    Deliver(icmp);
}

Ptr<FdNetDevice>
HostPort::GetTap() const
{
    return m_tap;
}

uint64_t
HostPort::GetFromHost() const
{
    return m_fromHost;
}

uint64_t
HostPort::GetToHost() const
{
    return m_toHost;
}

uint64_t
HostPort::GetArpReplies() const
{
    return m_arpReplies;
}

uint64_t
HostPort::GetFragmentsToHost() const
{
    return m_fragmentsToHost;
}

uint64_t
HostPort::GetFragNeeded() const
{
    return m_fragNeeded;
}

uint64_t
HostPort::GetDropCount(HostPortDrop reason) const
{
    return m_drops[size_t(reason)];
}

std::map<std::string, uint64_t>
HostPort::GetDropCounts() const
{
    std::map<std::string, uint64_t> counts;
    for (size_t i = 0; i < size_t(HostPortDrop::Count); ++i)
    {
        counts[HostPortDropName(HostPortDrop(i))] = m_drops[i];
    }
    counts[HostPortDropName(HostPortDrop::TapWriteFailed)] += m_writeFailures.load();
    return counts;
}

void
HostPort::Drop(HostPortDrop reason, Ptr<const Packet> packet)
{
    ++m_drops[size_t(reason)];
    m_dropTrace(packet, reason);
}

void
HostPort::DoDispose()
{
    StopWriter();
    if (m_tap)
    {
        m_tap->SetReceiveCallback(
            MakeNullCallback<bool, Ptr<NetDevice>, Ptr<const Packet>, uint16_t, const Address&>());
    }
    if (m_stack)
    {
        m_stack->SetHostPmtuCallback(XfrmStack::HostPmtuCallback());
    }
    m_node = nullptr;
    m_stack = nullptr;
    m_tap = nullptr;
    Object::DoDispose();
}

} // namespace ns3
