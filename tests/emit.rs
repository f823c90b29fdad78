//! Every CI report format over one rich report and over an empty one: snapshots pin
//! the bytes, and each format is read back by a real parser (JSON Schema for SARIF,
//! quick-xml for JUnit and Checkstyle, serde_json for GitLab and rdjson, a copy of the
//! Actions runner's command parser for GitHub).

mod support;

use pasvlint::Report;
use pasvlint::diag::{Diagnostic, Severity};
use pasvlint::emit::{self, Destination, RenderOptions, ReportFormat};
use pasvlint::formats::Format;
use pasvlint::rules::RuleMeta;
use pasvlint::source::{FileId, SourceFile, SourceMap, Span};
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const VSFTPD: &str = "hosts/ftp1/etc/vsftpd.conf";
const IPTABLES: &str = "hosts/ftp1/fw 1,2/rules.v4";

const VSFTPD_TEXT: &str = "\
# café uploads 😀
listen=YES
pasv_enable=YES
pasv_min_port=9981
pasv_max_port=9986
ftpd_banner=café 😀 ready
";

const IPTABLES_TEXT: &str = "\
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m multiport --dports 21,9981:9984 -j ACCEPT
-A INPUT -p tcp --dport 9990 -j ACCEPT
COMMIT
";

/// A message built from a config value an attacker controls.
const HOSTILE: &str = "banner \"100% ready\r\n::set-env name=PATH::/tmp/x\n::error file=a::pwned %0A\" has <b>&\"'</b>";

fn span_of(file: &SourceFile, needle: &str) -> Span {
    let start = file.text.find(needle).expect("needle in fixture text");
    file.span(start, start + needle.len())
}

fn rich_report() -> Report {
    let vsftpd = SourceFile::new(FileId(0), VSFTPD, VSFTPD_TEXT.as_bytes());
    let iptables = SourceFile::new(FileId(1), IPTABLES, IPTABLES_TEXT.as_bytes());
    let host = |mut d: Diagnostic, severity| {
        d.severity = severity;
        d.host = Some("ftp1".to_owned());
        d
    };
    let diagnostics = vec![
        host(
            Diagnostic::new(
                "passive-range-too-small",
                "passive range 9981-9986 holds 6 sessions; max_clients allows 2000",
                span_of(&vsftpd, "pasv_min_port=9981\npasv_max_port=9986"),
                "6 ports",
            )
            .with_help("set pasv_max_port=11980"),
            Severity::Info,
        ),
        host(
            Diagnostic::new(
                "passive-ports-blocked",
                "passive ports 9985-9986 are blocked by the firewall",
                span_of(&vsftpd, "pasv_max_port=9986"),
                "server hands out 9981-9986",
            )
            .with_related(
                span_of(&iptables, "21,9981:9984"),
                "firewall opens only 9981-9984",
            )
            .with_related(
                span_of(&iptables, ":INPUT DROP"),
                "policy DROP closes 9985-9986",
            )
            .with_help("open 9985-9986/tcp, or set pasv_max_port=9984")
            .with_fix(
                "set pasv_max_port=9984",
                vec![(span_of(&vsftpd, "9986"), "9984".to_owned())],
            ),
            Severity::Error,
        ),
        host(
            Diagnostic::new(
                "vsftpd-banner-injection",
                HOSTILE,
                span_of(&vsftpd, "ready"),
                "<here> & \"there\"",
            )
            .with_related(span_of(&iptables, "9990"), "line\nbreak, comma: colon"),
            Severity::Warning,
        ),
        host(
            Diagnostic::new(
                "firewall-opens-unused-ports",
                "firewall opens 9990 that no FTP setting uses",
                span_of(&iptables, "--dport 9990"),
                "opens 9990",
            ),
            Severity::Warning,
        ),
        host(
            Diagnostic::new(
                "firewall-opens-unused-ports",
                "firewall opens 9990 that no FTP setting uses",
                span_of(&iptables, "-j ACCEPT\nCOMMIT"),
                "again",
            ),
            Severity::Warning,
        ),
    ];
    let mut diagnostics = diagnostics;
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Report {
        sources: SourceMap::new(vec![Some(vsftpd), Some(iptables)]),
        files: vec![
            (FileId(0), Format::Vsftpd),
            (FileId(1), Format::IptablesSave),
        ],
        backups: Default::default(),
        hosts: Vec::new(),
        diagnostics,
        unreadable: Vec::new(),
        links: Vec::new(),
        suppressed: 0,
    }
}

