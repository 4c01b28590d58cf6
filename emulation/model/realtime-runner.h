// The emulation's one simulator thread. ns-3 3.37's RealtimeSimulatorImpl::Run re-sets its
// synchronizer's origin on every call, so each further Run() first waits as long as the
// simulated time so far: the simulator runs once, in a thread of its own, and everything else
// hands it work.
#ifndef REALTIME_RUNNER_H
#define REALTIME_RUNNER_H

#include "ns3/nstime.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ns3
{

class RealtimeRunner
{
  public:
    /// Chooses the real-time simulator in HardLimit mode (more than hardLimit behind real time
    /// ends the process with ns-3's fatal error instead of stretching RTTs unseen) and turns on
    /// checksums (real hosts check them). Call before anything is scheduled.
    static void UseRealtime(Time hardLimit);

    ~RealtimeRunner();

    /// Starts Simulator::Run() in the simulator thread; lag is sampled every lagProbe.
    void Start(Time lagProbe = MilliSeconds(10));
    /// Runs fn in the simulator thread and waits for it (at once when called from it).
    void Call(const std::function<void()>& fn);
    /// Stops the simulation and joins the thread; Simulator::Destroy is the caller's.
    void Stop();
    bool IsRunning() const;

    /// The largest lag of the simulator behind real time a probe saw, and the last one.
    Time GetMaxLag() const;
    Time GetLastLag() const;
    uint64_t GetLagSamples() const;
    /// Every lag the probe saw, in nanoseconds, in order.
    std::vector<int64_t> GetLags() const;

  private:
    void Probe();

    std::thread m_thread;
    std::thread::id m_simulatorThread;
    std::atomic<bool> m_running{false};
    std::atomic<int64_t> m_maxLagNs{0};
    std::atomic<int64_t> m_lastLagNs{0};
    std::atomic<uint64_t> m_samples{0};
    mutable std::mutex m_lagsMutex;
    std::vector<int64_t> m_lagsNs; //!< every sample, guarded by m_lagsMutex
    Time m_probe;
};

} // namespace ns3

#endif // REALTIME_RUNNER_H
