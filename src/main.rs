//! The `cloudtwin` command: `serve`, and `backup`/`restore`/`check` for a stopped server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

use cloudtwin::config::{Config, LogFormat, Source, StoreTarget};
use cloudtwin::store::{Durability, Store};

#[derive(Parser)]
#[command(
    name = "cloudtwin",
    version,
    about = "A persistent emulator of Tencent Cloud CVM images and Alibaba Cloud IMM face clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Configuration file [default: ./config.toml when there is one, else the built-in
    /// defaults, which are the repository's config.toml].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data dir (overrides `data_dir` of the config).
    #[arg(long, env = "CLOUDTWIN_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on (overrides `listen` of the config); port 0 picks one.
        #[arg(long, env = "CLOUDTWIN_LISTEN")]
        listen: Option<String>,
        /// Address of the HTTPS listener (overrides `tls.listen` of the config; sets it when
        /// the config has none); port 0 picks one.
        #[arg(long, env = "CLOUDTWIN_TLS_LISTEN")]
        tls_listen: Option<String>,
        /// A fixture file (JSON or TOML) to load at start; entries that exist are skipped.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Serve on a fresh temporary data dir (under $TMPDIR, else /tmp), removed at a
        /// graceful exit; overrides `data_dir` and --data-dir.
        #[arg(long)]
        ephemeral: bool,
        /// The per-request log line: `short` or `full` (overrides `log_format` of the config).
        #[arg(long, env = "CLOUDTWIN_LOG_FORMAT")]
        log_format: Option<String>,
    },
    /// Write the state of a stopped server as a portable document (JSON).
    Export {
        #[command(flatten)]
        common: Common,
        /// Output file (`-` for standard output).
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the state of a stopped server with a portable document (all or nothing).
    Import {
        #[command(flatten)]
        common: Common,
        /// The document (JSON, or TOML when it ends in .toml).
        file: PathBuf,
    },
    /// Wait until a server answers its health check.
    Wait {
        /// Base URL of the server, e.g. http://127.0.0.1:9400.
        #[arg(long)]
        url: String,
        /// Seconds to wait at most.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
    },
    /// Copy the data dir of a stopped server into a new directory.
    Backup {
        #[command(flatten)]
        common: Common,
        /// New or empty directory to write the copy into.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check the data dir of a stopped server: every record decodes, every index entry and
    /// counter matches the records, nothing acknowledged is missing. Exits 0 when clean, 1 on
    /// damage.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Copy a whole store from one engine to the other (a sled data dir or a postgres://
    /// URL each; the target must be empty, the source's server stopped when it is a data dir),
    /// then check the target as `cloudtwin check` does and compare its records per tree.
    Convert {
        /// The store to read: a data dir, or postgres://user@host:port/db.
        #[arg(long)]
        from: String,
        /// The store to write: a new or empty data dir, or an empty database.
        #[arg(long)]
        to: String,
        /// Connections to a database side.
        #[arg(long, default_value_t = cloudtwin::store::DEFAULT_DB_POOL)]
        pool: usize,
    },
    /// Make the data dir (or the database of `store.url`) a copy of a backup (it must be new
    /// or empty).
    Restore {
        #[command(flatten)]
        common: Common,
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
    },
}

/// The configuration of a command (see [`Config::resolve`]) with `--data-dir` applied, and
/// where it came from.
fn load_from(common: &Common) -> Result<(Config, Source), String> {
    let (mut cfg, source) = Config::resolve(common.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(d) = &common.data_dir {
        cfg.data_dir = d.clone();
    }
    match std::env::var("CLOUDTWIN_STORE_URL") {
        Ok(url) if !url.is_empty() => cfg.store.url = Some(url),
        _ => {}
    }
    cfg.check().map_err(|e| e.to_string())?;
    Ok((cfg, source))
}

/// Says which configuration is in force: the first log line of every command that reads one.
fn announce(source: &Source, cfg: &Config) {
    let store = cfg
        .store_target()
        .map(|t| t.to_string())
        .unwrap_or_default();
    tracing::info!(
        store = %store,
        listen = %cfg.listen,
        "config: {source}"
    );
}

/// [`load_from`] for the offline commands, announced.
fn load(common: &Common) -> Result<Config, String> {
    let (cfg, source) = load_from(common)?;
    announce(&source, &cfg);
    Ok(cfg)
}

/// The fresh temporary data dir of `serve --ephemeral`, removed when dropped: at a graceful
/// exit (SIGINT, SIGTERM) or a failed start. After `kill -9` it remains, as
/// `$TMPDIR/cloudtwin-ephemeral-PID-N` (`/tmp/...` without `TMPDIR`).
struct EphemeralDir(PathBuf);

impl EphemeralDir {
    fn create() -> Result<EphemeralDir, String> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        for n in 0..100u32 {
            let dir = base.join(format!(
                "cloudtwin-ephemeral-{}-{}",
                std::process::id(),
                nanos.wrapping_add(n)
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(EphemeralDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot make a temporary data dir in {}: {e}",
                        base.display()
                    ))
                }
            }
        }
        Err(format!(
            "cannot make a temporary data dir in {}: every name tried exists",
            base.display()
        ))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for EphemeralDir {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.0) {
            Ok(()) => tracing::info!(data_dir = %self.0.display(), "ephemeral data dir removed"),
            Err(e) => eprintln!(
                "cloudtwin: cannot remove the ephemeral data dir {}: {e}",
                self.0.display()
            ),
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            tls_listen,
            seed,
            ephemeral,
            log_format,
        } => {
            let (mut cfg, source) = load_from(&common)?;
            if let Some(l) = listen {
                cfg.listen = l;
            }
            if let Some(l) = tls_listen {
                cfg.tls.listen = Some(l);
            }
            if seed.is_some() {
                cfg.seed = seed;
            }
            if let Some(f) = log_format {
                cfg.log_format = f.parse::<LogFormat>().map_err(|e| e.to_string())?;
            }
            cfg.check().map_err(|e| e.to_string())?;
            // Removed after the runtime is dropped, when nothing uses the dir any more.
            let temp = if ephemeral {
                let dir = EphemeralDir::create()?;
                cfg.data_dir = dir.path().to_path_buf();
                Some(dir)
            } else {
                None
            };
            announce(&source, &cfg);
            if temp.is_some() {
                tracing::info!(
                    data_dir = %cfg.data_dir.display(),
                    "ephemeral: a fresh data dir, removed at a graceful exit (left behind by kill -9)"
                );
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let grace = std::time::Duration::from_millis(cfg.server.shutdown_grace_ms);
            let result = runtime.block_on(cloudtwin::server::serve(cfg));
            // Background work still running (a clustering task on a blocking thread) gets the
            // grace too; a task cut off stays Running in the store and resumes at the next start.
            runtime.shutdown_timeout(grace);
            drop(temp);
            result
        }
        Command::Backup { common, to } => {
            let cfg = load(&common)?;
            let durability = cfg.durability_mode().map_err(|e| e.to_string())?;
            let store = open_configured(&cfg, durability)?;
            let stats = store.copy_to(&to).map_err(|e| e.to_string())?;
            println!(
                "backed up {} records from {} to {}",
                stats.records,
                store.describe(),
                to.display()
            );
            Ok(())
        }
        Command::Export { common, to } => {
            let cfg = load(&common)?;
            let store = open_configured(&cfg, cfg.durability_mode().map_err(|e| e.to_string())?)?;
            let doc = cloudtwin::fixture::export(&store).map_err(|e| e.to_string())?;
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
            if to.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&to, text)
                    .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
                eprintln!(
                    "exported the state of {} to {}",
                    store.describe(),
                    to.display()
                );
            }
            Ok(())
        }
        Command::Import { common, file } => {
            let cfg = load(&common)?;
            let store = open_configured(&cfg, cfg.durability_mode().map_err(|e| e.to_string())?)?;
            let accounts = cloudtwin::accounts::Accounts::new(&cfg.accounts);
            let summary = cloudtwin::fixture::load_file(
                &store,
                &file,
                &accounts,
                cloudtwin::fixture::Limits::of(&cfg),
                false,
            )
            .map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!(
                "imported {} into {}: {:?}",
                file.display(),
                store.describe(),
                summary.added
            );
            Ok(())
        }
        Command::Check { common } => {
            let cfg = load(&common)?;
            let target = cfg.store_target().map_err(|e| e.to_string())?;
            let report = match &target {
                StoreTarget::Dir(dir) => cloudtwin::check::run(dir, cfg.cache_mb),
                StoreTarget::Database { .. } => target
                    .open(Durability::Sync, cfg.cache_mb)
                    .and_then(|s| cloudtwin::check::run_on(&s)),
            }
            .map_err(|e| e.to_string())?;
            print!("{}", report.render(Path::new(&target.to_string())));
            if report.clean() {
                Ok(())
            } else {
                Err(format!(
                    "{target} is damaged: {} problems",
                    report.problems.len()
                ))
            }
        }
        Command::Wait { url, timeout } => cloudtwin::wait::until_healthy(
            &url,
            std::time::Duration::from_secs_f64(timeout.max(0.0)),
        ),
        Command::Restore { common, from } => {
            let cfg = load(&common)?;
            let durability = cfg.durability_mode().map_err(|e| e.to_string())?;
            let backup =
                Store::open(&from, durability).map_err(|e| format!("cannot open backup: {e}"))?;
            let stats = match cfg.store_target().map_err(|e| e.to_string())? {
                StoreTarget::Dir(dir) => backup.copy_to(&dir),
                db => db
                    .open(durability, cfg.cache_mb)
                    .and_then(|target| backup.copy_into(&target)),
            }
            .map_err(|e| e.to_string())?;
            println!(
                "restored {} records from {} into {}",
                stats.records,
                from.display(),
                stats.dir.display()
            );
            Ok(())
        }
        Command::Convert { from, to, pool } => {
            let (from, to) = (
                StoreTarget::named(&from, pool),
                StoreTarget::named(&to, pool),
            );
            cloudtwin::convert::run(&from, &to).map(|summary| println!("{summary}"))
        }
    }
}

