//! vsftpd.conf as the Debian vsftpd 3.0.3 binary reads it: the line grammar,
//! value conversions and PASV range of domain.md "vsftpd.conf" §1-§5, measured
//! against the real program (tests/oracle_vsftpd.rs keeps them in step).

pub mod directives;

use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangePart, RangeSetting, UserClass,
    UserKind, strongest_tls,
};
use crate::portset::PortSet;
use crate::source::{Encoding, SourceFile, Span};
use directives::{Directive, Kind};
use std::path::Path;

/// `VSFTP_CONF_FILE_MAX` (`defs.h`): vsftpd reads at most this many bytes.
pub const FILE_MAX: usize = 100_000;

/// Bytes of a UTF-8 byte-order mark, which vsftpd reads as part of line 1.
pub const BOM: &str = "\u{FEFF}";

/// What vsftpd read from one file.
#[derive(Debug, Default)]
pub struct Config {
    /// Every line vsftpd hands to its setting parser, in file order.
    pub settings: Vec<Setting>,
    /// Set when the file is longer than [`FILE_MAX`] bytes.
    pub truncation: Option<Truncation>,
    /// Read lines that end in `\r` (CRLF line endings).
    pub crlf_lines: usize,
    /// The file is UTF-16 (named): vsftpd sees a NUL after the first character
    /// and rejects line 1, whatever it holds.
    pub utf16: Option<&'static str>,
    /// Some line uses template syntax, so the rendered file is not known.
    pub templated: bool,
}

/// The part of an over-long file that vsftpd never reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Text offset where reading stops.
    pub read_end: usize,
    /// Bytes after the cap.
    pub ignored_bytes: usize,
    /// The read part of a line the cap cuts in two.
    pub cut_line: Option<Span>,
    /// Everything after the cap.
    pub ignored: Span,
}

/// One line as vsftpd's `vsf_parseconf_load_setting` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The line as read, without its `\n` and a CR before it (the value keeps the CR).
    pub line: Span,
    /// The key: after leading whitespace, before the first `=` (or the NUL/end).
    pub key: Span,
    /// The key exactly as vsftpd compares it (a BOM on line 1 is kept as U+FEFF).
    pub name: String,
    /// After the first `=`, up to a NUL or the line end; `None` without `=`.
    pub value: Option<Span>,
    pub directive: Option<&'static Directive>,
    pub outcome: Outcome,
}

/// What vsftpd does with a setting line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A string directive; `None` unsets it (empty value or no `=`).
    Str(Option<String>),
    /// A whitespace-only string value: Debian's 3.0.3 trims it to nothing and crashes (SIGSEGV).
    BlankStr,
    Bool(bool),
    /// The value as vsftpd converts it (never an error).
    Uint(u32),
    /// `missing value in config file for: <key>`
    MissingValue,
    /// `bad bool value in config file for: <key>`
    BadBool,
    /// `unrecognised variable in config file: <key>`
    Unknown,
    /// Template syntax in the key or value: what vsftpd will read is not known.
    Templated,
}

impl Outcome {
    /// vsftpd stops (exit 2, or the Debian crash) on this line.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Outcome::MissingValue | Outcome::BadBool | Outcome::Unknown | Outcome::BlankStr
        )
    }
}

/// The current value of a directive after every line is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a, T> {
    /// No line sets it: the compiled-in default.
    Default(T),
    /// The last line that sets it.
    Set(T, &'a Setting),
    /// The last line that sets it is templated.
    Templated(&'a Setting),
}

impl<T: Copy> Value<'_, T> {
    pub fn known(&self) -> Option<T> {
        match *self {
            Value::Default(v) | Value::Set(v, _) => Some(v),
            Value::Templated(_) => None,
        }
    }

    pub fn setting(&self) -> Option<&Setting> {
        match *self {
            Value::Default(_) => None,
            Value::Set(_, s) | Value::Templated(s) => Some(s),
        }
    }

    pub fn span(&self) -> Option<Span> {
        self.setting().map(|s| s.line)
    }
}

impl Config {
    fn last(&self, name: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.name == name && s.takes_effect())
    }

    /// The last line that sets `name` (read with `read`), or the default.
    fn value<'a, T>(
        &'a self,
        name: &str,
        read: impl Fn(&'a Outcome) -> Option<T>,
        default: T,
    ) -> Value<'a, T> {
        match self.last(name) {
            Some(s) => read(&s.outcome).map_or(Value::Templated(s), |v| Value::Set(v, s)),
            None => Value::Default(default),
        }
    }

    /// A yes/no directive's value after the whole file.
    pub fn bool_value(&self, name: &str) -> Value<'_, bool> {
        let default = default_of(name) == Some(directives::Default::Bool(true));
        self.value(
            name,
            |o| match o {
                Outcome::Bool(b) => Some(*b),
                _ => None,
            },
            default,
        )
    }

    /// A number directive's value after the whole file.
    pub fn uint_value(&self, name: &str) -> Value<'_, u32> {
        let default = match default_of(name) {
            Some(directives::Default::Uint(n)) => n,
            _ => 0,
        };
        self.value(
            name,
            |o| match o {
                Outcome::Uint(n) => Some(*n),
                _ => None,
            },
            default,
        )
    }

    /// A string directive's value after the whole file (`None`: unset).
    pub fn str_value(&self, name: &str) -> Value<'_, Option<&str>> {
        let default = match default_of(name) {
            Some(directives::Default::Str(v)) => v,
            _ => None,
        };
        self.value(
            name,
            |o| match o {
                Outcome::Str(v) => Some(v.as_deref()),
                _ => None,
            },
            default,
        )
    }

    /// The first line that stops vsftpd, as the real program meets them.
    pub fn first_fatal(&self) -> Option<&Setting> {
        self.settings.iter().find(|s| s.outcome.is_fatal())
    }
}

impl Setting {
    /// The line assigns its directive (a templated value counts: it assigns something).
    pub fn takes_effect(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Str(_) | Outcome::Bool(_) | Outcome::Uint(_) | Outcome::Templated
        ) && self.directive.is_some()
    }

    pub fn value_text<'a>(&self, source: &'a SourceFile) -> Option<&'a str> {
        self.value.map(|v| source.slice(v))
    }
}

fn default_of(name: &str) -> Option<directives::Default> {
    directives::lookup(name).map(|d| d.default)
}

