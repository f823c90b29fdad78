//! The files ufw loads at boot, read as `ufw-init start` (ufw 0.36) loads them:
//! its own chains and the jumps from INPUT, the reject and track chains the
//! default policy asks for, then `before.rules`, `after.rules` and `user.rules`
//! with `iptables-restore -n` (each `:chain` line flushes that chain), the jump
//! from `ufw-before-input` to `ufw-user-input`, and last the built-in policies;
//! the same with `ufw6-` chains and `ip6tables` for IPv6. A rules file the
//! repository does not hold is ufw's shipped default; settings come from
//! `/etc/default/ufw` (`DEFAULT_INPUT_POLICY`, `IPV6`) and `/etc/ufw/ufw.conf`
//! (`ENABLED`).

use crate::addrset::Family;
use crate::formats::iptables::{self, Ruleset};
use crate::formats::{Format, ParsedFile};
use crate::source::{SourceFile, Span};
use std::path::{Path, PathBuf};

/// Which of ufw's rules files a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Before,
    After,
    User,
}

/// A file ufw loads as one of its rules files: named so (`before.rules`,
/// `user6.rules`, ...) and either in a `ufw` folder or declaring ufw's chains
/// (a copy kept elsewhere, such as a configuration role's `files/user.rules`).
pub fn sniff_rules(path: &Path, text: &str) -> bool {
    rules_file(path).is_some()
        && (in_folder(path, "ufw")
            || crate::formats::head(text).contains("\n:ufw-")
            || crate::formats::head(text).contains("\n:ufw6-"))
}

/// Which of ufw's rules files `path` is named as.
pub fn rules_file(path: &Path) -> Option<(Stage, Family)> {
    let name = path.file_name()?.to_str()?;
    let (stage, family) = match name {
        "before.rules" => (Stage::Before, Family::V4),
        "before6.rules" => (Stage::Before, Family::V6),
        "after.rules" => (Stage::After, Family::V4),
        "after6.rules" => (Stage::After, Family::V6),
        "user.rules" => (Stage::User, Family::V4),
        "user6.rules" => (Stage::User, Family::V6),
        _ => return None,
    };
    Some((stage, family))
}

/// `/etc/default/ufw` or `/etc/ufw/ufw.conf`.
pub fn settings_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    (name == Some("ufw") && in_folder(path, "default"))
        || (name == Some("ufw.conf") && in_folder(path, "ufw"))
}

fn in_folder(path: &Path, folder: &str) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == folder)
}

/// The folder that holds the host's `ufw/` and `default/` (its `/etc`).
fn etc_of(path: &Path) -> PathBuf {
    path.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// One `NAME=value` line of a settings file (the file is sourced by `sh`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    /// Without its quotes.
    pub value: String,
    /// The whole assignment.
    pub span: Span,
    /// The value as written, quotes included.
    pub value_span: Span,
}

/// A settings file's assignments, in order (the last one of a name wins).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub values: Vec<Setting>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.values.iter().rev().find(|s| s.name == name)
    }
}

pub fn parse_settings(source: &SourceFile) -> Settings {
    let mut values = Vec::new();
    let mut offset = 0;
    for raw in source.text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(s) = assignment(source, line, offset) {
            values.push(s);
        }
        offset += raw.len();
    }
    Settings { values }
}

fn assignment(source: &SourceFile, line: &str, offset: usize) -> Option<Setting> {
    let lead = line.len() - line.trim_start().len();
    let body = &line[lead..];
    let (name, rest) = body.split_once('=')?;
    let is_name = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !is_name {
        return None;
    }
    let raw = rest.split(" #").next().unwrap_or("").trim_end();
    let value = raw
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| raw.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(raw);
    let start = offset + lead;
    let value_start = start + name.len() + 1;
    Some(Setting {
        name: name.to_owned(),
        value: value.to_owned(),
        span: source.span(start, start + name.len() + 1 + raw.len()),
        value_span: source.span(value_start, value_start + raw.len()),
    })
}

