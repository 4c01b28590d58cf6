// Gives the in-tree example device its short name: `--device example` is the library this
// build makes from example-device.c.
#include "offload-device-type.h"

namespace
{
const ns3::OffloadDeviceRegistration g_example("example", OFFLOADLAB_EXAMPLE_DEVICE, 10);
} // namespace