fn empty_report() -> Report {
    Report {
        sources: SourceMap::new(Vec::new()),
        files: Vec::new(),
        backups: Default::default(),
        hosts: Vec::new(),
        diagnostics: Vec::new(),
        unreadable: Vec::new(),
        links: Vec::new(),
        suppressed: 0,
    }
}

/// A clean run over one file: every format must still say something sensible.
fn clean_report() -> Report {
    let vsftpd = SourceFile::new(FileId(0), VSFTPD, VSFTPD_TEXT.as_bytes());
    Report {
        sources: SourceMap::new(vec![Some(vsftpd)]),
        files: vec![(FileId(0), Format::Vsftpd)],
        backups: Default::default(),
        hosts: Vec::new(),
        diagnostics: Vec::new(),
        unreadable: vec![(
            PathBuf::from("hosts/ftp2/etc/vsftpd.conf"),
            "permission denied".into(),
        )],
        links: Vec::new(),
        suppressed: 0,
    }
}

/// Rule docs for the snapshots, fixed here so they do not move with `rules/*.toml`.
fn test_catalog() -> Vec<RuleMeta> {
    let rule = |name: &str, severity: &str, category: &str| {
        toml::from_str::<RuleMeta>(&format!(
            r#"
name = "{name}"
severity = "{severity}"
category = "{category}"
since = "0.1.0"
summary = "summary of {name}"
description = """
## What it checks
What {name} checks.
"""
fix = "do what {name} says"
references = ["https://example.org/{name}"]
[[bad.files]]
path = "etc/vsftpd.conf"
text = "x"
[[good.files]]
path = "etc/vsftpd.conf"
text = "y"
"#
        ))
        .expect("test rule TOML")
    };
    vec![
        rule("passive-ports-blocked", "error", "reachability"),
        rule("firewall-opens-unused-ports", "warning", "exposure"),
        rule("passive-range-too-small", "warning", "capacity"),
    ]
}

fn render(format: ReportFormat, report: &Report, catalog: &[RuleMeta]) -> String {
    emit::render(
        format,
        report,
        &RenderOptions {
            color: false,
            width: 100,
            rules: catalog,
            srcroot: Some("file:///work/repo/".to_owned()),
        },
    )
}

const CI_FORMATS: [ReportFormat; 6] = [
    ReportFormat::Sarif,
    ReportFormat::Github,
    ReportFormat::Gitlab,
    ReportFormat::Junit,
    ReportFormat::Checkstyle,
    ReportFormat::Rdjson,
];

#[test]
fn snapshots_of_the_rich_report() {
    let report = rich_report();
    let catalog = test_catalog();
    for format in CI_FORMATS {
        let text =
            render(format, &report, &catalog).replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(format.name(), text);
    }
}

#[test]
fn snapshots_of_the_empty_and_clean_reports() {
    let catalog = test_catalog();
    for format in CI_FORMATS {
        let text = format!(
            "--- empty ---\n{}--- clean ---\n{}",
            render(format, &empty_report(), &catalog),
            render(format, &clean_report(), &catalog)
        )
        .replace(env!("CARGO_PKG_VERSION"), "[version]");
        insta::assert_snapshot!(format!("{}-empty", format.name()), text);
    }
}

#[test]
fn same_report_same_bytes() {
    let catalog = test_catalog();
    for format in ReportFormat::ALL {
        assert_eq!(
            render(format, &rich_report(), &catalog),
            render(format, &rich_report(), &catalog),
            "{}",
            format.name()
        );
    }
}

// ---------------------------------------------------------------- SARIF

const BAD_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

