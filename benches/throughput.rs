//! Throughput benchmark: pasvlint against the floors and the tools a user would
//! otherwise reach for, on the same corpus, in one run (BENCHMARKS.md).
//!
//! `cargo bench --bench throughput` generates (once) under `target/bench-corpus/`
//! an infra tree (HOSTS host folders of every format pasvlint reads, from the rule
//! fixtures, plus UNRELATED noise files: source, docs, unrelated YAML/JSON, web
//! configs, binaries, a vendored `node_modules`, a `.git` store) and iptables dumps
//! of three shapes. It then times, warm cache, best of RUNS with the commands
//! interleaved so load hits all alike:
//! - `pasvlint check --format json` on the tree; `rg` for the same key words (the
//!   read-and-match floor); `cat` of the files pasvlint recognised (the I/O floor);
//!   Semgrep generic-mode rules for the same checks, when `semgrep` is installed;
//! - peak RSS, and `--jobs 1` output identity;
//! - `pasvlint facts` on each dump at 1/100, 1/10 and all of DUMP_RULES: time per
//!   rule against the smallest, peak RSS against the file, `rg -c` as a floor.
//!
//! It prints a Markdown table (also written to `target/bench-corpus/results.md`).
//! Sizes: PASVLINT_BENCH_HOSTS, PASVLINT_BENCH_UNRELATED, PASVLINT_BENCH_DUMP_RULES;
//! PASVLINT_BENCH_RUNS.

mod corpus;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const KEY_WORDS: &str = "pasv_|listen_port|PassivePort|COMMIT|-A INPUT|dport|netsh|ports:";

fn main() {
    // `cargo test --all-targets` runs bench targets too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped (run it with `cargo bench --bench throughput`)");
        return;
    }
    let hosts = env_or("PASVLINT_BENCH_HOSTS", 10_000);
    let unrelated = env_or("PASVLINT_BENCH_UNRELATED", 50_000);
    let dump_rules = env_or("PASVLINT_BENCH_DUMP_RULES", 1_000_000);
    let runs = env_or("PASVLINT_BENCH_RUNS", 5);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("target/bench-corpus");
    let tree = root.join(format!("tree2-{hosts}-{unrelated}"));
    if !tree.exists() {
        corpus::generate_tree(&tree, &manifest.join("fixtures"), hosts, unrelated);
    }
    let bin = corpus::release_binary();
    let mut table = String::new();
    let _ = writeln!(table, "{}\n", machine());
    tree_section(&mut table, &bin, &tree, hosts, unrelated, runs);
    dump_section(&mut table, &bin, &root, dump_rules, runs);
    println!("{table}");
    let _ = std::fs::write(root.join("results.md"), &table);
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("machine: {cpus} cores, {model}")
}

/// The tree: pasvlint against rg, cat and Semgrep, interleaved.
fn tree_section(
    table: &mut String,
    bin: &Path,
    tree: &Path,
    hosts: usize,
    unrelated: usize,
    runs: usize,
) {
    let recognised = recognised_files(bin, tree);
    let list = tree.with_extension("recognised");
    std::fs::write(&list, recognised.join("\0")).unwrap();
    let size = du_mb(tree);
    let _ = writeln!(
        table,
        "tree: {hosts} hosts + {unrelated} unrelated files, {size:.0} MB; pasvlint recognises {} files\n",
        recognised.len()
    );
    let pasvlint = Timed::new(
        "pasvlint check --format json",
        bin,
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--fail-on",
            "never",
            ".",
        ],
    );
    let mut contenders = vec![pasvlint];
    if let Some(rg) = which("rg") {
        contenders.push(Timed::new(
            "rg -c (same key words)",
            &rg,
            &["-c", "--no-messages", KEY_WORDS, "."],
        ));
    }
    let cat = format!("xargs -0 cat < '{}' > /dev/null", list.display());
    contenders.push(Timed::new(
        "cat of the recognised files",
        Path::new("/bin/sh"),
        &["-c", &cat],
    ));
    interleave(&mut contenders, tree, runs);
    if let Some(semgrep) = which("semgrep") {
        let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/semgrep.yml");
        let rules = rules.to_string_lossy().into_owned();
        let mut s = vec![Timed::new(
            "semgrep (generic rules, one run)",
            &semgrep,
            &[
                "scan",
                "--config",
                &rules,
                "--metrics=off",
                "--quiet",
                "--jobs",
                "2",
                ".",
            ],
        )];
        interleave(&mut s, tree, 1);
        contenders.extend(s);
    }
    let base = contenders[0].best;
    let _ = writeln!(
        table,
        "| command | best of {runs} | pasvlint ÷ command |\n|---|---|---|"
    );
    for c in &contenders {
        let _ = writeln!(
            table,
            "| {} | {:.3} s | {:.2} |",
            c.label,
            c.best.as_secs_f64(),
            base.as_secs_f64() / c.best.as_secs_f64()
        );
    }
    let rss = peak_rss_kb(
        bin,
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--fail-on",
            "never",
            ".",
        ],
        tree,
    );
    let _ = writeln!(
        table,
        "\npeak RSS of pasvlint check: {}",
        rss.map_or("n/a".to_owned(), |k| format!("{:.0} MB", k as f64 / 1e3))
    );
    let _ = writeln!(
        table,
        "`--jobs 1` output identical to the default: {}\n",
        jobs_identical(bin, tree)
    );
}

