//! libvirt test-driver node files (testOpenFromFile / testOpenParse): a `<node>` document with
//! the host description and the objects to start with, each inline or in a file named by a
//! `file=` attribute relative to the node file. Domains may carry the test namespace's
//! `<test:runstate>`, `<test:transient/>`, `<test:hasmanagedsave/>` and
//! `<test:domainsnapshot>` elements.

use virtsh_api::{Error, ErrorKind, Result};
use virtsh_xml::dom::Element;
use virtsh_xml::network::NetworkDef;
use virtsh_xml::storage_pool::StoragePoolDef;
use virtsh_xml::storage_vol::StorageVolDef;

use crate::domstate::{reason, st};
use crate::{domain, host, interface, xmlconv, Driver};

/// The namespace of the test driver's domain extensions.
pub(crate) const TEST_NS: &str = "http://libvirt.org/schemas/domain/test/1.0";

/// One object element of the node, after following `file=`: the element, the text it was
/// parsed from, and the elements enclosing it in that text (for namespace lookups).
struct Fragment {
    el: Element,
    text: String,
    /// Namespace declarations in scope from the enclosing `<node>` (empty for files).
    scope_ns: Vec<(String, String)>,
    /// Where the text came from, for messages.
    origin: String,
}

/// Open a node file (the path of a `test:///PATH` URI).
pub(crate) fn load(path: &str) -> Result<Driver> {
    let text = read_xml_file(path)?;
    let mut drv = Driver::new(
        format!("test://{path}"),
        host::default_node_info(),
        Vec::new(),
    );
    load_node_text(&mut drv, &text, Some(path))?;
    Ok(drv)
}

fn read_xml_file(path: &str) -> Result<String> {
    if std::path::Path::new(path).is_dir() {
        return Err(Error::raw(
            ErrorKind::XmlDetail,
            format!("{path}:1: Document is empty\n(null)\n^"),
        ));
    }
    std::fs::read_to_string(path).map_err(|_| {
        Error::new(
            ErrorKind::XmlError,
            format!("failed to parse xml document '{path}'"),
        )
    })
}

/// Parse a whole XML file whose root must be `root_name` (virXMLParse with a root check).
fn parse_file(path: &str, root_name: &str) -> Result<(Element, String)> {
    let text = read_xml_file(path)?;
    let root =
        virtsh_xml::dom::parse(&text).map_err(|e| xmlconv::file_xml_error(&e, path, &text))?;
    if root.name != root_name {
        return Err(Error::new(
            ErrorKind::XmlError,
            format!(
                "expecting root element of '{root_name}', not '{}'",
                root.name
            ),
        ));
    }
    Ok((root, text))
}

/// testBuildFilename: `file` relative to the directory of the node file.
fn build_filename(node_file: Option<&str>, file: &str) -> String {
    if file.starts_with('/') {
        return file.to_string();
    }
    let dir = node_file
        .and_then(|f| std::path::Path::new(f).parent())
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_string());
    format!("{dir}/{file}")
}

/// testParseXMLDocFromFile: the element itself, or the root of the file it names.
fn resolve(
    el: &Element,
    node_text: &str,
    node_file: Option<&str>,
    scope_ns: &[(String, String)],
    kind: &str,
) -> Result<Fragment> {
    match el.attr("file") {
        Some(rel) => {
            let path = build_filename(node_file, rel);
            let (root, text) = parse_file(&path, kind)?;
            Ok(Fragment {
                el: root,
                text,
                scope_ns: Vec::new(),
                origin: path,
            })
        }
        None => Ok(Fragment {
            el: el.clone(),
            text: node_text.to_string(),
            scope_ns: scope_ns.to_vec(),
            origin: node_file.unwrap_or("(test driver)").to_string(),
        }),
    }
}

impl Fragment {
    /// The fragment as a standalone document, namespace declarations included.
    fn standalone(&self) -> String {
        xmlconv::element_to_xml(&self.el, &self.scope_ns)
    }

