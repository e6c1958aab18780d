//! Free/busy of a mailbox: the busy times of its Calendar folder in a
//! range, with recurring series expanded (bounded, by groxide-pim), deleted
//! occurrences left out, moved ones at their new times and an exception's
//! own busy status where it has one.

use crate::error::Result;
use crate::folders::{self, FolderRef, FolderRole};
use crate::ids::{ChangeNumber, MessageId};
use crate::items::{self, ItemEntry};
use crate::store::{Store, StoreReader};
use groxide_mapi::lids;
use groxide_pim::recur::{self, ExpandOptions, Zone};
use groxide_pim::{Item, ItemClass};

/// Most instances one series contributes to an answer.
pub const MAX_INSTANCES_PER_SERIES: usize = 10_000;

/// PidLidBusyStatus ([MS-OXOCAL] 2.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BusyStatus {
    /// olFree (0).
    Free,
    /// olTentative (1).
    Tentative,
    /// olBusy (2).
    Busy,
    /// olOutOfOffice (3).
    OutOfOffice,
    /// olWorkingElsewhere (4).
    WorkingElsewhere,
}

impl BusyStatus {
    /// The status of a PidLidBusyStatus value (unknown values: busy).
    pub fn from_code(c: i64) -> BusyStatus {
        match c {
            0 => BusyStatus::Free,
            1 => BusyStatus::Tentative,
            3 => BusyStatus::OutOfOffice,
            4 => BusyStatus::WorkingElsewhere,
            _ => BusyStatus::Busy,
        }
    }

    /// The PidLidBusyStatus value.
    pub fn code(self) -> i32 {
        match self {
            BusyStatus::Free => 0,
            BusyStatus::Tentative => 1,
            BusyStatus::Busy => 2,
            BusyStatus::OutOfOffice => 3,
            BusyStatus::WorkingElsewhere => 4,
        }
    }
}

/// One busy interval.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BusySlot {
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// How busy.
    pub status: BusyStatus,
    /// The appointment it comes from.
    pub message_id: MessageId,
}

fn status_of(item: &Item) -> BusyStatus {
    item.int(&lids::PID_LID_BUSY_STATUS)
        .map_or(BusyStatus::Busy, BusyStatus::from_code)
}

/// The busy slots of one appointment in `[from, to)`.
pub fn slots_of_item(
    item: &Item,
    id: MessageId,
    from: i64,
    to: i64,
    floating: &Zone,
) -> Vec<BusySlot> {
    let Ok(Some(series)) = recur::mapi::series_of_item(item, floating) else {
        return Vec::new();
    };
    let opts = ExpandOptions {
        max_instances: MAX_INSTANCES_PER_SERIES,
        floating: floating.clone(),
        ..ExpandOptions::default()
    };
    let master = status_of(item);
    let exceptions: Vec<&Item> = item.exceptions();
    recur::expand(&series, from, to, &opts)
        .instances
        .into_iter()
        .map(|i| {
            let status = if i.changed {
                exceptions
                    .iter()
                    .find(|e| e.time(&lids::PID_LID_APPOINTMENT_START_WHOLE) == Some(i.start))
                    .and_then(|e| e.int(&lids::PID_LID_BUSY_STATUS))
                    .map_or(master, BusyStatus::from_code)
            } else {
                master
            };
            BusySlot {
                start: i.start,
                end: i.end,
                status,
                message_id: id,
            }
        })
        .filter(|s| s.status != BusyStatus::Free)
        .collect()
}

/// Time index bounds learned by a query: message, its change number when
/// read, its bounds.
type Learned = Vec<(MessageId, ChangeNumber, (i64, i64))>;

impl StoreReader {
    /// The live items of `folder` with an instance in `[from, to)` (Unix
    /// seconds; a CalDAV time-range filter,
    /// [`groxide_pim::recur::mapi::occurs_in`]), by UID, read without their
    /// source objects; all-day and floating ones in `floating`. Only the
    /// candidates of the time index are read ([`crate::schema`], step 8).
    pub fn items_in_range(
        &self,
        folder: impl Into<FolderRef>,
        from: i64,
        to: i64,
        floating: &Zone,
    ) -> Result<Vec<ItemEntry>> {
        self.items_in_range_learning(folder.into(), from, to, floating)
            .map(|(out, _)| out)
    }

