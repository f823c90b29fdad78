//! Oracle: the real `terraform fmt -check -no-color FILE` parses every `.tf`
//! fixture and a set of inline texts (it needs no providers or backend). Exit
//! status 2 means the file is not valid HCL; the first `on FILE line N` of its
//! error output is the line Terraform blames. pasvlint's `terraform-syntax-error`
//! must fire exactly on the files Terraform refuses, on the same line. The real
//! program's output is read here, never with pasvlint's reader.

mod support {
    #[allow(dead_code)]
    pub mod claims;
}

use std::path::{Path, PathBuf};
use std::process::Command;
use support::claims;

fn terraform() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("terraform"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("oracle_terraform: terraform is not on PATH (CI=true, so this is a failure)")
        }
        None => {
            eprintln!(
                "skipping oracle_terraform: terraform is not on PATH (set CI=true to make this a failure)"
            );
            None
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "tf") {
            out.push(p);
        }
    }
}

/// Terraform's verdict: `None` when it parses the file, else the line it blames.
fn terraform_blames(terraform: &Path, file: &Path) -> Option<u64> {
    let out = Command::new(terraform)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .args(["fmt", "-check", "-no-color"])
        .arg(file)
        .output()
        .expect("terraform runs");
    match out.status.code() {
        Some(0) | Some(3) => None,
        Some(2) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let line = stderr
                .lines()
                .find_map(|l| {
                    let rest = l.trim().strip_prefix("on ")?;
                    let (_, after) = rest.split_once(" line ")?;
                    after
                        .split(|c: char| !c.is_ascii_digit())
                        .next()?
                        .parse()
                        .ok()
                })
                .unwrap_or_else(|| panic!("{}: no line in {stderr}", file.display()));
            Some(line)
        }
        other => panic!("{}: terraform fmt exited {other:?}", file.display()),
    }
}

/// pasvlint's verdict: `None`, or the line of its terraform-syntax-error.
fn pasvlint_blames(case: &Path, name: &str) -> Option<u64> {
    claims::diagnostics(case)
        .iter()
        .find(|d| {
            d["rule"] == "terraform-syntax-error"
                && d["file"].as_str().is_some_and(|f| f.ends_with(name))
        })
        .map(|d| d["line"].as_u64().unwrap_or(0))
}

/// The disagreements, and how many files Terraform refused.
fn compare(terraform: &Path, files: &[PathBuf]) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut refused = 0;
    for file in files {
        let case = file.parent().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let theirs = terraform_blames(terraform, file);
        refused += usize::from(theirs.is_some());
        let ours = pasvlint_blames(case, &name);
        if theirs != ours {
            failures.push(format!(
                "{}: terraform {}, pasvlint {}",
                file.display(),
                theirs.map_or("parses it".into(), |l| format!("blames line {l}")),
                ours.map_or("reports none".into(), |l| format!("blames line {l}"))
            ));
        }
    }
    (failures, refused)
}

#[test]
fn terraform_fmt_agrees_on_every_tf_fixture() {
    let Some(terraform) = terraform() else {
        return;
    };
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut files,
    );
    assert!(files.len() >= 15, ".tf fixtures: {}", files.len());
    let (failures, refused) = compare(&terraform, &files);
    assert!(refused >= 3, "terraform refused only {refused} fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Texts where a parser first notices an error elsewhere than Terraform blames it,
/// or where parsers differ in what they accept.
const INLINE: &[&str] = &[
    "resource \"a\" \"b\" {\n  ingress {\n    from_port = 21\n",
    "x = [1,\n2\n",
    "x = {\n a = 1\n",
    "resource \"a\" \"b\" {\n  x = <<EOF\nhello\n",
    "a = 1\n}\n",
    "resource \"a\" \"b\" {\n  x = \"${var.a\"\n}\n",
    "resource \"a\" \"b\" {\n  x = 1 y = 2\n}\n",
    "resource \"a\" {\n  x = 1\n  x = 2\n}\n",
    "a = 1 // c\n/* x\n",
    "a = \"x\n",
    "a = \"$${x}\"\nb = \"%%{y}\"\n",
    "a = <<-EOT\n  #!/bin/sh\n  echo $${HOME}\n  EOT\n",
    "locals {\n  a = [for p in [21] : p]\n  b = var.x ? 1 : 2\n}\n",
    "resource \"a\" \"b\" {\n  dynamic \"ingress\" {\n    for_each = [1]\n    content {\n      x = ingress.value\n    }\n  }\n}\n",
    "a = 1\nb = 2 # trailing\n\n\n",
    "resource a b {\n}\n",
    "a = \"\\q\"\n",
    "a = 08\n",
    "a = 1.5e3\nb = -1\nc = !true\n",
    "a = {\n  b = 1,\n  c = 2\n}\n",
    "a = {\n  \"b\" = 1\n  (local.x) = 2\n}\n",
    "a = [\n  1,\n  2,\n]\n",
    "block {\n  nested { x = 1 }\n}\n",
    "block { x = 1\n}\n",
    "a = \"${\"nested\"}\"\n",
    "a = <<EOT\nno close\nEOT2\n",
    "a = 1\n\u{feff}b = 2\n",
    "a = foo(1,2,)\n",
    "a = foo(x...)\n",
    "a = b[0].c[*].d\n",
    "a = \"%{ if true }x\"\n",
    "a = <<EOT\n${\nEOT\n",
    "\u{e9} = 1\n",
    "a = 1 # comment\r\nb = 2\r\n",
    "variable \"x\" {\n  default = \"a\"\n}\nvariable \"x\" {}\n",
    "a = \"${a}${b\"}\"\n",
    "a = 1\nresource \"x\" \"y\" {\n  b = [\n    1\n  }\n",
    "a = (1\n",
    "a = \"x\" \"y\"\n",
    "a = { for k, v in m : k => v }\n",
    "a = <<-EOT\n\tx\n  y\n  EOT\n",
];

#[test]
fn terraform_fmt_agrees_on_inline_texts() {
    let Some(terraform) = terraform() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, text) in INLINE.iter().enumerate() {
        let case = dir.path().join(format!("case{i:02}"));
        std::fs::create_dir_all(&case).unwrap();
        let file = case.join("main.tf");
        std::fs::write(&file, text).unwrap();
        files.push(file);
    }
    let (failures, refused) = compare(&terraform, &files);
    eprintln!(
        "terraform refused {refused} of {} inline texts",
        files.len()
    );
    assert!(
        refused >= 10,
        "terraform refused only {refused} inline texts"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
