//! A script's iptables command that uses a value the script does not set (a
//! variable a `source`d file sets, `$1`): when every unknown word is the value of
//! a port, address or interface match, a stand-in that covers every value it could
//! take replaces it, and an ACCEPT is kept as a rule that may match (it may open
//! those ports to some clients and closes none). Anything else is skipped.

use super::Family;
use super::lex::Arg;
use super::rule::{self, Cmd};
use crate::filter::ir::{Applies, Target};
use crate::scripts::Word;
use std::borrow::Cow;

/// The value that stands for an unknown value of `option`: one that covers every
/// value the option could be given.
fn stand_in(option: &str, family: Family) -> Option<&'static str> {
    Some(match option {
        "--dport"
        | "--destination-port"
        | "--sport"
        | "--source-port"
        | "--dports"
        | "--destination-ports"
        | "--sports"
        | "--source-ports"
        | "--ports" => "0:65535",
        "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => match family {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        },
        "-i" | "--in-interface" | "-o" | "--out-interface" => "+",
        _ => return None,
    })
}

/// The arguments with each unknown word replaced by its stand-in; `None` when an
/// unknown word is not the value of an option that has one.
pub fn stood_in<'w>(words: &'w [Word], family: Family) -> Option<Vec<Arg<'w>>> {
    let mut args = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let text = if w.is_known() {
            Cow::Borrowed(w.text.as_str())
        } else {
            let option = words.get(i.checked_sub(1)?)?;
            if !option.is_known() {
                return None;
            }
            Cow::Borrowed(stand_in(&option.text, family)?)
        };
        args.push(Arg {
            text,
            start: w.span.start,
            end: w.span.end,
        });
    }
    Some(args)
}

/// A command parsed with stand-ins is kept when it appends or inserts an ACCEPT:
/// then as a rule that may match, for some clients only.
pub fn keep_as_may_match(cmd: &mut rule::Command<'_>) -> bool {
    let adds = matches!(cmd.cmd, Cmd::Append | Cmd::Insert(_));
    if !adds || cmd.rule.target != Target::Accept || cmd.jump.is_some() {
        return false;
    }
    for a in &mut cmd.rule.applies {
        *a = a.and(Applies::ToSome);
    }
    cmd.rule.plain = false;
    cmd.port_text = None;
    true
}
