//! Operations about other people: GetUserAvailability (free/busy from each
//! user's store, on whatever node it is homed), ResolveNames (directory
//! users, then the caller's contacts) and GetServerTimeZones.

use super::refuse;
use crate::groupware::write_item;
use crate::ids::ItemKey;
use crate::items::parse_date_time;
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_error, write_messages};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Weekday};
use groxide_rpc::pb::exmdb::v1 as pb;

/// Most mailboxes one GetUserAvailability asks about (Exchange: 100).
const MAX_MAILBOXES: usize = 100;
/// Longest free/busy window (Exchange: 42 days).
const MAX_WINDOW: i64 = 62 * 86_400;
/// Most resolutions one ResolveNames returns (Exchange: 100).
const MAX_RESOLUTIONS: usize = 100;

/// A `t:SerializableTimeZone`: minutes west of UTC, and the daylight rule.
#[derive(Debug, Clone, Default)]
struct RequestZone {
    bias: i64,
    standard: Option<Change>,
    daylight: Option<Change>,
}

/// One transition of a `SerializableTimeZone` (`t:StandardTime`/`t:DaylightTime`).
#[derive(Debug, Clone, Copy)]
struct Change {
    bias: i64,
    /// Seconds after midnight.
    time: u32,
    /// 1–4, 5 = last.
    order: u32,
    month: u32,
    weekday: Weekday,
}

impl Change {
    fn parse(e: &Element) -> Option<Change> {
        let bias = e.t_text("Bias")?.parse().ok()?;
        let time = e.t_text("Time").unwrap_or("00:00:00");
        let mut parts = time.split(':').map(|p| p.parse::<u32>().unwrap_or(0));
        let secs = parts.next().unwrap_or(0) * 3600 + parts.next().unwrap_or(0) * 60;
        let weekday = match e.t_text("DayOfWeek")? {
            "Sunday" => Weekday::Sun,
            "Monday" => Weekday::Mon,
            "Tuesday" => Weekday::Tue,
            "Wednesday" => Weekday::Wed,
            "Thursday" => Weekday::Thu,
            "Friday" => Weekday::Fri,
            _ => Weekday::Sat,
        };
        Some(Change {
            bias,
            time: secs,
            order: e.t_text("DayOrder")?.parse().ok()?,
            month: e.t_text("Month")?.parse().ok()?,
            weekday,
        })
    }

    /// The local time of this change in `year`.
    fn at(&self, year: i32) -> Option<NaiveDateTime> {
        if !(1..=12).contains(&self.month) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(year, self.month, 1)?;
        let offset = (7 + self.weekday.num_days_from_sunday() as i64
            - first.weekday().num_days_from_sunday() as i64)
            % 7;
        let mut day =
            first + chrono::Duration::days(offset + 7 * (i64::from(self.order.clamp(1, 5)) - 1));
        while day.month() != self.month {
            day -= chrono::Duration::days(7);
        }
        day.and_hms_opt(0, 0, 0)
            .map(|d| d + chrono::Duration::seconds(i64::from(self.time)))
    }
}

impl RequestZone {
    fn parse(e: Option<&Element>) -> RequestZone {
        let Some(e) = e else {
            return RequestZone::default();
        };
        let standard = e.t("StandardTime").and_then(Change::parse);
        let daylight = e.t("DaylightTime").and_then(Change::parse);
        RequestZone {
            bias: e.t_text("Bias").and_then(|b| b.parse().ok()).unwrap_or(0),
            standard,
            daylight,
        }
    }

    /// Minutes west of UTC at local time `local`.
    fn bias_at(&self, local: NaiveDateTime) -> i64 {
        let (Some(s), Some(d)) = (self.standard, self.daylight) else {
            return self.bias + self.standard.map(|s| s.bias).unwrap_or(0);
        };
        if s.month == 0 || d.month == 0 || s.bias == d.bias {
            return self.bias + s.bias;
        }
        let (Some(to_dst), Some(to_std)) = (d.at(local.year()), s.at(local.year())) else {
            return self.bias + s.bias;
        };
        let in_dst = if to_dst < to_std {
            local >= to_dst && local < to_std
        } else {
            local >= to_dst || local < to_std
        };
        self.bias + if in_dst { d.bias } else { s.bias }
    }

    fn to_utc(&self, local: NaiveDateTime) -> i64 {
        local.and_utc().timestamp() + self.bias_at(local) * 60
    }

