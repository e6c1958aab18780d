//! `device list|remove|wipe`: a user's ActiveSync devices, whose state
//! lives in the user's own store (groxide-eas keeps it there), through the
//! store's home exmdb (routed).

use crate::cli::DeviceCommand;
use crate::failure::{Failure, exit};
use crate::output::{print, table};
use crate::setup::Setup;
use groxide_eas_state::devices::Devices;
use groxide_eas_state::state::Device;
use serde_json::json;

async fn store_of(setup: &Setup, username: &str) -> Result<String, Failure> {
    let user = setup
        .directory
        .user_by_name(username)
        .await?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("user {username} does not exist")))?;
    if user.maildir.is_empty() {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!("user {username} has no store (maildir is empty)"),
        ));
    }
    Ok(user.maildir)
}

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn device_json(d: &Device) -> serde_json::Value {
    json!({
        "id": d.id,
        "type": d.device_type,
        "model": d.model,
        "os": d.os,
        "user_agent": d.user_agent,
        "protocol_version": d.version,
        "provisioned": d.policy_key != 0,
        "wipe": if d.wipe.is_empty() { "none" } else { d.wipe.as_str() },
        "first_seen": d.first_seen,
        "last_seen": d.last_seen,
    })
}

pub(crate) async fn run(
    command: DeviceCommand,
    setup: &Setup,
    json_mode: bool,
) -> Result<(), Failure> {
    let client = setup.exmdb_client()?;
    match command {
        DeviceCommand::List { username } => {
            let dir = store_of(setup, &username).await?;
            let devices = Devices::new(&client, &dir).list().await?;
            let rows: Vec<Vec<String>> = devices
                .iter()
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.device_type.clone(),
                        d.version.clone(),
                        if d.policy_key != 0 { "yes" } else { "no" }.into(),
                        if d.wipe.is_empty() {
                            "-".into()
                        } else {
                            d.wipe.clone()
                        },
                        time(d.last_seen),
                    ]
                })
                .collect();
            let text = if rows.is_empty() {
                format!("{username} has no ActiveSync devices")
            } else {
                table(
                    &[
                        "DEVICE",
                        "TYPE",
                        "EAS",
                        "PROVISIONED",
                        "WIPE",
                        "LAST SEEN (UTC)",
                    ],
                    &rows,
                )
            };
            print(
                json_mode,
                &json!(devices.iter().map(device_json).collect::<Vec<_>>()),
                &text,
            );
        }
        DeviceCommand::Remove { username, device } => {
            let dir = store_of(setup, &username).await?;
            if !Devices::new(&client, &dir).remove(&device).await? {
                return Err(Failure::new(
                    exit::NOT_FOUND,
                    format!("{username} has no device {device}"),
                ));
            }
            print(
                json_mode,
                &json!({"removed": device}),
                &format!("removed device {device} of {username}"),
            );
        }
        DeviceCommand::Wipe { username, device } => {
            let dir = store_of(setup, &username).await?;
            let devices = Devices::new(&client, &dir);
            let Some(mut d) = devices.device(&device).await? else {
                return Err(Failure::new(
                    exit::NOT_FOUND,
                    format!("{username} has no device {device}"),
                ));
            };
            d.wipe = "requested".into();
            devices.save_device(&d).await?;
            print(
                json_mode,
                &json!({"wipe_requested": device}),
                &format!("device {device} of {username} will be wiped at its next contact"),
            );
        }
    }
    Ok(())
}
