//! The manual page `virtsh.1`.
//!
//! roff written by hand rather than with clap_mangen: clap_mangen renders one clap::Command per
//! page, listing subcommands by name only, and writes synopses in clap's notation. virtsh's
//! page needs every command's synopsis, description and options in one page, with the text
//! `virtsh help COMMAND` prints (virsh's `[--domain] <string>` notation). So each command's
//! section is taken from `commands::virsh::command_help`, the renderer of `help COMMAND`, and
//! the two can never disagree; the rest is a few roff requests. virt-admin's commands
//! (`virtsh admin`, `defs/admin.rs`) have their own part, VIRT-ADMIN, rendered the same way.

use crate::def::{CommandDef, OptKind};
use std::fmt::Write as _;

/// Examples for the commands people use most (the declarations carry none).
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "list",
        &[
            ("Every domain, running or not:", "virtsh list --all"),
            ("Only the names of the running ones:", "virtsh list --name"),
        ],
    ),
    (
        "start",
        &[(
            "Start a defined domain and attach to its console:",
            "virtsh start web1 --console",
        )],
    ),
    (
        "shutdown",
        &[(
            "Ask the guest agent to shut the guest down:",
            "virtsh shutdown web1 --mode agent",
        )],
    ),
    (
        "define",
        &[(
            "Define (but do not start) a domain from XML:",
            "virtsh define web1.xml",
        )],
    ),
    (
        "dumpxml",
        &[(
            "The persistent configuration, as it will apply at next boot:",
            "virtsh dumpxml web1 --inactive",
        )],
    ),
    (
        "console",
        &[(
            "Attach to the serial console (leave with Ctrl+]):",
            "virtsh console web1",
        )],
    ),
    (
        "dominfo",
        &[(
            "State, memory and CPUs of one domain:",
            "virtsh dominfo web1",
        )],
    ),
    (
        "net-list",
        &[("Every network, active or not:", "virtsh net-list --all")],
    ),
    (
        "net-start",
        &[("Start the default network:", "virtsh net-start default")],
    ),
    (
        "net-dhcp-leases",
        &[(
            "The addresses handed out on a network:",
            "virtsh net-dhcp-leases default",
        )],
    ),
    (
        "pool-list",
        &[(
            "Every pool with its capacity:",
            "virtsh pool-list --all --details",
        )],
    ),
    (
        "pool-define-as",
        &[(
            "A directory pool:",
            "virtsh pool-define-as images dir --target /srv/images",
        )],
    ),
    (
        "vol-list",
        &[("The volumes of a pool:", "virtsh vol-list default")],
    ),
    (
        "vol-create-as",
        &[(
            "A 10 GiB qcow2 volume:",
            "virtsh vol-create-as default disk1.qcow2 10G --format qcow2",
        )],
    ),
    (
        "snapshot-create-as",
        &[(
            "A named snapshot with a description:",
            "virtsh snapshot-create-as web1 before-upgrade --description 'before the upgrade'",
        )],
    ),
    (
        "snapshot-list",
        &[(
            "A domain's snapshots as a tree:",
            "virtsh snapshot-list web1 --tree",
        )],
    ),
    (
        "snapshot-revert",
        &[(
            "Go back to a snapshot:",
            "virtsh snapshot-revert web1 before-upgrade",
        )],
    ),
];

const INTRO: &str = r#".SH DESCRIPTION
\fBvirtsh\fR manages virtual machines (domains), virtual networks, storage pools and volumes,
host interfaces, secrets and snapshots.
It is a drop-in replacement for libvirt's \fBvirsh\fR(1): the same commands, options, output and
error messages, so scripts written for virsh keep working.
Unlike virsh it needs no daemon: for local hypervisors it keeps state in files and runs one small
supervisor process per running guest.
.PP
Invoked with a \fICOMMAND\fR, \fBvirtsh\fR runs it and exits.
Several commands can be given in one argument, separated by \fB;\fR.
Invoked without a command, it starts an interactive prompt with history and Tab completion.
Installed or symlinked under the name \fBvirsh\fR, it behaves as virsh (its prompt and help say
virsh).
.PP
Most commands act on an object named by its name, UUID or (for running domains) ID.
Options may be given by name (\fB\-\-domain web1\fR) or, for those the synopsis shows in
brackets (\fB[\-\-domain] <string>\fR), by position.
"#;

