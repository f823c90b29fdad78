//! The CLI contract of DESIGN.md: exit codes, JSON shapes, determinism, README commands.

mod support;

use serde_json::Value;
use std::process::{Command, Output};

fn pasvlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(args)
        .current_dir(support::crate_dir())
        .env_remove("NO_COLOR")
        .output()
        .expect("run pasvlint")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

const SEED: &str = "fixtures/seeds/linux-passive";

#[test]
fn findings_at_or_above_fail_on_exit_1() {
    let out = pasvlint(&["check", "--isolated", SEED, "--fail-on", "warning"]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn fail_on_never_exits_0() {
    assert_eq!(
        code(&pasvlint(&[
            "check",
            "--isolated",
            SEED,
            "--fail-on",
            "never"
        ])),
        0
    );
}

#[test]
fn warnings_alone_pass_the_default_gate() {
    let out = pasvlint(&["check", "--isolated", "--format", "json", SEED]);
    let report = json(&out);
    let errors = report["summary"]["errors"].as_u64().unwrap();
    assert_eq!(code(&out), if errors > 0 { 1 } else { 0 });
}

#[test]
fn missing_path_exits_2() {
    let out = pasvlint(&["check", "--isolated", "fixtures/does-not-exist"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist"));
}

#[test]
fn unknown_rule_and_bad_config_exit_2() {
    assert_eq!(
        code(&pasvlint(&[
            "check",
            "--isolated",
            "--select",
            "no-such-rule",
            SEED
        ])),
        2
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pasvlint.toml");
    std::fs::write(&config, "[rules]\nselcet = [\"x\"]\n").unwrap();
    let out = pasvlint(&["check", "--config", config.to_str().unwrap(), SEED]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("selcet"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&pasvlint(&["check", "--format", "nope"])), 2);
}

#[test]
fn json_report_has_the_contract_fields() {
    let out = pasvlint(&["check", "--isolated", "--format", "json", SEED]);
    let report = json(&out);
    assert_eq!(report["version"], 1);
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        for key in [
            "rule",
            "severity",
            "message",
            "host",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "related",
            "help",
            "fingerprint",
        ] {
            assert!(d.get(key).is_some(), "diagnostic lacks {key}: {d}");
        }
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
    }
    for key in [
        "files",
        "hosts",
        "errors",
        "warnings",
        "infos",
        "suppressed",
    ] {
        assert!(report["summary"][key].is_u64(), "summary lacks {key}");
    }
}

#[test]
fn seed_reports_the_needlessly_opened_ports_in_both_files() {
    let out = pasvlint(&["check", "--isolated", "--format", "json", SEED]);
    let report = json(&out);
    let unused = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "firewall-opens-unused-ports")
        .expect("firewall-opens-unused-ports fires on the seed");
    assert!(
        unused["message"].as_str().unwrap().contains("9987-9990"),
        "{unused}"
    );
    assert_eq!(
        unused["file"],
        "fixtures/seeds/linux-passive/etc/firewall.sh"
    );
    assert_eq!(unused["line"], 3);
    let related = unused["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == "fixtures/seeds/linux-passive/etc/vsftpd.conf"),
        "{unused}"
    );
}

#[test]
fn facts_json_has_the_contract_fields() {
    let out = pasvlint(&["facts", "--isolated", "--format", "json", SEED]);
    assert_eq!(code(&out), 0);
    let facts = json(&out);
    assert_eq!(facts["version"], 1);
    let host = &facts["hosts"][0];
    let ftp = &host["ftp"][0];
    assert_eq!(ftp["server"], "vsftpd");
    assert_eq!(ftp["control_port"], 21);
    assert_eq!(ftp["passive_ports"], "9981-9986");
    assert_eq!(ftp["passive_range_set"], true);
    assert_eq!(ftp["max_sessions"], 2000);
    assert_eq!(ftp["tls"], false);
    let fw = &host["firewall"];
    assert_eq!(fw["default_policy"], "accept");
    assert_eq!(fw["tcp_open_to_all"], "21,9981-9990");
    assert_eq!(fw["ftp_helper"], false);
    assert!(fw["profiles"].is_null(), "iptables has no profiles");
}

#[test]
fn facts_json_gives_windows_profiles_and_shows_public() {
    let case = "fixtures/rules/passive-ports-blocked/bad-legacy-opening-misses-public-profile";
    let out = pasvlint(&["facts", "--isolated", "--format", "json", case]);
    assert_eq!(code(&out), 0);
    let fw = &json(&out)["hosts"][0]["firewall"];
    assert_eq!(fw["profiles"]["domain"], "21,5000-5010");
    assert_eq!(fw["profiles"]["private"], "21,5000-5010");
    assert_eq!(fw["profiles"]["public"], "21");
    assert_eq!(
        fw["tcp_open_to_all"], "21",
        "the public profile when the host's is unknown"
    );
}

/// The one FTP server of a facts fixture host, as `facts --format json` shows it.
fn facts_server(case: &str) -> Value {
    let dir = format!("fixtures/facts/{case}");
    let out = pasvlint(&["facts", "--isolated", "--format", "json", &dir]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let facts = json(&out);
    let servers = facts["hosts"][0]["ftp"]
        .as_array()
        .expect("ftp list")
        .clone();
    assert_eq!(servers.len(), 1, "{case}: {servers:?}");
    servers[0].clone()
}

#[test]
fn facts_json_shows_families_and_user_classes() {
    let cases = [
        (
            "vsftpd-mixed-tls",
            serde_json::json!(["ipv4"]),
            serde_json::json!([
                { "class": "anonymous", "tls": "never" },
                { "class": "local", "tls": "required" },
            ]),
            true,
        ),
        (
            "vsftpd-debian-shipped",
            serde_json::json!(["ipv4", "ipv6"]),
            serde_json::json!([{ "class": "local", "tls": "never" }]),
            false,
        ),
        (
            "vsftpd-ipv4-only",
            serde_json::json!(["ipv4"]),
            serde_json::json!([{ "class": "anonymous", "tls": "never" }]),
            false,
        ),
    ];
    for (case, families, classes, tls) in cases {
        let server = facts_server(case);
        assert_eq!(server["families"], families, "{case}");
        assert_eq!(server["user_classes"], classes, "{case}");
        assert_eq!(server["tls"], tls, "{case}");
    }
}

#[test]
fn facts_json_families_are_null_when_vsftpd_runs_from_inetd() {
    let out = pasvlint(&["facts", "--isolated", "--format", "json", SEED]);
    let ftp = &json(&out)["hosts"][0]["ftp"][0];
    assert_eq!(ftp["families"], Value::Null);
    assert_eq!(
        ftp["user_classes"],
        serde_json::json!([{ "class": "anonymous", "tls": "never" }])
    );
}

#[test]
fn facts_human_names_families_and_user_classes() {
    let out = pasvlint(&["facts", "--isolated", "fixtures/facts/vsftpd-mixed-tls"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("families ipv4, users anonymous (tls never), local (tls required)"),
        "{text}"
    );
}

#[test]
fn facts_json_lists_backups_and_leaves_them_out_of_the_firewall() {
    let tree = "fixtures/rules/passive-ports-blocked/ok-centos-backups-beside-live-firewall";
    let out = pasvlint(&["facts", "--isolated", "--format", "json", tree]);
    assert_eq!(code(&out), 0);
    let facts = json(&out);
    let backup_of = |name: &str| {
        facts["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} is listed"))["backup"]
            .clone()
    };
    assert_eq!(backup_of("sysconfig/iptables.old"), true);
    assert_eq!(backup_of("sysconfig/iptables.save"), true);
    assert_eq!(backup_of("sysconfig/iptables"), false);
    assert_eq!(backup_of("sysconfig/ip6tables"), false);
    let fw = &facts["hosts"][0]["firewall"];
    let files: Vec<&str> = fw["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            format!("{tree}/etc/sysconfig/ip6tables"),
            format!("{tree}/etc/sysconfig/iptables")
        ]
    );
    assert_eq!(fw["tcp_open_to_all"], "21-22,30000-30099");
    assert!(fw["ipv6"].is_object(), "{fw}");
}

#[test]
fn output_is_identical_for_any_jobs() {
    let one = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "json",
        "--jobs",
        "1",
        "fixtures",
    ]);
    let many = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "json",
        "--jobs",
        "4",
        "fixtures",
    ]);
    assert_eq!(one.stdout, many.stdout);
    let human1 = pasvlint(&["check", "--isolated", "--jobs", "1", "fixtures"]);
    let human4 = pasvlint(&["check", "--isolated", "--jobs", "3", "fixtures"]);
    assert_eq!(human1.stdout, human4.stdout);
}

