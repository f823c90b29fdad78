//! `pasvlint lsp` driven over stdio by a real LSP client process
//! (`tests/lsp_client.py`, Python standard library only).

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A temporary workspace whose directory name needs URI escaping.
struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new(files: &[(&str, &str)]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("infra repo é");
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Workspace { _dir: dir, root }
    }

    fn uri(&self, rel: &str) -> String {
        file_uri(&self.root.join(rel))
    }
}

fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for &b in path.to_str().unwrap().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// `None` (with the reason printed) when python3 is missing outside CI.
fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is required for the LSP tests in CI"
        );
        eprintln!("skipped: python3 not found (the LSP test client needs it)");
        return None;
    }
    Some("python3")
}

/// Run a scripted session against `pasvlint lsp`; the transcript's `results`.
fn session(steps: Value) -> Option<Value> {
    let python = python()?;
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp_client.py");
    let mut child = Command::new(python)
        .arg(client)
        .arg(env!("CARGO_BIN_EXE_pasvlint"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the test client failed");
    let transcript: Value = serde_json::from_slice(&output.stdout).unwrap();
    // Shown when a test fails.
    eprintln!(
        "server stderr:\n{}",
        transcript["stderr"].as_str().unwrap_or("")
    );
    for msg in transcript["received"].as_array().into_iter().flatten() {
        let text = msg.to_string();
        eprintln!("received: {}", text.get(..400).unwrap_or(&text));
    }
    eprintln!("results: {:#}", transcript["results"]);
    let mut results = transcript["results"].clone();
    results["stderr"] = transcript["stderr"].clone();
    results["received"] = transcript["received"].clone();
    Some(results)
}

/// The scopes of the lint runs the server logged, relative to `root`.
fn lint_scopes(results: &Value, root: &Path) -> Vec<String> {
    let root = root.to_str().unwrap();
    results["stderr"]
        .as_str()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.strip_prefix("pasvlint lsp: linted "))
        .filter_map(|l| l.split(" (").next())
        .map(|scope| scope.strip_prefix(root).unwrap_or(scope).to_owned())
        .collect()
}

fn initialize(ws: &Workspace, utf8: bool) -> Value {
    let encodings = if utf8 {
        json!(["utf-8", "utf-16"])
    } else {
        json!(["utf-16"])
    };
    json!({"op": "request", "method": "initialize", "save": "initialize", "params": {
        "processId": null,
        "rootUri": ws.uri(""),
        "workspaceFolders": [{"uri": ws.uri(""), "name": "infra"}],
        "capabilities": {
            "general": {"positionEncodings": encodings},
            "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
            "textDocument": {"publishDiagnostics": {"relatedInformation": true}}
        }
    }})
}

fn initialized() -> Value {
    json!({"op": "notify", "method": "initialized", "params": {}})
}

fn open(uri: &str, text: &str) -> Value {
    json!({"op": "notify", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "plaintext", "version": 1, "text": text
    }}})
}

fn wait(uri: &str, until: &str, save: &str) -> Value {
    json!({"op": "diagnostics", "uri": uri, "until": until, "save": save})
}

fn shutdown_and_exit() -> [Value; 2] {
    [
        json!({"op": "request", "method": "shutdown", "save": "shutdown"}),
        json!({"op": "exit", "save": "exit_code"}),
    ]
}

fn with_code<'a>(published: &'a Value, rule: &str) -> Vec<&'a Value> {
    published["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics in {published}"))
        .iter()
        .filter(|d| d["code"] == rule)
        .collect()
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

const HOST_VSFTPD: &str = "listen=YES\n\
pasv_enable=YES\n\
pasv_min_port=9981\n\
pasv_max_port=9986\n\
max_clients=5\n";

const HOST_RULES: &str = "# Pare-feu du serveur FTP — généré par iptables-save\n\
*filter\n\
:INPUT ACCEPT [0:0]\n\
:FORWARD ACCEPT [0:0]\n\
:OUTPUT ACCEPT [0:0]\n\
-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\n\
-A INPUT -p tcp -m comment --comment \"données passives\" -m tcp --dport 9981:9984 -j ACCEPT\n\
-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n\
COMMIT\n";

