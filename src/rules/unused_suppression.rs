//! `unused-suppression`: see rules/unused-suppression.toml. Reported by the
//! pipeline after suppressions are applied, so it has no hook of its own.

use super::Rule;
use crate::diag::Diagnostic;
use crate::suppress::Suppression;

pub struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn name(&self) -> &'static str {
        "unused-suppression"
    }
}

pub fn finding(s: &Suppression) -> Diagnostic {
    let unknown: Vec<&str> = s
        .rules
        .iter()
        .map(String::as_str)
        .filter(|r| *r != "all" && super::meta(r).is_none())
        .collect();
    let names = s.rules.join(", ");
    let (message, help) = if s.rules.is_empty() {
        (
            "suppression names no rule".to_owned(),
            "name the rule: pasvlint: ignore <rule> -- reason".to_owned(),
        )
    } else if !unknown.is_empty() {
        (
            format!("suppression names unknown rule {}", unknown.join(", ")),
            "use a name from `pasvlint rules`".to_owned(),
        )
    } else {
        (
            format!("suppression of {names} matches no finding"),
            "remove the comment: nothing here needs it any more".to_owned(),
        )
    };
    let d = Diagnostic::new(UnusedSuppression.name(), message, s.span, "unused").with_help(help);
    // A name that matches no rule may be a typo of one that is needed: not removed.
    match s.removal.filter(|_| unknown.is_empty() && !s.rules.is_empty()) {
        Some(span) => d.with_fix("remove the unused suppression", vec![(span, String::new())]),
        None => d,
    }
}
