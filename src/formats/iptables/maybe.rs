//! Closing commands that may not run. A script's `iptables -P INPUT DROP` (or
//! `-A … -j DROP`) under a condition pasvlint cannot decide (`if [ -f
//! /etc/firewall.lockdown ]`) closes ports only when that condition holds. The
//! script's firewall is read with the command run, as before; a second replay of
//! the same commands without the uncertain closing ones gives the firewall the
//! other branch leaves, so a finding that holds only with the closing commands can
//! say which condition decides it.

use super::script::Program;
use crate::facts::ClosedIf;
use crate::scripts::{Command, Word};
use crate::source::SourceFile;

/// What decides whether `c` closes ports, when it is an uncertain closing command.
pub fn closed_if(c: &Command, source: &SourceFile) -> Option<ClosedIf> {
    let condition = c.uncertain.as_ref()?.span;
    let (Program::Rules(_), first) = super::script::program_of(c)? else {
        return None;
    };
    let args = c.argv.get(first..).unwrap_or(&[]);
    closes(args).then(|| ClosedIf {
        command: c.span,
        condition,
        command_text: one_line(source.slice(c.span)),
        condition_text: one_line(source.slice(condition)),
    })
}

/// `-P CHAIN DROP|REJECT`, or an appended, inserted or replaced rule jumping to
/// DROP or REJECT.
fn closes(args: &[Word]) -> bool {
    let text: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
    let closing = |t: &str| matches!(t, "DROP" | "REJECT");
    let after = |flags: &[&str], skip: usize| {
        text.iter()
            .position(|t| flags.contains(t))
            .and_then(|i| text.get(i + skip))
            .is_some_and(|t| closing(t))
    };
    let adds = text.iter().any(|t| {
        matches!(
            *t,
            "-A" | "--append" | "-I" | "--insert" | "-R" | "--replace"
        )
    });
    after(&["-P", "--policy"], 2) || (adds && after(&["-j", "--jump"], 1))
}

/// The command or condition as one line of text, for messages.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn words(text: &str) -> Vec<Word> {
        let span = Span::new(FileId(0), 0, 0);
        text.split(' ').map(|w| Word::literal(w, span)).collect()
    }

    #[test]
    fn a_script_is_also_read_without_its_uncertain_closing_commands() {
        let text = "#!/bin/sh\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nif [ -f /etc/x ]; then\n  iptables -P INPUT DROP\nfi\n";
        let source = SourceFile::new(FileId(0), "fw.sh", text.as_bytes());
        let rs = super::super::parse_script(&source);
        let [closing] = rs.closes_if.as_slice() else {
            panic!("{:?}", rs.closes_if)
        };
        assert_eq!(closing.condition_text, "[ -f /etc/x ]");
        assert_eq!(closing.command_text, "iptables -P INPUT DROP");
        let policy = |rs: &super::super::Ruleset| {
            rs.table(super::super::TableKind::Filter)
                .and_then(|t| t.chain("INPUT"))
                .map(|c| c.policy)
        };
        assert_eq!(policy(&rs), Some(crate::filter::ir::Policy::Drop));
        let other = rs.otherwise.as_deref().unwrap();
        assert_eq!(policy(other), Some(crate::filter::ir::Policy::Accept));
    }

    #[test]
    fn drop_policies_and_drop_rules_close() {
        assert!(closes(&words("-P INPUT DROP")));
        assert!(closes(&words("-A INPUT -p tcp --dport 21 -j REJECT")));
        assert!(closes(&words("-I INPUT 1 -j DROP")));
        assert!(!closes(&words("-P INPUT ACCEPT")));
        assert!(!closes(&words("-A INPUT -p tcp --dport 21 -j ACCEPT")));
        assert!(!closes(&words("-D INPUT -j DROP")));
    }
}
