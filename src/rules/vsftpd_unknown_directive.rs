//! `vsftpd-unknown-directive`: see rules/vsftpd-unknown-directive.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::platform::Exemption;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::directives::{self, Directive, Foreign, Kind};
use crate::formats::vsftpd::{BOM, Outcome, Setting, config_of, is_c_space, parse_bool, shown_short, trim_c_space};
use crate::source::{SourceFile, Span};

pub struct VsftpdUnknownDirective;

impl Rule for VsftpdUnknownDirective {
    fn name(&self) -> &'static str {
        "vsftpd-unknown-directive"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if config.utf16.is_some() {
            return;
        }
        for setting in config.settings.iter().filter(|s| s.outcome == Outcome::Unknown) {
            out.push(self.diagnose(setting, &file.source));
        }
    }
}

impl VsftpdUnknownDirective {
    fn diagnose(&self, setting: &Setting, source: &SourceFile) -> Diagnostic {
        let name = setting.name.as_str();
        let span = if setting.key.is_empty() {
            setting.line
        } else {
            setting.key
        };
        let shown_name = shown_short(name);
        if name.is_empty() {
            return Diagnostic::new(
                self.name(),
                "vsftpd refuses to start: the line has no directive name before `=`",
                span,
                "no name",
            )
            .with_help("write `name=value`, or start the line with `#` to make it a comment");
        }
        if name.starts_with('#') {
            return indented_comment(self.name(), &shown_name, span);
        }
        let key = KeyProblem::of(name);
        let causes = key.causes();
        let value = setting.value_text(source).map(trim_c_space).unwrap_or("");
        let mut message = format!("vsftpd refuses to start: unknown directive `{shown_name}`");
        if let Some(foreign) = key.foreign {
            message.push_str(&format!(
                ": only {} accept it, not Debian's or upstream vsftpd 3.0.3",
                foreign.accepted_by
            ));
        } else if !causes.is_empty() {
            message.push_str(&format!(": {}", causes.join(" and ")));
        }
        let label = match (key.target, key.foreign) {
            (Some(d), _) => format!("did you mean `{}`?", d.name),
            (None, Some(f)) => format!("not in vsftpd 3.0.3 (a {} directive there)", f.kind.name()),
            (None, None) => "not a vsftpd 3.0.3 directive".to_owned(),
        };
        let mut d = Diagnostic::new(self.name(), message, span, label);
        // The fork compares names as exactly as upstream does.
        if key.foreign.is_some_and(|f| f.name == name && f.accepted_by.contains("Fedora")) && !key.bom {
            d = d.unless(Exemption::VsftpdFedoraFork);
        }
        let mut help = Vec::new();
        if key.bom {
            help.push("save the file as UTF-8 without a byte-order mark".to_owned());
        }
        if let Some(target) = key.target {
            let only_the_bom = key.exact && key.bom && causes.len() == 1;
            if !only_the_bom {
                help.push(format!("write {}", corrected_line(target, value)));
            }
            if key.exact && !key.bom && accepts(target, value) {
                let end = setting.value.map_or(setting.key.end, |v| v.end) as usize;
                let end = end - usize::from(source.text.as_bytes()[..end].ends_with(b"\r"));
                let edit = source.span(setting.key.start as usize, end);
                d = d.with_fix(
                    format!("rename to {}", target.name),
                    vec![(edit, format!("{}={value}", target.name))],
                );
            }
        } else if let Some(hint) = key.hint {
            help.push(hint.to_owned());
        } else if key.foreign.is_some() {
            help.push("delete the line, or keep it only in configs for the builds that accept it".to_owned());
        } else {
            help.push("delete the line or correct the name (see `man vsftpd.conf`)".to_owned());
        }
        d.with_help(help.join(", then "))
    }
}

/// A `#` after leading whitespace: vsftpd strips the whitespace only after the
/// comment test, so the line is a setting (unknown, or without a value).
pub(crate) fn indented_comment(rule: &'static str, shown_name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        rule,
        format!(
            "vsftpd refuses to start: `{shown_name}` is not a comment: `#` starts a comment only as the first character of a line"
        ),
        span,
        "whitespace before `#`",
    )
    .with_help("remove the whitespace before `#`")
}

/// vsftpd would take `value` for `target` without stopping.
fn accepts(target: &Directive, value: &str) -> bool {
    match target.kind {
        Kind::Bool => parse_bool(value).is_some(),
        Kind::Uint | Kind::Str => !value.is_empty(),
    }
}

