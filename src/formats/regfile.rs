//! `.reg` exports (`Windows Registry Editor Version 5.00`, `REGEDIT4`), read the
//! way Wine's `reg import` reads them (its state machine, measured with Wine 8.0):
//! a line that is not a key, a value or a `;` comment is skipped; a value line
//! that does not parse is skipped; a malformed `[key` line leaves the previous
//! key open, so the values below it land there.
//!
//! Facts: the IIS 5 FTP service (`...\Services\MSFTPSVC\Parameters`, value
//! `PassivePortRange`) and the Windows Firewall (`GloballyOpenPorts\List`,
//! `FirewallRules`, and the same under the policy store).

use super::iis::{RangeVerdict, iis6_passive_range};
use super::winfw::{
    Change, Direction, Finding, LocalPorts, ProfileSet, Protocol, Remote, RuleAction, WinFirewall,
    WinRule, parse_port_list,
};
use crate::facts::{
    Active, ControlTls, Families, FileFacts, FtpServer, Located, Passive, Profile, RangeSetting,
    Uncertainty,
};
use crate::portset::PortSet;
use crate::source::{Encoding, SourceFile, Span};
use std::collections::BTreeMap;
use std::path::Path;

mod relocate;

pub const RULE_SYNTAX: &str = "reg-file-syntax-error";
pub const RULE_WRONG_TYPE: &str = "registry-wrong-value-type";
pub const RULE_WRONG_KEY: &str = "registry-wrong-key";
pub const RULE_FW_MALFORMED: &str = "windows-firewall-rule-malformed";

const HEADER_V5: &str = "Windows Registry Editor Version 5.00";
const HEADER_V4: &str = "REGEDIT4";

const REG_SZ: u32 = 1;
const REG_EXPAND_SZ: u32 = 2;
const REG_BINARY: u32 = 3;
const REG_DWORD: u32 = 4;
const REG_MULTI_SZ: u32 = 7;
const REG_QWORD: u32 = 11;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V5,
    V4,
    /// `REGEDIT`: Windows 3.1 format, HKEY_CLASSES_ROOT lines only.
    Win31,
    /// Starts with `REGEDIT` but is none of the above: accepted, nothing imported.
    Fuzzy,
    /// Anything else: `reg import` fails.
    Invalid,
}

/// A value's data as the importer stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegData {
    /// `"text"` (REG_SZ).
    String(String),
    /// `dword:0000138a`.
    Dword(u32),
    /// `hex:` (REG_BINARY) or `hex(N):` (type N), bytes as written.
    Hex { ty: u32, bytes: Vec<u8> },
    /// `=-`: the value is deleted.
    Delete,
}

impl RegData {
    pub fn reg_type(&self) -> Option<u32> {
        match self {
            RegData::String(_) => Some(REG_SZ),
            RegData::Dword(_) => Some(REG_DWORD),
            RegData::Hex { ty, .. } => Some(*ty),
            RegData::Delete => None,
        }
    }

    /// The text of a REG_SZ (quoted or `hex(1):`); hex payloads are UTF-16LE
    /// in files with a BOM and ANSI bytes otherwise.
    pub fn as_reg_sz(&self, unicode: bool) -> Option<String> {
        match self {
            RegData::String(s) => Some(s.clone()),
            RegData::Hex { ty: REG_SZ, bytes } => Some(decode_hex_string(bytes, unicode)),
            _ => None,
        }
    }

    /// How the type is named in messages: `REG_DWORD 0x00001389 (5001)`.
    pub fn describe(&self) -> String {
        match self {
            RegData::String(s) => format!("REG_SZ \"{s}\""),
            RegData::Dword(v) => format!("REG_DWORD 0x{v:08x} ({v})"),
            RegData::Hex { ty, bytes } => format!("{} ({} bytes)", type_name(*ty), bytes.len()),
            RegData::Delete => "deleted".to_owned(),
        }
    }
}

pub fn type_name(ty: u32) -> String {
    match ty {
        0 => "REG_NONE".to_owned(),
        REG_SZ => "REG_SZ".to_owned(),
        REG_EXPAND_SZ => "REG_EXPAND_SZ".to_owned(),
        REG_BINARY => "REG_BINARY".to_owned(),
        REG_DWORD => "REG_DWORD".to_owned(),
        REG_MULTI_SZ => "REG_MULTI_SZ".to_owned(),
        REG_QWORD => "REG_QWORD".to_owned(),
        other => format!("type {other}"),
    }
}

