use super::sed::{Program, bre_to_regex};
use super::*;
use crate::formats::Document;
use crate::scripts::{SedEdit, Word, Write};

const SCRIPT: FileId = FileId(0);
const REPO_FILE: FileId = FileId(1);

fn span(a: usize, b: usize) -> Span {
    Span::new(SCRIPT, a, b)
}

/// Text that is the script's bytes `at..at+len(text)`.
fn verbatim(text: &str, at: usize) -> Text {
    let mut t = Text::default();
    t.push(text, span(at, at + text.len()), true);
    t
}

fn write(path: &str, op: WriteOp, at: usize) -> Write {
    Write {
        path: Word::literal(path, span(at, at + 1)),
        op,
        span: span(at, at + 1),
        uncertain: None,
    }
}

fn edit(command: char, address: Option<&str>, pattern: Option<&str>, rest: &str) -> SedEdit {
    let (replacement, flags) = match command {
        's' => {
            let (r, f) = rest.rsplit_once('/').unwrap_or((rest, ""));
            (Some(r.to_owned()), f.to_owned())
        }
        _ => (
            Some(rest.to_owned()).filter(|r| !r.is_empty()),
            String::new(),
        ),
    };
    SedEdit {
        command,
        address: address.map(str::to_owned),
        pattern: pattern.map(str::to_owned),
        replacement,
        flags,
        span: span(900, 910),
        unknown: None,
    }
}

fn script(text: &str) -> SourceFile {
    SourceFile::new(SCRIPT, "provision/setup.sh", text.as_bytes())
}

fn outcome(writes: Vec<Write>) -> Outcome {
    Outcome {
        writes,
        ..Outcome::default()
    }
}

fn run_sed(input: &str, edits: &[SedEdit]) -> Result<String, String> {
    let program = Program::parse(edits)?;
    let text = verbatim(input, 0);
    program
        .run(&text, MAX_WRITTEN_BYTES)
        .map(|t| t.text)
        .map_err(|w| format!("{w:?}"))
}

