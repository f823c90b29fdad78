//! Windows scripts: batch (`.cmd`/`.bat`) and PowerShell (`.ps1`) files that
//! configure IIS FTP (adsutil.vbs, appcmd, WebAdministration cmdlets) and the
//! Windows Firewall (netsh, NetSecurity cmdlets).
//!
//! Batch files run in [`crate::scripts::cmd`], which streams the commands
//! they run; [`commands`] reads the commands both languages share. The
//! PowerShell module still turns its lines into [`Arg`]s itself, and its loop
//! variables stand for their whole set of values ([`LoopValues`]).

pub mod batch;
pub mod commands;
pub mod ipsec_commands;
pub mod joined_path;
pub mod powershell;
pub mod service_level;
pub mod swap_range;

use super::iis::{iis6_passive_range, iis7_passive_range};
use super::regfile::passive_from;
use super::winfw::{Change, Finding, WinFirewall};
use crate::facts::{
    Active, ControlTls, Families, FileFacts, FtpServer, Located, Passive, UserClass, UserKind,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use std::path::Path;

pub const RULE_FOR_SINGLE_PERCENT: &str = "batch-for-single-percent";
pub const RULE_IIS_COMMAND: &str = "iis-script-command-malformed";
pub const RULE_FW_MALFORMED: &str = "windows-firewall-rule-malformed";
pub const RULE_NETSH_DEPRECATED: &str = "netsh-firewall-deprecated";

/// Stands for a value that cannot be known here (`%SystemRoot%`, `$args`).
pub const UNKNOWN: char = '\u{E0FF}';
/// Loop variable `k` is written as this char + k in expanded text.
const LOOP_BASE: u32 = 0xE000;
const MAX_LOOPS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptKind {
    Batch,
    PowerShell,
}

/// One command-line argument after the language's quoting and expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub span: Span,
}

/// The values a loop variable takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopValues {
    /// `FOR /L (start,step,end)` or `a..b`.
    Progression {
        start: i64,
        step: i64,
        end: i64,
    },
    List(Vec<String>),
    Unknown,
}

impl LoopValues {
    /// Every value as a TCP port: the set, plus the values that are not ports.
    /// A progression is never enumerated beyond the 65536 possible ports.
    pub fn ports(&self) -> Option<(PortSet, Vec<String>)> {
        match self {
            LoopValues::Progression { start, step, end } => {
                Some(progression_ports(*start, *step, *end))
            }
            LoopValues::List(items) => {
                let mut set = PortSet::empty();
                let mut bad = Vec::new();
                for item in items {
                    match item.trim().parse::<u16>() {
                        Ok(p) if p > 0 => set.insert_range(p, p),
                        _ => bad.push(item.clone()),
                    }
                }
                Some((set, bad))
            }
            LoopValues::Unknown => None,
        }
    }

    /// Values a loop yields when small, for the few places a value is text.
    pub fn count(&self) -> Option<u64> {
        match self {
            LoopValues::Progression { start, step, end } => progression_len(*start, *step, *end),
            LoopValues::List(items) => Some(items.len() as u64),
            LoopValues::Unknown => None,
        }
    }
}

fn progression_len(start: i64, step: i64, end: i64) -> Option<u64> {
    if step == 0 {
        return None;
    }
    let span = if step > 0 { end - start } else { start - end };
    if span < 0 {
        return Some(0);
    }
    Some((span / step.abs()) as u64 + 1)
}