/// The vsftpd config of a parsed file, if it is one.
pub fn config_of(file: &super::ParsedFile) -> Option<&Config> {
    match &file.doc {
        super::Document::Vsftpd(config) => Some(config),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Sniffing

const TEMPLATE_EXTENSIONS: &[&str] = &[
    ".j2",
    ".jinja",
    ".jinja2",
    ".tmpl",
    ".erb",
    ".epp",
    ".tpl",
    ".template",
];
const SNIFF_BYTES: usize = 4096;
const SNIFF_LINES: usize = 40;

/// `vsftpd*.conf` (and templates of it) by name; other `*.conf` and extension-less
/// files when most of their first lines are vsftpd directives.
pub fn sniff(path: &Path, text: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    let stem = strip_template_extension(&lower);
    if stem.starts_with("vsftpd") && stem.ends_with(".conf") {
        return true;
    }
    let extensionless = !stem.trim_start_matches('.').contains('.');
    (stem.ends_with(".conf") || extensionless) && mostly_directives(text)
}

fn strip_template_extension(name: &str) -> &str {
    TEMPLATE_EXTENSIONS
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

fn mostly_directives(text: &str) -> bool {
    let head = &text.as_bytes()[..text.len().min(SNIFF_BYTES)];
    let (mut known, mut total, mut lower_case) = (0, 0, false);
    for line in head.split(|&b| b == b'\n').take(SNIFF_LINES * 4) {
        let line = line.trim_ascii();
        if line.is_empty() || line[0] == b'#' || is_template_line(line) {
            continue;
        }
        total += 1;
        if let Some(eq) = line.iter().position(|&b| b == b'=') {
            let key = &line[..eq];
            if is_directive_loosely(key) {
                known += 1;
                lower_case |= key.iter().any(u8::is_ascii_lowercase);
            }
        }
        if total == SNIFF_LINES {
            break;
        }
    }
    // All-caps keys (`PASV_MIN_PORT=21100`) are a container's environment file.
    known >= 2 && known * 2 > total && lower_case
}

fn is_template_line(line: &[u8]) -> bool {
    [b"{%", b"{#", b"<%", b"{{"]
        .iter()
        .any(|m| line.starts_with(*m))
}

/// Case-insensitive, spaces ignored, BOM ignored: the seed's `Listen_port = 21` counts.
fn is_directive_loosely(key: &[u8]) -> bool {
    let key = key.strip_prefix(BOM.as_bytes()).unwrap_or(key);
    let norm: String = key
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect();
    directives::lookup(&norm).is_some() || directives::lookup_foreign(&norm).is_some()
}

// ---------------------------------------------------------------------------
// Parsing

/// C `isspace` in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

const TEMPLATE_MARKERS: &[&str] = &["{{", "}}", "{%", "%}", "{#", "${", "<%", "%>"];

pub fn has_template_marker(s: &str) -> bool {
    TEMPLATE_MARKERS.iter().any(|m| s.contains(m))
}

pub fn parse(source: &SourceFile) -> Config {
    let text = source.text.as_str();
    let bom = source.encoding == Encoding::Utf8Bom;
    let (read_end, truncation) = cap(source);
    let mut config = Config {
        truncation,
        utf16: matches!(source.encoding, Encoding::Utf16Le | Encoding::Utf16Be)
            .then(|| source.encoding.name()),
        ..Config::default()
    };
    let mut start = 0;
    // A BOM-only file is still one line to vsftpd: the three BOM bytes.
    if bom && read_end == 0 {
        config.settings.extend(parse_line(source, 0, b"", true));
    }
    // Open Jinja `{% if %}`/`{% for %}` blocks: what their lines set is not known.
    let mut blocks = 0usize;
    while start < read_end {
        let end = text[start..read_end]
            .find('\n')
            .map_or(read_end, |i| start + i);
        let line_bom = bom && start == 0;
        let line = &text.as_bytes()[start..end];
        if line.last() == Some(&b'\r') {
            config.crlf_lines += 1;
        }
        let inside = blocks > 0;
        blocks = jinja_blocks_after(line, blocks);
        if let Some(mut setting) = parse_line(source, start, line, line_bom) {
            if inside && setting.directive.is_some() && !setting.outcome.is_fatal() {
                setting.outcome = Outcome::Templated;
            }
            config.templated |= setting.outcome == Outcome::Templated;
            config.settings.push(setting);
        }
        start = end + 1;
    }
    config
}

/// How many Jinja `{% if %}`/`{% for %}` blocks are open after a template line
/// (a line of a template that a play renders is read from the rendered file; a
/// template read as it is keeps both branches, so neither is taken as set).
fn jinja_blocks_after(line: &[u8], open: usize) -> usize {
    let Some(tag) = line.trim_ascii().strip_prefix(b"{%") else {
        return open;
    };
    let word: Vec<u8> = tag
        .trim_ascii_start()
        .strip_prefix(b"-")
        .unwrap_or(tag)
        .trim_ascii_start()
        .iter()
        .copied()
        .take_while(u8::is_ascii_alphabetic)
        .collect();
    match word.as_slice() {
        b"if" | b"for" => open + 1,
        b"endif" | b"endfor" => open.saturating_sub(1),
        _ => open,
    }
}

/// Where vsftpd stops reading, as a text offset, and what it leaves out.
fn cap(source: &SourceFile) -> (usize, Option<Truncation>) {
    let text = &source.text;
    let (byte_len, read_end) = match source.encoding {
        Encoding::Utf8 => (text.len(), floor_char_boundary(text, FILE_MAX)),
        Encoding::Utf8Bom => (
            text.len() + 3,
            floor_char_boundary(text, FILE_MAX.saturating_sub(3)),
        ),
        Encoding::Windows1252 => (text.chars().count(), nth_char_offset(text, FILE_MAX)),
        Encoding::Utf16Le | Encoding::Utf16Be => (
            2 + text.encode_utf16().count() * 2,
            nth_char_offset(text, (FILE_MAX - 2) / 2),
        ),
    };
    if byte_len <= FILE_MAX {
        return (text.len(), None);
    }
    let line_start = text[..read_end].rfind('\n').map_or(0, |i| i + 1);
    let cut = text.as_bytes().get(read_end).is_some_and(|&b| b != b'\n');
    let truncation = Truncation {
        read_end,
        ignored_bytes: byte_len - FILE_MAX,
        cut_line: (cut && read_end > line_start).then(|| source.span(line_start, read_end)),
        ignored: source.span(read_end, text.len()),
    };
    (read_end, Some(truncation))
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn nth_char_offset(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

/// One line (`start` = its text offset); `None` when vsftpd skips it.
fn parse_line(source: &SourceFile, start: usize, line: &[u8], bom: bool) -> Option<Setting> {
    let skipped = line.is_empty() || line[0] == b'#' || line.iter().all(|&b| is_c_space(b));
    if skipped && !bom {
        return None;
    }
    // The parser is C-string based: a NUL ends the line.
    let c_len = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let lead = if bom {
        0
    } else {
        line[..c_len].iter().take_while(|&&b| is_c_space(b)).count()
    };
    let key_start = start + lead;
    let eq = line[lead..c_len].iter().position(|&b| b == b'=');
    let key_end = eq.map_or(start + c_len, |i| key_start + i);
    let value = eq.map(|_| source.span(key_end + 1, start + c_len));
    let text = source.text.as_str();
    let name = format!(
        "{}{}",
        if bom { BOM } else { "" },
        &text[key_start..key_end]
    );
    let value_text = value.map(|v| &text[v.range()]);
    let (directive, outcome) = classify(&name, value_text);
    Some(Setting {
        line: source.span(
            start,
            start + line.strip_suffix(b"\r").unwrap_or(line).len(),
        ),
        key: source.span(key_start, key_end),
        name,
        value,
        directive,
        outcome,
    })
}

/// vsftpd's lookup order: string table, empty-value check, bool table, uint table.
pub fn classify(name: &str, value: Option<&str>) -> (Option<&'static Directive>, Outcome) {
    let directive = directives::lookup(name);
    if has_template_marker(name) {
        return (None, Outcome::Templated);
    }
    let value = value.unwrap_or("");
    let outcome = match directive.map(|d| d.kind) {
        _ if directive.is_some() && has_template_marker(value) => Outcome::Templated,
        Some(Kind::Str) => match trim_c_space(value) {
            _ if value.is_empty() => Outcome::Str(None),
            "" => Outcome::BlankStr,
            trimmed => Outcome::Str(Some(trimmed.to_owned())),
        },
        _ if value.is_empty() => Outcome::MissingValue,
        Some(Kind::Bool) => parse_bool(value).map_or(Outcome::BadBool, Outcome::Bool),
        Some(Kind::Uint) => Outcome::Uint(parse_uint(value)),
        None => Outcome::Unknown,
    };
    (directive, outcome)
}

pub fn trim_c_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_c_space(c as u8))
}

/// `str_upper` then exact `YES`/`TRUE`/`1` or `NO`/`FALSE`/`0`.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_uppercase().as_str() {
        "YES" | "TRUE" | "1" => Some(true),
        "NO" | "FALSE" | "0" => Some(false),
        _ => None,
    }
}

/// Octal when the first byte is `0` (stopping at the first non-octal byte),
/// else `(unsigned int) atoi(value)`. Never an error.
pub fn parse_uint(value: &str) -> u32 {
    let bytes = value.as_bytes();
    if bytes.first() == Some(&b'0') {
        octal_to_uint(bytes)
    } else {
        atoi(bytes) as u32
    }
}

/// `vsf_sysutil_octal_to_uint`: wraps modulo 2^32.
fn octal_to_uint(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take_while(|b| (b'0'..=b'7').contains(b))
        .fold(0u32, |acc, b| (acc << 3) | u32::from(b - b'0'))
}

/// glibc `atoi` = `(int) strtol(s, NULL, 10)`: strtol saturates at the 64-bit
/// `long` range, the cast keeps the low 32 bits.
pub fn atoi(bytes: &[u8]) -> i32 {
    let mut rest = bytes;
    while let [b, tail @ ..] = rest {
        if !is_c_space(*b) {
            break;
        }
        rest = tail;
    }
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = &rest[1..];
    }
    let limit = i128::from(i64::MAX) + i128::from(negative);
    let mut magnitude: i128 = 0;
    for b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        magnitude = (magnitude * 10 + i128::from(b - b'0')).min(limit);
    }
    let long = if negative { -magnitude } else { magnitude } as i64;
    long as i32
}

