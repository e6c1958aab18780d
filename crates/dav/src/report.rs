//! REPORT: calendar-multiget, addressbook-multiget, calendar-query with a
//! time-range (recurrences expanded from the store, bounded) and
//! sync-collection (RFC 6578).

use crate::filter::{PropFilter, parse_prop_filters, passes, properties};
use crate::items::render;
use crate::path::{Target, item_href, parse_href};
use crate::propfind::{PropRequest, Res, bad_xml, prop_names, respond};
use crate::store::{CollKind, Collection, Ctx, store_error};
use crate::xml::{Element, Multistatus, NS_CALDAV, NS_CARDDAV, NS_DAV, PropName, Value};
use crate::{Answer, xml};
use axum::extract::Request;
use chrono::NaiveDateTime;
use groxide_http_core::body::read_body;
use groxide_rpc::items::{ItemInfo, ReadItem};
use http::StatusCode;

/// Most hrefs in one multiget.
pub const MAX_HREFS: usize = 1_000;

/// A parsed REPORT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Report {
    Multiget {
        props: PropRequest,
        hrefs: Vec<String>,
    },
    Query {
        props: PropRequest,
        /// The component asked for (VEVENT, VTODO) and its time range.
        component: Option<String>,
        range: Option<(i64, i64)>,
        /// Property filters on the component (all must pass).
        filters: Vec<PropFilter>,
    },
    CardQuery {
        props: PropRequest,
        filters: Vec<PropFilter>,
        /// `test="anyof"` (the default) or `allof`.
        any: bool,
        limit: Option<usize>,
    },
    Sync {
        props: PropRequest,
        token: String,
        limit: Option<usize>,
    },
    /// free-busy-query (RFC 4791 §7.10): busy times in `[start, end)`.
    FreeBusy { start: i64, end: i64 },
}

fn props_of(root: &Element) -> PropRequest {
    match root.child(NS_DAV, "prop") {
        Some(p) => PropRequest::Props(prop_names(p)),
        None => PropRequest::All,
    }
}

/// An iCalendar UTC date-time (`20240101T000000Z`) as Unix seconds.
pub(crate) fn utc_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix('Z')?;
    NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

fn find_time_range(e: &Element) -> Option<&Element> {
    if e.is(NS_CALDAV, "time-range") {
        return Some(e);
    }
    e.children.iter().find_map(find_time_range)
}

/// Whether a REPORT's `address-data` asks for vCard 4.0.
pub(crate) fn wants_vcard4(body: &[u8]) -> bool {
    fn find(e: &Element) -> bool {
        (e.is(NS_CARDDAV, "address-data") && e.attr("version") == Some("4.0"))
            || e.children.iter().any(find)
    }
    xml::parse(body).is_ok_and(|root| find(&root))
}

