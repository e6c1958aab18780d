//! PROPFIND (RFC 4918 §9.1) and the live properties of every resource.

use crate::path::{Kind, Target, collection_href, home_href, item_href, principal_href, root_href};
use crate::store::{CollKind, Collection, Ctx, quoted};
use crate::xml::{
    Element, Multistatus, NS_CALDAV, NS_CARDDAV, NS_CS, NS_DAV, PropName, PropResponse, Value, href,
};
use crate::{Answer, xml};
use axum::extract::Request;
use groxide_http_core::body::read_body;
use groxide_rpc::items::ItemInfo;
use http::StatusCode;
use quick_xml::escape::escape;
use std::borrow::Cow;

/// What a PROPFIND (or a REPORT's `prop`) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PropRequest {
    /// `allprop` (or an empty body).
    All,
    /// `propname`.
    Names,
    /// These properties.
    Props(Vec<PropName>),
}

/// The property names of a `D:prop` element.
pub(crate) fn prop_names(prop: &Element) -> Vec<PropName> {
    prop.children
        .iter()
        .map(|c| PropName::new(&c.ns, &c.name))
        .collect()
}

/// Reads a PROPFIND body.
pub(crate) fn parse_propfind(body: &[u8]) -> Result<PropRequest, Answer> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(PropRequest::All);
    }
    let root = xml::parse(body).map_err(|e| bad_xml(&e))?;
    if !root.is(NS_DAV, "propfind") {
        return Err(Answer::text(
            StatusCode::BAD_REQUEST,
            format!("expected DAV:propfind, not {{{}}}{}", root.ns, root.name),
        ));
    }
    if let Some(p) = root.child(NS_DAV, "prop") {
        Ok(PropRequest::Props(prop_names(p)))
    } else if root.child(NS_DAV, "propname").is_some() {
        Ok(PropRequest::Names)
    } else {
        Ok(PropRequest::All)
    }
}

pub(crate) fn bad_xml(e: &xml::XmlError) -> Answer {
    Answer::text(StatusCode::BAD_REQUEST, format!("request body: {e}"))
}

/// A resource whose properties are asked for.
pub(crate) enum Res<'r> {
    Root,
    Principal,
    Home(Kind),
    Collection(&'r Collection, &'r str),
    Item(&'r Collection, &'r ItemInfo),
}

fn all_names(res: &Res<'_>) -> Vec<PropName> {
    let d = |n: &str| PropName::new(NS_DAV, n);
    let mut v = vec![d("resourcetype"), d("current-user-principal")];
    match res {
        Res::Root => {}
        Res::Principal => v.extend([
            d("displayname"),
            d("principal-URL"),
            PropName::new(NS_CALDAV, "calendar-home-set"),
            PropName::new(NS_CARDDAV, "addressbook-home-set"),
            PropName::new(NS_CALDAV, "calendar-user-address-set"),
        ]),
        Res::Home(_) => v.push(d("displayname")),
        Res::Collection(c, _) => {
            v.extend([
                d("displayname"),
                d("sync-token"),
                PropName::new(NS_CS, "getctag"),
                d("supported-report-set"),
            ]);
            if c.kind == CollKind::Contacts {
                v.push(PropName::new(NS_CARDDAV, "supported-address-data"));
            } else {
                v.push(PropName::new(NS_CALDAV, "supported-calendar-component-set"));
            }
            if c.description.is_some() {
                v.push(if c.kind == CollKind::Contacts {
                    PropName::new(NS_CARDDAV, "addressbook-description")
                } else {
                    PropName::new(NS_CALDAV, "calendar-description")
                });
            }
            v.extend(c.dead.iter().map(|(ns, n, _)| PropName::new(ns, n)));
        }
        Res::Item(..) => v.extend([d("getetag"), d("getcontenttype")]),
    }
    v
}

fn privileges() -> String {
    [
        "read",
        "write",
        "write-properties",
        "write-content",
        "bind",
        "unbind",
        "read-current-user-privilege-set",
    ]
    .iter()
    .map(|p| format!("<D:privilege><D:{p}/></D:privilege>"))
    .collect()
}

