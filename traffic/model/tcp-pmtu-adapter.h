#ifndef TCP_PMTU_ADAPTER_H
#define TCP_PMTU_ADAPTER_H

#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"
#include "ns3/socket.h"

#include <cstdint>

namespace ns3
{

/**
 * Path MTU discovery for an ns-3 TCP socket, which otherwise ignores ICMP "fragmentation
 * needed" and ICMPv6 "Packet Too Big": on such an error the socket's segment size drops to fit
 * the reported MTU, as Linux's tcp_v4_mtu_reduced and tcp_v6_mtu_reduced do, so that lost
 * segments are resent smaller. This is what lets TCP
 * recover from the packet-offload PMTU check.
 */
class TcpPmtuAdapter : public SimpleRefCount<TcpPmtuAdapter>
{
  public:
    /// Subscribes to the socket's ICMP errors; the adapter lives as long as the subscription.
    static Ptr<TcpPmtuAdapter> Attach(Ptr<Socket> socket);

    uint32_t GetAdaptations() const; //!< how often the segment size was lowered
    uint32_t GetSegmentSize() const;

  private:
    void OnIcmp(Ipv4Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info);
    void OnIcmp6(Ipv6Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info);
    /// Lowers the segment size to fit mtu with overhead bytes of IP and TCP headers.
    void Reduce(uint32_t mtu, uint32_t overhead);

    Socket* m_socket{nullptr}; //!< not owned: the socket owns the callback that owns us
    uint32_t m_adaptations{0};
};

} // namespace ns3

#endif // TCP_PMTU_ADAPTER_H
