//! The parameters of an ActiveSync request ([MS-ASHTTP] 2.2.1.1.1): the
//! command, the user, the device, the policy key and the protocol version,
//! from the plain query string (`?Cmd=Sync&User=…&DeviceId=…&DeviceType=…`
//! with `MS-ASProtocolVersion` and `X-MS-PolicyKey` headers) or from the
//! base64-encoded binary query that some clients send instead.

use base64::Engine;
use http::HeaderMap;

/// The protocol versions this server speaks, oldest first.
pub const VERSIONS: &[&str] = &["12.1", "14.0", "14.1", "16.0", "16.1"];

/// The commands this server answers (MS-ASProtocolCommands).
pub const COMMANDS: &[&str] = &[
    "Sync",
    "FolderCreate",
    "FolderDelete",
    "FolderSync",
    "FolderUpdate",
    "Find",
    "GetItemEstimate",
    "ItemOperations",
    "MeetingResponse",
    "MoveItems",
    "Ping",
    "Provision",
    "ResolveRecipients",
    "Search",
    "SendMail",
    "Settings",
    "SmartForward",
    "SmartReply",
];

/// Longest DeviceId and DeviceType ([MS-ASHTTP]: 32 and 16 characters;
/// some clients send a little more, nobody sends this much).
const MAX_ID_LEN: usize = 64;

/// A protocol version as a number: `141` for 14.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u8);

impl Version {
    /// The newest version, for clients that do not say.
    pub const LATEST: Version = Version(161);

    /// `"14.1"` → 141; only the versions this server speaks.
    pub fn parse(s: &str) -> Option<Version> {
        if !VERSIONS.contains(&s.trim()) {
            return None;
        }
        let (major, minor) = s.trim().split_once('.')?;
        Some(Version(
            major.parse::<u8>().ok()? * 10 + minor.parse::<u8>().ok()?,
        ))
    }

    /// `"14.1"`.
    pub fn as_string(self) -> String {
        format!("{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// What a request says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The command (`Sync`, `FolderSync`, …).
    pub command: String,
    /// The `User` parameter (the login name the client was configured with).
    pub user: String,
    /// The device's id (letters and digits).
    pub device_id: String,
    /// The device's type (`iPhone`, `Android`, …).
    pub device_type: String,
    /// The policy key the client holds (`None`: none sent; 0 is sent by
    /// clients that have none, and means the same).
    pub policy_key: Option<u32>,
    /// The protocol version the client speaks.
    pub version: Version,
    /// `SaveInSent=T` (SendMail).
    pub save_in_sent: bool,
    /// The client's User-Agent.
    pub user_agent: String,
}

/// Why a request's parameters are unusable (answered 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParams(pub String);

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn check_id(what: &str, v: &str) -> Result<String, BadParams> {
    if v.is_empty()
        || v.len() > MAX_ID_LEN
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(BadParams(format!(
            "{what} must be 1–{MAX_ID_LEN} letters or digits"
        )));
    }
    Ok(v.to_string())
}

/// The command names of the base64 form ([MS-ASHTTP] 2.2.1.1.1.1.2).
fn command_by_code(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "Sync",
        1 => "SendMail",
        2 => "SmartForward",
        3 => "SmartReply",
        4 => "GetAttachment",
        9 => "FolderSync",
        10 => "FolderCreate",
        11 => "FolderDelete",
        12 => "FolderUpdate",
        13 => "MoveItems",
        14 => "GetItemEstimate",
        15 => "MeetingResponse",
        16 => "Search",
        17 => "Settings",
        18 => "Ping",
        19 => "ItemOperations",
        20 => "Provision",
        21 => "ResolveRecipients",
        22 => "ValidateCert",
        23 => "Find",
        _ => return None,
    })
}

/// Reads the parameters of a request from its query string and headers.
pub fn parse(query: Option<&str>, headers: &HeaderMap) -> Result<Params, BadParams> {
    let query = query.unwrap_or("");
    let user_agent = header(headers, "user-agent")
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let lower = query.to_ascii_lowercase();
    let plain = lower.contains("cmd=") || lower.contains("deviceid=") || lower.contains('&');
    if !query.is_empty() && !plain {
        let mut p = parse_base64(query)?;
        p.user_agent = user_agent;
        return Ok(p);
    }
    let mut command = None;
    let mut user = String::new();
    let mut device_id = None;
    let mut device_type = String::new();
    let mut save_in_sent = false;
    let mut policy_key = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.to_ascii_lowercase().as_str() {
            "cmd" => command = Some(v.to_string()),
            "user" => user = v.chars().take(320).collect(),
            "deviceid" => device_id = Some(check_id("DeviceId", &v)?),
            "devicetype" => device_type = check_id("DeviceType", &v)?,
            "saveinsent" => save_in_sent = v.eq_ignore_ascii_case("t"),
            "policykey" => policy_key = v.parse::<u32>().ok(),
            _ => {}
        }
    }
    let version = match header(headers, "ms-asprotocolversion") {
        Some(v) => Version::parse(v)
            .ok_or_else(|| BadParams(format!("protocol version {v:?} is not supported")))?,
        None => Version::LATEST,
    };
    if let Some(k) = header(headers, "x-ms-policykey") {
        policy_key = Some(
            k.parse::<u32>()
                .map_err(|_| BadParams("X-MS-PolicyKey is not a number".into()))?,
        );
    }
    Ok(Params {
        command: command.ok_or_else(|| BadParams("no Cmd parameter".into()))?,
        user,
        device_id: device_id.ok_or_else(|| BadParams("no DeviceId parameter".into()))?,
        device_type,
        policy_key,
        version,
        save_in_sent,
        user_agent,
    })
}

