// The suite-wide independent oracle: every ESP packet a device puts on the wire, in every case
// of the suite, must decrypt with Scapy's ESP under the keys of the SA its SPI names (so its ICV
// verifies). A packet that does not fails the case that was running. What the plaintext must be
// is each requirement's own check (ESP-WIRE-DECRYPTS compares it with what was sent).
#ifndef WIRE_ORACLE_H
#define WIRE_ORACLE_H

#include <gtest/gtest.h>

namespace conformance
{

/// Installs the oracle on every EmuNic of the process; reports per case as the "wire_oracle"
/// property (packets checked).
void InstallWireOracle(testing::TestEventListeners& listeners);

} // namespace conformance

#endif // WIRE_ORACLE_H