const URIS: &str = r#".SH CONNECTION URIS
The connection is chosen by \fB\-c\fR, else the environment (see \fBENVIRONMENT\fR), else
\fBuri_default\fR of libvirt.conf, else \fBqemu:///system\fR for root and \fBqemu:///session\fR
for other users.
Aliases from libvirt.conf's \fBuri_aliases\fR are accepted.
.TP
.B test:///default
libvirt's test driver with its built-in objects, in memory; nothing is kept.
.TP
.B test:///PATH.xml
the test driver, loaded from a node description file.
.TP
.B qemu:///system
QEMU/KVM guests of the whole host (state under \fI/etc/virtsh\fR, \fI/run/virtsh\fR,
\fI/var/lib/virtsh\fR).
.TP
.B qemu:///session
QEMU guests of the calling user (state in the user's XDG directories).
.TP
.B qemu:///embed?root=DIR
QEMU guests whose whole state lives under \fIDIR\fR, as libvirt's embed mode.
.TP
.BR lxc:///system ", " xen:///system
containers and Xen guests, with the same layout.
"#;

const TAIL: &str = r#".SH ENVIRONMENT
.TP
.B VIRSH_DEFAULT_CONNECT_URI
the connection URI when \fB\-c\fR is not given.
.TP
.B LIBVIRT_DEFAULT_URI
the connection URI when neither \fB\-c\fR nor \fBVIRSH_DEFAULT_CONNECT_URI\fR is given.
.TP
.B VIRSH_DEBUG
the debug level, as \fB\-d\fR.
.TP
.B VIRSH_LOG_FILE
the log file, as \fB\-l\fR.
.TP
.B VIRSH_HISTSIZE
the number of lines of history the interactive prompt keeps.
.TP
.BR VISUAL ", " EDITOR
the editor the \fB*edit\fR commands run.
.SH EXIT STATUS
0 when the (last) command succeeded; 1 when it failed or the options or connection were
invalid.
Errors are printed on standard error, each line starting with \fBerror:\fR.
.SH FILES
Shell completions are installed from \fIcompletions/\fR of the source tree; they complete command
names, options, option values and object names by calling \fBvirtsh complete\fR.
.SH SEE ALSO
.BR virsh (1),
.BR virt\-admin (1),
.I https://libvirt.org/uri.html
"#;

/// Escape text for roff: backslashes, hyphens (so they stay ASCII minus signs), and a leading
/// `.` or `'` that would start a request.
pub fn esc(s: &str) -> String {
    let e = s.replace('\\', "\\e").replace('-', "\\-");
    if e.starts_with('.') || e.starts_with('\'') {
        format!("\\&{e}")
    } else {
        e
    }
}

/// The parts of `help COMMAND` the page shows: the synopsis and each option's label, in order.
struct Help {
    synopsis: String,
    labels: Vec<String>,
}

fn help_of(def: &CommandDef) -> Help {
    let text = crate::commands::virsh::command_help(def);
    let mut section = "";
    let mut synopsis = String::new();
    let mut labels = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("  ").filter(|h| !h.starts_with(' ')) {
            section = h;
            continue;
        }
        let Some(body) = line.strip_prefix("    ") else {
            continue;
        };
        match section {
            "SYNOPSIS" if synopsis.is_empty() => synopsis = body.to_string(),
            // An option's line starts with its label; a line that does not continues the
            // help of the one before (a help text with a newline).
            "OPTIONS"
                if body.starts_with("--") || body.starts_with('[') || body.starts_with('<') =>
            {
                let label = body.split("  ").next().unwrap_or(body).trim_end();
                labels.push(label.to_string());
            }
            _ => {}
        }
    }
    Help { synopsis, labels }
}

