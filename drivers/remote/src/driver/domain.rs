//! DomainDriver over the protocol (being written).

use super::RemoteDriver;

impl virtsh_api::DomainDriver for RemoteDriver {}
