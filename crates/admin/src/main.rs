//! groxide-admin: the administrator's command line.
//!
//! It reads groxide.cfg and mysql_adaptor.cfg of `--config-dir` for the
//! directory and `data_path`, changes the directory, and asks groxide-exmdb
//! on a store's home node to create or delete stores, and to import and
//! export groupware items. Exit statuses are
//! listed in `--help` ([`failure::exit`]).

mod cli;
mod commands;
mod failure;
mod output;
mod reload;
mod setup;
mod stores;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command};
use failure::{Failure, exit};
use groxide_config::schema;
use setup::Setup;
use std::path::Path;
use std::process::ExitCode;

fn check_all(dir: &Path) -> ExitCode {
    let mut failed = false;
    for s in schema::all() {
        if std::ptr::eq(*s, &schema::SHARED) {
            continue;
        }
        match groxide_config::check_file(dir, s) {
            Ok(warnings) => {
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
        ExitCode::from(exit::CONFIG)
    } else {
        println!("configuration in {} is valid", dir.display());
        ExitCode::SUCCESS
    }
}

async fn run(command: Command, cli_dir: &Path, json: bool) -> Result<(), Failure> {
    if let Command::Timer(c) = command {
        return commands::timer::run(c, cli_dir, json).await;
    }
    if let Command::Reload = command {
        setup::load_config(cli_dir)?;
        commands::cluster::reload(cli_dir, json);
        return Ok(());
    }
    let setup = Setup::open(cli_dir).await?;
    let result = match command {
        Command::Domain(c) => commands::domain::run(c, &setup, json).await,
        Command::User(c) => commands::user::run(c, &setup, json).await,
        Command::Alias(c) => commands::alias::run(c, &setup, json).await,
        Command::Altname(c) => commands::altname::run(c, &setup, json).await,
        Command::Server(c) => commands::server::run(c, &setup, json).await,
        Command::Failover(args) => commands::cluster::failover(args, &setup, json).await,
        Command::Rebalance(args) => commands::cluster::rebalance(args, &setup, json).await,
        Command::Import(args) => commands::pim::import(args, &setup, json).await,
        Command::Export(args) => commands::pim::export(args, &setup, json).await,
        Command::Freebusy(args) => commands::pim::freebusy(args, &setup, json).await,
        Command::Device(c) => commands::device::run(c, &setup, json).await,
        Command::CheckConfig | Command::Reload | Command::Timer(_) => Ok(()),
    };
    setup.directory.close().await;
    result
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(Command::CheckConfig) => return check_all(&cli.config_dir),
        None if cli.check_config => return check_all(&cli.config_dir),
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::from(exit::USAGE);
        }
        Some(command) => command,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("groxide-admin: cannot start: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(command, &cli.config_dir, cli.json)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("groxide-admin: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