#[test]
fn rules_lists_the_catalog_and_explain_prints_one() {
    let out = pasvlint(&["rules", "--format", "json"]);
    let rules = json(&out);
    let names: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"passive-ports-blocked"));
    assert_eq!(names.len(), pasvlint::rules::registry().len());
    let explain = pasvlint(&["explain", "passive-ports-blocked"]);
    assert_eq!(code(&explain), 0);
    assert!(String::from_utf8_lossy(&explain.stdout).contains("## What it checks"));
    assert_eq!(code(&pasvlint(&["explain", "no-such-rule"])), 2);
}

/// README's first command, as a new user runs it.
#[test]
fn readme_example_command_shows_the_seed_mismatch() {
    let readme = std::fs::read_to_string(support::crate_dir().join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.trim_start().starts_with("cargo run") && l.contains(" check "))
        .expect("README gives a `cargo run ... check` command");
    let args: Vec<&str> = command
        .split(" -- ")
        .nth(1)
        .expect("`--` before pasvlint's args")
        .split_whitespace()
        .collect();
    let out = pasvlint(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("9987-9990"), "{text}");
    assert!(
        readme.contains("cargo test --all-targets"),
        "README names the test command"
    );
}

/// An editor or pre-commit hook pipes a buffer in; the rest of the host comes from disk.
#[test]
fn stdin_is_linted_as_the_named_file_with_its_host() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args([
            "check",
            "--isolated",
            "--format",
            "json",
            "-",
            "--stdin-filename",
        ])
        .arg(format!("{SEED}/etc/vsftpd.conf"))
        .current_dir(support::crate_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"listen=YES\npasv_min_port=9981\npasv_max_port=9999\nmax_clients=5\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = json(&out);
    let blocked = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "passive-ports-blocked")
        .expect("the stdin range is checked against the firewall on disk");
    assert!(
        blocked["message"].as_str().unwrap().contains("9991-9999"),
        "{blocked}"
    );
    assert_eq!(code(&out), 1);
    assert_eq!(
        code(&pasvlint(&["check", "-"])),
        2,
        "stdin needs --stdin-filename"
    );
}

