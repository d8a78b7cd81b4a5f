//! The compiled form of an XPath expression: location steps and expression nodes, as xpath.c's
//! compiler builds them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Axis {
    Ancestor,
    AncestorOrSelf,
    Attribute,
    Child,
    Descendant,
    DescendantOrSelf,
    Following,
    FollowingSibling,
    Namespace,
    Parent,
    Preceding,
    PrecedingSibling,
    Itself,
}

impl Axis {
    pub(super) fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "attribute" => Axis::Attribute,
            "child" => Axis::Child,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "following" => Axis::Following,
            "following-sibling" => Axis::FollowingSibling,
            "namespace" => Axis::Namespace,
            "parent" => Axis::Parent,
            "preceding" => Axis::Preceding,
            "preceding-sibling" => Axis::PrecedingSibling,
            "self" => Axis::Itself,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeType {
    Node,
    Text,
    Comment,
    Pi,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeTest {
    Type(NodeType),
    Pi(String),
    All(Option<String>),
    Name(Option<String>, String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    pub(super) axis: Axis,
    pub(super) test: NodeTest,
    pub(super) preds: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    /// Placeholder after a syntax error (never evaluated).
    Error,
    Root,
    Context,
    Literal(String),
    Number(f64),
    Var(Option<String>, String),
    Func(Option<String>, String, Vec<Expr>),
    /// A parenthesised expression that libxml2 wraps in a SORT operation (anything but a
    /// literal or a number); `(...)[1]` and `(...)[last()]` take a shortcut on those.
    Sorted(Box<Expr>),
    Filter(Box<Expr>, Box<Expr>),
    /// Location steps applied in turn to a starting node-set (kept flat, not nested, so that
    /// a path of thousands of steps needs no deep recursion).
    Path(Box<Expr>, Vec<Step>),
    Union(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Equal(bool, Box<Expr>, Box<Expr>),
    /// inf (`<`/`<=`), strict (`<`/`>`).
    Compare(bool, bool, Box<Expr>, Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    ToNumber(Box<Expr>),
}

pub(super) fn descendant_or_self(input: Expr) -> Expr {
    add_step(
        input,
        Step {
            axis: Axis::DescendantOrSelf,
            test: NodeTest::Type(NodeType::Node),
            preds: Vec::new(),
        },
    )
}

pub(super) fn add_step(input: Expr, step: Step) -> Expr {
    match input {
        Expr::Path(base, mut steps) => {
            steps.push(step);
            Expr::Path(base, steps)
        }
        other => Expr::Path(Box::new(other), vec![step]),
    }
}
