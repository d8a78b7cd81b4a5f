//! One implementation of the `NetworkDriver` calls for every local connection (`qemu:///`,
//! `lxc:///`): libvirt's connections of those drivers reach the one network driver of their
//! host, and so do ours, by handing each call to the [`crate::NetworkHost`] they hold.

/// `network_driver_via!(Type, field)`: implement `virtsh_api::NetworkDriver` for `Type` by
/// handing every call to its `field: NetworkHost`.
#[macro_export]
macro_rules! network_driver_via {
    ($ty:ty, $field:ident) => {
        impl $crate::__api::NetworkDriver for $ty {
            fn list_all_networks(
                &self,
                flags: u32,
            ) -> $crate::__api::Result<Vec<$crate::__api::Network>> {
                self.$field.list_all_networks(flags)
            }
            fn lookup_network_by_name(
                &self,
                name: &str,
            ) -> $crate::__api::Result<$crate::__api::Network> {
                self.$field.lookup_network_by_name(name)
            }
            fn lookup_network_by_uuid(
                &self,
                uuid: &$crate::__api::__Uuid,
            ) -> $crate::__api::Result<$crate::__api::Network> {
                self.$field.lookup_network_by_uuid(uuid)
            }
            fn network_xml(
                &self,
                net: &$crate::__api::Network,
                flags: u32,
            ) -> $crate::__api::Result<String> {
                self.$field.network_xml(net, flags)
            }
            fn define_network(
                &self,
                xml: &str,
                flags: u32,
            ) -> $crate::__api::Result<$crate::__api::Network> {
                self.$field.define_network(xml, flags)
            }
            fn create_network(
                &self,
                xml: &str,
                flags: u32,
            ) -> $crate::__api::Result<$crate::__api::Network> {
                self.$field.create_network(xml, flags)
            }
            fn undefine_network(&self, net: &$crate::__api::Network) -> $crate::__api::Result<()> {
                self.$field.undefine_network(net)
            }
            fn start_network(&self, net: &$crate::__api::Network) -> $crate::__api::Result<()> {
                self.$field.start_network(net)
            }
            fn destroy_network(&self, net: &$crate::__api::Network) -> $crate::__api::Result<()> {
                self.$field.destroy_network(net)
            }
            fn network_autostart(
                &self,
                net: &$crate::__api::Network,
            ) -> $crate::__api::Result<bool> {
                self.$field.network_autostart(net)
            }
            fn set_network_autostart(
                &self,
                net: &$crate::__api::Network,
                on: bool,
            ) -> $crate::__api::Result<()> {
                self.$field.set_network_autostart(net, on)
            }
            fn network_is_active(
                &self,
                net: &$crate::__api::Network,
            ) -> $crate::__api::Result<bool> {
                self.$field.network_is_active(net)
            }
            fn network_is_persistent(
                &self,
                net: &$crate::__api::Network,
            ) -> $crate::__api::Result<bool> {
                self.$field.network_is_persistent(net)
            }
            fn network_bridge_name(
                &self,
                net: &$crate::__api::Network,
            ) -> $crate::__api::Result<String> {
                self.$field.network_bridge_name(net)
            }
            fn network_health(
                &self,
                net: &$crate::__api::Network,
            ) -> $crate::__api::Result<Vec<String>> {
                self.$field.network_health(net)
            }
            fn update_network(
                &self,
                net: &$crate::__api::Network,
                command: u32,
                section: u32,
                parent_index: i32,
                xml: &str,
                flags: u32,
            ) -> $crate::__api::Result<()> {
                self.$field
                    .update_network(net, command, section, parent_index, xml, flags)
            }
            fn network_dhcp_leases(
                &self,
                net: &$crate::__api::Network,
                mac: Option<&str>,
                flags: u32,
            ) -> $crate::__api::Result<Vec<$crate::__api::DhcpLease>> {
                self.$field.network_dhcp_leases(net, mac, flags)
            }
            fn list_network_ports(
                &self,
                net: &$crate::__api::Network,
                flags: u32,
            ) -> $crate::__api::Result<Vec<$crate::__api::NetworkPort>> {
                self.$field.list_network_ports(net, flags)
            }
            fn lookup_network_port(
                &self,
                net: &$crate::__api::Network,
                uuid: &$crate::__api::__Uuid,
            ) -> $crate::__api::Result<$crate::__api::NetworkPort> {
                self.$field.lookup_network_port(net, uuid)
            }
            fn create_network_port(
                &self,
                net: &$crate::__api::Network,
                xml: &str,
                flags: u32,
            ) -> $crate::__api::Result<$crate::__api::NetworkPort> {
                self.$field.create_network_port(net, xml, flags)
            }
            fn network_port_xml(
                &self,
                port: &$crate::__api::NetworkPort,
                flags: u32,
            ) -> $crate::__api::Result<String> {
                self.$field.network_port_xml(port, flags)
            }
            fn delete_network_port(
                &self,
                port: &$crate::__api::NetworkPort,
                flags: u32,
            ) -> $crate::__api::Result<()> {
                self.$field.delete_network_port(port, flags)
            }
            fn network_events(
                &self,
                net: Option<&$crate::__api::Network>,
                timeout: Option<std::time::Duration>,
                sink: &mut dyn FnMut($crate::__api::NetworkEvent) -> bool,
            ) -> $crate::__api::Result<()> {
                self.$field.network_events(net, timeout, sink)
            }
        }
    };
}