    /// Children in the test namespace with local name `local`.
    fn test_ns_children(&self, local: &str) -> Vec<&Element> {
        let scope = Element {
            attrs: self.scope_ns.clone(),
            ..Element::default()
        };
        xmlconv::ns_children(&self.el, &[&scope], TEST_NS, local)
    }
}

/// Parse a node document into `drv` (testOpenParse).
pub(crate) fn load_node_text(drv: &mut Driver, text: &str, file: Option<&str>) -> Result<()> {
    let root = virtsh_xml::dom::parse(text).map_err(|e| match file {
        Some(f) => xmlconv::file_xml_error(&e, f, text),
        None => xmlconv::xml_error(&e, "test driver", text),
    })?;
    if root.name != "node" {
        return Err(Error::new(
            ErrorKind::XmlError,
            format!("expecting root element of 'node', not '{}'", root.name),
        ));
    }
    let scope_ns = xmlconv::ns_decls(&root);
    parse_node_info(drv, &root)?;
    for el in root.children_named("domain") {
        let frag = resolve(el, text, file, &scope_ns, "domain")?;
        load_domain(drv, &frag, file)?;
    }
    for el in root.children_named("network") {
        let frag = resolve(el, text, file, &scope_ns, "network")?;
        let def = NetworkDef::from_element(&frag.text, &frag.el)
            .map_err(|e| xmlconv::xml_error(&e, &frag.origin, &frag.text))?;
        let i = drv.add_network(def, false)?;
        drv.networks[i].active = true;
    }
    for el in root.children_named("interface") {
        let frag = resolve(el, text, file, &scope_ns, "interface")?;
        let def = interface::parse_iface(&frag.standalone())?;
        let i = drv.add_iface(def);
        drv.ifaces[i].active = true;
    }
    for el in root.children_named("pool") {
        let frag = resolve(el, text, file, &scope_ns, "pool")?;
        load_pool(drv, &frag, file, &scope_ns)?;
    }
    Ok(())
}

/// virXPathLong on `string(/node/PATH[1])`: None when absent or empty, an error when not a
/// number.
fn node_long(root: &Element, path: &str, what: &str) -> Result<Option<i64>> {
    let Some(el) = root.at_path(path) else {
        return Ok(None);
    };
    let raw = el.text.trim_start();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .map(Some)
        .map_err(|_| Error::new(ErrorKind::XmlError, format!("invalid node {what} value")))
}

/// testParseNodeInfo: the `<cpu>` and `<memory>` elements override the default host.
fn parse_node_info(drv: &mut Driver, root: &Element) -> Result<()> {
    let n = &mut drv.node;
    if let Some(v) = node_long(root, "cpu/nodes", "cpu nodes")? {
        n.nodes = v as u32;
    }
    if let Some(v) = node_long(root, "cpu/sockets", "cpu sockets")? {
        n.sockets = v as u32;
    }
    if let Some(v) = node_long(root, "cpu/cores", "cpu cores")? {
        n.cores = v as u32;
    }
    if let Some(v) = node_long(root, "cpu/threads", "cpu threads")? {
        n.threads = v as u32;
    }
    n.cpus = n
        .cores
        .wrapping_mul(n.threads)
        .wrapping_mul(n.sockets)
        .wrapping_mul(n.nodes);
    if let Some(v) = node_long(root, "cpu/active", "cpu active")? {
        if v < n.cpus as i64 {
            n.cpus = v as u32;
        }
    }
    if let Some(v) = node_long(root, "cpu/mhz", "cpu mhz")? {
        n.mhz = v as u32;
    }
    if let Some(model) = root.at_path("cpu/model").map(|e| e.text.clone()) {
        if !model.is_empty() {
            n.model = model;
        }
    }
    if let Some(v) = node_long(root, "memory", "memory")? {
        n.memory_kib = v as u64;
    }
    Ok(())
}

/// The test namespace data of a domain (testDomainDefNamespaceParse).
struct TestNs {
    runstate: i32,
    transient: bool,
    has_managed_save: bool,
}