/// The base64 form: version, command code, locale, DeviceId, PolicyKey,
/// DeviceType, then tagged command parameters.
fn parse_base64(query: &str) -> Result<Params, BadParams> {
    let bad = |what: &str| BadParams(format!("base64 query: {what}"));
    let decoded = form_urlencoded::parse(format!("q={query}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(decoded.trim())
        .map_err(|_| bad("not base64"))?;
    let mut r = Reader { raw: &raw, at: 0 };
    let version = r.byte().ok_or_else(|| bad("too short"))?;
    let version = Version::parse(&format!("{}.{}", version / 10, version % 10))
        .ok_or_else(|| bad("unsupported protocol version"))?;
    let command = command_by_code(r.byte().ok_or_else(|| bad("too short"))?)
        .ok_or_else(|| bad("unknown command code"))?;
    r.take(2).ok_or_else(|| bad("too short"))?; // locale
    let id_len = usize::from(r.byte().ok_or_else(|| bad("too short"))?);
    let device_id = r.take(id_len).ok_or_else(|| bad("DeviceId cut short"))?;
    // DeviceId is a GUID-like byte string in this form; hex keeps it an id.
    let device_id: String = if device_id.iter().all(u8::is_ascii_alphanumeric) {
        String::from_utf8_lossy(device_id).into_owned()
    } else {
        device_id.iter().map(|b| format!("{b:02x}")).collect()
    };
    let key_len = usize::from(r.byte().ok_or_else(|| bad("too short"))?);
    let policy_key = match key_len {
        0 => None,
        4 => {
            let b = r.take(4).ok_or_else(|| bad("PolicyKey cut short"))?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        _ => return Err(bad("PolicyKey must be 0 or 4 bytes")),
    };
    let type_len = usize::from(r.byte().ok_or_else(|| bad("too short"))?);
    let device_type = String::from_utf8_lossy(
        r.take(type_len)
            .ok_or_else(|| bad("DeviceType cut short"))?,
    )
    .into_owned();
    let mut user = String::new();
    let mut save_in_sent = false;
    while let Some(tag) = r.byte() {
        let len = usize::from(r.byte().ok_or_else(|| bad("parameter cut short"))?);
        let value = r.take(len).ok_or_else(|| bad("parameter cut short"))?;
        match tag {
            8 => user = String::from_utf8_lossy(value).into_owned(),
            7 => save_in_sent = value.first().is_some_and(|o| o & 0x01 != 0),
            _ => {}
        }
    }
    Ok(Params {
        command: command.to_string(),
        user,
        device_id: check_id("DeviceId", &device_id)?,
        device_type: if device_type.is_empty() {
            String::new()
        } else {
            check_id("DeviceType", &device_type)?
        },
        policy_key,
        version,
        save_in_sent,
        user_agent: String::new(),
    })
}

struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.raw.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.raw.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn plain_query_with_headers() {
        let p = parse(
            Some("Cmd=Sync&User=demo%40example.test&DeviceId=ABC123&DeviceType=iPhone"),
            &headers(&[("ms-asprotocolversion", "14.1"), ("x-ms-policykey", "4711")]),
        )
        .unwrap();
        assert_eq!(p.command, "Sync");
        assert_eq!(p.user, "demo@example.test");
        assert_eq!(p.device_id, "ABC123");
        assert_eq!(p.device_type, "iPhone");
        assert_eq!(p.policy_key, Some(4711));
        assert_eq!(p.version, Version(141));
    }

    #[test]
    fn base64_query_carries_the_same_facts() {
        // 14.1, FolderSync (9), locale 0x0409, DeviceId "dev1", key 7, type "Android", User.
        let mut raw = vec![141, 9, 0x09, 0x04, 4];
        raw.extend_from_slice(b"dev1");
        raw.push(4);
        raw.extend_from_slice(&7u32.to_le_bytes());
        raw.push(7);
        raw.extend_from_slice(b"Android");
        raw.extend_from_slice(&[8, 4]);
        raw.extend_from_slice(b"demo");
        let q = base64::engine::general_purpose::STANDARD.encode(&raw);
        let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let p = parse(Some(&q), &HeaderMap::new()).unwrap();
        assert_eq!(p.command, "FolderSync");
        assert_eq!(p.device_id, "dev1");
        assert_eq!(p.device_type, "Android");
        assert_eq!(p.policy_key, Some(7));
        assert_eq!(p.user, "demo");
        assert_eq!(p.version, Version(141));
    }

    #[test]
    fn bad_parameters_are_refused_with_a_reason() {
        let table = [
            ("Cmd=Sync&User=u&DeviceType=x", "DeviceId"),
            ("User=u&DeviceId=a&DeviceType=x", "Cmd"),
            ("Cmd=Sync&DeviceId=a%2F..&DeviceType=x", "DeviceId"),
            ("AAA", "base64"),
            ("jQk=", "base64"),
        ];
        for (q, want) in table {
            let e = parse(Some(q), &HeaderMap::new()).unwrap_err();
            assert!(e.0.contains(want), "{q}: {}", e.0);
        }
        let e = parse(
            Some("Cmd=Sync&DeviceId=a&DeviceType=x"),
            &headers(&[("ms-asprotocolversion", "2.5")]),
        )
        .unwrap_err();
        assert!(e.0.contains("not supported"));
    }
}
