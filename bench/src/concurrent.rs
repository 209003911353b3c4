//! Section 10: gated reads from 16 concurrent clients beside one client, on
//! one store (issue 21 item 2: group commit). Every read appends its
//! decision to the audit log in a durable commit before anything is opened;
//! concurrent reads share a commit and its fsync (`Steward::commit_grouped`),
//! one client waits for every fsync alone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use steward_core::{AccessRequest, Action, Config, OpenOptions, Steward};
use steward_domain::{Category, Purpose};

use crate::report::{Cmp, Column, RUNS, Row, Runs, Section, rate, thr_ratio};

/// Concurrent clients in the judged row.
pub const CLIENTS: usize = 16;

/// This process's CPU time so far (user + system), in seconds, from
/// `/proc/self/stat` (fields 14 and 15, in clock ticks of 1/100 s); 0 where
/// it cannot be read.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Where the client threads are: which window (`generation`), how many of
/// them read in it, how many are done with it.
struct Phase {
    generation: u64,
    active: usize,
    finished: usize,
    quit: bool,
}

/// [`CLIENTS`] client threads made once and reused for every window, as a
/// server's worker pool is (fresh threads would each pay for a fresh
/// allocator heap inside the window).
struct Clients {
    phase: Arc<(Mutex<Phase>, Condvar)>,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Clients {
    fn new(st: &Arc<Steward>, req: &AccessRequest) -> Clients {
        let phase = Arc::new((
            Mutex::new(Phase {
                generation: 0,
                active: 0,
                finished: CLIENTS,
                quit: false,
            }),
            Condvar::new(),
        ));
        let stop = Arc::new(AtomicBool::new(true));
        let done = Arc::new(AtomicU64::new(0));
        let handles = (0..CLIENTS)
            .map(|i| {
                let (st, req, phase, stop, done) = (
                    Arc::clone(st),
                    req.clone(),
                    Arc::clone(&phase),
                    Arc::clone(&stop),
                    Arc::clone(&done),
                );
                std::thread::spawn(move || {
                    let mut seen = 0;
                    loop {
                        let run = {
                            let (m, cv) = &*phase;
                            let mut p = m.lock().expect("phase");
                            while p.generation == seen && !p.quit {
                                p = cv.wait(p).expect("phase");
                            }
                            if p.quit {
                                return;
                            }
                            seen = p.generation;
                            i < p.active
                        };
                        while run && !stop.load(Ordering::Relaxed) {
                            let (_, r) = st.read(&req).expect("gated read");
                            assert_eq!(r.len(), 1);
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        let (m, cv) = &*phase;
                        m.lock().expect("phase").finished += 1;
                        cv.notify_all();
                    }
                })
            })
            .collect();
        Clients {
            phase,
            stop,
            done,
            handles,
        }
    }

    /// Gated reads per second from `clients` of the threads for `window`,
    /// the CPU time this process used per read (µs), and the mean number of
    /// reads per group commit.
    fn run(&self, st: &Steward, clients: usize, window: Duration) -> (f64, f64, f64) {
        let (m, cv) = &*self.phase;
        let (c0, n0) = st.group_commit_counts();
        self.done.store(0, Ordering::Relaxed);
        self.stop.store(false, Ordering::Relaxed);
        let cpu0 = cpu_secs();
        let t = Instant::now();
        {
            let mut p = m.lock().expect("phase");
            p.generation += 1;
            p.active = clients;
            p.finished = 0;
        }
        cv.notify_all();
        std::thread::sleep(window);
        self.stop.store(true, Ordering::Relaxed);
        let mut p = m.lock().expect("phase");
        while p.finished < CLIENTS {
            p = cv.wait(p).expect("phase");
        }
        drop(p);
        let n = self.done.load(Ordering::Relaxed) as f64;
        let (c1, n1) = st.group_commit_counts();
        (
            n / t.elapsed().as_secs_f64(),
            (cpu_secs() - cpu0) * 1e6 / n.max(1.0),
            (n1 - n0) as f64 / (c1 - c0).max(1) as f64,
        )
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        let (m, cv) = &*self.phase;
        if let Ok(mut p) = m.lock() {
            p.quit = true;
        }
        cv.notify_all();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// One subject with one usage record; RUNS rounds, each a window of one
/// client then a window of 16, taking turns going first.
pub fn concurrent(quick: bool) -> Section {
    let mut s = Section::new(
        10,
        "Gated reads: 16 concurrent clients vs one (group commit)",
    );
    let window = Duration::from_millis(if quick { 300 } else { 3_000 });
    let dir = tempfile::tempdir().expect("tempdir");
    let st = Arc::new(
        Steward::open(dir.path(), Config::default(), OpenOptions::default()).expect("open"),
    );
    st.ingest("ingest", vec![crate::disclose::usage(0)], &mut |_| {})
        .expect("ingest");
    let req = AccessRequest::new("ingest", Action::Read, "username:bench-user")
        .category(Category::Usage)
        .purpose(Purpose::ProvideServices);
    let clients = Clients::new(&st, &req);
    // Warm up: the page cache, the principal's prepared entity, the threads.
    clients.run(&st, CLIENTS, window / 3);
    let (mut one, mut many) = (Vec::new(), Vec::new());
    let (mut one_cpu, mut many_cpu, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..RUNS {
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                let (r, c, _) = clients.run(&st, 1, window);
                one.push(r);
                one_cpu.push(c);
            } else {
                let (r, c, g) = clients.run(&st, CLIENTS, window);
                many.push(r);
                many_cpu.push(c);
                groups.push(g);
            }
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ratios = Runs::new(one.iter().zip(&many).map(|(o, m)| m / o).collect());
    let med = |v: &[f64]| Runs::new(v.to_vec()).median();
    s.method.push(format!(
        "one SQLite store (the default: WAL, synchronous FULL), one subject with one usage record; \
         `Steward::read` of it as the ingest service (usage, provide_services): resolve, decide, one durable \
         audit commit, open. {RUNS} rounds, each a {:.1} s window of one client and one of {CLIENTS} client \
         threads in this process (made once, reused for every window), taking turns going first; throughput is reads completed in the window; the \
         ratio of each round is its {CLIENTS}-client rate over its one-client rate",
        window.as_secs_f64()
    ));
    s.rows.push(
        Row::info(
            format!("gated reads, {CLIENTS} clients vs 1 client (durable, group commit)"),
            rate(med(&many), "reads"),
            rate(med(&one), "reads"),
            ratios.cell(|r| thr_ratio(r, 1.0)),
        )
        .judged("≥ 6×", Column::Ratio, Cmp::AtLeast, 6.0),
    );
    s.notes.push(format!(
        "CPU time of this process per read (user + system, median of the rounds): one client {:.0} µs, \
         {CLIENTS} clients {:.0} µs; {CLIENTS} clients' reads were committed {:.1} to a group commit (median of the \
         rounds' means); at {:.0} reads/s the {CLIENTS} clients kept {:.0} % of the machine's CPUs busy.",
        med(&one_cpu),
        med(&many_cpu),
        med(&groups),
        med(&many),
        med(&many) * med(&many_cpu) / 1e6 / cores as f64 * 100.0
    ));
    s.notes.push(format!(
        "Machine: {} cores for {CLIENTS} client threads. One client waits for each fsync alone; with group \
         commit the reads queued while a commit's fsync runs go into the next commit together, so the \
         concurrent rate is bounded by the CPU per read (decision, commit, open) rather than by the disk.",
        cores
    ));
    let ceiling = cores as f64 * 1e6 / med(&many_cpu);
    let needed = cores as f64 * 1e6 / (6.0 * med(&one));
    s.notes.push(format!(
        "What bounds the ratio here: at {:.0} µs of CPU per read the machine's {} cores allow at most {:.0}          reads/s with every core busy, {:.2}× the one-client rate; 6× needs at most {:.0} µs per read on {} cores.          One client's rate is set by the disk (one fsync per read), the concurrent rate by the CPU, so the ratio          grows with cores (4 cores: up to {:.1}× at this CPU per read) or with less CPU per read (the decision,          the commit's SQLite page writes and the WAL's fdatasync system call, the open).",
        med(&many_cpu),
        cores,
        ceiling,
        ceiling / med(&one),
        needed,
        cores,
        2.0 * ceiling / med(&one)
    ));
    s
}
