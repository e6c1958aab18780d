//! Named properties that appointments, meetings, contacts, distribution
//! lists, tasks, sticky notes and journal entries use, with the LIDs and
//! value types of [MS-OXPROPS] (and [MS-OXOCAL], [MS-OXOCNTC],
//! [MS-OXOTASK], [MS-OXONOTE], [MS-OXOJRNL]).

use crate::named::{KnownProp, NamedProp};
use crate::psets;
use crate::value::PropType;

/// [MS-OXPROPS] `PidLidAttendeeCriticalChange`.
pub const PID_LID_ATTENDEE_CRITICAL_CHANGE: KnownProp = KnownProp::lid(
    "PidLidAttendeeCriticalChange",
    psets::MEETING,
    0x0001,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidWhere`.
pub const PID_LID_WHERE: KnownProp =
    KnownProp::lid("PidLidWhere", psets::MEETING, 0x0002, PropType::Unicode);
/// [MS-OXPROPS] `PidLidGlobalObjectId`.
pub const PID_LID_GLOBAL_OBJECT_ID: KnownProp = KnownProp::lid(
    "PidLidGlobalObjectId",
    psets::MEETING,
    0x0003,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidIsRecurring`.
pub const PID_LID_IS_RECURRING: KnownProp = KnownProp::lid(
    "PidLidIsRecurring",
    psets::MEETING,
    0x0005,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidRequiredAttendees`.
pub const PID_LID_REQUIRED_ATTENDEES: KnownProp = KnownProp::lid(
    "PidLidRequiredAttendees",
    psets::MEETING,
    0x0006,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidOptionalAttendees`.
pub const PID_LID_OPTIONAL_ATTENDEES: KnownProp = KnownProp::lid(
    "PidLidOptionalAttendees",
    psets::MEETING,
    0x0007,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidResourceAttendees`.
pub const PID_LID_RESOURCE_ATTENDEES: KnownProp = KnownProp::lid(
    "PidLidResourceAttendees",
    psets::MEETING,
    0x0008,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidIsException`.
pub const PID_LID_IS_EXCEPTION: KnownProp = KnownProp::lid(
    "PidLidIsException",
    psets::MEETING,
    0x000A,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidTimeZone`.
pub const PID_LID_TIME_ZONE: KnownProp =
    KnownProp::lid("PidLidTimeZone", psets::MEETING, 0x000C, PropType::Long);
/// [MS-OXPROPS] `PidLidStartRecurrenceDate`.
pub const PID_LID_START_RECURRENCE_DATE: KnownProp = KnownProp::lid(
    "PidLidStartRecurrenceDate",
    psets::MEETING,
    0x000D,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidStartRecurrenceTime`.
pub const PID_LID_START_RECURRENCE_TIME: KnownProp = KnownProp::lid(
    "PidLidStartRecurrenceTime",
    psets::MEETING,
    0x000E,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidEndRecurrenceDate`.
pub const PID_LID_END_RECURRENCE_DATE: KnownProp = KnownProp::lid(
    "PidLidEndRecurrenceDate",
    psets::MEETING,
    0x000F,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidEndRecurrenceTime`.
pub const PID_LID_END_RECURRENCE_TIME: KnownProp = KnownProp::lid(
    "PidLidEndRecurrenceTime",
    psets::MEETING,
    0x0010,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidOwnerCriticalChange`.
pub const PID_LID_OWNER_CRITICAL_CHANGE: KnownProp = KnownProp::lid(
    "PidLidOwnerCriticalChange",
    psets::MEETING,
    0x001A,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidCalendarType`.
pub const PID_LID_CALENDAR_TYPE: KnownProp =
    KnownProp::lid("PidLidCalendarType", psets::MEETING, 0x001C, PropType::Long);
/// [MS-OXPROPS] `PidLidCleanGlobalObjectId`.
pub const PID_LID_CLEAN_GLOBAL_OBJECT_ID: KnownProp = KnownProp::lid(
    "PidLidCleanGlobalObjectId",
    psets::MEETING,
    0x0023,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAppointmentMessageClass`.
pub const PID_LID_APPOINTMENT_MESSAGE_CLASS: KnownProp = KnownProp::lid(
    "PidLidAppointmentMessageClass",
    psets::MEETING,
    0x0024,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidMeetingType`.
pub const PID_LID_MEETING_TYPE: KnownProp =
    KnownProp::lid("PidLidMeetingType", psets::MEETING, 0x0026, PropType::Long);
/// [MS-OXPROPS] `PidLidOldLocation`.
pub const PID_LID_OLD_LOCATION: KnownProp = KnownProp::lid(
    "PidLidOldLocation",
    psets::MEETING,
    0x0028,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidOldWhenStartWhole`.
pub const PID_LID_OLD_WHEN_START_WHOLE: KnownProp = KnownProp::lid(
    "PidLidOldWhenStartWhole",
    psets::MEETING,
    0x0029,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidOldWhenEndWhole`.
pub const PID_LID_OLD_WHEN_END_WHOLE: KnownProp = KnownProp::lid(
    "PidLidOldWhenEndWhole",
    psets::MEETING,
    0x002A,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentSequence`.
pub const PID_LID_APPOINTMENT_SEQUENCE: KnownProp = KnownProp::lid(
    "PidLidAppointmentSequence",
    psets::APPOINTMENT,
    0x8201,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentSequenceTime`.
pub const PID_LID_APPOINTMENT_SEQUENCE_TIME: KnownProp = KnownProp::lid(
    "PidLidAppointmentSequenceTime",
    psets::APPOINTMENT,
    0x8202,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentLastSequence`.
pub const PID_LID_APPOINTMENT_LAST_SEQUENCE: KnownProp = KnownProp::lid(
    "PidLidAppointmentLastSequence",
    psets::APPOINTMENT,
    0x8203,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidChangeHighlight`.
pub const PID_LID_CHANGE_HIGHLIGHT: KnownProp = KnownProp::lid(
    "PidLidChangeHighlight",
    psets::APPOINTMENT,
    0x8204,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidBusyStatus`.
pub const PID_LID_BUSY_STATUS: KnownProp = KnownProp::lid(
    "PidLidBusyStatus",
    psets::APPOINTMENT,
    0x8205,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidFExceptionalBody`.
pub const PID_LID_F_EXCEPTIONAL_BODY: KnownProp = KnownProp::lid(
    "PidLidFExceptionalBody",
    psets::APPOINTMENT,
    0x8206,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidAppointmentAuxiliaryFlags`.
pub const PID_LID_APPOINTMENT_AUXILIARY_FLAGS: KnownProp = KnownProp::lid(
    "PidLidAppointmentAuxiliaryFlags",
    psets::APPOINTMENT,
    0x8207,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidLocation`.
pub const PID_LID_LOCATION: KnownProp = KnownProp::lid(
    "PidLidLocation",
    psets::APPOINTMENT,
    0x8208,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidMeetingWorkspaceUrl`.
pub const PID_LID_MEETING_WORKSPACE_URL: KnownProp = KnownProp::lid(
    "PidLidMeetingWorkspaceUrl",
    psets::APPOINTMENT,
    0x8209,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidAppointmentStartWhole`.
pub const PID_LID_APPOINTMENT_START_WHOLE: KnownProp = KnownProp::lid(
    "PidLidAppointmentStartWhole",
    psets::APPOINTMENT,
    0x820D,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentEndWhole`.
pub const PID_LID_APPOINTMENT_END_WHOLE: KnownProp = KnownProp::lid(
    "PidLidAppointmentEndWhole",
    psets::APPOINTMENT,
    0x820E,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentDuration`.
pub const PID_LID_APPOINTMENT_DURATION: KnownProp = KnownProp::lid(
    "PidLidAppointmentDuration",
    psets::APPOINTMENT,
    0x8213,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentColor`.
pub const PID_LID_APPOINTMENT_COLOR: KnownProp = KnownProp::lid(
    "PidLidAppointmentColor",
    psets::APPOINTMENT,
    0x8214,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentSubType`.
pub const PID_LID_APPOINTMENT_SUB_TYPE: KnownProp = KnownProp::lid(
    "PidLidAppointmentSubType",
    psets::APPOINTMENT,
    0x8215,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidAppointmentRecur`.
pub const PID_LID_APPOINTMENT_RECUR: KnownProp = KnownProp::lid(
    "PidLidAppointmentRecur",
    psets::APPOINTMENT,
    0x8216,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAppointmentStateFlags`.
pub const PID_LID_APPOINTMENT_STATE_FLAGS: KnownProp = KnownProp::lid(
    "PidLidAppointmentStateFlags",
    psets::APPOINTMENT,
    0x8217,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidResponseStatus`.
pub const PID_LID_RESPONSE_STATUS: KnownProp = KnownProp::lid(
    "PidLidResponseStatus",
    psets::APPOINTMENT,
    0x8218,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentReplyTime`.
pub const PID_LID_APPOINTMENT_REPLY_TIME: KnownProp = KnownProp::lid(
    "PidLidAppointmentReplyTime",
    psets::APPOINTMENT,
    0x8220,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidRecurring`.
pub const PID_LID_RECURRING: KnownProp = KnownProp::lid(
    "PidLidRecurring",
    psets::APPOINTMENT,
    0x8223,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidIntendedBusyStatus`.
pub const PID_LID_INTENDED_BUSY_STATUS: KnownProp = KnownProp::lid(
    "PidLidIntendedBusyStatus",
    psets::APPOINTMENT,
    0x8224,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentUpdateTime`.
pub const PID_LID_APPOINTMENT_UPDATE_TIME: KnownProp = KnownProp::lid(
    "PidLidAppointmentUpdateTime",
    psets::APPOINTMENT,
    0x8226,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidExceptionReplaceTime`.
pub const PID_LID_EXCEPTION_REPLACE_TIME: KnownProp = KnownProp::lid(
    "PidLidExceptionReplaceTime",
    psets::APPOINTMENT,
    0x8228,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidFInvited`.
pub const PID_LID_F_INVITED: KnownProp = KnownProp::lid(
    "PidLidFInvited",
    psets::APPOINTMENT,
    0x8229,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidFExceptionalAttendees`.
pub const PID_LID_F_EXCEPTIONAL_ATTENDEES: KnownProp = KnownProp::lid(
    "PidLidFExceptionalAttendees",
    psets::APPOINTMENT,
    0x822B,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidOwnerName`.
pub const PID_LID_OWNER_NAME: KnownProp = KnownProp::lid(
    "PidLidOwnerName",
    psets::APPOINTMENT,
    0x822E,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidAppointmentReplyName`.
pub const PID_LID_APPOINTMENT_REPLY_NAME: KnownProp = KnownProp::lid(
    "PidLidAppointmentReplyName",
    psets::APPOINTMENT,
    0x8230,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidRecurrenceType`.
pub const PID_LID_RECURRENCE_TYPE: KnownProp = KnownProp::lid(
    "PidLidRecurrenceType",
    psets::APPOINTMENT,
    0x8231,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidRecurrencePattern`.
pub const PID_LID_RECURRENCE_PATTERN: KnownProp = KnownProp::lid(
    "PidLidRecurrencePattern",
    psets::APPOINTMENT,
    0x8232,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidTimeZoneStruct`.
pub const PID_LID_TIME_ZONE_STRUCT: KnownProp = KnownProp::lid(
    "PidLidTimeZoneStruct",
    psets::APPOINTMENT,
    0x8233,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidTimeZoneDescription`.
pub const PID_LID_TIME_ZONE_DESCRIPTION: KnownProp = KnownProp::lid(
    "PidLidTimeZoneDescription",
    psets::APPOINTMENT,
    0x8234,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidClipStart`.
pub const PID_LID_CLIP_START: KnownProp = KnownProp::lid(
    "PidLidClipStart",
    psets::APPOINTMENT,
    0x8235,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidClipEnd`.
pub const PID_LID_CLIP_END: KnownProp = KnownProp::lid(
    "PidLidClipEnd",
    psets::APPOINTMENT,
    0x8236,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAllAttendeesString`.
pub const PID_LID_ALL_ATTENDEES_STRING: KnownProp = KnownProp::lid(
    "PidLidAllAttendeesString",
    psets::APPOINTMENT,
    0x8238,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidToAttendeesString`.
pub const PID_LID_TO_ATTENDEES_STRING: KnownProp = KnownProp::lid(
    "PidLidToAttendeesString",
    psets::APPOINTMENT,
    0x823B,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidCcAttendeesString`.
pub const PID_LID_CC_ATTENDEES_STRING: KnownProp = KnownProp::lid(
    "PidLidCcAttendeesString",
    psets::APPOINTMENT,
    0x823C,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidConferencingType`.
pub const PID_LID_CONFERENCING_TYPE: KnownProp = KnownProp::lid(
    "PidLidConferencingType",
    psets::APPOINTMENT,
    0x8241,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidOrganizerAlias`.
pub const PID_LID_ORGANIZER_ALIAS: KnownProp = KnownProp::lid(
    "PidLidOrganizerAlias",
    psets::APPOINTMENT,
    0x8243,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidNetShowUrl`.
pub const PID_LID_NET_SHOW_URL: KnownProp = KnownProp::lid(
    "PidLidNetShowUrl",
    psets::APPOINTMENT,
    0x8248,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidAppointmentProposedStartWhole`.
pub const PID_LID_APPOINTMENT_PROPOSED_START_WHOLE: KnownProp = KnownProp::lid(
    "PidLidAppointmentProposedStartWhole",
    psets::APPOINTMENT,
    0x8250,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentProposedEndWhole`.
pub const PID_LID_APPOINTMENT_PROPOSED_END_WHOLE: KnownProp = KnownProp::lid(
    "PidLidAppointmentProposedEndWhole",
    psets::APPOINTMENT,
    0x8251,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidAppointmentProposedDuration`.
pub const PID_LID_APPOINTMENT_PROPOSED_DURATION: KnownProp = KnownProp::lid(
    "PidLidAppointmentProposedDuration",
    psets::APPOINTMENT,
    0x8256,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentCounterProposal`.
pub const PID_LID_APPOINTMENT_COUNTER_PROPOSAL: KnownProp = KnownProp::lid(
    "PidLidAppointmentCounterProposal",
    psets::APPOINTMENT,
    0x8257,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidAppointmentProposalNumber`.
pub const PID_LID_APPOINTMENT_PROPOSAL_NUMBER: KnownProp = KnownProp::lid(
    "PidLidAppointmentProposalNumber",
    psets::APPOINTMENT,
    0x8259,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAppointmentNotAllowPropose`.
pub const PID_LID_APPOINTMENT_NOT_ALLOW_PROPOSE: KnownProp = KnownProp::lid(
    "PidLidAppointmentNotAllowPropose",
    psets::APPOINTMENT,
    0x825A,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidAppointmentUnsendableRecipients`.
pub const PID_LID_APPOINTMENT_UNSENDABLE_RECIPIENTS: KnownProp = KnownProp::lid(
    "PidLidAppointmentUnsendableRecipients",
    psets::APPOINTMENT,
    0x825D,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAppointmentTimeZoneDefinitionStartDisplay`.
pub const PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY: KnownProp = KnownProp::lid(
    "PidLidAppointmentTimeZoneDefinitionStartDisplay",
    psets::APPOINTMENT,
    0x825E,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAppointmentTimeZoneDefinitionEndDisplay`.
pub const PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_END_DISPLAY: KnownProp = KnownProp::lid(
    "PidLidAppointmentTimeZoneDefinitionEndDisplay",
    psets::APPOINTMENT,
    0x825F,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAppointmentTimeZoneDefinitionRecur`.
pub const PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_RECUR: KnownProp = KnownProp::lid(
    "PidLidAppointmentTimeZoneDefinitionRecur",
    psets::APPOINTMENT,
    0x8260,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidReminderDelta`.
pub const PID_LID_REMINDER_DELTA: KnownProp =
    KnownProp::lid("PidLidReminderDelta", psets::COMMON, 0x8501, PropType::Long);
/// [MS-OXPROPS] `PidLidReminderTime`.
pub const PID_LID_REMINDER_TIME: KnownProp = KnownProp::lid(
    "PidLidReminderTime",
    psets::COMMON,
    0x8502,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidReminderSet`.
pub const PID_LID_REMINDER_SET: KnownProp = KnownProp::lid(
    "PidLidReminderSet",
    psets::COMMON,
    0x8503,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidPrivate`.
pub const PID_LID_PRIVATE: KnownProp =
    KnownProp::lid("PidLidPrivate", psets::COMMON, 0x8506, PropType::Boolean);
/// [MS-OXPROPS] `PidLidSideEffects`.
pub const PID_LID_SIDE_EFFECTS: KnownProp =
    KnownProp::lid("PidLidSideEffects", psets::COMMON, 0x8510, PropType::Long);
/// [MS-OXPROPS] `PidLidSmartNoAttach`.
pub const PID_LID_SMART_NO_ATTACH: KnownProp = KnownProp::lid(
    "PidLidSmartNoAttach",
    psets::COMMON,
    0x8514,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidCommonStart`.
pub const PID_LID_COMMON_START: KnownProp = KnownProp::lid(
    "PidLidCommonStart",
    psets::COMMON,
    0x8516,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidCommonEnd`.
pub const PID_LID_COMMON_END: KnownProp =
    KnownProp::lid("PidLidCommonEnd", psets::COMMON, 0x8517, PropType::SysTime);
/// [MS-OXPROPS] `PidLidTaskMode`.
pub const PID_LID_TASK_MODE: KnownProp =
    KnownProp::lid("PidLidTaskMode", psets::COMMON, 0x8518, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskGlobalId`.
pub const PID_LID_TASK_GLOBAL_ID: KnownProp = KnownProp::lid(
    "PidLidTaskGlobalId",
    psets::COMMON,
    0x8519,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidReminderOverride`.
pub const PID_LID_REMINDER_OVERRIDE: KnownProp = KnownProp::lid(
    "PidLidReminderOverride",
    psets::COMMON,
    0x851C,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidReminderPlaySound`.
pub const PID_LID_REMINDER_PLAY_SOUND: KnownProp = KnownProp::lid(
    "PidLidReminderPlaySound",
    psets::COMMON,
    0x851E,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidReminderFileParameter`.
pub const PID_LID_REMINDER_FILE_PARAMETER: KnownProp = KnownProp::lid(
    "PidLidReminderFileParameter",
    psets::COMMON,
    0x851F,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFlagRequest`.
pub const PID_LID_FLAG_REQUEST: KnownProp = KnownProp::lid(
    "PidLidFlagRequest",
    psets::COMMON,
    0x8530,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidBilling`.
pub const PID_LID_BILLING: KnownProp =
    KnownProp::lid("PidLidBilling", psets::COMMON, 0x8535, PropType::Unicode);
/// [MS-OXPROPS] `PidLidCompanies`.
pub const PID_LID_COMPANIES: KnownProp = KnownProp::lid(
    "PidLidCompanies",
    psets::COMMON,
    0x8539,
    PropType::MvUnicode,
);
/// [MS-OXPROPS] `PidLidContacts`.
pub const PID_LID_CONTACTS: KnownProp =
    KnownProp::lid("PidLidContacts", psets::COMMON, 0x853A, PropType::MvUnicode);
/// [MS-OXPROPS] `PidLidCurrentVersion`.
pub const PID_LID_CURRENT_VERSION: KnownProp = KnownProp::lid(
    "PidLidCurrentVersion",
    psets::COMMON,
    0x8552,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidCurrentVersionName`.
pub const PID_LID_CURRENT_VERSION_NAME: KnownProp = KnownProp::lid(
    "PidLidCurrentVersionName",
    psets::COMMON,
    0x8554,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidReminderSignalTime`.
pub const PID_LID_REMINDER_SIGNAL_TIME: KnownProp = KnownProp::lid(
    "PidLidReminderSignalTime",
    psets::COMMON,
    0x8560,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidToDoOrdinalDate`.
pub const PID_LID_TO_DO_ORDINAL_DATE: KnownProp = KnownProp::lid(
    "PidLidToDoOrdinalDate",
    psets::COMMON,
    0x85A0,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidToDoSubOrdinal`.
pub const PID_LID_TO_DO_SUB_ORDINAL: KnownProp = KnownProp::lid(
    "PidLidToDoSubOrdinal",
    psets::COMMON,
    0x85A1,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidToDoTitle`.
pub const PID_LID_TO_DO_TITLE: KnownProp =
    KnownProp::lid("PidLidToDoTitle", psets::COMMON, 0x85A4, PropType::Unicode);
/// [MS-OXPROPS] `PidLidFileUnder`.
pub const PID_LID_FILE_UNDER: KnownProp =
    KnownProp::lid("PidLidFileUnder", psets::ADDRESS, 0x8005, PropType::Unicode);
/// [MS-OXPROPS] `PidLidFileUnderId`.
pub const PID_LID_FILE_UNDER_ID: KnownProp =
    KnownProp::lid("PidLidFileUnderId", psets::ADDRESS, 0x8006, PropType::Long);
/// [MS-OXPROPS] `PidLidContactItemData`.
pub const PID_LID_CONTACT_ITEM_DATA: KnownProp = KnownProp::lid(
    "PidLidContactItemData",
    psets::ADDRESS,
    0x8007,
    PropType::MvLong,
);
/// [MS-OXPROPS] `PidLidReferredBy`.
pub const PID_LID_REFERRED_BY: KnownProp = KnownProp::lid(
    "PidLidReferredBy",
    psets::ADDRESS,
    0x800E,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidDepartment`.
pub const PID_LID_DEPARTMENT: KnownProp = KnownProp::lid(
    "PidLidDepartment",
    psets::ADDRESS,
    0x8010,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidHasPicture`.
pub const PID_LID_HAS_PICTURE: KnownProp = KnownProp::lid(
    "PidLidHasPicture",
    psets::ADDRESS,
    0x8015,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidHomeAddress`.
pub const PID_LID_HOME_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidHomeAddress",
    psets::ADDRESS,
    0x801A,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddress`.
pub const PID_LID_WORK_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidWorkAddress",
    psets::ADDRESS,
    0x801B,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidOtherAddress`.
pub const PID_LID_OTHER_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidOtherAddress",
    psets::ADDRESS,
    0x801C,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidPostalAddressId`.
pub const PID_LID_POSTAL_ADDRESS_ID: KnownProp = KnownProp::lid(
    "PidLidPostalAddressId",
    psets::ADDRESS,
    0x8022,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidContactCharacterSet`.
pub const PID_LID_CONTACT_CHARACTER_SET: KnownProp = KnownProp::lid(
    "PidLidContactCharacterSet",
    psets::ADDRESS,
    0x8023,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidAutoLog`.
pub const PID_LID_AUTO_LOG: KnownProp =
    KnownProp::lid("PidLidAutoLog", psets::ADDRESS, 0x8025, PropType::Boolean);
/// [MS-OXPROPS] `PidLidFileUnderList`.
pub const PID_LID_FILE_UNDER_LIST: KnownProp = KnownProp::lid(
    "PidLidFileUnderList",
    psets::ADDRESS,
    0x8026,
    PropType::MvLong,
);
/// [MS-OXPROPS] `PidLidAddressBookProviderEmailList`.
pub const PID_LID_ADDRESS_BOOK_PROVIDER_EMAIL_LIST: KnownProp = KnownProp::lid(
    "PidLidAddressBookProviderEmailList",
    psets::ADDRESS,
    0x8028,
    PropType::MvLong,
);
/// [MS-OXPROPS] `PidLidAddressBookProviderArrayType`.
pub const PID_LID_ADDRESS_BOOK_PROVIDER_ARRAY_TYPE: KnownProp = KnownProp::lid(
    "PidLidAddressBookProviderArrayType",
    psets::ADDRESS,
    0x8029,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidHtml`.
pub const PID_LID_HTML: KnownProp =
    KnownProp::lid("PidLidHtml", psets::ADDRESS, 0x802B, PropType::Unicode);
/// [MS-OXPROPS] `PidLidYomiFirstName`.
pub const PID_LID_YOMI_FIRST_NAME: KnownProp = KnownProp::lid(
    "PidLidYomiFirstName",
    psets::ADDRESS,
    0x802C,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidYomiLastName`.
pub const PID_LID_YOMI_LAST_NAME: KnownProp = KnownProp::lid(
    "PidLidYomiLastName",
    psets::ADDRESS,
    0x802D,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidYomiCompanyName`.
pub const PID_LID_YOMI_COMPANY_NAME: KnownProp = KnownProp::lid(
    "PidLidYomiCompanyName",
    psets::ADDRESS,
    0x802E,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidBusinessCardDisplayDefinition`.
pub const PID_LID_BUSINESS_CARD_DISPLAY_DEFINITION: KnownProp = KnownProp::lid(
    "PidLidBusinessCardDisplayDefinition",
    psets::ADDRESS,
    0x8040,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidBusinessCardCardPicture`.
pub const PID_LID_BUSINESS_CARD_CARD_PICTURE: KnownProp = KnownProp::lid(
    "PidLidBusinessCardCardPicture",
    psets::ADDRESS,
    0x8041,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidWorkAddressStreet`.
pub const PID_LID_WORK_ADDRESS_STREET: KnownProp = KnownProp::lid(
    "PidLidWorkAddressStreet",
    psets::ADDRESS,
    0x8045,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressCity`.
pub const PID_LID_WORK_ADDRESS_CITY: KnownProp = KnownProp::lid(
    "PidLidWorkAddressCity",
    psets::ADDRESS,
    0x8046,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressState`.
pub const PID_LID_WORK_ADDRESS_STATE: KnownProp = KnownProp::lid(
    "PidLidWorkAddressState",
    psets::ADDRESS,
    0x8047,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressPostalCode`.
pub const PID_LID_WORK_ADDRESS_POSTAL_CODE: KnownProp = KnownProp::lid(
    "PidLidWorkAddressPostalCode",
    psets::ADDRESS,
    0x8048,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressCountry`.
pub const PID_LID_WORK_ADDRESS_COUNTRY: KnownProp = KnownProp::lid(
    "PidLidWorkAddressCountry",
    psets::ADDRESS,
    0x8049,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressPostOfficeBox`.
pub const PID_LID_WORK_ADDRESS_POST_OFFICE_BOX: KnownProp = KnownProp::lid(
    "PidLidWorkAddressPostOfficeBox",
    psets::ADDRESS,
    0x804A,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidDistributionListChecksum`.
pub const PID_LID_DISTRIBUTION_LIST_CHECKSUM: KnownProp = KnownProp::lid(
    "PidLidDistributionListChecksum",
    psets::ADDRESS,
    0x804C,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidBirthdayEventEntryId`.
pub const PID_LID_BIRTHDAY_EVENT_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidBirthdayEventEntryId",
    psets::ADDRESS,
    0x804D,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidAnniversaryEventEntryId`.
pub const PID_LID_ANNIVERSARY_EVENT_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidAnniversaryEventEntryId",
    psets::ADDRESS,
    0x804E,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidContactUserField1`.
pub const PID_LID_CONTACT_USER_FIELD1: KnownProp = KnownProp::lid(
    "PidLidContactUserField1",
    psets::ADDRESS,
    0x804F,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidContactUserField2`.
pub const PID_LID_CONTACT_USER_FIELD2: KnownProp = KnownProp::lid(
    "PidLidContactUserField2",
    psets::ADDRESS,
    0x8050,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidContactUserField3`.
pub const PID_LID_CONTACT_USER_FIELD3: KnownProp = KnownProp::lid(
    "PidLidContactUserField3",
    psets::ADDRESS,
    0x8051,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidContactUserField4`.
pub const PID_LID_CONTACT_USER_FIELD4: KnownProp = KnownProp::lid(
    "PidLidContactUserField4",
    psets::ADDRESS,
    0x8052,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidDistributionListName`.
pub const PID_LID_DISTRIBUTION_LIST_NAME: KnownProp = KnownProp::lid(
    "PidLidDistributionListName",
    psets::ADDRESS,
    0x8053,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidDistributionListOneOffMembers`.
pub const PID_LID_DISTRIBUTION_LIST_ONE_OFF_MEMBERS: KnownProp = KnownProp::lid(
    "PidLidDistributionListOneOffMembers",
    psets::ADDRESS,
    0x8054,
    PropType::MvBinary,
);
/// [MS-OXPROPS] `PidLidDistributionListMembers`.
pub const PID_LID_DISTRIBUTION_LIST_MEMBERS: KnownProp = KnownProp::lid(
    "PidLidDistributionListMembers",
    psets::ADDRESS,
    0x8055,
    PropType::MvBinary,
);
/// [MS-OXPROPS] `PidLidInstantMessagingAddress`.
pub const PID_LID_INSTANT_MESSAGING_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidInstantMessagingAddress",
    psets::ADDRESS,
    0x8062,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidDistributionListStream`.
pub const PID_LID_DISTRIBUTION_LIST_STREAM: KnownProp = KnownProp::lid(
    "PidLidDistributionListStream",
    psets::ADDRESS,
    0x8064,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidEmail1DisplayName`.
pub const PID_LID_EMAIL1_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail1DisplayName",
    psets::ADDRESS,
    0x8080,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail1AddressType`.
pub const PID_LID_EMAIL1_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidEmail1AddressType",
    psets::ADDRESS,
    0x8082,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail1EmailAddress`.
pub const PID_LID_EMAIL1_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidEmail1EmailAddress",
    psets::ADDRESS,
    0x8083,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail1OriginalDisplayName`.
pub const PID_LID_EMAIL1_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail1OriginalDisplayName",
    psets::ADDRESS,
    0x8084,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail1OriginalEntryId`.
pub const PID_LID_EMAIL1_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidEmail1OriginalEntryId",
    psets::ADDRESS,
    0x8085,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidEmail2DisplayName`.
pub const PID_LID_EMAIL2_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail2DisplayName",
    psets::ADDRESS,
    0x8090,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail2AddressType`.
pub const PID_LID_EMAIL2_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidEmail2AddressType",
    psets::ADDRESS,
    0x8092,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail2EmailAddress`.
pub const PID_LID_EMAIL2_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidEmail2EmailAddress",
    psets::ADDRESS,
    0x8093,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail2OriginalDisplayName`.
pub const PID_LID_EMAIL2_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail2OriginalDisplayName",
    psets::ADDRESS,
    0x8094,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail2OriginalEntryId`.
pub const PID_LID_EMAIL2_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidEmail2OriginalEntryId",
    psets::ADDRESS,
    0x8095,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidEmail3DisplayName`.
pub const PID_LID_EMAIL3_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail3DisplayName",
    psets::ADDRESS,
    0x80A0,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail3AddressType`.
pub const PID_LID_EMAIL3_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidEmail3AddressType",
    psets::ADDRESS,
    0x80A2,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail3EmailAddress`.
pub const PID_LID_EMAIL3_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidEmail3EmailAddress",
    psets::ADDRESS,
    0x80A3,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail3OriginalDisplayName`.
pub const PID_LID_EMAIL3_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidEmail3OriginalDisplayName",
    psets::ADDRESS,
    0x80A4,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidEmail3OriginalEntryId`.
pub const PID_LID_EMAIL3_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidEmail3OriginalEntryId",
    psets::ADDRESS,
    0x80A5,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidFax1AddressType`.
pub const PID_LID_FAX1_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidFax1AddressType",
    psets::ADDRESS,
    0x80B2,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax1EmailAddress`.
pub const PID_LID_FAX1_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidFax1EmailAddress",
    psets::ADDRESS,
    0x80B3,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax1OriginalDisplayName`.
pub const PID_LID_FAX1_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidFax1OriginalDisplayName",
    psets::ADDRESS,
    0x80B4,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax1OriginalEntryId`.
pub const PID_LID_FAX1_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidFax1OriginalEntryId",
    psets::ADDRESS,
    0x80B5,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidFax2AddressType`.
pub const PID_LID_FAX2_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidFax2AddressType",
    psets::ADDRESS,
    0x80C2,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax2EmailAddress`.
pub const PID_LID_FAX2_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidFax2EmailAddress",
    psets::ADDRESS,
    0x80C3,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax2OriginalDisplayName`.
pub const PID_LID_FAX2_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidFax2OriginalDisplayName",
    psets::ADDRESS,
    0x80C4,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax2OriginalEntryId`.
pub const PID_LID_FAX2_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidFax2OriginalEntryId",
    psets::ADDRESS,
    0x80C5,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidFax3AddressType`.
pub const PID_LID_FAX3_ADDRESS_TYPE: KnownProp = KnownProp::lid(
    "PidLidFax3AddressType",
    psets::ADDRESS,
    0x80D2,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax3EmailAddress`.
pub const PID_LID_FAX3_EMAIL_ADDRESS: KnownProp = KnownProp::lid(
    "PidLidFax3EmailAddress",
    psets::ADDRESS,
    0x80D3,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax3OriginalDisplayName`.
pub const PID_LID_FAX3_ORIGINAL_DISPLAY_NAME: KnownProp = KnownProp::lid(
    "PidLidFax3OriginalDisplayName",
    psets::ADDRESS,
    0x80D4,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidFax3OriginalEntryId`.
pub const PID_LID_FAX3_ORIGINAL_ENTRY_ID: KnownProp = KnownProp::lid(
    "PidLidFax3OriginalEntryId",
    psets::ADDRESS,
    0x80D5,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidFreeBusyLocation`.
pub const PID_LID_FREE_BUSY_LOCATION: KnownProp = KnownProp::lid(
    "PidLidFreeBusyLocation",
    psets::ADDRESS,
    0x80D8,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidHomeAddressCountryCode`.
pub const PID_LID_HOME_ADDRESS_COUNTRY_CODE: KnownProp = KnownProp::lid(
    "PidLidHomeAddressCountryCode",
    psets::ADDRESS,
    0x80DA,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidWorkAddressCountryCode`.
pub const PID_LID_WORK_ADDRESS_COUNTRY_CODE: KnownProp = KnownProp::lid(
    "PidLidWorkAddressCountryCode",
    psets::ADDRESS,
    0x80DB,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidOtherAddressCountryCode`.
pub const PID_LID_OTHER_ADDRESS_COUNTRY_CODE: KnownProp = KnownProp::lid(
    "PidLidOtherAddressCountryCode",
    psets::ADDRESS,
    0x80DC,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidAddressCountryCode`.
pub const PID_LID_ADDRESS_COUNTRY_CODE: KnownProp = KnownProp::lid(
    "PidLidAddressCountryCode",
    psets::ADDRESS,
    0x80DD,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidBirthdayLocal`.
pub const PID_LID_BIRTHDAY_LOCAL: KnownProp = KnownProp::lid(
    "PidLidBirthdayLocal",
    psets::ADDRESS,
    0x80DE,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidWeddingAnniversaryLocal`.
pub const PID_LID_WEDDING_ANNIVERSARY_LOCAL: KnownProp = KnownProp::lid(
    "PidLidWeddingAnniversaryLocal",
    psets::ADDRESS,
    0x80DF,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidTaskStatus`.
pub const PID_LID_TASK_STATUS: KnownProp =
    KnownProp::lid("PidLidTaskStatus", psets::TASK, 0x8101, PropType::Long);
/// [MS-OXPROPS] `PidLidPercentComplete`.
pub const PID_LID_PERCENT_COMPLETE: KnownProp = KnownProp::lid(
    "PidLidPercentComplete",
    psets::TASK,
    0x8102,
    PropType::Double,
);
/// [MS-OXPROPS] `PidLidTeamTask`.
pub const PID_LID_TEAM_TASK: KnownProp =
    KnownProp::lid("PidLidTeamTask", psets::TASK, 0x8103, PropType::Boolean);
/// [MS-OXPROPS] `PidLidTaskStartDate`.
pub const PID_LID_TASK_START_DATE: KnownProp = KnownProp::lid(
    "PidLidTaskStartDate",
    psets::TASK,
    0x8104,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidTaskDueDate`.
pub const PID_LID_TASK_DUE_DATE: KnownProp =
    KnownProp::lid("PidLidTaskDueDate", psets::TASK, 0x8105, PropType::SysTime);
/// [MS-OXPROPS] `PidLidTaskResetReminder`.
pub const PID_LID_TASK_RESET_REMINDER: KnownProp = KnownProp::lid(
    "PidLidTaskResetReminder",
    psets::TASK,
    0x8107,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidTaskAccepted`.
pub const PID_LID_TASK_ACCEPTED: KnownProp =
    KnownProp::lid("PidLidTaskAccepted", psets::TASK, 0x8108, PropType::Boolean);
/// [MS-OXPROPS] `PidLidTaskDeadOccurrence`.
pub const PID_LID_TASK_DEAD_OCCURRENCE: KnownProp = KnownProp::lid(
    "PidLidTaskDeadOccurrence",
    psets::TASK,
    0x8109,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidTaskDateCompleted`.
pub const PID_LID_TASK_DATE_COMPLETED: KnownProp = KnownProp::lid(
    "PidLidTaskDateCompleted",
    psets::TASK,
    0x810F,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidTaskActualEffort`.
pub const PID_LID_TASK_ACTUAL_EFFORT: KnownProp = KnownProp::lid(
    "PidLidTaskActualEffort",
    psets::TASK,
    0x8110,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidTaskEstimatedEffort`.
pub const PID_LID_TASK_ESTIMATED_EFFORT: KnownProp = KnownProp::lid(
    "PidLidTaskEstimatedEffort",
    psets::TASK,
    0x8111,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidTaskVersion`.
pub const PID_LID_TASK_VERSION: KnownProp =
    KnownProp::lid("PidLidTaskVersion", psets::TASK, 0x8112, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskState`.
pub const PID_LID_TASK_STATE: KnownProp =
    KnownProp::lid("PidLidTaskState", psets::TASK, 0x8113, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskLastUpdate`.
pub const PID_LID_TASK_LAST_UPDATE: KnownProp = KnownProp::lid(
    "PidLidTaskLastUpdate",
    psets::TASK,
    0x8115,
    PropType::SysTime,
);
/// [MS-OXPROPS] `PidLidTaskRecurrence`.
pub const PID_LID_TASK_RECURRENCE: KnownProp = KnownProp::lid(
    "PidLidTaskRecurrence",
    psets::TASK,
    0x8116,
    PropType::Binary,
);
/// [MS-OXPROPS] `PidLidTaskAssigners`.
pub const PID_LID_TASK_ASSIGNERS: KnownProp =
    KnownProp::lid("PidLidTaskAssigners", psets::TASK, 0x8117, PropType::Binary);
/// [MS-OXPROPS] `PidLidTaskStatusOnComplete`.
pub const PID_LID_TASK_STATUS_ON_COMPLETE: KnownProp = KnownProp::lid(
    "PidLidTaskStatusOnComplete",
    psets::TASK,
    0x8119,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidTaskHistory`.
pub const PID_LID_TASK_HISTORY: KnownProp =
    KnownProp::lid("PidLidTaskHistory", psets::TASK, 0x811A, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskUpdates`.
pub const PID_LID_TASK_UPDATES: KnownProp =
    KnownProp::lid("PidLidTaskUpdates", psets::TASK, 0x811B, PropType::Boolean);
/// [MS-OXPROPS] `PidLidTaskComplete`.
pub const PID_LID_TASK_COMPLETE: KnownProp =
    KnownProp::lid("PidLidTaskComplete", psets::TASK, 0x811C, PropType::Boolean);
/// [MS-OXPROPS] `PidLidTaskFCreator`.
pub const PID_LID_TASK_F_CREATOR: KnownProp =
    KnownProp::lid("PidLidTaskFCreator", psets::TASK, 0x811E, PropType::Boolean);
/// [MS-OXPROPS] `PidLidTaskOwner`.
pub const PID_LID_TASK_OWNER: KnownProp =
    KnownProp::lid("PidLidTaskOwner", psets::TASK, 0x811F, PropType::Unicode);
/// [MS-OXPROPS] `PidLidTaskMultipleRecipients`.
pub const PID_LID_TASK_MULTIPLE_RECIPIENTS: KnownProp = KnownProp::lid(
    "PidLidTaskMultipleRecipients",
    psets::TASK,
    0x8120,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidTaskAssigner`.
pub const PID_LID_TASK_ASSIGNER: KnownProp =
    KnownProp::lid("PidLidTaskAssigner", psets::TASK, 0x8121, PropType::Unicode);
/// [MS-OXPROPS] `PidLidTaskLastUser`.
pub const PID_LID_TASK_LAST_USER: KnownProp =
    KnownProp::lid("PidLidTaskLastUser", psets::TASK, 0x8122, PropType::Unicode);
/// [MS-OXPROPS] `PidLidTaskOrdinal`.
pub const PID_LID_TASK_ORDINAL: KnownProp =
    KnownProp::lid("PidLidTaskOrdinal", psets::TASK, 0x8123, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskLastDelegate`.
pub const PID_LID_TASK_LAST_DELEGATE: KnownProp = KnownProp::lid(
    "PidLidTaskLastDelegate",
    psets::TASK,
    0x8125,
    PropType::Unicode,
);
/// [MS-OXPROPS] `PidLidTaskFRecurring`.
pub const PID_LID_TASK_F_RECURRING: KnownProp = KnownProp::lid(
    "PidLidTaskFRecurring",
    psets::TASK,
    0x8126,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidTaskOwnership`.
pub const PID_LID_TASK_OWNERSHIP: KnownProp =
    KnownProp::lid("PidLidTaskOwnership", psets::TASK, 0x8129, PropType::Long);
/// [MS-OXPROPS] `PidLidTaskAcceptanceState`.
pub const PID_LID_TASK_ACCEPTANCE_STATE: KnownProp = KnownProp::lid(
    "PidLidTaskAcceptanceState",
    psets::TASK,
    0x812A,
    PropType::Long,
);
/// [MS-OXPROPS] `PidLidTaskFFixOffline`.
pub const PID_LID_TASK_F_FIX_OFFLINE: KnownProp = KnownProp::lid(
    "PidLidTaskFFixOffline",
    psets::TASK,
    0x812C,
    PropType::Boolean,
);
/// [MS-OXPROPS] `PidLidNoteColor`.
pub const PID_LID_NOTE_COLOR: KnownProp =
    KnownProp::lid("PidLidNoteColor", psets::NOTE, 0x8B00, PropType::Long);
/// [MS-OXPROPS] `PidLidNoteWidth`.
pub const PID_LID_NOTE_WIDTH: KnownProp =
    KnownProp::lid("PidLidNoteWidth", psets::NOTE, 0x8B02, PropType::Long);
/// [MS-OXPROPS] `PidLidNoteHeight`.
pub const PID_LID_NOTE_HEIGHT: KnownProp =
    KnownProp::lid("PidLidNoteHeight", psets::NOTE, 0x8B03, PropType::Long);
/// [MS-OXPROPS] `PidLidNoteX`.
pub const PID_LID_NOTE_X: KnownProp =
    KnownProp::lid("PidLidNoteX", psets::NOTE, 0x8B04, PropType::Long);
/// [MS-OXPROPS] `PidLidNoteY`.
pub const PID_LID_NOTE_Y: KnownProp =
    KnownProp::lid("PidLidNoteY", psets::NOTE, 0x8B05, PropType::Long);
/// [MS-OXPROPS] `PidLidLogType`.
pub const PID_LID_LOG_TYPE: KnownProp =
    KnownProp::lid("PidLidLogType", psets::LOG, 0x8700, PropType::Unicode);
/// [MS-OXPROPS] `PidLidLogStart`.
pub const PID_LID_LOG_START: KnownProp =
    KnownProp::lid("PidLidLogStart", psets::LOG, 0x8706, PropType::SysTime);
/// [MS-OXPROPS] `PidLidLogDuration`.
pub const PID_LID_LOG_DURATION: KnownProp =
    KnownProp::lid("PidLidLogDuration", psets::LOG, 0x8707, PropType::Long);
/// [MS-OXPROPS] `PidLidLogEnd`.
pub const PID_LID_LOG_END: KnownProp =
    KnownProp::lid("PidLidLogEnd", psets::LOG, 0x8708, PropType::SysTime);
/// [MS-OXPROPS] `PidLidLogFlags`.
pub const PID_LID_LOG_FLAGS: KnownProp =
    KnownProp::lid("PidLidLogFlags", psets::LOG, 0x870C, PropType::Long);
/// [MS-OXPROPS] `PidLidLogTypeDesc`.
pub const PID_LID_LOG_TYPE_DESC: KnownProp =
    KnownProp::lid("PidLidLogTypeDesc", psets::LOG, 0x8712, PropType::Unicode);
/// [MS-OXPROPS] `PidNameKeywords`: the categories of any item.
pub const PID_NAME_KEYWORDS: KnownProp = KnownProp::string(
    "PidNameKeywords",
    psets::PUBLIC_STRINGS,
    "Keywords",
    PropType::MvUnicode,
);

/// [MS-OXPROPS] `PidNameCalendarUid`: the iCalendar UID (groxide keeps it
/// on tasks and notes, whose [MS-OXOTASK]/[MS-OXONOTE] forms have no UID).
pub const PID_NAME_CALENDAR_UID: KnownProp = KnownProp::string(
    "PidNameCalendarUid",
    psets::PUBLIC_STRINGS,
    "urn:schemas:calendar:uid",
    PropType::Unicode,
);

/// Every property above, for reverse look-ups.
pub const ALL: &[KnownProp] = &[
    PID_LID_ATTENDEE_CRITICAL_CHANGE,
    PID_LID_WHERE,
    PID_LID_GLOBAL_OBJECT_ID,
    PID_LID_IS_RECURRING,
    PID_LID_REQUIRED_ATTENDEES,
    PID_LID_OPTIONAL_ATTENDEES,
    PID_LID_RESOURCE_ATTENDEES,
    PID_LID_IS_EXCEPTION,
    PID_LID_TIME_ZONE,
    PID_LID_START_RECURRENCE_DATE,
    PID_LID_START_RECURRENCE_TIME,
    PID_LID_END_RECURRENCE_DATE,
    PID_LID_END_RECURRENCE_TIME,
    PID_LID_OWNER_CRITICAL_CHANGE,
    PID_LID_CALENDAR_TYPE,
    PID_LID_CLEAN_GLOBAL_OBJECT_ID,
    PID_LID_APPOINTMENT_MESSAGE_CLASS,
    PID_LID_MEETING_TYPE,
    PID_LID_OLD_LOCATION,
    PID_LID_OLD_WHEN_START_WHOLE,
    PID_LID_OLD_WHEN_END_WHOLE,
    PID_LID_APPOINTMENT_SEQUENCE,
    PID_LID_APPOINTMENT_SEQUENCE_TIME,
    PID_LID_APPOINTMENT_LAST_SEQUENCE,
    PID_LID_CHANGE_HIGHLIGHT,
    PID_LID_BUSY_STATUS,
    PID_LID_F_EXCEPTIONAL_BODY,
    PID_LID_APPOINTMENT_AUXILIARY_FLAGS,
    PID_LID_LOCATION,
    PID_LID_MEETING_WORKSPACE_URL,
    PID_LID_APPOINTMENT_START_WHOLE,
    PID_LID_APPOINTMENT_END_WHOLE,
    PID_LID_APPOINTMENT_DURATION,
    PID_LID_APPOINTMENT_COLOR,
    PID_LID_APPOINTMENT_SUB_TYPE,
    PID_LID_APPOINTMENT_RECUR,
    PID_LID_APPOINTMENT_STATE_FLAGS,
    PID_LID_RESPONSE_STATUS,
    PID_LID_APPOINTMENT_REPLY_TIME,
    PID_LID_RECURRING,
    PID_LID_INTENDED_BUSY_STATUS,
    PID_LID_APPOINTMENT_UPDATE_TIME,
    PID_LID_EXCEPTION_REPLACE_TIME,
    PID_LID_F_INVITED,
    PID_LID_F_EXCEPTIONAL_ATTENDEES,
    PID_LID_OWNER_NAME,
    PID_LID_APPOINTMENT_REPLY_NAME,
    PID_LID_RECURRENCE_TYPE,
    PID_LID_RECURRENCE_PATTERN,
    PID_LID_TIME_ZONE_STRUCT,
    PID_LID_TIME_ZONE_DESCRIPTION,
    PID_LID_CLIP_START,
    PID_LID_CLIP_END,
    PID_LID_ALL_ATTENDEES_STRING,
    PID_LID_TO_ATTENDEES_STRING,
    PID_LID_CC_ATTENDEES_STRING,
    PID_LID_CONFERENCING_TYPE,
    PID_LID_ORGANIZER_ALIAS,
    PID_LID_NET_SHOW_URL,
    PID_LID_APPOINTMENT_PROPOSED_START_WHOLE,
    PID_LID_APPOINTMENT_PROPOSED_END_WHOLE,
    PID_LID_APPOINTMENT_PROPOSED_DURATION,
    PID_LID_APPOINTMENT_COUNTER_PROPOSAL,
    PID_LID_APPOINTMENT_PROPOSAL_NUMBER,
    PID_LID_APPOINTMENT_NOT_ALLOW_PROPOSE,
    PID_LID_APPOINTMENT_UNSENDABLE_RECIPIENTS,
    PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_START_DISPLAY,
    PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_END_DISPLAY,
    PID_LID_APPOINTMENT_TIME_ZONE_DEFINITION_RECUR,
    PID_LID_REMINDER_DELTA,
    PID_LID_REMINDER_TIME,
    PID_LID_REMINDER_SET,
    PID_LID_PRIVATE,
    PID_LID_SIDE_EFFECTS,
    PID_LID_SMART_NO_ATTACH,
    PID_LID_COMMON_START,
    PID_LID_COMMON_END,
    PID_LID_TASK_MODE,
    PID_LID_TASK_GLOBAL_ID,
    PID_LID_REMINDER_OVERRIDE,
    PID_LID_REMINDER_PLAY_SOUND,
    PID_LID_REMINDER_FILE_PARAMETER,
    PID_LID_FLAG_REQUEST,
    PID_LID_BILLING,
    PID_LID_COMPANIES,
    PID_LID_CONTACTS,
    PID_LID_CURRENT_VERSION,
    PID_LID_CURRENT_VERSION_NAME,
    PID_LID_REMINDER_SIGNAL_TIME,
    PID_LID_TO_DO_ORDINAL_DATE,
    PID_LID_TO_DO_SUB_ORDINAL,
    PID_LID_TO_DO_TITLE,
    PID_LID_FILE_UNDER,
    PID_LID_FILE_UNDER_ID,
    PID_LID_CONTACT_ITEM_DATA,
    PID_LID_REFERRED_BY,
    PID_LID_DEPARTMENT,
    PID_LID_HAS_PICTURE,
    PID_LID_HOME_ADDRESS,
    PID_LID_WORK_ADDRESS,
    PID_LID_OTHER_ADDRESS,
    PID_LID_POSTAL_ADDRESS_ID,
    PID_LID_CONTACT_CHARACTER_SET,
    PID_LID_AUTO_LOG,
    PID_LID_FILE_UNDER_LIST,
    PID_LID_ADDRESS_BOOK_PROVIDER_EMAIL_LIST,
    PID_LID_ADDRESS_BOOK_PROVIDER_ARRAY_TYPE,
    PID_LID_HTML,
    PID_LID_YOMI_FIRST_NAME,
    PID_LID_YOMI_LAST_NAME,
    PID_LID_YOMI_COMPANY_NAME,
    PID_LID_BUSINESS_CARD_DISPLAY_DEFINITION,
    PID_LID_BUSINESS_CARD_CARD_PICTURE,
    PID_LID_WORK_ADDRESS_STREET,
    PID_LID_WORK_ADDRESS_CITY,
    PID_LID_WORK_ADDRESS_STATE,
    PID_LID_WORK_ADDRESS_POSTAL_CODE,
    PID_LID_WORK_ADDRESS_COUNTRY,
    PID_LID_WORK_ADDRESS_POST_OFFICE_BOX,
    PID_LID_DISTRIBUTION_LIST_CHECKSUM,
    PID_LID_BIRTHDAY_EVENT_ENTRY_ID,
    PID_LID_ANNIVERSARY_EVENT_ENTRY_ID,
    PID_LID_CONTACT_USER_FIELD1,
    PID_LID_CONTACT_USER_FIELD2,
    PID_LID_CONTACT_USER_FIELD3,
    PID_LID_CONTACT_USER_FIELD4,
    PID_LID_DISTRIBUTION_LIST_NAME,
    PID_LID_DISTRIBUTION_LIST_ONE_OFF_MEMBERS,
    PID_LID_DISTRIBUTION_LIST_MEMBERS,
    PID_LID_INSTANT_MESSAGING_ADDRESS,
    PID_LID_DISTRIBUTION_LIST_STREAM,
    PID_LID_EMAIL1_DISPLAY_NAME,
    PID_LID_EMAIL1_ADDRESS_TYPE,
    PID_LID_EMAIL1_EMAIL_ADDRESS,
    PID_LID_EMAIL1_ORIGINAL_DISPLAY_NAME,
    PID_LID_EMAIL1_ORIGINAL_ENTRY_ID,
    PID_LID_EMAIL2_DISPLAY_NAME,
    PID_LID_EMAIL2_ADDRESS_TYPE,
    PID_LID_EMAIL2_EMAIL_ADDRESS,
    PID_LID_EMAIL2_ORIGINAL_DISPLAY_NAME,
    PID_LID_EMAIL2_ORIGINAL_ENTRY_ID,
    PID_LID_EMAIL3_DISPLAY_NAME,
    PID_LID_EMAIL3_ADDRESS_TYPE,
    PID_LID_EMAIL3_EMAIL_ADDRESS,
    PID_LID_EMAIL3_ORIGINAL_DISPLAY_NAME,
    PID_LID_EMAIL3_ORIGINAL_ENTRY_ID,
    PID_LID_FAX1_ADDRESS_TYPE,
    PID_LID_FAX1_EMAIL_ADDRESS,
    PID_LID_FAX1_ORIGINAL_DISPLAY_NAME,
    PID_LID_FAX1_ORIGINAL_ENTRY_ID,
    PID_LID_FAX2_ADDRESS_TYPE,
    PID_LID_FAX2_EMAIL_ADDRESS,
    PID_LID_FAX2_ORIGINAL_DISPLAY_NAME,
    PID_LID_FAX2_ORIGINAL_ENTRY_ID,
    PID_LID_FAX3_ADDRESS_TYPE,
    PID_LID_FAX3_EMAIL_ADDRESS,
    PID_LID_FAX3_ORIGINAL_DISPLAY_NAME,
    PID_LID_FAX3_ORIGINAL_ENTRY_ID,
    PID_LID_FREE_BUSY_LOCATION,
    PID_LID_HOME_ADDRESS_COUNTRY_CODE,
    PID_LID_WORK_ADDRESS_COUNTRY_CODE,
    PID_LID_OTHER_ADDRESS_COUNTRY_CODE,
    PID_LID_ADDRESS_COUNTRY_CODE,
    PID_LID_BIRTHDAY_LOCAL,
    PID_LID_WEDDING_ANNIVERSARY_LOCAL,
    PID_LID_TASK_STATUS,
    PID_LID_PERCENT_COMPLETE,
    PID_LID_TEAM_TASK,
    PID_LID_TASK_START_DATE,
    PID_LID_TASK_DUE_DATE,
    PID_LID_TASK_RESET_REMINDER,
    PID_LID_TASK_ACCEPTED,
    PID_LID_TASK_DEAD_OCCURRENCE,
    PID_LID_TASK_DATE_COMPLETED,
    PID_LID_TASK_ACTUAL_EFFORT,
    PID_LID_TASK_ESTIMATED_EFFORT,
    PID_LID_TASK_VERSION,
    PID_LID_TASK_STATE,
    PID_LID_TASK_LAST_UPDATE,
    PID_LID_TASK_RECURRENCE,
    PID_LID_TASK_ASSIGNERS,
    PID_LID_TASK_STATUS_ON_COMPLETE,
    PID_LID_TASK_HISTORY,
    PID_LID_TASK_UPDATES,
    PID_LID_TASK_COMPLETE,
    PID_LID_TASK_F_CREATOR,
    PID_LID_TASK_OWNER,
    PID_LID_TASK_MULTIPLE_RECIPIENTS,
    PID_LID_TASK_ASSIGNER,
    PID_LID_TASK_LAST_USER,
    PID_LID_TASK_ORDINAL,
    PID_LID_TASK_LAST_DELEGATE,
    PID_LID_TASK_F_RECURRING,
    PID_LID_TASK_OWNERSHIP,
    PID_LID_TASK_ACCEPTANCE_STATE,
    PID_LID_TASK_F_FIX_OFFLINE,
    PID_LID_NOTE_COLOR,
    PID_LID_NOTE_WIDTH,
    PID_LID_NOTE_HEIGHT,
    PID_LID_NOTE_X,
    PID_LID_NOTE_Y,
    PID_LID_LOG_TYPE,
    PID_LID_LOG_START,
    PID_LID_LOG_DURATION,
    PID_LID_LOG_END,
    PID_LID_LOG_FLAGS,
    PID_LID_LOG_TYPE_DESC,
    PID_NAME_KEYWORDS,
    PID_NAME_CALENDAR_UID,
];

/// The documented property a name stands for, if it is one of [`ALL`].
pub fn known_by_name(n: &NamedProp) -> Option<&'static KnownProp> {
    ALL.iter().find(|k| k.is(n))
}

/// The documented property of a canonical name such as `PidLidLocation`.
pub fn known_by_canonical(name: &str) -> Option<&'static KnownProp> {
    ALL.iter().find(|k| k.canonical == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::named::KnownName;

    #[test]
    fn no_two_documented_properties_share_a_name() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert!(
                    !(a.set == b.set && a.name == b.name),
                    "{} and {} share a name",
                    a.canonical,
                    b.canonical
                );
                assert_ne!(a.canonical, b.canonical);
            }
        }
    }

    #[test]
    fn lids_of_the_appointment_set_are_in_its_range() {
        for k in ALL.iter().filter(|k| k.set == psets::APPOINTMENT) {
            let KnownName::Lid(l) = k.name else {
                panic!("{} has a string name", k.canonical)
            };
            assert!((0x8200..0x8300).contains(&l), "{}", k.canonical);
        }
    }

    #[test]
    fn spot_checks_against_ms_oxprops() {
        // A few entries copied by hand from [MS-OXPROPS] section 2.
        let k = known_by_canonical("PidLidAppointmentTimeZoneDefinitionRecur").unwrap();
        assert_eq!(
            (k.set, k.name, k.ty),
            (psets::APPOINTMENT, KnownName::Lid(0x8260), PropType::Binary)
        );
        let k = known_by_canonical("PidLidGlobalObjectId").unwrap();
        assert_eq!((k.set, k.name), (psets::MEETING, KnownName::Lid(0x0003)));
        let k = known_by_canonical("PidLidPercentComplete").unwrap();
        assert_eq!(
            (k.set, k.name, k.ty),
            (psets::TASK, KnownName::Lid(0x8102), PropType::Double)
        );
        let k = known_by_canonical("PidLidEmail2EmailAddress").unwrap();
        assert_eq!((k.set, k.name), (psets::ADDRESS, KnownName::Lid(0x8093)));
        let k = known_by_canonical("PidLidNoteColor").unwrap();
        assert_eq!((k.set, k.name), (psets::NOTE, KnownName::Lid(0x8B00)));
        assert!(PID_NAME_KEYWORDS.is(&crate::NamedProp::string(psets::PUBLIC_STRINGS, "keywords")));
    }
}
