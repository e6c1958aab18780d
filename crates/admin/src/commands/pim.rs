//! `import ics|vcf` and `export ics|vcf`: groupware items between files and
//! a user's store, through the store's home exmdb (routed).
//!
//! Import reads the file, converts each object with groxide-pim and stores
//! it (several RPCs in flight); an object that cannot be read or stored is
//! skipped with its reason — line and property for malformed input — and
//! never stops the others. vCard files are read in batches of cards, so
//! their size does not bound memory; an iCalendar file is read whole,
//! because the overrides of a series may be anywhere in it. Re-importing a
//! file replaces the items with the same UID. Export writes items as it
//! reads them: one VCALENDAR with each time zone once, or one card after
//! the other.

use crate::cli::{ExportArgs, FreebusyArgs, ImportArgs, PimFormat};
use crate::failure::{Failure, exit};
use crate::output::print;
use crate::setup::Setup;
use futures_util::StreamExt;
use groxide_mapi::tags;
use groxide_pim::ical::{ExportOptions, ImportOptions, item_to_ical, parse_calendar};
use groxide_pim::vcard::{VcardVersion, item_to_vcard, parse_vcards};
use groxide_pim::{Item, ItemClass, ParseError};
use groxide_rpc::ExmdbClient;
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::items::{Precondition, PutTarget, item_uid};
use groxide_rpc::pb::exmdb::v1::FolderSelector;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};

/// Cards parsed at once.
const CARD_BATCH: usize = 500;
/// Most skip reasons printed in text mode (all are in the JSON).
const SHOWN_SKIPS: usize = 50;

/// The user's store and defaults.
struct Target {
    dir: String,
    owner: String,
    zone: Option<chrono_tz::Tz>,
}

async fn target(setup: &Setup, username: &str, tz: Option<&str>) -> Result<Target, Failure> {
    let user = setup
        .directory
        .user_by_name(username)
        .await?
        .ok_or_else(|| Failure::new(exit::NOT_FOUND, format!("user {username} does not exist")))?;
    if user.maildir.is_empty() {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!("user {username} has no store (maildir is empty)"),
        ));
    }
    let zone = match tz {
        Some(t) => Some(
            t.parse::<chrono_tz::Tz>()
                .map_err(|_| Failure::new(exit::USAGE, format!("unknown time zone {t:?}")))?,
        ),
        // The directory's zone when it names one; else UTC.
        None => user.timezone.parse::<chrono_tz::Tz>().ok(),
    };
    Ok(Target {
        dir: user.maildir,
        owner: user.username,
        zone,
    })
}

/// A folder argument: a role name or a numeric id.
fn folder_arg(text: &str) -> Result<FolderSelector, Failure> {
    if let Ok(id) = text.parse::<u64>() {
        return Ok(folder_id(id));
    }
    let role = text.to_ascii_lowercase();
    const ROLES: &[&str] = &["calendar", "contacts", "tasks", "notes", "journal"];
    if ROLES.contains(&role.as_str()) {
        Ok(folder_role(&role))
    } else {
        Err(Failure::new(
            exit::USAGE,
            format!(
                "folder {text:?}: give a folder id or one of {}",
                ROLES.join(", ")
            ),
        ))
    }
}

/// The folder an item goes to when none is given.
fn default_folder(class: ItemClass) -> &'static str {
    match class {
        ItemClass::Contact | ItemClass::DistList => "contacts",
        ItemClass::Task => "tasks",
        ItemClass::StickyNote => "notes",
        ItemClass::Appointment | ItemClass::Exception => "calendar",
    }
}