fn decode_hex_string(bytes: &[u8], unicode: bool) -> String {
    let text = if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        crate::source::decode(bytes.to_vec()).0
    };
    text.trim_end_matches('\0').to_owned()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegKey {
    /// The path as written between the brackets (without a leading `-`).
    pub path: String,
    pub span: Span,
    /// `[-HKEY_...]`.
    pub deleted: bool,
    /// The root is one `reg import` knows; values below an unknown root are dropped.
    pub opened: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegValue {
    /// Index in `RegFile::items` of the key the value lands in; `None` when
    /// no key is open (it is not imported).
    pub key: Option<usize>,
    /// `None` for the default value `@`.
    pub name: Option<String>,
    pub name_span: Span,
    pub data: RegData,
    pub data_span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Key(RegKey),
    Value(RegValue),
}

#[derive(Debug, Default)]
pub struct RegFile {
    pub version: Option<Version>,
    pub header_span: Option<Span>,
    /// Decoded as UTF-16 (a BOM), so `hex(1|2|7)` payloads are UTF-16LE.
    pub unicode: bool,
    /// Keys and values in file order; only those `reg import` would apply.
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
}

impl RegFile {
    pub fn key_of(&self, value: &RegValue) -> Option<&RegKey> {
        match self.items.get(value.key?) {
            Some(Item::Key(k)) => Some(k),
            _ => None,
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &RegValue> {
        self.items.iter().filter_map(|i| match i {
            Item::Value(v) => Some(v),
            Item::Key(_) => None,
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &RegKey> {
        self.items.iter().filter_map(|i| match i {
            Item::Key(k) => Some(k),
            Item::Value(_) => None,
        })
    }
}

/// `.reg` by name, or a registry-editor header on the first line.
pub fn sniff(path: &Path, text: &str) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("reg"));
    if by_name {
        return true;
    }
    let first = text.lines().next().unwrap_or("").trim();
    first == HEADER_V5 || first == HEADER_V4
}

/// Lines as `reg import` splits them: at `\r\n`, `\n` or a lone `\r`.
fn wine_lines(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push((start, i));
                start = i + 1;
            }
            b'\r' => {
                lines.push((start, i));
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push((start, bytes.len()));
    }
    lines
}

pub fn parse(source: &SourceFile) -> RegFile {
    let mut parser = Parser {
        source,
        file: RegFile {
            unicode: matches!(source.encoding, Encoding::Utf16Le),
            ..RegFile::default()
        },
        current: None,
        any_key: false,
    };
    parser.run();
    parser.file
}

struct Parser<'a> {
    source: &'a SourceFile,
    file: RegFile,
    /// The open key (index into items), as `reg import` keeps it.
    current: Option<usize>,
    any_key: bool,
}

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        self.source.span(start, end)
    }

    fn finding(&mut self, rule: &'static str, span: Span, message: String, label: &str) {
        self.file
            .findings
            .push(Finding::new(rule, span, message, label));
    }

    fn run(&mut self) {
        let lines = wine_lines(&self.source.text);
        let Some(&(hs, he)) = lines.first() else {
            self.header_problem(self.span(0, 0), "the file is empty");
            return;
        };
        let version = self.read_header(hs, he);
        self.file.version = Some(version);
        self.file.header_span = Some(self.span(hs, he));
        if version != Version::V4 && version != Version::V5 {
            return;
        }
        let mut i = 1;
        while i < lines.len() {
            i = self.line(&lines, i);
        }
    }

    fn read_header(&mut self, start: usize, end: usize) -> Version {
        let span = self.span(start, end);
        match self.source.encoding {
            Encoding::Utf8Bom => {
                self.header_problem(
                    span,
                    "the file starts with a UTF-8 byte-order mark, so the header does not match",
                );
                return Version::Invalid;
            }
            Encoding::Utf16Be => {
                self.header_problem(
                    span,
                    "the file is UTF-16 big-endian; regedit writes UTF-16LE",
                );
                return Version::Invalid;
            }
            _ => {}
        }
        let line = &self.source.text[start..end];
        let text = line.trim_start_matches([' ', '\t']);
        let version = match text {
            HEADER_V5 => Version::V5,
            HEADER_V4 => Version::V4,
            "REGEDIT" => Version::Win31,
            t if t.starts_with("REGEDIT") => Version::Fuzzy,
            _ => Version::Invalid,
        };
        match version {
            Version::Fuzzy => self.file.findings.push(
                Finding::new(
                    RULE_SYNTAX,
                    span,
                    format!("header `{}` is not `{HEADER_V4}` or `{HEADER_V5}`: reg import accepts the file and imports nothing", text.trim_end()),
                    "nothing below is imported",
                )
                .help(format!("write `{HEADER_V5}` as the first line")),
            ),
            Version::Invalid => self.header_problem(
                span,
                &format!("the first line `{}` is not a registry-editor header", clip(text, 40)),
            ),
            _ => {}
        }
        version
    }

    fn header_problem(&mut self, span: Span, why: &str) {
        self.file.findings.push(
            Finding::new(
                RULE_SYNTAX,
                span,
                format!("{why}: reg import rejects the whole file"),
                "not a .reg header",
            )
            .help(format!(
                "make `{HEADER_V5}` the first line and save the file as UTF-16LE (as regedit exports it) or ANSI"
            )),
        );
    }

    /// Reads the line at `i` (and continuation lines); returns the next line index.
    fn line(&mut self, lines: &[(usize, usize)], i: usize) -> usize {
        let (start, end) = lines[i];
        let text = &self.source.text[start..end];
        let lead = text.len() - text.trim_start_matches([' ', '\t']).len();
        let rest = &text[lead..];
        let at = start + lead;
        match rest.as_bytes().first() {
            None | Some(b';') => i + 1,
            Some(b'[') => {
                self.key_line(at, end);
                i + 1
            }
            Some(b'@') => self.value_line(lines, i, at, at + 1, None),
            Some(b'"') => match unescape(&self.source.text[at + 1..end]) {
                Ok((name, used)) => {
                    let after = at + 1 + used;
                    self.value_line(lines, i, at, after, Some((name, after)))
                }
                Err(why) => {
                    self.bad_line(at, end, &format!("the value name {why}"));
                    i + 1
                }
            },
            Some(_) => {
                self.ignored_line(at, end, rest);
                i + 1
            }
        }
    }

    fn ignored_line(&mut self, start: usize, end: usize, rest: &str) {
        let (message, help) = if rest.starts_with('#') || rest.starts_with("//") {
            (
                "`#`/`//` is not a comment in a .reg file: reg import skips the line".to_owned(),
                "start comments with `;`".to_owned(),
            )
        } else if let Some((name, value)) = rest.split_once('=') {
            (
                format!(
                    "line `{}` is not a key, a quoted value or a `;` comment: reg import skips it",
                    clip(rest, 40)
                ),
                format!(
                    "quote the value name: \"{}\"=\"{}\"",
                    name.trim().trim_matches('"'),
                    value.trim().trim_matches('"')
                ),
            )
        } else {
            (
                format!(
                    "line `{}` is not a key, a quoted value or a `;` comment: reg import skips it",
                    clip(rest, 40)
                ),
                "write keys as [HKEY_...\\Key], values as \"Name\"=\"data\", comments after `;`"
                    .to_owned(),
            )
        };
        let span = self.span(start, end);
        self.file
            .findings
            .push(Finding::new(RULE_SYNTAX, span, message, "skipped").help(help));
    }

    fn bad_line(&mut self, start: usize, end: usize, why: &str) {
        let span = self.span(start, end);
        self.file.findings.push(
            Finding::new(
                RULE_SYNTAX,
                span,
                format!("{why}: reg import skips this value"),
                "not imported",
            )
            .help(
                "write values as \"Name\"=\"text\", \"Name\"=dword:00001389 or \"Name\"=hex:01,02",
            ),
        );
    }

    fn key_line(&mut self, at: usize, end: usize) {
        let inner = &self.source.text[at + 1..end];
        let span = self.span(at, end);
        let close = inner.rfind(']');
        if inner.starts_with([' ', '\t']) || close.is_none() {
            let why = if close.is_none() {
                "has no closing `]`"
            } else {
                "has a space after `[`"
            };
            let mut f = Finding::new(
                RULE_SYNTAX,
                span,
                format!(
                    "key line {why}: reg import skips it and keeps writing into the previous key"
                ),
                "skipped",
            )
            .help("write the key as [HKEY_LOCAL_MACHINE\\...] with nothing before the root name");
            if let Some(prev) = self.current_key() {
                f = f.related(prev.span, "values below land in this key");
            }
            self.file.findings.push(f);
            return;
        }
        let close = close.unwrap_or(0);
        let path_text = &inner[..close];
        let (deleted, path) = match path_text.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, path_text),
        };
        let path_start = at + 1 + usize::from(deleted);
        let key_span = self.span(path_start, path_start + path.len());
        let opened = !deleted && root_of(path).is_some();
        if !deleted && !opened {
            self.finding(
                RULE_SYNTAX,
                key_span,
                format!(
                    "`{}` is not a registry root: reg import cannot open the key and drops its values",
                    clip(path.split('\\').next().unwrap_or(""), 40)
                ),
                "unknown root",
            );
        }
        self.any_key = true;
        self.file.items.push(Item::Key(RegKey {
            path: path.to_owned(),
            span: key_span,
            deleted,
            opened,
        }));
        self.current = opened.then(|| self.file.items.len() - 1);
    }

    fn current_key(&self) -> Option<&RegKey> {
        match self.file.items.get(self.current?) {
            Some(Item::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// `name_end` is where the data part (`=...`) starts.
    fn value_line(
        &mut self,
        lines: &[(usize, usize)],
        i: usize,
        at: usize,
        name_end: usize,
        name: Option<(String, usize)>,
    ) -> usize {
        let (_, end) = lines[i];
        let text = &self.source.text;
        let after_name = &text[name_end..end];
        let eq = after_name.len() - after_name.trim_start_matches([' ', '\t']).len();
        if !after_name[eq..].starts_with('=') {
            self.bad_line(at, end, "the value name is not followed by `=`");
            return i + 1;
        }
        let data_raw = &after_name[eq + 1..];
        let lead = data_raw.len() - data_raw.trim_start_matches([' ', '\t']).len();
        let data_start = name_end + eq + 1 + lead;
        let data = data_raw.trim_matches([' ', '\t']);
        let data_end = data_start + data.len();
        let name_span = self.span(at, name_end);
        let name = name.map(|(n, _)| n);
        let parsed = if let Some(rest) = data.strip_prefix('-') {
            match rest.trim_start_matches([' ', '\t']).chars().next() {
                None | Some(';') => Ok((RegData::Delete, i + 1, data_end)),
                Some(_) => Err(("`=-` (delete) is followed by more text".to_owned(), i + 1)),
            }
        } else {
            self.data(lines, i, data_start, data)
        };
        match parsed {
            Ok((data, next, data_end)) => {
                if !self.any_key {
                    self.finding(
                        RULE_SYNTAX,
                        name_span,
                        "value before any [key] line: reg import has no key to write it to"
                            .to_owned(),
                        "not imported",
                    );
                }
                self.file.items.push(Item::Value(RegValue {
                    key: self.current,
                    name,
                    name_span,
                    data,
                    data_span: self.span(data_start, data_end),
                }));
                next
            }
            Err((why, next)) => {
                self.bad_line(at, end, &why);
                next
            }
        }
    }

    /// Parses the data after `=`; returns the data, the next line and where the data ends.
    fn data(
        &mut self,
        lines: &[(usize, usize)],
        i: usize,
        start: usize,
        data: &str,
    ) -> Result<(RegData, usize, usize), (String, usize)> {
        let end = start + data.len();
        let here = |why: String| (why, i + 1);
        if let Some(rest) = data.strip_prefix('"') {
            let (s, used) = unescape(rest).map_err(|w| here(format!("the string {w}")))?;
            let tail = rest[used..].trim_start_matches([' ', '\t']);
            if !(tail.is_empty() || tail.starts_with(';')) {
                return Err(here(format!(
                    "text `{}` follows the closing quote",
                    clip(tail, 20)
                )));
            }
            return Ok((RegData::String(s), i + 1, end));
        }
        if let Some(rest) = data.strip_prefix("dword:") {
            return dword(rest)
                .map(|v| (RegData::Dword(v), i + 1, end))
                .map_err(here);
        }
        let (ty, rest) = if let Some(rest) = data.strip_prefix("hex:") {
            (REG_BINARY, rest)
        } else if let Some(rest) = data.strip_prefix("hex(") {
            hex_type(rest).map_err(here)?
        } else {
            return Err(here(unknown_type(data)));
        };
        let offset = end - rest.len();
        self.hex_data(lines, i, ty, rest, offset)
    }

    fn hex_data(
        &mut self,
        lines: &[(usize, usize)],
        mut i: usize,
        ty: u32,
        first: &str,
        offset: usize,
    ) -> Result<(RegData, usize, usize), (String, usize)> {
        let mut bytes = Vec::new();
        let mut chunk = first.to_owned();
        let mut last_end = offset + first.len();
        loop {
            if hex_csv(&chunk, &mut bytes).map_err(|why| (why, i + 1))? == HexEnd::Done {
                return Ok((RegData::Hex { ty, bytes }, i + 1, last_end));
            }
            // Continuation: skip blank and `;` lines, then a line of hex digits.
            loop {
                i += 1;
                let Some(&(s, e)) = lines.get(i) else {
                    return Ok((RegData::Hex { ty, bytes }, i, last_end));
                };
                let line = self.source.text[s..e].trim_start_matches([' ', '\t']);
                if line.is_empty() || line.starts_with(';') {
                    continue;
                }
                if !line.as_bytes()[0].is_ascii_hexdigit() {
                    let line_no = self.source.line_col(s as u32).0;
                    return Err((
                        format!(
                            "the hex data ends with `\\` but line {line_no} is not hex, so that line is dropped too"
                        ),
                        i + 1,
                    ));
                }
                chunk = line.to_owned();
                last_end = e;
                break;
            }
        }
    }
}

#[derive(PartialEq, Eq)]
enum HexEnd {
    Done,
    Continues,
}

/// Wine's `convert_hex_csv_to_hex`: comma-separated bytes (each read with
/// `wcstoul(.., 16)`, so spaces, `0x` and leading zeros pass), an optional `;`
/// comment, or `\` to continue on the next line.
fn hex_csv(text: &str, out: &mut Vec<u8>) -> Result<HexEnd, String> {
    let mut s = text;
    while !s.is_empty() {
        let (value, used) = wcstoul16(s);
        if value > 0xff {
            return Err(format!(
                "`{}` is not a byte (00-ff)",
                clip(s[..used.max(1)].trim(), 12)
            ));
        }
        if used == 0 {
            let rest = s.trim_start_matches([' ', '\t']);
            if let Some(after) = rest.strip_prefix('\\') {
                let after = after.trim_start_matches([' ', '\t']);
                if after.is_empty() || after.starts_with(';') {
                    return Ok(HexEnd::Continues);
                }
                return Err("text follows the `\\` continuation".to_owned());
            }
            if rest.starts_with(';') {
                return Ok(HexEnd::Done);
            }
            return Err(format!("`{}` is not a hex byte", clip(rest, 12)));
        }
        out.push(value as u8);
        let rest = &s[used..];
        match rest.strip_prefix(',') {
            Some(next) => s = next,
            None => {
                let tail = rest.trim_start_matches([' ', '\t']);
                if tail.is_empty() || tail.starts_with(';') {
                    return Ok(HexEnd::Done);
                }
                return Err(format!("`{}` is not separated by a comma", clip(tail, 12)));
            }
        }
    }
    Ok(HexEnd::Done)
}

/// `wcstoul(s, &end, 16)`: leading blanks, a sign, an optional `0x`, hex
/// digits. Returns the value (saturated) and the bytes used (0 = no number).
fn wcstoul16(s: &str) -> (u64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b'\n' || b[i] == b'\r') {
        i += 1;
    }
    let negative = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    if b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let digits_start = i;
    let mut value: u64 = 0;
    while let Some(d) = b.get(i).and_then(|c| (*c as char).to_digit(16)) {
        value = value.saturating_mul(16).saturating_add(u64::from(d));
        i += 1;
    }
    if i == digits_start {
        return (0, 0);
    }
    if negative {
        value = u64::MAX;
    }
    (value, i)
}

/// `hex(N):` type numbers: hex digits up to `)`, then `:`; `hex(0x..)` is rejected.
fn hex_type(rest: &str) -> Result<(u32, &str), String> {
    let bad = || {
        format!(
            "`hex({}` is not a type like hex(2): or hex(7):",
            clip(rest, 12)
        )
    };
    if rest.is_empty()
        || rest
            .as_bytes()
            .get(1)
            .is_some_and(|c| c.eq_ignore_ascii_case(&b'x'))
    {
        return Err(bad());
    }
    let (value, used) = wcstoul16(rest);
    let tail = &rest[used..];
    let tail = tail.strip_prefix("):").ok_or_else(bad)?;
    let ty = u32::try_from(value).map_err(|_| bad())?;
    Ok((ty, tail))
}

/// Wine's `convert_hex_to_dword`: at most 8 hex digits, blanks, then nothing or `;`.
fn dword(text: &str) -> Result<u32, String> {
    let t = text.trim_start_matches([' ', '\t']);
    if t.is_empty() {
        return Err("`dword:` has no value".to_owned());
    }
    let digits = t.bytes().take_while(u8::is_ascii_hexdigit).count();
    if digits > 8 {
        return Err(format!(
            "`dword:{t}` has {digits} hex digits; at most 8 fit"
        ));
    }
    let tail = t[digits..].trim_start_matches([' ', '\t']);
    if !(tail.is_empty() || tail.starts_with(';')) {
        return Err(format!(
            "`dword:{}` is not 1-8 hex digits (write dword:00001389 for 5001)",
            clip(t, 16)
        ));
    }
    Ok(u32::from_str_radix(&t[..digits], 16).unwrap_or(0))
}

fn unknown_type(data: &str) -> String {
    let lower = data.to_ascii_lowercase();
    if lower.starts_with("dword:") || lower.starts_with("hex") {
        format!(
            "`{}` must be lower-case (dword:, hex:, hex(N):)",
            clip(data, 20)
        )
    } else if data.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        format!("data `{}` is not quoted, dword: or hex:", clip(data, 20))
    } else {
        format!("data `{}` has no type reg import knows", clip(data, 20))
    }
}