/// A description or option help as roff: paragraphs at blank lines; a paragraph of shell input
/// (`virsh # ...`) kept as typed.
fn prose(out: &mut String, text: &str) {
    let mut first = true;
    for para in text.split("\n\n") {
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        if !first {
            out.push_str(".PP\n");
        }
        first = false;
        let literal = lines[0].starts_with("virsh #");
        if literal {
            out.push_str(".RS 4\n.nf\n");
        }
        for l in &lines {
            let _ = writeln!(out, "{}", esc(l));
        }
        if literal {
            out.push_str(".fi\n.RE\n");
        }
    }
}

/// Which command set a section documents: virsh's, or virt-admin's (`virtsh admin`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    Virsh,
    Admin,
}

impl Set {
    fn all(self) -> Vec<&'static CommandDef> {
        match self {
            Set::Virsh => crate::defs::all().collect(),
            Set::Admin => crate::defs::admin::all().collect(),
        }
    }

    fn examples(self) -> &'static [(&'static str, &'static [(&'static str, &'static str)])] {
        match self {
            Set::Virsh => EXAMPLES,
            Set::Admin => ADMIN_EXAMPLES,
        }
    }
}

fn command(out: &mut String, def: &CommandDef, set: Set) {
    let help = help_of(def);
    let _ = writeln!(out, ".SS {}\n{}", esc(def.name), esc(def.help));
    // The synopsis in fill mode: long ones wrap at blanks instead of running off the page.
    let args = help
        .synopsis
        .strip_prefix(def.name)
        .unwrap_or(&help.synopsis);
    let _ = writeln!(
        out,
        ".PP\n.RS 4\n\\fB{}\\fR{}\n.RE",
        esc(def.name),
        esc(args)
    );
    if !def.desc.is_empty() {
        out.push_str(".PP\n");
        prose(out, def.desc);
    }
    let opts: Vec<_> = def
        .opts
        .iter()
        .filter(|o| !matches!(o.kind, OptKind::Alias(_)))
        .collect();
    if !opts.is_empty() {
        out.push_str(".PP\nOptions:\n.RS 4\n");
        for (o, label) in opts.iter().zip(&help.labels) {
            let _ = writeln!(out, ".TP\n.B {}", esc(label));
            let h = o.help.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            let _ = writeln!(out, "{}", esc(&h));
        }
        out.push_str(".RE\n");
    }
    let aliases: Vec<String> = set
        .all()
        .into_iter()
        .filter(|c| c.alias_of == Some(def.name) && !c.hidden)
        .map(|c| format!("\\fB{}\\fR", esc(c.name)))
        .collect();
    if !aliases.is_empty() {
        let _ = writeln!(out, ".PP\nAlso available as {}.", aliases.join(", "));
    }
    if let Some((_, examples)) = set.examples().iter().find(|(n, _)| *n == def.name) {
        out.push_str(".PP\nExample:\n");
        for (what, cmd) in *examples {
            let _ = writeln!(out, ".RS 4\n{}\n.nf\n{}\n.fi\n.RE", esc(what), esc(cmd));
        }
    }
}

/// The global options as tagged paragraphs.
fn options(out: &mut String, opts: &[super::GlobalOpt]) {
    for o in opts {
        let mut names = Vec::new();
        if let Some(s) = o.short {
            names.push(format!("\\fB\\-{s}\\fR"));
        }
        if let Some(l) = o.long {
            let arg = match (o.arg, l) {
                (Some(a), _) => format!("=\\fI{a}\\fR"),
                (None, "version") => "[=\\fITYPE\\fR]".to_string(),
                (None, _) => String::new(),
            };
            names.push(format!("\\fB\\-\\-{}\\fR{arg}", esc(l)));
        } else if let Some(a) = o.arg {
            names.push(format!("\\fI{a}\\fR"));
        }
        let _ = writeln!(out, ".TP\n{}\n{}", names.join(", "), esc(o.help));
    }
}

