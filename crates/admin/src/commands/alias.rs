//! `alias add|remove|list`.

use crate::cli::AliasCommand;
use crate::failure::Failure;
use crate::output::{self, print, table};
use crate::setup::Setup;
use serde_json::json;

pub(crate) async fn run(command: AliasCommand, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    match command {
        AliasCommand::Add { alias, username } => {
            let alias = directory.add_alias(&alias, &username).await?;
            let text = if alias.aliasname.starts_with('@') {
                format!(
                    "{} receives all mail for {} that no user or alias takes",
                    alias.mainname, alias.aliasname
                )
            } else {
                format!("{} is now an alias of {}", alias.aliasname, alias.mainname)
            };
            print(json, &output::alias(&alias), &text);
        }
        AliasCommand::Remove { alias } => {
            let alias = directory.remove_alias(&alias).await?;
            print(
                json,
                &output::alias(&alias),
                &format!("removed alias {}", alias.aliasname),
            );
        }
        AliasCommand::List { user } => {
            let aliases = directory.aliases(user.as_deref()).await?;
            let value = json!(aliases.iter().map(output::alias).collect::<Vec<_>>());
            let rows: Vec<_> = aliases
                .iter()
                .map(|a| vec![a.aliasname.clone(), a.mainname.clone()])
                .collect();
            print(json, &value, &table(&["ALIAS", "USERNAME"], &rows));
        }
    }
    Ok(())
}
