#ifndef OFFLOAD_DEVICE_GUARD_H
#define OFFLOAD_DEVICE_GUARD_H

#include <string>

namespace ns3
{

/**
 * Marks which device ABI callback is running, so that a device that crashes in one is reported
 * by name ("offloadlab: device crashed in callback olab_tx (signal 11)").
 */
class DeviceCallScope
{
  public:
    explicit DeviceCallScope(const char* callback);
    ~DeviceCallScope();
    DeviceCallScope(const DeviceCallScope&) = delete;
    DeviceCallScope& operator=(const DeviceCallScope&) = delete;

    /// The callback running now, or nullptr outside the device.
    static const char* Current();

  private:
    const char* m_previous;
};

/// A device broke the ABI (a value outside the documented range): prints
/// "offloadlab: device fault in callback <callback>: <detail>" and ends the process (exit 70),
/// since nothing the device did afterwards could be trusted.
[[noreturn]] void OffloadDeviceFault(const char* callback, const std::string& detail);

/// Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that name the running
/// callback on stderr, then let the signal end the process as it would have.
void InstallDeviceCrashReporter();

} // namespace ns3

#endif // OFFLOAD_DEVICE_GUARD_H
