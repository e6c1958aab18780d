//! `user create|list|show|passwd|suspend|unsuspend|delete|move|create-store`.

use super::{path_component, read_password, reload_and_report, server_arg, size_arg, store_path};
use crate::cli::UserCommand;
use crate::failure::{Failure, exit};
use crate::output::{self, fields, print, table};
use crate::setup::Setup;
use crate::stores::{self, StoreSpec};
use groxide_directory::{AddressStatus, NewUser, ServerId, User, names};
use serde_json::json;

/// Where the stores of users without a homeserver live below `<data_path>/user/`.
const LOCAL_NODE_DIR: &str = "local";

pub(crate) async fn run(command: UserCommand, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    match command {
        UserCommand::Create {
            username,
            password,
            server,
            quota,
            lang,
            store,
        } => {
            let (username, domain_name) = names::address("username", &username)?;
            let local = username
                .rsplit_once('@')
                .map(|(l, _)| l)
                .unwrap_or_default();
            path_component("local part", local)?;
            let quota_bytes = quota.as_deref().map(size_arg).transpose()?.unwrap_or(0);
            let password = read_password(password.password, password.password_stdin)?;
            let domain = directory
                .domain_by_name(&domain_name)
                .await?
                .ok_or_else(|| {
                    Failure::new(
                        exit::NOT_FOUND,
                        format!("domain {domain_name} does not exist"),
                    )
                })?;
            let homeserver = match server {
                Some(s) => server_arg(directory, &s, true).await?,
                None => ServerId::ANY,
            };
            let node_dir = match directory.server(homeserver).await? {
                Some(server) if homeserver.is_set() => server.hostname,
                _ => LOCAL_NODE_DIR.to_string(),
            };
            path_component("server hostname", &node_dir)?;
            let maildir = store_path(setup, &["user", &node_dir, &domain.domainname, local])?;
            let mut new = NewUser::new(&username, &maildir);
            new.homeserver = homeserver;
            new.lang = lang.clone();
            let user = directory.create_user(&new, password.as_deref()).await?;
            let created = if store.no_store {
                None
            } else {
                match create_private_store(setup, &user, quota_bytes).await {
                    Ok(created) => Some(created),
                    Err(failure) => {
                        let note = match directory.delete_user(&username).await {
                            Ok(_) => "the user was not created",
                            Err(_) => {
                                "the user row stays; run `user create-store` when exmdb is back"
                            }
                        };
                        return Err(Failure::new(
                            failure.code,
                            format!("{}; {note}", failure.message),
                        ));
                    }
                }
            };
            let mut value = output::user(&user);
            value["store_created"] = json!(created);
            let text = format!(
                "created user {} (id {}), store {}{}{}",
                user.username,
                user.id.0,
                user.maildir,
                match created {
                    None => " (not created: --no-store)",
                    Some(false) => " (already existed)",
                    Some(true) => "",
                },
                if password.is_none() {
                    "; no password set, it cannot log in yet"
                } else {
                    ""
                }
            );
            print(json, &value, &text);
        }
        UserCommand::List { domain } => {
            let domain_id = match domain {
                Some(name) => Some(
                    directory
                        .domain_by_name(&name)
                        .await?
                        .ok_or_else(|| {
                            Failure::new(exit::NOT_FOUND, format!("domain {name} does not exist"))
                        })?
                        .id,
                ),
                None => None,
            };
            let users = directory.users(domain_id).await?;
            let value = json!(users.iter().map(output::user).collect::<Vec<_>>());
            let rows: Vec<_> = users.iter().map(output::user_row).collect();
            print(json, &value, &table(output::USER_HEADERS, &rows));
        }
        UserCommand::Show { username } => {
            let user = by_login(setup, &username).await?;
            let aliases: Vec<String> = directory
                .aliases(Some(&user.username))
                .await?
                .into_iter()
                .map(|a| a.aliasname)
                .collect();
            let altnames: Vec<String> = directory
                .altnames(Some(&user))
                .await?
                .into_iter()
                .map(|a| a.altname)
                .collect();
            let server = directory.server(user.homeserver).await?;
            let mut value = output::user(&user);
            value["aliases"] = json!(aliases);
            value["altnames"] = json!(altnames);
            value["homeserver_hostname"] = json!(server.as_ref().map(|s| s.hostname.clone()));
            let text = fields(&[
                ("username", user.username.clone()),
                ("id", user.id.0.to_string()),
                ("status", user.address_status.user_state().to_string()),
                (
                    "domain status",
                    user.address_status.domain_state().to_string(),
                ),
                ("maildir", user.maildir.clone()),
                (
                    "homeserver",
                    match &server {
                        Some(s) => format!("{} ({})", user.homeserver.0, s.hostname),
                        None => user.homeserver.0.to_string(),
                    },
                ),
                ("privileges", format!("{:#x}", user.privilege_bits.0)),
                ("lang", user.lang.clone()),
                ("timezone", user.timezone.clone()),
                ("aliases", aliases.join(", ")),
                ("altnames", altnames.join(", ")),
            ]);
            print(json, &value, &text);
        }
        UserCommand::Passwd { username, password } => {
            let password = read_password(password.password, password.password_stdin)?
                .ok_or_else(|| Failure::new(exit::USAGE, "give --password or --password-stdin"))?;
            directory.set_password(&username, &password).await?;
            print(
                json,
                &json!({ "username": username, "password_changed": true }),
                &format!("password of {username} changed"),
            );
        }
        UserCommand::Suspend { username } => {
            let user = directory
                .set_user_status(&username, AddressStatus::SUSPENDED)
                .await?;
            print(
                json,
                &output::user(&user),
                &format!("suspended {}", user.username),
            );
        }
        UserCommand::Unsuspend { username } => {
            let user = directory
                .set_user_status(&username, AddressStatus::NORMAL)
                .await?;
            print(
                json,
                &output::user(&user),
                &format!("{} is active", user.username),
            );
        }
        UserCommand::Delete {
            username,
            purge,
            store,
        } => {
            let user = require(setup, &username).await?;
            if purge {
                if !store.no_store && !user.maildir.is_empty() {
                    stores::delete(&setup.exmdb()?, &user.maildir).await?;
                }
                directory.delete_user(&user.username).await?;
                let text = format!("purged {} and its store {}", user.username, user.maildir);
                print(json, &json!({ "purged": output::user(&user) }), &text);
            } else {
                let user = directory
                    .set_user_status(&user.username, AddressStatus::DELETED)
                    .await?;
                let text = format!(
                    "marked {} deleted (use --purge to remove it and its store)",
                    user.username
                );
                print(json, &output::user(&user), &text);
            }
        }
        UserCommand::Move {
            username,
            to_server,
        } => {
            let to = server_arg(directory, &to_server, true).await?;
            let user = directory.set_user_homeserver(&username, to).await?;
            let (reloaded, reload_text) = reload_and_report(setup.config.dir());
            let mut value = output::user(&user);
            value["reloaded"] = reloaded;
            let text = format!(
                "{} now lives on server {} (store {}); other nodes follow after their cache time or a reload\n{reload_text}",
                user.username, to.0, user.maildir
            );
            print(json, &value, &text);
        }
        UserCommand::CreateStore { username, quota } => {
            let user = require(setup, &username).await?;
            let quota_bytes = quota.as_deref().map(size_arg).transpose()?.unwrap_or(0);
            let created = create_private_store(setup, &user, quota_bytes).await?;
            let text = format!(
                "store {} {}",
                user.maildir,
                if created {
                    "created"
                } else {
                    "already existed"
                }
            );
            print(
                json,
                &json!({ "dir": user.maildir, "created": created }),
                &text,
            );
        }
    }
    Ok(())
}

async fn require(setup: &Setup, username: &str) -> Result<User, Failure> {
    setup
        .directory
        .user_by_name(username)
        .await?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("user {username} does not exist")))
}

async fn by_login(setup: &Setup, login: &str) -> Result<User, Failure> {
    setup
        .directory
        .user_by_login(login)
        .await?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("user {login} does not exist")))
}

async fn create_private_store(
    setup: &Setup,
    user: &User,
    quota_bytes: u64,
) -> Result<bool, Failure> {
    stores::create(
        &setup.exmdb()?,
        &StoreSpec {
            dir: &user.maildir,
            public: false,
            owner: &user.username,
            lang: &user.lang,
            quota_bytes,
        },
    )
    .await
}
