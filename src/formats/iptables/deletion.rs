//! Which line deletes one rule and nothing else: a dump line, or a plain script
//! command whose deletion leaves every other command as it was.

use super::Ruleset;
use crate::formats::Format;
use crate::source::{SourceFile, Span, own_lines};
use std::collections::HashMap;

/// What deciding a rule's deletion needs from the whole file, counted once: a
/// script's loop may run one command thousands of times.
pub struct Deletions<'a> {
    source: &'a SourceFile,
    script: bool,
    /// Computed on the first rule asked about: most files have no rule to delete.
    positional: std::cell::OnceCell<bool>,
    live: HashMap<Span, usize>,
    wanted: HashMap<Span, usize>,
}

impl<'a> Deletions<'a> {
    /// `wanted`: the rules to delete, one entry per live copy.
    pub fn new(
        source: &'a SourceFile,
        rs: &Ruleset,
        wanted: impl IntoIterator<Item = Span>,
    ) -> Option<Self> {
        let script = match rs.format {
            Format::IptablesSave => false,
            Format::ShellScript => true,
            _ => return None,
        };
        let live = if script {
            copies_of_lines(rs)
        } else {
            HashMap::new()
        };
        let mut counts = HashMap::new();
        for rule in wanted {
            *counts.entry(rule).or_insert(0) += 1;
        }
        Some(Deletions {
            source,
            script,
            positional: std::cell::OnceCell::new(),
            live,
            wanted: counts,
        })
    }

    /// For rules each line makes once: a command that makes several (a loop's
    /// copies, `firewall-cmd --add-port=20/tcp --add-service=ftp`) gets no line.
    pub fn single_rules(source: &'a SourceFile, rs: &Ruleset) -> Option<Self> {
        let mut d = Deletions::new(source, rs, [])?;
        d.wanted = d
            .live
            .iter()
            .filter(|(_, n)| **n == 1)
            .map(|(s, n)| (*s, *n))
            .collect();
        Some(d)
    }

    /// The line holding only `rule`, with its line break, when deleting it is certain
    /// to leave every other rule as it was: a dump line or a plain script command
    /// whose every copy is wanted (a loop or a function called twice has copies
    /// that may still decide), with no continuation, list operator or block that
    /// would then be empty, in a file that never deletes, replaces or inserts rules
    /// by position or by their text.
    pub fn line_of(&self, rule: Span) -> Option<Span> {
        let text = self.source.text.as_str();
        let every_copy_wanted = self.live.get(&rule) == self.wanted.get(&rule);
        if rule.file != self.source.id || (self.script && !every_copy_wanted) {
            return None;
        }
        if *self.positional.get_or_init(|| edits_by_position(text)) {
            return None;
        }
        let lines = own_lines(text, rule.range(), None)?;
        let plain = !text[lines.clone()].contains(['$', '`', '\\']);
        if !plain || (self.script && !stands_alone(text, lines.start, lines.end)) {
            return None;
        }
        Some(self.source.span(lines.start, lines.end))
    }
}

/// How many live rules each line made (a script's loop runs one line many times).
fn copies_of_lines(rs: &Ruleset) -> HashMap<Span, usize> {
    let mut copies = HashMap::new();
    let rules = rs
        .all_tables()
        .flat_map(|t| t.live_chains())
        .flat_map(|(_, c)| c.rules.iter());
    for r in rules {
        *copies.entry(r.span).or_insert(0) += 1;
    }
    copies
}

/// Deleting `start..end` leaves the script's other commands as they were: the line
/// before does not chain onto it (`&&`, `|`) and it is not the only command of a block.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let code = |l: &&str| !without_comment(l).is_empty();
    let before = text[..start]
        .lines()
        .rev()
        .find(code)
        .map_or("", without_comment);
    let after = text[end..].lines().find(code).map_or("", without_comment);
    let chains = ["&&", "||", "|", "\\"]
        .iter()
        .any(|op| before.ends_with(op));
    let last_word = before.rsplit([' ', ';']).next().unwrap_or("");
    let opens = ["then", "do", "else"].contains(&last_word) || before.ends_with(['{', '(', ')']);
    let closes = after.starts_with(";;")
        || ["fi", "done", "esac", "}", ")", "else", "elif"]
            .iter()
            .any(|w| after.split([' ', ';']).next() == Some(*w));
    let empties_block = opens && closes;
    !(chains || empties_block)
}

/// The line without a trailing `# comment` (a `#` starting a word, outside
/// quotes), trimmed: `then # active mode` opens a block as `then` does.
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut word_start = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if word_start => return line[..i].trim(),
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            _ => {}
        }
        word_start = c.is_whitespace() || c == ';';
    }
    line.trim()
}

/// Any `-D`, `-R` or numbered `-I`: deleting a rule would shift what they address.
/// Only the lines holding one of the option words are split, each once: a
/// kube-proxy dump has a million lines and none of them.
fn edits_by_position(text: &str) -> bool {
    static OPTION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new("-D|-R|-I|--delete|--replace|--insert").expect("a valid pattern")
    });
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(hit) = OPTION.find_at(text, from) {
        let start = memchr::memrchr(b'\n', &bytes[..hit.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[hit.end()..]).map_or(text.len(), |i| hit.end() + i);
        if line_edits_by_position(&text[start..end]) {
            return true;
        }
        from = end;
    }
    false
}

fn line_edits_by_position(line: &str) -> bool {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        match w {
            "-D" | "--delete" | "-R" | "--replace" => return true,
            "-I" | "--insert" => {
                let _chain = words.next();
                if words
                    .next()
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alone(script: &str, line: &str) -> bool {
        let start = script.find(line).unwrap();
        stands_alone(script, start, start + line.len())
    }

    #[test]
    fn a_line_is_deleted_only_where_the_script_stays_the_same_otherwise() {
        let rule = "iptables -A INPUT -j ACCEPT\n";
        assert!(alone(&format!("a\n{rule}b\n"), rule));
        assert!(alone(&format!("if x; then\n  a\n  {rule}fi\n"), rule));
        assert!(!alone(&format!("if x; then\n  # only\n  {rule}fi\n"), rule));
        assert!(!alone(&format!("for p in 1; do\n{rule}done\n"), rule));
        assert!(!alone(&format!("a &&\n{rule}b\n"), rule));
        assert!(!alone(
            &format!("case $1 in\n  up)\n    {rule}    ;;\nesac\n"),
            rule
        ));
    }

    #[test]
    fn rules_addressed_by_position_or_text_keep_every_line() {
        assert!(edits_by_position("iptables -D INPUT 3\n"));
        assert!(edits_by_position("iptables -I INPUT 2 -j DROP\n"));
        assert!(!edits_by_position("iptables -I INPUT -j DROP\n"));
        assert!(edits_by_position("-A X -j KUBE-SEP-DR\n--delete INPUT 1\n"));
        assert!(!edits_by_position("-A KUBE-SEP-DR -j KUBE-SEP-IR\n"));
        // Many option words on one line: each line is split once.
        let one_line = "-I x ".repeat(50_000);
        assert!(!edits_by_position(&one_line));
        assert!(edits_by_position(&format!(
            "{one_line}\n-R INPUT 1 -j DROP\n"
        )));
    }
}
