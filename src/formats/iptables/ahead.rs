//! Rule lines of a dump parsed ahead of their turn, on other threads.
//!
//! Parsing a rule line (splitting its words, the getopt emulation, the
//! extensions) needs nothing the lines before it built but the table it is in,
//! and is most of a big dump's load. So a dump is cut into blocks of lines and,
//! while one block's lines are applied in order ([`super::save::SaveParser::line`]),
//! the next block's rule lines are parsed in parallel, each piece against sets of
//! its own. Applying a line then takes its parsed command when it was parsed with
//! the table the line turns out to be in, and moves the command's port, address
//! and interface sets into the ruleset's in the order [`super::rule`] interns them,
//! so every index is the one a line-by-line parse gives. Anything else (a guess of
//! the table that was wrong, a line the pre-parse skipped) is parsed then, as before.

use super::lex::{Arg, split_restore_line, strip_rule_counters};
use super::rule::{self, Command, Ctx, Mode, ParseError};
use super::{Family, Interner, Sets, TableKind};
use crate::filter::ir::{ANY_ADDR, IfaceMatch, PortRef};
use crate::source::SourceFile;
use rayon::prelude::*;
use std::collections::VecDeque;

/// Lines applied between two hand-overs to the parsing threads.
pub const BLOCK: usize = 1 << 18;
/// Lines parsed by one task: a block is cut into pieces of this many bytes.
pub const PIECE: usize = 1 << 15;
/// Dumps smaller than this are parsed line by line (the fixtures, a host's rules).
pub const MIN_TEXT: usize = 1 << 18;

/// One rule line parsed ahead, with the table it was parsed in.
struct Parsed<'t> {
    start: usize,
    table: TableKind,
    result: Result<Option<Command<'t>>, ParseError>,
}

/// The lines of one piece and the sets their commands point into.
pub struct Piece<'t> {
    lines: VecDeque<Parsed<'t>>,
    sets: Sets,
}

/// Pieces parsed ahead, in the order of their lines.
#[derive(Default)]
pub struct Queue<'t> {
    pieces: VecDeque<Piece<'t>>,
}

/// Offsets of the lines that open a table (`*name`), and the table each names.
pub fn table_lines(text: &str) -> Vec<(usize, Option<TableKind>)> {
    let bytes = text.as_bytes();
    let starts = (bytes.first() == Some(&b'*'))
        .then_some(0)
        .into_iter()
        .chain(memchr::memmem::find_iter(bytes, b"\n*").map(|i| i + 1));
    starts
        .map(|at| {
            let rest = &text[at + 1..];
            let end = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
            (at, TableKind::parse(&rest[..end]))
        })
        .collect()
}

/// Cut `text[from..]` into ranges of whole lines of about `size` bytes.
pub fn cut(text: &str, from: usize, size: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = from;
    while at < bytes.len() {
        let end = match at.checked_add(size) {
            Some(n) if n < bytes.len() => {
                memchr::memchr(b'\n', &bytes[n..]).map_or(bytes.len(), |i| n + i + 1)
            }
            _ => bytes.len(),
        };
        out.push((at, end));
        at = end;
    }
    out
}

/// Parse the rule lines of `text[from..to]` in pieces of `piece` bytes, in parallel.
pub fn parse_block<'t>(
    source: &'t SourceFile,
    tables: &[(usize, Option<TableKind>)],
    family: Family,
    (from, to): (usize, usize),
    piece: usize,
) -> Vec<Piece<'t>> {
    let text = &source.text[..to];
    cut(text, from, piece)
        .into_par_iter()
        .map(|range| parse_piece(source, tables, family, range))
        .collect()
}

/// The table a line at `at` is in if every table line before it opened one.
fn table_at(tables: &[(usize, Option<TableKind>)], at: usize) -> Option<TableKind> {
    let i = tables.partition_point(|&(start, _)| start < at);
    i.checked_sub(1).and_then(|i| tables[i].1)
}

