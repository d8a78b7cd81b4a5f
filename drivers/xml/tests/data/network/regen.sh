#!/bin/sh
# Regenerate the expected outputs from real virsh (libvirt 9.0, test driver, no daemon).
# ok/NAME.xml  -> ok/NAME.out.xml  (net-dumpxml after net-define)
# err/NAME.xml -> err/NAME.err     (the last "error: " line virsh prints, without the prefix)
set -e
cd "$(dirname "$0")"
for f in ok/*.xml; do
  case "$f" in *.out.xml) continue;; esac
  name=$(xmllint --xpath 'string(/network/name)' "$f")
  virsh -q -c test:///default "net-define $f; net-dumpxml $name" 2>&1 \
    | sed '1{/^Network .* defined from/d}' > "${f%.xml}.out.xml"
done
for f in err/*.xml; do
  virsh -q -c test:///default "net-define $f" 2>&1 | grep '^error: ' | tail -n 1 \
    | sed 's/^error: //' > "${f%.xml}.err"
done
