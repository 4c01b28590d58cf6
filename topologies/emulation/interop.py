#!/usr/bin/python3
"""interop: the emulated NIC against strongSwan's own ESP. g1's charon keys its emulated kernel
(the NIC in the run's mode: sw, or packet offload, which takes ESP-in-UDP; crypto offload cannot,
as in Linux); g2's charon uses kernel-libipsec, userspace ESP over a TUN, so its node only
carries UDP. Tunnel mode, ESP-in-UDP forced (libipsec speaks nothing else), hosts ha and hb
behind the gateways over real veth links."""
from emutopo import EmulationTopology


class Interop(EmulationTopology):
    name = "interop"

    def build(self):
        for h in ("ha", "g1", "g2", "hb"):
            self.host(h)
        self.real_link("ha", "g1", "10.1.0.10/24", "10.1.0.1/24")
        self.real_link("hb", "g2", "10.2.0.10/24", "10.2.0.1/24")
        self.emulate("g1", "192.168.0.1", 24, "wire", routes=[("10.2.0.0/24", "192.168.0.2")])
        self.emulate("g2", "192.168.0.2", 24, "wire", routes=[("10.1.0.0/24", "192.168.0.1")])

    def configure_links(self):
        super().configure_links()
        self.hosts["ha"].cmd("ip route add default via 10.1.0.1")
        self.hosts["hb"].cmd("ip route add default via 10.2.0.1")
        for g in ("g1", "g2"):
            self.hosts[g].cmd("sysctl -qw net.ipv4.ip_forward=1")

    def describe(self):
        return {
            "wires": {"wire": {"rate": "10Gbps", "delay": "20us"}},
            "modes": ["sw", "packet"],
            "ike": [
                {"host": "g1", "local": "192.168.0.1", "remote": "192.168.0.2", "id": "g1",
                 "peer_id": "g2", "mode": "tunnel", "local_ts": "10.1.0.0/24",
                 "remote_ts": "10.2.0.0/24", "encap": True, "initiator": True},
                {"host": "g2", "local": "192.168.0.2", "remote": "192.168.0.1", "id": "g2",
                 "peer_id": "g1", "mode": "tunnel", "local_ts": "10.2.0.0/24",
                 "remote_ts": "10.1.0.0/24", "encap": True, "initiator": False,
                 "stack": "libipsec"},
            ],
            "traffic": {"client": "ha", "server": "hb", "server_address": "10.2.0.10"},
        }


if __name__ == "__main__":
    Interop().run()
