//! The property tags groxide uses: groxide-mapi's [MS-OXPROPS] tags and
//! flag values, re-exported, plus the tags that are groxide's own.
#![allow(missing_docs)]

use crate::props::PropTag;

pub use groxide_mapi::tags::*;

/// groxide's IMAP keywords of a message (PT_MV_UNICODE). A tag in the
/// provider-defined range 0x6600–0x67FF, chosen by groxide; it stands for
/// Outlook's categories (PidNameKeywords) until named properties exist.
pub const PR_GROXIDE_KEYWORDS: PropTag = PropTag(0x67F0_101F);
