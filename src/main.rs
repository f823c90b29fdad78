//! The `pasvlint` command line: argument parsing and exit codes only.

use clap::builder::TypedValueParser;
use clap::{Parser, Subcommand, ValueEnum};
use pasvlint::diag::Severity;
use pasvlint::emit;
use pasvlint::policy::Config;
use pasvlint::suppress::Baseline;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// glibc's allocator degrades on the millions of small port and address sets a
// kube-proxy-sized dump makes (malloc_consolidate and unlink_chunk led the profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pasvlint",
    version,
    about = "Checks that FTP servers' passive ports and their firewalls agree"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint FTP server and firewall configs under PATHS (default: .)
    Check(CheckArgs),
    /// Show what was extracted from the files, per host
    Facts(FactsArgs),
    /// List every rule
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Explain one rule: what it checks, why, examples and the fix
    Explain(ExplainArgs),
    /// Language server on stdio (diagnostics, hover, code actions)
    Lsp,
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff)
    Man,
}

#[derive(clap::Args)]
struct Common {
    /// Files or directories to read
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Config file (default: nearest pasvlint.toml upward from the current directory)
    #[arg(long)]
    config: Option<PathBuf>,
    /// Ignore every pasvlint.toml
    #[arg(long, conflicts_with = "config")]
    isolated: bool,
    /// Read files that .gitignore, .ignore or .git/info/exclude exclude (skipped by
    /// default, as rg skips them)
    #[arg(long)]
    no_ignore: bool,
    /// Worker threads (default: all cores); output is the same for any value
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// With PATHS `-`: read one file from stdin, linted as if it were at PATH
    /// (with the other files of its host read from disk)
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Report format, on stdout or in --output
    #[arg(long, default_value = "human", value_parser = report_format())]
    format: emit::ReportFormat,
    /// Only these rules or categories (comma-separated)
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules or categories (comma-separated)
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Write the report to FILE instead of stdout
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Also write a report in FORMAT to PATH (`-`: stdout); repeatable
    #[arg(long, value_name = "FORMAT=PATH")]
    output_format: Vec<emit::Destination>,
    /// After the report, print how many findings each rule produced
    #[arg(long)]
    statistics: bool,
    /// No colors (also when NO_COLOR is set or output is not a terminal)
    #[arg(long)]
    no_color: bool,
    /// Print nothing on stdout (reports for files are still written)
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Ignore `pasvlint: ignore` comments (a strict gate)
    #[arg(long)]
    no_inline_suppressions: bool,
    /// Accept the findings recorded in FILE (they count as suppressed)
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record every current finding in FILE and exit 0
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Apply the fixes findings carry, then report what is left
    #[arg(long, conflicts_with_all = ["diff", "write_baseline"])]
    fix: bool,
    /// Print the fixes as a unified diff and change nothing (exit 1 when there are any)
    #[arg(long, conflicts_with = "write_baseline")]
    diff: bool,
    /// Apply the fixes findings carry and report nothing: exit 0 unless a file could
    /// not be read or written (the findings left are for the next `check`)
    #[arg(long, conflicts_with_all = ["diff", "write_baseline"])]
    fix_only: bool,
    /// With --fix, --fix-only or --diff: also the fixes that change behaviour beyond the finding
    /// (moving a server's passive range to the ports its firewall opens)
    #[arg(long)]
    unsafe_fixes: bool,
}

