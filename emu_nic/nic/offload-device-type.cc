#include "offload-device-type.h"

#include "offload-device-guard.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>

namespace ns3
{

namespace
{
bool
IsLibraryPath(const std::string& spec)
{
    return spec.find('/') != std::string::npos ||
           (spec.size() > 3 && spec.compare(spec.size() - 3, 3, ".so") == 0);
}

/// A registered spec: a built-in device's table, or the path of a device library.
struct Registered
{
    std::string spec;
    olab_device_ops ops{};
    std::string path; //!< "" for a built-in device
    int order{0};
    std::string note;
};

/// Filled by the static OffloadDeviceRegistration objects of the device libraries, before main.
std::vector<Registered>&
Registry()
{
    static std::vector<Registered> registry;
    return registry;
}

const Registered*
FindRegistered(const std::string& spec)
{
    for (const auto& r : Registry())
    {
        if (r.spec == spec)
        {
            return &r;
        }
    }
    return nullptr;
}

void
Register(Registered entry)
{
    if (FindRegistered(entry.spec))
    {
        // Two libraries claim one name: a build mistake, found before anything runs.
        std::fprintf(stderr, "offloadlab: device '%s' is registered twice\n", entry.spec.c_str());
        std::abort();
    }
    Registry().push_back(std::move(entry));
}

template <typename F>
bool
Resolve(void* library, const char* name, F* out, std::string* error)
{
    void* symbol = dlsym(library, name);
    if (!symbol)
    {
        *error = std::string("does not export ") + name +
                 " (every function of offloadlab-device.h is required)";
        return false;
    }
    *out = reinterpret_cast<F>(symbol);
    return true;
}

bool
LoadLibraryOps(const std::string& path, olab_device_ops* ops, std::string* error)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
    {
        *error = "no such file: " + path;
        return false;
    }
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library)
    {
        *error = std::string("dlopen failed: ") + dlerror();
        return false;
    }
    std::string why;
    const bool ok = Resolve(library, "olab_get_capabilities", &ops->get_capabilities, &why) &&
                    Resolve(library, "olab_create", &ops->create, &why) &&
                    Resolve(library, "olab_destroy", &ops->destroy, &why) &&
                    Resolve(library, "olab_state_add", &ops->state_add, &why) &&
                    Resolve(library, "olab_state_delete", &ops->state_delete, &why) &&
                    Resolve(library, "olab_state_free", &ops->state_free, &why) &&
                    Resolve(library, "olab_offload_ok", &ops->offload_ok, &why) &&
                    Resolve(library, "olab_state_advance_esn", &ops->state_advance_esn, &why) &&
                    Resolve(library, "olab_state_update_stats", &ops->state_update_stats, &why) &&
                    Resolve(library, "olab_policy_add", &ops->policy_add, &why) &&
                    Resolve(library, "olab_policy_delete", &ops->policy_delete, &why) &&
                    Resolve(library, "olab_policy_free", &ops->policy_free, &why) &&
                    Resolve(library, "olab_tx", &ops->tx, &why) &&
                    Resolve(library, "olab_rx", &ops->rx, &why);
    if (!ok)
    {
        *error = path + " " + why;
        dlclose(library);
        return false;
    }
    // Loaded for good: devices created from it may live until the process ends.
    return true;
}

/// Size of olab_capabilities in ABI v1 (v2 appended the lifetime reporting fields), v2 (v3
/// appended udp_encap) and v3/v4 (v5 appended ipv6).
constexpr uint32_t kCapabilitiesV1Size = offsetof(olab_capabilities, lifetime_packets);
constexpr uint32_t kCapabilitiesV2Size = offsetof(olab_capabilities, udp_encap);
constexpr uint32_t kCapabilitiesV3Size = offsetof(olab_capabilities, ipv6);

