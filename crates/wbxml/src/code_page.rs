//! The code pages and tag tokens of [MS-ASWBXML] §2.1.2.1 for the protocol
//! versions groxide speaks (12.1, 14.0, 14.1, 16.0, 16.1).
//!
//! One table, written once: the [`code_pages!`] invocation at the bottom of
//! this file generates [`CodePage`], one typed enum per page ([`AirSync`],
//! [`Email`], …) and the lookups by token and by name. Tag names are the
//! spec's (they are also the element names of EAS XML); the namespace of a
//! page is the one EAS XML uses (`"AirSync:"`, `"Email:"`, …).
//!
//! What is in and what is out:
//! - Every token the current [MS-ASWBXML] tables list, including the ones
//!   they mark as protocol 2.5 only (e.g. `airsync:Truncation`): the
//!   decoder accepts them and the command handlers decide what they mean.
//! - Tokens that were dropped from the spec tables (e.g. `airsync:Version`
//!   0x11, `provision:DocumentBrowseEnabled` 0x12, `search:Schema` 0x1C)
//!   are unknown, so a document using them is rejected.
//! - Code page 3 (AirNotify) is no longer used by any EAS version; its
//!   historical tokens 0x05–0x17 are kept so that such a document decodes
//!   and can be logged, not silently misread.
//! - Where a token has two names in the spec's history, the name of 12.1+
//!   wins (`provision:RequireStorageCardEncryption`, not 12.0's
//!   `DeviceEncryptionEnabled`).

use crate::tree::Tag;

/// Generates the code-page enum, one tag enum per page and the lookups.
macro_rules! code_pages {
    ($(
        $(#[$page_doc:meta])*
        $number:literal $page:ident $namespace:literal $prefix:literal {
            $($tag:ident = $token:literal,)*
        }
    )*) => {
        /// A WBXML code page of Exchange ActiveSync. Each page is one XML
        /// namespace of EAS ([`CodePage::namespace`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum CodePage {
            $($(#[$page_doc])* $page = $number,)*
        }

        impl CodePage {
            /// Every code page, in page-number order.
            pub const ALL: &'static [CodePage] = &[$(CodePage::$page,)*];

            /// The page with this number, if EAS defines it.
            #[must_use]
            pub const fn from_number(number: u8) -> Option<CodePage> {
                match number {
                    $($number => Some(CodePage::$page),)*
                    _ => None,
                }
            }

            /// The page number as it appears after SWITCH_PAGE.
            #[must_use]
            pub const fn number(self) -> u8 {
                self as u8
            }

            /// The page's name as [MS-ASWBXML] writes it (`"AirSyncBase"`).
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(CodePage::$page => stringify!($page),)*
                }
            }

            /// The XML namespace EAS uses for this page (`"AirSyncBase:"`).
            #[must_use]
            pub const fn namespace(self) -> &'static str {
                match self {
                    $(CodePage::$page => $namespace,)*
                }
            }

            /// The prefix [`crate::Element::to_xml`] declares for this
            /// page's namespace (`"airsyncbase"`).
            #[must_use]
            pub const fn prefix(self) -> &'static str {
                match self {
                    $(CodePage::$page => $prefix,)*
                }
            }

            /// Every tag of this page as `(token, name)`, by token.
            #[must_use]
            pub const fn tags(self) -> &'static [(u8, &'static str)] {
                match self {
                    $(CodePage::$page => &[$(($token, stringify!($tag)),)*],)*
                }
            }

            /// The name of `token` on this page, if the page defines it.
            #[must_use]
            pub const fn tag_name(self, token: u8) -> Option<&'static str> {
                match self {
                    $(CodePage::$page => match token {
                        $($token => Some(stringify!($tag)),)*
                        _ => None,
                    },)*
                }
            }
        }

        $(
            #[doc = concat!("Tags of code page ", stringify!($number), ", namespace `",
                $namespace, "`, as typed tokens for [`crate::Element`] lookups.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            #[repr(u8)]
            #[allow(clippy::upper_case_acronyms)] // the spec's names: MMS, UID, OS, …
            pub enum $page {
                $(
                    #[doc = concat!("`", $prefix, ":", stringify!($tag), "`, token ",
                        stringify!($token), ".")]
                    $tag = $token,
                )*
            }

            impl $page {
                /// This tag's name as written in EAS XML.
                #[must_use]
                pub const fn name(self) -> &'static str {
                    match self {
                        $($page::$tag => stringify!($tag),)*
                    }
                }
            }

            impl From<$page> for Tag {
                fn from(tag: $page) -> Tag {
                    Tag::from_parts_unchecked(CodePage::$page, tag as u8)
                }
            }

            impl PartialEq<$page> for Tag {
                fn eq(&self, other: &$page) -> bool {
                    *self == Tag::from(*other)
                }
            }
        )*
    };
}

