//! A reader of what Wine's `reg export` writes, kept apart from pasvlint's
//! `.reg` parser so the Windows oracle compares the registry with pasvlint's
//! claim through nothing of pasvlint's own.
//!
//! `reg export` writes one canonical shape (programs/reg/export.c): a UTF-16LE
//! file with a BOM, `Windows Registry Editor Version 5.00`, `[full key path]`
//! headers, then `@=` or `"name"=` followed by `"string"` (REG_SZ, with `\\`,
//! `\"`, `\r` and `\n` escaped and the stored NUL dropped), `dword:%08x`, or
//! `hex:`/`hex(%x):` bytes split over lines ending in `,\` and continued after
//! two blanks.

/// One value as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub key: String,
    /// `None` for the key's default value (`@`).
    pub name: Option<String>,
    pub ty: u32,
    pub bytes: Vec<u8>,
}

const REG_SZ: u32 = 1;
const REG_BINARY: u32 = 3;
const REG_DWORD: u32 = 4;

/// Every value in an export file, or why a line is not what `reg export` writes.
pub fn read(bytes: &[u8]) -> Result<Vec<Exported>, String> {
    let text = decode_utf16le(bytes)?;
    let mut lines = logical_lines(&text).into_iter();
    match lines.next() {
        Some(first) if first == "Windows Registry Editor Version 5.00" => {}
        other => return Err(format!("unexpected header {other:?}")),
    }
    let mut key: Option<String> = None;
    let mut values = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some(path) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            key = Some(path.to_owned());
            continue;
        }
        let key = key
            .clone()
            .ok_or_else(|| format!("value before any key: {line}"))?;
        let (name, data) = split_name(&line)?;
        let (ty, bytes) = read_data(data).map_err(|e| format!("{e} in {line}"))?;
        values.push(Exported {
            key,
            name,
            ty,
            bytes,
        });
    }
    Ok(values)
}

fn decode_utf16le(bytes: &[u8]) -> Result<String, String> {
    let body = bytes
        .strip_prefix(&[0xff, 0xfe])
        .ok_or("no UTF-16LE byte-order mark")?;
    if body.len() % 2 != 0 {
        return Err("odd number of UTF-16 bytes".into());
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|e| e.to_string())
}

/// Lines with `,\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut continuing = false;
    for raw in text.split("\r\n") {
        let piece = if continuing { raw.trim_start() } else { raw };
        let (piece, next_continues) = match piece.strip_suffix('\\') {
            Some(p) => (p, true),
            None => (piece, false),
        };
        if continuing {
            out.last_mut().expect("a line to continue").push_str(piece);
        } else {
            out.push(piece.to_owned());
        }
        continuing = next_continues;
    }
    out
}

/// `@=` or `"name"=` → (name, the text after `=`).
fn split_name(line: &str) -> Result<(Option<String>, &str), String> {
    if let Some(data) = line.strip_prefix("@=") {
        return Ok((None, data));
    }
    let quoted = line
        .strip_prefix('"')
        .ok_or_else(|| format!("no value name: {line}"))?;
    let (name, rest) = unescape_until_quote(quoted)?;
    let data = rest
        .strip_prefix('=')
        .ok_or_else(|| format!("no `=` after the name: {line}"))?;
    Ok((Some(name), data))
}

/// The text up to the closing quote, unescaped, and what follows the quote.
fn unescape_until_quote(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                other => return Err(format!("unknown escape \\{other:?}")),
            },
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

fn read_data(data: &str) -> Result<(u32, Vec<u8>), String> {
    if let Some(quoted) = data.strip_prefix('"') {
        let (text, rest) = unescape_until_quote(quoted)?;
        if !rest.is_empty() {
            return Err(format!("text after the string: {rest:?}"));
        }
        let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.extend([0, 0]);
        return Ok((REG_SZ, bytes));
    }
    if let Some(hex) = data.strip_prefix("dword:") {
        if hex.len() != 8 {
            return Err(format!("dword of {} digits", hex.len()));
        }
        let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        return Ok((REG_DWORD, v.to_le_bytes().to_vec()));
    }
    let (ty, list) = if let Some(list) = data.strip_prefix("hex:") {
        (REG_BINARY, list)
    } else if let Some(rest) = data.strip_prefix("hex(") {
        let (ty, list) = rest.split_once("):").ok_or("no `):` after hex(")?;
        (
            u32::from_str_radix(ty, 16).map_err(|e| e.to_string())?,
            list,
        )
    } else {
        return Err(format!("unknown data {data:?}"));
    };
    let bytes = list
        .split(',')
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("byte {b:?}: {e}")))
        .collect::<Result<Vec<u8>, String>>()?;
    Ok((ty, bytes))
}

/// A key path compared the way the registry does: roots spelled out, case
/// folded, and `ControlSet00N` taken as the `CurrentControlSet` it links to.
pub fn fold_key(path: &str) -> String {
    let mut parts = path.split('\\').filter(|p| !p.is_empty());
    let root = match parts.next().map(str::to_ascii_uppercase).as_deref() {
        Some("HKLM") => "HKEY_LOCAL_MACHINE".to_owned(),
        Some("HKCU") => "HKEY_CURRENT_USER".to_owned(),
        Some("HKCR") => "HKEY_CLASSES_ROOT".to_owned(),
        Some("HKU") => "HKEY_USERS".to_owned(),
        Some("HKCC") => "HKEY_CURRENT_CONFIG".to_owned(),
        Some(other) => other.to_owned(),
        None => String::new(),
    };
    std::iter::once(root)
        .chain(parts.map(|p| {
            let upper = p.to_ascii_uppercase();
            let numbered = upper
                .strip_prefix("CONTROLSET")
                .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()));
            if numbered {
                "CURRENTCONTROLSET".to_owned()
            } else {
                upper
            }
        }))
        .collect::<Vec<_>>()
        .join("\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str) -> Vec<u8> {
        let mut b = vec![0xff, 0xfe];
        b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        b
    }

    #[test]
    fn reads_each_shape_reg_export_writes() {
        let file = utf16(
            "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Soft]\r\n\
             @=\"d\"\r\n\"a \\\"q\\\"\"=\"x\\\\y\"\r\n\"n\"=dword:0000ffff\r\n\
             \"h\"=hex(2):41,00,\\\r\n  00,00\r\n\"e\"=hex:\r\n\r\n",
        );
        let values = read(&file).expect("a valid export");
        let shapes: Vec<(Option<&str>, u32, &[u8])> = values
            .iter()
            .map(|v| (v.name.as_deref(), v.ty, v.bytes.as_slice()))
            .collect();
        assert_eq!(
            shapes,
            vec![
                (None, 1, &b"d\0\0\0"[..]),
                (Some("a \"q\""), 1, &b"x\0\\\0y\0\0\0"[..]),
                (Some("n"), 4, &[0xff, 0xff, 0, 0][..]),
                (Some("h"), 2, &[0x41, 0, 0, 0][..]),
                (Some("e"), 3, &[][..]),
            ]
        );
        assert!(values.iter().all(|v| v.key == "HKEY_LOCAL_MACHINE\\Soft"));
    }

    #[test]
    fn refuses_what_reg_export_never_writes() {
        assert!(read(b"REGEDIT4\r\n").is_err());
        let unknown = utf16("Windows Registry Editor Version 5.00\r\n[K]\r\n\"n\"=qword:1\r\n");
        assert!(read(&unknown).is_err());
    }

    #[test]
    fn folds_roots_case_and_numbered_control_sets() {
        assert_eq!(
            fold_key("HKLM\\System\\ControlSet001\\Services"),
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET\\SERVICES"
        );
    }
}
