//! Arbitrary text into the XML reader. It must never panic, and whatever
//! it accepts must survive encode → decode and to_xml → from_xml.
#![no_main]

use groxide_wbxml::{Element, Limits, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_input_bytes: 64 * 1024,
        max_depth: 16,
        max_elements: 2_000,
        max_string_bytes: 4 * 1024,
        max_opaque_bytes: 8 * 1024,
    };
    let Ok(tree) = Element::from_xml(text, &limits) else {
        return;
    };
    assert_eq!(decode(&encode(&tree), &Limits::default()).as_ref(), Ok(&tree));
    let xml = tree.to_xml();
    assert_eq!(Element::from_xml(&xml, &Limits::default()).as_ref(), Ok(&tree), "{xml}");
});
