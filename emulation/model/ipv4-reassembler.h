// The emulated host's IPv4 fragments made whole again for its node, by Linux's rules
// (net/ipv4/ip_fragment.c ip_frag_queue and ip_frag_reasm, net/ipv4/inet_fragment.c
// inet_frag_queue_insert, ip_expire): the host's kernel fragments what its link cannot carry,
// but Linux's own XFRM sees the datagram before ip_fragment, so the node must see it whole.
#ifndef IPV4_REASSEMBLER_H
#define IPV4_REASSEMBLER_H

#include "ns3/ipv4-header.h"
#include "ns3/nstime.h"
#include "ns3/packet.h"

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

namespace ns3
{

class Ipv4Reassembler
{
  public:
    /// What one packet came to.
    struct Outcome
    {
        Ptr<Packet> whole;       //!< the datagram (the packet itself if no fragment), or null
        bool reassembled{false}; //!< whole was rebuilt from fragments
        const char* malformed{nullptr}; //!< why the packet (and its datagram) was thrown away
        bool duplicate{false};          //!< the packet repeats bytes already in: dropped alone
        bool overLimit{false}; //!< a new datagram while kMaxPending wait: the packet is dropped
        /// The first piece of each incomplete datagram dropped after ipfrag_time.
        std::vector<Ptr<Packet>> expired;
    };

    /// An IPv4 packet, header included, arriving at now.
    Outcome Add(Ptr<const Packet> packet, Time now);
    size_t GetPending() const;

    /// Linux bounds ipfrag memory (ipfrag_high_thresh) and refuses new fragments beyond it.
    static constexpr uint32_t kMaxPending = 64;
    static constexpr int64_t kFragTimeSeconds = 30; //!< net.ipv4.ipfrag_time

  private:
    struct Partial
    {
        Ipv4Header first; //!< the header of the fragment at offset 0
        bool haveFirst{false};
        bool haveLast{false};
        uint32_t total{0};                      //!< payload bytes, once the last is in
        uint32_t end{0};                        //!< the furthest end of a piece so far
        std::map<uint32_t, Ptr<Packet>> pieces; //!< payload by offset, disjoint
        Time started; //!< when its first piece came (ipfrag_time runs from there)
    };

    using Key = std::tuple<uint32_t, uint32_t, uint8_t, uint16_t>; //!< src, dst, proto, ID

    std::map<Key, Partial> m_partials;
};

} // namespace ns3

#endif // IPV4_REASSEMBLER_H