/// UTF-16 length of `text`, as a client counts characters.
fn units(text: &str) -> u32 {
    text.encode_utf16().count() as u32
}

/// The scenario the language server exists for: an edit to the firewall file
/// updates the FTP server config's diagnostics.
#[test]
fn host_findings_follow_edits_to_the_other_file_of_the_host() {
    let ws = Workspace::new(&[
        ("host/etc/vsftpd.conf", HOST_VSFTPD),
        ("host/etc/iptables/rules.v4", HOST_RULES),
    ]);
    let conf = ws.uri("host/etc/vsftpd.conf");
    let rules = ws.uri("host/etc/iptables/rules.v4");
    let accept_line = HOST_RULES.lines().nth(6).unwrap();
    let at_9984 = units(&accept_line[..accept_line.find("9984").unwrap()]);
    let mut steps = vec![
        initialize(&ws, false),
        initialized(),
        open(&conf, HOST_VSFTPD),
        open(&rules, HOST_RULES),
        wait(&conf, "passive-ports-blocked", "blocked"),
        json!({"op": "request", "method": "textDocument/hover", "save": "hover",
            "params": {"textDocument": {"uri": conf}, "position": pos(3, 4)}}),
        json!({"op": "request", "method": "textDocument/codeAction", "save": "actions",
            "params": {"textDocument": {"uri": conf},
                "range": {"start": pos(3, 0), "end": pos(3, 5)},
                "context": {"diagnostics": [], "only": ["quickfix"]}}}),
        // Open 9981-9986: a range edit after "é", in UTF-16 units.
        json!({"op": "notify", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": rules, "version": 2},
            "contentChanges": [{"range": {"start": pos(6, at_9984), "end": pos(6, at_9984 + 4)},
                "text": "9986"}]}}),
        wait(&conf, "-passive-ports-blocked", "cleared"),
        // Typing in a file pasvlint does not read lints nothing.
        open(&ws.uri("README.md"), "# infra\n"),
        json!({"op": "notify", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": ws.uri("README.md"), "version": 2},
            "contentChanges": [{"text": "# infra repo\n"}]}}),
        json!({"op": "request", "method": "textDocument/hover", "save": "readme_hover",
            "params": {"textDocument": {"uri": ws.uri("README.md")}, "position": pos(0, 3)}}),
    ];
    steps.extend(shutdown_and_exit());
    let Some(r) = session(json!(steps)) else {
        return;
    };

    let blocked = with_code(&r["blocked"], "passive-ports-blocked");
    assert_eq!(blocked.len(), 1, "{}", r["blocked"]);
    let d = blocked[0];
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("9985-9986"), "{message}");
    assert!(message.contains("\nhelp: open 9985-9986/tcp"), "{message}");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"], json!({"start": pos(3, 0), "end": pos(3, 18)}));
    let related = d["relatedInformation"].as_array().unwrap();
    let in_rules: Vec<_> = related
        .iter()
        .filter(|info| info["location"]["uri"] == rules)
        .collect();
    let opener = in_rules
        .iter()
        .find(|info| info["message"] == "opens only 9981-9984")
        .expect("the accept rule in rules.v4 is related");
    // The line holds "é": its end is counted in UTF-16 units, not bytes.
    assert_eq!(
        opener["location"]["range"],
        json!({"start": pos(6, 0), "end": pos(6, units(accept_line))})
    );
    assert!(
        in_rules
            .iter()
            .any(|info| info["message"] == "rejects 9985-9986"
                && info["location"]["range"]["start"] == pos(7, 0))
    );

    let hover = r["hover"]["result"]["contents"]["value"].as_str().unwrap();
    assert!(hover.starts_with("passive-ports-blocked"), "{hover}");

    let actions = r["actions"]["result"].as_array().unwrap();
    let ignore = actions
        .iter()
        .find(|a| a["title"] == "Ignore passive-ports-blocked on this line")
        .expect("an ignore action for the finding");
    assert_eq!(
        ignore["edit"]["changes"][&conf][0],
        json!({"range": {"start": pos(3, 0), "end": pos(3, 0)},
            "newText": "# pasvlint: ignore passive-ports-blocked -- reason\n"})
    );
    assert_eq!(ignore["diagnostics"][0]["code"], "passive-ports-blocked");

    // Only rules.v4 changed, yet vsftpd.conf was re-published without the
    // firewall finding. What stays is the capacity warning (6 ports for 5
    // sessions), which no firewall edit can clear.
    let cleared = &r["cleared"];
    let left: Vec<_> = cleared["diagnostics"].as_array().unwrap().iter().collect();
    assert!(
        left.iter().all(|d| d["code"] == "passive-range-too-small"),
        "{cleared}"
    );
    assert_eq!(
        with_code(&r["blocked"], "passive-range-too-small").len(),
        left.len()
    );
    assert_eq!(cleared["version"], 1);

    // One full lint at start; every open and edit re-linted only the host's
    // directory (opens that arrive while a lint runs share the next run).
    assert_eq!(r["readme_hover"]["result"], Value::Null);
    let scopes = lint_scopes(&r, &ws.root);
    assert_eq!(scopes.first().map(String::as_str), Some(""), "{scopes:?}");
    assert!(
        (3..=4).contains(&scopes.len()) && scopes[1..].iter().all(|s| s == "/host"),
        "{}",
        r["stderr"]
    );
    assert_eq!(r["exit_code"], 0);
}

