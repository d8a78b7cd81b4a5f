//! Procedures as types: the generated `procs` modules implement [`Procedure`] for one marker
//! type per procedure, so a call names its program, number, argument and reply types at once
//! and cannot pair a procedure with another's structs.

use crate::xdr::Xdr;

/// Whether a procedure opens a stream, and in which direction (from the client's side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    None,
    /// `@readstream`: the daemon sends data (volume download, console, screenshot).
    Read,
    /// `@writestream`: the client sends data (volume upload).
    Write,
}

/// One procedure of one program.
pub trait Procedure {
    const PROGRAM: u32;
    const VERSION: u32;
    const PROC: i32;
    /// libvirt's name, `REMOTE_PROC_...`.
    const NAME: &'static str;
    const STREAM: StreamKind;
    /// The `_args` struct (`_msg` for events), `()` when void.
    type Args: Xdr;
    /// The `_ret` struct, `()` when void.
    type Ret: Xdr;
}
