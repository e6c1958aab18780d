//! Connection admission: the runtime's, shared with POP3.

pub use groxide_runtime::admission::{Admission, ConnectionSlot, Limits, Refusal, UserSlot};
