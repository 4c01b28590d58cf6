// The conformance suite's main: opens the device under test named by OFFLOADLAB_DEVICE
// (default "reference") and makes every EmuNic in every simulation use it.
// `--describe-device` prints the device (spec, capabilities, mutant defect) as JSON and exits:
// 0, or 2 with the error on stderr when the device cannot be opened.
#include "conformance-case.h"
#include "offload-device-guard.h"
#include "wire-oracle.h"

#include "ns3/config.h"
#include "ns3/string.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

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
AddFailure(const Case& c, bool* offloaded)
{
    // A probe on a topology of its own, gone before the test builds its own.
    offloadtest::TopologyOptions probe = OptionsOf(Case{c.mode, c.alg, XfrmMode::Transport, false});
    probe.installIpsec = false;
    std::string error;
    {
        auto p = offloadtest::BuildTestTopology(probe);
        ns3::Ptr<ns3::XfrmState> x = p->stackA->AddState(p->SaConfig(true, true, c.mode), &error);
        *offloaded = x && x->GetOffload().ops;
        if (x)
        {
            error.clear();
        }
        else if (error.empty())
        {
            error = "(no reason)";
        }
    }
    ns3::Simulator::Destroy();
    return error;
}

namespace
{
/// A device may offer rfc4106(gcm(aes)) with 128-bit keys only (netdevsim, ixgbe: -EINVAL for
/// others); then its 256-bit cases are not offered ("" when it takes them).
std::string
Gcm256Refusal(XfrmOffloadType mode)
{
    static std::map<XfrmOffloadType, std::string> cache;
    auto it = cache.find(mode);
    if (it != cache.end())
    {
        return it->second;
    }
    bool offloaded = false;
    const std::string error = AddFailure(Case{mode, Alg::Gcm256}, &offloaded);
    std::string reason;
    if (!error.empty())
    {
        reason =
            "not offered by the device: it refuses 256-bit rfc4106(gcm(aes)) SAs (" + error + ")";
    }
    else if (!offloaded)
    {
        reason = "not offered by the device: it runs 256-bit rfc4106(gcm(aes)) SAs in software";
    }
    return cache[mode] = reason;
}
} // namespace

