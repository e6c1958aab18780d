//! Arbitrary bytes into the decoder, under tight limits. It must never
//! panic, and whatever it accepts must survive encode → decode and
//! to_xml → from_xml unchanged.
#![no_main]

use groxide_wbxml::{Element, Limits, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_input_bytes: 64 * 1024,
        max_depth: 16,
        max_elements: 2_000,
        max_string_bytes: 4 * 1024,
        max_opaque_bytes: 8 * 1024,
    };
    let Ok(tree) = decode(data, &limits) else {
        return;
    };
    assert!(tree.element_count() <= limits.max_elements);
    let bytes = encode(&tree);
    assert_eq!(decode(&bytes, &limits).as_ref(), Ok(&tree));
    let xml = tree.to_xml();
    assert_eq!(Element::from_xml(&xml, &Limits::default()).as_ref(), Ok(&tree), "{xml}");
    let _ = tree.to_xml_redacted();
});
