//! Differential test of vsftpd's passive mode against the running daemon.
//!
//! Random configs (seeded, so every run writes the same ones) are built from the
//! directives that decide passive mode: `pasv_enable` in every spelling vsftpd
//! takes and some it refuses, `pasv_min_port` / `pasv_max_port` (0, equal ends,
//! min > max, values above 65535 and below 1024, leading zeros, which vsftpd
//! reads as octal, `atoi` prefixes and wraps, empty values, duplicates where the
//! last one wins), `listen` / `listen_ipv6` (IPv4 standalone, IPv6 standalone,
//! both, neither), `cmds_allowed` / `cmds_denied` lists (which refuse PASV
//! and EPSV after login like `pasv_enable=NO`), plus harmless filler
//! (comments, blank lines, settings that do not touch passive mode), now and
//! then a line vsftpd refuses, CRLF line ends, indented lines or no final
//! newline.
//!
//! Each config is run by the real `/usr/sbin/vsftpd` in a private network
//! namespace (tests/support/netns.rs: server 198.18.0.1, client 198.18.0.2 on
//! a veth pair; both removed at the end). A raw TCP client written below (it
//! shares no code with pasvlint) logs in anonymously from the client namespace
//! and sends PASV and EPSV [`ROUNDS`] times each, connecting to every port
//! announced so the reply is known to be a real listener. Then pasvlint is
//! asked through its public JSON contract only: `pasvlint facts --format json`
//! for the server's `passive_enabled` and `passive_ports`, `pasvlint check
//! --format json` for its errors. The assertions:
//! - vsftpd refuses to start ⇔ pasvlint reports an error of one of its fatal
//!   vsftpd rules ([`FATAL_RULES`], as tests/oracle_vsftpd.rs has them, and
//!   `vsftpd-listen-conflict` for `500 OOPS: run two copies ...`);
//! - pasvlint says passive is disabled ⇒ every PASV and EPSV is answered
//!   `550 Permission denied.`; enabled ⇒ every PASV is answered 227 and every
//!   EPSV 229, except that one of the two may be refused as a whole (550 to
//!   each) while the other works, as a `cmds_denied=PASV` makes it: a client
//!   that tries both (curl) still gets passive ports;
//! - PASV refused as a whole while EPSV works (this client is IPv4) ⇔
//!   pasvlint reports `vsftpd-passive-command-refused` about IPv4 clients;
//!   both answered ⇒ it reports nothing (EPSV refused alone matters only to
//!   IPv6 clients, which this client is not: tests/truth_commands.rs runs them);
//! - every announced port lies in pasvlint's `passive_ports`, and when that
//!   set has at most two ports, each of them is announced (vsftpd draws
//!   uniformly; missing one of two in 60 draws has odds 2^-59).
//!
//! How vsftpd is run. The config file is written unchanged and given as
//! vsftpd's argument; the harness adds these settings as `-o` options, which
//! main.c applies after the file exactly as lines appended to it would be
//! (and, unlike appended lines, also after a file with no final newline):
//! - `listen_address=198.18.0.1`: an IPv4 standalone listener binds the
//!   namespace's server address instead of every address;
//! - `background=NO`: the listener stays the harness's child, so it can be
//!   stopped (Debian's default already; Fedora's build says YES);
//! - `anonymous_enable=YES`: the client logs in as `anonymous`;
//! - `anon_root=<tmp>/anon` and `secure_chroot_dir=<tmp>/empty`: the
//!   directory an anonymous session chroots into and the empty one vsftpd
//!   requires, so the test does not depend on the host's `/srv/ftp` or
//!   `/var/run/vsftpd/empty`.
//!
//! None of them is a passive setting: they are neither `pasv_*`, `listen`,
//! `listen_ipv6` nor `cmds_*`, and the generated filler never sets them. The
//! listening mode is the file's own: the harness first starts vsftpd
//! standalone; when it answers `500 OOPS: vsftpd: not configured for
//! standalone, must be started from inetd` (both `listen` and `listen_ipv6`
//! NO, Debian's default), the harness plays inetd: it accepts the client's
//! connection in the server namespace and starts vsftpd with that socket as
//! its stdin and stdout, with the same file and the same `-o` options.
//!
//! A disagreement is printed with the config's seed and its bytes;
//! `PASVLINT_DIFF_SEED=<seed> PASVLINT_DIFF_CONFIGS=1` runs that config alone
//! (and `PASVLINT_DIFF_CONFIGS=<n>` runs more).

