//! Timing, error and drift measurements over the cases; markdown output.

use crate::cases::{Case, Eom, Method};
use std::time::Instant;

/// What to measure and how long to spend.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Target wall time of one timing batch (the median of `batches` is reported).
    pub batch_seconds: f64,
    /// Number of timing batches.
    pub batches: usize,
    /// Minimum wall time each thread spends in one batched-throughput measurement (the batch of
    /// states is repeated until every thread has run this long; median of 3 measurements).
    pub throughput_seconds: f64,
    /// Threads of the batched-throughput measurement (0: all cores, `available_parallelism`).
    pub threads: usize,
    /// RK4 steps of the trajectory measurement (dt = 1e-3).
    pub rk4_steps: usize,
    /// Only systems whose label contains this (empty: all).
    pub filter: String,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            batch_seconds: 0.05,
            batches: 5,
            throughput_seconds: 0.05,
            threads: 0,
            rk4_steps: 10_000,
            filter: String::new(),
        }
    }
}

/// One line of the table: a method on a system.
#[derive(Debug, Clone)]
pub struct Row {
    /// System label.
    pub system: String,
    /// Degrees of freedom.
    pub n: usize,
    /// Method name.
    pub method: String,
    /// Median single-state latency, ns per call.
    pub latency_ns: f64,
    /// Latency divided by the hand-derived EOM's latency in the same run.
    pub ratio_to_hand: f64,
    /// States per second, all cores.
    pub throughput: f64,
    /// Threads of the throughput measurement.
    pub threads: usize,
    /// Seconds for the RK4 trajectory.
    pub rk4_seconds: f64,
    /// Max relative q̈ error over the states (‖a − a_ref‖∞ / ‖a_ref‖∞).
    pub max_rel_error: f64,
    /// Where the reference comes from.
    pub reference: String,
    /// |E(T) − E(0)| / |E(0)| of the RK4 trajectory.
    pub energy_drift: f64,
}

/// `x` as a JSON number, `null` when not finite.
pub(crate) fn num(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl Row {
    /// The row as a JSON object (non-finite numbers as `null`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "system": self.system,
            "n": self.n,
            "method": self.method,
            "latency_ns": num(self.latency_ns),
            "ratio_to_hand": num(self.ratio_to_hand),
            "throughput_states_per_s": num(self.throughput),
            "threads": self.threads,
            "rk4_10k_s": num(self.rk4_seconds),
            "max_rel_error": num(self.max_rel_error),
            "reference": self.reference,
            "energy_drift": num(self.energy_drift),
        })
    }
}

/// The RK4 column is seconds per this many steps (scaled when fewer ran, e.g. `--quick`).
pub const RK4_REPORT_STEPS: usize = 10_000;

/// Wall-time budget of one RK4 trajectory measurement before it is extrapolated.
pub const RK4_BUDGET_S: f64 = 2.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Calls of `f` that take about `seconds`.
fn calibrate(f: &mut impl FnMut(usize), seconds: f64) -> usize {
    let mut iters = 1usize;
    loop {
        let t0 = Instant::now();
        for i in 0..iters {
            f(i);
        }
        let el = t0.elapsed().as_secs_f64();
        if el > seconds / 4.0 || iters > 1 << 30 {
            return ((iters as f64) * seconds / el.max(1e-9)).max(1.0) as usize;
        }
        iters *= 4;
    }
}

/// ns per call of one batch of `iters` calls.
fn batch(f: &mut impl FnMut(usize), iters: usize) -> f64 {
    let t0 = Instant::now();
    for i in 0..iters {
        f(i);
    }
    t0.elapsed().as_secs_f64() * 1e9 / iters as f64
}