/// Examples of the admin commands, as `virtsh admin` runs them.
const ADMIN_EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "server-list",
        &[(
            "The servers of the system's libvirtd:",
            "virtsh admin -c libvirtd:///system server-list",
        )],
    ),
    (
        "client-list",
        &[(
            "Who is connected to the modular QEMU daemon:",
            "virtsh admin -c virtqemud:///system client-list virtqemud",
        )],
    ),
    (
        "server-threadpool-set",
        &[(
            "More worker threads for libvirtd:",
            "virtsh admin server-threadpool-set libvirtd --max-workers 40",
        )],
    ),
    (
        "daemon-log-filters",
        &[(
            "Debug messages of the QEMU driver only, from now on:",
            "virtsh admin daemon-log-filters --filters '1:qemu 4:*'",
        )],
    ),
];

const ADMIN_INTRO: &str = r#".SH VIRT-ADMIN
\fBvirtsh admin\fR [\fIOPTION\fR]... [\fICOMMAND_STRING\fR]
.br
\fBvirtsh admin\fR [\fIOPTION\fR]... \fICOMMAND\fR [\fIARG\fR]...
.PP
Manages libvirt's daemons themselves (libvirtd, or virtqemud and the other modular daemons)
through their admin socket: their servers, connected clients, worker threads, client limits,
logging and shutdown timeout.
It is a drop-in replacement for libvirt's \fBvirt\-admin\fR(1): the same commands, options,
output and error messages.
Installed or symlinked under the name \fBvirt\-admin\fR, virtsh behaves as virt-admin (its prompt
is \fBvirt\-admin #\fR).
The word \fBadmin\fR is recognised only as the first argument; the options after it are
virt-admin's:
"#;

const ADMIN_URIS: &str = r#".PP
The daemon is chosen by \fB\-c\fR, else \fBLIBVIRT_ADMIN_DEFAULT_URI\fR, else \fBuri_default\fR
of libvirt-admin.conf (\fI/etc/libvirt/libvirt\-admin.conf\fR for root,
\fI$XDG_CONFIG_HOME/libvirt/libvirt\-admin.conf\fR otherwise, whose \fBuri_aliases\fR are
accepted too), else \fBlibvirtd:///system\fR for root and \fBlibvirtd:///session\fR for other
users.
Without \fB\-c\fR, the connection is made by the first command that needs it.
.TP
.B libvirtd:///system
the system libvirtd, through \fI/run/libvirt/libvirt\-admin\-sock\fR.
.TP
.BR virtqemud:///system ", " virtproxyd:///system ", ..."
a modular daemon, through \fI/run/libvirt/virtqemud\-admin\-sock\fR and so on.
.TP
.BR libvirtd:///session ", " virtqemud:///session
the user's daemon, through the same socket names in \fI$XDG_RUNTIME_DIR/libvirt\fR.
.TP
.BI libvirtd:///system?socket= PATH
any daemon, through the admin socket at \fIPATH\fR.
.PP
Environment: \fBVIRT_ADMIN_DEBUG\fR and \fBVIRT_ADMIN_LOG_FILE\fR stand for \fB\-d\fR and
\fB\-l\fR, \fBVIRT_ADMIN_HISTSIZE\fR is the prompt's history size.
.PP
The commands, grouped as \fBvirtsh admin help\fR lists them.
"#;

/// The VIRT-ADMIN part: `virtsh admin`, its options and URIs, then its command groups.
fn admin(out: &mut String) {
    out.push_str(ADMIN_INTRO);
    options(out, super::ADMIN_GLOBAL_OPTS);
    out.push_str(ADMIN_URIS);
    for g in crate::defs::admin::GROUPS {
        let _ = writeln!(
            out,
            ".SH \"VIRT-ADMIN: {}\"\nHelp keyword: \\fB{}\\fR.",
            esc(&g.name.to_uppercase()),
            esc(g.keyword)
        );
        for def in crate::defs::admin::listed_in_group(g) {
            command(out, def, Set::Admin);
        }
    }
}

pub fn page() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        ".\\\" Generated by `virtsh --generate=man`: do not edit, regenerate.\n\
         .TH VIRTSH 1 \"\" \"virtsh {}\" \"User Commands\"\n\
         .\\\" Left-aligned, unhyphenated: synopses stay readable and option names whole.\n\
         .nh\n\
         .ad l\n\
         .SH NAME\n\
         virtsh \\- manage virtual machines, networks and storage (a drop\\-in virsh)\n\
         .SH SYNOPSIS\n\
         .B virtsh\n\
         [\\fIOPTION\\fR]... [\\fICOMMAND_STRING\\fR]\n\
         .br\n\
         .B virtsh\n\
         [\\fIOPTION\\fR]... \\fICOMMAND\\fR [\\fIARG\\fR]...\n\
         .br\n\
         .B virtsh admin\n\
         [\\fIOPTION\\fR]... [\\fICOMMAND_STRING\\fR]\n\
         .br\n\
         .B virtsh admin\n\
         [\\fIOPTION\\fR]... \\fICOMMAND\\fR [\\fIARG\\fR]...",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(INTRO);
    out.push_str(".SH OPTIONS\n");
    options(&mut out, super::GLOBAL_OPTS);
    out.push_str(URIS);
    out.push_str(
        ".SH COMMANDS\n\
         The commands, grouped as \\fBvirtsh help\\fR lists them.\n\
         \\fBvirtsh help\\fR \\fICOMMAND\\fR prints the same synopsis, description and options.\n",
    );
    for g in crate::defs::GROUPS {
        let _ = writeln!(
            out,
            ".SH \"{}\"\nHelp keyword: \\fB{}\\fR.",
            esc(&g.name.to_uppercase()),
            esc(g.keyword)
        );
        for def in crate::defs::listed_in_group(g) {
            command(&mut out, def, Set::Virsh);
        }
    }
    admin(&mut out);
    out.push_str(TAIL);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_command_and_alias_is_documented() {
        let page = page();
        for c in crate::defs::all().filter(|c| !c.hidden) {
            match c.alias_of {
                None => assert!(
                    page.contains(&format!(".SS {}\n{}\n", esc(c.name), esc(c.help))),
                    "{} is missing from the man page",
                    c.name
                ),
                Some(_) => assert!(
                    page.contains(&format!("\\fB{}\\fR", esc(c.name))),
                    "alias {} is missing from the man page",
                    c.name
                ),
            }
        }
    }

    #[test]
    fn every_admin_command_and_alias_is_documented() {
        let page = page();
        assert!(page.contains(".SH VIRT-ADMIN\n"));
        for c in crate::defs::admin::all().filter(|c| !c.hidden) {
            match c.alias_of {
                None => assert!(
                    page.contains(&format!(".SS {}\n{}\n", esc(c.name), esc(c.help))),
                    "{} is missing from the man page",
                    c.name
                ),
                Some(_) => assert!(
                    page.contains(&format!("\\fB{}\\fR", esc(c.name))),
                    "alias {} is missing from the man page",
                    c.name
                ),
            }
        }
        for (name, _) in ADMIN_EXAMPLES {
            assert!(crate::defs::admin::find(name).is_some(), "{name}");
        }
    }

    /// Each command shows one label per documented option, as `help COMMAND` does.
    #[test]
    fn labels_match_options() {
        for c in crate::defs::all() {
            let n = c
                .opts
                .iter()
                .filter(|o| !matches!(o.kind, OptKind::Alias(_)))
                .count();
            assert_eq!(help_of(c).labels.len(), n, "{}", c.name);
        }
    }

    #[test]
    fn examples_name_declared_commands() {
        for (name, _) in EXAMPLES {
            assert!(crate::defs::find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(esc("--all"), "\\-\\-all");
        assert_eq!(esc(".hidden"), "\\&.hidden");
        assert_eq!(esc("a\\b"), "a\\eb");
    }
}