/// The chain prefix of a family: `ufw` or `ufw6`.
fn prefix(family: Family) -> &'static str {
    match family {
        Family::V4 => "ufw",
        Family::V6 => "ufw6",
    }
}

/// A rules file alone, loaded on top of the chains ufw-init creates first (so
/// its jumps to `ufw-logging-deny` or `ufw-skip-to-policy-input` resolve).
pub fn parse_rules(source: &SourceFile) -> Ruleset {
    let family = rules_file(&source.path).map_or(Family::V4, |(_, f)| f);
    let mut rs = Ruleset::new(Format::UfwRules, family);
    let anchor = source.span(0, 0);
    let mut context = preamble(family, "DROP");
    context.push(user_chains(family));
    for text in context {
        iptables::restore_into(&mut rs, source, &text, family, true, Some(anchor));
    }
    iptables::restore_into(&mut rs, source, &source.text, family, true, None);
    rs
}

/// The restores ufw-init runs before it loads any rules file, for `policy` (the
/// value of `DEFAULT_INPUT_POLICY`, as written), each its own `iptables-restore
/// -n`: one that fails (a policy iptables does not know) loads nothing, the
/// others still load.
fn preamble(family: Family, policy: &str) -> Vec<String> {
    let p = prefix(family);
    let stages = [
        "before-logging",
        "before",
        "after",
        "after-logging",
        "reject",
        "track",
    ];
    let mut primary = String::from("*filter\n");
    for stage in stages {
        for dir in ["input", "output", "forward"] {
            primary.push_str(&format!(":{p}-{stage}-{dir} - [0:0]\n"));
        }
    }
    for stage in stages {
        primary.push_str(&format!("-A INPUT -j {p}-{stage}-input\n"));
    }
    let mut out = vec![primary + "COMMIT\n"];
    match policy {
        "REJECT" => out.push(format!("*filter\n-A {p}-reject-input -j REJECT\nCOMMIT\n")),
        "ACCEPT" => out.push(format!(
            "*filter\n-A {p}-track-input -p tcp -m conntrack --ctstate NEW -j ACCEPT\n\
             -A {p}-track-input -p udp -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n"
        )),
        _ => {}
    }
    out.push(format!(
        "*filter\n:{p}-logging-deny - [0:0]\n:{p}-logging-allow - [0:0]\nCOMMIT\n"
    ));
    out.push(format!(
        "*filter\n:{p}-skip-to-policy-input - [0:0]\n-A {p}-skip-to-policy-input -j {policy}\nCOMMIT\n"
    ));
    out
}

/// The user chains ufw-init creates before it loads `user.rules`.
fn user_chains(family: Family) -> String {
    let p = prefix(family);
    let mut text = String::from("*filter\n");
    for chain in [
        "user-input",
        "user-output",
        "user-forward",
        "user-logging-input",
        "user-logging-output",
        "user-logging-forward",
        "user-limit",
        "user-limit-accept",
    ] {
        text.push_str(&format!(":{p}-{chain} - [0:0]\n"));
    }
    text + "COMMIT\n"
}

/// What ufw's shipped `before.rules` / `before6.rules` decide for inbound TCP:
/// loopback, replies and helper-related connections in, invalid packets out,
/// and (IPv4) packets not addressed to the host dropped.
fn shipped_before(family: Family) -> String {
    let p = prefix(family);
    let mut text = format!(
        "*filter\n:{p}-before-input - [0:0]\n:{p}-before-output - [0:0]\n:{p}-before-forward - [0:0]\n\
         -A {p}-before-input -i lo -j ACCEPT\n-A {p}-before-output -o lo -j ACCEPT\n\
         -A {p}-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A {p}-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A {p}-before-input -m conntrack --ctstate INVALID -j DROP\n"
    );
    if family == Family::V4 {
        text.push_str(&format!(
            ":{p}-not-local - [0:0]\n-A {p}-before-input -j {p}-not-local\n\
             -A {p}-not-local -m addrtype --dst-type LOCAL -j RETURN\n\
             -A {p}-not-local -m addrtype --dst-type MULTICAST -j RETURN\n\
             -A {p}-not-local -m addrtype --dst-type BROADCAST -j RETURN\n\
             -A {p}-not-local -j DROP\n"
        ));
    }
    text.push_str("COMMIT\n");
    text
}

