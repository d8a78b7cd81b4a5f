#!/usr/bin/env python3
"""Benchmark virtsh's network driver against libvirt 9.0's, on the same machine, in one run.

usage: network.py [--virtsh PATH] [--virsh PATH] [--runs N] [--quick] [--firewall WHICH]
                  [--stp] [--no-libvirt] [--json PATH]

One NAT network with a DHCP range (192.168.160.0/24, range .100-.200), the same XML for both:
  net-start   from invoking `net-start` until it returns, and until a DHCP client on the
              network's bridge has a lease: a guest network namespace whose eth0 is a veth whose
              peer is enslaved to the bridge right after net-start returns, then
              `busybox udhcpc -i eth0 -n -q -t 20 -T 1 -s SCRIPT` (udhcpc's own time and the
              number of DHCPDISCOVERs it sent are reported too).
  net-destroy the wall time of the command.

Sides: virtsh on `qemu:///embed?root=TMP` (one row per firewall backend: nftables and iptables,
set in the root's network.conf), and real virsh on a private libvirtd (network:///system on a
socket in the temp dir; libvirt 9.0 uses iptables). Every side runs in network namespaces this
script creates (libvirtd itself runs in its side's namespace, so its bridge, dnsmasq and iptables
rules live there); the host's interfaces and firewall are never touched. Commands of both sides
go through the same `ip netns exec NS` prefix and are timed with time.perf_counter around
subprocess.run. One untimed warm-up per side (the client's first lease, which includes dnsmasq's
ping check of a new address, is reported separately), then N runs alternating the sides.
Reported: medians, and the ratios libvirt/virtsh (above 1: virtsh is faster).

A missing component (root, ip, dnsmasq, busybox, nft, iptables, libvirtd) is reported as an
"unavailable: why" line for the part that needs it, and the run goes on. It never fails on
timing; the exit status is 1 only when virtsh cannot run at all. Everything it makes (network
namespaces, libvirtd, dnsmasq, temp dirs) is removed at the end, on errors and Ctrl-C too.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import fmt, kill_pids, log, med, missing  # noqa: E402
from libvirtd import PrivateLibvirtd, Unavailable, first_line, run  # noqa: E402

NET = "vnbench"
BRIDGE = "vnbbr0"
SUBNET = "192.168.160"
GUEST_MAC = "52:54:00:a0:16:01"
PEER = "vnbp0"  # the host end of the guest's veth, in the side's namespace
UDHCPC_TIMEOUT = 60

NET_XML = """<network>
  <name>%(name)s</name>
  <forward mode='nat'/>
  <bridge name='%(bridge)s' stp='%(stp)s' delay='0'/>
  <ip address='%(subnet)s.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='%(subnet)s.100' end='%(subnet)s.200'/>
    </dhcp>
  </ip>
