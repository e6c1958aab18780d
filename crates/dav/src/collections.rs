//! Collections as folders: MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL
//! (RFC 5689) create calendars (IPF.Appointment, or IPF.Task for a VTODO
//! calendar) and address books (IPF.Contact) beside the standard ones;
//! DELETE removes one (never a standard folder); PROPPATCH writes a
//! collection's properties: `displayname` is the folder's name,
//! `calendar-description`/`addressbook-description` its PR_COMMENT, and
//! every other property that is not a live one (Apple's `calendar-color`
//! and `calendar-order`, `calendar-timezone`, …) is kept as a dead
//! property, all of them in one folder property. The name a client gave a
//! collection in its URL is a folder property too, so the collection stays
//! where the client created it.

use crate::path::{Kind, Target, collection_href, home_href, item_href, principal_href, root_href};
use crate::propfind::bad_xml;
use crate::store::{Ctx, store_error};
use crate::xml::{Element, Multistatus, NS_CALDAV, NS_CARDDAV, NS_DAV, PropName};
use crate::{Answer, xml};
use axum::extract::Request;
use groxide_http_core::body::read_body;
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use http::StatusCode;
use quick_xml::escape::escape;

/// PR_COMMENT: a collection's description.
pub(crate) const PR_COMMENT: u32 = 0x3004_001F;
/// groxide's folder property with the URL segment a DAV client created the
/// collection under (PT_UNICODE; provider-defined range, chosen by groxide).
pub(crate) const PR_GROXIDE_DAV_NAME: u32 = 0x67F4_001F;
/// groxide's folder property with a collection's dead DAV properties
/// (PT_BINARY: namespace, name, XML value, each ended by NUL).
pub(crate) const PR_GROXIDE_DAV_PROPS: u32 = 0x67F5_0102;
/// Most bytes of dead properties one collection keeps.
pub(crate) const MAX_DEAD_PROPS: usize = 64 * 1024;

/// The folder properties a collection is read with.
pub(crate) const FOLDER_TAGS: [u32; 3] = [PR_COMMENT, PR_GROXIDE_DAV_NAME, PR_GROXIDE_DAV_PROPS];

/// A dead property: namespace, name, value as XML content.
pub(crate) type DeadProp = (String, String, String);