/// GNU sed on the same input, the oracle; `None` where sed is not installed.
fn gnu_sed(input: &str, program: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("sed")
        .arg("-e")
        .arg(program)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

const CONF: &str =
    "listen=YES\n#pasv_min_port=1\npasv_min_port=40000\npasv_max_port=40100\nmax_clients=6";

#[test]
fn sed_agrees_with_gnu_sed() {
    let cases: Vec<(&str, &str, Vec<SedEdit>)> = vec![
        (
            CONF,
            "s/^pasv_max_port=.*/pasv_max_port=40009/",
            vec![edit(
                's',
                None,
                Some("^pasv_max_port=.*"),
                "pasv_max_port=40009/",
            )],
        ),
        (
            CONF,
            r"s/^\(pasv_m[a-z]*_port\)=\([0-9]\{5\}\)$/\1=&:\2/g",
            vec![edit(
                's',
                None,
                Some(r"^\(pasv_m[a-z]*_port\)=\([0-9]\{5\}\)$"),
                r"\1=&:\2/g",
            )],
        ),
        (
            "baaac\nhello\n",
            "s/a*/x/g",
            vec![edit('s', None, Some("a*"), "x/g")],
        ),
        (
            "hello\n",
            "s/l*/<&>/g",
            vec![edit('s', None, Some("l*"), "<&>/g")],
        ),
        (
            "abcabcabc\n",
            "s/b/X/2g",
            vec![edit('s', None, Some("b"), "X/2g")],
        ),
        (
            "abcabc\n",
            "s/b/X/2",
            vec![edit('s', None, Some("b"), "X/2")],
        ),
        (
            "Listen=yes\n",
            "s/listen=YES/ok/I",
            vec![edit('s', None, Some("listen=YES"), "ok/I")],
        ),
        (
            "x*y a+b a.b\n",
            r"s/*/S/;s/a+b/P/;s/a\.b/D/",
            vec![
                edit('s', None, Some("*"), "S/"),
                edit('s', None, Some("a+b"), "P/"),
                edit('s', None, Some(r"a\.b"), "D/"),
            ],
        ),
        (
            "a]b a-b\n",
            "s/[]-]/Z/g",
            vec![edit('s', None, Some("[]-]"), "Z/g")],
        ),
        (
            "k1 k22 k333\n",
            r"s/k[[:digit:]]\{2,\}/N/g",
            vec![edit('s', None, Some(r"k[[:digit:]]\{2,\}"), "N/g")],
        ),
        (
            "foo bar\n",
            r"s/\<b/B/",
            vec![edit('s', None, Some(r"\<b"), "B/")],
        ),
        (
            "a^b a$b\n",
            r"s/a^b/1/;s/a$b/2/",
            vec![
                edit('s', None, Some("a^b"), "1/"),
                edit('s', None, Some("a$b"), "2/"),
            ],
        ),
        (
            "k=v\n",
            r"s/=.*/=\&\t\\/",
            vec![edit('s', None, Some("=.*"), r"=\&\t\\/")],
        ),
        (CONF, "/^#/d", vec![edit('d', Some("/^#/"), None, "")]),
        (CONF, "2d", vec![edit('d', Some("2"), None, "")]),
        (CONF, "$d", vec![edit('d', Some("$"), None, "")]),
        (CONF, "2,3d", vec![edit('d', Some("2,3"), None, "")]),
        (
            CONF,
            "/min/,/max/d",
            vec![edit('d', Some("/min/,/max/"), None, "")],
        ),
        (CONF, "3,1d", vec![edit('d', Some("3,1"), None, "")]),
        (
            CONF,
            "/^listen/!d",
            vec![edit('d', Some("/^listen/!"), None, "")],
        ),
        (
            CONF,
            "/^LISTEN/Id",
            vec![edit('d', Some("/^LISTEN/I"), None, "")],
        ),
        (
            CONF,
            r"\%^max%d",
            vec![edit('d', Some(r"\%^max%"), None, "")],
        ),
        (
            CONF,
            "/^listen=/a pasv_enable=YES",
            vec![edit('a', Some("/^listen=/"), None, "pasv_enable=YES")],
        ),
        (
            CONF,
            "$a pasv_address=203.0.113.5",
            vec![edit('a', Some("$"), None, "pasv_address=203.0.113.5")],
        ),
        (
            CONF,
            "1i # written by setup.sh",
            vec![edit('i', Some("1"), None, "# written by setup.sh")],
        ),
        (
            CONF,
            "/^pasv_max_port/c pasv_max_port=40009",
            vec![edit(
                'c',
                Some("/^pasv_max_port/"),
                None,
                "pasv_max_port=40009",
            )],
        ),
        (
            CONF,
            "2,3c gone",
            vec![edit('c', Some("2,3"), None, "gone")],
        ),
        (
            CONF,
            r"1a one\ttab\nsecond",
            vec![edit('a', Some("1"), None, r"one\ttab\nsecond")],
        ),
        ("a\nb", "s/b/c/", vec![edit('s', None, Some("b"), "c/")]),
        ("a\nb", "a X", vec![edit('a', None, None, "X")]),
        (
            CONF,
            "s/^pasv_min_port=.*/pasv_min_port=40000/;/^pasv_min_port/d",
            vec![
                edit('s', None, Some("^pasv_min_port=.*"), "pasv_min_port=40000/"),
                edit('d', Some("/^pasv_min_port/"), None, ""),
            ],
        ),
    ];
    let mut checked = 0;
    for (input, program, edits) in cases {
        let Some(expected) = gnu_sed(input, program) else {
            continue;
        };
        checked += 1;
        assert_eq!(
            run_sed(input, &edits).as_deref(),
            Ok(expected.as_str()),
            "sed -e '{program}' on {input:?}"
        );
    }
    if checked == 0 {
        eprintln!("skipped: GNU sed is not installed");
    }
}

#[test]
fn sed_refuses_what_it_does_not_follow() {
    for edits in [
        vec![edit('y', None, Some("abc"), "xyz")],
        vec![edit('s', Some("0,/^pasv/"), Some(""), "x/")],
        vec![edit('s', None, Some(r"\(a\)\1"), "x/")],
        vec![edit('s', None, Some(r"a\|b"), "x/")],
        vec![edit('s', None, Some("a"), "x/w out")],
        vec![edit('s', None, Some("a"), "x/p")],
        vec![edit('s', None, Some("a"), r"\U&/")],
        vec![edit('s', None, Some(r"\(a\)"), r"\2/")],
        vec![edit('d', Some("1~2"), None, "")],
        vec![edit('a', None, None, "")],
    ] {
        assert!(Program::parse(&edits).is_err(), "{edits:?}");
    }
}

#[test]
fn bre_becomes_the_same_expression() {
    assert_eq!(bre_to_regex(r"^\(a\)\{2,3\}$").unwrap(), "^(a){2,3}$");
    assert_eq!(bre_to_regex("a+b?c(d)|e").unwrap(), r"a\+b\?c\(d\)\|e");
    assert_eq!(bre_to_regex("*a*").unwrap(), r"\*a*");
    assert_eq!(bre_to_regex("^*").unwrap(), r"^\*");
    assert_eq!(bre_to_regex(r"x\{,2\}").unwrap(), "x{0,2}");
    assert_eq!(bre_to_regex("[^]a-]").unwrap(), r"[^\]a\-]");
    assert_eq!(bre_to_regex("[a&&b]").unwrap(), r"[a\&\&b]");
    assert!(bre_to_regex(r"a**").is_err());
    assert!(bre_to_regex("[a").is_err());
    assert!(bre_to_regex(r"\{1\}").is_err());
}

#[test]
fn lines_sed_leaves_alone_keep_their_origin_and_new_ones_point_at_the_edit() {
    let input = verbatim("a=1\nb=2\n", 100);
    let edits = [edit('s', None, Some("^b=.*"), "b=3/")];
    let out = Program::parse(&edits)
        .unwrap()
        .run(&input, MAX_WRITTEN_BYTES)
        .unwrap();
    assert_eq!(out.text, "a=1\nb=3\n");
    assert_eq!(out.span_of(0, 3), Some(span(100, 103)));
    assert_eq!(out.span_of(4, 7), Some(span(900, 910)));
}

#[test]
fn writes_apply_in_order_per_path() {
    let s = script("0123456789012345678901234567890123456789");
    let w = outcome(vec![
        write(
            "/etc/vsftpd.conf",
            WriteOp::Replace(verbatim("listen=YES\n", 0)),
            0,
        ),
        write("/etc/motd", WriteOp::Replace(verbatim("hi\n", 20)), 1),
        write(
            "/etc//vsftpd.conf",
            WriteOp::Append(verbatim("pasv_min_port=1\n", 11)),
            2,
        ),
        write(
            "/etc/vsftpd.conf",
            WriteOp::Sed(vec![edit('s', None, Some("1$"), "40000/")]),
            3,
        ),
    ]);
    let written = follow(&s, &w, &Repo::new([]));
    assert!(written.not_followed.is_empty());
    let conf = &written.files[0];
    assert_eq!(conf.path, "/etc/vsftpd.conf");
    assert_eq!(conf.text.text, "listen=YES\npasv_min_port=40000\n");
    assert_eq!(conf.span, span(3, 4));
    assert_eq!(written.files[1].text.text, "hi\n");
    let replaced = follow(
        &s,
        &outcome(vec![
            write("/etc/vsftpd.conf", WriteOp::Append(verbatim("x=1\n", 0)), 0),
            write(
                "/etc/vsftpd.conf",
                WriteOp::Replace(verbatim("y=2\n", 4)),
                1,
            ),
        ]),
        &Repo::new([]),
    );
    assert_eq!(replaced.files[0].text.text, "y=2\n");
}

#[test]
fn an_edit_with_no_copy_to_start_from_is_not_followed() {
    let s = script("sed -i s/a/b/ /etc/vsftpd.conf");
    let w = outcome(vec![
        write(
            "/etc/vsftpd.conf",
            WriteOp::Sed(vec![edit('s', None, Some("a"), "b/")]),
            0,
        ),
        write(
            "/etc/ssh/sshd_config",
            WriteOp::Append(verbatim("x\n", 0)),
            1,
        ),
    ]);
    let written = follow(&s, &w, &Repo::new([]));
    assert!(written.files.is_empty());
    assert_eq!(
        written.not_followed.len(),
        1,
        "only files pasvlint reads are reported"
    );
    assert_eq!(written.not_followed[0].why, Why::NoBase { appends: false });
}

#[test]
fn the_nearest_repository_copy_with_the_longest_tail_is_edited() {
    let files = [
        SourceFile::new(FileId(1), "provision/files/vsftpd.conf", b"a=1\n"),
        SourceFile::new(FileId(2), "provision/etc/vsftpd.conf", b"a=2\n"),
        SourceFile::new(FileId(3), "etc/vsftpd.conf", b"a=3\n"),
        SourceFile::new(FileId(4), "other/vsftpd.conf", b"a=4\n"),
    ];
    let repo = Repo::new(&files);
    let here = Path::new("provision/setup.sh");
    assert_eq!(
        repo.copy_of("/etc/vsftpd.conf", here).map(|f| f.id),
        Some(FileId(2))
    );
    assert_eq!(
        repo.copy_of("vsftpd.conf", here).map(|f| f.id),
        Some(FileId(2))
    );
    let top = Path::new("setup.sh");
    assert_eq!(
        repo.copy_of("/etc/vsftpd.conf", top).map(|f| f.id),
        Some(FileId(3))
    );
    assert_eq!(repo.copy_of("/etc/proftpd.conf", top).map(|f| f.id), None);
    let deep = Path::new("other/x/setup.sh");
    assert_eq!(
        repo.copy_of("vsftpd.conf", deep).map(|f| f.id),
        Some(FileId(4))
    );
}

#[test]
fn a_sed_edit_of_a_repository_file_keeps_its_unchanged_lines_there() {
    let base = SourceFile::new(REPO_FILE, "provision/files/vsftpd.conf", CONF.as_bytes());
    let s = script("sed -i 's/^pasv_max_port=.*/pasv_max_port=40009/' /etc/vsftpd.conf");
    let w = outcome(vec![write(
        "/etc/vsftpd.conf",
        WriteOp::Sed(vec![edit(
            's',
            None,
            Some("^pasv_max_port=.*"),
            "pasv_max_port=40009/",
        )]),
        0,
    )]);
    let written = follow(&s, &w, &Repo::new([&base]));
    let conf = &written.files[0];
    assert_eq!(conf.base, Some(REPO_FILE));
    let doc = document(conf, &s, FileId(7)).expect("a vsftpd.conf");
    assert_eq!(doc.format, Format::Vsftpd);
    assert_eq!(
        doc.source.display_path(),
        "provision/setup.sh → /etc/vsftpd.conf"
    );
    let origin = doc.source.origin().unwrap();
    let listen = doc.source.text.find("listen").unwrap();
    assert_eq!(
        origin.map(listen, listen + 6),
        Span::new(REPO_FILE, 0, 6),
        "an unchanged line is the repository file's"
    );
    let max = doc.source.text.find("pasv_max_port").unwrap();
    assert_eq!(
        origin.map(max, max + 19),
        span(900, 910),
        "a changed line is the edit's"
    );
}

/// A heredoc body is the script's bytes: a setting read from the written file
/// maps to its line in the script.
#[test]
fn a_heredoc_setting_maps_to_its_line_in_the_script() {
    let text = "#!/bin/sh\ncat > /etc/vsftpd.conf <<EOF\nlisten=YES\npasv_min_port=40000\npasv_max_port=$MAX\nEOF\n";
    let s = script(text);
    let body_at = text.find("listen").unwrap();
    let unknown_at = text.find("$MAX").unwrap();
    let mut body = Text::default();
    body.push(&text[body_at..unknown_at], span(body_at, unknown_at), true);
    body.push(
        &UNKNOWN.to_string(),
        span(unknown_at, unknown_at + 4),
        false,
    );
    body.push("\n", span(unknown_at + 4, unknown_at + 5), true);
    let w = outcome(vec![write(
        "/etc/vsftpd.conf",
        WriteOp::Replace(body),
        text.find("cat").unwrap(),
    )]);
    let written = follow(&s, &w, &Repo::new([]));
    let doc = document(&written.files[0], &s, FileId(5)).expect("a vsftpd.conf");
    let Document::Vsftpd(config) = &doc.doc else {
        panic!("not read as vsftpd");
    };
    let origin = doc.source.origin().unwrap();
    let min = config
        .settings
        .iter()
        .find(|s| s.name == "pasv_min_port")
        .unwrap();
    let mapped = origin.map(min.line.start as usize, min.line.end as usize);
    assert_eq!(s.slice(mapped), "pasv_min_port=40000");
    let max = config
        .settings
        .iter()
        .find(|s| s.name == "pasv_max_port")
        .unwrap();
    assert!(config.templated, "the unknown value reads as a template");
    let mapped = origin.map(max.line.start as usize, max.line.end as usize);
    assert_eq!(s.slice(mapped), "pasv_max_port=$MAX");
    let min_at = text.find("pasv_min_port").unwrap();
    assert_eq!(
        origin.map_exact(min.line.start as usize, min.line.end as usize),
        Some(span(min_at, min_at + 19)),
        "a verbatim line can be edited in place"
    );
    assert_eq!(
        origin.map_exact(max.line.start as usize, max.line.end as usize),
        None
    );
}

#[test]
fn scripts_a_script_writes_are_not_read() {
    let s = script("cat > /usr/local/sbin/fw.sh");
    let w = outcome(vec![write(
        "/usr/local/sbin/fw.sh",
        WriteOp::Replace(verbatim("#!/bin/sh\niptables -P INPUT DROP\n", 0)),
        0,
    )]);
    let written = follow(&s, &w, &Repo::new([]));
    assert!(document(&written.files[0], &s, FileId(3)).is_none());
}

#[test]
fn a_replacement_only_the_run_knows_is_written_unknown_and_noted() {
    let input = verbatim("listen=YES\npasv_address=PLACEHOLDER\n", 200);
    let mut sub = edit('s', None, Some("PLACEHOLDER"), &format!("{UNKNOWN}/g"));
    sub.unknown = Some("$ADDR".to_owned());
    let edited = Program::parse(&[sub])
        .unwrap()
        .run_noting(&input, MAX_WRITTEN_BYTES)
        .unwrap();
    assert_eq!(
        edited.text.text,
        format!("listen=YES\npasv_address={UNKNOWN}\n")
    );
    let was = Some(span(211, 235));
    assert_eq!(
        edited.unknown,
        [sed::UnknownLine {
            was,
            now: format!("pasv_address={UNKNOWN}")
        }]
    );
    assert_eq!(edited.replaced, [span(211, 235)]);
}

#[test]
fn a_regex_only_the_run_knows_is_not_followed() {
    let mut sub = edit('s', None, Some(&format!("^{UNKNOWN}=.*")), "x/");
    sub.unknown = Some("$NAME".to_owned());
    let why = Program::parse(&[sub]).err().unwrap();
    assert_eq!(
        why,
        "a regex holding $NAME, known only when the script runs"
    );
}
