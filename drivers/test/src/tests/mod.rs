//! Unit tests of the test driver. Expected values and messages are libvirt 9.0's, as observed
//! with `virsh -c test:///default` (golden documents under `tests/data/golden`).

mod golden;
mod lifecycle;
mod lookup;
mod network;
mod nodefile;
mod snapshots;
mod storage;
mod tuneparams;
mod tuning;

use crate::{open_default_private, TestConnection};
use virtsh_api::{Domain, DomainDriver, Result};

/// A private `test:///default` connection (tests run in parallel; they must not share state).
pub(crate) fn conn() -> TestConnection {
    open_default_private().expect("default node")
}

/// The message of an error, panicking on success.
pub(crate) fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.message,
    }
}

pub(crate) fn data_path(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn golden(name: &str) -> String {
    let path = data_path(&format!("golden/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The domain `test` of the default node.
pub(crate) fn test_dom(c: &TestConnection) -> Domain {
    c.lookup_domain_by_name("test").expect("domain test")
}

/// A small persistent, inactive domain.
pub(crate) const D1_XML: &str = "<domain type='test'>
  <name>d1</name>
  <memory>1048576</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>";

pub(crate) fn define_d1(c: &TestConnection) -> Domain {
    c.define_domain(D1_XML, 0).expect("define d1")
}

/// (state, reason) of a domain.
pub(crate) fn state(c: &TestConnection, d: &Domain) -> (i32, i32) {
    c.domain_state(d).expect("state")
}