/// A number value as vsftpd converts it, beside what its text says to a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberReading {
    /// What vsftpd uses.
    pub value: u32,
    /// The first byte is `0`: vsftpd read the value as octal.
    pub octal: bool,
    /// The decimal number a reader sees at the start (sign and digits), if any.
    pub written: Option<i128>,
    /// What follows the part vsftpd converts, trimmed.
    pub ignored: String,
}

pub fn read_number(value: &str) -> NumberReading {
    let bytes = value.as_bytes();
    let octal = bytes.first() == Some(&b'0');
    let lead = bytes.iter().take_while(|&&b| is_c_space(b)).count();
    let sign = usize::from(matches!(bytes.get(lead), Some(b'-' | b'+')));
    let digits = bytes[lead + sign..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let number = &value[lead..lead + sign + digits];
    let written = (digits > 0).then(|| number.parse::<i128>().unwrap_or(i128::MAX));
    let consumed = if octal {
        bytes
            .iter()
            .take_while(|b| (b'0'..=b'7').contains(*b))
            .count()
    } else {
        lead + sign + digits
    };
    NumberReading {
        value: parse_uint(value),
        octal,
        written,
        ignored: trim_c_space(&value[consumed..]).to_owned(),
    }
}

/// [`shown`], cut to a length that fits in a message.
pub fn shown_short(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", shown(&s[..cut])),
        None => shown(s),
    }
}

/// Control bytes and a BOM shown the way a user can see and type them.
pub fn shown(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\u{FEFF}' => out.push_str("\\xEF\\xBB\\xBF"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Facts

/// The PASV range vsftpd uses (`privops.c` `vsf_privop_pasv_listen`).
pub fn pasv_range(min: u32, max: u32) -> (u16, u16) {
    let lo = if min > 1024 && min <= 65535 {
        min
    } else {
        1024
    };
    let hi = if max >= lo && max < 65535 { max } else { 65535 };
    (lo as u16, hi as u16)
}

/// A per-user file (`user_config_dir`, one extension-less file per user name)
/// is not a server: it only overrides session settings at login.
pub fn is_per_user_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    let stem = strip_template_extension(&lower);
    !stem.trim_start_matches('.').contains('.') && !stem.starts_with("vsftpd")
}

pub fn facts(config: &Config, source: &SourceFile) -> Vec<FtpServer> {
    if is_per_user_file(&source.path) {
        return Vec::new();
    }
    let anchor = config
        .settings
        .first()
        .map_or(source.span(0, 0), |s| s.line);
    let user_classes = user_classes(config);
    vec![FtpServer {
        file: source.id,
        server: "vsftpd",
        control_port: control_port(config),
        passive: passive(config),
        max_sessions: max_sessions(config),
        tls: control_tls(config, &user_classes),
        families: families(config),
        user_classes,
        active: active(config),
        passive_address: passive_address(config),
        listen_address: listen_address(config),
        falls_back_outside_range: false,
        range_setting: range_setting(config),
        anchor,
        container: None,
    }]
}

/// The `pasv_min_port` and `pasv_max_port` lines, when both are set and vsftpd
/// takes them as written.
fn range_setting(config: &Config) -> Option<RangeSetting> {
    let (Value::Set(lo, min), Value::Set(hi, max)) = (
        config.uint_value("pasv_min_port"),
        config.uint_value("pasv_max_port"),
    ) else {
        return None;
    };
    let (first, last) = pasv_range(lo, hi);
    if u32::from(first) != lo || u32::from(last) != hi {
        return None;
    }
    Some(RangeSetting {
        edits: vec![
            (min.line, "pasv_min_port=", RangePart::Low),
            (max.line, "pasv_max_port=", RangePart::High),
        ],
        distinct_ends: false,
    })
}

/// `pasv_address`, which vsftpd uses only on an IPv4 listener (with
/// `listen_ipv6=YES` it announces 0,0,0,0 instead). A templated value (an
/// interpolation, a shell variable a boot script reads at run time) is set
/// but not known: no value, with the line.
fn passive_address(config: &Config) -> Located<Option<String>> {
    let ipv6 = config.bool_value("listen_ipv6").known() == Some(true);
    match config.str_value("pasv_address") {
        Value::Set(Some(address), setting) if !ipv6 => {
            Located::new(Some(address.to_owned()), Some(setting.line))
        }
        Value::Templated(setting) if !ipv6 => Located::new(None, Some(setting.line)),
        _ => Located::default_value(None),
    }
}

/// `listen_address` on an IPv4 listener: the one address clients reach the
/// control port on (unset: every address of the host).
fn listen_address(config: &Config) -> Located<Option<String>> {
    let ipv6 = config.bool_value("listen_ipv6").known() == Some(true);
    match config.str_value("listen_address") {
        Value::Set(Some(address), setting) if !ipv6 => {
            Located::new(Some(address.to_owned()), Some(setting.line))
        }
        _ => Located::default_value(None),
    }
}