#[test]
fn man_page_and_completions_are_generated() {
    let man = pasvlint(&["man"]);
    assert_eq!(code(&man), 0);
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH pasvlint 1"));
    let bash = pasvlint(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&bash.stdout).contains("pasvlint"));
}

#[test]
fn facts_json_lists_what_each_source_class_reaches_and_the_ipv6_filter() {
    let tree =
        "fixtures/rules/passive-ports-blocked/bad-control-and-range-open-to-different-sources";
    let out = pasvlint(&["facts", "--isolated", "--format", "json", tree]);
    let facts = json(&out);
    let fw = &facts["hosts"][0]["firewall"];
    assert_eq!(fw["tcp_open_to_all"], "");
    assert_eq!(fw["tcp_open_to_some"], "21,40000-40009");
    assert_eq!(
        fw["open_by_source"],
        serde_json::json!([
            { "sources": "10.0.0.0/8", "tcp_open": "40000-40009" },
            { "sources": "198.51.100.0/24", "tcp_open": "21" }
        ])
    );
    assert!(fw["ipv6"].is_null(), "{fw}");

    let tree = "fixtures/rules/passive-ports-blocked/bad-ipv6-rules-block-range";
    let out = pasvlint(&["facts", "--isolated", "--format", "json", tree]);
    let fw = &json(&out)["hosts"][0]["firewall"];
    assert_eq!(fw["tcp_open_to_all"], "21,40000-40009");
    assert_eq!(fw["ipv6"]["tcp_open_to_all"], "21");
    assert_eq!(fw["ipv6"]["default_policy"], "drop");
}

#[test]
fn facts_json_shows_the_passive_address_the_server_announces() {
    let cases = [
        (
            "fixtures/formats/vsftpd/pasv-address",
            Value::from("203.0.113.5"),
        ),
        // vsftpd ignores pasv_address on an IPv6 listener and announces 0,0,0,0.
        ("fixtures/formats/vsftpd/pasv-address-ipv6", Value::Null),
        (
            "fixtures/rules/iis-passive-range-misplaced/ok-apphost-external-ip-only",
            Value::from("203.0.113.10"),
        ),
        ("fixtures/facts/vsftpd-ipv4-only", Value::Null),
    ];
    for (dir, address) in cases {
        let out = pasvlint(&["facts", "--isolated", "--format", "json", dir]);
        let facts = json(&out);
        assert_eq!(
            facts["hosts"][0]["ftp"][0]["passive_address"], address,
            "{dir}"
        );
    }
}

#[test]
fn facts_json_names_the_platform_or_null() {
    let out = pasvlint(&[
        "facts",
        "--isolated",
        "--format",
        "json",
        "fixtures/platform",
    ]);
    let facts = json(&out);
    let hosts = facts["hosts"].as_array().expect("hosts");
    let platform = |name: &str| {
        hosts.iter().find(|h| h["name"] == name).map(|h| {
            (
                h["platform"].clone(),
                h["platform_evidence"]["source"].clone(),
            )
        })
    };
    let (id, source) = platform("fixtures/platform/centos7").expect("centos7 host");
    assert_eq!(id, "rhel-7");
    assert!(
        source
            .as_str()
            .is_some_and(|s| s.contains("etc/redhat-release:1")),
        "{source}"
    );
    let (id, _) = platform("fixtures/platform/rhel-family").expect("rhel-family host");
    assert_eq!(id, Value::Null, "rhel or fedora: the release is unknown");
    let out = pasvlint(&[
        "facts",
        "--isolated",
        "--format",
        "json",
        "fixtures/formats/vsftpd/pasv-address",
    ]);
    assert_eq!(json(&out)["hosts"][0]["platform"], Value::Null);
}

#[test]
fn a_file_over_the_cap_is_read_as_its_program_reads_it_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let big = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &file, text.as_bytes()).unwrap();
        // Sparse: 300 MiB on paper, nothing on disk.
        file.set_len(300 << 20).unwrap();
    };
    big("ftp/vsftpd.conf", "listen=YES\nListen=YES\n");
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unknown directive `Listen`"),
        "vsftpd reads the first 100000 bytes: {stdout}"
    );
    big(
        "fw/etc/iptables/rules.v4",
        "*filter\n:INPUT DROP [0:0]\nCOMMIT\n",
    );
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rules.v4") && stderr.contains("256 MiB"),
        "{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unread input is a usage error"
    );
}

#[test]
fn a_binary_file_under_an_iptables_persistent_name_is_reported_wherever_it_lies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roles/firewall/files/rules.v4");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, vec![0u8; 1 << 20]).unwrap();
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("rules.v4:1:1: error:")
            && stdout.contains("binary data")
            && stdout.contains("[iptables-syntax-error]"),
        "{stdout}"
    );
    assert_eq!(code(&out), 1);
}

#[test]
fn text_reordering_characters_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        "listen=YES\nftpd_banner=hi\u{202e}txt.exe\u{2066}\u{1b}[2J\u{85}\npasv_min_port=0100\n",
    )
    .unwrap();
    for format in ["human", "concise", "github"] {
        let out = pasvlint(&[
            "check",
            "--isolated",
            "--format",
            format,
            conf.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("pasv_min_port"), "{format}: {stdout}");
        for c in ['\u{202e}', '\u{2066}', '\u{1b}', '\u{85}'] {
            assert!(
                !stdout.contains(c),
                "{format} prints U+{:04X}: {stdout}",
                c as u32
            );
        }
    }
}

