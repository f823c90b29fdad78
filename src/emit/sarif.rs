//! `check --format sarif`: SARIF 2.1.0, for GitHub code scanning and SARIF viewers.
//!
//! Columns are UTF-16 code units of the decoded line, counted from 1 (`run.columnKind`
//! says so explicitly; it is also SARIF's default and how GitHub and editors index a
//! line). `endColumn` is exclusive: the column just after the region's last character.
//! The decoded text is what is counted, so a UTF-8 BOM is not a column and a tab is one.
//! Paths are the displayed paths as URI references relative to `%SRCROOT%`, the
//! directory pasvlint ran in; absolute input paths become `file://` URIs.

use super::{HOMEPAGE, location_in, path_of, report_files, rule_url, unique_fingerprints};
use crate::Report;
use crate::diag::{Diagnostic, Label, Severity};
use crate::rules::RuleMeta;
use crate::source::{Encoding, FileId, SourceMap, Span};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// Key of our fingerprint in `partialFingerprints`; bump the version if the hash changes.
pub const FINGERPRINT_KEY: &str = "pasvlint/v1";

pub struct Options<'a> {
    /// Rules described in `tool.driver.rules` (normally [`crate::rules::catalog`]).
    pub rules: &'a [RuleMeta],
    /// `file://` URI of the directory relative paths start from, ending in `/`.
    pub srcroot: Option<String>,
}

pub fn render(report: &Report, options: &Options) -> String {
    let rule_ids = rule_ids(report, options.rules);
    let files = report_files(report);
    let sarif = Sarif {
        sources: &report.sources,
        files: &files,
    };
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .zip(unique_fingerprints(report))
        .map(|(d, fp)| sarif.result(d, &fp, &rule_ids))
        .collect();
    let run = json!({
        "tool": { "driver": driver(options.rules, &rule_ids) },
        "invocations": [invocation(report)],
        "originalUriBaseIds": { SRCROOT: srcroot(options.srcroot.as_deref()) },
        "artifacts": files.iter().map(|f| sarif.artifact(*f)).collect::<Vec<_>>(),
        "results": results,
        "columnKind": "utf16CodeUnits",
    });
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// `file://` URI of a directory, ending in `/`, for [`Options::srcroot`].
pub fn directory_uri(dir: &Path) -> String {
    let mut uri = file_uri(&crate::source::display_path(dir));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Rule ids in `tool.driver.rules` order: the catalog, then any rule a finding
/// names that the catalog lacks (sorted), so every `ruleIndex` points somewhere.
fn rule_ids<'a>(report: &'a Report, catalog: &'a [RuleMeta]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = catalog.iter().map(|m| m.name.as_str()).collect();
    let missing: BTreeSet<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.rule)
        .filter(|r| !ids.contains(r))
        .collect();
    ids.extend(missing);
    ids
}

fn driver(catalog: &[RuleMeta], rule_ids: &[&str]) -> Value {
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match catalog.iter().find(|m| m.name == *id) {
            Some(meta) => rule_descriptor(meta),
            None => json!({ "id": id, "name": pascal_case(id), "helpUri": rule_url(id) }),
        })
        .collect();
    json!({
        "name": "pasvlint",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": HOMEPAGE,
        "rules": rules,
    })
}

fn rule_descriptor(meta: &RuleMeta) -> Value {
    json!({
        "id": meta.name,
        "name": pascal_case(&meta.name),
        "shortDescription": { "text": meta.summary.trim() },
        "fullDescription": { "text": meta.description.trim() },
        "help": { "text": meta.fix.trim(), "markdown": help_markdown(meta) },
        "helpUri": rule_url(&meta.name),
        "defaultConfiguration": { "level": level(meta.severity) },
        "properties": { "tags": [meta.category] },
    })
}

fn help_markdown(meta: &RuleMeta) -> String {
    let mut md = format!(
        "{}\n\n## Fix\n\n{}\n",
        meta.description.trim(),
        meta.fix.trim()
    );
    if !meta.references.is_empty() {
        md.push_str("\n## References\n\n");
        for r in &meta.references {
            md.push_str(&format!("- <{r}>\n"));
        }
    }
    md
}

/// `passive-ports-blocked` → `PassivePortsBlocked`, SARIF's "friendly name" form.
fn pascal_case(rule: &str) -> String {
    rule.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn invocation(report: &Report) -> Value {
    let mut invocation = json!({ "executionSuccessful": report.unreadable.is_empty() });
    if !report.unreadable.is_empty() {
        let notes: Vec<Value> = report
            .unreadable
            .iter()
            .map(|(path, reason)| {
                let path = crate::source::display_path(path);
                json!({
                    "level": "error",
                    "message": { "text": format!("cannot read {path}: {reason}") },
                    "locations": [{ "physicalLocation": { "artifactLocation": uri_location(&path) } }],
                })
            })
            .collect();
        invocation["toolExecutionNotifications"] = Value::Array(notes);
    }
    invocation
}

fn srcroot(uri: Option<&str>) -> Value {
    match uri {
        Some(uri) => json!({ "uri": uri }),
        None => json!({ "description": { "text": "the directory pasvlint ran in" } }),
    }
}

struct Sarif<'a> {
    sources: &'a SourceMap,
    files: &'a [FileId],
}