/// `port_enable`, `connect_from_port_20` and `ftp_data_port` (measured: with
/// `connect_from_port_20=NO` the data connection comes from an ephemeral port
/// whatever `ftp_data_port` says).
fn active(config: &Config) -> Active {
    let enable = config.bool_value("port_enable");
    let from_20 = config.bool_value("connect_from_port_20");
    let data_port = config.uint_value("ftp_data_port");
    let spans: Vec<Span> = [enable.span(), from_20.span(), data_port.span()]
        .into_iter()
        .flatten()
        .collect();
    match (enable.known(), from_20.known()) {
        (Some(false), _) => Active::Disabled {
            span: enable.span(),
        },
        (None, _) | (_, None) => Active::Unknown,
        (Some(true), Some(false)) => Active::Enabled {
            source_port: Located::new(None, from_20.span()),
            deliberate: !spans.is_empty(),
            spans,
        },
        (Some(true), Some(true)) => match data_port.known() {
            // (unsigned short) in the sockaddr; port 0 lets the kernel choose.
            Some(p) => Active::Enabled {
                source_port: Located::new(
                    Some(p as u16).filter(|&p| p != 0),
                    data_port.span().or(from_20.span()),
                ),
                deliberate: true,
                spans,
            },
            None => Active::Unknown,
        },
    }
}

fn control_port(config: &Config) -> Located<Option<u16>> {
    let port = config.uint_value("listen_port");
    // (unsigned short) in standalone.c; port 0 lets the kernel choose.
    let value = port.known().map(|p| p as u16).filter(|&p| p != 0);
    Located::new(value, port.span())
}

fn passive(config: &Config) -> Passive {
    let enable = config.bool_value("pasv_enable");
    let min = config.uint_value("pasv_min_port");
    let max = config.uint_value("pasv_max_port");
    let spans: Vec<Span> = [min.span(), max.span()].into_iter().flatten().collect();
    let range = min
        .known()
        .zip(max.known())
        .map(|(lo, hi)| pasv_range(lo, hi));
    match enable {
        Value::Set(false, s) => {
            return Passive::Disabled {
                span: Some(s.line),
                configured: range
                    .filter(|_| !spans.is_empty())
                    .map(|(lo, hi)| PortSet::range(lo, hi)),
            };
        }
        Value::Templated(s) => {
            return Passive::Unknown {
                spans: vec![s.line],
                reason: "pasv_enable is templated".to_owned(),
            };
        }
        _ => {}
    }
    if let (Some(line), Some(_)) = (
        refused_after_login(config, "PASV"),
        refused_after_login(config, "EPSV"),
    ) {
        return Passive::Disabled {
            span: Some(line),
            configured: range
                .filter(|_| !spans.is_empty())
                .map(|(lo, hi)| PortSet::range(lo, hi)),
        };
    }
    let Some((first, last)) = range else {
        let (which, templated) = if min.known().is_none() {
            ("pasv_min_port", min.span())
        } else {
            ("pasv_max_port", max.span())
        };
        let mut spans = spans;
        if let Some(at) = templated {
            spans.retain(|s| *s != at);
            spans.insert(0, at);
        }
        return Passive::Unknown {
            spans,
            reason: format!("{which} is templated"),
        };
    };
    let deliberate = matches!(min, Value::Set(v, _) if v == u32::from(first))
        && matches!(max, Value::Set(v, _) if v == u32::from(last));
    Passive::Enabled {
        ports: PortSet::range(first, last),
        deliberate,
        spans,
    }
}

/// The `cmds_allowed` or `cmds_denied` line that makes vsftpd answer `command`
/// with `550 Permission denied.` after login (postlogin.c `process_post_login`:
/// the upper-cased command is compared byte for byte with each entry of the
/// comma-separated list, up to its first empty entry). Measured: with
/// `cmds_denied=PASV,EPSV`, or a `cmds_allowed` naming neither (`pasv` and
/// ` EPSV` do not count), every PASV and EPSV is refused.
fn refused_after_login(config: &Config, command: &str) -> Option<Span> {
    refusing_setting(config, command).map(|s| s.line)
}

/// The `cmds_allowed` or `cmds_denied` line behind [`refused_after_login`].
fn refusing_setting<'a>(config: &'a Config, command: &str) -> Option<&'a Setting> {
    if let Value::Set(Some(list), s) = config.str_value("cmds_allowed") {
        if !lists_command(list, command) {
            return Some(s);
        }
    }
    match config.str_value("cmds_denied") {
        Value::Set(Some(list), s) if lists_command(list, command) => Some(s),
        _ => None,
    }
}

/// Whether vsftpd finds `command` in a `cmds_*` list: it stops at the first
/// empty entry.
pub fn lists_command(list: &str, command: &str) -> bool {
    list.split(',')
        .take_while(|entry| !entry.is_empty())
        .any(|entry| entry == command)
}

/// One of `PASV` and `EPSV` refused after login while the other is answered.
pub struct HalfRefused<'a> {
    /// `"PASV"` or `"EPSV"`.
    pub command: &'static str,
    /// The `cmds_allowed` or `cmds_denied` line that refuses it.
    pub setting: &'a Setting,
    /// The families the listener takes.
    pub families: Located<Option<Families>>,
    /// What the other command hands out.
    pub passive: Passive,
}

/// The command of `PASV` and `EPSV` that only one of them refuses, when
/// passive mode is otherwise on (both refused is passive mode off).
pub fn half_refused(config: &Config) -> Option<HalfRefused<'_>> {
    let passive = passive(config);
    if matches!(passive, Passive::Disabled { .. }) {
        return None;
    }
    let (command, setting) = match (
        refusing_setting(config, "PASV"),
        refusing_setting(config, "EPSV"),
    ) {
        (Some(s), None) => ("PASV", s),
        (None, Some(s)) => ("EPSV", s),
        _ => return None,
    };
    Some(HalfRefused {
        command,
        setting,
        families: families(config),
        passive,
    })
}

fn max_sessions(config: &Config) -> Located<Option<Option<u32>>> {
    // Enforced only in standalone mode (prelogin.c check_limits). The listen
    // default is build-specific (Debian NO, upstream YES), so the limit is
    // reported whatever the mode; templated means unknown.
    let clients = config.uint_value("max_clients");
    let value = clients.known().map(|n| (n != 0).then_some(n));
    Located::new(value, clients.span())
}

/// How every session meets TLS before login (`prelogin.c`: AUTH is offered
/// only with `ssl_enable`; `implicit_ssl` handshakes before the greeting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SessionSsl {
    Off,
    /// `ssl_enable` is templated.
    Unknown,
    Explicit,
    Implicit,
}

/// [`SessionSsl`] and the lines behind it.
struct Ssl {
    mode: SessionSsl,
    spans: Vec<Span>,
}

fn session_ssl(config: &Config) -> Ssl {
    let enable = config.bool_value("ssl_enable");
    let implicit = config.bool_value("implicit_ssl");
    let mode = match (enable.known(), implicit.known()) {
        (None, _) => SessionSsl::Unknown,
        (Some(false), _) => SessionSsl::Off,
        (Some(true), Some(true)) => SessionSsl::Implicit,
        (Some(true), _) => SessionSsl::Explicit,
    };
    let mut spans: Vec<Span> = enable.span().into_iter().collect();
    if mode == SessionSsl::Implicit {
        spans.extend(implicit.span());
    }
    Ssl { mode, spans }
}

