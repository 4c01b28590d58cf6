#include "tap-net-device.h"

#include "tap-device.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/nstime.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("TapNetDevice");

NS_OBJECT_ENSURE_REGISTERED(TapNetDevice);

namespace
{

/// FdNetDevice's reader (one frame per read, in a malloc'd buffer FdNetDevice frees), with a
/// credit wait before each read.
class TapFdReader : public FdReader
{
  public:
    TapFdReader(std::shared_ptr<TapNetDevice::Credits> credits, uint32_t bufferSize)
        : m_credits(std::move(credits)),
          m_bufferSize(bufferSize)
    {
    }

  private:
    static constexpr uint32_t kFramesPerMarker = TapNetDevice::kFramesPerMarker;

    FdReader::Data DoRead() override
    {
        if (!m_batch)
        {
            RunThisThreadAsBatch(); // woken for credits, it must not preempt the simulator
            m_batch = true;
        }
        TapNetDevice::Credits& c = *m_credits;
        if (m_sinceMarker >= kFramesPerMarker)
        {
            // The simulator runs events from one thread in the order they were scheduled (same
            // or later real time, then insertion order): when it runs this marker, every frame
            // read before it has been forwarded. (That needs the synchronizer's wall clock not to
            // step back, and one Simulator::Run, as the emulation has.)
            m_sinceMarker = 0;
            {
                std::lock_guard<std::mutex> lock(c.mutex);
                c.pending.push_back(std::chrono::steady_clock::now());
            }
            std::shared_ptr<TapNetDevice::Credits> credits = m_credits;
            Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [credits] {
                credits->Taken(std::chrono::steady_clock::now());
            });
        }
        {
            std::unique_lock<std::mutex> lock(c.mutex);
            auto ready = [&c] { return c.stopping || c.pending.size() < c.limit; };
            if (!ready())
            {
                if (!m_held)
                {
                    ++c.waits; // once per frame held back, however many 2 ms rounds it takes
                    m_held = true;
                }
                c.readerWaiting = true;
                // Until half the read-ahead is taken (Taken wakes it then); bounded, so that
                // FdReader::Stop (which only this loop's return lets the thread see) is noticed
                // while the simulator is stopped.
                const bool woken = c.taken.wait_for(lock, std::chrono::milliseconds(2), [&c] {
                    return c.stopping || c.pending.size() <= c.limit / 2;
                });
                c.readerWaiting = false;
                if (!woken || c.stopping)
                {
                    return FdReader::Data(nullptr, -1); // nothing read: back to select
                }
            }
        }
        m_held = false;
        auto* buf = static_cast<uint8_t*>(std::malloc(m_bufferSize));
        NS_ABORT_MSG_IF(!buf, "TapNetDevice: no memory for a frame");
        const ssize_t len = read(m_fd, buf, m_bufferSize);
        if (len <= 0)
        {
            const int error = errno;
            std::free(buf);
            if (len < 0 && (error == EAGAIN || error == EWOULDBLOCK || error == EINTR))
            {
                return FdReader::Data(nullptr, -1); // nothing this time: back to select
            }
            // The TAP is gone (EBADFD, EIO once its namespace is): end the reader, as
            // FdNetDevice's does, rather than spin on a descriptor select keeps calling readable.
            NS_LOG_WARN("TAP read: " << (len == 0 ? "end of file" : std::strerror(error))
                                     << ": the reader stops");
            return FdReader::Data(nullptr, 0);
        }
        ++m_sinceMarker;
        return FdReader::Data(buf, len);
    }

    std::shared_ptr<TapNetDevice::Credits> m_credits;
    const uint32_t m_bufferSize;
    uint32_t m_sinceMarker{0}; //!< the reader thread's own, as the two below
    bool m_batch{false};
    bool m_held{false}; //!< the next frame was held back already (counted in waits)
};

} // namespace

