//! Get/Create/Update/DeleteUserConfiguration: named configuration objects
//! of a folder (Outlook's `CategoryList` in the calendar, OWA's settings
//! in the root). Each is kept as one binary property of its folder — a
//! named property (this module's GUID, `UserConfiguration:<name>`), so no
//! fixed tag is taken — holding the dictionary, the XML data and the binary
//! data as the client sent them (base64 kept as text).

use crate::ids::{FolderKey, change_key};
use crate::mailbox::Mailbox;
use crate::response::{EwsError, ResponseCode, write_messages};
use crate::xml::{Element, EwsElement, NS_TYPES, XmlWriter};
use groxide_rpc::exmdb_client::folder_id;
use groxide_rpc::pb::exmdb::v1 as pb;

/// The property set of groxide's user configurations.
const CONFIG_GUID: [u8; 16] = [
    0x6b, 0x2e, 0x94, 0x1f, 0x3c, 0x55, 0x4e, 0x0a, 0x9d, 0x71, 0x0e, 0x8b, 0x52, 0xc4, 0x19, 0xe3,
];
const PT_BINARY: u32 = 0x0102;
/// Longest configuration name taken.
const MAX_NAME: usize = 256;

/// A dictionary key or value: its `Type` and its `Value`s (several for
/// `StringArray`), as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct TypedValue {
    kind: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Entry {
    key: TypedValue,
    /// `None`: the entry's value is absent (nil).
    value: Option<TypedValue>,
}

/// One stored configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct UserConfig {
    dictionary: Option<Vec<Entry>>,
    xml_data: Option<String>,
    binary_data: Option<String>,
}

/// The stored form: a list of length-prefixed strings.
struct Tokens<'a> {
    raw: &'a [u8],
}

impl Tokens<'_> {
    fn next(&mut self) -> Option<String> {
        let (len, rest) = self.raw.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (text, rest) = (rest.get(..len)?, rest.get(len..)?);
        self.raw = rest;
        String::from_utf8(text.to_vec()).ok()
    }

    fn number(&mut self) -> Option<usize> {
        self.next()?.parse().ok()
    }

    fn optional(&mut self) -> Option<Option<String>> {
        match self.next()?.as_str() {
            "0" => Some(None),
            _ => Some(Some(self.next()?)),
        }
    }

    fn typed(&mut self) -> Option<TypedValue> {
        let kind = self.next()?;
        let n = self.number()?;
        let mut values = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            values.push(self.next()?);
        }
        Some(TypedValue { kind, values })
    }
}

fn push(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn push_optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => push(out, "0"),
        Some(s) => {
            push(out, "1");
            push(out, s);
        }
    }
}

fn push_typed(out: &mut Vec<u8>, v: &TypedValue) {
    push(out, &v.kind);
    push(out, &v.values.len().to_string());
    for s in &v.values {
        push(out, s);
    }
}

