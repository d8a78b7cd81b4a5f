//! The shape of a command declaration. Every command is declared once (in `defs/`), and the
//! parser, `help`, the man page and every completion are derived from that declaration.
//!
//! The option kinds and flags are virsh's own (vshCmdOptDef), because they decide parsing:
//! which options may be given positionally, which are required, how `help` prints them.

/// How an option takes its value (virsh's VSH_OT_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    /// A flag: `--all`.
    Bool,
    /// A number: `--count 2`, or positionally when not `req_opt`.
    Int,
    /// A string: `--file x`, or positionally when not `req_opt`.
    String,
    /// A required positional string that may also be spelled `--name VALUE`.
    Data,
    /// The rest of the arguments (always last).
    Argv,
    /// An undocumented alternative spelling of another option; `target` may be `name=value`.
    Alias(&'static str),
}

/// What completes an option's value, in the REPL and in shell completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    Domain,
    Network,
    Pool,
    Volume,
    Interface,
    Snapshot,
    File,
    Command,
    Values(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct OptDef {
    pub name: &'static str,
    pub kind: OptKind,
    /// Must be given (VSH_OFLAG_REQ).
    pub required: bool,
    /// May only be given as `--name VALUE`, never positionally (VSH_OFLAG_REQ_OPT).
    pub req_opt: bool,
    pub help: &'static str,
    pub complete: Complete,
}

impl OptDef {
    const fn new(name: &'static str, kind: OptKind, help: &'static str) -> Self {
        OptDef {
            name,
            kind,
            required: false,
            req_opt: false,
            help,
            complete: Complete::Nothing,
        }
    }
    pub const fn bool(name: &'static str, help: &'static str) -> Self {
        Self::new(name, OptKind::Bool, help)
    }
    pub const fn int(name: &'static str, help: &'static str) -> Self {
        Self::new(name, OptKind::Int, help)
    }
    pub const fn string(name: &'static str, help: &'static str) -> Self {
        Self::new(name, OptKind::String, help)
    }
    /// A required positional argument.
    pub const fn data(name: &'static str, help: &'static str) -> Self {
        Self::new(name, OptKind::Data, help).req()
    }
    pub const fn argv(name: &'static str, help: &'static str) -> Self {
        Self::new(name, OptKind::Argv, help)
    }
    pub const fn alias(name: &'static str, target: &'static str) -> Self {
        Self::new(name, OptKind::Alias(target), target)
    }
    pub const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn req_opt(mut self) -> Self {
        self.req_opt = true;
        self
    }
    pub const fn complete(mut self, c: Complete) -> Self {
        self.complete = c;
        self
    }
    /// True when this option consumes a positional argument (virsh's opts_need_arg).
    pub fn positional(&self) -> bool {
        !matches!(self.kind, OptKind::Bool | OptKind::Alias(_)) && !self.req_opt
    }
}

/// A virsh help group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Group {
    pub name: &'static str,
    pub keyword: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct CommandDef {
    pub name: &'static str,
    /// Read by the man page and completion generators; help listings go group by group.
    #[allow(dead_code)]
    pub group: &'static Group,
    /// One line, shown by `help` and `help GROUP`.
    pub help: &'static str,
    /// The DESCRIPTION paragraph of `help COMMAND` (may contain newlines).
    pub desc: &'static str,
    pub opts: &'static [OptDef],
    /// Runs without a connection (help, echo, cd, connect, ...).
    pub no_connect: bool,
    /// Another name for `alias_of` (hidden from help listings).
    pub alias_of: Option<&'static str>,
    /// Runs, and has `help`, but is never listed (virsh's VSH_CMD_FLAG_HIDDEN).
    pub hidden: bool,
}

impl CommandDef {
    pub const fn new(
        name: &'static str,
        group: &'static Group,
        help: &'static str,
        desc: &'static str,
        opts: &'static [OptDef],
    ) -> Self {
        CommandDef {
            name,
            group,
            help,
            desc,
            opts,
            no_connect: false,
            alias_of: None,
            hidden: false,
        }
    }
    pub const fn no_connect(mut self) -> Self {
        self.no_connect = true;
        self
    }
    pub const fn alias_of(mut self, target: &'static str) -> Self {
        self.alias_of = Some(target);
        self
    }
    pub const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
    pub fn opt(&self, name: &str) -> Option<&'static OptDef> {
        self.opts.iter().find(|o| o.name == name)
    }
}
