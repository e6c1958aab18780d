//! The one `main` every daemon calls.

use crate::context::{Context, ReloadAcks};
use crate::logging::{self, LogControl};
use crate::notify;
use groxide_config::keys::shared;
use groxide_config::{Config, ConfigWarning, DaemonFile};
use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// sysexits' EX_CONFIG: the configuration is wrong.
const EXIT_CONFIG: u8 = 78;
/// Time a daemon gets beyond `shutdown_timeout` to return after its drain.
const EXIT_MARGIN: Duration = Duration::from_secs(2);
/// How long a reload waits for the daemon's hooks before logging anyway.
const HOOK_BOUND: Duration = Duration::from_secs(30);

/// What the runtime must know about a daemon; `F` is its config file.
pub struct DaemonSpec<F: DaemonFile> {
    /// Binary name, e.g. `groxide-exmdb`.
    pub binary: &'static str,
    /// Short name used in logs, e.g. `exmdb`.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// The daemon's own config file, e.g. [`groxide_config::Midb`]
    /// (groxide.cfg is always read too).
    pub file: F,
    /// Checks beyond value syntax (list files parse, certificate files exist…);
    /// each message should name the file. Run at start, on reload and by
    /// `--check-config`.
    pub check: fn(&Config<F>) -> Vec<String>,
}

/// No extra checks.
pub fn no_checks<F: DaemonFile>(_: &Config<F>) -> Vec<String> {
    Vec::new()
}

fn command<F: DaemonFile>(spec: &DaemonSpec<F>) -> clap::Command {
    clap::Command::new(spec.binary)
        .about(spec.about)
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            clap::Arg::new("config-dir")
                .long("config-dir")
                .value_name("DIR")
                .env("GROXIDE_CONFIG_DIR")
                .default_value("/etc/groxide")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Directory holding groxide.cfg and this daemon's config file"),
        )
        .arg(
            clap::Arg::new("check-config")
                .long("check-config")
                .action(clap::ArgAction::SetTrue)
                .help(
                    "Validate the configuration, print every error, and exit (non-zero on error)",
                ),
        )
}

/// Parses the command line, loads and checks the config, sets up logging and
/// signals, and runs `run` on a multi-threaded tokio runtime until it returns.
/// Exit status: 0 after a clean stop, 78 for configuration errors, 1 when the
/// daemon fails.
pub fn main<F, R, Fut, E>(spec: DaemonSpec<F>, run: R) -> ExitCode
where
    F: DaemonFile,
    R: FnOnce(Context<F>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    let matches = command(&spec).get_matches();
    let dir = matches
        .get_one::<PathBuf>("config-dir")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("/etc/groxide"));
    let check_only = matches.get_flag("check-config");

    let (config, warnings) = match load(&dir, &spec) {
        Ok(v) => v,
        Err(errors) => {
            for e in errors {
                eprintln!("{}: {e}", spec.binary);
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if check_only {
        for w in &warnings {
            eprintln!("{}: warning: {w}", spec.binary);
        }
        println!(
            "{}: configuration in {} is valid",
            spec.binary,
            dir.display()
        );
        return ExitCode::SUCCESS;
    }

    let log = logging::init(
        spec.name,
        &config.get(shared::LOG_LEVEL).to_string(),
        config.get(shared::LOG_FORMAT) == "json",
    );
    let mut warned = HashSet::new();
    log_warnings(&warnings, &mut warned);
    let _ = rustls::crypto::ring::default_provider().install_default();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(spec.name)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let shutdown_timeout = config.get(shared::SHUTDOWN_TIMEOUT);
    let (tx, rx) = watch::channel(Arc::new(config));
    let shutdown = CancellationToken::new();
    let ctx = Context::new(spec.name, rx, shutdown.clone());
    let acks = ctx.reload_acks();
    let name = spec.name;

    runtime.block_on(async move {
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                error!(error = %e, "cannot install signal handlers");
                return ExitCode::FAILURE;
            }
        };
        info!(daemon = name, version = env!("CARGO_PKG_VERSION"), config_dir = %dir.display(), "starting");
        let daemon = tokio::spawn(run(ctx));
        tokio::pin!(daemon);
        let mut signals_task = Box::pin(signals.run(dir, spec, Publisher { tx, acks }, shutdown.clone(), log, warned));
        tokio::select! {
            res = &mut daemon => return finish(name, res),
            _ = &mut signals_task => {}
        }
        // Drain: the daemon saw the cancelled token and must return in time.
        match tokio::time::timeout(shutdown_timeout + EXIT_MARGIN, &mut daemon).await {
            Ok(res) => finish(name, res),
            Err(_) => {
                warn!(daemon = name, bound = ?shutdown_timeout, "drain bound reached; exiting with work cancelled");
                ExitCode::SUCCESS
            }
        }
    })
}