/// Wine's `unescape_string` on the text after an opening quote: `\\`, `\"`,
/// `\n`, `\r`; `\0` and a missing closing quote make the line invalid.
/// Returns the text and the bytes consumed including the closing quote.
fn unescape(text: &str) -> Result<(String, usize), &'static str> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, '0')) => return Err("contains `\\0`"),
                Some((_, other)) => out.push(other),
                None => return Err("ends with a lone `\\`"),
            },
            other => out.push(other),
        }
    }
    Err("has no closing quote")
}

fn clip(text: &str, max: usize) -> String {
    let t = text.trim_end_matches(['\r', '\n']);
    if t.chars().count() <= max {
        return t.to_owned();
    }
    let cut: String = t.chars().take(max).collect();
    format!("{cut}…")
}

/// The canonical root of a key path, as `reg import` accepts it
/// (long or short names, any case).
fn root_of(path: &str) -> Option<&'static str> {
    const ROOTS: &[(&str, &str)] = &[
        ("HKEY_LOCAL_MACHINE", "HKLM"),
        ("HKEY_CURRENT_USER", "HKCU"),
        ("HKEY_CLASSES_ROOT", "HKCR"),
        ("HKEY_USERS", "HKU"),
        ("HKEY_CURRENT_CONFIG", "HKCC"),
    ];
    let first = path.split('\\').next()?;
    ROOTS
        .iter()
        .find(|(long, short)| first.eq_ignore_ascii_case(long) || first.eq_ignore_ascii_case(short))
        .map(|(long, _)| *long)
}

