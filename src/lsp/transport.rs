//! JSON-RPC over stdio with `Content-Length` framing.
//!
//! `lsp_server::Connection::stdio` sizes its read buffer from the client's
//! `Content-Length` and stops at the first malformed payload; this transport
//! caps both and skips a bad message instead, so no client input can exhaust
//! memory or end the session by itself.

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use lsp_server::{Connection, Message};
use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

/// Larger messages are skipped; a whole-file `didChange` of any config fits.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
const MAX_HEADER_LINE: u64 = 8 * 1024;

pub struct IoThreads {
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl IoThreads {
    /// Wait for the writer to flush what was sent. The reader may be blocked on
    /// stdin and is left to end with the process.
    pub fn join_writer(self) {
        let _ = self.writer.join();
        drop(self.reader);
    }
}

pub fn stdio() -> io::Result<(Connection, IoThreads)> {
    let (to_server, receiver) = bounded::<Message>(64);
    let (sender, to_client) = unbounded::<Message>();
    let reader = std::thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || read_loop(&mut io::stdin().lock(), &to_server))?;
    let writer = std::thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(move || write_loop(&mut io::stdout().lock(), &to_client))?;
    Ok((
        Connection { sender, receiver },
        IoThreads { reader, writer },
    ))
}

fn read_loop(input: &mut impl BufRead, out: &Sender<Message>) {
    loop {
        match read_frame(input) {
            Ok(Frame::Message(bytes)) => match serde_json::from_slice::<Message>(&bytes) {
                Ok(msg) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if out.send(msg).is_err() || exit {
                        return;
                    }
                }
                Err(e) => eprintln!("pasvlint lsp: skipped a malformed message: {e}"),
            },
            Ok(Frame::TooLarge(len)) => {
                eprintln!("pasvlint lsp: skipped a {len}-byte message (limit {MAX_MESSAGE_BYTES})")
            }
            Ok(Frame::Eof) => return,
            Err(e) => {
                eprintln!("pasvlint lsp: cannot read from the client: {e}");
                return;
            }
        }
    }
}

fn write_loop(output: &mut impl Write, messages: &Receiver<Message>) {
    for msg in messages {
        if msg.write(output).is_err() {
            return;
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum Frame {
    Message(Vec<u8>),
    TooLarge(usize),
    Eof,
}

/// One framed message. Headers other than `Content-Length` are ignored.
pub fn read_frame(input: &mut impl BufRead) -> io::Result<Frame> {
    let mut length = None;
    loop {
        let mut line = Vec::new();
        let n = input
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(Frame::Eof);
        }
        if !line.ends_with(b"\n") {
            return Err(invalid("header line too long or cut off"));
        }
        let line = line.trim_ascii_end();
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        let text = std::str::from_utf8(line).map_err(|_| invalid("header is not UTF-8"))?;
        let Some((name, value)) = text.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n = value.trim().parse::<usize>();
            length = Some(n.map_err(|_| invalid("bad Content-Length"))?);
        }
    }
    let length = length.unwrap_or(0);
    if length > MAX_MESSAGE_BYTES {
        io::copy(&mut input.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Frame::TooLarge(length));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Frame::Message(body))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_frames_and_ignores_other_headers() {
        let mut input: &[u8] =
            b"Content-Length: 2\r\nContent-Type: x\r\n\r\n{}content-length:1\r\n\r\nx";
        assert_eq!(
            read_frame(&mut input).unwrap(),
            Frame::Message(b"{}".to_vec())
        );
        assert_eq!(
            read_frame(&mut input).unwrap(),
            Frame::Message(b"x".to_vec())
        );
        assert_eq!(read_frame(&mut input).unwrap(), Frame::Eof);
    }

    #[test]
    fn huge_lengths_are_skipped_not_allocated() {
        let mut input: &[u8] = b"Content-Length: 99999999999999\r\n\r\nabc";
        assert_eq!(
            read_frame(&mut input).unwrap(),
            Frame::TooLarge(99_999_999_999_999)
        );
        assert_eq!(read_frame(&mut input).unwrap(), Frame::Eof);
    }

    #[test]
    fn broken_headers_are_errors() {
        let mut input: &[u8] = b"Content-Length: -1\r\n\r\n";
        assert!(read_frame(&mut input).is_err());
        let long = vec![b'a'; 10_000];
        assert!(read_frame(&mut long.as_slice()).is_err());
    }
}
