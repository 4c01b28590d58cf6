#!/usr/bin/python3
"""interop: the emulated NIC against strongSwan's own ESP. gw2gw's shape, but g2's charon uses
kernel-libipsec (userspace ESP over a TUN), so g2's node only carries UDP; g1's charon keys its
emulated kernel, the NIC in the run's mode: sw, or packet offload, which takes ESP-in-UDP (crypto
offload cannot, as in Linux). Tunnel mode, ESP-in-UDP forced: libipsec speaks nothing else."""
from gw2gw import Gw2gw


class Interop(Gw2gw):
    name = "interop"

    def describe(self):
        topology = super().describe()
        topology["modes"] = ["sw", "packet"]
        for ike in topology["ike"]:
            ike["encap"] = True
            if ike["host"] == "g2":
                ike["stack"] = "libipsec"
        return topology


if __name__ == "__main__":
    Interop().run()