/// Upper-case path with a canonical root and `ControlSetNNN` read as the
/// current control set, for comparisons.
pub fn normalize_key(path: &str) -> String {
    let Some(root) = root_of(path) else {
        return path.to_ascii_uppercase();
    };
    let mut parts: Vec<String> = vec![root.to_owned()];
    for part in path.split('\\').skip(1).filter(|p| !p.is_empty()) {
        let upper = part.to_ascii_uppercase();
        let is_control_set = upper
            .strip_prefix("CONTROLSET")
            .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()));
        parts.push(if is_control_set {
            "CURRENTCONTROLSET".to_owned()
        } else {
            upper
        });
    }
    parts.join("\\")
}

const MSFTPSVC_PARAMETERS: &str =
    "HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET\\SERVICES\\MSFTPSVC\\PARAMETERS";
const SHARED_ACCESS_POLICY: &str = "HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET\\SERVICES\\SHAREDACCESS\\PARAMETERS\\FIREWALLPOLICY";
const GROUP_POLICY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\POLICIES\\MICROSOFT\\WINDOWSFIREWALL";

fn is_firewall_key(norm: &str) -> bool {
    under(norm, SHARED_ACCESS_POLICY) || under(norm, GROUP_POLICY)
}

fn under(norm: &str, base: &str) -> bool {
    norm == base || norm.strip_prefix(base).is_some_and(|r| r.starts_with('\\'))
}

/// The profile a `...\<X>Profile` key (or a key below it) configures, and the
/// rest of the path. `StandardProfile` is the legacy name Vista and later keep
/// for the private profile.
fn key_profile(norm: &str) -> Option<(Profile, &str)> {
    let below = [SHARED_ACCESS_POLICY, GROUP_POLICY]
        .iter()
        .find_map(|base| norm.strip_prefix(base)?.strip_prefix('\\'))?;
    let (key, rest) = below.split_once('\\').unwrap_or((below, ""));
    let profile = match key {
        "DOMAINPROFILE" => Profile::Domain,
        "STANDARDPROFILE" | "PRIVATEPROFILE" => Profile::Private,
        "PUBLICPROFILE" => Profile::Public,
        _ => return None,
    };
    Some((profile, rest))
}

/// `...\<X>Profile\GloballyOpenPorts\List` in either store.
fn open_ports_profile(norm: &str) -> Option<Profile> {
    key_profile(norm)
        .filter(|(_, rest)| *rest == "GLOBALLYOPENPORTS\\LIST")
        .map(|(p, _)| p)
}

fn is_firewall_rules(norm: &str) -> bool {
    norm == format!("{SHARED_ACCESS_POLICY}\\FIREWALLRULES")
        || norm == format!("{GROUP_POLICY}\\FIREWALLRULES")
}

/// The values still set when the import ends, in the order they were last
/// written, with their key's normalised path.
fn final_values(file: &RegFile) -> Vec<(String, &RegValue)> {
    let mut live: BTreeMap<(String, String), (usize, &RegValue)> = BTreeMap::new();
    for (order, item) in file.items.iter().enumerate() {
        match item {
            Item::Key(k) if k.deleted => {
                let norm = normalize_key(&k.path);
                live.retain(|(key, _), _| !under(key, &norm));
            }
            Item::Key(_) => {}
            Item::Value(v) => {
                let Some(key) = file.key_of(v) else { continue };
                let id = (
                    normalize_key(&key.path),
                    v.name.as_deref().unwrap_or("").to_ascii_uppercase(),
                );
                if v.data == RegData::Delete {
                    live.remove(&id);
                } else {
                    live.insert(id, (order, v));
                }
            }
        }
    }
    let mut values: Vec<(usize, String, &RegValue)> = live
        .into_iter()
        .map(|((key, _), (order, v))| (order, key, v))
        .collect();
    values.sort_by_key(|(order, _, _)| *order);
    values.into_iter().map(|(_, k, v)| (k, v)).collect()
}

/// Keys that exist when the import ends (created and not deleted later).
fn live_keys(file: &RegFile) -> Vec<(String, &RegKey)> {
    let mut keys: Vec<(String, &RegKey)> = Vec::new();
    for k in file.keys() {
        let norm = normalize_key(&k.path);
        if k.deleted {
            keys.retain(|(n, _)| !under(n, &norm));
        } else if k.opened {
            keys.push((norm, k));
        }
    }
    keys
}

fn is_passive_port_range(v: &RegValue) -> bool {
    v.name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case("PassivePortRange"))
}

/// One value as the registry stores it after the import: its key (normalised
/// and as written), name, type and data bytes (strings as UTF-16LE with their NUL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredValue {
    pub key: String,
    pub key_as_written: String,
    pub name: Option<String>,
    pub ty: u32,
    pub bytes: Vec<u8>,
}

/// Every value left when the import ends, stored as `reg import` stores it
/// (Wine's `prepare_hex_string_data`: string types get a NUL, ANSI hex
/// strings are widened). For comparing with what the registry holds.
pub fn stored_values(file: &RegFile) -> Vec<StoredValue> {
    final_values(file)
        .into_iter()
        .filter_map(|(key, v)| {
            let (ty, bytes) = stored_bytes(&v.data, file.unicode)?;
            Some(StoredValue {
                key,
                key_as_written: file.key_of(v)?.path.clone(),
                name: v.name.clone(),
                ty,
                bytes,
            })
        })
        .collect()
}

