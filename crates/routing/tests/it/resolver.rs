//! Resolution order, errors, caching and reload.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use groxide_routing::{
    HomeserverLookup, ListKind, LocalNode, LookupError, LookupFuture, ResolveError, Resolver,
    Route, RouteSource, RouteTable,
};

/// Runs a future that never waits (the fake lookup answers at once).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the resolver waited although nothing it awaits can wait"),
    }
}

/// A directory that answers from a map and counts the questions.
#[derive(Default)]
struct FakeDirectory {
    homeservers: Mutex<HashMap<String, Result<Option<String>, LookupError>>>,
    calls: AtomicUsize,
}

impl FakeDirectory {
    fn answer(&self, dir: &str, answer: Result<Option<&str>, &str>) {
        let answer = answer
            .map(|host| host.map(str::to_string))
            .map_err(LookupError::new);
        self.homeservers
            .lock()
            .unwrap()
            .insert(dir.to_string(), answer);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl HomeserverLookup for FakeDirectory {
    fn homeserver_of<'a>(&'a self, dir: &'a str) -> LookupFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .homeservers
            .lock()
            .unwrap()
            .get(dir)
            .cloned()
            .unwrap_or(Ok(None));
        Box::pin(async move { answer })
    }
}

const LIST: &str = "/var/lib/groxide/user/n2/ private 127.0.0.2 5000\n\
                    /var/lib/groxide/user/n3/ private 127.0.0.3 5000\n\
                    /var/lib/groxide/domain/ public node2.example.org 5100\n";

fn list(text: &str) -> RouteTable {
    RouteTable::parse(text, ListKind::Exmdb, Path::new("exmdb_list.txt")).unwrap()
}

fn this_node() -> LocalNode {
    LocalNode::new("node3.example.org", vec!["127.0.0.3".parse().unwrap()])
}

fn resolver(directory: Option<Arc<FakeDirectory>>, ttl: Duration) -> Resolver {
    let lookup = directory.map(|d| d as Arc<dyn HomeserverLookup>);
    Resolver::new(list(LIST), lookup, this_node(), 5000, ttl)
}

fn route(host: &str, port: u16, local: bool, source: RouteSource) -> Route {
    Route {
        host: host.to_string(),
        port,
        local,
        source,
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn without_a_homeserver_the_first_list_match_and_then_the_local_node_answer() {
    let r = resolver(None, MINUTE);
    let resolve = |dir: &str| run(r.resolve(dir)).unwrap();
    assert_eq!(
        resolve("/var/lib/groxide/user/n2/example.org/bob"),
        route("127.0.0.2", 5000, false, RouteSource::ListFile { line: 1 })
    );
    assert_eq!(
        resolve("/var/lib/groxide/user/n3/example.org/carol"),
        route("127.0.0.3", 5000, true, RouteSource::ListFile { line: 2 })
    );
    assert_eq!(
        resolve("/var/lib/groxide/domain/example.org"),
        route(
            "node2.example.org",
            5100,
            false,
            RouteSource::ListFile { line: 3 }
        )
    );
    assert_eq!(
        resolve("/srv/other/alice"),
        route("::1", 5000, true, RouteSource::Default)
    );
}

#[test]
fn the_default_route_can_name_the_services_own_address() {
    let r = resolver(None, MINUTE).with_default_host("127.0.0.3");
    assert_eq!(
        run(r.resolve("/srv/other/alice")).unwrap(),
        route("127.0.0.3", 5000, true, RouteSource::Default)
    );
}

#[test]
fn the_homeserver_beats_the_list_file() {
    let directory = Arc::new(FakeDirectory::default());
    directory.answer(
        "/var/lib/groxide/user/n2/example.org/bob",
        Ok(Some("node3.example.org")),
    );
    directory.answer("/srv/other/alice", Ok(Some("node9.example.org")));
    let r = resolver(Some(directory.clone()), MINUTE);
    assert_eq!(
        run(r.resolve("/var/lib/groxide/user/n2/example.org/bob")).unwrap(),
        route("node3.example.org", 5000, true, RouteSource::Homeserver)
    );
    assert_eq!(
        run(r.resolve("/srv/other/alice")).unwrap(),
        route("node9.example.org", 5000, false, RouteSource::Homeserver)
    );
    // Homeserver 0 (or no owner): the list decides.
    assert_eq!(
        run(r.resolve("/var/lib/groxide/user/n2/example.org/dave")).unwrap(),
        route("127.0.0.2", 5000, false, RouteSource::ListFile { line: 1 })
    );
}

#[test]
fn a_failing_homeserver_lookup_is_a_retryable_error_not_a_fallback() {
    let directory = Arc::new(FakeDirectory::default());
    let dir = "/var/lib/groxide/user/n2/example.org/bob";
    directory.answer(dir, Err("mysql://db1: connection refused"));
    let r = resolver(Some(directory.clone()), MINUTE);
    let error = run(r.resolve(dir)).unwrap_err();
    assert_eq!(
        error,
        ResolveError::Lookup(LookupError::new("mysql://db1: connection refused"))
    );
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "homeserver lookup failed: mysql://db1: connection refused"
    );
    // Errors are not cached: once the directory is back, the answer comes through.
    directory.answer(dir, Ok(Some("node2.example.org")));
    assert_eq!(run(r.resolve(dir)).unwrap().host, "node2.example.org");
    assert_eq!(directory.calls(), 2);
}

#[test]
fn an_empty_homeserver_hostname_is_an_error() {
    let directory = Arc::new(FakeDirectory::default());
    directory.answer("/a/", Ok(Some("")));
    let r = resolver(Some(directory), MINUTE);
    assert!(matches!(
        run(r.resolve("/a/")),
        Err(ResolveError::Lookup(_))
    ));
}

#[test]
fn a_cached_route_does_not_ask_the_directory_again() {
    let directory = Arc::new(FakeDirectory::default());
    directory.answer("/a/", Ok(Some("node2.example.org")));
    let r = resolver(Some(directory.clone()), MINUTE);
    for _ in 0..3 {
        assert_eq!(run(r.resolve("/a/")).unwrap().host, "node2.example.org");
    }
    assert_eq!(directory.calls(), 1);
    run(r.resolve("/b/")).unwrap();
    assert_eq!(directory.calls(), 2);
    // The cached answer stays until the cache is cleared, even if the directory changed.
    directory.answer("/a/", Ok(Some("node3.example.org")));
    assert_eq!(run(r.resolve("/a/")).unwrap().host, "node2.example.org");
    r.clear_cache();
    assert_eq!(
        run(r.resolve("/a/")).unwrap(),
        route("node3.example.org", 5000, true, RouteSource::Homeserver)
    );
    assert_eq!(directory.calls(), 3);
}

#[test]
fn a_zero_cache_time_asks_every_time() {
    let directory = Arc::new(FakeDirectory::default());
    let r = resolver(Some(directory.clone()), Duration::ZERO);
    for _ in 0..3 {
        run(r.resolve("/a/")).unwrap();
    }
    assert_eq!(directory.calls(), 3);
}

#[test]
fn reload_changes_the_answer_immediately() {
    let r = resolver(None, Duration::from_secs(3600));
    let dir = "/var/lib/groxide/user/n2/example.org/bob";
    assert_eq!(run(r.resolve(dir)).unwrap().host, "127.0.0.2");
    r.reload(list("/var/lib/groxide/user/ private 127.0.0.3 5000\n"));
    assert_eq!(
        run(r.resolve(dir)).unwrap(),
        route("127.0.0.3", 5000, true, RouteSource::ListFile { line: 1 })
    );
    r.reload(RouteTable::empty());
    assert_eq!(
        run(r.resolve(dir)).unwrap(),
        route("::1", 5000, true, RouteSource::Default)
    );
}

#[test]
fn resolution_futures_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let r = resolver(Some(Arc::new(FakeDirectory::default())), MINUTE);
    let future = r.resolve("/a/");
    assert_send(&future);
    assert_eq!(r.local_node(), &this_node());
}

#[test]
fn a_redirect_named_by_the_old_home_is_used_for_that_store_until_a_reload() {
    let directory = Arc::new(FakeDirectory::default());
    let bob = "/var/lib/groxide/user/n2/example.org/bob";
    directory.answer(bob, Ok(Some("127.0.0.2")));
    let r = resolver(Some(directory.clone()), MINUTE);
    assert_eq!(run(r.resolve(bob)).unwrap().host, "127.0.0.2");
    // 127.0.0.2 answered STORE_NOT_HERE naming this node: the hint wins over
    // the (stale) homeserver answer, for this store only.
    let learnt = r.redirect(bob, "127.0.0.3", 5000);
    assert_eq!(
        learnt,
        route("127.0.0.3", 5000, true, RouteSource::Redirect)
    );
    assert_eq!(run(r.resolve(bob)).unwrap(), learnt);
    assert_eq!(directory.calls(), 1);
    assert_eq!(
        run(r.resolve("/var/lib/groxide/user/n2/example.org/eve"))
            .unwrap()
            .source,
        RouteSource::ListFile { line: 1 }
    );
    // A reload forgets it: the directory decides again.
    r.reload(list(LIST));
    assert_eq!(run(r.resolve(bob)).unwrap().host, "127.0.0.2");
}

#[test]
fn without_a_cache_a_redirect_is_not_remembered() {
    let r = resolver(None, Duration::ZERO);
    let bob = "/var/lib/groxide/user/n2/example.org/bob";
    r.redirect(bob, "127.0.0.3", 5000);
    assert_eq!(
        run(r.resolve(bob)).unwrap().source,
        RouteSource::ListFile { line: 1 }
    );
}
