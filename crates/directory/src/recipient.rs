//! Which user a delivery address reaches: the user, an alias, an address
//! extension (`user+tag@domain`), or the domain's catch-all.
//!
//! A catch-all is an alias whose name is `@domain`: mail for any address of
//! that domain that reaches no user or alias goes to its mainname.

use crate::directory::Directory;
use crate::error::DirectoryError;
use crate::model::User;
use crate::status::DomainState;

/// How recipients are resolved (delivery.cfg).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientPolicy {
    /// Characters that start an address extension (`lda_recipient_delimiter`,
    /// e.g. `+` or `+-`); empty = no extensions.
    pub delimiters: String,
}

/// How an address reached its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientMatch {
    /// The address is the user's username.
    Username,
    /// The address is an alias of the user.
    Alias,
    /// The address without its extension is the user's username or alias.
    Extension {
        /// The part after the delimiter (`tag` of `user+tag@domain`).
        extension: String,
    },
    /// Nothing matched; the domain's catch-all alias (`@domain`) did.
    CatchAll,
}

/// The user an address reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The user.
    pub user: User,
    /// How the address reached it.
    pub matched: RecipientMatch,
    /// The state of the user's domain.
    pub domain_state: DomainState,
}

impl Recipient {
    /// Whether mail is delivered: the user receives mail (normal or shared
    /// mailbox) and its domain is in service.
    pub fn deliverable(&self) -> bool {
        self.user.address_status.receives_mail() && self.domain_state.in_service()
    }
}

impl Directory {
    /// The user `address` reaches, in this order: a username, an alias, the
    /// address without its extension (username, then alias), the domain's
    /// catch-all. `None` when nothing matches. Users that do not receive
    /// mail are returned too (see [`Recipient::deliverable`]).
    pub async fn resolve_recipient(
        &self,
        address: &str,
        policy: &RecipientPolicy,
    ) -> Result<Option<Recipient>, DirectoryError> {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Ok(None);
        };
        if local.is_empty() || domain.is_empty() {
            return Ok(None);
        }
        if let Some((user, via_alias)) = self.user_or_alias(address).await? {
            let matched = if via_alias {
                RecipientMatch::Alias
            } else {
                RecipientMatch::Username
            };
            return self.recipient(user, matched).await.map(Some);
        }
        if let Some(at) = local.find(|c| policy.delimiters.contains(c)) {
            let (base, extension) = (&local[..at], &local[at..]);
            let extension = extension.chars().skip(1).collect::<String>();
            if !base.is_empty()
                && let Some((user, _)) = self.user_or_alias(&format!("{base}@{domain}")).await?
            {
                return self
                    .recipient(user, RecipientMatch::Extension { extension })
                    .await
                    .map(Some);
            }
        }
        let catch_all = format!("@{domain}");
        if let Some(mainname) = self.alias_target(&catch_all).await? {
            let user = self.user_by_name(&mainname).await?.ok_or_else(|| {
                self.db().inconsistent(format!(
                    "catch-all {catch_all} points at {mainname}, which is not a user"
                ))
            })?;
            return self
                .recipient(user, RecipientMatch::CatchAll)
                .await
                .map(Some);
        }
        Ok(None)
    }

    /// The user named `address`, else the user its alias points at (true).
    async fn user_or_alias(&self, address: &str) -> Result<Option<(User, bool)>, DirectoryError> {
        if let Some(user) = self.user_by_name(address).await? {
            return Ok(Some((user, false)));
        }
        let Some(mainname) = self.alias_target(address).await? else {
            return Ok(None);
        };
        match self.user_by_name(&mainname).await? {
            Some(user) => Ok(Some((user, true))),
            None => Err(self.db().inconsistent(format!(
                "alias {address} points at {mainname}, which is not a user"
            ))),
        }
    }

    async fn recipient(
        &self,
        user: User,
        matched: RecipientMatch,
    ) -> Result<Recipient, DirectoryError> {
        let domain_state = match self.domain_by_id(user.domain_id).await? {
            Some(domain) => domain.status,
            None => DomainState::Deleted,
        };
        Ok(Recipient {
            user,
            matched,
            domain_state,
        })
    }
}