fn utf16_bytes(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn stored_bytes(data: &RegData, unicode: bool) -> Option<(u32, Vec<u8>)> {
    match data {
        RegData::String(s) => Some((REG_SZ, utf16_bytes(&format!("{s}\0")))),
        RegData::Dword(v) => Some((REG_DWORD, v.to_le_bytes().to_vec())),
        RegData::Hex { ty, bytes } if bytes.is_empty() => Some((*ty, Vec::new())),
        RegData::Hex { ty, bytes } if matches!(*ty, REG_SZ | REG_EXPAND_SZ | REG_MULTI_SZ) => {
            let mut b = bytes.clone();
            if unicode {
                let units = b.len() / 2;
                if units > 0 && b[2 * units - 2..2 * units] != [0, 0] {
                    b.truncate(2 * units);
                    b.extend([0, 0]);
                }
                Some((*ty, b))
            } else {
                if b.last() != Some(&0) {
                    b.push(0);
                }
                Some((*ty, utf16_bytes(&crate::source::decode(b).0)))
            }
        }
        RegData::Hex { ty, bytes } => Some((*ty, bytes.clone())),
        RegData::Delete => None,
    }
}

pub fn facts(file: &RegFile, source: &SourceFile) -> FileFacts {
    let changes = firewall_changes(file);
    let texts = rule_port_texts(file, source);
    let firewall = changes.as_ref().map(|changes| {
        let mut fw = WinFirewall::default();
        for change in changes {
            fw.apply(change.clone());
        }
        fw.firewall_with_texts(source.id, &texts)
    });
    let windows = changes.map(|changes| {
        Box::new(super::winfw::Part {
            file: source.id,
            path: source.path.clone(),
            changes,
            texts,
            others: None,
        })
    });
    FileFacts {
        ftp: iis_server(file, source).into_iter().collect(),
        firewall,
        firewall_v6: None,
        windows,
        ..FileFacts::default()
    }
}

/// The IIS 5 FTP service, when the export touches its Parameters key.
fn iis_server(file: &RegFile, source: &SourceFile) -> Option<FtpServer> {
    let key = live_keys(file)
        .into_iter()
        .rev()
        .find(|(norm, _)| under(norm, MSFTPSVC_PARAMETERS))?
        .1;
    let value = final_values(file)
        .into_iter()
        .rev()
        .find(|(norm, v)| norm == MSFTPSVC_PARAMETERS && is_passive_port_range(v))
        .map(|(_, v)| v);
    let passive = match value {
        None => passive_from(iis6_passive_range(None), Vec::new()),
        Some(v) => match v.data.as_reg_sz(file.unicode) {
            Some(text) => passive_from(iis6_passive_range(Some(&text)), vec![v.data_span]),
            None => passive_from(iis6_passive_range(None), vec![v.data_span]),
        },
    };
    let range_setting = value.and_then(|v| range_setting(source, v.data_span, &passive));
    Some(FtpServer {
        file: source.id,
        server: "iis6",
        control_port: Located::default_value(Some(21)),
        passive,
        max_sessions: Located::default_value(Some(None)),
        tls: Located::default_value(ControlTls::Never),
        // IIS 5 FTP: IPv4 only, anonymous and Windows logins by default, no FTPS.
        families: Located::default_value(Some(Families::Ipv4)),
        user_classes: super::iis_metabase::user_classes(None, None),
        // IIS active mode is not modelled yet.
        active: Active::Unknown,
        passive_address: Located::default_value(None),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting,
        anchor: value.map_or(key.span, |v| v.name_span),
        container: None,
    })
}

/// A REG_SZ `"5001-5100"` written plainly (no escapes): the text between the quotes.
fn range_setting(source: &SourceFile, data: Span, passive: &Passive) -> Option<RangeSetting> {
    let (lo, hi) = passive.deliberate_range()?;
    let quoted = source.text.get(data.range())?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let value = Span::new(data.file, data.range().start + 1, data.range().end - 1);
    RangeSetting::joined_as_written(value, inner, lo, hi)
}

/// What IIS hands out for a range verdict; an invalid range stops the service,
/// so the ports are unknown (the `iis-passive-range-invalid` rule says why).
pub fn passive_from(verdict: RangeVerdict, spans: Vec<Span>) -> Passive {
    match verdict {
        RangeVerdict::Ports { ports, deliberate } => Passive::Enabled {
            ports,
            deliberate: deliberate && !spans.is_empty(),
            spans,
        },
        RangeVerdict::Invalid(reason) => Passive::Unknown { spans, reason },
    }
}

/// `PassivePortRange` values IIS would refuse (the FTP service does not start),
/// for the `iis-passive-range-invalid` rule.
pub fn passive_range_problems(file: &RegFile) -> Vec<(Span, String)> {
    final_values(file)
        .into_iter()
        .filter(|(norm, v)| norm == MSFTPSVC_PARAMETERS && is_passive_port_range(v))
        .filter_map(|(_, v)| {
            let text = v.data.as_reg_sz(file.unicode)?;
            match iis6_passive_range(Some(&text)) {
                RangeVerdict::Invalid(why) => Some((v.data_span, why)),
                RangeVerdict::Ports { .. } => None,
            }
        })
        .collect()
}

/// Every finding of the file: syntax while parsing, then the meaning checks.
/// `text` is the file's decoded text, which the fixes edit.
pub fn findings(file: &RegFile, text: &str) -> Vec<Finding> {
    let mut out = file.findings.clone();
    out.extend(passive_port_range_placement(file, text));
    out.extend(firewall_findings(file, text));
    out
}

fn passive_port_range_placement(file: &RegFile, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for k in file.keys().filter(|k| !k.deleted) {
        let norm = normalize_key(&k.path);
        if norm.ends_with("\\PASSIVEPORTRANGE") {
            out.push(
                Finding::new(
                    RULE_WRONG_KEY,
                    k.span,
                    "`PassivePortRange` is a key here; IIS reads a value named PassivePortRange in MSFTPSVC\\Parameters".to_owned(),
                    "a key, not a value",
                )
                .help("write [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters] then \"PassivePortRange\"=\"5001-5201\""),
            );
        }
    }
    for v in file.values().filter(|v| v.data != RegData::Delete) {
        let Some(key) = file.key_of(v) else { continue };
        let norm = normalize_key(&key.path);
        if is_passive_port_range(v) && norm != MSFTPSVC_PARAMETERS {
            let finding = Finding::new(
                    RULE_WRONG_KEY,
                    v.name_span,
                    format!(
                        "`PassivePortRange` under `{}` is never read: IIS reads it only from HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters",
                        clip(&key.path, 80)
                    ),
                    "ignored here",
                )
                .related(key.span, "this key")
                .help("move the value to [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]");
            out.push(relocate::with_fix(finding, file, v, key, text));
        } else if is_passive_port_range(v) && v.data.as_reg_sz(file.unicode).is_none() {
            out.push(wrong_type(v, file.unicode, text));
        }
    }
    out
}

/// The range a `hex(N):` PassivePortRange holds, when its bytes are exactly a
/// range string IIS accepts (`hex(2):35,00,...` for "5001-5100"): then writing
/// it as REG_SZ is what the author meant. A dword holds no range.
fn range_in_hex(data: &RegData, unicode: bool) -> Option<String> {
    let RegData::Hex { bytes, .. } = data else {
        return None;
    };
    let text = decode_hex_string(bytes, unicode);
    let (lo, hi) = text.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(lo) || !digits(hi) {
        return None;
    }
    matches!(
        iis6_passive_range(Some(&text)),
        RangeVerdict::Ports {
            deliberate: true,
            ..
        }
    )
    .then_some(text)
}

fn wrong_type(v: &RegValue, unicode: bool, text: &str) -> Finding {
    let data = text.get(v.data_span.range()).unwrap_or(";");
    // A comment inside or after the hex lines stays where it is: no fix then.
    if let (Some(range), false) = (range_in_hex(&v.data, unicode), data.contains(';')) {
        let span = Span {
            end: v.data_span.end - (data.len() - data.trim_end().len()) as u32,
            ..v.data_span
        };
        return wrong_type_finding(v, &format!("\"PassivePortRange\"=\"{range}\"")).fix(
            format!("write \"{range}\" as REG_SZ"),
            vec![(span, format!("\"{range}\""))],
        );
    }
    let example = match &v.data {
        RegData::Dword(n) if (5001..=65535).contains(n) => {
            format!("\"PassivePortRange\"=\"{n}-{n}\"")
        }
        _ => "\"PassivePortRange\"=\"5001-5201\"".to_owned(),
    };
    wrong_type_finding(v, &example)
}

fn wrong_type_finding(v: &RegValue, example: &str) -> Finding {
    Finding::new(
        RULE_WRONG_TYPE,
        v.data_span,
        format!(
            "`PassivePortRange` is {}: IIS reads it only as a REG_SZ string like \"5001-5201\" and falls back to 1025-5000",
            v.data.describe()
        ),
        "not a REG_SZ",
    )
    .help(format!("write {example}"))
}

/// The firewall an export describes, when it holds any firewall key.
/// What importing the export does to the Windows Firewall, in value order.
fn firewall_changes(file: &RegFile) -> Option<Vec<Change>> {
    let keys = live_keys(file);
    if !keys.iter().any(|(norm, _)| is_firewall_key(norm)) {
        return None;
    }
    let mut changes = Vec::new();
    for (norm, v) in final_values(file) {
        if let Some(profile) = open_ports_profile(&norm) {
            changes.push(added(
                open_port_rule(file, v, profile),
                v,
                "malformed port exception",
            ));
        } else if is_firewall_rules(&norm) {
            changes.push(added(firewall_rule(file, v), v, "malformed firewall rule"));
        } else if let Some((profile, "")) = key_profile(&norm) {
            changes.extend(profile_switch(v, profile));
        }
    }
    Some(changes)
}

fn added(rule: Result<WinRule, RuleError>, v: &RegValue, what: &str) -> Change {
    match rule {
        Ok(rule) => Change::Add(rule),
        Err(_) => Change::Uncertain(Uncertainty {
            span: v.data_span,
            what: what.to_owned(),
        }),
    }
}

/// `EnableFirewall` and `DefaultInboundAction` (1 = block, 0 = allow) under a profile key.
fn profile_switch(v: &RegValue, profile: Profile) -> Option<Change> {
    let RegData::Dword(n) = v.data else {
        return None;
    };
    let name = v.name.as_deref()?;
    let profiles = ProfileSet::of(profile);
    let span = v.data_span;
    if name.eq_ignore_ascii_case("EnableFirewall") {
        Some(Change::State {
            on: n != 0,
            profiles,
            span,
        })
    } else if name.eq_ignore_ascii_case("DefaultInboundAction") {
        Some(Change::InboundAllow {
            allow: n == 0,
            profiles,
            span,
        })
    } else {
        None
    }
}

fn firewall_findings(file: &RegFile, text: &str) -> Vec<Finding> {
    final_values(file)
        .into_iter()
        .filter_map(|(norm, v)| {
            let rules = is_firewall_rules(&norm);
            let result = if let Some(profile) = open_ports_profile(&norm) {
                open_port_rule(file, v, profile).err()
            } else if rules {
                firewall_rule(file, v).err()
            } else {
                None
            };
            result.map(|(message, help)| {
                let finding =
                    Finding::new(RULE_FW_MALFORMED, v.data_span, message, "malformed rule")
                        .help(help);
                match rules.then(|| range_field_fix(file, v, text)).flatten() {
                    Some(edits) => finding.fix("write each range as LPort2_10=", edits),
                    None => finding,
                }
            })
        })
        .collect()
}

/// A rule string that writes a range as `LPort=5000-5050`, which the firewall
/// service refuses, with each such key renamed `LPort2_10` (where the ranges
/// go since version 2.10): offered for a plainly quoted rule of v2.10 or later
/// that then reads without a problem.
fn range_field_fix(file: &RegFile, v: &RegValue, text: &str) -> Option<Vec<(Span, String)>> {
    let RegData::String(data) = &v.data else {
        return None;
    };
    let quoted = text.get(v.data_span.range())?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if !version_at_least(inner.split('|').next()?, (2, 10)) {
        return None;
    }
    let base = v.data_span.range().start + 1;
    let mut edits = Vec::new();
    let mut at = 0;
    for field in inner.split('|') {
        if let Some(("LPort", value)) = field.split_once('=') {
            if value.contains('-') && parse_port_list(value).is_ok() {
                edits.push((
                    Span::new(v.data_span.file, base + at, base + at + "LPort".len()),
                    "LPort2_10".to_owned(),
                ));
            }
        }
        at += field.len() + 1;
    }
    if edits.is_empty() {
        return None;
    }
    let fixed: Vec<String> = data
        .split('|')
        .map(|f| match f.split_once('=') {
            Some(("LPort", value)) if value.contains('-') => format!("LPort2_10={value}"),
            _ => f.to_owned(),
        })
        .collect();
    let fixed = RegValue {
        data: RegData::String(fixed.join("|")),
        ..v.clone()
    };
    firewall_rule(file, &fixed).is_ok().then_some(edits)
}

type RuleError = (String, String);

/// `"5001:TCP"="5001:TCP:*:Enabled:Passive FTP"` (port:protocol:scope:status:name).
fn open_port_rule(file: &RegFile, v: &RegValue, profile: Profile) -> Result<WinRule, RuleError> {
    let help = || {
        "write \"5001:TCP\"=\"5001:TCP:*:Enabled:Passive FTP\" (port:protocol:scope:Enabled|Disabled:name)".to_owned()
    };
    let Some(text) = v.data.as_reg_sz(file.unicode) else {
        return Err((
            format!(
                "port exception is {}, not a REG_SZ definition string",
                v.data.describe()
            ),
            help(),
        ));
    };
    let fields: Vec<&str> = text.splitn(5, ':').collect();
    if fields.len() < 4 {
        return Err((
            format!(
                "port exception \"{}\" has {} of the fields port:protocol:scope:status[:name]",
                clip(&text, 40),
                fields.len()
            ),
            help(),
        ));
    }
    let port = fields[0]
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            (
                format!(
                    "port exception port `{}` is not a port in 1-65535 (one port per exception)",
                    fields[0]
                ),
                help(),
            )
        })?;
    let protocol = match fields[1].trim().to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        other => {
            return Err((
                format!("port exception protocol `{other}` is not TCP or UDP"),
                help(),
            ));
        }
    };
    let enabled = match fields[3].trim().to_ascii_lowercase().as_str() {
        "enabled" => true,
        "disabled" => false,
        other => {
            return Err((
                format!("port exception status `{other}` is not Enabled or Disabled"),
                help(),
            ));
        }
    };
    Ok(WinRule {
        name: fields.get(4).map(|s| (*s).to_owned()),
        enabled,
        remote: Remote::from_list(fields[2]),
        legacy: true,
        profiles: ProfileSet::of(profile),
        ..WinRule::allow_in(
            protocol,
            LocalPorts::Set(PortSet::single(port)),
            v.data_span,
        )
    })
}

