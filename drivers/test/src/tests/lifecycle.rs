//! The lifecycle state machine: ids, states and reasons, transient and persistent domains.

use super::*;
use virtsh_api::flags::{list_domains as lf, undefine};

const RUNNING: i32 = 1;
const PAUSED: i32 = 3;
const SHUTOFF: i32 = 5;

#[test]
fn default_domain_runs_with_id_1_and_unknown_reason() {
    let c = conn();
    let d = test_dom(&c);
    assert_eq!(d.id, 1);
    assert_eq!(state(&c, &d), (RUNNING, 0));
    assert!(c.domain_is_persistent(&d).unwrap());
    assert!(c.domain_is_active(&d).unwrap());
    assert!(!c.domain_autostart(&d).unwrap());
    assert!(!c.domain_has_managed_save(&d).unwrap());
    assert_eq!(c.domain_os_type(&d).unwrap(), "linux");
    let info = c.domain_info(&d).unwrap();
    assert_eq!(
        (info.max_mem_kib, info.memory_kib, info.nr_virt_cpu),
        (8388608, 2097152, 2)
    );
}

#[test]
fn define_start_suspend_resume_shutdown() {
    let c = conn();
    let d = define_d1(&c);
    assert_eq!(d.id, -1);
    assert_eq!(state(&c, &d), (SHUTOFF, 0));
    let d = c.start_domain(&d, 0).unwrap();
    assert_eq!(d.id, 2);
    assert_eq!(state(&c, &d), (RUNNING, 1)); // running (booted)
    c.suspend_domain(&d).unwrap();
    assert_eq!(state(&c, &d), (PAUSED, 1)); // paused (user)
    c.resume_domain(&d).unwrap();
    assert_eq!(state(&c, &d), (RUNNING, 5)); // running (unpaused)
    c.shutdown_domain(&d, 0).unwrap();
    assert_eq!(state(&c, &d), (SHUTOFF, 1)); // shut off (shutdown)
    let d = c.start_domain(&d, 0).unwrap();
    assert_eq!(d.id, 3, "ids are never reused");
    c.destroy_domain(&d, 0).unwrap();
    assert_eq!(state(&c, &d), (SHUTOFF, 2)); // shut off (destroyed)
    assert_eq!(c.lookup_domain_by_name("d1").unwrap().id, -1);
}

#[test]
fn lifecycle_errors_use_libvirt_wording() {
    let c = conn();
    let d = define_d1(&c);
    let t = test_dom(&c);
    assert_eq!(
        err(c.suspend_domain(&d)),
        "internal error: domain 'd1' not running"
    );
    assert_eq!(
        err(c.resume_domain(&d)),
        "internal error: domain 'd1' not paused"
    );
    assert_eq!(
        err(c.resume_domain(&t)),
        "internal error: domain 'test' not paused"
    );
    assert_eq!(
        err(c.shutdown_domain(&d, 0)),
        "internal error: domain 'd1' not running"
    );
    let not_running = "Requested operation is not valid: domain is not running";
    assert_eq!(err(c.reboot_domain(&d, 0)), not_running);
    assert_eq!(err(c.reset_domain(&d)), not_running);
    assert_eq!(err(c.destroy_domain(&d, 0)), not_running);
    assert_eq!(
        err(c.start_domain(&t, 0)),
        "internal error: Domain 'test' is already running"
    );
    c.suspend_domain(&t).unwrap();
    assert_eq!(
        err(c.suspend_domain(&t)),
        "internal error: domain 'test' not running"
    );
    assert_eq!(
        err(c.shutdown_domain(&t, 1)),
        "unsupported flags (0x1) in function testDomainShutdownFlags"
    );
    assert_eq!(
        err(c.start_domain(&d, 1)),
        "unsupported flags (0x1) in function testDomainCreateWithFlags"
    );
}

