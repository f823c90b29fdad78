//! `pasvlint lsp`: a language server on stdio.
//!
//! Open buffers are linted from memory ([`crate::lint_with`]); each edit
//! re-lints the edited file's host (see [`workspace`]) and publishes findings
//! for every file of that host, so a change to a firewall file updates the
//! FTP server config's diagnostics. Lints run on a worker thread ([`worker`]):
//! the message loop keeps answering while one runs, and requests that read
//! findings wait for the lints queued before them. Hover explains rules; code actions apply
//! a rule's fix or insert the format's suppression comment.

// `WorkspaceEdit::changes` is keyed by `lsp_types::Uri`, whose hash and
// equality use only its string; the cell clippy sees is a parse cache.
#![allow(clippy::mutable_key_type)]

mod actions;
mod convert;
mod server;
mod suppression;
mod text;
mod transport;
mod uri;
mod worker;
mod workspace;

use lsp_server::{Connection, ErrorCode, Message, Request, RequestId, Response};
use lsp_types as lsp;
use server::{Flow, Server};
use text::PositionEncoding;

/// Serve until the client says `exit` or goes away; returns the exit code
/// (0 after a `shutdown` request, 1 otherwise, as the protocol asks).
pub fn run() -> Result<u8, String> {
    let (connection, io) = transport::stdio().map_err(|e| format!("cannot start: {e}"))?;
    let code = serve(&connection);
    drop(connection);
    io.join_writer();
    Ok(code)
}

fn serve(connection: &Connection) -> u8 {
    let Some((id, params)) = wait_for_initialize(connection) else {
        return 1;
    };
    let encoding = negotiate_encoding(&params.capabilities);
    let result = lsp::InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(lsp::ServerInfo {
            name: "pasvlint".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let _ = connection.sender.send(Response::new_ok(id, result).into());
    let (jobs, mut done) = match worker::spawn() {
        Ok(worker) => worker,
        Err(e) => {
            eprintln!("pasvlint lsp: cannot start the lint worker: {e}");
            return 1;
        }
    };
    let mut server = Server::new(connection.sender.clone(), jobs, encoding, &params);
    loop {
        crossbeam_channel::select! {
            recv(connection.receiver) -> msg => {
                let Ok(msg) = msg else {
                    return server.exit_code();
                };
                if let Flow::Exit(code) = server.handle(msg) {
                    return code;
                }
            }
            recv(done) -> finished => match finished {
                Ok(finished) => server.finished(finished),
                // The worker is gone: nothing more will finish.
                Err(_) => done = crossbeam_channel::never(),
            },
        }
    }
}

/// Answer everything before `initialize` as the protocol asks; `None` when
/// the client exits or goes away first.
fn wait_for_initialize(connection: &Connection) -> Option<(RequestId, lsp::InitializeParams)> {
    for msg in &connection.receiver {
        match msg {
            Message::Request(Request { id, method, params }) if method == "initialize" => {
                match serde_json::from_value(params) {
                    Ok(params) => return Some((id, params)),
                    Err(e) => reply_error(connection, id, ErrorCode::InvalidParams, e.to_string()),
                }
            }
            Message::Request(req) => reply_error(
                connection,
                req.id,
                ErrorCode::ServerNotInitialized,
                "expected initialize".into(),
            ),
            Message::Notification(n) if n.method == "exit" => return None,
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
    None
}

fn reply_error(connection: &Connection, id: RequestId, code: ErrorCode, message: String) {
    let _ = connection
        .sender
        .send(Response::new_err(id, code as i32, message).into());
}

/// UTF-8 when the client offers it (no conversion of our byte offsets), else
/// the protocol's mandatory UTF-16.
fn negotiate_encoding(caps: &lsp::ClientCapabilities) -> PositionEncoding {
    let offered = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    if offered.is_some_and(|kinds| kinds.contains(&lsp::PositionEncodingKind::UTF8)) {
        PositionEncoding::Utf8
    } else {
        PositionEncoding::Utf16
    }
}

fn capabilities(encoding: PositionEncoding) -> lsp::ServerCapabilities {
    let position_encoding = match encoding {
        PositionEncoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => lsp::PositionEncodingKind::UTF16,
    };
    lsp::ServerCapabilities {
        position_encoding: Some(position_encoding),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                    lsp::SaveOptions {
                        include_text: Some(false),
                    },
                )),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::new(actions::FIX_ALL),
                ]),
                resolve_provider: Some(false),
                ..Default::default()
            },
        )),
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..Default::default()
    }
}
