fn main() {
    for path in std::env::args().skip(1) {
        let raw = std::fs::read(&path).unwrap();
        let m = groxide_mime::ParsedMessage::parse(&raw);
        println!("=== {path}");
        let mut s = m.summary();
        s.headers.clear();
        println!("{s:#?}");
        println!("ENV {}", String::from_utf8_lossy(&m.envelope()));
        println!("BS  {}", String::from_utf8_lossy(&m.bodystructure(true)));
    }
}
