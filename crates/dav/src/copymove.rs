//! COPY and MOVE of items (RFC 4918 §9.8, §9.9) between collections of
//! one user, with `Destination` and `Overwrite`.
//!
//! A copy is what a GET of the source and a PUT at the destination would
//! make: the source's body (its source object while current, else written
//! afresh) stored as a new item under the destination name. A move is that
//! copy, then the removal of the source, so both collections' sync tokens
//! tell their clients (a removal leaves a tombstone naming the old href).
//! Should the server stop between the two steps, the item is in both
//! collections, never in neither. A move inside one collection (a rename)
//! is refused: the store keeps one name per item, and a renamed item would
//! not tell sync clients that its old href went.

use crate::items::{MAX_NAME_LEN, parse_body};
use crate::path::{Target, item_href, parse_href};
use crate::report::body_of;
use crate::store::{Ctx, store_error};
use crate::xml::{NS_CALDAV, NS_CARDDAV, NS_DAV};
use crate::{Answer, path::Kind};
use axum::extract::Request;
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use http::StatusCode;
use http::header::LOCATION;

/// What the `Overwrite` header allows (RFC 4918 §10.6: `T` by default).
fn overwrite(request: &Request) -> Result<bool, Answer> {
    match request
        .headers()
        .get("Overwrite")
        .map(|v| v.as_bytes().trim_ascii())
    {
        None | Some(b"T" | b"t") => Ok(true),
        Some(b"F" | b"f") => Ok(false),
        Some(_) => Err(Answer::text(
            StatusCode::BAD_REQUEST,
            "Overwrite must be T or F",
        )),
    }
}

/// The item the `Destination` header names.
fn destination(ctx: &Ctx<'_>, request: &Request) -> Result<(Kind, String, String), Answer> {
    let Some(d) = request
        .headers()
        .get("Destination")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Answer::text(
            StatusCode::BAD_REQUEST,
            "COPY and MOVE need a Destination header",
        ));
    };
    match parse_href(d) {
        Some(Target::Item(kind, user, seg, name)) => {
            if !user.eq_ignore_ascii_case(&ctx.user) {
                return Err(Answer::condition(
                    StatusCode::FORBIDDEN,
                    NS_DAV,
                    "need-privileges",
                    "another user's collections are not shared with you",
                ));
            }
            if name.len() > MAX_NAME_LEN {
                return Err(Answer::text(
                    StatusCode::FORBIDDEN,
                    format!("resource names are at most {MAX_NAME_LEN} bytes"),
                ));
            }
            Ok((kind, seg, name))
        }
        Some(_) => Err(Answer::text(
            StatusCode::FORBIDDEN,
            "the destination must be an item in a calendar or address book",
        )),
        // RFC 4918 §9.8.5: a destination on another server.
        None => Err(Answer::text(
            StatusCode::BAD_GATEWAY,
            format!("{d} is not a resource of this server"),
        )),
    }
}

