//! Object handles: the api's (`Domain`, `Network`, ...) and the protocol's `nonnull` structs.
//! A handle goes back to the daemon exactly as it came (name, UUID, id), as libvirt's client
//! does.
//!
//! Every object kind has a pair: `<kind>_to_remote(&api) -> RemoteNonnull<Kind>` (for
//! arguments) and `<kind>_from_remote(RemoteNonnull<Kind>) -> api` (for replies), plus the
//! UUID helpers `uuid_to_remote` / `uuid_from_remote`. These signatures are shared by every
//! trait impl of the remote driver; keep them stable.

#![allow(dead_code)]

use uuid::Uuid;
use virtsh_api::{
    Domain, DomainSnapshot, Interface, Network, NetworkPort, Secret, StoragePool, StorageVol,
    TypedParam, TypedValue,
};

use crate::generated::remote::{
    RemoteNonnullDomain, RemoteNonnullDomainSnapshot, RemoteNonnullInterface, RemoteNonnullNetwork,
    RemoteNonnullNetworkPort, RemoteNonnullSecret, RemoteNonnullStoragePool,
    RemoteNonnullStorageVol, RemoteTypedParam, RemoteTypedParamValue, RemoteUuid,
};

/// The protocol's 16 raw bytes of a UUID.
pub(crate) fn uuid_to_remote(uuid: &Uuid) -> RemoteUuid {
    *uuid.as_bytes()
}

/// A UUID from the protocol's 16 raw bytes.
pub(crate) fn uuid_from_remote(uuid: &RemoteUuid) -> Uuid {
    Uuid::from_bytes(*uuid)
}

// Domains.

pub(crate) fn domain_to_remote(dom: &Domain) -> RemoteNonnullDomain {
    RemoteNonnullDomain {
        name: dom.name.clone(),
        uuid: uuid_to_remote(&dom.uuid),
        id: dom.id,
    }
}

pub(crate) fn domain_from_remote(dom: RemoteNonnullDomain) -> Domain {
    Domain {
        name: dom.name,
        uuid: uuid_from_remote(&dom.uuid),
        id: dom.id,
    }
}

pub(crate) fn snapshot_to_remote(snap: &DomainSnapshot) -> RemoteNonnullDomainSnapshot {
    RemoteNonnullDomainSnapshot {
        name: snap.name.clone(),
        dom: domain_to_remote(&snap.domain),
    }
}

pub(crate) fn snapshot_from_remote(snap: RemoteNonnullDomainSnapshot) -> DomainSnapshot {
    DomainSnapshot {
        domain: domain_from_remote(snap.dom),
        name: snap.name,
    }
}

// Networks.

pub(crate) fn network_to_remote(net: &Network) -> RemoteNonnullNetwork {
    RemoteNonnullNetwork {
        name: net.name.clone(),
        uuid: uuid_to_remote(&net.uuid),
    }
}

pub(crate) fn network_from_remote(net: RemoteNonnullNetwork) -> Network {
    Network {
        name: net.name,
        uuid: uuid_from_remote(&net.uuid),
    }
}

pub(crate) fn network_port_to_remote(port: &NetworkPort) -> RemoteNonnullNetworkPort {
    RemoteNonnullNetworkPort {
        net: network_to_remote(&port.network),
        uuid: uuid_to_remote(&port.uuid),
    }
}

pub(crate) fn network_port_from_remote(port: RemoteNonnullNetworkPort) -> NetworkPort {
    NetworkPort {
        network: network_from_remote(port.net),
        uuid: uuid_from_remote(&port.uuid),
    }
}

// Storage.

pub(crate) fn pool_to_remote(pool: &StoragePool) -> RemoteNonnullStoragePool {
    RemoteNonnullStoragePool {
        name: pool.name.clone(),
        uuid: uuid_to_remote(&pool.uuid),
    }
}

pub(crate) fn pool_from_remote(pool: RemoteNonnullStoragePool) -> StoragePool {
    StoragePool {
        name: pool.name,
        uuid: uuid_from_remote(&pool.uuid),
    }
}

pub(crate) fn vol_to_remote(vol: &StorageVol) -> RemoteNonnullStorageVol {
    RemoteNonnullStorageVol {
        pool: vol.pool.clone(),
        name: vol.name.clone(),
        key: vol.key.clone(),
    }
}

pub(crate) fn vol_from_remote(vol: RemoteNonnullStorageVol) -> StorageVol {
    StorageVol {
        pool: vol.pool,
        name: vol.name,
        key: vol.key,
    }
}

// Host interfaces.

pub(crate) fn interface_to_remote(iface: &Interface) -> RemoteNonnullInterface {
    RemoteNonnullInterface {
        name: iface.name.clone(),
        mac: iface.mac.clone(),
    }
}

pub(crate) fn interface_from_remote(iface: RemoteNonnullInterface) -> Interface {
    Interface {
        name: iface.name,
        mac: iface.mac,
    }
}

