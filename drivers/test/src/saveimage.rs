//! Save images and core dumps (testDomainSaveFlags, testDomainRestoreFlags,
//! testDomainSaveImageGetXMLDesc, testDomainSaveImageDefineXML, testDomainCoreDumpWithFormat).
//!
//! Like libvirt's test driver, this one really writes files: a save image is the magic
//! `TestGuestMagic\0`, the XML's length as a native `int`, then the domain XML; a core dump is
//! the magic alone. Images written by libvirt's test driver restore here and the other way
//! round. Where libvirt's public API layer (`libvirt-domain.c`) checks arguments before the
//! driver sees them (mutually exclusive flags, the dump format), the same checks come first.
//! Paths arrive absolute: the caller makes them so, as the public API does.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;

use virtsh_api::flags::{dump, dump_format, save};
use virtsh_api::{Domain, Error, ErrorKind, Result};
use virtsh_xml::domain::{DomainDef, FormatOptions};

use crate::domstate::{exclusive_flags, reason};
use crate::{check_flags, xmlconv, Driver};

/// TEST_SAVE_MAGIC with its terminating NUL: libvirt writes and compares `sizeof`, 15 bytes.
const MAGIC: &[u8; 15] = b"TestGuestMagic\0";
/// The largest XML testDomainSaveImageOpen accepts.
const MAX_XML: i32 = 8192;
/// VIR_DOMAIN_SAVE_IMAGE_XML_SECURE
const IMAGE_XML_SECURE: u32 = 1 << 0;

/// virReportSystemError: "MESSAGE: strerror(errno)", with no prefix.
fn sys_error(what: String, e: &std::io::Error) -> Error {
    Error::raw(
        ErrorKind::SystemError,
        format!("{what}: {}", virtsh_api::strerror(e)),
    )
}

/// What saferead's short count leaves in errno at the end of a file: nothing was set, and
/// libvirt prints strerror(0).
fn short_read(what: String) -> Error {
    Error::raw(ErrorKind::SystemError, format!("{what}: Success"))
}

/// saferead: as many bytes as the file has, up to `buf.len()`; a read error (EISDIR on a
/// directory, EIO) is the error.
fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Read exactly `buf.len()` bytes, or the error `what` names (a short count or the OS error).
fn read_exact_as(f: &mut File, buf: &mut [u8], what: impl Fn() -> String) -> Result<()> {
    match read_full(f, buf) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => Err(short_read(what())),
        Err(e) => Err(sys_error(what(), &e)),
    }
}

/// testDomainSaveImageOpen: the definition stored in the image at `path`.
fn read_image(path: &str) -> Result<DomainDef> {
    let mut f = File::open(path)
        .map_err(|e| sys_error(format!("cannot read domain image '{path}'"), &e))?;
    let mut magic = [0u8; 15];
    read_exact_as(&mut f, &mut magic, || {
        format!("incomplete save header in '{path}'")
    })?;
    if &magic != MAGIC {
        return Err(Error::internal("mismatched header magic"));
    }
    let mut len = [0u8; 4];
    read_exact_as(&mut f, &mut len, || {
        format!("failed to read metadata length in '{path}'")
    })?;
    // A C `int` in the writer's byte order: images only ever travel within one host.
    let len = i32::from_ne_bytes(len);
    if !(1..=MAX_XML).contains(&len) {
        return Err(Error::internal("length of metadata out of range"));
    }
    let mut xml = vec![0u8; len as usize];
    read_exact_as(&mut f, &mut xml, || {
        format!("incomplete metadata in '{path}'")
    })?;
    // libvirt stops at the first NUL (a C string); invalid UTF-8 is an XML error there, and
    // lossy text makes one here too.
    let end = xml.iter().position(|&b| b == 0).unwrap_or(xml.len());
    let text = String::from_utf8_lossy(&xml[..end]).into_owned();
    DomainDef::parse(&text).map_err(|e| xmlconv::xml_error(&e, "domain_definition", &text))
}

/// The XML an image stores and save-image-dumpxml shows: virDomainDefFormat with
/// VIR_DOMAIN_DEF_FORMAT_SECURE, the live layout (with the id of a running domain).
fn image_xml(def: &DomainDef, id: Option<i32>) -> String {
    def.to_xml(&FormatOptions {
        inactive: false,
        id,
        secure: true,
    })
}

