//! What the store costs: inserts per second (one writer, 16 concurrent
//! writers sharing commits, 16 writers over 50 stores), the disk's own fsync
//! rate for comparison, and reading a 100 000-message folder.
//!
//! Inserts are reported as time per insert; inserts/s = 1 / that. Group
//! commit works when 16 writers beat the fsync rate.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use groxide_store::*;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 16;
const STORES: usize = 50;
const BIG_FOLDER: usize = 100_000;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A unique message of about `size` bytes.
fn message(size: usize) -> Vec<u8> {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut m = format!(
        "From: Bench <bench@example.com>\r\nTo: Alice <alice@example.org>\r\nSubject: bench {n}\r\n\
         Message-ID: <{n}@bench.example>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n"
    )
    .into_bytes();
    let line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    while m.len() + line.len() <= size {
        m.extend_from_slice(line);
    }
    m
}

fn new_store(dir: &Path) -> Store {
    let (s, _, _) = Store::create(
        dir,
        &NewStore {
            kind: StoreKind::Private,
            owner: "bench".into(),
            lang: String::new(),
            quota_bytes: 0,
        },
        &OpenOptions::default(),
    )
    .unwrap_or_else(|e| panic!("create store: {e}"));
    s
}

fn insert(store: &Store, size: usize) {
    store
        .insert_mime_from(FolderRole::Inbox, &message(size)[..], NewMessage::default())
        .unwrap_or_else(|e| panic!("insert: {e}"));
}

/// Runs `iters` inserts spread over `WRITERS` threads and `stores`.
fn concurrent(stores: &[Arc<Store>], size: usize, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..WRITERS {
            let share = iters / WRITERS as u64 + u64::from((t as u64) < iters % WRITERS as u64);
            s.spawn(move || {
                for i in 0..share {
                    let store = &stores[(t + i as usize * WRITERS) % stores.len()];
                    insert(store, size);
                }
            });
        }
    });
    start.elapsed()
}

/// The disk's fsync rate, measured before and after the inserts: other load
/// on the machine moves it, and the ratio should use a nearby number.
fn disk_fsync(c: &mut Criterion) {
    fsync_rate(c, "write_4k_fdatasync_before");
}

fn disk_fsync_again(c: &mut Criterion) {
    fsync_rate(c, "write_4k_fdatasync_after");
}

fn fsync_rate(c: &mut Criterion, name: &str) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut f = std::fs::File::create(tmp.path().join("fsync")).unwrap_or_else(|e| panic!("{e}"));
    let block = [0x5a_u8; 4096];
    let mut g = c.benchmark_group("disk");
    g.throughput(Throughput::Elements(1));
    g.bench_function(name, |b| {
        b.iter(|| {
            f.write_all(&block).unwrap_or_else(|e| panic!("{e}"));
            f.sync_data().unwrap_or_else(|e| panic!("{e}"));
        })
    });
    g.finish();
}

fn inserts(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("insert");
    g.throughput(Throughput::Elements(1));
    for size in [10 * 1024, 100 * 1024] {
        let kb = size / 1024;
        let one = new_store(&tmp.path().join(format!("one-{kb}")));
        g.bench_with_input(
            BenchmarkId::new("1_writer", format!("{kb}KB")),
            &size,
            |b, &size| b.iter(|| insert(&one, size)),
        );
        let shared = [Arc::new(new_store(
            &tmp.path().join(format!("shared-{kb}")),
        ))];
        g.bench_with_input(
            BenchmarkId::new("16_writers_1_store", format!("{kb}KB")),
            &size,
            |b, &size| b.iter_custom(|iters| concurrent(&shared, size, iters)),
        );
        let many: Vec<Arc<Store>> = (0..STORES)
            .map(|i| Arc::new(new_store(&tmp.path().join(format!("many-{kb}-{i}")))))
            .collect();
        g.bench_with_input(
            BenchmarkId::new("16_writers_50_stores", format!("{kb}KB")),
            &size,
            |b, &size| b.iter_custom(|iters| concurrent(&many, size, iters)),
        );
        let commits: u64 = shared[0].writer_stats().commits;
        let writes: u64 = shared[0].writer_stats().writes;
        eprintln!("group commit at {kb}KB: {writes} writes in {commits} commits");
    }
    g.finish();
}

fn big_folder(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = new_store(&tmp.path().join("big"));
    let mut w = store.stage_content().unwrap_or_else(|e| panic!("{e}"));
    w.write_chunk(&message(2048))
        .unwrap_or_else(|e| panic!("{e}"));
    let staged = w.finish().unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    store
        .insert_copies(FolderRole::Inbox, staged, BIG_FOLDER)
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("filled a {BIG_FOLDER}-message folder in {:?}", t.elapsed());
    let mut g = c.benchmark_group("folder_100k");
    g.sample_size(10);
    g.bench_function("changes_since_0", |b| {
        b.iter(|| {
            let mut n = 0usize;
            store
                .changes_since(FolderRole::Inbox, ChangeNumber(0), |_| {
                    n += 1;
                    true
                })
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(n, BIG_FOLDER);
        })
    });
    g.bench_function("list_uid_flags", |b| {
        b.iter(|| {
            let mut n = 0usize;
            store
                .list_messages(FolderRole::Inbox, UidRange::ALL, |e| {
                    n += usize::from(e.uid.0 > 0 && e.flags.bits() < 64);
                    true
                })
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(n, BIG_FOLDER);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = disk_fsync, inserts, disk_fsync_again, big_folder
}
criterion_main!(benches);
