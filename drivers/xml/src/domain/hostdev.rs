//! `<hostdev>`: kept as a canonical [`Node`], with what libvirt's parser
//! (virDomainHostdevDefParseXML) checks and prints beyond the layout table.
//!
//! - `mode='subsystem'` (PCI, USB, SCSI, mdev passthrough): the layout table, the bare address
//!   inside `<source>`, and `managed='no'` made explicit.
//! - `mode='capabilities'` (the LXC driver's host devices): `type='storage'` (a block device,
//!   `<source><block>PATH</block></source>`), `type='misc'` (a character device,
//!   `<source><char>PATH</char></source>`) and `type='net'` (`<source><interface>NAME`, then
//!   its `<ip>` and `<route>`s). libvirt keeps the path as written (no trimming) and prints
//!   only `mode` and `type` on the element: `managed`, `<readonly/>`, `<shareable/>` and a
//!   `<driver>` mean nothing there and are dropped.

use super::devices::{default_attr, generic, parse_address};
use super::err;
use super::net::guest_ip;
use super::node::{canonical, Node};
use crate::dom::Element;
use crate::error::XmlError;

/// The host object of a `mode='capabilities'` hostdev, as the LXC driver uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostdevCaps<'a> {
    /// `type='storage'`: the path of a host block device.
    Storage(&'a str),
    /// `type='misc'`: the path of a host character device.
    Misc(&'a str),
    /// `type='net'`: a host network interface moved into the container.
    Net(&'a str),
}

impl<'a> HostdevCaps<'a> {
    /// What a parsed `<hostdev>` node gives a container; `None` for another mode.
    pub fn of(node: &'a Node) -> Option<HostdevCaps<'a>> {
        if node.attr("mode") != Some("capabilities") {
            return None;
        }
        let source = node.child("source")?;
        let text = |name: &str| source.child(name).and_then(|c| c.text.as_deref());
        match node.attr("type")? {
            "storage" => text("block").map(HostdevCaps::Storage),
            "misc" => text("char").map(HostdevCaps::Misc),
            "net" => text("interface").map(HostdevCaps::Net),
            _ => None,
        }
    }
}

/// The children of `<source>` per capabilities type, and libvirt's error when it is missing.
const CAPS_TYPES: [(&str, &str, &str); 3] = [
    (
        "storage",
        "block",
        "Missing <block> element in hostdev storage device",
    ),
    (
        "misc",
        "char",
        "Missing <char> element in hostdev character device",
    ),
    (
        "net",
        "interface",
        "Missing <interface> element in hostdev net device",
    ),
];

/// One `<hostdev>` element.
pub(super) fn parse(text: &str, el: &Element) -> Result<Node, XmlError> {
    let mut n = generic(text, "hostdev", el)?;
    if el.attr("mode") == Some("capabilities") {
        return caps(text, el, n);
    }
    if let Some(src_el) = el.child("source") {
        if let (Some(a), Some(src)) = (src_el.child("address"), n.child_mut("source")) {
            let addr = parse_address(text, a, false)?;
            if let Some(slot) = src.children.iter_mut().find(|x| x.name == "address") {
                *slot = addr;
            }
        }
    }
    let mode = n.attr("mode").unwrap_or("subsystem").to_string();
    let kind = n.attr("type").unwrap_or_default().to_string();
    if mode == "subsystem" && ["pci", "usb", "scsi"].contains(&kind.as_str()) {
        default_attr(&mut n, "managed", "no", &["mode", "type", "managed"]);
    }
    Ok(n)
}

/// virDomainHostdevDefParseXMLCaps and virDomainHostdevDefFormatCaps. `generic` is the
/// element through the layout table, whose device information (boot, alias, rom, address)
/// is kept.
fn caps(text: &str, el: &Element, generic: Node) -> Result<Node, XmlError> {
    let at = |e: XmlError| e.at(text, el.offset);
    let kind = el
        .attr("type")
        .ok_or_else(|| at(err::xml("missing source address type")))?;
    let (_, child, missing) = CAPS_TYPES
        .iter()
        .find(|(k, _, _)| *k == kind)
        .ok_or_else(|| {
            at(err::unsupported(format!(
                "unknown host device source address type '{kind}'"
            )))
        })?;
    let source_el = el
        .child("source")
        .ok_or_else(|| at(err::xml("Missing <source> element in hostdev device")))?;
    // libvirt reads `string(./source/block[1])`: the first one, its text as written; an empty
    // one is as good as none.
    let value = source_el
        .child(child)
        .map(|c| c.text.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| at(err::xml(*missing)))?;
    let mut node = Node::with_attrs("hostdev", &[("mode", "capabilities"), ("type", kind)]);
    let mut source = Node::new("source");
    let mut value_node = Node::new(child);
    value_node.text = Some(value.to_string());
    source.children.push(value_node);
    node.children.push(source);
    if kind == "net" {
        for ip in el.children_named("ip") {
            node.children.push(guest_ip(ip));
        }
        for route in el.children_named("route") {
            node.children.push(canonical("interface/route", route));
        }
    }
    const NOT_INFO: [&str; 4] = ["driver", "source", "readonly", "shareable"];
    node.children.extend(
        generic
            .children
            .into_iter()
            .filter(|c| !NOT_INFO.contains(&c.name.as_str())),
    );
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::super::{DomainDef, FormatOptions};
    use super::*;

    fn def(devices: &str) -> Result<DomainDef, XmlError> {
        DomainDef::parse(&format!(
            "<domain type='test'><name>h</name><memory>65536</memory><os><type>hvm</type></os>\
             <devices>{devices}</devices></domain>"
        ))
    }

    fn devices_xml(devices: &str) -> String {
        let xml = def(devices)
            .expect("parse")
            .to_xml(&FormatOptions::default());
        let start = xml.find("<devices>").expect("devices");
        let end = xml.find("</devices>").expect("devices end");
        xml[start..end + "</devices>".len()].to_string()
    }

    /// What `virsh -c test:///default dumpxml` of libvirt 9.0 prints for these.
    #[test]
    fn capabilities_round_trip_as_libvirt_prints_them() {
        let got = devices_xml(
            "<hostdev mode='capabilities' type='storage' managed='yes'>\
               <source><block>/dev/loop5</block><char>/dev/x</char></source>\
               <readonly/><shareable/><boot order='1'/></hostdev>\
             <hostdev mode='capabilities' type='misc'>\
               <source><char>/dev/net/tun</char></source>\
               <alias name='ua-x'/><address type='pci' domain='0' bus='0' slot='5' function='0'/>\
             </hostdev>\
             <hostdev mode='capabilities' type='net'><source><interface>eth9</interface></source>\
               <ip address='192.168.1.2' prefix='24'/>\
               <route family='ipv4' address='0.0.0.0' gateway='192.168.1.1'/></hostdev>\
             <hostdev mode='capabilities' type='storage'><source><block>  </block></source>\
               <rom bar='off' file='/x'/></hostdev>",
        );
        let want = "<devices>
    <hostdev mode='capabilities' type='storage'>
      <source>
        <block>/dev/loop5</block>
      </source>
      <boot order='1'/>
    </hostdev>
    <hostdev mode='capabilities' type='misc'>
      <source>
        <char>/dev/net/tun</char>
      </source>
      <alias name='ua-x'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </hostdev>
    <hostdev mode='capabilities' type='net'>
      <source>
        <interface>eth9</interface>
      </source>
      <ip address='192.168.1.2' family='ipv4' prefix='24'/>
      <route family='ipv4' address='0.0.0.0' gateway='192.168.1.1'/>
    </hostdev>
    <hostdev mode='capabilities' type='storage'>
      <source>
        <block>  </block>
      </source>
      <rom bar='off' file='/x'/>
    </hostdev>
  </devices>";
        assert_eq!(got, want);
        // And once more through its own output.
        let again = def(&got["<devices>".len()..got.len() - "</devices>".len()])
            .expect("reparse")
            .to_xml(&FormatOptions::default());
        assert!(again.contains(want), "{again}");
    }

    #[test]
    fn capabilities_errors_are_libvirts() {
        let cases = [
            (
                "<hostdev mode='capabilities' type='storage'><source/></hostdev>",
                "XML error: Missing <block> element in hostdev storage device",
            ),
            (
                "<hostdev mode='capabilities' type='storage'><source><block></block></source></hostdev>",
                "XML error: Missing <block> element in hostdev storage device",
            ),
            (
                "<hostdev mode='capabilities' type='misc'><source><block>/dev/x</block></source></hostdev>",
                "XML error: Missing <char> element in hostdev character device",
            ),
            (
                "<hostdev mode='capabilities' type='storage'></hostdev>",
                "XML error: Missing <source> element in hostdev device",
            ),
            (
                "<hostdev mode='capabilities' type='bogus'><source/></hostdev>",
                "unsupported configuration: unknown host device source address type 'bogus'",
            ),
            (
                "<hostdev mode='capabilities'><source/></hostdev>",
                "XML error: missing source address type",
            ),
        ];
        for (xml, want) in cases {
            let e = def(xml).expect_err(xml);
            assert_eq!(e.api_error("domain", xml).message, want, "{xml}");
        }
    }

    #[test]
    fn caps_of_a_node() {
        let d = def("<hostdev mode='capabilities' type='storage'><source><block>/dev/sdb</block></source></hostdev>\
             <hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>\
             <hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/><product id='0x2'/></source></hostdev>")
        .expect("parse");
        let caps: Vec<_> = d.devices.hostdevs.iter().map(HostdevCaps::of).collect();
        assert_eq!(
            caps,
            [
                Some(HostdevCaps::Storage("/dev/sdb")),
                Some(HostdevCaps::Misc("/dev/net/tun")),
                None
            ]
        );
    }
}
