use super::*;
use crate::scripts::{LimitKind, Run};
use crate::source::FileId;

fn run_script(script: &str) -> Run {
    let src = SourceFile::new(FileId(0), "x.cmd", script.as_bytes());
    Run::collect(|sink| run(&src, sink))
}

fn argvs(script: &str) -> Vec<String> {
    run_script(script)
        .commands
        .iter()
        .map(|c| {
            c.argv
                .iter()
                .map(|w| w.text.replace(UNKNOWN, "?"))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn variables_carets_and_sequences() {
    let got = argvs(
        "@echo off\r\nsetlocal\r\nset LOW=5001\r\nset /a HIGH=%LOW%+200\r\nrem netsh a\r\n:: netsh b\r\nnetsh advfirewall firewall add rule name=\"FTP data\" ^\r\n  dir=in localport=%LOW%-%HIGH% & netsh x %UNSET%\r\n",
    );
    assert_eq!(
        got,
        [
            "netsh|advfirewall|firewall|add|rule|name=FTP data|dir=in|localport=5001-5201",
            "netsh|x|?"
        ]
    );
}

#[test]
fn for_l_unrolls_with_the_value_in_each_command() {
    let run = run_script(
        "for /l %%p in (5001,1,5201) do netsh firewall add portopening TCP %%p \"FTP %%p\"\r\n",
    );
    assert_eq!(run.commands.len(), 201);
    let last = run.commands.last().unwrap();
    assert_eq!(last.argv[5].text, "5201");
    assert_eq!(last.argv[6].text, "FTP 5201");
    assert!(last.repeated);
    assert_eq!(
        argvs("for /l %%i in (5,-2,1) do x %%i\n"),
        ["x|5", "x|3", "x|1"]
    );
    assert_eq!(
        argvs("for /l %%i in (5,1,1) do x %%i\n"),
        Vec::<String>::new()
    );
    // `%%~x` drops the quotes: the program then sees two words.
    assert_eq!(
        argvs("for %%x in (a \"b c\" d) do x %%~x \"%%~x\"\n"),
        ["x|a|a", "x|b|c|b c", "x|d|d"]
    );
}

#[test]
fn goto_eof_and_exit_b_stop() {
    assert_eq!(argvs("a\r\ngoto :eof\r\nb\r\n"), ["a"]);
    assert_eq!(argvs("a\r\nexit /b 0\r\nb\r\n"), ["a"]);
    assert_eq!(argvs("a\r\ngoto end\r\nb\r\n:end\r\nc\r\n"), ["a", "c"]);
}

#[test]
fn goto_loops_are_followed() {
    let got = argvs(
        "set /a i=0\r\n:loop\r\nnetsh p %i%\r\nset /a i+=1\r\nif %i% lss 3 goto loop\r\ndone\r\n",
    );
    assert_eq!(got, ["netsh|p|0", "netsh|p|1", "netsh|p|2", "done"]);
}

#[test]
fn call_label_runs_with_arguments_and_returns() {
    let got = argvs(
        "call :open 21 \"FTP control\"\r\ncall :open 990\r\ngoto :eof\r\n:open\r\nnetsh add %1 %~2\r\nexit /b\r\n",
    );
    assert_eq!(got, ["netsh|add|21|FTP|control", "netsh|add|990"]);
}

#[test]
fn call_reads_its_command_again() {
    let got = argvs(
        "set P=5001\r\nset N=P\r\ncall set V=%%%N%%%\r\n(\r\n  set V=7\r\n  call netsh x %%V%% %V%\r\n)\r\n",
    );
    assert_eq!(got, ["netsh|x|7|5001"]);
}

#[test]
fn redirections_leave_the_argument_vector() {
    let run = run_script("netsh advfirewall reset > nul 2>&1\r\nnetsh x 2>nul >> log.txt\r\n");
    let first = &run.commands[0];
    assert_eq!(first.argv.len(), 3);
    assert_eq!(first.redirects.len(), 2);
    assert!(first.redirects.iter().all(|r| r.discards()));
    let second = &run.commands[1];
    assert_eq!(second.argv.len(), 2);
    assert_eq!(second.redirects[1].target.text, "log.txt");
    assert!(second.redirects[1].append);
}

#[test]
fn if_decides_known_conditions_and_marks_the_rest() {
    let run = run_script(
        "set A=1\r\nif %A%==1 (yes) else (no)\r\nif /i \"%A%\" NEQ \"2\" also\r\nif exist C:\\x (maybe) else (other)\r\nif not defined A nope\r\n",
    );
    let names: Vec<(&str, bool)> = run
        .commands
        .iter()
        .map(|c| (c.argv[0].text.as_str(), c.uncertain.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("yes", false),
            ("also", false),
            ("maybe", true),
            ("other", true)
        ]
    );
}

#[test]
fn a_set_that_may_not_run_leaves_the_value_unknown() {
    let got = argvs(
        "set A=1\r\nif exist C:\\x (set P=6000) else (set P=5001)\r\nif exist y set A=1\r\nnetsh %P% %A%\r\n",
    );
    assert_eq!(got, ["netsh|?|1"]);
}

#[test]
fn uncertain_goto_makes_the_skipped_part_uncertain() {
    let run = run_script("if exist x goto skip\r\nskipped\r\n:skip\r\nafter\r\n");
    let u: Vec<bool> = run.commands.iter().map(|c| c.uncertain.is_some()).collect();
    assert_eq!(u, [true, false]);
}

#[test]
fn delayed_expansion_sees_each_iteration() {
    let got = argvs(
        "setlocal enabledelayedexpansion\r\nset P=100\r\nfor %%x in (a b) do (\r\n  set /a P+=1\r\n  netsh !P! %P%\r\n)\r\nendlocal\r\nnetsh %P%\r\n",
    );
    assert_eq!(got, ["netsh|101|100", "netsh|102|100", "netsh|?"]);
}

#[test]
fn echo_to_a_file_is_a_write() {
    let run = run_script(
        "echo pasv_min_port=5001> C:\\ftp\\vsftpd.conf\r\necho pasv_max_port=5201>>C:\\ftp\\vsftpd.conf\r\n",
    );
    assert!(run.commands.is_empty());
    let w = &run.outcome.writes;
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].path.text, "C:\\ftp\\vsftpd.conf");
    match (&w[0].op, &w[1].op) {
        (WriteOp::Replace(a), WriteOp::Append(b)) => {
            assert_eq!(a.text, "pasv_min_port=5001\r\n");
            assert_eq!(b.text, "pasv_max_port=5201\r\n");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_redirected_block_writes_its_lines() {
    let run = run_script("(\r\n  echo listen=YES\r\n  echo pasv_enable=YES\r\n) > vsftpd.conf\r\n");
    let ops: Vec<_> = run
        .outcome
        .writes
        .iter()
        .map(|w| match &w.op {
            WriteOp::Replace(t) => format!("> {}", t.text.trim_end()),
            WriteOp::Append(t) => format!(">> {}", t.text.trim_end()),
            WriteOp::Sed(_) => String::new(),
        })
        .collect();
    assert_eq!(ops, ["> listen=YES", ">> pasv_enable=YES"]);
}

#[test]
fn set_a_is_32_bit() {
    assert_eq!(
        argvs("set /a x=2147483647+1\r\nx %x%\r\n"),
        ["x|-2147483648"]
    );
    assert_eq!(argvs("set /a x=65536*65536\r\nx %x%\r\n"), ["x|0"]);
}

#[test]
fn word_spans_point_into_the_script() {
    let script = "set P=21\r\nnetsh x localport=%P%\r\n";
    let run = run_script(script);
    let w = &run.commands[0].argv[2];
    assert_eq!(&script[w.span.range()], "localport=%P%");
}

#[test]
fn sixty_five_loops_are_all_run() {
    let script: String = (0..70)
        .map(|i| format!("for %%p in ({}) do netsh p %%p\r\n", 1000 + i))
        .collect();
    assert_eq!(argvs(&script).len(), 70);
}

fn finishes_fast(script: &'static str) -> Run {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_script(script));
    });
    // A hang detector: a spent budget ends the run in well under a second in
    // a release build; unoptimised tests on a loaded machine need more.
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("the interpreter finishes within 30 s")
}

#[test]
fn doubling_a_variable_stops_at_the_line_limit() {
    let mut script = String::from("set A=x\r\n");
    for _ in 0..40 {
        script.push_str("set A=%A%%A%\r\n");
    }
    script.push_str("netsh %A%\r\n");
    let run = finishes_fast(Box::leak(script.into_boxed_str()));
    let limit = &run.outcome.limits[0];
    assert_eq!(limit.kind, LimitKind::StringLength);
    assert_eq!(limit.limit, LINE_MAX as u64);
    // The lines that grew too long were skipped: `A` kept its last value.
    assert_eq!(run.commands[0].argv[1].text.len(), 4096);
}

#[test]
fn nested_loops_hit_the_step_budget() {
    let run = finishes_fast(
        "for /l %%a in (1,1,256) do for /l %%b in (1,1,256) do for /l %%c in (1,1,256) do for /l %%d in (1,1,256) do set x=%%d\r\n",
    );
    assert_eq!(run.outcome.limits[0].kind, LimitKind::Steps);
}

#[test]
fn endless_goto_and_step_zero_hit_the_budget() {
    let run = finishes_fast(":a\r\nnetsh x\r\ngoto a\r\n");
    assert!(!run.outcome.limits.is_empty());
    let run = finishes_fast("for /l %%i in (1,0,2) do netsh %%i\r\n");
    assert!(!run.outcome.limits.is_empty());
    let run = finishes_fast(":r\r\ncall :r\r\n");
    assert_eq!(run.outcome.limits[0].kind, LimitKind::Nesting);
}

#[test]
fn never_panics() {
    for s in [
        "%",
        "%%",
        "for",
        "for /l",
        "for /l %%i in (",
        "for /l %%i in (1,1,3) do",
        "^",
        "\"",
        "set /a x=1/0",
        "set /a x=99999999999*99999999999",
        "if",
        "if not",
        "(((((",
        ")))",
        "set =x",
        "set \"",
        "%~",
        "é%é%é",
        "if a==b (",
        "call :",
        "goto",
        "exit /b x",
        ">",
        "2>&",
        "echo >",
        "for %%a in (1) do for %%b in (2) do x %%b",
        "!a!",
        "set /a (",
        "set /a 1+",
        "^\r\n^\r\n",
        "(\r\n(\r\n",
        "for /f \"tokens=1,2\" %%a in (f) do x %%a %%b",
    ] {
        let _ = run_script(s);
    }
}
