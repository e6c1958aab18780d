//! Prints what groxide-mime derives from .eml files: the summary, ENVELOPE
//! and BODYSTRUCTURE. Usage: `cargo run -p groxide-mime --example inspect -- FILE...`

fn main() {
    for path in std::env::args().skip(1) {
        let raw = match std::fs::read(&path) {
            Ok(raw) => raw,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let m = groxide_mime::ParsedMessage::parse(&raw);
        println!("=== {path}");
        println!("{:#?}", m.summary());
        println!("ENVELOPE {}", m.envelope().escape_ascii());
        println!("BODYSTRUCTURE {}", m.bodystructure(true).escape_ascii());
    }
}