#[test]
fn create_is_transient_and_destroy_removes_it() {
    let c = conn();
    let d = c.create_domain(D1_XML, 0).unwrap();
    assert_eq!(d.id, 2);
    assert_eq!(state(&c, &d), (RUNNING, 1));
    assert!(!c.domain_is_persistent(&d).unwrap());
    c.destroy_domain(&d, 0).unwrap();
    assert_eq!(err(c.lookup_domain_by_name("d1")), "Domain not found");
    assert_eq!(
        err(c.domain_state(&d)),
        format!(
            "Domain not found: no domain with matching uuid '{}' (d1)",
            d.uuid.hyphenated()
        )
    );
    // --paused is not supported by the test driver.
    assert_eq!(
        err(c.create_domain(D1_XML, 1)),
        "unsupported flags (0x1) in function testDomainCreateXML"
    );
}

#[test]
fn shutdown_of_transient_removes_it() {
    let c = conn();
    let d = c.create_domain(D1_XML, 0).unwrap();
    c.shutdown_domain(&d, 0).unwrap();
    assert!(c.lookup_domain_by_name("d1").is_err());
}

#[test]
fn reboot_restarts_in_place() {
    let c = conn();
    let t = test_dom(&c);
    c.reboot_domain(&t, 0).unwrap();
    assert_eq!(state(&c, &t), (RUNNING, 1));
    assert_eq!(c.lookup_domain_by_name("test").unwrap().id, 1);
    // on_poweroff=restart keeps the guest running.
    let xml = D1_XML.replace("</os>", "</os><on_poweroff>restart</on_poweroff>");
    let d = c.create_domain(&xml, 0).unwrap();
    c.shutdown_domain(&d, 0).unwrap();
    assert_eq!(state(&c, &d), (RUNNING, 1));
}

#[test]
fn define_duplicates() {
    let c = conn();
    define_d1(&c);
    let again = err(c.define_domain(D1_XML, 0));
    assert!(
        again.starts_with("operation failed: domain 'd1' already exists with uuid "),
        "{again}"
    );
    let same_uuid = "<domain type='test'><name>u</name>\
        <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><memory>1024</memory>\
        <os><type>hvm</type></os></domain>";
    assert_eq!(
        err(c.define_domain(same_uuid, 0)),
        "operation failed: domain 'test' is already defined with uuid \
         6695eb01-f6a4-8304-79aa-97f2502e193f"
    );
    let test_again = same_uuid.replace("<name>u</name>", "<name>test</name>");
    assert_eq!(
        err(c.create_domain(&test_again, 0)),
        "Requested operation is not valid: domain 'test' is already active"
    );
}

#[test]
fn define_over_running_updates_only_the_config() {
    let c = conn();
    let t = test_dom(&c);
    let inactive = c.domain_xml(&t, 2).unwrap();
    let changed = inactive.replace("2097152", "1000000");
    let t2 = c.define_domain(&changed, 0).unwrap();
    assert_eq!(t2.id, 1);
    assert_eq!(state(&c, &t), (RUNNING, 0));
    assert!(c.domain_xml(&t, 0).unwrap().contains("2097152"));
    assert!(c.domain_xml(&t, 2).unwrap().contains("1000000"));
    c.destroy_domain(&t, 0).unwrap();
    assert!(c.domain_xml(&t, 0).unwrap().contains("1000000"));
}

#[test]
fn undefine_running_makes_it_transient() {
    let c = conn();
    let t = test_dom(&c);
    c.undefine_domain(&t, 0).unwrap();
    assert!(!c.domain_is_persistent(&t).unwrap());
    assert_eq!(state(&c, &t), (RUNNING, 0));
    c.destroy_domain(&t, 0).unwrap();
    assert!(c.list_all_domains(0).unwrap().is_empty());
}

