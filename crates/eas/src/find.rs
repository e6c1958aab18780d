//! Find ([MS-ASCMD] 2.2.1.2, protocol 16.1 only): a free-text search of
//! the mailbox (`MailBoxSearchCriterion`: FreeText, Class Email,
//! CollectionId, DeepTraversal) or of the GAL (`GALSearchCriterion`),
//! paged by Range (0 ≤ m ≤ n ≤ 999) with Total. The searching is
//! Search's (`search::mailbox`, `search::gal`): this module reads the
//! request and writes the answer, nothing else.
//!
//! A malformed request is answered Find Status 2 before anything is read;
//! a client speaking an older protocol gets the common status 138 (the
//! command is not in its version).

use crate::request::Version;
use crate::search::{self, DirectoryUnavailable, Hit, Page, Query};
use crate::sync::server_id;
use crate::{Ctx, Failure, expect_root, mail};
use groxide_wbxml::{AirSync, Element, Email, Find, ItemOperations};
use mail_parser::MessageParser;

/// Find status codes ([MS-ASCMD] 2.2.3.177.2 and the common ones of 2.2.2).
mod status {
    pub const OK: u8 = 1;
    pub const INVALID_REQUEST: u8 = 2;
    /// Common status ServerErrorRetryLater: the directory did not answer.
    pub const RETRY_LATER: u8 = 111;
    /// Common status VersionNotSupported.
    pub const VERSION_NOT_SUPPORTED: u8 = 138;
}

/// The first protocol version with Find.
const FIND_VERSION: Version = Version(161);

/// The highest index a Find Range may name.
const MAX_INDEX: usize = 999;

/// Most characters of a result's Preview.
const PREVIEW_CHARS: usize = 255;

/// What a Find asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Criterion {
    /// Mail whose header or body has every word.
    Mailbox {
        query: Query,
        deep: bool,
        /// The page asked (at most `search::MAX_RANGE` long).
        range: (usize, usize),
    },
    /// Directory users whose address contains the text.
    Gal { text: String, range: (usize, usize) },
}

/// The Range of a criterion's Options: the page to answer, or `None` when
/// it is not `m-n` with 0 ≤ m ≤ n ≤ 999.
fn range_of(options: Option<&Element>) -> Option<(usize, usize)> {
    let Some(r) = options.and_then(|o| o.child(Find::Range)) else {
        return Some(search::DEFAULT_RANGE);
    };
    let (a, b) = search::range_pair(r.text()?)?;
    (b <= MAX_INDEX).then(|| search::page_of((a, b)))
}

/// Reads a Find request; `Err(status)` when it is malformed.
pub(crate) fn parse(find: &Element) -> Result<Criterion, u8> {
    let invalid = status::INVALID_REQUEST;
    let execute = find.child(Find::ExecuteSearch).ok_or(invalid)?;
    let [criterion] = execute.children() else {
        return Err(invalid);
    };
    let options = criterion.child(Find::Options);
    let range = range_of(options).ok_or(invalid)?;
    let query = criterion.child(Find::Query).ok_or(invalid)?;
    if criterion.is(Find::GalSearchCriterion) {
        let text = query.text().unwrap_or("").trim();
        if text.is_empty() {
            return Err(invalid);
        }
        return Ok(Criterion::Gal {
            text: text.to_string(),
            range,
        });
    }
    if !criterion.is(Find::MailBoxSearchCriterion) {
        return Err(invalid);
    }
    let mut q = Query::default();
    for c in query.children() {
        if c.is(Find::FreeText) {
            q.add_words(c.text().unwrap_or(""));
        } else if c.is(AirSync::Class) {
            if c.text().map(str::trim) != Some("Email") {
                return Err(invalid);
            }
        } else if c.is(AirSync::CollectionId) {
            let id = c.text().unwrap_or("").trim();
            if id.is_empty() {
                return Err(invalid);
            }
            q.collections.push(id.to_string());
        } else {
            return Err(invalid);
        }
    }
    if q.words.is_empty() {
        return Err(invalid);
    }
    let deep = options.is_some_and(|o| o.child(Find::DeepTraversal).is_some());
    Ok(Criterion::Mailbox {
        query: q,
        deep,
        range,
    })
}

/// A Find answer with only its Status (the request was not searched).
fn refusal(st: u8) -> Element {
    Element::with_children(
        Find::Find,
        [Element::with_text(Find::Status, st.to_string())],
    )
}

/// A successful Find answer with `results` of the page `range`.
fn answer(results: Vec<Element>, range: Option<(usize, usize, usize)>, total: usize) -> Element {
    let ok = || Element::with_text(Find::Status, status::OK.to_string());
    let mut response = vec![Element::with_text(ItemOperations::Store, "Mailbox"), ok()];
    response.extend(results);
    if let Some((first, last, _)) = range {
        response.push(Element::with_text(Find::Range, format!("{first}-{last}")));
    }
    response.push(Element::with_text(Find::Total, total.to_string()));
    Element::with_children(
        Find::Find,
        [ok(), Element::with_children(Find::Response, response)],
    )
}

