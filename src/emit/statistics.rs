//! `check --statistics`: how many findings each rule produced, most first.

use crate::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut per_rule: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for d in &report.diagnostics {
        per_rule.entry(d.rule).or_insert((0, d.severity.as_str())).0 += 1;
    }
    let mut rows: Vec<(&str, usize, &str)> = per_rule
        .into_iter()
        .map(|(rule, (count, severity))| (rule, count, severity))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (rule, count, severity) in rows {
        let _ = writeln!(out, "{count:>5}  {rule:<width$}  {severity}");
    }
    out
}
