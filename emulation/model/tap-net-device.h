// The emulated host's TAP as an ns-3 device whose reader reads no further ahead of the
// simulator than a NIC's receive ring: what the simulator has not taken yet waits in the host
// kernel's TAP queue, not in the simulator's event list.
#ifndef TAP_NET_DEVICE_H
#define TAP_NET_DEVICE_H

#include "ns3/fd-net-device.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace ns3
{

/**
 * An FdNetDevice whose reader thread keeps at most ReadAhead frames read but not yet taken by
 * the simulator. FdNetDevice's own reader reads as fast as the host writes: under full traffic
 * the backlog (up to its RxQueueSize, 1000 frames) sat in the simulator's event list, ahead of
 * every netlink request and timer, as real-time lag; past it, the reader dropped frames and slept
 * 100 ms. Bounded, the backlog stays in the host's TAP queue, which drops when full as a NIC's
 * ring does, and TCP in the host sees the bottleneck as a link's.
 */
class TapNetDevice : public FdNetDevice
{
  public:
    static TypeId GetTypeId();

    TapNetDevice();

    /// Frames the reader waited for the simulator before reading (the host's queue held them).
    uint64_t GetReaderWaits() const;

    /// What the reader and the simulator's marker events share; outlives either.
    struct Credits
    {
        std::mutex mutex;
        std::condition_variable taken;
        uint64_t scheduled{0}; //!< markers scheduled by the reader
        uint64_t processed{0}; //!< markers the simulator ran (guarded by mutex)
        std::atomic<bool> stopping{false};
        std::atomic<uint64_t> waits{0};
    };

  protected:
    void DoDispose() override;

  private:
    Ptr<FdReader> DoCreateFdReader() override;

    uint32_t m_readAhead{16};
    std::shared_ptr<Credits> m_credits;
};

} // namespace ns3

#endif // TAP_NET_DEVICE_H