fn parse_piece<'t>(
    source: &'t SourceFile,
    tables: &[(usize, Option<TableKind>)],
    family: Family,
    (from, to): (usize, usize),
) -> Piece<'t> {
    let text: &'t str = &source.text;
    let mut sets = Sets::default();
    let mut interner = Interner::default();
    // Sized from the piece's line count: grown by doubling, the commands
    // (several hundred bytes each) were copied again at every growth.
    let count = memchr::memchr_iter(b'\n', &text.as_bytes()[from..to]).count() + 1;
    let mut lines = VecDeque::with_capacity(count);
    let mut words: Vec<Arg<'t>> = Vec::with_capacity(32);
    let mut offset = from;
    while offset < to {
        let end = memchr::memchr(b'\n', &text.as_bytes()[offset..to]).map_or(to, |i| offset + i);
        let start = offset;
        offset = end + 1;
        let mut line = &text[start..end];
        if let Some(stripped) = line.strip_suffix('\r') {
            line = stripped;
        }
        if line.is_empty() || line == "COMMIT" || line.starts_with(['#', '*', ':']) {
            continue;
        }
        let Some(table) = table_at(tables, start) else {
            continue;
        };
        let Ok(skip) = strip_rule_counters(line) else {
            continue;
        };
        words.clear();
        split_restore_line(&line[skip..], start + skip, &mut words);
        let ctx = Ctx {
            mode: Mode::Restore,
            family,
            table,
            file: source.id,
        };
        let span = source.span(start, start + line.len());
        let result = rule::parse(&words, &ctx, span, &mut sets, &mut interner);
        lines.push_back(Parsed {
            start,
            table,
            result,
        });
    }
    Piece { lines, sets }
}

impl<'t> Queue<'t> {
    pub fn extend(&mut self, pieces: Vec<Piece<'t>>) {
        self.pieces.extend(pieces);
    }

    /// The command of the rule line at `start` in `table`, its sets moved into
    /// `sets` as a line-by-line parse would have interned them; `None` when it
    /// was not parsed ahead so (the caller parses it).
    pub fn take(
        &mut self,
        start: usize,
        table: TableKind,
        sets: &mut Sets,
        interner: &mut Interner,
    ) -> Option<Result<Option<Command<'t>>, ParseError>> {
        if self.pieces.is_empty() {
            return None;
        }
        loop {
            let piece = self.pieces.front_mut()?;
            while piece.lines.front().is_some_and(|p| p.start < start) {
                piece.lines.pop_front();
            }
            match piece.lines.front() {
                None => {
                    self.pieces.pop_front();
                }
                Some(p) if p.start > start => return None,
                Some(_) => break,
            }
        }
        let piece = self.pieces.front_mut()?;
        let parsed = piece.lines.pop_front()?;
        if parsed.table != table {
            return None;
        }
        let mut result = parsed.result;
        if let Ok(Some(cmd)) = &mut result {
            if !move_sets(&mut cmd.rule, &mut piece.sets, sets, interner) {
                return None;
            }
        }
        Some(result)
    }
}

/// Re-point a rule parsed against `local` at `global`, interning in the order
/// `rule::Parser::finish` does: destination then source ports, the client
/// addresses in then out, the interfaces in then out. `false` (nothing moved)
/// when an interface name did not fit the local table: the caller parses it again.
fn move_sets(
    rule: &mut crate::filter::ir::Rule,
    local: &mut Sets,
    global: &mut Sets,
    interner: &mut Interner,
) -> bool {
    let unknown = |m: IfaceMatch| matches!(m, IfaceMatch::Is(i) | IfaceMatch::Not(i) if local.ifaces.get(i as usize).is_none());
    if unknown(rule.iface_in) || unknown(rule.iface_out) {
        return false;
    }
    for key in [&mut rule.key_in, &mut rule.key_out] {
        if let PortRef::Set(i) = *key {
            *key = interner.intern(&mut global.ports, local.ports[i as usize].clone());
        }
    }
    for client in [&mut rule.client_in, &mut rule.client_out] {
        if *client != ANY_ADDR {
            // Copied on this thread, not moved: what the ruleset keeps is then
            // allocated where the rest of it is, and the parsing threads' pages
            // hold only what the commands drop (moved, every kept set pinned a
            // page of the parsing thread's heap that nothing else reused).
            let set = local.addrs[*client as usize].clone();
            *client = interner.intern_addr(&mut global.addrs, Some(set));
        }
    }
    for iface in [&mut rule.iface_in, &mut rule.iface_out] {
        *iface = match *iface {
            IfaceMatch::Any => IfaceMatch::Any,
            IfaceMatch::Is(i) => {
                crate::filter::ifaces::intern(&mut global.ifaces, &local.ifaces[i as usize], false)
            }
            IfaceMatch::Not(i) => {
                crate::filter::ifaces::intern(&mut global.ifaces, &local.ifaces[i as usize], true)
            }
        };
    }
    true
}

