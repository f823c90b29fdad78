//! Micro-benchmarks (divan): each parser on a fixture-sized and a large input, the
//! filter evaluator, and `PortSet`. `cargo bench --bench micro`.

#[allow(dead_code)] // the throughput bench uses the rest
mod corpus;

use pasvlint::formats::{self, Format};
use pasvlint::portset::PortSet;
use pasvlint::source::{FileId, SourceFile};
use std::path::Path;

fn main() {
    divan::main();
}

fn source(path: &str, text: &str) -> SourceFile {
    SourceFile::new(FileId(0), path, text.as_bytes())
}

fn fixture(rel: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    std::fs::read_to_string(root.join(rel)).unwrap_or_default()
}

fn fail2ban(rules: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.v4");
    corpus::generate_fail2ban_dump(&path, rules);
    std::fs::read_to_string(path).unwrap()
}

fn kube(rules: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.v4");
    corpus::generate_kube_dump(&path, rules);
    std::fs::read_to_string(path).unwrap()
}

#[divan::bench(args = [1_000, 100_000])]
fn iptables_parse_fail2ban(bencher: divan::Bencher, rules: usize) {
    let text = fail2ban(rules);
    bencher.bench(|| {
        formats::parse(
            source("rules.v4", divan::black_box(&text)),
            Format::IptablesSave,
        )
    });
}

#[divan::bench(args = [1_000, 100_000])]
fn iptables_facts_kube_proxy(bencher: divan::Bencher, rules: usize) {
    let parsed = formats::parse(source("rules.v4", &kube(rules)), Format::IptablesSave);
    bencher.bench(|| formats::facts(divan::black_box(&parsed)));
}

#[divan::bench(args = [
    "seeds/linux-passive/etc/vsftpd.conf",
    "rules/nftables-syntax-error/ok-example/etc/nftables.conf",
    "formats/iis/applicationHost.config",
])]
fn parse_fixture(bencher: divan::Bencher, rel: &str) {
    let text = fixture(rel);
    let path = Path::new(rel);
    let format = formats::classify(path, &text);
    bencher.bench(|| format.map(|f| formats::parse(source(rel, divan::black_box(&text)), f)));
}

#[divan::bench(args = [10, 10_000])]
fn portset_union(bencher: divan::Bencher, ranges: u16) {
    let a = PortSet::from_ranges((0..ranges).map(|i| (i * 6, i * 6 + 2)));
    let b = PortSet::from_ranges((0..ranges).map(|i| (i * 6 + 3, i * 6 + 4)));
    bencher.bench(|| divan::black_box(&a).union(divan::black_box(&b)));
}

/// One host holding many firewall files (a folder of examples paired at its root):
/// combining them must stay linear in the files, not in files squared.
#[divan::bench(args = [10, 1_000])]
fn firewall_combine(bencher: divan::Bencher, files: usize) {
    let one = |i: usize| {
        let text = format!(
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport {} -j ACCEPT\n-A INPUT -s 198.18.{}.0/24 -p tcp --dport 21 -j ACCEPT\nCOMMIT\n",
            40000 + i,
            i % 250
        );
        let parsed = formats::parse(source("rules.v4", &text), Format::IptablesSave);
        formats::facts(&parsed).firewall
    };
    let all: Vec<_> = (0..files).filter_map(one).collect();
    bencher.bench(|| pasvlint::facts::Firewall::combine(divan::black_box(all.clone())));
}