code_pages! {
    /// Code page 0: the Sync command and the elements shared by commands.
    0 AirSync "AirSync:" "airsync" {
        Sync = 0x05,
        Responses = 0x06,
        Add = 0x07,
        Change = 0x08,
        Delete = 0x09,
        Fetch = 0x0A,
        SyncKey = 0x0B,
        ClientId = 0x0C,
        ServerId = 0x0D,
        Status = 0x0E,
        Collection = 0x0F,
        Class = 0x10,
        CollectionId = 0x12,
        GetChanges = 0x13,
        MoreAvailable = 0x14,
        WindowSize = 0x15,
        Commands = 0x16,
        Options = 0x17,
        FilterType = 0x18,
        Truncation = 0x19,
        Conflict = 0x1B,
        Collections = 0x1C,
        ApplicationData = 0x1D,
        DeletesAsMoves = 0x1E,
        Supported = 0x20,
        SoftDelete = 0x21,
        MIMESupport = 0x22,
        MIMETruncation = 0x23,
        Wait = 0x24,
        Limit = 0x25,
        Partial = 0x26,
        ConversationMode = 0x27,
        MaxItems = 0x28,
        HeartbeatInterval = 0x29,
    }

    /// Code page 1: contact items ([MS-ASCNTC]).
    1 Contacts "Contacts:" "contacts" {
        Anniversary = 0x05,
        AssistantName = 0x06,
        AssistantPhoneNumber = 0x07,
        Birthday = 0x08,
        Body = 0x09,
        BodySize = 0x0A,
        BodyTruncated = 0x0B,
        Business2PhoneNumber = 0x0C,
        BusinessAddressCity = 0x0D,
        BusinessAddressCountry = 0x0E,
        BusinessAddressPostalCode = 0x0F,
        BusinessAddressState = 0x10,
        BusinessAddressStreet = 0x11,
        BusinessFaxNumber = 0x12,
        BusinessPhoneNumber = 0x13,
        CarPhoneNumber = 0x14,
        Categories = 0x15,
        Category = 0x16,
        Children = 0x17,
        Child = 0x18,
        CompanyName = 0x19,
        Department = 0x1A,
        Email1Address = 0x1B,
        Email2Address = 0x1C,
        Email3Address = 0x1D,
        FileAs = 0x1E,
        FirstName = 0x1F,
        Home2PhoneNumber = 0x20,
        HomeAddressCity = 0x21,
        HomeAddressCountry = 0x22,
        HomeAddressPostalCode = 0x23,
        HomeAddressState = 0x24,
        HomeAddressStreet = 0x25,
        HomeFaxNumber = 0x26,
        HomePhoneNumber = 0x27,
        JobTitle = 0x28,
        LastName = 0x29,
        MiddleName = 0x2A,
        MobilePhoneNumber = 0x2B,
        OfficeLocation = 0x2C,
        OtherAddressCity = 0x2D,
        OtherAddressCountry = 0x2E,
        OtherAddressPostalCode = 0x2F,
        OtherAddressState = 0x30,
        OtherAddressStreet = 0x31,
        PagerNumber = 0x32,
        RadioPhoneNumber = 0x33,
        Spouse = 0x34,
        Suffix = 0x35,
        Title = 0x36,
        WebPage = 0x37,
        YomiCompanyName = 0x38,
        YomiFirstName = 0x39,
        YomiLastName = 0x3A,
        Picture = 0x3C,
        Alias = 0x3D,
        WeightedRank = 0x3E,
    }

    /// Code page 2: email items ([MS-ASEMAIL]).
    2 Email "Email:" "email" {
        Attachment = 0x05,
        Attachments = 0x06,
        AttName = 0x07,
        AttSize = 0x08,
        AttOid = 0x09,
        AttMethod = 0x0A,
        Body = 0x0C,
        BodySize = 0x0D,
        BodyTruncated = 0x0E,
        DateReceived = 0x0F,
        DisplayName = 0x10,
        DisplayTo = 0x11,
        Importance = 0x12,
        MessageClass = 0x13,
        Subject = 0x14,
        Read = 0x15,
        To = 0x16,
        Cc = 0x17,
        From = 0x18,
        ReplyTo = 0x19,
        AllDayEvent = 0x1A,
        Categories = 0x1B,
        Category = 0x1C,
        DtStamp = 0x1D,
        EndTime = 0x1E,
        InstanceType = 0x1F,
        BusyStatus = 0x20,
        Location = 0x21,
        MeetingRequest = 0x22,
        Organizer = 0x23,
        RecurrenceId = 0x24,
        Reminder = 0x25,
        ResponseRequested = 0x26,
        Recurrences = 0x27,
        Recurrence = 0x28,
        Type = 0x29,
        Until = 0x2A,
        Occurrences = 0x2B,
        Interval = 0x2C,
        DayOfWeek = 0x2D,
        DayOfMonth = 0x2E,
        WeekOfMonth = 0x2F,
        MonthOfYear = 0x30,
        StartTime = 0x31,
        Sensitivity = 0x32,
        TimeZone = 0x33,
        GlobalObjId = 0x34,
        ThreadTopic = 0x35,
        MIMEData = 0x36,
        MIMETruncated = 0x37,
        MIMESize = 0x38,
        InternetCPID = 0x39,
        Flag = 0x3A,
        Status = 0x3B,
        ContentClass = 0x3C,
        FlagType = 0x3D,
        CompleteTime = 0x3E,
        DisallowNewTimeProposal = 0x3F,
    }

    /// Code page 3: AirNotify, used by no EAS version since 2.5 (kept so
    /// such documents decode).
    3 AirNotify "AirNotify:" "airnotify" {
        Notify = 0x05,
        Notification = 0x06,
        Version = 0x07,
        LifeTime = 0x08,
        DeviceInfo = 0x09,
        Enable = 0x0A,
        Folder = 0x0B,
        ServerId = 0x0C,
        DeviceAddress = 0x0D,
        ValidCarrierProfiles = 0x0E,
        CarrierProfile = 0x0F,
        Status = 0x10,
        Responses = 0x11,
        Devices = 0x12,
        Device = 0x13,
        Id = 0x14,
        Expiry = 0x15,
        NotifyGUID = 0x16,
        DeviceFriendlyName = 0x17,
    }

    /// Code page 4: calendar items ([MS-ASCAL]).
    4 Calendar "Calendar:" "calendar" {
        Timezone = 0x05,
        AllDayEvent = 0x06,
        Attendees = 0x07,
        Attendee = 0x08,
        Email = 0x09,
        Name = 0x0A,
        Body = 0x0B,
        BodyTruncated = 0x0C,
        BusyStatus = 0x0D,
        Categories = 0x0E,
        Category = 0x0F,
        DtStamp = 0x11,
        EndTime = 0x12,
        Exception = 0x13,
        Exceptions = 0x14,
        Deleted = 0x15,
        ExceptionStartTime = 0x16,
        Location = 0x17,
        MeetingStatus = 0x18,
        OrganizerEmail = 0x19,
        OrganizerName = 0x1A,
        Recurrence = 0x1B,
        Type = 0x1C,
        Until = 0x1D,
        Occurrences = 0x1E,
        Interval = 0x1F,
        DayOfWeek = 0x20,
        DayOfMonth = 0x21,
        WeekOfMonth = 0x22,
        MonthOfYear = 0x23,
        Reminder = 0x24,
        Sensitivity = 0x25,
        Subject = 0x26,
        StartTime = 0x27,
        UID = 0x28,
        AttendeeStatus = 0x29,
        AttendeeType = 0x2A,
        DisallowNewTimeProposal = 0x33,
        ResponseRequested = 0x34,
        AppointmentReplyTime = 0x35,
        ResponseType = 0x36,
        CalendarType = 0x37,
        IsLeapMonth = 0x38,
        FirstDayOfWeek = 0x39,
        OnlineMeetingConfLink = 0x3A,
        OnlineMeetingExternalLink = 0x3B,
        ClientUid = 0x3C,
    }

    /// Code page 5: the MoveItems command.
    5 Move "Move:" "move" {
        MoveItems = 0x05,
        Move = 0x06,
        SrcMsgId = 0x07,
        SrcFldId = 0x08,
        DstFldId = 0x09,
        Response = 0x0A,
        Status = 0x0B,
        DstMsgId = 0x0C,
    }

    /// Code page 6: the GetItemEstimate command.
    6 GetItemEstimate "GetItemEstimate:" "getitemestimate" {
        GetItemEstimate = 0x05,
        Version = 0x06,
        Collections = 0x07,
        Collection = 0x08,
        Class = 0x09,
        CollectionId = 0x0A,
        DateTime = 0x0B,
        Estimate = 0x0C,
        Response = 0x0D,
        Status = 0x0E,
    }

    /// Code page 7: FolderSync, FolderCreate, FolderUpdate, FolderDelete.
    7 FolderHierarchy "FolderHierarchy:" "folderhierarchy" {
        Folders = 0x05,
        Folder = 0x06,
        DisplayName = 0x07,
        ServerId = 0x08,
        ParentId = 0x09,
        Type = 0x0A,
        Status = 0x0C,
        Changes = 0x0E,
        Add = 0x0F,
        Delete = 0x10,
        Update = 0x11,
        SyncKey = 0x12,
        FolderCreate = 0x13,
        FolderDelete = 0x14,
        FolderUpdate = 0x15,
        FolderSync = 0x16,
        Count = 0x17,
    }

    /// Code page 8: the MeetingResponse command.
    8 MeetingResponse "MeetingResponse:" "meetingresponse" {
        CalendarId = 0x05,
        CollectionId = 0x06,
        MeetingResponse = 0x07,
        RequestId = 0x08,
        Request = 0x09,
        Result = 0x0A,
        Status = 0x0B,
        UserResponse = 0x0C,
        InstanceId = 0x0E,
        ProposedStartTime = 0x10,
        ProposedEndTime = 0x11,
        SendResponse = 0x12,
    }

    /// Code page 9: task items ([MS-ASTASK]).
    9 Tasks "Tasks:" "tasks" {
        Body = 0x05,
        BodySize = 0x06,
        BodyTruncated = 0x07,
        Categories = 0x08,
        Category = 0x09,
        Complete = 0x0A,
        DateCompleted = 0x0B,
        DueDate = 0x0C,
        UtcDueDate = 0x0D,
        Importance = 0x0E,
        Recurrence = 0x0F,
        Type = 0x10,
        Start = 0x11,
        Until = 0x12,
        Occurrences = 0x13,
        Interval = 0x14,
        DayOfMonth = 0x15,
        DayOfWeek = 0x16,
        WeekOfMonth = 0x17,
        MonthOfYear = 0x18,
        Regenerate = 0x19,
        DeadOccur = 0x1A,
        ReminderSet = 0x1B,
        ReminderTime = 0x1C,
        Sensitivity = 0x1D,
        StartDate = 0x1E,
        UtcStartDate = 0x1F,
        Subject = 0x20,
        OrdinalDate = 0x22,
        SubOrdinalDate = 0x23,
        CalendarType = 0x24,
        IsLeapMonth = 0x25,
        FirstDayOfWeek = 0x26,
    }

    /// Code page 10: the ResolveRecipients command.
    10 ResolveRecipients "ResolveRecipients:" "resolverecipients" {
        ResolveRecipients = 0x05,
        Response = 0x06,
        Status = 0x07,
        Type = 0x08,
        Recipient = 0x09,
        DisplayName = 0x0A,
        EmailAddress = 0x0B,
        Certificates = 0x0C,
        Certificate = 0x0D,
        MiniCertificate = 0x0E,
        Options = 0x0F,
        To = 0x10,
        CertificateRetrieval = 0x11,
        RecipientCount = 0x12,
        MaxCertificates = 0x13,
        MaxAmbiguousRecipients = 0x14,
        CertificateCount = 0x15,
        Availability = 0x16,
        StartTime = 0x17,
        EndTime = 0x18,
        MergedFreeBusy = 0x19,
        Picture = 0x1A,
        MaxSize = 0x1B,
        Data = 0x1C,
        MaxPictures = 0x1D,
    }

    /// Code page 11: the ValidateCert command.
    11 ValidateCert "ValidateCert:" "validatecert" {
        ValidateCert = 0x05,
        Certificates = 0x06,
        Certificate = 0x07,
        CertificateChain = 0x08,
        CheckCRL = 0x09,
        Status = 0x0A,
    }

    /// Code page 12: the second page of contact properties.
    12 Contacts2 "Contacts2:" "contacts2" {
        CustomerId = 0x05,
        GovernmentId = 0x06,
        IMAddress = 0x07,
        IMAddress2 = 0x08,
        IMAddress3 = 0x09,
        ManagerName = 0x0A,
        CompanyMainPhone = 0x0B,
        AccountName = 0x0C,
        NickName = 0x0D,
        MMS = 0x0E,
    }

    /// Code page 13: the Ping command.
    13 Ping "Ping:" "ping" {
        Ping = 0x05,
        AutdState = 0x06,
        Status = 0x07,
        HeartbeatInterval = 0x08,
        Folders = 0x09,
        Folder = 0x0A,
        Id = 0x0B,
        Class = 0x0C,
        MaxFolders = 0x0D,
    }

    /// Code page 14: the Provision command and its policy document
    /// ([MS-ASPROV]).
    14 Provision "Provision:" "provision" {
        Provision = 0x05,
        Policies = 0x06,
        Policy = 0x07,
        PolicyType = 0x08,
        PolicyKey = 0x09,
        Data = 0x0A,
        Status = 0x0B,
        RemoteWipe = 0x0C,
        EASProvisionDoc = 0x0D,
        DevicePasswordEnabled = 0x0E,
        AlphanumericDevicePasswordRequired = 0x0F,
        RequireStorageCardEncryption = 0x10,
        PasswordRecoveryEnabled = 0x11,
        AttachmentsEnabled = 0x13,
        MinDevicePasswordLength = 0x14,
        MaxInactivityTimeDeviceLock = 0x15,
        MaxDevicePasswordFailedAttempts = 0x16,
        MaxAttachmentSize = 0x17,
        AllowSimpleDevicePassword = 0x18,
        DevicePasswordExpiration = 0x19,
        DevicePasswordHistory = 0x1A,
        AllowStorageCard = 0x1B,
        AllowCamera = 0x1C,
        RequireDeviceEncryption = 0x1D,
        AllowUnsignedApplications = 0x1E,
        AllowUnsignedInstallationPackages = 0x1F,
        MinDevicePasswordComplexCharacters = 0x20,
        AllowWiFi = 0x21,
        AllowTextMessaging = 0x22,
        AllowPOPIMAPEmail = 0x23,
        AllowBluetooth = 0x24,
        AllowIrDA = 0x25,
        RequireManualSyncWhenRoaming = 0x26,
        AllowDesktopSync = 0x27,
        MaxCalendarAgeFilter = 0x28,
        AllowHTMLEmail = 0x29,
        MaxEmailAgeFilter = 0x2A,
        MaxEmailBodyTruncationSize = 0x2B,
        MaxEmailHTMLBodyTruncationSize = 0x2C,
        RequireSignedSMIMEMessages = 0x2D,
        RequireEncryptedSMIMEMessages = 0x2E,
        RequireSignedSMIMEAlgorithm = 0x2F,
        RequireEncryptionSMIMEAlgorithm = 0x30,
        AllowSMIMEEncryptionAlgorithmNegotiation = 0x31,
        AllowSMIMESoftCerts = 0x32,
        AllowBrowser = 0x33,
        AllowConsumerEmail = 0x34,
        AllowRemoteDesktop = 0x35,
        AllowInternetSharing = 0x36,
        UnapprovedInROMApplicationList = 0x37,
        ApplicationName = 0x38,
        ApprovedApplicationList = 0x39,
        Hash = 0x3A,
        AccountOnlyRemoteWipe = 0x3B,
    }

    /// Code page 15: the Search command.
    15 Search "Search:" "search" {
        Search = 0x05,
        Store = 0x07,
        Name = 0x08,
        Query = 0x09,
        Options = 0x0A,
        Range = 0x0B,
        Status = 0x0C,
        Response = 0x0D,
        Result = 0x0E,
        Properties = 0x0F,
        Total = 0x10,
        EqualTo = 0x11,
        Value = 0x12,
        And = 0x13,
        Or = 0x14,
        FreeText = 0x15,
        DeepTraversal = 0x17,
        LongId = 0x18,
        RebuildResults = 0x19,
        LessThan = 0x1A,
        GreaterThan = 0x1B,
        UserName = 0x1E,
        Password = 0x1F,
        ConversationId = 0x20,
        Picture = 0x21,
        MaxSize = 0x22,
        MaxPictures = 0x23,
    }

    /// Code page 16: global address list entries in Search and
    /// ResolveRecipients results.
    16 GAL "GAL:" "gal" {
        DisplayName = 0x05,
        Phone = 0x06,
        Office = 0x07,
        Title = 0x08,
        Company = 0x09,
        Alias = 0x0A,
        FirstName = 0x0B,
        LastName = 0x0C,
        HomePhone = 0x0D,
        MobilePhone = 0x0E,
        EmailAddress = 0x0F,
        Picture = 0x10,
        Status = 0x11,
        Data = 0x12,
    }

    /// Code page 17: bodies, attachments and locations shared by all item
    /// classes ([MS-ASAIRS]).
    17 AirSyncBase "AirSyncBase:" "airsyncbase" {
        BodyPreference = 0x05,
        Type = 0x06,
        TruncationSize = 0x07,
        AllOrNone = 0x08,
        Body = 0x0A,
        Data = 0x0B,
        EstimatedDataSize = 0x0C,
        Truncated = 0x0D,
        Attachments = 0x0E,
        Attachment = 0x0F,
        DisplayName = 0x10,
        FileReference = 0x11,
        Method = 0x12,
        ContentId = 0x13,
        ContentLocation = 0x14,
        IsInline = 0x15,
        NativeBodyType = 0x16,
        ContentType = 0x17,
        Preview = 0x18,
        BodyPartPreference = 0x19,
        BodyPart = 0x1A,
        Status = 0x1B,
        Add = 0x1C,
        Delete = 0x1D,
        ClientId = 0x1E,
        Content = 0x1F,
        Location = 0x20,
        Annotation = 0x21,
        Street = 0x22,
        City = 0x23,
        State = 0x24,
        Country = 0x25,
        PostalCode = 0x26,
        Latitude = 0x27,
        Longitude = 0x28,
        Accuracy = 0x29,
        Altitude = 0x2A,
        AltitudeAccuracy = 0x2B,
        LocationUri = 0x2C,
        InstanceId = 0x2D,
    }

    /// Code page 18: the Settings command (OOF, device and user
    /// information).
    18 Settings "Settings:" "settings" {
        Settings = 0x05,
        Status = 0x06,
        Get = 0x07,
        Set = 0x08,
        Oof = 0x09,
        OofState = 0x0A,
        StartTime = 0x0B,
        EndTime = 0x0C,
        OofMessage = 0x0D,
        AppliesToInternal = 0x0E,
        AppliesToExternalKnown = 0x0F,
        AppliesToExternalUnknown = 0x10,
        Enabled = 0x11,
        ReplyMessage = 0x12,
        BodyType = 0x13,
        DevicePassword = 0x14,
        Password = 0x15,
        DeviceInformation = 0x16,
        Model = 0x17,
        IMEI = 0x18,
        FriendlyName = 0x19,
        OS = 0x1A,
        OSLanguage = 0x1B,
        PhoneNumber = 0x1C,
        UserInformation = 0x1D,
        EmailAddresses = 0x1E,
        SMTPAddress = 0x1F,
        UserAgent = 0x20,
        EnableOutboundSMS = 0x21,
        MobileOperator = 0x22,
        PrimarySmtpAddress = 0x23,
        Accounts = 0x24,
        Account = 0x25,
        AccountId = 0x26,
        AccountName = 0x27,
        UserDisplayName = 0x28,
        SendDisabled = 0x29,
        RightsManagementInformation = 0x2B,
    }

    /// Code page 19: document library items ([MS-ASDOC]).
    19 DocumentLibrary "DocumentLibrary:" "documentlibrary" {
        LinkId = 0x05,
        DisplayName = 0x06,
        IsFolder = 0x07,
        CreationDate = 0x08,
        LastModifiedDate = 0x09,
        IsHidden = 0x0A,
        ContentLength = 0x0B,
        ContentType = 0x0C,
    }

    /// Code page 20: the ItemOperations command.
    20 ItemOperations "ItemOperations:" "itemoperations" {
        ItemOperations = 0x05,
        Fetch = 0x06,
        Store = 0x07,
        Options = 0x08,
        Range = 0x09,
        Total = 0x0A,
        Properties = 0x0B,
        Data = 0x0C,
        Status = 0x0D,
        Response = 0x0E,
        Version = 0x0F,
        Schema = 0x10,
        Part = 0x11,
        EmptyFolderContents = 0x12,
        DeleteSubFolders = 0x13,
        UserName = 0x14,
        Password = 0x15,
        Move = 0x16,
        DstFldId = 0x17,
        ConversationId = 0x18,
        MoveAlways = 0x19,
    }

    /// Code page 21: SendMail, SmartReply and SmartForward.
    21 ComposeMail "ComposeMail:" "composemail" {
        SendMail = 0x05,
        SmartForward = 0x06,
        SmartReply = 0x07,
        SaveInSentItems = 0x08,
        ReplaceMime = 0x09,
        Source = 0x0B,
        FolderId = 0x0C,
        ItemId = 0x0D,
        LongId = 0x0E,
        InstanceId = 0x0F,
        Mime = 0x10,
        ClientId = 0x11,
        Status = 0x12,
        AccountId = 0x13,
        Forwardees = 0x15,
        Forwardee = 0x16,
        Name = 0x17,
        Email = 0x18,
    }

    /// Code page 22: the second page of email properties.
    22 Email2 "Email2:" "email2" {
        UmCallerID = 0x05,
        UmUserNotes = 0x06,
        UmAttDuration = 0x07,
        UmAttOrder = 0x08,
        ConversationId = 0x09,
        ConversationIndex = 0x0A,
        LastVerbExecuted = 0x0B,
        LastVerbExecutionTime = 0x0C,
        ReceivedAsBcc = 0x0D,
        Sender = 0x0E,
        CalendarType = 0x0F,
        IsLeapMonth = 0x10,
        AccountId = 0x11,
        FirstDayOfWeek = 0x12,
        MeetingMessageType = 0x13,
        IsDraft = 0x15,
        Bcc = 0x16,
        Send = 0x17,
    }

    /// Code page 23: note items ([MS-ASNOTE]).
    23 Notes "Notes:" "notes" {
        Subject = 0x05,
        MessageClass = 0x06,
        LastModifiedDate = 0x07,
        Categories = 0x08,
        Category = 0x09,
    }

    /// Code page 24: information rights management ([MS-ASRM]).
    24 RightsManagement "RightsManagement:" "rm" {
        RightsManagementSupport = 0x05,
        RightsManagementTemplates = 0x06,
        RightsManagementTemplate = 0x07,
        RightsManagementLicense = 0x08,
        EditAllowed = 0x09,
        ReplyAllowed = 0x0A,
        ReplyAllAllowed = 0x0B,
        ForwardAllowed = 0x0C,
        ModifyRecipientsAllowed = 0x0D,
        ExtractAllowed = 0x0E,
        PrintAllowed = 0x0F,
        ExportAllowed = 0x10,
        ProgrammaticAccessAllowed = 0x11,
        Owner = 0x12,
        ContentExpiryDate = 0x13,
        TemplateID = 0x14,
        TemplateName = 0x15,
        TemplateDescription = 0x16,
        ContentOwner = 0x17,
        RemoveRightsManagementProtection = 0x18,
    }

    /// Code page 25: the Find command (protocol 16.1).
    25 Find "Find:" "find" {
        Find = 0x05,
        SearchId = 0x06,
        ExecuteSearch = 0x07,
        MailBoxSearchCriterion = 0x08,
        Query = 0x09,
        Status = 0x0A,
        FreeText = 0x0B,
        Options = 0x0C,
        Range = 0x0D,
        DeepTraversal = 0x0E,
        Response = 0x11,
        Result = 0x12,
        Properties = 0x13,
        Preview = 0x14,
        HasAttachments = 0x15,
        Total = 0x16,
        DisplayCc = 0x17,
        DisplayBcc = 0x18,
        GalSearchCriterion = 0x19,
        MaxPictures = 0x20,
        MaxSize = 0x21,
        Picture = 0x22,
    }
}

