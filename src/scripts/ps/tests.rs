use super::*;
use crate::scripts::{LimitKind, Run};
use crate::source::FileId;

fn run_text(script: &str) -> Run {
    let src = SourceFile::new(FileId(0), "x.ps1", script.as_bytes());
    Run::collect(|sink| run(&src, sink))
}

/// Each command as its argv texts joined by `|`.
fn argv(script: &str) -> Vec<String> {
    run_text(script)
        .commands
        .iter()
        .map(|c| {
            c.argv
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn parameters_and_values_as_the_cmdlet_receives_them() {
    assert_eq!(
        argv("New-NetFirewallRule -DisplayName \"FTP\" -LocalPort 21,5000-5100 -Enabled:$false"),
        vec!["New-NetFirewallRule|-DisplayName|FTP|-LocalPort|21,5000-5100|-Enabled|False"]
    );
    let run = run_text("New-NetFirewallRule -LocalPort @(21, \"990\")");
    assert_eq!(
        run.commands[0].argv[2].items,
        Some(vec!["21".to_owned(), "990".to_owned()])
    );
}

#[test]
fn native_arguments_keep_their_quotes_removed_and_variables_expanded() {
    assert_eq!(
        argv("$p = 21\nnetsh advfirewall firewall add rule name=\"FTP $p\" localport=$p dir=in"),
        vec!["netsh|advfirewall|firewall|add|rule|name=FTP 21|localport=21|dir=in"]
    );
}

#[test]
fn strings_and_escapes() {
    assert_eq!(
        argv("Write-Host 'it''s' \"a`tb\" \"x$(1+2)y\" \"${v}\""),
        vec!["Write-Host|it's|a\tb|x3y|\u{E0FF}"]
    );
    assert_eq!(
        argv("$h = @\"\nline $x\n\"@\nWrite-Host $h"),
        vec!["Write-Host|line \u{E0FF}"]
    );
}

#[test]
fn comments_continuations_and_separators() {
    assert_eq!(
        argv("<# block\n comment #> A -x 1 `\n -y 2 # tail\nB; C"),
        vec!["A|-x|1|-y|2", "B", "C"]
    );
}

#[test]
fn redirections_are_not_arguments() {
    let run = run_text("netsh advfirewall show allprofiles > $null 2>&1\nC | Out-Null");
    let c = &run.commands[0];
    assert_eq!(c.argv.len(), 4);
    assert_eq!(c.redirects.len(), 2);
    assert!(c.redirects.iter().all(|r| r.discards()));
    assert_eq!(run.commands.len(), 2);
    assert!(run.commands[1].redirects[0].discards());
}

#[test]
fn ranges_run_both_ways_and_loops_unroll() {
    assert_eq!(
        argv("foreach ($p in 3..1) { P $p }"),
        vec!["P|3", "P|2", "P|1"]
    );
    assert_eq!(
        argv("21,990 | ForEach-Object { P $_ }"),
        vec!["P|21", "P|990"]
    );
    assert_eq!(argv("1..2 | % { P $PSItem }"), vec!["P|1", "P|2"]);
    assert_eq!(
        argv("1..3 | % { if ($_ -eq 2) { return }; P $_ }"),
        vec!["P|1", "P|3"]
    );
    assert!(
        run_text("foreach ($p in 1..2) { P $p }")
            .commands
            .iter()
            .all(|c| c.repeated)
    );
    assert!(!run_text("P 1").commands[0].repeated);
}

#[test]
fn for_loops_follow_their_direction() {
    assert_eq!(
        argv("for ($i = 5; $i -ge 3; $i--) { P $i }"),
        vec!["P|5", "P|4", "P|3"]
    );
    // The condition is false at the start: the body never runs.
    assert!(argv("for ($i = 5000; $i -le 4000; $i++) { P $i }").is_empty());
    assert_eq!(
        argv("for ($i = 0; $i -lt 10; $i += 4) { P $i }"),
        vec!["P|0", "P|4", "P|8"]
    );
}

#[test]
fn huge_range_bounds_are_errors_not_wrapped() {
    let src = SourceFile::new(
        FileId(0),
        "x.ps1",
        b"$r = 1..3000000000\nP $r\nforeach ($p in 4294967297..4294967298) { Q $p }",
    );
    let mut cmds = Vec::new();
    let (_, errors) = run_with_errors(&src, &mut |c| {
        cmds.push(c);
        crate::scripts::Status::Unknown
    });
    assert_eq!(errors.len(), 2);
    // `$r` was never assigned: it is not known (not 1..-1294967296).
    assert!(!cmds[0].argv[1].is_known());
    assert!(cmds.iter().all(|c| c.argv[0].text != "Q"));
    let src = SourceFile::new(FileId(0), "x.ps1", b"foreach ($p in 1..3000000000) { A; B }\nif ((1..3000000000) -contains 5) { C } else { D }\nE");
    let mut cmds = Vec::new();
    let _ = run_with_errors(&src, &mut |c| {
        cmds.push(c);
        crate::scripts::Status::Unknown
    });
    let names: Vec<&str> = cmds.iter().map(|c| c.argv[0].text.as_str()).collect();
    assert_eq!(names, vec!["E"]);
}

#[test]
fn conditions_decide_or_make_branches_uncertain() {
    assert_eq!(
        argv("$a = 2\nif ($a -gt 1) { A } elseif ($true) { B } else { C }"),
        vec!["A"]
    );
    let run = run_text("if ($env:X -eq 'y') { A } else { B }\nC");
    let texts: Vec<&str> = run
        .commands
        .iter()
        .map(|c| c.argv[0].text.as_str())
        .collect();
    assert_eq!(texts, vec!["A", "B", "C"]);
    assert!(run.commands[0].uncertain.is_some() && run.commands[1].uncertain.is_some());
    assert!(run.commands[2].uncertain.is_none());
    // A variable the branches disagree on is unknown afterwards.
    let run = run_text("if ($x) { $p = 1 } else { $p = 2 }\nP $p");
    assert!(!run.commands[0].argv[1].is_known());
    assert_eq!(
        argv(
            "if ('FTP' -like 'f*') { A }\nif ('abc' -match '^A') { B }\nif (-not (1 -eq 2)) { C }"
        ),
        vec!["A", "B", "C"]
    );
}

#[test]
fn switch_while_do_break_continue() {
    assert_eq!(
        argv("switch ('b') { 'a' { A } 'B' { B } default { D } }"),
        vec!["B"]
    );
    assert_eq!(argv("switch (5) { 1 { A } default { D } }"), vec!["D"]);
    assert_eq!(
        argv("$i = 0\nwhile ($i -lt 3) { $i++; if ($i -eq 2) { continue }; P $i }"),
        vec!["P|1", "P|3"]
    );
    assert_eq!(
        argv("$i = 0\ndo { P $i; $i++ } until ($i -ge 2)"),
        vec!["P|0", "P|1"]
    );
    assert_eq!(
        argv("foreach ($p in 1..5) { if ($p -eq 3) { break }; P $p }"),
        vec!["P|1", "P|2"]
    );
}

#[test]
fn functions_run_where_they_are_called() {
    let script = "function Open-Port { param($Port, [switch]$Udp) New-NetFirewallRule -LocalPort $Port -Udp:$Udp }\n\
                  Open-Port 21\nOpen-Port -Port 990 -Udp\nfunction F($a, $b) { P $a $b }\nF -b 2 1";
    assert_eq!(
        argv(script),
        vec![
            "New-NetFirewallRule|-LocalPort|21|-Udp|False",
            "New-NetFirewallRule|-LocalPort|990|-Udp|True",
            "P|1|2"
        ]
    );
    let run = run_text(script);
    assert!(!run.commands[0].repeated && run.commands[1].repeated);
    assert_eq!(argv("function G { return; X }\nG\nY"), vec!["Y"]);
    assert_eq!(argv("A\nexit\nB"), vec!["A"]);
}

#[test]
fn hashtables_splat_in_order() {
    assert_eq!(
        argv(
            "$p = @{ DisplayName = 'FTP'; LocalPort = 21, 990\n Protocol = 'TCP' }\nNew-NetFirewallRule @p -Action Allow"
        ),
        vec!["New-NetFirewallRule|-DisplayName|FTP|-LocalPort|21,990|-Protocol|TCP|-Action|Allow"]
    );
}

#[test]
fn arithmetic_strings_and_format() {
    assert_eq!(
        argv(
            "$a = 5000; $a += 100; $s = 'x'; $s += 'y'; $l = @(1); $l += 2\nP $a $s $l (\"{0}-{1}\" -f 1, $a) ('a' + 1) (0x15)"
        ),
        vec!["P|5100|xy|1,2|1-5100|a1|21"]
    );
}

#[test]
fn numeric_literals() {
    assert_eq!(
        argv("P (0xd) (0x15l) (5l) (2kb) (7d) 1e3 -5"),
        vec!["P|13|21|5|2048|7|1e3|-5"]
    );
    assert_eq!(
        argv("[int]$x = '21'; $y = [string]5 + 1\nP ($x + 1) $y"),
        vec!["P|22|51"]
    );
}

#[test]
fn try_catch_and_whatif() {
    let run = run_text("try { A } catch { B }\nC -WhatIf");
    let texts: Vec<&str> = run
        .commands
        .iter()
        .map(|c| c.argv[0].text.as_str())
        .collect();
    assert_eq!(texts, vec!["A", "B", "C"]);
    assert!(run.commands[0].uncertain.is_none());
    assert!(run.commands[1].uncertain.is_some());
    assert_eq!(run.commands[2].argv[1].text, "-WhatIf");
}

#[test]
fn native_invocation_with_call_operator() {
    assert_eq!(
        argv(
            "& \"$env:windir\\system32\\inetsrv\\appcmd.exe\" set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:5000"
        ),
        vec![
            "\u{E0FF}\\system32\\inetsrv\\appcmd.exe|set|config|-section|system.ftpServer/firewallSupport|/lowDataChannelPort:5000"
        ]
    );
}

fn within_a_second(script: String) -> Run {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_text(&script));
    });
    rx.recv_timeout(std::time::Duration::from_secs(5))
        .expect("the run stops fast")
}

