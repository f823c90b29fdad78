//! No input makes pasvlint panic: every fixture file, mutated many ways
//! (truncation, byte flips, stray bytes, CRLF, UTF-16, duplication), is linted.
//! Deterministic: the same mutations every run.

mod support;

use std::path::{Path, PathBuf};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn fixture_files() -> Vec<PathBuf> {
    walkdir::WalkDir::new(support::crate_dir().join("fixtures"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| !p.extension().is_some_and(|e| e == "snap" || e == "md"))
        .collect()
}

fn mutations(bytes: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let len = bytes.len().max(1);
    out.push(bytes[..rng.next() % len].to_vec());
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.next() % 8 {
            if !b.is_empty() {
                let i = rng.next() % b.len();
                b[i] = (rng.next() % 256) as u8;
            }
        }
        out.push(b);
    }
    let special: &[&[u8]] = &[
        b"\0",
        b"\r",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"=",
        b"#",
        b":",
        b"\\",
        b"-",
        b"\"",
        b"%",
        b"<",
        b"\n\n",
        b"999999999999999999999",
    ];
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        let at = rng.next() % (b.len() + 1);
        let ins = special[rng.next() % special.len()];
        b.splice(at..at, ins.iter().copied());
        out.push(b);
    }
    out.push(
        bytes
            .iter()
            .flat_map(|&c| {
                if c == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![c]
                }
            })
            .collect(),
    );
    let text = String::from_utf8_lossy(bytes);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out.push(utf16);
    out.push(bytes.repeat(3));
    let lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
    let mut shuffled = lines.clone();
    shuffled.reverse();
    out.push(shuffled.join(&b'\n'));
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(42);
    let mut n = 0;
    for file in fixture_files() {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let name = file.file_name().unwrap().to_owned();
        for m in mutations(&bytes, &mut rng) {
            let case = dir.path().join(format!("case{n}"));
            std::fs::create_dir_all(&case).unwrap();
            std::fs::write(case.join(&name), m).unwrap();
            n += 1;
        }
    }
    assert!(n > 100, "only {n} mutated inputs");
    let all = std::panic::catch_unwind(|| lint_with_small_budgets(dir.path()));
    if all.is_ok() {
        return;
    }
    let culprits: Vec<String> = support::subdirs(dir.path())
        .into_iter()
        .filter(|case| std::panic::catch_unwind(|| lint_with_small_budgets(case)).is_err())
        .map(|case| keep(&case))
        .collect();
    panic!("pasvlint panicked on:\n{}", culprits.join("\n"));
}

/// Lint with script budgets a fiftieth of the defaults: a mutated loop bound
/// (`FOR /L` to 65535, a `seq` grown by a digit) otherwise runs a million
/// interpreter steps per script, which is what this test spent its minutes on.
/// Budgets are spent in full by `structural_blowups_finish_in_time_without_panic`.
fn lint_with_small_budgets(path: &Path) -> pasvlint::Report {
    let mut config = pasvlint::policy::Config::default();
    config.limits.script_steps = 20_000;
    config.limits.script_commands = 2_000;
    pasvlint::lint(&[path.to_path_buf()], &config)
}