/// The capability struct must be one this host can read (ABI v1 or v2); names the bad field.
bool
ValidateCapabilities(const olab_capabilities* caps, std::string* error)
{
    std::ostringstream why;
    if (!caps)
    {
        why << "olab_get_capabilities returned NULL";
    }
    else if (caps->size < kCapabilitiesV1Size)
    {
        why << "olab_capabilities.size " << caps->size << " is smaller than ABI v1's "
            << kCapabilitiesV1Size;
    }
    else if (caps->abi_version < OLAB_DEVICE_ABI_VERSION_MIN ||
             caps->abi_version > OLAB_DEVICE_ABI_VERSION)
    {
        why << "olab_capabilities.abi_version " << caps->abi_version << " is not one of "
            << OLAB_DEVICE_ABI_VERSION_MIN << ".." << OLAB_DEVICE_ABI_VERSION;
    }
    else if (caps->abi_version >= 2 && caps->size < kCapabilitiesV2Size)
    {
        why << "olab_capabilities.size " << caps->size << " is smaller than ABI v2's "
            << kCapabilitiesV2Size << " although abi_version is " << caps->abi_version;
    }
    else if (caps->abi_version >= 3 && caps->size < kCapabilitiesV3Size)
    {
        why << "olab_capabilities.size " << caps->size << " is smaller than ABI v3's "
            << kCapabilitiesV3Size << " although abi_version is " << caps->abi_version;
    }
    else if (caps->abi_version >= 5 && caps->size < sizeof(olab_capabilities))
    {
        why << "olab_capabilities.size " << caps->size << " is smaller than ABI v5's "
            << sizeof(olab_capabilities) << " although abi_version is " << caps->abi_version;
    }
    else if (caps->abi_version >= 5 && caps->ipv6 > 1)
    {
        why << "olab_capabilities.ipv6 " << caps->ipv6 << " is neither 0 nor 1";
    }
    else if (caps->abi_version >= 3 && caps->udp_encap > 1)
    {
        why << "olab_capabilities.udp_encap " << caps->udp_encap << " is neither 0 nor 1";
    }
    else if (caps->abi_version >= 3 && caps->udp_encap &&
             !(caps->offload_types & OLAB_OFFERS_PACKET))
    {
        why << "olab_capabilities.udp_encap is 1 without OLAB_OFFERS_PACKET (ESP-in-UDP is "
               "offloaded in packet offload only)";
    }
    else if (!caps->name || !caps->description)
    {
        why << "olab_capabilities." << (caps->name ? "description" : "name") << " is NULL";
    }
    else if ((caps->offload_types & ~(OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET)) != 0 ||
             caps->offload_types == 0)
    {
        why << "olab_capabilities.offload_types 0x" << std::hex << caps->offload_types
            << " must be OLAB_OFFERS_CRYPTO and/or OLAB_OFFERS_PACKET";
    }
    else if ((caps->features & ~(OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM |
                                 (caps->abi_version >= 4 ? OLAB_FEATURE_GSO_ESP : 0u) |
                                 OLAB_FEATURE_POLICY_BYPASS)) != 0)
    {
        why << "olab_capabilities.features 0x" << std::hex << caps->features << " has unknown bits"
            << (caps->features & OLAB_FEATURE_GSO_ESP ? " (OLAB_FEATURE_GSO_ESP needs ABI v4)"
                                                      : "");
    }
    else if ((caps->features & OLAB_FEATURE_GSO_ESP) && !(caps->features & OLAB_FEATURE_HW_ESP))
    {
        why << "olab_capabilities.features has OLAB_FEATURE_GSO_ESP without OLAB_FEATURE_HW_ESP";
    }
    else if (caps->max_sa == 0)
    {
        why << "olab_capabilities.max_sa is 0";
    }
    else if (caps->abi_version >= 2 && (caps->lifetime_packets > OLAB_LIFETIME_POLLED ||
                                        caps->lifetime_bytes > OLAB_LIFETIME_POLLED))
    {
        why << "olab_capabilities.lifetime_"
            << (caps->lifetime_packets > OLAB_LIFETIME_POLLED ? "packets " : "bytes ")
            << unsigned(std::max(caps->lifetime_packets, caps->lifetime_bytes))
            << " is neither OLAB_LIFETIME_EXACT nor OLAB_LIFETIME_POLLED";
    }
    else if (caps->abi_version >= 2 &&
             (caps->lifetime_packets == OLAB_LIFETIME_POLLED ||
              caps->lifetime_bytes == OLAB_LIFETIME_POLLED) &&
             (caps->lifetime_poll_ms == 0 || caps->lifetime_poll_ms > 60000))
    {
        why << "olab_capabilities.lifetime_poll_ms " << caps->lifetime_poll_ms
            << " is not in 1..60000 although a limit is OLAB_LIFETIME_POLLED";
    }
    if (why.str().empty())
    {
        return true;
    }
    *error = why.str();
    return false;
}
} // namespace

OffloadDeviceType::OffloadDeviceType(std::string spec,
                                     const olab_device_ops& ops,
                                     const olab_capabilities& caps,
                                     bool builtin)
    : m_spec(std::move(spec)),
      m_ops(ops),
      m_caps(caps),
      m_builtin(builtin)
{
}

