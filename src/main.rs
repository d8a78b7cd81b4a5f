//! virtsh: a daemonless drop-in replacement for libvirt's `virsh`.
//!
//! The binary is thin: it parses the global options, opens the connection through the driver
//! factory, and runs commands one-shot, as a `;`-chained string, or at an interactive prompt.
//! Invoked through a symlink named `virsh` it behaves as virsh.

mod cli;
mod commands;
mod complete;
mod connect;
mod def;
mod defs;
mod diagnostic;
mod generate;
mod libvirt_conf;
mod lookup;
mod output;
mod parse;
mod repl;
mod run;
mod shell;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = run::main(&args);
    std::process::exit(code);
}
