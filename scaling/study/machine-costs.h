// Costs measured on the running machine: OpenSSL's AES-GCM-128 at packet sizes and the copy a
// receiver makes, in cycles of this machine's clock.
#ifndef MACHINE_COSTS_H
#define MACHINE_COSTS_H

#include "scale-costs.h"

#include <string>

namespace ns3
{

struct MachineCosts
{
    double ghz{0};      //!< this machine's clock, from /proc/cpuinfo ("cpu MHz")
    std::string cpu;    //!< its model name
    CipherCost cipher;  //!< EVP AES-128-GCM seal (8-byte AAD, 16-byte tag) per call
    double copyByte{0}; //!< memcpy of 1,448-byte blocks from a 32 MiB region, per byte
    double seconds{0};  //!< what measuring took
};

/// Measures on this machine, each the fastest of seven rounds; sizes are the bytes the cipher
/// encrypts per call (multiples of 4, at least 4).
MachineCosts MeasureMachineCosts(
    const std::vector<uint32_t>& sizes = {64, 128, 256, 512, 1024, 1500});

} // namespace ns3

#endif // MACHINE_COSTS_H
