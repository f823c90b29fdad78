//! The fix for a path to adsutil.vbs split by spaces (`c: \ Inetpub \ adsutil. vbs`,
//! as machine-translated guides print it): the pieces written as one path, and a
//! verb glued to its path (`set/msftpsvc/...`) given its blank back, where the
//! script writes them as literals. Pieces that come through a variable read
//! differently from what is written there, so they get no fix.

use super::RULE_IIS_COMMAND;
use crate::formats::winfw::Finding;
use crate::source::{SourceFile, Span};

/// A split path as the interpreter read it: `span` the finding's (the pieces),
/// `pieces` their texts, `verb` the next argument when it glues the verb to its
/// path (its span and the text with the blank put back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitPath {
    pub span: Span,
    pub pieces: Vec<String>,
    pub verb: Option<(Span, String)>,
}

/// `finding` with the joined path as an unsafe fix (the command then runs and sets
/// the range), when it is the finding of a recorded split path written literally.
pub fn with_fix(finding: Finding, split: &[SplitPath], source: &SourceFile) -> Finding {
    if finding.rule != RULE_IIS_COMMAND {
        return finding;
    }
    let Some(s) = split.iter().find(|s| s.span == finding.span) else {
        return finding;
    };
    let joined: String = s.pieces.concat();
    let written: String = source.slice(s.span).split_whitespace().collect();
    if written != joined || joined.contains(['"', '%', '!']) {
        return finding;
    }
    let mut edits = vec![(s.span, joined.clone())];
    if let Some((span, spaced)) = &s.verb {
        if source.slice(*span).replacen(' ', "", 1) != spaced.replacen(' ', "", 1) {
            return finding;
        }
        edits.push((*span, spaced.clone()));
    }
    finding.unsafe_fix(format!("write the path as {joined}"), edits)
}
