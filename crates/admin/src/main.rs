//! groxide-admin: the administrator's command line.

use clap::{Parser, Subcommand};
use groxide_config::{Config, schema};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "groxide-admin",
    version,
    about = "Administer a groxide installation"
)]
struct Cli {
    /// Directory holding groxide.cfg and the daemons' config files.
    #[arg(
        long,
        global = true,
        env = "GROXIDE_CONFIG_DIR",
        default_value = "/etc/groxide"
    )]
    config_dir: PathBuf,
    /// Validate every config file in the config directory and exit.
    #[arg(long)]
    check_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate every daemon's configuration in the config directory.
    CheckConfig,
}

fn check_all(dir: &std::path::Path) -> ExitCode {
    let mut failed = false;
    for s in schema::all() {
        if std::ptr::eq(*s, &schema::SHARED) {
            continue;
        }
        match Config::load(dir, s) {
            Ok((_, warnings)) => {
                for w in warnings {
                    eprintln!("warning: {w}");
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    if failed {
        ExitCode::from(78)
    } else {
        println!("configuration in {} is valid", dir.display());
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::CheckConfig) => check_all(&cli.config_dir),
        None if cli.check_config => check_all(&cli.config_dir),
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
    }
}
