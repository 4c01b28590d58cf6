// Gives the in-tree mlx5-like device its short name: `--device mlx5-like` is the library this
// build makes from mlx5-like-device.c.
#include "offload-device-type.h"

namespace
{
const ns3::OffloadDeviceRegistration g_mlx5Like("mlx5-like", OFFLOADLAB_MLX5_LIKE_DEVICE, 12);
} // namespace