/// The value of a live property, `None` when the resource has none.
pub(crate) fn value(ctx: &Ctx<'_>, res: &Res<'_>, name: &PropName) -> Option<Value> {
    let user = ctx.user.as_str();
    let is_item = matches!(res, Res::Item(..));
    let v = match (name.ns.as_str(), name.name.as_str()) {
        (NS_DAV, "resourcetype") => match res {
            Res::Root | Res::Home(_) => Value::Xml("<D:collection/>".into()),
            Res::Principal => Value::Xml("<D:principal/><D:collection/>".into()),
            Res::Collection(c, _) if c.kind == CollKind::Contacts => {
                Value::Xml("<D:collection/><CR:addressbook/>".into())
            }
            Res::Collection(..) => Value::Xml("<D:collection/><C:calendar/>".into()),
            Res::Item(..) => Value::Empty,
        },
        (NS_DAV, "displayname") => match res {
            Res::Principal => Value::Text(user.to_string()),
            Res::Home(Kind::Calendar) => Value::Text("Calendars".into()),
            Res::Home(Kind::AddressBook) => Value::Text("Address books".into()),
            Res::Collection(c, _) => Value::Text(c.folder.name.clone()),
            _ => return None,
        },
        (NS_DAV, "current-user-principal") => Value::Xml(href(&principal_href(user))),
        (NS_DAV, "principal-URL") if matches!(res, Res::Principal) => {
            Value::Xml(href(&principal_href(user)))
        }
        (NS_DAV, "owner") if !is_item => Value::Xml(href(&principal_href(user))),
        (NS_DAV, "principal-collection-set") if !is_item => {
            Value::Xml(href(&format!("{}principals/", root_href())))
        }
        (NS_DAV, "current-user-privilege-set") => match res {
            Res::Collection(c, _) | Res::Item(c, _) if c.gal.is_some() => Value::Xml(
                "<D:privilege><D:read/></D:privilege>\
                 <D:privilege><D:read-current-user-privilege-set/></D:privilege>"
                    .into(),
            ),
            _ => Value::Xml(privileges()),
        },
        (NS_CALDAV, "calendar-home-set") if !is_item => {
            Value::Xml(href(&home_href(Kind::Calendar, user)))
        }
        (NS_CARDDAV, "addressbook-home-set") if !is_item => {
            Value::Xml(href(&home_href(Kind::AddressBook, user)))
        }
        (NS_CALDAV, "calendar-user-address-set") if matches!(res, Res::Principal) => {
            Value::Xml(format!("<D:href>mailto:{}</D:href>", escape(user)))
        }
        (NS_DAV, "sync-token") | (NS_CS, "getctag") => match res {
            Res::Collection(_, token) => Value::Text((*token).to_string()),
            _ => return None,
        },
        (NS_DAV, "supported-report-set") => match res {
            Res::Collection(c, _) => {
                let reports: &[&str] = if c.kind == CollKind::Contacts {
                    &[
                        "CR:addressbook-multiget",
                        "CR:addressbook-query",
                        "D:sync-collection",
                    ]
                } else {
                    &[
                        "C:calendar-multiget",
                        "C:calendar-query",
                        "C:free-busy-query",
                        "D:sync-collection",
                    ]
                };
                Value::Xml(
                    reports
                        .iter()
                        .map(|r| {
                            format!("<D:supported-report><D:report><{r}/></D:report></D:supported-report>")
                        })
                        .collect(),
                )
            }
            _ => return None,
        },
        (NS_CALDAV, "supported-calendar-component-set") => match res {
            Res::Collection(c, _) if c.kind != CollKind::Contacts => {
                Value::Xml(format!("<C:comp name=\"{}\"/>", c.kind.component()))
            }
            _ => return None,
        },
        (NS_CALDAV, "supported-calendar-data") => match res {
            Res::Collection(c, _) if c.kind != CollKind::Contacts => Value::Xml(
                "<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into(),
            ),
            _ => return None,
        },
        (NS_CARDDAV, "supported-address-data") => match res {
            Res::Collection(c, _) if c.kind == CollKind::Contacts => Value::Xml(
                "<CR:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>\
                 <CR:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
                    .into(),
            ),
            _ => return None,
        },
        (NS_DAV, "getetag") => match res {
            Res::Item(_, i) => Value::Text(quoted(&i.etag)),
            _ => return None,
        },
        (NS_DAV, "getcontenttype") => match res {
            Res::Item(c, _) if c.kind == CollKind::Contacts => {
                Value::Text("text/vcard; charset=utf-8".into())
            }
            Res::Item(..) => Value::Text("text/calendar; charset=utf-8".into()),
            _ => return None,
        },
        (NS_CALDAV, "calendar-description") | (NS_CARDDAV, "addressbook-description") => {
            match res {
                Res::Collection(c, _)
                    if (c.kind == CollKind::Contacts) == (name.ns == NS_CARDDAV) =>
                {
                    Value::Text(c.description.clone()?)
                }
                _ => return None,
            }
        }
        _ => match res {
            // A dead property a client set.
            Res::Collection(c, _) => Value::Xml(
                c.dead
                    .iter()
                    .find(|(ns, n, _)| name.is(ns, n))
                    .map(|(_, _, v)| v.clone())?,
            ),
            _ => return None,
        },
    };
    Some(v)
}

/// The response of one resource for `req`.
pub(crate) fn respond<'n>(ctx: &Ctx<'_>, res: &Res<'_>, req: &'n PropRequest) -> PropResponse<'n> {
    let mut r = PropResponse::default();
    match req {
        PropRequest::Names => {
            r.found = all_names(res)
                .into_iter()
                .map(|n| (Cow::Owned(n), Value::Empty))
                .collect();
        }
        PropRequest::All => {
            for n in all_names(res) {
                if let Some(v) = value(ctx, res, &n) {
                    r.found.push((Cow::Owned(n), v));
                }
            }
        }
        PropRequest::Props(names) => {
            for n in names {
                match value(ctx, res, n) {
                    Some(v) => r.found.push((Cow::Borrowed(n), v)),
                    None => r.missing.push(Cow::Borrowed(n)),
                }
            }
        }
    }
    r
}