/// Median ns per single-state call of every method of `case`, their batches interleaved
/// (batch 1 of every method, then batch 2, ...): on a shared machine the load changes within
/// seconds, and timing one method after the other would give each its own load. Each method's
/// evaluator is made once, outside the timed loops.
pub fn interleaved_latencies(case: &Case, seconds: f64, batches: usize) -> Vec<f64> {
    let mut evaluators: Vec<(crate::cases::Eom<'_>, Vec<f64>)> = case
        .methods
        .iter()
        .map(|m| (m.evaluator(), vec![0.0; case.n]))
        .collect();
    let states = &case.states;
    let call = |eom: &mut crate::cases::Eom<'_>, a: &mut Vec<f64>, i: usize| {
        let (q, v) = &states[i % states.len()];
        let _ = eom(0.0, std::hint::black_box(q), v, a);
        std::hint::black_box(&a);
    };
    let iters: Vec<usize> = evaluators
        .iter_mut()
        .map(|(eom, a)| calibrate(&mut |i| call(eom, a, i), seconds))
        .collect();
    let mut samples = vec![Vec::with_capacity(batches); evaluators.len()];
    for _ in 0..batches {
        for ((eom, a), (n, out)) in evaluators.iter_mut().zip(iters.iter().zip(&mut samples)) {
            out.push(batch(&mut |i| call(eom, a, i), *n));
        }
    }
    samples.into_iter().map(median).collect()
}

fn rk4(
    eom: &mut Eom<'_>,
    q0: &[f64],
    v0: &[f64],
    dt: f64,
    steps: usize,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let n = q0.len();
    let (mut q, mut v) = (q0.to_vec(), v0.to_vec());
    let mut k = vec![vec![0.0; n]; 4];
    let (mut qs, mut vs) = (vec![0.0; n], vec![0.0; n]);
    let mut t = 0.0;
    let mut kq = vec![vec![0.0; n]; 4];
    for _ in 0..steps {
        for stage in 0..4 {
            let c = [0.0, 0.5, 0.5, 1.0][stage];
            for i in 0..n {
                if stage == 0 {
                    qs[i] = q[i];
                    vs[i] = v[i];
                } else {
                    qs[i] = q[i] + c * dt * kq[stage - 1][i];
                    vs[i] = v[i] + c * dt * k[stage - 1][i];
                }
            }
            eom(t + c * dt, &qs, &vs, &mut k[stage]).ok()?;
            kq[stage].copy_from_slice(&vs);
        }
        for i in 0..n {
            q[i] += dt / 6.0 * (kq[0][i] + 2.0 * kq[1][i] + 2.0 * kq[2][i] + kq[3][i]);
            v[i] += dt / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
        }
        t += dt;
    }
    Some((q, v))
}

impl BenchOptions {
    /// The thread count of the throughput column (`threads`, or all cores when 0).
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// Batched throughput (states/s) over `threads` threads: each thread cycles through the case's
/// states (starting at a different one) until it has run at least `seconds`, checking the clock
/// every pass over the states. The clock starts after a barrier that every thread (and the
/// caller) has reached, so thread start-up is not timed; the rate is all calls over the time to
/// the last thread's finish. Each thread makes its own evaluator of `method` before the barrier.
/// Median of 3 measurements.
pub fn throughput(method: &Method, case: &Case, threads: usize, seconds: f64) -> f64 {
    let threads = threads.max(1);
    let run = || {
        let barrier = std::sync::Barrier::new(threads + 1);
        let (calls, end, start) = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|th| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let mut eom = method.evaluator();
                        let mut a = vec![0.0; case.n];
                        let m = case.states.len();
                        let mut calls = 0usize;
                        barrier.wait();
                        let t0 = Instant::now();
                        loop {
                            for i in 0..m {
                                let (q, v) = &case.states[(th + i) % m];
                                let _ = eom(0.0, std::hint::black_box(q), v, &mut a);
                                std::hint::black_box(&a);
                            }
                            calls += m;
                            if t0.elapsed().as_secs_f64() >= seconds {
                                break;
                            }
                        }
                        (calls, Instant::now())
                    })
                })
                .collect();
            barrier.wait();
            let start = Instant::now();
            let mut calls = 0;
            let mut end = start;
            for h in handles {
                let (c, e) = h.join().expect("throughput thread panicked");
                calls += c;
                end = end.max(e);
            }
            (calls, end, start)
        });
        calls as f64 / end.duration_since(start).as_secs_f64().max(1e-12)
    };
    median((0..3).map(|_| run()).collect())
}

