//! `ipsec-reply-blocked`: see rules/ipsec-reply-blocked.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ipsec::ReplyBlocked;
use crate::formats::{ParsedFile, ipsec_store};

pub struct IpsecReplyBlocked;

impl Rule for IpsecReplyBlocked {
    fn name(&self) -> &'static str {
        "ipsec-reply-blocked"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(store) = ipsec_store(file) else {
            return;
        };
        out.extend(
            store
                .replies_blocked(file.source.id)
                .iter()
                .map(|r| self.report(file, r)),
        );
    }
}

impl IpsecReplyBlocked {
    fn report(&self, file: &ParsedFile, r: &ReplyBlocked) -> Diagnostic {
        let ports = r.ports.summary(4);
        let message = if r.permit_mirrored {
            format!(
                "the server's replies from TCP {ports} match a more specific IPsec block filter: connections this permit admits never complete"
            )
        } else {
            format!(
                "this IPsec permit is not mirrored: the server's replies from TCP {ports} fall to a block filter, so connections it admits never complete"
            )
        };
        let by_ipseccmd = {
            let text = file.source.slice(r.permit).to_ascii_lowercase();
            text.contains("ipseccmd") || text.contains("ipsecpol")
        };
        let help = match (r.permit_mirrored, by_ipseccmd) {
            (false, false) => "add mirrored=yes to the permit filter".to_owned(),
            (false, true) => {
                "mirror the filter: write `+` instead of `=` between source and destination (e.g. *+0:21:TCP)".to_owned()
            }
            (true, _) => format!(
                "narrow the block filter so it no longer matches replies from TCP {ports}"
            ),
        };
        Diagnostic::new(
            self.name(),
            message,
            r.permit,
            format!("admits TCP {ports} inbound"),
        )
        .with_related(r.block, format!("drops the replies from {ports}"))
        .with_help(help)
    }
}
