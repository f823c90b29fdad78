//! What a catalog's `file` and `file_line` resources leave on the host:
//!
//! - `file { PATH: content => … }` with a string or heredoc, `template('m/x.erb')`
//!   (`<module>/templates/x.erb`, several joined), `epp('m/x.epp')`, `file('m/x')`
//!   (`<module>/files/x`), or `source => 'puppet:///modules/m/x'`
//!   (`<module>/files/x`; of a list, the first that exists). ERB and EPP tags
//!   that print (`<%= … %>`) are not known; the text under a `<% if … %>`,
//!   `<% unless %>` or a loop is not known either; comments (`<%# %>`) vanish.
//! - `file_line { path => PATH, line => L, match => RE }` as puppetlabs-stdlib's
//!   ruby provider edits the file: nothing when `L` is already a line; else the
//!   lines `match` matches become `L` (all of them with `multiple => true`); else
//!   `L` goes after the first line `after` matches, or at the end. `ensure =>
//!   absent` removes the lines equal to `L` (or, with `match_for_absence`, those
//!   `match` matches). Puppet applies a `file_line` after the `file` of its path
//!   (autorequire); on a file the catalog does not write, it edits what the
//!   package left, which is not known.
//!
//! The writes become a [`crate::scripts::Outcome`], followed as a script's are
//! (`src/formats/written.rs`): each file is read by its format's parser, spans
//! in the manifest, the template or the installed file.