/// The ports of `start, start+step, ...` up to `end` (inclusive), and a note
/// for values outside 1-65535. Step 0 loops forever on `start`.
fn progression_ports(start: i64, step: i64, end: i64) -> (PortSet, Vec<String>) {
    let mut bad = Vec::new();
    if step == 0 {
        let set = u16::try_from(start)
            .ok()
            .filter(|p| *p > 0)
            .map_or_else(PortSet::empty, PortSet::single);
        return (set, vec![format!("step 0 repeats {start} forever")]);
    }
    let (lo, hi) = if step > 0 { (start, end) } else { (end, start) };
    if lo > hi {
        return (PortSet::empty(), bad);
    }
    let last = if step > 0 {
        start + (end - start) / step * step
    } else {
        start - (start - end) / (-step) * (-step)
    };
    let (first_v, last_v) = (start.min(last), start.max(last));
    if first_v < 1 || last_v > 65535 {
        bad.push(format!("{first_v}..{last_v} reaches outside 1-65535"));
    }
    let stride = step.abs();
    if stride == 1 {
        let a = first_v.clamp(1, 65535) as u16;
        let b = last_v.clamp(1, 65535) as u16;
        let set = if first_v > 65535 || last_v < 1 {
            PortSet::empty()
        } else {
            PortSet::range(a, b)
        };
        return (set, bad);
    }
    let mut ranges = Vec::new();
    // First value of the progression (from the low end) that is >= 1.
    let mut v = if first_v >= 1 {
        first_v
    } else {
        first_v + ((1 - first_v + stride - 1) / stride) * stride
    };
    while v <= last_v.min(65535) {
        ranges.push((v as u16, v as u16));
        v += stride;
    }
    (PortSet::from_ranges(ranges), bad)
}

/// Where a command sits: its own span and the whole statement (a `FOR` loop
/// included) that findings point at.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub command: Span,
    pub statement: Span,
    /// Inside a loop over `loop_values` (for messages).
    pub in_loop: bool,
}

/// Loop variables in scope, by marker index.
#[derive(Debug, Default)]
pub struct Loops {
    pub vars: Vec<(String, LoopValues)>,
}

impl Loops {
    /// A marker for a new loop variable, or `None` past the nesting limit.
    pub fn push(&mut self, display: String, values: LoopValues) -> Option<char> {
        if self.vars.len() >= MAX_LOOPS {
            return None;
        }
        self.vars.push((display, values));
        char::from_u32(LOOP_BASE + self.vars.len() as u32 - 1)
    }

    pub fn marker_index(c: char) -> Option<usize> {
        let n = c as u32;
        (LOOP_BASE..LOOP_BASE + MAX_LOOPS as u32)
            .contains(&n)
            .then(|| (n - LOOP_BASE) as usize)
    }

    /// Text for messages: markers shown as the variable (`%I`, `$p`).
    pub fn display(&self, text: &str) -> String {
        text.chars()
            .map(|c| match Loops::marker_index(c) {
                Some(i) => self.vars.get(i).map_or("?".to_owned(), |v| v.0.clone()),
                None if c == UNKNOWN => "…".to_owned(),
                None => c.to_string(),
            })
            .collect()
    }

    /// Text with loop variables and unknowns removed (for a rule name).
    pub fn strip(text: &str) -> String {
        text.chars()
            .filter(|c| *c != UNKNOWN && Loops::marker_index(*c).is_none())
            .collect::<String>()
            .trim()
            .to_owned()
    }

    /// The loop a value stands for when it is exactly one loop variable.
    pub fn whole(&self, text: &str) -> Option<&LoopValues> {
        let mut chars = text.trim().chars();
        let c = chars.next()?;
        if chars.next().is_some() {
            return None;
        }
        Some(&self.vars.get(Loops::marker_index(c)?)?.1)
    }

    pub fn mentions_loop(text: &str) -> bool {
        text.chars().any(|c| Loops::marker_index(c).is_some())
    }
}

pub fn is_unknown(text: &str) -> bool {
    text.contains(UNKNOWN)
}

/// One IIS setting a script makes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IisSetting {
    /// adsutil `set MSFTPSVC/PassivePortRange "a-b"`.
    PassivePortRange { value: String, span: Span },
    /// adsutil `delete MSFTPSVC/PassivePortRange`.
    PassivePortRangeDeleted { span: Span },
    /// `ServerBindings ":2121:"` for a site (IIS 6) or an ftp binding (IIS 7).
    ControlPort {
        iis7: bool,
        site: String,
        port: Option<u16>,
        span: Span,
    },
    /// `MaxConnections` (IIS 6) / `maxConnections` (IIS 7); `None` site = service level.
    MaxConnections {
        iis7: bool,
        site: Option<String>,
        value: Option<u32>,
        span: Span,
    },
    /// `lowDataChannelPort` / `highDataChannelPort`.
    DataChannelPort {
        high: bool,
        value: Option<u32>,
        span: Span,
    },
}