/// The control channel's TLS: the strongest demand among the classes that can
/// log in; with none, what the channel itself does.
fn control_tls(config: &Config, classes: &[UserClass]) -> Located<ControlTls> {
    let ssl = session_ssl(config);
    let channel = match ssl.mode {
        SessionSsl::Off | SessionSsl::Explicit => ControlTls::Never,
        SessionSsl::Unknown => ControlTls::Optional,
        SessionSsl::Implicit => ControlTls::Required,
    };
    let tls = strongest_tls(classes).unwrap_or(channel);
    Located::new(tls, config.bool_value("ssl_enable").span())
}

/// Anonymous and local (or virtual) logins, as `prelogin.c`
/// `handle_user_command` and `privops.c` `handle_login` admit them; with both
/// off every session gets `500 OOPS: vsftpd: both local and anonymous access disabled!`.
fn user_classes(config: &Config) -> Vec<UserClass> {
    let ssl = session_ssl(config);
    [anonymous_class(config, &ssl), local_class(config, &ssl)]
        .into_iter()
        .flatten()
        .collect()
}

/// A templated switch counts as off, as it did for the server's `tls` before classes.
fn is_on(value: Value<'_, bool>) -> bool {
    value.known().unwrap_or(false)
}

fn anonymous_class(config: &Config, ssl: &Ssl) -> Option<UserClass> {
    let enable = config.bool_value("anonymous_enable");
    if !is_on(enable) {
        return None;
    }
    let allow = config.bool_value("allow_anon_ssl");
    let force = config.bool_value("force_anon_logins_ssl");
    let mut spans: Vec<Span> = enable.span().into_iter().collect();
    spans.extend(&ssl.spans);
    let tls = match ssl.mode {
        SessionSsl::Off => ControlTls::Never,
        SessionSsl::Unknown => ControlTls::Optional,
        SessionSsl::Explicit | SessionSsl::Implicit => {
            spans.extend(allow.span().into_iter().chain(force.span()));
            anonymous_tls(ssl.mode, is_on(allow), is_on(force))?
        }
    };
    Some(UserClass {
        kind: UserKind::Anonymous,
        tls,
        spans: sorted(spans),
    })
}

/// Measured: without `allow_anon_ssl` (or `force_anon_logins_ssl`) an
/// anonymous USER on a TLS channel gets `530 Anonymous sessions may not use
/// encryption.`, so with `implicit_ssl` no anonymous login succeeds (`None`).
fn anonymous_tls(mode: SessionSsl, allow: bool, force: bool) -> Option<ControlTls> {
    match (force, allow, mode) {
        (true, _, _) | (false, true, SessionSsl::Implicit) => Some(ControlTls::Required),
        (false, true, _) => Some(ControlTls::Optional),
        (false, false, SessionSsl::Implicit) => None,
        (false, false, _) => Some(ControlTls::Never),
    }
}

/// `guest_enable=YES` maps every non-anonymous login to `guest_username`; the
/// TLS checks before login are the local ones (measured).
fn local_class(config: &Config, ssl: &Ssl) -> Option<UserClass> {
    let enable = config.bool_value("local_enable");
    if !is_on(enable) {
        return None;
    }
    let guest = config.bool_value("guest_enable");
    let force = config.bool_value("force_local_logins_ssl");
    let mut spans: Vec<Span> = enable.span().into_iter().chain(guest.span()).collect();
    spans.extend(&ssl.spans);
    let tls = match ssl.mode {
        SessionSsl::Off => ControlTls::Never,
        SessionSsl::Unknown => ControlTls::Optional,
        SessionSsl::Implicit => ControlTls::Required,
        SessionSsl::Explicit => {
            spans.extend(force.span());
            if is_on(force) {
                ControlTls::Required
            } else {
                ControlTls::Optional
            }
        }
    };
    let kind = if is_on(guest) {
        UserKind::Virtual
    } else {
        UserKind::Local
    };
    Some(UserClass {
        kind,
        tls,
        spans: sorted(spans),
    })
}

fn sorted(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| s.start);
    spans.dedup();
    spans
}

/// Measured with the real binary in a network namespace: `listen=YES` binds
/// `0.0.0.0` (or `listen_address`); `listen_ipv6=YES` binds `::` (or
/// `listen_address6`) without `IPV6_V6ONLY`; both YES stops at start with
/// `500 OOPS: run two copies of vsftpd for IPv4 and IPv6`; both NO means
/// inetd mode (`500 OOPS: vsftpd: not configured for standalone, must be started from inetd`).
fn families(config: &Config) -> Located<Option<Families>> {
    let ipv4 = config.bool_value("listen");
    let ipv6 = config.bool_value("listen_ipv6");
    match (ipv4.known(), ipv6.known()) {
        (Some(true), Some(false)) => Located::new(Some(Families::Ipv4), ipv4.span()),
        (Some(false), Some(true)) => ipv6_socket_families(config, ipv6.span()),
        _ => Located::new(None, ipv6.span().or(ipv4.span())),
    }
}

fn ipv6_socket_families(config: &Config, listen_ipv6: Option<Span>) -> Located<Option<Families>> {
    let address = config.str_value("listen_address6");
    match address.known() {
        None => Located::new(None, address.span()),
        Some(None) => Located::new(Some(Families::Both), listen_ipv6),
        Some(Some(text)) => Located::new(address6_families(text), address.span()),
    }
}

