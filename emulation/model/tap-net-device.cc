#include "tap-net-device.h"

#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
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
    TapFdReader(std::shared_ptr<TapNetDevice::Credits> credits,
                uint32_t readAhead,
                uint32_t bufferSize)
        : m_credits(std::move(credits)),
          m_half(std::max<uint32_t>(readAhead / 2, 1)),
          m_bufferSize(bufferSize)
    {
    }

  private:
    FdReader::Data DoRead() override
    {
        TapNetDevice::Credits& c = *m_credits;
        if (m_sinceMarker >= m_half)
        {
            // The simulator runs events from one thread in the order they were scheduled (same
            // or later real time, then insertion order): when it runs this marker, every frame
            // read before it has been forwarded.
            m_sinceMarker = 0;
            {
                std::lock_guard<std::mutex> lock(c.mutex);
                ++c.scheduled;
            }
            std::shared_ptr<TapNetDevice::Credits> credits = m_credits;
            Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [credits] {
                {
                    std::lock_guard<std::mutex> lock(credits->mutex);
                    ++credits->processed;
                }
                credits->taken.notify_one();
            });
        }
        {
            std::unique_lock<std::mutex> lock(c.mutex);
            auto ready = [&c] { return c.scheduled - c.processed < 2 || c.stopping; };
            if (!ready())
            {
                ++c.waits;
                // Bounded, so that FdReader::Stop (which only this loop's return lets the thread
                // see) is noticed while the simulator is stopped.
                if (!c.taken.wait_for(lock, std::chrono::milliseconds(2), ready) || c.stopping)
                {
                    return FdReader::Data(nullptr, -1); // nothing read: back to select
                }
            }
        }
        auto* buf = static_cast<uint8_t*>(std::malloc(m_bufferSize));
        const ssize_t len = buf ? read(m_fd, buf, m_bufferSize) : -1;
        if (len <= 0)
        {
            std::free(buf);
            // 0 would end the reader; a TAP gives 0 only when it is gone, -1 for EAGAIN/EINTR.
            return FdReader::Data(nullptr, len == 0 ? 0 : -1);
        }
        ++m_sinceMarker;
        return FdReader::Data(buf, len);
    }

    std::shared_ptr<TapNetDevice::Credits> m_credits;
    const uint32_t m_half;
    const uint32_t m_bufferSize;
    uint32_t m_sinceMarker{0}; //!< the reader thread's own
};

} // namespace

TypeId
TapNetDevice::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::TapNetDevice")
            .SetParent<FdNetDevice>()
            .SetGroupName("Emulation")
            .AddConstructor<TapNetDevice>()
            .AddAttribute("ReadAhead",
                          "Frames the reader may have read that the simulator has not taken yet "
                          "(a receive ring's size); the rest wait in the host's TAP queue",
                          UintegerValue(16),
                          MakeUintegerAccessor(&TapNetDevice::m_readAhead),
                          MakeUintegerChecker<uint32_t>(2));
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

Ptr<FdReader>
TapNetDevice::DoCreateFdReader()
{
    // 22 bytes: the Ethernet header and a possible LLC/SNAP one, as FdNetDevice's reader reads.
    return Create<TapFdReader>(m_credits, m_readAhead, uint32_t(GetMtu()) + 22);
}

void
TapNetDevice::DoDispose()
{
    // Before FdNetDevice joins the reader: a reader waiting for credits returns at once.
    m_credits->stopping = true;
    m_credits->taken.notify_all();
    FdNetDevice::DoDispose();
}

} // namespace ns3