/// `v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=21|LPort2_10=5000-5050|...|` (MS-GPFAS).
fn firewall_rule(file: &RegFile, v: &RegValue) -> Result<WinRule, RuleError> {
    let help = || {
        "write the rule as v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort2_10=5000-5050|Name=...| (single ports as LPort=21, ranges as LPort2_10=a-b)".to_owned()
    };
    let err = |m: String| Err((m, help()));
    let Some(text) = v.data.as_reg_sz(file.unicode) else {
        return err(format!(
            "firewall rule is {}; rules must be REG_SZ strings",
            v.data.describe()
        ));
    };
    let Some((version, body)) = text.split_once('|') else {
        return err(format!(
            "firewall rule \"{}\" has no `v2.x|` version prefix",
            clip(&text, 40)
        ));
    };
    let version_ok = version
        .strip_prefix('v')
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
        });
    if !version_ok {
        return err(format!(
            "firewall rule starts with `{}`, not a version like v2.10",
            clip(version, 12)
        ));
    }
    if !body.ends_with('|') {
        return err(
            "firewall rule does not end with `|`: every field must end with `|`".to_owned(),
        );
    }
    let mut rule = WinRule::allow_in(Protocol::Any, LocalPorts::Any, v.data_span);
    let (mut action, mut dir) = (None, None);
    let mut ports = PortSet::empty();
    let mut has_ports = false;
    let mut app: Option<String> = None;
    let mut svc: Option<String> = None;
    // No Profile= field: every profile; the field repeats for each profile it names.
    let mut profiles: Option<ProfileSet> = None;
    for field in body.trim_end_matches('|').split('|') {
        let Some((key, value)) = field.split_once('=') else {
            return err(format!(
                "firewall rule field `{}` is not Key=Value",
                clip(field, 20)
            ));
        };
        match key {
            "Action" => action = Some(value),
            "Dir" => dir = Some(value),
            "Active" => rule.enabled = !value.eq_ignore_ascii_case("FALSE"),
            "Protocol" => {
                rule.protocol = value
                    .parse::<u8>()
                    .map(|n| Protocol::parse(&n.to_string()).unwrap_or(Protocol::Other(n)))
                    .map_err(|_| {
                        (
                            format!("firewall rule Protocol={value} is not a number 0-255"),
                            help(),
                        )
                    })?;
            }
            "LPort" => {
                has_ports = true;
                if value.contains('-') {
                    return err(format!(
                        "firewall rule has LPort={value}: LPort holds one port; a range is written LPort2_10={value}"
                    ));
                }
                match value.parse::<u16>() {
                    Ok(p) => ports.insert_range(p, p),
                    Err(_) => rule.local_ports = LocalPorts::Unknown(format!("LPort={value}")),
                }
            }
            "LPort2_10" => {
                has_ports = true;
                let set = parse_port_list(value)
                    .map_err(|why| (format!("firewall rule LPort2_10={value}: {why}"), help()))?;
                ports = ports.union(&set);
            }
            "RA4" | "RA6" | "RA42" | "RA62" => rule.remote = Remote::Some(value.to_owned()),
            "App" => app = Some(value.to_ascii_lowercase()),
            "Svc" => svc = Some(value.to_ascii_lowercase()),
            "Name" => rule.name = Some(value.to_owned()),
            "Profile" => {
                let one = ProfileSet::parse_list(value).ok_or_else(|| {
                    (
                        format!("firewall rule Profile={value} is not Domain, Private or Public"),
                        help(),
                    )
                })?;
                profiles = Some(profiles.map_or(one, |p: ProfileSet| p.with(one)));
            }
            _ => {}
        }
    }
    rule.action = match action {
        Some(a) if a.eq_ignore_ascii_case("Block") => RuleAction::Block,
        Some(a) if a.eq_ignore_ascii_case("Allow") || a.eq_ignore_ascii_case("ByPass") => {
            RuleAction::Allow
        }
        Some(a) => {
            return err(format!(
                "firewall rule Action={a} is not Allow, Block or ByPass"
            ));
        }
        None => return err("firewall rule has no Action= field".to_owned()),
    };
    rule.dir = match dir {
        Some(d) if d.eq_ignore_ascii_case("In") => Direction::In,
        Some(d) if d.eq_ignore_ascii_case("Out") => Direction::Out,
        Some(d) => return err(format!("firewall rule Dir={d} is not In or Out")),
        None => return err("firewall rule has no Dir= field".to_owned()),
    };
    if has_ports && !matches!(rule.local_ports, LocalPorts::Unknown(_)) {
        rule.local_ports = LocalPorts::Set(ports);
    }
    rule.applies_to_ftp = admits_ftp_service(app.as_deref(), svc.as_deref());
    rule.profiles = profiles.unwrap_or(ProfileSet::ALL);
    Ok(rule)
}

