//! The `cloudtwin` command: `serve`, and `backup`/`restore`/`check` for a stopped server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cloudtwin::config::Config;
use cloudtwin::store::Store;

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
    /// Configuration file.
    #[arg(long, default_value = "config.toml")]
    config: PathBuf,
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
        /// A fixture file (JSON or TOML) to load at start; entries that exist are skipped.
        #[arg(long)]
        seed: Option<PathBuf>,
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
    /// Make the data dir a copy of a backup (the data dir must be new or empty).
    Restore {
        #[command(flatten)]
        common: Common,
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
    },
}

fn load(common: &Common) -> Result<Config, String> {
    let mut cfg = Config::load(&common.config).map_err(|e| e.to_string())?;
    if let Some(d) = &common.data_dir {
        cfg.data_dir = d.clone();
    }
    Ok(cfg)
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            seed,
        } => {
            let mut cfg = load(&common)?;
            if let Some(l) = listen {
                cfg.listen = l;
            }
            if seed.is_some() {
                cfg.seed = seed;
            }
            cfg.check().map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(cloudtwin::server::serve(cfg))
        }
        Command::Backup { common, to } => {
            let cfg = load(&common)?;
            let durability = cfg.durability_mode().map_err(|e| e.to_string())?;
            let store = Store::open(&cfg.data_dir, durability).map_err(|e| e.to_string())?;
            let stats = store.copy_to(&to).map_err(|e| e.to_string())?;
            println!(
                "backed up {} records from {} to {}",
                stats.records,
                cfg.data_dir.display(),
                to.display()
            );
            Ok(())
        }
        Command::Export { common, to } => {
            let cfg = load(&common)?;
            let store = Store::open(
                &cfg.data_dir,
                cfg.durability_mode().map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            let doc = cloudtwin::fixture::export(&store).map_err(|e| e.to_string())?;
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
            if to.as_os_str() == "-" {
                print!("{text}");
            } else {
                std::fs::write(&to, text)
                    .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
                eprintln!(
                    "exported the state of {} to {}",
                    cfg.data_dir.display(),
                    to.display()
                );
            }
            Ok(())
        }
        Command::Import { common, file } => {
            let cfg = load(&common)?;
            let store = Store::open(
                &cfg.data_dir,
                cfg.durability_mode().map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            let accounts = cloudtwin::accounts::Accounts::new(&cfg.accounts);
            let summary =
                cloudtwin::fixture::load_file(&store, &file, &accounts, cfg.cvm.image_quota, false)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!(
                "imported {} into {}: {:?}",
                file.display(),
                cfg.data_dir.display(),
                summary.added
            );
            Ok(())
        }
        Command::Check { common } => {
            let cfg = load(&common)?;
            let report =
                cloudtwin::check::run(&cfg.data_dir, cfg.cache_mb).map_err(|e| e.to_string())?;
            print!("{}", report.render(&cfg.data_dir));
            if report.clean() {
                Ok(())
            } else {
                Err(format!(
                    "{} is damaged: {} problems",
                    cfg.data_dir.display(),
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
            let stats = backup.copy_to(&cfg.data_dir).map_err(|e| e.to_string())?;
            println!(
                "restored {} records from {} into {}",
                stats.records,
                from.display(),
                cfg.data_dir.display()
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLOUDTWIN_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
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
