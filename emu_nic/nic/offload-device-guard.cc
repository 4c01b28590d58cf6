#include "offload-device-guard.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

namespace ns3
{

namespace
{
const char* volatile g_current = nullptr;

void
WriteAll(const char* text)
{
    size_t left = std::strlen(text);
    while (left > 0)
    {
        const ssize_t n = write(STDERR_FILENO, text, left);
        if (n <= 0)
        {
            return;
        }
        text += n;
        left -= size_t(n);
    }
}

void
OnFatalSignal(int signal)
{
    // Only async-signal-safe calls here.
    char number[12];
    int i = sizeof(number) - 1;
    number[i] = '\0';
    int value = signal;
    do
    {
        number[--i] = char('0' + value % 10);
        value /= 10;
    } while (value > 0 && i > 0);
    const char* callback = g_current;
    if (callback)
    {
        WriteAll("\noffloadlab: device crashed in callback ");
        WriteAll(callback);
    }
    else
    {
        WriteAll("\noffloadlab: crashed outside any device callback");
    }
    WriteAll(" (signal ");
    WriteAll(number + i);
    WriteAll(")\n");
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}
} // namespace

DeviceCallScope::DeviceCallScope(const char* callback)
    : m_previous(g_current)
{
    g_current = callback;
}

DeviceCallScope::~DeviceCallScope()
{
    g_current = m_previous;
}

const char*
DeviceCallScope::Current()
{
    return g_current;
}

void
OffloadDeviceFault(const char* callback, const std::string& detail)
{
    std::cerr << "\noffloadlab: device fault in callback " << callback << ": " << detail
              << std::endl;
    std::_Exit(70);
}

void
InstallDeviceCrashReporter()
{
    for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    {
        std::signal(signal, &OnFatalSignal);
    }
}

} // namespace ns3