fn sarif_validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(support::crate_dir().join("tests/data/sarif-schema-2.1.0.json"))
            .expect("schema copy");
    let mut schema: Value = serde_json::from_str(&text).expect("schema JSON");
    // This copy of the schema keeps the log's own shape under `definitions/Root` and puts
    // nothing at the top, so as shipped it accepts any JSON; validate against Root.
    if schema.get("properties").is_none() && schema["definitions"].get("Root").is_some() {
        schema["allOf"] = serde_json::json!([{ "$ref": "#/definitions/Root" }]);
    }
    // The `language` patterns of `run` and `toolComponent` carry a stray `]` that the
    // validator's meta-schema check rejects as a regex, so no validator could be built.
    // pasvlint never writes `language` (asserted below), so the intended pattern is used.
    for owner in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][owner]["properties"]["language"]["pattern"];
        if language == BAD_LANGUAGE_PATTERN {
            *language = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
        }
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, text: &str) -> Value {
    let log: Value = serde_json::from_str(text).expect("SARIF is JSON");
    assert!(!text.contains("\"language\""), "see BAD_LANGUAGE_PATTERN");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{text}",
        errors.join("\n")
    );
    log
}

#[test]
fn sarif_is_valid_against_the_schema() {
    let validator = sarif_validator();
    let catalog = test_catalog();
    for report in [rich_report(), empty_report(), clean_report()] {
        assert_valid_sarif(&validator, &render(ReportFormat::Sarif, &report, &catalog));
        // The real catalog too, whatever rules/*.toml hold today.
        let real = pasvlint::rules::catalog();
        assert_valid_sarif(&validator, &render(ReportFormat::Sarif, &report, real));
    }
}

#[test]
fn the_schema_check_rejects_broken_sarif() {
    let validator = sarif_validator();
    let good = render(ReportFormat::Sarif, &rich_report(), &test_catalog());
    let mut log: Value = serde_json::from_str(&good).unwrap();
    log["runs"][0]["results"][0]["level"] = "info".into();
    assert!(!validator.is_valid(&log), "level `info` is not SARIF");
    let mut log: Value = serde_json::from_str(&good).unwrap();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] =
        0.into();
    assert!(!validator.is_valid(&log), "columns start at 1");
    let mut log: Value = serde_json::from_str(&good).unwrap();
    log.as_object_mut().unwrap().remove("version");
    assert!(!validator.is_valid(&log), "version is required");
}

