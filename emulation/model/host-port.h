// The emulated host's side of its ns-3 node: the TAP between them, as an FdNetDevice that is
// not an interface of the node's IPv4.
#ifndef HOST_PORT_H
#define HOST_PORT_H

#include "ipv4-reassembler.h"
#include "xfrm-stack.h"

#include "ns3/fd-net-device.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv4-header.h"
#include "ns3/mac48-address.h"
#include "ns3/traced-callback.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace ns3
{

/// Why the host port dropped a frame or packet.
enum class HostPortDrop : uint8_t
{
    NotIpv4,          //!< from the host: neither IPv4 nor ARP (IPv6 is not emulated yet)
    Malformed,        //!< from the host: an ARP or IPv4 frame too short or not well formed
    RefusedByXfrm,    //!< from the host: XfrmStack::OutputFromHost dropped it (its Drop trace says
                      //!< why)
    TapWriteFailed,   //!< to the host: the TAP did not take the frame
    FragmentsExpired, //!< from the host: a datagram's fragments not completed in 30 s
    FragmentsOverLimit, //!< from the host: a new datagram's fragment while 64 are pending
    DuplicateFragment,  //!< from the host: a fragment whose bytes were all in already
    Count,
};

const char* HostPortDropName(HostPortDrop reason);

/**
 * Joins an emulated host to its node ("bump in the stack"). Frames the host sends into its TAP
 * arrive here: ARP requests are answered with this port's MAC for every address but the
 * host's own (the node's IPv4 resolves the wire side with ARP of its own), and IPv4 packets go
 * to XfrmStack::OutputFromHost. Packets the node delivers (HostL4Protocol) and PMTU errors
 * (ICMP fragmentation needed) go out of the TAP to the host.
 */
class HostPort : public Object
{
  public:
    static TypeId GetTypeId();

    /// tap is an FdNetDevice of node with its descriptor set; hostAddress the host's address on
    /// the TAP. Replaces tap's receive callback, so install after Node::AddDevice.
    void Setup(Ptr<Node> node, Ptr<XfrmStack> stack, Ptr<FdNetDevice> tap, Ipv4Address hostAddress);

    /// Writes the frames for the host from a thread of its own from now on: a write into a TAP
    /// runs the host kernel's receive path (netif_receive_skb, TCP) in the writer, and the
    /// simulator thread should not pay for it. At most queueLimit frames wait; more are
    /// dropped (TapWriteFailed), as a full TAP queue would drop them.
    void StartWriter(int tapFd, size_t queueLimit = 4096);
    /// Stops and joins the writer (what it has not written is dropped); before the TAP closes.
    void StopWriter();
    /// The host's MAC on the TAP, until a frame from the host says otherwise: a gateway's kernel
    /// forwards only what came to its own MAC (ip_forward drops link-layer broadcasts).
    void SetHostMac(Mac48Address mac);
    /// A whole IPv4 packet to the host; one bigger than the TAP's MTU (a datagram the node
    /// reassembled) in fragments of it, unless DF is set.
    void Deliver(Ptr<Packet> ipPacket);
    /// ICMP fragmentation needed with mtu for the host's too-big packet (its IPv4 packet), from
    /// the packet's destination: Linux drops ICMP whose source is its own address.
    void SendFragNeeded(Ptr<const Packet> ipPacket, uint32_t mtu);

    Ptr<FdNetDevice> GetTap() const;
    uint64_t GetFromHost() const; //!< IPv4 packets the host sent
    uint64_t GetToHost() const;   //!< IPv4 packets delivered to the host
    uint64_t GetArpReplies() const;
    uint64_t GetFragNeeded() const;
    uint64_t GetFragmentsToHost() const;  //!< fragments Deliver made of reassembled datagrams
    uint64_t GetReassembled() const;      //!< the host's datagrams rebuilt from its fragments
    uint64_t GetFragmentsPending() const; //!< the host's datagrams still incomplete
    uint64_t GetDropCount(HostPortDrop reason) const;
    std::map<std::string, uint64_t> GetDropCounts() const;

    typedef void (*DropTracedCallback)(Ptr<const Packet> packet, HostPortDrop reason);

  protected:
    void DoDispose() override;

  private:
    bool FromHost(Ptr<NetDevice> dev,
                  Ptr<const Packet> packet,
                  uint16_t protocol,
                  const Address& from);
    void AnswerArp(Ptr<const Packet> packet);
    void Drop(HostPortDrop reason, Ptr<const Packet> packet);
    void WriteToHost(Ptr<Packet> ipPacket);

    Ipv4Reassembler m_reassembler;

    Ptr<Node> m_node;
    Ptr<XfrmStack> m_stack;
    Ptr<FdNetDevice> m_tap;
    Ipv4Address m_hostAddress;
    Mac48Address m_hostMac;
    bool m_hostMacKnown{false};
    uint64_t m_fromHost{0};
    uint64_t m_toHost{0};
    uint64_t m_arpReplies{0};
    uint64_t m_fragNeeded{0};
    uint64_t m_fragmentsToHost{0};
    uint64_t m_reassembled{0};
    uint64_t m_drops[size_t(HostPortDrop::Count)]{};
    TracedCallback<Ptr<const Packet>, HostPortDrop> m_dropTrace;

    void WriterLoop();
    std::thread m_writer;
    std::mutex m_writerMutex;
    std::condition_variable m_writerWake;
    std::deque<std::vector<uint8_t>> m_frames; //!< guarded by m_writerMutex
    std::atomic<bool> m_writerRunning{false};  //!< read by the simulator thread without the lock
    size_t m_queueLimit{0};
    int m_tapFd{-1};
    std::atomic<uint64_t> m_writeFailures{0};
};

} // namespace ns3

#endif // HOST_PORT_H