void
TapNetDevice::Credits::Taken(std::chrono::steady_clock::time_point now)
{
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (pending.empty())
        {
            return;
        }
        const auto waited = now - pending.front();
        pending.pop_front();
        // As Linux's dynamic queue limits size a NIC's queue: as short as keeps the consumer fed.
        // Frames that waited past the target shrink the limit; a reader held back while the
        // simulator took frames young grows it.
        if (waited > target)
        {
            limit -= std::min(limit - minLimit, std::max<size_t>(limit / 8, 1));
        }
        else if (waited < target / 2 && readerWaiting && limit < maxLimit)
        {
            ++limit;
        }
        lowestLimit = std::min(lowestLimit, limit);
        highestLimit = std::max(highestLimit, limit);
        // A reader held back reads again once half the read-ahead is taken: woken for every
        // marker, it would cost the simulator a futex wake per 4 frames.
        if (!readerWaiting || pending.size() > limit / 2)
        {
            return;
        }
    }
    taken.notify_one();
}

TypeId
TapNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::TapNetDevice")
            .SetParent<FdNetDevice>()
            .SetGroupName("Emulation")
            .AddConstructor<TapNetDevice>()
            .AddAttribute("TargetLag",
                          "How long a frame the reader read should wait for the simulator at "
                          "most: the read-ahead shrinks when frames wait longer",
                          TimeValue(MilliSeconds(1)),
                          MakeTimeAccessor(&TapNetDevice::m_targetLag),
                          MakeTimeChecker(MicroSeconds(1)))
            .AddAttribute("ReadAhead",
                          "The read-ahead's bounds and start, in frames: at most this many read "
                          "and not taken yet (FdNetDevice's RxQueueSize), at first a sixteenth",
                          UintegerValue(1000),
                          MakeUintegerAccessor(&TapNetDevice::m_readAhead),
                          MakeUintegerChecker<uint32_t>(4 * kFramesPerMarker));
    return tid;
}

TapNetDevice::TapNetDevice()
    : m_credits(std::make_shared<Credits>())
{
}

uint64_t
TapNetDevice::GetReaderWaits() const
{
    return m_credits->waits.load();
}

std::pair<uint32_t, uint32_t>
TapNetDevice::GetReadAheadRange() const
{
    std::lock_guard<std::mutex> lock(m_credits->mutex);
    return {uint32_t(m_credits->lowestLimit * kFramesPerMarker),
            uint32_t(m_credits->highestLimit * kFramesPerMarker)};
}

Ptr<FdReader>
TapNetDevice::DoCreateFdReader()
{
    {
        std::lock_guard<std::mutex> lock(m_credits->mutex);
        m_credits->target = std::chrono::nanoseconds(m_targetLag.GetNanoSeconds());
        // No more than FdNetDevice queues: past its RxQueueSize it drops and sleeps 100 ms.
        UintegerValue rxQueue;
        GetAttribute("RxQueueSize", rxQueue);
        m_credits->maxLimit =
            std::max<size_t>(std::min<uint64_t>(m_readAhead, rxQueue.Get()) / kFramesPerMarker,
                             m_credits->minLimit);
        m_credits->limit = std::max(m_credits->maxLimit / 16, m_credits->minLimit);
        m_credits->lowestLimit = m_credits->highestLimit = m_credits->limit;
    }
    // 22 bytes: the Ethernet header and a possible LLC/SNAP one, as FdNetDevice's reader reads.
    return Create<TapFdReader>(m_credits, uint32_t(GetMtu()) + 22);
}

void
TapNetDevice::DoDispose()
{
    // Before FdNetDevice joins the reader: a reader waiting for credits returns at once. Under
    // the lock, so that the wake cannot fall between its check and its wait.
    {
        std::lock_guard<std::mutex> lock(m_credits->mutex);
        m_credits->stopping = true;
    }
    m_credits->taken.notify_all();
    FdNetDevice::DoDispose();
}

} // namespace ns3
