//! SecretDriver over the protocol: virSecret* and the secret listings, each the procedure
//! libvirt's `remote_driver.c` makes for it.

use uuid::Uuid;
use virtsh_api::{Error, ErrorKind, Result, Secret};

use super::handles::{secret_from_remote, secret_to_remote, uuid_to_remote};
use super::RemoteDriver;
use crate::generated::remote::*;

impl virtsh_api::SecretDriver for RemoteDriver {
    fn list_all_secrets(&self, flags: u32) -> Result<Vec<Secret>> {
        let ret = self.call::<procs::ConnectListAllSecrets>(&RemoteConnectListAllSecretsArgs {
            need_results: 1,
            flags,
        })?;
        Ok(ret.secrets.into_iter().map(secret_from_remote).collect())
    }

    fn num_of_secrets(&self) -> Result<u32> {
        let ret = self.call::<procs::ConnectNumOfSecrets>(&())?;
        u32::try_from(ret.num).map_err(|_| {
            Error::raw(
                ErrorKind::Rpc,
                format!("the daemon counted {} secrets", ret.num),
            )
        })
    }

    /// virConnectListSecrets; the client refuses a `max` beyond the protocol's limit before
    /// asking, as libvirt's generated client does.
    fn list_secret_uuids(&self, max: u32) -> Result<Vec<String>> {
        if max > REMOTE_SECRET_LIST_MAX {
            return Err(Error::raw(
                ErrorKind::Rpc,
                format!("maxuuids length greater than maximum: {max} > {REMOTE_SECRET_LIST_MAX}"),
            ));
        }
        let ret = self.call::<procs::ConnectListSecrets>(&RemoteConnectListSecretsArgs {
            // Within REMOTE_SECRET_LIST_MAX, checked above.
            maxuuids: max as i32,
        })?;
        Ok(ret.uuids)
    }

    fn lookup_secret_by_uuid(&self, uuid: &Uuid) -> Result<Secret> {
        let ret = self.call::<procs::SecretLookupByUuid>(&RemoteSecretLookupByUuidArgs {
            uuid: uuid_to_remote(uuid),
        })?;
        Ok(secret_from_remote(ret.secret))
    }

    fn lookup_secret_by_usage(&self, usage_type: i32, usage_id: &str) -> Result<Secret> {
        let ret = self.call::<procs::SecretLookupByUsage>(&RemoteSecretLookupByUsageArgs {
            usage_type,
            usage_id: usage_id.to_string(),
        })?;
        Ok(secret_from_remote(ret.secret))
    }

    fn define_secret(&self, xml: &str, flags: u32) -> Result<Secret> {
        let ret = self.call::<procs::SecretDefineXml>(&RemoteSecretDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        })?;
        Ok(secret_from_remote(ret.secret))
    }

    fn secret_xml(&self, secret: &Secret, flags: u32) -> Result<String> {
        let ret = self.call::<procs::SecretGetXmlDesc>(&RemoteSecretGetXmlDescArgs {
            secret: secret_to_remote(secret),
            flags,
        })?;
        Ok(ret.xml)
    }

    fn secret_value(&self, secret: &Secret, flags: u32) -> Result<Vec<u8>> {
        let ret = self.call::<procs::SecretGetValue>(&RemoteSecretGetValueArgs {
            secret: secret_to_remote(secret),
            flags,
        })?;
        Ok(ret.value)
    }

    fn set_secret_value(&self, secret: &Secret, value: &[u8], flags: u32) -> Result<()> {
        self.call::<procs::SecretSetValue>(&RemoteSecretSetValueArgs {
            secret: secret_to_remote(secret),
            value: value.to_vec(),
            flags,
        })
    }

    fn undefine_secret(&self, secret: &Secret) -> Result<()> {
        self.call::<procs::SecretUndefine>(&RemoteSecretUndefineArgs {
            secret: secret_to_remote(secret),
        })
    }
}
