// Gives the netdevsim-like device its short name: `--device netdevsim-like` is the library this
// build makes from netdevsim-like-device.c.
#include "offload-device-type.h"

namespace
{
const ns3::OffloadDeviceRegistration g_netdevsimLike("netdevsim-like",
                                                     OFFLOADLAB_NETDEVSIM_LIKE_DEVICE,
                                                     11);
} // namespace