#[test]
fn doubling_a_string_hits_the_string_budget() {
    let run = within_a_second(
        "$a = 'x'\n1..40 | % { $a = \"$a$a\" }\nforeach ($i in 1..40) { $a = \"$a$a\" }\nP $a"
            .to_owned(),
    );
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| l.kind == LimitKind::StringLength)
    );
}

#[test]
fn nested_huge_loops_hit_the_step_budget() {
    let run = within_a_second(
        "foreach ($a in 1..65535) { foreach ($b in 1..65535) { $x = 1 } }\nfor (;;) { }".to_owned(),
    );
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| l.kind == LimitKind::Steps)
    );
    let run = within_a_second("while ($true) { P 1 }".to_owned());
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| matches!(l.kind, LimitKind::Steps | LimitKind::Commands))
    );
}

#[test]
fn deep_nesting_and_recursion_are_bounded() {
    let run = within_a_second(format!("{}1{}", "(".repeat(5000), ")".repeat(5000)));
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| l.kind == LimitKind::Nesting)
    );
    let run = within_a_second("function F { F }\nF".to_owned());
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| l.kind == LimitKind::Nesting)
    );
}

#[test]
fn never_panics() {
    for s in [
        "$",
        "${",
        "@(",
        "@{",
        "\"",
        "'",
        "`",
        "<#",
        "foreach (",
        "for (;;) {",
        "-",
        "..",
        "1..",
        "$a=",
        "} } )",
        "New-NetFirewallRule -LocalPort",
        "é$é",
        "@\"",
        "@'\nx",
        "switch",
        "function",
        "param(",
        "[",
        "[int",
        "$a[",
        "$a.",
        "1 -f",
        "\"{0\" -f 1",
        "$x = 1/0",
        "-not",
        "& {",
        "2>",
        "a |",
        "| b",
        "if",
        "do",
        "try",
        "'’",
        "\"$(\"",
    ] {
        let _ = run_text(s);
    }
}

