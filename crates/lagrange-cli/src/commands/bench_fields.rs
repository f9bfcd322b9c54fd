//! `lagrange bench --fields`: the compiled Lagrangian density of a lattice field against a
//! hand-written Rust stencil of the same equation and against JAX (`bench/peers/fields_jax.py`,
//! a jitted `jnp.roll` stencil), in one run.
//!
//! Cases: sine-Gordon in 1-D (periodic, 10⁴ and 10⁶ sites) and the wave equation in 2-D
//! (periodic, 256² and 1000² sites), spacing 0.05, on the state `q_k = sin(0.7 k) + 0.3 cos(0.013
//! k)` (the same in the JAX script). Reported per case, in ns per site per q̈ evaluation (median
//! of interleaved batches, `lagrange_bench::fields::interleaved_ns`): the hand-written stencil
//! and the compiled equations on one thread, the same two on two threads (a rayon pool of two;
//! the hand stencil as two contiguous halves through `rayon::join`, the compiled equations with
//! [`CompiledEquations::set_threads`]), JAX (its own default threading), their ratios, the compile time
//! of the compiled equations and the case's peak resident set (`VmHWM`, reset per case). The
//! compiled equations run as `lagrange simulate` runs them, without re-reading q̇ on every call
//! ([`CompiledEquations::set_velocity_check`]: the integrators check every state they make);
//! the library's default, which also checks every q̇, is timed beside them (one thread).
//! Before timing, every method's q̈ is checked against the hand stencil's: like is compared with
//! like.

use anyhow::Result;
use std::path::{Path, PathBuf};

#[cfg(not(feature = "bench"))]
pub fn run(
    _out: Option<&Path>,
    _quick: bool,
    _python: Option<PathBuf>,
    _quiet: bool,
) -> Result<()> {
    anyhow::bail!(
        "this lagrange was built without the `bench` feature, which `bench --fields` needs: rebuild with `--features bench`"
    )
}

#[cfg(feature = "bench")]
pub use imp::run;

#[cfg(feature = "bench")]
mod imp {
    use super::*;
    use anyhow::{Context, bail};
    use lagrange::Lagrangian;
    use lagrange::field::FieldSystem;
    use lagrange_bench::fields::{self, Task};
    use lagrange_bench::peers::{MachineFacts, default_peer_dir};
    use lagrange_jit::CompiledEquations;
    use serde_json::{Value, json};
    use std::fmt::Write as _;
    use std::hint::black_box;
    use std::process::Command;
    use std::time::Instant;

    /// Lattice spacing of every case.
    const SPACING: f64 = 0.05;
    /// Threads of the threaded columns.
    const THREADS: usize = 2;
    /// Largest accepted relative q̈ difference of a method to the hand stencil (Rust methods;
    /// JAX's check is against its printed sums, see [`jax_agreement`]).
    const AGREE: f64 = 1e-12;

    #[derive(Debug, Clone, Copy)]
    enum Kind {
        SineGordon1d,
        Wave2d,
    }

    #[derive(Debug, Clone, Copy)]
    struct Case {
        kind: Kind,
        sites: [usize; 2],
    }

    impl Case {
        fn n(&self) -> usize {
            match self.kind {
                Kind::SineGordon1d => self.sites[0],
                Kind::Wave2d => self.sites[0] * self.sites[1],
            }
        }

        fn sites(&self) -> Vec<usize> {
            match self.kind {
                Kind::SineGordon1d => vec![self.sites[0]],
                Kind::Wave2d => self.sites.to_vec(),
            }
        }

        fn label(&self) -> &'static str {
            match self.kind {
                Kind::SineGordon1d => "sine-Gordon 1-D",
                Kind::Wave2d => "wave 2-D",
            }
        }