#[test]
fn sarif_carries_rules_locations_and_fingerprints() {
    let report = rich_report();
    let catalog = test_catalog();
    let log: Value = serde_json::from_str(&render(ReportFormat::Sarif, &report, &catalog)).unwrap();
    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///work/repo/"
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    // Every catalog rule, then the rules findings name that the catalog lacks.
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "passive-ports-blocked",
            "firewall-opens-unused-ports",
            "passive-range-too-small",
            "vsftpd-banner-injection"
        ]
    );
    let blocked = &rules[0];
    assert_eq!(blocked["name"], "PassivePortsBlocked");
    assert_eq!(
        blocked["shortDescription"]["text"],
        "summary of passive-ports-blocked"
    );
    assert_eq!(
        blocked["help"]["text"],
        "do what passive-ports-blocked says"
    );
    assert!(
        blocked["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Fix")
    );
    assert_eq!(
        blocked["helpUri"],
        "https://github.com/pasvlint/pasvlint/blob/main/rules/passive-ports-blocked.toml"
    );
    assert_eq!(blocked["defaultConfiguration"]["level"], "error");
    assert_eq!(blocked["properties"]["tags"][0], "reachability");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.diagnostics.len());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    let by_rule = |rule: &str| results.iter().find(|r| r["ruleId"] == rule).unwrap();
    let blocked = by_rule("passive-ports-blocked");
    assert_eq!(blocked["level"], "error");
    let physical = &blocked["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], VSFTPD);
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(
        physical["region"],
        serde_json::json!({ "startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": 19 })
    );
    let related = blocked["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 2);
    assert_eq!(related[0]["id"], 1);
    assert_eq!(
        related[0]["message"]["text"],
        "firewall opens only 9981-9984"
    );
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "hosts/ftp1/fw%201%2C2/rules.v4"
    );
    assert_eq!(
        related[0]["physicalLocation"]["region"]["startColumn"], 39,
        "`21,9981:9984` starts at character 39 of line 3"
    );
    assert_eq!(
        blocked["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "9984"
    );
    assert_eq!(by_rule("passive-range-too-small")["level"], "note");

    // Fingerprints: ours, under our key, unique even for a repeated finding.
    let fps: Vec<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["pasvlint/v1"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<_> = fps.iter().collect();
    assert_eq!(unique.len(), fps.len(), "{fps:?}");
    assert!(results.iter().all(|r| {
        r["partialFingerprints"]
            .get("primaryLocationLineHash")
            .is_none()
    }));
}

#[test]
fn sarif_columns_count_utf16_units_and_rdjson_utf8_bytes() {
    // Line 6 is `ftpd_banner=café 😀 ready`: `ready` is character 20, UTF-16 unit 21
    // (😀 is two units), UTF-8 byte 24 (é two bytes, 😀 four).
    let report = rich_report();
    let catalog = test_catalog();
    let sarif: Value =
        serde_json::from_str(&render(ReportFormat::Sarif, &report, &catalog)).unwrap();
    let banner = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "vsftpd-banner-injection")
        .unwrap();
    let region = &banner["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startColumn"].as_u64(), region["endColumn"].as_u64()),
        (Some(21), Some(26))
    );

    let rd: Value = serde_json::from_str(&render(ReportFormat::Rdjson, &report, &catalog)).unwrap();
    let banner = rd["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"]["value"] == "vsftpd-banner-injection")
        .unwrap();
    assert_eq!(banner["location"]["range"]["start"]["column"], 24);
    assert_eq!(banner["location"]["range"]["end"]["column"], 29);

    let checkstyle = render(ReportFormat::Checkstyle, &report, &catalog);
    assert!(
        checkstyle.contains("line=\"6\" column=\"20\""),
        "{checkstyle}"
    );
}

// ---------------------------------------------------------------- GitHub

/// The Actions runner's reading of one line (`ActionCommand.TryParseV2`): `::cmd
/// k=v,k=v::data`, values unescaped as the runner does (`%25` last).
fn parse_workflow_command(line: &str) -> Option<(String, BTreeMap<String, String>, String)> {
    let rest = line.strip_prefix("::")?;
    let end = rest.find("::")?;
    let (head, data) = (&rest[..end], &rest[end + 2..]);
    let (command, props) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), unescape(v)))
        .collect();
    Some((command.to_owned(), props, unescape(data)))
}

#[test]
fn github_annotations_cannot_inject_workflow_commands() {
    let report = rich_report();
    let text = render(ReportFormat::Github, &report, &test_catalog());
    // The runner reads stdout line by line, splitting on CR and on LF.
    let lines: Vec<&str> = text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), report.diagnostics.len(), "{text}");
    for (line, d) in lines.iter().zip(&report.diagnostics) {
        let (command, props, data) = parse_workflow_command(line).expect("a workflow command");
        let expected = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        assert_eq!(command, expected, "{line}");
        assert_eq!(props["title"], d.rule);
        assert!(
            data.starts_with(&d.message),
            "message survives unchanged: {data:?}"
        );
        assert_eq!(
            props["file"],
            pasvlint::emit::path_of(&report.sources, d.primary.span),
            "a path with `,` stays one property"
        );
        assert_eq!(
            props.keys().collect::<Vec<_>>(),
            {
                let mut keys = vec!["endLine", "file", "line", "title"];
                if props.contains_key("col") {
                    keys.extend(["col", "endColumn"]);
                    keys.sort();
                }
                keys
            },
            "no property smuggled in: {line}"
        );
    }
    assert!(!text.contains("\n::set-env"));
    assert!(!text.contains("\n::error file=a"));
    let banner = lines
        .iter()
        .find(|l| l.contains("title=vsftpd-banner-injection"))
        .unwrap();
    let (_, _, data) = parse_workflow_command(banner).unwrap();
    assert_eq!(
        data,
        format!("{HOSTILE}\n{IPTABLES}:4:25: line\nbreak, comma: colon")
    );
}

