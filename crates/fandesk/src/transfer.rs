//! `fandesk export` and `fandesk import`: a workspace's fans and conversations as JSON
//! lines (docs/export.md), streamed out of one snapshot and read back in batches that skip
//! what is already there, with a progress bar on stderr for long runs.

use anyhow::{Context, bail};
use fandesk_store::{Store, check_import_line};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the database is, as for `fandesk serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "FANDESK_DATA_DIR", default_value = "./fandesk-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); when set, SQLite is not used.
    #[arg(long, env = "FANDESK_DATABASE_URL")]
    pub database: Option<String>,
    /// Show progress on stderr even when it is not a terminal (one line a second).
    #[arg(long)]
    pub progress: bool,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Write the export here (a new file, readable by its owner only), or `-` for
    /// standard output.
    #[arg(long, default_value = "-")]
    pub out: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The JSON-lines file written by `fandesk export`.
    pub file: PathBuf,
    /// Import into a database that has no members yet. Without it such a database is
    /// refused: passwords are never exported, so nobody could log in afterwards, and
    /// `fandesk serve` creates the owner only on a database without members.
    #[arg(long)]
    pub without_owner: bool,
}

/// Opens the database; an SQLite data directory without a database is refused rather
/// than created (a typo would otherwise export an empty workspace).
async fn open(args: &DatabaseArgs, create: bool) -> anyhow::Result<Store> {
    if let Some(url) = &args.database {
        return Store::connect_postgres(url, None)
            .await
            .context("connecting to PostgreSQL");
    }
    let file = args.data_dir.join(fandesk_store::SQLITE_FILE);
    if !create && !file.exists() {
        bail!("no fandesk database in {}", args.data_dir.display());
    }
    Store::open_sqlite(&args.data_dir)
        .await
        .with_context(|| format!("opening {}", args.data_dir.display()))
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let store = open(&args.db, false).await?;
    let started = Instant::now();
    let mut cursor = store
        .export(jiff::Timestamp::now())
        .await
        .context("starting the export")?;
    let progress = bar(&args.db, cursor.total_lines(), "lines");
    let (out, partial): (Box<dyn Write>, Option<PathBuf>) = if args.out == "-" {
        (Box::new(std::io::stdout().lock()), None)
    } else {
        let path = PathBuf::from(&args.out);
        if path.exists() {
            bail!(
                "{} exists: an export never overwrites a file",
                path.display()
            );
        }
        let partial = PathBuf::from(format!("{}.partial", path.display()));
        (Box::new(private_file(&partial)?), Some(partial))
    };
    let mut out = BufWriter::new(out);
    let mut bytes = 0u64;
    while let Some((chunk, lines)) = cursor.next_chunk().await.context("reading")? {
        out.write_all(chunk.as_bytes()).context("writing")?;
        bytes += chunk.len() as u64;
        progress.inc(lines);
        progress.set_message(megabytes(bytes));
    }
    out.flush()?;
    let counts = cursor.counts().clone();
    cursor.finish().await?;
    drop(out);
    if let Some(partial) = partial {
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, &args.out)
            .with_context(|| format!("moving into {}", args.out))?;
    }
    progress.finish_and_clear();
    let counts: Vec<String> = counts
        .iter()
        .map(|(line, count)| format!("{count} {line}"))
        .collect();
    eprintln!(
        "exported {} to {} in {:.1} s: {}",
        megabytes(bytes),
        args.out,
        started.elapsed().as_secs_f64(),
        counts.join(", ")
    );
    store.close().await;
    Ok(())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?
        .len();
    let started = Instant::now();
    // First every line is checked, so a malformed file writes nothing.
    let progress = bar(&args.db, size, "bytes checked");
    let mut position = 0;
    each_line(&args.file, &progress, |number, line| {
        let first = position == 0;
        position += 1;
        check_import_line(number, line, first)
    })?;
    progress.finish_and_clear();

    let store = open(&args.db, true).await?;
    if !args.without_owner && store.count_members().await? == 0 {
        store.close().await;
        bail!(
            "this database has no members yet: start `fandesk serve` on it once, so that it \
             creates the owner, and create the team's accounts with the emails they had; the \
             import then matches them by email (or pass --without-owner; docs/export.md)"
        );
    }
    let progress = bar(&args.db, size, "bytes imported");
    let mut importer = store.importer();
    each_line_mut(&args.file, &progress, &mut importer).await?;
    let summary = importer.finish().await?;
    progress.finish_and_clear();
    store.close().await;
    eprintln!(
        "imported {} in {:.1} s: {} members, {} fans, {} conversations, {} messages, {} metric rows, {} channel rows, {} conversions; {} skipped (already there)",
        args.file.display(),
        started.elapsed().as_secs_f64(),
        summary.members,
        summary.fans,
        summary.conversations,
        summary.messages,
        summary.metric_rows,
        summary.channel_rows,
        summary.conversions,
        summary.skipped
    );
    let json = serde_json::json!({
        "fans": summary.fans,
        "conversations": summary.conversations,
        "messages": summary.messages,
        "skipped": summary.skipped,
    });
    println!("{json}");
    Ok(())
}

/// Calls `check` on every non-blank line with its number (from 1).
fn each_line(
    path: &Path,
    progress: &ProgressBar,
    mut check: impl FnMut(u64, &str) -> fandesk_store::StoreResult<()>,
) -> anyhow::Result<()> {
    let mut reader = BufReader::new(std::fs::File::open(path)?);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .with_context(|| format!("line {}: not UTF-8 text", number + 1))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        progress.inc(read as u64);
        let text = line.trim_end_matches(['\n', '\r']);
        if !text.trim().is_empty() {
            check(number, text)?;
        }
    }
}

/// Feeds every line to the importer.
async fn each_line_mut(
    path: &Path,
    progress: &ProgressBar,
    importer: &mut fandesk_store::Importer<'_>,
) -> anyhow::Result<()> {
    let mut reader = BufReader::new(std::fs::File::open(path)?);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        progress.inc(read as u64);
        importer
            .push_line(number, line.trim_end_matches(['\n', '\r']))
            .await?;
    }
}

fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(file)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// A progress bar on stderr: drawn in place on a terminal; with `--progress` elsewhere
/// (a log, a pipe), one plain line a second; otherwise hidden.
fn bar(args: &DatabaseArgs, length: u64, unit: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else if args.progress {
        ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines), 1)
    } else {
        ProgressDrawTarget::hidden()
    };
    let style = ProgressStyle::with_template(&format!(
        "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}} ~{{eta}} left"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let progress = ProgressBar::with_draw_target(Some(length), target).with_style(style);
    progress.enable_steady_tick(Duration::from_secs(1));
    progress
}

/// Progress as plain lines on stderr, for output that is not a terminal.
#[derive(Debug)]
struct PlainLines;

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        120
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, line: &str) -> std::io::Result<()> {
        if line.trim().is_empty() {
            return Ok(());
        }
        writeln!(std::io::stderr(), "{line}")
    }

    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.write_line(text)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
