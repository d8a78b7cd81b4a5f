#!/usr/bin/env python3
"""Benchmark virtsh against libvirt's virsh on the same machine, in the same run.

usage: compare.py [--virtsh PATH] [--virsh PATH] [--uri URI] [--runs N] [--quick]
                  [--no-network] [--no-remote] [--no-lxc]

Workloads, all on test:///default (no daemon): one-shot 'list --all', 'dominfo test',
'dumpxml test', and a 20-command ';' chain in one process. Each tool runs each workload N times,
the two tools alternating run by run so that machine noise hits both alike, after one untimed
warm-up run each. Reported per workload: median wall time, median peak RSS (the child's
ru_maxrss), and the ratios virtsh/virsh against the project's targets (time <= 0.25,
memory <= 0.5).

Then it runs benches/network.py (virtsh's network driver against libvirt 9.0's: net-start until
a DHCP client has a lease, net-destroy; in network namespaces it creates; needs root), so that
its lines are in the same report; --no-network skips it. After that it runs benches/remote.py
(virtsh's remote driver against virsh, both on one private libvirtd: qemu+unix with bare guests,
test+unix; needs root); --no-remote skips it. Then benches/lxc.py (virtsh's LXC driver: start and
destroy of a busybox container, against libvirt's LXC driver and the same steps by hand; needs
root); --no-lxc skips it.

It reports; it never fails on timing. The exit status is 1 only when a tool cannot be run at all.

Measuring: a process started from Python inherits Python's own peak RSS into its ru_maxrss when it
execs (the kernel keeps the high-water mark across exec), which would put a floor of ~10 MiB under
every number. So each run goes through a tiny C helper, compiled here with cc, that forks, execs
and wait4()s the tool, and prints the wall time and ru_maxrss of that grandchild. Without cc the
script falls back to Python's os.wait4 and says that the RSS numbers have that floor.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The same chain as tests/compat/chains.cmds checks for output equality.
CHAIN = ("list --all; dominfo test; domstate test; domid test; domuuid test; dumpxml test; "
         "vcpucount test; domblklist test; domiflist test; net-list --all; net-info default; "
         "pool-list --all; pool-info default-pool; vol-list default-pool; nodeinfo; uri; version; "
         "suspend test; resume test; domstate test --reason")

WORKLOADS = [
    ("list --all", ["list", "--all"]),
    ("dominfo test", ["dominfo", "test"]),
    ("dumpxml test", ["dumpxml", "test"]),
    ("20-command chain", [CHAIN]),
]

TIME_TARGET = 0.25
MEM_TARGET = 0.5

HELPER_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* spawnrss CMD ARGS...: run CMD with output to /dev/null; print "wall_ns maxrss_kib status". */
int main(int argc, char **argv) {
    struct timespec a, b;
    struct rusage ru;
    int status, null;
    pid_t pid;
    if (argc < 2) return 2;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        null = open("/dev/null", O_RDWR);
        dup2(null, 0); dup2(null, 1); dup2(null, 2);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%lld %ld %d\n",
           (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
           ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
"""


def build_helper(folder):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src = os.path.join(folder, "spawnrss.c")
    exe = os.path.join(folder, "spawnrss")
    with open(src, "w") as f:
        f.write(HELPER_C)
    r = subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True, text=True)
    if r.returncode != 0:
        print("note: cannot compile the measuring helper:\n" + r.stderr, file=sys.stderr)
        return None
    return exe


def run_once(helper, argv, env):
    """One run: (wall seconds, peak RSS KiB, exit status)."""
    if helper:
        out = subprocess.run([helper] + argv, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL).stdout.split()
        if len(out) != 3:
            return None, None, "helper failed"
        return int(out[0]) / 1e9, int(out[1]), int(out[2])
    with open(os.devnull, "r+b") as null:
        start = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdin=null, stdout=null, stderr=null)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss, p.returncode


def resolve(path):
    if os.sep in path:
        return os.path.abspath(path) if os.access(path, os.X_OK) else None
    return shutil.which(path)


