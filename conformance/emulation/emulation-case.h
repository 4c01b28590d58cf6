// The emulation conformance cases' common ground, in strongSwan's testing style: a real charon in
// each Mininet host keys its emulated node, a scenario acts on the running topology (host
// commands, swanctl), and the case asserts on swanctl's output, charon's log and the nodes'
// tables, then on the run's post-test checks (empty after charon stops, nothing left behind).
#ifndef EMULATION_CASE_H
#define EMULATION_CASE_H

#include "emulation-run.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace emulationcase
{

/// What a node holds: SAs and policies, and how many of each are offloaded to its device.
struct Tables
{
    uint32_t states{0};
    uint32_t offloadedStates{0};
    uint32_t policies{0};
    uint32_t offloadedPolicies{0};
};

Tables NodeTables(ns3::EmulationSession& session, const std::string& host);

/// The host's emulated interface (the TAP charon offloads to).
std::string TapOf(ns3::EmulationSession& session, const std::string& host);

/// The host's node's count of interface changes (up or down) it has acted on.
uint32_t LinkChanges(ns3::EmulationSession& session, const std::string& host);

/// `ip link set dev <tap> up|down` in the host, then waits until its node has acted on it.
bool SetHostLink(ns3::EmulationSession& session, const std::string& host, bool up);

/// "sent/received" of ping's summary line; -1 each if there is none.
std::pair<int, int> PingCounts(const std::string& output);

/// tshark's fields (-T fields -e ...) of every frame of a pcap that matches filter (-Y), one
/// line per frame, with the run's esp_sa so ESP is decrypted and authenticated.
std::string Tshark(const std::string& dir,
                   const std::string& pcap,
                   const std::string& filter,
                   const std::string& fields);

/// The sum of a node's drop counters (XFRM and device) beyond the PMTU refusals of packet
/// offload (results.json's nodes.<host>).
uint64_t DropsBeyondPmtu(const nlohmann::json& node, const std::string& mode);

/// Options for a run of h2h in mode.
ns3::EmulationOptions H2h(const std::string& mode);

class EmulationCase : public testing::Test
{
  protected:
    void SetUp() override;
    void TearDown() override;

    /// options with the case's directory; RunEmulation's results, its error in *error.
    nlohmann::json Run(ns3::EmulationOptions options, bool* ok, std::string* error);

    std::string m_dir;
};

} // namespace emulationcase

#endif // EMULATION_CASE_H