pub(crate) fn parse_report(body: &[u8]) -> Result<Report, Answer> {
    let root = xml::parse(body).map_err(|e| bad_xml(&e))?;
    let props = props_of(&root);
    let bad = |t: String| Answer::text(StatusCode::BAD_REQUEST, t);
    match (root.ns.as_str(), root.name.as_str()) {
        (NS_CALDAV, "calendar-multiget") | (NS_CARDDAV, "addressbook-multiget") => {
            let hrefs: Vec<String> = root
                .children_named(NS_DAV, "href")
                .map(|h| h.text.trim().to_string())
                .collect();
            if hrefs.len() > MAX_HREFS {
                return Err(bad(format!("more than {MAX_HREFS} hrefs in one multiget")));
            }
            Ok(Report::Multiget { props, hrefs })
        }
        (NS_CALDAV, "calendar-query") => {
            let filter = root
                .child(NS_CALDAV, "filter")
                .ok_or_else(|| bad("calendar-query without a filter".into()))?;
            let unsupported = |t: String| {
                Answer::condition(StatusCode::FORBIDDEN, NS_CALDAV, "supported-filter", &t)
            };
            let comp = filter
                .child(NS_CALDAV, "comp-filter")
                .and_then(|cal| cal.child(NS_CALDAV, "comp-filter"));
            let component = comp
                .and_then(|c| c.attr("name"))
                .map(str::to_ascii_uppercase);
            if comp.is_some_and(|c| c.child(NS_CALDAV, "comp-filter").is_some()) {
                return Err(unsupported(
                    "comp-filters below VEVENT/VTODO (VALARM) are not supported".into(),
                ));
            }
            let filters = match comp {
                Some(c) => parse_prop_filters(c, NS_CALDAV).map_err(unsupported)?,
                None => Vec::new(),
            };
            let range = match find_time_range(filter) {
                None => None,
                Some(tr) => {
                    let start = match tr.attr("start") {
                        Some(s) => utc_time(s).ok_or_else(|| {
                            bad(format!("time-range start {s:?} is not a UTC date-time"))
                        })?,
                        None => i64::MIN / 2,
                    };
                    let end = match tr.attr("end") {
                        Some(s) => utc_time(s).ok_or_else(|| {
                            bad(format!("time-range end {s:?} is not a UTC date-time"))
                        })?,
                        None => i64::MAX / 2,
                    };
                    if end <= start {
                        return Err(bad("time-range end is not after its start".into()));
                    }
                    Some((start, end))
                }
            };
            Ok(Report::Query {
                props,
                component,
                range,
                filters,
            })
        }
        (NS_CARDDAV, "addressbook-query") => {
            let filter = root.child(NS_CARDDAV, "filter");
            let filters = match filter {
                Some(f) => parse_prop_filters(f, NS_CARDDAV).map_err(|t| {
                    Answer::condition(StatusCode::FORBIDDEN, NS_CARDDAV, "supported-filter", &t)
                })?,
                None => Vec::new(),
            };
            let limit = root
                .child(NS_CARDDAV, "limit")
                .and_then(|l| l.child(NS_CARDDAV, "nresults"))
                .and_then(|n| n.text.trim().parse().ok());
            Ok(Report::CardQuery {
                props,
                filters,
                any: filter.and_then(|f| f.attr("test")) != Some("allof"),
                limit,
            })
        }
        (NS_DAV, "sync-collection") => {
            let token = root
                .child(NS_DAV, "sync-token")
                .map(|t| t.text.trim().to_string())
                .unwrap_or_default();
            let limit = root
                .child(NS_DAV, "limit")
                .and_then(|l| l.child(NS_DAV, "nresults"))
                .and_then(|n| n.text.trim().parse().ok());
            Ok(Report::Sync {
                props,
                token,
                limit,
            })
        }
        (NS_CALDAV, "free-busy-query") => {
            let tr = root
                .child(NS_CALDAV, "time-range")
                .ok_or_else(|| bad("free-busy-query without a time-range".into()))?;
            let time = |k: &str| -> Result<i64, Answer> {
                let s = tr
                    .attr(k)
                    .ok_or_else(|| bad(format!("free-busy-query time-range without {k}")))?;
                utc_time(s)
                    .ok_or_else(|| bad(format!("time-range {k} {s:?} is not a UTC date-time")))
            };
            let (start, end) = (time("start")?, time("end")?);
            if end <= start {
                return Err(bad("time-range end is not after its start".into()));
            }
            Ok(Report::FreeBusy { start, end })
        }
        (ns, name) => Err(Answer::condition(
            StatusCode::FORBIDDEN,
            NS_DAV,
            "supported-report",
            &format!("report {{{ns}}}{name} is not supported here"),
        )),
    }
}

fn wants_data(props: &PropRequest) -> Option<PropName> {
    match props {
        PropRequest::Props(names) => names
            .iter()
            .find(|n| n.is(NS_CALDAV, "calendar-data") || n.is(NS_CARDDAV, "address-data"))
            .cloned(),
        _ => None,
    }
}

/// Items asked of the store in one batched read.
const READ_BATCH: usize = 256;

/// An item read for a report: its source object as stored when that still
/// is the item, else the item; `None` when it vanished meanwhile.
type Loaded = Option<ReadItem>;

/// Reads `infos` in order with batched store reads; `with_items`: their
/// properties too (to filter on them).
pub(crate) async fn fetch_all(
    ctx: &Ctx<'_>,
    c: &Collection,
    infos: &[&ItemInfo],
    with_items: bool,
) -> Result<Vec<Loaded>, Answer> {
    if let Some(g) = &c.gal {
        return Ok(infos
            .iter()
            .map(|i| {
                g.card(i.message_id)
                    .map(|card| ReadItem::Source((*i).clone(), card.as_bytes().to_vec()))
            })
            .collect());
    }
    let mut out = Vec::with_capacity(infos.len());
    for chunk in infos.chunks(READ_BATCH) {
        let ids: Vec<u64> = chunk.iter().map(|i| i.message_id).collect();
        let read = ctx
            .exmdb()
            .get_items(&ctx.dir, &ids, with_items)
            .await
            .map_err(|e| store_error(&e))?;
        out.extend(read.into_iter().map(|r| match r {
            ReadItem::Missing(_) => None,
            r => Some(r),
        }));
    }
    Ok(out)
}

