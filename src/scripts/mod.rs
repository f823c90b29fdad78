//! Provisioning scripts read as their shells run them.
//!
//! One interpreter per shell (`sh` for POSIX sh/bash, `cmd` for batch files,
//! `ps` for PowerShell) evaluates a script statically and bounded: the shell's
//! own quoting and expansion, its control flow, its redirections. What comes
//! out is, streamed to a sink, each command that runs, in order, with its
//! argument vector as the program would receive it and spans into the script,
//! and then an [`Outcome`]: the files the script writes and the budget hits.
//! Every interpreter has the same entry point:
//! `pub fn run(source: &SourceFile, sink: &mut dyn FnMut(Command) -> Status) -> Outcome`.
//! Nothing here knows a file format: the readers in `formats/` take the commands
//! they recognise (see [`Command::program`]) and the written files whose paths
//! they recognise, and answer with what they know of the command's exit
//! [`Status`] (the sh interpreter stops at a failing command under `set -e`).
//!
//! Every interpreter charges one [`Budget`] per file; a hit stops that part of
//! the run and is recorded as a [`Limit`] naming the line, never a hang.

pub mod cmd;
pub mod ps;
pub mod sh;

use crate::source::Span;

/// Stands for a value the script cannot know (`$(hostname)`, `%COMPUTERNAME%`,
/// `$env:X`), inside [`Word::text`].
pub const UNKNOWN: char = '\u{E0FF}';

/// The shell a script is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shell {
    /// POSIX sh and bash.
    Sh,
    /// `cmd.exe` batch files.
    Cmd,
    PowerShell,
}

/// One argument after the shell's quoting and expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The argument as the program receives it; [`UNKNOWN`] marks each part the
    /// script cannot know.
    pub text: String,
    /// Where the word is written in the script (quotes included). A word that
    /// came from splitting an expansion carries the span of the word written.
    pub span: Span,
    /// What was unknown, as written (`$(hostname)`), for messages.
    pub unknown: Option<String>,
    /// PowerShell only: the elements when the argument is an array
    /// (`-LocalPort 21,5000-5100`, `@(21, "990")`); `text` then joins them with `,`.
    pub items: Option<Vec<String>>,
}

impl Word {
    pub fn literal(text: impl Into<String>, span: Span) -> Self {
        Word {
            text: text.into(),
            span,
            unknown: None,
            items: None,
        }
    }

    pub fn is_known(&self) -> bool {
        self.unknown.is_none() && !self.text.contains(UNKNOWN)
    }
}

/// Where a command's standard input comes from, when the script says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A heredoc (`<<EOF`, `<<-EOF`, `<<'EOF'`), a here-string (`<<<`, PowerShell
    /// `@"…"@` piped in), or the output of an `echo`/`printf`/`cat` heredoc piped
    /// into the command.
    Text(Text),
    /// `< FILE`.
    File(Word),
    /// PowerShell: the objects the command before it in the pipeline writes,
    /// given as that command's argument vector
    /// (`Get-NetFirewallRule -DisplayName FTP | Enable-NetFirewallRule`).
    Piped(Vec<Word>),
}

/// An output redirection, removed from the argument vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// 1 for stdout (`>`, `1>`), 2 for stderr (`2>`); `&>` is recorded as 1 and 2.
    pub fd: u8,
    pub append: bool,
    /// The file, or `&1`/`&2` for a duplication (`2>&1`).
    pub target: Word,
    pub span: Span,
}

impl Redirect {
    /// `> /dev/null`, `> nul`, `2>&1`, `| Out-Null`: output that goes nowhere a file
    /// of the host could be.
    pub fn discards(&self) -> bool {
        let t = self.target.text.to_ascii_lowercase();
        matches!(t.as_str(), "/dev/null" | "nul" | "nul:" | "$null") || t.starts_with('&')
    }
}

/// Why a command may not run: a condition the interpreter could not decide
/// (`if [ -f /etc/x ]`, `case "$1"`, `if exist`, `if ($x)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncertain {
    /// The condition as written.
    pub span: Span,
}

/// What the reader of a command knows of how the program exits, told back to the
/// interpreter that sent it (under `set -e` a command that fails ends the script).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Whatever the program does: the reader does not know, or does not read it.
    Unknown,
    /// The program rejects the command and exits non-zero (an iptables or nft
    /// command the real tool refuses).
    Fails,
}

