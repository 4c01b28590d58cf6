"""What every emulation topology shares: the Mininet network of the real hosts, the line protocol
with the C++ harness, and the cleanup.

The harness (emulation/harness, `offloadlab emulate`) runs a topology script with Debian's
/usr/bin/python3 and talks to it over stdin and stdout, one JSON object a line:

  1. the script builds the hosts and their real links, then prints the topology: its hosts (name
     and the pid of the shell that holds their namespaces), the emulated interfaces (a TAP the
     harness opens in the host's namespace and joins to an ns-3 node on an ns-3 wire), the IKE
     peers, and the traffic to run;
  2. the harness opens the TAPs and writes {"op": "configure"}; the script gives the TAPs their
     addresses and routes and answers {"configured": true};
  3. end of stdin (the harness is done, or died) or SIGINT/SIGTERM: the script stops the network
     and exits. Nothing else ever stops it, so a harness that crashes leaves nothing behind.

Every name the script creates starts with the run's prefix (--prefix): Mininet makes veth pairs
in the root namespace before it moves them, and parallel runs must not collide. No switch, no
controller (no OVS kernel datapath on these machines), and never Mininet's global cleanup or
net.iperf(), which kill processes machine-wide by name.
"""
import argparse
import json
import signal
import sys

from mininet.log import setLogLevel
from mininet.net import Mininet


class EmulationTopology:
    """A topology script's network. Subclasses add hosts and links in build() and say what is
    emulated, keyed and measured in describe()."""

    name = "?"

    def __init__(self):
        parser = argparse.ArgumentParser(description=self.__doc__)
        parser.add_argument("--prefix", required=True, help="run-unique prefix of every name")
        self.args = parser.parse_args()
        self.prefix = self.args.prefix
        if len(self.prefix) > 7 or not self.prefix.isalnum():
            sys.exit("--prefix: '%s' must be 1 to 7 letters or digits" % self.prefix)
        self.net = Mininet(topo=None, build=False, controller=None, switch=None,
                           autoSetMacs=False, waitConnected=False)
        self.hosts = {}
        self.emulated = []
        self.links = []
        self.stopped = False

    def host(self, short):
        h = self.net.addHost(self.prefix + short, ip=None)
        self.hosts[short] = h
        return h

    def real_link(self, a, b, addr_a, addr_b):
        """A real veth link between two hosts, with an address (CIDR) at each end."""
        ia = "%s-%s" % (self.hosts[a].name, b)
        ib = "%s-%s" % (self.hosts[b].name, a)
        self.net.addLink(self.hosts[a], self.hosts[b], intfName1=ia, intfName2=ib)
        self.links.append(((a, ia, addr_a), (b, ib, addr_b)))

    def emulate(self, short, address, prefix_len, wire, routes=()):
        """host's interface to the ns-3 wire `wire`: a TAP the harness opens, with address/prefix
        and routes (destination CIDR, gateway) through it."""
        tap = "%s-w%d" % (self.hosts[short].name, len([e for e in self.emulated
                                                       if e["host"] == short]))
        self.emulated.append({"host": short, "tap": tap, "address": address,
                              "prefix": prefix_len, "wire": wire, "routes": list(routes)})

    def run(self):
        setLogLevel("error")
        signal.signal(signal.SIGTERM, lambda *_: self.stop(0))
        signal.signal(signal.SIGINT, lambda *_: self.stop(0))
        try:
            self.build()
            self.net.build()
            for h in self.hosts.values():
                # No IPv6 chatter (router solicitations, MLD) on links the emulation is IPv4 on.
                h.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                      "net.ipv6.conf.default.disable_ipv6=1")
                h.cmd("ip link set lo up")
            self.configure_links()
            topology = self.describe()
            topology.update({
                "topology": self.name,
                "hosts": {short: {"pid": h.pid, "name": h.name} for short, h in self.hosts.items()},
                "emulated": self.emulated,
            })
            self.say(topology)
            for line in sys.stdin:
                request = json.loads(line)
                if request.get("op") == "configure":
                    self.say(self.configure_taps())
        except Exception as e:  # the harness reads the reason, then the network still goes
            self.say({"error": "%s: %s" % (type(e).__name__, e)})
        self.stop(0)

    def configure_links(self):
        for a, b in self.links:
            for short, intf, addr in (a, b):
                self.hosts[short].cmd("ip addr add %s dev %s && ip link set %s up" %
                                      (addr, intf, intf))

    def configure_taps(self):
        errors = []
        for e in self.emulated:
            h = self.hosts[e["host"]]
            out = h.cmd("ip addr add %s/%d dev %s && ip link set %s up && echo ok" %
                        (e["address"], e["prefix"], e["tap"], e["tap"]))
            if "ok" not in out:
                errors.append("%s: %s: %s" % (e["host"], e["tap"], out.strip()))
            for dest, via in e["routes"]:
                out = h.cmd("ip route add %s via %s dev %s && echo ok" % (dest, via, e["tap"]))
                if "ok" not in out:
                    errors.append("%s: route %s via %s: %s" % (e["host"], dest, via, out.strip()))
        return {"configured": not errors, "errors": errors}

    @staticmethod
    def say(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def stop(self, code):
        if not self.stopped:
            self.stopped = True
            try:
                self.net.stop()
            except Exception as e:
                sys.stderr.write("net.stop: %s\n" % e)
        sys.exit(code)