#[test]
fn github_columns_only_on_one_line_findings() {
    let report = rich_report();
    let text = render(ReportFormat::Github, &report, &test_catalog());
    let small = text
        .lines()
        .find(|l| l.contains("title=passive-range-too-small"))
        .unwrap();
    assert!(
        small.starts_with("::notice file=hosts/ftp1/etc/vsftpd.conf,line=4,endLine=5,title="),
        "{small}"
    );
    let blocked = text
        .lines()
        .find(|l| l.contains("title=passive-ports-blocked"))
        .unwrap();
    assert!(
        blocked.contains("line=5,col=1,endLine=5,endColumn=19,"),
        "{blocked}"
    );
}

// ---------------------------------------------------------------- GitLab, rdjson

#[test]
fn gitlab_issues_have_every_required_field_and_unique_fingerprints() {
    let report = rich_report();
    let issues: Value =
        serde_json::from_str(&render(ReportFormat::Gitlab, &report, &test_catalog())).unwrap();
    let issues = issues.as_array().expect("an array");
    assert_eq!(issues.len(), report.diagnostics.len());
    let mut fingerprints = std::collections::BTreeSet::new();
    for (issue, d) in issues.iter().zip(&report.diagnostics) {
        assert_eq!(issue["description"], d.message.as_str());
        assert_eq!(issue["check_name"], d.rule);
        let severity = issue["severity"].as_str().unwrap();
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&severity));
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_owned()));
        let path = issue["location"]["path"].as_str().unwrap();
        assert!(path == VSFTPD || path == IPTABLES);
        let begin = issue["location"]["lines"]["begin"].as_u64().unwrap();
        let end = issue["location"]["lines"]["end"].as_u64().unwrap();
        assert!(begin >= 1 && end >= begin);
    }
    let severities: Vec<&str> = issues
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    assert!(severities.contains(&"critical") && severities.contains(&"major"));
    // `-j ACCEPT\nCOMMIT` ends on line 5; `...\n` spans that stop after a line break do not
    // claim the next line.
    let last = issues
        .iter()
        .find(|i| i["location"]["lines"]["begin"] == 4 && i["location"]["path"] == IPTABLES)
        .unwrap();
    assert_eq!(last["location"]["lines"]["end"], 4);
}

#[test]
fn rdjson_has_source_severity_and_diagnostics() {
    let report = rich_report();
    let rd: Value =
        serde_json::from_str(&render(ReportFormat::Rdjson, &report, &test_catalog())).unwrap();
    assert_eq!(rd["source"]["name"], "pasvlint");
    assert_eq!(rd["severity"], "ERROR");
    let diagnostics = rd["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), report.diagnostics.len());
    for d in diagnostics {
        assert!(d["message"].is_string());
        assert!(d["location"]["path"].is_string());
        for end in ["start", "end"] {
            assert!(d["location"]["range"][end]["line"].as_u64().unwrap() >= 1);
            assert!(d["location"]["range"][end]["column"].as_u64().unwrap() >= 1);
        }
        assert!(["ERROR", "WARNING", "INFO"].contains(&d["severity"].as_str().unwrap()));
        let rule = d["code"]["value"].as_str().unwrap();
        assert!(
            d["code"]["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/rules/{rule}.toml"))
        );
    }
    let blocked = diagnostics
        .iter()
        .find(|d| d["code"]["value"] == "passive-ports-blocked")
        .unwrap();
    assert_eq!(blocked["suggestions"][0]["text"], "9984");
    assert_eq!(
        blocked["suggestions"][0]["range"]["start"],
        serde_json::json!({"line": 5, "column": 15})
    );
    assert_eq!(
        blocked["related_locations"][0]["location"]["path"],
        IPTABLES
    );
    let empty: Value =
        serde_json::from_str(&render(ReportFormat::Rdjson, &empty_report(), &[])).unwrap();
    assert_eq!(empty["diagnostics"], serde_json::json!([]));
}

// ---------------------------------------------------------------- XML

