//! A short-lived, bounded cache of directory answers.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most answers one cache holds; when full, expired ones go, and if none had
/// expired the cache is emptied (it refills from the database).
pub const MAX_CACHED_ANSWERS: usize = 50_000;

/// Answers by key, each valid for `ttl` after it was read from the database.
///
/// The generation makes [`TtlCache::clear`] win over a lookup that was
/// already running: its answer belongs to the old generation and is dropped.
#[derive(Debug)]
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    state: Mutex<State<K, V>>,
}

#[derive(Debug)]
struct State<K, V> {
    generation: u64,
    entries: HashMap<K, (V, Instant)>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            state: Mutex::new(State {
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    /// The cached answer for `key`, or the generation to pass to [`TtlCache::insert`].
    pub(crate) fn get(&self, key: &K, now: Instant) -> Result<V, u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.entries.get(key) {
            Some((value, since)) if now.saturating_duration_since(*since) < self.ttl => {
                Ok(value.clone())
            }
            Some(_) => {
                state.entries.remove(key);
                Err(state.generation)
            }
            None => Err(state.generation),
        }
    }

    /// Stores an answer read since [`TtlCache::get`] returned `generation`.
    pub(crate) fn insert(&self, key: K, value: V, generation: u64, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.generation != generation {
            return;
        }
        if state.entries.len() >= MAX_CACHED_ANSWERS && !state.entries.contains_key(&key) {
            let ttl = self.ttl;
            state
                .entries
                .retain(|_, (_, since)| now.saturating_duration_since(*since) < ttl);
            if state.entries.len() >= MAX_CACHED_ANSWERS {
                state.entries.clear();
            }
        }
        state.entries.insert(key, (value, now));
    }

    /// Forgets every answer at once.
    pub(crate) fn clear(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.generation = state.generation.wrapping_add(1);
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_after_the_ttl_and_clear_wins_over_a_running_lookup() {
        let cache = TtlCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let generation = cache.get(&"a", t0).unwrap_err();
        cache.insert("a", 1, generation, t0);
        assert_eq!(cache.get(&"a", t0 + Duration::from_secs(59)), Ok(1));
        assert!(cache.get(&"a", t0 + Duration::from_secs(60)).is_err());

        let generation = cache.get(&"b", t0).unwrap_err();
        cache.clear();
        cache.insert("b", 2, generation, t0);
        assert!(
            cache.get(&"b", t0).is_err(),
            "an answer from before clear() was kept"
        );
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = TtlCache::new(Duration::ZERO);
        let t0 = Instant::now();
        let generation = cache.get(&1, t0).unwrap_err();
        cache.insert(1, "x", generation, t0);
        assert!(cache.get(&1, t0).is_err());
    }
}
