#include "realtime-runner.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/enum.h"
#include "ns3/global-value.h"
#include "ns3/realtime-simulator-impl.h"
#include "ns3/simulator.h"
#include "ns3/string.h"

#include <future>
#include <memory>

namespace ns3
{

void
RealtimeRunner::UseRealtime(Time hardLimit)
{
    Config::SetDefault("ns3::RealtimeSimulatorImpl::SynchronizationMode",
                       EnumValue(RealtimeSimulatorImpl::SYNC_HARD_LIMIT));
    Config::SetDefault("ns3::RealtimeSimulatorImpl::HardLimit", TimeValue(hardLimit));
    GlobalValue::Bind("SimulatorImplementationType", StringValue("ns3::RealtimeSimulatorImpl"));
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
}

RealtimeRunner::~RealtimeRunner()
{
    Stop();
}

void
RealtimeRunner::Start(Time lagProbe)
{
    if (m_running)
    {
        return;
    }
    m_probe = lagProbe;
    m_running = true;
    auto started = std::make_shared<std::promise<void>>();
    std::future<void> ready = started->get_future();
    m_thread = std::thread([this, started] {
        m_simulatorThread = std::this_thread::get_id();
        Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [this] { Probe(); });
        // Ready from the first event on: ns-3 3.37's RealtimeSimulatorImpl::Run sets m_running
        // before its clock's origin, and a ScheduleWithContext from another thread in between
        // is timed from origin 0, hours ahead: the caller's first Call would never run.
        Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [started] {
            started->set_value();
        });
        Simulator::Run();
    });
    ready.wait();
}

void
RealtimeRunner::Probe()
{
    Ptr<RealtimeSimulatorImpl> impl =
        DynamicCast<RealtimeSimulatorImpl>(Simulator::GetImplementation());
    if (impl)
    {
        const int64_t lag = (impl->RealtimeNow() - Simulator::Now()).GetNanoSeconds();
        m_lastLagNs = lag;
        if (lag > m_maxLagNs)
        {
            m_maxLagNs = lag;
        }
        ++m_samples;
        std::lock_guard<std::mutex> lock(m_lagsMutex);
        m_lagsNs.push_back(lag);
    }
    Simulator::Schedule(m_probe, &RealtimeRunner::Probe, this);
}

void
RealtimeRunner::Call(const std::function<void()>& fn)
{
    if (!m_running || std::this_thread::get_id() == m_simulatorThread)
    {
        fn();
        return;
    }
    std::promise<void> done;
    std::future<void> finished = done.get_future();
    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [&fn, &done] {
        fn();
        done.set_value();
    });
    finished.wait();
}

void
RealtimeRunner::Stop()
{
    if (!m_running)
    {
        return;
    }
    Simulator::ScheduleWithContext(Simulator::NO_CONTEXT, Time(0), [] { Simulator::Stop(); });
    m_thread.join();
    m_running = false;
}

bool
RealtimeRunner::IsRunning() const
{
    return m_running;
}

Time
RealtimeRunner::GetMaxLag() const
{
    return NanoSeconds(m_maxLagNs.load());
}

Time
RealtimeRunner::GetLastLag() const
{
    return NanoSeconds(m_lastLagNs.load());
}

std::vector<int64_t>
RealtimeRunner::GetLags() const
{
    std::lock_guard<std::mutex> lock(m_lagsMutex);
    return m_lagsNs;
}

uint64_t
RealtimeRunner::GetLagSamples() const
{
    return m_samples;
}

} // namespace ns3
