//! The directory handle: the pool, the caches, and the lookups every daemon makes.

use crate::clock::{Clock, SystemClock};
use crate::db::{Db, on_pool};
use crate::error::DirectoryError;
use crate::model::{Alias, Altname, Domain, DomainId, Server, ServerId, StoreOwner, User};
use crate::rows::{self, domain_columns, user_columns};
use crate::schema::{self, SchemaOrigin};
use crate::settings::DirectorySettings;
use groxide_cache::TtlCache;
use std::sync::Arc;

/// The user directory: users, domains, servers, aliases and altnames in
/// SQLite or MariaDB/MySQL. Cheap to clone (one shared pool and cache).
///
/// Lookups of users, aliases, domains, servers and homeservers are cached
/// for the configured time; [`Directory::clear_cache`] (SIGHUP) forgets them
/// at once. Every query is parameterised.
#[derive(Clone)]
pub struct Directory {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) origin: SchemaOrigin,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) logins: TtlCache<String, Option<User>>,
    pub(crate) users: TtlCache<String, Option<User>>,
    pub(crate) alias_targets: TtlCache<String, Option<String>>,
    pub(crate) domains: TtlCache<String, Option<Domain>>,
    pub(crate) servers: TtlCache<ServerId, Option<Server>>,
    pub(crate) homeservers: TtlCache<String, Option<String>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("backend", &self.inner.db.backend)
            .field("origin", &self.inner.origin)
            .finish_non_exhaustive()
    }
}

/// Looks `key` up in `cache`, else runs `load` and caches its answer.
macro_rules! cached {
    ($self:ident, $cache:ident, $key:expr, $load:expr) => {{
        let key = $key;
        let now = $self.inner.clock.now();
        match $self.inner.$cache.get(&key, now) {
            Ok(value) => Ok(value),
            Err(generation) => {
                let value = $load;
                $self
                    .inner
                    .$cache
                    .insert(key, value.clone(), generation, now);
                Ok(value)
            }
        }
    }};
}

impl Directory {
    /// Connects to the directory and makes sure its tables are there
    /// (creating them in an empty database of groxide's own; an existing
    /// grommunio database is only checked, never altered).
    pub async fn connect(settings: &DirectorySettings) -> Result<Directory, DirectoryError> {
        Directory::connect_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Directory::connect`] with the caches reading time from `clock`.
    pub async fn connect_with_clock(
        settings: &DirectorySettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Directory, DirectoryError> {
        let db = Db::connect(settings).await?;
        let origin = schema::prepare(&db).await?;
        let ttl = settings.cache_ttl;
        tracing::debug!(backend = %db.backend, ?origin, "user directory ready");
        Ok(Directory {
            inner: Arc::new(Inner {
                db,
                origin,
                clock,
                logins: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
                users: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
                alias_targets: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
                domains: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
                servers: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
                homeservers: TtlCache::new(ttl, crate::MAX_CACHED_ANSWERS),
            }),
        })
    }

    /// The backend, for messages: `sqlite:///…` or `mysql://user@host:port/db` (no password).
    pub fn backend(&self) -> &str {
        &self.inner.db.backend
    }

    /// Whether the tables are groxide's own or an existing (grommunio) database's.
    pub fn schema_origin(&self) -> SchemaOrigin {
        self.inner.origin
    }

    /// Forgets every cached answer at once (the daemons call it on SIGHUP).
    pub fn clear_cache(&self) {
        self.inner.logins.clear();
        self.inner.users.clear();
        self.inner.alias_targets.clear();
        self.inner.domains.clear();
        self.inner.servers.clear();
        self.inner.homeservers.clear();
    }

    /// Closes the pool's connections.
    pub async fn close(&self) {
        self.inner.db.close().await;
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The user whose `username` is `name` (case-insensitive); no altnames, no aliases.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, DirectoryError> {
        cached!(
            self,
            users,
            name.to_ascii_lowercase(),
            self.load_user_by_name(name).await?
        )
    }

    pub(crate) async fn load_user_by_name(
        &self,
        name: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.username = ?"))
                .bind(name)
                .fetch_optional(p)
                .await
                .map_err(|e| db.error(e))?;
            row.map(|r| rows::user(&r)).transpose().map_err(|e| db.error(e))
        })
    }

    /// The user a login name stands for: its username, an altname or an
    /// alias. A name that leads to more than one user is
    /// [`DirectoryError::Ambiguous`] (gromox refuses such logins).
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, DirectoryError> {
        cached!(
            self,
            logins,
            login.to_ascii_lowercase(),
            self.load_user_by_login(login).await?
        )
    }