std::string
UnsupportedReason(const Case& c)
{
    const auto& caps = g_device->GetCapabilities();
    std::string reason;
    if (c.mode == XfrmOffloadType::Crypto && !g_device->OffersCrypto())
    {
        reason = "device does not offer crypto offload";
    }
    else if (c.mode == XfrmOffloadType::Packet && !g_device->OffersPacket())
    {
        reason = "device does not offer packet offload";
    }
    else if (c.mode != XfrmOffloadType::None && c.alg != Alg::CbcSha256 &&
             !(caps.algorithms & (1u << OLAB_ALG_AES_GCM)))
    {
        reason = "device does not offload rfc4106(gcm(aes))";
    }
    else if (c.mode != XfrmOffloadType::None && c.esn && !caps.esn)
    {
        reason = "device does not offload ESN";
    }
    else if (c.mode != XfrmOffloadType::None && c.ipMode == XfrmMode::Tunnel && !caps.tunnel)
    {
        reason = "device does not offload tunnel mode";
    }
    else if (c.mode != XfrmOffloadType::None && c.UsesIpv6() && !caps.ipv6)
    {
        // The host refuses IPv6 states for it (an ABI v4 device, or ipv6 = 0).
        reason = "device does not offload IPv6 (ABI v" + std::to_string(caps.abi_version) +
                 ", ipv6 " + std::to_string(caps.ipv6) + ")";
    }
    else if (c.mode != XfrmOffloadType::None && c.alg == Alg::Gcm256)
    {
        reason = Gcm256Refusal(c.mode);
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

void
ReportAdvisoryFinding(const std::string& finding)
{
    // The name certify's reader looks for (kAdvisoryFindingProperty of conformance/certify).
    testing::Test::RecordProperty("advisory_finding", finding);
}

} // namespace conformance

namespace
{
/// Names of the bits set in mask, from a table of (bit, name).
nlohmann::json
BitNames(uint32_t mask, std::initializer_list<std::pair<uint32_t, const char*>> names)
{
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [bit, name] : names)
    {
        if (mask & bit)
        {
            list.push_back(name);
        }
    }
    return list;
}

/// "exact" or "polled" (olab_lifetime_report).
std::string
LifetimeReportName(uint8_t report)
{
    return report == OLAB_LIFETIME_POLLED ? "polled" : "exact";
}

/// `--describe-device`: what `offloadlab certify` reports about the device (every field of
/// olab_capabilities, with the bit masks also spelled out).
nlohmann::json
DescribeDevice(const ns3::OffloadDeviceType& device)
{
    const olab_capabilities& caps = device.GetCapabilities();
    auto text = [](const char* s) { return std::string(s ? s : ""); };
    return {{"spec", device.GetSpec()},
            // A mutant's registration note is its one defect.
            {"mutant",
             device.GetSpec().rfind("mutant:", 0) == 0
                 ? ns3::OffloadDeviceType::GetNote(device.GetSpec())
                 : ""},
            {"offers_crypto", device.OffersCrypto()},
            {"offers_packet", device.OffersPacket()},
            {"capabilities",
             {{"size", caps.size},
              {"abi_version", caps.abi_version},
              {"name", text(caps.name)},
              {"description", text(caps.description)},
              {"features", caps.features},
              {"feature_names",
               BitNames(caps.features,
                        {{OLAB_FEATURE_HW_ESP, "HW_ESP"},
                         {OLAB_FEATURE_HW_ESP_TX_CSUM, "HW_ESP_TX_CSUM"},
                         {OLAB_FEATURE_GSO_ESP, "GSO_ESP"}})},
              {"offload_types", caps.offload_types},
              {"offload_type_names",
               BitNames(caps.offload_types,
                        {{OLAB_OFFERS_CRYPTO, "crypto"}, {OLAB_OFFERS_PACKET, "packet"}})},
              {"algorithms", caps.algorithms},
              {"algorithm_names",
               BitNames(caps.algorithms,
                        {{1u << OLAB_ALG_AES_GCM, "rfc4106(gcm(aes))"},
                         {1u << OLAB_ALG_AES_CBC_SHA256, "cbc(aes)+hmac(sha256)"}})},
              {"max_sa", caps.max_sa},
              {"max_policies", caps.max_policies},
              {"max_replay_window", caps.max_replay_window},
              {"esn", caps.esn},
              {"tunnel", caps.tunnel},
              {"udp_encap", caps.udp_encap}, // ABI v3: ESP-in-UDP in packet offload
              // How the device reports lifetime limits (ABI v2; a v1 device reads as exact).
              {"lifetime_packets", LifetimeReportName(caps.lifetime_packets)},
              {"lifetime_bytes", LifetimeReportName(caps.lifetime_bytes)},
              {"lifetime_poll_ms", caps.lifetime_poll_ms}}}};
}

/// GoogleTest 1.12 leaves skip messages out of its JSON output; record them as a property so
/// that `offloadlab certify` can say why a case was skipped. The property is recorded when the
/// test ends: GoogleTest holds its own lock while it reports a part result.
class SkipReasonRecorder : public testing::EmptyTestEventListener
{
    void OnTestStart(const testing::TestInfo&) override
    {
        m_reason.clear();
    }

    void OnTestPartResult(const testing::TestPartResult& result) override
    {
        if (result.skipped() && m_reason.empty())
        {
            m_reason = result.message();
        }
    }

    void OnTestEnd(const testing::TestInfo&) override
    {
        if (!m_reason.empty())
        {
            testing::Test::RecordProperty("skip_reason", m_reason);
            m_reason.clear();
        }
    }

    std::string m_reason;
};

/// Keeps the pcap and keys of every topology of a test that fails, and drops them when it
/// passes. Appended before the listeners that may still fail the test in their OnTestEnd
/// (GoogleTest calls OnTestEnd in reverse order), so it sees the final result.
class FailureEvidenceKeeper : public testing::EmptyTestEventListener
{
    void OnTestStart(const testing::TestInfo&) override
    {
        conformance::DropFailureEvidence(false);
    }

    void OnTestEnd(const testing::TestInfo& info) override
    {
        // `offloadlab certify --verbose` keeps every test's evidence.
        static const bool keepAll = std::getenv("OFFLOADLAB_KEEP_EVIDENCE") != nullptr;
        conformance::DropFailureEvidence(keepAll || info.result()->Failed());
    }
};

/// Writes one JSON line per finished test to the file OFFLOADLAB_RESULT_STREAM names, flushed
/// at once, so that `offloadlab certify` keeps the results of the tests that finished when a
/// later test of the same process hangs or crashes (GoogleTest writes its JSON only at the
/// end). Its OnTestEnd must run after the other listeners' (which add failures and
/// properties): GoogleTest calls OnTestEnd in reverse order, so it is appended first.
class ResultStreamWriter : public testing::EmptyTestEventListener
{
  public:
    explicit ResultStreamWriter(const std::string& path)
        : m_file(std::fopen(path.c_str(), "w"))
    {
    }

    ~ResultStreamWriter() override
    {
        if (m_file)
        {
            std::fclose(m_file);
        }
    }

    void OnTestEnd(const testing::TestInfo& info) override
    {
        if (!m_file)
        {
            return;
        }
        const testing::TestResult& result = *info.result();
        std::string failures;
        std::string skip;
        for (int i = 0; i < result.total_part_count(); ++i)
        {
            const testing::TestPartResult& part = result.GetTestPartResult(i);
            if (part.failed())
            {
                // As GoogleTest's JSON has it: "file:line\nmessage".
                failures += (failures.empty() ? "" : "\n\n") +
                            std::string(part.file_name() ? part.file_name() : "unknown file") +
                            ":" + std::to_string(part.line_number()) + "\n" + part.message();
            }
            else if (part.skipped() && skip.empty())
            {
                skip = part.message();
            }
        }
        nlohmann::json properties = nlohmann::json::object();
        for (int i = 0; i < result.test_property_count(); ++i)
        {
            properties[result.GetTestProperty(i).key()] = result.GetTestProperty(i).value();
        }
        const nlohmann::json line{{"suite", info.test_suite_name()},
                                  {"name", info.name()},
                                  {"result",
                                   result.Failed()    ? "fail"
                                   : result.Skipped() ? "skip"
                                                      : "pass"},
                                  {"message", result.Failed() ? failures : skip},
                                  {"seconds", result.elapsed_time() / 1000.0},
                                  {"properties", properties}};
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        std::fwrite(text.data(), 1, text.size(), m_file);
        std::fflush(m_file);
    }

  private:
    std::FILE* m_file;
};
} // namespace

