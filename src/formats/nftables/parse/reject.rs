//! `reject [with icmp|icmpv6|icmpx [type] CODE | with tcp reset]`, as nft 1.0.6's
//! `reject_opts` reads it, and the checks its evaluation makes: the code must be
//! one of its type's names (or a number), and `icmp`/`icmpv6`/`icmpx` must suit
//! the table's family; `with tcp reset` needs a rule that may match TCP
//! ([`tcp_reset_refused`]).

use super::{PResult, Parser};
use crate::formats::nftables::lex::Kind;
use crate::formats::nftables::model::{Item, TableFamily, Value};

/// The code names nft knows for each kind (`datatype.c`, `icmp*_code_tbl`).
fn codes(kind: &str) -> &'static [&'static str] {
    match kind {
        "icmp" => &[
            "net-unreachable",
            "host-unreachable",
            "prot-unreachable",
            "port-unreachable",
            "net-prohibited",
            "host-prohibited",
            "admin-prohibited",
            "frag-needed",
        ],
        "icmpv6" => &[
            "no-route",
            "admin-prohibited",
            "addr-unreachable",
            "port-unreachable",
            "policy-fail",
            "reject-route",
        ],
        _ => &[
            "port-unreachable",
            "admin-prohibited",
            "no-route",
            "host-unreachable",
        ],
    }
}

/// What nft's evaluation says of `kind` in a table of `family`, if it refuses it.
fn family_refuses(kind: &str, family: Option<TableFamily>) -> Option<&'static str> {
    match (kind, family?) {
        ("icmpv6", TableFamily::Ip) | ("icmp", TableFamily::Ip6) => {
            Some("conflicting protocols specified: ip vs ip6")
        }
        ("icmpx", TableFamily::Ip | TableFamily::Ip6) => {
            Some("abstracted ICMP unreachable not supported")
        }
        _ => None,
    }
}

/// A number's low byte, which nft keeps as the code (`3`, `0x3`, `259`); `None`
/// for a name, `Some(None)` for a number too long to judge.
fn code_number(w: &str) -> Option<Option<u8>> {
    let n = match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None if w.starts_with(|c: char| c.is_ascii_digit()) => w.parse::<u64>().ok(),
        None => return None,
    };
    Some(n.map(|n| (n & 0xff) as u8))
}

/// What nft (or the kernel) says of a numeric code, at the `reject` keyword: in
/// an inet table an ICMP code is signed, and 128-255 read as none given unless an
/// earlier match names the network protocol (`based`); the kernel knows only the
/// icmpx codes 0-3.
pub(super) fn number_refused(
    (kind, code): &(String, u8),
    family: Option<TableFamily>,
    based: bool,
) -> Option<&'static str> {
    if family != Some(TableFamily::Inet) {
        return None;
    }
    match kind.as_str() {
        "icmpx" if *code > 3 => Some("Could not process rule: Invalid argument"),
        "icmp" | "icmpv6" if *code >= 128 && !based => Some("missing icmp error type"),
        _ => None,
    }
}

/// An earlier match fixes the network protocol (`ip saddr …`, `meta nfproto ipv4`).
pub(super) fn network_based(items: &[Item]) -> bool {
    items.iter().any(|item| {
        matches!(item, Item::Match { key, .. }
            if ["ip ", "ip6 ", "icmp ", "icmpv6 ", "meta nfproto"].iter().any(|p| key.starts_with(p)))
    })
}

impl Parser<'_> {
    /// What follows `reject`, in a table of `self.family` when known.
    pub(super) fn reject_options(&mut self) -> PResult<()> {
        if self.peek_text() != "with" {
            return Ok(());
        }
        self.pos += 1;
        let kind = match self.peek() {
            Some(t)
                if t.kind == Kind::Word
                    && matches!(t.text.as_str(), "icmp" | "icmpv6" | "icmpx" | "tcp") =>
            {
                self.bump().expect("peeked").text
            }
            _ => return self.expecting("icmp or icmpv6 or tcp or icmpx"),
        };
        if kind == "tcp" {
            return if self.peek_text() == "reset" {
                self.pos += 1;
                self.tcp_reset = true;
                Ok(())
            } else {
                self.expecting("reset")
            };
        }
        let typed = self.peek_text() == "type";
        if typed {
            self.pos += 1;
        }
        let code = match self.peek() {
            Some(t) if t.kind == Kind::Word && !super::is_keyword(&t.text) => {
                self.bump().expect("peeked")
            }
            _ if typed => return self.expecting("number or string"),
            _ => return self.expecting("number or string or type"),
        };
        let number = code_number(&code.text);
        if let Some(Some(n)) = number {
            self.reject_number = Some((kind.clone(), n));
        }
        if number.is_none() && !codes(&kind).contains(&code.text.as_str()) {
            return Err((format!("Could not parse {kind} code"), code.start, code.end));
        }
        if let Some(message) = family_refuses(&kind, self.family) {
            return Err((message.into(), code.start, code.end));
        }
        Ok(())
    }

    /// nft's `syntax error, unexpected X, expecting WHAT` at the current token.
    pub(super) fn expecting<T>(&self, what: &str) -> PResult<T> {
        let (message, s, e) = self.unexpected::<()>().unwrap_err();
        Err((format!("{message}, expecting {what}"), s, e))
    }
}

/// `with tcp reset` after a match that leaves no TCP (`udp dport 53`, `meta
/// l4proto udp`): nft's "you cannot use tcp reset with this protocol".
pub(super) fn tcp_reset_refused(items: &[Item]) -> bool {
    items.iter().any(|item| match item {
        Item::Match {
            key,
            negated: false,
            value: Value::List(words),
        } => match key.as_str() {
            "meta l4proto" | "ip protocol" | "ip6 nexthdr" => {
                matches!(words.as_slice(), [w] if w != "tcp" && w != "6")
            }
            k => k.starts_with("udp ") || k.starts_with("sctp ") || k.starts_with("dccp "),
        },
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_cut_to_their_low_byte() {
        assert_eq!(code_number("3"), Some(Some(3)));
        assert_eq!(code_number("0x103"), Some(Some(3)));
        assert_eq!(code_number("256"), Some(Some(0)));
        assert_eq!(code_number("admin-prohibited"), None);
        let inet = Some(TableFamily::Inet);
        let code = |k: &str, n| (k.to_owned(), n);
        assert!(number_refused(&code("icmp", 200), inet, false).is_some());
        assert!(number_refused(&code("icmp", 200), inet, true).is_none());
        assert!(number_refused(&code("icmp", 200), Some(TableFamily::Ip), false).is_none());
        assert!(number_refused(&code("icmpx", 4), inet, true).is_some());
        assert!(number_refused(&code("icmpx", 3), inet, false).is_none());
    }

    #[test]
    fn each_kind_has_its_own_names() {
        assert!(codes("icmp").contains(&"host-prohibited"));
        assert!(!codes("icmpv6").contains(&"host-prohibited"));
        assert!(codes("icmpx").contains(&"admin-prohibited"));
        assert_eq!(family_refuses("icmpx", Some(TableFamily::Inet)), None);
        assert!(family_refuses("icmpx", Some(TableFamily::Ip)).is_some());
    }
}