#[test]
fn gitignored_files_are_skipped_as_rg_skips_them_unless_no_ignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join("build/etc")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/build/\n").unwrap();
    std::fs::write(dir.path().join("build/etc/vsftpd.conf"), "Listen=YES\n").unwrap();
    let root = dir.path().to_str().unwrap();
    let out = pasvlint(&["check", "--isolated", "--format", "concise", root]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--no-ignore",
        "--format",
        "concise",
        root,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("unknown directive `Listen`"), "{stdout}");
}

/// The port map `pasvlint facts --isolated PATH` draws, a line each.
fn port_map(path: &str) -> Vec<String> {
    let out = pasvlint(&["facts", "--isolated", path]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip_while(|l| !l.contains("port map"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn facts_draws_a_port_map_per_host() {
    assert_eq!(
        port_map("fixtures/seeds/linux-passive"),
        [
            "  port map (tcp)      21       9981-9986  9987-9990",
            "    vsftpd hands out  ctl      pasv       .",
            "    iptables ipv4     open     open       open",
            "    verdict           ok       ok         unused",
        ]
    );
    let out = pasvlint(&[
        "facts",
        "--isolated",
        "fixtures/rules/passive-ports-blocked/bad-compose-range-published-short",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("    verdict           ok       ok           BLOCKED"),
        "{stdout}"
    );
}

/// The verdict row agrees with the checks: passive ports only the FTP helper admits
/// are `helper`, not `BLOCKED`, and the port nat redirects to the control port is
/// the one clients use, not `unused`.
#[test]
fn facts_port_map_credits_the_helper_and_the_redirected_control_port() {
    let map = port_map;
    assert_eq!(
        map("fixtures/rules/ftp-helper-not-assigned/ok-helper-on-port-redirected-to-control"),
        [
            "  port map (tcp)      21       2121     50000-50010",
            "    vsftpd hands out  to ctl   ctl      pasv",
            "    iptables ipv4     open     open     -",
            "    verdict           ok       ok       helper",
        ]
    );
    let address = map("fixtures/rules/passive-ports-blocked/bad-pasv-address-not-listen-address");
    assert_eq!(
        address.last().map(String::as_str),
        Some("    verdict           ok       BLOCKED"),
        "the helper records nothing for a PASV reply naming another address"
    );
}

/// A port a single-layer firewall opens only to some clients (here on an
/// interface that may or may not be the clients': measured with nft in a
/// namespace, 21 and 40000-40100 answer through enp2s0 only) is `some` in the
/// firewall's row too, not `-` under a verdict of `some`. The IPv6 row is `-`
/// (neighbour discovery is dropped, so nothing reaches the host over IPv6), but
/// vsftpd's `listen=YES` takes IPv4 clients only, so it does not make the
/// verdict `BLOCKED`.
#[test]
fn facts_port_map_shows_ports_open_to_some_in_the_firewall_row() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("vsftpd.conf"),
        "listen=YES\npasv_min_port=40000\npasv_max_port=40100\nmax_clients=20\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("nftables.conf"),
        "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    iifname \"enp1s0\" tcp dport 22 accept\n    iifname \"enp2s0\" tcp dport 21 accept\n    iifname \"enp2s0\" tcp dport 40000-40100 accept\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(
        port_map(dir.path().to_str().unwrap()),
        [
            "  port map (tcp)      21       22       40000-40100",
            "    vsftpd hands out  ctl      .        pasv",
            "    nftables ipv4     some     some     some",
            "    nftables ipv6     -        -        -",
            "    verdict           some     unused   some",
        ]
    );
}

/// `explain RULE --for FILE:LINE` shows the finding there (found through any of its
/// labels, in either file), its host's port map and the rule's text; a line with no
/// such finding is a usage error naming where the rule did report.
#[test]
fn explain_for_a_finding_draws_its_port_map() {
    const CASE: &str = "fixtures/rules/passive-ports-blocked/bad-policy-drop-no-range-rule";
    let conf = format!("{CASE}/etc/vsftpd.conf");
    let rules = format!("{CASE}/etc/iptables/rules.v4");
    let explain = |at: &str| {
        pasvlint(&[
            "explain",
            "passive-ports-blocked",
            "--isolated",
            "--for",
            at,
            CASE,
        ])
    };
    for at in [format!("{conf}:15"), format!("{rules}:3")] {
        let out = explain(&at);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let finding = stdout
            .find("all 10 passive ports 40000-40009 are blocked")
            .unwrap();
        let map = stdout
            .find("    verdict           ok       unused   BLOCKED")
            .unwrap();
        let docs = stdout.find("## What it checks").unwrap();
        assert!(finding < map && map < docs, "{stdout}");
    }
    let out = explain(&format!("{conf}:14"));
    assert_eq!(code(&out), 0, "a related label's line counts too");
    let out = explain(&format!("{conf}:1"));
    assert_eq!(code(&out), 2);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("pasvlint: no passive-ports-blocked finding at {conf}:1; it reports at {conf}:15")
    );
    assert_eq!(code(&explain("vsftpd.conf")), 2, "FILE:LINE is required");
}

/// Paths a repository can hold: a symlink loop and a symlink out of the tree are
/// not followed (as rg does not), a name that is not UTF-8 is still recognised, and
/// a name with a line break cannot forge a line of a line-oriented report.
#[test]
fn hostile_paths_are_walked_safely_and_shown_escaped() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("vsftpd.conf"), "Listen=YES\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("vsftpd.conf"),
        root.join("a/vsftpd.conf"),
    )
    .unwrap();
    // A link under a name no format reads (`/etc/alternatives/awk`) is not worth a note.
    std::os::unix::fs::symlink(outside.path().join("vsftpd.conf"), root.join("a/awk")).unwrap();
    let raw = root.join(OsStr::from_bytes(b"raw\xff"));
    std::fs::create_dir_all(raw.join("etc")).unwrap();
    std::fs::write(
        raw.join(OsStr::from_bytes(b"etc/vsftpd\xfe.conf")),
        "Listen=YES\n",
    )
    .unwrap();
    let forged = root.join("x\n1:1: error: forged [vsftpd-unknown-directive]\nx");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::write(forged.join("vsftpd.conf"), "Listen=YES\n").unwrap();
    let root = root.to_str().unwrap();

    let out = pasvlint(&["check", "--isolated", "--format", "concise", root]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let unknown: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("[vsftpd-unknown-directive]"))
        .collect();
    assert_eq!(
        unknown.len(),
        2,
        "the raw and the forged-name configs only: {stdout}"
    );
    assert!(
        unknown
            .iter()
            .any(|l| l.contains("/raw\u{fffd}/etc/vsftpd\u{fffd}.conf:1:1: error"))
    );
    assert!(
        unknown.iter().all(|l| l.starts_with(root)),
        "no line starts where a path's line break would: {stdout}"
    );
    assert!(stdout.contains("/x?1:1: error: forged [vsftpd-unknown-directive]?x/vsftpd.conf:1:1"));
    // The links are said, not followed: the escape and the loop each get a note,
    // the link named `awk` none.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains(": note: ")).collect();
    assert_eq!(notes.len(), 2, "{stderr}");
    assert!(notes.iter().any(
        |l| l.contains("/a/vsftpd.conf: a symlink to the file ") && l.contains("not followed")
    ));
    assert!(
        notes
            .iter()
            .any(|l| l.contains("/a/loop: a symlink to the directory .."))
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "notes do not make the run fail: {stderr}"
    );

    let json = json(&pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "json",
        root,
    ]));
    let files: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.contains("forged [vsftpd-unknown-directive]\nx/")),
        "JSON keeps the exact path: {files:?}"
    );
}

