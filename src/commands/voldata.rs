//! Changing a volume's size and contents: vol-resize, vol-wipe, vol-upload, vol-download
//! (tools/virsh-volume.c). Volume contents stream between a file and the driver a chunk at a
//! time, with sparse files' holes kept as holes under `--sparse`.

use crate::commands::options::req_str;
use crate::commands::virsh::os_err;
use crate::commands::volume::{size_arg, vol};
use crate::output::progress::Progress;
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::{AsRawFd, IntoRawFd, RawFd};
use virtsh_api::flags::vol_resize as R;
use virtsh_api::storage::{VolChunk, VolSink, VolSource, VolTransferStage};
use virtsh_api::{ErrorKind, StorageVol};

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

/// `vol-upload VOL FILE [--pool P] [--offset N] [--length N] [--sparse]`. The file is read
/// a chunk at a time; with `--sparse` its holes (SEEK_HOLE) go as stream holes.
pub fn cmd_vol_upload(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let offset = opt_ull(cmd, "offset", false)?;
    let length = opt_ull(cmd, "length", true)?;
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let file = req_str(cmd, "file")?.to_string();
    let f = File::open(&file).map_err(|_| CmdError::msg(format!("cannot read {file}")))?;
    let meta = f
        .metadata()
        .map_err(|_| CmdError::msg(format!("unable to stat {file}")))?;
    let is_block = meta.file_type().is_block_device();
    let sparse = cmd.has("sparse");
    let flags = if sparse { SPARSE_STREAM } else { 0 };
    let progress = (!sh.quiet && Progress::on_terminal())
        .then(|| upload_total(&f, &meta, length))
        .flatten()
        .map(|total| Progress::terminal_only(&format!("Uploading {name}"), total));
    // A block device has no holes to find: virsh treats it as data throughout.
    let mut source = FileSource::new(f, sparse && !is_block, progress);
    let result = sh
        .writable("virStorageVolUpload")
        .and_then(|c| c.upload_vol(&v, offset, length, &mut source, flags));
    end_progress(source.progress.take(), result.is_ok());
    result.map_err(|e| {
        source.state.explain(
            e,
            &file,
            format!("cannot upload to volume {name}"),
            format!("cannot send data to volume {name}"),
            format!("cannot close volume {name}"),
        )
    })
}

/// A transfer's bar, if one is drawn, is completed when the transfer worked and left where
/// it stopped when it failed (the error lines then start on a line of their own).
fn end_progress(progress: Option<Progress>, worked: bool) {
    match progress {
        Some(p) if worked => p.finish(),
        Some(p) => p.abandon(),
        None => {}
    }
}

/// The bytes an upload sends: the file's size (a block device's is where its end is), no
/// more than `--length`. None when it cannot be told; the bar is only decoration.
fn upload_total(f: &File, meta: &std::fs::Metadata, length: u64) -> Option<u64> {
    let size = if meta.file_type().is_block_device() {
        let fd = f.as_raw_fd();
        let end = lseek(fd, 0, libc::SEEK_END).ok()?;
        lseek(fd, 0, libc::SEEK_SET).ok()?;
        end
    } else {
        meta.len()
    };
    Some(if length > 0 { size.min(length) } else { size })
}

/// `vol-download VOL FILE [--pool P] [--offset N] [--length N] [--sparse]`. The file is
/// created (or truncated) first, and a file this command created is removed on failure. The
/// volume's bytes are written as they arrive; with `--sparse` the holes the daemon sends
/// become holes in the file (seek and truncate, as virsh's virshStreamSkip).
pub fn cmd_vol_download(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    let offset = opt_ull(cmd, "offset", false)?;
    let length = opt_ull(cmd, "length", true)?;
    let v = vol(sh, cmd)?;
    let name = req_str(cmd, "vol")?.to_string();
    let file = req_str(cmd, "file")?.to_string();
    let sparse = cmd.has("sparse");
    let flags = if sparse { SPARSE_STREAM } else { 0 };
    let (out, created) = match std::fs::OpenOptions::new()
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
    let result = download_into(sh, &v, &name, &file, out, offset, length, sparse, flags);
    if result.is_err() && created {
        let _ = std::fs::remove_file(&file);
    }
    result
}

