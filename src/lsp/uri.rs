//! `file:` URIs to paths and back. Other schemes (untitled buffers, remote
//! files) have no path and are ignored by the server.

use lsp_types::Uri;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// The absolute path a `file:` URI names, or `None`.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let scheme = text.get(..5)?;
    if !scheme.eq_ignore_ascii_case("file:") {
        return None;
    }
    let rest = text[5..].split(['?', '#']).next().unwrap_or("");
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let slash = after.find('/').unwrap_or(after.len());
            let host = &after[..slash];
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                return None;
            }
            &after[slash..]
        }
        None => rest,
    };
    let bytes = percent_decode(path)?;
    let path = native_path(bytes)?;
    path.is_absolute().then(|| normalize(&path))
}

/// The `file:` URI of an absolute path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let text = path_text(path)?;
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&uri).ok()
}

#[cfg(unix)]
fn native_path(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn native_path(bytes: Vec<u8>) -> Option<PathBuf> {
    let text = String::from_utf8(bytes).ok()?;
    // `/C:/dir` is how a drive path appears in a URI.
    let text = match text.as_bytes() {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() => &text[1..],
        _ => &text,
    };
    Some(PathBuf::from(text.replace('/', "\\")))
}

#[cfg(unix)]
fn path_text(path: &Path) -> Option<std::borrow::Cow<'_, str>> {
    use std::os::unix::ffi::OsStrExt;
    Some(String::from_utf8_lossy(path.as_os_str().as_bytes()))
}

#[cfg(not(unix))]
fn path_text(path: &Path) -> Option<std::borrow::Cow<'_, str>> {
    Some(path.to_str()?.replace('\\', "/").into())
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Drop `.` components and doubled separators so the path matches the one the
/// directory walk produces; `..` is kept (resolving it needs the file system).
fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        Uri::from_str(s).unwrap()
    }

    #[test]
    fn file_uris_round_trip_with_escapes() {
        let path = Path::new("/tmp/ws dir/caf\u{e9}/vsftpd.conf");
        let u = from_path(path).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/ws%20dir/caf%C3%A9/vsftpd.conf");
        assert_eq!(to_path(&u).unwrap(), path);
    }

    #[test]
    fn accepts_localhost_and_normalizes() {
        assert_eq!(
            to_path(&uri("file://localhost/etc/./vsftpd.conf")).unwrap(),
            Path::new("/etc/vsftpd.conf")
        );
        assert_eq!(to_path(&uri("FILE:///a//b")).unwrap(), Path::new("/a/b"));
    }

    #[test]
    fn rejects_what_has_no_local_path() {
        assert_eq!(to_path(&uri("untitled:Untitled-1")), None);
        assert_eq!(to_path(&uri("file://server/share/x")), None);
        assert_eq!(to_path(&uri("file:relative/x")), None);
        assert_eq!(to_path(&uri("https://example.com/x")), None);
    }

    #[test]
    fn bad_escapes_do_not_decode() {
        assert_eq!(percent_decode("/bad%zz"), None);
        assert_eq!(percent_decode("/cut%2"), None);
        assert_eq!(percent_decode("/%\u{e9}\u{e9}"), None);
        assert_eq!(percent_decode("/a%2Fb").unwrap(), b"/a/b");
    }
}
