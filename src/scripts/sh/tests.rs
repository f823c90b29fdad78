//! The interpreter on small scripts; each expectation is what bash (or dash)
//! runs for the same text.

use super::run;
use crate::scripts::{Command, Input, LimitKind, Run, UNKNOWN, WriteOp};
use crate::source::{FileId, SourceFile};
use std::time::{Duration, Instant};

fn commands(text: &str) -> Run {
    let src = SourceFile::new(FileId(0), "t.sh", text.as_bytes());
    Run::collect(|sink| run(&src, sink))
}

fn argv(c: &Command) -> String {
    c.argv
        .iter()
        .map(|w| w.text.replace(UNKNOWN, "?"))
        .collect::<Vec<_>>()
        .join("|")
}

fn lines(text: &str) -> Vec<String> {
    commands(text).commands.iter().map(argv).collect()
}

fn certain(text: &str) -> Vec<String> {
    commands(text)
        .commands
        .iter()
        .filter(|c| c.uncertain.is_none())
        .map(argv)
        .collect()
}

#[test]
fn words_quotes_and_continuations() {
    assert_eq!(
        lines("X=1\nrun a 'b c' \"d $X\"e\\ f \\\n  g # comment\n"),
        ["run|a|b c|d 1e f|g"]
    );
    assert_eq!(
        lines("#!/bin/bash\nrun $'a\\tb' \"\" ''x\n"),
        ["run|a\tb||x"]
    );
    assert_eq!(lines("run \"a\\\"b\\$c\\d\"\n"), ["run|a\"b$c\\d"]);
}

#[test]
fn parameters_and_splitting() {
    let text = "P='20 21'\nE=\nrun $P \"$P\" $E \"$E\" ${U:-d} ${E:-x} ${E-y} ${P:+alt} ${#P}\nF=vsftpd.conf.bak\nrun ${F%.bak} ${F%%.*} ${F#*.} ${F##*.}\n";
    assert_eq!(
        lines(text),
        [
            "run|20|21|20 21||d|x|alt|5",
            "run|vsftpd.conf|vsftpd|conf.bak|bak"
        ]
    );
    assert_eq!(lines("run ${N:=5} $N\n"), ["run|5|5"]);
    assert_eq!(lines("run $NEVER_SET x\n"), ["run|?|x"]);
    let c = &commands("run $(hostname)\n").commands[0];
    assert_eq!(c.argv[1].unknown.as_deref(), Some("$(hostname)"));
}

#[test]
fn arithmetic_and_seq() {
    assert_eq!(
        lines("i=3\nrun $((i * 2 + 1)) $((40000 + i)) $(( (1<<3) % 5 ))\n"),
        ["run|7|40003|3"]
    );
    assert_eq!(
        lines("for p in $(seq 20 21); do run $p; done\nrun $(seq 1 2 5)\n"),
        ["run|20", "run|21", "run|1|3|5"]
    );
}

#[test]
fn brace_expansion_is_bash_only() {
    assert_eq!(
        lines("#!/bin/bash\nrun a{1,2}b{x,y} {1..3} {c..a} {05..07}\n"),
        ["run|a1bx|a1by|a2bx|a2by|1|2|3|c|b|a|05|06|07"]
    );
    assert_eq!(lines("#!/bin/sh\nrun a{1,2}\n"), ["run|a{1,2}"]);
}

#[test]
fn arrays_and_positional_arguments() {
    let text = "#!/bin/bash\nA=(21 \"40000:40100\")\nrun \"${A[@]}\" ${A[1]} ${#A[@]}\nset -- x 'y z'\nrun \"$@\" $# $2\nfor a; do run $a; done\n";
    assert_eq!(
        lines(text),
        [
            "run|21|40000:40100|40000:40100|2",
            "run|x|y z|2|y|z",
            "run|x",
            "run|y|z"
        ]
    );
}

#[test]
fn functions_run_at_their_call_site() {
    let text = "open() {\n  local port=$1\n  run -A INPUT --dport $port\n}\nrun first\nopen 21\nopen 990\nrun $port\n";
    let run = commands(text);
    let got: Vec<String> = run.commands.iter().map(argv).collect();
    assert_eq!(
        got,
        [
            "run|first",
            "run|-A|INPUT|--dport|21",
            "run|-A|INPUT|--dport|990",
            "run"
        ]
    );
    assert!(!run.commands[1].repeated);
    assert!(run.commands[2].repeated);
    let ret = "f() { run a; return 0; run b; }\nfunction g { run c; }\nf; g\n";
    assert_eq!(lines(&format!("#!/bin/bash\n{ret}")), ["run|a", "run|c"]);
}