/// Elements of an XML document with their decoded attributes and text, checked
/// well-formed by quick-xml (matching end tags, valid escapes, one root).
fn parse_xml(text: &str) -> Vec<Element> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut elements: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not XML: {e}\n{text}"));
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (key, a.unescape_value().expect("valid escapes").into_owned())
                    })
                    .collect();
                if open.is_empty() {
                    roots += 1;
                }
                elements.push(Element {
                    name,
                    attrs,
                    text: String::new(),
                    depth: open.len(),
                });
                if is_start {
                    open.push(elements.len() - 1);
                }
            }
            Event::End(_) => {
                open.pop().expect("balanced tags");
            }
            Event::Text(t) => {
                let t = t.unescape().expect("valid escapes");
                match open.last() {
                    Some(&i) => elements[i].text.push_str(&t),
                    None => assert!(t.trim().is_empty(), "text outside the root: {t:?}"),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements");
    assert_eq!(roots, 1, "one root element");
    elements
}

#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    depth: usize,
}

fn count(elements: &[Element], name: &str) -> usize {
    elements.iter().filter(|e| e.name == name).count()
}

#[test]
fn checkstyle_is_well_formed_and_round_trips_messages() {
    let report = rich_report();
    let elements = parse_xml(&render(ReportFormat::Checkstyle, &report, &test_catalog()));
    assert_eq!(elements[0].name, "checkstyle");
    assert_eq!(elements[0].attrs["version"], "4.3");
    let files: Vec<&str> = elements
        .iter()
        .filter(|e| e.name == "file")
        .map(|e| e.attrs["name"].as_str())
        .collect();
    assert_eq!(files, [VSFTPD, IPTABLES]);
    let errors: Vec<&Element> = elements.iter().filter(|e| e.name == "error").collect();
    assert_eq!(errors.len(), report.diagnostics.len());
    for (e, d) in errors.iter().zip(&report.diagnostics) {
        assert_eq!(e.attrs["message"], d.message, "escaped and unescaped back");
        assert_eq!(e.attrs["source"], format!("pasvlint.{}", d.rule));
        assert_eq!(e.attrs["severity"], d.severity.as_str());
        let loc = pasvlint::emit::location(&report.sources, d.primary.span);
        assert_eq!(e.attrs["line"], loc.line.to_string());
        assert_eq!(e.attrs["column"], loc.column.to_string());
    }
    for empty in [empty_report(), clean_report()] {
        let elements = parse_xml(&render(ReportFormat::Checkstyle, &empty, &[]));
        assert_eq!(count(&elements, "error"), 0);
    }
}

#[test]
fn junit_is_well_formed_with_one_suite_per_file() {
    let report = rich_report();
    let elements = parse_xml(&render(ReportFormat::Junit, &report, &test_catalog()));
    let root = &elements[0];
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.attrs["tests"], report.diagnostics.len().to_string());
    assert_eq!(root.attrs["failures"], report.diagnostics.len().to_string());
    let suites: Vec<&str> = elements
        .iter()
        .filter(|e| e.name == "testsuite")
        .map(|e| e.attrs["name"].as_str())
        .collect();
    assert_eq!(suites, [VSFTPD, IPTABLES]);
    let failures: Vec<&Element> = elements.iter().filter(|e| e.name == "failure").collect();
    assert_eq!(failures.len(), report.diagnostics.len());
    for (f, d) in failures.iter().zip(&report.diagnostics) {
        assert_eq!(f.attrs["message"], d.message);
        assert_eq!(f.attrs["type"], d.severity.as_str());
        assert!(f.text.contains(&format!("[{}]", d.rule)));
        assert_eq!(f.depth, 3);
    }
    let hostile = failures.iter().find(|f| f.text.contains("banner")).unwrap();
    assert!(
        hostile.text.contains("\r\n::set-env"),
        "CR survives as &#13;"
    );

    // Nothing found: every file passes, and so does a run over no files.
    let clean = parse_xml(&render(ReportFormat::Junit, &clean_report(), &[]));
    assert_eq!(count(&clean, "failure"), 0);
    assert_eq!(count(&clean, "error"), 1, "the unreadable file");
    assert!(
        clean
            .iter()
            .any(|e| e.name == "testcase" && e.attrs["name"] == "no problems")
    );
    let empty = parse_xml(&render(ReportFormat::Junit, &empty_report(), &[]));
    assert_eq!(count(&empty, "testcase"), 1);
    assert_eq!(empty[0].attrs["tests"], "1");
    assert_eq!(empty[0].attrs["failures"], "0");
}

