#!/bin/sh
# Regenerate expected outputs with real virsh 9.0 and its test driver (see ../network/regen.sh).
set -e
cd "$(dirname "$0")"
for f in ok/*.xml; do
  case "$f" in *.out.xml) continue;; esac
  name=$(xmllint --xpath 'string(/interface/@name)' "$f")
  virsh -q -c test:///default "iface-define $f; iface-dumpxml $name" 2>&1 \
    | sed '1{/^Interface .* defined from/d}' > "${f%.xml}.out.xml"
done
for f in err/*.xml; do
  virsh -q -c test:///default "iface-define $f" 2>&1 | grep '^error: ' | tail -n 1 \
    | sed 's/^error: //' > "${f%.xml}.err"
done
