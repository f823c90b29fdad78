//! The benchmark corpus, generated deterministically (the same bytes on every
//! machine): an infra tree of hosts of every supported format with a share of each
//! finding, noise in the proportions of real repositories, and big iptables dumps.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small deterministic generator (no crate: the corpus must not change when a
/// dependency does).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// The host cases: every rule fixture's case folder (each one host, of every format
/// pasvlint reads, Windows included, triggering or not triggering its rule), minus
/// the cases built to hit the script step budget.
pub fn host_cases(fixtures: &Path) -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for rule in sorted_dir(&fixtures.join("rules")) {
        if rule.ends_with("script-limit-reached") {
            continue;
        }
        cases.extend(sorted_dir(&rule).into_iter().filter(|p| p.is_dir()));
    }
    cases
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in sorted_dir(from) {
        let target = to.join(entry.file_name().unwrap());
        if entry.is_dir() {
            copy_dir(&entry, &target);
        } else {
            std::fs::copy(&entry, &target).unwrap();
        }
    }
}

/// `hosts` host folders cycling through the cases, then `unrelated` files of noise:
/// source code, documentation, unrelated YAML/JSON and web-server configs,
/// extensionless project files, binaries, a vendored `node_modules` and a `.git`
/// store, about 300 MB in all at the default sizes.
pub fn generate_tree(root: &Path, fixtures: &Path, hosts: usize, unrelated: usize) {
    let cases = host_cases(fixtures);
    for h in 0..hosts {
        let case = &cases[h % cases.len()];
        let name = case.file_name().unwrap().to_string_lossy();
        copy_dir(
            case,
            &root.join(format!("hosts/{:03}/h{h:05}-{name}", h % 100)),
        );
    }
    let mut rng = Lcg::new(0x5eed);
    for u in 0..unrelated {
        let (path, body) = noise(u, &mut rng);
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    git_store(root, &mut rng);
}

/// One noise file, by share: 30% source code, 15% documentation, 15% unrelated
/// YAML/JSON, 8% web-server configs, 7% extensionless project files, 5% binaries,
/// 20% vendored JavaScript.
fn noise(u: usize, rng: &mut Lcg) -> (String, Vec<u8>) {
    let dir = format!("{:03}", u % 400);
    let text = |s: String| s.into_bytes();
    match u % 20 {
        0..=5 => {
            let ext = ["py", "go", "rs", "js", "ts", "rb"][u % 6];
            let body = format!("// module {u}\nfn f{u}() -> u32 {{ return {u}; }}\n").repeat(20);
            (format!("src/{dir}/m{u}.{ext}"), text(body))
        }
        6..=8 => {
            let ext = ["md", "txt", "rst"][u % 3];
            let body = format!("# Notes {u}\n\nOps notes; nothing about FTP here.\n").repeat(30);
            (format!("docs/{dir}/n{u}.{ext}"), text(body))
        }
        9..=11 => {
            let body = if u % 2 == 0 {
                format!("name: app{u}\nreplicas: 3\nimage: registry/app:{u}\nports:\n  - 8080\n")
            } else {
                format!("{{\"name\": \"app{u}\", \"port\": 8080, \"replicas\": 3}}\n")
            };
            let ext = if u % 2 == 0 { "yaml" } else { "json" };
            (format!("deploy/{dir}/app{u}.{ext}"), text(body))
        }
        12 | 13 => {
            let body = format!(
                "server {{\n    listen 80;\n    server_name s{u}.example;\n    root /srv/www;\n}}\n"
            );
            (format!("web/{dir}/site{u}.conf"), text(body))
        }
        14 => {
            let name = ["Makefile", "LICENSE", "Dockerfile", "CODEOWNERS"][u % 4];
            let body = format!("all:\n\techo build {u}\n").repeat(10);
            (format!("proj/{dir}/p{u}/{name}"), text(body))
        }
        15 => {
            let ext = ["png", "gz", "jar", "so"][u % 4];
            let len = 20_000 + rng.below(200_000) as usize;
            (format!("assets/{dir}/b{u}.{ext}"), rng.bytes(len))
        }
        _ => {
            let body = format!(
                "'use strict';\nmodule.exports = function m{u}(a) {{ return a + {u}; }};\n"
            )
            .repeat(40);
            (
                format!("node_modules/pkg{:03}/lib/i{u}.js", u % 300),
                text(body),
            )
        }
    }
}

/// A `.git` folder as a clone has: a few big pack files.
fn git_store(root: &Path, rng: &mut Lcg) {
    let pack = root.join(".git/objects/pack");
    std::fs::create_dir_all(&pack).unwrap();
    for i in 0..4 {
        std::fs::write(pack.join(format!("pack-{i:040}.pack")), rng.bytes(8 << 20)).unwrap();
    }
    std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
}

/// A fail2ban-style dump: many source-specific REJECTs in a chain that returns.
pub fn generate_fail2ban_dump(path: &Path, rules: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::with_capacity(rules * 80);
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
pub fn generate_kube_dump(path: &Path, rules: usize) {
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

/// The fail2ban shape over IPv6 (an `ip6tables-save` dump).
pub fn generate_fail2ban_dump_v6(path: &Path, rules: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::with_capacity(rules * 90);
    s.push_str("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n");
    s.push_str("-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\n");
    s.push_str("-A INPUT -p tcp -m tcp --dport 50000:50099 -j ACCEPT\n");
    for i in 0..rules {
        let _ = writeln!(
            s,
            "-A f2b-sshd -s 2001:db8:{:x}:{:x}::{:x}/128 -j REJECT --reject-with icmp6-port-unreachable",
            (i >> 24) & 0xffff,
            (i >> 12) & 0xfff,
            i & 0xfff
        );
    }
    s.push_str("-A f2b-sshd -j RETURN\nCOMMIT\n");
    std::fs::write(path, s).unwrap();
}

/// The release binary under test, built if needed.
pub fn release_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "pasvlint", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success());
    // Next to the bench's own binary (`<target>/release/deps/<bench>`), so a
    // `CARGO_TARGET_DIR` elsewhere is honoured: `<manifest>/target` may hold a stale build.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("pasvlint")))
        .filter(|bin| bin.exists())
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/pasvlint")
        })
}