#[test]
fn xml_escaping_drops_what_xml_cannot_hold() {
    let text = emit::xml_attr("a\u{1b}[0m\u{0}<&>\"\n\t\r\u{ffff}");
    assert_eq!(
        text,
        "a\u{fffd}[0m\u{fffd}&lt;&amp;&gt;&quot;&#10;&#9;&#13;\u{fffd}"
    );
    let doc = format!("<x a=\"{text}\">{}</x>", emit::xml_text("]]> \r\n"));
    let elements = parse_xml(&doc);
    assert_eq!(
        elements[0].attrs["a"],
        "a\u{fffd}[0m\u{fffd}<&>\"\n\t\r\u{fffd}"
    );
    assert_eq!(elements[0].text, "]]> \r\n");
}

// ---------------------------------------------------------------- destinations, CLI

#[test]
fn output_format_destinations() {
    let d: Destination = "sarif=out/report.sarif".parse().unwrap();
    assert_eq!(d.format, ReportFormat::Sarif);
    assert_eq!(d.path, Some(PathBuf::from("out/report.sarif")));
    let d: Destination = "github=-".parse().unwrap();
    assert_eq!(d.path, None);
    assert!("sarif".parse::<Destination>().is_err());
    assert!("sarif=".parse::<Destination>().is_err());
    assert!(
        "xml=a"
            .parse::<Destination>()
            .unwrap_err()
            .contains("rdjson")
    );

    let dest = |s: &str| s.parse::<Destination>().unwrap();
    let human = Destination {
        format: ReportFormat::Human,
        path: None,
    };
    // Line formats share stdout; a document must be alone there; no file twice.
    assert!(emit::check_destinations(&[human.clone(), dest("github=-")], 1).is_ok());
    assert!(emit::check_destinations(&[human.clone(), dest("sarif=-")], 0).is_err());
    assert!(emit::check_destinations(&[dest("json=-")], 1).is_err());
    assert!(
        emit::check_destinations(&[dest("json=-"), dest("sarif=a"), dest("junit=b")], 0).is_ok()
    );
    assert!(emit::check_destinations(&[dest("sarif=a"), dest("junit=a")], 0).is_err());
}

fn pasvlint(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run pasvlint")
}

fn host_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("ftp1/etc");
    std::fs::create_dir_all(etc.join("iptables")).unwrap();
    std::fs::write(etc.join("vsftpd.conf"), VSFTPD_TEXT).unwrap();
    std::fs::write(etc.join("iptables/rules.v4"), IPTABLES_TEXT).unwrap();
    dir
}

