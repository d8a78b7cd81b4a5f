#!/usr/bin/env python3
"""Regenerate src/defs/<group>.rs, the declarations of every virsh command.

Run by hand (not by the build), on a machine with virsh 9.0 installed (Debian 12:
`apt-get install libvirt-clients`):

    tools/gen-defs.py                  # rewrite src/defs/*.rs (all but mod.rs), then rustfmt them
    tools/gen-defs.py --check-binary   # also cross-check the tables below against /usr/bin/virsh

What virsh prints is the source of truth: `virsh help` gives the groups, their commands and the
one-line helps; `virsh help CMD` gives each command's description and its options (names, kinds,
required-ness, order, help texts).  The generator checks that it can print every `virsh help CMD`
back byte for byte from what it parsed, so the declarations reproduce virsh's help exactly.

What help cannot show is kept in the tables below (REQ_OPT, OPT_ALIASES, CMD_ALIASES, HIDDEN,
NO_CONNECT, EMPTY_OK, completions).  They were read out of virsh 9.0's own command tables (the
static vshCmdDef / vshCmdOptDef arrays in /usr/bin/virsh); `--check-binary` reads those arrays
again and reports any difference, so the tables can be re-verified against another build.
"""

import argparse
import os
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "defs")
VIRSH = "virsh"

# ---------------------------------------------------------------------------------------------
# Facts that `virsh help` does not print.

# VSH_OFLAG_REQ_OPT: options that are only accepted as `--name VALUE`, never positionally.
REQ_OPT = {
    "domsetlaunchsecstate": ["secrethdr", "secret"],
    "dompmsuspend": ["duration"],
    "domxml-to-native": ["domain"],
    "dumpxml": ["xpath"],
    "send-key": ["codeset", "holdtime"],
    "managedsave-dumpxml": ["xpath"],
    "migrate-compcache": ["size"],
    "qemu-monitor-command": ["pass-fds"],
    "qemu-agent-command": ["timeout"],
    "guest-agent-timeout": ["timeout"],
    "save-image-dumpxml": ["xpath"],
    "schedinfo": ["weight", "cap"],
    "dommemstat": ["period"],
    "checkpoint-dumpxml": ["xpath"],
    "iface-dumpxml": ["xpath"],
    "nwfilter-dumpxml": ["xpath"],
    "nwfilter-binding-dumpxml": ["xpath"],
    "net-dumpxml": ["xpath"],
    "net-port-dumpxml": ["xpath"],
    "nodedev-dumpxml": ["xpath"],
    "secret-dumpxml": ["xpath"],
    "secret-set-value": ["file"],
    "snapshot-create-as": ["memspec"],
    "snapshot-dumpxml": ["xpath"],
    "backup-dumpxml": ["xpath"],
    "pool-dumpxml": ["xpath"],
    "vol-dumpxml": ["xpath"],
}

# VSH_OT_ALIAS: undocumented spellings, as (alias, target, placed before option).  A target
# `name=value` makes the alias a flag that sets option `name` to `value`.
OPT_ALIASES = {
    "attach-disk": [("shareable", "mode=shareable", "mode")],
    "blkdeviotune": [
        (n.replace("-", "_"), n, n)
        for n in [
            "total-bytes-sec", "read-bytes-sec", "write-bytes-sec",
            "total-iops-sec", "read-iops-sec", "write-iops-sec",
            "total-bytes-sec-max", "read-bytes-sec-max", "write-bytes-sec-max",
            "total-iops-sec-max", "read-iops-sec-max", "write-iops-sec-max",
            "size-iops-sec", "group-name",
            "total-bytes-sec-max-length", "read-bytes-sec-max-length",
            "write-bytes-sec-max-length", "total-iops-sec-max-length",
            "read-iops-sec-max-length", "write-iops-sec-max-length",
        ]
    ],
    "blockcopy": [("raw", "format=raw", "blockdev")],
    "domif-setlink": [("persistent", "config", "config")],
    "migrate": [("tunneled", "tunnelled", "tunnelled")],
    "setmaxmem": [("kilobytes", "size", "size")],
    "setmem": [("kilobytes", "size", "size")],
    "undefine": [("delete-snapshots", "delete-storage-volume-snapshots",
                  "delete-storage-volume-snapshots")],
    "domif-getlink": [("persistent", "config", "config")],
    "nodedev-destroy": [("name", "device", "device")],
    "echo": [("str", "string", "string"), ("hi", "string=hello", "string")],
}

# VSH_CMD_FLAG_ALIAS: other names of a command, hidden from `virsh help`, as
# (group keyword, alias, target); the alias is declared right after its target.
CMD_ALIASES = [("nodedev", "nodedev-dettach", "nodedev-detach")]

# VSH_CMD_FLAG_HIDDEN: commands that exist but `virsh help` does not list, as (group keyword,
# name, declared after).  def.rs has no `hidden` flag: such a command is declared as an alias
# of itself, which hides it from listings and resolves to itself.
HIDDEN = [("virsh", "self-test", "quit"), ("virsh", "complete", "self-test")]

# VSH_CMD_FLAG_NOCONNECT: commands that run without a connection.
NO_CONNECT = {"cd", "echo", "exit", "help", "pwd", "quit", "self-test", "complete", "connect"}

