#ifndef OFFLOAD_DEVICE_TYPE_H
#define OFFLOAD_DEVICE_TYPE_H

#include "offloadlab-device.h"

#include <memory>
#include <string>
#include <vector>

namespace ns3
{

/**
 * A kind of offload device behind the offloadlab device ABI (emu_nic/abi/offloadlab-device.h):
 * the built-in reference engine, a built-in mutant (the reference with one defect), the
 * in-tree example device, or a vendor's shared library loaded with dlopen.
 *
 * A spec names it: "reference", "example", "mutant:NAME", or a path to a .so (anything with a
 * '/'). EmuNicNetDevice's "Device" attribute takes the same spec.
 */
class OffloadDeviceType
{
  public:
    /// Finds or loads the device; nullptr with a message (naming the missing symbol or the bad
    /// capability field) on failure. Loaded libraries stay loaded until the process ends.
    static std::shared_ptr<const OffloadDeviceType> Open(const std::string& spec,
                                                         std::string* error);
    /// Every built-in spec, one per entry: "reference", "example", then "mutant:NAME" each.
    static std::vector<std::string> ListBuiltin();
    /// The one-line defect of a built-in mutant ("" for other specs).
    static std::string DescribeMutant(const std::string& spec);

    const std::string& GetSpec() const;
    const olab_capabilities& GetCapabilities() const;
    const olab_device_ops& GetOps() const;
    bool OffersCrypto() const;
    bool OffersPacket() const;
    /// True for the built-in reference engine and its mutants (which offer inspection).
    bool IsReferenceEngine() const;

    OffloadDeviceType(std::string spec, const olab_device_ops& ops);

  private:
    std::string m_spec;
    olab_device_ops m_ops;
    olab_capabilities m_caps;
};

} // namespace ns3

#endif // OFFLOAD_DEVICE_TYPE_H
