//! Changing a volume's size and contents: vol-resize, vol-wipe, vol-upload, vol-download
//! (tools/virsh-volume.c).

use crate::commands::options::req_str;
use crate::commands::volume::{size_arg, vol};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::flags::vol_resize as R;
use virtsh_api::ErrorKind;

/// virStorageVolWipeAlgorithm, by value.
const WIPE_ALGORITHMS: [&str; 10] = [
    "zero",
    "nnsa",
    "dod",
    "bsi",
    "gutmann",
    "schneier",
    "pfitzner7",
    "pfitzner33",
    "random",
    "trim",
];

/// VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM / VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM
const SPARSE_STREAM: u32 = 1 << 0;

/// strtoull over the whole string, as virStrToLong_ull (`wrap`: a '-' sign wraps around, as
/// C does) or virStrToLong_ullp (no sign allowed).
pub fn c_str_to_u64(s: &str, wrap: bool) -> Option<u64> {
    let (neg, digits) = crate::commands::options::c_sign_digits(s)?;
    let v: u64 = digits.parse().ok()?;
    match (neg, wrap) {
        (false, _) => Some(v),
        (true, true) => Some(v.wrapping_neg()),
        (true, false) => None,
    }
}

/// vshCommandOptULongLong (`wrap` false) and vshCommandOptULongLongWrap (`wrap` true).
fn opt_ull(cmd: &ParsedCmd, name: &str, wrap: bool) -> Result<u64, CmdError> {
    let Some(text) = cmd.get(name) else {
        return Ok(0);
    };
    c_str_to_u64(text, wrap).ok_or_else(|| {
        CmdError::msg(format!(
            "Numeric value '{text}' for <{name}> option is malformed or out of range"
        ))
    })
}

/// `vol-resize VOL CAPACITY [--pool P] [--allocate] [--delta] [--shrink]`.
pub fn cmd_vol_resize(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let mut flags = 0;
    if cmd.has("allocate") {
        flags |= R::ALLOCATE;
    }
    if cmd.has("shrink") {
        flags |= R::SHRINK;
    }
    let mut delta = cmd.has("delta");
    let v = vol(sh, cmd)?;
    let mut capacity =
        req_str(cmd, "capacity")?.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if let Some(rest) = capacity.strip_prefix('-') {
        if !cmd.has("shrink") {
            return Err(CmdError::msg("negative size requires --shrink"));
        }
        capacity = rest;
        delta = true;
    }
    if delta {
        flags |= R::DELTA;
    }
    let bytes = size_arg(capacity)?;
    let (how, how_ok) = if delta {
        ("by", "changed by")
    } else {
        ("to", "changed to")
    };
    sh.writable("virStorageVolResize")
        .and_then(|c| c.resize_vol(&v, bytes, flags))
        .map_err(|e| {
            CmdError::with(
                format!(
                    "Failed to change size of volume '{}' {how} {capacity}",
                    v.name
                ),
                e,
            )
        })?;
    sh.print_extra(&format!(
        "Size of volume '{}' successfully {how_ok} {capacity}\n",
        v.name
    ));
    Ok(())
}

/// `vol-wipe VOL [--pool P] [--algorithm A]`: virStorageVolWipePattern, or virStorageVolWipe
/// when the server has no patterns and zeroes were asked for.
pub fn cmd_vol_wipe(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let algorithm = match cmd.get("algorithm") {
        None => 0,
        Some(a) => match WIPE_ALGORITHMS.iter().position(|x| *x == a) {
            Some(i) => i as u32,
            None => return Err(CmdError::msg(format!("Unsupported algorithm '{a}'"))),
        },
    };
    let result = sh
        .writable("virStorageVolWipePattern")
        .and_then(|c| c.wipe_vol_pattern(&v, algorithm, 0))
        .or_else(|e| {
            if e.kind == ErrorKind::NoSupport && algorithm == 0 {
                sh.writable("virStorageVolWipe")
                    .and_then(|c| c.wipe_vol(&v, 0))
            } else {
                Err(e)
            }
        });
    result.map_err(|e| CmdError::with(format!("Failed to wipe vol {name}"), e))?;
    sh.print_extra(&format!("Vol {name} wiped\n"));
    Ok(())
}

/// `vol-upload VOL FILE [--pool P] [--offset N] [--length N] [--sparse]`.
pub fn cmd_vol_upload(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let offset = opt_ull(cmd, "offset", false)?;
    let length = opt_ull(cmd, "length", true)?;
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let file = req_str(cmd, "file")?;
    let mut f =
        std::fs::File::open(file).map_err(|_| CmdError::msg(format!("cannot read {file}")))?;
    let flags = if cmd.has("sparse") { SPARSE_STREAM } else { 0 };
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut data)
        .map_err(|_| CmdError::msg(format!("cannot send data to volume {name}")))?;
    sh.writable("virStorageVolUpload")
        .and_then(|c| c.upload_vol(&v, offset, length, &data, flags))
        .map_err(|e| CmdError::with(format!("cannot upload to volume {name}"), e))?;
    Ok(())
}

/// `vol-download VOL FILE [--pool P] [--offset N] [--length N] [--sparse]`. The file is
/// created (or truncated) first, and a file this command created is removed on failure.
pub fn cmd_vol_download(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let offset = opt_ull(cmd, "offset", false)?;
    let length = opt_ull(cmd, "length", true)?;
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let file = req_str(cmd, "file")?.to_string();
    let flags = if cmd.has("sparse") { SPARSE_STREAM } else { 0 };
    let (mut out, created) = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&file)
                .map_err(|_| CmdError::msg(format!("cannot create {file}")))?;
            (f, false)
        }
        Err(_) => return Err(CmdError::msg(format!("cannot create {file}"))),
    };
    let result = sh
        .writable("virStorageVolDownload")
        .and_then(|c| c.download_vol(&v, offset, length, flags))
        .map_err(|e| CmdError::with(format!("cannot download from volume {name}"), e))
        .and_then(|data| {
            std::io::Write::write_all(&mut out, &data)
                .map_err(|_| CmdError::msg(format!("cannot receive data from volume {name}")))
        });
    if result.is_err() && created {
        let _ = std::fs::remove_file(&file);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_like_c() {
        assert_eq!(c_str_to_u64(" 12", false), Some(12));
        assert_eq!(c_str_to_u64("-1", false), None);
        assert_eq!(c_str_to_u64("-1", true), Some(u64::MAX));
        assert_eq!(c_str_to_u64("1x", true), None);
    }
}