</network>
"""

LEASE_SCRIPT = """#!/bin/sh
# udhcpc's script: record the address, configure nothing.
[ "$1" = bound ] && echo "$ip" > '%s'
exit 0
"""


class Side:
    """One tool on one connection, in its own pair of network namespaces."""

    def __init__(self, label, binary, uri, ns_host, ns_guest, workdir):
        self.label, self.binary, self.uri = label, binary, uri
        self.ns_host, self.ns_guest = ns_host, ns_guest
        self.workdir = workdir
        self.script = os.path.join(workdir, "udhcpc.sh")
        self.leasefile = os.path.join(workdir, "lease")
        self.libvirtd = None
        self.unavailable = None  # why this side cannot run
        self.samples = {"start": [], "lease": [], "udhcpc": [], "discovers": [],
                        "destroy": []}
        self.first = None  # the warm-up: (start ms, lease ms, discovers)
        self.failures = []
        self.netns_made = []

    def cmd(self, *args):
        return ["ip", "netns", "exec", self.ns_host, self.binary, "-c", self.uri] + list(args)

    def run(self, *args, timeout=120):
        return run(self.cmd(*args), timeout=timeout)


class NetworkBench:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="virtsh-net-bench-")
        os.chmod(self.tmp, 0o755)  # dnsmasq (as nobody) and the embed roots below it
        self.tag = "vnb%d" % os.getpid()
        self.sides = []
        self.notes = []
        self.lease_ok = True
        self.netns_overhead = None

    # -- setup -------------------------------------------------------------------------------

    def netns(self, side, name):
        _, rc, _, err = run(["ip", "netns", "add", name], timeout=30)
        if rc != 0:
            raise Unavailable("ip netns add %s: %s" % (name, first_line(err)))
        side.netns_made.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"], timeout=30, check=True)

    def setup_side(self, side):
        """Namespaces, the guest's veth, the XML and the udhcpc script of one side."""
        os.makedirs(side.workdir, exist_ok=True)
        self.netns(side, side.ns_host)
        self.netns(side, side.ns_guest)
        run(["ip", "link", "add", PEER, "netns", side.ns_host, "type", "veth", "peer", "name",
             "eth0", "netns", side.ns_guest], timeout=30, check=True)
        run(["ip", "-n", side.ns_guest, "link", "set", "eth0", "address", GUEST_MAC],
            timeout=30, check=True)
        for ns, dev in ((side.ns_host, PEER), (side.ns_guest, "eth0")):
            run(["ip", "-n", ns, "link", "set", dev, "up"], timeout=30, check=True)
        with open(side.script, "w") as f:
            f.write(LEASE_SCRIPT % side.leasefile)
        os.chmod(side.script, 0o755)

    def add_virtsh(self, backend):
        """A virtsh side; backend None: virtsh's own choice (no network.conf)."""
        label = "virtsh (%s)" % (backend or "auto")
        n = len(self.sides)
        workdir = os.path.join(self.tmp, "side%d" % n)
        root = os.path.join(workdir, "root")
        side = Side(label, self.args.virtsh, "qemu:///embed?root=%s" % root,
                    "%s-%dh" % (self.tag, n), "%s-%dg" % (self.tag, n), workdir)
        self.sides.append(side)
        need = {"nftables": ["nft"], "iptables": ["iptables", "ip6tables"]}.get(backend, [])
        gone = missing(*need)
        if gone:
            side.unavailable = "%s not found" % ", ".join(gone)
            return
        os.makedirs(os.path.join(root, "etc"))
        os.chmod(workdir, 0o755)
        os.chmod(root, 0o755)
        if backend:
            with open(os.path.join(root, "etc", "network.conf"), "w") as f:
                f.write('firewall_backend = "%s"\n' % backend)
        self.setup_side(side)

    def add_libvirt(self):
        n = len(self.sides)
        workdir = os.path.join(self.tmp, "side%d" % n)
        side = Side("libvirt 9.0 (iptables)", self.args.virsh, None,
                    "%s-%dh" % (self.tag, n), "%s-%dg" % (self.tag, n), workdir)
        self.sides.append(side)
        if self.args.no_libvirt:
            side.unavailable = "skipped (--no-libvirt)"
            return
        virsh = shutil.which(self.args.virsh)
        gone = missing("libvirtd", "iptables", "unshare") + ([] if virsh else [self.args.virsh])
        if gone:
            side.unavailable = "%s not found" % ", ".join(gone)
            return
        side.binary = virsh
        self.setup_side(side)
        side.libvirtd = PrivateLibvirtd(workdir, virsh, netns=side.ns_host, driver="network")
        t0 = time.perf_counter()
        side.libvirtd.start()
        side.uri = side.libvirtd.uri
        self.notes.append("private libvirtd started in %.1f s (untimed), pid %s" % (
            time.perf_counter() - t0, side.libvirtd.pid()))

    def setup(self):
        a = self.args
        log("  virtsh  %s (%s)" % (a.virtsh, common.check_virtsh(a.virtsh)))
        if not a.no_libvirt and shutil.which(a.virsh):
            log("  virsh   %s (%s)" % (shutil.which(a.virsh),
                                      common.version(a.virsh, check=False)))
        if os.geteuid() != 0:
            raise Unavailable("needs root (network namespaces, bridges, firewall rules)")
        gone = missing("ip", "dnsmasq")
        if gone:
            raise Unavailable("%s not found (every side needs it)" % ", ".join(gone))
        if not os.path.isfile(a.busybox):
            self.lease_ok = False
            self.notes.append("lease times unavailable: %s not found (busybox-static)"
                              % a.busybox)
        backends = {"both": ["nftables", "iptables"], "auto": [None]}.get(
            a.firewall, [a.firewall])
        try:
            self.add_libvirt()
        except (Unavailable, RuntimeError) as e:
            self.sides[-1].unavailable = str(e)
        for b in backends:
            try:
                self.add_virtsh(b)
            except (Unavailable, RuntimeError) as e:
                self.sides[-1].unavailable = str(e)
        # Each side defines the network once (untimed).
        xml = os.path.join(self.tmp, "net.xml")
        with open(xml, "w") as f:
            f.write(NET_XML % {"name": NET, "bridge": BRIDGE, "subnet": SUBNET,
                               "stp": "on" if a.stp else "off"})
        for side in self.live():
            _, rc, out, err = side.run("net-define", xml)
            if rc != 0:
                side.unavailable = "net-define failed: %s" % (first_line(err) or first_line(out))
        # What `ip netns exec` adds to every timed command of both sides.
        live = self.live()
        if live:
            true = shutil.which("true") or "/bin/true"
            samples = [run(["ip", "netns", "exec", live[0].ns_host, true])[0] for _ in range(11)]
            self.netns_overhead = med(samples)

    def live(self):
        return [s for s in self.sides if not s.unavailable]

    # -- one run -----------------------------------------------------------------------------

    def once(self, side):
        """net-start, lease, net-destroy. Returns a dict of times, or None on failure."""
        r = {}
        try:
            os.unlink(side.leasefile)
        except FileNotFoundError:
            pass
        log_at = side.libvirtd.log_size() if side.libvirtd else 0
        t0 = time.perf_counter()
        ms, rc, out, err = side.run("net-start", NET)
        r["start"] = ms
        if rc != 0:
            why = first_line(err) or first_line(out)
            if side.libvirtd:
                why += "".join("\n      libvirtd: " + l for l in side.libvirtd.log_errors(log_at))
            self.fail(side, "net-start exited %s: %s" % (rc, why))
            side.run("net-destroy", NET)
            return None
        try:
            if self.lease_ok:
                run(["ip", "-n", side.ns_host, "link", "set", PEER, "master", BRIDGE],
                    timeout=30, check=True)
                t1 = time.perf_counter()
                ms, rc, out, err = run(
                    ["ip", "netns", "exec", side.ns_guest, self.args.busybox, "udhcpc",
                     "-i", "eth0", "-n", "-q", "-t", "20", "-T", "1", "-s", side.script],
                    timeout=UDHCPC_TIMEOUT)
                t2 = time.perf_counter()
                text = out + err
                try:
                    with open(side.leasefile) as f:
                        ip = f.read().strip()
                except FileNotFoundError:
                    ip = ""
                if rc != 0 or not re.fullmatch(re.escape(SUBNET) + r"\.\d+", ip) or \
                        not 100 <= int(ip.rsplit(".", 1)[1]) <= 200:
                    self.fail(side, "no lease (udhcpc exit %s, address %r): %s" % (
                        rc, ip, first_line(text[-300:])))
                    return None
                r["lease"] = (t2 - t0) * 1000
                r["udhcpc"] = (t2 - t1) * 1000
                r["discovers"] = text.count("broadcasting discover")
        finally:
            ms, rc, out, err = side.run("net-destroy", NET)
            r["destroy"] = ms
            if rc != 0:
                self.fail(side, "net-destroy exited %s: %s" % (rc, first_line(err)
                                                               or first_line(out)))
                return None
        left = self.leftovers(side)
        if left:
            self.fail(side, "after net-destroy: %s" % left)
            return None
        return r

    def leftovers(self, side):
        """What net-destroy left in the side's namespace: the bridge, a dnsmasq."""
        out = []
        _, rc, _, _ = run(["ip", "-n", side.ns_host, "link", "show", BRIDGE], timeout=30)
        if rc == 0:
            out.append("bridge %s still exists" % BRIDGE)
        for pid in self.ns_pids(side.ns_host):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "dnsmasq":
                        out.append("dnsmasq (pid %d) still runs" % pid)
            except OSError:
                pass
        return "; ".join(out)

    def fail(self, side, text):
        side.failures.append(text)
        log("  !! %s: %s" % (side.label, text))

    def run_all(self):
        a = self.args
        live = self.live()
        for side in live:
            r = self.once(side)
            if r:
                side.first = r
        for _ in range(a.runs):
            for side in live:
                r = self.once(side)
                if r:
                    for k, v in r.items():
                        side.samples[k].append(v)

    # -- report ------------------------------------------------------------------------------

    def report(self):
        a = self.args
        log("")
        cols = "%-23s %10s %15s %9s %10s %12s %12s"
        hdr = cols % ("side", "net-start", "start-to-lease", "udhcpc", "discovers",
                      "net-destroy", "first lease")
        log(hdr)
        log("-" * len(hdr))
        for s in self.sides:
            if s.unavailable:
                log("%-23s unavailable: %s" % (s.label, s.unavailable))
                continue
            m = {k: med(v) for k, v in s.samples.items()}
            disc = "-"
            if s.samples["discovers"]:
                lo, hi = min(s.samples["discovers"]), max(s.samples["discovers"])
                disc = "%g" % m["discovers"] if lo == hi else "%g (%d-%d)" % (
                    m["discovers"], lo, hi)
            first = fmt(s.first["lease"]) if s.first and "lease" in s.first else "-"
            log(cols % (s.label, fmt(m["start"]), fmt(m["lease"]), fmt(m["udhcpc"]), disc,
                        fmt(m["destroy"]), first))
            if s.failures:
                log("%-23s %d failed run(s), left out of the medians" % ("", len(s.failures)))
        log("")
        lv = [s for s in self.sides if s.label.startswith("libvirt")][0]
        self.ratios = {}
        if lv.unavailable:
            log("ratio libvirt/virtsh: libvirt unavailable: %s" % lv.unavailable)
        for v in self.sides:
            if v is lv or v.unavailable or lv.unavailable:
                continue
            parts = []
            rat = {}
            for key, name in (("start", "net-start"), ("lease", "start-to-lease"),
                              ("destroy", "net-destroy")):
                a_, b_ = med(lv.samples[key]), med(v.samples[key])
                if a_ is None or not b_:
                    parts.append("%s -" % name)
                    continue
                rat[key] = a_ / b_
                parts.append("%s %.2fx" % (name, rat[key]))
            self.ratios[v.label] = rat
            log("ratio libvirt/%s: %s" % (v.label, ", ".join(parts)))
        log("")
        log("Medians in ms of %d runs per side, sides alternating, after 1 warm-up each. "
            "start-to-lease:" % a.runs)
        log("from invoking net-start until udhcpc has a lease (net-start, enslaving the guest's "
            "veth, udhcpc);")
        log("udhcpc: udhcpc alone, and the DHCPDISCOVERs it sent (1 s apart); first lease: the "
            "warm-up's,")
        log("a client new to dnsmasq, whose ping check of the address takes about 3 s.")
        if self.netns_overhead is not None:
            log("Every command of both sides runs under `ip netns exec`, which adds %.1f ms "
                "(`ip netns exec NS true`)." % self.netns_overhead)
        log("Ratio above 1: virtsh is faster. Information only, never a verdict.")

    def to_json(self):
        return {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": self.args.runs,
                "stp": self.args.stp, "netns_overhead_ms": self.netns_overhead,
                "notes": self.notes, "ratios_libvirt_over_virtsh": getattr(self, "ratios", {}),
                "sides": [common.side_json(s) for s in self.sides]}

    # -- clean-up ----------------------------------------------------------------------------

    @staticmethod
    def ns_pids(ns):
        _, rc, out, _ = run(["ip", "netns", "pids", ns], timeout=30)
        return [int(p) for p in out.split() if p.isdigit()] if rc == 0 else []

    def cleanup(self):
        for side in self.sides:
            if not side.netns_made:
                continue
            if side.uri and not side.unavailable:
                side.run("net-destroy", NET, timeout=60)
            if side.libvirtd:  # on failure go on: the namespace's processes are killed below
                common.stop_daemon(side.libvirtd)
            # Whatever still runs in this run's namespaces is ours (dnsmasq, udhcpc).
            for ns in side.netns_made:
                kill_pids(self.ns_pids(ns))
            for ns in side.netns_made:
                _, rc, _, err = run(["ip", "netns", "del", ns], timeout=30)
                if rc != 0:
                    log("cleanup: ip netns del %s: %s" % (ns, first_line(err)))
            side.netns_made = []
            if side.libvirtd:
                side.libvirtd.remove_mount_points()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_common_args(ap, busybox=True)
    ap.add_argument("--firewall", default="both",
                    choices=["both", "nftables", "iptables", "auto"],
                    help="virtsh's firewall backend(s): a row each (default both; auto: "
                    "virtsh's own choice)")
    ap.add_argument("--stp", action="store_true", help="stp='on' on the bridge, as libvirt's "
                    "default network (the kernel then holds a new port for 2 forward delays, "
                    "at least 4 s)")
    ap.add_argument("--no-libvirt", action="store_true", help="skip the libvirt side")
    a = common.parse_args(ap)
    a.virtsh = os.path.abspath(a.virtsh)
    common.on_signals()

    log("network benchmark: NAT network %s.0/24, DHCP %s.100-.200, stp %s; %d runs per side "
        "after 1 warm-up, sides alternating" % (SUBNET, SUBNET, "on" if a.stp else "off",
                                               a.runs))
    bench = NetworkBench(a)

    def body():
        bench.setup()
        for n in bench.notes:
            log("  " + n)
        if bench.live():
            bench.run_all()
        bench.report()
    return common.run_bench("network benchmark", bench, body, a.json)


if __name__ == "__main__":
    sys.exit(main())
