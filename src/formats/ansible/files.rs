//! What a play's file modules leave on the host, as the modules write it:
//! `template` (rendered, [`super::template`]), `copy` (`src:` from the role's
//! `files/` or `content:`), `lineinfile`, `blockinfile` and `ini_file` (their
//! ansible-core 2.19 and community.general algorithms, on the file as the
//! earlier tasks left it). A file the play edits but never writes starts from
//! what the host already holds, which is not known: one unknown line, so a
//! setting's parser sees "something else may be set here" and the edits after it.
//!
//! The result is a [`crate::scripts::Outcome`] of writes, which the run follows
//! as it follows a script's (`src/formats/written.rs`): each written file is read
//! by its format's parser, spans mapped back into the template, the task or
//! the repository file copied.

use super::jinja::Vars;
use super::scope::Scope;
use super::template::{self, Spans};
use crate::formats::written::{append, push_slice, replacing_writes, unknown_base};
use crate::scripts::{Outcome, Text};
use crate::source::{FileId, SourceFile, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One file task, in play order.
#[derive(Clone, Debug)]
pub struct FileOp {
    /// The path on the host, as the task names it.
    pub dest: String,
    /// The task's module invocation.
    pub task: Span,
    pub op: Op,
    /// The task's place in play order.
    pub seq: usize,
}

#[derive(Clone, Debug)]
pub enum Op {
    /// `template`: the file the `src:` names, rendered in the task's scope.
    Template {
        src: PathBuf,
        src_span: Span,
        scope: Box<Scope>,
    },
    /// `copy` with `src:`: the repository file as it is.
    Copy {
        src: PathBuf,
        src_span: Span,
    },
    /// `copy` with `content:`.
    Content(Text),
    /// Written with what pasvlint cannot know.
    Unknown,
    LineInFile(LineInFile),
    BlockInFile(BlockInFile),
    IniFile(IniFile),
}

#[derive(Clone, Debug, Default)]
pub struct LineInFile {
    pub regexp: Option<String>,
    pub search_string: Option<String>,
    pub line: Option<Text>,
    pub absent: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub backrefs: bool,
    pub firstmatch: bool,
}

#[derive(Clone, Debug, Default)]
pub struct BlockInFile {
    pub block: Option<Text>,
    pub marker: String,
    pub marker_begin: String,
    pub marker_end: String,
    pub absent: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct IniFile {
    pub section: Option<String>,
    pub option: Option<String>,
    pub value: Option<Text>,
    pub absent: bool,
    pub no_extra_spaces: bool,
    pub exclusive: bool,
}

/// The repository files the run read, by path.
pub type Lookup<'a> = dyn Fn(&Path) -> Option<&'a SourceFile> + 'a;

/// The largest repository file a task copies or renders that pasvlint reads from disk.
const MAX_READ: u64 = 1 << 20;

/// The writes of a play, and the repository files that are now the host's
/// copies (they bring nothing of their own).
pub fn outcome(ops: &[FileOp], lookup: &Lookup) -> (Outcome, Vec<FileId>) {
    let mut order: Vec<String> = Vec::new();
    let mut state: HashMap<String, (Option<Text>, Span)> = HashMap::new();
    let mut consumed = Vec::new();
    for op in ops {
        if !state.contains_key(&op.dest) {
            order.push(op.dest.clone());
        }
        let before = state.remove(&op.dest).and_then(|(t, _)| t);
        let after = apply(before, op, lookup, &mut consumed);
        state.insert(op.dest.clone(), (after, op.task));
    }
    let out = replacing_writes(order, state);
    consumed.sort();
    consumed.dedup();
    (out, consumed)
}

fn read_repo_file(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_READ {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(crate::source::decode(bytes).0)
}

fn whole(file: &SourceFile) -> Text {
    let mut t = Text::default();
    t.push(&file.text, file.span(0, file.text.len()), true);
    t
}

fn apply(
    before: Option<Text>,
    op: &FileOp,
    lookup: &Lookup,
    consumed: &mut Vec<FileId>,
) -> Option<Text> {
    match &op.op {
        Op::Template {
            src,
            src_span,
            scope,
        } => match lookup(src) {
            Some(file) => {
                consumed.push(file.id);
                template::render(
                    &file.text,
                    scope.as_ref() as &dyn Vars,
                    Spans::InFile(file.id),
                )
            }
            None => {
                let text = read_repo_file(src)?;
                template::render(&text, scope.as_ref() as &dyn Vars, Spans::At(*src_span))
            }
        },
        Op::Copy { src, src_span } => match lookup(src) {
            Some(file) => {
                consumed.push(file.id);
                Some(whole(file))
            }
            None => {
                let text = read_repo_file(src)?;
                let mut t = Text::default();
                t.push(&text, *src_span, false);
                Some(t)
            }
        },
        Op::Content(t) => Some(t.clone()),
        Op::Unknown => None,
        Op::LineInFile(l) => lineinfile(before.unwrap_or_else(|| unknown_base(op.task)), l),
        Op::BlockInFile(b) => {
            blockinfile(before.unwrap_or_else(|| unknown_base(op.task)), b, op.task)
        }
        Op::IniFile(i) => ini_file(before.unwrap_or_else(|| unknown_base(op.task)), i, op.task),
    }
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

fn join(lines: &[Text]) -> Text {
    let mut out = Text::default();
    for l in lines {
        append(&mut out, l);
    }
    out
}

fn without_eol(line: &Text) -> &str {
    line.text.trim_end_matches(['\r', '\n'])
}

fn with_newline(mut t: Text, at: Span) -> Text {
    if !t.text.ends_with('\n') {
        t.push("\n", at, false);
    }
    t
}

/// Python's `re` for the patterns roles write; `None` (not followed) for one the
/// regex crate reads otherwise (look-around, backreferences).
fn regex(pattern: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// `lineinfile` (ansible-core 2.19 `present` and `absent`).
fn lineinfile(base: Text, l: &LineInFile) -> Option<Text> {
    let mut ls = lines(&base);
    let line = l.line.as_ref();
    let line_text = line.map_or("", |s| s.text.as_str());
    let at = line.and_then(|s| s.pieces.first()).map(|p| p.span);
    if l.absent {
        let re = match &l.regexp {
            Some(p) => Some(regex(p)?),
            None => None,
        };
        ls.retain(|cur| {
            let found = match (&re, &l.search_string) {
                (Some(re), _) => re.is_match(&cur.text),
                (None, Some(s)) => cur.text.contains(s.as_str()),
                (None, None) => without_eol(cur) == line_text,
            };
            !found
        });
        return Some(join(&ls));
    }
    let line = line?;
    let at = at?;
    let re_m = match &l.regexp {
        Some(p) => Some(regex(p)?),
        None => None,
    };
    let bre_ins = match (&l.insertafter, &l.insertbefore) {
        (Some(a), _) if a != "BOF" && a != "EOF" => Some(regex(a)?),
        (None, Some(b)) if b != "BOF" => Some(regex(b)?),
        _ => None,
    };
    let mut index: (Option<usize>, Option<usize>) = (None, None);
    let mut matched: Option<usize> = None;
    if let Some(re) = &re_m {
        for (i, cur) in ls.iter().enumerate() {
            if re.is_match(&cur.text) {
                index.0 = Some(i);
                matched = Some(i);
                if l.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(s) = &l.search_string {
        for (i, cur) in ls.iter().enumerate() {
            if cur.text.contains(s.as_str()) {
                index.0 = Some(i);
                matched = Some(i);
                if l.firstmatch {
                    break;
                }
            }
        }
    }
    let mut exact = false;
    if matched.is_none() {
        for (i, cur) in ls.iter().enumerate() {
            if without_eol(cur) == line_text {
                index.0 = Some(i);
                exact = true;
            } else if bre_ins.as_ref().is_some_and(|re| re.is_match(&cur.text)) {
                if l.insertafter.is_some() {
                    index.1 = Some(i + 1);
                    if l.firstmatch {
                        break;
                    }
                }
                if l.insertbefore.is_some() {
                    index.1 = Some(i);
                    if l.firstmatch {
                        break;
                    }
                }
            }
        }
    }
    let new_line = || with_newline(line.clone(), at);
    if let Some(i) = index.0 {
        if l.backrefs && matched.is_some() {
            // The replacement depends on the groups the pattern captured.
            let re = re_m.as_ref()?;
            let caps = re.captures(&ls[i].text)?;
            let mut expanded = String::new();
            caps.expand(&python_template(line_text), &mut expanded);
            let mut t = Text::default();
            t.push(&expanded, at, false);
            ls[i] = with_newline(t, at);
        } else if l.regexp.is_none() && l.search_string.is_none() && matched.is_none() && !exact {
            unreachable_insert(&mut ls, index.1, l, line_text, &new_line);
        } else if ls[i].text != new_line().text {
            ls[i] = new_line();
        }
    } else if l.backrefs {
    } else if l.insertbefore.as_deref() == Some("BOF") || l.insertafter.as_deref() == Some("BOF") {
        ls.insert(0, new_line());
    } else if l.insertafter.as_deref() == Some("EOF") || index.1.is_none() {
        end_with_newline(&mut ls, at);
        ls.push(new_line());
    } else if let (Some(_), Some(n)) = (&l.insertafter, index.1) {
        if ls.len() == n {
            if without_eol(&ls[n - 1]) != line_text {
                ls.push(new_line());
            }
        } else if without_eol(&ls[n]) != line_text {
            ls.insert(n, new_line());
        }
    } else if let Some(n) = index.1 {
        ls.insert(n.min(ls.len()), new_line());
    }
    Some(join(&ls))
}

/// The branch of `present` for a line found neither by pattern nor exactly
/// (it cannot be reached with an index, kept for the module's shape).
fn unreachable_insert(
    ls: &mut Vec<Text>,
    at: Option<usize>,
    l: &LineInFile,
    line: &str,
    new_line: &dyn Fn() -> Text,
) {
    let Some(n) = at else { return };
    if l.insertafter.as_deref().is_some_and(|a| a != "EOF") {
        if ls.len() == n {
            if n > 0 && without_eol(&ls[n - 1]) != line {
                ls.push(new_line());
            }
        } else if n < ls.len() && without_eol(&ls[n]) != line {
            ls.insert(n, new_line());
        }
    }
}

fn end_with_newline(ls: &mut [Text], at: Span) {
    if let Some(last) = ls.last_mut() {
        if !last.text.ends_with('\n') && !last.text.ends_with('\r') {
            last.push("\n", at, false);
        }
    }
}

/// Python's `\1` and `\g<name>` in a replacement, as the regex crate writes them.
fn python_template(t: &str) -> String {
    let mut out = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some(other) => {
                    chars.next();
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

/// `blockinfile` (ansible-core 2.19 `main`).
fn blockinfile(base: Text, b: &BlockInFile, at: Span) -> Option<Text> {
    let mut ls = lines(&base);
    let marker = |mark: &str| format!("{}\n", b.marker.replace("{mark}", mark));
    let (m0, m1) = (marker(&b.marker_begin), marker(&b.marker_end));
    let block = b.block.as_ref().filter(|s| !s.text.is_empty());
    let mut blocklines: Vec<Text> = Vec::new();
    if let (false, Some(block)) = (b.absent, block) {
        let mut t = Text::default();
        t.push(&m0, at, false);
        blocklines.push(t);
        blocklines.extend(lines(&with_newline(block.clone(), at)));
        let mut t = Text::default();
        t.push(&m1, at, false);
        blocklines.push(t);
    }
    let (mut n0, mut n1) = (None, None);
    for (i, l) in ls.iter().enumerate() {
        if l.text == m0 {
            n0 = Some(i);
        }
        if l.text == m1 {
            n1 = Some(i);
        }
    }
    let insertafter = match (&b.insertafter, &b.insertbefore) {
        (None, None) => Some("EOF".to_owned()),
        (a, _) => a.clone(),
    };
    let insertre = match (&insertafter, &b.insertbefore) {
        (Some(a), _) if a != "EOF" => Some(regex(a)?),
        (None, Some(p)) if p != "BOF" => Some(regex(p)?),
        _ => None,
    };
    let at_line = match (n0, n1) {
        (Some(a), Some(z)) if a < z => {
            ls.drain(a..=z);
            a
        }
        (Some(a), Some(z)) => {
            ls.drain(z..=a);
            z
        }
        _ => match &insertre {
            Some(re) => {
                let found = ls.iter().rposition(|l| re.is_match(&l.text));
                match found {
                    None => ls.len(),
                    Some(i) if insertafter.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if b.insertbefore.is_some() => 0,
            None => ls.len(),
        },
    };
    if at_line > 0 {
        end_with_newline(&mut ls[..at_line], at);
    }
    let tail = ls.split_off(at_line.min(ls.len()));
    ls.extend(blocklines);
    ls.extend(tail);
    Some(join(&ls))
}

/// `ini_file` (community.general 9, `do_ini`), for one option.
fn ini_file(base: Text, i: &IniFile, at: Span) -> Option<Text> {
    let option = i.option.as_deref()?;
    let mut ls = lines(&base);
    if ls.is_empty() {
        let mut t = Text::default();
        t.push("\n", at, false);
        ls.push(t);
    }
    end_with_newline(&mut ls, at);
    // The fake section at the top stands for the lines before any section.
    let (start, end) = section_range(&ls, i.section.as_deref());
    let matches = |l: &Text| match_opt(option, &l.text, true);
    let active = |l: &Text| match_opt(option, &l.text, false);
    let assignment = |value: &Text| {
        let sep = if i.no_extra_spaces { "=" } else { " = " };
        let mut t = Text::default();
        t.push(&format!("{option}{sep}"), at, false);
        append(&mut t, value);
        t.push("\n", at, false);
        t
    };
    let Some((start, end)) = start.zip(end) else {
        if i.absent {
            return Some(join(&ls));
        }
        // Section and option added at the end.
        let mut t = Text::default();
        t.push(
            &format!("[{}]\n", i.section.as_deref().unwrap_or_default()),
            at,
            false,
        );
        ls.push(t);
        if let Some(v) = &i.value {
            ls.push(assignment(v));
        }
        return Some(join(&ls));
    };
    let mut section: Vec<Text> = ls[start..end].to_vec();
    // A named section's first line is its header, which no option matches.
    let first = usize::from(i.section.as_deref().is_some_and(|s| !s.is_empty()));
    if i.absent {
        section.retain(|l| !active(l));
    } else if let Some(value) = &i.value {
        let mut placed = false;
        let mut changed = vec![false; section.len()];
        for (k, l) in section.iter_mut().enumerate() {
            if matches(l)
                && opt_value(option, &l.text).as_deref() == Some(value.text.as_str())
                && !placed
            {
                *l = assignment(value);
                changed[k] = true;
                placed = true;
            }
        }
        if i.exclusive {
            if !placed {
                if let Some(k) = section.iter().position(&matches) {
                    section[k] = assignment(value);
                    changed[k] = true;
                    placed = true;
                }
            }
            let mut k = section.len();
            while k > first {
                k -= 1;
                if !changed[k] && matches(&section[k]) {
                    section.remove(k);
                    changed.remove(k);
                }
            }
        }
        if !placed {
            let k = section
                .iter()
                .rposition(|l| !blank_or_comment(&l.text))
                .map_or(0, |k| k + 1);
            section.insert(k, assignment(value));
        }
    }
    let mut out = ls[..start].to_vec();
    out.extend(section);
    out.extend(ls[end..].iter().cloned());
    Some(join(&out))
}

/// The lines of a section, header included; the lines before the first
/// section for none (the module's fake section).
fn section_range(ls: &[Text], section: Option<&str>) -> (Option<usize>, Option<usize>) {
    match section.filter(|s| !s.is_empty()) {
        None => {
            let end = ls
                .iter()
                .position(|l| l.text.starts_with('['))
                .unwrap_or(ls.len());
            (Some(0), Some(end))
        }
        Some(name) => {
            let header = |l: &Text| {
                l.text
                    .strip_prefix('[')
                    .and_then(|r| r.split_once(']'))
                    .is_some_and(|(n, _)| n.trim() == name.trim())
            };
            let Some(start) = ls.iter().position(header) else {
                return (None, None);
            };
            let end = ls[start + 1..]
                .iter()
                .position(|l| l.text.starts_with('['))
                .map_or(ls.len(), |k| start + 1 + k);
            (Some(start), Some(end))
        }
    }
}

/// `match_opt` / `match_active_opt`: `[#;]? *option *(=|$)`.
fn match_opt(option: &str, line: &str, inactive_too: bool) -> bool {
    let mut rest = line;
    if inactive_too {
        rest = rest.strip_prefix(['#', ';']).unwrap_or(rest);
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let Some(after) = rest.strip_prefix(option) else {
        return false;
    };
    let after = after.trim_start_matches([' ', '\t']);
    after.starts_with('=') || after.trim_end_matches(['\r', '\n']).is_empty()
}

fn opt_value(option: &str, line: &str) -> Option<String> {
    let (_, v) = line.split_once('=')?;
    let _ = option;
    Some(
        v.trim_start_matches([' ', '\t'])
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
    )
}

fn blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.trim_end_matches(['\r', '\n']).is_empty() || t.starts_with('#') || t.starts_with(';')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::UNKNOWN;

    fn text(s: &str) -> Text {
        let mut t = Text::default();
        t.push(s, Span::new(FileId(0), 0, s.len()), true);
        t
    }

    fn value(s: &str) -> Option<Text> {
        let mut t = Text::default();
        t.push(s, Span::new(FileId(1), 0, s.len()), true);
        Some(t)
    }

    fn shown(t: Option<Text>) -> String {
        t.unwrap().text.replace(UNKNOWN, "?")
    }

    #[test]
    fn lineinfile_replaces_the_last_match_or_appends() {
        let base = text("listen=YES\npasv_min_port=1\n#pasv_min_port=2\n");
        let l = LineInFile {
            regexp: Some("^pasv_min_port=".into()),
            line: value("pasv_min_port=50000"),
            ..Default::default()
        };
        assert_eq!(
            shown(lineinfile(base.clone(), &l)),
            "listen=YES\npasv_min_port=50000\n#pasv_min_port=2\n"
        );
        let l = LineInFile {
            regexp: Some("^pasv_max_port=".into()),
            line: value("pasv_max_port=50100"),
            ..Default::default()
        };
        assert_eq!(
            shown(lineinfile(base.clone(), &l)),
            "listen=YES\npasv_min_port=1\n#pasv_min_port=2\npasv_max_port=50100\n"
        );
        assert_eq!(
            shown(lineinfile(unknown_base(Span::new(FileId(0), 0, 0)), &l)),
            "?\npasv_max_port=50100\n"
        );
        let absent = LineInFile {
            regexp: Some("pasv_min".into()),
            absent: true,
            ..Default::default()
        };
        assert_eq!(shown(lineinfile(base, &absent)), "listen=YES\n");
    }

    #[test]
    fn lineinfile_backrefs_and_insertafter() {
        let base = text("a=1\nb=2\n");
        let l = LineInFile {
            regexp: Some("^(a)=.*".into()),
            line: value("\\1=9"),
            backrefs: true,
            ..Default::default()
        };
        assert_eq!(shown(lineinfile(base.clone(), &l)), "a=9\nb=2\n");
        let l = LineInFile {
            line: value("c=3"),
            insertafter: Some("^a=".into()),
            ..Default::default()
        };
        assert_eq!(shown(lineinfile(base, &l)), "a=1\nc=3\nb=2\n");
    }

    #[test]
    fn blockinfile_inserts_and_replaces_its_block() {
        let b = BlockInFile {
            block: value("pasv_min_port=50000\npasv_max_port=50100"),
            marker: "# {mark} ANSIBLE MANAGED BLOCK".into(),
            marker_begin: "BEGIN".into(),
            marker_end: "END".into(),
            ..Default::default()
        };
        let at = Span::new(FileId(2), 0, 0);
        let once = blockinfile(text("listen=YES"), &b, at).unwrap();
        assert_eq!(
            once.text,
            "listen=YES\n# BEGIN ANSIBLE MANAGED BLOCK\npasv_min_port=50000\npasv_max_port=50100\n# END ANSIBLE MANAGED BLOCK\n"
        );
        let twice = blockinfile(once.clone(), &b, at).unwrap();
        assert_eq!(twice.text, once.text);
    }

    #[test]
    fn ini_file_writes_spaces_around_the_equals_sign() {
        let i = IniFile {
            option: Some("pasv_min_port".into()),
            value: value("50000"),
            exclusive: true,
            ..Default::default()
        };
        let at = Span::new(FileId(2), 0, 0);
        assert_eq!(
            shown(ini_file(text("listen=YES\n#pasv_min_port=1\n"), &i, at)),
            "listen=YES\npasv_min_port = 50000\n"
        );
        let tight = IniFile {
            no_extra_spaces: true,
            ..i
        };
        assert_eq!(
            shown(ini_file(text("listen=YES\n"), &tight, at)),
            "listen=YES\npasv_min_port=50000\n"
        );
    }
}