/// Where each `FirewallRules` string's port fields are written, for fixes: a
/// quoted REG_SZ whose `LPort=`/`LPort2_10=` fields stand side by side and say
/// exactly the ports the rule opens.
fn rule_port_texts(file: &RegFile, source: &SourceFile) -> Vec<crate::facts::PortText> {
    final_values(file)
        .into_iter()
        .filter(|(norm, _)| is_firewall_rules(norm))
        .filter_map(|(_, v)| rule_port_text(file, source, v))
        .collect()
}

fn rule_port_text(
    file: &RegFile,
    source: &SourceFile,
    v: &RegValue,
) -> Option<crate::facts::PortText> {
    let RegData::String(_) = &v.data else {
        return None;
    };
    let rule = firewall_rule(file, v).ok()?;
    let LocalPorts::Set(ports) = &rule.local_ports else {
        return None;
    };
    let quoted = source.text.get(v.data_span.range())?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let base = v.data_span.range().start + 1;
    // (field index, start, end) of each port field, offsets into `inner`.
    let mut fields = Vec::new();
    let mut at = 0;
    for (i, field) in inner.split('|').enumerate() {
        if let Some(("LPort" | "LPort2_10", _)) = field.split_once('=') {
            fields.push((i, at, at + field.len()));
        }
        at += field.len() + 1;
    }
    let (&(first, start, _), &(last, _, end)) = (fields.first()?, fields.last()?);
    if last - first + 1 != fields.len() {
        return None;
    }
    let mut written = PortSet::empty();
    for &(_, s, e) in &fields {
        let (key, value) = inner.get(s..e)?.split_once('=')?;
        let set = match key {
            "LPort" => PortSet::single(value.parse::<u16>().ok()?),
            _ => parse_port_list(value).ok()?,
        };
        written = written.union(&set);
    }
    let version = inner.split('|').next()?;
    (written == *ports).then_some(crate::facts::PortText {
        rule: rule.span,
        syntax: crate::facts::PortSyntax::RegRule {
            ranges: version_at_least(version, (2, 10)),
        },
        value: Span::new(v.data_span.file, base + start, base + end),
        second: None,
        line: None,
    })
}

