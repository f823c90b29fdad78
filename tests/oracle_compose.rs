//! Oracle: Debian's `docker-compose` (1.29) loads every compose fixture with
//! `docker-compose config`. A file it refuses must get `compose-syntax-error`
//! from pasvlint; for a file it loads, the container ports it publishes on the
//! same host port number (TCP, not on loopback) must be exactly what pasvlint's
//! docker-compose layer lets in (the control port 21 counts wherever it is
//! published: its client is told the port). The real program's output is read line by line
//! here, never with pasvlint's reader.

mod support {
    #[allow(dead_code)]
    pub mod claims;
    #[allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::claims;
use support::requirements::ready;

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn compose_file(case: &Path) -> Option<PathBuf> {
    std::fs::read_dir(case)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name.starts_with("compose.") || name.starts_with("docker-compose"))
                && (name.ends_with(".yml") || name.ends_with(".yaml"))
        })
}

/// `-f FILE`, or nothing when the case holds an override file: then
/// `docker-compose` finds the base file and merges the override into it.
fn file_args(case: &Path, file: &Path) -> Vec<String> {
    let overrides = [
        "docker-compose.override.yml",
        "docker-compose.override.yaml",
        "compose.override.yml",
        "compose.override.yaml",
    ];
    if overrides.iter().any(|o| case.join(o).is_file()) {
        return Vec::new();
    }
    vec![
        "-f".into(),
        file.file_name().unwrap().to_str().unwrap().into(),
    ]
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    subdirs(&root)
        .iter()
        .flat_map(|rule| subdirs(rule))
        .filter(|case| compose_file(case).is_some())
        .collect()
}

/// `docker-compose config`'s verdict: `None` when it refuses the file, else the
/// ports a client reaches at the container's own number.
fn real_open(case: &Path, file: &Path) -> Option<BTreeSet<u16>> {
    let out = Command::new("docker-compose")
        .current_dir(case)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .args(file_args(case, file))
        .arg("config")
        .output()
        .expect("docker-compose runs");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // On the host's network Docker publishes nothing (the host's own firewall
    // is in front), and pasvlint has no docker-compose layer for it.
    if text.lines().any(|l| l.trim() == "network_mode: host") {
        return Some(BTreeSet::new());
    }
    let mut open = BTreeSet::new();
    for item in port_items(&text) {
        let get = |k: &str| {
            item.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let (Some(target), Some(published)) = (get("target"), get("published")) else {
            continue;
        };
        let tcp = get("protocol").is_none_or(|p| p == "tcp");
        let loopback = get("host_ip").is_some_and(|ip| ip.starts_with("127.") || ip == "::1");
        // pasvlint's stated rule: the client is told a remapped control port.
        let control = target == "21";
        if tcp && !loopback && (target == published || control) {
            open.insert(target.parse::<u16>().unwrap());
        }
    }
    Some(open)
}

/// The `key: value` pairs of each `- ` item under a `ports:` key.
fn port_items(text: &str) -> Vec<Vec<(String, String)>> {
    let mut items = Vec::new();
    let mut in_ports: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed == "ports:" {
            in_ports = Some(indent);
            continue;
        }
        let Some(base) = in_ports else { continue };
        if indent < base || (indent == base && !trimmed.starts_with("- ")) {
            in_ports = None;
            continue;
        }
        let pair = trimmed.trim_start_matches("- ");
        if trimmed.starts_with("- ") {
            items.push(Vec::new());
        }
        if let (Some(item), Some((k, v))) = (items.last_mut(), pair.split_once(": ")) {
            item.push((
                k.to_owned(),
                v.trim_matches('\'').trim_matches('"').to_owned(),
            ));
        }
    }
    items
}