/// ufw's shipped `after.rules`: SMB ports go straight to the default policy.
fn shipped_after(family: Family) -> String {
    let p = prefix(family);
    format!(
        "*filter\n:{p}-after-input - [0:0]\n:{p}-after-output - [0:0]\n:{p}-after-forward - [0:0]\n\
         -A {p}-after-input -p tcp --dport 139 -j {p}-skip-to-policy-input\n\
         -A {p}-after-input -p tcp --dport 445 -j {p}-skip-to-policy-input\nCOMMIT\n"
    )
}

/// ufw's shipped `user.rules`: no rule, and the rate-limit chains.
fn shipped_user(family: Family) -> String {
    let p = prefix(family);
    format!(
        "*filter\n:{p}-user-input - [0:0]\n:{p}-user-output - [0:0]\n:{p}-user-forward - [0:0]\n\
         :{p}-user-limit - [0:0]\n:{p}-user-limit-accept - [0:0]\n\
         -A {p}-user-limit -j REJECT\n-A {p}-user-limit-accept -j ACCEPT\nCOMMIT\n"
    )
}

/// The text of one of ufw's shipped rules files, for a family.
type Shipped = fn(Family) -> String;

/// One host's ufw: the rules it loads, per family, and why it loads none.
#[derive(Debug)]
pub struct UfwHost {
    /// Both families' tables (IPv6 in `tables_v6`); `None` when ufw is not enabled.
    pub ruleset: Option<Ruleset>,
    /// `ENABLED=no` in ufw.conf: nothing is loaded at boot.
    pub disabled: Option<Setting>,
    /// Settings ufw-init cannot use (a policy other than ACCEPT, DROP or REJECT).
    pub bad_settings: Vec<Setting>,
}

/// The files of one host's ufw, by role.
struct Files<'a> {
    rules: Vec<(Stage, Family, &'a ParsedFile)>,
    defaults: Option<(&'a ParsedFile, &'a Settings)>,
    conf: Option<(&'a ParsedFile, &'a Settings)>,
}

impl<'a> Files<'a> {
    fn of(parts: &'a [ParsedFile]) -> Files<'a> {
        let mut files = Files {
            rules: Vec::new(),
            defaults: None,
            conf: None,
        };
        for part in parts {
            match (&part.doc, rules_file(&part.source.path)) {
                (crate::formats::Document::Iptables(_), Some((stage, family))) => {
                    files.rules.push((stage, family, part));
                }
                (crate::formats::Document::UfwSettings(s), _) => {
                    if part
                        .source
                        .path
                        .file_name()
                        .is_some_and(|n| n == "ufw.conf")
                    {
                        files.conf = Some((part, s));
                    } else {
                        files.defaults = Some((part, s));
                    }
                }
                _ => {}
            }
        }
        files
    }

    fn rules(&self, stage: Stage, family: Family) -> Option<&'a ParsedFile> {
        self.rules
            .iter()
            .find(|(s, f, _)| *s == stage && *f == family)
            .map(|(_, _, p)| *p)
    }

    fn setting(&self, name: &str) -> Option<(&'a ParsedFile, &'a Setting)> {
        [self.conf, self.defaults]
            .into_iter()
            .flatten()
            .find_map(|(file, s)| s.get(name).map(|v| (file, v)))
    }
}

/// Group a run's ufw files by the host folder that holds them; each group's
/// primary is its `user.rules` (else `user6.rules`, else its first file).
pub fn assemble(parts: Vec<ParsedFile>) -> Vec<(PathBuf, Vec<ParsedFile>)> {
    let mut groups: Vec<(PathBuf, Vec<ParsedFile>)> = Vec::new();
    for part in parts {
        let key = etc_of(&part.source.path);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(part),
            None => groups.push((key, vec![part])),
        }
    }
    for (_, g) in &mut groups {
        let rank = |p: &ParsedFile| match rules_file(&p.source.path) {
            Some((Stage::User, Family::V4)) => 0,
            Some((Stage::User, Family::V6)) => 1,
            _ => 2,
        };
        g.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then(a.source.path.cmp(&b.source.path))
        });
    }
    groups
}