mod support {
    #![allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use serde_json::Value;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::netns::{Netns, Pair, SERVER_ADDR, output_within};

const VSFTPD: &str = "/usr/sbin/vsftpd";
const PASVLINT: &str = env!("CARGO_BIN_EXE_pasvlint");
/// Configs per run, and the seed of the first; the i-th config has seed `SEED + i`.
const CONFIGS: u64 = 120;
const SEED: u64 = 0x7a5f_2024;
/// PASV and EPSV commands per session.
const ROUNDS: usize = 30;
const CONTROL_PORT: u16 = 21;
const INETD: &str = "500 OOPS: vsftpd: not configured for standalone, must be started from inetd";
const STARTUP: Duration = Duration::from_secs(5);
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// pasvlint's rules whose errors mean "vsftpd will not parse this file"
/// (tests/oracle_vsftpd.rs checks them against the parser line by line).
const FATAL_RULES: &[&str] = &[
    "vsftpd-unknown-directive",
    "vsftpd-missing-value",
    "vsftpd-bad-boolean",
    "vsftpd-blank-string-value",
];
/// The file parses, but standalone start stops at `run two copies of vsftpd for IPv4 and IPv6`.
const LISTEN_CONFLICT: &str = "vsftpd-listen-conflict";
const HALF_REFUSED: &str = "vsftpd-passive-command-refused";

// ---------------------------------------------------------------------------
// Random configs

/// SplitMix64: small, seedable, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `true` with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

const TRUE_WORDS: &[&str] = &["YES", "yes", "Yes", "TRUE", "true", "1"];
const FALSE_WORDS: &[&str] = &["NO", "no", "False", "FALSE", "0"];
/// Values vsftpd refuses for a bool (`bad bool value in config file`).
const BAD_BOOLS: &[&str] = &["on", "maybe", "Y", "01", "YES ", " YES"];

/// Lines that change nothing about passive mode or about how the harness runs
/// vsftpd (never `listen_address`, `anon_root`, `anonymous_enable`, `background`).
const FILLER: &[&str] = &[
    "# vsftpd configuration",
    "#pasv_min_port=2000",
    "#pasv_enable=NO",
    "",
    "   ",
    "\t",
    "local_enable=NO",
    "write_enable=NO",
    "dirmessage_enable=YES",
    "use_localtime=YES",
    "xferlog_enable=NO",
    "connect_from_port_20=YES",
    "ftpd_banner=Welcome to the test server.",
    "idle_session_timeout=600",
    "data_connection_timeout=120",
    "max_per_ip=10",
    "max_clients=50",
    "port_enable=YES",
    "pasv_promiscuous=NO",
    "hide_ids=YES",
    "ls_recurse_enable=NO",
    "ssl_enable=NO",
];

/// Entries of `cmds_allowed` / `cmds_denied` lists: vsftpd compares each entry
/// with the upper-cased command, byte for byte, and stops at an empty entry.
const COMMANDS: &[&str] = &[
    "PASV", "EPSV", "PASV", "EPSV", "LIST", "RETR", "TYPE", "PORT", "pasv", " EPSV", "P@SW", "",
];

/// A line vsftpd refuses to start with, now and then (each is a parse error).
const BAD_LINES: &[&str] = &[
    " #indented comment",
    "pasv_max_port = 6000",
    "pasv_port_min=50000",
    "Pasv_enable=YES",
    "pasv_enable",
];

fn bool_word(rng: &mut Rng, value: bool) -> String {
    let words = if value { TRUE_WORDS } else { FALSE_WORDS };
    rng.pick(words).to_owned()
}

/// A bool line's value: mostly valid, sometimes one vsftpd refuses.
fn bool_text(rng: &mut Rng, truthy_percent: u64) -> String {
    if rng.chance(4) {
        rng.pick(BAD_BOOLS).to_owned()
    } else {
        let value = rng.chance(truthy_percent);
        bool_word(rng, value)
    }
}

/// A port number written in one of the ways people (and templates) write it.
fn port_text(rng: &mut Rng, number: u64) -> String {
    match rng.below(20) {
        0..=11 => number.to_string(),
        // Leading zero: vsftpd reads octal, up to the first byte that is not 0-7.
        12 => format!("0{number}"),
        13 => format!("0{number:o}"),
        14 => format!("+{number}"),
        15 => format!(" {number}"),
        16 => format!("{number} # ports"),
        17 => format!("{number}abc"),
        // atoi wraps modulo 2^32 (glibc's atoi is (int) strtol).
        18 => (number + (1u64 << 32)).to_string(),
        _ => rng
            .pick(&["-1", "09", "0x1000", "5e4", "abc", "99999999999999999999"])
            .to_owned(),
    }
}

/// A port number around the edges vsftpd's clamp cares about.
fn port_number(rng: &mut Rng) -> u64 {
    match rng.below(10) {
        0..=4 => rng.between(1025, 65534),
        5 => rng.between(0, 1023),
        6 => rng.between(65536, 200_000),
        _ => {
            let edges = [
                0, 1, 1023, 1024, 1025, 5000, 5001, 5002, 65534, 65535, 65536,
            ];
            edges[rng.below(edges.len() as u64) as usize]
        }
    }
}

struct Generated {
    seed: u64,
    bytes: Vec<u8>,
}

fn generate(seed: u64) -> Generated {
    let mut rng = Rng(seed);
    let mut lines: Vec<String> = Vec::new();
    // listen / listen_ipv6: IPv4 standalone most often, then IPv6, inetd, both.
    let (v4, v6) = match rng.below(20) {
        0..=9 => (Some(true), rng.chance(50).then_some(false)),
        10..=13 => (rng.chance(60).then_some(false), Some(true)),
        14..=18 => (
            rng.chance(50).then_some(false),
            rng.chance(50).then_some(false),
        ),
        _ => (Some(true), Some(true)),
    };
    for (name, value) in [("listen", v4), ("listen_ipv6", v6)] {
        if let Some(value) = value {
            let text = if rng.chance(3) {
                rng.pick(BAD_BOOLS).to_owned()
            } else {
                bool_word(&mut rng, value)
            };
            lines.push(format!("{name}={text}"));
        }
    }
    // pasv_enable: unset, set (mostly YES), or set twice.
    if rng.chance(65) {
        for _ in 0..=usize::from(rng.chance(15)) {
            lines.push(format!("pasv_enable={}", bool_text(&mut rng, 75)));
        }
    }
    // The range: near ends (small ranges, equal ends, min > max) or far ones.
    let min = port_number(&mut rng);
    let max = if rng.chance(50) {
        let delta = rng.between(0, 12) as i64 - 3;
        (min as i64 + delta).max(0) as u64
    } else {
        port_number(&mut rng)
    };
    for (name, number, percent) in [("pasv_min_port", min, 80), ("pasv_max_port", max, 75)] {
        if !rng.chance(percent) {
            continue;
        }
        if rng.chance(10) {
            // An earlier line the later one overrides.
            let earlier = port_number(&mut rng);
            lines.push(format!("{name}={}", port_text(&mut rng, earlier)));
        }
        let text = if rng.chance(2) {
            String::new()
        } else {
            port_text(&mut rng, number)
        };
        lines.push(format!("{name}={text}"));
    }
    // Command lists: PASV and EPSV are refused after login unless
    // cmds_allowed names them, and when cmds_denied does.
    for (name, percent) in [("cmds_allowed", 8), ("cmds_denied", 8)] {
        if rng.chance(percent) {
            let mut list: Vec<&str> = if name == "cmds_allowed" {
                vec!["USER", "PASS", "QUIT"]
            } else {
                Vec::new()
            };
            for _ in 0..rng.between(1, 4) {
                list.push(rng.pick(COMMANDS));
            }
            lines.push(format!("{name}={}", list.join(",")));
        }
    }
    for _ in 0..rng.below(6) {
        lines.push(rng.pick(FILLER).to_owned());
    }
    if rng.chance(4) {
        lines.push(rng.pick(BAD_LINES).to_owned());
    }
    // Shuffled: vsftpd and pasvlint read the same bytes, whatever the order.
    let mut order: Vec<(u64, String)> = lines.into_iter().map(|l| (rng.next(), l)).collect();
    order.sort();
    let mut order: Vec<String> = order.into_iter().map(|(_, l)| l).collect();
    for line in &mut order {
        if line.starts_with("pasv_") && rng.chance(8) {
            line.insert_str(0, rng.pick(&["  ", "\t"]));
        }
    }
    let crlf = rng.chance(6);
    let mut text = order.join(if crlf { "\r\n" } else { "\n" });
    if !rng.chance(5) {
        text.push_str(if crlf { "\r\n" } else { "\n" });
    }
    Generated {
        seed,
        bytes: text.into_bytes(),
    }
}

// ---------------------------------------------------------------------------
// The daemon

/// `setns(2)` for the calling thread only: the client and the inetd listener
/// run on threads of their own, moved into the namespace they act in.
mod enter {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    unsafe extern "C" {
        fn setns(fd: i32, nstype: i32) -> i32;
    }
    const CLONE_NEWNET: i32 = 0x4000_0000;