#[derive(clap::Args)]
struct ExplainArgs {
    rule: String,
    /// Also show the rule's finding at FILE:LINE (its message, its host's port map),
    /// linting PATHS (default: .) as `check` does
    #[arg(long = "for", value_name = "FILE:LINE")]
    for_: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct FactsArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_enum, default_value_t = FactsFormat::Human)]
    format: FactsFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum FactsFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Human,
    Json,
    /// The table README.md carries
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check(args),
        Command::Facts(args) => facts(args),
        Command::Rules { format } => list_rules(format),
        Command::Explain(args) => explain(args),
        Command::Lsp => pasvlint::lsp::run(),
        Command::Man => {
            use clap::CommandFactory;
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| e.to_string())
                .and_then(|_| write_output(None, &String::from_utf8_lossy(&page)))
                .map(|_| 0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "pasvlint",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("pasvlint: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The config file's settings, with the command line's on top.
fn load_config(common: &Common) -> Result<Config, String> {
    let mut config = read_config(common)?;
    if common.no_ignore {
        config.files.respect_gitignore = Some(false);
    }
    Ok(config)
}

/// `--config`, else the nearest pasvlint.toml upward from the first checked path.
fn read_config(common: &Common) -> Result<Config, String> {
    if common.isolated {
        return Ok(Config::default());
    }
    let start = common
        .paths
        .first()
        .map_or(Path::new("."), PathBuf::as_path);
    let start = if start.is_file() {
        start.parent().unwrap_or(Path::new("."))
    } else {
        start
    };
    let Some(path) = common.config.clone().or_else(|| Config::find(start)) else {
        return Ok(Config::default());
    };
    let config = Config::load(&path)?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    config.check_rule_names(&text, &path, is_rule_or_category)?;
    Ok(config)
}

fn is_rule_or_category(name: &str) -> bool {
    name == "all"
        || pasvlint::rules::catalog()
            .iter()
            .any(|m| m.name == name || m.category == name)
}

fn pool(common: &Common) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(common.jobs.unwrap_or(0))
        .build()
        .map_err(|e| e.to_string())
}

fn run_lint(common: &Common, config: &Config) -> Result<pasvlint::Report, String> {
    let (paths, overlay) = stdin_overlay(common)?;
    let report = pool(common)?.install(|| pasvlint::lint_with(&paths, config, &overlay));
    for (path, reason) in &report.unreadable {
        eprintln!("pasvlint: cannot read {}: {reason}", path.display());
    }
    for (path, what) in &report.links {
        let path = pasvlint::emit::escape_path(&path.display().to_string());
        eprintln!(
            "pasvlint: note: {path}: {}",
            pasvlint::emit::escape_controls(what)
        );
    }
    Ok(report)
}

/// `-` reads stdin as `--stdin-filename`, linted with its directory's other files.
fn stdin_overlay(common: &Common) -> Result<(Vec<PathBuf>, pasvlint::Overlay), String> {
    if common.paths.iter().all(|p| p.as_os_str() != "-") {
        return Ok((common.paths.clone(), pasvlint::Overlay::new()));
    }
    let name = common
        .stdin_filename
        .clone()
        .ok_or("reading stdin (`-`) needs --stdin-filename PATH")?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    let dir = name
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && d.is_dir())
        .map_or_else(|| name.clone(), Path::to_path_buf);
    let mut paths: Vec<PathBuf> = common
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    paths.push(dir);
    Ok((paths, pasvlint::Overlay::from([(name, text)])))
}

fn check(args: CheckArgs) -> Result<u8, String> {
    let destinations = report_destinations(&args)?;
    let mut config = load_config(&args.common)?;
    check_rule_names(args.select.iter().chain(&args.ignore))?;
    if !args.select.is_empty() {
        config.rules.select = args.select.clone();
    }
    config.rules.ignore.extend(args.ignore.iter().cloned());
    if args.no_inline_suppressions {
        config.policy.inline_suppressions = Some(false);
    }
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let mut report = run_lint(&args.common, &config)?;
    if let Some(path) = &args.write_baseline {
        write_output(Some(path), &Baseline::from_report(&report).to_json())?;
        eprintln!(
            "pasvlint: wrote {} findings to {}",
            report.diagnostics.len(),
            path.display()
        );
        return Ok(0);
    }
    if let Some(baseline) = &baseline {
        baseline.apply(&mut report);
    }
    if args.fix || args.fix_only || args.diff {
        if args.common.stdin_filename.is_some() {
            return Err(
                "--fix, --fix-only and --diff read files from disk; drop --stdin-filename"
                    .to_owned(),
            );
        }
        let accept = |r: &mut pasvlint::Report| {
            if let Some(baseline) = &baseline {
                baseline.apply(r);
            }
        };
        let plan = pool(&args.common)?.install(|| {
            pasvlint::fix::until_stable(&args.common.paths, &config, args.unsafe_fixes, &accept)
        });
        for (path, why) in &plan.skipped {
            eprintln!("pasvlint: not fixed in {}: {why}", path.display());
        }
        if args.diff {
            let diffs: String = plan.files.iter().map(pasvlint::fix::unified_diff).collect();
            write_output(None, &diffs)?;
            return Ok(if plan.files.is_empty() {
                0
            } else {
                EXIT_FINDINGS
            });
        }
        apply_fixes(&plan)?;
        if args.fix_only {
            return Ok(if report.unreadable.is_empty() {
                0
            } else {
                EXIT_USAGE
            });
        }
        report = run_lint(&args.common, &config)?;
        if let Some(baseline) = &baseline {
            baseline.apply(&mut report);
        }
    }
    write_reports(&report, &destinations, &args)?;
    if !report.unreadable.is_empty() {
        return Ok(EXIT_USAGE);
    }
    let failing = args
        .fail_on
        .threshold()
        .is_some_and(|t| report.diagnostics.iter().any(|d| d.severity >= t));
    Ok(if failing { EXIT_FINDINGS } else { 0 })
}