/// Each dump shape at 1/100, 1/10 and all of `rules`.
fn dump_section(table: &mut String, bin: &Path, root: &Path, rules: usize, runs: usize) {
    let _ = writeln!(
        table,
        "| dump | rules | MB | pasvlint facts | time per rule ÷ smallest | rg -c ACCEPT | pasvlint ÷ rg | peak RSS ÷ file |\n|---|---|---|---|---|---|---|---|"
    );
    for shape in ["fail2ban", "fail2ban-ipv6", "kube-proxy"] {
        let mut base_per_rule = None;
        for n in [rules / 100, rules / 10, rules] {
            let dump = root.join(format!("dump-{shape}-{n}.rules"));
            if !dump.exists() {
                match shape {
                    "fail2ban" => corpus::generate_fail2ban_dump(&dump, n),
                    "fail2ban-ipv6" => corpus::generate_fail2ban_dump_v6(&dump, n),
                    _ => corpus::generate_kube_dump(&dump, n),
                }
            }
            let size = std::fs::metadata(&dump).map_or(0, |m| m.len());
            let path = dump.to_string_lossy().into_owned();
            let mut contenders = vec![Timed::new(
                "facts",
                bin,
                &["facts", "--isolated", "--format", "json", &path],
            )];
            if let Some(rg) = which("rg") {
                contenders.push(Timed::new("rg", &rg, &["-c", "ACCEPT", &path]));
            }
            interleave(&mut contenders, root, runs);
            let facts = contenders[0].best.as_secs_f64();
            let per_rule = facts / n as f64;
            let base = *base_per_rule.get_or_insert(per_rule);
            let grep = contenders.get(1).map(|c| c.best.as_secs_f64());
            let rss = peak_rss_kb(
                bin,
                &["facts", "--isolated", "--format", "json", &path],
                root,
            );
            let _ = writeln!(
                table,
                "| {shape} | {n} | {:.1} | {facts:.3} s | {:.2} | {} | {} | {} |",
                size as f64 / 1e6,
                per_rule / base,
                grep.map_or("n/a".to_owned(), |g| format!("{g:.3} s")),
                grep.map_or("n/a".to_owned(), |g| format!("{:.2}", facts / g)),
                rss.map_or("n/a".to_owned(), |k| format!(
                    "{:.2}",
                    k as f64 * 1e3 / size as f64
                )),
            );
        }
    }
}

struct Timed {
    label: String,
    program: PathBuf,
    args: Vec<String>,
    best: Duration,
}

impl Timed {
    fn new(label: &str, program: &Path, args: &[&str]) -> Timed {
        Timed {
            label: label.to_owned(),
            program: program.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            best: Duration::MAX,
        }
    }

    fn run(&self, dir: &Path) -> Duration {
        let start = Instant::now();
        let status = Command::new(&self.program)
            .args(&self.args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run");
        let took = start.elapsed();
        assert!(
            status.code().is_some_and(|c| c <= 1),
            "{} failed",
            self.label
        );
        took
    }
}

/// One warm-up run each, then `runs` rounds of each command in turn.
fn interleave(contenders: &mut [Timed], dir: &Path, runs: usize) {
    for c in contenders.iter() {
        c.run(dir);
    }
    for _ in 0..runs {
        for c in contenders.iter_mut() {
            c.best = c.best.min(c.run(dir));
        }
    }
}

fn recognised_files(bin: &Path, tree: &Path) -> Vec<String> {
    let out = Command::new(bin)
        .args(["facts", "--isolated", "--format", "json", "."])
        .current_dir(tree)
        .output()
        .expect("facts");
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("facts json");
    facts["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["path"].as_str().map(str::to_owned))
                // Documents that scripts write are not on disk.
                .filter(|p| tree.join(p).is_file())
                .collect()
        })
        .unwrap_or_default()
}

fn jobs_identical(bin: &Path, tree: &Path) -> bool {
    let out = |jobs: Option<&str>| {
        let mut cmd = Command::new(bin);
        cmd.args([
            "check",
            "--isolated",
            "--format",
            "json",
            "--fail-on",
            "never",
            ".",
        ]);
        if let Some(j) = jobs {
            cmd.args(["--jobs", j]);
        }
        cmd.current_dir(tree).output().expect("check").stdout
    };
    out(None) == out(Some("1"))
}

fn du_mb(dir: &Path) -> f64 {
    let out = Command::new("du").args(["-sb"]).arg(dir).output();
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |b| b / 1e6)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn peak_rss_kb(bin: &Path, args: &[&str], dir: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}
