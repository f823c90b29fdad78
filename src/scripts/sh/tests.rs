//! The interpreter on small scripts, checked against what bash runs.

use super::run;
use crate::scripts::{Command, Run};
use crate::source::{FileId, SourceFile};

fn commands(text: &str) -> Run {
    let src = SourceFile::new(FileId(0), "t.sh", text.as_bytes());
    Run::collect(|sink| run(&src, sink))
}

fn argv(c: &Command) -> String {
    c.argv.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
}

fn lines(text: &str) -> Vec<String> {
    commands(text).commands.iter().map(argv).collect()
}

#[test]
fn words_and_quotes() {
    assert_eq!(lines("echo a 'b c' \"d $X\"e\\ f\n"), ["echo a b c d \u{E0FF}e f"]);
}