pub(crate) async fn propfind(ctx: &mut Ctx<'_>, target: &Target, request: Request) -> Answer {
    let depth = match request.headers().get("Depth").map(|v| v.as_bytes()) {
        Some(b"0") => 0,
        _ => 1,
    };
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Answer::text(e.status(), e.to_string()),
    };
    let req = match parse_propfind(&body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let user = ctx.user.clone();
    let mut m = Multistatus::new();
    match target {
        Target::Root => {
            m.props(&root_href(), &respond(ctx, &Res::Root, &req));
            if depth > 0 {
                m.props(&principal_href(&user), &respond(ctx, &Res::Principal, &req));
                for k in [Kind::Calendar, Kind::AddressBook] {
                    m.props(&home_href(k, &user), &respond(ctx, &Res::Home(k), &req));
                }
            }
        }
        Target::Principal(_) => {
            m.props(&principal_href(&user), &respond(ctx, &Res::Principal, &req))
        }
        Target::Home(kind, _) => {
            m.props(
                &home_href(*kind, &user),
                &respond(ctx, &Res::Home(*kind), &req),
            );
            if depth > 0 {
                let colls = match ctx.collections(*kind).await {
                    Ok(c) => c,
                    Err(a) => return a,
                };
                for c in &colls {
                    // The store's token of the folder as listed (no
                    // listing of its items).
                    let token = match &c.gal {
                        Some(g) => g.token.clone(),
                        None => format!(
                            "gx1-{}-{}-{}",
                            c.folder.id, c.folder.uidvalidity, c.folder.highest_modseq
                        ),
                    };
                    m.props(
                        &collection_href(*kind, &user, &c.segment),
                        &respond(ctx, &Res::Collection(c, &token), &req),
                    );
                }
            }
        }
        Target::Collection(kind, _, seg) => {
            let c = match ctx.collection(*kind, seg).await {
                Ok(c) => c,
                Err(a) => return a,
            };
            let (items, token) = match ctx.items(&c).await {
                Ok(x) => x,
                Err(a) => return a,
            };
            m.props(
                &collection_href(*kind, &user, &c.segment),
                &respond(ctx, &Res::Collection(&c, &token), &req),
            );
            if depth > 0 {
                let prefix = collection_href(*kind, &user, &c.segment);
                let mut href = String::with_capacity(prefix.len() + 64);
                for i in &items {
                    href.clear();
                    href.push_str(&prefix);
                    crate::xml::push_segment(&mut href, &ctx.name_of(&c, i));
                    m.props(&href, &respond(ctx, &Res::Item(&c, i), &req));
                }
            }
        }
        Target::Item(kind, _, seg, name) => {
            let c = match ctx.collection(*kind, seg).await {
                Ok(c) => c,
                Err(a) => return a,
            };
            match ctx.find_item(&c, name).await {
                Ok(Some(i)) => m.props(
                    &item_href(*kind, &user, &c.segment, name),
                    &respond(ctx, &Res::Item(&c, &i), &req),
                ),
                Ok(None) => return Answer::text(StatusCode::NOT_FOUND, format!("no item {name}")),
                Err(a) => return a,
            }
        }
    }
    Answer::multistatus(m.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propfind_bodies_parse_by_namespace_not_prefix() {
        let body = br#"<?xml version="1.0"?>
<x:propfind xmlns:x="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
  <x:prop><x:resourcetype/><cal:calendar-home-set/><cs:getctag/><foo xmlns="urn:other"/></x:prop>
</x:propfind>"#;
        let PropRequest::Props(names) = parse_propfind(body).unwrap() else {
            panic!("not a prop request")
        };
        assert_eq!(
            names,
            vec![
                PropName::new(NS_DAV, "resourcetype"),
                PropName::new(NS_CALDAV, "calendar-home-set"),
                PropName::new(NS_CS, "getctag"),
                PropName::new("urn:other", "foo"),
            ]
        );
        assert_eq!(parse_propfind(b"").unwrap(), PropRequest::All);
        assert_eq!(
            parse_propfind(br#"<propfind xmlns="DAV:"><propname/></propfind>"#).unwrap(),
            PropRequest::Names
        );
        assert_eq!(
            parse_propfind(br#"<propfind xmlns="DAV:"><allprop/></propfind>"#).unwrap(),
            PropRequest::All
        );
        let bad = parse_propfind(b"<propfind xmlns=\"DAV:\"><prop>")
            .err()
            .unwrap();
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let wrong = parse_propfind(b"<propfind/>").err().unwrap();
        assert!(wrong.body.contains("DAV:propfind"), "{}", wrong.body);
    }
}