const TYPO_CONF: &str = "# pasvlint: ignore passive-range-too-small -- reason\n\
listen=YES\n\
Pasv_Min_Port=9981\n\
bänner𝄞=1\n";

#[test]
fn vsftpd_findings_hover_fixes_and_incremental_edits_in_utf16() {
    let ws = Workspace::new(&[("host/etc/vsftpd.conf", TYPO_CONF)]);
    let conf = ws.uri("host/etc/vsftpd.conf");
    let hover = |line, character, save| {
        json!({"op": "request", "method": "textDocument/hover", "save": save, "params": {
            "textDocument": {"uri": conf}, "position": pos(line, character)}})
    };
    let mut steps = vec![
        initialize(&ws, false),
        initialized(),
        open(&conf, TYPO_CONF),
        wait(&conf, "vsftpd-unknown-directive", "first"),
        hover(0, 25, "hover_comment"),
        hover(2, 3, "hover_diagnostic"),
        hover(4, 0, "hover_nothing"),
        json!({"op": "request", "method": "textDocument/codeAction", "save": "actions",
            "params": {"textDocument": {"uri": conf},
                "range": {"start": pos(2, 0), "end": pos(2, 0)},
                "context": {"diagnostics": []}}}),
        // Fix the case with a range edit on line 2, then delete "𝄞" (after
        // non-ASCII, in UTF-16 units) on line 3.
        json!({"op": "notify", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": conf, "version": 2},
        "contentChanges": [
            {"range": {"start": pos(2, 0), "end": pos(2, 13)}, "text": "pasv_min_port"},
            {"range": {"start": pos(3, 6), "end": pos(3, 8)}, "text": ""}
        ]}}),
        wait(&conf, "any", "after_edit"),
        json!({"op": "notify", "method": "textDocument/didClose", "params": {
            "textDocument": {"uri": conf}}}),
        wait(&conf, "empty", "after_close"),
    ];
    steps.extend(shutdown_and_exit());
    let Some(r) = session(json!(steps)) else {
        return;
    };

    let caps = &r["initialize"]["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["hoverProvider"], true);

    let first = &r["first"];
    assert_eq!(first["version"], 1);
    let typo = with_code(first, "vsftpd-unknown-directive");
    let on_line = |line: u32| typo.iter().find(|d| d["range"]["start"]["line"] == line);
    let typo_line = on_line(2).expect("the typo is flagged");
    assert_eq!(typo_line["source"], "pasvlint");
    assert_eq!(typo_line["severity"], 1);
    assert_eq!(
        typo_line["codeDescription"]["href"],
        "https://github.com/pasvlint/pasvlint/blob/main/rules/vsftpd-unknown-directive.toml"
    );
    assert!(typo_line["message"].as_str().unwrap().contains("\nhelp: "));
    // "bänner𝄞" is 8 UTF-16 units (11 bytes): the range ends in client units.
    let banner = on_line(3).expect("the non-ASCII key is flagged");
    assert_eq!(banner["range"]["start"], pos(3, 0));
    assert_eq!(banner["range"]["end"], pos(3, 8), "not in UTF-16 units");

    let explains = |v: &Value, rule: &str| {
        let text = v["result"]["contents"]["value"].as_str().unwrap_or("");
        v["result"]["contents"]["kind"] == "markdown" && text.starts_with(rule)
    };
    assert!(explains(&r["hover_comment"], "passive-range-too-small"));
    assert_eq!(
        r["hover_comment"]["result"]["range"],
        json!({"start": pos(0, 19), "end": pos(0, 42)})
    );
    assert!(explains(&r["hover_diagnostic"], "vsftpd-unknown-directive"));
    assert_eq!(r["hover_nothing"]["result"], Value::Null);

    let actions = r["actions"]["result"].as_array().unwrap();
    let titled = |t: &str| actions.iter().find(|a| a["title"] == t);
    let fix = titled("rename to pasv_min_port").expect("the rule's fix is offered");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    let edits = &fix["edit"]["changes"][&conf];
    assert_eq!(edits[0]["newText"], "pasv_min_port=9981");
    assert_eq!(edits[0]["range"]["start"], pos(2, 0));
    let ignore = titled("Ignore vsftpd-unknown-directive on this line").unwrap();
    assert_eq!(
        ignore["edit"]["changes"][&conf][0],
        json!({"range": {"start": pos(2, 0), "end": pos(2, 0)},
            "newText": "# pasvlint: ignore vsftpd-unknown-directive -- reason\n"})
    );

    let after = &r["after_edit"];
    assert_eq!(after["version"], 2);
    let left: Vec<_> = with_code(after, "vsftpd-unknown-directive");
    assert!(
        left.iter().all(|d| d["range"]["start"]["line"] == 3),
        "the typo fix clears line 2: {after}"
    );
    // Line 3 is now "bänner=1": the key is 6 units.
    let banner = left.first().expect("bänner is still unknown");
    assert_eq!(banner["range"]["end"], pos(3, 6));

    assert_eq!(r["after_close"]["diagnostics"], json!([]));
    assert_eq!(r["shutdown"]["result"], Value::Null);
    assert_eq!(r["exit_code"], 0);
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let ws = Workspace::new(&[("etc/vsftpd.conf", "bänner𝄞=1\n")]);
    let conf = ws.uri("etc/vsftpd.conf");
    let mut steps = vec![
        initialize(&ws, true),
        initialized(),
        open(&conf, "bänner𝄞=1\n"),
        wait(&conf, "vsftpd-unknown-directive", "published"),
    ];
    steps.extend(shutdown_and_exit());
    let Some(r) = session(json!(steps)) else {
        return;
    };
    assert_eq!(
        r["initialize"]["result"]["capabilities"]["positionEncoding"],
        "utf-8"
    );
    let d = with_code(&r["published"], "vsftpd-unknown-directive")[0];
    // "bänner𝄞" is 11 bytes.
    assert_eq!(d["range"]["end"], pos(0, 11), "not in UTF-8 bytes");
}