def fmt_ratio(ratio, target):
    if ratio is None:
        return "-"
    return f"{ratio:.2f} {'ok' if ratio <= target else 'over'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--virtsh", default=os.path.join(ROOT, "target", "release", "virtsh"))
    ap.add_argument("--virsh", default="virsh")
    ap.add_argument("--uri", default="test:///default")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="5 runs per tool and workload "
                    "(and 3 per side in the network, remote and LXC benchmarks)")
    ap.add_argument("--no-network", action="store_true",
                    help="skip the network benchmark (benches/network.py)")
    ap.add_argument("--no-remote", action="store_true",
                    help="skip the remote driver benchmark (benches/remote.py)")
    ap.add_argument("--no-lxc", action="store_true",
                    help="skip the LXC driver benchmark (benches/lxc.py)")
    a = ap.parse_args()
    runs = 5 if a.quick else max(1, a.runs)

    tools = {}
    for name, path in (("virsh", a.virsh), ("virtsh", a.virtsh)):
        exe = resolve(path)
        if not exe:
            print(f"compare.py: cannot run {name}: {path} not found or not executable", file=sys.stderr)
            return 1
        tools[name] = exe

    env = dict(os.environ, LC_ALL="C", LANG="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    env.pop("VIRSH_DEFAULT_CONNECT_URI", None)

    with tempfile.TemporaryDirectory(prefix="virtsh-bench-") as tmp:
        helper = build_helper(tmp)
        print(f"benchmark: {runs} runs per tool and workload, {a.uri}, alternating tools, "
              f"after 1 warm-up run each")
        for name, exe in tools.items():
            print(f"  {name:7} {exe}")
        if not helper:
            print("  note: no C compiler; peak RSS is measured with Python's os.wait4 and "
                  "includes Python's own peak (~10 MiB floor)")
        print()

        header = (f"{'workload':18} {'virsh ms':>9} {'virtsh ms':>10} {'time ratio':>11} "
                  f"{'virsh RSS':>10} {'virtsh RSS':>11} {'mem ratio':>10}")
        print(header)
        print("-" * len(header))
        problems = []
        for label, args in WORKLOADS:
            argv = {name: [exe, "-c", a.uri] + args for name, exe in tools.items()}
            walls = {name: [] for name in tools}
            rss = {name: [] for name in tools}
            for name in tools:  # warm-up: page cache, dynamic loader caches
                run_once(helper, argv[name], env)
            for _ in range(runs):
                for name in tools:
                    wall, peak, status = run_once(helper, argv[name], env)
                    if status != 0:
                        problems.append(f"{name} '{label}': exit status {status}")
                    if wall is not None:
                        walls[name].append(wall)
                        rss[name].append(peak)
            med_t = {n: statistics.median(v) * 1000 if v else None for n, v in walls.items()}
            med_m = {n: statistics.median(v) / 1024 if v else None for n, v in rss.items()}
            t_ratio = med_t["virtsh"] / med_t["virsh"] if med_t["virsh"] and med_t["virtsh"] is not None else None
            m_ratio = med_m["virtsh"] / med_m["virsh"] if med_m["virsh"] and med_m["virtsh"] is not None else None
            show = lambda v, unit: "-" if v is None else f"{v:.1f}{unit}"
            print(f"{label:18} {show(med_t['virsh'], ''):>9} {show(med_t['virtsh'], ''):>10} "
                  f"{fmt_ratio(t_ratio, TIME_TARGET):>11} {show(med_m['virsh'], ' MiB'):>10} "
                  f"{show(med_m['virtsh'], ' MiB'):>11} {fmt_ratio(m_ratio, MEM_TARGET):>10}")
        print()
        print(f"targets: time ratio <= {TIME_TARGET}, memory ratio <= {MEM_TARGET} "
              "(virtsh/virsh: median wall time, median of per-run peak RSS; lower is better)")
        if problems:
            # A failing run still gets timed; say so, since its numbers mean less.
            print("note: some runs exited non-zero:")
            for p in sorted(set(problems)):
                print(f"  {p}")
    status = 0
    if not a.no_network:
        status |= network_benchmark(tools, a.quick)
    if not a.no_remote:
        status |= remote_benchmark(tools, a.quick)
    if not a.no_lxc:
        status |= lxc_benchmark(tools, a.quick)
    return status


def sub_benchmark(script, tools, quick):
    """benches/SCRIPT, in the same report, with the same tools and --quick."""
    print()
    sys.stdout.flush()
    argv = [sys.executable, os.path.join(ROOT, "benches", script),
            "--virtsh", tools["virtsh"], "--virsh", tools["virsh"]] + (["--quick"] if quick else [])
    rc = subprocess.run(argv, stdin=subprocess.DEVNULL).returncode
    if rc != 0:
        print(f"compare.py: benches/{script} exited {rc}", file=sys.stderr)
        return 1
    return 0


def network_benchmark(tools, quick):
    """benches/network.py. It prints "unavailable: why" for what it cannot run (not root, no
    libvirtd, dnsmasq, nft or iptables) and exits 0 then; non-zero only when virtsh cannot run
    or it breaks."""
    return sub_benchmark("network.py", tools, quick)


def remote_benchmark(tools, quick):
    """benches/remote.py. It prints "unavailable: why" for what it cannot run (not root, no
    libvirtd or QEMU) and exits 0 then; non-zero only when a tool cannot run or it breaks."""
    return sub_benchmark("remote.py", tools, quick)


def lxc_benchmark(tools, quick):
    """benches/lxc.py. It prints "unavailable: why" for what it cannot run (not root, no busybox,
    no libvirtd or its LXC driver, libvirt's LXC driver failing on the host's cgroup layout) and
    exits 0 then; non-zero only when virtsh cannot run or it breaks."""
    return sub_benchmark("lxc.py", tools, quick)


if __name__ == "__main__":
    sys.exit(main())
