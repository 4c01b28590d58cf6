#include "cpu-core.h"

#include "ns3/simulator.h"

#include <algorithm>

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(CpuCore);

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

double
CpuCore::GetFrequency() const
{
    return m_hz;
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
    m_maxBacklog = std::max<uint64_t>(m_maxBacklog, m_queues[0].size() + m_queues[1].size());
    if (!m_running)
    {
        StartNext();
    }
}

void
CpuCore::StartNext()
{
    std::deque<Job>& q = !m_queues[0].empty() ? m_queues[0] : m_queues[1];
    if (q.empty())
    {
        m_running = false;
        return;
    }
    Job job = std::move(q.front());
    q.pop_front();
    m_running = true;
    const Time now = Simulator::Now();
    Time spin;
    if (job.lock && job.lockPackets > 0)
    {
        // The packets' sections run one after another under the lock; the core spins for
        // whoever holds it now, then holds it itself.
        spin = std::max(Time(0), job.lock->freeAt - now);
        const Time hold = Seconds(job.lockPackets * job.lockCyclesPerPacket / m_hz);
        job.lock->freeAt = now + spin + hold;
        job.lock->spun += spin;
        job.lock->acquired += job.lockPackets;
        m_spun += spin;
    }
    const Time work = spin + Seconds(job.cycles / m_hz);
    m_runningSince = now;
    m_runningUntil = now + work;
    m_busy += work;
    ++m_jobs;
    Simulator::Schedule(work, &CpuCore::Finish, this, std::move(job.done));
}

void
CpuCore::Finish(std::function<void()> done)
{
    done();
    StartNext();
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
    return m_spun;
}

uint64_t
CpuCore::GetJobs() const
{
    return m_jobs;
}

uint64_t
CpuCore::GetMaxBacklog() const
{
    return m_maxBacklog;
}

void
CpuCore::ResetStats()
{
    const Time now = Simulator::Now();
    // The part of the running job that lies ahead is the next window's.
    m_busy = m_running && m_runningUntil > now ? m_runningUntil - now : Time(0);
    m_spun = Time(0);
    m_jobs = 0;
    m_maxBacklog = m_queues[0].size() + m_queues[1].size();
    m_statsSince = now;
}

} // namespace ns3