/// A byte-order mark on disk: a buffer that keeps it gets ranges shifted past
/// it; a buffer without it (editors hide it, and write it back on save) is
/// still linted with it, since vsftpd reads it as part of the first name.
#[test]
fn a_bom_on_disk_is_linted_whether_or_not_the_buffer_shows_it() {
    let text = "\u{feff}Pasv_Min_Port=9981\n";
    let ws = Workspace::new(&[
        ("a/etc/vsftpd.conf", text),
        ("b/etc/vsftpd.conf", "\u{feff}listen=YES\n"),
    ]);
    let conf = ws.uri("a/etc/vsftpd.conf");
    let hidden = ws.uri("b/etc/vsftpd.conf");
    let mut steps = vec![
        initialize(&ws, false),
        initialized(),
        open(&conf, text),
        wait(&conf, "vsftpd-unknown-directive", "published"),
        open(&hidden, "listen=YES\n"),
        wait(&hidden, "vsftpd-unknown-directive", "hidden"),
    ];
    steps.extend(shutdown_and_exit());
    let Some(r) = session(json!(steps)) else {
        return;
    };
    let d = with_code(&r["published"], "vsftpd-unknown-directive")[0];
    assert_eq!(d["range"], json!({"start": pos(0, 1), "end": pos(0, 14)}));
    let d = with_code(&r["hidden"], "vsftpd-unknown-directive")[0];
    assert_eq!(d["range"], json!({"start": pos(0, 0), "end": pos(0, 6)}));
    assert!(
        d["message"].as_str().unwrap().contains("byte-order mark"),
        "{d}"
    );
}