    pub fn netns(name: &str) -> Result<(), String> {
        let path = format!("/run/netns/{name}");
        let file = File::open(&path).map_err(|e| format!("{path}: {e}"))?;
        // SAFETY: setns reads only the descriptor, which `file` keeps open for
        // the call, and moves only the calling thread into that network
        // namespace; only threads this test starts for the purpose call it.
        let rc = unsafe { setns(file.as_raw_fd(), CLONE_NEWNET) };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("setns {path}: {}", std::io::Error::last_os_error()))
        }
    }
}

/// Where one config's daemon keeps its files.
struct Scratch {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Scratch {
    fn create(bytes: &[u8]) -> Result<Scratch, String> {
        let dir = tempfile::Builder::new()
            .prefix("pasvlint-diff-vsftpd-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        for sub in ["", "anon", "empty"] {
            let path = dir.path().join(sub);
            fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod {}: {e}", path.display()))?;
        }
        let config = dir.path().join("vsftpd.conf");
        fs::write(&config, bytes).map_err(|e| format!("{}: {e}", config.display()))?;
        Ok(Scratch { dir, config })
    }

    /// The `-o` options of the header, in order.
    fn options(&self) -> Vec<String> {
        let dir = self.dir.path();
        [
            format!("listen_address={SERVER_ADDR}"),
            "background=NO".to_owned(),
            "anonymous_enable=YES".to_owned(),
            format!("anon_root={}", dir.join("anon").display()),
            format!("secure_chroot_dir={}", dir.join("empty").display()),
        ]
        .iter()
        .map(|s| format!("-o{s}"))
        .collect()
    }

