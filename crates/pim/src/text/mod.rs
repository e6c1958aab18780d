//! The content-line layer shared by iCalendar and vCard (RFC 5545 3.1,
//! RFC 6350 3.2): unfolding with physical line numbers, splitting a stream
//! into components by BEGIN/END, escaping and folding on output. Values are
//! parsed by calcard; this layer exists to know *where* each line was, to
//! isolate one broken component from its neighbours, and to keep the raw
//! lines of the source for the merge on write-back.

pub mod lines;
pub mod write;
