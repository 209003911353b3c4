//! The connection pool (issue 21 item 5: several threads and nodes on one
//! PostgreSQL): r2d2 over Steward's own [`Target::connect`] (TLS, lock
//! timeout, search path and durability settings per connection), each
//! pooled [`Conn`] keeping its own prepared statements.
//!
//! Connections are made lazily on r2d2's timer thread (one per store), the
//! first one being the connection [`PostgresStore::open`](super::PostgresStore::open)
//! migrated with. A connection whose session is over is marked broken and
//! r2d2 drops it when it is handed back, on the thread that used it (a
//! blocking thread, never an async worker: the client's drop runs a runtime
//! of its own). The pool is idle-reaped after 10 minutes and recycled
//! after 30 (r2d2's defaults).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use r2d2::{ManageConnection, Pool, PooledConnection};
use scheduled_thread_pool::ScheduledThreadPool;

use super::Conn;
use super::errors::map_pg;
use super::target::Target;
use crate::types::StoreError;

/// How long one wait for a pooled connection lasts before the last
/// connection error (if the most recent attempt failed) is reported.
const SLICE: Duration = Duration::from_millis(50);

/// Makes, checks and recognises broken connections for r2d2.
pub(super) struct Manager {
    target: Arc<Target>,
    /// The connection `open` migrated with, handed out first.
    seed: Mutex<Option<Conn>>,
    /// The error of the most recent connection attempt, `None` once one
    /// succeeded.
    last_error: Arc<Mutex<Option<StoreError>>>,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = StoreError;

    fn connect(&self) -> Result<Conn, StoreError> {
        if let Some(c) = self.seed.lock().ok().and_then(|mut s| s.take()) {
            return Ok(c);
        }
        let made = self.target.connect();
        if let Ok(mut last) = self.last_error.lock() {
            *last = made.as_ref().err().map(replay);
        }
        made
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), StoreError> {
        conn.client
            .simple_query("")
            .map(|_| ())
            .map_err(|e| map_pg(&e, 0))
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// A copy of a connection error, for every caller waiting on the pool.
fn replay(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unwritable { reason } => StoreError::Unwritable {
            reason: reason.clone(),
        },
        StoreError::Config(s) => StoreError::Config(s.clone()),
        StoreError::Locked { waited_ms } => StoreError::Locked {
            waited_ms: *waited_ms,
        },
        other => StoreError::Database(other.to_string()),
    }
}

/// The pool of a store and what its waits report. A clone shares the pool.
#[derive(Clone)]
pub(super) struct Connections {
    pool: Pool<Manager>,
    last_error: Arc<Mutex<Option<StoreError>>>,
    max_size: u32,
    wait: Duration,
}

impl Connections {
    /// A pool of at most `target.pool_max_size` connections to `target`,
    /// `seed` (already connected and migrated) its first. A caller waits
    /// at most `wait_ms` for a connection when all are in use.
    pub(super) fn new(target: Arc<Target>, seed: Conn, wait_ms: u64) -> Self {
        let last_error = Arc::new(Mutex::new(None));
        let manager = Manager {
            target: target.clone(),
            seed: Mutex::new(Some(seed)),
            last_error: last_error.clone(),
        };
        let max_size = target.pool_max_size;
        let wait = Duration::from_millis(wait_ms.max(1));
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            // Checked after a failure only (`checkout`), not on every use.
            .test_on_check_out(false)
            // Bounds r2d2's reconnect back-off to 1 s while the server is down.
            .connection_timeout(Duration::from_secs(2))
            // Failures are reported to the caller; r2d2 would log them.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .thread_pool(Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(1)
                    .thread_name_pattern("steward-pg-pool-{}")
                    .build(),
            ))
            .build_unchecked(manager);
        Connections {
            pool,
            last_error,
            max_size,
            wait,
        }
    }

    /// The most connections the pool holds.
    pub(super) fn max_size(&self) -> u32 {
        self.max_size
    }

    /// A connection from the pool. With `validate` (after a connection was
    /// found dead in this unit of work) each candidate is checked with an
    /// empty query first and dead ones are discarded, so that a server
    /// restart costs one failure per unit of work, not one per pooled
    /// connection.
    ///
    /// Errors: the last connection error (as [`Target::connect`]) when the
    /// most recent attempt to connect failed and no connection is open, or
    /// none came free within the store's `busy_timeout_ms`;
    /// [`StoreError::Locked`] when every connection stayed in use that long.
    pub(super) fn checkout(&self, validate: bool) -> Result<PooledConnection<Manager>, StoreError> {
        let start = Instant::now();
        let mut discarded = 0;
        loop {
            match self.pool.get_timeout(SLICE) {
                Ok(mut c) => {
                    if !validate || discarded > self.max_size {
                        return Ok(c);
                    }
                    if c.client.simple_query("").is_ok() {
                        return Ok(c);
                    }
                    c.broken = true;
                    discarded += 1;
                }
                Err(_) => {
                    // The last connection attempt failed: with no
                    // connection open there is nothing to wait for (fail
                    // closed now); else wait for one to come back.
                    let failed = self
                        .last_error
                        .lock()
                        .ok()
                        .and_then(|l| l.as_ref().map(replay));
                    let waited = start.elapsed() >= self.wait;
                    if let Some(e) = failed
                        && (waited || self.pool.state().connections == 0)
                    {
                        return Err(e);
                    }
                    if waited {
                        return Err(self.exhausted());
                    }
                }
            }
        }
    }

    /// All connections stayed busy.
    fn exhausted(&self) -> StoreError {
        StoreError::Locked {
            waited_ms: u64::try_from(self.wait.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Open connections (in use and idle), for tests and metrics.
    pub(super) fn open_connections(&self) -> u32 {
        self.pool.state().connections
    }
}
