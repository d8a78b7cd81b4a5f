//! Calls on secrets (virSecret*, virConnectListAllSecrets).

use crate::error::{Error, Result};
use crate::types::Secret;
use uuid::Uuid;

pub trait SecretDriver {
    fn list_all_secrets(&self, _flags: u32) -> Result<Vec<Secret>> {
        Err(Error::unsupported("virConnectListAllSecrets"))
    }
    /// virConnectNumOfSecrets (the listing of servers without virConnectListAllSecrets).
    fn num_of_secrets(&self) -> Result<u32> {
        Err(Error::unsupported("virConnectNumOfSecrets"))
    }
    /// virConnectListSecrets: the UUIDs as strings.
    fn list_secret_uuids(&self, _max: u32) -> Result<Vec<String>> {
        Err(Error::unsupported("virConnectListSecrets"))
    }
    fn lookup_secret_by_uuid(&self, _uuid: &Uuid) -> Result<Secret> {
        Err(Error::unsupported("virSecretLookupByUUID"))
    }
    /// virSecretLookupByUsage: `usage_type` is virSecretUsageType.
    fn lookup_secret_by_usage(&self, _usage_type: i32, _usage_id: &str) -> Result<Secret> {
        Err(Error::unsupported("virSecretLookupByUsage"))
    }
    fn define_secret(&self, _xml: &str, _flags: u32) -> Result<Secret> {
        Err(Error::unsupported("virSecretDefineXML"))
    }
    fn secret_xml(&self, _secret: &Secret, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virSecretGetXMLDesc"))
    }
    fn secret_value(&self, _secret: &Secret, _flags: u32) -> Result<Vec<u8>> {
        Err(Error::unsupported("virSecretGetValue"))
    }
    fn set_secret_value(&self, _secret: &Secret, _value: &[u8], _flags: u32) -> Result<()> {
        Err(Error::unsupported("virSecretSetValue"))
    }
    fn undefine_secret(&self, _secret: &Secret) -> Result<()> {
        Err(Error::unsupported("virSecretUndefine"))
    }
}
