#!/bin/sh
# Regenerate the expected outputs from real virsh (libvirt 9.0's test driver):
# each NAME.xml is defined and dumped; the dump is NAME.expected.xml, and that dump defined
# and dumped again is NAME.redefined.xml (libvirt does not always reproduce its own output:
# it renumbers consoles and reorders disks as it parses). Inputs named
# error-*.xml are expected to fail; virsh's error lines go to NAME.expected.err.
set -eu
cd "$(dirname "$0")"
for f in *.xml; do
    case "$f" in *.expected.xml | *.redefined.xml) continue ;; esac
    name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$f" | head -n 1)
    base=${f%.xml}
    case "$base" in
    error-*)
        virsh -c test:///default "define $f" >/dev/null 2>"$base.expected.err" || true
        ;;
    *)
        virsh -c test:///default "define $f; dumpxml $name" | sed '1,2d' | sed '$d' >"$base.expected.xml"
        virsh -c test:///default "define $base.expected.xml; dumpxml $name" | sed '1,2d' | sed '$d' >"$base.redefined.xml"
        ;;
    esac
done
