#include "reference-engine-mutants.h"

namespace ns3
{

namespace
{
struct MutantInfo
{
    const char* name;
    const char* description;
};

const MutantInfo kMutants[] = {
    {"", "the reference engine, no defect"},
    {"frag-forward", "packet offload forwards fragments on TX and RX instead of dropping them"},
    {"no-pmtu-check", "packet offload sends packets that exceed the MTU once ESP is added"},
    {"no-soft-expire", "never raises the soft lifetime expire"},
    {"late-hard-expire", "enforces the hard lifetime 8 packets (8 x 1400 bytes) late"},
    {"bad-icv-1-in-64", "corrupts the ICV of every 64th packet it encrypts"},
    {"no-replay-check", "packet offload accepts replayed and too old sequence numbers"},
    {"replay-window-off-by-one", "accepts one sequence number left of the replay window"},
    {"no-state-free", "ignores state_delete and state_free: the SA keeps its slot and keys"},
    {"packet-plaintext", "packet offload lets policy-selected traffic out unencrypted"},
    {"stats-short", "update_stats reports one packet and its bytes short"},
    {"iv-reuse", "uses the same GCM IV for every packet of an SA"},
    {"seq-start-2", "packet offload starts sequence numbers at 2 instead of 1"},
    {"no-tx-csum", "advertises HW_ESP_TX_CSUM but never writes the inner checksum"},
    {"crypto-rx-ok-on-bad-icv", "crypto offload RX reports success for a bad ICV"},
    {"gcm256-short-key", "uses only the first 16 bytes of a 256-bit AES-GCM key"},
    {"seq-wraps", "packet offload without ESN wraps the sequence number past 2^32-1"},
    {"no-policy-delete", "ignores policy_delete: the policy keeps selecting traffic"},
    {"esn-no-advance", "ignores advance_esn, so crypto offload RX loses the ESN high bits"},
};
static_assert(sizeof(kMutants) / sizeof(kMutants[0]) == size_t(EngineDefect::Count));
} // namespace

const char*
EngineDefectName(EngineDefect defect)
{
    return kMutants[size_t(defect)].name;
}

const char*
EngineDefectDescription(EngineDefect defect)
{
    return kMutants[size_t(defect)].description;
}

bool
EngineDefectFromName(const std::string& name, EngineDefect* defect)
{
    for (size_t i = 1; i < size_t(EngineDefect::Count); ++i)
    {
        if (name == kMutants[i].name)
        {
            *defect = EngineDefect(i);
            return true;
        }
    }
    return false;
}

} // namespace ns3