/// pasvlint reads and never writes what it checks: after `check` in every format,
/// `facts` and `--diff`, every fixture file has the same bytes, modification time
/// and permissions, and no file was added or removed.
#[test]
fn checking_never_writes_to_what_it_reads() {
    type Entry = (std::path::PathBuf, Vec<u8>, std::time::SystemTime, u32);
    fn snapshot(dir: &std::path::Path) -> Vec<Entry> {
        use std::os::unix::fs::PermissionsExt;
        let mut files: Vec<Entry> = walk(dir)
            .into_iter()
            .map(|p| {
                let meta = std::fs::symlink_metadata(&p).unwrap();
                let bytes = if meta.is_file() {
                    std::fs::read(&p).unwrap()
                } else {
                    Vec::new()
                };
                (
                    p,
                    bytes,
                    meta.modified().unwrap(),
                    meta.permissions().mode(),
                )
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }
    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
        out
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("fixtures");
    std::fs::create_dir_all(&copy).unwrap();
    // Servers, firewalls of every family, Windows files and fixable findings.
    for case in [
        "fixtures/seeds",
        "fixtures/rules/passive-ports-blocked",
        "fixtures/rules/vsftpd-unknown-directive",
        "fixtures/rules/vsftpd-bad-boolean",
    ] {
        let status = Command::new("cp")
            .args(["-a", case, copy.to_str().unwrap()])
            .current_dir(support::crate_dir())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let before = snapshot(&copy);
    assert!(before.len() > 200, "the fixtures were copied");
    let root = copy.to_str().unwrap();
    for format in [
        "human",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "checkstyle",
        "rdjson",
    ] {
        pasvlint(&[
            "check",
            "--isolated",
            "--format",
            format,
            "--fail-on",
            "never",
            root,
        ]);
    }
    pasvlint(&["facts", "--isolated", "--format", "json", root]);
    pasvlint(&["check", "--isolated", "--diff", "--unsafe-fixes", root]);
    let after = snapshot(&copy);
    assert_eq!(before.len(), after.len(), "no file added or removed");
    for (a, b) in before.iter().zip(&after) {
        assert!(a == b, "{} changed", a.0.display());
    }
}

/// `[limits]` in pasvlint.toml sets the budgets: a loop the default budget
/// follows to its end is stopped at a smaller one, with the key to raise; a file
/// over `file_bytes` is reported unread; a limit too small to be useful is a
/// config error naming its line.
#[test]
fn limits_come_from_pasvlint_toml() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("firewall.sh"),
        "#!/bin/sh\ni=0\nwhile [ $i -lt 3000 ]; do i=$((i+1)); done\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\n",
    )
    .unwrap();
    let dump = format!(
        "*filter\n:INPUT DROP [0:0]\n{}COMMIT\n",
        "-A INPUT -p tcp --dport 21 -j ACCEPT\n".repeat(100)
    );
    std::fs::write(root.join("rules.v4"), dump).unwrap();
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pasvlint"))
            .args(["check", "--format", "concise"])
            .arg(root)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (default_run, _, _) = run();
    assert!(
        !default_run.contains("script-limit-reached"),
        "{default_run}"
    );
    std::fs::write(
        root.join("pasvlint.toml"),
        "[limits]\nscript_steps = 1000\nfile_bytes = 2048\n",
    )
    .unwrap();
    let (small, errors, _) = run();
    assert!(
        small.contains("1,000 steps reached") && small.contains("[script-limit-reached]"),
        "{small}"
    );
    assert!(
        errors.contains("rules.v4") && errors.contains("over the 2048 bytes"),
        "{errors}"
    );
    std::fs::write(root.join("pasvlint.toml"), "[limits]\n\nscript_steps = 5\n").unwrap();
    let (_, errors, code) = run();
    assert_eq!(code, Some(2), "{errors}");
    assert!(
        errors.contains("line 3") && errors.contains("script_steps = 5: must be at least 1000"),
        "{errors}"
    );
}

/// Terminal controls (ESC, BEL, the C1 CSI), a bidirectional override and a
/// NUL written into a config, where findings quote them: no line-oriented
/// output carries them (`check` in each text format, `explain --for`, `facts`),
/// and each machine format still parses, with the name quoted as the message quotes it.
#[test]
fn control_characters_in_values_reach_no_output_raw() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    let name = "Pasv\u{1b}[2J\u{7}\u{9b}31m\u{202e}_enable";
    std::fs::write(
        &conf,
        format!("listen=YES\n{name}=YES\nanonymous_enable=YES\u{7}\u{0}\n"),
    )
    .unwrap();
    let conf_arg = conf.to_str().unwrap();
    let raw = |s: &str| {
        s.chars().find(|&c| {
            matches!(
                c,
                '\u{0}' | '\u{7}' | '\u{1b}' | '\u{80}'..='\u{9f}' | '\u{202e}'
            )
        })
    };
    let texts = human_outputs(conf_arg);
    for (what, out) in &texts {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let shown = if what == "facts" { "vsftpd" } else { "_enable" };
        assert!(stdout.contains(shown), "{what}: {stdout}");
        assert_eq!(raw(&stdout), None, "{what} prints a control: {stdout:?}");
        assert_eq!(
            raw(&String::from_utf8_lossy(&out.stderr)),
            None,
            "{what} stderr"
        );
    }
    for format in ["json", "sarif", "rdjson", "gitlab"] {
        let out = pasvlint(&["check", "--isolated", "--format", format, conf_arg]);
        let value: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{format} is not JSON: {e}"));
        assert!(
            value.to_string().contains("Pasv\\\\x1B[2J\\\\x07"),
            "{format} quotes the name as the message does: {value}"
        );
    }
    for format in ["junit", "checkstyle"] {
        let out = pasvlint(&["check", "--isolated", "--format", format, conf_arg]);
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let mut reader = quick_xml::Reader::from_str(&text);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{format} is not XML: {e}\n{text}"),
            }
        }
        let forbidden = text
            .chars()
            .find(|&c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'));
        assert_eq!(forbidden, None, "{format} carries a control XML forbids");
    }
}

