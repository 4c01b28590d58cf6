#!/usr/bin/python3
"""interop_kernel: the emulated NIC against Linux's own ESP. gw2gw's shape, but g2's charon keys
g2's own kernel (kernel-netlink without the preload), so g2's node only carries what g2's kernel
sends: its ESP. g1's charon keys its emulated kernel, the NIC in the run's mode. Tunnel mode,
plain ESP. Needs a kernel with ESP (net.ipv4 esp4 and AES-GCM); the harness probes for one and
refuses the run with the kernel's answer where there is none."""
from gw2gw import Gw2gw


class InteropKernel(Gw2gw):
    name = "interop_kernel"

    def describe(self):
        topology = super().describe()
        topology["modes"] = ["sw", "crypto", "packet"]
        for ike in topology["ike"]:
            if ike["host"] == "g2":
                ike["stack"] = "kernel"
        return topology


if __name__ == "__main__":
    InteropKernel().run()