/// `target=value` as a line vsftpd accepts, quoted for a message.
fn corrected_line(target: &Directive, value: &str) -> String {
    match target.kind {
        _ if accepts(target, value) => format!("`{}={value}`", target.name),
        Kind::Bool => format!("`{0}=YES` or `{0}=NO`", target.name),
        _ => format!("`{}=<value>`", target.name),
    }
}

/// Why a key is not a directive, and which one was meant.
#[derive(Default)]
struct KeyProblem {
    bom: bool,
    /// Whitespace kept at the end of the key ("space", "tab", ...).
    trailing: Option<&'static str>,
    case: bool,
    target: Option<&'static Directive>,
    foreign: Option<&'static Foreign>,
    hint: Option<&'static str>,
    /// The target differs only by BOM, case or trailing whitespace.
    exact: bool,
}

/// Names people reach for that vsftpd spells differently.
const HINTS: &[(&str, &str)] = &[
    (
        "listen_ipv4",
        "use `listen=YES` for IPv4 (or `listen_ipv6=YES`, whose `::` socket takes IPv4 too)",
    ),
    (
        "pasv_ports",
        "set the range with `pasv_min_port=` and `pasv_max_port=`",
    ),
    (
        "pasv_port_range",
        "set the range with `pasv_min_port=` and `pasv_max_port=`",
    ),
    (
        "pasv_range",
        "set the range with `pasv_min_port=` and `pasv_max_port=`",
    ),
];

impl KeyProblem {
    fn of(name: &str) -> KeyProblem {
        let bom = name.starts_with(BOM);
        let core = name.strip_prefix(BOM).unwrap_or(name);
        let base = core.trim_end_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
        let trailing = (base.len() < core.len()).then(|| whitespace_word(&core[base.len()..]));
        let lower = base.to_ascii_lowercase();
        let mut problem = KeyProblem {
            bom,
            trailing,
            ..KeyProblem::default()
        };
        if let Some(d) = directives::lookup(base) {
            problem.target = Some(d);
            problem.exact = true;
        } else if let Some(d) = directives::lookup(&lower) {
            problem.target = Some(d);
            problem.case = true;
            problem.exact = true;
        } else if let Some(f) = directives::lookup_foreign(&lower) {
            problem.foreign = Some(f);
        } else if let Some((_, hint)) = HINTS.iter().find(|(n, _)| *n == lower) {
            problem.hint = Some(hint);
        } else {
            problem.target = did_you_mean(&lower);
        }
        problem
    }

    fn causes(&self) -> Vec<&'static str> {
        let mut causes = Vec::new();
        if self.bom {
            causes.push(
                "the file starts with a UTF-8 byte-order mark (BOM), which vsftpd reads as part of the first name",
            );
        }
        if self.case {
            causes.push("names are case-sensitive");
        }
        match self.trailing {
            Some("space") => causes.push("the space before `=` is part of the name"),
            Some("tab") => causes.push("the tab before `=` is part of the name"),
            Some(_) => causes.push("the whitespace before `=` is part of the name"),
            None => {}
        }
        causes
    }

}

fn whitespace_word(ws: &str) -> &'static str {
    if ws.bytes().all(|b| b == b' ') {
        "space"
    } else if ws.bytes().all(|b| b == b'\t') {
        "tab"
    } else {
        "whitespace"
    }
}

/// The directive a garbled name most likely meant, compared loosely (lower case,
/// inner whitespace as `_` or removed).
pub(crate) fn did_you_mean(name: &str) -> Option<&'static Directive> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_ascii_whitespace().collect();
    let candidates = [words.join("_"), words.concat()];
    directives::DIRECTIVES
        .iter()
        .map(|d| {
            let score = candidates
                .iter()
                .map(|c| similarity(c, d.name))
                .fold(0.0, f64::max);
            (score, d)
        })
        .filter(|(score, _)| *score >= SUGGEST_AT)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, d)| d)
}

/// The [`similarity`] a name needs for a suggestion.
const SUGGEST_AT: f64 = 1.7;