/// COPY (`moving` false) or MOVE of the item at `target`.
pub(crate) async fn copy_or_move(
    ctx: &mut Ctx<'_>,
    target: &Target,
    request: Request,
    moving: bool,
) -> Answer {
    let Target::Item(kind, _, seg, name) = target else {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "only calendar objects and vCards can be copied or moved",
        );
    };
    let overwrite = match overwrite(&request) {
        Ok(o) => o,
        Err(a) => return a,
    };
    let (dkind, dseg, dname) = match destination(ctx, &request) {
        Ok(d) => d,
        Err(a) => return a,
    };
    if dkind != *kind {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "calendar objects go to calendars and vCards to address books",
        );
    }
    if dseg == *seg && dname == *name {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "the source and the destination are the same resource",
        );
    }
    if moving && dseg == *seg {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "renaming an item inside its collection is not supported; PUT it under the new name and DELETE the old one",
        );
    }
    let src = match ctx.collection(*kind, seg).await {
        Ok(c) => c,
        Err(a) => return a,
    };
    let info = match ctx.find_item(&src, name).await {
        Ok(Some(i)) => i,
        Ok(None) => return Answer::text(StatusCode::NOT_FOUND, format!("no item {name}")),
        Err(a) => return a,
    };
    // RFC 4918 §9.8.5: a missing destination collection is a conflict.
    let dst = match ctx.collection(dkind, &dseg).await {
        Ok(c) => c,
        Err(a) if a.status == StatusCode::NOT_FOUND => {
            return Answer::text(
                StatusCode::CONFLICT,
                format!("no collection {dseg} to copy into"),
            );
        }
        Err(a) => return a,
    };
    if dst.kind != src.kind {
        let (ns, cond) = if dst.kind.kind() == Kind::AddressBook {
            (NS_CARDDAV, "supported-address-data")
        } else {
            (NS_CALDAV, "supported-calendar-component")
        };
        return Answer::condition(
            StatusCode::FORBIDDEN,
            ns,
            cond,
            &format!("{dseg} holds {} only", dst.kind.component()),
        );
    }
    // The source's body, as a GET would give it, becomes the new item.
    let read = match crate::report::fetch_all(ctx, &src, &[&info], false).await {
        Ok(mut r) => match r.pop().flatten() {
            Some(r) => r,
            None => return Answer::text(StatusCode::NOT_FOUND, format!("no item {name}")),
        },
        Err(a) => return a,
    };
    let body = match body_of(ctx, &src, &read) {
        Ok(b) => b,
        Err(a) => return a,
    };
    let item = match parse_body(dst.kind, body.as_bytes(), ctx.zone, &ctx.user) {
        Ok(i) => i,
        Err(a) => return a,
    };
    let uid = item_uid(&item);
    let (mut named, holders) = match ctx
        .resolve(
            &dst,
            std::slice::from_ref(&dname),
            std::slice::from_ref(&uid),
        )
        .await
    {
        Ok(x) => x,
        Err(a) => return a,
    };
    let existing = named.pop().flatten();
    if existing.is_some() && !overwrite {
        return Answer::text(
            StatusCode::PRECONDITION_FAILED,
            format!("{dname} exists and Overwrite is F"),
        );
    }
    let existing_id = existing.as_ref().map(|e| e.message_id);
    if let Some(h) = holders.iter().find(|h| Some(h.message_id) != existing_id) {
        let ns = if *kind == Kind::Calendar {
            NS_CALDAV
        } else {
            NS_CARDDAV
        };
        return Answer::condition_href(
            StatusCode::CONFLICT,
            ns,
            "no-uid-conflict",
            &item_href(dkind, &ctx.user, &dst.segment, &ctx.name_of(&dst, h)),
            &format!("another resource of {dseg} holds UID {uid}"),
        );
    }
    // An overwritten destination of the same UID is replaced in place (its
    // clients see a change); one of another UID is removed first.
    let put_target = match &existing {
        Some(e) if e.item_uid == uid || e.item_uid.is_empty() => PutTarget::Message(e.message_id),
        Some(e) => {
            if let Err(err) = ctx
                .exmdb()
                .delete_item(&ctx.dir, e.message_id, Some(e.etag.clone()))
                .await
            {
                return store_error(&err);
            }
            PutTarget::New
        }
        None => PutTarget::New,
    };
    if let Err(e) = ctx
        .exmdb()
        .put_item_named(
            &ctx.dir,
            dst.selector(),
            &item,
            put_target,
            Precondition::None,
            Some(dname.as_str()),
        )
        .await
    {
        return store_error(&e);
    }
    if moving
        && let Err(e) = ctx
            .exmdb()
            .delete_item(&ctx.dir, info.message_id, None)
            .await
    {
        return store_error(&e);
    }
    if existing.is_some() {
        Answer::new(StatusCode::NO_CONTENT)
    } else {
        Answer::new(StatusCode::CREATED)
            .header(LOCATION, &item_href(dkind, &ctx.user, &dst.segment, &dname))
    }
}
