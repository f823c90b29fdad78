//! Bitwise expressions on either side of a match, as nft 1.0.6's grammar reads
//! them: `tcp flags & (fin|syn|rst|ack) != syn`, `tcp flags & (fin|syn) ==
//! (fin|syn)`, `ct mark & 0xff 0x1`, and the flag comparison `tcp flags syn /
//! syn,ack`. pasvlint does not compute them: such a match may hold or not.

use super::{PResult, Parser};
use crate::formats::nftables::lex::Kind;

/// The binary operators of `and_expr`, `exclusive_or_expr`, `inclusive_or_expr`
/// and `shift_expr` (`<<`, `>>` come as two tokens).
fn binary_operator(p: &Parser<'_>) -> Option<usize> {
    let next = p.toks.get(p.pos + 1).map(|t| t.text.as_str());
    match (p.peek_text(), next) {
        ("&" | "|" | "^", _) => Some(1),
        ("<", Some("<")) | (">", Some(">")) => Some(2),
        _ => None,
    }
}

impl Parser<'_> {
    /// `& OPERAND`, `| OPERAND`, ... after a selector; whether there was any.
    pub(super) fn masked(&mut self) -> PResult<bool> {
        let mut any = false;
        while let Some(width) = binary_operator(self) {
            self.pos += width;
            self.operand()?;
            any = true;
        }
        Ok(any)
    }

    /// A value or `( EXPR )`.
    fn operand(&mut self) -> PResult<()> {
        if self.peek_text() != "(" {
            if super::VERDICTS.contains(&self.peek_text())
                || super::STATEMENTS.contains(&self.peek_text())
            {
                return self.unexpected();
            }
            return self.word().map(|_| ());
        }
        self.pos += 1;
        self.operand()?;
        self.masked()?;
        if self.peek_text() != ")" {
            return self.expecting("')'");
        }
        self.pos += 1;
        Ok(())
    }

    /// Whether the right-hand side starts with, or goes on with, what only an
    /// expression has: `(`, a binary operator, or the flag mask `/`.
    pub(super) fn expression_ahead(&self) -> bool {
        self.peek_text() == "(" || binary_operator(self).is_some() || self.at_flag_mask()
    }

    fn at_flag_mask(&self) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Word && t.text == "/")
    }

    /// A right-hand side pasvlint does not take apart: `basic_rhs_expr`s
    /// separated by `,`, then an optional `/ LIST` mask.
    pub(super) fn expression_rhs(&mut self) -> PResult<()> {
        self.rhs_list()?;
        if self.at_flag_mask() {
            self.pos += 1;
            self.rhs_list()?;
        }
        Ok(())
    }

    fn rhs_list(&mut self) -> PResult<()> {
        if self.at_end_of_statement() {
            return self.unexpected();
        }
        self.operand()?;
        self.masked()?;
        while self.peek_text() == "," {
            self.pos += 1;
            self.operand()?;
            self.masked()?;
        }
        Ok(())
    }
}

impl Parser<'_> {
    /// After a value read as a plain list (`syn`, `fin,syn`): the rest of an
    /// expression (`| ack`, `/ syn,ack`).
    pub(super) fn continue_rhs(&mut self) -> PResult<()> {
        self.masked()?;
        while self.peek_text() == "," {
            self.pos += 1;
            self.operand()?;
            self.masked()?;
        }
        if self.at_flag_mask() {
            self.pos += 1;
            self.rhs_list()?;
        }
        Ok(())
    }
}