    /// The busy slots of the Calendar folder overlapping `[from, to)` (Unix
    /// seconds), by start; free time is left out. All-day and floating
    /// events are read in `floating` (the owner's zone). Only the
    /// candidates of the time index are read.
    pub fn free_busy(&self, from: i64, to: i64, floating: &Zone) -> Result<Vec<BusySlot>> {
        self.free_busy_learning(from, to, floating)
            .map(|(out, _)| out)
    }

    /// The candidates of `folder` for `[from, to)`, each read with `read`
    /// (which sees the item as decoded); the bounds of those whose bounds
    /// were not known are returned to be written back.
    fn read_candidates(
        &self,
        folder: FolderRef,
        from: i64,
        to: i64,
        wanted: impl Fn(&ItemEntry) -> bool,
        mut read: impl FnMut(ItemEntry, &Item),
    ) -> Result<Learned> {
        let candidates = self.with_reader(|c| {
            let fid = folders::resolve(c, folder)?;
            items::range_candidates(c, fid, from, to)
        })?;
        let mut learned = Vec::new();
        for (e, unknown) in candidates {
            if !wanted(&e) {
                continue;
            }
            let (current, item) = match self.get_item_without_original(e.message_id) {
                Ok(i) => i,
                // Removed since the listing.
                Err(crate::StoreError::NoSuchMessage(_)) => continue,
                Err(err) => return Err(err),
            };
            #[cfg(test)]
            tests::DECODED.with(|d| d.set(d.get() + 1));
            if unknown {
                learned.push((
                    current.message_id,
                    current.cn,
                    recur::mapi::occurrence_bounds(&item),
                ));
            }
            read(e, &item);
        }
        Ok(learned)
    }

    fn items_in_range_learning(
        &self,
        folder: FolderRef,
        from: i64,
        to: i64,
        floating: &Zone,
    ) -> Result<(Vec<ItemEntry>, Learned)> {
        let mut out = Vec::new();
        let learned = self.read_candidates(
            folder,
            from,
            to,
            |_| true,
            |e, item| {
                if recur::mapi::occurs_in(item, from, to, floating) {
                    out.push(e);
                }
            },
        )?;
        Ok((out, learned))
    }

    fn free_busy_learning(
        &self,
        from: i64,
        to: i64,
        floating: &Zone,
    ) -> Result<(Vec<BusySlot>, Learned)> {
        let mut out = Vec::new();
        let learned = self.read_candidates(
            FolderRole::Calendar.into(),
            from,
            to,
            |e| ItemClass::from_message_class(&e.message_class) == Some(ItemClass::Appointment),
            |e, item| out.extend(slots_of_item(item, e.message_id, from, to, floating)),
        )?;
        out.sort();
        Ok((out, learned))
    }
}

impl Store {
    /// [`StoreReader::items_in_range`], writing back the time index bounds
    /// of the items it had to read for want of them (rows of an older
    /// store, items changed over MAPI), so the next query reads only
    /// candidates. A failed write-back is logged, not returned: the answer
    /// stands.
    pub fn items_in_range(
        &self,
        folder: impl Into<FolderRef>,
        from: i64,
        to: i64,
        floating: &Zone,
    ) -> Result<Vec<ItemEntry>> {
        let (out, learned) =
            self.reader
                .items_in_range_learning(folder.into(), from, to, floating)?;
        self.learn_ranges(learned);
        Ok(out)
    }

    /// [`StoreReader::free_busy`], writing back bounds as
    /// [`Store::items_in_range`] does.
    pub fn free_busy(&self, from: i64, to: i64, floating: &Zone) -> Result<Vec<BusySlot>> {
        let (out, learned) = self.reader.free_busy_learning(from, to, floating)?;
        self.learn_ranges(learned);
        Ok(out)
    }

