#!/usr/bin/python3
"""gw2gw: two gateways with a host behind each, tunnel mode between the gateways' emulated
interfaces (10.1.0.0/24 <-> 10.2.0.0/24). The hosts reach their gateways over real veth links;
the gateways' outside interfaces are emulated on one ns-3 wire."""
from emutopo import EmulationTopology


class Gw2gw(EmulationTopology):
    name = "gw2gw"

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
            "ike": [
                {"host": "g1", "local": "192.168.0.1", "remote": "192.168.0.2", "id": "g1",
                 "peer_id": "g2", "mode": "tunnel", "local_ts": "10.1.0.0/24",
                 "remote_ts": "10.2.0.0/24", "initiator": True},
                {"host": "g2", "local": "192.168.0.2", "remote": "192.168.0.1", "id": "g2",
                 "peer_id": "g1", "mode": "tunnel", "local_ts": "10.2.0.0/24",
                 "remote_ts": "10.1.0.0/24", "initiator": False},
            ],
            "traffic": {"client": "ha", "server": "hb", "server_address": "10.2.0.10"},
        }


if __name__ == "__main__":
    Gw2gw().run()