    pub(crate) async fn load_user_by_login(
        &self,
        login: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let db = self.db();
        let found: Vec<User> = on_pool!(&db.pool, p => {
            let mut found = Vec::new();
            for sql in [
                concat!("SELECT ", user_columns!(), " FROM users u WHERE u.username = ?"),
                concat!("SELECT ", user_columns!(), " FROM altnames a JOIN users u ON u.id = a.user_id WHERE a.altname = ?"),
                concat!("SELECT ", user_columns!(), " FROM aliases al JOIN users u ON u.username = al.mainname WHERE al.aliasname = ?"),
            ] {
                let rows = sqlx::query(sql).bind(login).fetch_all(p).await.map_err(|e| db.error(e))?;
                for row in &rows {
                    found.push(rows::user(row).map_err(|e| db.error(e))?);
                }
            }
            found
        });
        let mut users: Vec<User> = Vec::new();
        for user in found {
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
        match users.len() {
            0 => Ok(None),
            1 => Ok(users.pop()),
            _ => Err(DirectoryError::Ambiguous {
                name: login.to_string(),
            }),
        }
    }

    /// Every user, or those of one domain, ordered by username.
    pub async fn users(&self, domain: Option<DomainId>) -> Result<Vec<User>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let rows = match domain {
                Some(id) => sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.domain_id = ? ORDER BY u.username"))
                    .bind(id_param(id.0))
                    .fetch_all(p)
                    .await,
                None => sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u ORDER BY u.username"))
                    .fetch_all(p)
                    .await,
            }
            .map_err(|e| db.error(e))?;
            rows.iter().map(rows::user).collect::<Result<Vec<_>, _>>().map_err(|e| db.error(e))
        })
    }

    /// The domain named `name` (case-insensitive).
    pub async fn domain_by_name(&self, name: &str) -> Result<Option<Domain>, DirectoryError> {
        cached!(self, domains, name.to_ascii_lowercase(), {
            let db = self.db();
            on_pool!(&db.pool, p => {
                let row = sqlx::query(concat!("SELECT ", domain_columns!(), " FROM domains d WHERE d.domainname = ?"))
                    .bind(name)
                    .fetch_optional(p)
                    .await
                    .map_err(|e| db.error(e))?;
                row.map(|r| rows::domain(&r)).transpose().map_err(|e| db.error(e))?
            })
        })
    }

    /// The domain with id `id`.
    pub async fn domain_by_id(&self, id: DomainId) -> Result<Option<Domain>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let row = sqlx::query(concat!("SELECT ", domain_columns!(), " FROM domains d WHERE d.id = ?"))
                .bind(id_param(id.0))
                .fetch_optional(p)
                .await
                .map_err(|e| db.error(e))?;
            row.map(|r| rows::domain(&r)).transpose().map_err(|e| db.error(e))
        })
    }

    /// Every domain, ordered by name.
    pub async fn domains(&self) -> Result<Vec<Domain>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let rows = sqlx::query(concat!("SELECT ", domain_columns!(), " FROM domains d ORDER BY d.domainname"))
                .fetch_all(p)
                .await
                .map_err(|e| db.error(e))?;
            rows.iter().map(rows::domain).collect::<Result<Vec<_>, _>>().map_err(|e| db.error(e))
        })
    }

    /// The server with id `id`.
    pub async fn server(&self, id: ServerId) -> Result<Option<Server>, DirectoryError> {
        cached!(self, servers, id, {
            let db = self.db();
            on_pool!(&db.pool, p => {
                let row = sqlx::query("SELECT id, hostname, extname FROM servers WHERE id = ?")
                    .bind(i64::from(id.0))
                    .fetch_optional(p)
                    .await
                    .map_err(|e| db.error(e))?;
                row.map(|r| rows::server(&r)).transpose().map_err(|e| db.error(e))?
            })
        })
    }

    /// The server whose hostname is `hostname` (case-insensitive).
    pub async fn server_by_hostname(
        &self,
        hostname: &str,
    ) -> Result<Option<Server>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let row = sqlx::query("SELECT id, hostname, extname FROM servers WHERE hostname = ?")
                .bind(hostname)
                .fetch_optional(p)
                .await
                .map_err(|e| db.error(e))?;
            row.map(|r| rows::server(&r)).transpose().map_err(|e| db.error(e))
        })
    }

    /// Every server, ordered by id.
    pub async fn servers(&self) -> Result<Vec<Server>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let rows = sqlx::query("SELECT id, hostname, extname FROM servers ORDER BY id")
                .fetch_all(p)
                .await
                .map_err(|e| db.error(e))?;
            rows.iter().map(rows::server).collect::<Result<Vec<_>, _>>().map_err(|e| db.error(e))
        })
    }

    /// The user an alias stands for (`aliases.mainname`).
    pub async fn alias_target(&self, alias: &str) -> Result<Option<String>, DirectoryError> {
        cached!(self, alias_targets, alias.to_ascii_lowercase(), {
            let db = self.db();
            on_pool!(&db.pool, p => {
                let row = sqlx::query("SELECT aliasname, mainname FROM aliases WHERE aliasname = ?")
                    .bind(alias)
                    .fetch_optional(p)
                    .await
                    .map_err(|e| db.error(e))?;
                row.map(|r| rows::alias(&r)).transpose().map_err(|e| db.error(e))?.map(|a| a.mainname)
            })
        })
    }

    /// The aliases of one user (by username), or every alias, ordered by name.
    pub async fn aliases(&self, mainname: Option<&str>) -> Result<Vec<Alias>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let rows = match mainname {
                Some(name) => sqlx::query("SELECT aliasname, mainname FROM aliases WHERE mainname = ? ORDER BY aliasname")
                    .bind(name)
                    .fetch_all(p)
                    .await,
                None => sqlx::query("SELECT aliasname, mainname FROM aliases ORDER BY aliasname")
                    .fetch_all(p)
                    .await,
            }
            .map_err(|e| db.error(e))?;
            rows.iter().map(rows::alias).collect::<Result<Vec<_>, _>>().map_err(|e| db.error(e))
        })
    }

    /// The alternative login names of one user, or every altname, ordered by name.
    pub async fn altnames(&self, user: Option<&User>) -> Result<Vec<Altname>, DirectoryError> {
        let db = self.db();
        on_pool!(&db.pool, p => {
            let rows = match user {
                Some(user) => sqlx::query("SELECT user_id, altname, magic FROM altnames WHERE user_id = ? ORDER BY altname")
                    .bind(id_param(user.id.0))
                    .fetch_all(p)
                    .await,
                None => sqlx::query("SELECT user_id, altname, magic FROM altnames ORDER BY altname")
                    .fetch_all(p)
                    .await,
            }
            .map_err(|e| db.error(e))?;
            rows.iter().map(rows::altname).collect::<Result<Vec<_>, _>>().map_err(|e| db.error(e))
        })
    }

    /// Who owns store directory `dir`: the user whose maildir it is, or the
    /// domain whose homedir it is. Two owners is an inconsistent directory.
    pub async fn owner_of_store(&self, dir: &str) -> Result<Option<StoreOwner>, DirectoryError> {
        if dir.is_empty() {
            return Ok(None);
        }
        let db = self.db();
        let (users, domains) = on_pool!(&db.pool, p => {
            let users = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.maildir = ?"))
                .bind(dir)
                .fetch_all(p)
                .await
                .map_err(|e| db.error(e))?
                .iter()
                .map(rows::user)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| db.error(e))?;
            let domains = sqlx::query(concat!("SELECT ", domain_columns!(), " FROM domains d WHERE d.homedir = ?"))
                .bind(dir)
                .fetch_all(p)
                .await
                .map_err(|e| db.error(e))?
                .iter()
                .map(rows::domain)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| db.error(e))?;
            (users, domains)
        });
        let mut owners: Vec<StoreOwner> = users
            .into_iter()
            .map(StoreOwner::User)
            .chain(domains.into_iter().map(StoreOwner::Domain))
            .collect();
        if owners.len() > 1 {
            return Err(db.inconsistent(format!("store {dir} has {} owners", owners.len())));
        }
        Ok(owners.pop())
    }

    /// The hostname of the server holding store `dir`: `Some` when its owner
    /// has a homeserver ≠ 0, `None` when nobody owns `dir` or the homeserver
    /// is 0. A homeserver with no `servers` row, or with an empty hostname,
    /// is an inconsistent directory (an error, never a guess).
    pub async fn homeserver_hostname(&self, dir: &str) -> Result<Option<String>, DirectoryError> {
        cached!(self, homeservers, dir.to_string(), {
            match self.owner_of_store(dir).await? {
                None => None,
                Some(owner) if !owner.homeserver().is_set() => None,
                Some(owner) => {
                    let id = owner.homeserver();
                    match self.server(id).await? {
                        Some(server) if !server.hostname.is_empty() => Some(server.hostname),
                        Some(_) => {
                            return Err(self.db().inconsistent(format!(
                                "server {id} (homeserver of {dir}) has an empty hostname"
                            )));
                        }
                        None => {
                            return Err(self.db().inconsistent(format!(
                                "homeserver {id} of {dir} is not in the servers table"
                            )));
                        }
                    }
                }
            }
        })
    }
}

/// Ids are unsigned in grommunio's tables; both drivers bind i64.
pub(crate) fn id_param(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl groxide_routing::HomeserverLookup for Directory {
    fn homeserver_of<'a>(&'a self, dir: &'a str) -> groxide_routing::LookupFuture<'a> {
        Box::pin(async move {
            self.homeserver_hostname(dir)
                .await
                .map_err(|e| groxide_routing::LookupError::new(e.to_string()))
        })
    }
}
