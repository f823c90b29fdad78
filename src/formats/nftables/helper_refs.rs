//! A `ct helper set NAME` its own file does not resolve (see
//! `parse::helpers`) fails to load unless another file of the ruleset declares
//! the helper in that table (its own declarations were too late, or none): then
//! it is nft's "Could not process rule: No such
//! file or directory" at the name.

use super::model::{File, HelperUse, Problem};

/// How many `ct helper` declarations of `u`'s name and table `file` holds.
fn declared(file: &File, u: &HelperUse) -> usize {
    file.tables
        .iter()
        .filter(|t| t.family == u.family && t.name == u.table)
        .flat_map(|t| &t.helpers)
        .filter(|h| h.name == u.name)
        .count()
}

/// Record in `file` the helper names that no other file of its ruleset
/// (`merged`, which holds `file`'s own tables too) declares: its own
/// declarations came too late, or there are none.
pub fn confirm(file: &mut File, merged: &File) {
    let missing: Vec<Problem> = file
        .unresolved_helpers
        .iter()
        .filter(|u| declared(merged, u) <= declared(file, u))
        .map(|u| Problem {
            message: "Could not process rule: No such file or directory".into(),
            span: u.span,
        })
        .collect();
    file.problems.extend(missing);
}