# VSH_OFLAG_EMPTY_OK: string options that accept "" (def.rs cannot express it; kept here for
# reference and checked against the binary).
EMPTY_OK = {
    ("attach-disk", "source"), ("vcpupin", "cpulist"), ("emulatorpin", "cpulist"),
    ("domblkstat", "device"), ("complete", "string"), ("connect", "name"),
}

# Completion of option values.  By option name first, then per command.
COMPLETE_BY_NAME = {
    "domain": "Domain",
    "network": "Network",
    "pool": "Pool",
    "inputpool": "Pool",
    "vol": "Volume",
    "snapshotname": "Snapshot",
    "file": "File",
    "xml": "File",
    "xmlfile": "File",
    "backupxml": "File",
    "checkpointxml": "File",
    "persistent-xml": "File",
    "srcSpec": "File",
}
# Per-command completion, overriding COMPLETE_BY_NAME ("Nothing" removes a by-name match).
COMPLETE = {
    ("domxml-from-native", "config"): "File",
    ("blockcopy", "dest"): "File",
    ("domsetlaunchsecstate", "secrethdr"): "File",
    ("domsetlaunchsecstate", "secret"): "File",
    ("domcapabilities", "emulatorbin"): "File",
    ("hypervisor-cpu-baseline", "emulator"): "File",
    ("hypervisor-cpu-compare", "emulator"): "File",
    ("attach-interface", "script"): "File",
    ("cd", "dir"): "File",
    ("snapshot-list", "from"): "Snapshot",
    ("help", "command"): "Command",
    **{(c, "interface"): "Interface" for c in [
        "iface-bridge", "iface-destroy", "iface-dumpxml", "iface-edit", "iface-mac",
        "iface-name", "iface-start", "iface-undefine"]},
}

# Fixed value lists.  Most are what virsh's own completers offer (`virsh -c test:///default
# complete -- CMD --OPT ""`); the ones marked (doc) come from the option's help or virsh(1).
LIFECYCLE_ACTIONS = ["destroy", "restart", "rename-restart", "preserve", "coredump-destroy",
                      "coredump-restart"]
SHUTDOWN_MODES = ["acpi", "agent", "initctl", "signal", "paravirt"]
PERF_EVENTS = [
    "cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references", "cache_misses",
    "branch_instructions", "branch_misses", "bus_cycles", "stalled_cycles_frontend",
    "stalled_cycles_backend", "ref_cpu_cycles", "cpu_clock", "task_clock", "page_faults",
    "context_switches", "cpu_migrations", "page_faults_min", "page_faults_maj",
    "alignment_faults", "emulation_faults"]
SIGNALS = ["nop", "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1",
            "segv", "usr2", "pipe", "alrm", "term", "stkflt", "chld", "cont", "stop", "tstp",
            "ttin", "ttou", "urg", "xcpu", "xfsz", "vtalrm", "prof", "winch", "poll", "pwr",
            "sys"] + ["rt%d" % i for i in range(33)]