impl UserConfig {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push(&mut out, "v1");
        push_optional(&mut out, self.xml_data.as_deref());
        push_optional(&mut out, self.binary_data.as_deref());
        match &self.dictionary {
            None => push(&mut out, "-"),
            Some(d) => {
                push(&mut out, &d.len().to_string());
                for e in d {
                    push_typed(&mut out, &e.key);
                    match &e.value {
                        None => push(&mut out, "0"),
                        Some(v) => {
                            push(&mut out, "1");
                            push_typed(&mut out, v);
                        }
                    }
                }
            }
        }
        out
    }

    fn decode(raw: &[u8]) -> Option<UserConfig> {
        let mut t = Tokens { raw };
        if t.next()? != "v1" {
            return None;
        }
        let xml_data = t.optional()?;
        let binary_data = t.optional()?;
        let dictionary = match t.next()?.as_str() {
            "-" => None,
            n => {
                let n: usize = n.parse().ok()?;
                let mut d = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let key = t.typed()?;
                    let value = match t.next()?.as_str() {
                        "0" => None,
                        _ => Some(t.typed()?),
                    };
                    d.push(Entry { key, value });
                }
                Some(d)
            }
        };
        Some(UserConfig {
            dictionary,
            xml_data,
            binary_data,
        })
    }

    /// The parts a `t:UserConfiguration` element gives (absent parts stay `None`).
    fn parse(e: &Element) -> Result<UserConfig, EwsError> {
        let typed = |e: &Element| -> Result<TypedValue, EwsError> {
            let kind = e
                .t_text("Type")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| EwsError::invalid("a dictionary key or value has no Type"))?;
            Ok(TypedValue {
                kind: kind.to_string(),
                values: e
                    .children
                    .iter()
                    .filter(|c| c.ns == NS_TYPES && c.name == "Value")
                    .map(|c| c.text.clone())
                    .collect(),
            })
        };
        let dictionary = match e.t("Dictionary") {
            None => None,
            Some(d) => {
                let mut out = Vec::new();
                for entry in d
                    .children
                    .iter()
                    .filter(|c| c.ns == NS_TYPES && c.name == "DictionaryEntry")
                {
                    let key = entry
                        .t("DictionaryKey")
                        .ok_or_else(|| EwsError::invalid("a DictionaryEntry has no key"))?;
                    out.push(Entry {
                        key: typed(key)?,
                        value: entry.t("DictionaryValue").map(typed).transpose()?,
                    });
                }
                Some(out)
            }
        };
        let base64 = |name: &str| -> Result<Option<String>, EwsError> {
            match e.t(name) {
                None => Ok(None),
                Some(x) => {
                    let text: String = x.text.split_ascii_whitespace().collect();
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(&text)
                        .map_err(|_| EwsError::invalid(format!("{name} is not base64")))?;
                    Ok(Some(text))
                }
            }
        };
        Ok(UserConfig {
            dictionary,
            xml_data: base64("XmlData")?,
            binary_data: base64("BinaryData")?,
        })
    }
}

/// What `UserConfigurationProperties` asks for.
#[derive(Debug, Clone, Copy, Default)]
struct Wanted {
    dictionary: bool,
    xml: bool,
    binary: bool,
}

impl Wanted {
    fn parse(text: &str) -> Wanted {
        let mut w = Wanted::default();
        for p in text.split([' ', ',', '\t', '\n']).filter(|p| !p.is_empty()) {
            match p {
                "All" => {
                    w = Wanted {
                        dictionary: true,
                        xml: true,
                        binary: true,
                    }
                }
                // No item id is kept: `Id` adds nothing to the answer.
                "Dictionary" => w.dictionary = true,
                "XmlData" => w.xml = true,
                "BinaryData" => w.binary = true,
                _ => {}
            }
        }
        w
    }
}

/// A `UserConfigurationName` element: the name and its folder.
async fn name_and_folder(
    mb: &mut Mailbox<'_>,
    e: &Element,
) -> Result<(String, pb::Folder), EwsError> {
    let name = e
        .attr("Name")
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.len() <= MAX_NAME && !n.chars().any(char::is_control))
        .ok_or_else(|| EwsError::invalid("UserConfigurationName needs a Name"))?
        .to_string();
    let target = e
        .children
        .first()
        .ok_or_else(|| EwsError::invalid("UserConfigurationName names no folder"))?;
    let folder = mb.resolve_folder(target).await?;
    Ok((name, folder))
}

/// The property tag of configuration `name` (`None` when it was never
/// stored and `create` is false).
async fn tag_of(mb: &Mailbox<'_>, name: &str, create: bool) -> Result<Option<u32>, EwsError> {
    let prop = groxide_mapi::NamedProp::string(
        groxide_mapi::Guid(CONFIG_GUID),
        format!("UserConfiguration:{name}"),
    );
    let ids = mb
        .exmdb()
        .named_prop_ids(&mb.dir, &[prop], create)
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
    Ok(ids
        .first()
        .copied()
        .flatten()
        .map(|id| (u32::from(id) << 16) | PT_BINARY))
}