/// pasvlint's docker-compose layers for the compose file (one per FTP
/// service: each publishes for itself), as ports.
fn claimed_open(case: &Path) -> BTreeSet<u16> {
    let facts = claims::json(&["facts", "--format", "json"], case);
    let mut open = BTreeSet::new();
    for host in facts["hosts"].as_array().unwrap() {
        for layer in host["firewall"]["layers"].as_array().into_iter().flatten() {
            if layer["kind"] != "docker-compose" {
                continue;
            }
            for part in layer["tcp_open_to_all"].as_str().unwrap().split(',') {
                let (lo, hi) = part.split_once('-').unwrap_or((part, part));
                if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
                    // Port 0 is no port a client connects to.
                    open.extend(lo.max(1)..=hi);
                }
            }
        }
    }
    open
}

#[test]
fn docker_compose_agrees_on_every_compose_fixture() {
    if !ready("oracle_compose", &[], &["docker-compose"]) {
        return;
    }
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 10, "compose fixtures: {}", all.len());
    for case in &all {
        let file = compose_file(case).unwrap();
        let refused_by_pasvlint = claims::diagnostics(case)
            .iter()
            .any(|d| d["rule"] == "compose-syntax-error");
        match real_open(case, &file) {
            None if !refused_by_pasvlint => failures.push(format!(
                "{}: docker-compose refuses it, pasvlint reports no compose-syntax-error",
                case.display()
            )),
            None => {}
            Some(_) if refused_by_pasvlint => failures.push(format!(
                "{}: docker-compose loads it, pasvlint reports compose-syntax-error",
                case.display()
            )),
            Some(real) => {
                let claimed = claimed_open(case);
                if real != claimed {
                    let only_real: Vec<&u16> = real.difference(&claimed).take(5).collect();
                    let only_claimed: Vec<&u16> = claimed.difference(&real).take(5).collect();
                    failures.push(format!(
                        "{}: published on their own numbers: docker-compose {} ports, pasvlint {}; only real {only_real:?}, only claimed {only_claimed:?}",
                        case.display(),
                        real.len(),
                        claimed.len()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The words of every service's `command:` and `entrypoint:` as docker-compose
/// 1.29 hands them to Docker: `docker-compose config`, read by PyYAML, a string
/// split by docker-py's own `docker.utils.split_command`.
fn real_command_words(case: &Path, file: &Path) -> Vec<String> {
    let config = Command::new("docker-compose")
        .current_dir(case)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .args(file_args(case, file))
        .arg("config")
        .output()
        .expect("docker-compose runs");
    let script = "import sys, json, yaml\nfrom docker.utils import split_command\nwords = []\nfor s in (yaml.safe_load(sys.stdin) or {}).get('services', {}).values():\n    for k in ('command', 'entrypoint'):\n        v = s.get(k)\n        words += split_command(v) if isinstance(v, str) else (v or [])\nprint(json.dumps([str(w) for w in words]))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&config.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// A finding pasvlint gives on a compose `command:` line points at one whole
/// word of the command as Docker receives it.
#[test]
fn docker_compose_splits_commands_where_pasvlint_points() {
    if !ready("oracle_compose", &[], &["docker-compose", "python3"]) {
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases() {
        let file = compose_file(&case).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("command:") && !text.contains("entrypoint:") {
            continue;
        }
        let words = real_command_words(&case, &file);
        for d in claims::diagnostics(&case) {
            let (Some(line), Some(col), Some(end)) = (
                d["line"].as_u64(),
                d["column"].as_u64(),
                d["end_column"].as_u64(),
            ) else {
                continue;
            };
            let Some(l) = text.lines().nth(line as usize - 1) else {
                continue;
            };
            let key = l.trim_start();
            if !(key.starts_with("command:") || key.starts_with("entrypoint:")) {
                continue;
            }
            let spanned = l.get(col as usize - 1..end as usize - 1).unwrap_or("");
            checked += 1;
            if !words.iter().any(|w| w == spanned) {
                failures.push(format!(
                    "{}: {} points at `{spanned}`, not a word of {words:?}",
                    case.display(),
                    d["rule"]
                ));
            }
        }
    }
    assert!(checked >= 1, "command locations checked: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
