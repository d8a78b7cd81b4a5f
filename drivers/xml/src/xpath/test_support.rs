//! Shared fixtures of the XPath unit tests: a document as virsh prints it, and helpers that
//! evaluate, dump and check diagnostics.

use super::{Document, Evaluation, Value};

// What `virsh -c test:///default dumpxml test` prints.
pub(super) const DOMAIN: &str = "<domain type='test' id='1'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
<type arch='i686'>hvm</type>
<boot dev='hd'/>
  </os>
  <on_crash>destroy</on_crash>
  <devices>
<disk type='file' device='disk'>
  <source file='/guest/diskimage1'/>
  <target dev='vda' bus='virtio'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
</disk>
<interface type='network'>
  <mac address='aa:bb:cc:dd:ee:ff'/>
  <source network='default'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
</interface>
  </devices>
</domain>
";

pub(super) fn doc(xml: &str) -> Document {
    Document::parse(xml).unwrap()
}

pub(super) fn eval(xml: &str, expr: &str) -> (Document, Evaluation) {
    let d = doc(xml);
    let ev = d.evaluate(d.root_element(), expr);
    (d, ev)
}

/// Each selected node as xmlNodeDump prints it; panics unless the result is a node-set.
pub(super) fn select(xml: &str, expr: &str) -> Vec<String> {
    let (d, ev) = eval(xml, expr);
    assert_eq!(ev.diagnostics, "", "{expr}");
    match ev.value {
        Some(Value::NodeSet(ns)) => ns
            .into_iter()
            .map(|n| d.dump(n).unwrap_or_else(|| "(null)".into()))
            .collect(),
        other => panic!("{expr}: {other:?}"),
    }
}

pub(super) fn value(xml: &str, expr: &str) -> Value {
    let (_, ev) = eval(xml, expr);
    assert_eq!(ev.diagnostics, "", "{expr}");
    ev.value.unwrap_or_else(|| panic!("{expr} failed"))
}

pub(super) fn string(expr: &str) -> String {
    match value(DOMAIN, expr) {
        Value::String(s) => s,
        other => panic!("{expr}: {other:?}"),
    }
}

pub(super) fn diagnostics(expr: &str) -> String {
    let (_, ev) = eval(DOMAIN, expr);
    assert_eq!(ev.value, None, "{expr}");
    ev.diagnostics
}
