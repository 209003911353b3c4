//! The shared security counters (issue 21 item 5, N5.1): windowed counts,
//! one lockout per key at a time, the sweep, and atomic increments from
//! two connections (two nodes).

use super::*;
use steward_store::CounterState;

/// Counts within a window, starts again when the window has passed,
/// locks once, and sweeps what has ended. Times are ms; window 1000.
pub(super) fn counters_window_lockout_and_sweep(fx: &Fixture) {
    let store = fx.open();
    let st = |count, window_start_ms, locked_until_ms| CounterState {
        count,
        window_start_ms,
        locked_until_ms,
    };
    assert_eq!(
        store.count_failure("k", 10_000, 1000).unwrap(),
        st(1, 10_000, 0)
    );
    assert_eq!(
        store.count_failure("k", 10_500, 1000).unwrap(),
        st(2, 10_000, 0)
    );
    assert_eq!(
        store.count_failure("k", 10_999, 1000).unwrap(),
        st(3, 10_000, 0)
    );
    // The window began 1000 ms ago: it starts again with this failure.
    assert_eq!(
        store.count_failure("k", 11_000, 1000).unwrap(),
        st(1, 11_000, 0)
    );
    assert_eq!(
        store.count_failure("j", 10_000, 1000).unwrap(),
        st(1, 10_000, 0)
    );
    assert_eq!(store.locked_until("k").unwrap(), Some(0));
    assert_eq!(store.locked_until("absent").unwrap(), None);
    assert!(!store.start_lockout("absent", 11_000, 12_000).unwrap());
    assert!(store.start_lockout("k", 11_000, 12_000).unwrap());
    // Already locked: not started again.
    assert!(!store.start_lockout("k", 11_500, 12_500).unwrap());
    assert_eq!(store.locked_until("k").unwrap(), Some(12_000));
    // The lockout reset the count and the window.
    assert_eq!(
        store.count_failure("k", 11_100, 1000).unwrap(),
        st(1, 11_000, 12_000)
    );
    // Ended at 12_000: a new one may start.
    assert!(store.start_lockout("k", 12_000, 13_000).unwrap());
    // At 11_500, `j` (window from 10_000, never locked) has ended; `k` is
    // locked until 13_000.
    assert_eq!(store.sweep_counters(11_500, 1000).unwrap(), 1);
    assert_eq!(store.locked_until("j").unwrap(), None);
    assert_eq!(store.locked_until("k").unwrap(), Some(13_000));
    assert_eq!(store.sweep_counters(14_000, 1000).unwrap(), 1);
    assert_eq!(store.locked_until("k").unwrap(), None);
    let long = "x".repeat(201);
    assert!(matches!(
        store.count_failure(&long, 1, 1),
        Err(StoreError::Config(_))
    ));
}

/// Two connections (as two nodes) count the same key at once: every
/// increment is counted once (the counts returned are 1 to 100, each
/// once), and of two lockouts started together exactly one starts.
pub(super) fn counters_two_connections_add_up(fx: &Fixture) {
    let barrier = Barrier::new(2);
    let seen: Vec<u64> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let barrier = &barrier;
                sc.spawn(move || {
                    let s = fx.open();
                    barrier.wait();
                    (0..50)
                        .map(|i| s.count_failure("shared", 1_000 + i, 60_000).unwrap().count)
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=100).collect::<Vec<u64>>());
    let started: Vec<bool> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let barrier = &barrier;
                sc.spawn(move || {
                    let s = fx.open();
                    barrier.wait();
                    s.start_lockout("shared", 2_000, 62_000).unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(started.iter().filter(|s| **s).count(), 1, "{started:?}");
    assert_eq!(fx.open().locked_until("shared").unwrap(), Some(62_000));
}