fn max_rel_error(method: &Method, case: &Case) -> f64 {
    let mut eom = method.evaluator();
    let mut worst = 0.0_f64;
    let mut a = vec![0.0; case.n];
    for ((q, v), r) in case.states.iter().zip(&case.reference) {
        if eom(0.0, q, v, &mut a).is_err() {
            return f64::NAN;
        }
        let scale = r
            .iter()
            .fold(0.0_f64, |m, x| m.max(x.abs()))
            .max(f64::MIN_POSITIVE);
        let err = a
            .iter()
            .zip(r)
            .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()));
        worst = worst.max(err / scale);
    }
    worst
}

/// Runs every case and method; `progress` receives a line per finished row.
pub fn run(cases: &[Case], options: &BenchOptions, mut progress: impl FnMut(&Row)) -> Vec<Row> {
    let mut rows = Vec::new();
    for case in cases.iter().filter(|c| c.system.contains(&options.filter)) {
        rows.extend(run_case(case, options, &mut progress));
    }
    rows
}

/// Every method of one case (ignores `options.filter`); `progress` receives each finished row.
pub fn run_case(case: &Case, options: &BenchOptions, mut progress: impl FnMut(&Row)) -> Vec<Row> {
    let threads = options.thread_count();
    let mut case_rows: Vec<Row> = Vec::new();
    // one evaluator per method for the latency batches, one per RK4 run, thread and error
    // pass: made outside the timed loops, as a simulation makes its evaluator once before
    // stepping
    let latencies = interleaved_latencies(case, options.batch_seconds, options.batches);
    for (method, latency_ns) in case.methods.iter().zip(latencies) {
        let (q0, v0) = &case.states[0];
        // Slow methods (dense duals or finite differences at large n) would take minutes for
        // the full trajectory: run what fits in RK4_BUDGET_S and scale the time linearly
        // (steps cost the same); the drift is then left out (NaN) as it is not comparable.
        let affordable = (RK4_BUDGET_S * 1e9 / (4.0 * latency_ns)) as usize;
        let steps = options.rk4_steps.min(affordable.max(10));
        let mut eom = method.evaluator();
        let t0 = Instant::now();
        let end = rk4(&mut eom, q0, v0, 1e-3, steps);
        // always reported as seconds per RK4_REPORT_STEPS (the peers' unit), scaled linearly
        let rk4_seconds = t0.elapsed().as_secs_f64() * RK4_REPORT_STEPS as f64 / steps as f64;
        let e0 = (case.energy)(q0, v0);
        let energy_drift = match end {
            Some((q, v)) if steps == options.rk4_steps => {
                ((case.energy)(&q, &v) - e0).abs() / e0.abs().max(1e-300)
            }
            _ => f64::NAN,
        };
        let row = Row {
            system: case.system.clone(),
            n: case.n,
            method: method.name.to_string(),
            latency_ns,
            ratio_to_hand: f64::NAN,
            throughput: throughput(method, case, threads, options.throughput_seconds),
            threads,
            rk4_seconds,
            max_rel_error: max_rel_error(method, case),
            reference: case.reference_kind.to_string(),
            energy_drift,
        };
        case_rows.push(row);
    }
    let hand = case_rows
        .iter()
        .find(|r| r.method == "hand")
        .map(|r| r.latency_ns);
    for r in &mut case_rows {
        r.ratio_to_hand = hand.map_or(f64::NAN, |h| r.latency_ns / h);
        progress(r);
    }
    case_rows
}

/// The rows as a markdown table.
pub fn to_markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| system | n | method | latency (ns) | × hand | throughput (states/s) | threads | RK4 10⁴ steps (s) | max rel. q̈ error | reference | energy drift |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let drift = if r.energy_drift.is_nan() {
            "— (RK4 time extrapolated)".to_string()
        } else {
            format!("{:.1e}", r.energy_drift)
        };
        s += &format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.3e} | {} | {:.4} | {:.1e} | {} | {} |\n",
            r.system,
            r.n,
            r.method,
            r.latency_ns,
            r.ratio_to_hand,
            r.throughput,
            r.threads,
            r.rk4_seconds,
            r.max_rel_error,
            r.reference,
            drift
        );
    }
    s
}
