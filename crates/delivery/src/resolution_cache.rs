//! A short-lived cache of recipient resolutions, so a busy MTA connection
//! does not cost a directory round trip per RCPT. Only definite answers are
//! kept (never a temporary failure); SIGHUP clears it at once, and a lookup
//! that raced with a clear does not put its (possibly old) answer back
//! (groxide-cache's [`TtlCache`], keyed by the lower-cased address).

use crate::recipient::Resolution;
pub use groxide_cache::Miss;
use groxide_cache::TtlCache;
use std::time::{Duration, Instant};

/// Most answers kept; when full, expired ones go, then everything (bounded memory).
pub const MAX_CACHED_RESOLUTIONS: usize = 20_000;

/// Resolutions by lower-cased address.
#[derive(Debug)]
pub struct ResolutionCache {
    cache: TtlCache<String, Resolution>,
}

impl ResolutionCache {
    /// A cache keeping answers for `ttl` (zero = no caching).
    pub fn new(ttl: Duration) -> ResolutionCache {
        ResolutionCache {
            cache: TtlCache::new(ttl, MAX_CACHED_RESOLUTIONS),
        }
    }

    /// The cached answer for `address`, or a miss to fill.
    pub fn get(&self, address: &str, now: Instant) -> Result<Resolution, Miss> {
        self.cache.get(address.to_ascii_lowercase().as_str(), now)
    }

    /// Keeps a definite answer looked up after `miss`.
    pub fn insert(&self, address: &str, resolution: &Resolution, miss: Miss, now: Instant) {
        if matches!(resolution, Resolution::TemporaryFailure(_)) {
            return;
        }
        self.cache
            .insert(address.to_ascii_lowercase(), resolution.clone(), miss, now);
    }

    /// Forgets everything (SIGHUP).
    pub fn clear(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipient::Mailbox;

    fn mailbox() -> Resolution {
        Resolution::Mailbox(Mailbox {
            user: "a@b".into(),
            dir: "/a".into(),
        })
    }

    #[test]
    fn answers_are_kept_for_the_ttl_without_case() {
        let c = ResolutionCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let miss = c.get("A@B", t0).unwrap_err();
        c.insert("A@B", &mailbox(), miss, t0);
        assert_eq!(c.get("a@b", t0 + Duration::from_secs(59)), Ok(mailbox()));
        assert!(c.get("a@b", t0 + Duration::from_secs(61)).is_err());
    }

    #[test]
    fn temporary_failures_are_never_kept() {
        let c = ResolutionCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let miss = c.get("a@b", t0).unwrap_err();
        c.insert(
            "a@b",
            &Resolution::TemporaryFailure("down".into()),
            miss,
            t0,
        );
        assert!(c.get("a@b", t0).is_err());
        let miss = c.get("x@b", t0).unwrap_err();
        c.insert("x@b", &Resolution::Unknown, miss, t0);
        assert_eq!(c.get("x@b", t0), Ok(Resolution::Unknown));
    }

    #[test]
    fn a_clear_wins_over_a_lookup_that_started_before_it() {
        let c = ResolutionCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let miss = c.get("a@b", t0).unwrap_err();
        c.clear();
        c.insert("a@b", &mailbox(), miss, t0);
        assert!(
            c.get("a@b", t0).is_err(),
            "the old answer must not come back"
        );
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let c = ResolutionCache::new(Duration::ZERO);
        let t0 = Instant::now();
        let miss = c.get("a@b", t0).unwrap_err();
        c.insert("a@b", &mailbox(), miss, t0);
        assert!(c.get("a@b", t0).is_err());
    }
}
