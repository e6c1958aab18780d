//! The SELECT lists of the directory's records and their row mapping.

use crate::db::Columns;
use crate::model::{Alias, Altname, Domain, DomainId, Server, ServerId, User, UserId};
use crate::status::{AddressStatus, DomainState, PrivilegeBits};

/// The columns of a [`User`], from `users u`.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.domain_id, u.maildir, u.homeserver, u.address_status, \
         u.privilege_bits, u.lang, u.timezone"
    };
}
pub(crate) use user_columns;

/// The columns of a [`Domain`], from `domains d`.
macro_rules! domain_columns {
    () => {
        "d.id, d.domainname, d.homedir, d.homeserver, d.domain_status, d.max_user, d.title"
    };
}
pub(crate) use domain_columns;

pub(crate) fn user<R: Columns>(row: &R) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.int_as("id")?),
        username: row.text("username")?,
        domain_id: DomainId(row.int_as("domain_id")?),
        maildir: row.text("maildir")?,
        homeserver: ServerId(row.int_as("homeserver")?),
        address_status: AddressStatus(status_byte(row.int("address_status")?)),
        privilege_bits: PrivilegeBits(row.int_as("privilege_bits")?),
        lang: row.text("lang")?,
        timezone: row.text("timezone")?,
    })
}

pub(crate) fn domain<R: Columns>(row: &R) -> Result<Domain, sqlx::Error> {
    Ok(Domain {
        id: DomainId(row.int_as("id")?),
        domainname: row.text("domainname")?,
        homedir: row.text("homedir")?,
        homeserver: ServerId(row.int_as("homeserver")?),
        status: DomainState::from_domain_status(status_byte(row.int("domain_status")?)),
        max_user: row.int_as("max_user")?,
        title: row.text("title")?,
    })
}

pub(crate) fn server<R: Columns>(row: &R) -> Result<Server, sqlx::Error> {
    Ok(Server {
        id: ServerId(row.int_as("id")?),
        hostname: row.text("hostname")?,
        extname: row.text("extname")?,
    })
}

pub(crate) fn alias<R: Columns>(row: &R) -> Result<Alias, sqlx::Error> {
    Ok(Alias {
        aliasname: row.text("aliasname")?,
        mainname: row.text("mainname")?,
    })
}

pub(crate) fn altname<R: Columns>(row: &R) -> Result<Altname, sqlx::Error> {
    Ok(Altname {
        user_id: UserId(row.int_as("user_id")?),
        altname: row.text("altname")?,
        magic: row.int_as("magic")?,
    })
}

/// grommunio's status columns are signed tinyints; the bits are what count.
fn status_byte(value: i64) -> u8 {
    (value & 0xFF) as u8
}