/// Load a host's ufw as ufw-init does.
pub fn load(parts: &[ParsedFile]) -> UfwHost {
    let files = Files::of(parts);
    let primary = &parts[0].source;
    let bad_settings = bad_settings(&files);
    if let Some((_, enabled)) = files.setting("ENABLED")
        && !enabled.value.eq_ignore_ascii_case("yes")
    {
        return UfwHost {
            ruleset: None,
            disabled: Some(enabled.clone()),
            bad_settings,
        };
    }
    let mut rs = Ruleset::new(Format::UfwRules, Family::V4);
    let policy = files.setting("DEFAULT_INPUT_POLICY");
    let ipv6 = files.setting("IPV6");
    for family in [Family::V4, Family::V6] {
        if family == Family::V6 && ipv6.is_some_and(|(_, s)| !s.value.eq_ignore_ascii_case("yes")) {
            let (file, s) = ipv6.expect("checked");
            let text = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n\
                        -A INPUT -i lo -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\nCOMMIT\n";
            iptables::restore_into(&mut rs, &file.source, text, family, true, Some(s.span));
            continue;
        }
        load_family(&mut rs, &files, primary, family, policy);
    }
    UfwHost {
        ruleset: Some(rs),
        disabled: None,
        bad_settings,
    }
}

fn load_family(
    rs: &mut Ruleset,
    files: &Files,
    primary: &SourceFile,
    family: Family,
    policy: Option<(&ParsedFile, &Setting)>,
) {
    let anchor = primary.span(0, 0);
    let (policy_file, policy_span, policy_value) = match policy {
        Some((file, s)) => (&file.source, s.span, s.value.as_str()),
        None => (primary, anchor, "DROP"),
    };
    let restore = |rs: &mut Ruleset, source: &SourceFile, text: &str, remap: Option<Span>| {
        iptables::restore_into(rs, source, text, family, true, remap);
    };
    for text in preamble(family, policy_value) {
        restore(rs, policy_file, &text, Some(policy_span));
    }
    let stages: [(Stage, Shipped); 3] = [
        (Stage::Before, shipped_before),
        (Stage::After, shipped_after),
        (Stage::User, shipped_user),
    ];
    for (stage, shipped) in stages {
        if stage == Stage::User {
            restore(rs, primary, &user_chains(family), Some(anchor));
        }
        match files.rules(stage, family) {
            Some(file) => restore(rs, &file.source, &file.source.text, None),
            None => restore(rs, primary, &shipped(family), Some(anchor)),
        }
    }
    let p = prefix(family);
    let hook = format!("*filter\n-A {p}-before-input -j {p}-user-input\nCOMMIT\n");
    restore(rs, primary, &hook, Some(anchor));
    let builtin = if policy_value == "REJECT" {
        "DROP"
    } else {
        policy_value
    };
    let policies = format!("*filter\n:INPUT {builtin} [0:0]\nCOMMIT\n");
    restore(rs, policy_file, &policies, Some(policy_span));
}

/// The host's firewall facts. A policy the repository does not set is ufw's
/// built-in default (DROP), with no span of its own.
pub fn facts(host: &UfwHost, primary: &SourceFile) -> crate::facts::FileFacts {
    let Some(rs) = &host.ruleset else {
        return crate::facts::FileFacts::default();
    };
    // ufw-init's own rules are spanned in their files; only its policy is not.
    iptables::generated_facts(rs, primary, crate::facts::Dialect::Ufw, |d| d.is_policy)
}

