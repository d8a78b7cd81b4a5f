//! HostDriver over the protocol: the connection and the host (virConnect*, virNode*).

use virtsh_api::Result;

use super::RemoteDriver;


impl virtsh_api::HostDriver for RemoteDriver {
    /// virConnectGetURI: the daemon's canonical URI of the hypervisor connection.
    fn uri(&self) -> Result<String> {
        // virConnectGetURI answers from the client: the URI as it was opened.
        Ok(self.uri.clone())
    }
}
