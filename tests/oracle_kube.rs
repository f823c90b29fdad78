//! Oracle: the real `kubectl` decodes every Kubernetes manifest among the rule
//! fixtures (`kubectl create --dry-run=client --validate=false -f FILE`, with a
//! server address where nothing listens, so nothing is sent anywhere). A file it
//! refuses while decoding ("error parsing") must get `kube-syntax-error` from
//! pasvlint, and a file it decodes must not. Helm templates (`{{`) are left out:
//! kubectl refuses them unrendered, pasvlint skips them on purpose. The real
//! program's output is read here, never with pasvlint's reader.

mod support {
    #[allow(dead_code)]
    pub mod claims;
    #[allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use std::path::{Path, PathBuf};
use std::process::Command;
use support::claims;
use support::requirements::ready;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Manifests as the oracle tells them: `.yaml`/`.yml` (not compose) with
/// `apiVersion:` and `kind:` lines, no template markers.
fn manifests() -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules"),
        &mut all,
    );
    all.into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_lowercase();
            let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            let compose = name.starts_with("compose.") || name.starts_with("docker-compose");
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let has = |k: &str| text.lines().any(|l| l.starts_with(k));
            yaml && !compose && has("apiVersion:") && has("kind:") && !text.contains("{{")
        })
        .collect()
}

