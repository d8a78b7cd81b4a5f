//! The guest's display and keyboard, and two host conversions: screenshot, send-key,
//! domdisplay, vncdisplay (tools/virsh-domain.c), cpu-models (tools/virsh-host.c) and
//! domxml-to-native (tools/virsh-domain.c).

use std::io::Write as _;

use serde::Serialize;
use virtsh_api::flags;
use virtsh_xml::xpath::{Document, Value};

use crate::commands::lifecycle::read_file;
use crate::commands::options::{exclusive, opt_str, req_str};
use crate::lookup;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};

/// vshCommandOptUInt: an optional unsigned option (base 10, no sign).
fn opt_uint(cmd: &ParsedCmd, name: &str) -> Result<Option<u32>, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(None);
    };
    let t = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = t.strip_prefix('+').unwrap_or(t);
    match (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse::<u32>().ok())
        .flatten()
    {
        Some(v) => Ok(Some(v)),
        None => Err(CmdError::msg(format!(
            "Numeric value '{text}' for <{name}> option is malformed or out of range"
        ))),
    }
}

/// virshGenFileName: `DOMAIN-YYYY-MM-DD-HH:MM:SS` in local time, with the MIME type's
/// extension.
fn gen_file_name(domain: &str, mime: &str) -> String {
    let ext = match mime {
        "image/x-portable-pixmap" => ".ppm",
        "image/png" => ".png",
        _ => "",
    };
    let stamp = chrono::Local::now().format("%Y-%m-%d-%H:%M:%S");
    format!("{domain}-{stamp}{ext}")
}

#[derive(Serialize)]
struct ScreenshotJson {
    file: String,
    mime: String,
    bytes: usize,
}

/// `screenshot DOMAIN [--file F] [--screen N]`. JSON: `{"file", "mime", "bytes"}`.
pub fn cmd_screenshot(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let file = opt_str(cmd, "file")?.map(str::to_string);
    let screen = opt_uint(cmd, "screen")?.unwrap_or(0);
    let dom = lookup::domain(sh, cmd)?;
    let shot = sh
        .conn()?
        .domain_screenshot(&dom, screen, 0)
        .map_err(|e| CmdError::with(format!("could not take a screenshot of {}", dom.name), e))?;
    let file = file.unwrap_or_else(|| gen_file_name(&dom.name, &shot.mime));
    // virsh: create the file, or truncate one that exists.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&file)
        .map_err(|_| CmdError::msg(format!("cannot create file {file}")))?;
    f.write_all(&shot.data)
        .map_err(|_| CmdError::msg(format!("could not receive data from domain {}", dom.name)))?;
    drop(f);
    if sh.json() {
        return sh.print_json(&ScreenshotJson {
            file,
            mime: shot.mime,
            bytes: shot.data.len(),
        });
    }
    sh.print_extra(&format!(
        "Screenshot saved to {file}, with type of {}",
        shot.mime
    ));
    Ok(())
}

/// virKeycodeSet names, in the enum's order ("rfb" is an old name of qnum).
const CODESETS: [&str; 10] = [
    "linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum",
];

/// VIR_DOMAIN_SEND_KEY_MAX_KEYS
const MAX_KEYS: usize = 16;

/// virshKeyCodeGetInt: a number in C's base-0 notation (0x.., 0.., decimal) up to 0xffff.
fn keycode_number(s: &str) -> Option<u32> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix)
        .ok()
        .filter(|v| *v <= 0xffff)
}

/// `send-key DOMAIN [--codeset C] [--holdtime MS] KEYCODE...`: numbers, or KEY_* names for
/// the linux codeset (virKeycodeValueFromString).
pub fn cmd_send_key(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let dom = lookup::domain(sh, cmd)?;
    let codeset_name = match opt_str(cmd, "codeset")? {
        None => "linux",
        Some("rfb") => "qnum",
        Some(c) => c,
    };
    let holdtime = opt_uint(cmd, "holdtime")?.unwrap_or(0);
    let codeset = CODESETS
        .iter()
        .position(|c| *c == codeset_name)
        .ok_or_else(|| CmdError::msg(format!("unknown codeset: '{codeset_name}'")))?;
    let mut keys = Vec::new();
    for k in cmd.all("keycode") {
        if keys.len() == MAX_KEYS {
            return Err(CmdError::msg("too many keycodes"));
        }
        let code = keycode_number(k).or_else(|| {
            (codeset == 0)
                .then(|| LINUX_KEY_NAMES.iter().find(|(n, _)| *n == k))
                .flatten()
                .map(|(_, v)| u32::from(*v))
        });
        match code {
            Some(c) => keys.push(c),
            None => return Err(CmdError::msg(format!("invalid keycode: '{k}'"))),
        }
    }
    sh.conn()?
        .send_key(&dom, codeset as u32, holdtime, &keys, 0)?;
    Ok(())
}