/// Dead properties from their folder property.
pub(crate) fn decode_dead(b: &[u8]) -> Vec<DeadProp> {
    let text = String::from_utf8_lossy(b);
    let parts: Vec<&str> = text.split('\0').collect();
    parts
        .chunks_exact(3)
        .map(|c| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
        .collect()
}

/// Dead properties as their folder property.
pub(crate) fn encode_dead(props: &[DeadProp]) -> Vec<u8> {
    let mut out = String::new();
    for (ns, name, value) in props {
        for s in [ns, name, value] {
            out.push_str(s);
            out.push('\0');
        }
    }
    out.into_bytes()
}

/// A folder property's string value.
pub(crate) fn prop_str(f: &pb::Folder, tag: u32) -> Option<&str> {
    f.props
        .iter()
        .find(|p| p.tag == tag)
        .and_then(|p| match &p.value {
            Some(pb::prop::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// A folder property's binary value.
pub(crate) fn prop_bin(f: &pb::Folder, tag: u32) -> Option<&[u8]> {
    f.props
        .iter()
        .find(|p| p.tag == tag)
        .and_then(|p| match &p.value {
            Some(pb::prop::Value::BinaryValue(b)) => Some(b.as_slice()),
            _ => None,
        })
}

/// An element's content as XML (children with their own namespace
/// declarations, or the escaped text).
pub(crate) fn inner_xml(e: &Element) -> String {
    if e.children.is_empty() {
        return escape(e.text.as_str()).into_owned();
    }
    let mut out = String::new();
    for c in &e.children {
        write_element(&mut out, c);
    }
    out
}

fn write_element(out: &mut String, e: &Element) {
    out.push('<');
    out.push_str(&e.name);
    if !e.ns.is_empty() {
        out.push_str(&format!(" xmlns=\"{}\"", escape(e.ns.as_str())));
    }
    for (k, v) in &e.attrs {
        out.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
    }
    out.push('>');
    out.push_str(&inner_xml(e));
    out.push_str(&format!("</{}>", e.name));
}

/// Properties a client cannot write (the server computes them).
fn protected(n: &PropName) -> bool {
    matches!(
        (n.ns.as_str(), n.name.as_str()),
        (
            NS_DAV,
            "resourcetype"
                | "getetag"
                | "getcontenttype"
                | "getcontentlength"
                | "sync-token"
                | "supported-report-set"
                | "current-user-principal"
                | "current-user-privilege-set"
                | "owner"
                | "principal-URL"
        ) | (
            NS_CALDAV,
            "supported-calendar-component-set"
                | "supported-calendar-data"
                | "calendar-home-set"
                | "max-resource-size"
        ) | (
            NS_CARDDAV,
            "supported-address-data" | "addressbook-home-set"
        ) | (crate::xml::NS_CS, "getctag")
    )
}

/// One property change of a PROPPATCH or a MKCALENDAR/MKCOL body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Set(PropName, String, Element),
    Remove(PropName),
}

impl Change {
    fn name(&self) -> &PropName {
        match self {
            Change::Set(n, _, _) | Change::Remove(n) => n,
        }
    }
}

/// The changes of `D:set`/`D:remove` children of `root`, in order.
pub(crate) fn changes(root: &Element) -> Vec<Change> {
    let mut out = Vec::new();
    for c in &root.children {
        let set = c.is(NS_DAV, "set");
        if !set && !c.is(NS_DAV, "remove") {
            continue;
        }
        for prop in c.children_named(NS_DAV, "prop") {
            for p in &prop.children {
                let name = PropName::new(&p.ns, &p.name);
                out.push(if set {
                    Change::Set(name, inner_xml(p), p.clone())
                } else {
                    Change::Remove(name)
                });
            }
        }
    }
    out
}

/// What a set of changes does to a folder: its new name, description,
/// dead properties; or the properties refused (403) with why.
struct Plan {
    name: Option<String>,
    description: Option<Option<String>>,
    dead: Vec<DeadProp>,
    dead_changed: bool,
    refused: Vec<PropName>,
    why: String,
}

fn plan(changes: &[Change], mut dead: Vec<DeadProp>, creating: bool) -> Plan {
    let mut p = Plan {
        name: None,
        description: None,
        dead: Vec::new(),
        dead_changed: false,
        refused: Vec::new(),
        why: String::new(),
    };
    for ch in changes {
        let n = ch.name();
        let description =
            n.is(NS_CALDAV, "calendar-description") || n.is(NS_CARDDAV, "addressbook-description");
        match ch {
            // The creation body's resourcetype and component set are read
            // by the caller.
            Change::Set(..)
                if creating
                    && (n.is(NS_DAV, "resourcetype")
                        || n.is(NS_CALDAV, "supported-calendar-component-set")) => {}
            _ if protected(n) => {
                p.refused.push(n.clone());
                p.why = format!("{{{}}}{} is computed by the server", n.ns, n.name);
            }
            Change::Set(_, _, e) if n.is(NS_DAV, "displayname") => {
                let t = e.text.trim();
                if t.is_empty() {
                    p.refused.push(n.clone());
                    p.why = "a collection's name cannot be empty".into();
                } else {
                    p.name = Some(t.to_string());
                }
            }
            Change::Remove(_) if n.is(NS_DAV, "displayname") => {
                p.refused.push(n.clone());
                p.why = "a collection keeps a name; set another one".into();
            }
            Change::Set(_, _, e) if description => p.description = Some(Some(e.text.clone())),
            Change::Remove(_) if description => p.description = Some(None),
            Change::Set(_, v, _) => {
                dead.retain(|(ns, name, _)| !n.is(ns, name));
                dead.push((n.ns.clone(), n.name.clone(), v.clone()));
                p.dead_changed = true;
            }
            Change::Remove(_) => {
                dead.retain(|(ns, name, _)| !n.is(ns, name));
                p.dead_changed = true;
            }
        }
    }
    if p.dead_changed && encode_dead(&dead).len() > MAX_DEAD_PROPS {
        p.refused = changes.iter().map(|c| c.name().clone()).collect();
        p.why = format!("a collection keeps at most {MAX_DEAD_PROPS} bytes of properties");
    }
    p.dead = dead;
    p
}

fn str_prop(tag: u32, v: &str) -> pb::Prop {
    pb::Prop {
        tag,
        value: Some(pb::prop::Value::StringValue(v.to_string())),
    }
}

/// Writes a plan's properties to folder `id` (the name too unless `name`
/// is false: a new folder got it at creation).
async fn apply(ctx: &Ctx<'_>, id: u64, p: &Plan, segment: Option<&str>) -> Result<(), Answer> {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    if let Some(name) = &p.name
        && segment.is_none()
    {
        set.push(str_prop(0x3001_001F, name));
    }
    match &p.description {
        Some(Some(d)) => set.push(str_prop(PR_COMMENT, d)),
        Some(None) => remove.push(PR_COMMENT),
        None => {}
    }
    if p.dead_changed {
        set.push(pb::Prop {
            tag: PR_GROXIDE_DAV_PROPS,
            value: Some(pb::prop::Value::BinaryValue(encode_dead(&p.dead))),
        });
    }
    if let Some(s) = segment {
        set.push(str_prop(PR_GROXIDE_DAV_NAME, s));
    }
    if set.is_empty() && remove.is_empty() {
        return Ok(());
    }
    ctx.exmdb()
        .set_folder_props(pb::SetFolderPropsRequest {
            dir: ctx.dir.clone(),
            folder: Some(pb::FolderSelector {
                folder: Some(pb::folder_selector::Folder::Id(id)),
            }),
            set,
            remove,
        })
        .await
        .map(|_| ())
        .map_err(|e| match e.reason() {
            Some(Reason::FolderExists) => Answer::text(
                StatusCode::CONFLICT,
                "another folder beside this one has that name",
            ),
            _ => store_error(&e),
        })
}

/// PROPPATCH (RFC 4918 §9.2): all changes or none; a collection's
/// properties are writable, other resources' are refused with 403.
pub(crate) async fn proppatch(ctx: &mut Ctx<'_>, target: &Target, request: Request) -> Answer {
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Answer::text(e.status(), e.to_string()),
    };
    let root = match xml::parse(&body) {
        Ok(r) => r,
        Err(e) => return bad_xml(&e),
    };
    if !root.is(NS_DAV, "propertyupdate") {
        return Answer::text(
            StatusCode::BAD_REQUEST,
            format!(
                "expected DAV:propertyupdate, not {{{}}}{}",
                root.ns, root.name
            ),
        );
    }
    let changes = changes(&root);
    let names: Vec<PropName> = changes.iter().map(|c| c.name().clone()).collect();
    let user = ctx.user.clone();
    let mut m = Multistatus::new();
    let (kind, seg) = match target {
        Target::Collection(k, _, seg) => (*k, seg),
        Target::Root => return refuse_all(m, &root_href(), &names),
        Target::Principal(_) => return refuse_all(m, &principal_href(&user), &names),
        Target::Home(k, _) => return refuse_all(m, &home_href(*k, &user), &names),
        Target::Item(k, _, seg, name) => {
            return refuse_all(m, &item_href(*k, &user, seg, name), &names);
        }
    };
    let c = match ctx.collection(kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    let href = collection_href(kind, &user, &c.segment);
    let p = plan(&changes, c.dead.clone(), false);
    if !p.refused.is_empty() {
        m.refused(&href, &p.refused, "403 Forbidden");
        let rest: Vec<PropName> = names
            .iter()
            .filter(|n| !p.refused.contains(n))
            .cloned()
            .collect();
        if !rest.is_empty() {
            m.refused(&href, &rest, "424 Failed Dependency");
        }
        tracing::debug!(why = %p.why, "PROPPATCH refused");
        return Answer::multistatus(m.finish());
    }
    if let Err(a) = apply(ctx, c.folder.id, &p, None).await {
        return a;
    }
    m.refused(&href, &names, "200 OK");
    Answer::multistatus(m.finish())
}

/// Every property refused: only collections' properties are writable.
fn refuse_all(mut m: Multistatus, href: &str, names: &[PropName]) -> Answer {
    m.refused(href, names, "403 Forbidden");
    Answer::multistatus(m.finish())
}

/// MKCALENDAR and MKCOL: a new calendar or address book named by the last
/// path segment.
pub(crate) async fn mkcol(
    ctx: &mut Ctx<'_>,
    target: &Target,
    request: Request,
    mkcalendar: bool,
) -> Answer {
    let Target::Collection(kind, _, seg) = target else {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "collections are made in a calendar or address book home: /dav/calendars/<user>/<name>/",
        );
    };
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Answer::text(e.status(), e.to_string()),
    };
    let root = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match xml::parse(&body) {
            Ok(r) => Some(r),
            Err(e) => return bad_xml(&e),
        }
    };
    let expected = if mkcalendar {
        (NS_CALDAV, "mkcalendar")
    } else {
        (NS_DAV, "mkcol")
    };
    if let Some(r) = &root
        && !r.is(expected.0, expected.1)
    {
        return Answer::text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected {{{}}}{}, not {{{}}}{}",
                expected.0, expected.1, r.ns, r.name
            ),
        );
    }
    let changes = root.as_ref().map(changes).unwrap_or_default();
    let find = |ns: &str, name: &str| {
        changes.iter().find_map(|c| match c {
            Change::Set(n, _, e) if n.is(ns, name) => Some(e.clone()),
            _ => None,
        })
    };
    // What the new collection holds.
    let resourcetype = find(NS_DAV, "resourcetype");
    let class = match kind {
        Kind::Calendar => {
            if !mkcalendar
                && resourcetype
                    .as_ref()
                    .is_none_or(|r| r.child(NS_CALDAV, "calendar").is_none())
            {
                return Answer::condition(
                    StatusCode::FORBIDDEN,
                    NS_DAV,
                    "valid-resourcetype",
                    "a collection in the calendar home is a calendar: MKCALENDAR, or MKCOL with resourcetype C:calendar",
                );
            }
            let comps: Vec<String> = find(NS_CALDAV, "supported-calendar-component-set")
                .map(|s| {
                    s.children_named(NS_CALDAV, "comp")
                        .filter_map(|c| c.attr("name"))
                        .map(str::to_ascii_uppercase)
                        .collect()
                })
                .unwrap_or_default();
            match comps.as_slice() {
                [] => "IPF.Appointment",
                [c] if c == "VEVENT" => "IPF.Appointment",
                [c] if c == "VTODO" => "IPF.Task",
                _ => {
                    return Answer::condition(
                        StatusCode::FORBIDDEN,
                        NS_CALDAV,
                        "supported-calendar-component",
                        "a calendar here holds either VEVENT or VTODO",
                    );
                }
            }
        }
        Kind::AddressBook => {
            if mkcalendar
                || resourcetype
                    .as_ref()
                    .is_some_and(|r| r.child(NS_CARDDAV, "addressbook").is_none())
            {
                return Answer::condition(
                    StatusCode::FORBIDDEN,
                    NS_DAV,
                    "valid-resourcetype",
                    "a collection in the address book home is an address book",
                );
            }
            "IPF.Contact"
        }
    };
    if seg.len() > 200 || seg.bytes().all(|b| b.is_ascii_digit()) {
        return Answer::text(
            StatusCode::FORBIDDEN,
            format!("{seg:?} cannot name a new collection (numeric or too long)"),
        );
    }
    match ctx.collection(*kind, seg).await {
        Ok(_) => {
            return Answer::text(StatusCode::METHOD_NOT_ALLOWED, format!("{seg} exists"))
                .header(http::header::ALLOW, crate::ALLOWED);
        }
        Err(a) if a.status == StatusCode::NOT_FOUND => {}
        Err(a) => return a,
    }
    let p = plan(&changes, Vec::new(), true);
    if !p.refused.is_empty() {
        return Answer::text(StatusCode::FORBIDDEN, p.why);
    }
    // Beside the standard folder of its kind.
    let parent = match ctx.standard_parent(*kind).await {
        Ok(p) => p,
        Err(a) => return a,
    };
    let base = p.name.clone().unwrap_or_else(|| seg.clone());
    let mut created = None;
    for name in [base.clone(), format!("{base} ({seg})")] {
        match ctx
            .exmdb()
            .create_folder(pb::CreateFolderRequest {
                dir: ctx.dir.clone(),
                parent: Some(pb::FolderSelector {
                    folder: Some(pb::folder_selector::Folder::Id(parent)),
                }),
                name,
                container_class: class.into(),
            })
            .await
        {
            Ok(f) => {
                created = Some(f);
                break;
            }
            Err(e) if e.reason() == Some(Reason::FolderExists) => continue,
            Err(e) => return store_error(&e),
        }
    }
    let Some(folder) = created else {
        return Answer::text(
            StatusCode::CONFLICT,
            format!("folders named {base:?} exist already"),
        );
    };
    if let Err(a) = apply(ctx, folder.id, &p, Some(seg)).await {
        // Nothing half made: the folder goes again.
        let _ = ctx
            .exmdb()
            .delete_folder(pb::DeleteFolderRequest {
                dir: ctx.dir.clone(),
                folder: Some(pb::FolderSelector {
                    folder: Some(pb::folder_selector::Folder::Id(folder.id)),
                }),
                hard: true,
            })
            .await;
        return a;
    }
    Answer::new(StatusCode::CREATED).header(
        http::header::LOCATION,
        &collection_href(*kind, &ctx.user, seg),
    )
}

