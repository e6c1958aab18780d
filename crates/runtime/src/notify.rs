//! systemd readiness notifications; no-ops when not started by systemd.

use sd_notify::NotifyState;

pub(crate) fn ready() {
    let _ = sd_notify::notify(&[NotifyState::Ready]);
}

pub(crate) fn reloading() {
    let _ = sd_notify::notify(&[NotifyState::Reloading]);
}

pub(crate) fn stopping() {
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
}

pub(crate) fn status(text: &str) {
    let _ = sd_notify::notify(&[NotifyState::Status(text)]);
}
