//! Memory and block I/O tuning parameters over the protocol (virDomain{Get,Set}MemoryParameters,
//! virDomain{Get,Set}BlkioParameters), in virsh's two steps for the getters: ask with
//! nparams 0 for the number of parameters, then for that many.

use virtsh_api::{Domain, Error, ErrorKind, Result, TypedParam};

use super::super::handles::{typed_params_from_remote, typed_params_to_remote};
use super::{rdom, RemoteDriver, TYPED_PARAM_STRING_OKAY};
use crate::generated::remote::{procs, *};

/// virTypedParamsDeserialize's check on what a daemon sends back.
fn checked(params: Vec<RemoteTypedParam>, asked: i32, limit: u32) -> Result<Vec<TypedParam>> {
    let n = params.len();
    if n > limit as usize || n > usize::try_from(asked).unwrap_or(0) {
        return Err(Error::new(
            ErrorKind::Rpc,
            format!("too many parameters '{n}' for limit '{limit}'"),
        ));
    }
    Ok(typed_params_from_remote(params))
}

impl RemoteDriver {
    pub(super) fn memory_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        // libvirt's library adds STRING_OKAY, as for every getter of typed parameters.
        let flags = flags | TYPED_PARAM_STRING_OKAY;
        let ask = |nparams: i32| {
            self.call::<procs::DomainGetMemoryParameters>(&RemoteDomainGetMemoryParametersArgs {
                dom: rdom(dom),
                nparams,
                flags,
            })
        };
        let n = ask(0)?.nparams;
        if n <= 0 {
            return Ok(Vec::new());
        }
        checked(ask(n)?.params, n, REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX)
    }

    pub(super) fn set_memory_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.call::<procs::DomainSetMemoryParameters>(&RemoteDomainSetMemoryParametersArgs {
            dom: rdom(dom),
            params: typed_params_to_remote(params),
            flags,
        })
    }

    pub(super) fn blkio_params(&self, dom: &Domain, flags: u32) -> Result<Vec<TypedParam>> {
        let flags = flags | TYPED_PARAM_STRING_OKAY;
        let ask = |nparams: i32| {
            self.call::<procs::DomainGetBlkioParameters>(&RemoteDomainGetBlkioParametersArgs {
                dom: rdom(dom),
                nparams,
                flags,
            })
        };
        let n = ask(0)?.nparams;
        if n <= 0 {
            return Ok(Vec::new());
        }
        checked(ask(n)?.params, n, REMOTE_DOMAIN_BLKIO_PARAMETERS_MAX)
    }

    pub(super) fn set_blkio_params(
        &self,
        dom: &Domain,
        params: &[TypedParam],
        flags: u32,
    ) -> Result<()> {
        self.call::<procs::DomainSetBlkioParameters>(&RemoteDomainSetBlkioParametersArgs {
            dom: rdom(dom),
            params: typed_params_to_remote(params),
            flags,
        })
    }
}
