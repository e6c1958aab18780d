//! A short-lived, bounded cache of routes per store dir.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::resolver::Route;

/// Most routes cached at once; when full, expired routes go, and if none
/// had expired the whole cache is dropped (it refills from the directory).
pub const MAX_CACHED_ROUTES: usize = 100_000;

/// Routes by dir, each valid for `ttl` after it was computed.
///
/// The generation counter makes [`RouteCache::clear`] win over a resolution
/// that was already running: its result belongs to the old generation and is
/// not stored.
#[derive(Debug)]
pub(crate) struct RouteCache {
    ttl: Duration,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    generation: u64,
    routes: HashMap<String, (Route, Instant)>,
}

impl RouteCache {
    pub(crate) fn new(ttl: Duration) -> RouteCache {
        RouteCache {
            ttl,
            state: Mutex::new(CacheState::default()),
        }
    }

    /// The cached route of `dir`, or the generation to pass to [`RouteCache::insert`].
    pub(crate) fn get(&self, dir: &str, now: Instant) -> Result<Route, u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.routes.get(dir) {
            Some((route, since)) if now.duration_since(*since) < self.ttl => Ok(route.clone()),
            Some(_) => {
                state.routes.remove(dir);
                Err(state.generation)
            }
            None => Err(state.generation),
        }
    }

    /// Stores a route computed since [`RouteCache::get`] returned `generation`.
    pub(crate) fn insert(&self, dir: &str, route: Route, generation: u64, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.generation != generation {
            return;
        }
        if state.routes.len() >= MAX_CACHED_ROUTES && !state.routes.contains_key(dir) {
            let ttl = self.ttl;
            state
                .routes
                .retain(|_, (_, since)| now.duration_since(*since) < ttl);
            if state.routes.len() >= MAX_CACHED_ROUTES {
                state.routes.clear();
            }
        }
        state.routes.insert(dir.to_string(), (route, now));
    }

    /// Stores a route learnt now (not computed from an earlier lookup), so
    /// it belongs to the current generation. Nothing is stored with a zero ttl.
    pub(crate) fn put(&self, dir: &str, route: Route, now: Instant) {
        let generation = self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .generation;
        self.insert(dir, route, generation, now);
    }

    /// Forgets every route, including those being computed right now.
    pub(crate) fn clear(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.routes.clear();
        state.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::RouteSource;

    fn route(port: u16) -> Route {
        Route {
            host: "::1".to_string(),
            port,
            local: true,
            source: RouteSource::Default,
        }
    }

    #[test]
    fn a_route_is_served_until_its_ttl_has_passed() {
        let cache = RouteCache::new(Duration::from_secs(60));
        let start = Instant::now();
        let generation = cache.get("/a/", start).unwrap_err();
        cache.insert("/a/", route(1), generation, start);
        assert_eq!(
            cache.get("/a/", start + Duration::from_secs(59)),
            Ok(route(1))
        );
        assert_eq!(
            cache.get("/a/", start + Duration::from_secs(60)),
            Err(generation)
        );
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = RouteCache::new(Duration::ZERO);
        let now = Instant::now();
        cache.insert("/a/", route(1), 0, now);
        assert_eq!(cache.get("/a/", now), Err(0));
    }

    #[test]
    fn a_result_computed_before_a_clear_is_not_stored() {
        let cache = RouteCache::new(Duration::from_secs(60));
        let now = Instant::now();
        let generation = cache.get("/a/", now).unwrap_err();
        cache.clear();
        cache.insert("/a/", route(1), generation, now);
        assert_eq!(cache.get("/a/", now), Err(generation + 1));
    }

    #[test]
    fn a_full_cache_drops_expired_routes_first_then_everything() {
        let cache = RouteCache::new(Duration::from_secs(60));
        let start = Instant::now();
        cache.insert("/old/", route(1), 0, start);
        let later = start + Duration::from_secs(61);
        for index in 1..MAX_CACHED_ROUTES {
            cache.insert(&format!("/d{index}/"), route(2), 0, later);
        }
        // Full: the expired /old/ makes room and the fresh ones stay.
        cache.insert("/new/", route(3), 0, later);
        assert_eq!(cache.get("/new/", later), Ok(route(3)));
        assert_eq!(cache.get("/d1/", later), Ok(route(2)));
        // Full of fresh routes: everything goes, the newcomer stays.
        cache.insert("/newer/", route(4), 0, later);
        assert_eq!(cache.get("/newer/", later), Ok(route(4)));
        assert_eq!(cache.get("/d1/", later), Err(0));
    }
}
