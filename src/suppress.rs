//! Inline suppressions in each format's own comment syntax, and baselines.
//!
//! `# pasvlint: ignore rule-a,rule-b until=2027-01-31 -- reason` covers the line
//! it ends, or, on a line of its own, the next line that is not blank or another
//! suppression. A finding is suppressed when any of its labels sits on a covered line.

use crate::diag::Diagnostic;
use crate::formats::CommentStyle;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::collections::HashMap;

const MARKER: &str = "pasvlint:";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub file: FileId,
    /// The comment, for diagnostics about the suppression itself.
    pub span: Span,
    pub rules: Vec<String>,
    /// 1-based lines it covers.
    pub lines: Vec<usize>,
    pub reason: Option<String>,
    /// `until=YYYY-MM-DD`: ignored from the day after.
    pub until: Option<Date>,
    /// The bytes that remove the comment and nothing else: its whole line, or a
    /// trailing `#` comment with the blanks before it; `None` where the line
    /// holds more than the comment can say (XML after `-->`).
    pub removal: Option<Span>,
}

/// A calendar date, comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Date {
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts
            .next()?
            .parse()
            .ok()
            .filter(|m| (1..=12).contains(m))?;
        let day = parts
            .next()?
            .parse()
            .ok()
            .filter(|d| (1..=31).contains(d))?;
        Some(Date { year, month, day })
    }

    /// Today in UTC (civil-from-days, Howard Hinnant's algorithm).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let z = (secs / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

/// Every suppression comment in a file.
pub fn scan(file: &SourceFile, style: CommentStyle) -> Vec<Suppression> {
    if !file.text.contains(MARKER) {
        return Vec::new();
    }
    let mut found: Vec<(Suppression, bool)> = Vec::new();
    for line in 1..=file.line_count() {
        let range = file.line_range(line);
        let text = &file.text[range.clone()];
        let Some(at) = text.find(MARKER) else {
            continue;
        };
        let Some(own_line) = comment_position(&text[..at], style) else {
            continue;
        };
        let Some(mut s) = parse_directive(&text[at + MARKER.len()..]) else {
            continue;
        };
        s.file = file.id;
        s.span = file.span(range.start, range.end);
        s.lines = vec![line];
        s.removal = removal(file, line, at, own_line, style);
        found.push((s, own_line));
    }
    for (s, own_line) in &mut found {
        if *own_line {
            if let Some(next) = next_code_line(file, s.lines[0], style) {
                s.lines.push(next);
            }
        }
    }
    found.into_iter().map(|(s, _)| s).collect()
}

/// See [`Suppression::removal`]; `marker` is where the marker starts in the line.
fn removal(
    file: &SourceFile,
    line: usize,
    marker: usize,
    own_line: bool,
    style: CommentStyle,
) -> Option<Span> {
    let range = file.line_range(line);
    let text = &file.text[range.clone()];
    if style == CommentStyle::Xml {
        let ends_the_line = text.trim_end().ends_with("-->") && text.matches("-->").count() == 1;
        if !ends_the_line {
            return None;
        }
    }
    if own_line {
        let next = if line < file.line_count() {
            file.line_range(line + 1).start
        } else {
            file.text.len()
        };
        return Some(file.span(range.start, next));
    }
    if style != CommentStyle::Hash {
        return None;
    }
    let before = text[..marker].trim_end().strip_suffix('#')?;
    let code_end = before.trim_end().len();
    Some(file.span(range.start + code_end, range.end))
}

/// `Some(true)` when the marker opens a comment on a line of its own,
/// `Some(false)` when it is a trailing comment, `None` when it is not in a comment.
fn comment_position(before: &str, style: CommentStyle) -> Option<bool> {
    let trimmed = before.trim_end();
    let code = style.openers().iter().find_map(|o| {
        let at = trimmed.len().checked_sub(o.len())?;
        let tail = trimmed.get(at..)?;
        tail.eq_ignore_ascii_case(o).then(|| &trimmed[..at])
    })?;
    if code.trim().is_empty() {
        let at_column_zero = code.is_empty();
        return (at_column_zero || !style.full_line_at_column_zero()).then_some(true);
    }
    style.allows_trailing().then_some(false)
}

fn parse_directive(rest: &str) -> Option<Suppression> {
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("ignore")?
        .trim_end()
        .trim_end_matches("-->");
    let (spec, reason) = match rest.find("--").or_else(|| rest.find(';')) {
        Some(at) => (&rest[..at], Some(clean_reason(&rest[at..]))),
        None => (rest, None),
    };
    let mut rules = Vec::new();
    let mut until = None;
    for token in spec.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        match token.strip_prefix("until=") {
            Some(date) => until = Date::parse(date),
            None => rules.push(token.to_owned()),
        }
    }
    Some(Suppression {
        file: FileId(0),
        span: Span::new(FileId(0), 0, 0),
        rules,
        lines: Vec::new(),
        reason: reason.filter(|r| !r.is_empty()),
        until,
        removal: None,
    })
}

fn clean_reason(reason: &str) -> String {
    let reason = reason.trim_end().trim_end_matches("-->");
    reason.trim_start_matches(['-', ';']).trim().to_owned()
}

fn next_code_line(file: &SourceFile, after: usize, style: CommentStyle) -> Option<usize> {
    (after + 1..=file.line_count()).find(|&line| {
        let text = &file.text[file.line_range(line)];
        let is_suppression = text
            .find(MARKER)
            .is_some_and(|at| comment_position(&text[..at], style) == Some(true));
        !text.trim().is_empty() && !is_suppression
    })
}

