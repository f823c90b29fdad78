//! `ufw-not-enabled`: see rules/ufw-not-enabled.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::ufw::files::{self, Stage};

pub struct UfwNotEnabled;

impl Rule for UfwNotEnabled {
    fn name(&self) -> &'static str {
        "ufw-not-enabled"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Ufw(host) = &bundle.doc else {
            return;
        };
        let Some(enabled) = &host.disabled else {
            return;
        };
        let span = enabled.span;
        let mut d = Diagnostic::new(
            self.name(),
            "ufw.conf sets ENABLED=no: ufw-init loads none of this host's ufw rules at boot, so they filter nothing",
            span,
            "ufw is off",
        )
        .with_help("set ENABLED=yes (what `ufw enable` writes), or remove the ufw files if another firewall guards the host");
        for part in &bundle.parts {
            if matches!(files::rules_file(&part.source.path), Some((Stage::User, _))) {
                let first = part.source.text.find('\n').unwrap_or(part.source.text.len());
                d = d.with_related(part.source.span(0, first), "rules that are not loaded");
            }
        }
        let quote = if bundle_text(bundle, enabled.value_span).starts_with('"') {
            "\""
        } else {
            ""
        };
        // Unsafe: turning a firewall on changes what reaches every service.
        out.push(d.with_unsafe_fix(
            "set ENABLED=yes",
            vec![(enabled.value_span, format!("{quote}yes{quote}"))],
        ));
    }
}

/// The text at `span` in the bundle's file that holds it.
fn bundle_text(bundle: &Bundle, span: crate::source::Span) -> &str {
    bundle
        .parts
        .iter()
        .find(|p| p.source.id == span.file)
        .and_then(|p| p.source.text.get(span.range()))
        .unwrap_or("")
}