// Secrets.

pub(crate) fn secret_to_remote(secret: &Secret) -> RemoteNonnullSecret {
    RemoteNonnullSecret {
        uuid: uuid_to_remote(&secret.uuid),
        usage_type: secret.usage_type,
        usage_id: secret.usage_id.clone(),
    }
}

pub(crate) fn secret_from_remote(secret: RemoteNonnullSecret) -> Secret {
    Secret {
        uuid: uuid_from_remote(&secret.uuid),
        usage_type: secret.usage_type,
        usage_id: secret.usage_id,
    }
}

// Typed parameters (virTypedParameter, `remote_typed_param`).

pub(crate) fn typed_param_from_remote(p: RemoteTypedParam) -> TypedParam {
    let value = match p.value {
        RemoteTypedParamValue::Int(v) => TypedValue::Int(v),
        RemoteTypedParamValue::Uint(v) => TypedValue::UInt(v),
        RemoteTypedParamValue::Llong(v) => TypedValue::LLong(v),
        RemoteTypedParamValue::Ullong(v) => TypedValue::ULLong(v),
        RemoteTypedParamValue::Double(v) => TypedValue::Double(v),
        RemoteTypedParamValue::Boolean(v) => TypedValue::Boolean(v != 0),
        RemoteTypedParamValue::String(v) => TypedValue::String(v),
    };
    TypedParam {
        field: p.field,
        value,
    }
}

pub(crate) fn typed_param_to_remote(p: &TypedParam) -> RemoteTypedParam {
    let value = match &p.value {
        TypedValue::Int(v) => RemoteTypedParamValue::Int(*v),
        TypedValue::UInt(v) => RemoteTypedParamValue::Uint(*v),
        TypedValue::LLong(v) => RemoteTypedParamValue::Llong(*v),
        TypedValue::ULLong(v) => RemoteTypedParamValue::Ullong(*v),
        TypedValue::Double(v) => RemoteTypedParamValue::Double(*v),
        TypedValue::Boolean(v) => RemoteTypedParamValue::Boolean(i32::from(*v)),
        TypedValue::String(v) => RemoteTypedParamValue::String(v.clone()),
    };
    RemoteTypedParam {
        field: p.field.clone(),
        value,
    }
}

pub(crate) fn typed_params_from_remote(params: Vec<RemoteTypedParam>) -> Vec<TypedParam> {
    params.into_iter().map(typed_param_from_remote).collect()
}

pub(crate) fn typed_params_to_remote(params: &[TypedParam]) -> Vec<RemoteTypedParam> {
    params.iter().map(typed_param_to_remote).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip() {
        let dom = Domain {
            name: "test".into(),
            uuid: Uuid::from_u128(0x6695eb01_f6a4_8304_79aa_97f2502e193f),
            id: 1,
        };
        assert_eq!(domain_from_remote(domain_to_remote(&dom)), dom);
        let snap = DomainSnapshot {
            domain: dom.clone(),
            name: "s1".into(),
        };
        assert_eq!(snapshot_from_remote(snapshot_to_remote(&snap)), snap);
        let net = Network {
            name: "default".into(),
            uuid: dom.uuid,
        };
        assert_eq!(network_from_remote(network_to_remote(&net)), net);
        let port = NetworkPort {
            network: net.clone(),
            uuid: dom.uuid,
        };
        assert_eq!(
            network_port_from_remote(network_port_to_remote(&port)),
            port
        );
        let pool = StoragePool {
            name: "default-pool".into(),
            uuid: dom.uuid,
        };
        assert_eq!(pool_from_remote(pool_to_remote(&pool)), pool);
        let vol = StorageVol {
            pool: "default-pool".into(),
            name: "v".into(),
            key: "/k".into(),
        };
        assert_eq!(vol_from_remote(vol_to_remote(&vol)), vol);
        let iface = Interface {
            name: "eth1".into(),
            mac: "aa:bb:cc:dd:ee:ff".into(),
        };
        assert_eq!(interface_from_remote(interface_to_remote(&iface)), iface);
        let secret = Secret {
            uuid: dom.uuid,
            usage_type: 1,
            usage_id: "/var/lib/x".into(),
        };
        assert_eq!(secret_from_remote(secret_to_remote(&secret)), secret);
        let params = vec![
            TypedParam::new("a", TypedValue::Int(-1)),
            TypedParam::new("b", TypedValue::UInt(1)),
            TypedParam::new("c", TypedValue::LLong(-2)),
            TypedParam::new("d", TypedValue::ULLong(2)),
            TypedParam::new("e", TypedValue::Double(0.5)),
            TypedParam::new("f", TypedValue::Boolean(true)),
            TypedParam::new("g", TypedValue::String("s".into())),
        ];
        assert_eq!(
            typed_params_from_remote(typed_params_to_remote(&params)),
            params
        );
    }
}