/// Each `fixtures/scripts/ps/<name>.ps1` runs to the commands its `.argv` lists,
/// checked by hand against PowerShell's documented behaviour: one command a
/// line, a flag column (`?` uncertain, `*` repeated) then the words, tab-separated,
/// `…` for what the script cannot know.
#[test]
fn fixture_scripts_dispatch_the_argv_powershell_would_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scripts/ps");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/scripts/ps") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "ps1") {
            continue;
        }
        let script = std::fs::read_to_string(&path).expect("script");
        let expected =
            std::fs::read_to_string(path.with_extension("argv")).expect("argv beside the script");
        let got: Vec<String> = run_text(&script)
            .commands
            .iter()
            .map(|c| {
                let flags = format!(
                    "{}{}",
                    if c.uncertain.is_some() { "?" } else { "" },
                    if c.repeated { "*" } else { "" }
                );
                let words: Vec<String> = c
                    .argv
                    .iter()
                    .map(|w| w.text.replace(crate::scripts::UNKNOWN, "…"))
                    .collect();
                format!("{flags}\t{}", words.join("\t"))
            })
            .collect();
        let want: Vec<&str> = expected.lines().collect();
        assert_eq!(got, want, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn growing_an_array_one_element_at_a_time_is_bounded() {
    let run = within_a_second(
        "$a = @()\nfor ($i = 0; $i -lt 1000000; $i++) { $a += $i }\nP $a".to_owned(),
    );
    assert!(
        run.outcome
            .limits
            .iter()
            .any(|l| l.kind == LimitKind::Steps)
    );
}

#[test]
fn stepping_an_array_is_an_error_that_leaves_it_as_it_was() {
    assert_eq!(argv("$a = 50,0\n$a++\nP $a"), vec!["P|50,0"]);
    assert_eq!(
        argv("$n = $null\n$n++\n$i = 4\n$i--\nP $n $i"),
        vec!["P|1|3"]
    );
}

/// The parse error PowerShell reports for `script`, and the text of its span.
fn parse_error(script: &str) -> Option<(&'static str, String)> {
    let src = SourceFile::new(FileId(0), "x.ps1", script.as_bytes());
    let run = Run::collect(|sink| run(&src, sink));
    let stop = run.outcome.stop?;
    match stop.why {
        crate::scripts::StopWhy::NotParsed(m) => {
            assert!(run.commands.is_empty(), "{script:?} ran commands");
            Some((m, src.slice(stop.span).to_owned()))
        }
        _ => None,
    }
}

/// PowerShell's own parser tests (test/powershell/Language/Parser/Parsing.Tests.ps1,
/// `ShouldBeParseError`) and its ParserStrings.resx messages: a loop keyword without
/// its header or body is a parse error, and a script with one never runs.
#[test]
fn loop_keywords_without_their_header_are_powershell_parse_errors() {
    let open = |kw: &str| format!("Missing opening '(' after keyword '{kw}'.");
    for (script, message, span) in [
        ("for", open("for"), "for"),
        ("for {}", open("for"), "for"),
        ("for\n{ P x }", open("for"), "for"),
        (":lab for", open("for"), "for"),
        ("foreach", open("foreach"), "foreach"),
        ("foreach { P x }", open("foreach"), "foreach"),
        ("while", open("while"), "while"),
        ("while {}", open("while"), "while"),
        ("do {} while", open("while"), "while"),
        ("do {} until {}", open("until"), "until"),
        ("do", "Missing statement body in do loop.".into(), "do"),
        (
            "do {}",
            "Missing while or until keyword in do loop.".into(),
            "do {}",
        ),
        (
            "for($a;$b;$c)",
            "Missing statement body in for loop.".into(),
            "for($a;$b;$c)",
        ),
        (
            "while ($true)",
            "Missing statement body in while loop.".into(),
            "while ($true)",
        ),
        (
            "switch",
            "A switch statement must have one of the following:  '-file file_name' or '( expression )'.".into(),
            "switch",
        ),
        ("switch (1)", "Missing '{' in switch statement.".into(), "switch (1)"),
    ] {
        let got = parse_error(&format!("P before\n{script}\nP after"));
        assert_eq!(
            got.map(|(m, s)| (m.to_owned(), s)),
            Some((message, span.to_owned())),
            "{script:?}"
        );
    }
    let foreach_body = parse_error("foreach ($a in $x)").map(|(m, _)| m);
    assert!(foreach_body.is_some_and(|m| m.starts_with("Missing statement body in foreach loop.")));
}

#[test]
fn complete_loops_and_words_that_only_start_with_a_keyword_parse() {
    for script in [
        "for ($i = 0; $i -lt 2; $i++) { P $i }",
        "for (;;)\n{ break }",
        "foreach ($p in 21, 990)\n{ P $p }",
        "while ($false) { P x }",
        "do { P x } while ($false)",
        "do { P x }\nuntil ($true)",
        "switch -regex (21) { '2' { P x } }",
        "switch -file ports.txt { default { P x } }",
        "for.ps1 -x",
        "1..2 | foreach { P $_ }",
        "Get-Item x | ForEach-Object { P $_ }",
    ] {
        assert_eq!(parse_error(script), None, "{script:?}");
    }
}

/// The fifth fuzzing round's input: a bare `for` was run as an endless loop to
/// the 65,536-command budget. PowerShell does not run the script at all.
#[test]
fn a_bare_for_runs_nothing_and_reaches_no_budget() {
    let run = within_a_second("New-NetFirewallRule -LocalPort 21\nfor\nP x".to_owned());
    assert!(run.commands.is_empty());
    assert!(run.outcome.limits.is_empty());
}
