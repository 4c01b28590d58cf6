#!/usr/bin/python3
"""h2h: two hosts, IKEv2 with a PSK between them, AES-GCM, transport mode. Each host's only
interface is emulated: its kernel below IP is an ns-3 node, and the two nodes share one ns-3
wire."""
from emutopo import EmulationTopology


class H2h(EmulationTopology):
    name = "h2h"

    def build(self):
        self.host("h1")
        self.host("h2")
        self.emulate("h1", "10.0.0.1", 24, "wire")
        self.emulate("h2", "10.0.0.2", 24, "wire")

    def describe(self):
        return {
            "wires": {"wire": {"rate": "10Gbps", "delay": "20us"}},
            "ike": [
                {"host": "h1", "local": "10.0.0.1", "remote": "10.0.0.2", "id": "h1",
                 "peer_id": "h2", "mode": "transport", "initiator": True},
                {"host": "h2", "local": "10.0.0.2", "remote": "10.0.0.1", "id": "h2",
                 "peer_id": "h1", "mode": "transport", "initiator": False},
            ],
            "traffic": {"client": "h1", "server": "h2", "server_address": "10.0.0.2"},
        }


if __name__ == "__main__":
    H2h().run()
