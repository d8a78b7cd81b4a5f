//! virtsh-test owns the in-memory test driver: a faithful copy of libvirt 9.0's `test:///`
//! driver (`src/test/test_driver.c`), the hypervisor that virsh's own tests and scripts use.
//!
//! - `test:///default` builds libvirt's default node: the running domain `test` (id 1), the
//!   network `default`, the pool `default-pool`, the interface `eth1`, a 16-CPU i686 host with
//!   two NUMA cells. Connections open at the same time share that state, as in libvirt.
//! - `test:///ABSOLUTE/PATH.xml` loads a libvirt test-driver node file (`<node>` with `<cpu>`,
//!   `<memory>`, `<domain>`, `<network>`, `<pool>` with `<volume>`s, `<interface>`, inline or
//!   through `file=`), including the `test:` namespace extras (`runstate`, `transient`,
//!   `hasmanagedsave`, `domainsnapshot`).
//!
//! All state lives in memory for the life of the connection. Behaviour, numbers and error
//! messages are those of libvirt 9.0 (checked against its virsh); where libvirt's public API
//! layer (`libvirt-domain.c`) rejects arguments before the driver sees them, this driver does
//! the same checks so the embedded path reports what the library would.
//!
//! Layout: `lib.rs` (open, the connection, shared helpers), `defaults.rs` (the default node),
//! `nodefile.rs` (node files), `host.rs` (host and connection calls), `domstate.rs` (the
//! domain object model and state machine), `domain.rs` (lookups, lifecycle, the
//! `DomainDriver` impl), `domtune.rs` (memory, vCPUs, metadata, statistics), `tuneparams.rs`
//! (memtune and blkiotune parameters), `domguest.rs`
//! (guest queries and counters: hostname, time, addresses, CPU/block/interface statistics,
//! control state, disk errors), `saveimage.rs` (save, restore, save images, core dumps),
//! `snapshot.rs` and `snapxml.rs` (snapshots), `network.rs`,
//! `netupdate.rs` and `virtsh_xml::network::update_section` (net-update), `storage.rs`, `interface.rs`, and
//! `xmlconv.rs` (error mapping and the few XML operations done on `virtsh_xml`'s element
//! trees).
//!
//! Secrets: like libvirt's test driver, this one has no secret driver, so every secret call
//! answers "not supported".

mod defaults;
mod domain;
mod domguest;
mod domstate;
mod domtune;
mod host;
mod interface;
mod netupdate;
mod network;
mod nodefile;
mod saveimage;
mod snapshot;
mod snapxml;
mod storage;
mod tuneparams;
mod xmlconv;

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use virtsh_api::{Error, NodeInfo, Result, Uri};

pub(crate) use domstate::DomainObj;
pub(crate) use interface::IfaceObj;
pub(crate) use network::NetworkObj;
pub(crate) use storage::PoolObj;

/// One NUMA cell of the fake host (libvirt's `testCell`). Memory values are KiB, and are
/// reported through the byte-based APIs unconverted, exactly as the test driver does.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub mem: u64,
    pub free_mem: u64,
    pub ncpus: u32,
}

/// The whole state of one test "hypervisor" (libvirt's `testDriver`).
pub(crate) struct Driver {
    /// The canonical URI of the connection.
    pub uri: String,
    pub node: NodeInfo,
    pub cells: Vec<Cell>,
    pub next_dom_id: i32,
    pub domains: Vec<DomainObj>,
    pub networks: Vec<NetworkObj>,
    pub pools: Vec<PoolObj>,
    pub ifaces: Vec<IfaceObj>,
    /// The interfaces as they were when a change transaction began (iface-begin).
    pub iface_backup: Option<Vec<IfaceObj>>,
}

impl Driver {
    pub(crate) fn new(uri: String, node: NodeInfo, cells: Vec<Cell>) -> Driver {
        Driver {
            uri,
            node,
            cells,
            next_dom_id: 1,
            domains: Vec::new(),
            networks: Vec::new(),
            pools: Vec::new(),
            ifaces: Vec::new(),
            iface_backup: None,
        }
    }

    /// VIR_NODEINFO_MAXCPUS: every CPU the topology can hold, online or not.
    pub(crate) fn max_cpus(&self) -> u32 {
        // Unsigned arithmetic as in C: absurd node files wrap rather than abort.
        self.node
            .nodes
            .wrapping_mul(self.node.sockets)
            .wrapping_mul(self.node.cores)
            .wrapping_mul(self.node.threads)
    }
}

/// A connection to the test driver. It implements every driver trait of `virtsh_api`.
pub struct TestConnection {
    inner: Arc<Mutex<Driver>>,
}

impl TestConnection {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Driver> {
        // A panic while holding the lock leaves the state as it was at that point; libvirt
        // would keep going too, so a poisoned lock is simply taken over.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for TestConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestConnection")
            .field("uri", &self.lock().uri)
            .finish()
    }
}

/// The state shared by every open `test:///default` connection; it lives as long as one of them.
static DEFAULT: Mutex<Weak<Mutex<Driver>>> = Mutex::new(Weak::new());

/// Open a test-driver connection (`test:///default` or `test:///ABSOLUTE/PATH.xml`).
pub fn open(uri: &Uri) -> Result<TestConnection> {
    let path = uri.path.as_str();
    if path.is_empty() || path == "/" {
        return Err(Error::invalid_arg(
            "testOpen: supply a path or use test:///default",
        ));
    }
    if path == "/default" {
        let mut shared = DEFAULT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = shared.upgrade() {
            return Ok(TestConnection { inner });
        }
        let inner = Arc::new(Mutex::new(defaults::build()?));
        *shared = Arc::downgrade(&inner);
        return Ok(TestConnection { inner });
    }
    let driver = nodefile::load(path)?;
    Ok(TestConnection {
        inner: Arc::new(Mutex::new(driver)),
    })
}

/// A fresh default node that shares nothing with other connections (for tests and embedding).
pub fn open_default_private() -> Result<TestConnection> {
    Ok(TestConnection {
        inner: Arc::new(Mutex::new(defaults::build()?)),
    })
}

/// libvirt's `virCheckFlags`: unknown bits are refused, naming the driver function.
pub(crate) use virtsh_api::flags::check as check_flags;

/// Microseconds since the epoch (`g_get_real_time`), the base of the test driver's fake counters.
pub(crate) fn real_time_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

impl virtsh_api::SecretDriver for TestConnection {}

#[cfg(test)]
mod tests;
