//! InterfaceDriver over the protocol (being written).

use super::RemoteDriver;

impl virtsh_api::InterfaceDriver for RemoteDriver {}
