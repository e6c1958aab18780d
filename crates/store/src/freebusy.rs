//! Free/busy of a mailbox: the busy times of its Calendar folder in a
//! range, with recurring series expanded (bounded, by groxide-pim), deleted
//! occurrences left out, moved ones at their new times and an exception's
//! own busy status where it has one.

use crate::error::Result;
use crate::folders::{FolderRef, FolderRole};
use crate::ids::MessageId;
use crate::items::ItemEntry;
use crate::store::StoreReader;
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

impl StoreReader {
    /// The live items of `folder` with an instance in `[from, to)` (Unix
    /// seconds; a CalDAV time-range filter,
    /// [`groxide_pim::recur::mapi::occurs_in`]), by UID, read without their
    /// source objects; all-day and floating ones in `floating`.
    pub fn items_in_range(
        &self,
        folder: impl Into<FolderRef>,
        from: i64,
        to: i64,
        floating: &Zone,
    ) -> Result<Vec<ItemEntry>> {
        let mut out = Vec::new();
        for e in self.list_items(folder)? {
            let item = match self.get_item_without_original(e.message_id) {
                Ok(i) => i,
                // Removed since the listing.
                Err(crate::StoreError::NoSuchMessage(_)) => continue,
                Err(err) => return Err(err),
            };
            if groxide_pim::recur::mapi::occurs_in(&item, from, to, floating) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The busy slots of the Calendar folder overlapping `[from, to)` (Unix
    /// seconds), by start; free time is left out. All-day and floating
    /// events are read in `floating` (the owner's zone).
    pub fn free_busy(&self, from: i64, to: i64, floating: &Zone) -> Result<Vec<BusySlot>> {
        let mut out = Vec::new();
        for e in self.list_items(FolderRole::Calendar)? {
            if ItemClass::from_message_class(&e.message_class) != Some(ItemClass::Appointment) {
                continue;
            }
            let item = match self.get_item_without_original(e.message_id) {
                Ok(i) => i,
                // Removed since the listing.
                Err(crate::StoreError::NoSuchMessage(_)) => continue,
                Err(err) => return Err(err),
            };
            out.extend(slots_of_item(&item, e.message_id, from, to, floating));
        }
        out.sort();
        Ok(out)
    }
}