/// What running a script does, in order.
#[derive(Debug, Default)]
pub struct Effects {
    pub firewall: Vec<Change>,
    /// IPsec policy changes (`netsh ipsec static`, `ipseccmd`).
    pub ipsec: Vec<super::ipsec::IpsecChange>,
    pub iis: Vec<IisSetting>,
    pub findings: Vec<Finding>,
    /// Port lists refused for a range written high-low, for the fix.
    pub reversed_ranges: Vec<swap_range::ReversedRange>,
    /// Paths to adsutil.vbs split by spaces, for the fix.
    pub split_paths: Vec<joined_path::SplitPath>,
    /// `PassivePortRange` set at a site's path, for the fix.
    pub site_paths: Vec<service_level::SitePath>,
    /// The arguments holding a value not known here, and that value as written
    /// (`%FTP_PASV_PORTS%`, `$env:PORTS`), for messages.
    pub unknown_words: Vec<(Span, String)>,
}

impl Effects {
    /// `text` for a message: the unknown value as the script writes it when the
    /// argument at `span` holds one, else the text with loop variables shown.
    pub fn shown(&self, text: &str, span: Span, loops: &Loops) -> String {
        let written = self
            .unknown_words
            .iter()
            .find(|(at, _)| at.start <= span.start && span.end <= at.end);
        match written {
            Some((_, w)) if is_unknown(text) => w.clone(),
            _ => loops.display(text),
        }
    }
}

/// A parsed script.
#[derive(Debug)]
pub struct Script {
    pub kind: ScriptKind,
    pub effects: Effects,
    /// The files the script writes and where its interpreter stopped.
    pub outcome: crate::scripts::Outcome,
}

/// `.cmd`/`.bat`/`.ps1` files that run a command this module reads.
pub fn sniff(path: &Path, text: &str) -> Option<ScriptKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let kind = match ext.as_str() {
        "cmd" | "bat" => ScriptKind::Batch,
        "ps1" | "psm1" => ScriptKind::PowerShell,
        _ => return None,
    };
    const WORDS: &[&str] = &[
        "netsh",
        "ipseccmd",
        "ipsecpol",
        "adsutil",
        "appcmd",
        "netfirewallrule",
        "netfirewallprofile",
        "set-webconfiguration",
        "set-iisconfigattributevalue",
    ];
    let lower = text.to_ascii_lowercase();
    WORDS.iter().any(|w| lower.contains(w)).then_some(kind)
}

pub fn parse(source: &SourceFile, kind: ScriptKind) -> Script {
    let mut effects = Effects::default();
    let outcome = match kind {
        ScriptKind::Batch => batch::run(source, &mut effects),
        ScriptKind::PowerShell => powershell::read(source, &mut effects),
    };
    collapse_deprecations(&mut effects.findings);
    Script {
        kind,
        effects,
        outcome,
    }
}

/// A script of thousands of `netsh firewall` lines gets one finding that
/// counts them, not thousands (loops keep their own: their help differs).
const MAX_DEPRECATION_FINDINGS: usize = 20;

fn collapse_deprecations(findings: &mut Vec<Finding>) {
    let is_plain =
        |f: &Finding| f.rule == RULE_NETSH_DEPRECATED && !f.message.contains("this loop");
    let count = findings.iter().filter(|f| is_plain(f)).count();
    if count <= MAX_DEPRECATION_FINDINGS {
        return;
    }
    let mut seen = 0;
    findings.retain(|f| {
        let keep = !is_plain(f) || seen == 0;
        seen += usize::from(is_plain(f));
        keep
    });
    if let Some(first) = findings.iter_mut().find(|f| is_plain(f)) {
        first.message = format!(
            "{} ({count} `netsh firewall` commands in this file)",
            first.message
        );
        first.help = Some("rewrite the port openings as `netsh advfirewall firewall add rule ... localport=<first>-<last>` rules, one per range".to_owned());
    }
}

/// The script's findings, with the fixes that need its text (`source`).
pub fn findings(script: &Script, source: &SourceFile) -> Vec<Finding> {
    let reversed = &script.effects.reversed_ranges;
    let split = &script.effects.split_paths;
    script
        .effects
        .findings
        .iter()
        .map(|f| swap_range::with_fix(f.clone(), reversed, source))
        .map(|f| joined_path::with_fix(f, split, source))
        .map(|f| {
            service_level::with_fix(f, &script.effects.site_paths, &script.effects.iis, source)
        })
        .collect()
}