/// A mail result: its ids and the properties a result list shows.
fn mail_result(hit: &Hit) -> Element {
    let e = &hit.entry;
    let parsed = MessageParser::default().parse(&hit.raw);
    let m = parsed.as_ref();
    let mut props = vec![
        Element::with_text(
            Email::Subject,
            m.and_then(|m| m.subject()).unwrap_or_default(),
        ),
        Element::with_text(
            Email::DateReceived,
            mail::eas_time(mail::date_received(m, e.internal_date)),
        ),
        Element::with_text(
            Email::DisplayTo,
            mail::display_names(m.and_then(|m| m.to())),
        ),
    ];
    let cc = mail::display_names(m.and_then(|m| m.cc()));
    if !cc.is_empty() {
        props.push(Element::with_text(Find::DisplayCc, cc));
    }
    props.push(Element::with_text(Email::Importance, mail::importance(m)));
    props.push(Element::with_text(
        Email::Read,
        if e.flags & mail::SEEN != 0 { "1" } else { "0" },
    ));
    if let Some(m) = m {
        props.push(Element::with_text(
            Find::Preview,
            mail::preview(m, PREVIEW_CHARS),
        ));
    }
    let attachments = m.is_some_and(|m| m.attachments().next().is_some());
    props.push(Element::with_text(
        Find::HasAttachments,
        if attachments { "1" } else { "0" },
    ));
    if let Some(from) = m.and_then(|m| mail::header_line(m, "From")) {
        props.push(Element::with_text(Email::From, from));
    }
    let collection: u64 = hit.collection.parse().unwrap_or(0);
    Element::with_children(
        Find::Result,
        [
            Element::with_text(AirSync::Class, "Email"),
            Element::with_text(AirSync::ServerId, server_id(collection, e.message_id)),
            Element::with_text(AirSync::CollectionId, &hit.collection),
            Element::with_children(Find::Properties, props),
        ],
    )
}

/// A GAL result: the user's names and address.
fn gal_result(address: &str) -> Element {
    Element::with_children(
        Find::Result,
        [Element::with_children(
            Find::Properties,
            search::gal_properties(address),
        )],
    )
}

fn page_answer<T>(page: &Page<T>, result: impl Fn(&T) -> Element) -> Element {
    answer(
        page.items.iter().map(result).collect(),
        page.range(),
        page.total,
    )
}

