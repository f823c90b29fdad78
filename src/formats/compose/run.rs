//! `docker run`, `docker container run` and `podman run` in scripts, read as
//! the compose service they amount to: `-p`/`--publish`, `--network host`,
//! `-e`/`--env`, `--env-file`, `-v`/`--volume` and the image (the first word
//! that is not an option) with the words after it (its command) and
//! `--entrypoint`, so the container gets the same publishing layer.

use super::images::{self, PassiveFrom};
use super::{EnvVar, Service, command, mounts, ports};
use crate::scripts::{Command, UNKNOWN, Word};
use crate::source::Span;
use std::path::Path;

/// The index of the first argument after `run`, for a command that starts a container.
pub fn program_of(c: &Command) -> Option<usize> {
    let (p, first) = c.program()?;
    if !matches!(p.name, "docker" | "podman") {
        return None;
    }
    let words: Vec<&str> = c.argv[first..].iter().map(|w| w.text.as_str()).collect();
    match words.as_slice() {
        ["run", ..] => Some(first + 1),
        ["container", "run", ..] => Some(first + 2),
        _ => None,
    }
}

/// Short options that take a value (`-p 21:21`, `-p21:21`, `-dp 21:21`).
const SHORT_VALUE: &[char] = &['p', 'e', 'v', 'w', 'u', 'h', 'l', 'm', 'a', 'c'];

/// Long options that take a value when written without `=`.
const LONG_VALUE: &[&str] = &[
    "publish",
    "env",
    "env-file",
    "volume",
    "name",
    "network",
    "net",
    "workdir",
    "user",
    "hostname",
    "restart",
    "entrypoint",
    "label",
    "label-file",
    "mount",
    "add-host",
    "dns",
    "dns-search",
    "dns-option",
    "cpus",
    "memory",
    "memory-swap",
    "ulimit",
    "cap-add",
    "cap-drop",
    "device",
    "log-driver",
    "log-opt",
    "platform",
    "pull",
    "expose",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-timeout",
    "ip",
    "ip6",
    "mac-address",
    "pid",
    "ipc",
    "security-opt",
    "tmpfs",
    "stop-signal",
    "stop-timeout",
    "shm-size",
    "attach",
    "gpus",
    "cidfile",
    "link",
    "volumes-from",
    "runtime",
    "userns",
    "uts",
    "group-add",
    "sysctl",
    "storage-opt",
    "cpu-shares",
    "cpuset-cpus",
    "cpuset-mems",
    "blkio-weight",
    "domainname",
    "network-alias",
    "annotation",
    "cgroupns",
    "cgroup-parent",
    "isolation",
    "kernel-memory",
    "oom-score-adj",
    "pids-limit",
    "detach-keys",
    "env-host",
    "tz",
    "arch",
    "os",
];

/// One option of the command line and its value.
struct Opt<'a> {
    name: String,
    value: Option<(&'a str, Span, &'a Word)>,
    word: &'a Word,
}

/// The container the command starts, as a service named after `--name` (or the image).
pub fn service(c: &Command, first: usize, script_dir: Option<&Path>) -> Option<Service> {
    let args = c.argv.get(first..).unwrap_or(&[]);
    let (opts, image) = options(args);
    let image = image.filter(|w| w.is_known())?;
    let after = args
        .iter()
        .position(|w| std::ptr::eq(w, image))
        .map_or(&[][..], |i| &args[i + 1..]);
    let mut service = Service {
        name: image.text.clone(),
        name_span: image.span,
        image: Some((image.text.clone(), image.span)),
        ports: Vec::new(),
        ports_span: None,
        host_network: None,
        env: Vec::new(),
        volumes: Vec::new(),
        expose: Vec::new(),
        dockerfile: None,
        parts: super::Parts::default(),
        entrypoint: None,
        command: argv(after),
    };
    let mut env_files = Vec::new();
    for opt in &opts {
        let Some((value, span, word)) = opt.value else {
            continue;
        };
        match opt.name.as_str() {
            "p" | "publish" => publish(&mut service, value, span, opt.word),
            "network" | "net" if value == "host" => service.host_network = Some(span),
            "e" | "env" => service.env.push(env(value, span, word)),
            "env-file" => env_files.push(span),
            "v" | "volume" => service.volumes.extend(volume(word, span, script_dir)),
            "name" if word.is_known() => service.name = value.to_owned(),
            // One program, not split (`--entrypoint string`).
            "entrypoint" => {
                service.entrypoint = Some(command::Argv {
                    words: vec![command::Word {
                        text: word.is_known().then(|| value.to_owned()),
                        span,
                    }],
                    span,
                });
            }
            _ => {}
        }
    }
    let unread = unread_env_files(&service, &env_files);
    service.env.splice(0..0, unread);
    Some(service)
}