pub fn facts(script: &Script, source: &SourceFile) -> FileFacts {
    let mut ftp = iis_servers(&script.effects.iis, false, source);
    ftp.extend(iis_servers(&script.effects.iis, true, source));
    let mut part = None;
    let windows = (!script.effects.firewall.is_empty()).then(|| {
        let mut fw = WinFirewall::default();
        for change in &script.effects.firewall {
            fw.apply(change.clone());
        }
        part = Some((script.effects.firewall.clone(), fw.port_texts(source)));
        fw.firewall_of(source)
    });
    // Windows Firewall and an assigned IPsec policy both filter: a port is
    // open only where both let it in.
    let ipsec =
        super::ipsec::IpsecStore::from_changes(&script.effects.ipsec).to_firewall(source.id);
    let windows_part = part.map(|(changes, texts)| {
        Box::new(super::winfw::Part {
            file: source.id,
            path: source.path.clone(),
            changes,
            texts,
            others: ipsec.clone(),
        })
    });
    let firewall = crate::facts::Firewall::combine(windows.into_iter().chain(ipsec).collect());
    FileFacts {
        ftp,
        firewall,
        firewall_v6: None,
        windows: windows_part,
        ..FileFacts::default()
    }
}

/// `PassivePortRange` values IIS would refuse, for the `iis-passive-range-invalid`
/// rule (the last one set is the one IIS reads; earlier ones are reported too).
pub fn passive_range_problems(script: &Script) -> Vec<(super::iis::IisVersion, Span, String)> {
    let mut out = Vec::new();
    for setting in &script.effects.iis {
        if let IisSetting::PassivePortRange { value, span } = setting {
            if is_unknown(value) || Loops::mentions_loop(value) {
                continue;
            }
            if let super::iis::RangeVerdict::Invalid(why) = iis6_passive_range(Some(value)) {
                out.push((super::iis::IisVersion::Iis6, *span, why));
            }
        }
    }
    let (low, high) = data_channel(&script.effects.iis);
    if let (Some((l, ls)), Some((h, _))) = (low, high) {
        if let super::iis::RangeVerdict::Invalid(why) = iis7_passive_range(Some(l), Some(h)) {
            out.push((super::iis::IisVersion::Iis7, ls, why));
        }
    }
    out
}

type Port = Option<(u32, Span)>;

fn data_channel(settings: &[IisSetting]) -> (Port, Port) {
    let (mut low, mut high) = (None, None);
    for s in settings {
        if let IisSetting::DataChannelPort {
            high: is_high,
            value: Some(v),
            span,
        } = s
        {
            if *is_high {
                high = Some((*v, *span));
            } else {
                low = Some((*v, *span));
            }
        }
    }
    (low, high)
}

/// One FTP server per site the script names (site 1 when it names none).
fn iis_servers(settings: &[IisSetting], iis7: bool, source: &SourceFile) -> Vec<FtpServer> {
    let mine: Vec<&IisSetting> = settings.iter().filter(|s| is_generation(s, iis7)).collect();
    let Some(first) = mine.first() else {
        return Vec::new();
    };
    let anchor = setting_span(first);
    let passive = if iis7 {
        iis7_passive(settings)
    } else {
        iis6_passive(settings)
    };
    let mut sites: Vec<(String, Located<Option<u16>>)> = Vec::new();
    for s in &mine {
        if let IisSetting::ControlPort {
            site, port, span, ..
        } = s
        {
            let located = Located::new(*port, Some(*span));
            match sites.iter_mut().find(|(n, _)| n == site) {
                Some(entry) => entry.1 = located,
                None => sites.push((site.clone(), located)),
            }
        }
    }
    if sites.is_empty() {
        sites.push(("1".to_owned(), Located::default_value(Some(21))));
    }
    sites
        .into_iter()
        .map(|(site, control_port)| FtpServer {
            file: source.id,
            server: if iis7 { "iis7" } else { "iis6" },
            control_port,
            passive: passive.clone(),
            max_sessions: max_sessions(&mine, &site),
            tls: Located::default_value(script_tls(iis7)),
            families: Located::default_value(script_families(iis7)),
            user_classes: script_user_classes(iis7),
            active: Active::Unknown,
            passive_address: Located::default_value(None),
            listen_address: crate::facts::Located::default_value(None),
            falls_back_outside_range: false,
            range_setting: range_setting(settings, iis7, source),
            anchor,
            container: None,
        })
        .collect()
}