/// vol-download once its file is open.
#[allow(clippy::too_many_arguments)]
fn download_into(
    sh: &Shell,
    v: &StorageVol,
    name: &str,
    file: &str,
    out: File,
    offset: u64,
    length: u64,
    sparse: bool,
    flags: u32,
) -> CmdResult {
    let meta = out
        .metadata()
        .map_err(|_| CmdError::msg(format!("unable to stat {file}")))?;
    // A block device reads back what was written, not holes: virsh writes zeroes there.
    let holes = sparse && !meta.file_type().is_block_device();
    let progress = (!sh.quiet && Progress::on_terminal())
        .then(|| download_total(sh, v, offset, length))
        .flatten()
        .map(|total| Progress::terminal_only(&format!("Downloading {name}"), total));
    let mut sink = FileSink::new(out, holes, progress);
    let result = sh
        .writable("virStorageVolDownload")
        .and_then(|c| c.download_vol(v, offset, length, &mut sink, flags));
    end_progress(sink.progress.take(), result.is_ok());
    result.map_err(|e| {
        sink.state.explain(
            e,
            file,
            format!("cannot download from volume {name}"),
            format!("cannot receive data from volume {name}"),
            format!("cannot close volume {name}"),
        )
    })
}

/// The bytes a download receives: `--length`, or what the volume holds past `offset` (its
/// physical size: the daemon reads the volume's file or device to its end). It costs a round
/// trip, so it is asked only when a bar is drawn; None when it cannot be told.
fn download_total(sh: &Shell, v: &StorageVol, offset: u64, length: u64) -> Option<u64> {
    if length > 0 {
        return Some(length);
    }
    let conn = sh.conn().ok()?;
    let size = conn
        .vol_info_flags(v, GET_PHYSICAL)
        .map(|i| i.allocation)
        .or_else(|_| conn.vol_info(v).map(|i| i.capacity))
        .ok()?;
    Some(size.saturating_sub(offset))
}

/// VIR_STORAGE_VOL_GET_PHYSICAL: virStorageVolGetInfoFlags reports the physical size in
/// `allocation`.
const GET_PHYSICAL: u32 = 1 << 0;

/// What a file source or sink saw of the transfer, to word a failure as virsh does: each of
/// its three calls has its own message, and a failure of our own file has libvirt's wording.
struct TransferState {
    /// The last stage the driver reported; None while the volume has not accepted the
    /// transfer.
    stage: Option<VolTransferStage>,
    /// Lines virsh prints of its own as the failure happens (vshError in its callbacks),
    /// before the line of the call that failed.
    notes: Vec<String>,
    /// Closing the file failed: virsh says only that.
    close_failed: bool,
    /// Bytes done, data and holes, for the progress bar.
    done: u64,
}

impl TransferState {
    fn new() -> TransferState {
        TransferState {
            stage: None,
            notes: Vec::new(),
            close_failed: false,
            done: 0,
        }
    }

    /// The lines virsh prints for `e`, given where the transfer stopped.
    fn explain(
        &mut self,
        e: virtsh_api::Error,
        file: &str,
        opening: String,
        moving: String,
        finishing: String,
    ) -> CmdError {
        if self.close_failed {
            return CmdError::msg(format!("cannot close file {file}"));
        }
        let context = match self.stage {
            None => opening,
            Some(VolTransferStage::Transfer) => moving,
            Some(VolTransferStage::Finish) => finishing,
        };
        let mut lines = std::mem::take(&mut self.notes);
        lines.push(context);
        lines.push(e.message);
        CmdError::lines(lines)
    }