VIRT_TYPES = ["none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware",
               "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "hvf"]
ARCHES = ["none", "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686", "ia64",
           "lm32", "m68k", "microblaze", "microblazeel", "mips", "mipsel", "mips64", "mips64el",
           "openrisc", "parisc", "parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb",
           "riscv32", "riscv64", "s390", "s390x", "sh4", "sh4eb", "sparc", "sparc64",
           "unicore32", "x86_64", "xtensa", "xtensaeb"]
POOL_TYPES = ["dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath",
               "rbd", "sheepdog", "gluster", "zfs", "vstorage"]
SUSPEND_TARGETS = ["mem", "disk", "hybrid"]
NATIVE_FORMATS = ["qemu-argv", "xen-xm", "xen-xl", "xen-sxpr", "lxc-tools", "vmware-vmx",
                   "bhyve-argv"]  # (doc)
# Lists used more than once get these const names in the Rust files.
VALUE_LISTS = {name: globals()[name] for name in [
    "LIFECYCLE_ACTIONS", "SHUTDOWN_MODES", "PERF_EVENTS", "SIGNALS", "VIRT_TYPES", "ARCHES",
    "POOL_TYPES", "SUSPEND_TARGETS", "NATIVE_FORMATS"]}
VALUES = {
    ("attach-disk", "type"): ["disk", "cdrom", "floppy", "lun"],  # (doc)
    ("attach-disk", "mode"): ["readonly", "shareable"],  # (doc)
    ("attach-disk", "sourcetype"): ["block", "file", "network"],  # (doc)
    ("attach-interface", "type"): ["network", "bridge", "direct", "hostdev", "vhostuser"],  # (doc)
    ("attach-interface", "source-mode"): ["server", "client"],
    ("blockcopy", "format"): ["none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi",
                              "fat", "vhd", "ploop", "cow", "qcow", "qcow2", "qed", "vmdk"],
    ("domdisplay", "type"): ["vnc", "spice", "rdp", "dbus"],  # (doc)
    ("domhostname", "source"): ["agent", "lease"],
    ("domif-setlink", "state"): ["up", "down"],
    ("domifaddr", "source"): ["lease", "agent", "arp"],
    ("dompmsuspend", "target"): SUSPEND_TARGETS,
    ("domxml-from-native", "format"): NATIVE_FORMATS,
    ("domxml-to-native", "format"): NATIVE_FORMATS,
    ("dump", "format"): ["elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"],
    ("migrate", "comp-methods"): ["xbzrle", "mt"],
    ("numatune", "mode"): ["strict", "preferred", "interleave", "restrictive"],
    ("perf", "enable"): PERF_EVENTS,
    ("perf", "disable"): PERF_EVENTS,
    ("reboot", "mode"): SHUTDOWN_MODES,
    ("shutdown", "mode"): SHUTDOWN_MODES,
    ("send-key", "codeset"): ["linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd",
                              "usb", "win32", "qnum"],
    ("send-process-signal", "signame"): SIGNALS,
    ("set-lifecycle-action", "type"): ["poweroff", "reboot", "crash"],
    ("set-lifecycle-action", "action"): LIFECYCLE_ACTIONS,
    ("domdirtyrate-calc", "mode"): ["page-sampling", "dirty-bitmap", "dirty-ring"],
    ("event", "event"): [
        "lifecycle", "reboot", "rtc-change", "watchdog", "io-error", "graphics",
        "io-error-reason", "control-error", "block-job", "disk-change", "tray-change",
        "pm-wakeup", "pm-suspend", "balloon-change", "pm-suspend-disk", "device-removed",
        "block-job-2", "tunable", "agent-lifecycle", "device-added", "migration-iteration",
        "job-completed", "device-removal-failed", "metadata-change", "block-threshold",
        "memory-failure", "memory-device-size-change"],
    ("cpu-models", "arch"): ARCHES,
    ("domcapabilities", "arch"): ARCHES,
    ("hypervisor-cpu-baseline", "arch"): ARCHES,
    ("hypervisor-cpu-compare", "arch"): ARCHES,
    ("domcapabilities", "virttype"): VIRT_TYPES,
    ("hypervisor-cpu-baseline", "virttype"): VIRT_TYPES,
    ("hypervisor-cpu-compare", "virttype"): VIRT_TYPES,
    ("maxvcpus", "type"): VIRT_TYPES,
    ("nodesuspend", "target"): SUSPEND_TARGETS,
    ("net-event", "event"): ["lifecycle"],
    ("net-update", "command"): ["add", "modify", "delete", "add-last", "add-first"],
    ("net-update", "section"): ["bridge", "domain", "ip", "ip-dhcp-host", "ip-dhcp-range",
                                "forward", "forward-interface", "forward-pf", "portgroup",
                                "dns-host", "dns-txt", "dns-srv"],
    ("nodedev-event", "event"): ["lifecycle", "update"],
    ("nodedev-list", "cap"): ["system", "pci", "usb_device", "usb", "net", "scsi_host",
                              "scsi_target", "scsi", "storage", "fc_host", "vports",
                              "scsi_generic", "drm", "mdev_types", "mdev", "ccw", "css", "vdpa",
                              "ap_card", "ap_queue", "ap_matrix", "vpd"],
    ("nodedev-detach", "driver"): ["default", "kvm", "vfio", "xen"],
    ("pool-event", "event"): ["lifecycle", "refresh"],
    ("pool-create-as", "type"): POOL_TYPES,
    ("pool-define-as", "type"): POOL_TYPES,
    ("pool-list", "type"): POOL_TYPES,
    ("secret-event", "event"): ["lifecycle", "value-changed"],
    ("vol-wipe", "algorithm"): ["zero", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7",
                                "pfitzner33", "random", "trim"],
}
# Values lists not taken from virsh's completers (for --check-binary).
VALUES_FROM_DOCS = {
    ("attach-disk", "type"), ("attach-disk", "mode"), ("attach-disk", "sourcetype"),
    ("attach-interface", "type"), ("domdisplay", "type"), ("domxml-from-native", "format"),
    ("domxml-to-native", "format"),
}

# ---------------------------------------------------------------------------------------------
# Reading virsh's help.


def virsh_help(*args):
    env = dict(os.environ, LC_ALL="C", LANG="C")
    env.pop("LANGUAGE", None)
    res = subprocess.run([VIRSH, "help", *args], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("virsh help %s failed: %s" % (" ".join(args), res.stderr))
    # virsh prints a blank line after each command's output.
    assert res.stdout.endswith("\n\n"), args
    return res.stdout[:-1]


def parse_listing(text):
    """`virsh help` -> [(group name, keyword, [(command, help)])]."""
    groups = []
    lines = text.split("\n")
    assert lines[0] == "Grouped commands:", lines[0]
    for line in lines[1:]:
        m = re.fullmatch(r" (.*) \(help keyword '(.*)'\):", line)
        if m:
            groups.append((m.group(1), m.group(2), []))
            continue
        m = re.fullmatch(r"    (\S+) +(.*)", line)
        if m:
            name, hlp = m.group(1), m.group(2)
            # "    %-30s %s": the name is padded to 30 columns.
            assert line == "    %-30s %s" % (name, hlp), line
            groups[-1][2].append((name, hlp))
            continue
        assert line == "", line
    return groups


SYN_TOKEN = re.compile(
    r"\[--(?P<bool>[\w-]+)\]"
    r"|\[--(?P<opt>[\w-]+) <(?P<optkind>number|string)>\]"
    r"|\{\[--(?P<argvreqs>[\w-]+)\] <string>\}\.\.\."
    r"|\[\[--(?P<argvs>[\w-]+)\] <string>\]\.\.\."
    r"|<(?P<argvreq>[\w-]+)>\.\.\."
    r"|\[<(?P<argv>[\w-]+)>\]\.\.\."
    r"|<(?P<req>[\w-]+)>"
)


def parse_command_help(name, text):
    """`virsh help NAME` -> dict(name, help, desc, opts=[dict(name, kind, required, help)])."""
    m = re.match(r"  NAME\n    (\S+) - (.*)\n\n  SYNOPSIS\n    (.*)\n", text)
    assert m, name
    shown, hlp, synopsis = m.group(1), m.group(2), m.group(3)
    rest = text[m.end():]
    desc = ""
    if rest.startswith("\n  DESCRIPTION\n    "):
        body = rest[len("\n  DESCRIPTION\n    "):]
        end = body.find("\n\n  OPTIONS\n")
        if end < 0:
            assert body.endswith("\n\n"), name
            end = len(body) - 2
        desc = body[:end]
        rest = body[end + 1:]
    opt_text = ""
    if rest.startswith("\n  OPTIONS\n"):
        opt_text = rest[len("\n  OPTIONS\n"):]
        assert opt_text.endswith("\n\n"), name
        opt_text = opt_text[:-1]
    else:
        assert rest == "\n", (name, rest)

    words = synopsis.split(" ", 1)
    assert words[0] == shown, name
    opts = []
    pos = 0
    syn = words[1] if len(words) > 1 else ""
    while pos < len(syn):
        t = SYN_TOKEN.match(syn, pos)
        assert t, (name, syn[pos:])
        pos = t.end()
        if pos < len(syn):
            assert syn[pos] == " ", (name, syn)
            pos += 1
        g = t.groupdict()
        if g["bool"]:
            opts.append(dict(name=g["bool"], kind="bool", required=False))
        elif g["opt"]:
            kind = "int" if g["optkind"] == "number" else "string"
            opts.append(dict(name=g["opt"], kind=kind, required=False))
        elif g["argvreqs"] or g["argvreq"]:
            opts.append(dict(name=g["argvreqs"] or g["argvreq"], kind="argv", required=True))
        elif g["argvs"] or g["argv"]:
            opts.append(dict(name=g["argvs"] or g["argv"], kind="argv", required=False))
        else:
            # <x>: a DATA option, or a required INT; the OPTIONS line tells which.
            opts.append(dict(name=g["req"], kind="req?", required=True))

    # The OPTIONS lines, "    %-15s  %s", in the same order; a help may span lines.
    lines = opt_text.split("\n")[:-1] if opt_text else []
    idx = -1
    for line in lines:
        nxt = opts[idx + 1] if idx + 1 < len(opts) else None
        if nxt is not None:
            n = nxt["name"]
            bufs = {
                "bool": ["--%s" % n],
                "int": ["--%s <number>" % n],
                "string": ["--%s <string>" % n],
                "argv": ["[--%s] <string>" % n, "<%s>" % n],
                "req?": ["[--%s] <number>" % n, "[--%s] <string>" % n],
            }[nxt["kind"]]
            hit = None
            for b in bufs:
                prefix = "    %-15s  " % b
                if line.startswith(prefix):
                    hit = b
                    break
            if hit is not None:
                idx += 1
                nxt["help"] = line[len("    %-15s  " % hit):]
                if nxt["kind"] == "req?":
                    nxt["kind"] = "int" if hit.endswith("<number>") else "data"
                if nxt["kind"] == "argv":
                    nxt["shortopt"] = hit.startswith("[")
                continue
        assert idx >= 0, (name, line)
        opts[idx]["help"] += "\n" + line
    assert idx == len(opts) - 1, (name, idx, len(opts))
    return dict(name=shown, help=hlp, desc=desc, opts=opts)


# ---------------------------------------------------------------------------------------------
# Printing help back, as vshCmddefHelp does, to prove the parse is exact.


def render_help(cmd):
    out = ["  NAME\n", "    %s - %s\n" % (cmd["name"], cmd["help"]), "\n  SYNOPSIS\n",
           "    %s" % cmd["name"]]
    shortopt = False
    visible = [o for o in cmd["opts"] if o["kind"] != "alias"]
    for o in visible:
        n, k = o["name"], o["kind"]
        if k == "bool":
            s = "[--%s]" % n
        elif k == "int":
            s = "<%s>" % n if o["required"] else "[--%s <number>]" % n
            shortopt |= not o["req_opt"]
        elif k == "string":
            s = "[--%s <string>]" % n
            shortopt |= not o["req_opt"]
        elif k == "data":
            s = "<%s>" % n
            shortopt |= not o["req_opt"]
        else:
            if shortopt:
                s = ("{[--%s] <string>}..." if o["required"] else "[[--%s] <string>]...") % n
            else:
                s = ("<%s>..." if o["required"] else "[<%s>]...") % n
        out.append(" " + s)
    out.append("\n")
    if cmd["desc"]:
        out.append("\n  DESCRIPTION\n    %s\n" % cmd["desc"])
    if visible:
        out.append("\n  OPTIONS\n")
        for o in visible:
            n, k = o["name"], o["kind"]
            buf = {
                "bool": "--%s",
                "int": "[--%s] <number>" if o["required"] else "--%s <number>",
                "string": "--%s <string>",
                "data": "[--%s] <string>",
                "argv": "[--%s] <string>" if shortopt else "<%s>",
            }[k] % n
            out.append("    %-15s  %s\n" % (buf, o["help"]))
    out.append("\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Applying the tables.


def complete_for(cmd, opt):
    key = (cmd, opt["name"])
    if key in VALUES:
        return ("Values", VALUES[key])
    if key in COMPLETE:
        c = COMPLETE[key]
    elif opt["kind"] in ("bool", "int", "alias"):
        c = None
    else:
        c = COMPLETE_BY_NAME.get(opt["name"])
    if c in (None, "Nothing"):
        return None
    return (c, None)


def build():
    listing = parse_listing(virsh_help())
    groups = []
    for gname, keyword, cmds in listing:
        entries = []
        for name, hlp in cmds:
            text = virsh_help(name)
            cmd = parse_command_help(name, text)
            assert cmd["name"] == name and cmd["help"] == hlp, name
            entries.append(cmd)
        for kw, name, after in HIDDEN:
            if kw != keyword:
                continue
            cmd = parse_command_help(name, virsh_help(name))
            assert cmd["name"] == name
            cmd["hidden"] = True
            i = [c["name"] for c in entries].index(after)
            entries.insert(i + 1, cmd)
        for kw, alias, target in CMD_ALIASES:
            if kw != keyword:
                continue
            # `virsh help ALIAS` prints the target's help.
            shown = parse_command_help(target, virsh_help(alias))
            i = [c["name"] for c in entries].index(target)
            assert shown == entries[i], alias
            entries.insert(i + 1, dict(name=alias, alias_of=target))
        groups.append((gname, keyword, entries))

    known = {c["name"]: c for _, _, es in groups for c in es}
    for table in (REQ_OPT, OPT_ALIASES):
        for c in table:
            assert c in known, c
    for c, opts in REQ_OPT.items():
        for o in opts:
            assert any(x["name"] == o for x in known[c]["opts"]), (c, o)
    for c, o in EMPTY_OK:
        assert any(x["name"] == o for x in known[c]["opts"]), (c, o)
    for c in NO_CONNECT:
        assert c in known, c
    for (c, o) in list(COMPLETE) + list(VALUES):
        assert c in known and any(x["name"] == o for x in known[c]["opts"]), (c, o)

    for _, _, entries in groups:
        for cmd in entries:
            if "alias_of" in cmd:
                continue
            name = cmd["name"]
            for o in cmd["opts"]:
                o["req_opt"] = o["name"] in REQ_OPT.get(name, [])
                if o["req_opt"]:
                    assert o["kind"] in ("string", "int", "data"), (name, o)
            for alias, target, before in OPT_ALIASES.get(name, []):
                names = [o["name"] for o in cmd["opts"]]
                assert target.split("=")[0] in names, (name, alias)
                cmd["opts"].insert(names.index(before),
                                   dict(name=alias, kind="alias", target=target, required=False,
                                        req_opt=False, help=target))
            # The round trip: printing what we parsed gives virsh's text back.
            again = render_help(cmd)
            if again != virsh_help(name):
                sys.exit("help for %s does not round-trip:\n%s\n---\n%s"
                         % (name, again, virsh_help(name)))
            for o in cmd["opts"]:
                o["complete"] = complete_for(name, o)
    return groups


# ---------------------------------------------------------------------------------------------
# Writing Rust.
#
# The code is laid out here as rustfmt (edition 2021, default settings) lays it out, because
# rustfmt leaves an item alone when a string in it is wider than the line: a file with one long
# help text would otherwise keep whatever layout it was written with.  `--check-format` proves
# the layout on the real declarations (with long strings shortened, so rustfmt can act).

MAX_WIDTH = 100
SMALL = 60  # fn_call_width, chain_width and array_width
SHORT_ITEM = 10  # short_array_element_width_threshold


def rs(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) > 0x7e:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class Call:
    """`head(args)` followed by `.method(args)` calls; an arg is a str (an atom) or an Expr."""

    def __init__(self, head, args, chain=()):
        self.head, self.args, self.chain = head, list(args), list(chain)


class Array:
    """`&[items]`."""

    def __init__(self, items):
        self.items = list(items)


def one_line(e):
    """The one-line form of `e`, or None when rustfmt would not put it on one line."""
    if isinstance(e, str):
        return e
    if isinstance(e, Array):
        items = [one_line(i) for i in e.items]
        if None in items:
            return None
        inner = ", ".join(items)
        # A single method chain may take the whole line; anything else is held to SMALL.
        single_chain = len(items) == 1 and isinstance(e.items[0], Call) and e.items[0].chain
        if not single_chain and len(inner) > SMALL:
            return None
        return "&[" + inner + "]"
    root = call_one_line(e.head, e.args)
    if root is None:
        return None
    children = [call_one_line("." + h, a) for h, a in e.chain]
    if None in children:
        return None
    full = root + "".join(children)
    if len(children) > 1 and len(full) > SMALL:
        return None
    return full


def call_one_line(head, args):
    parts = [one_line(a) for a in args]
    if None in parts:
        return None
    inner = ", ".join(parts)
    if len(inner) > SMALL:
        return None
    return head + "(" + inner + ")"


def fmt(e, ind, col, trail, force_vertical=False):
    """Lines for `e`, its first line starting at column `col` (the caller writes what comes
    before it), the others indented from block indent `ind`; `trail` characters follow it."""
    flat = None if force_vertical else one_line(e)
    single_chain = isinstance(e, Array) and len(e.items) == 1 and isinstance(e.items[0], Call) \
        and e.items[0].chain
    budget = MAX_WIDTH - 1 if single_chain else MAX_WIDTH
    if flat is not None and col + len(flat) + trail <= budget:
        return [flat]
    pad = " " * ind
    if isinstance(e, str):
        return [e]
    if isinstance(e, Array):
        item = e.items[0] if len(e.items) == 1 else None
        if isinstance(item, Call) and not (
                item.chain and len(item.chain) == 1
                and call_one_line(item.head, item.args) is not None):
            # The single item overflows: `&[head(` ... `)]`, its arguments one per line.
            lines = fmt(item, ind, col + 2, trail + 1, force_vertical=not item.chain)
            lines[0] = "&[" + lines[0]
            lines[-1] += "]"
            return lines
        flats = [one_line(i) for i in e.items]
        if all(f is not None and len(f) <= SHORT_ITEM for f in flats):
            # rustfmt's "mixed" layout for short items: as many on a line as fit.
            lines, cur = ["&["], ""
            for f in flats:
                piece = f + ","
                if cur and ind + 4 + len(cur) + 1 + len(piece) > MAX_WIDTH - 1:
                    lines.append(pad + "    " + cur)
                    cur = ""
                cur = cur + " " + piece if cur else piece
            lines.append(pad + "    " + cur)
            return lines + [pad + "]"]
        lines = ["&["]
        for item in e.items:
            sub = fmt(item, ind + 4, ind + 4, 1)
            lines.append(pad + "    " + sub[0])
            lines.extend(sub[1:])
            lines[-1] += ","
        return lines + [pad + "]"]
    # A call with a chain of method calls.
    root = None if force_vertical else call_one_line(e.head, e.args)
    children = [call_one_line("." + h, a) for h, a in e.chain]
    if root is not None and col + len(root) + (0 if children else trail) <= MAX_WIDTH:
        lines = [root]
        for c in children:
            lines.append(pad + "    " + c)
        return lines
    lines = [e.head + "("]
    for a in e.args:
        sub = fmt(a, ind + 4, ind + 4, 1)
        lines.append(pad + "    " + sub[0])
        lines.extend(sub[1:])
        lines[-1] += ","
    lines.append(pad + ")")
    for c in children:
        lines.append(pad + c)
    return lines


def opt_expr(o, value_consts):
    k = o["kind"]
    if k == "alias":
        return Call("OptDef::alias", [rs(o["name"]), rs(o["target"])])
    chain = []
    if o["required"] and k in ("int", "argv"):
        chain.append(("req", []))
    if o["req_opt"]:
        chain.append(("req_opt", []))
    if o["complete"]:
        c, values = o["complete"]
        if c == "Values":
            chain.append(("complete", ["Complete::Values(%s)" % value_consts[tuple(values)]]))
        else:
            chain.append(("complete", ["Complete::%s" % c]))
    return Call("OptDef::" + k, [rs(o["name"]), rs(o["help"])], chain)


def const_name(cmd):
    return re.sub(r"[^A-Z0-9]", "_", cmd.upper()) + "_OPTS"


def value_const_name(cmd, opt, values):
    for name, lst in VALUE_LISTS.items():
        if lst == values:
            return name
    return re.sub(r"[^A-Z0-9]", "_", (cmd + "_" + opt).upper())


def render_group(gname, keyword, entries):
    alias_targets = {c["alias_of"] for c in entries if "alias_of" in c}
    by_name = {c["name"]: c for c in entries}
    value_consts = {}
    for cmd in entries:
        for o in cmd.get("opts", []):
            if o.get("complete") and o["complete"][0] == "Values":
                key = tuple(o["complete"][1])
                value_consts.setdefault(key, value_const_name(cmd["name"], o["name"], list(key)))
    uses_complete = any(o.get("complete") for c in entries for o in c.get("opts", []))

    out = []
    out.append("//! virsh's \"%s\" commands (help keyword '%s'), as virsh 9.0 declares them.\n"
               % (gname, keyword))
    out.append("//!\n//! Generated by tools/gen-defs.py from `virsh help`; edit the generator, "
               "not this file.\n\n")
    imports = ["CommandDef"] + (["Complete"] if uses_complete else []) + ["Group", "OptDef"]
    out.append("use crate::def::{%s};\n\n" % ", ".join(imports))
    out.append("pub static GROUP: Group = Group {\n    name: %s,\n    keyword: %s,\n};\n\n"
               % (rs(gname), rs(keyword)))
    for values, name in sorted(value_consts.items(), key=lambda kv: kv[1]):
        head = "const %s: &[&str] = " % name
        lines = fmt(Array([rs(v) for v in values]), 0, len(head), 1)
        out.append(head + "\n".join(lines) + ";\n\n")

    def opts_of(cmd):
        return Array([opt_expr(o, value_consts) for o in cmd["opts"]])

    commands = []
    for cmd in entries:
        if cmd["name"] in alias_targets:
            head = "const %s: &[OptDef] = " % const_name(cmd["name"])
            out.append(head + "\n".join(fmt(opts_of(cmd), 0, len(head), 1)) + ";\n\n")
        if "alias_of" in cmd:
            src, opts = by_name[cmd["alias_of"]], const_name(cmd["alias_of"])
        elif cmd["name"] in alias_targets:
            src, opts = cmd, const_name(cmd["name"])
        else:
            src, opts = cmd, opts_of(cmd)
        chain = []
        if cmd["name"] in NO_CONNECT or src["name"] in NO_CONNECT:
            chain.append(("no_connect", []))
        if "alias_of" in cmd:
            chain.append(("alias_of", [rs(cmd["alias_of"])]))
        if cmd.get("hidden"):
            chain.append(("hidden", []))
        e = Call("CommandDef::new",
                 [rs(cmd["name"]), "&GROUP", rs(src["help"]), rs(src["desc"]), opts], chain)
        commands.append(e)
    head = "pub static COMMANDS: &[CommandDef] = "
    out.append(head + "\n".join(fmt(Array(commands), 0, len(head), 1)) + ";\n")
    return "".join(out)


def write_group(gname, keyword, entries, outdir=OUT):
    path = os.path.join(outdir, keyword + ".rs")
    with open(path, "w") as f:
        f.write(render_group(gname, keyword, entries))
    return path


def check_format(groups):
    """Lay out every group with its long strings shortened, and compare with rustfmt."""
    import copy
    import tempfile

    def shorten(s, n=50):
        return s if len(s) <= n else s[:n]

    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for gname, keyword, entries in groups:
            short = copy.deepcopy(entries)
            for c in short:
                if "help" in c:
                    c["help"], c["desc"] = shorten(c["help"]), shorten(c["desc"])
                for o in c.get("opts", []):
                    o["help"] = shorten(o["help"])
            mine = render_group(gname, keyword, short)
            path = os.path.join(tmp, keyword + ".rs")
            with open(path, "w") as f:
                f.write(mine)
            subprocess.run(["rustfmt", "--edition", "2021", path], check=True)
            theirs = open(path).read()
            if "pub static COMMANDS: &[CommandDef] =\n" in theirs:
                # rustfmt moved the whole array to the next line because that saves lines at
                # its deeper indent: a choice it makes only when it can format every element,
                # which the real file, with its full strings, does not allow.
                print("check-format: %s: not comparable (rustfmt re-indented it all)" % keyword,
                      file=sys.stderr)
                continue
            if theirs != mine:
                bad += 1
                res = subprocess.run(["diff", "-u", "-", path], input=mine, text=True,
                                     capture_output=True)
                print(res.stdout[:3000], file=sys.stderr)
    return bad


# ---------------------------------------------------------------------------------------------
# Cross-checking the tables with virsh's own command tables (x86-64 ELF, libvirt 9.0 layout).


def read_binary_tables(path):
    d = open(path, "rb").read()
    assert d[:4] == b"\x7fELF" and d[4] == 2, "not a 64-bit ELF"
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
    secs = []
    for i in range(shnum):
        nm, typ, _fl, addr, off, size = struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
        secs.append((nm, typ, addr, off, size))

    def cstr_at(off):
        return d[off:d.index(b"\0", off)].decode()

    named = {cstr_at(secs[shstrndx][3] + s[0]): s for s in secs}
    rel = {}
    s = named[".rela.dyn"]
    for i in range(s[4] // 24):
        off, info, add = struct.unpack_from("<QQq", d, s[3] + i * 24)
        if info & 0xffffffff == 8:  # R_X86_64_RELATIVE
            rel[off] = add

    def v2o(v):
        for _nm, typ, addr, off, size in secs:
            if addr and addr <= v < addr + size and typ != 8:
                return off + v - addr
        raise KeyError(hex(v))

    def ptr(v):
        return rel[v] if v in rel else struct.unpack_from("<Q", d, v2o(v))[0]

    def u32(v):
        return struct.unpack_from("<I", d, v2o(v))[0]

    def cstr(v):
        return cstr_at(v2o(v)) if v else None

    rod = named[".rodata"]
    needle = b"\0Domain Management\0"
    strs = []
    i = d.find(needle, rod[3], rod[3] + rod[4])
    while i >= 0:
        strs.append(rod[2] + i + 1 - rod[3])
        i = d.find(needle, i + 1, rod[3] + rod[4])
    table = None
    for k, a in rel.items():
        if a in strs and (k + 8) in rel and cstr(rel[k + 8]) == "domain":
            table = k
    assert table, "cmdGroups not found"
    # vshCmdGrp {name, keyword, commands}; vshCmdDef {name, handler, opts, info, flags, alias};
    # vshCmdOptDef {name, type, flags, help, completer, completer_flags}.
    kinds = ["bool", "string", "int", "data", "argv", "alias"]
    groups = []
    g = table
    while ptr(g):
        cmds = []
        c = ptr(g + 16)
        while ptr(c):
            opts = []
            o = ptr(c + 16)
            while o and ptr(o):
                opts.append(dict(name=cstr(ptr(o)), kind=kinds[u32(o + 8)], flags=u32(o + 12),
                                 help=cstr(ptr(o + 16)), completer=ptr(o + 24)))
                o += 40
            info = {}
            i = ptr(c + 24)
            while i and ptr(i):
                info[cstr(ptr(i))] = cstr(ptr(i + 8))
                i += 16
            cmds.append(dict(name=cstr(ptr(c)), opts=opts, info=info, flags=u32(c + 32),
                             alias=cstr(ptr(c + 40))))
            c += 48
        groups.append((cstr(ptr(g)), cstr(ptr(g + 8)), cmds))
        g += 24
    return groups


def check_binary(path, groups):
    bgroups = read_binary_tables(path)
    problems = []
    ours = {c["name"]: c for _, _, es in groups for c in es}

    def p(msg):
        problems.append(msg)

    if [(n, k) for n, k, _ in bgroups] != [(n, k) for n, k, _ in groups]:
        p("group list differs")
    # Name the completers by what they complete on options we know.
    anchors = {("dumpxml", "domain"): "Domain", ("domname", "domain"): "Domain",
               ("net-dumpxml", "network"): "Network", ("net-name", "network"): "Network",
               ("pool-dumpxml", "pool"): "Pool", ("vol-dumpxml", "vol"): "Volume",
               ("vol-name", "vol"): "Volume", ("snapshot-dumpxml", "snapshotname"): "Snapshot",
               ("iface-dumpxml", "interface"): "Interface",
               ("iface-name", "interface"): "Interface",
               ("create", "file"): "File", ("help", "command"): "Command"}
    comp = {}
    for _, _, cmds in bgroups:
        for c in cmds:
            for o in c["opts"]:
                if (c["name"], o["name"]) in anchors:
                    comp[o["completer"]] = anchors[(c["name"], o["name"])]
    for (_, kw, cmds), (_, _, entries) in zip(bgroups, groups):
        if [c["name"] for c in cmds] != [c["name"] for c in entries]:
            p("%s: command list differs" % kw)
        for c in cmds:
            name = c["name"]
            mine = ours.get(name)
            if mine is None:
                p("missing command %s" % name)
                continue
            f = c["flags"]
            if bool(f & 1) != (name in NO_CONNECT):
                p("%s: NOCONNECT differs" % name)
            if f & 2:
                if mine.get("alias_of") != c["alias"]:
                    p("%s: alias of %s" % (name, c["alias"]))
                continue
            if bool(f & 4) != bool(mine.get("hidden")):
                p("%s: HIDDEN differs" % name)
            if f & ~7:
                p("%s: unknown command flags %#x" % (name, f))
            info = c["info"]
            if info.get("help") != mine["help"] or (info.get("desc") or "") != mine["desc"]:
                p("%s: help/desc differs" % name)
            if len(c["opts"]) != len(mine["opts"]):
                p("%s: %d options, we have %d" % (name, len(c["opts"]), len(mine["opts"])))
                continue
            for bo, o in zip(c["opts"], mine["opts"]):
                where = "%s --%s" % (name, bo["name"])
                if bo["name"] != o["name"] or bo["kind"] != o["kind"]:
                    p("%s: name/kind %s/%s" % (where, o["name"], o["kind"]))
                    continue
                if bo["kind"] == "alias":
                    if bo["help"] != o["target"]:
                        p("%s: alias target %s" % (where, bo["help"]))
                    continue
                if bo["help"] != o["help"]:
                    p("%s: help differs" % where)
                fl = bo["flags"]
                if bool(fl & 1) != o["required"]:
                    p("%s: REQ differs" % where)
                if bool(fl & 4) != o["req_opt"]:
                    p("%s: REQ_OPT differs" % where)
                if bool(fl & 2) != ((name, o["name"]) in EMPTY_OK):
                    p("%s: EMPTY_OK differs" % where)
                theirs = comp.get(bo["completer"])
                mine_c = o["complete"][0] if o["complete"] else None
                # We complete more files than virsh does, and a few documented value lists.
                if theirs and mine_c != theirs:
                    p("%s: virsh completes %s, we say %s" % (where, theirs, mine_c))
                if mine_c not in (None, "Values", "File") and not theirs:
                    p("%s: we complete %s, virsh has no such completer" % (where, mine_c))
                if mine_c == "Values" and not bo["completer"] \
                        and (name, o["name"]) not in VALUES_FROM_DOCS:
                    p("%s: we list values, virsh has no completer" % where)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check-binary", nargs="?", const="/usr/bin/virsh", metavar="VIRSH",
                    help="cross-check the tables against virsh's compiled command tables")
    ap.add_argument("--check-format", action="store_true",
                    help="check that the layout written is rustfmt's own")
    ap.add_argument("--no-write", action="store_true", help="parse and check only")
    args = ap.parse_args()
    groups = build()
    if args.check_format:
        bad = check_format(groups)
        if bad:
            sys.exit("layout differs from rustfmt's in %d files" % bad)
        print("layout agrees with rustfmt")
    if args.check_binary:
        problems = check_binary(args.check_binary, groups)
        for msg in problems:
            print("check: " + msg, file=sys.stderr)
        if problems:
            sys.exit(1)
        print("tables agree with %s" % args.check_binary)
    if args.no_write:
        return
    paths = [write_group(g, k, e) for g, k, e in groups]
    # Normally a no-op: the layout written is rustfmt's.  `rustfmt --check` first, to say so.
    res = subprocess.run(["rustfmt", "--edition", "2021", "--check", *paths],
                         capture_output=True, text=True)
    if res.returncode != 0:
        print("note: rustfmt re-laid out some of the generated code:\n" + res.stdout[:2000],
              file=sys.stderr)
    subprocess.run(["rustfmt", "--edition", "2021", *paths], check=True)
    n = sum(len(e) for _, _, e in groups)
    print("wrote %d commands in %d groups to %s" % (n, len(groups), OUT))


if __name__ == "__main__":
    main()