int
main(int argc, char** argv)
{
    bool describe = false;
    for (int i = 1; i < argc; ++i)
    {
        describe = describe || std::strcmp(argv[i], "--describe-device") == 0;
    }
    testing::InitGoogleTest(&argc, argv);
    // A device that crashes in a callback is named on stderr ("offloadlab: device crashed in
    // callback olab_tx (signal 11)"), where `offloadlab certify` looks for it.
    ns3::InstallDeviceCrashReporter();
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
    if (describe)
    {
        // A vendor device may name itself in any bytes: never let that stop the report.
        std::cout << DescribeDevice(*conformance::g_device)
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
        return 0;
    }
    testing::UnitTest::GetInstance()->listeners().Append(new FailureEvidenceKeeper);
    offloadtest::TopologyBuiltHook() = conformance::KeepFailureEvidence;
    const char* stream = std::getenv("OFFLOADLAB_RESULT_STREAM");
    if (stream && *stream)
    {
        testing::UnitTest::GetInstance()->listeners().Append(new ResultStreamWriter(stream));
    }
    testing::UnitTest::GetInstance()->listeners().Append(new SkipReasonRecorder);
    conformance::InstallWireOracle(testing::UnitTest::GetInstance()->listeners());
    // Every EmuNic of every simulation in this process is this device.
    ns3::Config::SetDefaultFailSafe("ns3::EmuNicNetDevice::Device", ns3::StringValue(spec));
    return RUN_ALL_TESTS();
}