impl Sarif<'_> {
    fn artifact(&self, file: FileId) -> Value {
        let Some(source) = self.sources.get(file) else {
            return json!({});
        };
        json!({
            "location": uri_location(&source.display_path()),
            "length": source.byte_len,
            "roles": ["analysisTarget"],
            "encoding": encoding_name(source.encoding),
        })
    }

    fn artifact_location(&self, file: FileId) -> Value {
        let mut location = uri_location(&path_of(self.sources, Span::new(file, 0, 0)));
        if let Some(index) = self.files.iter().position(|f| *f == file) {
            location["index"] = json!(index);
        }
        location
    }

    fn physical(&self, span: Span) -> Value {
        json!({
            "artifactLocation": self.artifact_location(span.file),
            "region": self.region(span),
        })
    }

    fn region(&self, span: Span) -> Value {
        let l = location_in(self.sources, span, super::Columns::Utf16);
        json!({
            "startLine": l.line,
            "startColumn": l.column,
            "endLine": l.end_line,
            "endColumn": l.end_column,
        })
    }

    fn location(&self, label: &Label) -> Value {
        let mut location = json!({ "physicalLocation": self.physical(label.span) });
        if !label.message.is_empty() {
            location["message"] = json!({ "text": label.message });
        }
        location
    }

    fn result(&self, d: &Diagnostic, fingerprint: &str, rule_ids: &[&str]) -> Value {
        let mut result = Map::new();
        result.insert("ruleId".into(), json!(d.rule));
        if let Some(index) = rule_ids.iter().position(|r| *r == d.rule) {
            result.insert("ruleIndex".into(), json!(index));
        }
        result.insert("level".into(), json!(level(d.severity)));
        result.insert("message".into(), json!({ "text": message_text(d) }));
        result.insert("locations".into(), json!([self.location(&d.primary)]));
        if !d.related.is_empty() {
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let mut location = Map::new();
                    location.insert("id".into(), json!(i + 1));
                    if let Value::Object(rest) = self.location(label) {
                        location.extend(rest);
                    }
                    Value::Object(location)
                })
                .collect();
            result.insert("relatedLocations".into(), Value::Array(related));
        }
        result.insert(
            "partialFingerprints".into(),
            json!({ FINGERPRINT_KEY: fingerprint }),
        );
        if !d.fixes.is_empty() {
            let fixes: Vec<Value> = d.fixes.iter().map(|f| self.fix(f)).collect();
            result.insert("fixes".into(), Value::Array(fixes));
        }
        if let Some(host) = &d.host {
            result.insert("properties".into(), json!({ "host": host }));
        }
        Value::Object(result)
    }

    /// One `artifactChange` per file, in the order its edits come.
    fn fix(&self, fix: &crate::diag::Fix) -> Value {
        let mut changes: Vec<(FileId, Vec<Value>)> = Vec::new();
        for (span, text) in &fix.edits {
            let replacement = json!({
                "deletedRegion": self.region(*span),
                "insertedContent": { "text": text },
            });
            match changes.iter_mut().find(|(f, _)| *f == span.file) {
                Some((_, list)) => list.push(replacement),
                None => changes.push((span.file, vec![replacement])),
            }
        }
        let changes: Vec<Value> = changes
            .into_iter()
            .map(|(file, replacements)| {
                json!({
                    "artifactLocation": self.artifact_location(file),
                    "replacements": replacements,
                })
            })
            .collect();
        json!({ "description": { "text": fix.title }, "artifactChanges": changes })
    }
}

/// The message, then the finding's own fix command, which carries its numbers.
fn message_text(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    }
}

/// IANA charset names, as `artifact.encoding` wants them.
fn encoding_name(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => "UTF-8",
        Encoding::Utf16Le => "UTF-16LE",
        Encoding::Utf16Be => "UTF-16BE",
        Encoding::Windows1252 => "windows-1252",
    }
}

fn uri_location(display_path: &str) -> Value {
    if is_absolute(display_path) {
        json!({ "uri": file_uri(display_path) })
    } else {
        json!({ "uri": percent_encode(display_path), "uriBaseId": SRCROOT })
    }
}

fn is_absolute(path: &str) -> bool {
    path.starts_with('/') || drive_letter(path).is_some()
}

/// `C:` of `C:/x`: Windows paths as [`crate::source::display_path`] shows them.
fn drive_letter(path: &str) -> Option<&str> {
    let b = path.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/').then(|| &path[..2])
}

fn file_uri(path: &str) -> String {
    match drive_letter(path) {
        Some(drive) => format!("file:///{drive}{}", percent_encode(&path[2..])),
        None if path.starts_with('/') => format!("file://{}", percent_encode(path)),
        None => format!("file:///{}", percent_encode(path)),
    }
}

/// A path as a URI path: `/` kept, RFC 3986 unreserved characters kept, every other
/// byte of its UTF-8 percent-encoded (so `:` in a first segment cannot read as a scheme).
pub fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(percent_encode("etc/vsftpd.conf"), "etc/vsftpd.conf");
        assert_eq!(
            percent_encode("ftp host/100%/a:b#c?.conf"),
            "ftp%20host/100%25/a%3Ab%23c%3F.conf"
        );
        assert_eq!(percent_encode("caf\u{e9}"), "caf%C3%A9");
        assert_eq!(file_uri("/srv/a b"), "file:///srv/a%20b");
        assert_eq!(file_uri("C:/inetpub/x.reg"), "file:///C:/inetpub/x.reg");
        assert_eq!(directory_uri(Path::new("/work/repo")), "file:///work/repo/");
    }

    #[test]
    fn rule_names_in_pascal_case() {
        assert_eq!(pascal_case("passive-ports-blocked"), "PassivePortsBlocked");
    }
}