#[test]
fn conditions_decided_and_undecided() {
    let text = "A=1\nif [ \"$A\" = 1 ]; then run yes; else run no; fi\nif test -z \"$A\"; then run no2; elif [ $A -ge 1 ]; then run yes2; fi\nif [ -f /etc/x ]; then run maybe; else run maybe2; fi\ntrue && run and\nfalse || run or\ncmd || run unsure\n";
    let run = commands(text);
    let got: Vec<(String, bool)> = run
        .commands
        .iter()
        .map(|c| (argv(c), c.uncertain.is_some()))
        .filter(|(a, _)| a.starts_with("run"))
        .collect();
    assert_eq!(
        got,
        [
            ("run|yes".to_string(), false),
            ("run|yes2".into(), false),
            ("run|maybe".into(), true),
            ("run|maybe2".into(), true),
            ("run|and".into(), false),
            ("run|or".into(), false),
            ("run|unsure".into(), true),
        ]
    );
    assert_eq!(
        certain(
            "#!/bin/bash\nX=ab\n[[ $X == a* && -n $X ]] && run glob\n[[ $X = b* ]] || run notb\n"
        ),
        ["run|glob", "run|notb"]
    );
}

#[test]
fn case_arms() {
    let known = "M=restart\ncase $M in\n  start|restart) run s ;;&\n  *art) run t ;&\n  stop) run u ;;\n  *) run v ;;\nesac\n";
    assert_eq!(
        lines(&format!("#!/bin/bash\n{known}")),
        ["run|s", "run|t", "run|u"]
    );
    // An unset variable (not `$1`, which an init script gets as `start`).
    let unknown = "case \"$MODE\" in\n  start) run s ;;\n  stop) run t ;;\nesac\nrun after\n";
    let run = commands(unknown);
    let flags: Vec<bool> = run.commands.iter().map(|c| c.uncertain.is_some()).collect();
    assert_eq!(flags, [true, true, false]);
}

#[test]
fn loops() {
    assert_eq!(
        lines("for t in filter nat; do run -t $t -L; done\n"),
        ["run|-t|filter|-L", "run|-t|nat|-L"]
    );
    assert_eq!(
        lines("i=0\nwhile [ $i -lt 3 ]; do run $i; i=$((i+1)); done\n"),
        ["run|0", "run|1", "run|2"]
    );
    assert_eq!(
        lines("#!/bin/bash\nfor ((i=0; i<6; i+=2)); do run $i; [ $i = 2 ] && break; done\n"),
        ["run|0", "run|2"]
    );
    let r = commands("while read l; do run $l; done < /etc/hosts\n");
    assert_eq!(r.commands.len(), 2);
    assert!(r.commands[1].uncertain.is_some());
    assert_eq!(
        certain("for x in a b c; do [ $x = b ] && continue; run $x; done\n")
            .into_iter()
            .filter(|l| l.starts_with("run"))
            .collect::<Vec<_>>(),
        ["run|a", "run|c"]
    );
}

#[test]
fn exit_stops_only_when_it_certainly_runs() {
    assert_eq!(
        certain("run a\n[ -f /x ] && exit 1\nrun b\nexit 0\nrun c\n")
            .last()
            .map(String::as_str),
        Some("run|b")
    );
    assert_eq!(lines("(run a; exit 1)\nrun b\n"), ["run|a", "run|b"]);
}

#[test]
fn redirections_leave_argv() {
    let r = commands("run -L >/dev/null 2>&1 </dev/null\nrun 2> err.log x &> all\n");
    assert_eq!(argv(&r.commands[0]), "run|-L");
    assert_eq!(r.commands[0].redirects.len(), 2);
    assert!(r.commands[0].redirects.iter().all(|d| d.discards()));
    assert_eq!(argv(&r.commands[1]), "run|x");
    let fds: Vec<u8> = r.commands[1].redirects.iter().map(|d| d.fd).collect();
    assert_eq!(fds, [2, 1, 2]);
}