impl CodePage {
    /// The page whose namespace is `namespace`. EAS XML writes namespaces
    /// with a trailing colon (`"AirSync:"`, the form [`CodePage::namespace`]
    /// returns); [MS-ASWBXML]'s examples and the XSDs write them without
    /// (`"AirSync"`). Both are accepted, nothing else (case matters).
    #[must_use]
    pub fn from_namespace(namespace: &str) -> Option<CodePage> {
        let bare = namespace.strip_suffix(':').unwrap_or(namespace);
        CodePage::ALL
            .iter()
            .copied()
            .find(|page| page.name() == bare)
    }

    /// The tag called `name` on this page.
    #[must_use]
    pub fn tag(self, name: &str) -> Option<Tag> {
        self.tags()
            .iter()
            .find(|(_, n)| *n == name)
            .map(|&(token, _)| Tag::from_parts_unchecked(self, token))
    }
}

impl std::fmt::Display for CodePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.number(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_number_and_a_distinct_namespace() {
        assert_eq!(CodePage::ALL.len(), 26);
        for (i, page) in CodePage::ALL.iter().enumerate() {
            assert_eq!(usize::from(page.number()), i);
            assert_eq!(CodePage::from_number(page.number()), Some(*page));
            assert_eq!(CodePage::from_namespace(page.namespace()), Some(*page));
            assert_eq!(CodePage::from_namespace(page.name()), Some(*page));
            assert_eq!(page.namespace(), format!("{}:", page.name()));
        }
        assert_eq!(CodePage::from_number(26), None);
        assert_eq!(CodePage::from_namespace("airsync:"), None);
        assert_eq!(CodePage::from_namespace("Gal:"), None);
    }

    #[test]
    fn tokens_are_tag_tokens_in_order_and_names_are_unique_per_page() {
        for page in CodePage::ALL {
            let tags = page.tags();
            assert!(!tags.is_empty(), "{page}");
            for pair in tags.windows(2) {
                assert!(
                    pair[0].0 < pair[1].0,
                    "{page}: {:?} before {:?}",
                    pair[0],
                    pair[1]
                );
            }
            for &(token, name) in tags {
                assert!(
                    (0x05..=0x3F).contains(&token),
                    "{page}: {name} = {token:#04x}"
                );
                assert_eq!(page.tag_name(token), Some(name));
                let tag = page.tag(name).expect("lookup by name");
                assert_eq!((tag.page(), tag.token(), tag.name()), (*page, token, name));
                assert_eq!(Tag::from_name(page.namespace(), name), Some(tag));
                assert_eq!(
                    tags.iter().filter(|(_, n)| *n == name).count(),
                    1,
                    "{page}: {name}"
                );
            }
        }
    }

    /// Tokens as printed in [MS-ASWBXML] §2.1.2.1 (pages 10, 12 and 25 and
    /// spot checks of the others).
    #[test]
    fn tokens_match_the_spec_tables() {
        let cases: &[(Tag, u8)] = &[
            (AirSync::Sync.into(), 0x05),
            (AirSync::SyncKey.into(), 0x0B),
            (AirSync::CollectionId.into(), 0x12),
            (AirSync::HeartbeatInterval.into(), 0x29),
            (Contacts::Alias.into(), 0x3D),
            (Email::DisallowNewTimeProposal.into(), 0x3F),
            (Calendar::ClientUid.into(), 0x3C),
            (ResolveRecipients::CertificateCount.into(), 0x15),
            (ResolveRecipients::Availability.into(), 0x16),
            (ResolveRecipients::MaxPictures.into(), 0x1D),
            (Contacts2::CustomerId.into(), 0x05),
            (Contacts2::MMS.into(), 0x0E),
            (Ping::HeartbeatInterval.into(), 0x08),
            (Provision::AccountOnlyRemoteWipe.into(), 0x3B),
            (AirSyncBase::Body.into(), 0x0A),
            (AirSyncBase::InstanceId.into(), 0x2D),
            (ComposeMail::Mime.into(), 0x10),
            (Email2::Send.into(), 0x17),
            (Find::Find.into(), 0x05),
            (Find::DeepTraversal.into(), 0x0E),
            (Find::Response.into(), 0x11),
            (Find::GalSearchCriterion.into(), 0x19),
            (Find::MaxPictures.into(), 0x20),
            (Find::Picture.into(), 0x22),
        ];
        for (tag, token) in cases {
            assert_eq!(tag.token(), *token, "{tag}");
        }
        // Gaps the spec leaves (and tokens it dropped) are not tags.
        for (page, token) in [
            (CodePage::AirSync, 0x11),
            (CodePage::AirSyncBase, 0x09),
            (CodePage::Search, 0x06),
            (CodePage::Find, 0x0F),
            (CodePage::Find, 0x1A),
            (CodePage::Provision, 0x12),
        ] {
            assert_eq!(Tag::new(page, token), None, "{page} {token:#04x}");
        }
    }

    /// Three pages in full, as [MS-ASWBXML] §2.1.2.1.11, .13 and .26 print
    /// them (libwbxml predates Find, so the reference tests cannot check it).
    #[test]
    fn whole_pages_match_the_spec_tables() {
        let find: &[(u8, &str)] = &[
            (0x05, "Find"),
            (0x06, "SearchId"),
            (0x07, "ExecuteSearch"),
            (0x08, "MailBoxSearchCriterion"),
            (0x09, "Query"),
            (0x0A, "Status"),
            (0x0B, "FreeText"),
            (0x0C, "Options"),
            (0x0D, "Range"),
            (0x0E, "DeepTraversal"),
            (0x11, "Response"),
            (0x12, "Result"),
            (0x13, "Properties"),
            (0x14, "Preview"),
            (0x15, "HasAttachments"),
            (0x16, "Total"),
            (0x17, "DisplayCc"),
            (0x18, "DisplayBcc"),
            (0x19, "GalSearchCriterion"),
            (0x20, "MaxPictures"),
            (0x21, "MaxSize"),
            (0x22, "Picture"),
        ];
        assert_eq!(CodePage::Find.tags(), find);
        let contacts2: &[(u8, &str)] = &[
            (0x05, "CustomerId"),
            (0x06, "GovernmentId"),
            (0x07, "IMAddress"),
            (0x08, "IMAddress2"),
            (0x09, "IMAddress3"),
            (0x0A, "ManagerName"),
            (0x0B, "CompanyMainPhone"),
            (0x0C, "AccountName"),
            (0x0D, "NickName"),
            (0x0E, "MMS"),
        ];
        assert_eq!(CodePage::Contacts2.tags(), contacts2);
        let names: Vec<&str> = CodePage::ResolveRecipients
            .tags()
            .iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(
            names,
            [
                "ResolveRecipients",
                "Response",
                "Status",
                "Type",
                "Recipient",
                "DisplayName",
                "EmailAddress",
                "Certificates",
                "Certificate",
                "MiniCertificate",
                "Options",
                "To",
                "CertificateRetrieval",
                "RecipientCount",
                "MaxCertificates",
                "MaxAmbiguousRecipients",
                "CertificateCount",
                "Availability",
                "StartTime",
                "EndTime",
                "MergedFreeBusy",
                "Picture",
                "MaxSize",
                "Data",
                "MaxPictures",
            ]
        );
        let tokens: Vec<u8> = CodePage::ResolveRecipients
            .tags()
            .iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(tokens, (0x05..=0x1D).collect::<Vec<u8>>());
    }

    #[test]
    fn typed_tags_print_as_namespace_and_name() {
        let tag = Tag::from(AirSyncBase::Body);
        assert_eq!(tag.to_string(), "AirSyncBase:Body");
        assert_eq!(format!("{tag:?}"), "AirSyncBase:Body");
        assert_eq!(AirSyncBase::Body.name(), "Body");
        assert!(tag == AirSyncBase::Body);
        assert!(tag != Tag::from(Email::Body));
    }
}