pub(crate) async fn find(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, Find::Find)?;
    if ctx.params.version < FIND_VERSION {
        return Ok(Some(refusal(status::VERSION_NOT_SUPPORTED)));
    }
    let criterion = match parse(&request) {
        Ok(c) => c,
        Err(st) => return Ok(Some(refusal(st))),
    };
    drop(request);
    Ok(Some(match criterion {
        Criterion::Mailbox { query, deep, range } => {
            let page = search::mailbox(ctx, &query, deep, range).await?;
            page_answer(&page, mail_result)
        }
        Criterion::Gal { text, range } => match search::gal(ctx, &text, range).await {
            Ok(page) => page_answer(&page, |a: &String| gal_result(a)),
            Err(DirectoryUnavailable) => refusal(status::RETRY_LATER),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use groxide_wbxml::Limits;

    fn request(criterion: &str) -> Element {
        Element::from_xml(
            &format!(
                "<Find xmlns=\"Find:\" xmlns:airsync=\"AirSync:\"><SearchId>6d1a</SearchId>\
                 <ExecuteSearch>{criterion}</ExecuteSearch></Find>"
            ),
            &Limits::default(),
        )
        .unwrap()
    }

    fn mailbox(query: &str, options: &str) -> Result<Criterion, u8> {
        parse(&request(&format!(
            "<MailBoxSearchCriterion><Query>{query}</Query><Options>{options}</Options>\
             </MailBoxSearchCriterion>"
        )))
    }

    #[test]
    fn a_mailbox_find_is_the_words_folders_and_page_asked() {
        let c = mailbox(
            "<FreeText>Zebra  invoice</FreeText><airsync:Class>Email</airsync:Class>\
             <airsync:CollectionId>7</airsync:CollectionId>",
            "<Range>10-19</Range><DeepTraversal/>",
        )
        .unwrap();
        let Criterion::Mailbox { query, deep, range } = c else {
            panic!("not a mailbox criterion: {c:?}");
        };
        assert_eq!(query.words, ["zebra", "invoice"]);
        assert_eq!(query.collections, ["7"]);
        assert!(deep);
        assert_eq!(range, (10, 19));
        // No Range: the first hundred; a long one is cut to a hundred.
        let Ok(Criterion::Mailbox { range, deep, .. }) = mailbox("<FreeText>a</FreeText>", "")
        else {
            panic!()
        };
        assert_eq!((range, deep), ((0, 99), false));
        let Ok(Criterion::Mailbox { range, .. }) =
            mailbox("<FreeText>a</FreeText>", "<Range>0-999</Range>")
        else {
            panic!()
        };
        assert_eq!(range, (0, 99));
    }

    #[test]
    fn a_gal_find_is_its_query_text() {
        let c = parse(&request(
            "<GalSearchCriterion><Query> colleague </Query>\
             <Options><Range>0-4</Range></Options></GalSearchCriterion>",
        ));
        assert_eq!(
            c,
            Ok(Criterion::Gal {
                text: "colleague".into(),
                range: (0, 4)
            })
        );
    }

    #[test]
    fn malformed_finds_are_status_2() {
        let bad = [
            // No words, another class, an empty folder, an unknown condition.
            mailbox("<airsync:Class>Email</airsync:Class>", ""),
            mailbox(
                "<FreeText>a</FreeText><airsync:Class>Tasks</airsync:Class>",
                "",
            ),
            mailbox("<FreeText>a</FreeText><airsync:CollectionId/>", ""),
            mailbox("<FreeText>a</FreeText><Range>0-1</Range>", ""),
            // Ranges outside 0 ≤ m ≤ n ≤ 999, or not a range.
            mailbox("<FreeText>a</FreeText>", "<Range>0-1000</Range>"),
            mailbox("<FreeText>a</FreeText>", "<Range>9-3</Range>"),
            mailbox("<FreeText>a</FreeText>", "<Range>-1-3</Range>"),
            mailbox("<FreeText>a</FreeText>", "<Range>ten</Range>"),
            mailbox("<FreeText>a</FreeText>", "<Range/>"),
            // No query, an empty GAL query, two criteria, none, no ExecuteSearch.
            parse(&request("<MailBoxSearchCriterion/>")),
            parse(&request(
                "<GalSearchCriterion><Query> </Query></GalSearchCriterion>",
            )),
            parse(&request(
                "<GalSearchCriterion><Query>abcd</Query></GalSearchCriterion>\
                 <GalSearchCriterion><Query>abcd</Query></GalSearchCriterion>",
            )),
            parse(&request("")),
            parse(&request("<SearchId>x</SearchId>")),
            parse(
                &Element::from_xml(
                    "<Find xmlns=\"Find:\"><SearchId>1</SearchId></Find>",
                    &Limits::default(),
                )
                .unwrap(),
            ),
        ];
        for (i, b) in bad.into_iter().enumerate() {
            assert_eq!(b, Err(status::INVALID_REQUEST), "case {i}");
        }
    }

    /// The answer's XML on one line, without the declaration.
    fn flat(e: &Element) -> String {
        e.to_xml()
            .lines()
            .skip(1)
            .map(str::trim)
            .collect::<String>()
    }

    #[test]
    fn answers_carry_store_status_results_range_and_total_in_order() {
        let hit = Hit {
            collection: "7".into(),
            entry: groxide_rpc::pb::exmdb::v1::MessageEntry {
                message_id: 42,
                flags: mail::SEEN,
                internal_date: 1_796_083_200,
                ..Default::default()
            },
            raw: b"From: Ada <ada@remote.test>\r\nTo: Bob <bob@example.test>\r\n\
                   Cc: carol@example.test\r\nSubject: Zebra invoice\r\n\
                   Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nThe   zebra\r\ninvoice is due.\r\n"
                .to_vec(),
        };
        let page = Page {
            items: vec![hit],
            first: 3,
            total: 9,
        };
        let a = page_answer(&page, mail_result);
        assert_eq!(
            flat(&a),
            "<Find xmlns=\"Find:\" xmlns:airsync=\"AirSync:\" xmlns:email=\"Email:\" \
             xmlns:itemoperations=\"ItemOperations:\"><Status>1</Status><Response>\
             <itemoperations:Store>Mailbox</itemoperations:Store><Status>1</Status><Result>\
             <airsync:Class>Email</airsync:Class><airsync:ServerId>7:42</airsync:ServerId>\
             <airsync:CollectionId>7</airsync:CollectionId><Properties>\
             <email:Subject>Zebra invoice</email:Subject>\
             <email:DateReceived>2026-12-07T09:00:00.000Z</email:DateReceived>\
             <email:DisplayTo>Bob</email:DisplayTo><DisplayCc>carol@example.test</DisplayCc>\
             <email:Importance>1</email:Importance><email:Read>1</email:Read>\
             <Preview>The zebra invoice is due.</Preview><HasAttachments>0</HasAttachments>\
             <email:From>Ada &lt;ada@remote.test&gt;</email:From></Properties></Result>\
             <Range>3-3</Range><Total>9</Total></Response></Find>"
        );
        // Nothing found: no Result, no Range, Total 0.
        let none: Page<String> = Page {
            items: Vec::new(),
            first: 0,
            total: 0,
        };
        assert_eq!(
            flat(&page_answer(&none, |a: &String| gal_result(a))),
            "<Find xmlns=\"Find:\" xmlns:itemoperations=\"ItemOperations:\"><Status>1</Status>\
             <Response><itemoperations:Store>Mailbox</itemoperations:Store><Status>1</Status>\
             <Total>0</Total></Response></Find>"
        );
    }
}
