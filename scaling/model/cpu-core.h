// One core of a simulated host: a server that charges cycles at its clock.
#ifndef CPU_CORE_H
#define CPU_CORE_H

#include "ns3/nstime.h"
#include "ns3/object.h"

#include <deque>
#include <functional>
#include <vector>

namespace ns3
{

/**
 * A lock that serialises a section of every packet on one SA across cores (Linux's x->lock
 * for the replay window, the sequence number and the lifetime counters), as a fluid: the
 * sections all holders have committed form a backlog that the lock works off at one second
 * per second. A job whose own sections and the backlog before it do not fit in its own work
 * time spins until they do, so the holders together never hold the lock more than all the
 * time, and a core alone never waits for itself.
 */
struct SaLock
{
    /// Takes the lock for sections of hold each, in a job of work, at now; returns the time
    /// the job spins.
    Time Acquire(Time now, Time work, Time hold, uint32_t sections);

    Time backlog; //!< committed hold time not yet worked off, as of last
    Time last;
};

/**
 * A core as a non-preemptive server with two classes: softirq work (the NIC's receive, GRO,
 * XFRM, TCP's receive and its ACKs) before task work (the application's copy and send), as
 * Linux runs pending softirqs before it returns to the task; but once softirq work has kept a
 * waiting task off the core for 2 ms, the two share it evenly, as when __do_softirq hands its
 * work to ksoftirqd. A job that needs an SA lock spins
 * on it at its start, and the core is busy while it spins.
 */
class CpuCore : public Object
{
  public:
    enum class Class : uint8_t
    {
        Softirq,
        Task,
    };

    static TypeId GetTypeId();

    void SetFrequency(double hz);
    /// Queues cycles of work; done runs at its end. lockPackets sections of
    /// lockCyclesPerPacket each are held under lock (nullptr: none).
    void Submit(Class c,
                double cycles,
                std::function<void()> done,
                SaLock* lock = nullptr,
                uint32_t lockPackets = 0,
                double lockCyclesPerPacket = 0);

    /// Jobs of a class waiting (the running one not counted).
    size_t GetBacklog(Class c) const;
    /// Busy time (working or spinning) since the last ResetStats.
    Time GetBusy() const;
    Time GetSpun() const; //!< of it, spinning on SA locks
    void ResetStats();

  protected:
    void DoDispose() override;

  private:
    struct Job
    {
        double cycles;
        std::function<void()> done;
        SaLock* lock;
        uint32_t lockPackets;
        double lockCyclesPerPacket;
    };

    /// The queue the next job comes from (0 softirq, 1 task).
    size_t PickClass(Time now);
    void StartNext();
    void Finish();

    std::deque<Job> m_queues[2];
    Time m_softirqSince{Time::Max()}; //!< start of the softirq run a waiting task sits out
    bool m_deferred{false};           //!< softirq work deferred to ksoftirqd
    Time m_deferredTime[2];           //!< each class's time on the core since then
    bool m_running{false};
    std::function<void()> m_runningDone; //!< the running job's callback
    double m_hz{2.3e9};
    Time m_busy;
    Time m_spun;
    Time m_runningSince;
    Time m_runningUntil;
    Time m_runningSpin;
};

} // namespace ns3

#endif // CPU_CORE_H