/// A command that runs, with its arguments as the program receives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// `argv[0]` is the program as written after expansion (`/sbin/iptables`,
    /// `netsh`, `New-NetFirewallRule`); assignments before it (`A=1 cmd`) and
    /// redirections are not in it.
    pub argv: Vec<Word>,
    /// The whole command as written, redirections included.
    pub span: Span,
    pub stdin: Option<Input>,
    pub redirects: Vec<Redirect>,
    /// Set when the command runs only if a condition the interpreter could not
    /// decide holds; the innermost such condition.
    pub uncertain: Option<Uncertain>,
    /// The loop or call that made this command run more than once, when it did:
    /// readers report a problem of the command once per span, not per iteration.
    pub repeated: bool,
}

impl Command {
    /// A command run once as written: no input, no redirection, nothing unknown.
    pub fn plain(argv: Vec<Word>, span: Span) -> Command {
        Command {
            argv,
            span,
            stdin: None,
            redirects: Vec::new(),
            uncertain: None,
            repeated: false,
        }
    }

    /// The program this command runs, looked through wrappers (`sudo`, `env`,
    /// `command`, `exec`, `nice`, `call`, `&`, `start /wait`), and the index of
    /// its first argument in `argv`.
    pub fn program(&self) -> Option<(Program<'_>, usize)> {
        let mut i = 0;
        while let Some(w) = self.argv.get(i) {
            let base = basename(&w.text).to_ascii_lowercase();
            match base.as_str() {
                "sudo" | "command" | "exec" | "nice" | "nohup" | "time" | "builtin" => {
                    i += 1;
                    while self.argv.get(i).is_some_and(|w| w.text.starts_with('-')) {
                        i += 1;
                    }
                }
                "env" => {
                    i += 1;
                    while self
                        .argv
                        .get(i)
                        .is_some_and(|w| w.text.starts_with('-') || is_assignment(&w.text))
                    {
                        i += 1;
                    }
                }
                _ => return Some((Program::of(&w.text), i + 1)),
            }
        }
        None
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// A program named by its path: the basename decides only when the directory is
/// one a shell finds programs in (`/sbin/iptables` is iptables,
/// `/etc/init.d/iptables` is the RHEL service script).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program<'a> {
    /// Lower-cased basename without `.exe`/`.com`/`.cmd`/`.bat`.
    pub name: &'a str,
    /// The directory is absent or a program directory (`/sbin`, `/usr/bin`,
    /// `C:\Windows\System32`, `%SystemRoot%\system32`, unknown).
    pub on_path: bool,
    /// As written.
    pub written: &'a str,
}

impl<'a> Program<'a> {
    pub fn of(written: &'a str) -> Self {
        let base = basename(written);
        let name = strip_exe(base);
        let dir = &written[..written.len() - base.len()];
        Program {
            name,
            on_path: is_program_dir(dir),
            written,
        }
    }

    /// This is `name` (case-insensitive, as Windows and PowerShell match) run from
    /// a program directory.
    pub fn is(&self, name: &str) -> bool {
        self.on_path && self.name.eq_ignore_ascii_case(name)
    }
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn strip_exe(name: &str) -> &str {
    for ext in [".exe", ".com", ".cmd", ".bat"] {
        // `get`: the cut may fall inside a character (`n°tsh`).
        let cut = name.len().saturating_sub(ext.len());
        if cut > 0 && name.get(cut..).is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
            return name.get(..cut).unwrap_or(name);
        }
    }
    name
}

fn is_program_dir(dir: &str) -> bool {
    let dir = dir.trim_end_matches(['/', '\\']).to_ascii_lowercase();
    if dir.chars().all(|c| c == UNKNOWN) {
        return true;
    }
    let dir = dir.replace('\\', "/");
    const UNIX: &[&str] = &[
        "/bin",
        "/sbin",
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
    ];
    UNIX.contains(&dir.as_str())
        || dir.ends_with("/system32")
        || dir.ends_with("/syswow64")
        || dir.ends_with("/sysnative")
        || dir.ends_with("/system32/inetsrv")
        || dir.ends_with("/system32/windowspowershell/v1.0")
}

/// Text a script produces — a heredoc body, the lines of `echo`/`printf` — with
/// the script spans each part came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    /// Sorted by `at`; each piece covers `text[at..next.at]`.
    pub pieces: Vec<Piece>,
}

/// A run of [`Text`] and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Byte offset in [`Text::text`] where this piece starts.
    pub at: usize,
    /// The script bytes it came from.
    pub span: Span,
    /// The piece is the script's bytes verbatim (same length): offsets inside it
    /// map one to one. Otherwise (an expansion) the whole piece maps to `span`.
    pub verbatim: bool,
}

