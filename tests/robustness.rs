//! No input makes pasvlint panic: every fixture file, mutated many ways
//! (truncation, byte flips, stray bytes, CRLF, UTF-16, duplication), is linted.
//! Deterministic: the same mutations every run.

mod support;

use std::path::{Path, PathBuf};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn fixture_files() -> Vec<PathBuf> {
    walkdir::WalkDir::new(support::crate_dir().join("fixtures"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| !p.extension().is_some_and(|e| e == "snap" || e == "md"))
        .collect()
}

fn mutations(bytes: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let len = bytes.len().max(1);
    out.push(bytes[..rng.next() % len].to_vec());
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.next() % 8 {
            if !b.is_empty() {
                let i = rng.next() % b.len();
                b[i] = (rng.next() % 256) as u8;
            }
        }
        out.push(b);
    }
    let special: &[&[u8]] = &[
        b"\0",
        b"\r",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"=",
        b"#",
        b":",
        b"\\",
        b"-",
        b"\"",
        b"%",
        b"<",
        b"\n\n",
        b"999999999999999999999",
    ];
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        let at = rng.next() % (b.len() + 1);
        let ins = special[rng.next() % special.len()];
        b.splice(at..at, ins.iter().copied());
        out.push(b);
    }
    out.push(
        bytes
            .iter()
            .flat_map(|&c| {
                if c == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![c]
                }
            })
            .collect(),
    );
    let text = String::from_utf8_lossy(bytes);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out.push(utf16);
    out.push(bytes.repeat(3));
    let lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
    let mut shuffled = lines.clone();
    shuffled.reverse();
    out.push(shuffled.join(&b'\n'));
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(42);
    let mut n = 0;
    for file in fixture_files() {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let name = file.file_name().unwrap().to_owned();
        for m in mutations(&bytes, &mut rng) {
            let case = dir.path().join(format!("case{n}"));
            std::fs::create_dir_all(&case).unwrap();
            std::fs::write(case.join(&name), m).unwrap();
            n += 1;
        }
    }
    assert!(n > 100, "only {n} mutated inputs");
    let all = std::panic::catch_unwind(|| support::lint_path(dir.path()));
    if all.is_ok() {
        return;
    }
    let culprits: Vec<String> = support::subdirs(dir.path())
        .into_iter()
        .filter(|case| std::panic::catch_unwind(|| support::lint_path(case)).is_err())
        .map(|case| keep(&case))
        .collect();
    panic!("pasvlint panicked on:\n{}", culprits.join("\n"));
}

/// Copy a crashing input where it survives the test, for a regression fixture.
fn keep(case: &Path) -> String {
    let dest = std::env::temp_dir().join(format!(
        "pasvlint-crash-{}",
        case.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::create_dir_all(&dest);
    for e in std::fs::read_dir(case).unwrap().flatten() {
        let _ = std::fs::copy(e.path(), dest.join(e.file_name()));
    }
    dest.display().to_string()
}
