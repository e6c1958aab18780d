//! What a request's handling learns that its access-log line and metrics
//! need: which module served it and which user it authenticated as. The
//! server creates one [`RequestNote`] per request (in its extensions);
//! the dispatcher and the authentication layer fill it in.

use std::sync::{Arc, OnceLock};

/// Facts about one request, filled in while it is handled.
#[derive(Debug, Default)]
pub struct RequestNote {
    module: OnceLock<&'static str>,
    user: OnceLock<String>,
}

impl RequestNote {
    /// A new, empty note.
    pub fn new() -> Arc<RequestNote> {
        Arc::new(RequestNote::default())
    }

    /// Records the module that serves the request (first call wins).
    pub fn set_module(&self, name: &'static str) {
        let _ = self.module.set(name);
    }

    /// The module that served the request, if any matched.
    pub fn module(&self) -> Option<&'static str> {
        self.module.get().copied()
    }

    /// Records the authenticated user (first call wins).
    pub fn set_user(&self, username: &str) {
        let _ = self.user.set(username.to_string());
    }

    /// The authenticated user, if the request authenticated.
    pub fn user(&self) -> Option<&str> {
        self.user.get().map(String::as_str)
    }
}
