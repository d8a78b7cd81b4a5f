//! The guest's screen and keyboard: `screenshot` and `send-key` through QMP, as libvirt 9.0's
//! qemuDomainScreenshot and qemuDomainSendKey do them.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};
use virtsh_api::{Domain, Error, ErrorKind, Result, Screenshot};

use super::QemuDriver;

/// virKeycodeSet, the `codeset` argument of virDomainSendKey.
mod codeset {
    pub const LINUX: u32 = 0;
    pub const XT: u32 = 1;
    pub const ATSET1: u32 = 2;
    pub const XT_KBD: u32 = 6;
    pub const QNUM: u32 = 9;
    pub const NAMES: [&str; 10] = [
        "linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum",
    ];
}

/// VIR_DOMAIN_SEND_KEY_MAX_KEYS
const MAX_KEYS: usize = 16;

/// Linux input keycodes (KEY_*) 0..=127 to QEMU's "qnum" numbers (XT scancodes, with 0x80 set
/// for the 0xe0-prefixed ones), from the Linux and QNUM columns of libvirt's keymaps.csv.
/// Zero: no such key in QEMU.
#[rustfmt::skip]
const LINUX_TO_QNUM: [u16; 128] = [
    // 0..=83: the XT set-1 scancode equals the Linux code (Esc..KP.).
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
    0x50, 0x51, 0x52, 0x53,
    // 84 (none), ZENKAKUHANKAKU, 102ND, F11, F12, RO, KATAKANA, HIRAGANA, HENKAN,
    // KATAKANAHIRAGANA, MUHENKAN, KPJPCOMMA
    0x00, 0x76, 0x56, 0x57, 0x58, 0x73, 0x78, 0x77, 0x79, 0x70, 0x7b, 0x5c,
    // 96: KPENTER, RIGHTCTRL, KPSLASH, SYSRQ, RIGHTALT, LINEFEED (none), HOME, UP
    0x9c, 0x9d, 0xb5, 0x54, 0xb8, 0x00, 0xc7, 0xc8,
    // 104: PAGEUP, LEFT, RIGHT, END, DOWN, PAGEDOWN, INSERT, DELETE
    0xc9, 0xcb, 0xcd, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3,
    // 112: MACRO, MUTE, VOLUMEDOWN, VOLUMEUP, POWER, KPEQUAL, KPPLUSMINUS, PAUSE
    0xef, 0xa0, 0xae, 0xb0, 0xde, 0x59, 0xce, 0xc6,
    // 120: SCALE, KPCOMMA, HANGEUL, HANJA, YEN, LEFTMETA, RIGHTMETA, COMPOSE
    0x8b, 0x7e, 0xf2, 0xf1, 0x7d, 0xdb, 0xdc, 0xdd,
];

/// Linux keycodes above 127 that QEMU has (media and browser keys).
const LINUX_TO_QNUM_HIGH: &[(u32, u16)] = &[
    (128, 0xe8), // STOP
    (140, 0xa1), // CALC
    (142, 0xdf), // SLEEP
    (143, 0xe3), // WAKEUP
    (155, 0xec), // MAIL
    (156, 0xe6), // BOOKMARKS
    (157, 0xeb), // COMPUTER
    (158, 0xea), // BACK
    (159, 0xe9), // FORWARD
    (163, 0x99), // NEXTSONG
    (164, 0xa2), // PLAYPAUSE
    (165, 0x90), // PREVIOUSSONG
    (166, 0xa4), // STOPCD
    (172, 0xb2), // HOMEPAGE
    (173, 0xe7), // REFRESH
    (183, 0x5d), // F13
    (184, 0x5e), // F14
    (185, 0x5f), // F15
    (217, 0xe5), // SEARCH
];

/// virKeycodeValueTranslate(codeset, QNUM, key), for the codesets virtsh has tables for.
fn to_qnum(set: u32, key: u32) -> Option<u32> {
    let q = match set {
        codeset::QNUM => return Some(key),
        codeset::LINUX => match usize::try_from(key).ok().and_then(|k| LINUX_TO_QNUM.get(k)) {
            Some(q) => u32::from(*q),
            None => LINUX_TO_QNUM_HIGH
                .iter()
                .find(|(l, _)| *l == key)
                .map_or(0, |(_, q)| u32::from(*q)),
        },
        // XT and the XT keyboard driver's codes are the plain (not 0xe0-prefixed) set-1
        // scancodes, which qnum keeps as they are.
        codeset::XT | codeset::XT_KBD if key < 0x80 => key,
        // Set 1: 0xe0-prefixed codes are 0xe0XX; qnum folds them to 0x80 | XX.
        codeset::ATSET1 if key < 0x80 => key,
        codeset::ATSET1 if key & 0xff00 == 0xe000 && key & 0x80 == 0 => 0x80 | (key & 0x7f),
        _ => 0,
    };
    (q != 0).then_some(q)
}

