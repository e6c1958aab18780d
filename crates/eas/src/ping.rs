//! Ping ([MS-ASCMD] 2.2.1.13): waits up to the heartbeat for a change in
//! the folders the device names, and answers which changed. The wait is a
//! receiver of the store's shared event subscription and a timer; a hint
//! for a watched folder is checked against the device's sync state (the
//! device's own writes wake nothing), so the answer names only folders
//! with something to sync.

use crate::devices::Devices;
use crate::folder_sync::visible;
use crate::sync::estimate;
use crate::{Ctx, Failure};
use groxide_rpc::event_hub::StoreEvent;
use groxide_wbxml::{Element, Ping};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Most folders one Ping may watch.
const MAX_FOLDERS: usize = 300;

fn answer(status: u8, extra: Vec<Element>) -> Element {
    let mut c = vec![Element::with_text(Ping::Status, status.to_string())];
    c.extend(extra);
    Element::with_children(Ping::Ping, c)
}

/// The watched folders with something to sync (`None`: a folder is no
/// longer in the hierarchy). One folder listing (with the device's states)
/// and one change query per folder.
async fn changed(ctx: &Ctx<'_>, folders: &[String]) -> Result<Option<Vec<String>>, Failure> {
    let all = ctx.devices().folders_with_states().await?;
    let states = Devices::states_in(&all, &ctx.params.device_id);
    let shown = visible(&all);
    let mut out = Vec::new();
    for id in folders {
        let Some((_, _, folder)) = shown.iter().find(|(sid, _, _)| sid == id) else {
            return Ok(None);
        };
        let Some(state) = states.get(id) else {
            // Never synced: the device should sync it.
            out.push(id.clone());
            continue;
        };
        if estimate(ctx, folder.id, state).await? > 0 {
            out.push(id.clone());
        }
    }
    Ok(Some(out))
}

/// [`changed`] in a turn of work, given back after.
async fn look_working(
    ctx: &mut Ctx<'_>,
    folders: &[String],
) -> Result<Option<Vec<String>>, Failure> {
    ctx.work().await;
    let found = changed(ctx, folders).await;
    ctx.rest();
    found
}

/// The limit a heartbeat breaks, if any ([MS-ASCMD]: Status 5 names it).
fn heartbeat_limit(wait: Duration, min: Duration, max: Duration) -> Option<Duration> {
    if wait < min {
        Some(min)
    } else if wait > max {
        Some(max)
    } else {
        None
    }
}

fn changed_answer(folders: Vec<String>) -> Element {
    answer(
        2,
        vec![Element::with_children(
            Ping::Folders,
            folders
                .into_iter()
                .map(|f| Element::with_text(Ping::Folder, f)),
        )],
    )
}

pub(crate) async fn ping(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let (min, max) = (ctx.settings.min_heartbeat, ctx.settings.max_heartbeat);
    let (heartbeat, folders) = match &document {
        Some(d) if d.is(Ping::Ping) => {
            let heartbeat = match d.child_text(Ping::HeartbeatInterval) {
                Some(h) => match h.trim().parse::<u64>() {
                    Ok(h) => Some(h),
                    Err(_) => return Ok(Some(answer(4, Vec::new()))),
                },
                None => None,
            };
            let folders: Option<Vec<String>> = d.child(Ping::Folders).map(|f| {
                f.children_named(Ping::Folder)
                    .filter_map(|x| x.child_text(Ping::Id).map(|s| s.trim().to_string()))
                    .collect()
            });
            (heartbeat, folders)
        }
        Some(_) => return Ok(Some(answer(4, Vec::new()))),
        None => (None, None),
    };
    // The wait below may last an hour: keep only what was read from it.
    drop(document);
    let known = &ctx.device;
    let heartbeat = heartbeat.or((known.ping_heartbeat > 0).then_some(known.ping_heartbeat));
    let folders = folders.or((!known.ping_folders.is_empty()).then(|| known.ping_folders.clone()));
    let (Some(heartbeat), Some(folders)) = (heartbeat, folders) else {
        // Nothing to repeat: the device must send the full request.
        return Ok(Some(answer(3, Vec::new())));
    };
    if folders.is_empty() {
        return Ok(Some(answer(3, Vec::new())));
    }
    if folders.len() > MAX_FOLDERS {
        return Ok(Some(answer(
            6,
            vec![Element::with_text(
                Ping::MaxFolders,
                MAX_FOLDERS.to_string(),
            )],
        )));
    }
    let wait = Duration::from_secs(heartbeat);
    if let Some(limit) = heartbeat_limit(wait, min, max) {
        return Ok(Some(answer(
            5,
            vec![Element::with_text(
                Ping::HeartbeatInterval,
                limit.as_secs().to_string(),
            )],
        )));
    }
    let unique: BTreeSet<String> = folders.iter().cloned().collect();
    let folders: Vec<String> = unique.into_iter().collect();
    if ctx.device.ping_folders != folders || ctx.device.ping_heartbeat != heartbeat {
        let mut device = ctx.device.clone();
        device.ping_folders.clone_from(&folders);
        device.ping_heartbeat = heartbeat;
        Box::pin(ctx.devices().save_device(&device)).await?;
        ctx.device = device;
    }
    // Watch first, then look: a change between the two still wakes us.
    let mut hints = ctx.eas.hub.watch(&ctx.dir).await;
    match Box::pin(changed(ctx, &folders)).await? {
        None => return Ok(Some(answer(7, Vec::new()))),
        Some(c) if !c.is_empty() => return Ok(Some(changed_answer(c))),
        Some(_) => {}
    }
    let ids: BTreeSet<u64> = folders.iter().filter_map(|f| f.parse().ok()).collect();
    let deadline = tokio::time::Instant::from_std(Instant::now() + wait);
    ctx.rest();
    loop {
        let hint = tokio::select! {
            h = hints.recv() => h,
            () = tokio::time::sleep_until(deadline) => return Ok(Some(answer(1, Vec::new()))),
        };
        let look: Vec<String> = match hint {
            Ok(StoreEvent::Changed { folder, .. }) if ids.contains(&folder) => {
                vec![folder.to_string()]
            }
            Ok(StoreEvent::Changed { folder: 0, .. }) | Ok(StoreEvent::Resync) => folders.clone(),
            Ok(StoreEvent::Changed { .. }) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => folders.clone(),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                hints = ctx.eas.hub.watch(&ctx.dir).await;
                folders.clone()
            }
        };
        // Boxed: the wait above holds no store call's state.
        match Box::pin(look_working(ctx, &look)).await? {
            None => return Ok(Some(answer(7, Vec::new()))),
            Some(c) if !c.is_empty() => return Ok(Some(changed_answer(c))),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_outside_the_limits_name_the_limit() {
        let (min, max) = (Duration::from_secs(60), Duration::from_secs(3540));
        let table = [
            (5, Some(60)),
            (59, Some(60)),
            (60, None),
            (480, None),
            (3540, None),
            (3541, Some(3540)),
        ];
        for (secs, want) in table {
            assert_eq!(
                heartbeat_limit(Duration::from_secs(secs), min, max),
                want.map(Duration::from_secs),
                "{secs}"
            );
        }
    }

    #[test]
    fn ping_answers_carry_status_and_folders() {
        let a = changed_answer(vec!["13".into(), "15".into()]);
        assert_eq!(a.child_text(Ping::Status), Some("2"));
        let folders: Vec<&str> = a
            .child(Ping::Folders)
            .unwrap()
            .children_named(Ping::Folder)
            .filter_map(|f| match &f.content {
                groxide_wbxml::Content::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(folders, ["13", "15"]);
    }
}