    fn learn_ranges(&self, learned: Learned) {
        if learned.is_empty() {
            return;
        }
        let n = learned.len();
        match self
            .writer
            .submit((), move |ctx| items::learn_ranges(ctx, &learned))
        {
            Ok(written) => tracing::debug!(read = n, written, "time index bounds written back"),
            Err(e) => tracing::warn!(error = %e, "time index bounds not written back"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::items::{Precondition, PutTarget};
    use crate::{FolderRole, NewStore, OpenOptions, Store, StoreKind};
    use groxide_pim::ical::{ImportOptions, parse_calendar};
    use groxide_pim::recur::Zone;
    use std::cell::Cell;

    thread_local! {
        /// Items decoded by time range queries on this thread.
        pub(crate) static DECODED: Cell<usize> = const { Cell::new(0) };
    }

    fn decoded() -> usize {
        DECODED.with(Cell::get)
    }

    /// One event per day from 1 January 2020 (`days` of them, UTC), plus
    /// three on 15 January 2025.
    fn calendar(days: i64) -> String {
        let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
        let day0 = 1_577_836_800; // 2020-01-01
        let mut ev = |uid: String, start: i64| {
            let f = |t: i64| {
                let d = t.div_euclid(86_400);
                let secs = t.rem_euclid(86_400);
                // civil from days (proleptic Gregorian)
                let z = d + 719_468;
                let era = z.div_euclid(146_097);
                let doe = z - era * 146_097;
                let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
                let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
                let mp = (5 * doy + 2) / 153;
                let day = doy - (153 * mp + 2) / 5 + 1;
                let month = if mp < 10 { mp + 3 } else { mp - 9 };
                let year = yoe + era * 400 + i64::from(month <= 2);
                format!(
                    "{year:04}{month:02}{day:02}T{:02}{:02}00Z",
                    secs / 3600,
                    secs % 3600 / 60
                )
            };
            ics.push_str(&format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:{uid}\r\n\
                 DTSTART:{}\r\nDTEND:{}\r\nEND:VEVENT\r\n",
                f(start),
                f(start + 3600)
            ));
        };
        for d in 0..days {
            ev(format!("old-{d}"), day0 + d * 86_400 + 9 * 3600);
        }
        for h in 0..3 {
            ev(format!("now-{h}"), 1_736_931_600 + h * 3600); // 2025-01-15 09:00
        }
        ics.push_str("END:VCALENDAR\r\n");
        ics
    }

    #[test]
    fn a_time_range_query_decodes_only_the_candidates_of_the_index() {
        let tmp = tempfile::tempdir().unwrap();
        let new = NewStore {
            kind: StoreKind::Private,
            owner: "a@example.org".into(),
            lang: String::new(),
            quota_bytes: 0,
        };
        let (store, _, _) =
            Store::create(&tmp.path().join("a"), &new, &OpenOptions::default()).unwrap();
        const OLD: i64 = 300;
        let items = parse_calendar(calendar(OLD).as_bytes(), &ImportOptions::default()).items;
        assert_eq!(items.len(), OLD as usize + 3);
        for i in items {
            store
                .put_item(
                    FolderRole::Calendar,
                    &i.unwrap(),
                    PutTarget::ByUid,
                    Precondition::None,
                )
                .unwrap();
        }
        // 2025-01-15, the whole day.
        let (from, to) = (1_736_899_200, 1_736_985_600);
        let before = decoded();
        let found = store
            .items_in_range(FolderRole::Calendar, from, to, &Zone::Utc)
            .unwrap();
        let mut uids: Vec<&str> = found.iter().map(|e| e.item_uid.as_str()).collect();
        uids.sort_unstable();
        assert_eq!(uids, ["now-0", "now-1", "now-2"]);
        assert_eq!(decoded() - before, 3, "items decoded for 3 in range");

        let before = decoded();
        let slots = store.free_busy(from, to, &Zone::Utc).unwrap();
        assert_eq!(slots.len(), 3);
        assert_eq!(decoded() - before, 3, "items decoded for free/busy");

        // A range holding them all reads them all.
        let before = decoded();
        let all = store
            .items_in_range(FolderRole::Calendar, 0, to, &Zone::Utc)
            .unwrap();
        assert_eq!(all.len(), OLD as usize + 3);
        assert_eq!(decoded() - before, OLD as usize + 3);
    }
}