/// Where the range IIS reads is written as literal values (`-Value 5000`,
/// `/highDataChannelPort:5100`, `PassivePortRange "5001-5100"`), for the
/// server-side fix; `None` for a value made of variables, loops or a hashtable
/// that holds both ends.
fn range_setting(
    settings: &[IisSetting],
    iis7: bool,
    source: &SourceFile,
) -> Option<crate::facts::RangeSetting> {
    if iis7 {
        let (Some((lo, lo_span)), Some((hi, hi_span))) = data_channel(settings) else {
            return None;
        };
        let lo = trailing_literal(source, lo_span, &lo.to_string())?;
        let hi = trailing_literal(source, hi_span, &hi.to_string())?;
        return (lo != hi).then(|| crate::facts::RangeSetting::ends(lo, hi));
    }
    let (value, span) = settings.iter().rev().find_map(|s| match s {
        IisSetting::PassivePortRange { value, span } => Some((value, *span)),
        _ => None,
    })?;
    let at = trailing_literal(source, span, value.trim_matches(['"', '\'']))?;
    Some(crate::facts::RangeSetting::joined(at, "-"))
}

/// The span of `value` where the text at `span` ends with it (before a closing
/// quote), not preceded by a digit: the value as written, not a variable's.
fn trailing_literal(source: &SourceFile, span: Span, value: &str) -> Option<Span> {
    let written = source.text.get(span.range())?;
    let body = written.trim_end_matches(['"', '\'']);
    let start = body.strip_suffix(value)?;
    if value.is_empty() || start.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let from = span.start as usize + start.len();
    Some(source.span(from, from + value.len()))
}

/// A script sets no SSL policy: IIS 7+ may offer FTPS, IIS 6 cannot.
fn script_tls(iis7: bool) -> ControlTls {
    if iis7 {
        ControlTls::Optional
    } else {
        ControlTls::Never
    }
}

/// IIS 6 FTP is IPv4 only; an IIS 7+ site's bindings are not in the script.
fn script_families(iis7: bool) -> Option<Families> {
    (!iis7).then_some(Families::Ipv4)
}

/// IIS 6 defaults (anonymous and Windows logins); IIS 7+ authentication is
/// not in the script, so one class stands for every user.
fn script_user_classes(iis7: bool) -> Vec<UserClass> {
    if !iis7 {
        return super::iis_metabase::user_classes(None, None);
    }
    vec![UserClass {
        kind: UserKind::All,
        tls: script_tls(iis7),
        spans: Vec::new(),
    }]
}

fn is_generation(s: &IisSetting, iis7: bool) -> bool {
    match s {
        IisSetting::PassivePortRange { .. } | IisSetting::PassivePortRangeDeleted { .. } => !iis7,
        IisSetting::DataChannelPort { .. } => iis7,
        IisSetting::ControlPort { iis7: g, .. } | IisSetting::MaxConnections { iis7: g, .. } => {
            *g == iis7
        }
    }
}

fn setting_span(s: &IisSetting) -> Span {
    match s {
        IisSetting::PassivePortRange { span, .. }
        | IisSetting::PassivePortRangeDeleted { span }
        | IisSetting::ControlPort { span, .. }
        | IisSetting::MaxConnections { span, .. }
        | IisSetting::DataChannelPort { span, .. } => *span,
    }
}