/// On Linux's default `net.ipv6.bindv6only=0` (measured): `::` takes IPv4
/// clients too, as `::ffff:127.0.0.1`; a v4-mapped address takes only IPv4,
/// any other address only IPv6. `None`: an address vsftpd's own parser may
/// read differently (or reject at start with `bad listen_address6`).
fn address6_families(text: &str) -> Option<Families> {
    let address: std::net::Ipv6Addr = text.trim().parse().ok()?;
    Some(if address.is_unspecified() {
        Families::Both
    } else if address.to_ipv4_mapped().is_some() {
        Families::Ipv4
    } else {
        Families::Ipv6
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn source(bytes: &[u8]) -> SourceFile {
        SourceFile::new(FileId(0), "etc/vsftpd.conf", bytes)
    }

    fn config(bytes: &[u8]) -> Config {
        parse(&source(bytes))
    }

    /// The first line vsftpd stops at, as its message names it; `None` = parses.
    type Verdict = Option<(Outcome, String)>;

    fn verdict(bytes: &[u8]) -> Verdict {
        config(bytes)
            .first_fatal()
            .map(|s| (s.outcome.clone(), s.name.clone()))
    }

    fn fatal(outcome: Outcome, name: &str) -> Verdict {
        Some((outcome, name.to_owned()))
    }

    #[test]
    fn line_grammar_matches_the_measured_table() {
        use Outcome::*;
        let cases: &[(&[u8], Verdict)] = &[
            (b"#comment\n", None),
            (b"  #comment\n", fatal(MissingValue, "#comment")),
            (b"  #x=1\n", fatal(Unknown, "#x")),
            (b"\x0c#x\n", fatal(MissingValue, "#x")),
            (b"\n   \n\t\n\r\n", None),
            (
                b"  listen_port=21\n\tlisten_port=21\n\x0blisten_port=21\n",
                None,
            ),
            (b"Listen_port=21\n", fatal(Unknown, "Listen_port")),
            (b"listen_port = 21\n", fatal(Unknown, "listen_port ")),
            (b"listen_port =21\n", fatal(Unknown, "listen_port ")),
            (b"pasv_enable\t=YES\n", fatal(Unknown, "pasv_enable\t")),
            (b"listen_port= 21\n", None),
            (b"foo\n", fatal(MissingValue, "foo")),
            (b"foo=1\n", fatal(Unknown, "foo")),
            (b"listen_port\n", fatal(MissingValue, "listen_port")),
            (b"pasv_min_port=\n", fatal(MissingValue, "pasv_min_port")),
            (b"listen_ipv6\n", fatal(MissingValue, "listen_ipv6")),
            (b"pasv_address\npasv_address=\nanon_root=\n", None),
            (b"=\n", fatal(MissingValue, "")),
            (b"==\n", fatal(Unknown, "")),
            (b"=5\n", fatal(Unknown, "")),
            (b"ftpd_banner=a=b # not a comment\n", None),
            (
                b"\xEF\xBB\xBFlisten_port=21\n",
                fatal(Unknown, "\u{FEFF}listen_port"),
            ),
            (
                b"\xEF\xBB\xBF#comment\n",
                fatal(MissingValue, "\u{FEFF}#comment"),
            ),
            (b"listen_port=21\r\n", None),
            (b"pasv_enable=YES\r\n", fatal(BadBool, "pasv_enable")),
            (b"listen_port=21\rpasv_enable=BAD\n", None),
            (
                b"listen_port=21\x00garbage\npasv_enable=YES\x00junk\n#c\x00\n",
                None,
            ),
            (b"\x00\n", fatal(MissingValue, "")),
            (
                b"pasv_enable=YES\npasv_enable=maybe\n",
                fatal(BadBool, "pasv_enable"),
            ),
            (b"ftpd_banner=   \n", fatal(BlankStr, "ftpd_banner")),
            (b"pasv_address=\t\n", fatal(BlankStr, "pasv_address")),
            (b"ftpd_banner=\r\n", fatal(BlankStr, "ftpd_banner")),
            (b"ssl_tlsv1_2=YES\n", fatal(Unknown, "ssl_tlsv1_2")),
            (
                b"utf8_filesystem=maybe\n",
                fatal(BadBool, "utf8_filesystem"),
            ),
            (b"download_file=maybe\n", None),
            (b"pasv_enable=YES", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                &verdict(bytes),
                want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn bool_values_match_the_measured_lists() {
        for ok in ["YES", "yes", "Yes", "TRUE", "true", "1", "0", "no", "False"] {
            assert!(parse_bool(ok).is_some(), "{ok}");
        }
        for bad in [
            "on", "Y", "01", "YES ", " YES", "\tYES", "YES\r", "YES #c", "\u{ff}es",
        ] {
            assert_eq!(parse_bool(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uint_values_match_the_measured_table() {
        let cases: &[(&str, u32)] = &[
            ("050000", 20480),
            ("050010", 20488),
            (" 050000", 50000),
            ("09", 0),
            ("0x1000", 0),
            ("abc", 0),
            ("5e4", 5),
            ("+50000", 50000),
            ("50000abc", 50000),
            ("50010 # c", 50010),
            ("50000\r", 50000),
            ("-1", 4294967295),
            ("4295017296", 50000),
            ("99999999999999999999", 4294967295),
            ("-99999999999999999999", 0),
            ("021", 17),
            ("0666", 0o666),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_uint(text), want, "{text:?}");
        }
    }

    #[test]
    fn number_reading_explains_the_misread() {
        let r = read_number("5e4");
        assert_eq!((r.value, r.written, r.ignored.as_str()), (5, Some(5), "e4"));
        let r = read_number("050000");
        assert!(r.octal);
        assert_eq!((r.value, r.written), (20480, Some(50000)));
        let r = read_number("09");
        assert_eq!((r.value, r.ignored.as_str()), (0, "9"));
        let r = read_number("abc");
        assert_eq!((r.value, r.written), (0, None));
        let r = read_number("-1");
        assert_eq!((r.value, r.written), (u32::MAX, Some(-1)));
        let r = read_number("50010 # c");
        assert_eq!(r.ignored, "# c");
    }

    #[test]
    fn file_cap_reads_only_the_first_100000_bytes() {
        let pad = format!("#{}\n", "x".repeat(98)).repeat(1000);
        assert_eq!(pad.len(), FILE_MAX);
        let c = config(format!("{pad}bogus_directive=1\n").as_bytes());
        assert!(c.first_fatal().is_none());
        let t = c.truncation.expect("over the cap");
        assert_eq!(
            (t.read_end, t.ignored_bytes, t.cut_line),
            (FILE_MAX, 18, None)
        );

        let start_at_99999 = format!("{}\nbogus_directive=1\n", &pad[..99998]);
        let c = config(start_at_99999.as_bytes());
        assert_eq!(c.first_fatal().map(|s| s.name.as_str()), Some("b"));
        assert!(c.truncation.unwrap().cut_line.is_some());

        let cut = format!("{}\npasv_enable=NOPE\n", &pad[..FILE_MAX - 15]);
        let c = config(cut.as_bytes());
        assert!(c.first_fatal().is_none());
        assert_eq!(c.bool_value("pasv_enable").known(), Some(false));

        let with_bom = format!("\u{FEFF}{}", &pad[3..]);
        let c = config(format!("{with_bom}bogus=1\n").as_bytes());
        assert_eq!(c.truncation.unwrap().read_end, FILE_MAX - 3);

        let big = "pasv_min_port=50000\n".repeat(60000);
        assert!(config(big.as_bytes()).first_fatal().is_none());
    }

    #[test]
    fn bom_only_file_is_one_bad_line() {
        assert_eq!(verdict(b"\xEF\xBB\xBF"), fatal(Outcome::MissingValue, BOM));
    }

    #[test]
    fn lines_under_a_jinja_block_are_unknown() {
        let c = config(
            b"{% if tls %}\nssl_enable=YES\n{%- else %}\nssl_enable=NO\n{% endif %}\nlisten_port=21\n",
        );
        let outcomes: Vec<&Outcome> = c.settings.iter().map(|s| &s.outcome).collect();
        assert_eq!(outcomes[1], &Outcome::Templated);
        assert_eq!(outcomes[3], &Outcome::Templated);
        assert_eq!(outcomes[5], &Outcome::Uint(21));
    }

    #[test]
    fn templates_are_unknown_not_errors() {
        let c =
            config(b"{% if ftp %}\npasv_enable={{ pasv }}\npasv_min_port=${MIN}\n{% endif %}\n");
        assert!(c.first_fatal().is_none());
        assert!(c.templated);
        let f = facts(&c, &source(b""));
        assert!(matches!(f[0].passive, Passive::Unknown { .. }));
        let c = config(b"listen_port=<%= @port %>\n");
        assert_eq!(control_port(&c).value, None);
    }

    #[test]
    fn pasv_range_matches_the_measured_table() {
        let cases = [
            ((5001, 0), (5001, 65535)),
            ((50000, 50010), (50000, 50010)),
            ((50000, 0), (50000, 65535)),
            ((5001, 60000), (5001, 60000)),
            ((5001, 3000), (5001, 65535)),
            ((60000, 50000), (60000, 65535)),
            ((50000, 50000), (50000, 50000)),
            ((100, 2000), (1024, 2000)),
            ((1023, 1030), (1024, 1030)),
            ((1024, 1030), (1024, 1030)),
            ((1025, 1030), (1025, 1030)),
            ((0, 0), (1024, 65535)),
            ((50000, 70000), (50000, 65535)),
            ((70000, 70010), (1024, 65535)),
            ((65530, 65535), (65530, 65535)),
            ((u32::MAX, 0), (1024, 65535)),
        ];
        for ((min, max), want) in cases {
            assert_eq!(pasv_range(min, max), want, "{min} {max}");
        }
    }

    fn server(bytes: &[u8]) -> FtpServer {
        let src = source(bytes);
        facts(&parse(&src), &src).remove(0)
    }

    fn ports(s: &FtpServer) -> (String, bool) {
        match &s.passive {
            Passive::Enabled {
                ports, deliberate, ..
            } => (ports.to_string(), *deliberate),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn facts_follow_vsftpd() {
        let s = server(b"");
        assert_eq!(ports(&s), ("5001-65535".to_owned(), false));
        assert_eq!(s.control_port.value, Some(21));
        assert_eq!(s.max_sessions.value, Some(Some(2000)));
        assert_eq!(s.tls.value, ControlTls::Never);
        assert_eq!(s.anchor, Span::new(FileId(0), 0, 0));

        let s = server(b"listen=YES\npasv_min_port=9981\npasv_max_port=9986\n");
        assert_eq!(ports(&s), ("9981-9986".to_owned(), true));
        assert_eq!(s.max_sessions.value, Some(Some(2000)));
        let s = server(b"pasv_min_port=9990\npasv_max_port=9981\n");
        assert_eq!(ports(&s), ("9990-65535".to_owned(), false));
        let s = server(b"pasv_min_port=0\npasv_max_port=0\n");
        assert_eq!(ports(&s), ("1024-65535".to_owned(), false));
        let s = server(b"pasv_min_port=40000\npasv_min_port=50000\npasv_max_port=50010\n");
        assert_eq!(ports(&s), ("50000-50010".to_owned(), true));
        let s = server(b"pasv_min_port=050000\npasv_max_port=050010\n");
        assert_eq!(ports(&s), ("20480-20488".to_owned(), true));

        let s = server(b"listen_port=70000\n");
        assert_eq!(s.control_port.value, Some(4464));
        assert_eq!(server(b"listen_port=021\n").control_port.value, Some(17));
        assert_eq!(server(b"listen_port=0\n").control_port.value, None);

        let s = server(b"# c\npasv_enable=NO\n");
        assert_eq!(
            s.passive,
            Passive::Disabled {
                span: Some(Span::new(FileId(0), 4, 18)),
                configured: None,
            }
        );
        assert_eq!(s.anchor, Span::new(FileId(0), 4, 18));

        let s = server(b"listen_ipv6=YES\nmax_clients=0\n");
        assert_eq!(s.max_sessions.value, Some(None));
    }

    /// The first four configs are ones tests/differential_vsftpd.rs found
    /// pasvlint wrong on (the real vsftpd answered every PASV and EPSV with
    /// `550 Permission denied.`); the rest follow postlogin.c, and that test's
    /// random lists (empty entries, lower case, spaces) run them for real.
    #[test]
    fn command_lists_refuse_passive_as_vsftpd_does() {
        let off = |bytes: &[u8]| matches!(server(bytes).passive, Passive::Disabled { .. });
        assert!(off(
            b"cmds_allowed=USER,PASS,QUIT,TYPE\npasv_min_port=41995\n"
        ));
        assert!(off(b"cmds_allowed=USER,PASS,QUIT,RETR\n"));
        assert!(off(b"cmds_denied=RETR,PORT,EPSV,PASV\npasv_enable=YES\n"));
        // ` EPSV` is no entry for EPSV, and `pasv` none for PASV.
        assert!(off(
            b"cmds_allowed=USER,PASS,QUIT, EPSV\ncmds_denied=pasv\n"
        ));
        assert!(off(b"cmds_allowed=USER,PASS,pasv,EPSV\ncmds_denied=EPSV\n"));
        // The list ends at its first empty entry.
        assert!(off(b"cmds_allowed=USER,PASS,,PASV,EPSV\n"));
        assert!(!off(b"cmds_denied=LIST,,PASV,EPSV\n"));
        // One of the two left is enough for a client that tries both.
        assert!(!off(b"cmds_denied=PASV\n"));
        assert!(!off(b"cmds_allowed=USER,PASS,EPSV\n"));
        assert!(!off(b"cmds_allowed=\ncmds_denied=\n"));
        let s = server(b"pasv_min_port=50000\npasv_max_port=50010\ncmds_denied=PASV,EPSV\n");
        assert_eq!(
            s.passive,
            Passive::Disabled {
                span: Some(Span::new(FileId(0), 40, 61)),
                configured: Some(PortSet::range(50000, 50010)),
            }
        );
    }

    #[test]
    fn active_follows_the_measured_source_port() {
        let source = |b: &[u8]| match server(b).active {
            Active::Enabled {
                source_port,
                deliberate,
                ..
            } => format!("{:?} {deliberate}", source_port.value),
            other => format!("{other:?}"),
        };
        assert_eq!(source(b""), "None false");
        assert_eq!(source(b"ftp_data_port=20\n"), "None true");
        assert_eq!(source(b"connect_from_port_20=YES\n"), "Some(20) true");
        assert_eq!(
            source(b"connect_from_port_20=YES\nftp_data_port=2020\n"),
            "Some(2020) true"
        );
        assert_eq!(
            source(b"port_enable=NO\nconnect_from_port_20=YES\n"),
            "Disabled { span: Some(Span { file: FileId(0), start: 0, end: 14 }) }"
        );
    }

    #[test]
    fn tls_follows_prelogin_c() {
        let tls = |b: &[u8]| server(b).tls.value;
        assert_eq!(tls(b"ssl_enable=YES\n"), ControlTls::Never);
        assert_eq!(
            tls(b"ssl_enable=YES\nlocal_enable=YES\n"),
            ControlTls::Required
        );
        assert_eq!(
            tls(b"ssl_enable=YES\nlocal_enable=YES\nforce_local_logins_ssl=NO\n"),
            ControlTls::Optional
        );
        assert_eq!(
            tls(b"ssl_enable=YES\nallow_anon_ssl=YES\n"),
            ControlTls::Optional
        );
        assert_eq!(
            tls(b"ssl_enable=YES\nforce_anon_logins_ssl=YES\n"),
            ControlTls::Required
        );
        assert_eq!(
            tls(b"ssl_enable=YES\nimplicit_ssl=YES\nanonymous_enable=NO\n"),
            ControlTls::Required
        );
        assert_eq!(
            tls(b"local_enable=YES\nimplicit_ssl=YES\n"),
            ControlTls::Never
        );
    }

    #[test]
    fn families_follow_the_measured_sockets() {
        use Families::*;
        let families = |b: &[u8]| server(b).families.value;
        let cases: &[(&[u8], Option<Families>)] = &[
            (b"", None),
            (b"listen=NO\nlisten_ipv6=NO\n", None),
            (b"listen=YES\nlisten_ipv6=YES\n", None),
            (b"listen_ipv6={{ ipv6 }}\n", None),
            (b"listen=YES\n", Some(Ipv4)),
            (b"listen=YES\nlisten_address=127.0.0.1\n", Some(Ipv4)),
            (b"listen=YES\nlisten_address6=::1\n", Some(Ipv4)),
            (b"listen=NO\nlisten_ipv6=YES\n", Some(Both)),
            (b"listen_ipv6=YES\nlisten_address=127.0.0.1\n", Some(Both)),
            (b"listen_ipv6=YES\nlisten_address6=::\n", Some(Both)),
            (b"listen_ipv6=YES\nlisten_address6=::1\n", Some(Ipv6)),
            (
                b"listen_ipv6=YES\nlisten_address6=2001:db8::21\n",
                Some(Ipv6),
            ),
            (
                b"listen_ipv6=YES\nlisten_address6=::ffff:127.0.0.1\n",
                Some(Ipv4),
            ),
            (b"listen_ipv6=YES\nlisten_address6=not-an-address\n", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                families(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let src = source(b"listen=NO\nlisten_ipv6=YES\n");
        let s = facts(&parse(&src), &src).remove(0);
        assert_eq!(src.slice(s.families.span.unwrap()), "listen_ipv6=YES");
    }

    /// `(class, tls)` per class, as the server lists them.
    fn classes(bytes: &[u8]) -> Vec<(&'static str, &'static str)> {
        server(bytes)
            .user_classes
            .iter()
            .map(|c| (c.kind.as_str(), c.tls.as_str()))
            .collect()
    }

    #[test]
    fn user_classes_follow_the_measured_logins() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[("anonymous", "never")]),
            ("anonymous_enable=NO\n", &[]),
            (
                "local_enable=YES\n",
                &[("anonymous", "never"), ("local", "never")],
            ),
            (
                "anonymous_enable=NO\nlocal_enable=YES\nssl_enable=YES\n",
                &[("local", "required")],
            ),
            (
                "local_enable=YES\nssl_enable=YES\n",
                &[("anonymous", "never"), ("local", "required")],
            ),
            (
                "local_enable=YES\nssl_enable=YES\nforce_local_logins_ssl=NO\nallow_anon_ssl=YES\n",
                &[("anonymous", "optional"), ("local", "optional")],
            ),
            (
                "local_enable=YES\nssl_enable=YES\nforce_anon_logins_ssl=YES\n",
                &[("anonymous", "required"), ("local", "required")],
            ),
            (
                "local_enable=YES\nguest_enable=YES\nssl_enable=YES\n",
                &[("anonymous", "never"), ("virtual", "required")],
            ),
            (
                "local_enable=YES\nssl_enable=NO\nforce_anon_logins_ssl=YES\n",
                &[("anonymous", "never"), ("local", "never")],
            ),
            (
                "local_enable=YES\nssl_enable=YES\nimplicit_ssl=YES\nforce_local_logins_ssl=NO\n",
                &[("local", "required")],
            ),
            (
                "ssl_enable=YES\nimplicit_ssl=YES\nallow_anon_ssl=YES\n",
                &[("anonymous", "required")],
            ),
            (
                "local_enable=YES\nssl_enable={{ tls }}\n",
                &[("anonymous", "optional"), ("local", "optional")],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(classes(text.as_bytes()), *want, "{text:?}");
        }
    }

    #[test]
    fn tls_is_the_strongest_class_or_the_channel_without_one() {
        for text in [
            "local_enable=YES\nssl_enable=YES\n",
            "local_enable=YES\nssl_enable=YES\nforce_local_logins_ssl=NO\n",
            "ssl_enable=YES\nallow_anon_ssl=YES\n",
        ] {
            let s = server(text.as_bytes());
            assert_eq!(
                Some(s.tls.value),
                strongest_tls(&s.user_classes),
                "{text:?}"
            );
        }
        let s = server(b"ssl_enable=YES\nimplicit_ssl=YES\n");
        assert!(s.user_classes.is_empty());
        assert_eq!(s.tls.value, ControlTls::Required);
    }

    #[test]
    fn class_spans_name_the_deciding_lines() {
        let text = "anonymous_enable=YES\nlocal_enable=YES\nssl_enable=YES\nallow_anon_ssl=NO\n";
        let src = source(text.as_bytes());
        let s = facts(&parse(&src), &src).remove(0);
        let lines = |i: usize| -> Vec<&str> {
            s.user_classes[i]
                .spans
                .iter()
                .map(|sp| src.slice(*sp))
                .collect()
        };
        assert_eq!(
            lines(0),
            [
                "anonymous_enable=YES",
                "ssl_enable=YES",
                "allow_anon_ssl=NO"
            ]
        );
        assert_eq!(lines(1), ["local_enable=YES", "ssl_enable=YES"]);
    }

    #[test]
    fn sniffs_by_name_and_content() {
        let p = Path::new;
        assert!(sniff(p("etc/vsftpd.conf"), ""));
        assert!(sniff(p("vsftpd-ftps.conf"), ""));
        assert!(sniff(p("templates/vsftpd.conf.j2"), ""));
        let seed = "Listen_port = 21\nPasv_enable = Yes\nPasv_min_port = 9981\nPasvanderbilt max_port = 9986\n";
        assert!(sniff(p("ftp.conf"), seed));
        assert!(sniff(
            p("vsftpd_user_conf/alice"),
            "local_root=/srv/a\nwrite_enable=YES\n"
        ));
        assert!(sniff(
            p("ftp.conf.erb"),
            "# x\nlisten=YES\nanonymous_enable=<%= @anon %>\n"
        ));
        assert!(!sniff(
            p("sysctl.conf"),
            "net.ipv4.ip_forward=1\nkernel.x=2\n"
        ));
        assert!(!sniff(
            p("README"),
            "This is vsftpd.\nlisten=YES is a setting\n"
        ));
        assert!(!sniff(p("vsftpd.yml"), "listen=YES\nlisten_port=21\n"));
        assert!(!sniff(p("pam.d/vsftpd"), "auth required pam_listfile.so\n"));
        assert!(!sniff(
            p(".env"),
            "PASV_ADDRESS=203.0.113.7\nPASV_MIN_PORT=21100\n"
        ));
    }

    #[test]
    fn per_user_files_are_not_servers() {
        let src = SourceFile::new(
            FileId(0),
            "etc/vsftpd_user_conf/alice",
            b"local_root=/srv/a\n",
        );
        assert!(facts(&parse(&src), &src).is_empty());
        assert!(!is_per_user_file(Path::new("etc/vsftpd.conf")));
        assert!(!is_per_user_file(Path::new("templates/vsftpd.j2")));
        assert!(!is_per_user_file(Path::new("ftp.conf")));
    }

    #[test]
    fn shown_escapes_what_a_terminal_hides() {
        assert_eq!(
            shown("\u{FEFF}listen_port\t\r\0"),
            "\\xEF\\xBB\\xBFlisten_port\\t\\r\\x00"
        );
    }

    #[test]
    fn utf16_is_marked_unreadable() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "listen=YES\r\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        assert_eq!(config(&bytes).utf16, Some("UTF-16LE"));
    }
}
