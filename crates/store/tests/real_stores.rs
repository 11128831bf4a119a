//! The stores against the real servers (Debian's etcd 3.4 and Redis 7, started by the test on 127.0.0.1): a
//! write is all or nothing, a stale guard is refused with what was found, two writers racing get one winner,
//! a stopped store is unreachable and, started again, has everything that was committed.

#![allow(clippy::unwrap_used)] // a panic in a test is a failing test

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use switchyard_real_stores::{LocalEtcd, LocalRedis};
use switchyard_store::{Credentials, Endpoint, Guard, Store, StoreError, Write, connect};

fn pairs(n: usize, tag: &str) -> BTreeMap<String, String> {
    (0..n).map(|i| (format!("traefik/http/routers/r{i:03}/rule"), format!("Host(`{tag}{i}.test`)"))).collect()
}

fn guard(expect: Option<&str>, set: &str) -> Guard {
    Guard { key: "switchyard/test/revision".into(), expect: expect.map(str::to_string), set: set.into() }
}

fn open(endpoint: &str) -> Box<dyn Store> {
    connect(&Endpoint::parse(endpoint).unwrap(), &Credentials::default()).unwrap()
}

/// What every store must do, on `endpoint`; `stop` and `start` stop the server and start it again.
fn behaves(endpoint: &str, stop: &mut dyn FnMut(), start: &mut dyn FnMut()) {
    let mut store = open(endpoint);
    // A first write: the guard must be absent.
    let first = pairs(20, "a");
    store.commit(&Write::replace(&BTreeMap::new(), &first, guard(None, "1"))).unwrap();
    assert_eq!(store.list("traefik/").unwrap(), first);
    assert_eq!(store.get("switchyard/test/revision").unwrap().as_deref(), Some("1"));

    // A key outside the prefix is left alone by a replace under it.
    store
        .commit(&Write {
            guard: guard(Some("1"), "2"),
            absent: Default::default(),
            put: pairs(1, "other"),
            delete: Default::default(),
        })
        .unwrap();
    let mut outside = BTreeMap::new();
    outside.insert("traefik-other/x".to_string(), "y".to_string());
    store
        .commit(&Write {
            guard: guard(Some("2"), "3"),
            absent: Default::default(),
            put: outside,
            delete: Default::default(),
        })
        .unwrap();

    // A replace: changed keys put, gone keys deleted, in one go.
    let current = store.list("traefik/").unwrap();
    let second = pairs(10, "b");
    let write = Write::replace(&current, &second, guard(Some("3"), "4"));
    assert_eq!(write.delete.len(), 10);
    store.commit(&write).unwrap();
    assert_eq!(store.list("traefik/").unwrap(), second);
    assert_eq!(store.get("traefik-other/x").unwrap().as_deref(), Some("y"));

    // A stale guard: refused with what is there, nothing applied.
    let stale = Write::replace(&second, &pairs(5, "c"), guard(Some("3"), "5"));
    match store.commit(&stale) {
        Err(StoreError::Conflict { found, expected, .. }) => {
            assert_eq!((found.as_deref(), expected.as_deref()), (Some("4"), Some("3")));
        }
        other => panic!("a stale guard must conflict: {other:?}"),
    }
    assert_eq!(store.list("traefik/").unwrap(), second);

    // Two writers that read the same revision: exactly one wins, the other is told who changed it.
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = ["x", "y"]
        .into_iter()
        .map(|tag| {
            let (endpoint, barrier, from) = (endpoint.to_string(), barrier.clone(), second.clone());
            std::thread::spawn(move || {
                let mut store = open(&endpoint);
                let write = Write::replace(&from, &pairs(10, tag), guard(Some("4"), &format!("5{tag}")));
                barrier.wait();
                store.commit(&write).map(|()| tag)
            })
        })
        .collect();
    let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = *winners[0];
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(StoreError::Conflict { found: Some(f), .. }) if *f == format!("5{winner}")))
    );
    assert_eq!(store.list("traefik/").unwrap(), pairs(10, winner));

    // A key that must be absent (someone's lock): present, nothing is written, and the conflict names it.
    let held = Write {
        guard: guard(Some(&format!("5{winner}")), "6"),
        absent: ["traefik-other/x".to_string()].into(),
        put: pairs(3, "held"),
        delete: Default::default(),
    };
    match store.commit(&held) {
        Err(StoreError::Conflict { key, found, .. }) => {
            assert_eq!((key.as_str(), found.as_deref()), ("traefik-other/x", Some("y")));
        }
        other => panic!("a key that must be absent is there: {other:?}"),
    }
    assert_eq!(store.list("traefik/").unwrap(), pairs(10, winner));

    // A compare-and-delete: only while the key holds what its owner put there.
    assert!(!store.delete_if("switchyard/test/revision", "4").unwrap());
    assert!(store.delete_if("traefik-other/x", "y").unwrap());
    assert_eq!(store.get("traefik-other/x").unwrap(), None);
    assert!(!store.delete_if("traefik-other/x", "y").unwrap());

    // Stopped: unreachable, said as such. Started again: everything committed is there.
    stop();
    match connect(&Endpoint::parse(endpoint).unwrap(), &Credentials::default()).and_then(|mut s| s.list("traefik/")) {
        Err(StoreError::Unreachable { endpoint: e, .. }) => assert_eq!(e, endpoint),
        other => panic!("a stopped store must be unreachable: {other:?}"),
    }
    start();
    let mut store = open(endpoint);
    assert_eq!(store.list("traefik/").unwrap(), pairs(10, winner));
    assert_eq!(store.get("switchyard/test/revision").unwrap(), Some(format!("5{winner}")));
}

#[test]
fn etcd_commits_all_or_nothing() {
    let mut etcd = LocalEtcd::start_new();
    let endpoint = etcd.endpoint();
    let etcd_cell = std::cell::RefCell::new(&mut etcd);
    behaves(&endpoint, &mut || etcd_cell.borrow_mut().stop(), &mut || etcd_cell.borrow_mut().start());

    // More operations than etcd allows in one transaction (128 by default): refused, with the fix, nothing
    // applied.
    let mut store = open(&endpoint);
    let before = store.list("traefik/").unwrap();
    let revision = store.get("switchyard/test/revision").unwrap();
    let big = Write::replace(
        &before,
        &pairs(200, "big"),
        Guard { key: "switchyard/test/revision".into(), expect: revision.clone(), set: "6".into() },
    );
    match store.commit(&big) {
        Err(StoreError::Refused { why, .. }) => assert!(why.contains("--max-txn-ops"), "{why}"),
        other => panic!("too many operations must be refused: {other:?}"),
    }
    assert_eq!(store.list("traefik/").unwrap(), before);
    assert_eq!(store.get("switchyard/test/revision").unwrap(), revision);
}

#[test]
fn redis_commits_all_or_nothing() {
    let mut redis = LocalRedis::start_new();
    let endpoint = redis.endpoint();
    let cell = std::cell::RefCell::new(&mut redis);
    behaves(&endpoint, &mut || cell.borrow_mut().stop(), &mut || cell.borrow_mut().start());
}
