//! `check --format junit`: JUnit XML for CI test dashboards.
//!
//! One `<testsuite>` per checked file (named by its path) and one failing `<testcase>`
//! per finding. Per file rather than per rule because a dashboard's grouping is where
//! people click from, and what they go on to edit is a file; and because a file with no
//! findings then shows as one passing test case, so the dashboard records what was
//! checked. With no files at all a single passing case says so. A finding's test case
//! is named `rule: message` (no line number), so dashboards track it across edits that
//! move lines, as the fingerprint does. Every finding is a `<failure>` whatever its
//! severity (the `type` says which); unreadable inputs are `<error>`s. `time` is always
//! 0, so the bytes depend only on the findings.

use super::{file_path, location, path_of, related_line, report_files, xml_attr, xml_text};
use crate::Report;
use crate::diag::Diagnostic;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut suites: Vec<Suite> = report_files(report)
        .into_iter()
        .map(|file| Suite {
            name: file_path(&report.sources, file),
            cases: cases(report, file),
        })
        .collect();
    for (path, reason) in &report.unreadable {
        let path = crate::source::display_path(path);
        suites.push(Suite {
            cases: vec![Case {
                name: "read".to_owned(),
                classname: path.clone(),
                line: None,
                outcome: Outcome::Error(format!("cannot read {path}: {reason}")),
            }],
            name: path,
        });
    }
    if suites.is_empty() {
        suites.push(Suite {
            name: "pasvlint".to_owned(),
            cases: vec![Case::passed("no files to check", "pasvlint")],
        });
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<&Case> = suites.iter().flat_map(|s| &s.cases).collect();
    let _ = writeln!(out, "<testsuites name=\"pasvlint\" {}>", totals(&all));
    for suite in &suites {
        suite.write(&mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

struct Case {
    name: String,
    classname: String,
    line: Option<usize>,
    outcome: Outcome,
}

enum Outcome {
    Passed,
    /// `type` (the severity), `message`, and the body.
    Failure(&'static str, String, String),
    Error(String),
}

impl Case {
    fn passed(name: &str, classname: &str) -> Case {
        Case {
            name: name.to_owned(),
            classname: classname.to_owned(),
            line: None,
            outcome: Outcome::Passed,
        }
    }
}

fn cases(report: &Report, file: crate::source::FileId) -> Vec<Case> {
    let path = file_path(&report.sources, file);
    let cases: Vec<Case> = report
        .diagnostics
        .iter()
        .filter(|d| d.primary.span.file == file)
        .map(|d| Case {
            name: format!("{}: {}", d.rule, d.message),
            classname: path.clone(),
            line: Some(location(&report.sources, d.primary.span).line),
            outcome: Outcome::Failure(d.severity.as_str(), d.message.clone(), body(d, report)),
        })
        .collect();
    if cases.is_empty() {
        vec![Case::passed("no problems", &path)]
    } else {
        cases
    }
}

/// The concise line, the other places involved, the fix.
fn body(d: &Diagnostic, report: &Report) -> String {
    let loc = location(&report.sources, d.primary.span);
    let mut text = format!(
        "{}:{}:{}: {}: {} [{}]",
        path_of(&report.sources, d.primary.span),
        loc.line,
        loc.column,
        d.severity.as_str(),
        d.message,
        d.rule
    );
    for r in &d.related {
        let _ = write!(text, "\n    {}", related_line(&report.sources, r));
    }
    if let Some(help) = &d.help {
        let _ = write!(text, "\n    help: {help}");
    }
    text
}

fn totals(cases: &[&Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failure(..)))
        .count();
    let errors = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Error(_)))
        .count();
    format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\"",
        cases.len()
    )
}

impl Suite {
    fn write(&self, out: &mut String) {
        let cases: Vec<&Case> = self.cases.iter().collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" {}>",
            xml_attr(&self.name),
            totals(&cases)
        );
        for case in &self.cases {
            case.write(out);
        }
        out.push_str("  </testsuite>\n");
    }
}

impl Case {
    fn write(&self, out: &mut String) {
        let classname = xml_attr(&self.classname);
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{classname}\"",
            xml_attr(&self.name)
        );
        if let Some(line) = self.line {
            let _ = write!(out, " file=\"{classname}\" line=\"{line}\"");
        }
        out.push_str(" time=\"0\"");
        match &self.outcome {
            Outcome::Passed => out.push_str("/>\n"),
            Outcome::Failure(kind, message, body) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                    xml_attr(message),
                    xml_text(body)
                );
            }
            Outcome::Error(message) => {
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"unreadable\" message=\"{}\"/>\n    </testcase>",
                    xml_attr(message)
                );
            }
        }
    }
}