    fn command(&self, netns: &Netns) -> Command {
        let mut command = netns.command(VSFTPD);
        command.arg(&self.config).args(self.options());
        command
    }
}

/// How vsftpd took the config.
enum Started {
    /// It exited at start with this message (its fd 0).
    Refused(String),
    Standalone(Daemon),
    /// Not configured for standalone: each connection is handed to a new vsftpd.
    Inetd,
}

/// A process killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(pair: &Pair, scratch: &Scratch) -> Result<Started, String> {
    let oops = scratch.dir.path().join("oops");
    let fd0 = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&oops)
        .map_err(|e| format!("{}: {e}", oops.display()))?;
    let child = scratch
        .command(&pair.server)
        .stdin(Stdio::from(fd0))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {VSFTPD}: {e}"))?;
    let mut daemon = Daemon(child);
    let said = || {
        let raw = fs::read(&oops).unwrap_or_default();
        String::from_utf8_lossy(&raw).trim().to_owned()
    };
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = daemon.0.try_wait() {
            let said = said();
            return Ok(if said == INETD {
                Started::Inetd
            } else if said.is_empty() {
                Started::Refused(format!("exited ({status}) without a message"))
            } else {
                Started::Refused(said)
            });
        }
        if pair.server.listens_on(CONTROL_PORT) {
            return Ok(Started::Standalone(daemon));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!(
        "vsftpd neither listened nor exited within {STARTUP:?}: {}",
        said()
    ))
}

/// Plays inetd for one connection: listens in the server namespace, and
/// starts vsftpd on the first connection with the socket as fd 0 and 1.
fn inetd(
    pair: &Pair,
    scratch: &Scratch,
) -> Result<std::thread::JoinHandle<Result<Daemon, String>>, String> {
    let server = pair.server.name.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let mut command = scratch.command(&pair.server);
    let handle = std::thread::spawn(move || {
        let listener = enter::netns(&server).and_then(|()| {
            TcpListener::bind((SERVER_ADDR, CONTROL_PORT)).map_err(|e| format!("bind: {e}"))
        });
        let listener = match listener {
            Ok(listener) => {
                let _ = ready_tx.send(Ok(()));
                listener
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e.clone()));
                return Err(e);
            }
        };
        let (stream, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
        let out = stream.try_clone().map_err(|e| format!("dup: {e}"))?;
        let child = command
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(stream)))
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {VSFTPD}: {e}"))?;
        Ok(Daemon(child))
    });
    ready_rx
        .recv_timeout(STARTUP)
        .map_err(|e| format!("inetd listener: {e}"))??;
    Ok(handle)
}

// ---------------------------------------------------------------------------
// The client

/// One FTP reply: its code and its lines.
#[derive(Clone, Debug)]
struct Reply {
    code: u16,
    text: String,
}

