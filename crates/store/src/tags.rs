//! The property tags groxide uses ([MS-OXPROPS] ids; type in the low 16 bits).
#![allow(missing_docs)] // the names are the documentation: [MS-OXPROPS] PidTag…

use crate::props::PropTag;

pub const PR_IMPORTANCE: PropTag = PropTag(0x0017_0003);
pub const PR_MESSAGE_CLASS: PropTag = PropTag(0x001A_001F);
pub const PR_SENSITIVITY: PropTag = PropTag(0x0036_0003);
pub const PR_SUBJECT: PropTag = PropTag(0x0037_001F);
pub const PR_CLIENT_SUBMIT_TIME: PropTag = PropTag(0x0039_0040);
pub const PR_SENT_REPRESENTING_NAME: PropTag = PropTag(0x0042_001F);
pub const PR_SENT_REPRESENTING_ADDRTYPE: PropTag = PropTag(0x0064_001F);
pub const PR_SENT_REPRESENTING_EMAIL_ADDRESS: PropTag = PropTag(0x0065_001F);
pub const PR_CONVERSATION_TOPIC: PropTag = PropTag(0x0070_001F);
pub const PR_RECIPIENT_TYPE: PropTag = PropTag(0x0C15_0003);
pub const PR_SENDER_NAME: PropTag = PropTag(0x0C1A_001F);
pub const PR_SENDER_ADDRTYPE: PropTag = PropTag(0x0C1E_001F);
pub const PR_SENDER_EMAIL_ADDRESS: PropTag = PropTag(0x0C1F_001F);
pub const PR_DISPLAY_BCC: PropTag = PropTag(0x0E02_001F);
pub const PR_DISPLAY_CC: PropTag = PropTag(0x0E03_001F);
pub const PR_DISPLAY_TO: PropTag = PropTag(0x0E04_001F);
pub const PR_MESSAGE_DELIVERY_TIME: PropTag = PropTag(0x0E06_0040);
pub const PR_MESSAGE_FLAGS: PropTag = PropTag(0x0E07_0003);
pub const PR_MESSAGE_SIZE: PropTag = PropTag(0x0E08_0003);
pub const PR_MESSAGE_SIZE_EXTENDED: PropTag = PropTag(0x0E08_0014);
pub const PR_HASATTACH: PropTag = PropTag(0x0E1B_000B);
pub const PR_ATTACH_SIZE: PropTag = PropTag(0x0E20_0003);
pub const PR_ATTACH_NUM: PropTag = PropTag(0x0E21_0003);
pub const PR_INTERNET_ARTICLE_NUMBER: PropTag = PropTag(0x0E23_0003);
pub const PR_BODY: PropTag = PropTag(0x1000_001F);
pub const PR_HTML: PropTag = PropTag(0x1013_0102);
pub const PR_INTERNET_MESSAGE_ID: PropTag = PropTag(0x1035_001F);
pub const PR_INTERNET_REFERENCES: PropTag = PropTag(0x1039_001F);
pub const PR_IN_REPLY_TO_ID: PropTag = PropTag(0x1042_001F);
pub const PR_ICON_INDEX: PropTag = PropTag(0x1080_0003);
pub const PR_LAST_VERB_EXECUTED: PropTag = PropTag(0x1081_0003);
pub const PR_FLAG_STATUS: PropTag = PropTag(0x1090_0003);
pub const PR_DISPLAY_NAME: PropTag = PropTag(0x3001_001F);
pub const PR_ADDRTYPE: PropTag = PropTag(0x3002_001F);
pub const PR_EMAIL_ADDRESS: PropTag = PropTag(0x3003_001F);
pub const PR_COMMENT: PropTag = PropTag(0x3004_001F);
pub const PR_CREATION_TIME: PropTag = PropTag(0x3007_0040);
pub const PR_LAST_MODIFICATION_TIME: PropTag = PropTag(0x3008_0040);
pub const PR_FOLDER_TYPE: PropTag = PropTag(0x3601_0003);
pub const PR_CONTENT_COUNT: PropTag = PropTag(0x3602_0003);
pub const PR_CONTENT_UNREAD: PropTag = PropTag(0x3603_0003);
pub const PR_SUBFOLDERS: PropTag = PropTag(0x360A_000B);
pub const PR_CONTAINER_CLASS: PropTag = PropTag(0x3613_001F);
pub const PR_ATTACH_DATA_BIN: PropTag = PropTag(0x3701_0102);
pub const PR_ATTACH_FILENAME: PropTag = PropTag(0x3704_001F);
pub const PR_ATTACH_METHOD: PropTag = PropTag(0x3705_0003);
pub const PR_ATTACH_LONG_FILENAME: PropTag = PropTag(0x3707_001F);
pub const PR_ATTACH_MIME_TAG: PropTag = PropTag(0x370E_001F);
pub const PR_ATTACH_CONTENT_ID: PropTag = PropTag(0x3712_001F);
pub const PR_ATTACH_CONTENT_LOCATION: PropTag = PropTag(0x3713_001F);
pub const PR_SMTP_ADDRESS: PropTag = PropTag(0x39FE_001F);
pub const PR_SENDER_SMTP_ADDRESS: PropTag = PropTag(0x5D01_001F);
pub const PR_SENT_REPRESENTING_SMTP_ADDRESS: PropTag = PropTag(0x5D02_001F);
pub const PR_ATTACHMENT_HIDDEN: PropTag = PropTag(0x7FFE_000B);

