//! Property test: random sequences of inserts, copies, moves, deletions and
//! flag changes over a few folders keep UIDs strictly increasing and never
//! reused per folder, and `changes_since` replays the exact folder state —
//! from zero and from random checkpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use groxide_store::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const FOLDERS: [FolderRole; 3] = [FolderRole::Inbox, FolderRole::Drafts, FolderRole::Trash];

#[derive(Debug, Clone)]
enum Op {
    Insert(usize, u8),
    Copy(usize, usize, usize),
    Move(usize, usize, usize),
    Delete(usize, usize, bool),
    Flags(usize, usize, u8, u8, Option<u8>),
    Checkpoint,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, any::<u8>()).prop_map(|(f, n)| Op::Insert(f, n)),
        1 => (0..3usize, any::<usize>(), 0..3usize).prop_map(|(f, i, t)| Op::Copy(f, i, t)),
        1 => (0..3usize, any::<usize>(), 0..3usize).prop_map(|(f, i, t)| Op::Move(f, i, t)),
        1 => (0..3usize, any::<usize>(), any::<bool>()).prop_map(|(f, i, h)| Op::Delete(f, i, h)),
        2 => (0..3usize, any::<usize>(), 0..3u8, 0..64u8, proptest::option::of(0..3u8))
            .prop_map(|(f, i, o, fl, k)| Op::Flags(f, i, o, fl, k)),
        1 => Just(Op::Checkpoint),
    ]
}

/// A folder's state: UID → (flags, keywords).
type State = BTreeMap<u32, (ImapFlags, Vec<String>)>;

fn listed(store: &Store, f: FolderRole) -> State {
    let mut s = State::new();
    store
        .list_messages(f, UidRange::ALL, |e| {
            s.insert(e.uid.0, (e.flags, e.keywords));
            true
        })
        .unwrap();
    s
}

fn replay(mut base: State, store: &Store, f: FolderRole, since: ChangeNumber) -> State {
    store
        .changes_since(f, since, |c| {
            match c {
                MessageChange::Removed(r) => {
                    base.remove(&r.uid.0);
                }
                MessageChange::Changed(e) => {
                    base.insert(e.uid.0, (e.flags, e.keywords));
                }
            }
            true
        })
        .unwrap();
    base
}

fn pick(state: &State, i: usize) -> Option<u32> {
    if state.is_empty() {
        None
    } else {
        state.keys().nth(i % state.len()).copied()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn uids_never_go_back_and_changes_since_replays_the_state(ops in proptest::collection::vec(op(), 1..40)) {
        let s = private_store();
        let store = &s.store;
        let mut highest = [0u32; 3];
        let mut checkpoints: Vec<(ChangeNumber, Vec<State>)> = Vec::new();
        let mut check_new = |folder: usize, uid: ImapUid| {
            assert!(uid.0 > highest[folder], "UID {} in folder {folder} not above {}", uid.0, highest[folder]);
            highest[folder] = uid.0;
        };
        for op in ops {
            let now: Vec<State> = FOLDERS.iter().map(|f| listed(store, *f)).collect();
            match op {
                Op::Insert(f, n) => {
                    let ins = insert(store, FOLDERS[f], &message(usize::from(n)));
                    check_new(f, ins.uid);
                }
                Op::Copy(f, i, t) => {
                    if let Some(uid) = pick(&now[f], i) {
                        let out = store.copy_messages(FOLDERS[f], vec![UidRange::single(ImapUid(uid))], FOLDERS[t]).unwrap();
                        for (_, new) in out.uids { check_new(t, new); }
                    }
                }
                Op::Move(f, i, t) => {
                    if let Some(uid) = pick(&now[f], i) {
                        match store.move_messages(FOLDERS[f], vec![UidRange::single(ImapUid(uid))], FOLDERS[t]) {
                            Ok(out) => for (_, new) in out.uids { check_new(t, new); },
                            Err(StoreError::InvalidArgument(_)) => prop_assert_eq!(f, t),
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
                Op::Delete(f, i, hard) => {
                    if let Some(uid) = pick(&now[f], i) {
                        store.delete_messages(FOLDERS[f], vec![UidRange::single(ImapUid(uid))], hard).unwrap();
                    }
                }
                Op::Flags(f, i, o, fl, k) => {
                    if let Some(uid) = pick(&now[f], i) {
                        let op = [FlagOp::Add, FlagOp::Remove, FlagOp::Replace][usize::from(o)];
                        let kw: Vec<String> = k.map(|k| format!("kw{k}")).into_iter().collect();
                        store.set_flags(FOLDERS[f], vec![UidRange::single(ImapUid(uid))], op, ImapFlags::from_bits(u32::from(fl)), kw, None).unwrap();
                    }
                }
                Op::Checkpoint => {
                    checkpoints.push((store.info().unwrap().cn, now));
                }
            }
        }
        for (i, f) in FOLDERS.iter().enumerate() {
            let fin = listed(store, *f);
            prop_assert_eq!(&replay(State::new(), store, *f, ChangeNumber(0)), &fin, "replay from 0 of {:?}", f);
            for (cn, states) in &checkpoints {
                prop_assert_eq!(&replay(states[i].clone(), store, *f, *cn), &fin, "replay from {} of {:?}", cn, f);
            }
            let info = store.folder(*f).unwrap();
            prop_assert!(info.uidnext > highest[i]);
            prop_assert_eq!(info.message_count, fin.len() as u64);
        }
    }
}
