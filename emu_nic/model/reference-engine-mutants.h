#ifndef REFERENCE_ENGINE_MUTANTS_H
#define REFERENCE_ENGINE_MUTANTS_H

#include <cstdint>
#include <string>

namespace ns3
{

/**
 * The conformance suite's mutants: the reference offload engine with exactly one defect each.
 * `offloadlab certify --device mutant:NAME` must fail every one of them; a mutant the suite
 * cannot catch marks a requirement that is not really tested.
 */
enum class EngineDefect : uint8_t
{
    None,
    FragForward,          //!< packet offload forwards fragments, TX and RX
    NoPmtuCheck,          //!< packet offload sends packets that exceed the MTU after ESP
    NoSoftExpire,         //!< never raises the soft expire
    LateHardExpire,       //!< enforces the hard limit 8 packets (and 8 x 1400 bytes) late
    BadIcv1In64,          //!< corrupts the ICV of every 64th packet it sends
    NoReplayCheck,        //!< packet offload accepts replayed and too old sequence numbers
    ReplayWindowOffByOne, //!< accepts one sequence number left of the window
    NoStateFree,          //!< ignores state_delete and state_free
    PacketPlaintext,      //!< packet offload lets policy-selected traffic out unencrypted
    StatsShort,           //!< update_stats reports one packet (and its bytes) short
    IvReuse,              //!< the same GCM IV for every packet
    SeqStart2,            //!< packet offload starts sequence numbers at 2
    NoTxCsum,             //!< advertises HW_ESP_TX_CSUM but leaves the inner checksum
    CryptoRxOkOnBadIcv,   //!< crypto offload RX reports success whatever the ICV
    Gcm256ShortKey,       //!< uses only the first 16 bytes of a 256-bit key
    SeqWraps,             //!< packet offload without ESN wraps past 2^32-1
    NoPolicyDelete,       //!< ignores policy_delete
    EsnNoAdvance,         //!< ignores advance_esn (crypto offload RX loses the ESN high bits)
    Count,
};

/// "frag-forward", ...; "" for None.
const char* EngineDefectName(EngineDefect defect);
/// One line: what is wrong with this mutant.
const char* EngineDefectDescription(EngineDefect defect);
/// The defect named name; false when there is none.
bool EngineDefectFromName(const std::string& name, EngineDefect* defect);

} // namespace ns3

#endif // REFERENCE_ENGINE_MUTANTS_H
