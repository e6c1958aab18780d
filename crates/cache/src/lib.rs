//! A short-lived, bounded cache of answers by key, each valid for a time to
//! live after it was looked up: routes by store dir (groxide-routing),
//! directory answers (groxide-directory), recipient resolutions
//! (groxide-delivery).
//!
//! A lookup that misses gets a [`Miss`] and hands it back with the answer;
//! [`TtlCache::clear`] (SIGHUP) starts a new generation, so an answer looked
//! up before the clear is not put back — the clear wins over lookups
//! already running. When full, expired answers go first; if none had
//! expired, the cache starts over (it refills from its source). No I/O.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A miss: the generation the answer to store belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Miss {
    generation: u64,
}

#[derive(Debug)]
struct State<K, V> {
    generation: u64,
    entries: HashMap<K, (V, Instant)>,
}

/// Answers by key, each valid for `ttl`, at most `max_entries` at once.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    state: Mutex<State<K, V>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache keeping answers for `ttl` (zero = caching nothing), at most
    /// `max_entries` of them.
    pub fn new(ttl: Duration, max_entries: usize) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            max_entries: max_entries.max(1),
            state: Mutex::new(State {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The answer for `key` still valid at `now`, or the [`Miss`] to store
    /// the answer with.
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Result<V, Miss>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut state = self.state();
        let miss = Miss {
            generation: state.generation,
        };
        match state.entries.get(key) {
            Some((value, since)) if now.saturating_duration_since(*since) < self.ttl => {
                Ok(value.clone())
            }
            Some(_) => {
                state.entries.remove(key);
                Err(miss)
            }
            None => Err(miss),
        }
    }

    /// Stores an answer looked up after `miss`, unless the cache was
    /// cleared since.
    pub fn insert(&self, key: K, value: V, miss: Miss, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut state = self.state();
        if state.generation != miss.generation {
            return;
        }
        if state.entries.len() >= self.max_entries && !state.entries.contains_key(&key) {
            let ttl = self.ttl;
            state
                .entries
                .retain(|_, (_, since)| now.saturating_duration_since(*since) < ttl);
            if state.entries.len() >= self.max_entries {
                state.entries.clear();
            }
        }
        state.entries.insert(key, (value, now));
    }

    /// Stores an answer learnt now (not from a lookup that may predate a
    /// clear).
    pub fn put(&self, key: K, value: V, now: Instant) {
        let miss = Miss {
            generation: self.state().generation,
        };
        self.insert(key, value, miss, now);
    }

    /// Forgets every answer at once, including those being looked up.
    pub fn clear(&self) {
        let mut state = self.state();
        state.generation = state.generation.wrapping_add(1);
        state.entries.clear();
    }

    /// Answers held now (expired ones included until they are dropped).
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether no answer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        let miss = cache.get("a", t0).unwrap_err();
        cache.insert("a".to_string(), 1, miss, t0);
        assert_eq!(cache.get("a", t0 + Duration::from_secs(59)), Ok(1));
        assert!(cache.get("a", t0 + Duration::from_secs(60)).is_err());
        assert!(cache.is_empty(), "an expired answer is dropped when met");
    }

    #[test]
    fn a_clear_wins_over_a_lookup_already_running() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        let miss = cache.get(&1, t0).unwrap_err();
        cache.clear();
        cache.insert(1, "old", miss, t0);
        assert!(
            cache.get(&1, t0).is_err(),
            "an answer from before clear() was kept"
        );
        cache.put(1, "new", t0);
        assert_eq!(cache.get(&1, t0), Ok("new"));
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = TtlCache::new(Duration::ZERO, 10);
        let t0 = Instant::now();
        let miss = cache.get(&1, t0).unwrap_err();
        cache.insert(1, "x", miss, t0);
        cache.put(2, "y", t0);
        assert!(cache.get(&1, t0).is_err());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_expired_answers_first_then_everything() {
        let cache = TtlCache::new(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        cache.put(1, "old", t0);
        let t1 = t0 + Duration::from_secs(30);
        cache.put(2, "b", t1);
        cache.put(3, "c", t1);
        let t2 = t0 + Duration::from_secs(61);
        cache.put(4, "d", t2);
        assert_eq!(cache.len(), 3, "the expired answer made room");
        assert_eq!(cache.get(&2, t2), Ok("b"));
        cache.put(5, "e", t2);
        assert_eq!(
            cache.len(),
            1,
            "nothing had expired: the cache started over"
        );
        assert_eq!(cache.get(&5, t2), Ok("e"));
        cache.put(5, "f", t2);
        assert_eq!(cache.len(), 1, "replacing a key needs no room");
    }
}
