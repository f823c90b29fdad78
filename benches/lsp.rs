//! Editor latency: how long after an edit `pasvlint lsp` publishes the edited
//! file's diagnostics, in a repository of LSP_HOSTS hosts (BENCHMARKS.md).
//!
//! `cargo bench --bench lsp` generates (once) under `target/bench-corpus/` a tree
//! of PASVLINT_BENCH_LSP_HOSTS (default 1,000) host folders from the rule
//! fixtures, plus one host whose `vsftpd.conf` the benchmark edits. It starts the
//! release `pasvlint lsp` as an editor would (stdio, workspace folder = the tree),
//! waits for the first full lint, opens the file, then sends
//! PASVLINT_BENCH_LSP_EDITS full-text edits one after another (alternating
//! `pasv_max_port` so the findings stay), each timed from the moment it is written
//! to the moment the `publishDiagnostics` for its version arrives. The baseline,
//! measured in the same run, is the server's first lint of the whole tree.

#[allow(dead_code)] // the throughput bench uses the dump generators
mod corpus;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(120);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --all-targets` runs bench targets too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("lsp: skipped (run it with `cargo bench --bench lsp`)");
        return;
    }
    let hosts = env_or("PASVLINT_BENCH_LSP_HOSTS", 1_000);
    let edits = env_or("PASVLINT_BENCH_LSP_EDITS", 50);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tree = manifest.join(format!("target/bench-corpus/lsp-{hosts}"));
    if !tree.exists() {
        corpus::generate_tree(&tree, &manifest.join("fixtures"), hosts, 0);
        write_edited_host(&tree);
    }
    let bin = corpus::release_binary();
    let mut server = Server::start(&bin, &tree);
    let first_lint = server.initialize(&tree);
    let conf = tree.join("edited/etc/vsftpd.conf");
    let uri = file_uri(&conf);
    let text = std::fs::read_to_string(&conf).unwrap();
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}}),
    );
    server.published(&uri, 1);
    let mut latencies = Vec::with_capacity(edits);
    for i in 0..edits {
        let version = i as i64 + 2;
        let max = if i % 2 == 0 { "9987" } else { "9986" };
        let edited = text.replace("pasv_max_port=9986", &format!("pasv_max_port={max}"));
        let sent = Instant::now();
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": edited}]}),
        );
        server.published(&uri, version);
        latencies.push(sent.elapsed());
    }
    server.stop();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = latencies[latencies.len() / 2];
    let p95 = latencies[(latencies.len() * 95 / 100).min(latencies.len() - 1)];
    let worst = latencies[latencies.len() - 1];
    println!(
        "lsp: {hosts} hosts; first lint of the whole tree {:.1} ms (baseline)",
        ms(first_lint)
    );
    println!(
        "| edit → publishDiagnostics, {edits} edits | median {:.1} ms | p95 {:.1} ms | max {:.1} ms | median / first lint {:.3} |",
        ms(median),
        ms(p95),
        ms(worst),
        median.as_secs_f64() / first_lint.as_secs_f64()
    );
}

/// One more host: a vsftpd whose range the firewall opens in part, so every
/// edit keeps a finding and gets a new publication.
fn write_edited_host(tree: &Path) {
    let etc = tree.join("edited/etc");
    std::fs::create_dir_all(etc.join("iptables")).unwrap();
    std::fs::write(
        etc.join("vsftpd.conf"),
        "listen=YES\npasv_enable=YES\npasv_min_port=9981\npasv_max_port=9986\nmax_clients=2\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("iptables/rules.v4"),
        "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         -A INPUT -p tcp -m multiport --dports 21,9981:9984 -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
}

fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for &b in path.to_str().unwrap().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// `pasvlint lsp` over stdio, its messages read on a thread.
struct Server {
    child: std::process::Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start(bin: &Path, dir: &Path) -> Server {
        let mut child = Command::new(bin)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pasvlint lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (to_messages, messages) = mpsc::channel();
        std::thread::spawn(move || read_messages(BufReader::new(stdout), to_messages));
        let (to_log, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = to_log.send(line);
            }
        });
        Server {
            child,
            stdin,
            messages,
            log,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Initialize with `dir` as the workspace folder; the time until the
    /// server logged its first lint of the whole folder.
    fn initialize(&mut self, dir: &Path) -> Duration {
        let uri = file_uri(dir);
        let started = Instant::now();
        self.send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "bench"}],
            "capabilities": {"general": {"positionEncodings": ["utf-8"]}}}}),
        );
        self.wait(|m| m["id"] == 1);
        self.notify("initialized", json!({}));
        let whole = format!("pasvlint lsp: linted {} (", dir.display());
        loop {
            let line = self.log.recv_timeout(TIMEOUT).expect("the first lint");
            if line.starts_with(&whole) {
                return started.elapsed();
            }
        }
    }

    /// Wait for the diagnostics of `uri` at `version`.
    fn published(&mut self, uri: &str, version: i64) {
        self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
    }

    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.messages.recv_timeout(left).expect("a message in time");
            if message.get("method").is_some() && message.get("id").is_some() {
                let id = message["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if wanted(&message) {
                return;
            }
        }
    }

    fn stop(mut self) {
        self.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
        self.wait(|m| m["id"] == 2);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

fn read_messages(mut out: impl BufRead, to: mpsc::Sender<Value>) {
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length:") {
                length = n.trim().parse::<usize>().ok();
            }
        }
        let Some(length) = length else { continue };
        let mut body = vec![0; length];
        if out.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(message) = serde_json::from_slice(&body) {
            if to.send(message).is_err() {
                return;
            }
        }
    }
}