impl Text {
    /// Append `text` that came from `span`.
    pub fn push(&mut self, text: &str, span: Span, verbatim: bool) {
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            at: self.text.len(),
            span,
            verbatim,
        });
        self.text.push_str(text);
    }

    /// The script span of `text[start..end]`.
    pub fn span_of(&self, start: usize, end: usize) -> Option<Span> {
        let first = self.piece_at(start)?;
        let last = self.piece_at(end.saturating_sub(1).max(start))?;
        Some(self.map(first, start).to(self.map(last, end.max(start))))
    }

    fn piece_at(&self, offset: usize) -> Option<&Piece> {
        let i = self.pieces.partition_point(|p| p.at <= offset);
        self.pieces.get(i.checked_sub(1)?)
    }

    fn map(&self, piece: &Piece, offset: usize) -> Span {
        if !piece.verbatim {
            return piece.span;
        }
        let at = piece.span.start as usize + (offset - piece.at).min(piece.span.len());
        Span::new(piece.span.file, at, at)
    }
}

/// How a script changes a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOp {
    /// `cat > F <<EOF`, `echo … > F`, `printf … > F`, `tee F`.
    Replace(Text),
    /// `>> F`, `tee -a F`.
    Append(Text),
    /// `sed -i 's/old/new/flags' F` (one entry per `-e` expression, in order).
    Sed(Vec<SedEdit>),
}

/// One `s` command of a `sed -i` (other sed commands are recorded with `command`
/// set and no pattern, so a reader can say it did not follow them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SedEdit {
    /// The sed command letter (`s`, `d`, `a`, `i`, `c`, …).
    pub command: char,
    /// The address and pattern as written for sed (basic regular expression).
    pub address: Option<String>,
    pub pattern: Option<String>,
    pub replacement: Option<String>,
    pub flags: String,
    pub span: Span,
    /// What the script could not know in the command (`$PASV_ADDRESS`), as
    /// written; those parts hold [`UNKNOWN`].
    pub unknown: Option<String>,
}

/// A file the script writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The path as the script names it, after expansion.
    pub path: Word,
    pub op: WriteOp,
    /// The whole command that writes.
    pub span: Span,
    pub uncertain: Option<Uncertain>,
}

/// What a budget ran out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// Statements evaluated (all loops and calls together).
    Steps,
    /// Commands yielded to readers.
    Commands,
    /// One value grew past the longest string the budget keeps (cmd's own limit
    /// is 8191 characters a line).
    StringLength,
    /// Loops, calls and blocks nested deeper than the budget allows.
    Nesting,
}

impl LimitKind {
    pub fn describe(&self) -> &'static str {
        match self {
            LimitKind::Steps => "steps",
            LimitKind::Commands => "commands",
            LimitKind::StringLength => "string length",
            LimitKind::Nesting => "nesting depth",
        }
    }
}

/// A budget hit: the interpreter stopped following the script at `span`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub kind: LimitKind,
    pub span: Span,
    /// The budget's value that was reached.
    pub limit: u64,
}

/// One budget per file, shared by every loop, call and expansion of it.
#[derive(Clone, Debug)]
pub struct Budget {
    pub max_steps: u64,
    pub max_commands: u64,
    pub max_string: usize,
    pub max_depth: usize,
    steps: u64,
    commands: u64,
    /// The first hit; later hits are the same story.
    pub hit: Option<Limit>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::of(&crate::limits::Limits::default())
    }
}

impl Budget {
    /// The budget `[limits]` sets for one file.
    pub fn of(limits: &crate::limits::Limits) -> Budget {
        Budget {
            max_steps: limits.script_steps,
            max_commands: limits.script_commands,
            max_string: limits.string_bytes,
            max_depth: limits.nesting_depth,
            steps: 0,
            commands: 0,
            hit: None,
        }
    }

    /// Charge one statement at `span`; `false` once the budget is spent (stop).
    pub fn step(&mut self, span: Span) -> bool {
        self.steps += 1;
        self.check(
            self.steps > self.max_steps,
            LimitKind::Steps,
            span,
            self.max_steps,
        )
    }

    /// Charge one yielded command; `false` once the budget is spent.
    pub fn command(&mut self, span: Span) -> bool {
        self.commands += 1;
        self.check(
            self.commands > self.max_commands,
            LimitKind::Commands,
            span,
            self.max_commands,
        )
    }

    /// Whether a value of `len` bytes may be kept; `false` records the hit (the
    /// caller truncates or drops the value and treats it as unknown).
    pub fn string(&mut self, len: usize, span: Span) -> bool {
        self.check(
            len > self.max_string,
            LimitKind::StringLength,
            span,
            self.max_string as u64,
        )
    }

    /// Whether a block may be entered at `depth`.
    pub fn depth(&mut self, depth: usize, span: Span) -> bool {
        self.check(
            depth > self.max_depth,
            LimitKind::Nesting,
            span,
            self.max_depth as u64,
        )
    }