pub(super) fn screenshot(
    drv: &QemuDriver,
    dom: &Domain,
    screen: u32,
    flags: u32,
) -> Result<Screenshot> {
    virtsh_api::flags::check(flags, 0, "qemuDomainScreenshot")?;
    let v = drv.view_of(dom)?;
    v.check_active()?;
    if v.def.devices.videos.is_empty() {
        return Err(Error::new(
            ErrorKind::OperationFailed,
            "no screens to take screenshot from",
        ));
    }
    let mut args = serde_json::Map::new();
    if screen > 0 {
        // Screen N is head N of the video devices in order (each has `heads`, default 1).
        let mut left = screen;
        let mut alias = None;
        for (i, video) in v.def.devices.videos.iter().enumerate() {
            let heads = video
                .child("model")
                .and_then(|m| m.attr("heads"))
                .and_then(|h| h.parse::<u32>().ok())
                .unwrap_or(1);
            if left < heads {
                alias = Some(
                    video
                        .child("alias")
                        .and_then(|a| a.attr("name"))
                        .map_or_else(|| format!("video{i}"), str::to_string),
                );
                break;
            }
            left -= heads;
        }
        let Some(alias) = alias else {
            return Err(Error::new(ErrorKind::InvalidArg, "no such screen ID"));
        };
        args.insert("device".into(), json!(alias));
        args.insert("head".into(), json!(left));
    }
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = drv.runtime(&v.def.name).socket_dir();
    let file = dir.join(format!(
        "qemu.screendump.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    args.insert("filename".into(), json!(file.to_string_lossy()));

    // qemuDomainScreenshot: PNG when QEMU's screendump takes a format (7.1 and later), else
    // the PPM that every QEMU writes. A QEMU built without libpng refuses "png": fall back.
    let caps = drv.caps_of(std::path::Path::new(
        v.def
            .devices
            .emulator
            .as_deref()
            .unwrap_or("/usr/bin/qemu-system-x86_64"),
    ));
    let png_capable = caps.is_ok_and(|c| (c.version.major, c.version.minor) >= (7, 1));
    let result = (|| {
        if png_capable {
            let mut png = args.clone();
            png.insert("format".into(), json!("png"));
            match drv.qmp(dom, "screendump", Value::Object(png)) {
                Ok(_) => return Ok("image/png"),
                Err(e) if e.to_string().contains("png") || e.to_string().contains("format") => {}
                Err(e) => return Err(e),
            }
        }
        drv.qmp(dom, "screendump", Value::Object(args.clone()))
            .map(|_| "image/x-portable-pixmap")
    })();
    let data = result.and_then(|mime| {
        std::fs::read(&file).map(|data| (mime, data)).map_err(|e| {
            Error::new(
                ErrorKind::SystemError,
                format!("unable to open {}: {e}", file.display()),
            )
        })
    });
    let _ = std::fs::remove_file(&file);
    let (mime, data) = data?;
    Ok(Screenshot {
        mime: mime.to_string(),
        data,
    })
}

pub(super) fn send_key(
    drv: &QemuDriver,
    dom: &Domain,
    codeset: u32,
    holdtime: u32,
    keycodes: &[u32],
    flags: u32,
) -> Result<()> {
    virtsh_api::flags::check(flags, 0, "qemuDomainSendKey")?;
    if keycodes.is_empty() || keycodes.len() > MAX_KEYS {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("nkeycodes must be in range [1, {MAX_KEYS}]"),
        ));
    }
    let set_name = codeset::NAMES
        .get(codeset as usize)
        .copied()
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArg,
                format!("unsupported codeset: {codeset}"),
            )
        })?;
    let mut keys = Vec::with_capacity(keycodes.len());
    for &k in keycodes {
        let q = to_qnum(codeset, k).ok_or_else(|| {
            Error::internal(format!(
                "cannot translate keycode {k} of {set_name} codeset to qnum keycode"
            ))
        })?;
        keys.push(json!({"type": "number", "data": q}));
    }
    let v = drv.view_of(dom)?;
    v.check_active()?;
    let mut args = json!({ "keys": keys });
    if holdtime > 0 {
        args["hold-time"] = json!(holdtime);
    }
    drv.qmp(dom, "send-key", args)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_to_qnum() {
        assert_eq!(to_qnum(codeset::LINUX, 30), Some(0x1e)); // KEY_A
        assert_eq!(to_qnum(codeset::LINUX, 28), Some(0x1c)); // KEY_ENTER
        assert_eq!(to_qnum(codeset::LINUX, 103), Some(0xc8)); // KEY_UP
        assert_eq!(to_qnum(codeset::LINUX, 125), Some(0xdb)); // KEY_LEFTMETA
        assert_eq!(to_qnum(codeset::LINUX, 84), None);
        assert_eq!(to_qnum(codeset::QNUM, 0x1e), Some(0x1e));
        assert_eq!(to_qnum(codeset::ATSET1, 0xe048), Some(0xc8));
        assert_eq!(to_qnum(7, 4), None); // usb: no table
    }
}
