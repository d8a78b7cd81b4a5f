//! The default node of `test:///default` (testOpenDefault): libvirt's `defaultConnXML` loaded
//! the same way a node file is, plus two NUMA cells of eight CPUs each.

use virtsh_api::Result;

use crate::{host, nodefile, Cell, Driver};

/// libvirt 9.0's defaultConnXML (node devices left out: the API has no node-device calls).
pub(crate) const DEFAULT_NODE_XML: &str = "<node>\
<domain type='test'>\
  <name>test</name>\
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\
  <memory>8388608</memory>\
  <currentMemory>2097152</currentMemory>\
  <vcpu>2</vcpu>\
  <os>\
    <type>hvm</type>\
  </os>\
  <devices>\
    <disk type='file' device='disk'>\
      <source file='/guest/diskimage1'/>\
      <target dev='vda' bus='virtio'/>\
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\
    </disk>\
    <interface type='network'>\
      <mac address='aa:bb:cc:dd:ee:ff'/>\
      <source network='default' bridge='virbr0'/>\
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1' function='0x0'/>\
    </interface>\
    <memballoon model='virtio'>\
      <address type='pci' domain='0x0000' bus='0x00' slot='0x2' function='0x0'/>\
    </memballoon>\
  </devices>\
</domain>\
<network>\
  <name>default</name>\
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\
  <bridge name='virbr0'/>\
  <forward/>\
  <ip address='192.168.122.1' netmask='255.255.255.0'>\
    <dhcp>\
      <range start='192.168.122.2' end='192.168.122.254'/>\
    </dhcp>\
  </ip>\
</network>\
<interface type=\"ethernet\" name=\"eth1\">\
  <start mode=\"onboot\"/>\
  <mac address=\"aa:bb:cc:dd:ee:ff\"/>\
  <mtu size=\"1492\"/>\
  <protocol family=\"ipv4\">\
    <ip address=\"192.168.0.5\" prefix=\"24\"/>\
    <route gateway=\"192.168.0.1\"/>\
  </protocol>\
</interface>\
<pool type='dir'>\
  <name>default-pool</name>\
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>\
  <target>\
    <path>/default-pool</path>\
  </target>\
</pool>\
</node>";

/// The two NUMA cells of the default node: 8 CPUs each; cell i has (i+1)*2 GiB of memory of
/// which (i+1) GiB are free (values in KiB).
pub(crate) fn default_cells() -> Vec<Cell> {
    (0..2u64)
        .map(|i| Cell {
            mem: (i + 1) * 2048 * 1024,
            free_mem: (i + 1) * 1024 * 1024,
            ncpus: 8,
        })
        .collect()
}

/// Build the state of a fresh `test:///default` connection.
pub(crate) fn build() -> Result<Driver> {
    let mut drv = Driver::new(
        "test:///default".to_string(),
        host::default_node_info(),
        default_cells(),
    );
    nodefile::load_node_text(&mut drv, DEFAULT_NODE_XML, None)?;
    Ok(drv)
}
