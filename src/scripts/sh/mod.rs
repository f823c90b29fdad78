//! POSIX sh and bash, evaluated statically: the commands a run would execute,
//! streamed in order, with the files the script writes.
//!
//! [`parse`] reads bash's grammar into an [`ast`]; [`eval`] walks it with the
//! shell's variables, functions and positional arguments, [`expand`] expands
//! words, [`builtins`] does what `echo`, `printf`, `test` and `sed -i` do.
//! Conditions the interpreter cannot decide run every branch, marked uncertain.

mod arith;
pub mod ast;
mod boot;
mod builtins;
mod errexit;
#[cfg(test)]
mod errexit_tests;
mod eval;
mod expand;
mod glob;
mod openrc;
mod parse;
mod sourced;
#[cfg(test)]
mod tests;

use super::{Command, Outcome, Shell, Status};
use crate::source::SourceFile;

/// Run a shell script; each command that runs goes to `sink` as it runs.
pub fn run(source: &SourceFile, sink: &mut dyn FnMut(Command) -> Status) -> Outcome {
    let bash = is_bash(&source.text);
    let script = parse::parse(&source.text, bash);
    let mut interp = eval::Interp::new(source, &script, bash, sink);
    interp.run_script();
    let mut outcome = interp.finish();
    outcome.shell = Some(Shell::Sh);
    outcome
}

/// `#!/bin/sh` scripts run under dash on Debian: no bash extensions, and `echo`
/// interprets backslash escapes. Everything else is read as bash.
fn is_bash(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    let Some(interp) = first.strip_prefix("#!") else {
        return true;
    };
    let mut words = interp.split_whitespace();
    let prog = words.next().unwrap_or("");
    let prog = if prog.ends_with("/env") {
        words.next().unwrap_or("")
    } else {
        prog
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    // OpenRC's runner sources services into its own `#!/bin/sh` script.
    !matches!(base, "sh" | "dash" | "ash" | "openrc-run" | "runscript")
}