#[test]
fn config_changes_reload_and_bad_configs_are_reported() {
    let conf_text = "pasv_min_prot=9981\n";
    let ws = Workspace::new(&[("etc/vsftpd.conf", conf_text)]);
    let conf = ws.uri("etc/vsftpd.conf");
    let toml = ws.uri("pasvlint.toml");
    let toml_path = ws.root.join("pasvlint.toml");
    let write_toml = |text: &str| json!({"op": "write", "path": toml_path, "text": text});
    let watched = json!({"op": "notify", "method": "workspace/didChangeWatchedFiles",
        "params": {"changes": [{"uri": toml, "type": 2}]}});
    let mut steps = vec![
        initialize(&ws, false),
        initialized(),
        open(&conf, conf_text),
        wait(&conf, "vsftpd-unknown-directive", "before"),
        // Edited and saved in the editor.
        write_toml("[rules]\nignore = [\"vsftpd-unknown-directive\"]\n"),
        json!({"op": "notify", "method": "textDocument/didSave",
            "params": {"textDocument": {"uri": toml}}}),
        wait(&conf, "-vsftpd-unknown-directive", "ignored"),
        // Broken by another program: reported on the file, defaults apply.
        write_toml("[rules]\nignore = 3\n"),
        watched.clone(),
        wait(&toml, "nonempty", "bad_config"),
        wait(&conf, "vsftpd-unknown-directive", "defaults"),
        write_toml("[rules]\n"),
        watched,
        wait(&toml, "empty", "repaired"),
    ];
    steps.extend(shutdown_and_exit());
    let Some(r) = session(json!(steps)) else {
        return;
    };
    assert!(r["before"]["diagnostics"].is_array());
    assert!(with_code(&r["ignored"], "vsftpd-unknown-directive").is_empty());
    let d = &r["bad_config"]["diagnostics"][0];
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("pasvlint.toml not used")
    );
    assert_eq!(d["range"]["start"]["line"], 1);
    assert_eq!(
        with_code(&r["defaults"], "vsftpd-unknown-directive").len(),
        1
    );
    assert_eq!(r["repaired"]["diagnostics"], json!([]));
    assert_eq!(r["exit_code"], 0);
}