    /// Closes `file` (taken, so it is closed once) and reports a failure, as virsh's
    /// VIR_CLOSE before virStreamFinish: File's own drop would hide it.
    fn close(&mut self, file: &mut Option<File>) -> virtsh_api::Result<()> {
        let Some(f) = file.take() else {
            return Ok(());
        };
        // SAFETY: the descriptor was just taken out of its File, so nothing else owns or
        // closes it.
        if unsafe { libc::close(f.into_raw_fd()) } < 0 {
            self.close_failed = true;
            return Err(sys_error("close", &std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

/// libvirt's virReportSystemError: `WHAT: strerror`.
fn sys_error(what: &str, e: &std::io::Error) -> virtsh_api::Error {
    virtsh_api::Error::new(ErrorKind::SystemError, format!("{what}: {}", os_err(e)))
}

/// An upload's file, read a chunk at a time (virshStreamSource); with `holes`, its holes are
/// found and skipped (virshStreamInData and virshStreamSourceSkip, under
/// virStreamSparseSendAll).
struct FileSource {
    file: Option<File>,
    holes: bool,
    /// What is left of the data section being read (`holes` only); 0 when the next piece
    /// starts a new section.
    data_left: u64,
    state: TransferState,
    progress: Option<Progress>,
}

impl FileSource {
    fn new(file: File, holes: bool, progress: Option<Progress>) -> FileSource {
        FileSource {
            file: Some(file),
            holes,
            data_left: 0,
            state: TransferState::new(),
            progress,
        }
    }

    fn advance(&mut self, n: u64) {
        self.state.done = self.state.done.saturating_add(n);
        if let Some(p) = &self.progress {
            p.set_bytes(self.state.done);
        }
    }
}

impl VolSource for FileSource {
    fn next_chunk(&mut self, max: usize) -> virtsh_api::Result<VolChunk> {
        let Some(file) = self.file.as_mut() else {
            return Ok(VolChunk::End);
        };
        let mut want = max;
        if self.holes {
            if self.data_left == 0 {
                let (data, len) = in_data(file).map_err(|e| {
                    self.state
                        .notes
                        .push("Unable to get current position in stream".to_string());
                    sys_error("send holeHandler failed", &e)
                })?;
                if !data && len > 0 {
                    let skip = libc::off_t::try_from(len)
                        .map_err(|_| std::io::Error::from_raw_os_error(libc::EOVERFLOW))
                        .and_then(|l| lseek(file.as_raw_fd(), l, libc::SEEK_CUR));
                    skip.map_err(|e| sys_error("send skipHandler failed", &e))?;
                    self.advance(len);
                    return Ok(VolChunk::Hole(len));
                }
                // In data, or at the end of the file (no section left: the read below
                // finds nothing).
                self.data_left = len;
            }
            want = usize::try_from(self.data_left).map_or(want, |l| l.min(want));
        }
        let mut buf = vec![0u8; want];
        let got = read_full(file, &mut buf).map_err(|e| sys_error("send handler failed", &e))?;
        if got == 0 {
            return Ok(VolChunk::End);
        }
        buf.truncate(got);
        self.data_left = self.data_left.saturating_sub(got as u64);
        self.advance(got as u64);
        Ok(VolChunk::Data(buf))
    }

    fn reached(&mut self, stage: VolTransferStage) -> virtsh_api::Result<()> {
        self.state.stage = Some(stage);
        if stage == VolTransferStage::Finish {
            self.state.close(&mut self.file)?;
        }
        Ok(())
    }
}

/// A download's file (virshStreamSink); holes become holes (`holes`: virshStreamSkip's
/// seek and truncate) or zeroes written out (a block device, or a stream that was not asked
/// to be sparse).
struct FileSink {
    file: Option<File>,
    holes: bool,
    state: TransferState,
    progress: Option<Progress>,
}

/// Zeroes are written this much at a time (virshStreamSkip's buffer for block devices).
const ZERO_CHUNK: usize = 1024 * 1024;

impl FileSink {
    fn new(file: File, holes: bool, progress: Option<Progress>) -> FileSink {
        FileSink {
            file: Some(file),
            holes,
            state: TransferState::new(),
            progress,
        }
    }

    fn advance(&mut self, n: u64) {
        self.state.done = self.state.done.saturating_add(n);
        if let Some(p) = &self.progress {
            p.set_bytes(self.state.done);
        }
    }

    fn file(&mut self) -> virtsh_api::Result<&mut File> {
        // Only after Finish is there no file, and no piece comes after Finish.
        self.file
            .as_mut()
            .ok_or_else(|| virtsh_api::Error::internal("data after the end of the stream"))
    }
}

impl VolSink for FileSink {
    fn data(&mut self, bytes: &[u8]) -> virtsh_api::Result<()> {
        self.file()?
            .write_all(bytes)
            .map_err(|e| sys_error("recv handler failed", &e))?;
        self.advance(bytes.len() as u64);
        Ok(())
    }

    fn hole(&mut self, length: u64) -> virtsh_api::Result<()> {
        let holes = self.holes;
        let file = self.file()?;
        let made = if holes {
            // Seeking past the end and truncating there leaves a hole that reads as zeroes,
            // even when the stream ends in one.
            libc::off_t::try_from(length)
                .map_err(|_| std::io::Error::from_raw_os_error(libc::EOVERFLOW))
                .and_then(|l| lseek(file.as_raw_fd(), l, libc::SEEK_CUR))
                .and_then(|end| ftruncate(file.as_raw_fd(), end))
        } else {
            write_zeroes(file, length)
        };
        made.map_err(|e| sys_error("recv holeHandler failed", &e))?;
        self.advance(length);
        Ok(())
    }

    fn reached(&mut self, stage: VolTransferStage) -> virtsh_api::Result<()> {
        self.state.stage = Some(stage);
        if stage == VolTransferStage::Finish {
            self.state.close(&mut self.file)?;
        }
        Ok(())
    }
}

/// `len` zeroes written out, a bounded buffer at a time.
fn write_zeroes(file: &mut File, len: u64) -> std::io::Result<()> {
    let zeroes = vec![0u8; usize::try_from(len).map_or(ZERO_CHUNK, |l| l.min(ZERO_CHUNK))];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left).map_or(zeroes.len(), |l| l.min(zeroes.len()));
        file.write_all(&zeroes[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// saferead: reads until `buf` is full or the file ends; the count read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn lseek(fd: RawFd, offset: libc::off_t, whence: libc::c_int) -> std::io::Result<u64> {
    // SAFETY: lseek on a descriptor this command owns; it touches no memory.
    let r = unsafe { libc::lseek(fd, offset, whence) };
    // A successful lseek never returns a negative offset.
    u64::try_from(r).map_err(|_| std::io::Error::last_os_error())
}

fn ftruncate(fd: RawFd, len: u64) -> std::io::Result<()> {
    let len = libc::off_t::try_from(len)
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EOVERFLOW))?;
    // SAFETY: ftruncate on a descriptor this command owns; it touches no memory.
    if unsafe { libc::ftruncate(fd, len) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// virFileInData: whether the file's position is in data, and how many bytes are left of the
/// section it is in. A hole that runs to the end of the file counts as a hole; at (or past)
/// the end it is a hole of 0 bytes. The position is left where it was.
fn in_data(file: &File) -> std::io::Result<(bool, u64)> {
    let fd = file.as_raw_fd();
    let cur = lseek(fd, 0, libc::SEEK_CUR)?;
    let cur_off = libc::off_t::try_from(cur)
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EOVERFLOW))?;
    let found = match lseek(fd, cur_off, libc::SEEK_DATA) {
        // No data after here: a trailing hole up to the end, or nothing at all.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            lseek(fd, 0, libc::SEEK_END).map(|end| (false, end.saturating_sub(cur)))
        }
        Err(e) => Err(e),
        Ok(data) if data > cur => Ok((false, data - cur)),
        // In data: it lasts until the next hole (the end of the file is one).
        Ok(data) => match lseek(fd, cur_off, libc::SEEK_HOLE) {
            Ok(hole) if hole > data => Ok((true, hole - data)),
            // A hole where we found data: the file changed under us.
            Ok(_) => Err(std::io::Error::from_raw_os_error(libc::EIO)),
            Err(e) => Err(e),
        },
    };
    // Wherever the probing left it, the position goes back.
    let restored = lseek(fd, cur_off, libc::SEEK_SET);
    let found = found?;
    restored?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::fs::{FileExt, MetadataExt};

    const MIB: u64 = 1024 * 1024;

    /// A temp file removed at the end of the test.
    struct Temp(std::path::PathBuf);

    impl Temp {
        fn new(name: &str) -> Temp {
            Temp(std::env::temp_dir().join(format!("virtsh-voldata-{}-{name}", std::process::id())))
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// 6 MiB: data in the first MiB and the fourth, holes elsewhere (one at the end).
    fn sparse_file(t: &Temp) -> Vec<u8> {
        let f = File::create(&t.0).expect("create");
        f.write_all_at(&vec![0xa5; MIB as usize], 0).expect("write");
        f.write_all_at(&vec![0x5a; MIB as usize], 3 * MIB)
            .expect("write");
        f.set_len(6 * MIB).expect("truncate");
        std::fs::read(&t.0).expect("read back")
    }

    fn drain(source: &mut FileSource) -> Vec<VolChunk> {
        source
            .reached(VolTransferStage::Transfer)
            .expect("transfer");
        let mut pieces = Vec::new();
        loop {
            match source.next_chunk(256 * 1024).expect("next chunk") {
                VolChunk::End => break,
                piece => pieces.push(piece),
            }
        }
        source.reached(VolTransferStage::Finish).expect("close");
        pieces
    }

    /// The pieces put back together, holes as zeroes.
    fn flatten(pieces: &[VolChunk]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in pieces {
            match p {
                VolChunk::Data(d) => out.extend_from_slice(d),
                VolChunk::Hole(n) => out.resize(out.len() + *n as usize, 0),
                VolChunk::End => {}
            }
        }
        out
    }

    #[test]
    fn source_finds_the_holes_of_a_sparse_file() {
        let t = Temp::new("source");
        let content = sparse_file(&t);
        let holes_kept = std::fs::metadata(&t.0).expect("stat").blocks() * 512 < 6 * MIB;
        let mut source = FileSource::new(File::open(&t.0).expect("open"), true, None);
        let pieces = drain(&mut source);
        assert!(flatten(&pieces) == content);
        assert!(pieces.iter().all(|p| match p {
            VolChunk::Data(d) => !d.is_empty() && d.len() <= 256 * 1024,
            _ => true,
        }));
        if holes_kept {
            // The file system keeps holes (ext4, xfs, tmpfs, btrfs do): they come as holes,
            // the one between the data and the one at the end, and no zeroes come as data.
            let holes: Vec<u64> = pieces
                .iter()
                .filter_map(|p| match p {
                    VolChunk::Hole(n) => Some(*n),
                    _ => None,
                })
                .collect();
            assert_eq!(holes, [2 * MIB, 2 * MIB]);
            let data: usize = pieces
                .iter()
                .map(|p| match p {
                    VolChunk::Data(d) => d.len(),
                    _ => 0,
                })
                .sum();
            assert_eq!(data as u64, 2 * MIB);
        }
        assert_eq!(source.state.done, 6 * MIB);
        assert!(source.file.is_none(), "closed at Finish");
    }

    #[test]
    fn source_without_sparse_reads_everything_as_data() {
        let t = Temp::new("plain");
        let content = sparse_file(&t);
        let mut source = FileSource::new(File::open(&t.0).expect("open"), false, None);
        let pieces = drain(&mut source);
        assert!(pieces.iter().all(|p| matches!(p, VolChunk::Data(_))));
        assert!(flatten(&pieces) == content);
    }

    #[test]
    fn in_data_leaves_the_position_alone() {
        let t = Temp::new("position");
        sparse_file(&t);
        let mut f = File::open(&t.0).expect("open");
        let mut first = [0u8; 10];
        f.read_exact(&mut first).expect("read");
        let (data, _) = in_data(&f).expect("in_data");
        assert!(data);
        assert_eq!(lseek(f.as_raw_fd(), 0, libc::SEEK_CUR).expect("tell"), 10);
        // At the end: a hole of nothing.
        lseek(f.as_raw_fd(), 6 * 1024 * 1024, libc::SEEK_SET).expect("seek");
        assert_eq!(in_data(&f).expect("in_data at the end"), (false, 0));
    }

    #[test]
    fn sink_makes_holes_or_writes_zeroes() {
        for holes in [true, false] {
            let t = Temp::new(if holes { "sink-holes" } else { "sink-zeroes" });
            let mut sink = FileSink::new(File::create(&t.0).expect("create"), holes, None);
            sink.reached(VolTransferStage::Transfer).expect("transfer");
            sink.data(&[7u8; 4096]).expect("data");
            sink.hole(3 * MIB).expect("hole");
            sink.data(&[9u8; 4096]).expect("data");
            // A trailing hole still makes the file as long as the volume.
            sink.hole(2 * MIB).expect("hole");
            sink.reached(VolTransferStage::Finish).expect("close");
            let got = std::fs::read(&t.0).expect("read back");
            let mut want = vec![7u8; 4096];
            want.resize(4096 + 3 * MIB as usize, 0);
            want.extend_from_slice(&[9u8; 4096]);
            want.resize(want.len() + 2 * MIB as usize, 0);
            assert!(got == want, "holes={holes}");
            let allocated = std::fs::metadata(&t.0).expect("stat").blocks() * 512;
            if holes {
                assert!(allocated < MIB, "sparse: {allocated} bytes allocated");
            } else {
                assert!(allocated >= 5 * MIB, "zeroes written: {allocated}");
            }
        }
    }

    #[test]
    fn failures_are_worded_by_stage() {
        let e = virtsh_api::Error::raw(ErrorKind::Rpc, "boom");
        let explain = |stage| {
            let mut st = TransferState::new();
            st.stage = stage;
            st.explain(
                e.clone(),
                "f",
                "open".into(),
                "move".into(),
                "finish".into(),
            )
            .lines
        };
        assert_eq!(explain(None), ["open", "boom"]);
        assert_eq!(explain(Some(VolTransferStage::Transfer)), ["move", "boom"]);
        assert_eq!(explain(Some(VolTransferStage::Finish)), ["finish", "boom"]);
        let mut st = TransferState::new();
        st.close_failed = true;
        assert_eq!(
            st.explain(e, "f", "o".into(), "m".into(), "x".into()).lines,
            ["cannot close file f"]
        );
    }

    #[test]
    fn unsigned_like_c() {
        assert_eq!(c_str_to_u64(" 12", false), Some(12));
        assert_eq!(c_str_to_u64("-1", false), None);
        assert_eq!(c_str_to_u64("-1", true), Some(u64::MAX));
        assert_eq!(c_str_to_u64("1x", true), None);
    }
}
