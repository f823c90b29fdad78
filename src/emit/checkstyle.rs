//! `check --format checkstyle`: Checkstyle XML, read by Jenkins (warnings-ng),
//! reviewdog (`-f=checkstyle`), SonarQube and others.
//!
//! Every checked file gets a `<file>` element, empty when clean, as Checkstyle itself
//! writes. Columns count characters from 1. `source` is `pasvlint.<rule>`.

use super::{file_path, location, report_files, xml_attr};
use crate::Report;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    for file in report_files(report) {
        let findings: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.primary.span.file == file)
            .collect();
        let name = xml_attr(&file_path(&report.sources, file));
        if findings.is_empty() {
            let _ = writeln!(out, "  <file name=\"{name}\"/>");
            continue;
        }
        let _ = writeln!(out, "  <file name=\"{name}\">");
        for d in findings {
            let loc = location(&report.sources, d.primary.span);
            let _ = writeln!(
                out,
                "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"pasvlint.{}\"/>",
                loc.line,
                loc.column,
                d.severity.as_str(),
                xml_attr(&d.message),
                xml_attr(d.rule)
            );
        }
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}
