//! `failover`, `rebalance` and `reload`: moving stores between nodes.

use super::{reload_and_report, server_arg, stderr_is_terminal};
use crate::cli::{FailoverArgs, RebalanceArgs};
use crate::failure::{Failure, exit};
use crate::output::{print, table};
use crate::setup::Setup;
use groxide_directory::ServerId;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;

pub(crate) async fn failover(args: FailoverArgs, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    // The failed server may already be gone from the servers table: a bare id is enough.
    let from = match args.from.parse::<u32>() {
        Ok(id) => ServerId(id),
        Err(_) => server_arg(directory, &args.from, false).await?,
    };
    let to = server_arg(directory, &args.to, false).await?;
    if from == to {
        return Err(Failure::new(
            exit::USAGE,
            "--from and --to name the same server",
        ));
    }
    let moved = directory.failover(from, to).await?;
    let (reloaded, reload_text) = if args.no_reload {
        (json!([]), String::new())
    } else {
        reload_and_report(setup.config.dir())
    };
    let value = json!({
        "from": from.0,
        "to": to.0,
        "users": moved.users,
        "domains": moved.domains,
        "reloaded": reloaded,
    });
    let text = format!(
        "moved {} user(s) and {} domain(s) from server {} to server {}\n{reload_text}",
        moved.users, moved.domains, from.0, to.0
    );
    print(json, &value, &text);
    Ok(())
}

pub(crate) async fn rebalance(
    args: RebalanceArgs,
    setup: &Setup,
    json: bool,
) -> Result<(), Failure> {
    let directory = &setup.directory;
    let plan = directory.rebalance_plan().await?;
    let moves_json: Vec<_> = plan
        .iter()
        .map(|m| json!({ "username": m.username, "from": m.from.0, "to": m.to.0 }))
        .collect();
    if args.dry_run || plan.is_empty() {
        let rows: Vec<_> = plan
            .iter()
            .map(|m| vec![m.username.clone(), m.from.0.to_string(), m.to.0.to_string()])
            .collect();
        let text = if plan.is_empty() {
            "the users are balanced; nothing to move".to_string()
        } else {
            format!(
                "would move {} user(s):\n{}",
                plan.len(),
                table(&["USERNAME", "FROM", "TO"], &rows)
            )
        };
        print(
            json,
            &json!({ "dry_run": args.dry_run, "moves": moves_json, "moved": 0 }),
            &text,
        );
        return Ok(());
    }
    let bar = progress(plan.len());
    let mut moved = 0u64;
    for m in &plan {
        if directory.move_user_if_on(m.user_id, m.from, m.to).await? {
            moved += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (reloaded, reload_text) = if args.no_reload {
        (json!([]), String::new())
    } else {
        reload_and_report(setup.config.dir())
    };
    let value =
        json!({ "dry_run": false, "moves": moves_json, "moved": moved, "reloaded": reloaded });
    let text = format!(
        "moved {moved} of {} planned user(s)\n{reload_text}",
        plan.len()
    );
    print(json, &value, &text);
    Ok(())
}

pub(crate) fn reload(config_dir: &Path, json: bool) {
    let (value, text) = reload_and_report(config_dir);
    print(json, &json!({ "reloaded": value }), &text);
}

/// A progress bar on stderr when it is a terminal, otherwise nothing.
fn progress(len: usize) -> ProgressBar {
    if !stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} users moved") {
        bar.set_style(style);
    }
    bar
}
