//! The arguments of `dnat` and `ct helper set`, as nft 1.0.6's grammar has
//! them (`nat_stmt_args`, `ct_stmt` in `parser_bison.y`): `to` is optional, a
//! family (`ip`, `ip6`) comes before `to`, `addr . port to` takes both from one
//! map, and each value may be a literal or a lookup, `SELECTOR map { … }`
//! (`tcp dport map { 1000 : 1.1.1.1 }`, `numgen inc mod 2 map { … }`).

use super::super::lex::Kind;
use super::super::model::{Item, NatTo};
use super::{PResult, Parser, VERDICTS};

/// Flags after a nat statement's arguments.
const NAT_FLAGS: &[&str] = &["random", "fully-random", "persistent"];

impl Parser<'_> {
    pub(super) fn dnat(&mut self) -> PResult<Item> {
        let after_family = self.toks.get(self.pos + 1).map(|t| t.text.as_str());
        if matches!(self.peek_text(), "ip" | "ip6")
            && matches!(after_family, Some("to" | "addr" | "interval" | "prefix"))
        {
            self.pos += 1;
        }
        let both = self.peek_text() == "addr";
        if both {
            self.expect("addr")?;
            self.expect(".")?;
            self.expect("port")?;
        } else if matches!(self.peek_text(), "interval" | "prefix") {
            self.pos += 1;
        }
        if both || self.peek_text() == "to" {
            self.expect("to")?;
        }
        let addr = if self.peek_text() == ":" {
            NatTo::Kept
        } else {
            self.nat_expr()?
        };
        let port = if self.peek_text() == ":" {
            self.pos += 1;
            self.nat_expr()?
        } else {
            NatTo::Kept
        };
        self.nat_flags()?;
        // `addr . port to … map`: each element's value is `ADDR . PORT`.
        let port = match (&addr, both) {
            (NatTo::Map { .. }, true) => addr.clone(),
            _ => port,
        };
        Ok(Item::Dnat { addr, port })
    }

    /// `random`, `fully-random,persistent`.
    fn nat_flags(&mut self) -> PResult<()> {
        while NAT_FLAGS.contains(&self.peek_text()) {
            self.pos += 1;
            if self.peek_text() == "," {
                self.pos += 1;
                if !NAT_FLAGS.contains(&self.peek_text()) {
                    return self.unexpected();
                }
            }
        }
        Ok(())
    }

    /// A value of a nat statement: a literal, or a map lookup.
    fn nat_expr(&mut self) -> PResult<NatTo> {
        if !self.map_ahead() {
            return Ok(NatTo::Literal(self.word()?.text));
        }
        let mut key = Vec::new();
        while self.peek_text() != "map" {
            key.push(self.word()?.text);
        }
        self.expect("map")?;
        let value = self.value()?;
        Ok(NatTo::Map {
            key: key.join(" "),
            value,
        })
    }

    /// Whether a `map` lookup comes before the value ends.
    fn map_ahead(&self) -> bool {
        self.toks[self.pos.min(self.toks.len())..]
            .iter()
            .take_while(|t| {
                t.kind != Kind::Newline
                    && !matches!(t.text.as_str(), ";" | "}" | "{" | ":")
                    && !VERDICTS.contains(&t.text.as_str())
            })
            .any(|t| t.text == "map")
    }

    /// `ct helper set "name"` or `ct helper set SELECTOR map { KEY : "name" }`;
    /// every name must be a helper object of the table (see [`super::helpers`]).
    pub(super) fn helper_set(&mut self) -> PResult<Item> {
        if !self.map_ahead() {
            let v = self.word()?;
            self.helper_refs.push((v.text.clone(), v.start, v.end));
            return Ok(Item::HelperSet(v.text));
        }
        let mut key = Vec::new();
        while self.peek_text() != "map" {
            key.push(self.word()?.text);
        }
        self.expect("map")?;
        let from = self.pos;
        let value = self.value()?;
        // nft reports a name the table lacks at its element's key.
        let names = self.toks[from..self.pos]
            .windows(3)
            .filter(|w| w[1].text == ":" && matches!(w[2].kind, Kind::Word | Kind::Str))
            .map(|w| (w[2].text.clone(), w[0].start, w[0].end));
        let names: Vec<_> = names.collect();
        self.helper_refs.extend(names);
        Ok(Item::HelperMap {
            key: key.join(" "),
            value,
        })
    }
}