/// `DEFAULT_*_POLICY` values ufw-init hands to iptables-restore verbatim: only
/// `ACCEPT`, `DROP` and `REJECT` load.
fn bad_settings(files: &Files) -> Vec<Setting> {
    [
        "DEFAULT_INPUT_POLICY",
        "DEFAULT_OUTPUT_POLICY",
        "DEFAULT_FORWARD_POLICY",
    ]
    .into_iter()
    .filter_map(|name| files.setting(name))
    .filter(|(_, s)| !matches!(s.value.as_str(), "ACCEPT" | "DROP" | "REJECT"))
    .map(|(_, s)| s.clone())
    .collect()
}

/// A rule line of `user.rules` that no `### tuple ###` line accounts for: ufw
/// does not know it, and rewrites the file without it at its next rule change.
/// ufw writes each tuple's lines right after it; a line there that names another
/// port or source than its tuple was added by hand.
pub fn rules_outside_tuples(source: &SourceFile) -> Vec<Span> {
    let mut out = Vec::new();
    let mut in_rules = false;
    let mut tuple: Option<Tuple> = None;
    let mut offset = 0;
    for raw in source.text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += raw.len();
        match line.trim_end() {
            "### RULES ###" => in_rules = true,
            "### END RULES ###" => in_rules = false,
            "" => tuple = None,
            l if l.starts_with("### tuple ###") => tuple = Tuple::parse(l),
            l if in_rules
                && l.starts_with("-A ")
                && !written_by_ufw_itself(l)
                && !tuple.as_ref().is_some_and(|t| t.writes(l)) =>
            {
                out.push(source.span(start, start + line.len()));
            }
            _ => {}
        }
    }
    out
}

/// A rule of the chains ufw fills on every rewrite (its rate limiting and logging):
/// the shipped `user.rules` has them under `### RULES ###`, with no END line, and
/// ufw writes them again under `### RATE LIMITING ###` / `### LOGGING ###`.
fn written_by_ufw_itself(line: &str) -> bool {
    let chain = line[3..].split_whitespace().next().unwrap_or("");
    let chain = chain
        .strip_prefix("ufw6-")
        .or_else(|| chain.strip_prefix("ufw-"))
        .unwrap_or("");
    matches!(chain, "user-limit" | "user-limit-accept")
        || chain.starts_with("user-logging-")
        || chain.starts_with("after-logging-")
        || chain.starts_with("logging-")
}

/// The destination port and source of a `### tuple ###` line
/// (`allow tcp 40000:40050 0.0.0.0/0 any 198.51.100.0/24 in`).
struct Tuple {
    dport: String,
    src: String,
}

impl Tuple {
    fn parse(line: &str) -> Option<Tuple> {
        let fields: Vec<&str> = line
            .trim_start_matches("### tuple ###")
            .split(" comment=")
            .next()?
            .split_whitespace()
            .collect();
        let (dport, src) = (fields.get(2)?, fields.get(5)?);
        Some(Tuple {
            dport: (*dport).to_owned(),
            src: (*src).to_owned(),
        })
    }

    /// Whether ufw would write `line` for this tuple.
    fn writes(&self, line: &str) -> bool {
        let words: Vec<&str> = line.split_whitespace().collect();
        let has =
            |option: &str, value: &str| words.windows(2).any(|w| w[0] == option && w[1] == value);
        let port_ok =
            self.dport == "any" || has("--dport", &self.dport) || has("--dports", &self.dport);
        let src_ok = matches!(self.src.as_str(), "0.0.0.0/0" | "::/0") || has("-s", &self.src);
        port_ok && src_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Document};
    use crate::source::FileId;

    fn part(id: u32, path: &str, text: &str) -> ParsedFile {
        let source = SourceFile::new(FileId(id), path, text.as_bytes());
        let format = formats::classify(Path::new(path), text).expect("a ufw file");
        formats::parse(source, format)
    }