    /// Whether the run must stop (a steps or commands budget is spent).
    pub fn exhausted(&self) -> bool {
        self.hit
            .as_ref()
            .is_some_and(|h| matches!(h.kind, LimitKind::Steps | LimitKind::Commands))
    }

    fn check(&mut self, over: bool, kind: LimitKind, span: Span, limit: u64) -> bool {
        if over && self.hit.is_none() {
            self.hit = Some(Limit { kind, span, limit });
        }
        !over
    }
}

/// What a script's document keeps of its run once the readers took their
/// commands: the files it writes and where the interpreter stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub shell: Option<Shell>,
    pub writes: Vec<Write>,
    /// Budget hits (at most one per kind).
    pub limits: Vec<Limit>,
    /// Where the script ends before its last line because a command failed (sh),
    /// or the statement PowerShell's parser rejects (then none of the script runs).
    pub stop: Option<Stop>,
}

/// A script that ends at a failing command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The command that failed.
    pub span: Span,
    pub why: StopWhy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopWhy {
    /// The command's status is non-zero under `set -e` (or a `-e` shebang).
    Errexit,
    /// The shell rejects a `set` option (dash and `set -o pipefail`): a special
    /// builtin's error ends the script whatever the options.
    SetRejected,
    /// PowerShell's parser rejects the script (its message), so none of it runs.
    NotParsed(&'static str),
}

/// Everything a run did, commands included: for tests and tools. Readers take
/// commands as they come (interpreters call a sink per command), so a loop of
/// 65,535 iterations never holds 65,535 commands at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    pub commands: Vec<Command>,
    pub outcome: Outcome,
}

impl Run {
    /// Collect the commands an interpreter streams.
    pub fn collect(run: impl FnOnce(&mut dyn FnMut(Command) -> Status) -> Outcome) -> Run {
        let mut commands = Vec::new();
        let outcome = run(&mut |c| {
            commands.push(c);
            Status::Unknown
        });
        Run { commands, outcome }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span(a: usize, b: usize) -> Span {
        Span::new(FileId(0), a, b)
    }

    fn cmd(words: &[&str]) -> Command {
        Command {
            argv: words
                .iter()
                .map(|w| Word::literal(*w, span(0, 1)))
                .collect(),
            span: span(0, 1),
            stdin: None,
            redirects: Vec::new(),
            uncertain: None,
            repeated: false,
        }
    }

    #[test]
    fn programs_are_found_by_full_path() {
        let c = cmd(&["/sbin/iptables", "-A", "INPUT"]);
        let (p, first) = c.program().unwrap();
        assert!(p.is("iptables"));
        assert_eq!(first, 1);
        let c = cmd(&["/etc/init.d/iptables", "save"]);
        assert!(!c.program().unwrap().0.is("iptables"));
        let c = cmd(&["sudo", "-E", "env", "A=1", "ufw", "allow", "21"]);
        let (p, first) = c.program().unwrap();
        assert!(p.is("ufw"));
        assert_eq!(first, 5);
        let c = cmd(&[r"C:\Windows\System32\NETSH.EXE", "advfirewall"]);
        assert!(c.program().unwrap().0.is("netsh"));
        let unknown_root = format!(r"{UNKNOWN}\system32\netsh");
        let c = cmd(&[unknown_root.as_str()]);
        assert!(c.program().unwrap().0.is("netsh"));
        let c = cmd(&["./iptables"]);
        assert!(!c.program().unwrap().0.is("iptables"));
        let c = cmd(&["n°tsh"]);
        assert_eq!(c.program().unwrap().0.name, "n°tsh");
    }

    #[test]
    fn text_maps_offsets_back_into_the_script() {
        let mut t = Text::default();
        t.push("pasv_min_port=", span(100, 114), true);
        t.push("40000", span(114, 126), false);
        t.push("\n", span(126, 127), true);
        assert_eq!(t.span_of(0, 4), Some(span(100, 104)));
        assert_eq!(t.span_of(14, 19), Some(span(114, 126)));
        assert_eq!(t.span_of(0, 19), Some(span(100, 126)));
    }

    #[test]
    fn budget_records_the_first_hit_only() {
        let mut b = Budget {
            max_steps: 2,
            ..Budget::default()
        };
        assert!(b.step(span(0, 1)));
        assert!(b.step(span(1, 2)));
        assert!(!b.step(span(2, 3)));
        assert!(!b.step(span(3, 4)));
        assert!(b.exhausted());
        assert_eq!(b.hit.as_ref().unwrap().span, span(2, 3));
    }
}
