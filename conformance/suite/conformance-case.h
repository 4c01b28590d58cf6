// What every conformance suite file shares: the case parameters (mode x algorithm x IP mode),
// their test names, the device under test, and where evidence (pcaps, esp_sa) goes.
//
// Naming contract, read by `offloadlab certify`:
//  - the test suite name is the requirement ID of conformance/catalog/requirements.json with '-'
//    replaced by '_' (TEST_P(PKT_FRAG_TX_DROP, ...));
//  - instantiations use an empty prefix and CaseName, so a test is named
//    "PKT_FRAG_TX_DROP.FirstMiddleLast/packet_gcm128_transport": requirement, check, variant;
//  - the variant starts with the mode (sw, crypto, packet).
// A case that does not apply to the device under test calls GTEST_SKIP() with the reason.
#ifndef CONFORMANCE_CASE_H
#define CONFORMANCE_CASE_H

#include "offload-device-type.h"
#include "simulation-test.h"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace conformance
{

using ns3::XfrmMode;
using ns3::XfrmOffloadType;

enum class Alg : uint8_t
{
    Gcm128,
    Gcm256,
    CbcSha256, //!< not offloadable: software, crypto fallback, packet refusal
};

inline const char*
AlgName(Alg alg)
{
    switch (alg)
    {
    case Alg::Gcm128:
        return "gcm128";
    case Alg::Gcm256:
        return "gcm256";
    case Alg::CbcSha256:
        return "cbcsha256";
    }
    return "?";
}

using Family = ns3::XfrmAddress::Family;

/// One variant of a requirement: data path x algorithm x IP mode (x ESN) (x the IP versions of
/// the protected traffic and of ESP's outer header).
struct Case
{
    XfrmOffloadType mode{XfrmOffloadType::None};
    Alg alg{Alg::Gcm128};
    XfrmMode ipMode{XfrmMode::Transport};
    bool esn{false};
    Family inner{Family::Ipv4};
    Family outer{Family::Ipv4};

    bool UsesIpv6() const
    {
        return inner == Family::Ipv6 || outer == Family::Ipv6;
    }
};

/// "" for IPv4, else "v6" (IPv6, or IPv6-in-IPv6), "4in6" or "6in4", as the run scenarios
/// name them.
inline std::string
FamilyName(const Case& c)
{
    if (!c.UsesIpv6())
    {
        return "";
    }
    if (c.inner != c.outer)
    {
        return c.inner == Family::Ipv4 ? "4in6" : "6in4";
    }
    return "v6";
}

inline void
PrintTo(const Case& c, std::ostream* os)
{
    *os << DataPathName(c.mode) << " " << AlgName(c.alg) << " "
        << offloadtest::XfrmModeName(c.ipMode) << (c.esn ? " esn" : "")
        << (c.UsesIpv6() ? " " + FamilyName(c) : "");
}

/// "packet_gcm128_transport", "sw_cbcsha256_tunnel_esn", "crypto_gcm128_tunnel_4in6".
inline std::string
CaseName(const testing::TestParamInfo<Case>& info)
{
    const Case& c = info.param;
    return std::string(DataPathName(c.mode)) + "_" + AlgName(c.alg) + "_" +
           offloadtest::XfrmModeName(c.ipMode) + (c.esn ? "_esn" : "") +
           (c.UsesIpv6() ? "_" + FamilyName(c) : "");
}

/// The IPv6 shapes in each mode: transport over IPv6, and the IPv6-in-IPv6, IPv4-in-IPv6 and
/// IPv6-in-IPv4 tunnels.
inline std::vector<Case>
Ipv6Cases(std::vector<XfrmOffloadType> modes,
          std::vector<XfrmMode> ipModes = {XfrmMode::Transport, XfrmMode::Tunnel})
{
    std::vector<Case> all;
    for (XfrmOffloadType m : modes)
    {
        for (XfrmMode i : ipModes)
        {
            if (i == XfrmMode::Transport)
            {
                all.push_back(Case{m, Alg::Gcm128, i, false, Family::Ipv6, Family::Ipv6});
                continue;
            }
            all.push_back(Case{m, Alg::Gcm128, i, false, Family::Ipv6, Family::Ipv6});
            all.push_back(Case{m, Alg::Gcm128, i, false, Family::Ipv4, Family::Ipv6});
            all.push_back(Case{m, Alg::Gcm128, i, false, Family::Ipv6, Family::Ipv4});
        }
    }
    return all;
}

/// Every combination of the given modes, algorithms, IP modes and ESN settings.
inline std::vector<Case>
Cases(std::vector<XfrmOffloadType> modes,
      std::vector<Alg> algs = {Alg::Gcm128},
      std::vector<XfrmMode> ipModes = {XfrmMode::Transport, XfrmMode::Tunnel},
      std::vector<bool> esns = {false})
{
    std::vector<Case> all;
    for (XfrmOffloadType m : modes)
    {
        for (Alg a : algs)
        {
            for (XfrmMode i : ipModes)
            {
                for (bool e : esns)
                {
                    all.push_back(Case{m, a, i, e});
                }
            }
        }
    }
    return all;
}

/// The device under test (OFFLOADLAB_DEVICE, default "reference"), opened by the suite's main.
const ns3::OffloadDeviceType& DeviceUnderTest();

/// Why the device under test cannot run this case ("" when it can).
std::string UnsupportedReason(const Case& c);

/// Adds the case's A->B SA on A in a probe topology of its own (destroyed before returning):
/// the stack's error when the add fails ("" when it succeeds); offloaded says whether the
/// device took it. Call before the test builds its own topology.
std::string AddFailure(const Case& c, bool* offloaded);

/// In a TEST_P body: skip (as a skip, with the reason) a case the device does not offer.
#define CONFORMANCE_SKIP_UNLESS_OFFERED(c)                                                         \
    do                                                                                             \
    {                                                                                              \
        const std::string skipReason = ::conformance::UnsupportedReason(c);                        \
        if (!skipReason.empty())                                                                   \
        {                                                                                          \
            GTEST_SKIP() << skipReason;                                                            \
        }                                                                                          \
    } while (false)

/// Why Scapy's ESP or its packet crafter cannot run here ("" when both can).
std::string ScapyMissingReason();

/// In a TEST body that needs Scapy: skip (as a skip, with the reason) where it is missing.
#define CONFORMANCE_SKIP_WITHOUT_SCAPY()                                                           \
    do                                                                                             \
    {                                                                                              \
        const std::string scapyMissing = ::conformance::ScapyMissingReason();                      \
        if (!scapyMissing.empty())                                                                 \
        {                                                                                          \
            GTEST_SKIP() << "Scapy unavailable: " << scapyMissing;                                 \
        }                                                                                          \
    } while (false)

/// A plaintext UDP datagram from host A (port 5555) to B's sink, an IPv4 packet built by Scapy;
/// a failure to build it is a test failure.
std::vector<uint8_t> ScapyUdpAToB(const offloadtest::Topology& t, const std::vector<uint8_t>& data);

/// The algorithm of a case with a key derived from seed (distinct per direction).
ns3::EspAlgorithm AlgorithmOf(Alg alg, uint8_t seed);

/// The fixture's topology options for a case: its mode, IP mode, ESN, and the case's algorithm
/// with distinct keys per direction.
offloadtest::TopologyOptions OptionsOf(const Case& c);

/// Evidence when OFFLOADLAB_EVIDENCE_DIR is set: the IPsec link as a pcap (both directions, as
/// devA sees them). Call before the simulation runs.
void KeepPcap(const offloadtest::Topology& t, const std::string& name = "ipsec-link");

/// Evidence: the keys of the SAs that send on the link, as a Wireshark esp_sa table, so that
/// tshark can re-check the pcap.
void KeepKeys(const offloadtest::Topology& t, const std::string& name = "esp_sa");

/// Evidence of every topology a test builds, kept only if the test fails: the IPsec link as
/// topology-N.pcap and its SAs' keys as topology-N.esp_sa (the suite's main calls it for each
/// topology, and removes the files of a test that passes).
void KeepFailureEvidence(const offloadtest::Topology& t);

/// Removes what KeepFailureEvidence kept for the current test (it passed), and forgets it.
void DropFailureEvidence(bool keep);

/// Directory for this test's evidence (pcaps, esp_sa), created on demand:
/// $OFFLOADLAB_EVIDENCE_DIR/<Suite.Test_variant>; "" when the variable is unset.
std::string EvidenceDir();

/// Adds a key=value to this test's record (certify.json shows it as evidence).
void RecordEvidence(const std::string& key, const std::string& value);
void RecordEvidence(const std::string& key, uint64_t value);

/// In the test of an advisory catalog entry (kind "advisory"): what the check found. The test
/// still passes; `offloadlab certify` reports it as advisory-finding with this reason, and it
/// never changes the verdict. A test that records nothing is advisory-ok.
void ReportAdvisoryFinding(const std::string& finding);

} // namespace conformance

#endif // CONFORMANCE_CASE_H
