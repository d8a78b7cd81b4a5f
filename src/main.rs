//! virtsh: a daemonless drop-in replacement for libvirt's `virsh`.
//!
//! The binary is thin: it parses the global options, opens the connection through the driver
//! factory, and runs commands one-shot, as a `;`-chained string, or at an interactive prompt.
//! Invoked through a symlink named `virsh` it behaves as virsh, through one named `virt-admin`
//! (or as `virtsh admin ...`) as virt-admin; invoked as `virtsh __supervise`
//! (by the QEMU driver, never by a person) it is a guest's supervisor.

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
    // The hidden supervisor mode: one per running guest, started by the QEMU driver.
    if args.get(1).map(String::as_str) == Some(virtsh_qemu::supervisor::SUPERVISE_ARG) {
        std::process::exit(virtsh_qemu::supervisor::main(&args[2..]));
    }
    // The LXC driver's supervisor: one per running container.
    if args.get(1).map(String::as_str) == Some(virtsh_lxc::supervisor::SUPERVISE_ARG) {
        std::process::exit(virtsh_lxc::supervisor::main(&args[2..]));
    }
    // virt-admin: through a symlink of that name, or as `virtsh admin ...`.
    if let Some(code) = commands::admin::dispatch(&args) {
        std::process::exit(code);
    }
    let code = run::main(&args);
    std::process::exit(code);
}
