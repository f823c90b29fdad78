//! Shell pattern matching (`case` arms, `${v%pat}`): `*`, `?`, `[…]`, `\`.

/// Whether `text` matches all of `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `*` and the text position it was tried at: backtracking is linear per star.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(_) => {
                if let Some(len) = one(&p, pi, t[ti]) {
                    pi += len;
                    ti += 1;
                    continue;
                }
            }
            None => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern element at `pi` matches `c`: its length in the pattern.
fn one(p: &[char], pi: usize, c: char) -> Option<usize> {
    match p.get(pi)? {
        '?' => Some(1),
        '\\' => match p.get(pi + 1) {
            Some(&e) if e == c => Some(2),
            Some(_) => None,
            None => (c == '\\').then_some(1),
        },
        '[' => {
            bracket(p, pi, c).or_else(|| (c == '[' && bracket_end(p, pi).is_none()).then_some(1))
        }
        &x => (x == c).then_some(1),
    }
}

fn bracket_end(p: &[char], pi: usize) -> Option<usize> {
    let mut i = pi + 1;
    if matches!(p.get(i), Some('!' | '^')) {
        i += 1;
    }
    if p.get(i) == Some(&']') {
        i += 1;
    }
    while let Some(&c) = p.get(i) {
        if c == ']' {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn bracket(p: &[char], pi: usize, c: char) -> Option<usize> {
    let end = bracket_end(p, pi)?;
    let mut i = pi + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < end {
        let lo = p[i];
        if p.get(i + 1) == Some(&'-') && i + 2 < end {
            let hi = p[i + 2];
            hit |= lo <= c && c <= hi;
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
    (hit != negate).then_some(end - pi + 1)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_like_the_shell() {
        assert!(matches("start", "start"));
        assert!(matches("st*", "start"));
        assert!(matches("*", ""));
        assert!(matches("?tart", "start"));
        assert!(matches("[Ss]tart", "Start"));
        assert!(matches("[!a-r]tart", "start"));
        assert!(!matches("[a-r]tart", "start"));
        assert!(matches("*.conf", "vsftpd.conf"));
        assert!(!matches("\\*", "x"));
        assert!(matches("\\*", "*"));
        assert!(matches("a*b*c", "aXbYbc"));
        assert!(!matches("a*b*c", "aXbYb"));
    }
}
