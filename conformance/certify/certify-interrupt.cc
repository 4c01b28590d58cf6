#include "certify-interrupt.h"

namespace offloadlab
{

namespace
{
volatile std::sig_atomic_t g_signal = 0;

void
OnSignal(int signal)
{
    // The first signal decides the exit code.
    if (g_signal == 0)
    {
        g_signal = signal;
    }
}
} // namespace

CertifyInterrupt::CertifyInterrupt()
{
    g_signal = 0;

    struct sigaction action
    {
    };

    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a wait or sleep returns early so the runner sees the flag at once.
    action.sa_flags = 0;
    sigaction(SIGINT, &action, &m_oldInt);
    sigaction(SIGTERM, &action, &m_oldTerm);
}

CertifyInterrupt::~CertifyInterrupt()
{
    sigaction(SIGINT, &m_oldInt, nullptr);
    sigaction(SIGTERM, &m_oldTerm, nullptr);
}

int
CertifyInterrupt::Pending()
{
    return g_signal;
}

} // namespace offloadlab
