//! virDomainOpenConsole over the protocol: the console's stream, handed to the shell as one
//! end of a socket pair, so that a daemon's console is relayed exactly as a local pty is.
//!
//! Two threads pump the other end: the daemon's data to the socket, the socket's to the
//! daemon. They own nothing but the stream and the socket, so the connection stays usable for
//! other calls meanwhile (the REPL keeps working after the escape character).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use virtsh_api::{ConsoleStream, Domain, Error, ErrorKind, Result};

use super::{rdom, RemoteDriver};
use crate::generated::remote::{procs, RemoteDomainOpenConsoleArgs};
use crate::procedure::Procedure;
use crate::stream::{StreamData, StreamWriter};

/// Aborts the daemon's stream when the shell lets go of the console, unless the daemon ended
/// it first.
struct ConsoleSession {
    writer: StreamWriter,
    ended: Arc<AtomicBool>,
}

impl Drop for ConsoleSession {
    fn drop(&mut self) {
        if !self.ended.swap(true, Ordering::SeqCst) {
            let _ = self.writer.abort();
        }
    }
}

fn socket_error(e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::SystemError,
        format!(
            "cannot create a socket pair for the console: {}",
            virtsh_api::strerror(&e)
        ),
    )
}

impl RemoteDriver {
    pub(super) fn console(
        &self,
        dom: &Domain,
        devname: Option<&str>,
        flags: u32,
    ) -> Result<ConsoleStream> {
        type P = procs::DomainOpenConsole;
        let args = RemoteDomainOpenConsoleArgs {
            dom: rdom(dom),
            dev_name: devname.map(str::to_string),
            flags,
        };
        let ((), mut stream) = self
            .session()?
            .client
            .call_with_stream::<_, <P as Procedure>::Ret>(P::PROGRAM, P::PROC, &args)
            .map_err(Error::from)?;
        let (shell_end, pump_end) = UnixStream::pair().map_err(socket_error)?;
        let mut to_shell = pump_end.try_clone().map_err(socket_error)?;
        let mut from_shell = pump_end;
        shell_end.set_nonblocking(true).map_err(socket_error)?;
        let ended = Arc::new(AtomicBool::new(false));

        let writer = stream.writer();
        let session = ConsoleSession {
            writer: writer.clone(),
            ended: ended.clone(),
        };
        let input = writer.clone();
        let daemon_ended = ended;
        std::thread::spawn(move || {
            loop {
                match stream.recv_idle() {
                    Ok(StreamData::Data(d)) => {
                        if to_shell.write_all(&d).is_err() {
                            break;
                        }
                    }
                    // A console has no holes; nothing to write for one.
                    Ok(StreamData::Hole { .. }) => {}
                    // The guest's side is gone: confirm as virsh does, then the shell reads
                    // end of file.
                    Ok(StreamData::Eof) => {
                        if !daemon_ended.swap(true, Ordering::SeqCst) {
                            let _ = writer.finish();
                        }
                        break;
                    }
                    Err(_) => {
                        daemon_ended.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            }
            let _ = to_shell.shutdown(std::net::Shutdown::Both);
        });
        // The shell's keystrokes to the daemon. End of file is the shell letting go, which the
        // session's drop turns into an abort.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match from_shell.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if input.send(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok(ConsoleStream::new(shell_end.into(), Box::new(session)))
    }
}