fn progress(len: u64, what: &str) -> ProgressBar {
    if !super::stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template = format!("{{bar:40}} {{bytes}}/{{total_bytes}} read, {{msg}} {what}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// What an import did.
#[derive(Default)]
struct Summary {
    created: u64,
    replaced: u64,
    skipped: Vec<(Option<usize>, String)>,
    transcoded: bool,
}

impl Summary {
    fn skip_parse(&mut self, e: &ParseError) {
        self.skipped.push((Some(e.line), e.to_string()));
    }
}

fn describe(item: &Item) -> String {
    let uid = item_uid(item);
    let title = item
        .str(tags::PR_SUBJECT)
        .or_else(|| item.str(tags::PR_DISPLAY_NAME))
        .unwrap_or("");
    let class = item.class.message_class();
    match (uid.is_empty(), title.is_empty()) {
        (false, false) => format!("{class} {uid:?} ({title:?})"),
        (false, true) => format!("{class} {uid:?}"),
        (true, false) => format!("{class} {title:?}"),
        (true, true) => class.to_string(),
    }
}

async fn store_items(
    client: &ExmdbClient,
    t: &Target,
    folder: Option<&FolderSelector>,
    items: Vec<Result<Item, ParseError>>,
    parallel: usize,
    summary: &mut Summary,
    bar: &ProgressBar,
) {
    let mut ok = Vec::with_capacity(items.len());
    for i in items {
        match i {
            Ok(item) => ok.push(item),
            Err(e) => summary.skip_parse(&e),
        }
    }
    let mut results = futures_util::stream::iter(ok.into_iter().map(|item| {
        let folder = folder
            .cloned()
            .unwrap_or_else(|| folder_role(default_folder(item.class)));
        async move {
            let r = client
                .put_item(&t.dir, folder, &item, PutTarget::ByUid, Precondition::None)
                .await;
            (item, r)
        }
    }))
    .buffered(parallel.max(1));
    while let Some((item, r)) = results.next().await {
        match r {
            Ok((_, true)) => summary.created += 1,
            Ok((_, false)) => summary.replaced += 1,
            Err(e) => summary
                .skipped
                .push((None, format!("{}: {e}", describe(&item)))),
        }
        bar.set_message(format!("{}", summary.created + summary.replaced));
    }
}

fn open_input(path: &std::path::Path) -> Result<(Box<dyn Read>, u64), Failure> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin()), 0));
    }
    let f = std::fs::File::open(path).map_err(|e| {
        Failure::new(
            exit::NOT_FOUND,
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Box::new(f), len))
}

fn read_err(path: &std::path::Path, e: std::io::Error) -> Failure {
    Failure::new(
        exit::FAILURE,
        format!("cannot read {}: {e}", path.display()),
    )
}

/// Whether a raw line is `END:VCARD` (any case, any line ending).
fn ends_card(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.len() == 9 && t.eq_ignore_ascii_case(b"END:VCARD")
}

pub(crate) async fn import(args: ImportArgs, setup: &Setup, json: bool) -> Result<(), Failure> {
    let t = target(setup, &args.username, args.tz.as_deref()).await?;
    let folder = args.folder.as_deref().map(folder_arg).transpose()?;
    let client = setup.exmdb_client()?;
    let (input, len) = open_input(&args.file)?;
    let bar = progress(len, "items stored");
    let mut summary = Summary::default();
    let mut reader = BufReader::new(bar.wrap_read(input));
    match args.format {
        PimFormat::Ics => {
            let mut all = Vec::new();
            reader
                .read_to_end(&mut all)
                .map_err(|e| read_err(&args.file, e))?;
            let opts = ImportOptions {
                floating_zone: t.zone,
                owner: Some(t.owner.clone()),
                ..ImportOptions::default()
            };
            let parsed = parse_calendar(&all, &opts);
            drop(all);
            summary.transcoded = parsed.transcoded;
            store_items(
                &client,
                &t,
                folder.as_ref(),
                parsed.items,
                args.parallel,
                &mut summary,
                &bar,
            )
            .await;
        }
        PimFormat::Vcf => {
            // Batches of whole cards; error lines are made file lines again.
            let mut batch = Vec::new();
            let (mut cards, mut batch_first_line, mut line_no) = (0usize, 1usize, 0usize);
            loop {
                let mut line = Vec::new();
                let n = reader
                    .read_until(b'\n', &mut line)
                    .map_err(|e| read_err(&args.file, e))?;
                if n > 0 {
                    line_no += 1;
                    if ends_card(&line) {
                        cards += 1;
                    }
                    batch.extend_from_slice(&line);
                }
                if (n == 0 && !batch.is_empty()) || cards >= CARD_BATCH {
                    let parsed = parse_vcards(&batch);
                    summary.transcoded |= parsed.transcoded;
                    let items = parsed
                        .items
                        .into_iter()
                        .map(|r| {
                            r.map_err(|mut e| {
                                e.line += batch_first_line - 1;
                                e
                            })
                        })
                        .collect();
                    store_items(
                        &client,
                        &t,
                        folder.as_ref(),
                        items,
                        args.parallel,
                        &mut summary,
                        &bar,
                    )
                    .await;
                    batch.clear();
                    cards = 0;
                    batch_first_line = line_no + 1;
                }
                if n == 0 {
                    break;
                }
            }
        }
    }
    bar.finish_and_clear();
    let imported = summary.created + summary.replaced;
    let value = json!({
        "user": t.owner,
        "imported": imported,
        "created": summary.created,
        "replaced": summary.replaced,
        "transcoded": summary.transcoded,
        "skipped": summary.skipped.iter().map(|(line, reason)| json!({
            "line": line,
            "reason": reason,
        })).collect::<Vec<_>>(),
    });
    let mut text = format!(
        "imported {imported} items into {} ({} new, {} replaced), skipped {}",
        t.owner,
        summary.created,
        summary.replaced,
        summary.skipped.len()
    );
    if summary.transcoded {
        text.push_str("\n(some lines were not UTF-8 and were read as a legacy charset)");
    }
    for (_, reason) in summary.skipped.iter().take(SHOWN_SKIPS) {
        text.push_str(&format!("\n  skipped: {reason}"));
    }
    if summary.skipped.len() > SHOWN_SKIPS {
        text.push_str(&format!(
            "\n  … and {} more (--json lists all)",
            summary.skipped.len() - SHOWN_SKIPS
        ));
    }
    print(json, &value, &text);
    if imported == 0 && !summary.skipped.is_empty() {
        return Err(Failure::new(exit::FAILURE, "nothing could be imported"));
    }
    Ok(())
}