/// testDomainSaveImageWrite. On any failure the file is removed again, as libvirt does.
fn write_image(path: &str, name: &str, xml: &str) -> Result<()> {
    let result = write_image_file(path, name, xml);
    if result.is_err() {
        // libvirt unlinks whatever it may have created and keeps the first error.
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_image_file(path: &str, name: &str, xml: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            sys_error(
                format!("saving domain '{name}' to '{path}': open failed"),
                &e,
            )
        })?;
    let write_err = |e: std::io::Error| {
        sys_error(
            format!("saving domain '{name}' to '{path}': write failed"),
            &e,
        )
    };
    // strlen() into an int: XML beyond 2 GiB cannot occur, saturating keeps it total.
    let len = i32::try_from(xml.len()).unwrap_or(i32::MAX);
    f.write_all(MAGIC).map_err(write_err)?;
    f.write_all(&len.to_ne_bytes()).map_err(write_err)?;
    f.write_all(xml.as_bytes()).map_err(write_err)
    // libvirt's VIR_CLOSE error is not reproduced: Rust's File reports none at drop, and an
    // fsync to get one would make every save wait for the disk, which libvirt's does not.
}

impl Driver {
    /// testDomainSaveFlags (with the public API's exclusive-flags check first).
    pub(crate) fn save_domain(
        &mut self,
        dom: &Domain,
        path: &str,
        dxml: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        check_running_paused(flags)?;
        check_flags(flags, 0, "testDomainSaveFlags")?;
        if dxml.is_some() {
            return Err(xml_unsupported());
        }
        let idx = self.dom_index(dom)?;
        let obj = &self.domains[idx];
        obj.check_active()?;
        write_image(path, obj.name(), &image_xml(&obj.def, Some(obj.id)))?;
        self.domains[idx].shutdown_state(reason::SHUTOFF_SAVED);
        self.remove_if_transient(idx);
        Ok(())
    }

    /// testDomainRestoreFlags: the image's domain runs again, with a fresh id.
    pub(crate) fn restore_domain(
        &mut self,
        path: &str,
        dxml: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        check_running_paused(flags)?;
        check_flags(flags, 0, "testDomainRestoreFlags")?;
        if dxml.is_some() {
            return Err(xml_unsupported());
        }
        let mut def = read_image(path)?;
        // testDomainGenerateIfnames
        def.assign_test_ifnames();
        let (idx, _) = self.add_domain(def, true)?;
        self.start_state(idx, reason::RUNNING_RESTORED);
        Ok(())
    }

    /// testDomainCoreDumpWithFormat: a file with the magic alone. The public API's checks of
    /// the format and of exclusive flags come first.
    pub(crate) fn core_dump(
        &mut self,
        dom: &Domain,
        path: &str,
        format: u32,
        flags: u32,
    ) -> Result<()> {
        if format as usize >= dump_format::NAMES.len() {
            return Err(Error::invalid_arg(format!(
                "dumpformat '{format}' is not supported"
            )));
        }
        for (a, an, b, bn) in [
            (dump::CRASH, "VIR_DUMP_CRASH", dump::LIVE, "VIR_DUMP_LIVE"),
            (dump::CRASH, "VIR_DUMP_CRASH", dump::RESET, "VIR_DUMP_RESET"),
            (dump::LIVE, "VIR_DUMP_LIVE", dump::RESET, "VIR_DUMP_RESET"),
        ] {
            if flags & a != 0 && flags & b != 0 {
                return Err(exclusive_flags(an, bn));
            }
        }
        check_flags(flags, dump::CRASH, "testDomainCoreDumpWithFormat")?;
        let idx = self.dom_index(dom)?;
        self.domains[idx].check_active()?;
        let name = &dom.name;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                sys_error(
                    format!("domain '{name}' coredump: failed to open {path}"),
                    &e,
                )
            })?;
        f.write_all(MAGIC).map_err(|e| {
            sys_error(
                format!("domain '{name}' coredump: failed to write header to {path}"),
                &e,
            )
        })?;
        // The file is closed here; see write_image_file for libvirt's close error.
        drop(f);
        // libvirt checks the format only after writing the file, which it leaves behind.
        if format != dump_format::RAW {
            return Err(Error::new(
                ErrorKind::OperationUnsupported,
                "kdump-compressed format is not supported here",
            ));
        }
        if flags & dump::CRASH != 0 {
            self.domains[idx].shutdown_state(reason::SHUTOFF_CRASHED);
            self.remove_if_transient(idx);
        }
        Ok(())
    }

    /// testDomainSaveImageGetXMLDesc: always the secure XML, whatever the flag says.
    pub(crate) fn save_image_xml(&self, path: &str, flags: u32) -> Result<String> {
        check_flags(flags, IMAGE_XML_SECURE, "testDomainSaveImageGetXMLDesc")?;
        Ok(image_xml(&read_image(path)?, None))
    }

    /// testDomainSaveImageDefineXML: the image must be one; the new definition replaces its
    /// XML whatever domain it describes (libvirt compares neither name nor UUID).
    pub(crate) fn save_image_define(&self, path: &str, dxml: &str, flags: u32) -> Result<()> {
        check_running_paused(flags)?;
        check_flags(
            flags,
            save::RUNNING | save::PAUSED,
            "testDomainSaveImageDefineXML",
        )?;
        read_image(path)?;
        let def = DomainDef::parse(dxml)
            .map_err(|e| xmlconv::xml_error(&e, "domain_definition", dxml))?;
        write_image(path, &def.name, &image_xml(&def, None))
    }
}

