//! `timer list|show|cancel`: the jobs of this node's groxide-timer.

use crate::cli::TimerCommand;
use crate::failure::{Failure, exit};
use crate::output::print;
use groxide_config::keys::timer;
use groxide_config::{Config, Timer};
use groxide_rpc::NodeAddr;
use groxide_rpc::timer_client::{
    TimerClient, format_job_details, format_job_line, job_json, parse_state, state_name,
};
use groxide_runtime::{NodeIdentity, client_options};
use serde_json::json;
use std::path::Path;

/// This node's timer: `timer_listen_ip` (a wildcard means loopback) and
/// `timer_listen_port` of timer.cfg in the config directory.
fn client(dir: &Path) -> Result<TimerClient, Failure> {
    let (timer_cfg, _) =
        Config::<Timer>::load(dir).map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    let host = match timer_cfg.get(timer::TIMER_LISTEN_IP) {
        Some(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => "::1".to_string(),
    };
    let node = NodeAddr::new(host, timer_cfg.get(timer::TIMER_LISTEN_PORT));
    let identity = NodeIdentity::load(&timer_cfg);
    let options =
        client_options(&timer_cfg, &identity).map_err(|e| Failure::new(exit::CONFIG, e))?;
    Ok(TimerClient::new(node, &options)?)
}

fn not_found(e: groxide_rpc::RpcError, id: u64) -> Failure {
    if e.status()
        .is_some_and(|s| s.code() == tonic::Code::NotFound)
    {
        Failure::new(exit::NOT_FOUND, format!("no timer job {id}"))
    } else {
        e.into()
    }
}

pub(crate) async fn run(command: TimerCommand, dir: &Path, json: bool) -> Result<(), Failure> {
    let timer = client(dir)?;
    match command {
        TimerCommand::List {
            state,
            dir: store,
            limit,
        } => {
            let mut states = Vec::new();
            for s in &state {
                let parsed = parse_state(s).ok_or_else(|| {
                    Failure::new(
                        exit::USAGE,
                        format!(
                            "unknown job state {s:?} (pending, running, done, failed, cancelled)"
                        ),
                    )
                })?;
                states.push(parsed);
            }
            let jobs = timer
                .list_all(&states, store.as_deref().unwrap_or(""), limit)
                .await?;
            let value = json!(jobs.iter().map(job_json).collect::<Vec<_>>());
            let text: String = jobs.iter().map(|j| format_job_line(j) + "\n").collect();
            let text = if jobs.is_empty() {
                "no jobs".to_string()
            } else {
                text
            };
            print(json, &value, &text);
        }
        TimerCommand::Show { id } => {
            let job = timer.get(id).await.map_err(|e| not_found(e, id))?;
            print(json, &job_json(&job), &format_job_details(&job));
        }
        TimerCommand::Cancel { id } => {
            let reply = timer.cancel(id).await.map_err(|e| not_found(e, id))?;
            let state = state_name(reply.state);
            let text = if reply.cancelled {
                format!("cancelled job {id}")
            } else {
                format!("job {id} was not cancelled: it is {state}")
            };
            print(
                json,
                &json!({"id": id, "cancelled": reply.cancelled, "state": state}),
                &text,
            );
            if !reply.cancelled {
                return Err(Failure::new(exit::CONFLICT, text));
            }
        }
    }
    Ok(())
}