/// A named pipe under a config's name (reading it would block for ever) and a
/// link given directly to a device are reported, never read; the run ends.
#[test]
fn pipes_and_devices_under_config_names_are_reported_unread() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let fifo = etc.join("vsftpd.conf");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let device = dir.path().join("rules.v4");
    std::os::unix::fs::symlink("/dev/zero", &device).unwrap();
    for target in [dir.path(), device.as_path()] {
        let out = pasvlint(&["check", "--isolated", target.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 2, "{stderr}");
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}

#[test]
fn facts_json_says_why_each_file_joined_its_host() {
    let why = |dir: &str| -> Vec<(String, String)> {
        // The folder's own pasvlint.toml, if any, and no other.
        let config = format!("{dir}/pasvlint.toml");
        let config_args = match std::path::Path::new(&config).is_file() {
            true => vec!["--config", config.as_str()],
            false => vec!["--isolated"],
        };
        let args = [&["facts", "--format", "json"][..], &config_args, &[dir]].concat();
        let facts = json(&pasvlint(&args));
        facts["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["joined"].as_array().unwrap().clone())
            .map(|j| {
                let file = j["file"].as_str().unwrap();
                let name = file.rsplit('/').next().unwrap().to_owned();
                (name, j["why"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let compose = why("fixtures/rules/passive-ports-blocked/bad-compose-mounted-config");
    assert_eq!(compose.len(), 2, "{compose:?}");
    assert_eq!(
        compose[0],
        (
            "compose.yaml".into(),
            "holds the FTP server and its firewall".into()
        )
    );
    assert_eq!(compose[1].0, "vsftpd.conf");
    assert!(
        compose[1]
            .1
            .starts_with("mounted, copied or read into a container by ")
            && compose[1].1.ends_with("/compose.yaml"),
        "{compose:?}"
    );
    let examples = why("fixtures/rules/pairing-spans-folders/bad-examples-folder");
    let server = examples.iter().find(|(f, _)| f == "a.conf").unwrap();
    assert!(
        server
            .1
            .starts_with("FTP server; pairs with the firewalls under ")
            && server.1.contains("/examples/,"),
        "{server:?}"
    );
    let firewall = examples.iter().find(|(f, _)| f == "a.sh").unwrap();
    assert!(
        firewall
            .1
            .starts_with("firewall of the FTP servers paired at "),
        "{firewall:?}"
    );
    let hosts = why("fixtures/rules/pairing-spans-folders/ok-paired-in-hosts");
    assert_eq!(hosts.len(), 4);
    assert!(
        hosts
            .iter()
            .all(|(_, w)| w == "named by a [[hosts]] entry in pasvlint.toml"),
        "{hosts:?}"
    );
}

/// A carriage return inside a config value (here inside a directive's name, which
/// the finding quotes) reaches no human-readable output raw: it would send the
/// cursor back and let the rest of the line overwrite what was printed. A CRLF
/// line end is a finding of its own, and its CR is not printed either.
#[test]
fn carriage_returns_in_values_reach_no_human_output_raw() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        "listen=YES\nPasv\r_enable=YES\npasv_enable=YES\r\nftpd_banner=a\rb\n",
    )
    .unwrap();
    let conf_arg = conf.to_str().unwrap();
    let runs = human_outputs(conf_arg);
    for (what, out) in &runs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        if what != "facts" {
            assert!(stdout.contains("_enable"), "{what}: {stdout}");
        }
        assert!(!stdout.contains('\r'), "{what} prints a CR: {stdout:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains('\r'),
            "{what} stderr"
        );
    }
}

/// A line break inside a value a finding quotes (a shell string holding one, passed
/// as a port) cannot start a line of its own in the one-line-per-finding format.
#[test]
fn line_breaks_in_values_cannot_forge_a_concise_line() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("vsftpd.conf"), "listen=YES\n").unwrap();
    std::fs::write(
        etc.join("firewall.sh"),
        "#!/bin/sh\niptables -A INPUT -p tcp --dport \"21\r\nforged\" -j ACCEPT\n",
    )
    .unwrap();
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("invalid port/service `21??forged' specified [iptables-syntax-error]"),
        "{stdout}"
    );
    let root = dir.path().to_str().unwrap();
    assert!(
        stdout.lines().all(|l| l.starts_with(root)),
        "every line is a finding: {stdout}"
    );
}

/// Values that break a report format if copied into it unescaped: a workflow
/// command (`%0A::error::`), XML markup and a CDATA end, JSON quotes. The GitHub
/// annotations stay one command each, whose text decodes back to the value; the
/// XML and JSON formats parse and carry the value exactly.
#[test]
fn format_breaking_values_stay_inside_their_finding() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    let name = "x%0A::error::forged<&'\"]]>\\";
    std::fs::write(&conf, format!("listen=YES\n{name}=YES\n")).unwrap();
    let conf_arg = conf.to_str().unwrap();
    let run = |format: &str| pasvlint(&["check", "--isolated", "--format", format, conf_arg]);
    let github = String::from_utf8(run("github").stdout).unwrap();
    for line in github.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "only annotations, each on one line: {github}"
        );
    }
    let unknown = github
        .lines()
        .find(|l| l.contains("title=vsftpd-unknown-directive::"))
        .unwrap();
    let text = unknown.split_once("::vsftpd").map(|(_, t)| t).unwrap();
    let decoded = text
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%");
    assert!(decoded.contains(&format!("`{name}`")), "{unknown}");
    for format in ["json", "sarif", "rdjson", "gitlab"] {
        let value: Value = serde_json::from_slice(&run(format).stdout)
            .unwrap_or_else(|e| panic!("{format} is not JSON: {e}"));
        let quoted = serde_json::to_string(&format!("`{name}`")).unwrap();
        let quoted = quoted.trim_matches('"');
        assert!(value.to_string().contains(quoted), "{format}: {value}");
    }
    for format in ["junit", "checkstyle"] {
        let text = String::from_utf8(run(format).stdout).unwrap();
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut found = false;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                    for a in e.attributes().flatten() {
                        let v = a.unescape_value().unwrap();
                        found |= v.contains(&format!("`{name}`"));
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("{format} is not XML: {e}\n{text}"),
            }
        }
        assert!(found, "{format} carries the name exactly: {text}");
    }
}