    fn to_local(&self, utc: i64) -> NaiveDateTime {
        let naive = DateTime::from_timestamp(utc, 0)
            .unwrap_or_default()
            .naive_utc();
        // The bias at the UTC instant read as local differs from the true one
        // only within an hour of a change.
        naive - chrono::Duration::minutes(self.bias_at(naive))
    }
}

fn local_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    let t = t.get(..19).unwrap_or(t);
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok()
}

fn busy_type(status: i32) -> &'static str {
    match status {
        0 => "Free",
        1 => "Tentative",
        3 => "OOF",
        4 => "WorkingElsewhere",
        _ => "Busy",
    }
}

/// The MergedFreeBusy digit of a status (0 free, 1 tentative, 2 busy,
/// 3 out of office, 4 working elsewhere).
fn merged_digit(status: i32) -> u8 {
    match status {
        1 => b'1',
        3 => b'3',
        4 => b'4',
        0 => b'0',
        _ => b'2',
    }
}

struct FreeBusy {
    merged: Option<String>,
    detailed: bool,
    events: Vec<(i64, i64, i32)>,
}

pub(crate) async fn get_user_availability(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    const OP: &str = "GetUserAvailabilityRequest";
    let zone = RequestZone::parse(op.t("TimeZone"));
    let Some(options) = op.t("FreeBusyViewOptions") else {
        return refuse(
            w,
            OP,
            EwsError::unsupported("GetUserAvailability without FreeBusyViewOptions (suggestions)"),
        );
    };
    let window = options.t("TimeWindow");
    let bound = |name: &str| {
        window
            .and_then(|t| t.t_text(name))
            .and_then(|s| {
                // A zone suffix means UTC; without, the request's zone.
                if s.ends_with('Z') || s.get(19..).is_some_and(|r| r.contains(['+', '-'])) {
                    parse_date_time(s)
                } else {
                    parse_local(s).map(|l| zone.to_utc(l))
                }
            })
            .ok_or_else(|| EwsError::invalid(format!("TimeWindow needs a {name}")))
    };
    let (start, end) = match (bound("StartTime"), bound("EndTime")) {
        (Ok(s), Ok(e)) if e > s && e - s <= MAX_WINDOW => (s, e),
        (Ok(_), Ok(_)) => {
            return refuse(
                w,
                OP,
                EwsError::invalid(
                    "the TimeWindow must end after it starts and span at most 62 days",
                ),
            );
        }
        (Err(e), _) | (_, Err(e)) => return refuse(w, OP, e),
    };
    let interval: i64 = options
        .t_text("MergedFreeBusyIntervalInMinutes")
        .and_then(|m| m.parse().ok())
        .filter(|m| (5..=1440).contains(m))
        .unwrap_or(30);
    let view = options
        .t_text("RequestedView")
        .unwrap_or("Detailed")
        .to_string();
    let merged = view.contains("Merged");
    let detailed = view.starts_with("Detailed") || view == "FreeBusy";
    let mailboxes: Vec<&Element> = op
        .m("MailboxDataArray")
        .map(|a| {
            a.children
                .iter()
                .filter(|c| c.name == "MailboxData")
                .collect()
        })
        .unwrap_or_default();
    if mailboxes.is_empty() || mailboxes.len() > MAX_MAILBOXES {
        return refuse(
            w,
            OP,
            EwsError::invalid("MailboxDataArray must name 1 to 100 mailboxes"),
        );
    }
    let mut results = Vec::new();
    for m in mailboxes {
        let r = async {
            let address = m
                .t("Email")
                .and_then(|e| e.t_text("Address"))
                .filter(|a| !a.is_empty())
                .ok_or_else(|| EwsError::invalid("MailboxData needs an Email Address"))?;
            let (dir, tz) = mb.store_of(address).await?;
            let slots = mb
                .exmdb()
                .free_busy(&dir, start, end, &tz)
                .await
                .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorMailRecipientNotFound))?;
            let events: Vec<(i64, i64, i32)> = slots
                .iter()
                .filter(|s| s.status != 0)
                .map(|s| (s.start, s.end, s.status))
                .collect();
            let merged =
                merged.then(|| {
                    groxide_rpc::items::merge_free_busy(&slots, start, end, interval * 60, |st| {
                        match st {
                            3 => 4,
                            2 => 3,
                            4 => 2,
                            1 => 1,
                            0 => 0,
                            _ => 3,
                        }
                    })
                    .into_iter()
                    .map(|worst| char::from(worst.map(merged_digit).unwrap_or(b'0')))
                    .collect()
                });
            Ok(FreeBusy {
                merged,
                detailed,
                events,
            })
        }
        .await;
        results.push(r);
    }
    w.open("m:GetUserAvailabilityResponse", &[])
        .open("m:FreeBusyResponseArray", &[]);
    for r in &results {
        w.open("m:FreeBusyResponse", &[]);
        match r {
            Err(e) => {
                write_error(w, "m:ResponseMessage", e);
            }
            Ok(fb) => {
                w.open("m:ResponseMessage", &[("ResponseClass", "Success")])
                    .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
                    .close();
                w.open("m:FreeBusyView", &[]);
                let kind = match (fb.merged.is_some(), fb.detailed) {
                    (true, true) => "DetailedMerged",
                    (true, false) => "MergedOnly",
                    _ => "Detailed",
                };
                w.leaf("t:FreeBusyViewType", kind);
                if let Some(m) = &fb.merged {
                    w.leaf("t:MergedFreeBusy", m);
                }
                w.open("t:CalendarEventArray", &[]);
                for (s, e, status) in &fb.events {
                    w.open("t:CalendarEvent", &[])
                        .leaf("t:StartTime", &local_text(zone.to_local(*s)))
                        .leaf("t:EndTime", &local_text(zone.to_local(*e)))
                        .leaf("t:BusyType", busy_type(*status))
                        .close();
                }
                w.close();
                w.close();
            }
        }
        w.close();
    }
    w.close().close();
}