/// Whether kubectl refuses the file's YAML.
fn kubectl_refuses(file: &Path) -> bool {
    let out = Command::new("kubectl")
        .env("KUBECONFIG", "/dev/null")
        .args([
            "create",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "name",
        ])
        .args(["-s", "http://127.0.0.1:9", "-f"])
        .arg(file)
        .output()
        .expect("kubectl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr.contains("error parsing") && stderr.contains("error converting YAML to JSON")
}

#[test]
fn kubectl_agrees_on_every_manifest_fixture() {
    if !ready("oracle_kube", &[], &["kubectl"]) {
        return;
    }
    let files = manifests();
    assert!(files.len() >= 8, "manifest fixtures: {}", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let case = file.parent().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let flagged = claims::diagnostics(case).iter().any(|d| {
            d["rule"] == "kube-syntax-error"
                && d["file"].as_str().is_some_and(|f| f.ends_with(&name))
        });
        let refused = kubectl_refuses(file);
        if refused != flagged {
            failures.push(format!(
                "{}: kubectl {}, pasvlint {}",
                file.display(),
                if refused { "refuses it" } else { "decodes it" },
                if flagged {
                    "reports kube-syntax-error"
                } else {
                    "reports none"
                }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One anchored list of `k` scalars and a list of `m` aliases to it.
fn flat_aliases(k: usize, m: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: &a [{}]\n  b: [{}]\n",
        vec!["x"; k].join(", "),
        vec!["*a"; m].join(", ")
    )
}

/// Two levels: `a1` holds `k` aliases to `a0` (`k` scalars), `b` holds `m` aliases to `a1`.
fn nested_aliases(k: usize, m: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a0: &a0 [{}]\n  a1: &a1 [{}]\n  b: [{}]\n",
        vec!["x"; k].join(", "),
        vec!["*a0"; k].join(", "),
        vec!["*a1"; m].join(", ")
    )
}

/// `m` mappings that each merge a base of `k` keys with `<<: *base`.
fn merged_bases(k: usize, m: usize) -> String {
    let base: String = (0..k).map(|i| format!("    k{i}: v\n")).collect();
    let items: String = (0..m)
        .map(|j| format!("  s{j}:\n    <<: *base\n    own: y\n"))
        .collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nx:\n  base: &base\n{base}{items}"
    )
}

/// go-yaml's excessive-aliasing limit, at its edge: for each shape, the last
/// size kubectl decodes and the first it refuses (found with kubectl 1.32 by
/// bisection), and one either side. pasvlint must refuse exactly what kubectl
/// refuses; the sizes only place the cases near the edge, the verdicts come
/// from kubectl at run time.
#[test]
fn kubectl_agrees_on_the_edge_of_excessive_aliasing() {
    if !ready("oracle_kube", &[], &["kubectl"]) {
        return;
    }
    type Shape = fn(usize, usize) -> String;
    let edges: [(&str, Shape, usize, usize); 4] = [
        ("flat", flat_aliases, 200, 210),
        ("nested", nested_aliases, 12, 58),
        ("nested", nested_aliases, 20, 16),
        ("merged", merged_bases, 150, 1400),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (mut refused_any, mut decoded_any) = (false, false);
    let mut failures = Vec::new();
    for (name, shape, k, edge) in edges {
        for m in [edge - 2, edge - 1, edge, edge + 1] {
            let case = dir.path().join(format!("{name}-{k}-{m}"));
            std::fs::create_dir(&case).unwrap();
            let file = case.join("configmap.yaml");
            std::fs::write(&file, shape(k, m)).unwrap();
            let refused = kubectl_refuses(&file);
            let flagged = claims::diagnostics(&case).iter().any(|d| {
                d["rule"] == "kube-syntax-error"
                    && d["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("excessive aliasing"))
            });
            refused_any |= refused;
            decoded_any |= !refused;
            if refused != flagged {
                failures.push(format!(
                    "{name} k={k} m={m}: kubectl {}, pasvlint {}",
                    if refused { "refuses it" } else { "decodes it" },
                    if flagged { "refuses it" } else { "decodes it" }
                ));
            }
        }
    }
    assert!(refused_any && decoded_any, "the cases missed the edge");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every string kubectl decodes from the file's objects, at any depth: the
/// `data:` values of ConfigMaps, the words of containers' `command`/`args`.
fn decoded_strings(file: &Path) -> Vec<String> {
    // `annotate --local` decodes the file and prints its objects without a
    // cluster (the annotation it adds is one more string, matching nothing).
    let out = Command::new("kubectl")
        .env("KUBECONFIG", "/dev/null")
        .args(["annotate", "--local", "-o", "json", "-f"])
        .arg(file)
        .arg("pasvlint-oracle=1")
        .output()
        .expect("kubectl runs");
    let mut all = Vec::new();
    // One JSON object per created object, or a List: read as a stream.
    for value in serde_json::Deserializer::from_slice(&out.stdout).into_iter::<serde_json::Value>()
    {
        strings(&value.expect("kubectl prints JSON"), &mut all);
    }
    all
}

fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The text of a one-line span of a JSON finding (or related location), the
/// rest of its line after the block indentation, and whether the span starts
/// where a setting or its value does.
fn at_span(text: &str, loc: &serde_json::Value) -> Option<(String, String, bool)> {
    let line = loc["line"].as_u64()? as usize;
    let (col, end) = (
        loc["column"].as_u64()? as usize,
        loc["end_column"].as_u64()? as usize,
    );
    if loc["end_line"].as_u64()? as usize != line {
        return None;
    }
    let l = text.lines().nth(line - 1)?;
    let rest = l.trim_start();
    // A setting's span starts its line or follows its `=`: a shifted column
    // would split a word.
    let start = col - 1;
    let boundary =
        start == l.len() - rest.len() || l.as_bytes().get(start.wrapping_sub(1)) == Some(&b'=');
    let spanned = l.get(start..end - 1)?;
    Some((spanned.to_owned(), rest.to_owned(), boundary))
}

/// Where pasvlint reads a server config from a ConfigMap or a pure-ftpd flag
/// from a container's `command`/`args`, its findings point into the manifest:
/// each location it gives on such a fixture must hold text kubectl decodes
/// there — a line of a ConfigMap value (the whole manifest line after its
/// indentation, so line and column are the embedded text's), or a whole
/// `command`/`args` word (the setting of a vsftpd `-o` word).
#[test]
fn kubectl_decodes_the_embedded_text_pasvlint_points_at() {
    if !ready("oracle_kube", &[], &["kubectl"]) {
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in manifests() {
        let text = std::fs::read_to_string(&file).unwrap();
        let embedded = text.contains("volumeMounts:") && text.contains("kind: ConfigMap");
        let command = text.contains("command:") || text.contains("args:");
        if !embedded && !command {
            continue;
        }
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let decoded = decoded_strings(&file);
        let lines: Vec<&str> = decoded.iter().flat_map(|s| s.lines()).collect();
        for d in claims::diagnostics(file.parent().unwrap()) {
            let rule = d["rule"].as_str().unwrap_or("");
            if !(rule.starts_with("vsftpd-") || rule == "passive-ports-blocked") {
                continue;
            }
            let related = d["related"].as_array().cloned().unwrap_or_default();
            for loc in std::iter::once(&d).chain(related.iter()) {
                if !loc["file"].as_str().is_some_and(|f| f.ends_with(&name)) {
                    continue;
                }
                let Some((spanned, rest, boundary)) = at_span(&text, loc) else {
                    continue;
                };
                // Service ports and keys are not embedded text.
                let in_config =
                    boundary && lines.contains(&rest.as_str()) && rest.contains(&spanned);
                // A whole word, or the setting of a vsftpd `-o` word.
                let a_word = command
                    && (decoded.contains(&spanned) || decoded.contains(&format!("-o{spanned}")));
                if !(in_config || a_word)
                    && (embedded && rest.contains('=') || rule.starts_with("vsftpd-"))
                {
                    failures.push(format!("{}: {rule} points at `{spanned}` on `{rest}`, which kubectl does not decode as one line of a ConfigMap value", file.display()));
                }
                checked += usize::from(in_config || a_word);
            }
        }
    }
    assert!(checked >= 3, "locations checked: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