/// Outcome of applying suppressions.
pub struct Applied {
    pub kept: Vec<Diagnostic>,
    pub suppressed: usize,
    /// Suppressions that matched nothing, and expired ones.
    pub unused: Vec<(Suppression, Unused)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unused {
    NoMatch,
    Expired,
}

/// Drop findings covered by an active suppression naming their rule.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    suppressions: &[Suppression],
    sources: &SourceMap,
    today: Date,
) -> Applied {
    let mut by_line: HashMap<(FileId, usize), Vec<usize>> = HashMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        for &line in &s.lines {
            by_line.entry((s.file, line)).or_default().push(i);
        }
    }
    let active = |s: &Suppression| s.until.is_none_or(|d| d >= today);
    let mut used = vec![false; suppressions.len()];
    let mut kept = Vec::new();
    let mut suppressed = 0;
    for d in diagnostics {
        let hit = label_lines(&d, sources).iter().find_map(|key| {
            by_line.get(key)?.iter().copied().find(|&i| {
                let s = &suppressions[i];
                active(s) && s.rules.iter().any(|r| r == d.rule || r == "all")
            })
        });
        match hit {
            Some(i) => {
                used[i] = true;
                suppressed += 1;
            }
            None => kept.push(d),
        }
    }
    let unused = suppressions
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(s, _)| {
            let why = if active(s) {
                Unused::NoMatch
            } else {
                Unused::Expired
            };
            (s.clone(), why)
        })
        .collect();
    Applied {
        kept,
        suppressed,
        unused,
    }
}

fn label_lines(d: &Diagnostic, sources: &SourceMap) -> Vec<(FileId, usize)> {
    std::iter::once(&d.primary)
        .chain(&d.related)
        .filter_map(|l| {
            let file = sources.get(l.span.file)?;
            Some((l.span.file, file.line_col(l.span.start).0))
        })
        .collect()
}

/// Baseline file: findings accepted as they are, by fingerprint.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    pub message: String,
}

impl Baseline {
    /// Every current finding, accepted as it is.
    pub fn from_report(report: &crate::Report) -> Baseline {
        let findings = report
            .diagnostics
            .iter()
            .map(|d| BaselineEntry {
                fingerprint: crate::diag::fingerprint(d, &report.sources),
                rule: d.rule.to_owned(),
                file: crate::source::path_of(&report.sources, d.primary.span),
                message: d.message.clone(),
            })
            .collect();
        Baseline {
            version: 1,
            findings,
        }
    }

    pub fn load(path: &std::path::Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("baseline {}: {e}", path.display()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Remove findings the baseline accepts, each entry absorbing one finding,
    /// so a second identical finding is still reported.
    pub fn apply(&self, report: &mut crate::Report) {
        let mut budget: HashMap<&str, usize> = HashMap::new();
        for e in &self.findings {
            *budget.entry(e.fingerprint.as_str()).or_default() += 1;
        }
        let sources = &report.sources;
        let before = report.diagnostics.len();
        report.diagnostics.retain(|d| {
            let fp = crate::diag::fingerprint(d, sources);
            match budget.get_mut(fp.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        report.suppressed += before - report.diagnostics.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::CommentStyle;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "f", text.as_bytes())
    }

    #[test]
    fn own_line_comment_covers_the_next_code_line() {
        let f = file("# pasvlint: ignore a-rule,b-rule -- known, ticket 42\n\npasv_min_port=1\n");
        let s = scan(&f, CommentStyle::HashAtColumnZero);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rules, ["a-rule", "b-rule"]);
        assert_eq!(s[0].lines, [1, 3]);
        assert_eq!(s[0].reason.as_deref(), Some("known, ticket 42"));
    }

    #[test]
    fn vsftpd_comment_must_start_at_column_zero() {
        let f = file("  # pasvlint: ignore a-rule\nx=1\n");
        assert!(scan(&f, CommentStyle::HashAtColumnZero).is_empty());
        assert_eq!(scan(&f, CommentStyle::Hash).len(), 1);
    }

    #[test]
    fn trailing_comment_covers_its_own_line() {
        let f =
            file("iptables -A INPUT -j ACCEPT # pasvlint: ignore a-rule until=2999-12-31\nnext\n");
        let s = scan(&f, CommentStyle::Hash);
        assert_eq!(s[0].lines, [1]);
        assert_eq!(s[0].until, Date::parse("2999-12-31"));
        assert!(scan(&f, CommentStyle::HashAtColumnZero).is_empty());
    }

    #[test]
    fn multibyte_text_before_the_marker_is_not_a_comment() {
        let f = file("listen=YES\u{bf}pasvlint: ignore a\n\u{e7}pasvlint: ignore a\n");
        assert!(scan(&f, CommentStyle::Hash).is_empty());
    }

    #[test]
    fn xml_and_batch_forms() {
        let x = file("<!-- pasvlint: ignore a-rule; hand-edited -->\n<IIsFtpService/>\n");
        let s = scan(&x, CommentStyle::Xml);
        assert_eq!(
            (s[0].rules.clone(), s[0].reason.clone()),
            (vec!["a-rule".to_owned()], Some("hand-edited".to_owned()))
        );
        let b =
            file("REM pasvlint: ignore a-rule -- loop\r\nfor /l %%I in (1,1,2) do echo %%I\r\n");
        assert_eq!(scan(&b, CommentStyle::Batch)[0].lines, [1, 2]);
    }

    #[test]
    fn today_is_a_plausible_date() {
        let t = Date::today();
        assert!(t.year >= 2024 && (1..=12).contains(&t.month) && (1..=31).contains(&t.day));
        assert!(Date::parse("2026-02-30").is_some() && Date::parse("2026-13-01").is_none());
    }
}
