//! Changes made by groxide-admin: domains, users, aliases, altnames,
//! servers, passwords, homeservers, failover. Every change clears this
//! process's cache; other processes see it after their cache time or SIGHUP.

use crate::db::{Db, InsertedId, on_pool};
use crate::directory::{Directory, id_param};
use crate::error::DirectoryError;
use crate::model::{Alias, Altname, Domain, Server, ServerId, User, UserId};
use crate::names;
use crate::password::hash_password;
use crate::status::{AddressStatus, DomainState, PrivilegeBits};

/// A domain to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDomain {
    /// The domain name.
    pub domainname: String,
    /// Its public store's directory.
    pub homedir: String,
    /// The server holding the public store; [`ServerId::ANY`] = none in particular.
    pub homeserver: ServerId,
    /// Most users; 0 = no limit.
    pub max_user: u32,
    /// Free-text title.
    pub title: String,
}

/// A user to create (the password is given separately and stored as argon2id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// `local@domain`; the domain must exist.
    pub username: String,
    /// The private store's directory.
    pub maildir: String,
    /// The server holding the store; [`ServerId::ANY`] = none in particular.
    pub homeserver: ServerId,
    /// Language, e.g. `en_US`; empty = the default.
    pub lang: String,
    /// Time zone; empty = the default.
    pub timezone: String,
    /// What the account may use.
    pub privilege_bits: PrivilegeBits,
    /// The user part of its address status (normal, shared mailbox, …).
    pub status: AddressStatus,
}

impl NewUser {
    /// A normal user with the default privileges and no homeserver.
    pub fn new(username: impl Into<String>, maildir: impl Into<String>) -> NewUser {
        NewUser {
            username: username.into(),
            maildir: maildir.into(),
            homeserver: ServerId::ANY,
            lang: String::new(),
            timezone: String::new(),
            privilege_bits: PrivilegeBits::NEW_USER_DEFAULT,
            status: AddressStatus::NORMAL,
        }
    }
}

/// How many homeserver columns a failover changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailoverCount {
    /// Users moved.
    pub users: u64,
    /// Domains (public stores) moved.
    pub domains: u64,
}

fn write_error(db: &Db, error: sqlx::Error, what: impl FnOnce() -> String) -> DirectoryError {
    if Db::is_duplicate(&error) {
        DirectoryError::exists(what())
    } else {
        db.error(error)
    }
}

async fn hash(password: &str) -> Result<String, DirectoryError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| DirectoryError::invalid("password", format!("hashing failed: {e}")))?
        .map_err(|e| DirectoryError::invalid("password", e.to_string()))
}

impl Directory {
    async fn require_server(&self, id: ServerId) -> Result<(), DirectoryError> {
        if id.is_set() && self.server(id).await?.is_none() {
            return Err(DirectoryError::not_found(format!("server {id}")));
        }
        Ok(())
    }

