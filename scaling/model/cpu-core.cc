#include "cpu-core.h"

#include "ns3/simulator.h"

#include <algorithm>
#include <cmath>

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(CpuCore);

namespace
{
const Time kSoftirqTime = MilliSeconds(2); // Linux's MAX_SOFTIRQ_TIME
} // namespace

Time
SaLock::Acquire(Time now, Time work, Time hold, uint32_t sections)
{
    backlog = std::max(Time(0), backlog - (now - last));
    last = now;
    const Time mine = hold * int64_t(sections);
    const Time wait = std::max(Time(0), backlog + mine - work);
    backlog += mine;
    return wait;
}

TypeId
CpuCore::GetTypeId()
{
    static TypeId tid = TypeId("ns3::CpuCore")
                            .SetParent<Object>()
                            .SetGroupName("Scaling")
                            .AddConstructor<CpuCore>();
    return tid;
}

void
CpuCore::SetFrequency(double hz)
{
    m_hz = hz;
}

void
CpuCore::Submit(Class c,
                double cycles,
                std::function<void()> done,
                SaLock* lock,
                uint32_t lockPackets,
                double lockCyclesPerPacket)
{
    m_queues[size_t(c)].push_back(
        Job{cycles, std::move(done), lock, lockPackets, lockCyclesPerPacket});
    if (!m_running)
    {
        StartNext();
    }
}

size_t
CpuCore::PickClass(Time now)
{
    const bool soft = !m_queues[0].empty();
    const bool task = !m_queues[1].empty();
    if (!soft)
    {
        m_deferred = false; // ksoftirqd has nothing left
        m_softirqSince = Time::Max();
        return 1;
    }
    if (!task)
    {
        if (!m_deferred)
        {
            m_softirqSince = Time::Max(); // no task waits: no streak keeps one off the core
        }
        return 0;
    }
    // Softirq work first, as __do_softirq runs it on irq exit; after 2 ms of it while a task
    // waits (MAX_SOFTIRQ_TIME) the rest goes to ksoftirqd, which the scheduler shares fairly
    // with the task: from then on, the class that has had less of the core goes next.
    if (!m_deferred)
    {
        if (m_softirqSince == Time::Max())
        {
            m_softirqSince = now;
        }
        if (now - m_softirqSince < kSoftirqTime)
        {
            return 0;
        }
        m_deferred = true;
        m_deferredTime[0] = m_deferredTime[1] = Time(0);
    }
    return m_deferredTime[0] <= m_deferredTime[1] ? 0 : 1;
}

void
CpuCore::StartNext()
{
    const Time now = Simulator::Now();
    const size_t cls = PickClass(now);
    std::deque<Job>& q = m_queues[cls];
    if (q.empty())
    {
        m_running = false;
        return;
    }
    Job job = std::move(q.front());
    q.pop_front();
    m_running = true;
    Time work = Seconds(job.cycles / m_hz);
    Time spin;
    if (job.lock && job.lockPackets > 0)
    {
        spin =
            job.lock->Acquire(now, work, Seconds(job.lockCyclesPerPacket / m_hz), job.lockPackets);
        work += spin;
    }
    m_spun += spin;
    if (m_deferred)
    {
        m_deferredTime[cls] += work;
    }
    m_runningSince = now;
    m_runningUntil = now + work;
    m_runningSpin = spin;
    m_busy += work;
    // One job runs at a time: its callback waits here, not copied into the event.
    m_runningDone = std::move(job.done);
    Simulator::Schedule(work, &CpuCore::Finish, this);
}

void
CpuCore::DoDispose()
{
    // Queued jobs hold callbacks that may hold this core.
    m_queues[0].clear();
    m_queues[1].clear();
    m_runningDone = nullptr;
    Object::DoDispose();
}

void
CpuCore::Finish()
{
    // m_running stays true while done runs, so what it submits queues behind.
    std::function<void()> done = std::move(m_runningDone);
    m_runningDone = nullptr;
    done();
    StartNext();
}

size_t
CpuCore::GetBacklog(Class c) const
{
    return m_queues[size_t(c)].size();
}

Time
CpuCore::GetBusy() const
{
    // Work charged but not yet done by now does not count.
    const Time now = Simulator::Now();
    return m_running && m_runningUntil > now ? m_busy - (m_runningUntil - now) : m_busy;
}

Time
CpuCore::GetSpun() const
{
    // As GetBusy: the running job's spin counts in proportion to the part of it done.
    const Time now = Simulator::Now();
    if (!m_running || m_runningUntil <= now || m_runningUntil == m_runningSince)
    {
        return m_spun;
    }
    const double ahead =
        (m_runningUntil - now).GetSeconds() / (m_runningUntil - m_runningSince).GetSeconds();
    return m_spun - Seconds(m_runningSpin.GetSeconds() * ahead);
}

void
CpuCore::ResetStats()
{
    const Time now = Simulator::Now();
    // The part of the running job that lies ahead is the next window's.
    m_busy = m_running && m_runningUntil > now ? m_runningUntil - now : Time(0);
    m_spun = m_running && m_runningUntil > now ? m_spun - GetSpun() : Time(0);
}

} // namespace ns3