fn parse_test_ns(frag: &Fragment) -> Result<TestNs> {
    let xml_err = |m: String| Error::new(ErrorKind::XmlError, m);
    let transient = !frag.test_ns_children("transient").is_empty();
    let has_managed_save = !frag.test_ns_children("hasmanagedsave").is_empty();
    let runstate = match frag.test_ns_children("runstate").first() {
        Some(el) if !el.text.trim().is_empty() => {
            let v: u32 = el
                .text
                .trim_start()
                .parse()
                .map_err(|_| xml_err("invalid runstate".to_string()))?;
            if v >= st::LAST as u32 {
                return Err(xml_err(format!("runstate '{}' out of range'", v as i32)));
            }
            v as i32
        }
        _ => st::RUNNING,
    };
    if transient && runstate == st::SHUTOFF {
        return Err(xml_err(
            "transient domain cannot have runstate 'shutoff'".to_string(),
        ));
    }
    if has_managed_save && runstate != st::SHUTOFF {
        return Err(xml_err(
            "domain with managedsave data can only have runstate 'shutoff'".to_string(),
        ));
    }
    Ok(TestNs {
        runstate,
        transient,
        has_managed_save,
    })
}

/// testParseDomains, for one domain.
fn load_domain(drv: &mut Driver, frag: &Fragment, node_file: Option<&str>) -> Result<()> {
    let ns = parse_test_ns(frag)?;
    let def = domain::parse_domain(&frag.standalone())?;
    let (idx, _) = drv.add_domain(def, false)?;
    for snap_el in frag.test_ns_children("domainsnapshot") {
        let mut snap = resolve(
            snap_el,
            &frag.text,
            node_file,
            &frag.scope_ns,
            "domainsnapshot",
        )?;
        // Inline, the `<test:domainsnapshot>` element itself holds the snapshot's children.
        snap.el.name = "domainsnapshot".to_string();
        drv.load_snapshot(idx, &snap.standalone())?;
    }
    if !drv.domains[idx].snapshots.relations_ok() {
        return Err(Error::internal(format!(
            "Snapshots have inconsistent relations for domain {}",
            drv.domains[idx].name()
        )));
    }
    let obj = &mut drv.domains[idx];
    obj.persistent = !ns.transient;
    obj.has_managed_save = ns.has_managed_save;
    if ns.runstate != st::SHUTOFF {
        drv.start_state(idx, reason::RUNNING_BOOTED);
    } else {
        drv.domains[idx].shutdown_state(reason::UNKNOWN);
    }
    drv.domains[idx].set_state(ns.runstate, reason::UNKNOWN);
    Ok(())
}

/// testParseStorage, for one pool, with its volumes (testOpenVolumesForPool).
fn load_pool(
    drv: &mut Driver,
    frag: &Fragment,
    node_file: Option<&str>,
    scope_ns: &[(String, String)],
) -> Result<()> {
    let def = StoragePoolDef::from_element(&frag.text, &frag.el)
        .map_err(|e| xmlconv::xml_error(&e, &frag.origin, &frag.text))?;
    let (i, _) = drv.add_pool(def, false)?;
    drv.pools[i].set_defaults();
    drv.pools[i].active = true;
    // The volumes are the children of whichever element stands for the pool: with file=,
    // the file's root (libvirt replaced the node element by it).
    for vol_el in frag.el.children_named("volume") {
        let vfrag = resolve(vol_el, &frag.text, node_file, scope_ns, "volume")?;
        let pool = &mut drv.pools[i];
        let mut vol = StorageVolDef::from_element(&vfrag.text, &vfrag.el, &pool.def.pool_type)
            .map_err(|e| xmlconv::xml_error(&e, &vfrag.origin, &vfrag.text))?;
        if vol.target_path.is_none() {
            vol.target_path = Some(format!(
                "{}/{}",
                pool.def.target_path.as_deref().unwrap_or(""),
                vol.name
            ));
        }
        if vol.key.is_none() {
            vol.key = vol.target_path.clone();
        }
        pool.add_vol(vol);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_files_resolve_next_to_the_node_file() {
        assert_eq!(build_filename(Some("/a/b/node.xml"), "d.xml"), "/a/b/d.xml");
        assert_eq!(
            build_filename(Some("/a/b/node.xml"), "/x/d.xml"),
            "/x/d.xml"
        );
    }
}
