//! StorageDriver over the protocol (being written).

use super::RemoteDriver;

impl virtsh_api::StorageDriver for RemoteDriver {}
