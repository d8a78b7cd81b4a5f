//! Escaping of values that go into QEMU's `key=value,...` option strings.

use super::CmdlineError;

/// Refuse strings QEMU (or a log reader) could misinterpret: control characters and NUL.
pub fn check(what: &str, value: &str) -> Result<(), CmdlineError> {
    if value.chars().any(char::is_control) {
        return Err(CmdlineError::BadValue {
            what: what.to_string(),
            value: value.escape_debug().to_string(),
            reason: "control characters are not allowed".into(),
        });
    }
    Ok(())
}

/// QEMU's rule for a value inside `key=value,...`: a comma is written twice.
/// `/tmp/a,file=/etc/shadow` becomes `/tmp/a,,file=/etc/shadow`, one value.
pub fn opt_value(what: &str, value: &str) -> Result<String, CmdlineError> {
    check(what, value)?;
    Ok(value.replace(',', ",,"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_doubled() {
        assert_eq!(opt_value("p", "/a,b,,c").unwrap(), "/a,,b,,,,c");
        assert_eq!(opt_value("p", "plain").unwrap(), "plain");
    }

    #[test]
    fn control_refused() {
        assert!(opt_value("p", "a\nb").is_err());
        assert!(opt_value("p", "a\0b").is_err());
        assert!(check("p", "tab\there").is_err());
    }
}
