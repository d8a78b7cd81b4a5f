//! The one error type of the XML layer.
//!
//! libvirt distinguishes XML that does not parse (libxml2's message, with the line and a caret)
//! from XML that parses but does not describe a valid object ("XML error: ...", "missing name
//! information"). Both carry a position where one is known, so the shell can point into the file.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::sync::Arc;
use thiserror::Error;

/// Which of libvirt's error codes this error mirrors; the shell maps it onto the api error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlErrorKind {
    /// The text is not well-formed XML (VIR_ERR_XML_DETAIL in libvirt).
    Malformed,
    /// Well-formed, but not a valid definition (VIR_ERR_XML_ERROR: "XML error: ...").
    Invalid,
    /// A required element is missing and libvirt words it without the "XML error" prefix
    /// (VIR_ERR_NO_NAME and friends: "missing name information").
    Missing,
    /// Valid XML, but a value libvirt refuses, with the message already in libvirt's full words
    /// (its prefix included: "invalid argument: ", "internal error: ", ...).
    Unsupported,
    /// VIR_ERR_CONFIG_UNSUPPORTED: printed as "unsupported configuration: ...".
    Config,
}

#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct XmlError {
    pub kind: XmlErrorKind,
    /// The message as libvirt words it, without position.
    pub message: String,
    /// 1-based line and column of the offending text, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Shared, so the error stays small enough to return by value everywhere.
    #[source_code]
    pub src: Option<Arc<NamedSource<String>>>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

impl XmlError {
    pub fn new(kind: XmlErrorKind, message: impl Into<String>) -> Self {
        XmlError {
            kind,
            message: message.into(),
            line: None,
            column: None,
            src: None,
            span: None,
        }
    }

    /// "XML error: ..." as libvirt's VIR_ERR_XML_ERROR prints it.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(XmlErrorKind::Invalid, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(XmlErrorKind::Unsupported, message)
    }

    /// "unsupported configuration: ..." as libvirt's VIR_ERR_CONFIG_UNSUPPORTED prints it.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(XmlErrorKind::Config, message)
    }

    /// Attach a position (byte offset into `text`) so diagnostics can show the snippet.
    pub fn at(mut self, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let (line, column) = line_col(text, offset);
        self.line = Some(line);
        self.column = Some(column);
        self.span = Some(SourceSpan::from((offset, 0)));
        self
    }

    /// Name the source (a file name, or libvirt's "(domain_definition)") for diagnostics.
    pub fn with_source(mut self, name: &str, text: &str) -> Self {
        self.src = Some(Arc::new(NamedSource::new(name, text.to_string())));
        self
    }

    /// The error libvirt reports for this one, as an API error: the message of
    /// [`libvirt_message`](Self::libvirt_message) under the error kind whose prefix it carries.
    pub fn api_error(&self, context: &str, text: &str) -> virtsh_api::Error {
        use virtsh_api::{Error, ErrorKind};
        let message = self.libvirt_message(context, text);
        let kind = match self.kind {
            XmlErrorKind::Malformed => ErrorKind::XmlDetail,
            XmlErrorKind::Invalid => ErrorKind::XmlError,
            XmlErrorKind::Config => ErrorKind::ConfigUnsupported,
            // The XML layer words the others completely, prefix included where libvirt has one.
            _ => {
                const PREFIXES: [(&str, ErrorKind); 7] = [
                    ("internal error: ", ErrorKind::InternalError),
                    ("invalid argument: ", ErrorKind::InvalidArg),
                    ("XML error: ", ErrorKind::XmlError),
                    ("unsupported configuration: ", ErrorKind::ConfigUnsupported),
                    ("operation failed: ", ErrorKind::OperationFailed),
                    (
                        "this function is not supported by the connection driver: ",
                        ErrorKind::NoSupport,
                    ),
                    ("missing name information", ErrorKind::NoName),
                ];
                PREFIXES
                    .iter()
                    .find(|(p, _)| message.starts_with(p))
                    .map(|(_, k)| *k)
                    .unwrap_or(ErrorKind::XmlDetail)
            }
        };
        Error::raw(kind, message)
    }

    /// The message in libvirt's own words, the way `virsh` prints it after "error: ".
    /// Malformed XML is reported as libvirt does: `(context):LINE: message`, then the
    /// offending line and a caret under the column.
    pub fn libvirt_message(&self, context: &str, text: &str) -> String {
        match (self.kind, self.line) {
            (XmlErrorKind::Malformed, Some(line)) => {
                let col = self.column.unwrap_or(1);
                let src_line = text.lines().nth(line - 1).unwrap_or("");
                let caret = format!("{}^", "-".repeat(col.saturating_sub(1)));
                format!("({context}):{line}: {}\n{src_line}\n{caret}", self.message)
            }
            (XmlErrorKind::Invalid, _) => format!("XML error: {}", self.message),
            (XmlErrorKind::Config, _) => format!("unsupported configuration: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "<a>\n  <b/>\n</a>";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 3));
    }

    #[test]
    fn malformed_message_has_caret() {
        let text = "<a>\n<b>\n</a>";
        let e = XmlError::new(XmlErrorKind::Malformed, "mismatch").at(text, 9);
        assert_eq!(
            e.libvirt_message("ctx", text),
            "(ctx):3: mismatch\n</a>\n-^"
        );
    }
}