/// VIR_EXCLUSIVE_FLAGS_GOTO(VIR_DOMAIN_SAVE_RUNNING, VIR_DOMAIN_SAVE_PAUSED)
fn check_running_paused(flags: u32) -> Result<()> {
    if flags & save::RUNNING != 0 && flags & save::PAUSED != 0 {
        return Err(exclusive_flags(
            "VIR_DOMAIN_SAVE_RUNNING",
            "VIR_DOMAIN_SAVE_PAUSED",
        ));
    }
    Ok(())
}

fn xml_unsupported() -> Error {
    Error::new(
        ErrorKind::ArgumentUnsupported,
        "xml modification unsupported",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domstate::st;

    /// A folder of the test's own, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("virtsh-test-save-{}-{tag}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("scratch folder");
            Scratch(dir)
        }

        fn path(&self, name: &str) -> String {
            self.0.join(name).to_string_lossy().into_owned()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn image_layout_is_libvirts() {
        let dir = Scratch::new("layout");
        let path = dir.path("layout.img");
        write_image(&path, "d", "<domain/>").expect("written");
        let bytes = std::fs::read(&path).expect("read back");
        assert_eq!(&bytes[..15], MAGIC);
        assert_eq!(
            i32::from_ne_bytes([bytes[15], bytes[16], bytes[17], bytes[18]]),
            9
        );
        assert_eq!(&bytes[19..], b"<domain/>");
    }

    #[test]
    fn bad_images_are_reported_as_libvirt_does() {
        let dir = Scratch::new("bad");
        let short = dir.path("short.img");
        std::fs::write(&short, b"hello").expect("write");
        let e = read_image(&short).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some(format!("incomplete save header in '{short}': Success").as_str())
        );
        let magic = dir.path("magic.img");
        std::fs::write(&magic, [7u8; 40]).expect("write");
        let e = read_image(&magic).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("internal error: mismatched header magic")
        );
        let big = dir.path("big.img");
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&9000i32.to_ne_bytes());
        std::fs::write(&big, b).expect("write");
        let e = read_image(&big).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("internal error: length of metadata out of range")
        );
    }

    #[test]
    fn save_then_restore_runs_the_domain_again() {
        let dir = Scratch::new("cycle");
        let img = dir.path("test.img");
        let mut drv = crate::defaults::build().expect("default node");
        let dom = drv.domains[0].handle();
        drv.save_domain(&dom, &img, None, 0).expect("saved");
        let obj = drv.dom_ref(&dom).expect("still defined");
        assert_eq!(
            (obj.state, obj.reason, obj.id),
            (st::SHUTOFF, reason::SHUTOFF_SAVED, -1)
        );
        let stored = drv.save_image_xml(&img, 0).expect("image XML");
        assert!(stored.starts_with("<domain type='test'>\n  <name>test</name>"));
        let again = drv
            .save_domain(&dom, &img, None, 0)
            .err()
            .map(|e| e.message);
        assert_eq!(
            again.as_deref(),
            Some("Requested operation is not valid: domain is not running")
        );
        drv.restore_domain(&img, None, 0).expect("restored");
        let obj = drv.dom_ref(&dom).expect("defined");
        assert_eq!(
            (obj.state, obj.reason, obj.id),
            (st::RUNNING, reason::RUNNING_RESTORED, 2)
        );
        let twice = drv.restore_domain(&img, None, 0).err().map(|e| e.message);
        assert_eq!(
            twice.as_deref(),
            Some("Requested operation is not valid: domain 'test' is already active")
        );
    }
}