    const USER: &str = "*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n\
        :ufw-user-forward - [0:0]\n:ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n\
        ### RULES ###\n\n### tuple ### allow tcp 21 0.0.0.0/0 any 0.0.0.0/0 in\n\
        -A ufw-user-input -p tcp --dport 21 -j ACCEPT\n\n\
        ### tuple ### allow tcp 40000:40050 0.0.0.0/0 any 0.0.0.0/0 in\n\
        -A ufw-user-input -p tcp -m multiport --dports 40000:40050 -j ACCEPT\n\n\
        ### END RULES ###\nCOMMIT\n";

    fn open(parts: Vec<ParsedFile>) -> (String, Option<String>) {
        let host = load(&parts);
        let rs = host.ruleset.expect("enabled");
        let (v4, v6) = iptables::facts(&rs, &parts[0].source);
        (
            v4.expect("IPv4").open_to_all.to_string(),
            v6.map(|f| f.open_to_all.to_string()),
        )
    }

    #[test]
    fn user_rules_open_their_ports_behind_the_default_drop() {
        let parts = vec![part(0, "h/etc/ufw/user.rules", USER)];
        assert!(matches!(parts[0].doc, Document::Iptables(_)));
        let (v4, v6) = open(parts);
        assert_eq!(v4, "21,40000-40050");
        assert_eq!(v6.as_deref(), Some(""), "shipped user6.rules opens nothing");
    }

    #[test]
    fn default_policy_and_ipv6_come_from_etc_default_ufw() {
        let defaults = "IPV6=no\nDEFAULT_INPUT_POLICY=\"ACCEPT\"\n";
        let parts = vec![
            part(0, "h/etc/ufw/user.rules", USER),
            part(1, "h/etc/default/ufw", defaults),
        ];
        let (v4, v6) = open(parts);
        assert_eq!(
            v4, "1-65535",
            "ACCEPT: the track chain lets every new TCP connection in"
        );
        assert_eq!(
            v6.as_deref(),
            Some(""),
            "IPV6=no: ufw-init drops all IPv6 but loopback"
        );
    }

    #[test]
    fn disabled_ufw_loads_nothing_and_bad_policies_are_kept() {
        let parts = vec![
            part(0, "h/etc/ufw/user.rules", USER),
            part(1, "h/etc/ufw/ufw.conf", "ENABLED=no\n"),
            part(2, "h/etc/default/ufw", "DEFAULT_INPUT_POLICY=\"deny\"\n"),
        ];
        let host = load(&parts);
        assert!(host.ruleset.is_none() && host.disabled.is_some());
        assert_eq!(host.bad_settings.len(), 1);
    }

    #[test]
    fn a_hand_written_rule_outside_a_tuple_is_found() {
        let text = USER.replace(
            "--dport 21 -j ACCEPT\n",
            "--dport 21 -j ACCEPT\n-A ufw-user-input -p tcp --dport 990 -j ACCEPT\n",
        );
        let source = SourceFile::new(FileId(0), "etc/ufw/user.rules", text.as_bytes());
        let spans = rules_outside_tuples(&source);
        assert_eq!(spans.len(), 1);
        assert!(source.slice(spans[0]).contains("990"));
        let ok = SourceFile::new(FileId(0), "etc/ufw/user.rules", USER.as_bytes());
        assert!(rules_outside_tuples(&ok).is_empty());
    }

    #[test]
    fn copies_outside_a_ufw_folder_are_known_by_their_chains() {
        let user = Path::new("roles/fw/files/user.rules");
        assert!(sniff_rules(user, USER));
        assert!(!sniff_rules(user, "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"));
        assert!(!sniff_rules(Path::new("etc/iptables/rules.v4"), USER));
        assert_eq!(
            formats::classify(user, USER),
            Some(Format::UfwRules),
            "not an iptables dump whose ufw jumps go nowhere"
        );
    }

    #[test]
    fn before_rules_alone_parse_without_problems() {
        let text = shipped_before(Family::V4).replace(
            "-A ufw-before-input -j ufw-not-local",
            "-A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny\n-A ufw-before-input -j ufw-not-local",
        );
        let source = SourceFile::new(FileId(0), "etc/ufw/before.rules", text.as_bytes());
        let rs = parse_rules(&source);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    }
}
