//! PowerShell 5.1/7, as the language runs a script: its two parsing modes
//! (expression and argument), strings and here-strings with `` ` `` escapes
//! and `$v`/`$( … )` expansion, arrays, ranges in both directions, hashtables
//! and splatting, `if`/`switch`/loops/functions/`try`, and each command
//! invocation with its arguments as the command receives them.

mod ast;
mod eval;
mod parse;
mod value;

pub use eval::ScriptError;

use super::{Command, Outcome, Shell, Status, Stop, StopWhy};
use crate::source::SourceFile;

pub fn run(source: &SourceFile, sink: &mut dyn FnMut(Command) -> Status) -> Outcome {
    run_with_errors(source, sink).0
}

/// [`run`], and the statements PowerShell itself stops with an error
/// (a range bound outside `[int]`, a conversion that fails): their commands do not run.
pub fn run_with_errors(
    source: &SourceFile,
    sink: &mut dyn FnMut(Command) -> Status,
) -> (Outcome, Vec<ScriptError>) {
    let mut parser = parse::Parser::new(&source.text, source.id);
    let script = parser.script();
    let mut interp = eval::Interp::new(source, sink);
    if let Some(span) = parser.too_deep {
        interp.budget.depth(usize::MAX, span);
    }
    // A script PowerShell cannot parse is never run: not even its first line.
    let stop = parser.error.map(|e| Stop {
        span: e.span,
        why: StopWhy::NotParsed(e.message),
    });
    if stop.is_none() {
        interp.run(&script);
    }
    let outcome = Outcome {
        shell: Some(Shell::PowerShell),
        writes: Vec::new(),
        limits: interp.budget.hit.clone().into_iter().collect(),
        stop,
    };
    (outcome, std::mem::take(&mut interp.errors))
}

#[cfg(test)]
mod tests;