#[test]
fn no_client_input_crashes_the_server() {
    let ws = Workspace::new(&[("etc/vsftpd.conf", "listen=YES\n")]);
    let conf = ws.uri("etc/vsftpd.conf");
    let request = |method: &str, params: Value, save: &str| json!({"op": "request", "method": method, "params": params, "save": save});
    let far = json!({"textDocument": {"uri": conf}, "position": pos(99_999, 99_999)});
    let steps = json!([
        request("textDocument/hover", json!({}), "before_init"),
        initialize(&ws, false),
        initialized(),
        {"op": "raw", "text": "Content-Length: 9\r\n\r\n{not json"},
        request("textDocument/hover", json!({"textDocument": {"uri": "file:///%%"},
            "position": pos(0, 0)}), "bad_uri"),
        request("textDocument/hover", json!({"textDocument": {"uri": "untitled:1"},
            "position": pos(0, 0)}), "other_scheme"),
        request("textDocument/hover", json!({"textDocument":
            {"uri": ws.uri("missing/file")}, "position": pos(0, 0)}), "unknown_file"),
        open(&conf, "listen=YES\n"),
        request("textDocument/hover", far, "far_position"),
        {"op": "notify", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": conf, "version": 2},
            "contentChanges": [{"range": {"start": pos(7, 99), "end": pos(0, 3)},
                "text": "é"}]}},
        {"op": "notify", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": ws.uri("never/opened"), "version": 2},
            "contentChanges": [{"text": "x"}]}},
        {"op": "notify", "method": "textDocument/didOpen", "params": {"bogus": true}},
        request("textDocument/codeAction", json!({"textDocument": {"uri": conf},
            "range": {"start": pos(5, 0), "end": pos(0, 0)}, "context": {"diagnostics": []}}),
            "reversed_range"),
        request("workspace/symbol", json!({"query": ""}), "unknown_method"),
        request("textDocument/hover", json!({"textDocument": {"uri": conf},
            "position": pos(0, 0)}), "still_alive"),
        {"op": "exit", "save": "exit_code"}
    ]);
    let Some(r) = session(steps) else {
        return;
    };
    assert_eq!(r["before_init"]["error"]["code"], -32002);
    assert!(r["initialize"]["result"].is_object());
    assert_eq!(r["bad_uri"]["error"]["code"], -32602, "not a URI");
    assert_eq!(r["other_scheme"]["result"], Value::Null);
    assert_eq!(r["unknown_file"]["result"], Value::Null);
    assert_eq!(r["far_position"]["result"], Value::Null);
    assert_eq!(r["reversed_range"]["result"], json!([]));
    assert_eq!(r["unknown_method"]["error"]["code"], -32601);
    // Still answering after all that: the reversed-range edit left one line
    // ("lis" + "é"), and hover on it explains a rule.
    let alive = &r["still_alive"]["result"]["contents"]["value"];
    assert!(
        alive
            .as_str()
            .is_some_and(|t| t.contains("## What it checks"))
    );
    // `exit` without `shutdown` is exit code 1, as the protocol says.
    assert_eq!(r["exit_code"], 1);
}