/// Jaro-Winkler + normalized Damerau-Levenshtein + how much of `known` a
/// shared prefix and suffix cover (a garbled middle keeps both ends). A pair
/// that cannot reach [`SUGGEST_AT`] scores 0 without the Damerau-Levenshtein
/// distance, which costs the product of the lengths per pair (a file of long
/// unknown names took minutes).
fn similarity(typed: &str, known: &str) -> f64 {
    let prefix = typed
        .bytes()
        .zip(known.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = typed
        .bytes()
        .rev()
        .zip(known.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let ends = (prefix + suffix).min(typed.len()).min(known.len()) as f64 / known.len() as f64;
    // Jaro-Winkler is at most 1.
    if 1.0 + damerau_levenshtein_bound(typed, known) + ends < SUGGEST_AT {
        return 0.0;
    }
    strsim::jaro_winkler(typed, known) + strsim::normalized_damerau_levenshtein(typed, known) + ends
}

/// An upper bound on `strsim::normalized_damerau_levenshtein(a, b)` (1 - distance /
/// the longer length, in characters), in linear time. Each edit (insertion,
/// deletion, substitution, transposition) adds at most one character of a kind and
/// removes at most one, so the distance is at least the larger of what `a` has in
/// excess of `b` and what it lacks, counted per character (characters past U+00FF
/// share one count, which only loosens the bound).
fn damerau_levenshtein_bound(a: &str, b: &str) -> f64 {
    let mut counts = [0i64; 256];
    let (mut len_a, mut len_b) = (0usize, 0usize);
    for c in a.chars() {
        counts[(c as usize).min(255)] += 1;
        len_a += 1;
    }
    for c in b.chars() {
        counts[(c as usize).min(255)] -= 1;
        len_b += 1;
    }
    let longest = len_a.max(len_b);
    if longest == 0 {
        return 1.0;
    }
    let excess: i64 = counts.iter().filter(|&&n| n > 0).sum();
    let lack: i64 = -counts.iter().filter(|&&n| n < 0).sum::<i64>();
    1.0 - excess.max(lack) as f64 / longest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meant(name: &str) -> Option<&'static str> {
        did_you_mean(name).map(|d| d.name)
    }

    #[test]
    fn suggests_what_was_meant() {
        assert_eq!(meant("Pasvanderbilt max_port"), Some("pasv_max_port"));
        assert_eq!(meant("allow_writable_chroot"), Some("allow_writeable_chroot"));
        assert_eq!(meant("pasv_port_min"), Some("pasv_min_port"));
        assert_eq!(meant("max_login_attempts"), Some("max_login_fails"));
        assert_eq!(meant("chroot_local_users"), Some("chroot_local_user"));
        assert_eq!(meant("ftp_banner"), Some("ftpd_banner"));
        assert_eq!(meant("passive_enable"), Some("pasv_enable"));
        assert_eq!(meant("pasv max port"), Some("pasv_max_port"));
        assert_eq!(meant("zzz"), None);
        assert_eq!(meant("port"), None);
    }

    #[test]
    fn the_bound_never_undercuts_the_distance() {
        let names = ["", "pasv_max_port", "Pasv Max Port", "xyzzy", "pasv_max_portpasv", "ü_ßé", "ab"];
        for a in names {
            for d in directives::DIRECTIVES {
                let exact = strsim::normalized_damerau_levenshtein(a, d.name);
                let bound = damerau_levenshtein_bound(a, d.name);
                assert!(bound + 1e-9 >= exact, "{a:?} vs {}: {bound} < {exact}", d.name);
            }
        }
    }

    #[test]
    fn long_unknown_names_are_cheap() {
        let text = format!("{}=1\n", "y".repeat(400)).repeat(250);
        let started = std::time::Instant::now();
        assert_eq!(meant(&"y".repeat(400)), None);
        let _ = findings(text.as_bytes());
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }

    fn findings(text: &[u8]) -> Vec<Diagnostic> {
        let source = SourceFile::new(crate::source::FileId(0), "etc/vsftpd.conf", text);
        let file = crate::formats::parse(source, crate::formats::Format::Vsftpd);
        let mut out = Vec::new();
        VsftpdUnknownDirective.check_file(&file, &mut out);
        out
    }

    #[test]
    fn offers_a_fix_only_when_the_name_is_certain() {
        let d = findings(b"Listen_port = 21\r\nPasvanderbilt max_port = 9986\n");
        let fix = d[0].fixes.first().expect("case and space are certain");
        assert_eq!(fix.edits[0].0.range(), 0..16);
        assert_eq!(fix.edits[0].1, "listen_port=21");
        assert!(d[1].fixes.is_empty(), "a guessed name is not applied");
        assert_eq!(d[1].help.as_deref(), Some("write `pasv_max_port=9986`"));
        let d = findings(b"Pasv_enable = on\n");
        assert!(d[0].fixes.is_empty(), "`on` would still be rejected");
    }

    #[test]
    fn names_case_and_space_for_the_seed_line() {
        let p = KeyProblem::of("Listen_port ");
        assert_eq!(p.target.map(|d| d.name), Some("listen_port"));
        assert_eq!(
            p.causes(),
            [
                "names are case-sensitive",
                "the space before `=` is part of the name"
            ]
        );
        let p = KeyProblem::of("\u{FEFF}listen_port");
        assert!(p.bom && p.exact);
        assert!(KeyProblem::of("ssl_tlsv1_2").foreign.is_some());
    }
}