/// The entry of a read item.
fn info_of(r: &ReadItem) -> Option<&ItemInfo> {
    match r {
        ReadItem::Missing(_) => None,
        ReadItem::Source(i, _) | ReadItem::Item(i, _, _) => Some(i),
    }
}

/// The body of a read item in the collection's format: its source object
/// as stored while that still is the item (in the vCard version asked
/// for), else written afresh from its properties.
pub(crate) fn body_of(ctx: &Ctx<'_>, c: &Collection, r: &ReadItem) -> Result<String, Answer> {
    let source = match r {
        ReadItem::Missing(_) => return Err(Answer::text(StatusCode::NOT_FOUND, "no such item")),
        ReadItem::Source(_, s) => Some(s.as_slice()),
        ReadItem::Item(_, item, true) => item.original.as_deref(),
        ReadItem::Item(_, _, false) => None,
    };
    if let Some(s) = source
        && (c.kind != CollKind::Contacts || vcard_is_v4(s) == ctx.vcard4)
        && let Ok(text) = std::str::from_utf8(s)
    {
        return Ok(text.to_string());
    }
    match r {
        ReadItem::Item(_, item, _) => render(ctx, c, item, ctx.vcard4),
        ReadItem::Source(_, s) => {
            // A vCard asked for in the other version: converted through
            // the item it holds.
            let item = crate::items::parse_body(c.kind, s, ctx.zone, &ctx.user)?;
            render(ctx, c, &item, ctx.vcard4)
        }
        ReadItem::Missing(_) => Err(Answer::text(StatusCode::NOT_FOUND, "no such item")),
    }
}

/// Whether a vCard is version 4.0.
fn vcard_is_v4(card: &[u8]) -> bool {
    card.windows(11)
        .take(4096)
        .any(|w| w.eq_ignore_ascii_case(b"VERSION:4.0"))
}

/// What a report asks of each item: its properties besides the body
/// (`rest`), and the body's property name when it asks for the body.
pub(crate) struct Asked {
    data: Option<PropName>,
    rest: PropRequest,
}

