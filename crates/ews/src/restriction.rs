//! FindItem's `Restriction` and `SortOrder` over the common item
//! properties, for mail and groupware folders alike: a restriction is
//! parsed once into [`Restriction`] and evaluated against anything that
//! can tell a [`Path`]'s [`Value`] ([`ItemValues`]: a mail listing entry
//! with or without the message's properties, a groupware item).
//!
//! Semantics follow the store's: a comparison on a property the item does
//! not have is false (so `IsNotEqualTo` is false too, `Not(IsEqualTo)`
//! true); text compares without case; importance orders Low < Normal <
//! High.

use crate::items::parse_date_time;
use crate::response::{EwsError, ResponseCode};
use crate::xml::{Element, EwsElement, NS_TYPES};
use std::cmp::Ordering;

/// A property a restriction or sort can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `item:Subject`.
    Subject,
    /// `message:From` / `message:Sender`.
    From,
    /// `item:DateTimeReceived`.
    Received,
    /// `item:DateTimeSent`.
    Sent,
    /// `item:DateTimeCreated`.
    Created,
    /// `item:LastModifiedTime`.
    Modified,
    /// `message:IsRead`.
    IsRead,
    /// `item:HasAttachments`.
    HasAttachments,
    /// `item:Importance`.
    Importance,
    /// `item:Size`.
    Size,
    /// `item:Flag` (flagged or not).
    Flagged,
    /// `item:ItemClass`.
    ItemClass,
    /// `message:InternetMessageId`.
    InternetMessageId,
    /// `calendar:Start`.
    Start,
    /// `calendar:End`.
    End,
    /// `contacts:DisplayName`.
    DisplayName,
}

/// The kind of value a path holds (how a constant is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Address,
    Time,
    Bool,
    Int,
    Importance,
}

impl Path {
    /// The path a `FieldURI` names.
    pub fn parse(uri: &str) -> Option<Path> {
        Some(match uri {
            "item:Subject" => Path::Subject,
            "message:From" | "message:Sender" => Path::From,
            "item:DateTimeReceived" => Path::Received,
            "item:DateTimeSent" => Path::Sent,
            "item:DateTimeCreated" => Path::Created,
            "item:LastModifiedTime" => Path::Modified,
            "message:IsRead" => Path::IsRead,
            "item:HasAttachments" => Path::HasAttachments,
            "item:Importance" => Path::Importance,
            "item:Size" => Path::Size,
            "item:Flag" => Path::Flagged,
            "item:ItemClass" => Path::ItemClass,
            "message:InternetMessageId" => Path::InternetMessageId,
            "calendar:Start" => Path::Start,
            "calendar:End" => Path::End,
            "contacts:DisplayName" => Path::DisplayName,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Path::Subject | Path::ItemClass | Path::InternetMessageId | Path::DisplayName => {
                Kind::Text
            }
            Path::From => Kind::Address,
            Path::Received
            | Path::Sent
            | Path::Created
            | Path::Modified
            | Path::Start
            | Path::End => Kind::Time,
            Path::IsRead | Path::HasAttachments | Path::Flagged => Kind::Bool,
            Path::Size => Kind::Int,
            Path::Importance => Kind::Importance,
        }
    }
}

/// A property's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A mailbox: display name and address.
    Address(String, String),
    /// Unix seconds.
    Time(i64),
    /// A boolean.
    Bool(bool),
    /// A number (size; importance 0 low, 1 normal, 2 high).
    Int(i64),
}