/// virXPathString: the string value, or None when empty.
fn xpath_string(doc: &Document, expr: &str) -> Option<String> {
    match doc.evaluate(doc.root_element(), expr).value {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// virXPathInt: the value of a `string(...)` as an int, or None (libvirt's non-zero return).
fn xpath_int(doc: &Document, expr: &str) -> Option<i32> {
    xpath_string(doc, expr).and_then(|s| s.parse::<i32>().ok())
}

fn is_wildcard(addr: &str) -> bool {
    match addr.parse::<std::net::IpAddr>() {
        Ok(a) => a.is_unspecified(),
        Err(_) => false,
    }
}

/// The live XML of a running domain, as a document; "Domain is not running" otherwise.
fn running_xml(sh: &mut Shell, cmd: &ParsedCmd, xml_flags: u32) -> Result<Document, CmdError> {
    let dom = lookup::domain(sh, cmd)?;
    if !sh.conn()?.domain_is_active(&dom)? {
        return Err(CmdError::msg("Domain is not running"));
    }
    let xml = sh.conn()?.domain_xml(&dom, xml_flags)?;
    Document::parse(&xml).map_err(|e| CmdError::msg(e.libvirt_message("(null)", &xml)))
}

/// `domdisplay DOMAIN [--type T] [--include-password] [--all]`: the display URIs, built
/// from the live XML as virsh's cmdDomDisplay does. JSON: the list of URIs.
pub fn cmd_domdisplay(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut f = 0;
    if cmd.has("include-password") {
        f |= flags::domain_xml::SECURE;
    }
    let doc = running_xml(sh, cmd, f)?;
    let want = opt_str(cmd, "type")?;
    let all = cmd.has("all");
    let mut uris = Vec::new();
    for scheme in ["vnc", "spice", "rdp", "dbus"] {
        if want.is_some_and(|t| t != scheme) {
            continue;
        }
        let q = |what: &str| format!("string(/domain/devices/graphics[@type='{scheme}']/{what})");
        let port = xpath_int(&doc, &q("@port")).unwrap_or(0);
        let tls_port = xpath_int(&doc, &q("@tlsPort")).unwrap_or(0);
        let mut listen = xpath_string(&doc, &q("@listen"));
        let sockpath = if xpath_string(&doc, &q("listen/@type")).as_deref() == Some("socket") {
            xpath_string(&doc, &q("listen/@socket"))
        } else {
            None
        };
        if port == 0 && tls_port == 0 && sockpath.is_none() {
            continue;
        }
        match &listen {
            None => listen = xpath_string(&doc, &q("listen/@address")),
            Some(a) if is_wildcard(a) => listen = None,
            Some(_) => {}
        }
        let passwd = xpath_string(&doc, &q("@passwd"));
        let mut uri = if sockpath.is_some() {
            format!("{scheme}+unix://")
        } else {
            format!("{scheme}://")
        };
        if scheme == "vnc" {
            if let Some(p) = &passwd {
                uri.push_str(&format!(":{p}@"));
            }
        }
        match (&sockpath, &listen) {
            (Some(s), _) => uri.push_str(s),
            (None, None) => uri.push_str("localhost"),
            (None, Some(a)) if a.contains(':') => uri.push_str(&format!("[{a}]")),
            (None, Some(a)) => uri.push_str(a),
        }
        if port != 0 {
            let p = if scheme == "vnc" { port - 5900 } else { port };
            uri.push_str(&format!(":{p}"));
        }
        if tls_port != 0 {
            uri.push_str(&format!("?tls-port={tls_port}"));
        }
        if scheme == "spice" {
            if let Some(p) = &passwd {
                let sep = if tls_port != 0 { '&' } else { '?' };
                uri.push_str(&format!("{sep}password={p}"));
            }
        }
        uris.push(uri);
        if !all {
            break;
        }
    }
    if sh.json() {
        if uris.is_empty() {
            return Err(no_display(want));
        }
        return sh.print_json(&uris);
    }
    // virsh prints each URI, a newline after each one under --all.
    for u in &uris {
        sh.print(u);
        if all {
            sh.print("\n");
        }
    }
    if uris.is_empty() {
        return Err(no_display(want));
    }
    Ok(())
}

fn no_display(want: Option<&str>) -> CmdError {
    match want {
        Some(t) => CmdError::msg(format!("No graphical display with type '{t}' found")),
        None => CmdError::msg("No graphical display found"),
    }
}

/// `vncdisplay DOMAIN`: `[ADDRESS]:DISPLAY` of the VNC server. JSON: that string.
pub fn cmd_vncdisplay(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let doc = running_xml(sh, cmd, 0)?;
    let port = xpath_int(&doc, "string(/domain/devices/graphics[@type='vnc']/@port)")
        .ok_or_else(|| CmdError::msg("Failed to get VNC port. Is this domain using VNC?"))?;
    let listen = xpath_string(
        &doc,
        "string(/domain/devices/graphics[@type='vnc']/@listen)",
    )
    .or_else(|| {
        xpath_string(
            &doc,
            "string(/domain/devices/graphics[@type='vnc']/listen/@address)",
        )
    });
    let text = match listen.as_deref() {
        None | Some("0.0.0.0") => format!(":{}", port - 5900),
        Some(a) => format!("{a}:{}", port - 5900),
    };
    if sh.json() {
        return sh.print_json(&text);
    }
    sh.print(&format!("{text}\n"));
    Ok(())
}

/// `cpu-models ARCH`: one model per line. JSON: the list.
pub fn cmd_cpu_models(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let arch = req_str(cmd, "arch")?;
    let models = sh
        .conn()?
        .cpu_model_names(arch, 0)
        .map_err(|e| CmdError::with("failed to get CPU model names", e))?;
    if sh.json() {
        return sh.print_json(&models);
    }
    if models.is_empty() {
        sh.print_extra("all CPU models are accepted\n");
    }
    for m in &models {
        sh.print(&format!("{m}\n"));
    }
    Ok(())
}

/// `domxml-to-native FORMAT {--domain D | --xml FILE}`: the native configuration, as the
/// driver writes it.
pub fn cmd_domxml_to_native(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let format = req_str(cmd, "format")?;
    let file = opt_str(cmd, "xml")?;
    exclusive(cmd, "domain", "xml")?;
    let xml = if cmd.has("domain") {
        let dom = lookup::domain(sh, cmd)?;
        sh.conn()?.domain_xml(&dom, 0)?
    } else if let Some(f) = file {
        read_file(f)?
    } else {
        return Err(CmdError::msg("need either domain or domain XML"));
    };
    let native = sh.conn()?.domain_xml_to_native(format, &xml, 0)?;
    if sh.json() {
        return sh.print_json(&native);
    }
    sh.print(&native);
    Ok(())
}

/// The KEY_* names of Linux input keycodes (virkeynametable_linux), from
/// linux/input-event-codes.h.
#[rustfmt::skip]
const LINUX_KEY_NAMES: &[(&str, u16)] = &[
    ("KEY_RESERVED", 0), ("KEY_ESC", 1), ("KEY_1", 2), ("KEY_2", 3), ("KEY_3", 4), ("KEY_4", 5),
    ("KEY_5", 6), ("KEY_6", 7), ("KEY_7", 8), ("KEY_8", 9), ("KEY_9", 10), ("KEY_0", 11),
    ("KEY_MINUS", 12), ("KEY_EQUAL", 13), ("KEY_BACKSPACE", 14), ("KEY_TAB", 15), ("KEY_Q", 16),
    ("KEY_W", 17), ("KEY_E", 18), ("KEY_R", 19), ("KEY_T", 20), ("KEY_Y", 21), ("KEY_U", 22),
    ("KEY_I", 23), ("KEY_O", 24), ("KEY_P", 25), ("KEY_LEFTBRACE", 26), ("KEY_RIGHTBRACE", 27),
    ("KEY_ENTER", 28), ("KEY_LEFTCTRL", 29), ("KEY_A", 30), ("KEY_S", 31), ("KEY_D", 32),
    ("KEY_F", 33), ("KEY_G", 34), ("KEY_H", 35), ("KEY_J", 36), ("KEY_K", 37), ("KEY_L", 38),
    ("KEY_SEMICOLON", 39), ("KEY_APOSTROPHE", 40), ("KEY_GRAVE", 41), ("KEY_LEFTSHIFT", 42),
    ("KEY_BACKSLASH", 43), ("KEY_Z", 44), ("KEY_X", 45), ("KEY_C", 46), ("KEY_V", 47),
    ("KEY_B", 48), ("KEY_N", 49), ("KEY_M", 50), ("KEY_COMMA", 51), ("KEY_DOT", 52),
    ("KEY_SLASH", 53), ("KEY_RIGHTSHIFT", 54), ("KEY_KPASTERISK", 55), ("KEY_LEFTALT", 56),
    ("KEY_SPACE", 57), ("KEY_CAPSLOCK", 58), ("KEY_F1", 59), ("KEY_F2", 60), ("KEY_F3", 61),
    ("KEY_F4", 62), ("KEY_F5", 63), ("KEY_F6", 64), ("KEY_F7", 65), ("KEY_F8", 66), ("KEY_F9", 67),
    ("KEY_F10", 68), ("KEY_NUMLOCK", 69), ("KEY_SCROLLLOCK", 70), ("KEY_KP7", 71), ("KEY_KP8", 72),
    ("KEY_KP9", 73), ("KEY_KPMINUS", 74), ("KEY_KP4", 75), ("KEY_KP5", 76), ("KEY_KP6", 77),
    ("KEY_KPPLUS", 78), ("KEY_KP1", 79), ("KEY_KP2", 80), ("KEY_KP3", 81), ("KEY_KP0", 82),
    ("KEY_KPDOT", 83), ("KEY_ZENKAKUHANKAKU", 85), ("KEY_102ND", 86), ("KEY_F11", 87),
    ("KEY_F12", 88), ("KEY_RO", 89), ("KEY_KATAKANA", 90), ("KEY_HIRAGANA", 91),
    ("KEY_HENKAN", 92), ("KEY_KATAKANAHIRAGANA", 93), ("KEY_MUHENKAN", 94), ("KEY_KPJPCOMMA", 95),
    ("KEY_KPENTER", 96), ("KEY_RIGHTCTRL", 97), ("KEY_KPSLASH", 98), ("KEY_SYSRQ", 99),
    ("KEY_RIGHTALT", 100), ("KEY_LINEFEED", 101), ("KEY_HOME", 102), ("KEY_UP", 103),
    ("KEY_PAGEUP", 104), ("KEY_LEFT", 105), ("KEY_RIGHT", 106), ("KEY_END", 107),
    ("KEY_DOWN", 108), ("KEY_PAGEDOWN", 109), ("KEY_INSERT", 110), ("KEY_DELETE", 111),
    ("KEY_MACRO", 112), ("KEY_MUTE", 113), ("KEY_VOLUMEDOWN", 114), ("KEY_VOLUMEUP", 115),
    ("KEY_POWER", 116), ("KEY_KPEQUAL", 117), ("KEY_KPPLUSMINUS", 118), ("KEY_PAUSE", 119),
    ("KEY_SCALE", 120), ("KEY_KPCOMMA", 121), ("KEY_HANGEUL", 122), ("KEY_HANJA", 123),
    ("KEY_YEN", 124), ("KEY_LEFTMETA", 125), ("KEY_RIGHTMETA", 126), ("KEY_COMPOSE", 127),
    ("KEY_STOP", 128), ("KEY_AGAIN", 129), ("KEY_PROPS", 130), ("KEY_UNDO", 131),
    ("KEY_FRONT", 132), ("KEY_COPY", 133), ("KEY_OPEN", 134), ("KEY_PASTE", 135),
    ("KEY_FIND", 136), ("KEY_CUT", 137), ("KEY_HELP", 138), ("KEY_MENU", 139), ("KEY_CALC", 140),
    ("KEY_SETUP", 141), ("KEY_SLEEP", 142), ("KEY_WAKEUP", 143), ("KEY_FILE", 144),
    ("KEY_SENDFILE", 145), ("KEY_DELETEFILE", 146), ("KEY_XFER", 147), ("KEY_PROG1", 148),
    ("KEY_PROG2", 149), ("KEY_WWW", 150), ("KEY_MSDOS", 151), ("KEY_COFFEE", 152),
    ("KEY_ROTATE_DISPLAY", 153), ("KEY_CYCLEWINDOWS", 154), ("KEY_MAIL", 155),
    ("KEY_BOOKMARKS", 156), ("KEY_COMPUTER", 157), ("KEY_BACK", 158), ("KEY_FORWARD", 159),
    ("KEY_CLOSECD", 160), ("KEY_EJECTCD", 161), ("KEY_EJECTCLOSECD", 162), ("KEY_NEXTSONG", 163),
    ("KEY_PLAYPAUSE", 164), ("KEY_PREVIOUSSONG", 165), ("KEY_STOPCD", 166), ("KEY_RECORD", 167),
    ("KEY_REWIND", 168), ("KEY_PHONE", 169), ("KEY_ISO", 170), ("KEY_CONFIG", 171),
    ("KEY_HOMEPAGE", 172), ("KEY_REFRESH", 173), ("KEY_EXIT", 174), ("KEY_MOVE", 175),
    ("KEY_EDIT", 176), ("KEY_SCROLLUP", 177), ("KEY_SCROLLDOWN", 178), ("KEY_KPLEFTPAREN", 179),
    ("KEY_KPRIGHTPAREN", 180), ("KEY_NEW", 181), ("KEY_REDO", 182), ("KEY_F13", 183),
    ("KEY_F14", 184), ("KEY_F15", 185), ("KEY_F16", 186), ("KEY_F17", 187), ("KEY_F18", 188),
    ("KEY_F19", 189), ("KEY_F20", 190), ("KEY_F21", 191), ("KEY_F22", 192), ("KEY_F23", 193),
    ("KEY_F24", 194), ("KEY_PLAYCD", 200), ("KEY_PAUSECD", 201), ("KEY_PROG3", 202),
    ("KEY_PROG4", 203), ("KEY_ALL_APPLICATIONS", 204), ("KEY_SUSPEND", 205), ("KEY_CLOSE", 206),
    ("KEY_PLAY", 207), ("KEY_FASTFORWARD", 208), ("KEY_BASSBOOST", 209), ("KEY_PRINT", 210),
    ("KEY_HP", 211), ("KEY_CAMERA", 212), ("KEY_SOUND", 213), ("KEY_QUESTION", 214),
    ("KEY_EMAIL", 215), ("KEY_CHAT", 216), ("KEY_SEARCH", 217), ("KEY_CONNECT", 218),
    ("KEY_FINANCE", 219), ("KEY_SPORT", 220), ("KEY_SHOP", 221), ("KEY_ALTERASE", 222),
    ("KEY_CANCEL", 223), ("KEY_BRIGHTNESSDOWN", 224), ("KEY_BRIGHTNESSUP", 225),
    ("KEY_MEDIA", 226), ("KEY_SWITCHVIDEOMODE", 227), ("KEY_KBDILLUMTOGGLE", 228),
    ("KEY_KBDILLUMDOWN", 229), ("KEY_KBDILLUMUP", 230), ("KEY_SEND", 231), ("KEY_REPLY", 232),
    ("KEY_FORWARDMAIL", 233), ("KEY_SAVE", 234), ("KEY_DOCUMENTS", 235), ("KEY_BATTERY", 236),
    ("KEY_BLUETOOTH", 237), ("KEY_WLAN", 238), ("KEY_UWB", 239), ("KEY_UNKNOWN", 240),
    ("KEY_VIDEO_NEXT", 241), ("KEY_VIDEO_PREV", 242), ("KEY_BRIGHTNESS_CYCLE", 243),
    ("KEY_BRIGHTNESS_AUTO", 244), ("KEY_DISPLAY_OFF", 245), ("KEY_WWAN", 246), ("KEY_RFKILL", 247),
    ("KEY_MICMUTE", 248), ("KEY_OK", 352), ("KEY_SELECT", 353), ("KEY_GOTO", 354),
    ("KEY_CLEAR", 355), ("KEY_POWER2", 356), ("KEY_OPTION", 357), ("KEY_INFO", 358),
    ("KEY_TIME", 359), ("KEY_VENDOR", 360), ("KEY_ARCHIVE", 361), ("KEY_PROGRAM", 362),
    ("KEY_CHANNEL", 363), ("KEY_FAVORITES", 364), ("KEY_EPG", 365), ("KEY_PVR", 366),
    ("KEY_MHP", 367), ("KEY_LANGUAGE", 368), ("KEY_TITLE", 369), ("KEY_SUBTITLE", 370),
    ("KEY_ANGLE", 371), ("KEY_FULL_SCREEN", 372), ("KEY_MODE", 373), ("KEY_KEYBOARD", 374),
    ("KEY_ASPECT_RATIO", 375), ("KEY_PC", 376), ("KEY_TV", 377), ("KEY_TV2", 378),
    ("KEY_VCR", 379), ("KEY_VCR2", 380), ("KEY_SAT", 381), ("KEY_SAT2", 382), ("KEY_CD", 383),
    ("KEY_TAPE", 384), ("KEY_RADIO", 385), ("KEY_TUNER", 386), ("KEY_PLAYER", 387),
    ("KEY_TEXT", 388), ("KEY_DVD", 389), ("KEY_AUX", 390), ("KEY_MP3", 391), ("KEY_AUDIO", 392),
    ("KEY_VIDEO", 393), ("KEY_DIRECTORY", 394), ("KEY_LIST", 395), ("KEY_MEMO", 396),
    ("KEY_CALENDAR", 397), ("KEY_RED", 398), ("KEY_GREEN", 399), ("KEY_YELLOW", 400),
    ("KEY_BLUE", 401), ("KEY_CHANNELUP", 402), ("KEY_CHANNELDOWN", 403), ("KEY_FIRST", 404),
    ("KEY_LAST", 405), ("KEY_AB", 406), ("KEY_NEXT", 407), ("KEY_RESTART", 408), ("KEY_SLOW", 409),
    ("KEY_SHUFFLE", 410), ("KEY_BREAK", 411), ("KEY_PREVIOUS", 412), ("KEY_DIGITS", 413),
    ("KEY_TEEN", 414), ("KEY_TWEN", 415), ("KEY_VIDEOPHONE", 416), ("KEY_GAMES", 417),
    ("KEY_ZOOMIN", 418), ("KEY_ZOOMOUT", 419), ("KEY_ZOOMRESET", 420), ("KEY_WORDPROCESSOR", 421),
    ("KEY_EDITOR", 422), ("KEY_SPREADSHEET", 423), ("KEY_GRAPHICSEDITOR", 424),
    ("KEY_PRESENTATION", 425), ("KEY_DATABASE", 426), ("KEY_NEWS", 427), ("KEY_VOICEMAIL", 428),
    ("KEY_ADDRESSBOOK", 429), ("KEY_MESSENGER", 430), ("KEY_DISPLAYTOGGLE", 431),
    ("KEY_SPELLCHECK", 432), ("KEY_LOGOFF", 433), ("KEY_DOLLAR", 434), ("KEY_EURO", 435),
    ("KEY_FRAMEBACK", 436), ("KEY_FRAMEFORWARD", 437), ("KEY_CONTEXT_MENU", 438),
    ("KEY_MEDIA_REPEAT", 439), ("KEY_10CHANNELSUP", 440), ("KEY_10CHANNELSDOWN", 441),
    ("KEY_IMAGES", 442), ("KEY_NOTIFICATION_CENTER", 444), ("KEY_PICKUP_PHONE", 445),
    ("KEY_HANGUP_PHONE", 446), ("KEY_LINK_PHONE", 447), ("KEY_DEL_EOL", 448), ("KEY_DEL_EOS", 449),
    ("KEY_INS_LINE", 450), ("KEY_DEL_LINE", 451), ("KEY_FN", 464), ("KEY_FN_ESC", 465),
    ("KEY_FN_F1", 466), ("KEY_FN_F2", 467), ("KEY_FN_F3", 468), ("KEY_FN_F4", 469),
    ("KEY_FN_F5", 470), ("KEY_FN_F6", 471), ("KEY_FN_F7", 472), ("KEY_FN_F8", 473),
    ("KEY_FN_F9", 474), ("KEY_FN_F10", 475), ("KEY_FN_F11", 476), ("KEY_FN_F12", 477),
    ("KEY_FN_1", 478), ("KEY_FN_2", 479), ("KEY_FN_D", 480), ("KEY_FN_E", 481), ("KEY_FN_F", 482),
    ("KEY_FN_S", 483), ("KEY_FN_B", 484), ("KEY_FN_RIGHT_SHIFT", 485), ("KEY_BRL_DOT1", 497),
    ("KEY_BRL_DOT2", 498), ("KEY_BRL_DOT3", 499), ("KEY_BRL_DOT4", 500), ("KEY_BRL_DOT5", 501),
    ("KEY_BRL_DOT6", 502), ("KEY_BRL_DOT7", 503), ("KEY_BRL_DOT8", 504), ("KEY_BRL_DOT9", 505),
    ("KEY_BRL_DOT10", 506), ("KEY_NUMERIC_0", 512), ("KEY_NUMERIC_1", 513), ("KEY_NUMERIC_2", 514),
    ("KEY_NUMERIC_3", 515), ("KEY_NUMERIC_4", 516), ("KEY_NUMERIC_5", 517), ("KEY_NUMERIC_6", 518),
    ("KEY_NUMERIC_7", 519), ("KEY_NUMERIC_8", 520), ("KEY_NUMERIC_9", 521),
    ("KEY_NUMERIC_STAR", 522), ("KEY_NUMERIC_POUND", 523), ("KEY_NUMERIC_A", 524),
    ("KEY_NUMERIC_B", 525), ("KEY_NUMERIC_C", 526), ("KEY_NUMERIC_D", 527),
    ("KEY_CAMERA_FOCUS", 528), ("KEY_WPS_BUTTON", 529), ("KEY_TOUCHPAD_TOGGLE", 530),
    ("KEY_TOUCHPAD_ON", 531), ("KEY_TOUCHPAD_OFF", 532), ("KEY_CAMERA_ZOOMIN", 533),
    ("KEY_CAMERA_ZOOMOUT", 534), ("KEY_CAMERA_UP", 535), ("KEY_CAMERA_DOWN", 536),
    ("KEY_CAMERA_LEFT", 537), ("KEY_CAMERA_RIGHT", 538), ("KEY_ATTENDANT_ON", 539),
    ("KEY_ATTENDANT_OFF", 540), ("KEY_ATTENDANT_TOGGLE", 541), ("KEY_LIGHTS_TOGGLE", 542),
    ("KEY_ALS_TOGGLE", 560), ("KEY_ROTATE_LOCK_TOGGLE", 561), ("KEY_REFRESH_RATE_TOGGLE", 562),
    ("KEY_BUTTONCONFIG", 576), ("KEY_TASKMANAGER", 577), ("KEY_JOURNAL", 578),
    ("KEY_CONTROLPANEL", 579), ("KEY_APPSELECT", 580), ("KEY_SCREENSAVER", 581),
    ("KEY_VOICECOMMAND", 582), ("KEY_ASSISTANT", 583), ("KEY_KBD_LAYOUT_NEXT", 584),
    ("KEY_EMOJI_PICKER", 585), ("KEY_DICTATE", 586), ("KEY_BRIGHTNESS_MIN", 592),
    ("KEY_BRIGHTNESS_MAX", 593), ("KEY_KBDINPUTASSIST_PREV", 608),
    ("KEY_KBDINPUTASSIST_NEXT", 609), ("KEY_KBDINPUTASSIST_PREVGROUP", 610),
    ("KEY_KBDINPUTASSIST_NEXTGROUP", 611), ("KEY_KBDINPUTASSIST_ACCEPT", 612),
    ("KEY_KBDINPUTASSIST_CANCEL", 613), ("KEY_RIGHT_UP", 614), ("KEY_RIGHT_DOWN", 615),
    ("KEY_LEFT_UP", 616), ("KEY_LEFT_DOWN", 617), ("KEY_ROOT_MENU", 618),
    ("KEY_MEDIA_TOP_MENU", 619), ("KEY_NUMERIC_11", 620), ("KEY_NUMERIC_12", 621),
    ("KEY_AUDIO_DESC", 622), ("KEY_3D_MODE", 623), ("KEY_NEXT_FAVORITE", 624),
    ("KEY_STOP_RECORD", 625), ("KEY_PAUSE_RECORD", 626), ("KEY_VOD", 627), ("KEY_UNMUTE", 628),
    ("KEY_FASTREVERSE", 629), ("KEY_SLOWREVERSE", 630), ("KEY_DATA", 631),
    ("KEY_ONSCREEN_KEYBOARD", 632), ("KEY_PRIVACY_SCREEN_TOGGLE", 633),
    ("KEY_SELECTIVE_SCREENSHOT", 634), ("KEY_NEXT_ELEMENT", 635), ("KEY_PREVIOUS_ELEMENT", 636),
    ("KEY_AUTOPILOT_ENGAGE_TOGGLE", 637), ("KEY_MARK_WAYPOINT", 638), ("KEY_SOS", 639),
    ("KEY_NAV_CHART", 640), ("KEY_FISHING_CHART", 641), ("KEY_SINGLE_RANGE_RADAR", 642),
    ("KEY_DUAL_RANGE_RADAR", 643), ("KEY_RADAR_OVERLAY", 644), ("KEY_TRADITIONAL_SONAR", 645),
    ("KEY_CLEARVU_SONAR", 646), ("KEY_SIDEVU_SONAR", 647), ("KEY_NAV_INFO", 648),
    ("KEY_BRIGHTNESS_MENU", 649), ("KEY_MACRO1", 656), ("KEY_MACRO2", 657), ("KEY_MACRO3", 658),
    ("KEY_MACRO4", 659), ("KEY_MACRO5", 660), ("KEY_MACRO6", 661), ("KEY_MACRO7", 662),
    ("KEY_MACRO8", 663), ("KEY_MACRO9", 664), ("KEY_MACRO10", 665), ("KEY_MACRO11", 666),
    ("KEY_MACRO12", 667), ("KEY_MACRO13", 668), ("KEY_MACRO14", 669), ("KEY_MACRO15", 670),
    ("KEY_MACRO16", 671), ("KEY_MACRO17", 672), ("KEY_MACRO18", 673), ("KEY_MACRO19", 674),
    ("KEY_MACRO20", 675), ("KEY_MACRO21", 676), ("KEY_MACRO22", 677), ("KEY_MACRO23", 678),
    ("KEY_MACRO24", 679), ("KEY_MACRO25", 680), ("KEY_MACRO26", 681), ("KEY_MACRO27", 682),
    ("KEY_MACRO28", 683), ("KEY_MACRO29", 684), ("KEY_MACRO30", 685),
    ("KEY_MACRO_RECORD_START", 688), ("KEY_MACRO_RECORD_STOP", 689),
    ("KEY_MACRO_PRESET_CYCLE", 690), ("KEY_MACRO_PRESET1", 691), ("KEY_MACRO_PRESET2", 692),
    ("KEY_MACRO_PRESET3", 693), ("KEY_KBD_LCD_MENU1", 696), ("KEY_KBD_LCD_MENU2", 697),
    ("KEY_KBD_LCD_MENU3", 698), ("KEY_KBD_LCD_MENU4", 699), ("KEY_KBD_LCD_MENU5", 700),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycodes_like_virsh() {
        assert_eq!(keycode_number("30"), Some(30));
        assert_eq!(keycode_number("0x1e"), Some(30));
        assert_eq!(keycode_number("036"), Some(30));
        assert_eq!(keycode_number("0x10000"), None);
        assert_eq!(keycode_number("KEY_A"), None);
        let a = LINUX_KEY_NAMES.iter().find(|(n, _)| *n == "KEY_A");
        assert_eq!(a.map(|(_, v)| *v), Some(30));
    }

    #[test]
    fn file_names() {
        let n = gen_file_name("d", "image/png");
        assert!(n.starts_with("d-") && n.ends_with(".png"), "{n}");
        assert_eq!(n.len(), "d-2024-01-01-00:00:00.png".len());
    }
}
