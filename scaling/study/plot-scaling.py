#!/usr/bin/python3
"""Plots of an `offloadlab scale` run, drawn with matplotlib.

    plot-scaling.py DIR/scaling.json DIR

throughput.png/.svg: Gbit/s against CPUs, one line per mode (and per sweep value), the
reference's points and the naive formula (dashed) where the run is the reference's grid.
utilisation.png/.svg: the receiver's mean and busiest core utilisation against CPUs.
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODES = ["baseline", "sw", "crypto", "packet"]
COLOURS = {"baseline": "tab:gray", "sw": "tab:red", "crypto": "tab:orange", "packet": "tab:blue"}
GROUP_KEYS = ["link_gbps", "mtu", "encap", "mix", "rss", "rss_after_decrypt", "crypto_cap_gbps"]


def group_of(cell):
    """The inputs a line keeps fixed: all but mode and CPUs (and with them streams and SAs,
    where they follow the CPUs)."""
    sas = "per stream" if cell["sa_per_stream"] else cell["sas"]
    flows = "per CPU" if cell.get("flows_per_cpu", True) else cell["flows"]
    llc = cell["llc_contention"]
    return tuple((k, json.dumps(cell.get(k))) for k in GROUP_KEYS) + (
        ("flows", json.dumps(flows)),
        ("sas", json.dumps(sas)),
        ("turbo", json.dumps(cell["frequency"]["turbo"])),
        ("clock", json.dumps(cell["frequency"]["base_ghz"])),
        ("cores_per_socket", json.dumps(cell["frequency"]["socket_cores"])),
        ("llc", json.dumps(llc["on"])),
        ("ddio_mb", json.dumps(llc["ddio_mb"])),
        ("dram_gbps", json.dumps(llc["dram_gbytes_per_second"])))


def label_of(group, groups):
    if len(groups) == 1:
        return ""
    varying = [k for k, _ in group if len({dict(g)[k] for g in groups}) > 1]
    return " (" + ", ".join(f"{k}={dict(group)[k]}" for k in varying) + ")"


def ordered(series):
    """Each (mode, group) and its cells by CPU count, modes in the table's order."""
    for (mode, group), cs in sorted(series.items(),
                                    key=lambda kv: (MODES.index(kv[0][0]), kv[0][1])):
        yield mode, group, sorted(cs, key=lambda c: c["cpus"])


def finish(fig, ax, labels, out, name):
    """Log-2 CPU axis, the labels (x, y, title), a grid and a legend; PNG and SVG."""
    ax.set_xscale("log", base=2)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(labels[2])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="best")
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{out}/{name}.{ext}", dpi=120)
    plt.close(fig)


def main():
    doc = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    cells = [c for c in doc["cells"] if "gbps" in c]
    if not cells:
        sys.exit("no cell has a result")
    series = defaultdict(list)
    for c in cells:
        series[(c["mode"], group_of(c))].append(c)
    groups = sorted({g for _, g in series})

    fig, ax = plt.subplots(figsize=(8, 5))
    for mode, group, cs in ordered(series):
        x = [c["cpus"] for c in cs]
        colour = COLOURS.get(mode)
        ax.plot(x, [c["gbps"] for c in cs], "-o", color=colour, label=mode + label_of(group, groups))
        if all("reference_gbps" in c for c in cs):
            ax.plot(x, [c["reference_gbps"] for c in cs], "x", color=colour, markersize=9,
                    label=f"{mode}, reference")
            ax.plot(x, [c["formula_gbps"] for c in cs], "--", color=colour, alpha=0.5,
                    label=f"{mode}, formula")
    finish(fig, ax, ("CPUs (one TCP stream each)", "TCP goodput, Gbit/s",
                     "Throughput by CPU count"), out, "throughput")

    fig, ax = plt.subplots(figsize=(8, 5))
    for mode, group, cs in ordered(series):
        x = [c["cpus"] for c in cs]
        mean = [100 * sum(r["utilisation"] for r in c["receiver_cores"]) / len(c["receiver_cores"])
                for c in cs]
        busiest = [100 * max(r["utilisation"] for r in c["receiver_cores"]) for c in cs]
        colour = COLOURS.get(mode)
        ax.plot(x, mean, "-o", color=colour, label=f"{mode}{label_of(group, groups)}, mean")
        ax.plot(x, busiest, ":", color=colour, label=f"{mode}{label_of(group, groups)}, busiest")
    ax.set_ylim(0, 105)
    finish(fig, ax, ("CPUs", "receiver core utilisation, %",
                     "Receiver CPU utilisation by CPU count"), out, "utilisation")


if __name__ == "__main__":
    main()
