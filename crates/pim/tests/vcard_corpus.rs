//! The vCard corpus (tests/corpus/groupware/vcard): every card read,
//! broken cards reported alone, MAPI property lists snapshotted, round
//! trips through 3.0 and 4.0 compared by meaning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_mapi::{PropValue, lids, tags};
use groxide_pim::vcard::{VcardVersion, compare_vcards, item_to_vcard, parse_vcards};
use groxide_pim::{Item, ItemClass};
use std::path::PathBuf;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/groupware/vcard")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn items(name: &str) -> Vec<Item> {
    parse_vcards(&corpus(name))
        .items
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

const GOOD: &[&str] = &[
    "apple-contacts-v3.vcf",
    "google-contacts-v3.vcf",
    "nextcloud-v4-with-group.vcf",
    "outlook-v21-cp1252.vcf",
];

/// What MAPI holds of a card.
const MAPI_HELD: &[&str] = &[
    "FN",
    "N",
    "NICKNAME",
    "EMAIL",
    "TEL",
    "ADR",
    "BDAY",
    "ANNIVERSARY",
    "PHOTO",
    "ORG",
    "TITLE",
    "ROLE",
    "NOTE",
    "CATEGORIES",
    "URL",
    "UID",
    "GENDER",
    "IMPP",
    "MEMBER",
];

#[test]
fn every_card_converts_to_its_class() {
    let classes: Vec<(&str, Vec<ItemClass>)> = GOOD
        .iter()
        .map(|f| (*f, items(f).iter().map(|i| i.class).collect()))
        .collect();
    assert_eq!(
        classes,
        [
            ("apple-contacts-v3.vcf", vec![ItemClass::Contact]),
            (
                "google-contacts-v3.vcf",
                vec![ItemClass::Contact, ItemClass::Contact]
            ),
            (
                "nextcloud-v4-with-group.vcf",
                vec![ItemClass::Contact, ItemClass::DistList]
            ),
            ("outlook-v21-cp1252.vcf", vec![ItemClass::Contact]),
        ]
    );
}

#[test]
fn exported_without_the_original_only_what_mapi_cannot_hold_is_lost() {
    for f in GOOD {
        for mut item in items(f) {
            let source = item.original.take().unwrap();
            for version in [VcardVersion::V3, VcardVersion::V4] {
                let out = item_to_vcard(&item, version).unwrap();
                let lost = compare_vcards(&source, out.as_bytes(), MAPI_HELD);
                let expected: Vec<&str> = match (*f, item.str(tags::PR_DISPLAY_NAME)) {
                    // MAPI has three e-mail slots; a contact's member by UID needs the store.
                    ("google-contacts-v3.vcf", Some("Ravi Kumar")) => {
                        vec!["Ravi Kumar: EMAIL = fourth@too-many.example"]
                    }
                    ("nextcloud-v4-with-group.vcf", Some("Book club")) => {
                        vec![
                            "urn:uuid:9a9a9a9a-1111-4222-8333-444444444444: MEMBER = urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
                        ]
                    }
                    _ => vec![],
                };
                assert_eq!(lost, expected, "{f} as {version:?}:\n{out}");
            }
        }
    }
}

#[test]
fn an_unchanged_card_comes_back_as_it_was_in_its_own_version() {
    for f in [
        "apple-contacts-v3.vcf",
        "google-contacts-v3.vcf",
        "nextcloud-v4-with-group.vcf",
    ] {
        for item in items(f) {
            let orig = item.original.clone().unwrap();
            let v = if String::from_utf8_lossy(&orig).contains("VERSION:4") {
                VcardVersion::V4
            } else {
                VcardVersion::V3
            };
            let out = item_to_vcard(&item, v).unwrap();
            assert_eq!(
                out.replace("\r\n", "\n"),
                String::from_utf8(orig).unwrap().replace("\r\n", "\n"),
                "{f}"
            );
        }
    }
}