pub(super) struct Resolution {
    pub(super) name: String,
    pub(super) email: String,
    mailbox_type: &'static str,
    pub(super) contact: Option<(crate::groupware::Stored, groxide_pim::Item)>,
}

pub(crate) async fn resolve_names(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let Some(entry) = op
        .m("UnresolvedEntry")
        .map(|e| e.text.trim().to_string())
        .filter(|e| !e.is_empty())
    else {
        return refuse(
            w,
            "ResolveNames",
            EwsError::invalid("UnresolvedEntry is empty"),
        );
    };
    let scope = op.attr("SearchScope").unwrap_or("ActiveDirectoryContacts");
    let full = op.attr("ReturnFullContactData") == Some("true");
    let wanted = entry
        .strip_prefix("smtp:")
        .or_else(|| entry.strip_prefix("SMTP:"))
        .unwrap_or(&entry)
        .to_lowercase();
    let mut found: Vec<Resolution> = Vec::new();
    let mut failure = None;
    if scope.contains("ActiveDirectory") {
        match mb.directory_users().await {
            Ok(users) => {
                for u in users {
                    let name = u.username.to_lowercase();
                    if name == wanted || name.starts_with(&wanted) {
                        found.push(Resolution {
                            name: u.username.clone(),
                            email: u.username.clone(),
                            mailbox_type: "Mailbox",
                            contact: None,
                        });
                    }
                }
            }
            Err(e) => failure = Some(e),
        }
    }
    if scope.contains("Contacts") {
        match contacts_matching(mb, &wanted).await {
            Ok(c) => found.extend(c),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    found.truncate(MAX_RESOLUTIONS);
    let owner = mb.owner();
    let message = "m:ResolveNamesResponseMessage";
    w.open("m:ResolveNamesResponse", &[])
        .open("m:ResponseMessages", &[]);
    if found.is_empty() {
        let e = failure.unwrap_or_else(|| {
            EwsError::new(
                ResponseCode::ErrorNameResolutionNoResults,
                format!("no name matches {entry}"),
            )
        });
        write_error(w, message, &e);
    } else {
        let (class, code) = if found.len() == 1 {
            ("Success", ResponseCode::NoError)
        } else {
            ("Warning", ResponseCode::ErrorNameResolutionMultipleResults)
        };
        w.open(message, &[("ResponseClass", class)]);
        if found.len() > 1 {
            w.leaf("m:MessageText", "Multiple results were found.");
        }
        w.leaf("m:ResponseCode", code.as_str());
        if found.len() > 1 {
            w.leaf("m:DescriptiveLinkKey", "0");
        }
        let total = found.len().to_string();
        w.open(
            "m:ResolutionSet",
            &[
                ("TotalItemsInView", &total),
                ("IncludesLastItemInRange", "true"),
            ],
        );
        for r in &found {
            w.open("t:Resolution", &[]);
            w.open("t:Mailbox", &[])
                .leaf("t:Name", &r.name)
                .leaf("t:EmailAddress", &r.email)
                .leaf("t:RoutingType", "SMTP")
                .leaf("t:MailboxType", r.mailbox_type);
            if let Some((stored, _)) = &r.contact {
                w.empty("t:ItemId", &[("Id", &stored.key.encode())]);
            }
            w.close();
            if full && let Some((stored, item)) = &r.contact {
                // The contact's own fields, as GetItem writes them.
                if let Some(e) = item_element(stored, item, &owner) {
                    w.open("t:Contact", &[]);
                    for c in &e.children {
                        if matches!(
                            c.name.as_str(),
                            "DisplayName" | "GivenName" | "Surname" | "CompanyName" | "JobTitle"
                        ) {
                            w.leaf(&format!("t:{}", c.name), c.text.trim());
                        }
                    }
                    w.close();
                }
            }
            w.close();
        }
        w.close().close();
    }
    w.close().close();
}

/// A groupware item's element as GetItem writes it, read back (the
/// element's `t:` prefix declared on a wrapper, so the reader resolves it).
pub(super) fn item_element(
    stored: &crate::groupware::Stored,
    item: &groxide_pim::Item,
    owner: &crate::groupware::Owner,
) -> Option<Element> {
    let mut doc = XmlWriter::new();
    doc.open("t:Items", &[("xmlns:t", NS_TYPES)]);
    write_item(&mut doc, stored, item, owner, false, None);
    let root = crate::xml::parse(doc.finish().as_bytes()).ok()?;
    root.children.into_iter().next()
}

/// The caller's contacts whose name contains `wanted` or one of whose
/// addresses starts with it ("" matches every contact).
pub(super) async fn contacts_matching(
    mb: &mut Mailbox<'_>,
    wanted: &str,
) -> Result<Vec<Resolution>, EwsError> {
    let folder = mb.folder_by_role("contacts").await?;
    let store = mb.guid().await?;
    let (listed, _) = mb
        .exmdb()
        .list_items(
            &mb.dir,
            pb::FolderSelector {
                folder: Some(pb::folder_selector::Folder::Id(folder.id)),
            },
        )
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
    let owner = mb.owner();
    let mut out = Vec::new();
    for info in listed.iter().take(5000) {
        let Ok((info, item)) = mb.exmdb().get_item(&mb.dir, info.message_id).await else {
            continue;
        };
        let stored = crate::groupware::Stored {
            key: ItemKey {
                store,
                folder: folder.id,
                message: info.message_id,
                uid: 0,
            },
            change_number: info.change_number,
        };
        let Some(e) = item_element(&stored, &item, &owner) else {
            continue;
        };
        let name = e.t_text("DisplayName").unwrap_or_default().to_string();
        let emails: Vec<String> = e
            .t("EmailAddresses")
            .map(|l| {
                l.children
                    .iter()
                    .map(|c| c.text.trim().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let hit = name.to_lowercase().contains(wanted)
            || emails.iter().any(|a| a.to_lowercase().starts_with(wanted));
        if hit {
            out.push(Resolution {
                name,
                email: emails.first().cloned().unwrap_or_default(),
                mailbox_type: "Contact",
                contact: Some((stored, item)),
            });
        }
    }
    Ok(out)
}

/// The Windows zones GetServerTimeZones lists, with their names.
const ZONES: &[(&str, &str)] = &[
    ("UTC", "(UTC) Coordinated Universal Time"),
    (
        "GMT Standard Time",
        "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
    ),
    (
        "W. Europe Standard Time",
        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
    ),
    (
        "Romance Standard Time",
        "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
    ),
    (
        "Central Europe Standard Time",
        "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague",
    ),
    ("GTB Standard Time", "(UTC+02:00) Athens, Bucharest"),
    (
        "FLE Standard Time",
        "(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius",
    ),
    (
        "Russian Standard Time",
        "(UTC+03:00) Moscow, St. Petersburg",
    ),
    (
        "India Standard Time",
        "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi",
    ),
    (
        "China Standard Time",
        "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi",
    ),
    ("Tokyo Standard Time", "(UTC+09:00) Osaka, Sapporo, Tokyo"),
    (
        "AUS Eastern Standard Time",
        "(UTC+10:00) Canberra, Melbourne, Sydney",
    ),
    (
        "Eastern Standard Time",
        "(UTC-05:00) Eastern Time (US & Canada)",
    ),
    (
        "Central Standard Time",
        "(UTC-06:00) Central Time (US & Canada)",
    ),
    (
        "Mountain Standard Time",
        "(UTC-07:00) Mountain Time (US & Canada)",
    ),
    (
        "Pacific Standard Time",
        "(UTC-08:00) Pacific Time (US & Canada)",
    ),
];

fn duration(minutes: i32) -> String {
    if minutes < 0 {
        format!("-PT{}M", -minutes)
    } else {
        format!("PT{minutes}M")
    }
}

const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Writes a zone's `t:TimeZoneDefinition` with this year's rule as its
/// periods and one transitions group.
fn write_definition(w: &mut XmlWriter, id: &str, name: &str, full: bool) {
    if !full {
        w.empty("t:TimeZoneDefinition", &[("Id", id), ("Name", name)]);
        return;
    }
    let Some(tz) = groxide_pim::tz::zone_for_tzid(id) else {
        return;
    };
    let year = chrono::Utc::now().year();
    let reg = groxide_pim::tz::TzReg::of_zone(tz, year);
    let std_id = format!("trule:Microsoft/Registry/{id}/{year}-Standard");
    let dst_id = format!("trule:Microsoft/Registry/{id}/{year}-Daylight");
    w.open("t:TimeZoneDefinition", &[("Id", id), ("Name", name)]);
    w.open("t:Periods", &[]);
    w.empty(
        "t:Period",
        &[
            ("Bias", &duration(reg.bias + reg.standard_bias)),
            ("Name", "Standard"),
            ("Id", &std_id),
        ],
    );
    if reg.has_dst() {
        w.empty(
            "t:Period",
            &[
                ("Bias", &duration(reg.bias + reg.daylight_bias)),
                ("Name", "Daylight"),
                ("Id", &dst_id),
            ],
        );
    }
    w.close();
    w.open("t:TransitionsGroups", &[])
        .open("t:TransitionsGroup", &[("Id", "0")]);
    if reg.has_dst() {
        for (to, at) in [(&dst_id, reg.daylight_date), (&std_id, reg.standard_date)] {
            let occurrence = if at.day >= 5 {
                "-1".to_string()
            } else {
                at.day.max(1).to_string()
            };
            w.open("t:RecurringDayTransition", &[])
                .open("t:To", &[("Kind", "Period")])
                .text(to)
                .close()
                .leaf("t:TimeOffset", &format!("PT{}H{}M", at.hour, at.minute))
                .leaf("t:Month", &at.month.to_string())
                .leaf("t:DayOfWeek", DAY_NAMES[usize::from(at.day_of_week.min(6))])
                .leaf("t:Occurrence", &occurrence)
                .close();
        }
    } else {
        w.open("t:Transition", &[])
            .open("t:To", &[("Kind", "Period")])
            .text(&std_id)
            .close()
            .close();
    }
    w.close().close();
    w.open("t:Transitions", &[])
        .open("t:Transition", &[])
        .open("t:To", &[("Kind", "Group")])
        .text("0")
        .close()
        .close()
        .close();
    w.close();
}

pub(crate) async fn get_server_time_zones(_mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let full = op.attr("ReturnFullTimeZoneData") != Some("false");
    let ids: Vec<String> = op
        .m("Ids")
        .map(|l| {
            l.children
                .iter()
                .filter(|c| c.ns == NS_TYPES)
                .map(|c| c.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut zones: Vec<(String, String)> = Vec::new();
    if ids.is_empty() {
        zones.extend(ZONES.iter().map(|(i, n)| (i.to_string(), n.to_string())));
    } else {
        for id in &ids {
            if groxide_pim::tz::zone_for_tzid(id).is_none() {
                continue;
            }
            let name = ZONES
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, n)| n.to_string())
                .unwrap_or_else(|| id.clone());
            zones.push((id.clone(), name));
        }
    }
    let results = vec![Ok(())];
    write_messages(w, "GetServerTimeZones", &results, |w, ()| {
        w.open("m:TimeZoneDefinitions", &[]);
        for (id, name) in &zones {
            write_definition(w, id, name, full);
        }
        w.close();
    });
}