struct Control {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Control {
    fn connect() -> Result<Control, String> {
        let addr: SocketAddr = format!("{SERVER_ADDR}:{CONTROL_PORT}")
            .parse()
            .map_err(|e| format!("{e}"))?;
        let stream = TcpStream::connect_timeout(&addr, REPLY_TIMEOUT)
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Control {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// A reply, multi-line (`ddd-` ... `ddd `) or not.
    fn reply(&mut self) -> Result<Reply, String> {
        let mut text = String::new();
        let mut first: Option<String> = None;
        loop {
            let mut line = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading a reply: {e} (so far {text:?})"))?;
            if n == 0 {
                return Err(format!("connection closed (so far {text:?})"));
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            text.push_str(&line);
            let code = line
                .get(..3)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
            match (&first, code) {
                (None, Some(code)) if line.as_bytes().get(3) == Some(&b'-') => {
                    first = Some(code.to_owned());
                }
                (None, Some(_)) => break,
                (Some(open), Some(code))
                    if code == open && line.as_bytes().get(3) == Some(&b' ') =>
                {
                    break;
                }
                (None, None) => return Err(format!("not an FTP reply: {line:?}")),
                _ => {}
            }
        }
        let code = text[..3].parse().map_err(|e| format!("{e}"))?;
        Ok(Reply {
            code,
            text: text.trim_end().to_owned(),
        })
    }

    fn command(&mut self, line: &str) -> Result<Reply, String> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .map_err(|e| format!("sending {line}: {e}"))?;
        self.reply()
    }
}

/// What one session saw: each PASV and EPSV reply, and the port it announced.
#[derive(Debug, Default)]
struct Session {
    replies: Vec<(&'static str, Reply, Option<u16>)>,
    /// Announced ports nothing listened on.
    dead: Vec<u16>,
}

/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`
fn pasv_port(text: &str) -> Option<u16> {
    let inner = text.split('(').nth(1)?.split(')').next()?;
    let fields: Vec<u16> = inner
        .split(',')
        .map(|f| f.trim().parse().ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [_, _, _, _, hi, lo] if hi < 256 && lo < 256 => Some(hi * 256 + lo),
        _ => None,
    }
}

/// `229 Entering Extended Passive Mode (|||port|)`
fn epsv_port(text: &str) -> Option<u16> {
    let inner = text.split('(').nth(1)?.split(')').next()?;
    inner.strip_prefix("|||")?.strip_suffix('|')?.parse().ok()
}

fn session(client: &str) -> Result<Session, String> {
    enter::netns(client)?;
    let mut control = Control::connect()?;
    let greeting = control.reply()?;
    if greeting.code != 220 {
        return Err(format!("greeting: {}", greeting.text));
    }
    let user = control.command("USER anonymous")?;
    let pass = if user.code == 331 {
        control.command("PASS probe@example.com")?
    } else {
        user
    };
    if pass.code != 230 {
        return Err(format!("anonymous login: {}", pass.text));
    }
    let mut seen = Session::default();
    for _ in 0..ROUNDS {
        for verb in ["PASV", "EPSV"] {
            let reply = control.command(verb)?;
            let port = match (verb, reply.code) {
                ("PASV", 227) => pasv_port(&reply.text),
                ("EPSV", 229) => epsv_port(&reply.text),
                _ => None,
            };
            if let Some(port) = port {
                let addr = SocketAddr::from(([198, 18, 0, 1], port));
                if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
                    seen.dead.push(port);
                }
            }
            seen.replies.push((verb, reply, port));
        }
    }
    let _ = control.command("QUIT");
    Ok(seen)
}

fn run_client(pair: &Pair) -> Result<Session, String> {
    let client = pair.client.name.clone();
    std::thread::spawn(move || session(&client))
        .join()
        .map_err(|_| "the client thread panicked".to_owned())?
}

// ---------------------------------------------------------------------------
// pasvlint's claim, through its JSON contract

struct Claim {
    passive_enabled: bool,
    /// `passive_ports` as (first, last) ranges; `None` when pasvlint says unknown.
    ports: Option<Vec<(u16, u16)>>,
    ports_text: String,
    /// The errors of the fatal parse rules: `rule: message`.
    fatal: Vec<String>,
    /// `vsftpd-listen-conflict`'s error, if reported.
    listen_conflict: Option<String>,
    /// `vsftpd-passive-command-refused`'s messages.
    half_refused: Vec<String>,
}

impl Claim {
    /// Whether a `vsftpd-passive-command-refused` finding is about IPv4 clients.
    fn names_ipv4_clients(&self) -> bool {
        self.half_refused.iter().any(|m| m.contains("IPv4 clients"))
    }
}

fn pasvlint_json(args: &[&str], path: &Path) -> Result<Value, String> {
    let output = output_within(
        Command::new(PASVLINT)
            .args(args)
            .args(["--format", "json", "--isolated"])
            .arg(path),
        Duration::from_secs(60),
    )?;
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(format!(
            "pasvlint {args:?} exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("pasvlint {args:?}: no JSON ({e})"))
}

fn parse_ports(text: &str) -> Option<Vec<(u16, u16)>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|part| match part.split_once('-') {
            Some((lo, hi)) => Some((lo.parse().ok()?, hi.parse().ok()?)),
            None => part.parse().ok().map(|p| (p, p)),
        })
        .collect()
}

fn claim(config: &Path) -> Result<Claim, String> {
    let facts = pasvlint_json(&["facts"], config)?;
    let servers: Vec<&Value> = facts["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| h["ftp"].as_array().into_iter().flatten())
        .collect();
    let [server] = servers[..] else {
        return Err(format!(
            "pasvlint facts shows {} FTP servers, not one",
            servers.len()
        ));
    };
    let ports_text = server["passive_ports"].as_str().map(str::to_owned);
    let check = pasvlint_json(&["check"], config)?;
    let errors = check["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == "error");
    let mut fatal = Vec::new();
    let mut listen_conflict = None;
    let mut half_refused = Vec::new();
    for d in errors {
        let rule = d["rule"].as_str().unwrap_or("");
        let said = format!("{rule}: {}", d["message"].as_str().unwrap_or(""));
        if FATAL_RULES.contains(&rule) {
            fatal.push(said);
        } else if rule == LISTEN_CONFLICT {
            listen_conflict = Some(said);
        } else if rule == HALF_REFUSED {
            half_refused.push(said);
        }
    }
    Ok(Claim {
        passive_enabled: server["passive_enabled"].as_bool().unwrap_or(true),
        ports: ports_text.as_deref().and_then(parse_ports),
        ports_text: ports_text.unwrap_or_else(|| "null".to_owned()),
        fatal,
        listen_conflict,
        half_refused,
    })
}

// ---------------------------------------------------------------------------
// The comparison

/// What differs between pasvlint's claim and what the daemon did, if anything.
fn compare(claim: &Claim, started: &Result<(), String>, seen: Option<&Session>) -> Vec<String> {
    let mut out = Vec::new();
    // vsftpd parses the whole file before it looks at listen/listen_ipv6.
    let expected = match started {
        Err(oops) if oops.contains("run two copies") => "a vsftpd-listen-conflict error",
        Err(_) => "an error of a fatal vsftpd rule",
        Ok(()) => "no fatal error",
    };
    let reported = match started {
        Err(oops) if oops.contains("run two copies") => {
            claim.fatal.is_empty() && claim.listen_conflict.is_some()
        }
        Err(_) => !claim.fatal.is_empty(),
        Ok(()) => claim.fatal.is_empty() && claim.listen_conflict.is_none(),
    };
    if !reported {
        let said: Vec<&String> = claim.fatal.iter().chain(&claim.listen_conflict).collect();
        let what = match started {
            Err(oops) => format!("vsftpd refused to start ({oops})"),
            Ok(()) => "vsftpd started".to_owned(),
        };
        out.push(format!(
            "{what}; expected {expected} from pasvlint, it says {said:?}"
        ));
    }
    if started.is_err() {
        return out;
    }
    let Some(seen) = seen else { return out };
    if !seen.dead.is_empty() {
        out.push(format!(
            "vsftpd announced ports nothing listened on: {:?}",
            seen.dead
        ));
    }
    if !claim.passive_enabled {
        for (verb, reply, _) in &seen.replies {
            if reply.code != 550 {
                out.push(format!(
                    "pasvlint says passive is disabled; {verb} got {:?}",
                    reply.text
                ));
                break;
            }
        }
        return out;
    }
    let Some(ranges) = &claim.ports else {
        out.push(format!(
            "pasvlint gives no passive ports ({})",
            claim.ports_text
        ));
        return out;
    };
    let claimed = |p: u16| ranges.iter().any(|&(lo, hi)| lo <= p && p <= hi);
    // A verb may be refused as a whole (`cmds_denied=PASV`: `550 Permission
    // denied.`) while the other one works: passive mode is still on for a
    // client that tries both (curl sends EPSV first, then PASV over IPv4).
    let answered = |verb: &str| {
        let replies: Vec<&(&str, Reply, Option<u16>)> =
            seen.replies.iter().filter(|r| r.0 == verb).collect();
        if replies.iter().all(|r| r.2.is_some()) {
            Ok(true)
        } else if replies.iter().all(|r| r.1.text == "550 Permission denied.") {
            Ok(false)
        } else {
            Err(replies
                .iter()
                .find(|r| r.2.is_none())
                .map(|r| r.1.text.clone()))
        }
    };
    match (answered("PASV"), answered("EPSV")) {
        (Ok(false), Ok(false)) => out.push(format!(
            "pasvlint says passive is enabled on {}; PASV and EPSV were refused",
            claim.ports_text
        )),
        (Err(text), _) | (_, Err(text)) => out.push(format!(
            "pasvlint says passive is enabled on {}; vsftpd answered {text:?}",
            claim.ports_text
        )),
        (Ok(false), Ok(true)) if !claim.names_ipv4_clients() => out.push(format!(
            "vsftpd refused every PASV and answered EPSV; pasvlint's {HALF_REFUSED} says {:?}",
            claim.half_refused
        )),
        (Ok(true), Ok(true)) if !claim.half_refused.is_empty() => out.push(format!(
            "vsftpd answered PASV and EPSV; pasvlint says {:?}",
            claim.half_refused
        )),
        (Ok(true), Ok(false))
            if claim
                .half_refused
                .iter()
                .any(|m| m.contains("IPv4 clients")) =>
        {
            out.push(format!(
                "vsftpd answered PASV to this IPv4 client; pasvlint says {:?}",
                claim.half_refused
            ))
        }
        _ => {}
    }
    let announced: std::collections::BTreeSet<u16> =
        seen.replies.iter().filter_map(|r| r.2).collect();
    let outside: Vec<u16> = announced.iter().copied().filter(|&p| !claimed(p)).collect();
    if !outside.is_empty() {
        out.push(format!(
            "vsftpd announced {outside:?}, outside pasvlint's passive ports {}",
            claim.ports_text
        ));
    }
    let size: u32 = ranges.iter().map(|&(lo, hi)| u32::from(hi - lo) + 1).sum();
    if size <= 2 && !announced.is_empty() {
        let unseen: Vec<u16> = ranges
            .iter()
            .flat_map(|&(lo, hi)| lo..=hi)
            .filter(|p| !announced.contains(p))
            .collect();
        if !unseen.is_empty() {
            out.push(format!(
                "pasvlint claims {} but vsftpd never announced {unseen:?} in {} replies (announced {announced:?})",
                claim.ports_text,
                seen.replies.len()
            ));
        }
    }
    out
}

/// Waits until no process of the last config is left in the server namespace
/// (a session's processes exit after QUIT, a moment after the reply), so the
/// next config's listener is the only one; kills what is still there after
/// [`STARTUP`].
fn settle(pair: &Pair) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP;
    loop {
        let out = output_within(
            Command::new("ip").args(["netns", "pids", &pair.server.name]),
            support::netns::TOOL_TIMEOUT,
        )?;
        let pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if pids.is_empty() && !pair.server.listens_on(CONTROL_PORT) {
            return Ok(());
        }
        if Instant::now() > deadline {
            for pid in &pids {
                let _ = output_within(
                    Command::new("kill").args(["-KILL", pid]),
                    support::netns::TOOL_TIMEOUT,
                );
            }
            return Err(format!("processes {pids:?} outlived their config"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs one config; `Ok` holds its disagreements (none: pasvlint was right).
fn run_one(pair: &Pair, generated: &Generated, log: &mut String) -> Result<Vec<String>, String> {
    settle(pair)?;
    let scratch = Scratch::create(&generated.bytes)?;
    let claim = claim(&scratch.config)?;
    let (started, seen, mode) = match start(pair, &scratch)? {
        Started::Refused(oops) => (Err(oops.clone()), None, format!("refused: {oops}")),
        Started::Standalone(daemon) => {
            let seen = run_client(pair);
            drop(daemon);
            (Ok(()), Some(seen?), "standalone".to_owned())
        }
        Started::Inetd => {
            let handle = inetd(pair, &scratch)?;
            let seen = run_client(pair);
            let daemon = handle
                .join()
                .map_err(|_| "the inetd thread panicked".to_owned())?;
            drop(daemon);
            (Ok(()), Some(seen?), "inetd".to_owned())
        }
    };
    let ports: std::collections::BTreeSet<u16> = seen
        .iter()
        .flat_map(|s| s.replies.iter().filter_map(|r| r.2))
        .collect();
    let _ = writeln!(
        log,
        "seed {:#x}: {mode}, pasvlint {} {}, announced {} distinct ports{}",
        generated.seed,
        if claim.passive_enabled {
            "enabled"
        } else {
            "disabled"
        },
        claim.ports_text,
        ports.len(),
        match (ports.first(), ports.last()) {
            (Some(lo), Some(hi)) => format!(" in {lo}-{hi}"),
            _ => String::new(),
        }
    );
    Ok(compare(&claim, &started, seen.as_ref()))
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn ready(test: &str) -> bool {
    support::requirements::ready(test, &[VSFTPD], &["ip", "ss"])
        && support::requirements::ready_unless(test, support::requirements::missing_account("ftp"))
}

#[test]
fn random_configs_agree_with_the_running_vsftpd() {
    if !ready("differential vsftpd test") {
        return;
    }
    support::netns::remove_stale();
    let first = env_u64("PASVLINT_DIFF_SEED").unwrap_or(SEED);
    let count = env_u64("PASVLINT_DIFF_CONFIGS").unwrap_or(CONFIGS);
    let pair = Pair::create().expect("network namespaces");
    let began = Instant::now();
    let mut log = String::new();
    let mut failures = Vec::new();
    for seed in first..first + count {
        let generated = generate(seed);
        let problems =
            run_one(&pair, &generated, &mut log).unwrap_or_else(|e| vec![format!("harness: {e}")]);
        if !problems.is_empty() {
            failures.push(format!(
                "seed {seed:#x} (PASVLINT_DIFF_SEED={seed:#x} PASVLINT_DIFF_CONFIGS=1), config {:?}:\n    {}",
                String::from_utf8_lossy(&generated.bytes),
                problems.join("\n    ")
            ));
        }
    }
    eprint!("{log}");
    eprintln!("{count} configs in {:.1}s", began.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} of {count} configs: pasvlint disagrees with vsftpd:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The harness itself, on configs whose behaviour domain.md measured, so a
/// broken client or launcher cannot make every comparison pass.
#[test]
fn the_harness_sees_what_vsftpd_does() {
    if !ready("differential vsftpd harness check") {
        return;
    }
    support::netns::remove_stale();
    let pair = Pair::create().expect("network namespaces");
    let observe = |bytes: &[u8]| -> (String, Vec<u16>, Vec<u16>) {
        let scratch = Scratch::create(bytes).expect("scratch");
        let (mode, seen) = match start(&pair, &scratch).expect("start") {
            Started::Refused(oops) => return (oops, Vec::new(), Vec::new()),
            Started::Standalone(daemon) => {
                let seen = run_client(&pair).expect("session");
                drop(daemon);
                ("standalone".to_owned(), seen)
            }
            Started::Inetd => {
                let handle = inetd(&pair, &scratch).expect("inetd");
                let seen = run_client(&pair).expect("session");
                drop(handle.join().expect("inetd thread"));
                ("inetd".to_owned(), seen)
            }
        };
        let codes = seen.replies.iter().map(|r| r.1.code).collect();
        let ports = seen.replies.iter().filter_map(|r| r.2).collect();
        (mode, codes, ports)
    };
    let (mode, _, ports) = observe(b"listen=YES\npasv_min_port=50000\npasv_max_port=50000\n");
    assert_eq!(mode, "standalone");
    assert_eq!(ports, vec![50000; 2 * ROUNDS]);
    let (mode, codes, ports) = observe(b"listen=NO\npasv_min_port=050000\npasv_max_port=050001\n");
    assert_eq!(mode, "inetd");
    assert_eq!(codes, [227, 229].repeat(ROUNDS));
    assert!(
        ports.iter().all(|p| [20480, 20481].contains(p)),
        "{ports:?}"
    );
    let (mode, codes, ports) = observe(b"listen_ipv6=YES\npasv_enable=NO\n");
    assert_eq!(mode, "standalone");
    assert_eq!(codes, vec![550; 2 * ROUNDS]);
    assert!(ports.is_empty());
    let (mode, _, _) = observe(b"listen=YES\nlisten_ipv6=YES\n");
    assert_eq!(mode, "500 OOPS: run two copies of vsftpd for IPv4 and IPv6");
    let (mode, _, _) = observe(b"listen=YES\npasv_enable=on\n");
    assert_eq!(
        mode,
        "500 OOPS: bad bool value in config file for: pasv_enable"
    );
}