impl Value {
    fn order(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(fold(a).cmp(&fold(b))),
            (Value::Address(_, a), Value::Address(_, b) | Value::Text(b))
            | (Value::Text(a), Value::Address(_, b)) => Some(fold(a).cmp(&fold(b))),
            (Value::Time(a), Value::Time(b)) | (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// What a restriction reads of an item.
pub trait ItemValues {
    /// The item's value of `path`; `None` when it has none.
    fn value(&self, path: Path) -> Option<Value>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Containment {
    Full,
    Prefix,
    Substring,
}

/// A parsed `Restriction`.
#[derive(Debug, Clone, PartialEq)]
pub enum Restriction {
    /// `IsEqualTo` … `IsLessThanOrEqualTo`: (path, ordering wanted, whether
    /// it must equal that ordering, constant).
    Compare(Path, Ordering, bool, Value),
    /// `Contains`.
    Contains {
        /// The property.
        path: Path,
        /// FullString, Prefixed or Substring.
        mode: ContainmentMode,
        /// `ContainmentComparison` ignores case.
        ignore_case: bool,
        /// The constant.
        value: String,
    },
    /// `Exists`.
    Exists(Path),
    /// `And`.
    And(Vec<Restriction>),
    /// `Or`.
    Or(Vec<Restriction>),
    /// `Not`.
    Not(Box<Restriction>),
}

/// How `Contains` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainmentMode(Containment);

fn unsupported_filter(what: &str) -> EwsError {
    EwsError::new(
        ResponseCode::ErrorUnsupportedQueryFilter,
        format!("the restriction {what} is not supported"),
    )
}

fn path_of(e: &Element) -> Result<Path, EwsError> {
    let uri = e
        .t("FieldURI")
        .and_then(|f| f.attr("FieldURI"))
        .ok_or_else(|| unsupported_filter(&format!("{} without a FieldURI", e.name)))?;
    Path::parse(uri).ok_or_else(|| {
        EwsError::new(
            ResponseCode::ErrorUnsupportedPathForQuery,
            format!("restrictions on {uri} are not supported"),
        )
    })
}

fn constant(path: Path, text: &str) -> Result<Value, EwsError> {
    let bad = || EwsError::invalid(format!("{text:?} is not a value of {path:?}"));
    let t = text.trim();
    Ok(match path.kind() {
        Kind::Text | Kind::Address => Value::Text(text.to_string()),
        Kind::Time => Value::Time(parse_date_time(t).ok_or_else(bad)?),
        Kind::Bool => Value::Bool(match t {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad()),
        }),
        Kind::Int => Value::Int(t.parse().map_err(|_| bad())?),
        Kind::Importance => Value::Int(match t {
            "Low" => 0,
            "Normal" => 1,
            "High" => 2,
            _ => return Err(bad()),
        }),
    })
}

impl Restriction {
    /// Parses one restriction element (a child of `m:Restriction`).
    pub fn parse(e: &Element) -> Result<Restriction, EwsError> {
        let sub = |e: &Element| -> Result<Vec<Restriction>, EwsError> {
            e.children
                .iter()
                .filter(|c| c.ns == NS_TYPES)
                .map(Restriction::parse)
                .collect()
        };
        let (ord, eq) = match e.name.as_str() {
            "And" => return Ok(Restriction::And(sub(e)?)),
            "Or" => return Ok(Restriction::Or(sub(e)?)),
            "Not" => {
                let mut inner = sub(e)?;
                return match (inner.pop(), inner.is_empty()) {
                    (Some(r), true) => Ok(Restriction::Not(Box::new(r))),
                    _ => Err(EwsError::invalid("Not takes one restriction")),
                };
            }
            "Exists" => return Ok(Restriction::Exists(path_of(e)?)),
            "Contains" => {
                let path = path_of(e)?;
                if !matches!(path.kind(), Kind::Text | Kind::Address) {
                    return Err(unsupported_filter(
                        "Contains on a property that is not text",
                    ));
                }
                let mode = match e.attr("ContainmentMode").unwrap_or("Substring") {
                    "FullString" => Containment::Full,
                    "Prefixed" | "PrefixOnWords" => Containment::Prefix,
                    "Substring" | "ExactPhrase" => Containment::Substring,
                    other => return Err(unsupported_filter(&format!("ContainmentMode {other}"))),
                };
                let value = e
                    .t("Constant")
                    .and_then(|c| c.attr("Value"))
                    .ok_or_else(|| EwsError::invalid("Contains needs a Constant"))?
                    .to_string();
                let comparison = e.attr("ContainmentComparison").unwrap_or("Exact");
                return Ok(Restriction::Contains {
                    path,
                    mode: ContainmentMode(mode),
                    ignore_case: comparison.contains("IgnoreCase") || comparison.contains("Loose"),
                    value,
                });
            }
            "IsEqualTo" => (Ordering::Equal, true),
            "IsNotEqualTo" => (Ordering::Equal, false),
            "IsGreaterThan" => (Ordering::Greater, true),
            "IsLessThan" => (Ordering::Less, true),
            "IsGreaterThanOrEqualTo" => (Ordering::Less, false),
            "IsLessThanOrEqualTo" => (Ordering::Greater, false),
            other => return Err(unsupported_filter(other)),
        };
        let path = path_of(e)?;
        let text = e
            .t("FieldURIOrConstant")
            .and_then(|c| c.t("Constant"))
            .and_then(|c| c.attr("Value"))
            .ok_or_else(|| {
                unsupported_filter(&format!("{} without a constant to compare with", e.name))
            })?;
        Ok(Restriction::Compare(path, ord, eq, constant(path, text)?))
    }

    /// Whether any part reads a path `cheap` says an item cannot tell
    /// without loading more.
    pub fn reads(&self, cheap: &dyn Fn(Path) -> bool) -> bool {
        match self {
            Restriction::Compare(p, ..) | Restriction::Exists(p) => !cheap(*p),
            Restriction::Contains { path, .. } => !cheap(*path),
            Restriction::And(v) | Restriction::Or(v) => v.iter().any(|r| r.reads(cheap)),
            Restriction::Not(r) => r.reads(cheap),
        }
    }

    /// Whether an item passes.
    pub fn matches(&self, item: &dyn ItemValues) -> bool {
        match self {
            Restriction::And(v) => v.iter().all(|r| r.matches(item)),
            Restriction::Or(v) => v.iter().any(|r| r.matches(item)),
            Restriction::Not(r) => !r.matches(item),
            Restriction::Exists(p) => item.value(*p).is_some(),
            Restriction::Compare(p, ord, eq, want) => {
                let Some(have) = item.value(*p) else {
                    return false;
                };
                // An address equals a constant naming its address or its name.
                if let (Value::Address(name, _), Ordering::Equal, Value::Text(w)) =
                    (&have, ord, want)
                    && fold(name) == fold(w)
                {
                    return *eq;
                }
                match have.order(want) {
                    Some(o) => (o == *ord) == *eq,
                    None => false,
                }
            }
            Restriction::Contains {
                path,
                mode,
                ignore_case,
                value,
            } => {
                let texts: Vec<String> = match item.value(*path) {
                    Some(Value::Text(t)) => vec![t],
                    Some(Value::Address(n, a)) => vec![n, a],
                    _ => return false,
                };
                let want = if *ignore_case {
                    fold(value)
                } else {
                    value.clone()
                };
                texts.into_iter().any(|t| {
                    let t = if *ignore_case { fold(&t) } else { t };
                    match mode.0 {
                        Containment::Full => t == want,
                        Containment::Prefix => t.starts_with(&want),
                        Containment::Substring => t.contains(&want),
                    }
                })
            }
        }
    }
}

/// A parsed `SortOrder`: paths, each descending or not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortOrder(pub Vec<(Path, bool)>);

impl SortOrder {
    /// The request's `m:SortOrder` (empty when absent).
    pub fn parse(op: &Element) -> Result<SortOrder, EwsError> {
        let mut keys = Vec::new();
        if let Some(order) = op.m("SortOrder") {
            for fo in order.children.iter().filter(|c| c.name == "FieldOrder") {
                let desc = fo.attr("Order") == Some("Descending");
                let uri = fo
                    .t("FieldURI")
                    .and_then(|f| f.attr("FieldURI"))
                    .unwrap_or_default();
                let path = Path::parse(uri).ok_or_else(|| {
                    EwsError::new(
                        ResponseCode::ErrorUnsupportedPathForQuery,
                        format!("sorting by {uri} is not supported"),
                    )
                })?;
                keys.push((path, desc));
            }
        }
        Ok(SortOrder(keys))
    }

    /// Whether any key reads a path `cheap` says needs more loading.
    pub fn reads(&self, cheap: &dyn Fn(Path) -> bool) -> bool {
        self.0.iter().any(|(p, _)| !cheap(*p))
    }

    /// Orders two items by the keys (items without a value last).
    pub fn compare(&self, a: &dyn ItemValues, b: &dyn ItemValues) -> Ordering {
        for (path, desc) in &self.0 {
            let o = match (a.value(*path), b.value(*path)) {
                (Some(x), Some(y)) => {
                    let o = match (&x, &y) {
                        (Value::Address(nx, ax), Value::Address(ny, ay)) => {
                            let kx = if nx.is_empty() { ax } else { nx };
                            let ky = if ny.is_empty() { ay } else { ny };
                            fold(kx).cmp(&fold(ky))
                        }
                        _ => x.order(&y).unwrap_or(Ordering::Equal),
                    };
                    if *desc { o.reverse() } else { o }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// A page of a FindItem view: `IndexedPageItemView`'s offset, count and
/// base point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageView {
    /// Items skipped from the base point.
    pub offset: usize,
    /// Most items returned.
    pub max: usize,
    /// Counted from the end.
    pub from_end: bool,
}

impl PageView {
    /// The request's `m:IndexedPageItemView`; without one, the first
    /// `default_max` items.
    pub fn parse(op: &Element, default_max: usize) -> PageView {
        match op.m("IndexedPageItemView") {
            Some(v) => PageView {
                offset: v.attr("Offset").and_then(|o| o.parse().ok()).unwrap_or(0),
                max: v
                    .attr("MaxEntriesReturned")
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(default_max),
                from_end: v.attr("BasePoint") == Some("End"),
            },
            None => PageView {
                offset: 0,
                max: default_max,
                from_end: false,
            },
        }
    }

    /// The index range of the page in a view of `total` items.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        if self.from_end {
            let end = total.saturating_sub(self.offset);
            end.saturating_sub(self.max)..end
        } else {
            let start = self.offset.min(total);
            start..start.saturating_add(self.max).min(total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{NS_MESSAGES, parse};

    struct Fake(Vec<(Path, Value)>);

    impl ItemValues for Fake {
        fn value(&self, path: Path) -> Option<Value> {
            self.0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, v)| v.clone())
        }
    }

    fn restriction(body: &str) -> Result<Restriction, EwsError> {
        let doc = format!(
            "<m:Restriction xmlns:m=\"{NS_MESSAGES}\" xmlns:t=\"{NS_TYPES}\">{body}</m:Restriction>"
        );
        let e = parse(doc.as_bytes()).unwrap();
        Restriction::parse(&e.children[0])
    }

    fn item() -> Fake {
        Fake(vec![
            (Path::Subject, Value::Text("Quarterly Figures".into())),
            (
                Path::From,
                Value::Address("Ann Smith".into(), "ann@example.org".into()),
            ),
            (Path::Received, Value::Time(1_700_000_000)),
            (Path::IsRead, Value::Bool(false)),
            (Path::Importance, Value::Int(2)),
        ])
    }

    #[test]
    fn restrictions_over_common_properties() {
        let cases = [
            (
                r#"<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="quarterly figures"/></t:FieldURIOrConstant></t:IsEqualTo>"#,
                true,
            ),
            (
                r#"<t:IsEqualTo><t:FieldURI FieldURI="message:From"/><t:FieldURIOrConstant><t:Constant Value="ANN@example.org"/></t:FieldURIOrConstant></t:IsEqualTo>"#,
                true,
            ),
            (
                r#"<t:IsEqualTo><t:FieldURI FieldURI="message:From"/><t:FieldURIOrConstant><t:Constant Value="Ann Smith"/></t:FieldURIOrConstant></t:IsEqualTo>"#,
                true,
            ),
            (
                r#"<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="message:From"/><t:Constant Value="SMITH"/></t:Contains>"#,
                true,
            ),
            (
                r#"<t:Contains ContainmentMode="Substring" ContainmentComparison="Exact"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="figures"/></t:Contains>"#,
                false,
            ),
            (
                r#"<t:Contains ContainmentMode="Prefixed" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="quart"/></t:Contains>"#,
                true,
            ),
            (
                r#"<t:IsGreaterThan><t:FieldURI FieldURI="item:DateTimeReceived"/><t:FieldURIOrConstant><t:Constant Value="2023-11-14T22:00:00Z"/></t:FieldURIOrConstant></t:IsGreaterThan>"#,
                true,
            ),
            (
                r#"<t:IsGreaterThanOrEqualTo><t:FieldURI FieldURI="item:Importance"/><t:FieldURIOrConstant><t:Constant Value="High"/></t:FieldURIOrConstant></t:IsGreaterThanOrEqualTo>"#,
                true,
            ),
            (
                r#"<t:IsLessThan><t:FieldURI FieldURI="item:Importance"/><t:FieldURIOrConstant><t:Constant Value="Normal"/></t:FieldURIOrConstant></t:IsLessThan>"#,
                false,
            ),
            (
                r#"<t:And><t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo><t:Not><t:IsEqualTo><t:FieldURI FieldURI="item:HasAttachments"/><t:FieldURIOrConstant><t:Constant Value="true"/></t:FieldURIOrConstant></t:IsEqualTo></t:Not></t:And>"#,
                true,
            ),
            // No HasAttachments value: every comparison is false, its negation true.
            (
                r#"<t:IsNotEqualTo><t:FieldURI FieldURI="item:HasAttachments"/><t:FieldURIOrConstant><t:Constant Value="true"/></t:FieldURIOrConstant></t:IsNotEqualTo>"#,
                false,
            ),
            (
                r#"<t:Or><t:Exists><t:FieldURI FieldURI="item:HasAttachments"/></t:Exists><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists></t:Or>"#,
                true,
            ),
        ];
        for (body, want) in cases {
            let r = restriction(body).unwrap();
            assert_eq!(r.matches(&item()), want, "{body}");
        }
    }

    #[test]
    fn bad_restrictions_are_schema_errors() {
        let unknown = restriction(
            r#"<t:IsEqualTo><t:FieldURI FieldURI="item:Culture"/><t:FieldURIOrConstant><t:Constant Value="x"/></t:FieldURIOrConstant></t:IsEqualTo>"#,
        );
        assert_eq!(
            unknown.unwrap_err().code,
            ResponseCode::ErrorUnsupportedPathForQuery
        );
        let bad_date = restriction(
            r#"<t:IsEqualTo><t:FieldURI FieldURI="item:DateTimeReceived"/><t:FieldURIOrConstant><t:Constant Value="soon"/></t:FieldURIOrConstant></t:IsEqualTo>"#,
        );
        assert_eq!(
            bad_date.unwrap_err().code,
            ResponseCode::ErrorInvalidRequest
        );
        let two = restriction(
            r#"<t:Not><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists><t:Exists><t:FieldURI FieldURI="item:Subject"/></t:Exists></t:Not>"#,
        );
        assert!(two.is_err());
    }

    #[test]
    fn pages_from_the_start_and_from_the_end() {
        let p = |offset, max, from_end| PageView {
            offset,
            max,
            from_end,
        };
        assert_eq!(p(0, 100, false).range(250), 0..100);
        assert_eq!(p(200, 100, false).range(250), 200..250);
        assert_eq!(p(300, 100, false).range(250), 250..250);
        assert_eq!(p(0, 100, true).range(250), 150..250);
        assert_eq!(p(200, 100, true).range(250), 0..50);
    }

    #[test]
    fn sorting_puts_items_without_the_value_last() {
        let order = SortOrder(vec![(Path::Subject, true)]);
        let a = Fake(vec![(Path::Subject, Value::Text("alpha".into()))]);
        let b = Fake(vec![(Path::Subject, Value::Text("Beta".into()))]);
        let none = Fake(Vec::new());
        assert_eq!(order.compare(&a, &b), Ordering::Greater);
        assert_eq!(order.compare(&none, &a), Ordering::Greater);
    }
}
