#!/bin/sh
# Regenerate expected outputs with real virsh 9.0 and its test driver (see ../network/regen.sh).
# ok/disk-*.xml go into a disk pool (target /dev), ok/logical-*.xml into a logical pool
# (volume group "vg"), all others into the test driver's dir pool "default-pool".
set -e
cd "$(dirname "$0")"
POOLS="pool-define-as dpool disk --source-dev /dev/sda --target /dev; pool-start dpool;
pool-define-as lpool logical --source-name vg --source-dev /dev/sdb; pool-start lpool"
for f in ok/*.xml; do
  case "$f" in *.out.xml) continue;; esac
  name=$(xmllint --xpath 'string(/volume/name)' "$f")
  case "$(basename "$f")" in disk-*) pool=dpool;; logical-*) pool=lpool;; *) pool=default-pool;; esac
  virsh -q -c test:///default "$POOLS; vol-create $pool $f; vol-dumpxml $name --pool $pool" 2>&1 \
    | grep -v '^Pool .* \(defined\|started\)' | grep -v '^Vol .* created from' | grep -v '^$' \
    > "${f%.xml}.out.xml"
done
for f in err/*.xml; do
  virsh -q -c test:///default "vol-create default-pool $f" 2>&1 | grep '^error: ' | tail -n 1 \
    | sed 's/^error: //' > "${f%.xml}.err"
done