/// The words after the image: the container's command (its CMD replaced).
fn argv(words: &[Word]) -> Option<command::Argv> {
    let (first, last) = (words.first()?, words.last()?);
    Some(command::Argv {
        words: words
            .iter()
            .map(|w| command::Word {
                text: w.is_known().then(|| w.text.clone()),
                span: w.span,
            })
            .collect(),
        span: first.span.to(last.span),
    })
}

/// The options before the image, and the image word.
fn options(args: &[Word]) -> (Vec<Opt<'_>>, Option<&Word>) {
    let mut opts = Vec::new();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        i += 1;
        let text = w.text.as_str();
        if text == "--" {
            return (opts, args.get(i));
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some((v, w.span, w))),
                None if LONG_VALUE.contains(&long) => {
                    let v = args.get(i);
                    i += 1;
                    (long, v.map(|v| (v.text.as_str(), v.span, v)))
                }
                None => (long, None),
            };
            opts.push(Opt {
                name: name.to_owned(),
                value,
                word: w,
            });
            continue;
        }
        let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) else {
            return (opts, Some(w));
        };
        for (k, ch) in cluster.char_indices() {
            if !SHORT_VALUE.contains(&ch) {
                opts.push(Opt {
                    name: ch.to_string(),
                    value: None,
                    word: w,
                });
                continue;
            }
            let rest = &cluster[k + ch.len_utf8()..];
            let value = if rest.is_empty() {
                let v = args.get(i);
                i += 1;
                v.map(|v| (v.text.as_str(), v.span, v))
            } else {
                Some((rest, w.span, w))
            };
            opts.push(Opt {
                name: ch.to_string(),
                value,
                word: w,
            });
            break;
        }
    }
    (opts, None)
}

fn publish(service: &mut Service, value: &str, span: Span, option: &Word) {
    if value.contains(UNKNOWN) {
        return;
    }
    if let Ok(entry) = ports::short(value, span) {
        service.ports_span.get_or_insert(option.span);
        service.ports.push(entry);
    }
}

/// `-e NAME=value`, or `-e NAME` (passed through from the shell that runs docker).
fn env(value: &str, span: Span, word: &Word) -> EnvVar {
    match value.split_once('=') {
        Some((name, v)) => EnvVar {
            name: name.to_owned(),
            name_span: span,
            value: (word.is_known()).then(|| v.to_owned()),
            value_span: span,
        },
        None => EnvVar {
            name: value.to_owned(),
            name_span: span,
            value: None,
            value_span: span,
        },
    }
}

/// An env file is read where the script runs, which is not known here: each
/// range variable of the image the command does not set with `-e` may be in it.
fn unread_env_files(service: &Service, env_files: &[Span]) -> Vec<EnvVar> {
    let Some(span) = env_files.first() else {
        return Vec::new();
    };
    let Some(image) = service.image.as_ref().and_then(|(r, _)| images::lookup(r)) else {
        return Vec::new();
    };
    let vars: Vec<&str> = match image.passive {
        PassiveFrom::MinMax { min, max, .. } => vec![min, max],
        PassiveFrom::Colon { var, .. } => vec![var],
        PassiveFrom::Fixed(..) => Vec::new(),
    };
    vars.into_iter()
        .filter(|v| service.env(v).is_none())
        .map(|v| EnvVar {
            name: v.to_owned(),
            name_span: *span,
            value: None,
            value_span: *span,
        })
        .collect()
}