/// The stored configuration `name` of `folder`.
async fn read(
    mb: &Mailbox<'_>,
    folder: &pb::Folder,
    name: &str,
) -> Result<Option<UserConfig>, EwsError> {
    let Some(tag) = tag_of(mb, name, false).await? else {
        return Ok(None);
    };
    let props = mb
        .exmdb()
        .get_folder_props(pb::FolderRequest {
            dir: mb.dir.clone(),
            folder: Some(folder_id(folder.id)),
        })
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
    Ok(props
        .props
        .iter()
        .find(|p| p.tag == tag)
        .and_then(|p| match &p.value {
            Some(pb::prop::Value::BinaryValue(b)) => UserConfig::decode(b),
            _ => None,
        }))
}

async fn write(
    mb: &Mailbox<'_>,
    folder: &pb::Folder,
    name: &str,
    config: Option<&UserConfig>,
) -> Result<(), EwsError> {
    let Some(tag) = tag_of(mb, name, config.is_some()).await? else {
        return Ok(());
    };
    let (set, remove) = match config {
        Some(c) => (
            vec![pb::Prop {
                tag,
                value: Some(pb::prop::Value::BinaryValue(c.encode())),
            }],
            Vec::new(),
        ),
        None => (Vec::new(), vec![tag]),
    };
    mb.exmdb()
        .set_folder_props(pb::SetFolderPropsRequest {
            dir: mb.dir.clone(),
            folder: Some(folder_id(folder.id)),
            set,
            remove,
        })
        .await
        .map_err(|e| EwsError::from_rpc(&e, ResponseCode::ErrorFolderNotFound))?;
    Ok(())
}

fn not_found(name: &str) -> EwsError {
    EwsError::new(
        ResponseCode::ErrorItemNotFound,
        format!("the folder has no user configuration {name}"),
    )
}

fn write_typed(w: &mut XmlWriter, element: &str, v: &TypedValue) {
    w.open(element, &[]).leaf("t:Type", &v.kind);
    for s in &v.values {
        w.leaf("t:Value", s);
    }
    w.close();
}

struct Shown {
    name: String,
    folder: pb::Folder,
    config: UserConfig,
    wanted: Wanted,
}

fn write_config(w: &mut XmlWriter, store: crate::ids::StoreGuid, s: &Shown) {
    let id = FolderKey {
        store,
        folder: s.folder.id,
    }
    .encode();
    let ck = change_key(s.folder.change_number);
    w.open("m:UserConfiguration", &[])
        .open("t:UserConfigurationName", &[("Name", &s.name)])
        .empty("t:FolderId", &[("Id", &id), ("ChangeKey", &ck)])
        .close();
    if s.wanted.dictionary
        && let Some(d) = &s.config.dictionary
    {
        w.open("t:Dictionary", &[]);
        for e in d {
            w.open("t:DictionaryEntry", &[]);
            write_typed(w, "t:DictionaryKey", &e.key);
            if let Some(v) = &e.value {
                write_typed(w, "t:DictionaryValue", v);
            }
            w.close();
        }
        w.close();
    }
    if s.wanted.xml
        && let Some(x) = &s.config.xml_data
    {
        w.leaf("t:XmlData", x);
    }
    if s.wanted.binary
        && let Some(b) = &s.config.binary_data
    {
        w.leaf("t:BinaryData", b);
    }
    w.close();
}

pub(crate) async fn get_user_configuration(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let wanted = Wanted::parse(
        op.m("UserConfigurationProperties")
            .map(|p| p.text.as_str())
            .unwrap_or("All"),
    );
    let r = async {
        let e = op
            .m("UserConfigurationName")
            .ok_or_else(|| EwsError::invalid("UserConfigurationName is missing"))?;
        let (name, folder) = name_and_folder(mb, e).await?;
        let config = read(mb, &folder, &name)
            .await?
            .ok_or_else(|| not_found(&name))?;
        Ok(Shown {
            name,
            folder,
            config,
            wanted,
        })
    }
    .await;
    let store = mb.guid().await.unwrap_or_default();
    write_messages(w, "GetUserConfiguration", &[r], |w, s| {
        write_config(w, store, s)
    });
}

