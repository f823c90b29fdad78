//! `expired-suppression`: see rules/expired-suppression.toml. Reported by the
//! pipeline after suppressions are applied, so it has no hook of its own.

use super::Rule;
use crate::diag::Diagnostic;
use crate::suppress::Suppression;

pub struct ExpiredSuppression;

impl Rule for ExpiredSuppression {
    fn name(&self) -> &'static str {
        "expired-suppression"
    }
}

pub fn finding(s: &Suppression) -> Diagnostic {
    let until = s.until.map(|d| d.to_string()).unwrap_or_default();
    Diagnostic::new(
        ExpiredSuppression.name(),
        format!(
            "suppression of {} expired on {until}: the findings it covered are reported again",
            s.rules.join(", ")
        ),
        s.span,
        format!("until={until}"),
    )
    .with_help("fix the findings, or extend the date with a reason")
}
