// The emulated host's TAP as an ns-3 device whose reader reads no further ahead of the
// simulator than a NIC's receive ring: what the simulator has not taken yet waits in the host
// kernel's TAP queue, not in the simulator's event list.
#ifndef TAP_NET_DEVICE_H
#define TAP_NET_DEVICE_H

#include "ns3/fd-net-device.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

namespace ns3
{

/**
 * An FdNetDevice whose reader thread reads only so far ahead of the simulator. FdNetDevice's own
 * reader reads as fast as the host writes: under full traffic the backlog (up to its
 * RxQueueSize, 1000 frames) sat in the simulator's event list, ahead of every netlink request
 * and timer, as real-time lag; past it, the reader dropped frames and slept 100 ms. Bounded, the
 * backlog stays in the host's TAP queue, which drops when full as a NIC's ring does, and TCP in the
 * host sees the bottleneck as a link's. The bound adapts, as Linux's dynamic queue limits
 * (lib/dynamic_queue_limits.c) size a NIC's queue: a fixed 16 frames starved the simulator whenever
 * the reader thread waited for a CPU to wake on, and a fixed 64 let frames wait several
 * milliseconds. The reader places a marker event after every kFramesPerMarker frames; a marker the
 * simulator runs more than TargetLag after it was placed shrinks the read-ahead, one run young
 * while the reader was held back grows it.
 */
class TapNetDevice : public FdNetDevice
{
  public:
    static TypeId GetTypeId();

    TapNetDevice();

    static constexpr uint32_t kFramesPerMarker = 4;

    /// Frames the reader held back for the simulator before reading them (the host's queue held
    /// them meanwhile).
    uint64_t GetReaderWaits() const;
    /// The smallest and largest read-ahead, in frames, the run came to.
    std::pair<uint32_t, uint32_t> GetReadAheadRange() const;

    /// What the reader and the simulator's marker events share; outlives either.
    struct Credits
    {
        /// A marker ran (simulator thread): the frames before it are taken.
        void Taken(std::chrono::steady_clock::time_point now);

        std::mutex mutex;
        std::condition_variable taken;
        /// When each marker the simulator has not run yet was placed, oldest first.
        std::deque<std::chrono::steady_clock::time_point> pending;
        size_t limit{2};    //!< markers that may wait: the read-ahead
        size_t minLimit{2}; //!< 8 frames
        size_t maxLimit{2};
        size_t lowestLimit{2};
        size_t highestLimit{2};
        std::chrono::nanoseconds target{1000000};
        bool readerWaiting{false};
        std::atomic<bool> stopping{false};
        std::atomic<uint64_t> waits{0};
    };

  protected:
    void DoDispose() override;

  private:
    Ptr<FdReader> DoCreateFdReader() override;

    uint32_t m_readAhead{1000};
    Time m_targetLag;
    std::shared_ptr<Credits> m_credits;
};

} // namespace ns3

#endif // TAP_NET_DEVICE_H