/// Writes the components of one exported VCALENDAR into the stream: its
/// time zones once per TZID, everything else as it is.
fn write_calendar_body(
    out: &mut dyn Write,
    text: &str,
    zones: &mut HashSet<String>,
) -> std::io::Result<()> {
    let mut depth = 0usize;
    let mut pending_zone: Option<(Vec<&str>, String)> = None;
    for line in text.lines() {
        let upper = line.to_ascii_uppercase();
        let cont = line.starts_with([' ', '\t']);
        if !cont && upper.starts_with("BEGIN:") {
            depth += 1;
            if depth == 1 {
                continue;
            }
            if depth == 2 && upper.trim_end() == "BEGIN:VTIMEZONE" {
                pending_zone = Some((vec![line], String::new()));
                continue;
            }
        } else if !cont && upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                continue;
            }
            if depth == 1
                && let Some((mut lines, tzid)) = pending_zone.take()
            {
                lines.push(line);
                if zones.insert(tzid) {
                    for l in lines {
                        writeln!(out, "{l}\r")?;
                    }
                }
                continue;
            }
        } else if depth <= 1 {
            // A property of the VCALENDAR itself (VERSION, PRODID, …).
            continue;
        }
        if let Some((lines, tzid)) = pending_zone.as_mut() {
            if depth == 2 && !cont && upper.starts_with("TZID") {
                *tzid = line
                    .split_once(':')
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
            }
            lines.push(line);
            continue;
        }
        writeln!(out, "{line}\r")?;
    }
    Ok(())
}

