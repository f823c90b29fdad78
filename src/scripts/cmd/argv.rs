//! The argument vector a program sees when it splits the command line cmd
//! hands it the standard way (`CommandLineToArgvW` / MSVCRT rules: blanks
//! separate, quotes group, `2n` backslashes before a quote are `n` and the
//! quote counts, `2n+1` give `n` and a literal quote, `""` in quotes is `"`).

use super::cells::Cell;

/// One argument: its text and the cells it was written with.
pub struct Arg<'a> {
    pub text: String,
    pub cells: &'a [Cell],
}

pub fn split(line: &[Cell]) -> Vec<Arg<'_>> {
    let mut out = Vec::new();
    let mut i = skip_blanks(line, 0);
    if i < line.len() {
        let end = program_end(line, i);
        let text = line[i..end]
            .iter()
            .filter(|c| c.c != '"')
            .map(|c| c.c)
            .collect();
        out.push(Arg {
            text,
            cells: &line[i..end],
        });
        i = end;
    }
    loop {
        i = skip_blanks(line, i);
        if i >= line.len() {
            return out;
        }
        let (text, end) = argument(line, i);
        out.push(Arg {
            text,
            cells: &line[i..end],
        });
        i = end;
    }
}

fn skip_blanks(line: &[Cell], mut i: usize) -> usize {
    while line.get(i).is_some_and(|c| matches!(c.c, ' ' | '\t')) {
        i += 1;
    }
    i
}

/// `argv[0]`: a quoted run up to the next quote, or up to a blank.
fn program_end(line: &[Cell], start: usize) -> usize {
    let mut quoted = false;
    let mut i = start;
    while let Some(c) = line.get(i) {
        if c.c == '"' {
            quoted = !quoted;
        } else if !quoted && matches!(c.c, ' ' | '\t') {
            break;
        }
        i += 1;
    }
    i
}

fn argument(line: &[Cell], start: usize) -> (String, usize) {
    let mut text = String::new();
    let mut quoted = false;
    let mut i = start;
    while let Some(c) = line.get(i) {
        match c.c {
            ' ' | '\t' if !quoted => break,
            '\\' => {
                let run = line[i..].iter().take_while(|c| c.c == '\\').count();
                if line.get(i + run).is_some_and(|c| c.c == '"') {
                    text.extend(std::iter::repeat_n('\\', run / 2));
                    if run % 2 == 1 {
                        text.push('"');
                        i += run + 1;
                    } else {
                        i += run;
                    }
                } else {
                    text.extend(std::iter::repeat_n('\\', run));
                    i += run;
                }
                continue;
            }
            '"' if quoted && line.get(i + 1).is_some_and(|n| n.c == '"') => {
                text.push('"');
                i += 2;
                continue;
            }
            '"' => quoted = !quoted,
            other => text.push(other),
        }
        i += 1;
    }
    (text, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::cmd::cells::from_str;

    fn words(line: &str) -> Vec<String> {
        let cells = from_str(line, (0, 0));
        split(&cells).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn msvcrt_rules() {
        assert_eq!(
            words(r#"netsh advfirewall firewall add rule name="Passive FTP" dir=in"#),
            [
                "netsh",
                "advfirewall",
                "firewall",
                "add",
                "rule",
                "name=Passive FTP",
                "dir=in"
            ]
        );
        assert_eq!(
            words(r#""C:\Program Files\x.exe" a\\\"b "c d"e"#),
            [r"C:\Program Files\x.exe", r#"a\"b"#, "c de"]
        );
        assert_eq!(words(r#"p a\\"b c" d\e"#), ["p", r"a\b c", r"d\e"]);
        assert_eq!(words(r#"p "a""b" """"#), ["p", r#"a"b"#, r#"""#]);
        assert_eq!(words("p  \t "), ["p"]);
    }
}
