//! ActiveSync device state, kept in the user's own store so any node can
//! serve the device and a restart loses nothing: [`state`] is what is
//! remembered (the device record, the hierarchy and each collection's
//! sync state, and how sync keys are formed), [`devices`] how it is read
//! and written through exmdb. groxide-eas serves devices with it;
//! groxide-admin lists, wipes and removes them without the HTTP stack.

pub mod devices;
pub mod state;