/// DELETE of a collection: a folder a client made; the standard ones stay.
pub(crate) async fn delete(ctx: &mut Ctx<'_>, kind: Kind, seg: &str) -> Answer {
    let c = match ctx.collection(kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    if !c.folder.role.is_empty() {
        return Answer::text(
            StatusCode::FORBIDDEN,
            format!(
                "the standard {} collection cannot be deleted",
                c.folder.role
            ),
        );
    }
    match ctx
        .exmdb()
        .delete_folder(pb::DeleteFolderRequest {
            dir: ctx.dir.clone(),
            folder: Some(c.selector()),
            hard: false,
        })
        .await
    {
        Ok(_) => Answer::new(StatusCode::NO_CONTENT),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_properties_survive_their_encoding() {
        let props = vec![
            (
                "http://apple.com/ns/ical/".to_string(),
                "calendar-color".to_string(),
                "#FF0000FF".to_string(),
            ),
            (
                NS_CALDAV.to_string(),
                "calendar-timezone".to_string(),
                "BEGIN:VCALENDAR&#13;\nEND:VCALENDAR".to_string(),
            ),
        ];
        assert_eq!(decode_dead(&encode_dead(&props)), props);
        assert!(decode_dead(b"").is_empty());
    }

    #[test]
    fn a_proppatch_plans_names_descriptions_and_dead_properties() {
        let body = br##"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><a:calendar-color>#FF0000</a:calendar-color><d:displayname>Work</d:displayname><c:calendar-description>Office</c:calendar-description></d:prop></d:set><d:remove><d:prop><a:calendar-order/></d:prop></d:remove></d:propertyupdate>"##;
        let root = xml::parse(body).unwrap();
        let ch = changes(&root);
        assert_eq!(ch.len(), 4);
        let old = vec![(
            "http://apple.com/ns/ical/".to_string(),
            "calendar-order".to_string(),
            "3".to_string(),
        )];
        let p = plan(&ch, old, false);
        assert!(p.refused.is_empty());
        assert_eq!(p.name.as_deref(), Some("Work"));
        assert_eq!(p.description, Some(Some("Office".into())));
        assert_eq!(
            p.dead,
            vec![(
                "http://apple.com/ns/ical/".to_string(),
                "calendar-color".to_string(),
                "#FF0000".to_string()
            )]
        );
        let bad = xml::parse(br#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:getetag>x</d:getetag></d:prop></d:set></d:propertyupdate>"#).unwrap();
        let p = plan(&changes(&bad), Vec::new(), false);
        assert_eq!(p.refused, vec![PropName::new(NS_DAV, "getetag")]);
        // XML values keep their structure.
        let x = xml::parse(br#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:v xmlns:x="urn:x"><x:a k="1">t&amp;</x:a></x:v></d:prop></d:set></d:propertyupdate>"#).unwrap();
        let p = plan(&changes(&x), Vec::new(), false);
        assert_eq!(p.dead[0].2, r#"<a xmlns="urn:x" k="1">t&amp;</a>"#);
    }
}