fn apply_fixes(plan: &pasvlint::fix::Plan) -> Result<(), String> {
    let mut count = 0;
    for file in &plan.files {
        pasvlint::fix::write_atomically(&file.path, &file.bytes)
            .map_err(|e| format!("cannot write {}: {e}", file.path.display()))?;
        count += file.fixed.len();
    }
    eprintln!(
        "pasvlint: fixed {count} finding{} in {} file{}",
        if count == 1 { "" } else { "s" },
        plan.files.len(),
        if plan.files.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn report_format() -> impl TypedValueParser<Value = emit::ReportFormat> {
    clap::builder::PossibleValuesParser::new(emit::ReportFormat::NAMES)
        .try_map(|s| s.parse::<emit::ReportFormat>())
}

/// The main report (`--format`, `--output`) first, then each `--output-format`.
fn report_destinations(args: &CheckArgs) -> Result<Vec<emit::Destination>, String> {
    let main = emit::Destination {
        format: args.format,
        path: args.output.clone(),
    };
    let all: Vec<emit::Destination> = std::iter::once(main)
        .chain(args.output_format.iter().cloned())
        .collect();
    emit::check_destinations(&all, usize::from(args.statistics))?;
    Ok(all)
}

fn write_reports(
    report: &pasvlint::Report,
    destinations: &[emit::Destination],
    args: &CheckArgs,
) -> Result<(), String> {
    let color =
        !args.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let srcroot = std::env::current_dir()
        .ok()
        .map(|dir| emit::sarif::directory_uri(&dir));
    for destination in destinations {
        if args.quiet && destination.path.is_none() {
            continue;
        }
        let options = emit::RenderOptions {
            color: color && destination.path.is_none(),
            width: 100,
            rules: pasvlint::rules::catalog(),
            srcroot: srcroot.clone(),
        };
        let text = emit::render(destination.format, report, &options);
        write_output(destination.path.as_deref(), &text)?;
    }
    if args.statistics && !args.quiet {
        write_output(None, &emit::statistics::render(report))?;
    }
    Ok(())
}

fn check_rule_names<'a>(names: impl Iterator<Item = &'a String>) -> Result<(), String> {
    for name in names {
        if !is_rule_or_category(name) {
            return Err(format!(
                "unknown rule or category `{name}` (see `pasvlint rules`)"
            ));
        }
    }
    Ok(())
}

fn facts(args: FactsArgs) -> Result<u8, String> {
    let config = load_config(&args.common)?;
    let report = run_lint(&args.common, &config)?;
    let text = match args.format {
        FactsFormat::Human => emit::facts::render_human(&report),
        FactsFormat::Json => emit::facts::render_json(&report),
    };
    write_output(None, &text)?;
    Ok(if report.unreadable.is_empty() {
        0
    } else {
        EXIT_USAGE
    })
}

fn list_rules(format: ListFormat) -> Result<u8, String> {
    let catalog = pasvlint::rules::catalog();
    let text = match format {
        ListFormat::Json => {
            let rules: Vec<_> = catalog
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "name": m.name, "severity": m.severity.as_str(),
                        "category": m.category, "summary": m.summary,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
        }
        ListFormat::Markdown => pasvlint::rules::markdown_table(),
        ListFormat::Human => {
            let width = catalog.iter().map(|m| m.name.len()).max().unwrap_or(0);
            catalog
                .iter()
                .map(|m| {
                    format!(
                        "{:width$}  {:7}  {}\n",
                        m.name,
                        m.severity.as_str(),
                        m.summary
                    )
                })
                .collect()
        }
    };
    write_output(None, &text)?;
    Ok(0)
}

fn explain(args: ExplainArgs) -> Result<u8, String> {
    let rule = &args.rule;
    let meta = pasvlint::rules::meta(rule)
        .ok_or_else(|| format!("unknown rule `{rule}` (see `pasvlint rules`)"))?;
    let Some(at) = &args.for_ else {
        write_output(None, &pasvlint::rules::explain(meta))?;
        return Ok(0);
    };
    let (file, line) = at
        .rsplit_once(':')
        .and_then(|(file, line)| Some((PathBuf::from(file), line.parse::<usize>().ok()?)))
        .ok_or_else(|| format!("--for takes FILE:LINE, not `{at}`"))?;
    let mut common = args.common;
    with_file_checked(&mut common.paths, &file);
    let config = load_config(&common)?;
    let report = run_lint(&common, &config)?;
    let at = emit::explain::At { file: &file, line };
    write_output(None, &emit::explain::render_for(report, meta, &at)?)?;
    Ok(0)
}

/// `--for FILE` outside every checked path: its folder is checked too, so the
/// finding asked for is there to show.
fn with_file_checked(paths: &mut Vec<PathBuf>, file: &Path) {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let wanted = absolute(file);
    if paths.iter().any(|p| wanted.starts_with(absolute(p))) {
        return;
    }
    let folder = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    paths.push(folder.to_path_buf());
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
            dir.map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(p, text))
                .map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`pasvlint ... | head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            Ok(())
        }
    }
}
