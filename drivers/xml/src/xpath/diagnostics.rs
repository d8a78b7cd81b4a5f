//! libxml2's XPath error codes and how it reports them on stderr.

/// libxml2's xmlXPathErrorCode values that the compiler and evaluator raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XPathError {
    NumberError,
    UnfinishedLiteral,
    StartLiteral,
    VariableRef,
    UndefVariable,
    InvalidPredicate,
    Expr,
    Unclosed,
    UnknownFunc,
    InvalidOperand,
    InvalidType,
    InvalidArity,
    InvalidCtxtSize,
    InvalidCtxtPosition,
    UndefPrefix,
    RecursionLimit,
}

impl XPathError {
    /// The message libxml2 prints after "XPath error : ".
    pub fn message(self) -> &'static str {
        match self {
            XPathError::NumberError => "Number encoding",
            XPathError::UnfinishedLiteral => "Unfinished literal",
            XPathError::StartLiteral => "Start of literal",
            XPathError::VariableRef => "Expected $ for variable reference",
            XPathError::UndefVariable => "Undefined variable",
            XPathError::InvalidPredicate => "Invalid predicate",
            XPathError::Expr => "Invalid expression",
            XPathError::Unclosed => "Missing closing curly brace",
            XPathError::UnknownFunc => "Unregistered function",
            XPathError::InvalidOperand => "Invalid operand",
            XPathError::InvalidType => "Invalid type",
            XPathError::InvalidArity => "Invalid number of arguments",
            XPathError::InvalidCtxtSize => "Invalid context size",
            XPathError::InvalidCtxtPosition => "Invalid context position",
            XPathError::UndefPrefix => "Undefined namespace prefix",
            XPathError::RecursionLimit => "Recursion limit exceeded",
        }
    }
}

/// libxml2's report of an XPath error: the message, and below it the expression with a caret
/// when the error position is inside it (and before column 100).
pub(super) fn report(out: &mut String, err: XPathError, expr: &str, pos: usize) {
    out.push_str("XPath error : ");
    out.push_str(err.message());
    out.push('\n');
    if pos < 100 && pos < expr.len() {
        out.push_str(expr);
        out.push('\n');
        out.push_str(&" ".repeat(pos));
        out.push_str("^\n");
    }
}
