// What the preload library and the XFRM netlink server say to each other over one Unix
// SOCK_SEQPACKET connection, which stands for one NETLINK_XFRM socket of the client. Header
// only, no ns-3: the preload library includes it too.
//
// Client to server, each a packet that starts with an XfrmWireOp, in the order of the client's
// calls; none is answered, so the connection from server to client carries only netlink
// datagrams (one a packet) and poll() on it means what it means on a netlink socket:
//   Hello   {op, uint32 port id}             first: the socket's port id, which the client
//                                            chooses as the kernel would (the process id for
//                                            its first netlink socket, then unique others)
//   Bind    {op, uint32 port id, uint32 groups}
//   Option  {op, uint32 option, uint32 value} NETLINK_ADD_MEMBERSHIP, _DROP_MEMBERSHIP,
//                                            _EXT_ACK, _CAP_ACK
//   Send    {op, netlink datagram...}
//
// A connection of its own, first and only packet, answered with one byte (1 taken, 0 refused)
// once the endpoint has applied it, so the client's setsockopt returns after the emulated
// kernel knows:
//   SocketOption {op, uint32 level << 16 | optname, uint32 protocol << 16 | local port,
//                 the option's value...}      an XFRM option a client set on one of its real
//                                            sockets: IP_XFRM_POLICY / IPV6_XFRM_POLICY
//                                            (charon's IKE bypass) or UDP_ENCAP (its NAT-T
//                                            socket); the real kernel took it too
#ifndef XFRM_NETLINK_WIRE_H
#define XFRM_NETLINK_WIRE_H

#include <cstdint>

namespace ns3
{

/// The environment variable that names the server's socket path for the preload library.
constexpr const char* kXfrmSocketEnv = "OFFLOADLAB_XFRM_SOCKET";

enum class XfrmWireOp : uint32_t
{
    Hello = 1,
    Bind = 2,
    Option = 3,
    Send = 4,
    SocketOption = 5,
};

/// The largest packet either side sends: a netlink datagram of 64 KiB and the op.
constexpr uint32_t kXfrmWireMaxPacket = 65536 + 16;

} // namespace ns3

#endif // XFRM_NETLINK_WIRE_H
