//! `domain create|list|show|delete|suspend|unsuspend|create-store`.

use super::{path_component, server_arg, store_path};
use crate::cli::DomainCommand;
use crate::failure::{Failure, exit};
use crate::output::{self, fields, print, table};
use crate::setup::Setup;
use crate::stores::{self, StoreSpec};
use groxide_directory::{Domain, DomainState, NewDomain, ServerId, names};
use serde_json::json;

pub(crate) async fn run(command: DomainCommand, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    match command {
        DomainCommand::Create {
            name,
            server,
            title,
            max_users,
            store,
        } => {
            let name = names::domain_name(&name)?;
            path_component("domain name", &name)?;
            let homeserver = match server {
                Some(s) => server_arg(directory, &s, true).await?,
                None => ServerId::ANY,
            };
            let homedir = store_path(setup, &["domain", &name])?;
            let domain = directory
                .create_domain(&NewDomain {
                    domainname: name.clone(),
                    homedir: homedir.clone(),
                    homeserver,
                    max_user: max_users,
                    title,
                })
                .await?;
            let created = if store.no_store {
                None
            } else {
                match create_public_store(setup, &domain).await {
                    Ok(created) => Some(created),
                    Err(failure) => {
                        // Without its store the domain is useless: take the row back.
                        let undo = directory.delete_domain(&name).await;
                        let note = match undo {
                            Ok(_) => "the domain was not created",
                            Err(_) => {
                                "the domain row stays; run `domain create-store` when exmdb is back"
                            }
                        };
                        return Err(Failure::new(
                            failure.code,
                            format!("{}; {note}", failure.message),
                        ));
                    }
                }
            };
            let mut value = output::domain(&domain);
            value["store_created"] = json!(created);
            let text = format!(
                "created domain {} (id {}), public store {}{}",
                domain.domainname,
                domain.id.0,
                domain.homedir,
                match created {
                    None => " (not created: --no-store)",
                    Some(false) => " (already existed)",
                    Some(true) => "",
                }
            );
            print(json, &value, &text);
        }
        DomainCommand::List => {
            let domains = directory.domains().await?;
            let value = json!(domains.iter().map(output::domain).collect::<Vec<_>>());
            let rows: Vec<_> = domains.iter().map(output::domain_row).collect();
            print(json, &value, &table(output::DOMAIN_HEADERS, &rows));
        }
        DomainCommand::Show { name } => {
            let domain = require(setup, &name).await?;
            let users = directory.users(Some(domain.id)).await?.len();
            let mut value = output::domain(&domain);
            value["users"] = json!(users);
            let text = fields(&[
                ("domain", domain.domainname.clone()),
                ("id", domain.id.0.to_string()),
                ("status", domain.status.to_string()),
                ("homedir", domain.homedir.clone()),
                ("homeserver", domain.homeserver.0.to_string()),
                ("users", users.to_string()),
                ("max users", domain.max_user.to_string()),
                ("title", domain.title.clone()),
            ]);
            print(json, &value, &text);
        }
        DomainCommand::Delete { name, purge, store } => {
            let domain = require(setup, &name).await?;
            if purge {
                let users = directory.users(Some(domain.id)).await?.len();
                if users > 0 {
                    return Err(Failure::new(
                        exit::CONFLICT,
                        format!(
                            "domain {} still has {users} user(s); purge them first",
                            domain.domainname
                        ),
                    ));
                }
                if !store.no_store && !domain.homedir.is_empty() {
                    stores::delete(&setup.exmdb()?, &domain.homedir).await?;
                }
                directory.delete_domain(&name).await?;
                let text = format!("purged domain {} and its public store", domain.domainname);
                print(json, &json!({ "purged": output::domain(&domain) }), &text);
            } else {
                let domain = directory
                    .set_domain_state(&name, DomainState::Deleted)
                    .await?;
                let text = format!(
                    "marked domain {} deleted (use --purge to remove it)",
                    domain.domainname
                );
                print(json, &output::domain(&domain), &text);
            }
        }
        DomainCommand::Suspend { name } => {
            let domain = directory
                .set_domain_state(&name, DomainState::Suspended)
                .await?;
            print(
                json,
                &output::domain(&domain),
                &format!("suspended domain {}", domain.domainname),
            );
        }
        DomainCommand::Unsuspend { name } => {
            let domain = directory
                .set_domain_state(&name, DomainState::Normal)
                .await?;
            print(
                json,
                &output::domain(&domain),
                &format!("domain {} is in service", domain.domainname),
            );
        }
        DomainCommand::CreateStore { name } => {
            let domain = require(setup, &name).await?;
            let created = create_public_store(setup, &domain).await?;
            let text = format!(
                "public store {} {}",
                domain.homedir,
                if created {
                    "created"
                } else {
                    "already existed"
                }
            );
            print(
                json,
                &json!({ "dir": domain.homedir, "created": created }),
                &text,
            );
        }
    }
    Ok(())
}

async fn require(setup: &Setup, name: &str) -> Result<Domain, Failure> {
    setup
        .directory
        .domain_by_name(name)
        .await?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("domain {name} does not exist")))
}

async fn create_public_store(setup: &Setup, domain: &Domain) -> Result<bool, Failure> {
    stores::create(
        &setup.exmdb()?,
        &StoreSpec {
            dir: &domain.homedir,
            public: true,
            owner: &domain.domainname,
            lang: "",
            quota_bytes: 0,
        },
    )
    .await
}