/// `-v SRC:DST[:MODE]`: `./x` and `$PWD/x` (`$(pwd)/x`) are read as the
/// script's folder, where scripts that start containers are run from.
fn volume(word: &Word, span: Span, script_dir: Option<&Path>) -> Option<mounts::Volume> {
    let dir = script_dir?;
    let text = match word.unknown.as_deref() {
        None if word.is_known() => word.text.clone(),
        Some("$PWD" | "${PWD}" | "$(pwd)" | "`pwd`") => {
            let rest = word.text.strip_prefix(UNKNOWN)?;
            (!rest.contains(UNKNOWN)).then(|| format!(".{rest}"))?
        }
        _ => return None,
    };
    let text = text.split_once('=').map_or(text.as_str(), |(_, v)| v);
    mounts::short(text, span, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn command(words: &[&str]) -> Command {
        let mut at = 0;
        let argv = words
            .iter()
            .map(|w| {
                let span = Span::new(FileId(0), at, at + w.len());
                at += w.len() + 1;
                Word::literal(*w, span)
            })
            .collect();
        Command::plain(argv, Span::new(FileId(0), 0, at))
    }

    fn run(words: &[&str]) -> Option<Service> {
        let c = command(words);
        service(&c, program_of(&c)?, Some(Path::new("srv")))
    }

    #[test]
    fn options_before_the_image() {
        let s = run(&[
            "docker",
            "run",
            "-dit",
            "--rm",
            "--name",
            "ftp",
            "-p",
            "21:21",
            "-p21100-21105:21100-21105",
            "--publish=127.0.0.1:990:990",
            "-e",
            "PASV_MIN_PORT=21100",
            "--env",
            "PASV_ADDRESS",
            "-v",
            "./vsftpd.conf:/etc/vsftpd/vsftpd.conf:ro",
            "fauria/vsftpd",
            "-p",
            "9",
        ])
        .unwrap();
        assert_eq!(s.name, "ftp");
        assert_eq!(s.image.clone().unwrap().0, "fauria/vsftpd");
        let published: Vec<_> = s.ports.iter().map(|p| p.target).collect();
        assert_eq!(published, [(21, 21), (21100, 21105), (990, 990)]);
        assert!(s.ports[2].loopback_only());
        assert_eq!(
            s.env("PASV_MIN_PORT").unwrap().value.as_deref(),
            Some("21100")
        );
        assert_eq!(s.env("PASV_ADDRESS").unwrap().value, None);
        assert_eq!(s.volumes[0].source, Path::new("srv/vsftpd.conf"));
        assert!(s.volumes[0].read_only);
        // The words after the image are its command (CMD replaced).
        let words: Vec<_> = s
            .command
            .unwrap()
            .words
            .into_iter()
            .map(|w| w.text.unwrap())
            .collect();
        assert_eq!(words, ["-p", "9"]);
        assert!(s.entrypoint.is_none());
    }

    #[test]
    fn entrypoint_option_is_one_program() {
        let s = run(&[
            "docker",
            "run",
            "--entrypoint",
            "/usr/sbin/pure-ftpd",
            "x/ftpd",
            "-p",
            "30000:30009",
        ])
        .unwrap();
        let e = s.entrypoint.unwrap();
        assert_eq!(e.words.len(), 1);
        assert_eq!(e.words[0].text.as_deref(), Some("/usr/sbin/pure-ftpd"));
        assert_eq!(s.command.unwrap().words.len(), 2);
    }

    #[test]
    fn host_network_container_run_and_podman() {
        let s = run(&[
            "podman",
            "container",
            "run",
            "--net=host",
            "delfer/alpine-ftp-server",
        ])
        .unwrap();
        assert!(s.host_network.is_some());
        let s = run(&["docker", "run", "--network", "host", "-d", "x"]).unwrap();
        assert!(s.host_network.is_some());
        assert!(run(&["docker", "ps"]).is_none());
        assert!(run(&["docker", "run", "-p"]).is_none());
    }

    #[test]
    fn an_env_file_leaves_the_range_unknown() {
        let s = run(&[
            "docker",
            "run",
            "--env-file",
            "ftp.env",
            "-e",
            "PASV_MAX_PORT=21110",
            "fauria/vsftpd",
        ])
        .unwrap();
        assert_eq!(s.env("PASV_MIN_PORT").unwrap().value, None);
        assert_eq!(
            s.env("PASV_MAX_PORT").unwrap().value.as_deref(),
            Some("21110")
        );
    }
}