/// groxide's IMAP keywords of a message (PT_MV_UNICODE). A tag in the
/// provider-defined range 0x6600–0x67FF, chosen by groxide; it stands for
/// Outlook's categories (PidNameKeywords) until named properties exist.
pub const PR_GROXIDE_KEYWORDS: PropTag = PropTag(0x67F0_101F);

/// PR_MESSAGE_FLAGS: the message has been read.
pub const MSGFLAG_READ: i32 = 0x0000_0001;
/// PR_MESSAGE_FLAGS: the message is still being composed (a draft).
pub const MSGFLAG_UNSENT: i32 = 0x0000_0008;
/// PR_MESSAGE_FLAGS: the message has attachments.
pub const MSGFLAG_HASATTACH: i32 = 0x0000_0010;

/// PR_FLAG_STATUS: follow-up flagged.
pub const FOLLOWUP_FLAGGED: i32 = 2;
/// PR_FLAG_STATUS: follow-up complete.
pub const FOLLOWUP_COMPLETE: i32 = 1;

/// PR_LAST_VERB_EXECUTED: replied to the sender.
pub const EXCHIVERB_REPLYTOSENDER: i32 = 102;
/// PR_LAST_VERB_EXECUTED: replied to all.
pub const EXCHIVERB_REPLYTOALL: i32 = 103;
/// PR_LAST_VERB_EXECUTED: forwarded.
pub const EXCHIVERB_FORWARD: i32 = 104;

/// PR_ICON_INDEX: read mail.
pub const ICON_MAIL_READ: i32 = 0x0000_0100;
/// PR_ICON_INDEX: unread mail.
pub const ICON_MAIL_UNREAD: i32 = 0x0000_0101;
/// PR_ICON_INDEX: unsent mail (draft).
pub const ICON_MAIL_UNSENT: i32 = 0x0000_0103;
/// PR_ICON_INDEX: replied mail.
pub const ICON_MAIL_REPLIED: i32 = 0x0000_0105;
/// PR_ICON_INDEX: forwarded mail.
pub const ICON_MAIL_FORWARDED: i32 = 0x0000_0106;

/// PR_RECIPIENT_TYPE: To.
pub const MAPI_TO: i32 = 1;
/// PR_RECIPIENT_TYPE: Cc.
pub const MAPI_CC: i32 = 2;
/// PR_RECIPIENT_TYPE: Bcc.
pub const MAPI_BCC: i32 = 3;

/// PR_ATTACH_METHOD: the content is in PR_ATTACH_DATA_BIN.
pub const ATTACH_BY_VALUE: i32 = 1;
/// PR_ATTACH_METHOD: the attachment is an embedded message.
pub const ATTACH_EMBEDDED_MSG: i32 = 5;
