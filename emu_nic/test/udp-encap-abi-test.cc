// ESP-in-UDP at the device ABI (v3): a device gets an encapsulated SA only if it declares
// udp_encap; a v2 device (whose capability struct ends before the field) never does, whatever
// lies past its size; a capability struct with a bad udp_encap is refused naming the field.

#include "builtin-offload-device.h"
#include "offload-device-type.h"
#include "reference-offload-engine.h"
#include "simulation-test.h"

#include "ns3/config.h"
#include "ns3/string.h"

#include <cstddef>
#include <gtest/gtest.h>

using namespace offloadtest;

namespace
{

/// The reference's capabilities as a device built against ABI v2 would give them: abi_version
/// 2, the struct's size ending before udp_encap, and a stray 1 where udp_encap would be.
const olab_capabilities*
V2Capabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.size = offsetof(olab_capabilities, udp_encap);
        c.abi_version = 2;
        c.name = "reference-abi-v2";
        c.udp_encap = 1;                     // beyond its size: the host must not read it
        c.features &= ~OLAB_FEATURE_GSO_ESP; // ABI v4
        return c;
    }();
    return &caps;
}

std::unique_ptr<BuiltinOffloadDevice>
CreateReference(const olab_host& host, const olab_config& config, std::string* error)
{
    return ReferenceOffloadEngine::Create(host, config, error);
}

const olab_capabilities*
BadUdpEncapCapabilities()
{
    static const olab_capabilities caps = [] {
        olab_capabilities c = *ReferenceOffloadEngine::GetCapabilities();
        c.name = "bad-udp-encap";
        c.udp_encap = 2;
        return c;
    }();
    return &caps;
}

const OffloadDeviceRegistration g_v2("test:reference-abi-v2",
                                     BuiltinDeviceOps<&V2Capabilities, &CreateReference>(),
                                     910);
const OffloadDeviceRegistration g_bad(
    "test:bad-udp-encap",
    BuiltinDeviceOps<&BadUdpEncapCapabilities, &CreateReference>(),
    911);

/// Adds A's outbound ESP-in-UDP SA in packet offload behind `device`: the stack's error, or "".
std::string
AddEncapPacketSa(const std::string& device)
{
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue(device));
    TopologyOptions opt;
    opt.mode = XfrmOffloadType::Packet;
    opt.udpEncap = true;
    opt.installIpsec = false;
    auto t = BuildTopology(opt);
    std::string error;
    Ptr<XfrmState> x =
        t->stackA->AddState(t->SaConfig(true, true, XfrmOffloadType::Packet), &error);
    EXPECT_EQ(Counter(t->devA, "StateAdd"), 1u) << "the NIC is asked (and answers for the device)";
    Simulator::Destroy();
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("reference"));
    return x ? "" : error;
}

TEST(UdpEncapAbiTest, AV2DeviceNeverGetsAnEncapsulatedSa)
{
    std::string error;
    auto type = OffloadDeviceType::Open("test:reference-abi-v2", &error);
    ASSERT_TRUE(type) << error;
    EXPECT_EQ(type->GetCapabilities().udp_encap, 0u) << "read past a v2 struct's size";
    EXPECT_EQ(AddEncapPacketSa("test:reference-abi-v2"),
              "offload: not-supported: the device does not offload UDP-encapsulated (ESP-in-UDP) "
              "SAs");
}

TEST(UdpEncapAbiTest, TheReferenceTakesOne)
{
    EXPECT_EQ(AddEncapPacketSa("reference"), "");
}

TEST(UdpEncapAbiTest, BadUdpEncapIsRefusedNamingTheField)
{
    std::string error;
    EXPECT_FALSE(OffloadDeviceType::Open("test:bad-udp-encap", &error));
    EXPECT_NE(error.find("olab_capabilities.udp_encap 2"), std::string::npos) << error;
}

} // namespace
