//! What a service script is started with. An init script (`/etc/init.d/firewall`,
//! an `rc.firewall`, a unit's `ExecStart=… start`) picks its work with
//! `case "$1" in start) … ;; stop) … ;; esac`; at boot the init system runs it
//! with `start`, so that is the argument it is read with. Left unknown, every arm
//! would run one after another, the `stop` arm's DROP policies included.

use super::ast::{Node, ParamOp, Part, WordT};

/// Whether the script's own top level dispatches on `$1` with an arm written
/// for `start` (not only a `*)` catch-all).
pub fn dispatches_start(items: &[Node]) -> bool {
    items.iter().any(|n| match n {
        Node::Case { subject, arms } => {
            is_first_argument(subject)
                && arms
                    .iter()
                    .flat_map(|a| a.patterns.iter())
                    .filter_map(literal)
                    .any(|p| p != "*" && super::glob::matches(&p, "start"))
        }
        Node::List(nodes) => dispatches_start(nodes),
        _ => false,
    })
}

/// `$1`, `"$1"` or `${1}`.
fn is_first_argument(word: &WordT) -> bool {
    let parts = match word.parts.as_slice() {
        [Part::DQuote { parts, .. }] => parts.as_slice(),
        parts => parts,
    };
    matches!(parts, [Part::Param(p)] if p.name == "1" && p.op == ParamOp::Plain && !p.length && p.index.is_none())
}

/// A pattern made of text alone (`start`, `'start'`, `start|restart` is two).
fn literal(word: &WordT) -> Option<String> {
    let mut text = String::new();
    for part in &word.parts {
        match part {
            Part::Lit { text: t, .. } => text.push_str(t),
            _ => return None,
        }
    }
    Some(text)
}