/// A lint runs beside the message loop: while the first full lint of a large
/// workspace runs, `shutdown` is answered at once, and a code action (which
/// reads findings) waits for the lint, or is answered "canceled" when the
/// client cancels it.
#[test]
fn a_lint_never_blocks_the_message_loop() {
    let hosts: Vec<(String, &str)> = (0..400)
        .flat_map(|i| {
            [
                (format!("h{i}/etc/vsftpd.conf"), HOST_VSFTPD),
                (format!("h{i}/etc/iptables/rules.v4"), HOST_RULES),
            ]
        })
        .collect();
    let files: Vec<(&str, &str)> = hosts.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let ws = Workspace::new(&files);
    let conf = ws.uri("h0/etc/vsftpd.conf");
    let action = |id: &str| {
        json!({"op": "send", "id": id, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": conf},
            "range": {"start": pos(3, 0), "end": pos(3, 5)},
            "context": {"diagnostics": []}}})
    };
    let steps = json!([
        initialize(&ws, false),
        initialized(),
        open(&conf, HOST_VSFTPD),
        action("canceled"),
        action("waited"),
        {"op": "notify", "method": "$/cancelRequest", "params": {"id": "canceled"}},
        {"op": "request", "method": "shutdown", "save": "shutdown"},
        {"op": "response", "id": "canceled", "save": "canceled"},
        {"op": "response", "id": "waited", "save": "waited"},
        wait(&conf, "passive-ports-blocked", "blocked"),
        {"op": "exit", "save": "exit_code"},
    ]);
    let Some(r) = session(steps) else {
        return;
    };
    assert_eq!(r["shutdown"]["result"], Value::Null, "{}", r["shutdown"]);
    assert_eq!(r["canceled"]["error"]["code"], -32800, "{}", r["canceled"]);
    let received = r["received"].as_array().unwrap();
    let at = |wanted: &dyn Fn(&Value) -> bool| received.iter().position(wanted).unwrap();
    let first_publish = at(&|m| m["method"] == "textDocument/publishDiagnostics");
    // The client numbers its own requests: initialize 1, shutdown 2.
    assert!(at(&|m| m["id"] == 2 && m.get("method").is_none()) < first_publish);
    assert!(at(&|m| m["id"] == "canceled") < first_publish);
    assert!(at(&|m| m["id"] == "waited") > first_publish);
    let waited = r["waited"]["result"].as_array().expect("code actions");
    assert!(
        waited
            .iter()
            .any(|a| a["title"] == "Ignore passive-ports-blocked on this line"),
        "the waiting request saw the lint's findings: {waited:?}"
    );
    assert_eq!(r["exit_code"], 0);
}

/// `source.fixAll.pasvlint` applies every safe fix of the file at once; the
/// fixed text, sent back, has none of those findings left.
#[test]
fn fix_all_in_file() {
    const TYPOS: &str = "Listen=YES\nPasv_Min_Port=9981\npasv_max_port=9990\nmax_clients=2\n";
    let ws = Workspace::new(&[("host/etc/vsftpd.conf", TYPOS)]);
    let conf = ws.uri("host/etc/vsftpd.conf");
    let actions = |only: Value, save: &str| {
        json!({"op": "request", "method": "textDocument/codeAction", "save": save,
            "params": {"textDocument": {"uri": conf},
                "range": {"start": pos(0, 0), "end": pos(0, 0)},
                "context": {"diagnostics": [], "only": only}}})
    };
    let steps = json!([
        initialize(&ws, false),
        initialized(),
        open(&conf, TYPOS),
        wait(&conf, "vsftpd-unknown-directive", "first"),
        actions(json!(["source.fixAll"]), "fix_all"),
        actions(json!(["quickfix"]), "quick"),
        {"op": "request", "method": "shutdown", "save": "shutdown"},
        {"op": "exit", "save": "exit_code"},
    ]);
    let Some(r) = session(steps) else {
        return;
    };
    let fix_all = r["fix_all"]["result"].as_array().unwrap();
    assert_eq!(fix_all.len(), 1, "{fix_all:?}");
    let action = &fix_all[0];
    assert_eq!(action["kind"], "source.fixAll.pasvlint");
    assert_eq!(action["title"], "Fix all 2 pasvlint findings in this file");
    let edits = action["edit"]["changes"][&conf].as_array().unwrap();
    let mut lines: Vec<String> = TYPOS.lines().map(str::to_owned).collect();
    for edit in edits.iter().rev() {
        let (start, end) = (&edit["range"]["start"], &edit["range"]["end"]);
        assert_eq!(start["line"], end["line"], "one line each: {edit}");
        let line = &mut lines[start["line"].as_u64().unwrap() as usize];
        let (from, to) = (
            start["character"].as_u64().unwrap() as usize,
            end["character"].as_u64().unwrap() as usize,
        );
        line.replace_range(from..to, edit["newText"].as_str().unwrap());
    }
    assert_eq!(
        lines.join("\n") + "\n",
        "listen=YES\npasv_min_port=9981\npasv_max_port=9990\nmax_clients=2\n"
    );
    let quick = r["quick"]["result"].as_array().unwrap();
    assert!(
        !quick.is_empty() && quick.iter().all(|a| a["kind"] == "quickfix"),
        "{quick:?}"
    );
}
