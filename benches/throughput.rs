//! Throughput benchmark: pasvlint against ripgrep on the same tree, in the same run.
//!
//! `cargo bench --bench throughput` generates (once) an infra tree under
//! `target/bench-corpus/`: HOSTS hosts, each with `etc/vsftpd.conf` and an
//! `etc/iptables/rules.v4` dump, plus UNRELATED unrelated files; and a single
//! iptables-save dump of DUMP_RULES rules. It then times, warm cache, best of RUNS:
//! - `pasvlint check --format json` on the tree vs `rg` for the same key words;
//! - `pasvlint facts` on the big dump vs `rg -c` over it (linear-scan baseline),
//!
//! and prints the ratios. Sizes: PASVLINT_BENCH_HOSTS, _UNRELATED, _DUMP_RULES.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --all-targets` runs bench targets too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped (run it with `cargo bench --bench throughput`)");
        return;
    }
    let hosts = env_or("PASVLINT_BENCH_HOSTS", 10_000);
    let unrelated = env_or("PASVLINT_BENCH_UNRELATED", 50_000);
    let dump_rules = env_or("PASVLINT_BENCH_DUMP_RULES", 1_000_000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpus");
    let tree = root.join(format!("tree-{hosts}-{unrelated}"));
    if !tree.exists() {
        generate_tree(&tree, hosts, unrelated);
    }
    let bin = release_binary();
    let rg = which("rg");

    println!(
        "tree: {hosts} hosts + {unrelated} unrelated files ({})",
        tree.display()
    );
    let lint = best_of(|| {
        run(
            &bin,
            &[
                "check",
                "--isolated",
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            &tree,
        )
    });
    println!("  pasvlint check          {:>8.3} s", lint.as_secs_f64());
    if let Some(rg) = &rg {
        let grep = best_of(|| {
            run(
                rg,
                &[
                    "-c",
                    "--no-messages",
                    "pasv_|listen_port|COMMIT|-A INPUT",
                    ".",
                ],
                &tree,
            )
        });
        println!("  rg (same key words)     {:>8.3} s", grep.as_secs_f64());
        println!(
            "  ratio pasvlint / rg     {:>8.2}",
            lint.as_secs_f64() / grep.as_secs_f64()
        );
    } else {
        println!("  rg not installed: no baseline (apt-get install ripgrep)");
    }

    for shape in [Shape::Fail2ban, Shape::KubeProxy] {
        dump_scaling(&bin, rg.as_deref(), &root, shape, dump_rules);
    }
}

#[derive(Clone, Copy)]
enum Shape {
    Fail2ban,
    KubeProxy,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Fail2ban => "fail2ban",
            Shape::KubeProxy => "kube-proxy",
        }
    }
}

/// One dump shape at 1/100, 1/10 and all of `rules`: time, time per rule against the
/// smallest size (linear cost keeps it near 1.0), and peak memory against the file.
fn dump_scaling(bin: &Path, rg: Option<&Path>, root: &Path, shape: Shape, rules: usize) {
    let mut base_per_rule = None;
    for n in [rules / 100, rules / 10, rules] {
        let dump = root.join(format!("dump-{}-{n}.rules", shape.name()));
        if !dump.exists() {
            match shape {
                Shape::Fail2ban => generate_dump(&dump, n),
                Shape::KubeProxy => generate_kube_dump(&dump, n),
            }
        }
        let size = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0);
        println!(
            "dump ({}): {n} rules, {:.1} MB",
            shape.name(),
            size as f64 / 1e6
        );
        let facts = best_of(|| {
            run(
                bin,
                &[
                    "facts",
                    "--isolated",
                    "--format",
                    "json",
                    dump.to_str().unwrap(),
                ],
                root,
            )
        });
        let per_rule = facts.as_secs_f64() / n as f64;
        let base = *base_per_rule.get_or_insert(per_rule);
        println!(
            "  pasvlint facts          {:>8.3} s ({:.2}x the time per rule at {})",
            facts.as_secs_f64(),
            per_rule / base,
            rules / 100
        );
        if let Some(rg) = rg {
            let grep = best_of(|| run(rg, &["-c", "ACCEPT", dump.to_str().unwrap()], root));
            println!(
                "  rg -c ACCEPT            {:>8.3} s (ratio {:.2})",
                grep.as_secs_f64(),
                facts.as_secs_f64() / grep.as_secs_f64()
            );
        }
        if let Some(rss) = peak_rss_kb(bin, &dump) {
            println!(
                "  peak RSS                {:>8.1} MB ({:.2}x the file)",
                rss as f64 / 1e3,
                rss as f64 * 1e3 / size as f64
            );
        }
    }
}

