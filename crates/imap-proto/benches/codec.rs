//! What a busy IMAP session pays in the codec: receiving a typical
//! pipelined command stream, and encoding a large FETCH FLAGS answer.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use groxide_imap_proto::{
    Data, FetchResponse, FetchValue, FetchWriter, Flag, Received, Receiver, ReceiverLimits,
    ResponseEncoder,
};

/// Number of FETCH lines in the encoding benchmark.
const FETCH_LINES: u32 = 10_000;

/// A client's morning: log in, sync a folder, read, flag, move, search.
fn command_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"a001 CAPABILITY\r\na002 LOGIN alice {6+}\r\nsecret\r\n");
    s.extend_from_slice(b"a003 ENABLE QRESYNC\r\n");
    s.extend_from_slice(b"a004 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997))\r\n");
    s.extend_from_slice(
        b"a005 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 90060115194045000 VANISHED)\r\n",
    );
    for i in 0..20 {
        s.extend_from_slice(
            format!(
                "a1{i:02} UID FETCH {} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)])\r\n",
                4000 + i
            )
            .as_bytes(),
        );
    }
    s.extend_from_slice(b"a200 UID STORE 4000:4019 +FLAGS.SILENT (\\Seen)\r\n");
    s.extend_from_slice(b"a201 UID SEARCH RETURN (ALL COUNT) CHARSET UTF-8 OR FROM alice SUBJECT report SINCE 1-Feb-2024\r\n");
    s.extend_from_slice(b"a202 UID MOVE 4001,4003,4005:4010 Archive\r\n");
    s.extend_from_slice(
        b"a203 LIST (SPECIAL-USE) \"\" * RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
    );
    s.extend_from_slice(b"a204 NOOP\r\na205 IDLE\r\n");
    s
}

fn receive_all(input: &[u8]) -> usize {
    let mut rx = Receiver::new(ReceiverLimits::default());
    let mut commands = 0;
    // Feed in socket-sized chunks, as a session would.
    for chunk in input.chunks(4096) {
        rx.feed(chunk);
        loop {
            match rx.receive() {
                Ok(Received::Command(c)) => {
                    black_box(&c);
                    commands += 1;
                }
                Ok(Received::NeedMore) => break,
                Ok(_) | Err(_) => {}
            }
        }
    }
    commands
}

fn bench_receive(c: &mut Criterion) {
    let stream = command_stream();
    assert_eq!(
        receive_all(&stream),
        31,
        "every command of the benchmark stream parses"
    );
    let mut group = c.benchmark_group("receive");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("pipelined_session_commands", |b| {
        b.iter(|| receive_all(black_box(&stream)))
    });
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let encoder = ResponseEncoder::new(false);
    let flags = [Flag::Seen];
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(u64::from(FETCH_LINES)));
    let mut out = Vec::with_capacity(1 << 20);
    group.bench_function("fetch_uid_flags_10k_writer", |b| {
        b.iter(|| {
            out.clear();
            for n in 1..=FETCH_LINES {
                let mut w = FetchWriter::start(&mut out, n, false);
                w.uid(&mut out, n);
                w.flags(&mut out, &flags);
                w.finish(&mut out);
            }
            black_box(out.len())
        })
    });
    group.bench_function("fetch_uid_flags_10k_values", |b| {
        b.iter(|| {
            out.clear();
            for n in 1..=FETCH_LINES {
                let data = Data::Fetch(FetchResponse {
                    seq: n,
                    items: vec![FetchValue::Uid(n), FetchValue::Flags(vec![Flag::Seen])],
                });
                encoder.data(&mut out, &data);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_receive, bench_encode);
criterion_main!(benches);