use super::project::{Project, Resource};
use super::scope::{V, Value};
use crate::formats::written::{append, push_slice, replacing_writes, unknown_base};
use crate::scripts::{Outcome, Text, UNKNOWN};
use crate::source::{FileId, SourceFile, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The largest repository file a resource installs that pasvlint reads from disk.
const MAX_READ: u64 = 1 << 20;

pub fn outcome(
    project: &Project,
    lookup: &crate::formats::ansible::files::Lookup,
) -> (Outcome, Vec<FileId>) {
    let mut order: Vec<String> = Vec::new();
    let mut state: HashMap<String, (Option<Text>, Span)> = HashMap::new();
    let mut consumed = Vec::new();
    let files = project.resources.iter().filter(|r| r.ty == "file");
    let lines = project.resources.iter().filter(|r| r.ty == "file_line");
    for r in files {
        let Some(path) = r.get("path").unwrap_or(&r.title).text() else {
            continue;
        };
        let ensure = r.get("ensure").and_then(V::text);
        if matches!(ensure.as_deref(), Some("absent" | "directory" | "link")) {
            continue;
        }
        let text = content(project, r, lookup, &mut consumed);
        if !state.contains_key(&path) {
            order.push(path.clone());
        }
        state.insert(path, (text, r.span));
    }
    for r in lines {
        let Some(path) = r.get("path").and_then(V::text) else {
            continue;
        };
        if !state.contains_key(&path) {
            order.push(path.clone());
        }
        let before = state.remove(&path).and_then(|(t, _)| t);
        let base = before.unwrap_or_else(|| unknown_base(r.span));
        let after = file_line(base, r);
        state.insert(path, (after, r.span));
    }
    let out = replacing_writes(order, state);
    consumed.sort();
    consumed.dedup();
    (out, consumed)
}

fn whole(file: &SourceFile) -> Text {
    let mut t = Text::default();
    t.push(&file.text, file.span(0, file.text.len()), true);
    t
}

fn read_repo_file(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_READ {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(crate::source::decode(bytes).0)
}

/// `m/rest` in module `m`'s `sub` folder.
fn module_file(project: &Project, spec: &str, sub: &str) -> Option<PathBuf> {
    let (module, rest) = spec.split_once('/')?;
    let dir = project.modules.get(module)?;
    Some(dir.join(sub).join(rest))
}

/// A repository file as the host receives it (`render` for templates).
fn installed(
    path: &Path,
    at: Span,
    vars: &Resolve,
    lookup: &crate::formats::ansible::files::Lookup,
    consumed: &mut Vec<FileId>,
    render: bool,
) -> Option<Text> {
    let (text, span, verbatim) = match lookup(path) {
        Some(file) => {
            consumed.push(file.id);
            if !render {
                return Some(whole(file));
            }
            (file.text.clone(), Some(file.id), true)
        }
        None => (read_repo_file(path)?, None, false),
    };
    if render {
        return Some(erb(
            &text,
            |s, e| match span {
                Some(id) => (Span::new(id, s, e), verbatim),
                None => (at, false),
            },
            vars,
        ));
    }
    let mut t = Text::default();
    t.push(&text, at, false);
    Some(t)
}

fn content(
    project: &Project,
    r: &Resource,
    lookup: &crate::formats::ansible::files::Lookup,
    consumed: &mut Vec<FileId>,
) -> Option<Text> {
    let resolve = |code: &str| -> Option<Text> {
        // `<%= @name %>` (ERB) and `<%= $name %>` (EPP): a variable of the scope.
        let name = code.strip_prefix('@').or_else(|| code.strip_prefix('$'))?;
        let v = r.vars.get(name)?;
        match &v.v {
            Value::Str(t) if !t.text.contains(UNKNOWN) => Some(t.clone()),
            Value::Num(n) => {
                let mut t = Text::default();
                t.push(n, v.span, v.span.len() == n.len());
                Some(t)
            }
            _ => None,
        }
    };
    let vars: &Resolve = &resolve;
    if let Some(c) = r.get("content") {
        return match &c.v {
            Value::Str(t) => Some(t.clone()),
            Value::Num(n) => {
                let mut t = Text::default();
                t.push(n, c.span, true);
                Some(t)
            }
            Value::Call(name, args) => {
                let (sub, render) = match name.as_str() {
                    "template" | "epp" => ("templates", true),
                    "file" => ("files", false),
                    "inline_template" | "inline_epp" => {
                        let Value::Str(t) = &args.first()?.v else {
                            return None;
                        };
                        return Some(erb(&t.text, |_, _| (args[0].span, false), vars));
                    }
                    _ => return None,
                };
                let mut out = Text::default();
                // `template` joins its files; `file` takes the first that exists.
                for a in args.iter().take(if name == "epp" { 1 } else { args.len() }) {
                    let spec = a.text()?;
                    let path = module_file(project, &spec, sub)?;
                    match installed(&path, a.span, vars, lookup, consumed, render) {
                        Some(t) => {
                            append(&mut out, &t);
                            if name == "file" {
                                break;
                            }
                        }
                        None if name == "file" => continue,
                        None => return None,
                    }
                }
                (!out.text.is_empty()).then_some(out)
            }
            _ => None,
        };
    }
    let source = r.get("source")?;
    for s in source.items() {
        let spec = s.text()?;
        let rest = spec.strip_prefix("puppet:///modules/")?;
        let path = module_file(project, rest, "files")?;
        if let Some(t) = installed(&path, s.span, vars, lookup, consumed, false) {
            return Some(t);
        }
    }
    None
}

/// ERB or EPP rendered as far as it is literal: text kept with `span_of`'s
/// spans, printing tags and the text under a control tag not known.
/// What an ERB or EPP printing tag's code is, when pasvlint knows it.
type Resolve<'a> = dyn Fn(&str) -> Option<Text> + 'a;

fn erb(template: &str, span_of: impl Fn(usize, usize) -> (Span, bool), resolve: &Resolve) -> Text {
    let mut out = Text::default();
    let mut depth = 0usize;
    let mut pos = 0;
    let unknown = |out: &mut Text, s: usize, e: usize| {
        if !out.text.ends_with(UNKNOWN) {
            out.push(&UNKNOWN.to_string(), span_of(s, e).0, false);
        }
    };
    while pos < template.len() {
        let Some(open) = template[pos..].find("<%") else {
            emit(&mut out, template, pos, template.len(), depth, &span_of);
            break;
        };
        let open = pos + open;
        emit(&mut out, template, pos, open, depth, &span_of);
        let close = template[open..]
            .find("%>")
            .map_or(template.len(), |n| open + n + 2);
        let tag = &template[open + 2..close.saturating_sub(2).max(open + 2)];
        let tag = tag.trim_start_matches('-').trim_end_matches('-');
        let mut next = close;
        if tag.starts_with('#') {
            // A comment prints nothing.
        } else if let Some(code) = tag.strip_prefix('=') {
            match resolve(code.trim()).filter(|_| depth == 0) {
                Some(t) => append(&mut out, &t),
                None => unknown(&mut out, open, close),
            }
        } else {
            let code = tag.trim();
            let opens = code.starts_with("if ")
                || code.starts_with("unless ")
                || code.ends_with(" do")
                || code.contains(" do |")
                || code.ends_with('{')
                || code.starts_with("case ");
            let ends = code == "end" || code == "}" || code.starts_with("end ");
            if ends {
                depth = depth.saturating_sub(1);
            } else if opens {
                depth += 1;
            } else if code.starts_with("else")
                || code.starts_with("elsif")
                || code.starts_with("} else")
            {
                // Still under the condition.
            }
            // A control tag alone on its line takes the line's end with it (`-%>`).
            if template[close..].starts_with('\n') && template[open..close].ends_with("-%>") {
                next = close + 1;
            }
        }
        pos = next;
    }
    out
}

fn emit(
    out: &mut Text,
    template: &str,
    from: usize,
    to: usize,
    depth: usize,
    span_of: &impl Fn(usize, usize) -> (Span, bool),
) {
    if from >= to {
        return;
    }
    let (span, verbatim) = span_of(from, to);
    if depth > 0 {
        // One unknown line for each line under a condition.
        for line in template[from..to].split_inclusive('\n') {
            if line.trim().is_empty() {
                continue;
            }
            let mut l = UNKNOWN.to_string();
            if line.ends_with('\n') {
                l.push('\n');
            }
            out.push(&l, span, false);
        }
        return;
    }
    out.push(&template[from..to], span, verbatim);
}

/// The lines of a text, each with its line end.
fn lines(text: &Text) -> Vec<Text> {
    let mut out = Vec::new();
    let mut pos = 0;
    let s = &text.text;
    while pos < s.len() {
        let end = s[pos..].find('\n').map_or(s.len(), |n| pos + n + 1);
        let mut line = Text::default();
        push_slice(&mut line, text, pos, end);
        out.push(line);
        pos = end;
    }
    out
}

fn bare(line: &Text) -> &str {
    line.text.trim_end_matches(['\r', '\n'])
}

/// puppetlabs-stdlib's `file_line` (ruby provider) on `base`; `None` when a
/// value it needs is not known.
fn file_line(base: Text, r: &Resource) -> Option<Text> {
    let line = r.get("line")?;
    let Value::Str(line_text) = &line.v else {
        return line
            .text()
            .map(|t| {
                let mut x = Text::default();
                x.push(&t, line.span, false);
                x
            })
            .and_then(|t| apply_line(base, r, t));
    };
    apply_line(base, r, line_text.clone())
}

fn flag(r: &Resource, name: &str) -> bool {
    matches!(r.get(name).map(|v| &v.v), Some(Value::Bool(true)))
        || r.get(name).and_then(V::text).as_deref() == Some("true")
}

fn apply_line(base: Text, r: &Resource, line: Text) -> Option<Text> {
    let absent = r.get("ensure").and_then(V::text).as_deref() == Some("absent");
    let pattern = match r.get("match") {
        Some(v) => Some(regex::Regex::new(&v.text()?).ok()?),
        None => None,
    };
    let after = match r.get("after") {
        Some(v) => Some(regex::Regex::new(&v.text()?).ok()?),
        None => None,
    };
    let multiple = flag(r, "multiple");
    let mut ls = lines(&base);
    let wanted = line.text.clone();
    let mut newline_line = line.clone();
    newline_line.push("\n", r.span, false);
    if absent {
        let by_match = flag(r, "match_for_absence") && pattern.is_some();
        ls.retain(|l| {
            if by_match {
                !pattern.as_ref().is_some_and(|p| p.is_match(bare(l)))
            } else {
                bare(l) != wanted
            }
        });
        return Some(join(&ls));
    }
    // An unknown line may be the wanted one, or match: pasvlint cannot say
    // which lines the provider replaces, only that the line ends up there.
    if ls.iter().any(|l| bare(l) == wanted) {
        return Some(join(&ls));
    }
    if let Some(p) = &pattern {
        let hits: Vec<usize> = (0..ls.len())
            .filter(|i| p.is_match(bare(&ls[*i])))
            .collect();
        if hits.len() > 1 && !multiple {
            // "More than one line in file … matches pattern": the resource fails.
            return None;
        }
        if !hits.is_empty() {
            for i in hits {
                let eol_kept = ls[i].text.ends_with('\n');
                ls[i] = if eol_kept {
                    newline_line.clone()
                } else {
                    line.clone()
                };
            }
            return Some(join(&ls));
        }
    }
    if let Some(a) = &after {
        if let Some(i) = ls.iter().position(|l| a.is_match(bare(l))) {
            ls.insert(i + 1, newline_line);
            return Some(join(&ls));
        }
    }
    if let Some(last) = ls.last_mut() {
        if !last.text.ends_with('\n') {
            last.push("\n", r.span, false);
        }
    }
    ls.push(newline_line);
    Some(join(&ls))
}

fn join(lines: &[Text]) -> Text {
    let mut out = Text::default();
    for l in lines {
        append(&mut out, l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erb_keeps_literal_lines_and_hides_the_rest() {
        let t = erb(
            "listen=YES\npasv_min_port=<%= @min %>\n<% if @tls -%>\nssl_enable=YES\n<% end -%>\nx=1\n",
            |s, e| (Span::new(FileId(0), s, e), true),
            &|_| None,
        );
        assert_eq!(
            t.text,
            format!("listen=YES\npasv_min_port={UNKNOWN}\n{UNKNOWN}\nx=1\n")
        );
    }
}
