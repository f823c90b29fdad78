//! Which TCP ports a client namespace can connect to on a server namespace:
//! the server listens on every port asked about, the client connects to each
//! at once, and a port counts when its handshake completes within a second
//! (over a veth pair a handshake takes well under a millisecond; a dropped SYN
//! never completes, so every probe of a filtered port waits the whole second).

use super::netns::{Pair, SERVER_ADDR, SERVER_ADDR6};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::process::Stdio;

const LISTEN: &str = r#"
import resource, socket, sys
family = socket.AF_INET6 if sys.argv[1] == '6' else socket.AF_INET
ports = [int(p) for p in sys.argv[2].split(',')]
resource.setrlimit(resource.RLIMIT_NOFILE, (len(ports) + 64, len(ports) + 64))
socks = []
for p in ports:
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(('::' if family == socket.AF_INET6 else '0.0.0.0', p))
    s.listen(512)
    socks.append(s)
print('ready', flush=True)
sys.stdin.read()
"#;

const CONNECT: &str = r#"
import resource, select, socket, sys, time
family = socket.AF_INET6 if sys.argv[1] == '6' else socket.AF_INET
target = sys.argv[2]
ports = [int(p) for p in sys.argv[3].split(',')]
source = sys.argv[4] if len(sys.argv) > 4 else ''
resource.setrlimit(resource.RLIMIT_NOFILE, (len(ports) + 64, len(ports) + 64))
pending = {}
for p in ports:
    s = socket.socket(family)
    if source:
        s.bind((source, 0))
    s.setblocking(False)
    s.connect_ex((target, p))
    pending[s.fileno()] = (s, p)
poll = select.poll()
for fd in pending:
    poll.register(fd, select.POLLOUT)
opened = []
deadline = time.time() + 1.0
while pending and time.time() < deadline:
    for fd, _ in poll.poll(100):
        s, p = pending.pop(fd)
        poll.unregister(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            opened.append(p)
        s.close()
print(','.join(str(p) for p in sorted(opened)))
"#;

/// The ports of `ports` the client reaches on the server, over IPv4 or IPv6
/// (the pair must have IPv6 addresses for that: [`Pair::add_ipv6`]).
#[allow(dead_code)] // Not every test crate that includes this module uses it.
pub fn connectable(
    pair: &Pair,
    ports: &BTreeSet<u16>,
    ipv6: bool,
) -> Result<BTreeSet<u16>, String> {
    connectable_listening(pair, ports, ports, ipv6)
}

/// The ports of `ports` the client reaches while the server listens on `listen`
/// (a nat rule may hand a connection to another port than the one dialled).
#[allow(dead_code)] // Not every test crate that includes this module uses it.
pub fn connectable_listening(
    pair: &Pair,
    ports: &BTreeSet<u16>,
    listen: &BTreeSet<u16>,
    ipv6: bool,
) -> Result<BTreeSet<u16>, String> {
    connectable_from(pair, ports, listen, ipv6, None)
}

/// As [`connectable_listening`], the client's connections leaving from `source`
/// (one of its addresses) when given.
#[allow(dead_code)]
pub fn connectable_from(
    pair: &Pair,
    ports: &BTreeSet<u16>,
    listen: &BTreeSet<u16>,
    ipv6: bool,
    source: Option<&str>,
) -> Result<BTreeSet<u16>, String> {
    let to_list = |set: &BTreeSet<u16>| {
        set.iter()
            .map(u16::to_string)
            .collect::<Vec<String>>()
            .join(",")
    };
    let list = to_list(ports);
    let listen_list = to_list(listen);
    let family = if ipv6 { "6" } else { "4" };
    let target = if ipv6 { SERVER_ADDR6 } else { SERVER_ADDR };
    let mut listener = pair
        .server
        .command("python3")
        .args(["-c", LISTEN, family, &listen_list])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the listener: {e}"))?;
    let mut ready = String::new();
    if let Some(out) = listener.stdout.as_mut() {
        let _ = std::io::BufReader::new(out).read_line(&mut ready);
    }
    let result = if ready.trim() == "ready" {
        pair.client
            .command("python3")
            .args(["-c", CONNECT, family, target, &list])
            .args(source)
            .output()
            .map_err(|e| format!("cannot run the client: {e}"))
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .split(',')
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
    } else {
        Err("the listener did not start".to_owned())
    };
    drop(listener.stdin.take());
    let _ = listener.kill();
    let _ = listener.wait();
    result
}
