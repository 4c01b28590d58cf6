// TEMPORARY stand-in (replaced by the engine refactor): only "reference", no ops.
#include "offload-device-type.h"

#include <cstring>

namespace ns3
{

namespace
{
const olab_capabilities*
ReferenceCaps()
{
    static olab_capabilities caps{sizeof(olab_capabilities),
                                  OLAB_DEVICE_ABI_VERSION,
                                  "reference",
                                  "offloadlab reference NIC",
                                  OLAB_FEATURE_HW_ESP | OLAB_FEATURE_HW_ESP_TX_CSUM,
                                  OLAB_OFFERS_CRYPTO | OLAB_OFFERS_PACKET,
                                  1u << OLAB_ALG_AES_GCM,
                                  1u << 20,
                                  1u << 20,
                                  4096,
                                  1,
                                  1};
    return &caps;
}
} // namespace

OffloadDeviceType::OffloadDeviceType(std::string spec, const olab_device_ops& ops)
    : m_spec(std::move(spec)),
      m_ops(ops),
      m_caps(*ops.get_capabilities())
{
}

std::shared_ptr<const OffloadDeviceType>
OffloadDeviceType::Open(const std::string& spec, std::string* error)
{
    if (spec != "reference")
    {
        *error = "unknown device '" + spec + "'";
        return nullptr;
    }
    olab_device_ops ops{};
    ops.get_capabilities = &ReferenceCaps;
    return std::make_shared<OffloadDeviceType>(spec, ops);
}

std::vector<std::string>
OffloadDeviceType::ListBuiltin()
{
    return {"reference"};
}

std::string
OffloadDeviceType::DescribeMutant(const std::string& spec)
{
    return "";
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