/// The log filter: `CLOUDTWIN_LOG`, else `RUST_LOG`, else `info`. A bare level (`debug`)
/// applies to cloudtwin; other crates (sled, hyper) log at `warn` or that level, whichever is
/// quieter. Anything else (`cloudtwin=debug,sled=trace`) is used as given.
fn log_filter() -> EnvFilter {
    let given = std::env::var("CLOUDTWIN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let given = given.trim();
    let given = if given.is_empty() { "info" } else { given };
    let spec = match given.parse::<LevelFilter>() {
        Ok(level) => format!("cloudtwin={level},{}", level.min(LevelFilter::WARN)),
        Err(_) => given.to_string(),
    };
    EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("cloudtwin: ignoring the log filter {spec:?}: {e}");
        EnvFilter::new("cloudtwin=info,warn")
    })
}

/// mimalloc, not glibc malloc: sled copies a leaf node per insert and the request path builds
/// and drops many small strings; glibc spent a third of a clustering run and a sixth of a
/// DescribeImages request in malloc and free (docs/benchmarks.md, issue 15).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudtwin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The store of the configuration (`[store]`, else the data dir), opened.
fn open_configured(cfg: &Config, durability: Durability) -> Result<Store, String> {
    cfg.store_target()
        .map_err(|e| e.to_string())?
        .open(durability, cfg.cache_mb)
        .map_err(|e| e.to_string())
}