    async fn require_domain(&self, name: &str) -> Result<Domain, DirectoryError> {
        self.domain_by_name(name)
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("domain {name}")))
    }

    async fn require_user(&self, username: &str) -> Result<User, DirectoryError> {
        self.load_user_by_name(username)
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("user {username}")))
    }

    /// Which kind of record already uses `name` as a username, alias or altname.
    async fn name_in_use(&self, name: &str) -> Result<Option<&'static str>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            for (sql, kind) in [
                ("SELECT 1 FROM users WHERE username = ?", "user"),
                ("SELECT 1 FROM aliases WHERE aliasname = ?", "alias"),
                ("SELECT 1 FROM altnames WHERE altname = ?", "altname"),
            ] {
                let row = sqlx::query(sql).bind(name).fetch_optional(p).await.map_err(|e| db.error(e))?;
                if row.is_some() {
                    return Ok(Some(kind));
                }
            }
            Ok(None)
        })
    }

    /// Creates a domain.
    pub async fn create_domain(&self, new: &NewDomain) -> Result<Domain, DirectoryError> {
        let name = names::domain_name(&new.domainname)?;
        if !new.homedir.is_empty() {
            names::store_dir("homedir", &new.homedir)?;
        }
        self.require_server(new.homeserver).await?;
        let db = self.db();
        let id = on_pool!(&db.pool, p => {
            sqlx::query(
                "INSERT INTO domains (domainname, homedir, homeserver, max_user, title, domain_status) \
                 VALUES (?, ?, ?, ?, ?, 0)",
            )
            .bind(&name)
            .bind(&new.homedir)
            .bind(i64::from(new.homeserver.0))
            .bind(i64::from(new.max_user))
            .bind(&new.title)
            .execute(p)
            .await
            .map(|r| r.inserted_id())
            .map_err(|e| write_error(db, e, || format!("domain {name}")))?
        });
        self.clear_cache();
        self.domain_by_id(crate::model::DomainId(u64::try_from(id).unwrap_or(0)))
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("domain {name}")))
    }

    /// Sets a domain's state, and the domain bits of its users' address
    /// status to match (as gromox's tooling does).
    pub async fn set_domain_state(
        &self,
        name: &str,
        state: DomainState,
    ) -> Result<Domain, DirectoryError> {
        let domain = self.require_domain(name).await?;
        let bits = i64::from(AddressStatus::NORMAL.with_domain_state(state).0);
        let db = self.db();
        on_pool!(&db.pool, p => {
            let mut tx = p.begin().await.map_err(|e| db.error(e))?;
            sqlx::query("UPDATE domains SET domain_status = ? WHERE id = ?")
                .bind(i64::from(state.domain_status()))
                .bind(id_param(domain.id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?;
            sqlx::query("UPDATE users SET address_status = (address_status & 15) | ? WHERE domain_id = ?")
                .bind(bits)
                .bind(id_param(domain.id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?;
            tx.commit().await.map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        self.require_domain(name).await
    }

    /// Sets the server holding a domain's public store.
    pub async fn set_domain_homeserver(
        &self,
        name: &str,
        server: ServerId,
    ) -> Result<Domain, DirectoryError> {
        let domain = self.require_domain(name).await?;
        self.require_server(server).await?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("UPDATE domains SET homeserver = ? WHERE id = ?")
                .bind(i64::from(server.0))
                .bind(id_param(domain.id.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        self.require_domain(name).await
    }

    /// Removes a domain's row and the aliases in it. Refused while it has users.
    pub async fn delete_domain(&self, name: &str) -> Result<Domain, DirectoryError> {
        let domain = self.require_domain(name).await?;
        let users = self.users(Some(domain.id)).await?;
        if !users.is_empty() {
            return Err(DirectoryError::conflict(format!(
                "domain {} still has {} user(s); delete them first",
                domain.domainname,
                users.len()
            )));
        }
        let in_domain: Vec<String> = self
            .aliases(None)
            .await?
            .into_iter()
            .filter(|a| {
                a.aliasname
                    .rsplit_once('@')
                    .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain.domainname))
            })
            .map(|a| a.aliasname)
            .collect();
        let db = self.db();
        on_pool!(&db.pool, p => {
            let mut tx = p.begin().await.map_err(|e| db.error(e))?;
            for alias in &in_domain {
                sqlx::query("DELETE FROM aliases WHERE aliasname = ?")
                    .bind(alias)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db.error(e))?;
            }
            sqlx::query("DELETE FROM domains WHERE id = ?")
                .bind(id_param(domain.id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if Db::is_reference(&e) {
                        DirectoryError::conflict(format!("domain {} is still referenced", domain.domainname))
                    } else {
                        db.error(e)
                    }
                })?;
            tx.commit().await.map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(domain)
    }

    /// Creates a user in an existing domain, with `password` stored as argon2id
    /// (no password: the account cannot log in until one is set).
    pub async fn create_user(
        &self,
        new: &NewUser,
        password: Option<&str>,
    ) -> Result<User, DirectoryError> {
        let (username, domain_name) = names::address("username", &new.username)?;
        names::store_dir("maildir", &new.maildir)?;
        let domain = self.require_domain(&domain_name).await?;
        self.require_server(new.homeserver).await?;
        match self.name_in_use(&username).await? {
            Some("user") => return Err(DirectoryError::exists(format!("user {username}"))),
            Some(kind) => {
                return Err(DirectoryError::conflict(format!(
                    "{username} is already an {kind} of another user"
                )));
            }
            None => {}
        }
        if domain.max_user > 0 {
            let count = self.users(Some(domain.id)).await?.len();
            if count >= domain.max_user as usize {
                return Err(DirectoryError::conflict(format!(
                    "domain {} already has its maximum of {} users",
                    domain.domainname, domain.max_user
                )));
            }
        }
        let hash = match password {
            Some(password) => hash(password).await?,
            None => String::new(),
        };
        let status = AddressStatus::NORMAL
            .with_user_part(new.status)
            .with_domain_state(domain.status);
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query(
                "INSERT INTO users (username, password, domain_id, maildir, homeserver, \
                 address_status, privilege_bits, lang, timezone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&username)
            .bind(&hash)
            .bind(id_param(domain.id.0))
            .bind(&new.maildir)
            .bind(i64::from(new.homeserver.0))
            .bind(i64::from(status.0))
            .bind(i64::from(new.privilege_bits.0))
            .bind(&new.lang)
            .bind(&new.timezone)
            .execute(p)
            .await
            .map_err(|e| write_error(db, e, || format!("user {username}")))?;
        });
        self.clear_cache();
        self.require_user(&username).await
    }

    /// Sets a user's password (stored as argon2id).
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), DirectoryError> {
        let user = self.require_user(username).await?;
        let hash = hash(password).await?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("UPDATE users SET password = ? WHERE id = ?")
                .bind(&hash)
                .bind(id_param(user.id.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(())
    }

    /// Sets the user part of a user's address status (normal, suspended,
    /// deleted, shared mailbox), keeping the domain part.
    pub async fn set_user_status(
        &self,
        username: &str,
        status: AddressStatus,
    ) -> Result<User, DirectoryError> {
        let user = self.require_user(username).await?;
        let new = user.address_status.with_user_part(status);
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("UPDATE users SET address_status = ? WHERE id = ?")
                .bind(i64::from(new.0))
                .bind(id_param(user.id.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        self.require_user(username).await
    }

    /// Sets the server holding a user's store (`user move`). The store's
    /// files must already be where that server reads them.
    pub async fn set_user_homeserver(
        &self,
        username: &str,
        server: ServerId,
    ) -> Result<User, DirectoryError> {
        let user = self.require_user(username).await?;
        self.require_server(server).await?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("UPDATE users SET homeserver = ? WHERE id = ?")
                .bind(i64::from(server.0))
                .bind(id_param(user.id.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        self.require_user(username).await
    }

    /// Removes a user's row, with its aliases and altnames.
    pub async fn delete_user(&self, username: &str) -> Result<User, DirectoryError> {
        let user = self.require_user(username).await?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            let mut tx = p.begin().await.map_err(|e| db.error(e))?;
            // Explicit, so a database without cascading foreign keys is left clean too.
            sqlx::query("DELETE FROM aliases WHERE mainname = ?")
                .bind(&user.username)
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?;
            sqlx::query("DELETE FROM altnames WHERE user_id = ?")
                .bind(id_param(user.id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?;
            sqlx::query("DELETE FROM users WHERE id = ?")
                .bind(id_param(user.id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?;
            tx.commit().await.map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(user)
    }

    /// Adds an alias (or, as `@domain`, the domain's catch-all) for a user.
    pub async fn add_alias(
        &self,
        aliasname: &str,
        username: &str,
    ) -> Result<Alias, DirectoryError> {
        let (aliasname, domain) = names::alias(aliasname)?;
        self.require_domain(&domain).await?;
        let user = self.require_user(username).await?;
        match self.name_in_use(&aliasname).await? {
            Some("alias") => return Err(DirectoryError::exists(format!("alias {aliasname}"))),
            Some(kind) => {
                return Err(DirectoryError::conflict(format!(
                    "{aliasname} is already a {kind}"
                )));
            }
            None => {}
        }
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("INSERT INTO aliases (aliasname, mainname) VALUES (?, ?)")
                .bind(&aliasname)
                .bind(&user.username)
                .execute(p)
                .await
                .map_err(|e| write_error(db, e, || format!("alias {aliasname}")))?;
        });
        self.clear_cache();
        Ok(Alias {
            aliasname,
            mainname: user.username,
        })
    }

    /// Removes an alias.
    pub async fn remove_alias(&self, aliasname: &str) -> Result<Alias, DirectoryError> {
        let mainname = self
            .alias_target(aliasname)
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("alias {aliasname}")))?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("DELETE FROM aliases WHERE aliasname = ?")
                .bind(aliasname)
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(Alias {
            aliasname: aliasname.to_ascii_lowercase(),
            mainname,
        })
    }

    /// Adds an alternative login name for a user.
    pub async fn add_altname(
        &self,
        username: &str,
        altname: &str,
    ) -> Result<Altname, DirectoryError> {
        let user = self.require_user(username).await?;
        if altname.is_empty()
            || altname.len() > names::MAX_ADDRESS_LEN
            || altname.chars().any(char::is_control)
        {
            return Err(DirectoryError::invalid(
                "altname",
                format!("{altname:?}: must be 1 to 320 characters without control characters"),
            ));
        }
        let altname = altname.to_ascii_lowercase();
        match self.name_in_use(&altname).await? {
            Some("altname") => return Err(DirectoryError::exists(format!("altname {altname}"))),
            Some(kind) => {
                return Err(DirectoryError::conflict(format!(
                    "{altname} is already a {kind}"
                )));
            }
            None => {}
        }
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("INSERT INTO altnames (user_id, altname, magic) VALUES (?, ?, 0)")
                .bind(id_param(user.id.0))
                .bind(&altname)
                .execute(p)
                .await
                .map_err(|e| write_error(db, e, || format!("altname {altname}")))?;
        });
        self.clear_cache();
        Ok(Altname {
            user_id: user.id,
            altname,
            magic: 0,
        })
    }

    /// Removes an alternative login name.
    pub async fn remove_altname(&self, altname: &str) -> Result<Altname, DirectoryError> {
        let found = self
            .altnames(None)
            .await?
            .into_iter()
            .find(|a| a.altname.eq_ignore_ascii_case(altname))
            .ok_or_else(|| DirectoryError::not_found(format!("altname {altname}")))?;
        let db = self.db();
        on_pool!(&db.pool, p => {
            sqlx::query("DELETE FROM altnames WHERE altname = ?")
                .bind(&found.altname)
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(found)
    }

    /// Registers a server (a node of the cluster).
    pub async fn add_server(
        &self,
        hostname: &str,
        extname: &str,
    ) -> Result<Server, DirectoryError> {
        names::hostname("hostname", hostname, false)?;
        names::hostname("extname", extname, true)?;
        let db = self.db();
        let id = on_pool!(&db.pool, p => {
            sqlx::query("INSERT INTO servers (hostname, extname) VALUES (?, ?)")
                .bind(hostname)
                .bind(extname)
                .execute(p)
                .await
                .map(|r| r.inserted_id())
                .map_err(|e| write_error(db, e, || format!("server {hostname}")))?
        });
        self.clear_cache();
        let id = ServerId(u32::try_from(id).unwrap_or(0));
        self.server(id)
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("server {id}")))
    }

    /// Removes a server. Refused while a user or domain has it as homeserver.
    pub async fn remove_server(&self, id: ServerId) -> Result<Server, DirectoryError> {
        let server = self
            .server(id)
            .await?
            .ok_or_else(|| DirectoryError::not_found(format!("server {id}")))?;
        let db = self.db();
        let (users, domains): (i64, i64) = on_pool!(&db.pool, p => {
            let mut counts = [0i64; 2];
            for (slot, sql) in counts.iter_mut().zip([
                "SELECT COUNT(*) AS n FROM users WHERE homeserver = ?",
                "SELECT COUNT(*) AS n FROM domains WHERE homeserver = ?",
            ]) {
                let row = sqlx::query(sql).bind(i64::from(id.0)).fetch_one(p).await.map_err(|e| db.error(e))?;
                *slot = crate::db::Columns::int(&row, "n").map_err(|e| db.error(e))?;
            }
            (counts[0], counts[1])
        });
        if users > 0 || domains > 0 {
            return Err(DirectoryError::conflict(format!(
                "server {id} ({}) is the homeserver of {users} user(s) and {domains} domain(s); fail them over first",
                server.hostname
            )));
        }
        on_pool!(&db.pool, p => {
            sqlx::query("DELETE FROM servers WHERE id = ?")
                .bind(i64::from(id.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?;
        });
        self.clear_cache();
        Ok(server)
    }

    /// Moves every user and domain whose homeserver is `from` to `to`, in
    /// one transaction (the seed's failover `UPDATE`).
    pub async fn failover(
        &self,
        from: ServerId,
        to: ServerId,
    ) -> Result<FailoverCount, DirectoryError> {
        if from == to {
            return Err(DirectoryError::invalid(
                "failover",
                "the two servers are the same",
            ));
        }
        self.require_server(to).await?;
        let db = self.db();
        let count = on_pool!(&db.pool, p => {
            let mut tx = p.begin().await.map_err(|e| db.error(e))?;
            let users = sqlx::query("UPDATE users SET homeserver = ? WHERE homeserver = ?")
                .bind(i64::from(to.0))
                .bind(i64::from(from.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?
                .rows_affected();
            let domains = sqlx::query("UPDATE domains SET homeserver = ? WHERE homeserver = ?")
                .bind(i64::from(to.0))
                .bind(i64::from(from.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| db.error(e))?
                .rows_affected();
            tx.commit().await.map_err(|e| db.error(e))?;
            FailoverCount { users, domains }
        });
        self.clear_cache();
        Ok(count)
    }

    /// Moves one user from `from` to `to` if it is still on `from` (a step
    /// of a rebalance); false when somebody else moved it meanwhile.
    pub async fn move_user_if_on(
        &self,
        user: UserId,
        from: ServerId,
        to: ServerId,
    ) -> Result<bool, DirectoryError> {
        let db = self.db();
        let changed = on_pool!(&db.pool, p => {
            sqlx::query("UPDATE users SET homeserver = ? WHERE id = ? AND homeserver = ?")
                .bind(i64::from(to.0))
                .bind(id_param(user.0))
                .bind(i64::from(from.0))
                .execute(p)
                .await
                .map_err(|e| db.error(e))?
                .rows_affected()
        });
        self.clear_cache();
        Ok(changed == 1)
    }
}