#[test]
fn one_run_writes_several_reports() {
    let dir = host_tree();
    let out = pasvlint(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--fail-on",
            "never",
            "--format",
            "json",
            "--output-format",
            "sarif=reports/pasvlint.sarif",
            "--output-format",
            "checkstyle=checkstyle.xml",
            "--output-format",
            "junit=junit.xml",
            "ftp1",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    let findings = json["diagnostics"].as_array().unwrap().len();
    // The report's directory is created.
    let sarif = std::fs::read_to_string(dir.path().join("reports/pasvlint.sarif")).unwrap();
    let log = assert_valid_sarif(&sarif_validator(), &sarif);
    assert_eq!(
        log["runs"][0]["results"].as_array().unwrap().len(),
        findings
    );
    let root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    let checkstyle =
        parse_xml(&std::fs::read_to_string(dir.path().join("checkstyle.xml")).unwrap());
    assert_eq!(count(&checkstyle, "error"), findings);
    let junit = parse_xml(&std::fs::read_to_string(dir.path().join("junit.xml")).unwrap());
    assert_eq!(count(&junit, "failure"), findings);
}

#[test]
fn two_documents_on_stdout_is_a_usage_error() {
    let dir = host_tree();
    let out = pasvlint(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--format",
            "sarif",
            "--output-format",
            "json=-",
            "ftp1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("alone on stdout"));
    let out = pasvlint(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--statistics",
            "ftp1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = pasvlint(
        dir.path(),
        &["check", "--isolated", "--output-format", "sarif", "ftp1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORMAT=PATH"));
}

#[test]
fn human_and_github_share_stdout_and_statistics_follow() {
    let dir = host_tree();
    let out = pasvlint(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-color",
            "--fail-on",
            "never",
            "--output-format",
            "github=-",
            "--statistics",
            "ftp1",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The human report ends with its summary line; annotations, then statistics, follow.
    let summary = stdout
        .find(" in 2 files (1 host)\n")
        .expect("human summary");
    let after: Vec<&str> = stdout[summary..].lines().skip(1).collect();
    let json = pasvlint(
        dir.path(),
        &["check", "--isolated", "--format", "json", "ftp1"],
    );
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = json["diagnostics"].as_array().unwrap();
    assert!(!findings.is_empty());
    let annotations = after.iter().take_while(|l| l.starts_with("::")).count();
    assert_eq!(annotations, findings.len(), "{stdout}");
    let mut rules: Vec<&str> = findings.iter().filter_map(|d| d["rule"].as_str()).collect();
    rules.dedup();
    let statistics: Vec<&str> = after[annotations..]
        .iter()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let mut sorted = statistics.clone();
    sorted.sort();
    rules.sort();
    rules.dedup();
    assert_eq!(sorted, rules, "one statistics row per rule: {stdout}");
}

#[test]
fn quiet_silences_stdout_but_writes_files() {
    let dir = host_tree();
    let out = pasvlint(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--quiet",
            "--fail-on",
            "never",
            "--output-format",
            "gitlab=cq.json",
            "ftp1",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let issues: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cq.json")).unwrap())
            .unwrap();
    assert!(issues.is_array());
}

#[test]
fn statistics_count_per_rule_most_first() {
    let text = emit::statistics::render(&rich_report());
    assert_eq!(
        text,
        "    2  firewall-opens-unused-ports  warning\n\
         \x20   1  passive-ports-blocked        error\n\
         \x20   1  passive-range-too-small      info\n\
         \x20   1  vsftpd-banner-injection      warning\n"
    );
    assert_eq!(emit::statistics::render(&empty_report()), "");
}

/// Whatever the rules find on real trees, every format reads back with one entry per finding.
#[test]
fn every_format_reads_back_on_linted_trees() {
    let dir = host_tree();
    let validator = sarif_validator();
    let catalog = pasvlint::rules::catalog();
    let seeds = support::lint_path(&support::crate_dir().join("fixtures/seeds"));
    let tree = support::lint_path(dir.path());
    for report in [seeds, tree] {
        let n = report.diagnostics.len();
        let log = assert_valid_sarif(&validator, &render(ReportFormat::Sarif, &report, catalog));
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(rules.len() >= catalog.len());
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), n);
        for r in results {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert!(rule["shortDescription"]["text"].is_string(), "{rule}");
        }

        let github = render(ReportFormat::Github, &report, catalog);
        let lines: Vec<&str> = github.lines().collect();
        assert_eq!(lines.len(), n);
        assert!(lines.iter().all(|l| parse_workflow_command(l).is_some()));

        let gitlab: Value =
            serde_json::from_str(&render(ReportFormat::Gitlab, &report, catalog)).unwrap();
        let fps: std::collections::BTreeSet<&str> = gitlab
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(fps.len(), n);

        let rd: Value =
            serde_json::from_str(&render(ReportFormat::Rdjson, &report, catalog)).unwrap();
        assert_eq!(rd["diagnostics"].as_array().unwrap().len(), n);

        let junit = parse_xml(&render(ReportFormat::Junit, &report, catalog));
        assert_eq!(count(&junit, "failure"), n);
        let checkstyle = parse_xml(&render(ReportFormat::Checkstyle, &report, catalog));
        assert_eq!(count(&checkstyle, "error"), n);
    }
}
