//! How results are shown: JSON for scripts (`--json`), aligned text for people.

use groxide_directory::{Alias, Altname, Domain, Server, User};
use serde_json::{Value, json};

/// Prints `value` as JSON, or `text` for people.
pub(crate) fn print(json_mode: bool, value: &Value, text: &str) {
    if json_mode {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
        );
    } else if !text.is_empty() {
        println!("{}", text.trim_end());
    }
}

/// Columns padded to their widest cell.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// `key: value` lines.
pub(crate) fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{:<width$}  {v}\n", format!("{k}:")))
        .collect()
}

pub(crate) fn user(u: &User) -> Value {
    json!({
        "id": u.id.0,
        "username": u.username,
        "domain_id": u.domain_id.0,
        "maildir": u.maildir,
        "homeserver": u.homeserver.0,
        "status": u.address_status.user_state().to_string(),
        "domain_status": u.address_status.domain_state().to_string(),
        "address_status": u.address_status.0,
        "privilege_bits": u.privilege_bits.0,
        "lang": u.lang,
        "timezone": u.timezone,
    })
}

pub(crate) fn user_row(u: &User) -> Vec<String> {
    vec![
        u.username.clone(),
        u.address_status.user_state().to_string(),
        u.homeserver.0.to_string(),
        u.maildir.clone(),
    ]
}

pub(crate) const USER_HEADERS: &[&str] = &["USERNAME", "STATUS", "SERVER", "MAILDIR"];

pub(crate) fn domain(d: &Domain) -> Value {
    json!({
        "id": d.id.0,
        "domainname": d.domainname,
        "homedir": d.homedir,
        "homeserver": d.homeserver.0,
        "status": d.status.to_string(),
        "max_user": d.max_user,
        "title": d.title,
    })
}

pub(crate) fn domain_row(d: &Domain) -> Vec<String> {
    vec![
        d.domainname.clone(),
        d.status.to_string(),
        d.homeserver.0.to_string(),
        d.homedir.clone(),
    ]
}

pub(crate) const DOMAIN_HEADERS: &[&str] = &["DOMAIN", "STATUS", "SERVER", "HOMEDIR"];

pub(crate) fn server(s: &Server) -> Value {
    json!({ "id": s.id.0, "hostname": s.hostname, "extname": s.extname })
}

pub(crate) fn server_row(s: &Server) -> Vec<String> {
    vec![s.id.0.to_string(), s.hostname.clone(), s.extname.clone()]
}

pub(crate) const SERVER_HEADERS: &[&str] = &["ID", "HOSTNAME", "EXTNAME"];

pub(crate) fn alias(a: &Alias) -> Value {
    json!({ "alias": a.aliasname, "username": a.mainname })
}

pub(crate) fn altname(a: &Altname, username: &str) -> Value {
    json!({ "altname": a.altname, "username": username, "user_id": a.user_id.0, "magic": a.magic })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let text = table(
            &["A", "LONGER"],
            &[vec!["xyz".into(), "1".into()], vec!["".into(), "22".into()]],
        );
        assert_eq!(text, "A    LONGER\nxyz  1\n     22\n");
    }
}