/// A file and a directory the user running pasvlint cannot read are reported by
/// name on stderr and make the run a usage error (exit 2); the readable config
/// beside them is still linted. As root (which reads any file) pasvlint runs as
/// `nobody` for this.
#[test]
fn unreadable_files_and_directories_are_reported_by_name() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("locked")).unwrap();
    for f in ["vsftpd.conf", "etc/vsftpd.conf", "locked/vsftpd.conf"] {
        std::fs::write(root.join(f), "Listen=YES\n").unwrap();
    }
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(".", 0o755);
    mode("etc", 0o755);
    mode("etc/vsftpd.conf", 0o000);
    mode("locked", 0o000);
    let mut command = Command::new(env!("CARGO_BIN_EXE_pasvlint"));
    command
        .args(["check", "--isolated", "--format", "concise"])
        .arg(root)
        .current_dir("/");
    if std::fs::read(root.join("etc/vsftpd.conf")).is_ok() {
        // Root, or a capability that bypasses file permissions.
        command.uid(65534).gid(65534);
    }
    let out = command.output().unwrap();
    mode("locked", 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = root.join("etc/vsftpd.conf");
    let locked = root.join("locked");
    assert!(
        stderr.contains(&format!(
            "cannot read {}: Permission denied",
            file.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "cannot read {}: Permission denied",
            locked.display()
        )),
        "{stderr}"
    );
    let top = root.join("vsftpd.conf");
    assert!(
        stdout.contains(&format!("{}:1:1: error:", top.display()))
            && stdout.contains("unknown directive `Listen`"),
        "{stdout}"
    );
    assert_eq!(code(&out), 2, "{stderr}");
}