#[cfg(test)]
mod tests {
    //! Parsed ahead or line by line, a dump gives the same ruleset, down to the
    //! order of every interned set and problem.
    use super::super::save::{looks_like_save, parse_in};
    use crate::source::{FileId, SourceFile};
    use std::fmt::Write as _;

    /// Everything a parse leaves but the chain index's hash table (randomly seeded).
    fn shown(rs: &super::super::Ruleset) -> String {
        let tables = rs.tables.iter().chain(rs.tables_v6.iter());
        let chains: Vec<_> = tables.flatten().map(|t| (t.kind, &t.chains)).collect();
        format!(
            "{chains:#?}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{}\n{:#?}",
            rs.problems, rs.unknowns, rs.assumed, rs.sets, rs.has_v4, rs.port_texts
        )
    }

    fn same_both_ways(name: &str, text: &str) {
        let src = SourceFile::new(FileId(0), name, text.as_bytes());
        let want = shown(&parse_in(&src, None));
        for (block, piece) in [
            (1, 1),
            (40, 1),
            (200, 30),
            (1000, 250),
            (usize::MAX / 2, 64),
        ] {
            let got = shown(&parse_in(&src, Some((block, piece))));
            if got != want {
                let diff = similar::TextDiff::from_lines(&want, &got);
                panic!(
                    "{name}: blocks of {block}, pieces of {piece} differ from a line-by-line parse:\n{}",
                    diff.unified_diff().context_radius(3)
                );
            }
        }
    }

    /// What a block parsed ahead holds per line (printed with `--nocapture`).
    #[test]
    fn sizes() {
        let line = std::mem::size_of::<super::Parsed<'_>>();
        eprintln!(
            "parsed line {line} bytes, rule {}",
            std::mem::size_of::<crate::filter::ir::Rule>()
        );
        assert!(line < 1024);
    }

    #[test]
    fn tables_errors_counters_and_sets() {
        let mut text = String::from(
            "-A INPUT -j ACCEPT\n# before any table\n*bogus\n-A INPUT -j ACCEPT\nCOMMIT\n\
             *filter\n:INPUT DROP [0:0]\n:f2b - [0:0]\n*nat\n\
             [3:4] -A INPUT -p tcp -m multiport --dports 21,50000:50100,60000 -j ACCEPT\n\
             [x -A INPUT -j ACCEPT\n\
             -A INPUT -s 10.0.0.0/8,192.168.1.0/24 -p tcp --dport 21 -j ACCEPT\n\
             -A INPUT -s 10.0.0.0/8,192.168.1.0/24 -d 10.1.0.0/16,10.2.0.0/16 -j f2b\n\
             -A INPUT -4 -p udp -m udp --sport 53 -j ACCEPT\n-A INPUT -6 -j DROP\n\
             -A INPUT -p tcp --dport nosuchport -j ACCEPT\n-A INPUT -m comment --comment \"a \\\"b\\\"\" -j DROP\n\
             -A f2b -s 203.0.113.7/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b -j RETURN\n\
             commit\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n\
             -A PREROUTING -p tcp --dport 2121 -j DNAT --to-destination 10.0.0.5:21\n\
             -A PREROUTING -j DROP\nCOMMIT\n*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n",
        );
        // More interface names than a ruleset keeps (255): the last ones share a slot.
        text.push_str("COMMIT\n*filter\n");
        for i in 0..300 {
            let _ = writeln!(
                text,
                "-A INPUT -i eth{i} -o ! br{} -p tcp --dport {i} -j ACCEPT",
                i % 7
            );
        }
        text.push_str("-A INPUT -i eth3 -j DROP\nCOMMIT\n");
        same_both_ways("rules.v4", &text);
        same_both_ways("rules.v4", &text.replace('\n', "\r\n"));
        same_both_ways(
            "rules.v6",
            &text.replace("10.", "2001:db8::").replace("/8", "/32"),
        );
    }

    #[test]
    fn every_dump_among_the_fixtures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut n = 0;
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.expect("a readable fixture tree");
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if entry.file_type().is_file() && looks_like_save(&text) {
                let name = entry.file_name().to_string_lossy();
                same_both_ways(&name, &text);
                n += 1;
            }
        }
        assert!(n > 50, "only {n} dumps among the fixtures");
    }
}
