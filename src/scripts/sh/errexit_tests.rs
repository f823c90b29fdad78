//! `set -e` on small scripts; each expectation is what bash 5.2 (or dash 0.5.12)
//! prints for the same text (`echo` marks what runs; `rejected` stands for a
//! command its reader says fails, as `false` does in the real shell).

use super::run;
use crate::scripts::{Run, Status, StopWhy};
use crate::source::{FileId, SourceFile};

fn run_text(text: &str) -> Run {
    let src = SourceFile::new(FileId(0), "t.sh", text.as_bytes());
    let mut commands = Vec::new();
    let outcome = run(&src, &mut |c| {
        let fails = c.argv[0].text == "rejected";
        commands.push(c);
        if fails {
            Status::Fails
        } else {
            Status::Unknown
        }
    });
    Run { commands, outcome }
}

/// The words `echo` printed, in order.
fn echoed(text: &str) -> Vec<String> {
    run_text(text)
        .commands
        .iter()
        .filter(|c| c.argv[0].text == "echo")
        .map(|c| c.argv[1].text.clone())
        .collect()
}

#[test]
fn a_failing_command_ends_the_script() {
    assert_eq!(echoed("set -e\necho a\nfalse\necho b\n"), ["a"]);
    assert_eq!(echoed("set -e\nrejected x\necho b\n"), Vec::<String>::new());
    assert_eq!(
        echoed("set -o errexit\n[ a = b ]\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        echoed("set -eu\nf() { return 1; }\nf\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        echoed("#!/bin/bash -e\nfalse\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        echoed("#!/bin/sh -e\nfalse\necho b\n"),
        Vec::<String>::new()
    );
    let stop = run_text("set -e\necho a\nrejected x\necho b\n")
        .outcome
        .stop;
    let stop = stop.expect("stopped");
    assert_eq!(stop.why, StopWhy::Errexit);
    assert_eq!((stop.span.start, stop.span.end), (14, 24));
}

#[test]
fn without_set_e_or_with_unknown_status_the_script_goes_on() {
    assert_eq!(echoed("false\necho b\n"), ["b"]);
    assert_eq!(echoed("set -e\nset +e\nfalse\necho b\n"), ["b"]);
    assert_eq!(echoed("set -e\nmodprobe nf_conntrack_ftp\necho b\n"), ["b"]);
    assert_eq!(
        echoed("set -e\nif [ -f /etc/x ]; then false; fi\necho b\n"),
        ["b"]
    );
    assert!(run_text("false\necho b\n").outcome.stop.is_none());
}

#[test]
fn contexts_that_ignore_errexit() {
    assert_eq!(echoed("set -e\nfalse || echo a\necho b\n"), ["a", "b"]);
    assert_eq!(echoed("set -e\nfalse && echo a\necho b\n"), ["b"]);
    assert_eq!(
        echoed("set -e\ntrue && false\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(echoed("set -e\nif false; then echo a; fi\necho b\n"), ["b"]);
    assert_eq!(echoed("set -e\nwhile false; do :; done\necho b\n"), ["b"]);
    assert_eq!(echoed("set -e\n! false\n! true\necho b\n"), ["b"]);
    assert_eq!(
        echoed("set -e\nf() { false; echo in; }\nif f; then echo ok; fi\nf\necho b\n"),
        ["in", "ok"]
    );
    assert_eq!(
        echoed("set -e\n{ false; echo in; } || true\necho b\n"),
        ["in", "b"]
    );
    assert_eq!(
        echoed("set -e\n( false; echo in ) || echo or\n(false; echo x)\necho b\n"),
        ["in"]
    );
    assert_eq!(
        echoed("set -e\n( set +e; false; echo in )\nfalse\necho b\n"),
        ["in"]
    );
}

#[test]
fn pipelines_and_pipefail() {
    assert_eq!(echoed("set -e\nfalse | cat\necho b\n"), ["b"]);
    assert_eq!(
        echoed("#!/bin/bash\nset -eo pipefail\nfalse | cat\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        echoed("set -e\ncat /x | false\necho b\n"),
        Vec::<String>::new()
    );
}

#[test]
fn dash_has_no_pipefail() {
    let run = run_text("#!/bin/sh\nset -euo pipefail\necho b\n");
    assert!(run.commands.is_empty());
    assert_eq!(run.outcome.stop.map(|s| s.why), Some(StopWhy::SetRejected));
    assert_eq!(
        echoed("#!/bin/sh\nset -o pipefail || true\necho b\n"),
        Vec::<String>::new()
    );
    assert_eq!(echoed("#!/bin/bash\nset -euo pipefail\necho b\n"), ["b"]);
}
