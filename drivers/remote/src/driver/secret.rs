//! SecretDriver over the protocol (being written).

use super::RemoteDriver;

impl virtsh_api::SecretDriver for RemoteDriver {}
