//! `check --format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality`).
//!
//! Severity: error → `critical`, warning → `major`, info → `info`. A pasvlint error is
//! a config the daemon rejects or a firewall that breaks transfers: an outage once
//! deployed, which is what GitLab's `critical` means. `blocker` is left unused because
//! whether a finding blocks the merge is the pipeline's `--fail-on`, not the finding's.
//! Fingerprints are pasvlint's (rule, host, file, message), made unique within the report.

use super::{location, path_of, unique_fingerprints};
use crate::Report;
use crate::diag::Severity;
use serde_json::{Value, json};

pub fn render(report: &Report) -> String {
    let issues: Vec<Value> = report
        .diagnostics
        .iter()
        .zip(unique_fingerprints(report))
        .map(|(d, fingerprint)| {
            let loc = location(&report.sources, d.primary.span);
            json!({
                "description": d.message,
                "check_name": d.rule,
                "fingerprint": fingerprint,
                "severity": severity(d.severity),
                "location": {
                    "path": path_of(&report.sources, d.primary.span),
                    "lines": { "begin": loc.line, "end": loc.last_line() },
                },
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_default();
    s.push('\n');
    s
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}