std::string
OffloadDeviceType::ResolveSpec(const std::string& spec)
{
    std::error_code ec;
    if (FindRegistered(spec) || spec.empty() ||
        (!IsLibraryPath(spec) && !std::filesystem::is_regular_file(spec, ec)))
    {
        return spec;
    }
    const std::filesystem::path absolute = std::filesystem::absolute(spec, ec);
    return ec ? spec : absolute.lexically_normal().string();
}

std::string
OffloadDeviceType::LibraryOf(const std::string& spec)
{
    if (const Registered* registered = FindRegistered(spec))
    {
        return registered->path;
    }
    std::error_code ec;
    return IsLibraryPath(spec) || std::filesystem::is_regular_file(spec, ec) ? spec : "";
}

std::shared_ptr<const OffloadDeviceType>
OffloadDeviceType::Open(const std::string& spec, std::string* error)
{
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const OffloadDeviceType>> opened;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = opened.find(spec);
    if (it != opened.end())
    {
        return it->second;
    }
    olab_device_ops ops{};
    const Registered* registered = FindRegistered(spec);
    const bool builtin = registered && registered->path.empty();
    const std::string library = LibraryOf(ResolveSpec(spec));
    if (builtin)
    {
        ops = registered->ops;
    }
    else if (!library.empty())
    {
        if (!LoadLibraryOps(library, &ops, error))
        {
            return nullptr;
        }
    }
    else
    {
        *error = "unknown device '" + spec +
                 "': use a built-in device (offloadlab certify --list-devices lists them) or a "
                 "path to a device library (.so)";
        return nullptr;
    }
    const olab_capabilities* caps = nullptr;
    {
        DeviceCallScope scope("olab_get_capabilities");
        caps = ops.get_capabilities();
    }
    if (!ValidateCapabilities(caps, error))
    {
        *error = spec + ": " + *error;
        return nullptr;
    }
    // A v1 device's struct ends before the v2 fields: read what it has, the rest stays 0
    // (OLAB_LIFETIME_EXACT).
    olab_capabilities copy{};
    std::memcpy(&copy, caps, std::min<size_t>(caps->size, sizeof(copy)));
    copy.size = sizeof(copy);
    if (copy.abi_version < 2)
    {
        copy.lifetime_packets = copy.lifetime_bytes = OLAB_LIFETIME_EXACT;
        copy.lifetime_poll_ms = 0;
    }
    if (copy.abi_version < 3)
    {
        copy.udp_encap = 0; // it could not see an SA's encapsulation
    }
    if (copy.abi_version < 5)
    {
        copy.ipv6 = 0; // it could see neither an IPv6 address nor know IPv6 bytes come
    }
    auto type = std::make_shared<const OffloadDeviceType>(spec, ops, copy, builtin);
    opened[spec] = type;
    return type;
}

std::vector<std::string>
OffloadDeviceType::ListBuiltin()
{
    std::vector<Registered> sorted = Registry();
    std::stable_sort(sorted.begin(), sorted.end(), [](const Registered& a, const Registered& b) {
        return a.order < b.order;
    });
    std::vector<std::string> all;
    for (const auto& r : sorted)
    {
        all.push_back(r.spec);
    }
    return all;
}

std::string
OffloadDeviceType::GetNote(const std::string& spec)
{
    const Registered* r = FindRegistered(spec);
    return r ? r->note : "";
}

bool
OffloadDeviceType::IsBuiltin() const
{
    return m_builtin;
}

OffloadDeviceRegistration::OffloadDeviceRegistration(const std::string& spec,
                                                     const olab_device_ops& ops,
                                                     int order,
                                                     const std::string& note)
{
    Register(Registered{spec, ops, "", order, note});
}

OffloadDeviceRegistration::OffloadDeviceRegistration(const std::string& spec,
                                                     const std::string& path,
                                                     int order)
{
    Register(Registered{spec, olab_device_ops{}, path, order, ""});
}

const std::string&
OffloadDeviceType::GetSpec() const
{
    return m_spec;
}

const olab_capabilities&
OffloadDeviceType::GetCapabilities() const
{
    return m_caps;
}

const olab_device_ops&
OffloadDeviceType::GetOps() const
{
    return m_ops;
}

bool
OffloadDeviceType::OffersCrypto() const
{
    return m_caps.offload_types & OLAB_OFFERS_CRYPTO;
}

bool
OffloadDeviceType::OffersPacket() const
{
    return m_caps.offload_types & OLAB_OFFERS_PACKET;
}

} // namespace ns3
