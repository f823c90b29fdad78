//! The one diagnostic type every rule builds and every emitter reads.

use crate::source::{SourceMap, Span, path_of};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A span with the text shown beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding. Built by a rule with [`Diagnostic::new`] and the `with_*` methods;
/// the pipeline fills in `severity` (rule default or config override) and `host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    /// Other places involved, in this file or another one (the other side of a cross-check).
    pub related: Vec<Label>,
    pub help: Option<String>,
    pub host: Option<String>,
    /// Edits that resolve the finding, the preferred first (`--fix` applies the
    /// first it may: a safe one, or with `--unsafe-fixes` any); each is offered
    /// as an editor code action. Cross-file mismatches carry one per direction.
    pub fixes: Vec<Fix>,
    /// The most the rule's default severity can be for this finding (a problem
    /// that holds only in part: sessions that work unless the client picks TLS).
    /// A severity set in `pasvlint.toml` is used as it is.
    pub at_most: Option<Severity>,
    /// The finding holds only on some platforms; judged on the host's once hosts
    /// are known (see `crate::platform`).
    pub unless: Option<crate::platform::Exemption>,
}

/// An edit: replace each span with its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Span, String)>,
    /// `false` when it changes what the host does beyond the finding (the server's
    /// range moves to the ports the firewall opens): applied only when asked.
    pub safe: bool,
}

impl Diagnostic {
    pub fn new(
        rule: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                message: label.into(),
            },
            related: Vec::new(),
            help: None,
            host: None,
            fixes: Vec::new(),
            at_most: None,
            unless: None,
        }
    }

    /// The finding does not hold on platforms `exemption` names.
    pub fn unless(mut self, exemption: crate::platform::Exemption) -> Self {
        self.unless = Some(exemption);
        self
    }

    pub fn at_most(mut self, severity: Severity) -> Self {
        self.at_most = Some(severity);
        self
    }

    pub fn with_fix(mut self, title: impl Into<String>, edits: Vec<(Span, String)>) -> Self {
        self.fixes.push(Fix {
            title: title.into(),
            edits,
            safe: true,
        });
        self
    }

    /// A fix that changes behaviour beyond the finding: offered, applied only with
    /// `--unsafe-fixes`.
    pub fn with_unsafe_fix(mut self, title: impl Into<String>, edits: Vec<(Span, String)>) -> Self {
        self.fixes.push(Fix {
            title: title.into(),
            edits,
            safe: false,
        });
        self
    }

    /// Fixes built elsewhere (a firewall's or a server's side of a mismatch).
    pub fn with_fixes(mut self, fixes: impl IntoIterator<Item = Fix>) -> Self {
        self.fixes.extend(fixes);
        self
    }

    /// The fix `--fix` applies: the first safe one, or the first of all with
    /// `with_unsafe`.
    pub fn fix_to_apply(&self, with_unsafe: bool) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.safe || with_unsafe)
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Order of every report: file, position, rule, message.
    pub fn sort_key(&self) -> (u32, u32, u32, &'static str, &str) {
        let s = self.primary.span;
        (s.file.0, s.start, s.end, self.rule, &self.message)
    }
}

/// Stable identity of a finding that survives edits elsewhere in the file:
/// rule, host, file and message (which carries the facts: ports, names), never line numbers.
pub fn fingerprint(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        d.rule,
        d.host.as_deref().unwrap_or(""),
        &path_of(sources, d.primary.span),
        &d.message,
    ] {
        for b in part.bytes().chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