#[test]
fn a_changed_name_is_written_and_unknown_properties_and_groups_survive() {
    let mut item = items("apple-contacts-v3.vcf").remove(0);
    let orig = item.original.clone().unwrap();
    item.set(
        tags::PR_DISPLAY_NAME,
        PropValue::Unicode("Åsa Lindqvist".into()),
    );
    item.set(
        tags::PR_CAR_TELEPHONE_NUMBER,
        PropValue::Unicode("+46 70 999 00 00".into()),
    );
    let out = item_to_vcard(&item, VcardVersion::V3).unwrap();
    let lost = compare_vcards(&orig, out.as_bytes(), &[]);
    assert_eq!(
        lost,
        ["5F3E2D1C-0B9A-4877-8665-544332211000: FN = Dr. Åsa Maria Lindqvist"],
        "{out}"
    );
    for kept in [
        "item1.EMAIL;type=INTERNET;type=pref:",
        "item1.X-ABLabel:_$!<Other>!$_",
        "X-ABUID:",
        "item2.X-ABADR:se",
        ":Åsa Lindqvist\r\n",
    ] {
        assert!(out.contains(kept), "{kept} missing from\n{out}");
    }
    assert!(out.contains("+46 70 999 00 00"), "{out}");
}

#[test]
fn a_card_converts_between_versions_without_losing_meaning() {
    for (f, to) in [
        ("apple-contacts-v3.vcf", VcardVersion::V4),
        ("nextcloud-v4-with-group.vcf", VcardVersion::V3),
    ] {
        for item in items(f) {
            let orig = item.original.clone().unwrap();
            let out = item_to_vcard(&item, to).unwrap();
            let want = if to == VcardVersion::V4 {
                "VERSION:4.0"
            } else {
                "VERSION:3.0"
            };
            assert!(out.contains(want), "{out}");
            let lost = compare_vcards(&orig, out.as_bytes(), MAPI_HELD);
            assert!(lost.is_empty(), "{f} → {to:?} lost {lost:?}\n{out}");
            let back = parse_vcards(out.as_bytes()).items.remove(0).unwrap();
            assert_eq!(
                back.props, item.props,
                "{f}: the converted card reads back to other MAPI properties"
            );
        }
    }
}

#[test]
fn legacy_charsets_and_quoted_printable_are_decoded() {
    let r = parse_vcards(&corpus("outlook-v21-cp1252.vcf"));
    assert!(r.transcoded);
    let c = r.items[0].as_ref().unwrap();
    assert_eq!(c.str(tags::PR_DISPLAY_NAME), Some("Jürgen Müller"));
    assert_eq!(c.str(tags::PR_SURNAME), Some("Müller"));
    assert_eq!(c.str(tags::PR_COMPANY_NAME), Some("Bäckerei Müller GmbH"));
    assert_eq!(
        c.str(&lids::PID_LID_WORK_ADDRESS_STREET),
        Some("Königstraße 7")
    );
    assert_eq!(
        c.str(tags::PR_BODY),
        Some("Brötchen ab 6 Uhr\r\nFreitags Kuchen")
    );
    assert_eq!(c.str(tags::PR_HOME_FAX_NUMBER), Some("+49 221 555 0199"));
}

#[test]
fn broken_cards_fail_alone() {
    let r = parse_vcards(&corpus("malformed.vcf"));
    let summary: Vec<String> = r
        .items
        .iter()
        .map(|i| match i {
            Ok(item) => format!("ok {}", item.str(tags::PR_DISPLAY_NAME).unwrap_or("")),
            Err(e) => format!("error {e}"),
        })
        .collect();
    insta::assert_debug_snapshot!(summary);
}

#[test]
fn mapi_properties_of_representative_cards() {
    insta::assert_snapshot!(
        "apple_contact",
        items("apple-contacts-v3.vcf")[0].describe()
    );
    insta::assert_snapshot!(
        "nextcloud_group",
        items("nextcloud-v4-with-group.vcf")[1].describe()
    );
}