#[test]
fn heredocs_and_stdin() {
    let text = "P=21\niptables-restore <<EOF\n-A INPUT --dport $P\nEOF\niptables-restore <<'EOF'\n-A INPUT --dport $P\nEOF\ncat <<-X | iptables-restore\n\t*filter\n\tX\necho \"COMMIT\" | iptables-restore -n\niptables-restore < /etc/iptables.rules\nrun <<<\"$P\"\n";
    let r = commands(text);
    let stdin: Vec<String> = r
        .commands
        .iter()
        .filter_map(|c| match &c.stdin {
            Some(Input::Text(t)) => Some(t.text.clone()),
            Some(Input::File(w)) => Some(format!("< {}", w.text)),
            Some(Input::Piped(_)) | None => None,
        })
        .collect();
    assert_eq!(
        stdin,
        [
            "-A INPUT --dport 21\n",
            "-A INPUT --dport $P\n",
            "*filter\n",
            "*filter\n",
            "COMMIT\n",
            "< /etc/iptables.rules",
            "21\n"
        ]
    );
    // Literal heredoc lines map one to one into the script.
    let Some(Input::Text(t)) = &r.commands[1].stdin else {
        panic!()
    };
    let span = t.span_of(0, 2).unwrap();
    assert_eq!(&text[span.range()], "-A");
    let two = "cat <<A; cat <<B\none\nA\ntwo\nB\nrun\n";
    let r = commands(two);
    assert_eq!(r.commands.len(), 3);
}

fn written(text: &str) -> Vec<(String, String)> {
    commands(text)
        .outcome
        .writes
        .iter()
        .map(|w| {
            let what = match &w.op {
                WriteOp::Replace(t) => format!("= {}", t.text),
                WriteOp::Append(t) => format!("+ {}", t.text),
                WriteOp::Sed(e) => e
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {:?} {:?} {:?} {}",
                            e.command, e.address, e.pattern, e.replacement, e.flags
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            (w.path.text.clone(), what)
        })
        .collect()
}

#[test]
fn files_a_script_writes() {
    let text = "#!/bin/bash\nMIN=40000\ncat > /etc/vsftpd.conf <<EOF\nlisten=YES\npasv_min_port=$MIN\nEOF\necho \"pasv_max_port=40100\" >> /etc/vsftpd.conf\necho -n a > /dev/null\nprintf '%s=%d\\n' pasv_enable 1 x 2 | sudo tee -a /etc/vsftpd.conf > /dev/null\necho -e 'a\\tb' > /tmp/t\n{ echo one; echo two; } > /tmp/g\n";
    assert_eq!(
        written(text),
        [
            (
                "/etc/vsftpd.conf".into(),
                "= listen=YES\npasv_min_port=40000\n".into()
            ),
            ("/etc/vsftpd.conf".into(), "+ pasv_max_port=40100\n".into()),
            ("/etc/vsftpd.conf".into(), "+ pasv_enable=1\nx=2\n".into()),
            ("/tmp/t".into(), "= a\tb\n".into()),
            ("/tmp/g".into(), "= one\n".into()),
            ("/tmp/g".into(), "+ two\n".into()),
        ]
    );
    assert_eq!(
        written(": > /etc/vsftpd.conf\n> /tmp/x\necho a >> /etc/vsftpd.conf\n"),
        [
            ("/etc/vsftpd.conf".into(), "= ".into()),
            ("/tmp/x".into(), "= ".into()),
            ("/etc/vsftpd.conf".into(), "+ a\n".into()),
        ]
    );
    // dash's echo reads escapes and knows no -e.
    assert_eq!(
        written("#!/bin/sh\necho -e 'a\\tb' > /tmp/t\n")[0].1,
        "= -e a\tb\n"
    );
    let r = commands(text);
    let WriteOp::Replace(t) = &r.outcome.writes[0].op else {
        panic!()
    };
    let lit = t.span_of(0, 6).unwrap();
    assert_eq!(&text[lit.range()], "listen");
    let var = t.span_of(25, 30).unwrap();
    assert_eq!(&text[var.range()], "$MIN");
}

#[test]
fn sed_in_place() {
    let w = written(
        "sed -i.bak -e 's/^#\\?listen=.*/listen=YES/' -e 's|a\\|b|c|g' -e '/^x/d' vsftpd.conf\nsed -i 's/anonymous_enable=YES/anonymous_enable=NO/' /etc/vsftpd.conf\nsed 's/a/b/' f > g\n",
    );
    assert_eq!(
        w,
        [
            (
                "vsftpd.conf".into(),
                "s None Some(\"^#\\\\?listen=.*\") Some(\"listen=YES\") ; s None Some(\"a|b\") Some(\"c\") g; d Some(\"/^x/\") None None ".into()
            ),
            (
                "/etc/vsftpd.conf".into(),
                "s None Some(\"anonymous_enable=YES\") Some(\"anonymous_enable=NO\") ".into()
            ),
        ]
    );
}

#[test]
fn sed_in_place_with_a_value_only_the_run_knows() {
    let r = commands("A=\"$(hostname -i)\"\nsed -i \"s/PLACEHOLDER/$A/g\" /etc/vsftpd.conf\n");
    let [write] = r.outcome.writes.as_slice() else {
        panic!("{:?}", r.outcome.writes)
    };
    let WriteOp::Sed(edits) = &write.op else {
        panic!("{:?}", write.op)
    };
    let unknown = crate::scripts::UNKNOWN;
    assert_eq!(edits[0].replacement.as_deref(), Some(&*unknown.to_string()));
    assert_eq!(edits[0].unknown.as_deref(), Some("$(hostname -i)"));
}

#[test]
fn prefix_assignments_and_wrappers() {
    assert_eq!(lines("A=1 B=2 run x\nrun $A\n"), ["run|x", "run|?"]);
    let r = commands("sudo -E /sbin/iptables -L\n/etc/init.d/iptables save\n");
    assert!(r.commands[0].program().unwrap().0.is("iptables"));
    assert!(!r.commands[1].program().unwrap().0.is("iptables"));
}

/// A second in a release build; unoptimised test builds on a loaded machine are
/// far slower, and there the budget hit is what shows the run is bounded.
fn limit() -> Duration {
    Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 1 })
}

