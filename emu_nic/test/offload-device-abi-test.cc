// The device ABI seen from the NIC: which devices exist, how a vendor library is loaded and
// refused, and what happens when a device breaks the ABI (returns garbage or crashes): the
// process ends with a message naming the callback, so `offloadlab certify` can report it.
#include "offload-device-guard.h"
#include "offload-device-type.h"
#include "simulation-test.h"

#include "ns3/string.h"

#include <algorithm>
#include <csignal>
#include <gtest/gtest.h>

namespace
{
using namespace offloadtest;

bool
Lists(const std::vector<std::string>& all, const std::string& spec)
{
    return std::find(all.begin(), all.end(), spec) != all.end();
}

TEST(OffloadDeviceType, ListsReferenceExampleAndEveryMutant)
{
    const auto all = OffloadDeviceType::ListBuiltin();
    ASSERT_GE(all.size(), 12u);
    EXPECT_EQ(all[0], "reference");
    EXPECT_TRUE(Lists(all, "example"));
    EXPECT_TRUE(Lists(all, "netdevsim-like"));
    EXPECT_TRUE(Lists(all, "mlx5-like"));
    size_t mutants = 0;
    for (const auto& spec : all)
    {
        if (spec.rfind("mutant:", 0) == 0)
        {
            ++mutants;
            EXPECT_FALSE(OffloadDeviceType::GetNote(spec).empty()) << spec;
            std::string error;
            auto type = OffloadDeviceType::Open(spec, &error);
            ASSERT_TRUE(type) << spec << ": " << error;
            EXPECT_TRUE(type->IsBuiltin());
        }
    }
    EXPECT_GE(mutants, 10u);
    EXPECT_TRUE(Lists(all, "mutant:no-replay-check"));
}

TEST(OffloadDeviceType, OpensTheExampleLibraryAndReadsItsCapabilities)
{
    std::string error;
    auto type = OffloadDeviceType::Open("example", &error);
    ASSERT_TRUE(type) << error;
    EXPECT_FALSE(type->IsBuiltin());
    EXPECT_TRUE(type->OffersCrypto());
    EXPECT_FALSE(type->OffersPacket());
    EXPECT_EQ(type->GetCapabilities().abi_version, OLAB_DEVICE_ABI_VERSION);
    // The same library by path is the same device.
    auto byPath = OffloadDeviceType::Open(OFFLOADLAB_EXAMPLE_DEVICE, &error);
    ASSERT_TRUE(byPath) << error;
    EXPECT_STREQ(byPath->GetCapabilities().name, type->GetCapabilities().name);
}

struct BadSpec
{
    const char* spec;
    const char* expected; //!< part of the error
};

void
PrintTo(const BadSpec& bad, std::ostream* os)
{
    *os << bad.spec;
}

class OffloadDeviceTypeErrors : public testing::TestWithParam<BadSpec>
{
};

TEST_P(OffloadDeviceTypeErrors, NameTheProblem)
{
    std::string error;
    EXPECT_FALSE(OffloadDeviceType::Open(GetParam().spec, &error));
    EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Specs,
    OffloadDeviceTypeErrors,
    testing::Values(BadSpec{"acme", "unknown device 'acme'"},
                    BadSpec{"mutant:nonsense", "unknown device 'mutant:nonsense'"},
                    BadSpec{"/nonexistent/libdevice.so", "no such file"},
                    BadSpec{OFFLOADLAB_BROKEN_MISSING_SYMBOL, "does not export olab_rx"}),
    [](const testing::TestParamInfo<BadSpec>& info) { return std::to_string(info.index); });

/// A crypto-offload UDP run through the device named spec: returns datagrams delivered.
size_t
RunCryptoOffloadThrough(const std::string& spec)
{
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue(spec));
    UdpRig rig = BuildUdpRig(XfrmOffloadType::Crypto, XfrmMode::Transport);
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < 20; ++i)
    {
        payloads.push_back(DatagramPayload(i, 200));
    }
    const Time end = ScheduleDatagrams(rig.sender, payloads, MilliSeconds(10), MilliSeconds(1));
    RunUntil(end + MilliSeconds(50));
    const size_t delivered = rig.sink->received.size();
    const uint64_t encrypted = Counter(rig.t->devA, "CryptoTxPackets");
    Simulator::Destroy();
    Config::SetDefault("ns3::EmuNicNetDevice::Device", StringValue("reference"));
    return encrypted == payloads.size() ? delivered : 0;
}

TEST(OffloadDeviceAbi, TheExampleLibraryCarriesCryptoOffloadTraffic)
{
    EXPECT_EQ(RunCryptoOffloadThrough("example"), 20u);
}

TEST(OffloadDeviceAbiDeathTest, GarbageFromADeviceNamesTheCallback)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(RunCryptoOffloadThrough(OFFLOADLAB_BROKEN_GARBAGE),
                testing::ExitedWithCode(70),
                "device fault in callback olab_state_add: returned 7, not an olab_result");
}

TEST(OffloadDeviceAbiDeathTest, ACrashInADeviceNamesTheCallback)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            InstallDeviceCrashReporter();
            RunCryptoOffloadThrough(OFFLOADLAB_BROKEN_CRASH_TX);
        },
        testing::KilledBySignal(SIGSEGV),
        "device crashed in callback olab_tx \\(signal 11\\)");
}

} // namespace