impl Asked {
    pub(crate) fn of(props: &PropRequest) -> Asked {
        let data = wants_data(props);
        let rest = match props {
            PropRequest::Props(names) => PropRequest::Props(
                names
                    .iter()
                    .filter(|n| Some(*n) != data.as_ref())
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        };
        Asked { data, rest }
    }
}

/// Writes one item's response: its properties and, when asked, its body
/// (from `loaded`, read beforehand).
fn item_response(
    ctx: &Ctx<'_>,
    m: &mut Multistatus,
    c: &Collection,
    info: &ItemInfo,
    loaded: Option<&ReadItem>,
    asked: &Asked,
) -> Result<(), Answer> {
    let href = item_href(c.kind.kind(), &ctx.user, &c.segment, &ctx.name_of(c, info));
    let info = loaded.and_then(info_of).unwrap_or(info);
    let mut r = respond(ctx, &Res::Item(c, info), &asked.rest);
    if let Some(name) = &asked.data {
        let Some(l) = loaded else {
            m.status(&href, "404 Not Found");
            return Ok(());
        };
        r.found.push((
            std::borrow::Cow::Borrowed(name),
            Value::Text(body_of(ctx, c, l)?),
        ));
    }
    m.props(&href, &r);
    Ok(())
}

pub(crate) async fn report(ctx: &mut Ctx<'_>, target: &Target, request: Request) -> Answer {
    let body = match read_body(request.into_body()).await {
        Ok(b) => b,
        Err(e) => return Answer::text(e.status(), e.to_string()),
    };
    ctx.vcard4 = wants_vcard4(&body);
    let report = match parse_report(&body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let (kind, seg) = match target {
        Target::Collection(k, _, s) => (*k, s.clone()),
        Target::Item(k, _, s, _) if matches!(report, Report::Multiget { .. }) => (*k, s.clone()),
        _ => {
            return Answer::text(
                StatusCode::FORBIDDEN,
                "reports apply to calendar and address book collections",
            );
        }
    };
    let c = match ctx.collection(kind, &seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    if let Report::FreeBusy { start, end } = report {
        return free_busy(ctx, &c, start, end).await;
    }
    let mut m = Multistatus::new();
    let result = match report {
        Report::FreeBusy { .. } => Ok(()),
        Report::Multiget { props, hrefs } => multiget(ctx, &mut m, &c, &props, &hrefs).await,
        Report::Query {
            props,
            component,
            range,
            filters,
        } => {
            query(
                ctx,
                &mut m,
                &c,
                &props,
                component.as_deref(),
                range,
                &filters,
            )
            .await
        }
        Report::CardQuery {
            props,
            filters,
            any,
            limit,
        } => card_query(ctx, &mut m, &c, &props, &filters, any, limit).await,
        Report::Sync {
            props,
            token,
            limit,
        } => sync(ctx, &mut m, &c, &props, &token, limit).await,
    };
    match result {
        Ok(()) => Answer::multistatus(m.finish()),
        Err(a) => a,
    }
}

/// An iCalendar UTC date-time of Unix seconds.
fn ical_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// free-busy-query: the store's free/busy of the user's Calendar folder
/// (series expanded, exceptions honoured) as one VFREEBUSY (200, not a
/// multistatus). Other calendars have none: the store computes free/busy
/// from the standard Calendar folder, as Exchange does.
async fn free_busy(ctx: &Ctx<'_>, c: &Collection, start: i64, end: i64) -> Answer {
    if c.kind != CollKind::Events || c.folder.role != "calendar" {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "free/busy is computed from the standard calendar only: ask /dav/calendars/<user>/calendar/",
        );
    }
    let zone = ctx.zone.map(|z| z.name().to_string()).unwrap_or_default();
    let slots = match ctx.exmdb().free_busy(&ctx.dir, start, end, &zone).await {
        Ok(s) => s,
        Err(e) => return store_error(&e),
    };
    let mut out = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//dav//EN\r\nBEGIN:VFREEBUSY\r\n\
         DTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\n",
        ical_utc(chrono::Utc::now().timestamp()),
        ical_utc(start),
        ical_utc(end)
    );
    for s in slots {
        let fbtype = match s.status {
            1 => "BUSY-TENTATIVE",
            2 | 4 => "BUSY",
            3 => "BUSY-UNAVAILABLE",
            _ => continue,
        };
        out.push_str(&format!(
            "FREEBUSY;FBTYPE={fbtype}:{}/{}\r\n",
            ical_utc(s.start.max(start)),
            ical_utc(s.end.min(end))
        ));
    }
    out.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    Answer::new(StatusCode::OK).body(out, crate::items::ICS)
}

async fn multiget(
    ctx: &Ctx<'_>,
    m: &mut Multistatus,
    c: &Collection,
    props: &PropRequest,
    hrefs: &[String],
) -> Result<(), Answer> {
    let asked = Asked::of(props);
    // The names of this collection's hrefs ("" for any other href).
    let names: Vec<String> = hrefs
        .iter()
        .map(|h| match parse_href(h) {
            Some(Target::Item(k, u, s, name))
                if k == c.kind.kind() && s == c.segment && u.eq_ignore_ascii_case(&ctx.user) =>
            {
                name
            }
            _ => String::new(),
        })
        .collect();
    let (items, _) = ctx.resolve(c, &names, &[]).await?;
    let found: Vec<Option<&ItemInfo>> = items.iter().map(Option::as_ref).collect();
    let wanted: Vec<&ItemInfo> = found.iter().flatten().copied().collect();
    let mut loaded = if wants_data(props).is_some() {
        fetch_all(ctx, c, &wanted, false).await?.into_iter()
    } else {
        Vec::new().into_iter()
    };
    for (h, info) in hrefs.iter().zip(found) {
        match info {
            Some(info) => {
                let l = loaded.next().flatten();
                item_response(ctx, m, c, info, l.as_ref(), &asked)?;
            }
            None => m.status(h, "404 Not Found"),
        }
    }
    Ok(())
}

async fn query(
    ctx: &Ctx<'_>,
    m: &mut Multistatus,
    c: &Collection,
    props: &PropRequest,
    component: Option<&str>,
    range: Option<(i64, i64)>,
    filters: &[PropFilter],
) -> Result<(), Answer> {
    let asked = Asked::of(props);
    if c.kind == CollKind::Contacts {
        return Err(Answer::text(
            StatusCode::FORBIDDEN,
            "calendar-query applies to calendars",
        ));
    }
    if let Some(comp) = component
        && comp != c.kind.component()
    {
        // A VTODO query on an event calendar (or the reverse) finds nothing.
        return Ok(());
    }
    // The store filters by time (series expanded there, nothing sent that
    // does not match).
    let items = match range {
        Some((start, end)) => {
            let zone = ctx.zone.map(|z| z.name().to_string()).unwrap_or_default();
            ctx.exmdb()
                .list_items_in_range(&ctx.dir, c.selector(), start, end, &zone)
                .await
                .map_err(|e| store_error(&e))?
                .into_iter()
                .filter(|i| crate::store::fits(c.kind, i))
                .collect()
        }
        None => ctx.items(c).await?.0,
    };
    let all: Vec<&ItemInfo> = items.iter().collect();
    if filters.is_empty() && wants_data(props).is_none() {
        for info in all {
            item_response(ctx, m, c, info, None, &asked)?;
        }
        return Ok(());
    }
    for chunk in all.chunks(READ_BATCH) {
        let loaded = fetch_all(ctx, c, chunk, false).await?;
        for (info, l) in chunk.iter().zip(loaded) {
            let Some(l) = l else { continue };
            if !filters.is_empty() {
                let found = properties(&body_of(ctx, c, &l)?);
                if !filters.iter().all(|f| passes(&found, f)) {
                    continue;
                }
            }
            item_response(ctx, m, c, info, Some(&l), &asked)?;
        }
    }
    Ok(())
}

async fn card_query(
    ctx: &Ctx<'_>,
    m: &mut Multistatus,
    c: &Collection,
    props: &PropRequest,
    filters: &[PropFilter],
    any: bool,
    limit: Option<usize>,
) -> Result<(), Answer> {
    let asked = Asked::of(props);
    if c.kind != CollKind::Contacts {
        return Err(Answer::text(
            StatusCode::FORBIDDEN,
            "addressbook-query applies to address books",
        ));
    }
    let (items, _) = ctx.items(c).await?;
    let all: Vec<&ItemInfo> = items.iter().collect();
    let mut n = 0usize;
    for chunk in all.chunks(READ_BATCH) {
        let loaded = fetch_all(ctx, c, chunk, false).await?;
        for (info, l) in chunk.iter().zip(loaded) {
            let Some(l) = l else { continue };
            if !filters.is_empty() {
                let found = properties(&body_of(ctx, c, &l)?);
                let ok = if any {
                    filters.iter().any(|f| passes(&found, f))
                } else {
                    filters.iter().all(|f| passes(&found, f))
                };
                if !ok {
                    continue;
                }
            }
            if limit.is_some_and(|lim| n >= lim) {
                // RFC 6352 §8.6.1: a truncated result says so with a 507.
                m.status(
                    &crate::path::collection_href(c.kind.kind(), &ctx.user, &c.segment),
                    "507 Insufficient Storage",
                );
                return Ok(());
            }
            n += 1;
            item_response(ctx, m, c, info, Some(&l), &asked)?;
        }
    }
    Ok(())
}

async fn sync(
    ctx: &Ctx<'_>,
    m: &mut Multistatus,
    c: &Collection,
    props: &PropRequest,
    token: &str,
    limit: Option<usize>,
) -> Result<(), Answer> {
    let asked = Asked::of(props);
    let invalid =
        |why: &str| Answer::condition(StatusCode::FORBIDDEN, NS_DAV, "valid-sync-token", why);
    if !token.is_empty() && !token.starts_with("gx1-") && c.gal.is_none() {
        return Err(invalid(
            "this sync token was not given out by this collection",
        ));
    }
    if let Some(g) = &c.gal {
        // No change numbers in the directory: the current token has no
        // changes, any other is refused (the client syncs afresh).
        if !token.is_empty() && token != g.token {
            return Err(invalid(
                "the global address list changed; sync afresh with an empty token",
            ));
        }
        if token.is_empty() {
            let all: Vec<&ItemInfo> = g.entries.iter().map(|(i, _)| i).collect();
            let loaded = if wants_data(props).is_some() {
                fetch_all(ctx, c, &all, false).await?
            } else {
                vec![None; all.len()]
            };
            for (info, l) in all.iter().zip(loaded) {
                item_response(ctx, m, c, info, l.as_ref(), &asked)?;
            }
        }
        m.sync_token(&g.token);
        return Ok(());
    }
    let changes = match ctx
        .exmdb()
        .item_changes_since(&ctx.dir, c.selector(), token)
        .await
    {
        Ok(ch) => ch,
        Err(e) if e.status().map(|s| s.code()) == Some(tonic::Code::InvalidArgument) => {
            return Err(invalid(
                "this sync token was not given out by this collection",
            ));
        }
        Err(e) => return Err(store_error(&e)),
    };
    let changed: Vec<&ItemInfo> = changes
        .changed
        .iter()
        .filter(|i| crate::store::fits(c.kind, i))
        .collect();
    if let Some(l) = limit
        && changed.len() + changes.removed.len() > l
    {
        return Err(Answer::condition(
            StatusCode::INSUFFICIENT_STORAGE,
            NS_DAV,
            "number-of-matches-within-limits",
            &format!(
                "{} changes exceed the limit of {l}; sync without a limit",
                changed.len() + changes.removed.len()
            ),
        ));
    }
    // Removed items are named by their tombstones: the name their client
    // gave them, else their UID's.
    let removed: Vec<String> = changes
        .removed
        .iter()
        .map(|r| {
            if r.name.is_empty() {
                crate::path::item_name(c.kind.kind(), &r.item_uid, r.message_id)
            } else {
                r.name.clone()
            }
        })
        .collect();
    let loaded = if wants_data(props).is_some() {
        fetch_all(ctx, c, &changed, false).await?
    } else {
        vec![None; changed.len()]
    };
    for (info, l) in changed.iter().zip(loaded) {
        item_response(ctx, m, c, info, l.as_ref(), &asked)?;
    }
    if !token.is_empty() {
        for name in removed {
            m.status(
                &item_href(c.kind.kind(), &ctx.user, &c.segment, &name),
                "404 Not Found",
            );
        }
    }
    m.sync_token(&changes.sync_token);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_bodies_parse() {
        let q = br#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20240101T000000Z" end="20240201T000000Z"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#;
        let Report::Query {
            props,
            component,
            range,
            filters,
        } = parse_report(q).unwrap()
        else {
            panic!("not a query")
        };
        assert_eq!(component.as_deref(), Some("VEVENT"));
        assert_eq!(range, Some((1_704_067_200, 1_706_745_600)));
        assert!(filters.is_empty());
        let aq = br#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter test="allof"><C:prop-filter name="FN"><C:text-match>ann</C:text-match></C:prop-filter></C:filter><C:limit><C:nresults>5</C:nresults></C:limit></C:addressbook-query>"#;
        let Report::CardQuery {
            filters,
            any,
            limit,
            ..
        } = parse_report(aq).unwrap()
        else {
            panic!("not an addressbook-query")
        };
        assert_eq!((filters.len(), any, limit), (1, false, Some(5)));
        let alarm = br#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
        let refused = parse_report(alarm).err().unwrap();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("supported-filter"));
        assert_eq!(
            wants_data(&props),
            Some(PropName::new(NS_CALDAV, "calendar-data"))
        );
        let mg = br#"<addressbook-multiget xmlns="urn:ietf:params:xml:ns:carddav" xmlns:D="DAV:">
  <D:prop><D:getetag/><address-data/></D:prop>
  <D:href>/dav/addressbooks/u/contacts/a.vcf</D:href><D:href>/dav/addressbooks/u/contacts/b.vcf</D:href>
</addressbook-multiget>"#;
        assert_eq!(
            parse_report(mg).unwrap(),
            Report::Multiget {
                props: PropRequest::Props(vec![
                    PropName::new(NS_DAV, "getetag"),
                    PropName::new(NS_CARDDAV, "address-data")
                ]),
                hrefs: vec![
                    "/dav/addressbooks/u/contacts/a.vcf".into(),
                    "/dav/addressbooks/u/contacts/b.vcf".into()
                ],
            }
        );
        let s = br#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>gx1-abc</D:sync-token>
  <D:sync-level>1</D:sync-level><D:limit><D:nresults>10</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>"#;
        assert_eq!(
            parse_report(s).unwrap(),
            Report::Sync {
                props: PropRequest::Props(vec![PropName::new(NS_DAV, "getetag")]),
                token: "gx1-abc".into(),
                limit: Some(10),
            }
        );
        assert!(!wants_vcard4(mg));
        assert!(wants_vcard4(
            br#"<C:addressbook-multiget xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:D="DAV:"><D:prop><C:address-data content-type="text/vcard" version="4.0"/></D:prop></C:addressbook-multiget>"#
        ));
        let unknown = parse_report(br#"<x:expand-property xmlns:x="DAV:"/>"#)
            .err()
            .unwrap();
        assert_eq!(unknown.status, StatusCode::FORBIDDEN);
        assert!(unknown.body.contains("supported-report"));
        let bad_range = br#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="2024-01-01"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
        let e = parse_report(bad_range).err().unwrap();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.body.contains("2024-01-01"), "{}", e.body);
    }
}