/// Whether a rule string's `v2.10` is at least `(major, minor)`.
fn version_at_least(version: &str, least: (u32, u32)) -> bool {
    version
        .strip_prefix('v')
        .and_then(|r| r.split_once('.'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .is_some_and(|v| v >= least)
}

/// A rule bound to a program admits only that program: it matters for FTP
/// only if the program hosts the FTP service (svchost for ftpsvc, inetinfo for IIS 6).
/// `service=ftpsvc`: the rule admits only the FTP service's own sockets.
pub fn names_ftp_service(service: Option<&str>) -> bool {
    service.is_some_and(|s| s.to_ascii_lowercase().contains("ftpsvc"))
}

pub fn admits_ftp_service(program: Option<&str>, service: Option<&str>) -> bool {
    if let Some(s) = service {
        if s != "*" && !s.eq_ignore_ascii_case("any") {
            return s.contains("ftpsvc");
        }
    }
    program.is_none_or(|p| {
        let p = p.to_ascii_lowercase();
        p.ends_with("svchost.exe") || p.ends_with("inetinfo.exe") || p == "system" || p == "any"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn source(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "x.reg", text.as_bytes())
    }

    fn utf16(text: &str) -> SourceFile {
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        SourceFile::new(FileId(0), "x.reg", &bytes)
    }

    fn rules_of(file: &RegFile) -> Vec<&'static str> {
        findings(file, "").iter().map(|f| f.rule).collect()
    }

    fn fixed(text: &str) -> Option<String> {
        let src = source(text);
        let file = parse(&src);
        let all = findings(&file, &src.text);
        let fix = all
            .iter()
            .find(|f| f.rule == RULE_WRONG_TYPE)?
            .fixes
            .first()?;
        let mut out = text.to_owned();
        for (span, with) in fix.edits.iter().rev() {
            out.replace_range(span.range(), with);
        }
        Some(out)
    }

    #[test]
    fn a_range_in_hex_bytes_is_rewritten_as_a_string() {
        let key = "REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n";
        let with = |data: &str| format!("{key}\"PassivePortRange\"={data}\r\n");
        assert_eq!(
            fixed(&with("hex(2):35,30,30,31,2d,\\\r\n  35,31,30,30,00  ")),
            Some(with("\"5001-5100\"  "))
        );
        assert_eq!(
            fixed(&with("hex(2):35,30,30,31,2d,35,31,30,30,00 ; note")),
            None
        );
        assert_eq!(fixed(&with("dword:00001389")), None);
        assert_eq!(
            fixed(&with("hex(2):35,30,30,31,00")),
            None,
            "one port, not a range"
        );
        assert_eq!(fixed(&with("hex(7):35,2d,36,00,37,00,00")), None);
    }

    const IIS5: &str = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"PassivePortRange\"=\"5001-5001\"\r\n";

    #[test]
    fn iis5_passive_range() {
        let src = source(IIS5);
        let file = parse(&src);
        assert!(
            findings(&file, &src.text).is_empty(),
            "{:?}",
            findings(&file, &src.text)
        );
        let facts = facts(&file, &src);
        assert_eq!(facts.ftp.len(), 1);
        assert_eq!(facts.ftp[0].passive.ports().unwrap().to_string(), "5001");
        assert!(facts.firewall.is_none());
    }

    #[test]
    fn utf16_and_ansi_give_the_same_facts() {
        let a = utf16(IIS5);
        let b = source(IIS5);
        let fa = facts(&parse(&a), &a);
        let fb = facts(&parse(&b), &b);
        assert_eq!(fa.ftp, fb.ftp);
    }

    /// What a file tells about its host, without spans or file ids.
    fn span_free(f: &FileFacts) -> String {
        let servers: Vec<String> = f
            .ftp
            .iter()
            .map(|s| {
                format!(
                    "{} {:?} {:?} {:?}",
                    s.server,
                    s.control_port.value,
                    s.passive.ports(),
                    s.max_sessions.value
                )
            })
            .collect();
        let fw = f.firewall.as_ref().map(|fw| {
            let d: Vec<String> = fw
                .decisions
                .iter()
                .map(|d| format!("{:?} {:?} {} {}", d.verdict, d.scope, d.ports, d.rule_ports))
                .collect();
            format!(
                "{:?} {} {} {d:?}",
                fw.default_policy.value, fw.open_to_all, fw.open_to_some
            )
        });
        format!("{servers:?} {fw:?}")
    }

    #[test]
    fn seed_exports_in_utf16_and_ansi_give_identical_facts() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seeds/");
        let read = |p: &str| {
            let bytes = std::fs::read(format!("{dir}{p}")).unwrap();
            SourceFile::new(FileId(0), p, &bytes)
        };
        let unicode = read("windows-iis5-registry/msftpsvc-passive-unicode.reg");
        let ansi = read("windows-iis5-registry-ansi/msftpsvc-passive-regedit4.reg");
        assert_eq!(unicode.encoding, Encoding::Utf16Le);
        assert_eq!(ansi.encoding, Encoding::Utf8);
        let fu = facts(&parse(&unicode), &unicode);
        let fa = facts(&parse(&ansi), &ansi);
        assert_eq!(span_free(&fu), span_free(&fa));
        assert_eq!(fu.ftp[0].passive.ports().unwrap().to_string(), "5001");
        let standard = fu.firewall.unwrap().in_profile(Profile::Private);
        assert_eq!(standard.open_to_all.to_string(), "21,5001");
    }

    #[test]
    fn values_match_wine_measurements() {
        let text = "REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\T1]\r\n\"a\"=dword:1\r\n\"b\"=dword:fffffffff\r\n\"d\"=dword:;c\r\n\"e\"=hex:0x1,001\r\n\"i\"=hex:1,2\r\n\"j\"=hex:0102\r\n\"s\"=hex:01,\\\r\n; inner\r\n  02\r\n\"u\"=\"a\\qb\"\r\n\"Up\"=DWORD:00000001\r\n\"t\"=\"x\" junk\r\n\"Sp\" = \"spaced\"\r\n";
        let file = parse(&source(text));
        let got: Vec<(String, RegData)> = file
            .values()
            .map(|v| (v.name.clone().unwrap_or_default(), v.data.clone()))
            .collect();
        let hex = |b: &[u8]| RegData::Hex {
            ty: REG_BINARY,
            bytes: b.to_vec(),
        };
        assert_eq!(
            got,
            vec![
                ("a".into(), RegData::Dword(1)),
                ("d".into(), RegData::Dword(0)),
                ("e".into(), hex(&[1, 1])),
                ("i".into(), hex(&[1, 2])),
                ("s".into(), hex(&[1, 2])),
                ("u".into(), RegData::String("aqb".into())),
                ("Sp".into(), RegData::String("spaced".into())),
            ]
        );
        assert_eq!(rules_of(&file), vec![RULE_SYNTAX; 4]);
    }

    #[test]
    fn malformed_key_line_keeps_the_previous_key() {
        let text = "REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\U1]\r\n\"a\"=\"1\"\r\n[ HKEY_LOCAL_MACHINE\\SOFTWARE\\U2]\r\n\"b\"=\"2\"\r\n";
        let file = parse(&source(text));
        let b = file.values().nth(1).unwrap();
        assert_eq!(
            file.key_of(b).unwrap().path,
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\U1"
        );
    }

    #[test]
    fn broken_continuation_swallows_the_next_line() {
        let text = "REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\U3]\r\n\"v\"=hex:01,\\\r\n\"w\"=\"x\"\r\n\"y\"=\"z\"\r\n";
        let file = parse(&source(text));
        let names: Vec<_> = file.values().map(|v| v.name.clone().unwrap()).collect();
        assert_eq!(names, vec!["y"]);
    }

    #[test]
    fn headers() {
        for (text, version) in [
            ("REGEDIT5\r\n", Version::Fuzzy),
            ("\r\nREGEDIT4\r\n", Version::Invalid),
            ("REGEDIT4 \r\n", Version::Fuzzy),
            ("  REGEDIT4\r\n", Version::V4),
        ] {
            assert_eq!(parse(&source(text)).version, Some(version), "{text:?}");
        }
        let bom = SourceFile::new(FileId(0), "x.reg", b"\xEF\xBB\xBFREGEDIT4\r\n");
        assert_eq!(parse(&bom).version, Some(Version::Invalid));
    }

    #[test]
    fn wrong_type_and_wrong_key() {
        let text = "REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"PassivePortRange\"=dword:00001389\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\W3SVC\\Parameters]\r\n\"PassivePortRange\"=\"5001-5201\"\r\n";
        let src = source(text);
        let file = parse(&src);
        assert_eq!(rules_of(&file), vec![RULE_WRONG_TYPE, RULE_WRONG_KEY]);
        let server = &facts(&file, &src).ftp[0];
        assert_eq!(server.passive.ports().unwrap().to_string(), "1025-5000");
    }

    #[test]
    fn firewall_from_open_ports_and_rules() {
        let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\StandardProfile\\GloballyOpenPorts\\List]\r\n\"21:TCP\"=\"21:TCP:*:Enabled:FTP\"\r\n\"5001:TCP\"=\"5001:TCP:LocalSubNet:Enabled:Passive\"\r\n\"5002:TCP\"=\"5002:TCP:*:Disabled:Passive\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules]\r\n\"{1}\"=\"v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=990|LPort2_10=6000-6010|Name=x|\"\r\n\"{2}\"=\"v2.10|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=6005|Name=y|\"\r\n\"{3}\"=\"v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=7000-7010|Name=z|\"\r\n";
        let src = source(text);
        let file = parse(&src);
        assert_eq!(rules_of(&file), vec![RULE_FW_MALFORMED]);
        let fw = facts(&file, &src).firewall.unwrap();
        let private = fw.in_profile(Profile::Private);
        assert_eq!(
            private.open_to_all.to_string(),
            "21,990,6000-6004,6006-6010"
        );
        assert_eq!(private.open_to_some.to_string(), "5001");
        assert_eq!(
            fw.open_to_all.to_string(),
            "990,6000-6004,6006-6010",
            "GloballyOpenPorts under StandardProfile miss the public profile"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "REGEDIT4\n[",
            "REGEDIT4\n\"",
            "REGEDIT4\n\"a\"=hex(",
            "REGEDIT4\n\"a\"=hex(ffffffffffffffffff):00",
            "REGEDIT4\n@=\\",
            "REGEDIT4\n\"\u{e9}\"=\"\u{e9}\\",
            "REGEDIT4\n[HKLM\\x]\n\"a\"=hex:01,\\",
            "",
        ] {
            let src = source(text);
            let file = parse(&src);
            let _ = facts(&file, &src);
            let _ = findings(&file, &src.text);
        }
    }
}