/// Copy a crashing input where it survives the test, for a regression fixture.
fn keep(case: &Path) -> String {
    let dest = std::env::temp_dir().join(format!(
        "pasvlint-crash-{}",
        case.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::create_dir_all(&dest);
    for e in std::fs::read_dir(case).unwrap().flatten() {
        let _ = std::fs::copy(e.path(), dest.join(e.file_name()));
    }
    dest.display().to_string()
}

/// Inputs built to blow up a parser or evaluator: deep nesting, long repetition,
/// very long lines. Each must be linted, without a panic, within [`LIMIT`].
fn structural_cases() -> Vec<(&'static str, &'static str, String)> {
    let chains: String = {
        let n = 3000;
        let mut s = String::from("*filter\n:INPUT DROP [0:0]\n");
        for i in 0..n {
            s.push_str(&format!(":C{i} - [0:0]\n"));
        }
        s.push_str("-A INPUT -j C0\n");
        for i in 0..n - 1 {
            s.push_str(&format!("-A C{i} -j C{}\n", i + 1));
        }
        s.push_str(&format!(
            "-A C{} -p tcp --dport 21 -j ACCEPT\nCOMMIT\n",
            n - 1
        ));
        s
    };
    let long_rule = format!(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT{} -j ACCEPT\nCOMMIT\n",
        " -p tcp".repeat(150_000)
    );
    let nested_xml = format!(
        "<configuration><system.ftpServer>{}{}</system.ftpServer></configuration>",
        "<a>".repeat(50_000),
        "</a>".repeat(50_000)
    );
    vec![
        ("vsftpd-repeated", "vsftpd.conf", "pasv_min_port=40000\n".repeat(200_000)),
        ("iptables-chain-of-chains", "rules.v4", chains),
        ("iptables-one-long-rule", "rules.v4", long_rule),
        (
            "iptables-many-rules",
            "rules.v4",
            format!(
                "*filter\n:INPUT DROP [0:0]\n{}COMMIT\n",
                "-A INPUT -s 198.51.100.7/32 -p tcp -m multiport --dports 21,40000:40100 -j ACCEPT\n"
                    .repeat(100_000)
            ),
        ),
        ("xml-deep", "applicationHost.config", nested_xml),
        (
            "shell-nested-substitution",
            "fw.sh",
            format!(
                "#!/bin/sh\niptables -A INPUT -p tcp --dport {}21{} -j ACCEPT\n",
                "$(echo ".repeat(5_000),
                ")".repeat(5_000)
            ),
        ),
        (
            "shell-nested-braces",
            "fw.sh",
            format!("#!/bin/sh\n{}iptables -P INPUT DROP\n{}", "{ ".repeat(5_000), "; }".repeat(5_000)),
        ),
        (
            "shell-endless-loop",
            "fw.sh",
            "#!/bin/sh\nwhile true; do iptables -A INPUT -p tcp --dport 21 -j ACCEPT; done\n".to_owned(),
        ),
        (
            "shell-recursion",
            "fw.sh",
            "#!/bin/bash\nf() { iptables -A INPUT -j ACCEPT; f; }\nf\n".to_owned(),
        ),
        (
            "batch-nested-parentheses",
            "fw.cmd",
            format!(
                "@echo off\n{}netsh advfirewall firewall add rule name=ftp dir=in action=allow protocol=TCP localport=21\n{}",
                "if 1==1 (\n".repeat(5_000),
                ")\n".repeat(5_000)
            ),
        ),
        (
            "powershell-nested-parentheses",
            "fw.ps1",
            format!(
                "New-NetFirewallRule -DisplayName ftp -Direction Inbound -Protocol TCP -LocalPort {}21{} -Action Allow\n",
                "(".repeat(5_000),
                ")".repeat(5_000)
            ),
        ),
        (
            "reg-many-keys",
            "ftp.reg",
            format!(
                "Windows Registry Editor Version 5.00\n\n{}",
                "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\n\"PassivePortRange\"=\"5001-5010\"\n\n"
                    .repeat(50_000)
            ),
        ),
    ]
}

/// Generous for a debug build on a loaded 2-core machine; a blow-up takes far longer.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[test]
fn structural_blowups_finish_in_time_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (case, name, text) in structural_cases() {
        let folder = dir.path().join(case);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), text).unwrap();
        // Printed first: a stack overflow aborts the process before any assert.
        eprintln!("robustness: {case}");
        let (done, wait) = std::sync::mpsc::channel();
        let path = folder.clone();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            let ok = std::panic::catch_unwind(|| support::lint_path(&path)).is_ok();
            let _ = done.send(ok);
        });
        match wait.recv_timeout(LIMIT) {
            Ok(true) => eprintln!("robustness: {case} took {:?}", started.elapsed()),
            Ok(false) => failures.push(format!("{case}: panicked")),
            Err(_) => failures.push(format!("{case}: still running after {LIMIT:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The fuzz targets (`fuzz/src/lib.rs`): one function per parser and interpreter.
#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

/// The grammar a structural case is built from, per parser: a header and footer
/// that make the input its format, the statements it repeats, and the pairs it nests.
struct Grammar {
    target: &'static str,
    head: &'static str,
    tail: &'static str,
    atoms: &'static [&'static str],
    pairs: &'static [(&'static str, &'static str)],
}

const GRAMMARS: &[Grammar] = &[
    Grammar {
        target: "vsftpd",
        head: "listen=YES\n",
        tail: "",
        atoms: &[
            "pasv_min_port=40000\n",
            "pasv_max_port=0x10\n",
            "pasv_max_port=077777\n",
            "max_clients=99999999999999999999\n",
            "pasv_address=203.0.113.5\n",
            "# comment\n",
            " pasv_enable=YES\n",
            "pasv_enable=YES\r\n",
            "=\n",
            "ssl_enable",
        ],
        pairs: &[("pasv_address=", "\n"), ("#", "\n")],
    },
    Grammar {
        target: "proftpd",
        head: "ServerType standalone\n",
        tail: "",
        atoms: &[
            "PassivePorts 40000 40100\n",
            "Include /etc/proftpd/conf.d/*.conf\n",
            "MaxInstances 30\n",
            "Port 21\n",
            "Define X\n",
            "PassivePorts %{env:X} 1\n",
            "\\\n",
            "TLSEngine on\n",
        ],
        pairs: &[
            ("<Global>\n", "</Global>\n"),
            ("<VirtualHost 0.0.0.0>\n", "</VirtualHost>\n"),
            ("<IfModule mod_tls.c>\n", "</IfModule>\n"),
            ("<IfDefine X>\n", "</IfDefine>\n"),
            ("<Directory />\n", "</Directory>\n"),
        ],
    },
    Grammar {
        target: "pureftpd",
        head: "",
        tail: "",
        atoms: &[
            "PassivePortRange 30000 30009\n",
            "MaxClientsNumber 50\n",
            "Bind ,21\n",
            "# comment\n",
            "TLS 2\n",
            "passiveportrange=1 2\n",
            "29799 29899\n",
        ],
        pairs: &[("PassivePortRange ", "\n")],
    },
    Grammar {
        target: "filezilla",
        head: "<FileZillaServer><Settings>",
        tail: "</Settings></FileZillaServer>",
        atoms: &[
            "<Item name=\"Use custom PASV ports\" type=\"numeric\">1</Item>",
            "<Item name=\"Custom PASV min port\" type=\"numeric\">5000</Item>",
            "<Item name=\"Custom PASV max port\" type=\"numeric\">70000</Item>",
            "<Item name=\"Serverports\" type=\"string\">21 990</Item>",
            "&amp;",
            "<!-- c -->",
            "<![CDATA[x]]>",
            "<filezilla><ftp_server><pasv><port_range><min>1</min></port_range></pasv></ftp_server></filezilla>",
        ],
        pairs: &[
            ("<Item>", "</Item>"),
            ("<a>", "</a>"),
            ("<pasv>", "</pasv>"),
        ],
    },
    Grammar {
        target: "iis-metabase",
        head: "<?xml version=\"1.0\"?>\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\"><MBProperty>",
        tail: "</MBProperty></configuration>",
        atoms: &[
            "<IIsFtpService Location=\"/LM/MSFTPSVC\" PassivePortRange=\"5001-5010\"/>",
            "<IIsFtpServer Location=\"/LM/MSFTPSVC/1\" ServerBindings=\":21:\" MaxConnections=\"100\"/>",
            "<IIsFtpService Location=\"/LM/MSFTPSVC\" passiveportrange=\"0-0\"/>",
            "&#x35;",
        ],
        pairs: &[("<IIsFtpService>", "</IIsFtpService>"), ("<x>", "</x>")],
    },
    Grammar {
        target: "iis-apphost",
        head: "<configuration><system.ftpServer>",
        tail: "</system.ftpServer></configuration>",
        atoms: &[
            "<firewallSupport lowDataChannelPort=\"5000\" highDataChannelPort=\"6000\" />",
            "<site name=\"ftp\" id=\"1\"><bindings><binding protocol=\"ftp\" bindingInformation=\"*:21:\" /></bindings></site>",
            "<security><ssl controlChannelPolicy=\"SslRequire\" /></security>",
            "</system.ftpServer><system.applicationHost><sites>",
        ],
        pairs: &[
            ("<sites>", "</sites>"),
            ("<location path=\"x\">", "</location>"),
            ("<a>", "</a>"),
        ],
    },
    Grammar {
        target: "regfile",
        head: "Windows Registry Editor Version 5.00\r\n\r\n",
        tail: "",
        atoms: &[
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n",
            "\"PassivePortRange\"=\"5001-5010\"\r\n",
            "\"PassivePortRange\"=hex(7):35,00,30,00,\\\r\n  30,00,00,00\r\n",
            "\"X\"=dword:00000001\r\n",
            "@=\"x\"\r\n",
            "[-HKEY_LOCAL_MACHINE\\SYSTEM\\X]\r\n",
            "\\\r\n",
            "; comment\r\n",
        ],
        pairs: &[("[", "]\r\n"), ("\"", "\"=\"\"\r\n"), ("hex:", "\r\n")],
    },
    Grammar {
        target: "iptables-save",
        head: "*filter\n:INPUT DROP [0:0]\n:C - [0:0]\n",
        tail: "COMMIT\n",
        atoms: &[
            "-A INPUT -p tcp --dport 21 -j ACCEPT\n",
            "-A INPUT -j C\n",
            "-A C -j RETURN\n",
            "-A C -g C\n",
            "-A INPUT -p tcp -m multiport ! --dports 1:1024,40000:65535 ! -s 10.0.0.0/8 -j DROP\n",
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
            "-A INPUT -p tcp -m tcp --dport 21 -j CT --helper ftp\n",
            "*nat\n",
            "COMMIT\n",
        ],
        pairs: &[("-A INPUT -m comment --comment \"", "\" -j ACCEPT\n")],
    },
    Grammar {
        target: "nftables",
        head: "flush ruleset\ntable inet filter {\n",
        tail: "}\n",
        atoms: &[
            "chain input { type filter hook input priority 0; policy drop; }\n",
            "tcp dport { 21, 40000-40100 } accept\n",
            "define P = { 21, $P }\n",
            "ip saddr 10.0.0.0/8 drop\n",
            "include \"/etc/nftables.d/*.nft\"\n",
            "set s { type inet_service; elements = { 21 } }\n",
            "jump input\n",
            "$P",
            ";",
        ],
        pairs: &[("{", "}"), ("(", ")"), ("chain c {\n", "}\n"), ("\"", "\"")],
    },
    Grammar {
        target: "firewalld",
        head: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>",
        tail: "</zone>",
        atoms: &[
            "<port protocol=\"tcp\" port=\"21\"/>",
            "<service name=\"ftp\"/>",
            "<rule family=\"ipv4\"><source address=\"10.0.0.0/8\"/><port protocol=\"tcp\" port=\"40000-40100\"/><accept/></rule>",
            "<source address=\"198.51.100.0/24\" invert=\"true\"/>",
            "<forward-port port=\"21\" protocol=\"tcp\" to-port=\"2121\"/>",
            "<helper name=\"ftp\"/>",
            "&lt;",
            "DefaultZone=public\n",
        ],
        pairs: &[
            ("<rule>", "</rule>"),
            ("<zone>", "</zone>"),
            ("<service>", "</service>"),
        ],
    },
    Grammar {
        target: "ufw",
        head: "*filter\n:ufw-user-input - [0:0]\n### RULES ###\n",
        tail: "### END RULES ###\nCOMMIT\n",
        atoms: &[
            "### tuple ### allow tcp 21 0.0.0.0/0 any 0.0.0.0/0 in\n",
            "-A ufw-user-input -p tcp --dport 21 -j ACCEPT\n",
            "-A ufw-user-input -p tcp -m multiport --dports 40000:40100 -j ACCEPT\n",
            "IPV6=yes\n",
            "DEFAULT_INPUT_POLICY=\"DROP\"\n",
            "ENABLED=yes\n",
        ],
        pairs: &[("### tuple ### ", "\n"), ("\"", "\"")],
    },
    Grammar {
        target: "powershell",
        head: "",
        tail: "",
        atoms: &[
            "New-NetFirewallRule -DisplayName ftp -Direction Inbound -Protocol TCP -LocalPort 21 -Action Allow\n",
            "$p = 40000..40100\n",
            "foreach ($i in $p) { netsh advfirewall firewall add rule name=x dir=in action=allow protocol=TCP localport=$i }\n",
            "function f { f }\nf\n",
            "Set-WebConfigurationProperty -Filter system.ftpServer/firewallSupport -Name lowDataChannelPort -Value 5000\n",
            "\"$($x)\"",
            "@\"\nx\n\"@\n",
            "`\n",
            "| ForEach-Object { $_ }\n",
        ],
        pairs: &[
            ("(", ")"),
            ("{", "}"),
            ("$(", ")"),
            ("@(", ")"),
            ("\"", "\""),
            ("[", "]"),
        ],
    },
    Grammar {
        target: "sh",
        head: "#!/bin/sh\n",
        tail: "",
        atoms: &[
            "iptables -A INPUT -p tcp --dport 21 -j ACCEPT\n",
            "P=40000:40100\n",
            "iptables -A INPUT -p tcp --dport $P -j ACCEPT\n",
            "for p in 1 2 3; do ufw allow $p/tcp; done\n",
            "f() { f; }\nf\n",
            "cat > /etc/vsftpd.conf <<EOF\npasv_min_port=1\nEOF\n",
            "echo ${X:-${Y}} $((1+2)) \"$P\" '$P'\n",
            "\\\n",
            "firewall-cmd --permanent --add-port=21/tcp\n",
            "while :; do :; done\n",
            "eval \"$P\"\n",
        ],
        pairs: &[
            ("$(", ")"),
            ("{ ", "; }"),
            ("(", ")"),
            ("${X:-", "}"),
            ("if true; then ", "; fi\n"),
            ("\"", "\""),
        ],
    },
    Grammar {
        target: "cmd",
        head: "@echo off\r\n",
        tail: "",
        atoms: &[
            "netsh advfirewall firewall add rule name=ftp dir=in action=allow protocol=TCP localport=21\r\n",
            "set P=40000\r\n",
            "for /L %%i in (1,1,100000) do netsh firewall add portopening TCP %%i x\r\n",
            "call :f\r\n",
            ":f\r\ncall :f\r\n",
            "goto :eof\r\n",
            "%P%",
            "^\r\n",
            "cscript adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5010\"\r\n",
            "appcmd set config /section:system.ftpServer/firewallSupport /lowDataChannelPort:5000\r\n",
            "netsh ipsec static add filter filterlist=f srcaddr=any dstaddr=me protocol=tcp dstport=21\r\n",
        ],
        pairs: &[
            ("if 1==1 (\r\n", ")\r\n"),
            ("(", ")"),
            ("%", "%"),
            ("\"", "\""),
        ],
    },
    Grammar {
        target: "compose",
        head: "services:\n  ftp:\n    image: fauria/vsftpd\n    ports:\n",
        tail: "",
        atoms: &[
            "      - \"21:21\"\n",
            "      - \"21100-21110:21100-21110\"\n",
            "    environment:\n      - PASV_MIN_PORT=${Y:-21100}\n",
            "x: &a [1, 2]\n",
            "y: *a\n",
            "<<: *a\n",
            "- ",
            "  ",
        ],
        pairs: &[("[", "]"), ("{a: ", "}"), ("- ", "\n"), ("${X:-", "}")],
    },
    Grammar {
        target: "kube",
        head: "apiVersion: v1\nkind: Service\nmetadata:\n  name: ftp\nspec:\n",
        tail: "",
        atoms: &[
            "  ports:\n  - port: 21\n    targetPort: 21\n",
            "  selector:\n    app: ftp\n",
            "---\n",
            "apiVersion: apps/v1\nkind: Deployment\n",
            "a: &a [x, x, x, x]\n",
            "b: [*a, *a, *a, *a]\n",
        ],
        pairs: &[("[", "]"), ("{a: ", "}"), ("- ", "\n")],
    },
    Grammar {
        target: "puppet",
        head: "class ftp($min = 40000) {\n",
        tail: "}\n",
        atoms: &[
            "firewall { '100 ftp': dport => [21, '40000-40100'], proto => 'tcp', action => 'accept' }\n",
            "firewallchain { 'INPUT:filter:IPv4': policy => drop, purge => true }\n",
            "file { '/etc/vsftpd.conf': content => \"pasv_min_port=${min}\\n\" }\n",
            "file_line { 'p': path => '/etc/vsftpd.conf', line => 'pasv_max_port=40100' }\n",
            "$x = [$min, \"${min}\", { 'a' => $min }]\n",
            "if $x { include ftp } else { }\n",
            "@(END)\nbody\nEND\n",
            "define d($p) { d { \"${p}x\": p => $p } }\n",
        ],
        pairs: &[
            ("[", "]"),
            ("{ ", " }"),
            ("(", ")"),
            ("\"${", "}\""),
            ("if $a { ", "}"),
        ],
    },
];

/// Structure, not byte flips: statements repeated, pairs nested deep (closed or
/// not), one statement as one very long line, and plain random bytes.
fn structured(g: &'static Grammar) -> impl Strategy<Value = Vec<u8>> {
    let atom = proptest::sample::select(g.atoms);
    let pair = proptest::sample::select(g.pairs);
    let wrap = move |body: String| format!("{}{body}{}", g.head, g.tail).into_bytes();
    prop_oneof![
        proptest::collection::vec(atom.clone(), 0..400).prop_map(move |v| wrap(v.concat())),
        (pair, 1usize..4000, 0usize..4000, atom.clone()).prop_map(
            move |((o, c), open, close, a)| {
                wrap(format!("{}{a}{}", o.repeat(open), c.repeat(close)))
            }
        ),
        (atom, 1usize..20_000).prop_map(move |(a, n)| wrap(a.trim_end().repeat(n) + "\n")),
        proptest::collection::vec(any::<u8>(), 0..2000),
    ]
}

/// A structural case must return, without a panic, on a worker's stack, within this.
const CASE_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

fn returns_in_time(target: &'static str, input: Vec<u8>) -> Result<(), TestCaseError> {
    let run = targets::target(target).expect("a fuzz target").run;
    let (done, wait) = std::sync::mpsc::channel();
    let len = input.len();
    std::thread::Builder::new()
        .stack_size(targets::WORKER_STACK)
        .spawn(move || {
            let ok = std::panic::catch_unwind(|| run(&input)).is_ok();
            let _ = done.send(ok);
        })
        .unwrap();
    match wait.recv_timeout(CASE_LIMIT) {
        Ok(ok) => prop_assert!(ok, "{target} panicked on a {len}-byte input"),
        Err(_) => prop_assert!(
            false,
            "{target} still running after {CASE_LIMIT:?} on {len} bytes"
        ),
    }
    Ok(())
}

use proptest::prelude::*;

#[test]
fn every_parser_survives_nesting_repetition_and_long_lines() {
    assert_eq!(
        GRAMMARS.len(),
        targets::TARGETS.len() - 1,
        "a grammar for every target but lint"
    );
    for g in GRAMMARS {
        eprintln!("robustness: proptest over {}", g.target);
        let config = ProptestConfig {
            cases: 24,
            failure_persistence: None,
            // Shrinking re-runs slow cases; the first failure is reported as found.
            max_shrink_iters: 16,
            ..ProptestConfig::default()
        };
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            config,
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        );
        let result = runner.run(&structured(g), |input| returns_in_time(g.target, input));
        if let Err(e) = result {
            panic!("{}: {e}", g.target);
        }
    }
}
