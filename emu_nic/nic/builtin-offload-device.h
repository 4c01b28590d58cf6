#ifndef BUILTIN_OFFLOAD_DEVICE_H
#define BUILTIN_OFFLOAD_DEVICE_H

#include "offloadlab-device.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace ns3
{

/**
 * A device of the ABI written in C++ and built into offloadlab (the reference and its mutants):
 * one virtual method per function of offloadlab-device.h, turned into an olab_device_ops table
 * by BuiltinDeviceOps. The NIC still reaches it only through that table, exactly as it reaches a
 * vendor's library, so a built-in device is certified the same way.
 */
class BuiltinOffloadDevice
{
  public:
    virtual ~BuiltinOffloadDevice() = default;

    virtual int StateAdd(const olab_sa& sa, uint64_t* handle, std::string* reason) = 0;
    virtual void StateDelete(uint64_t handle) = 0;
    virtual void StateFree(uint64_t handle) = 0;
    virtual bool OffloadOk(uint64_t handle, const uint8_t* ipHeader, uint32_t headerLength) = 0;
    virtual void StateAdvanceEsn(uint64_t handle, uint64_t replayTop) = 0;
    virtual void StateUpdateStats(uint64_t handle, olab_sa_stats* stats) = 0;
    virtual int PolicyAdd(const olab_policy& policy, uint64_t* handle, std::string* reason) = 0;
    virtual void PolicyDelete(uint64_t handle) = 0;
    virtual void PolicyFree(uint64_t handle) = 0;
    virtual int Tx(uint8_t* buf,
                   uint32_t* len,
                   uint32_t cap,
                   const olab_tx_meta* meta,
                   uint32_t mtu,
                   uint32_t* dropReason) = 0;
    virtual int Rx(uint8_t* buf,
                   uint32_t* len,
                   uint32_t cap,
                   olab_rx_info* info,
                   uint32_t* dropReason) = 0;
};

/// Creates a device instance, or nullptr with the reason (naming the field) in *error.
using BuiltinDeviceFactory = std::unique_ptr<BuiltinOffloadDevice> (*)(const olab_host& host,
                                                                       const olab_config& config,
                                                                       std::string* error);

namespace builtin_device_abi
{
inline BuiltinOffloadDevice*
Of(void* dev)
{
    return static_cast<BuiltinOffloadDevice*>(dev);
}

inline void
WriteText(const std::string& text, char* out, size_t outLength)
{
    if (out && outLength > 0)
    {
        const size_t n = text.size() < outLength - 1 ? text.size() : outLength - 1;
        std::memcpy(out, text.data(), n);
        out[n] = '\0';
    }
}

template <BuiltinDeviceFactory Factory>
void*
Create(const olab_host* host, const olab_config* config, char* error, size_t errorLength)
{
    if (!host || !config)
    {
        WriteText("host and config are required", error, errorLength);
        return nullptr;
    }
    std::string why;
    std::unique_ptr<BuiltinOffloadDevice> dev = Factory(*host, *config, &why);
    WriteText(why, error, errorLength);
    return dev.release();
}

inline void
Destroy(void* dev)
{
    delete Of(dev);
}

inline int
StateAdd(void* dev, const olab_sa* sa, uint64_t* handle, char* reason, size_t reasonLength)
{
    std::string text;
    const int result = Of(dev)->StateAdd(*sa, handle, &text);
    WriteText(text, reason, reasonLength);
    return result;
}

inline void
StateDelete(void* dev, uint64_t handle)
{
    Of(dev)->StateDelete(handle);
}

inline void
StateFree(void* dev, uint64_t handle)
{
    Of(dev)->StateFree(handle);
}

inline int
OffloadOk(void* dev, uint64_t handle, const uint8_t* header, uint32_t headerLength)
{
    return Of(dev)->OffloadOk(handle, header, headerLength) ? 1 : 0;
}

inline void
AdvanceEsn(void* dev, uint64_t handle, uint64_t top)
{
    Of(dev)->StateAdvanceEsn(handle, top);
}

inline void
UpdateStats(void* dev, uint64_t handle, olab_sa_stats* stats)
{
    Of(dev)->StateUpdateStats(handle, stats);
}

inline int
PolicyAdd(void* dev, const olab_policy* policy, uint64_t* handle, char* reason, size_t reasonLength)
{
    std::string text;
    const int result = Of(dev)->PolicyAdd(*policy, handle, &text);
    WriteText(text, reason, reasonLength);
    return result;
}

inline void
PolicyDelete(void* dev, uint64_t handle)
{
    Of(dev)->PolicyDelete(handle);
}

inline void
PolicyFree(void* dev, uint64_t handle)
{
    Of(dev)->PolicyFree(handle);
}

inline int
Tx(void* dev,
   uint8_t* buf,
   uint32_t* len,
   uint32_t cap,
   const olab_tx_meta* meta,
   uint32_t mtu,
   uint32_t* dropReason)
{
    return Of(dev)->Tx(buf, len, cap, meta, mtu, dropReason);
}

inline int
Rx(void* dev, uint8_t* buf, uint32_t* len, uint32_t cap, olab_rx_info* info, uint32_t* dropReason)
{
    return Of(dev)->Rx(buf, len, cap, info, dropReason);
}
} // namespace builtin_device_abi

/// The ABI table of a built-in device: capabilities from Capabilities, instances from Factory.
template <const olab_capabilities* (*Capabilities)(), BuiltinDeviceFactory Factory>
const olab_device_ops&
BuiltinDeviceOps()
{
    namespace abi = builtin_device_abi;
    static const olab_device_ops ops{Capabilities,
                                     &abi::Create<Factory>,
                                     &abi::Destroy,
                                     &abi::StateAdd,
                                     &abi::StateDelete,
                                     &abi::StateFree,
                                     &abi::OffloadOk,
                                     &abi::AdvanceEsn,
                                     &abi::UpdateStats,
                                     &abi::PolicyAdd,
                                     &abi::PolicyDelete,
                                     &abi::PolicyFree,
                                     &abi::Tx,
                                     &abi::Rx};
    return ops;
}

} // namespace ns3

#endif // BUILTIN_OFFLOAD_DEVICE_H