pub(crate) async fn export(args: ExportArgs, setup: &Setup, json: bool) -> Result<(), Failure> {
    let t = target(setup, &args.username, args.tz.as_deref()).await?;
    let folder = match args.folder.as_deref() {
        Some(f) => folder_arg(f)?,
        None => folder_role(match args.format {
            PimFormat::Ics => "calendar",
            PimFormat::Vcf => "contacts",
        }),
    };
    let version = match args.vcard_version {
        3 => VcardVersion::V3,
        4 => VcardVersion::V4,
        v => {
            return Err(Failure::new(
                exit::USAGE,
                format!("vCard version {v}: give 3 or 4"),
            ));
        }
    };
    let client = setup.exmdb_client()?;
    let (items, _) = client.list_items(&t.dir, folder).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| Failure::new(exit::FAILURE, format!("cannot create {}: {e}", p.display())),
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let write_err = |e: std::io::Error| Failure::new(exit::FAILURE, format!("cannot write: {e}"));
    let bar = if args.output.is_some() && super::stderr_is_terminal() {
        let b = ProgressBar::new(items.len() as u64);
        if let Ok(s) = ProgressStyle::with_template("{bar:40} {pos}/{len} items exported") {
            b.set_style(s);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let opts = ExportOptions {
        floating_zone: t.zone,
        owner: Some(t.owner.clone()),
    };
    let mut zones = HashSet::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut written = 0u64;
    if args.format == PimFormat::Ics {
        write!(
            out,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//groxide//groxide-admin//EN\r\n"
        )
        .map_err(write_err)?;
    }
    for info in &items {
        bar.inc(1);
        let class = ItemClass::from_message_class(&info.message_class);
        let wanted = match args.format {
            PimFormat::Ics => matches!(
                class,
                Some(ItemClass::Appointment | ItemClass::Task | ItemClass::StickyNote)
            ),
            PimFormat::Vcf => matches!(class, Some(ItemClass::Contact | ItemClass::DistList)),
        };
        if !wanted {
            skipped.push(format!(
                "message {}: {} is not exported as {}",
                info.message_id,
                info.message_class,
                if args.format == PimFormat::Ics {
                    "iCalendar"
                } else {
                    "vCard"
                }
            ));
            continue;
        }
        let (_, item) = match client.get_item(&t.dir, info.message_id).await {
            Ok(x) => x,
            Err(e) => {
                skipped.push(format!("message {}: {e}", info.message_id));
                continue;
            }
        };
        let text = match args.format {
            PimFormat::Ics => item_to_ical(&item, &opts).map_err(|e| e.to_string()),
            PimFormat::Vcf => item_to_vcard(&item, version).map_err(|e| e.to_string()),
        };
        match text {
            Ok(text) => {
                match args.format {
                    PimFormat::Ics => write_calendar_body(&mut out, &text, &mut zones),
                    PimFormat::Vcf => out.write_all(text.as_bytes()),
                }
                .map_err(write_err)?;
                written += 1;
            }
            Err(e) => skipped.push(format!("message {}: {e}", info.message_id)),
        }
    }
    if args.format == PimFormat::Ics {
        write!(out, "END:VCALENDAR\r\n").map_err(write_err)?;
    }
    out.flush().map_err(write_err)?;
    bar.finish_and_clear();
    // The summary goes to stderr when the items go to stdout.
    let value = json!({ "user": t.owner, "exported": written, "skipped": skipped });
    let text = format!(
        "exported {written} items of {}, skipped {}{}",
        t.owner,
        skipped.len(),
        skipped
            .iter()
            .take(SHOWN_SKIPS)
            .map(|s| format!("\n  skipped: {s}"))
            .collect::<String>()
    );
    if args.output.is_some() {
        print(json, &value, &text);
    } else {
        eprintln!("{}", text.trim_end());
    }
    Ok(())
}

/// A date argument: YYYY-MM-DD (UTC midnight) or Unix seconds.
fn time_arg(what: &str, text: &str) -> Result<i64, Failure> {
    if let Ok(s) = text.parse::<i64>() {
        return Ok(s);
    }
    let bad = || {
        Failure::new(
            exit::USAGE,
            format!("{what} {text:?}: give YYYY-MM-DD or Unix seconds"),
        )
    };
    let mut p = text.splitn(3, '-').map(|x| x.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (p.next(), p.next(), p.next()) else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's method.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400)
}

pub(crate) async fn freebusy(args: FreebusyArgs, setup: &Setup, json: bool) -> Result<(), Failure> {
    let t = target(setup, &args.username, args.tz.as_deref()).await?;
    let (from, to) = (time_arg("--from", &args.from)?, time_arg("--to", &args.to)?);
    let client = setup.exmdb_client()?;
    let zone = t.zone.map(|z| z.name().to_string()).unwrap_or_default();
    let started = std::time::Instant::now();
    let slots = client.free_busy(&t.dir, from, to, &zone).await?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = |s: i32| match s {
        1 => "tentative",
        3 => "out of office",
        4 => "working elsewhere",
        _ => "busy",
    };
    let value = json!({
        "user": t.owner,
        "from": from,
        "to": to,
        "elapsed_ms": elapsed_ms,
        "slots": slots.iter().map(|s| json!({
            "start": s.start, "end": s.end, "status": status(s.status), "message_id": s.message_id,
        })).collect::<Vec<_>>(),
    });
    let mut text = format!(
        "{} busy slots of {} ({elapsed_ms:.1} ms)",
        slots.len(),
        t.owner
    );
    for s in &slots {
        text.push_str(&format!(
            "\n  {} – {}  {}",
            s.start,
            s.end,
            status(s.status)
        ));
    }
    print(json, &value, &text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_utc_midnights() {
        assert_eq!(time_arg("x", "1970-01-01").unwrap(), 0);
        assert_eq!(time_arg("x", "2024-03-01").unwrap(), 1_709_251_200);
        assert_eq!(time_arg("x", "2000-02-29").unwrap(), 951_782_400);
        assert_eq!(time_arg("x", "12345").unwrap(), 12_345);
        assert!(time_arg("x", "2024-13-01").is_err());
        assert!(time_arg("x", "tomorrow").is_err());
    }

    #[test]
    fn calendar_bodies_merge_with_each_zone_once() {
        let a = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let b = a.replace("UID:a", "UID:b");
        let mut out = Vec::new();
        let mut zones = HashSet::new();
        write_calendar_body(&mut out, a, &mut zones).unwrap();
        write_calendar_body(&mut out, &b, &mut zones).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
        assert!(!text.contains("VCALENDAR") && !text.contains("VERSION"));
    }
}
