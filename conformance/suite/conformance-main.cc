// The conformance suite's main: opens the device under test named by OFFLOADLAB_DEVICE
// (default "reference") and makes every EmuNic in every simulation use it.
#include "conformance-case.h"

#include "ns3/config.h"
#include "ns3/string.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace conformance
{

namespace
{
std::shared_ptr<const ns3::OffloadDeviceType> g_device;
} // namespace

const ns3::OffloadDeviceType&
DeviceUnderTest()
{
    return *g_device;
}

std::string
UnsupportedReason(const Case& c)
{
    const auto& caps = g_device->GetCapabilities();
    std::string reason;
    if (c.mode == Mode::Crypto && !g_device->OffersCrypto())
    {
        reason = "device does not offer crypto offload";
    }
    else if (c.mode == Mode::Packet && !g_device->OffersPacket())
    {
        reason = "device does not offer packet offload";
    }
    else if (c.mode != Mode::Sw && c.alg != Alg::CbcSha256 &&
             !(caps.algorithms & (1u << OLAB_ALG_AES_GCM)))
    {
        reason = "device does not offload rfc4106(gcm(aes))";
    }
    else if (c.mode != Mode::Sw && c.esn && !caps.esn)
    {
        reason = "device does not offload ESN";
    }
    else if (c.mode != Mode::Sw && c.ipMode == IpMode::Tunnel && !caps.tunnel)
    {
        reason = "device does not offload tunnel mode";
    }
    return reason;
}

ns3::EspAlgorithm
AlgorithmOf(Alg alg, uint8_t seed)
{
    switch (alg)
    {
        case Alg::Gcm128:
            return offloadtest::DefaultGcm(seed);
        case Alg::Gcm256: {
            offloadtest::Bytes blob(36);
            for (size_t i = 0; i < blob.size(); ++i)
            {
                blob[i] = static_cast<uint8_t>(seed * 3 + 5 * i + 2);
            }
            return ns3::EspAlgorithm::Gcm(blob);
        }
        case Alg::CbcSha256:
            return offloadtest::CbcSha256Algorithm(seed);
    }
    return offloadtest::DefaultGcm(seed);
}

std::string
EvidenceDir()
{
    const char* root = std::getenv("OFFLOADLAB_EVIDENCE_DIR");
    if (!root || !*root)
    {
        return "";
    }
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    for (char& ch : name)
    {
        if (ch == '/')
        {
            ch = '_';
        }
    }
    const std::filesystem::path dir = std::filesystem::path(root) / name;
    std::filesystem::create_directories(dir);
    return dir.string();
}

void
RecordEvidence(const std::string& key, const std::string& value)
{
    testing::Test::RecordProperty(key, value);
}

void
RecordEvidence(const std::string& key, uint64_t value)
{
    testing::Test::RecordProperty(key, std::to_string(value));
}

} // namespace conformance

int
main(int argc, char** argv)
{
    testing::InitGoogleTest(&argc, argv);
    const char* env = std::getenv("OFFLOADLAB_DEVICE");
    const std::string spec = env && *env ? env : "reference";
    std::string error;
    conformance::g_device = ns3::OffloadDeviceType::Open(spec, &error);
    if (!conformance::g_device)
    {
        std::cerr << "offloadlab-conformance: cannot open device '" << spec << "': " << error
                  << "\n";
        return 2;
    }
    // Every EmuNic of every simulation in this process is this device.
    ns3::Config::SetDefaultFailSafe("ns3::EmuNicNetDevice::Device", ns3::StringValue(spec));
    return RUN_ALL_TESTS();
}