/// A DOCTYPE's entities are never expanded (ten levels of tenfold references, a
/// billion `a`s expanded) nor fetched (an external entity naming a file beside the
/// tree): the references stay as written in the findings, the file's text appears
/// nowhere, and the run ends at once.
#[test]
fn xml_entities_are_neither_expanded_nor_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "SECRET-7f3a\n").unwrap();
    let tree = dir.path().join("tree");
    let mut dtd = String::from("  <!ENTITY l0 \"aaaaaaaaaa\">\n");
    for i in 1..=9 {
        let refs = format!("&l{};", i - 1).repeat(10);
        dtd.push_str(&format!("  <!ENTITY l{i} \"{refs}\">\n"));
    }
    dtd.push_str(&format!(
        "  <!ENTITY secret SYSTEM \"file://{}\">\n",
        secret.display()
    ));
    let filezilla = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE FileZillaServer [\n{dtd}]>\n<FileZillaServer>\n<Settings>\n\
         <Item name=\"Use custom PASV ports\" type=\"numeric\">1</Item>\n\
         <Item name=\"Custom PASV min port\" type=\"numeric\">&l9;</Item>\n\
         <Item name=\"Custom PASV max port\" type=\"numeric\">&secret;</Item>\n\
         </Settings>\n</FileZillaServer>\n"
    );
    let path = tree.join("FileZilla Server/FileZilla Server.xml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, filezilla).unwrap();
    let started = std::time::Instant::now();
    let tree_arg = tree.to_str().unwrap();
    let check = pasvlint(&["check", "--isolated", "--format", "json", tree_arg]);
    let facts = pasvlint(&["facts", "--isolated", "--format", "json", tree_arg]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("`&l9;` is not digits only")
            && text.contains("`&secret;` is not digits only"),
        "{text}"
    );
    for out in [&check, &facts] {
        for stream in [&out.stdout, &out.stderr] {
            let s = String::from_utf8_lossy(stream);
            assert!(
                !s.contains("SECRET-7f3a") && !s.contains("aaaaaaaaaaa"),
                "{s}"
            );
        }
    }
}

/// Binary bytes (NULs, then random bytes) under each format's file name: every
/// run ends without a panic, no control byte of the input reaches the terminal,
/// and each file whose name commits it to a format that has a syntax check (or
/// whose lines the server reads one by one) is reported, not skipped silently.
#[test]
fn binary_files_under_format_names_are_reported_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // A fixed pseudo-random stream (an LCG), so the test is the same every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes = vec![0u8; 16];
    bytes.extend((0..65_536).map(|_| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 56) as u8
    }));
    let reported = [
        "etc/vsftpd.conf",
        "etc/proftpd/proftpd.conf",
        "etc/pure-ftpd/pure-ftpd.conf",
        "etc/nftables.conf",
        "etc/iptables/rules.v6",
        "etc/ufw/user.rules",
        "etc/firewalld/zones/public.xml",
        "inetsrv/config/applicationHost.config",
        "ftp.reg",
        "compose.yaml",
        "manifests/site.pp",
    ];
    let others = [
        "FileZilla Server/FileZilla Server.xml",
        "firewall.sh",
        "setup.ps1",
        "setup.cmd",
        "k8s/service.yaml",
        "Dockerfile",
    ];
    for name in reported.iter().chain(&others) {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
    }
    let root = dir.path().to_str().unwrap();
    for format in ["concise", "human"] {
        let out = pasvlint(&["check", "--isolated", "--format", format, root]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 1, "{format}: {stderr}");
        let raw = stdout
            .chars()
            .find(|&c| !matches!(c, '\n' | '\t') && c.is_control());
        assert_eq!(raw, None, "{format} prints a control byte");
        if format == "concise" {
            for name in reported {
                assert!(
                    stdout.contains(&format!("{root}/{name}:")),
                    "{name} is not reported: {stdout}"
                );
            }
        }
    }
}

/// Every output meant for people, for a vsftpd.conf whose line 2 holds a finding:
/// the three text formats, `explain --for` that line, and `facts`.
fn human_outputs(conf_arg: &str) -> Vec<(String, Output)> {
    let at = format!("{conf_arg}:2");
    let mut runs: Vec<(String, Output)> = ["human", "concise", "github"]
        .iter()
        .map(|f| {
            let out = pasvlint(&["check", "--isolated", "--format", f, conf_arg]);
            (format!("check --format {f}"), out)
        })
        .collect();
    runs.push((
        "explain --for".into(),
        pasvlint(&[
            "explain",
            "vsftpd-unknown-directive",
            "--for",
            &at,
            "--isolated",
            conf_arg,
        ]),
    ));
    runs.push(("facts".into(), pasvlint(&["facts", "--isolated", conf_arg])));
    runs
}