        fn jax_kind(&self) -> &'static str {
            match self.kind {
                Kind::SineGordon1d => "sine-gordon-1d",
                Kind::Wave2d => "wave-2d",
            }
        }

        fn sites_text(&self) -> String {
            match self.kind {
                Kind::SineGordon1d => self.sites[0].to_string(),
                Kind::Wave2d => format!("{} × {}", self.sites[0], self.sites[1]),
            }
        }

        fn toml(&self) -> String {
            match self.kind {
                Kind::SineGordon1d => fields::sine_gordon_toml(self.sites[0], SPACING),
                Kind::Wave2d => fields::wave_2d_toml(self.sites[0], self.sites[1], SPACING),
            }
        }

        /// The hand stencil on one thread.
        fn hand(&self, q: &[f64], out: &mut [f64]) {
            let inv_a2 = (SPACING * SPACING).recip();
            match self.kind {
                Kind::SineGordon1d => fields::sine_gordon_1d(q, inv_a2, out),
                Kind::Wave2d => fields::wave_2d(q, self.sites[0], self.sites[1], inv_a2, out),
            }
        }

        /// The hand stencil's two halves through `rayon::join` (on the current pool).
        fn hand2(&self, q: &[f64], out: &mut [f64]) {
            let inv_a2 = (SPACING * SPACING).recip();
            let join = |a: Task<'_>, b: Task<'_>| {
                rayon::join(a, b);
            };
            match self.kind {
                Kind::SineGordon1d => fields::sine_gordon_1d_2t(q, inv_a2, out, join),
                Kind::Wave2d => {
                    fields::wave_2d_2t(q, self.sites[0], self.sites[1], inv_a2, out, join)
                }
            }
        }
    }

    fn cases(quick: bool) -> Vec<Case> {
        let sg = |n| Case {
            kind: Kind::SineGordon1d,
            sites: [n, 1],
        };
        let wave = |nx, ny| Case {
            kind: Kind::Wave2d,
            sites: [nx, ny],
        };
        if quick {
            vec![sg(2_000), wave(48, 40)]
        } else {
            vec![sg(10_000), sg(1_000_000), wave(256, 256), wave(1000, 1000)]
        }
    }

    /// What one case measured.
    struct Measured {
        /// ns per site: hand 1t, compiled 1t, hand 2t, compiled 2t.
        ns: [f64; 4],
        /// ns per site, compiled 1t with the library's default check of every q̇.
        checked_ns: f64,
        compile_s: f64,
        term_kernels: usize,
        split_kernels: usize,
        /// max relative q̈ difference to the hand stencil: compiled 1t, hand 2t, compiled 2t.
        diffs: [f64; 3],
        peak_rss: Option<u64>,
        /// The hand stencil's q̈ at the bench state (for the JAX check).
        abs_sum: f64,
        head: Vec<f64>,
    }

    fn measure(
        case: &Case,
        pool: &rayon::ThreadPool,
        batch_seconds: f64,
        batches: usize,
    ) -> Result<Measured> {
        let n = case.n();
        let system = FieldSystem::from_toml_str(&case.toml())?;
        if system.dof() != n {
            bail!(
                "{}: {} coordinates, expected {n}",
                case.label(),
                system.dof()
            );
        }
        let start = Instant::now();
        let mut eom = CompiledEquations::new(&system)?;
        let compile_s = start.elapsed().as_secs_f64();
        drop(system);
        // as `lagrange simulate` runs them: the integrators check every state they make
        let mut checked = eom.clone();
        eom.set_velocity_check(false);
        let mut eom2 = eom.clone();
        let split_kernels = eom2.set_threads(THREADS);
        let q = fields::bench_state(n);
        let v = vec![0.0; n];
        let mut outs = vec![vec![0.0; n]; 5];
        // the results once, compared before anything is timed
        pool.install(|| -> Result<()> {
            let [h1, c1, h2, c2, c3] = &mut outs[..] else {
                unreachable!()
            };
            case.hand(&q, h1);
            eom.accelerations_into(0.0, &q, &v, c1)?;
            case.hand2(&q, h2);
            eom2.accelerations_into(0.0, &q, &v, c2)?;
            checked.accelerations_into(0.0, &q, &v, c3)?;
            Ok(())
        })?;
        let diffs = [1, 2, 3].map(|k| fields::max_rel_diff(&outs[k], &outs[0]));
        let checked_diff = fields::max_rel_diff(&outs[4], &outs[0]);
        for (d, what) in diffs.iter().chain([&checked_diff]).zip([
            "compiled",
            "hand (2 threads)",
            "compiled (2 threads)",
            "compiled (q̇ checked)",
        ]) {
            if d.is_nan() || *d > AGREE {
                bail!(
                    "{} {}: {what} q̈ differs from the hand stencil's by {d:.1e} (relative), more than {AGREE:e}",
                    case.label(),
                    case.sites_text()
                );
            }
        }
        let abs_sum = outs[0].iter().map(|x| x.abs()).sum();
        let head = outs[0][..4.min(n)].to_vec();
        let ns = pool.install(|| {
            let [h1, c1, h2, c2, c3] = &mut outs[..] else {
                unreachable!()
            };
            let (q, v) = (&q, &v);
            let mut hand = || {
                case.hand(black_box(q), h1);
                black_box(&h1);
            };
            let mut compiled = || {
                let _ = black_box(eom.accelerations_into(0.0, black_box(q), v, c1));
            };
            let mut hand2 = || {
                case.hand2(black_box(q), h2);
                black_box(&h2);
            };
            let mut compiled2 = || {
                let _ = black_box(eom2.accelerations_into(0.0, black_box(q), v, c2));
            };
            let mut compiled_checked = || {
                let _ = black_box(checked.accelerations_into(0.0, black_box(q), v, c3));
            };
            fields::interleaved_ns(
                &mut [
                    &mut hand,
                    &mut compiled,
                    &mut hand2,
                    &mut compiled2,
                    &mut compiled_checked,
                ],
                batch_seconds,
                batches,
            )
        });
        let per_site = |t: f64| t / n as f64;
        Ok(Measured {
            ns: [
                per_site(ns[0]),
                per_site(ns[1]),
                per_site(ns[2]),
                per_site(ns[3]),
            ],
            checked_ns: per_site(ns[4]),
            compile_s,
            term_kernels: eom.stats().term_kernels,
            split_kernels,
            diffs,
            peak_rss: fields::peak_rss_bytes(),
            abs_sum,
            head,
        })
    }

    /// How JAX is run, or why it is not.
    enum Jax {
        Python { python: PathBuf, script: PathBuf },
        Unavailable(String),
    }

    fn jax_setup(python: Option<PathBuf>) -> Jax {
        let dir = default_peer_dir();
        let script = dir.join("fields_jax.py");
        let python = python.unwrap_or_else(|| dir.join(".venv/bin/python"));
        if !script.exists() {
            return Jax::Unavailable(format!("{} missing", script.display()));
        }
        if !python.exists() {
            return Jax::Unavailable(format!(
                "{} not found; run `bash bench/peers/setup.sh` or give --peers PYTHON",
                python.display()
            ));
        }
        Jax::Python { python, script }
    }

    /// Runs the JAX script on a case: its JSON, or why there is none.
    fn run_jax(
        python: &Path,
        script: &Path,
        case: &Case,
        batch_seconds: f64,
        batches: usize,
    ) -> std::result::Result<Value, String> {
        let params = json!({
            "kind": case.jax_kind(), "sites": case.sites(), "spacing": SPACING,
            "batch_seconds": batch_seconds, "batches": batches,
        });
        let out = Command::new(python)
            .arg(script)
            .arg(params.to_string())
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("").trim();
            return Err(format!("the JAX script failed ({}): {last}", out.status));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or("");
        let value: Value = serde_json::from_str(line)
            .map_err(|e| format!("unreadable output of the JAX script ({e})"))?;
        if value["available"] != Value::Bool(true) {
            return Err(value["reason"].as_str().unwrap_or("unknown").to_string());
        }
        Ok(value)
    }

    /// Relative difference of JAX's `check` (Σ|q̈| and the first values) to the hand stencil's.
    fn jax_agreement(jax: &Value, m: &Measured) -> f64 {
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        let mut worst = jax["check"]["abs_sum"]
            .as_f64()
            .map_or(f64::NAN, |s| rel(s, m.abs_sum));
        let scale = m.head.iter().fold(0.0_f64, |a, x| a.max(x.abs()));
        for (k, h) in m.head.iter().enumerate() {
            let j = jax["check"]["head"][k].as_f64().unwrap_or(f64::NAN);
            worst = worst.max((j - h).abs() / scale.max(1e-300));
        }
        worst
    }

    fn num(x: f64) -> Value {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }

    fn mb(bytes: Option<u64>) -> String {
        bytes.map_or("–".into(), |b| {
            format!("{:.0}", b as f64 / (1 << 20) as f64)
        })
    }

    fn machine_json(m: &MachineFacts) -> Value {
        json!({
            "nproc": m.nproc, "cpu_model": m.cpu_model, "loadavg": m.loadavg,
            "mem_total": m.mem_total, "unix_time": m.unix_time,
        })
    }

    pub fn run(
        out: Option<&Path>,
        quick: bool,
        python: Option<PathBuf>,
        quiet: bool,
    ) -> Result<()> {
        let command = std::iter::once("lagrange".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ");
        let machine_start = MachineFacts::now();
        let (batch_seconds, batches) = if quick { (0.01, 3) } else { (0.2, 5) };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(THREADS)
            .thread_name(|i| format!("bench-fields-{i}"))
            .build()
            .context("cannot start the thread pool")?;
        let jax = jax_setup(python);
        let mut jax_missing: Option<String> = match &jax {
            Jax::Unavailable(why) => Some(why.clone()),
            Jax::Python { .. } => None,
        };
        let peak_reset = fields::reset_peak_rss();
        let mut md = String::new();
        let _ = writeln!(
            md,
            "ns per site per q̈ evaluation (median of {batches} interleaved batches of ~{batch_seconds} s), periodic lattices, spacing {SPACING}, f64; ratios within this run:\n\n\
             | system | sites | hand 1t | compiled 1t | **compiled ÷ hand** | hand {THREADS}t | compiled {THREADS}t | **compiled ÷ hand ({THREADS}t)** | JAX | **compiled 1t ÷ JAX** | **compiled {THREADS}t ÷ JAX** | compiled 1t, q̇ checked | compile (s) | peak RSS (MB) |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        let mut notes = String::new();
        let mut rows = Vec::new();
        for case in cases(quick) {
            if !quiet {
                eprintln!(
                    "{} {}: compiling and timing…",
                    case.label(),
                    case.sites_text()
                );
            }
            fields::reset_peak_rss();
            let m = measure(&case, &pool, batch_seconds, batches)?;
            let jax_result = match (&jax, &jax_missing) {
                (Jax::Python { python, script }, None) => {
                    match run_jax(python, script, &case, batch_seconds, batches) {
                        Ok(v) => Some(v),
                        Err(why) => {
                            // one failure is enough: the rest would fail alike
                            jax_missing = Some(why);
                            None
                        }
                    }
                }
                _ => None,
            };
            let n = case.n() as f64;
            let jax_ns = jax_result
                .as_ref()
                .and_then(|j| j["seconds_per_eval"].as_f64())
                .map(|s| s * 1e9 / n);
            let jax_diff = jax_result.as_ref().map(|j| jax_agreement(j, &m));
            let [h1, c1, h2, c2] = m.ns;
            let _ = writeln!(
                md,
                "| {} | {} | {h1:.2} | {c1:.2} | **{:.2}** | {h2:.2} | {c2:.2} | **{:.2}** | {} | {} | {} | {:.2} | {:.3} | {} |",
                case.label(),
                case.sites_text(),
                c1 / h1,
                c2 / h2,
                jax_ns.map_or("–".into(), |j| format!("{j:.2}")),
                jax_ns.map_or("–".into(), |j| format!("**{:.2}**", c1 / j)),
                jax_ns.map_or("–".into(), |j| format!("**{:.2}**", c2 / j)),
                m.checked_ns,
                m.compile_s,
                mb(m.peak_rss),
            );
            let _ = writeln!(
                notes,
                "- {} {}: {} term kernel(s), {} split over {THREADS} threads; q̈ vs the hand stencil: compiled {:.1e}, compiled {THREADS}t {:.1e}, hand {THREADS}t {:.1e}{}.",
                case.label(),
                case.sites_text(),
                m.term_kernels,
                m.split_kernels,
                m.diffs[0],
                m.diffs[2],
                m.diffs[1],
                jax_diff.map_or(String::new(), |d| format!(", JAX {d:.1e}")),
            );
            if !quiet {
                eprintln!(
                    "  hand {h1:.2}, compiled {c1:.2} ns/site (× {:.2}); {THREADS} threads: hand {h2:.2}, compiled {c2:.2} (× {:.2}); JAX {}; compile {:.3} s",
                    c1 / h1,
                    c2 / h2,
                    jax_ns.map_or("–".into(), |j| format!("{j:.2}")),
                    m.compile_s
                );
            }
            rows.push(json!({
                "system": case.label(), "kind": case.jax_kind(), "sites": case.sites(),
                "n": case.n(), "spacing": SPACING,
                "ns_per_site": {
                    "hand_1t": num(h1), "compiled_1t": num(c1),
                    "hand_2t": num(h2), "compiled_2t": num(c2), "jax": jax_ns.map(num),
                    "compiled_1t_velocity_checked": num(m.checked_ns),
                },
                "ratio": {
                    "compiled_over_hand_1t": num(c1 / h1),
                    "compiled_over_hand_2t": num(c2 / h2),
                    "compiled_1t_over_jax": jax_ns.map(|j| num(c1 / j)),
                    "compiled_2t_over_jax": jax_ns.map(|j| num(c2 / j)),
                },
                "compile_seconds": num(m.compile_s),
                "term_kernels": m.term_kernels,
                "split_kernels": m.split_kernels,
                "max_rel_diff_to_hand": {
                    "compiled_1t": num(m.diffs[0]), "hand_2t": num(m.diffs[1]),
                    "compiled_2t": num(m.diffs[2]), "jax": jax_diff.map(num),
                },
                "peak_rss_bytes": m.peak_rss,
                "jax": jax_result,
            }));
        }
        let machine_end = MachineFacts::now();
        let jax_line = match &jax_missing {
            Some(why) => format!("JAX: not available ({why})."),
            None => {
                let version = rows
                    .iter()
                    .find_map(|r| r["jax"]["jax_version"].as_str())
                    .unwrap_or("?");
                format!(
                    "JAX {version}: `bench/peers/fields_jax.py`, `jnp.roll` stencil, `jax.jit`, float64, each call `.block_until_ready()`, XLA's default CPU threading, compile excluded."
                )
            }
        };
        let _ = write!(
            md,
            "\n{jax_line}\n\n{notes}\nhand: `lagrange_bench::fields` (plain loops, ends peeled); {THREADS}t: a rayon pool of {THREADS} threads (hand: two contiguous halves via `rayon::join`; compiled: `CompiledEquations::set_threads`). Peak RSS: `VmHWM` of the process{}, so it includes the compile. Machine: {}, {} cores, load {} → {}.\n",
            if peak_reset {
                ", reset before each case"
            } else {
                " (not resettable here: the run's peak so far)"
            },
            machine_start.cpu_model,
            machine_start.nproc,
            machine_start.loadavg,
            machine_end.loadavg,
        );
        print!("{md}");
        if let Some(path) = out {
            let report = json!({
                "command": command,
                "quick": quick,
                "batch_seconds": batch_seconds,
                "batches": batches,
                "threads": THREADS,
                "spacing": SPACING,
                "profile": if cfg!(debug_assertions) { "debug" } else { "optimized" },
                "machine": machine_json(&machine_start),
                "machine_end": machine_json(&machine_end),
                "peak_rss_reset_per_case": peak_reset,
                "jax": match &jax_missing {
                    Some(why) => json!({"available": false, "reason": why}),
                    None => json!({"available": true}),
                },
                "rows": rows,
                "markdown": md,
            });
            std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
                .with_context(|| format!("cannot write '{}'", path.display()))?;
        }
        Ok(())
    }
}