/// Runs `text` in a thread; it must finish within a second with a budget hit.
fn bounded(text: &'static str, kind: LimitKind) {
    let start = Instant::now();
    let handle = std::thread::spawn(move || commands(text));
    loop {
        if handle.is_finished() {
            break;
        }
        assert!(start.elapsed() < limit(), "did not finish: {text}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = handle.join().unwrap();
    assert!(start.elapsed() < limit(), "too slow: {text}");
    let kinds: Vec<LimitKind> = r.outcome.limits.iter().map(|l| l.kind).collect();
    assert!(kinds.contains(&kind), "{text}: {kinds:?}");
}

#[test]
fn blow_ups_hit_the_budget() {
    bounded("while true; do :; done\n", LimitKind::Steps);
    bounded(
        "for a in $(seq 1 256); do for b in $(seq 1 256); do for c in $(seq 1 256); do for d in $(seq 1 256); do X=1; done; done; done; done\n",
        LimitKind::Steps,
    );
    bounded(
        "A=x\nfor i in $(seq 1 40); do A=\"$A$A\"; done\nrun \"$A\"\n",
        LimitKind::StringLength,
    );
    bounded("f() { f; }\nf\n", LimitKind::Nesting);
    bounded("f() { f; f; }\nf\n", LimitKind::Steps);
    bounded(
        "#!/bin/bash\nrun {1..9}{1..9}{1..9}{1..9}{1..9}{1..9}{1..9}\n",
        LimitKind::StringLength,
    );
    bounded(
        "for i in $(seq 1 200000); do run $i; done\n",
        LimitKind::Commands,
    );
}

#[test]
fn odd_input_never_panics() {
    for text in [
        "\"",
        "'",
        "$(",
        "${",
        "${x",
        "`",
        "<<",
        "<<EOF",
        "cat <<",
        "case",
        "case x in",
        "if",
        "for",
        "for ((",
        "((",
        "$((1+",
        "f() {",
        "{ a; ",
        "a |",
        "a &&",
        "[[ a",
        "))",
        "}",
        "done",
        "fi",
        "${#}",
        "${A[",
        "A[=1",
        "A=(",
        "$'\\x",
        "echo ${x:-${y:-${z",
        "{a,b",
        "{1..",
        "\\",
        "x=$((9223372036854775807 * 9223372036854775807))",
        "printf '%'",
        "printf '%5",
        "sed -i 's",
        "sed -i -e",
        "echo -e '\\0",
        "tee",
        "a >",
        "a 2>&",
        "a <&",
        ";;",
        "! ",
        "!",
        "run $(seq -9223372036854775808 9223372036854775807)",
        "for i in $(seq 9223372036854775806 9223372036854775807); do run $i; done",
        "run {1..9223372036854775807..4611686018427387904}",
        "run {-9223372036854775808..9223372036854775807..9223372036854775807}",
        "run $((-9223372036854775808 / -1)) $((1 << 99)) $((2 ** 99))",
        "printf '%d %x %5.3s' -9223372036854775808 -1 abcdef",
    ] {
        let _ = commands(text);
        let _ = commands(&format!("#!/bin/sh\n{text}\n"));
    }
}

fn lines_of(run: &Run) -> Vec<String> {
    run.commands.iter().map(argv).collect()
}

fn run_in(dir: &std::path::Path, files: &[(&str, &str)]) -> Run {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let path = dir.join(files[0].0);
    let src = SourceFile::new(FileId(0), path, files[0].1.as_bytes());
    Run::collect(|sink| run(&src, sink))
}

#[test]
fn a_sourced_file_sets_variables_and_runs_commands_at_the_dot_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = "#!/bin/sh\n. ./vars.sh\nrun \"$PASV\"\n";
    let vars = "PASV=40000:40100\nlib start\nreturn\nlib never\n";
    let got = run_in(dir.path(), &[("fw.sh", script), ("vars.sh", vars)]);
    let shown: Vec<(String, &str)> = got
        .commands
        .iter()
        .map(|c| (argv(c), &script[c.span.range()]))
        .collect();
    assert_eq!(
        shown,
        [
            ("lib|start".to_owned(), ". ./vars.sh"),
            ("run|40000:40100".to_owned(), "run \"$PASV\"")
        ]
    );
}

#[test]
fn a_file_sourcing_itself_stops_at_the_depth_bound() {
    let dir = tempfile::tempdir().unwrap();
    let script = "run once\n. ./loop.sh\n";
    let got = run_in(dir.path(), &[("loop.sh", script)]);
    assert_eq!(
        lines_of(&got),
        ["run|once"; 9],
        "the script and 8 nested copies"
    );
}

#[test]
fn a_sourced_file_not_in_the_repository_leaves_its_variables_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let script = ". /etc/default/nowhere\nrun \"$PASV\"\n";
    let got = run_in(dir.path(), &[("fw.sh", script)]);
    assert_eq!(lines_of(&got), ["run|?"]);
}

