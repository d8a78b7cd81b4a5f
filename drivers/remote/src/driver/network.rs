//! NetworkDriver over the protocol (being written).

use super::RemoteDriver;

impl virtsh_api::NetworkDriver for RemoteDriver {}
