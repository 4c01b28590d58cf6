#ifndef OFFLOAD_DEVICE_TYPE_H
#define OFFLOAD_DEVICE_TYPE_H

#include "offloadlab-device.h"

#include <memory>
#include <string>
#include <vector>

namespace ns3
{

/**
 * A kind of offload device behind the offloadlab device ABI (nic/abi/offloadlab-device.h): a
 * device built into the program (it registers itself, see OffloadDeviceRegistration), a named
 * device library (e.g. "example"), or a vendor's shared library loaded with dlopen.
 *
 * A spec names it: a registered name ("reference", "mutant:NAME", ...) or a path to a .so
 * (anything with a '/' or ending in .so). EmuNicNetDevice's "Device" attribute takes the same.
 */
class OffloadDeviceType
{
  public:
    /// Finds or loads the device; nullptr with a message (naming the missing symbol or the bad
    /// capability field) on failure. Loaded libraries stay loaded until the process ends.
    static std::shared_ptr<const OffloadDeviceType> Open(const std::string& spec,
                                                         std::string* error);
    /// Every registered spec, in listing order.
    static std::vector<std::string> ListBuiltin();
    /// The spec as Open will take it: a registered name unchanged; a path to a library (an
    /// existing file, or a name with a '/' or ending in .so) made absolute, so that dlopen
    /// never searches the library path for "libmydev.so".
    static std::string ResolveSpec(const std::string& spec);
    /// The shared library that holds the device of a resolved spec: the library of a named
    /// device or the path itself; "" for a device built into the program.
    static std::string LibraryOf(const std::string& spec);
    /// The one line a registered device was registered with ("" for other specs and devices
    /// registered without one).
    static std::string GetNote(const std::string& spec);

    const std::string& GetSpec() const;
    const olab_capabilities& GetCapabilities() const;
    const olab_device_ops& GetOps() const;
    bool OffersCrypto() const;
    bool OffersPacket() const;
    /// True for a C++ device built into the program: its instances are BuiltinOffloadDevice.
    bool IsBuiltin() const;

    OffloadDeviceType(std::string spec,
                      const olab_device_ops& ops,
                      const olab_capabilities& caps,
                      bool builtin);

  private:
    std::string m_spec;
    olab_device_ops m_ops;
    olab_capabilities m_caps;
    bool m_builtin;
};

/**
 * Registers a device under a spec when the program starts: a built-in device's library holds
 * one as a static object, so the NIC never needs to know which devices exist or where they are
 * built. order sorts the listing (lower first).
 */
class OffloadDeviceRegistration
{
  public:
    /// A device built into the program, with an optional one-line note about it.
    OffloadDeviceRegistration(const std::string& spec,
                              const olab_device_ops& ops,
                              int order,
                              const std::string& note = "");
    /// A name for a device library at path.
    OffloadDeviceRegistration(const std::string& spec, const std::string& path, int order);
};

} // namespace ns3

#endif // OFFLOAD_DEVICE_TYPE_H
