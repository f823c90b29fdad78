//! `ct helper set NAME` names a `ct helper` object of the rule's table. The
//! kernel looks it up when the rule is added, so it must be declared by an
//! earlier command or in the same table block (nft adds a block's objects before
//! its rules); otherwise nft fails with "Could not process rule: No such file or
//! directory" at the name. A file's includes may declare it: what this file
//! alone does not resolve is left for its bundle ([`File::unresolved_helpers`]).

use super::Parser;
use crate::formats::nftables::model::HelperUse;

impl Parser<'_> {
    /// The helper names of the rule just added to table `ti`.
    pub(super) fn note_helpers(&mut self, ti: usize) {
        let refs = std::mem::take(&mut self.helper_refs);
        if self.script {
            return;
        }
        self.pending_helpers
            .extend(refs.into_iter().map(|(name, s, e)| (ti, name, s, e)));
    }

    /// At the end of a command: the names its table does not declare by now.
    pub(super) fn resolve_helpers(&mut self) {
        for (ti, name, s, e) in std::mem::take(&mut self.pending_helpers) {
            let Some(table) = self.file.tables.get(ti) else {
                continue;
            };
            if table.helpers.iter().any(|h| h.name == name) {
                continue;
            }
            let use_ = HelperUse {
                family: table.family,
                table: table.name.clone(),
                name,
                span: self.src.span(s, e),
            };
            self.file.unresolved_helpers.push(use_);
        }
    }
}