/// The site's own limit, else the service's; unlimited by default (IIS 5 SDK:
/// 0xFFFFFFFF on Windows 2000 Server; IIS 6 internal default 4294967295; IIS 7 4294967295).
fn max_sessions(settings: &[&IisSetting], site: &str) -> Located<Option<Option<u32>>> {
    let mut service = None;
    let mut own = None;
    for s in settings {
        if let IisSetting::MaxConnections {
            site: at,
            value,
            span,
            ..
        } = s
        {
            let v = Located::new(value.map(|n| (n != u32::MAX).then_some(n)), Some(*span));
            match at {
                Some(name) if name == site => own = Some(v),
                Some(_) => {}
                None => service = Some(v),
            }
        }
    }
    own.or(service)
        .unwrap_or_else(|| Located::default_value(Some(None)))
}

fn iis6_passive(settings: &[IisSetting]) -> Passive {
    let last = settings.iter().rev().find_map(|s| match s {
        IisSetting::PassivePortRange { value, span } => Some(Some((value, *span))),
        IisSetting::PassivePortRangeDeleted { .. } => Some(None),
        _ => None,
    });
    match last {
        Some(Some((value, span))) if is_unknown(value) || Loops::mentions_loop(value) => {
            Passive::Unknown {
                spans: vec![span],
                reason: "PassivePortRange is set from a value not known here".to_owned(),
            }
        }
        Some(Some((value, span))) => passive_from(iis6_passive_range(Some(value)), vec![span]),
        Some(None) => passive_from(iis6_passive_range(None), Vec::new()),
        None => Passive::Unknown {
            spans: Vec::new(),
            reason: "the script does not set PassivePortRange; the metabase holds it".to_owned(),
        },
    }
}

fn iis7_passive(settings: &[IisSetting]) -> Passive {
    let (low, high) = data_channel(settings);
    match (low, high) {
        (Some((l, ls)), Some((h, hs))) => passive_from(iis7_passive_range(Some(l), Some(h)), vec![ls, hs]),
        (Some((_, s)), None) | (None, Some((_, s))) => Passive::Unknown {
            spans: vec![s],
            reason: "only one end of the data channel range is set here; applicationHost.config holds the other".to_owned(),
        },
        (None, None) => Passive::Unknown {
            spans: Vec::new(),
            reason: "the script does not set the data channel range; applicationHost.config holds it".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_ranges_for_the_iis_rule() {
        let src = SourceFile::new(
            crate::source::FileId(0),
            "x.cmd",
            b"cscript adsutil.vbs set /MSFTPSVC/PassivePortRange \"6000-5000\"\r\nappcmd set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:100 /highDataChannelPort:200\r\n",
        );
        let script = parse(&src, ScriptKind::Batch);
        let problems = passive_range_problems(&script);
        let versions: Vec<_> = problems.iter().map(|p| p.0).collect();
        assert_eq!(
            versions,
            vec![
                super::super::iis::IisVersion::Iis6,
                super::super::iis::IisVersion::Iis7
            ]
        );
        let facts = facts(&script, &src);
        assert!(
            facts
                .ftp
                .iter()
                .all(|s| matches!(s.passive, Passive::Unknown { .. }))
        );
    }

    #[test]
    fn progressions() {
        let p = |s, st, e| progression_ports(s, st, e);
        assert_eq!(p(5001, 1, 5201).0.to_string(), "5001-5201");
        assert_eq!(p(5201, -1, 5001).0.to_string(), "5001-5201");
        assert_eq!(p(5, -2, 1).0.to_string(), "1,3,5");
        assert_eq!(p(5, 1, 1).0.to_string(), "");
        assert_eq!(p(1, 1, 2_000_000_000).0.to_string(), "1-65535");
        assert_eq!(p(-10, 7, 20).0.to_string(), "4,11,18");
        assert_eq!(p(65534, 1, 65540).1.len(), 1);
        assert_eq!(p(1, 0, 5).0.to_string(), "1");
        assert_eq!(progression_len(5, -2, 1), Some(3));
        assert_eq!(progression_len(1, 1, 0), Some(0));
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Effects;
    use crate::formats::winfw::{Change, LocalPorts};

    /// The local ports of every rule a script added, as text, in order.
    pub fn added_ports(fx: &Effects) -> Vec<String> {
        fx.firewall
            .iter()
            .filter_map(|c| match c {
                Change::Add(r) => Some(match &r.local_ports {
                    LocalPorts::Set(p) => p.to_string(),
                    other => format!("{other:?}"),
                }),
                _ => None,
            })
            .collect()
    }
}
