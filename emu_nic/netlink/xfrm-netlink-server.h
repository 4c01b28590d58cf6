#ifndef XFRM_NETLINK_SERVER_H
#define XFRM_NETLINK_SERVER_H

#include "xfrm-netlink-endpoint.h"

#include "ns3/object.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ns3
{

/**
 * Carries an XfrmNetlinkEndpoint's datagrams to and from clients on a Unix SOCK_SEQPACKET
 * socket at a filesystem path (a path, since abstract names are per network namespace): one
 * connection per NETLINK_XFRM socket of a client, as the preload library opens them
 * (xfrm-netlink-wire.h).
 *
 * An I/O thread accepts connections and reads them; what a client sends is handed to the
 * simulator thread in order (Simulator::ScheduleWithContext, which RealtimeSimulatorImpl takes
 * from any thread), so the endpoint runs where the XfrmStack runs. The endpoint's answers are
 * written from the simulator thread. A client that closes is forgotten by the endpoint.
 */
class XfrmNetlinkServer : public Object
{
  public:
    static TypeId GetTypeId();
    XfrmNetlinkServer();
    ~XfrmNetlinkServer() override;

    /// Serves endpoint at path (an old socket file there is replaced). False with the reason.
    bool Start(Ptr<XfrmNetlinkEndpoint> endpoint, const std::string& path, std::string* error);
    /// Stops the I/O thread, closes every connection and removes the socket file. Idempotent.
    void Stop();
    const std::string& GetPath() const;

    /// One netlink request's wall-clock times, in microseconds.
    struct RequestTiming
    {
        double totalUs;   //!< read off its connection to the end of the endpoint's answer
        double serviceUs; //!< the endpoint's own part: the simulator thread's queue left out
        uint16_t type;    //!< nlmsg_type of the packet's first message
    };

    /// Every request served so far, in order.
    std::vector<RequestTiming> GetRequestLatencies() const;

  protected:
    void DoDispose() override;

  private:
    struct Client
    {
        int fd{-1};
        uint32_t portId{0};
    };

    void IoLoop();
    /// Reads one packet of a connection; false when the connection is gone.
    bool ReadClient(int fd);
    void CloseClient(int fd);
    // Run on the simulator thread, in the order the client sent.
    void Deliver(int fd, std::vector<uint8_t> packet, std::chrono::steady_clock::time_point read);
    /// Hands every queued packet and close, in order, to the endpoint (simulator thread).
    void Drain();
    /// Drain every 250 us of simulated time while running (raw pointers in these events:
    /// ns-3's reference counts are not atomic, and other threads hold the server; it must
    /// outlive the simulator's run, as Stop before Simulator::Destroy makes it): when the real-time
    /// simulator lags behind the wall clock under load, an event stamped with the wall clock (as
    /// ScheduleWithContext stamps it from another thread) waits behind every packet already due;
    /// this one does not.
    void Tick();
    void Closed(uint32_t portId);
    /// The endpoint's datagram for portId, written to its connection.
    void SendToClient(uint32_t portId, std::vector<uint8_t> datagram);

    Ptr<XfrmNetlinkEndpoint> m_endpoint;
    std::string m_path;
    int m_listen{-1};
    int m_wake[2]{-1, -1}; //!< a pipe that wakes the I/O thread to stop
    std::thread m_thread;
    std::atomic<bool> m_running{false};
    mutable std::mutex m_mutex;             //!< guards m_clients and m_byPort
    std::map<int, Client> m_clients;        //!< by connection fd
    std::map<uint32_t, int> m_byPort;       //!< port id -> connection fd (the latest)
    std::vector<RequestTiming> m_latencies; //!< guarded by m_mutex

    /// What the I/O thread read, for the simulator thread (guarded by m_mutex).
    struct Pending
    {
        int fd{-1};
        std::vector<uint8_t> packet;
        std::chrono::steady_clock::time_point read;
        bool closed{false}; //!< the connection closed: forget portId
        uint32_t portId{0};
    };

    std::deque<Pending> m_pending;
};

} // namespace ns3

#endif // XFRM_NETLINK_SERVER_H