fn finish<E: Display>(
    name: &'static str,
    res: Result<Result<(), E>, tokio::task::JoinError>,
) -> ExitCode {
    match res {
        Ok(Ok(())) => {
            info!(daemon = name, "stopped");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            error!(daemon = name, "{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            error!(daemon = name, error = %e, "daemon task failed");
            ExitCode::FAILURE
        }
    }
}

type Loaded<F> = (Config<F>, Vec<ConfigWarning>);

fn load<F: DaemonFile>(dir: &Path, spec: &DaemonSpec<F>) -> Result<Loaded<F>, Vec<String>> {
    let (config, warnings) = Config::<F>::load(dir).map_err(|errs| vec![errs.to_string()])?;
    let problems = (spec.check)(&config);
    if problems.is_empty() {
        Ok((config, warnings))
    } else {
        Err(problems)
    }
}

fn log_warnings(warnings: &[ConfigWarning], warned: &mut HashSet<String>) {
    for w in warnings {
        // Each unknown key is reported once per process, not on every reload.
        if warned.insert(w.to_string()) {
            warn!("{w}");
        }
    }
}

/// Hands a reloaded configuration to the daemon and waits for its hooks.
struct Publisher<F: DaemonFile> {
    tx: watch::Sender<Arc<Config<F>>>,
    acks: ReloadAcks<F>,
}

impl<F: DaemonFile> Publisher<F> {
    /// Returns once every reload hook (ACLs, routing, TLS, limits) has applied
    /// `config`, so "configuration reloaded" in the log means it is in force.
    async fn publish(&self, daemon: &'static str, config: Config<F>) {
        let config = Arc::new(config);
        let _ = self.tx.send(config.clone());
        if tokio::time::timeout(HOOK_BOUND, self.acks.applied(&config))
            .await
            .is_err()
        {
            warn!(daemon, bound = ?HOOK_BOUND, "part of the new configuration is still being applied (TLS, routing or limits); the reload goes on");
        }
    }
}

struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Serves SIGHUP reloads until SIGTERM/SIGINT, then cancels `shutdown`.
    async fn run<F: DaemonFile>(
        mut self,
        dir: PathBuf,
        spec: DaemonSpec<F>,
        publisher: Publisher<F>,
        shutdown: CancellationToken,
        log: LogControl,
        mut warned: HashSet<String>,
    ) {
        loop {
            tokio::select! {
                _ = self.hup.recv() => {
                    notify::reloading();
                    match load(&dir, &spec) {
                        Ok((config, warnings)) => {
                            log_warnings(&warnings, &mut warned);
                            log.set_level(&config.get(shared::LOG_LEVEL).to_string());
                            publisher.publish(spec.name, config).await;
                            info!(daemon = spec.name, "configuration reloaded");
                            notify::status("configuration reloaded");
                        }
                        Err(errors) => {
                            for e in &errors {
                                error!(daemon = spec.name, "reload refused, keeping the running configuration: {e}");
                            }
                            notify::status("reload refused: configuration errors (see log)");
                        }
                    }
                    notify::ready();
                }
                _ = self.term.recv() => break,
                _ = self.int.recv() => break,
            }
        }
        notify::stopping();
        info!(daemon = spec.name, "stopping");
        shutdown.cancel();
    }
}
