//! `script-limit-reached`: see rules/script-limit-reached.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::scripts::{Limit, LimitKind};

pub struct ScriptLimitReached;

impl Rule for ScriptLimitReached {
    fn name(&self) -> &'static str {
        "script-limit-reached"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(outcome) = crate::formats::script_outcome(file) else {
            return;
        };
        for limit in &outcome.limits {
            out.push(finding(self.name(), limit));
        }
    }
}

fn finding(rule: &'static str, limit: &Limit) -> Diagnostic {
    let n = thousands(limit.limit);
    let (message, label, help) = match limit.kind {
        LimitKind::Steps => (
            format!(
                "stopped following the script here: {n} steps reached; commands after this point are not checked"
            ),
            "the step budget ran out here",
            "open port ranges with one command (`--dport 40000:40100`, `localport=40000-40100`) instead of a loop per port, and give loops fewer iterations",
        ),
        LimitKind::Commands => (
            format!(
                "stopped following the script here: {n} commands reached; commands after this point are not checked"
            ),
            "the command budget ran out here",
            "open port ranges with one command (`--dport 40000:40100`, `localport=40000-40100`) instead of one command per port",
        ),
        LimitKind::StringLength => (
            format!(
                "a value grew past {n} characters here; from this point it is unknown, and so is what uses it"
            ),
            "this value is too long to follow",
            "build the value once instead of doubling it in a loop",
        ),
        LimitKind::Nesting => (
            format!(
                "stopped following a block here: nested deeper than {n} levels; commands inside it are not checked"
            ),
            "nested too deep to follow",
            "flatten the nesting: fewer loops inside loops, and no function or label that calls itself",
        ),
    };
    let key = match limit.kind {
        LimitKind::Steps => "script_steps",
        LimitKind::Commands => "script_commands",
        LimitKind::StringLength => "string_bytes",
        LimitKind::Nesting => "nesting_depth",
    };
    let help = format!("{help}; or raise `{key}` under [limits] in pasvlint.toml");
    Diagnostic::new(rule, message, limit.span, label).with_help(help)
}

/// `1000000` as `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(64), "64");
        assert_eq!(thousands(100_000), "100,000");
    }

    #[test]
    fn each_kind_says_what_ran_out() {
        let span = Span::new(FileId(0), 3, 9);
        let steps = finding(
            "script-limit-reached",
            &Limit {
                kind: LimitKind::Steps,
                span,
                limit: 1_000_000,
            },
        );
        assert_eq!(
            steps.message,
            "stopped following the script here: 1,000,000 steps reached; commands after this point are not checked"
        );
        assert_eq!(steps.primary.span, span);
        let nesting = finding(
            "script-limit-reached",
            &Limit {
                kind: LimitKind::Nesting,
                span,
                limit: 64,
            },
        );
        assert!(nesting.message.contains("deeper than 64 levels"));
    }
}
