//! `pasvlint explain RULE --for FILE:LINE`: one finding as the human report shows
//! it, the port map of its host, then the rule's documentation.

use super::{human, location, path_of, portmap};
use crate::Report;
use crate::diag::Diagnostic;
use crate::rules::RuleMeta;
use std::path::Path;

/// Where the user points: a file as given on the command line and a 1-based line.
pub struct At<'a> {
    pub file: &'a Path,
    pub line: usize,
}

/// The findings of `rule` with a label on `at`, their host's port map and the
/// rule's text; `Err` naming where the rule did report when nothing is there.
pub fn render_for(mut report: Report, rule: &RuleMeta, at: &At) -> Result<String, String> {
    let (here, elsewhere): (Vec<Diagnostic>, Vec<Diagnostic>) =
        std::mem::take(&mut report.diagnostics)
            .into_iter()
            .filter(|d| d.rule == rule.name)
            .partition(|d| touches(&report, d, at));
    if here.is_empty() {
        return Err(nothing_there(&report, rule, at, &elsewhere));
    }
    let maps: Vec<String> = here
        .iter()
        .filter_map(|d| d.host.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|name| report.hosts.iter().find(|h| h.name == name))
        .filter_map(|h| portmap::render(h).map(|map| format!("host {}\n{map}", h.name)))
        .collect();
    report.diagnostics = here;
    let options = human::Options {
        color: false,
        width: 100,
    };
    let mut out = human::render(&report, &options);
    for map in maps {
        out.push('\n');
        out.push_str(&map);
    }
    out.push('\n');
    out.push_str(&crate::rules::explain(rule));
    Ok(out)
}

fn touches(report: &Report, d: &Diagnostic, at: &At) -> bool {
    std::iter::once(&d.primary).chain(&d.related).any(|label| {
        same_file(&path_of(&report.sources, label.span), at.file) && {
            let l = location(&report.sources, label.span);
            (l.line..=l.last_line()).contains(&at.line)
        }
    })
}

fn same_file(shown: &str, wanted: &Path) -> bool {
    let shown = Path::new(shown);
    shown == wanted
        || shown
            .canonicalize()
            .ok()
            .zip(wanted.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
}

fn nothing_there(report: &Report, rule: &RuleMeta, at: &At, others: &[Diagnostic]) -> String {
    let mut places: Vec<String> = others
        .iter()
        .map(|d| {
            let l = location(&report.sources, d.primary.span);
            format!("{}:{}", path_of(&report.sources, d.primary.span), l.line)
        })
        .collect();
    places.dedup();
    let shown = match places.len() {
        0 => format!("{} reports nothing in the checked paths", rule.name),
        n if n > 10 => format!("it reports at {}, … ({n} in all)", places[..10].join(", ")),
        _ => format!("it reports at {}", places.join(", ")),
    };
    format!(
        "no {} finding at {}:{}; {shown}",
        rule.name,
        at.file.display(),
        at.line
    )
}