fn release_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "pasvlint", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success());
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/pasvlint")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn run(bin: &Path, args: &[&str], dir: &Path) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{} failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn best_of(mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn peak_rss_kb(bin: &Path, dump: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .args(["facts", "--isolated", "--format", "json"])
        .arg(dump)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn generate_tree(root: &Path, hosts: usize, unrelated: usize) {
    for h in 0..hosts {
        let dir = root.join(format!("hosts/ftp{h:05}/etc"));
        std::fs::create_dir_all(dir.join("iptables")).unwrap();
        let lo = 40000 + (h % 200) * 100;
        let hi = lo + 49 + (h % 3) * 25;
        let conf = format!(
            "# managed by config management\nlisten=YES\nanonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\n\
             pasv_enable=YES\npasv_min_port={lo}\npasv_max_port={hi}\nmax_clients=50\nmax_per_ip=5\n\
             xferlog_enable=YES\nftpd_banner=Welcome to ftp{h}\n"
        );
        std::fs::write(dir.join("vsftpd.conf"), conf).unwrap();
        let mut rules = String::from(
            "# Generated by iptables-save v1.8.9\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n",
        );
        rules.push_str("-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        rules.push_str("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\n");
        let open_hi = if h % 7 == 0 { hi - 10 } else { hi };
        let _ = writeln!(
            rules,
            "-A INPUT -p tcp -m tcp --dport {lo}:{open_hi} -j ACCEPT"
        );
        rules.push_str("COMMIT\n");
        std::fs::write(dir.join("iptables/rules.v4"), rules).unwrap();
    }
    for u in 0..unrelated {
        let dir = root.join(format!("misc/{:03}", u % 500));
        std::fs::create_dir_all(&dir).unwrap();
        let (name, body) = match u % 4 {
            0 => (
                format!("app{u}.yaml"),
                format!("name: app{u}\nreplicas: 3\nimage: registry/app:{u}\nports:\n  - 8080\n"),
            ),
            1 => (
                format!("notes{u}.md"),
                format!("# Notes {u}\n\nNothing about FTP here, just text.\n").repeat(4),
            ),
            2 => (
                format!("main{u}.py"),
                format!("def main():\n    return {u}\n\nif __name__ == '__main__':\n    main()\n"),
            ),
            _ => (
                format!("nginx{u}.conf"),
                format!("server {{\n    listen 80;\n    server_name s{u}.example;\n}}\n"),
            ),
        };
        std::fs::write(dir.join(name), body).unwrap();
    }
}

/// A fail2ban-style dump: many source-specific REJECTs in a chain that returns.
fn generate_dump(path: &Path, rules: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::with_capacity(rules * 60);
    s.push_str("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n");
    s.push_str("-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\n");
    s.push_str("-A INPUT -p tcp -m tcp --dport 50000:50099 -j ACCEPT\n");
    for i in 0..rules {
        let _ = writeln!(
            s,
            "-A f2b-sshd -s {}.{}.{}.{}/32 -j REJECT --reject-with icmp-port-unreachable",
            10 + (i >> 24) % 200,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
    }
    s.push_str("-A f2b-sshd -j RETURN\nCOMMIT\n");
    std::fs::write(path, s).unwrap();
}

/// A kube-proxy-shaped dump: nat chains per service and endpoint (`KUBE-SVC-*`
/// picking a `KUBE-SEP-*` at random, each marking and DNATing to a pod), seven
/// rules per two-endpoint service, and a filter table opening FTP.
fn generate_kube_dump(path: &Path, rules: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let services = rules / 7 + 1;
    let mut chains = String::new();
    let mut body = String::new();
    for i in 0..services {
        let svc = format!("KUBE-SVC-{i:016X}");
        let _ = writeln!(chains, ":{svc} - [0:0]");
        let _ = writeln!(
            body,
            "-A KUBE-SERVICES -d 10.96.{}.{}/32 -p tcp -m comment --comment \"ns{i}/svc:http cluster IP\" -m tcp --dport 80 -j {svc}",
            (i >> 8) & 255,
            i & 255
        );
        for e in 0..2 {
            let sep = format!("KUBE-SEP-{i:015X}{e}");
            let pod = format!(
                "10.{}.{}.{}",
                128 + ((i >> 15) & 127),
                (i >> 7) & 255,
                ((i & 127) << 1) | e
            );
            let _ = writeln!(chains, ":{sep} - [0:0]");
            if e == 0 {
                let _ = writeln!(
                    body,
                    "-A {svc} -m statistic --mode random --probability 0.50000000000 -j {sep}"
                );
            } else {
                let _ = writeln!(body, "-A {svc} -j {sep}");
            }
            let _ = writeln!(body, "-A {sep} -s {pod}/32 -j KUBE-MARK-MASQ");
            let _ = writeln!(
                body,
                "-A {sep} -p tcp -m tcp -j DNAT --to-destination {pod}:8080"
            );
        }
    }
    let mut s = String::with_capacity(rules * 90);
    s.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n");
    s.push_str(&chains);
    s.push_str("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n");
    s.push_str(&body);
    s.push_str("COMMIT\n*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 21,50000:50099 -j ACCEPT\nCOMMIT\n");
    std::fs::write(path, s).unwrap();
}
