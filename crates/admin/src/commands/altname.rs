//! `altname add|remove|list`.

use crate::cli::AltnameCommand;
use crate::failure::{Failure, exit};
use crate::output::{self, print, table};
use crate::setup::Setup;
use serde_json::json;
use std::collections::HashMap;

pub(crate) async fn run(command: AltnameCommand, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    match command {
        AltnameCommand::Add { username, altname } => {
            let altname = directory.add_altname(&username, &altname).await?;
            let text = format!("{username} may also log in as {}", altname.altname);
            print(json, &output::altname(&altname, &username), &text);
        }
        AltnameCommand::Remove { altname } => {
            let removed = directory.remove_altname(&altname).await?;
            let owner = directory
                .users(None)
                .await?
                .into_iter()
                .find(|u| u.id == removed.user_id)
                .map(|u| u.username)
                .unwrap_or_default();
            print(
                json,
                &output::altname(&removed, &owner),
                &format!("removed altname {}", removed.altname),
            );
        }
        AltnameCommand::List { user } => {
            let user = match user {
                Some(name) => Some(directory.user_by_name(&name).await?.ok_or_else(|| {
                    Failure::new(exit::NOT_FOUND, format!("user {name} does not exist"))
                })?),
                None => None,
            };
            let altnames = directory.altnames(user.as_ref()).await?;
            let names: HashMap<_, _> = directory
                .users(None)
                .await?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect();
            let owner =
                |a: &groxide_directory::Altname| names.get(&a.user_id).cloned().unwrap_or_default();
            let value = json!(
                altnames
                    .iter()
                    .map(|a| output::altname(a, &owner(a)))
                    .collect::<Vec<_>>()
            );
            let rows: Vec<_> = altnames
                .iter()
                .map(|a| vec![a.altname.clone(), owner(a)])
                .collect();
            print(json, &value, &table(&["ALTNAME", "USERNAME"], &rows));
        }
    }
    Ok(())
}