#[test]
fn an_init_script_runs_with_start() {
    // `sh firewall start`, as the init system runs it at boot.
    let script = "start() { run up; }\nstop() { run down; }\ncase \"$1\" in\n  start) start ;;\n  stop) stop ;;\n  restart) stop; start ;;\nesac\nrun $1\n";
    assert_eq!(certain(script), ["run|up", "run|start"]);
    // No arm written for start: the argument stays unknown.
    let other = "case $1 in\n  stop) run down ;;\n  *) run up ;;\nesac\n";
    assert!(certain(other).is_empty(), "{:?}", certain(other));
}

#[test]
fn an_openrc_service_runs_start_pre_start_and_start_post_only() {
    let text = "#!/sbin/openrc-run\nrun top \"$1\"\ndepend() { need net; run depend; }\nstart_pre() { run pre; }\nstart() { ebegin x; run start $#; eend $?; }\nstart_post() { run post; }\nstop() { run stop; }\n";
    assert_eq!(
        certain(text)
            .into_iter()
            .filter(|l| l.starts_with("run"))
            .collect::<Vec<_>>(),
        [
            "run|top|/etc/init.d/t.sh",
            "run|pre",
            "run|start|0",
            "run|post"
        ]
    );
}

#[test]
fn an_openrc_step_that_fails_ends_the_start() {
    let pre = "#!/sbin/openrc-run\nstart_pre() { return 1; }\nstart() { run start; }\n";
    assert!(!lines(pre).iter().any(|l| l.starts_with("run")));
    let eend = "#!/sbin/openrc-run\nstart() { run start; eend 1; }\nstart_post() { run post; }\n";
    let ran: Vec<String> = lines(eend)
        .into_iter()
        .filter(|l| l.starts_with("run"))
        .collect();
    assert_eq!(ran, ["run|start"]);
}

#[test]
fn an_openrc_service_without_start_runs_its_command() {
    let text = "#!/sbin/openrc-run\ncommand=/usr/sbin/iptables\ncommand_args=\"-A INPUT -p tcp --dport 1010 -j ACCEPT\"\n";
    assert_eq!(
        lines(text),
        ["/usr/sbin/iptables|-A|INPUT|-p|tcp|--dport|1010|-j|ACCEPT"]
    );
}
