// The iMIX cells' traffic: a UDP sender that writes datagrams of a repeating size pattern as
// fast as its socket's send buffer lets it, as `iperf3 -u -b 0` with a size mix would.
#ifndef IMIX_SENDER_H
#define IMIX_SENDER_H

#include "scale-host.h"

#include "ns3/application.h"
#include "ns3/ipv4-address.h"
#include "ns3/socket.h"

#include <vector>

namespace ns3
{

/// The simple iMIX of IP packet sizes (7 of 40 bytes, 4 of 576, 1 of 1500), interleaved, with
/// the largest cut to innerMtu; as UDP payload sizes (IP size less 28).
std::vector<uint32_t> ImixUdpPayloads(uint32_t innerMtu);

class ImixSender : public Application
{
  public:
    static TypeId GetTypeId();
    /// Sends flow's datagrams to remote; at most window of them in the host at once (the
    /// socket's send buffer: a datagram leaves it when the NIC has sent it).
    void Setup(Ptr<ScaleHost> host,
               uint32_t flow,
               InetSocketAddress remote,
               std::vector<uint32_t> payloads,
               uint32_t window);

  private:
    void StartApplication() override;
    void StopApplication() override;
    void SendWhileRoom();

    Ptr<ScaleHost> m_host;
    uint32_t m_flow{0};
    Address m_remote;
    std::vector<uint32_t> m_payloads;
    uint32_t m_window{0};
    Ptr<Socket> m_socket;
    size_t m_next{0};
    bool m_running{false};
};

} // namespace ns3

#endif // IMIX_SENDER_H