/// Create (`update` false) or Update: the request's `m:UserConfiguration`.
pub(crate) async fn put_user_configuration(
    mb: &mut Mailbox<'_>,
    op: &Element,
    w: &mut XmlWriter,
    update: bool,
) {
    let op_name = if update {
        "UpdateUserConfiguration"
    } else {
        "CreateUserConfiguration"
    };
    let r = async {
        let e = op
            .m("UserConfiguration")
            .ok_or_else(|| EwsError::invalid("UserConfiguration is missing"))?;
        let name_element = e
            .t("UserConfigurationName")
            .ok_or_else(|| EwsError::invalid("UserConfigurationName is missing"))?;
        let (name, folder) = name_and_folder(mb, name_element).await?;
        let given = UserConfig::parse(e)?;
        let old = read(mb, &folder, &name).await?;
        let config = match (old, update) {
            (Some(_), false) => {
                return Err(EwsError::new(
                    ResponseCode::ErrorItemSave,
                    format!("the folder already has a user configuration {name}"),
                ));
            }
            (None, true) => return Err(not_found(&name)),
            (None, false) => given,
            // An update replaces the parts it names.
            (Some(old), true) => UserConfig {
                dictionary: given.dictionary.or(old.dictionary),
                xml_data: given.xml_data.or(old.xml_data),
                binary_data: given.binary_data.or(old.binary_data),
            },
        };
        write(mb, &folder, &name, Some(&config)).await
    }
    .await;
    write_messages(w, op_name, &[r], |_, _| {});
}

pub(crate) async fn delete_user_configuration(
    mb: &mut Mailbox<'_>,
    op: &Element,
    w: &mut XmlWriter,
) {
    let r = async {
        let e = op
            .m("UserConfigurationName")
            .ok_or_else(|| EwsError::invalid("UserConfigurationName is missing"))?;
        let (name, folder) = name_and_folder(mb, e).await?;
        if read(mb, &folder, &name).await?.is_none() {
            return Err(not_found(&name));
        }
        write(mb, &folder, &name, None).await
    }
    .await;
    write_messages(w, "DeleteUserConfiguration", &[r], |_, _| {});
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_configuration_reads_back_as_it_was_given() {
        let c = UserConfig {
            dictionary: Some(vec![
                Entry {
                    key: TypedValue {
                        kind: "String".into(),
                        values: vec!["Colour".into()],
                    },
                    value: Some(TypedValue {
                        kind: "StringArray".into(),
                        values: vec!["red".into(), "".into(), "blå".into()],
                    }),
                },
                Entry {
                    key: TypedValue {
                        kind: "Integer32".into(),
                        values: vec!["7".into()],
                    },
                    value: None,
                },
            ]),
            xml_data: Some("PGEvPg==".into()),
            binary_data: None,
        };
        assert_eq!(UserConfig::decode(&c.encode()), Some(c));
        let empty = UserConfig::default();
        assert_eq!(UserConfig::decode(&empty.encode()), Some(empty));
        // Cut short or foreign bytes are no configuration, not a panic.
        let raw = UserConfig::default().encode();
        assert_eq!(UserConfig::decode(&raw[..raw.len() - 1]), None);
        assert_eq!(UserConfig::decode(b"\xff\xff\xff\xff"), None);
    }

    #[test]
    fn properties_asked_for() {
        let w = Wanted::parse("Dictionary XmlData");
        assert!(w.dictionary && w.xml && !w.binary);
        let all = Wanted::parse("All");
        assert!(all.dictionary && all.xml && all.binary);
    }
}