#[test]
fn managed_save_cycle() {
    let c = conn();
    let d = c.start_domain(&define_d1(&c), 0).unwrap();
    c.managed_save(&d, 0).unwrap();
    assert_eq!(state(&c, &d), (SHUTOFF, 5)); // shut off (saved)
    assert!(c.domain_has_managed_save(&d).unwrap());
    let names = |f| -> Vec<String> {
        c.list_all_domains(f)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect()
    };
    assert_eq!(names(lf::MANAGEDSAVE), vec!["d1"]);
    assert_eq!(names(lf::NO_MANAGEDSAVE), vec!["test"]);
    assert_eq!(
        err(c.undefine_domain(&d, 0)),
        "Requested operation is not valid: Refusing to undefine while domain managed save \
         image exists"
    );
    // Starting consumes the image.
    let d = c.start_domain(&d, 0).unwrap();
    assert_eq!(state(&c, &d), (RUNNING, 1));
    assert!(!c.domain_has_managed_save(&d).unwrap());
    c.managed_save(&d, 0).unwrap();
    c.managed_save_remove(&d, 0).unwrap();
    assert!(!c.domain_has_managed_save(&d).unwrap());
    c.managed_save(&test_dom(&c), 0).unwrap();
    c.start_domain(&d, 0).unwrap();
    c.managed_save(&d, 0).unwrap();
    c.undefine_domain(&d, undefine::MANAGED_SAVE).unwrap();
    assert!(c.lookup_domain_by_name("d1").is_err());
    let tr = c.create_domain(&D1_XML.replace("d1", "tr"), 0).unwrap();
    assert_eq!(
        err(c.managed_save(&tr, 0)),
        "Requested operation is not valid: cannot do managed save for transient domain"
    );
}

#[test]
fn autostart_and_rename() {
    let c = conn();
    let d = define_d1(&c);
    c.set_domain_autostart(&d, true).unwrap();
    assert!(c.domain_autostart(&d).unwrap());
    let t = test_dom(&c);
    assert_eq!(
        err(c.rename_domain(&t, "foo")),
        "Requested operation is not valid: cannot rename active domain"
    );
    assert_eq!(
        err(c.rename_domain(&d, "test")),
        "Requested operation is not valid: domain with name 'test' already exists"
    );
    assert_eq!(
        err(c.rename_domain(&d, "a/b")),
        "XML error: name a/b cannot contain '/'"
    );
    let d2 = c.rename_domain(&d, "d2").unwrap();
    assert_eq!((d2.name.as_str(), d2.uuid), ("d2", d.uuid));
    assert!(c.domain_xml(&d2, 0).unwrap().contains("<name>d2</name>"));
    assert!(c.domain_autostart(&d2).unwrap());
}

#[test]
fn interfaces_get_test_names() {
    let c = conn();
    let xml = D1_XML.replace(
        "</os>",
        "</os><devices><interface type='bridge'><source bridge='br0'/></interface>\
         <interface type='network'><source network='default'/><target dev='testnet0'/>\
         </interface></devices>",
    );
    let d = c.define_domain(&xml, 0).unwrap();
    let x = c.domain_xml(&d, 0).unwrap();
    assert!(x.contains("<target dev='testnet1'/>"), "{x}");
    assert!(x.contains("<mac address='52:54:00:"), "{x}");
}

#[test]
fn create_over_a_defined_domain_runs_the_new_definition() {
    let c = conn();
    let with_uuid = |mem: u32| {
        format!(
            "<domain type='test'><name>w</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\
             <memory>524288</memory><currentMemory>{mem}</currentMemory>\
             <os><type>hvm</type></os></domain>"
        )
    };
    c.define_domain(&with_uuid(262144), 0).unwrap();
    let w = c.create_domain(&with_uuid(131072), 0).unwrap();
    assert_eq!(w.id, 2);
    assert!(c.domain_is_persistent(&w).unwrap());
    assert_eq!(c.domain_info(&w).unwrap().memory_kib, 131072);
    assert!(c.domain_xml(&w, 2).unwrap().contains("262144"));
    c.destroy_domain(&w, 0).unwrap();
    assert_eq!(c.domain_info(&w).unwrap().memory_kib, 262144);
}
