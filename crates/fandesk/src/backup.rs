//! `fandesk backup` and `fandesk restore`: an online copy of the SQLite database while the
//! server runs, and putting such a copy in place as a data directory's database.
//! PostgreSQL is backed up with its own tools (README › Backup, restore, export).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Clone, Debug)]
pub struct BackupArgs {
    /// Write the backup here (a new file; an existing one is never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Directory of the embedded SQLite database (the server may be running on it).
    #[arg(long, env = "FANDESK_DATA_DIR", default_value = "./fandesk-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL: refused, with the pg_dump command to use instead.
    #[arg(long, env = "FANDESK_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct RestoreArgs {
    /// The backup file written by `fandesk backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// The data directory to restore into (stop any server using it first).
    #[arg(long, env = "FANDESK_DATA_DIR", default_value = "./fandesk-data")]
    pub data_dir: PathBuf,
    /// Replace the database of a data directory that is not empty.
    #[arg(long)]
    pub force: bool,
}

/// What `fandesk backup` says when given a PostgreSQL database.
pub const POSTGRES_BACKUP: &str = "fandesk backup copies the embedded SQLite database only; \
back up PostgreSQL with its own tools: `pg_dump --format=custom --file=fandesk.dump \"$FANDESK_DATABASE_URL\"`, \
and restore into an empty database with `pg_restore --no-owner --dbname \"$URL\" fandesk.dump` \
(README › Backup, restore, export)";

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    if args.database.is_some() {
        bail!("{POSTGRES_BACKUP}");
    }
    let summary = fandesk_store::backup_sqlite(&args.data_dir, &args.out)
        .await
        .with_context(|| format!("backing up {}", args.data_dir.display()))?;
    eprintln!(
        "backed up {} to {}: {} bytes, {} conversations, {} messages, {} fans",
        args.data_dir.display(),
        args.out.display(),
        summary.bytes,
        summary.conversations,
        summary.messages,
        summary.fans
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let summary = fandesk_store::check_backup(&args.from)
        .await
        .context("checking the backup")?;
    let dir = &args.data_dir;
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && !args.force {
        bail!(
            "{} is not empty: stop the server that uses it and pass --force to replace its \
             database, or restore into a new directory",
            dir.display()
        );
    }
    create_private_dir(dir)?;
    let file = dir.join(fandesk_store::SQLITE_FILE);
    for suffix in ["-wal", "-shm", ""] {
        let path = PathBuf::from(format!("{}{suffix}", file.display()));
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let partial = dir.join(format!("{}.partial", fandesk_store::SQLITE_FILE));
    copy_private(&args.from, &partial)?;
    std::fs::rename(&partial, &file).with_context(|| format!("moving into {}", file.display()))?;
    std::fs::File::open(dir)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    eprintln!(
        "restored {} into {}: {} conversations, {} messages, {} fans",
        args.from.display(),
        dir.display(),
        summary.conversations,
        summary.messages,
        summary.fans
    );
    Ok(())
}

/// The data directory, 0700 when this creates it (as `fandesk serve` does).
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Copies `from` to a new file `to` readable by its owner only, and syncs it.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut target = options
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let mut source =
        std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    std::io::copy(&mut source, &mut target).with_context(|| format!("writing {}", to.display()))?;
    target.sync_all()?;
    Ok(())
}
