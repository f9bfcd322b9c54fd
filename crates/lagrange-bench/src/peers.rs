//! The Python peers (`bench/peers/*.py`: numpy, SymPy, JAX, PyTorch) in the same run as the Rust
//! methods: per system, the Rust rows are measured, then each peer script runs as a subprocess on
//! the *same states*, handed over in a JSON file, and its JSON results are read back.
//!
//! The state file (`PEER_STATES`) holds the system's parameters and the case's states with the
//! reference q̈; the peers tile those states to their batch size, start their RK4 run from state 0
//! and measure their q̈ error against the same reference. Each peer echoes the FNV-1a hash of the
//! file's bytes (`_machine/states_fnv1a64`), which is checked here; f64 values are written in
//! shortest round-trip form, so the peers parse exactly the Rust states.

use crate::cases::Case;
use crate::measure::{BenchOptions, Row, num, run_case};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peers run by default (`jax-1thread` is `jax_peer.py --xla-single-thread`, opt-in).
pub const DEFAULT_PEERS: &[&str] = &["numpy", "sympy", "jax", "torch"];
/// Every peer name understood.
pub const ALL_PEERS: &[&str] = &["numpy", "sympy", "jax", "jax-1thread", "torch"];

/// How to run the Python peers.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The Python interpreter (normally `bench/peers/.venv/bin/python`).
    pub python: PathBuf,
    /// The directory of the peer scripts (`bench/peers`).
    pub dir: PathBuf,
    /// Peers to run, in order (names from [`ALL_PEERS`]).
    pub peers: Vec<String>,
    /// Per-measurement time box of the peers (`PEER_BUDGET_S`).
    pub budget_s: f64,
    /// SymPy's symbolic set-up time box (`SYMPY_SETUP_LIMIT_S`).
    pub sympy_setup_limit_s: f64,
    /// RK4 steps torch runs before extrapolating to 10⁴ (`RK4_TORCH_STEPS`).
    pub torch_rk4_steps: usize,
    /// Wall-clock limit of one peer invocation (one peer, one system); killed past it.
    pub timeout_s: f64,
    /// Where the state files and the peers' raw results go (one folder per system and peer).
    pub work_dir: PathBuf,
    /// Forward the peers' printed tables to stderr.
    pub echo: bool,
}

impl PeerConfig {
    /// Defaults for the peers in `dir`: the venv's Python if present (else `python3`), the
    /// default peers, a 20 s time box (the scripts' own default).
    pub fn new(dir: PathBuf, python: Option<PathBuf>) -> Self {
        let python = python.unwrap_or_else(|| default_python(&dir));
        // the peers run in `dir`: a relative interpreter path must not depend on that (but keep
        // the venv's symlink, so no canonicalize)
        let python = if python.components().count() > 1 {
            std::path::absolute(&python).unwrap_or(python)
        } else {
            python
        };
        Self {
            python,
            peers: DEFAULT_PEERS.iter().map(|s| s.to_string()).collect(),
            budget_s: 20.0,
            sympy_setup_limit_s: 60.0,
            torch_rk4_steps: 200,
            timeout_s: 900.0,
            work_dir: std::env::temp_dir()
                .join(format!("lagrange-bench-peers-{}", std::process::id())),
            echo: true,
            dir,
        }
    }
}

/// `dir/.venv/bin/python` when it exists, else `python3`.
pub fn default_python(dir: &Path) -> PathBuf {
    let venv = dir.join(".venv").join("bin").join("python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// `bench/peers` of this checkout: under the current directory if there, else next to this crate.
pub fn default_peer_dir() -> PathBuf {
    let here = PathBuf::from("bench").join("peers");
    if here.join("systems.py").exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/peers")
}

/// Whether the Python systems (`bench/peers/systems.py`) define `system`.
pub fn peer_knows(system: &str) -> bool {
    let sized = |prefix: &str| {
        system
            .strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(system, "ho1" | "dpend" | "cyclotron") || sized("chain") || sized("nbody")
}

/// 64-bit FNV-1a (the peers compute the same over the state file's bytes).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The peers' state file of a case: `{system, n, params, reference, states: [{q, q_dot,
/// q_ddot_ref}]}`, as bytes.
pub fn states_json(case: &Case) -> Vec<u8> {
    let params: serde_json::Map<String, Value> = case
        .params
        .iter()
        .map(|(k, v)| (k.clone(), num(*v)))
        .collect();
    let states: Vec<Value> = case
        .states
        .iter()
        .zip(&case.reference)
        .map(|((q, v), r)| json!({"q": q, "q_dot": v, "q_ddot_ref": r}))
        .collect();
    let doc = json!({
        "system": case.system,
        "n": case.n,
        "params": params,
        "reference": case.reference_kind,
        "states": states,
    });
    serde_json::to_vec(&doc).expect("states serialize")
}

/// One record of a peer's JSON output.
#[derive(Debug, Clone)]
pub struct PeerRecord {
    /// System name (`_machine` for machine facts, `*` for whole-peer records).
    pub system: String,
    /// Metric name (`eom_latency`, `rk4_10k`, ...).
    pub metric: String,
    /// The value (number or text).
    pub value: Value,
    /// Unit.
    pub unit: String,
    /// Free-text note.
    pub note: String,
}

/// What one peer produced for one system.
#[derive(Debug, Clone)]
pub struct PeerResult {
    /// Peer name (`jax`, `sympy`, ...).
    pub peer: String,
    /// System label.
    pub system: String,
    /// `None` when measured, else why there is no result (not installed, skipped, failed).
    pub missing: Option<String>,
    /// All records of the peer's JSON (machine facts included).
    pub records: Vec<PeerRecord>,
    /// Wall time of the subprocess, s.
    pub wall_s: f64,
    /// Whether the peer reported the hash of the state file written for it.
    pub states_verified: bool,
}

impl PeerResult {
    /// A peer without results.
    pub fn missing(peer: &str, system: &str, why: impl Into<String>) -> Self {
        Self {
            peer: peer.to_string(),
            system: system.to_string(),
            missing: Some(why.into()),
            records: Vec::new(),
            wall_s: 0.0,
            states_verified: false,
        }
    }

    fn record(&self, metric: &str) -> Option<&PeerRecord> {
        self.records
            .iter()
            .find(|r| r.system == self.system && r.metric == metric)
    }

    /// A numeric metric of this system (None when absent, skipped or the peer is missing).
    pub fn metric(&self, metric: &str) -> Option<f64> {
        if self.missing.is_some() {
            return None;
        }
        self.record(metric).and_then(|r| r.value.as_f64())
    }

    /// Whether the metric was capped to the time box and extrapolated.
    pub fn capped(&self, metric: &str) -> bool {
        self.record(metric)
            .is_some_and(|r| r.note.contains("capped"))
    }

    /// Single-state latency, ns.
    pub fn latency_ns(&self) -> Option<f64> {
        self.metric("eom_latency").map(|us| us * 1e3)
    }

    /// Batched throughput, states/s (JAX/torch `vmap`, numpy/SymPy vectorized).
    pub fn throughput(&self) -> Option<f64> {
        self.metric("vmap_throughput")
            .or_else(|| self.metric("batch_throughput"))
    }

    /// Seconds for 10⁴ RK4 steps.
    pub fn rk4_seconds(&self) -> Option<f64> {
        self.metric("rk4_10k")
    }

    /// Max relative q̈ error against the case's reference.
    pub fn max_rel_error(&self) -> Option<f64> {
        self.metric("qdd_max_rel_err")
    }

    /// A machine fact the peer recorded (`python`, `loadavg_start`, `jax_version`, ...).
    pub fn machine(&self, metric: &str) -> Option<String> {
        self.records
            .iter()
            .find(|r| r.system == "_machine" && r.metric == metric)
            .map(|r| match &r.value {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            })
    }

    /// Short note for the table: set-up/compile time, capped measurements, the missing reason.
    pub fn note(&self) -> String {
        if let Some(why) = &self.missing {
            return why.clone();
        }
        let mut parts = Vec::new();
        if let Some(s) = self.metric("setup_total") {
            parts.push(format!("symbolic set-up {s:.2} s"));
        }
        if let Some(s) = self.metric("compile_eom") {
            let rk4 = self.metric("compile_rk4").unwrap_or(0.0);
            parts.push(format!("compile {s:.2} s (+{rk4:.2} s RK4 loop)"));
        }
        let capped: Vec<&str> = ["vmap_throughput", "batch_throughput", "rk4_10k"]
            .into_iter()
            .filter(|m| self.capped(m))
            .collect();
        if !capped.is_empty() {
            parts.push(format!("capped + extrapolated: {}", capped.join(", ")));
        }
        if let Some(us) = self.metric("eom_latency_jacrev2") {
            parts.push(format!(
                "latency is torch.func.hessian; jacrev∘jacrev {us:.0} µs"
            ));
        }
        if self.peer == "torch" && self.metric("rk4_10k").is_some() {
            parts.push("RK4 extrapolated from a short run".into());
        }
        parts.join("; ")
    }

    /// As JSON (records included).
    pub fn to_json(&self) -> Value {
        json!({
            "peer": self.peer,
            "system": self.system,
            "missing": self.missing,
            "wall_s": num(self.wall_s),
            "states_verified": self.states_verified,
            "latency_ns": self.latency_ns().map_or(Value::Null, num),
            "throughput_states_per_s": self.throughput().map_or(Value::Null, num),
            "rk4_10k_s": self.rk4_seconds().map_or(Value::Null, num),
            "max_rel_error": self.max_rel_error().map_or(Value::Null, num),
            "records": self.records.iter().map(|r| json!({
                "system": r.system, "metric": r.metric, "value": r.value,
                "unit": r.unit, "note": r.note,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Parses a peer's `results/<peer>.json` (a list of `{peer, system, metric, value, unit, note}`)
/// for `system`. `states_hash` is the hex FNV-1a of the state file handed to the peer: a peer
/// that reports a different hash (or none) evaluated other states and is reported missing.
pub fn parse_peer_output(
    peer: &str,
    system: &str,
    json_text: &str,
    states_hash: Option<&str>,
) -> PeerResult {
    let parsed: Result<Vec<Value>, _> = serde_json::from_str(json_text);
    let list = match parsed {
        Ok(l) => l,
        Err(e) => return PeerResult::missing(peer, system, format!("unreadable output: {e}")),
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let records: Vec<PeerRecord> = list
        .iter()
        .map(|v| PeerRecord {
            system: text(v, "system"),
            metric: text(v, "metric"),
            value: v.get("value").cloned().unwrap_or(Value::Null),
            unit: text(v, "unit"),
            note: text(v, "note"),
        })
        .collect();
    let mut out = PeerResult {
        peer: peer.to_string(),
        system: system.to_string(),
        missing: None,
        records,
        wall_s: 0.0,
        states_verified: false,
    };
    let value_text = |r: &PeerRecord| match &r.value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    if let Some(r) = out.records.iter().find(|r| r.metric == "skipped") {
        out.missing = Some(format!("skipped: {}", value_text(r)));
        return out;
    }
    if let Some(r) = out
        .records
        .iter()
        .find(|r| r.system == system && r.metric == "error")
    {
        out.missing = Some(format!("failed: {}", value_text(r)));
        return out;
    }
    if let Some(r) = out
        .records
        .iter()
        .find(|r| r.system == system && r.metric == "setup_total" && !r.value.is_number())
    {
        out.missing = Some(if r.note.is_empty() {
            value_text(r)
        } else {
            r.note.clone()
        });
        return out;
    }
    if !out.records.iter().any(|r| r.system == system) {
        out.missing = Some(format!("no results for {system}"));
        return out;
    }
    if let Some(want) = states_hash {
        match out.machine("states_fnv1a64") {
            Some(got) if got == want => out.states_verified = true,
            Some(got) => {
                out.missing = Some(format!(
                    "evaluated other states (hash {got}, expected {want})"
                ))
            }
            None => out.missing = Some("did not load the state file (no states hash)".into()),
        }
    }
    out
}

/// Checks that the interpreter starts; `Err` says why not.
pub fn check_python(python: &Path) -> Result<String, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, platform; print(platform.python_version())",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{} failed: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs one peer on one system with the given state file; never fails (a peer that cannot run
/// comes back with `missing` set).
pub fn run_peer(
    cfg: &PeerConfig,
    peer: &str,
    system: &str,
    states_file: &Path,
    states_hash: &str,
) -> PeerResult {
    let (script, extra): (&str, &[&str]) = match peer {
        "jax-1thread" => ("jax_peer.py", &["--xla-single-thread"]),
        "numpy" => ("numpy_peer.py", &[]),
        "sympy" => ("sympy_peer.py", &[]),
        "jax" => ("jax_peer.py", &[]),
        "torch" => ("torch_peer.py", &[]),
        other => return PeerResult::missing(peer, system, format!("unknown peer {other}")),
    };
    let results = cfg.work_dir.join(system).join(peer);
    let _ = std::fs::remove_dir_all(&results);
    if let Err(e) = std::fs::create_dir_all(&results) {
        return PeerResult::missing(
            peer,
            system,
            format!("cannot create {}: {e}", results.display()),
        );
    }
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let stdout = if cfg.echo {
        Stdio::from(std::io::stderr())
    } else {
        Stdio::null()
    };
    let t0 = Instant::now();
    let child = Command::new(&cfg.python)
        .arg(script)
        .args(extra)
        .arg(system)
        .current_dir(&cfg.dir)
        .env("PEER_STATES", abs(states_file))
        .env("PEER_RESULTS", abs(&results))
        .env("PEER_BUDGET_S", format!("{}", cfg.budget_s))
        .env(
            "SYMPY_SETUP_LIMIT_S",
            format!("{}", cfg.sympy_setup_limit_s),
        )
        .env("RK4_TORCH_STEPS", format!("{}", cfg.torch_rk4_steps))
        .env("TORCH_OVERWRITE_SKIP", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return PeerResult::missing(
                peer,
                system,
                format!("cannot run {}: {e}", cfg.python.display()),
            );
        }
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if t0.elapsed().as_secs_f64() > cfg.timeout_s => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {:.0} s", cfg.timeout_s));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("wait failed: {e}")),
        }
    };
    let wall_s = t0.elapsed().as_secs_f64();
    let file = results.join(format!("{peer}.json"));
    let mut result = match (status, std::fs::read_to_string(&file)) {
        (Err(why), _) => PeerResult::missing(peer, system, why),
        (Ok(_), Ok(text)) => parse_peer_output(peer, system, &text, Some(states_hash)),
        (Ok(status), Err(_)) if status.success() => PeerResult::missing(
            peer,
            system,
            "no output (not installed? run bench/peers/setup.sh)",
        ),
        (Ok(status), Err(_)) => PeerResult::missing(peer, system, format!("exited with {status}")),
    };
    result.wall_s = wall_s;
    result
}

/// Facts about the machine at a point of the run.
#[derive(Debug, Clone)]
pub struct MachineFacts {
    /// `available_parallelism`.
    pub nproc: usize,
    /// `/proc/cpuinfo` model name.
    pub cpu_model: String,
    /// `/proc/loadavg` (1, 5, 15 minutes).
    pub loadavg: String,
    /// MemTotal of `/proc/meminfo`.
    pub mem_total: String,
    /// Seconds since the Unix epoch.
    pub unix_time: u64,
}

impl MachineFacts {
    /// Reads them now (Linux `/proc`; "unknown" elsewhere).
    pub fn now() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        let loadavg = read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            loadavg: if loadavg.is_empty() {
                "unknown".into()
            } else {
                loadavg
            },
            mem_total: field(&read("/proc/meminfo"), "MemTotal")
                .unwrap_or_else(|| "unknown".into()),
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

/// One system of the combined run.
#[derive(Debug, Clone)]
pub struct SystemResult {
    /// System label.
    pub system: String,
    /// Degrees of freedom.
    pub n: usize,
    /// The Rust rows.
    pub rows: Vec<Row>,
    /// The peers (empty when peers are off or the system has no Python twin).
    pub peers: Vec<PeerResult>,
    /// Load average when the system started.
    pub loadavg_start: String,
    /// Seconds from the start of the run to the start of the Rust rows / of the peers / the end.
    pub t_rust: f64,
    /// See `t_rust`.
    pub t_peers: f64,
    /// See `t_rust`.
    pub t_end: f64,
}

impl SystemResult {
    fn row(&self, method: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.method == method)
    }
    fn peer(&self, name: &str) -> Option<&PeerResult> {
        self.peers
            .iter()
            .find(|p| p.peer == name && p.missing.is_none())
    }
    /// The faster of the measured JAX variants (`jax`, `jax-1thread`) for a metric.
    fn best_jax(&self, f: impl Fn(&PeerResult) -> Option<f64>) -> Option<f64> {
        ["jax", "jax-1thread"]
            .iter()
            .filter_map(|p| self.peer(p).and_then(&f))
            .min_by(|a, b| a.total_cmp(b))
    }

    /// The ratio columns: autodiff over each peer (latency and RK4), NaN where a side is missing.
    pub fn ratios(&self) -> Ratios {
        self.ratios_of("autodiff")
    }

    /// The ratio columns of Rust method `method` (`autodiff`, `compiled`, ...).
    pub fn ratios_of(&self, method: &str) -> Ratios {
        let ad = self.row(method);
        let lat = ad.map_or(f64::NAN, |r| r.latency_ns);
        let rk4 = ad.map_or(f64::NAN, |r| r.rk4_seconds);
        let jax_lat = self.best_jax(PeerResult::latency_ns);
        let jax_rk4 = self.best_jax(PeerResult::rk4_seconds);
        let p = |name: &str, f: fn(&PeerResult) -> Option<f64>| self.peer(name).and_then(f);
        let div = |a: f64, b: Option<f64>| b.map_or(f64::NAN, |b| a / b);
        Ratios {
            autodiff_ns: lat,
            autodiff_rk4_s: rk4,
            jax_ns: jax_lat.unwrap_or(f64::NAN),
            vs_jax_latency: div(lat, jax_lat),
            jax_rk4_s: jax_rk4.unwrap_or(f64::NAN),
            vs_jax_rk4: div(rk4, jax_rk4),
            torch_ns: p("torch", PeerResult::latency_ns).unwrap_or(f64::NAN),
            vs_torch_latency: div(lat, p("torch", PeerResult::latency_ns)),
            sympy_ns: p("sympy", PeerResult::latency_ns).unwrap_or(f64::NAN),
            vs_sympy_latency: div(lat, p("sympy", PeerResult::latency_ns)),
            vs_sympy_rk4: div(rk4, p("sympy", PeerResult::rk4_seconds)),
        }
    }
}

/// Autodiff (Rust, the `EquationsOfMotion` evaluator) against the peers, from one run; NaN where missing.
#[derive(Debug, Clone, Copy)]
pub struct Ratios {
    /// autodiff latency, ns.
    pub autodiff_ns: f64,
    /// autodiff RK4 10⁴ steps, s.
    pub autodiff_rk4_s: f64,
    /// best JAX latency (default or single-threaded XLA), ns.
    pub jax_ns: f64,
    /// autodiff / JAX latency.
    pub vs_jax_latency: f64,
    /// best JAX jitted RK4 loop, s.
    pub jax_rk4_s: f64,
    /// autodiff RK4 / JAX jitted RK4 loop.
    pub vs_jax_rk4: f64,
    /// torch.func latency (the faster of its two variants), ns.
    pub torch_ns: f64,
    /// autodiff / torch latency.
    pub vs_torch_latency: f64,
    /// SymPy lambdify latency, ns.
    pub sympy_ns: f64,
    /// autodiff / SymPy lambdify latency.
    pub vs_sympy_latency: f64,
    /// autodiff RK4 / SymPy lambdify RK4 (Python loop).
    pub vs_sympy_rk4: f64,
}

impl Ratios {
    /// As JSON (NaN as null).
    pub fn to_json(&self) -> Value {
        json!({
            "autodiff_ns": num(self.autodiff_ns),
            "autodiff_rk4_s": num(self.autodiff_rk4_s),
            "jax_ns": num(self.jax_ns),
            "autodiff_over_jax_latency": num(self.vs_jax_latency),
            "jax_rk4_s": num(self.jax_rk4_s),
            "autodiff_over_jax_rk4": num(self.vs_jax_rk4),
            "torch_ns": num(self.torch_ns),
            "autodiff_over_torch_latency": num(self.vs_torch_latency),
            "sympy_ns": num(self.sympy_ns),
            "autodiff_over_sympy_latency": num(self.vs_sympy_latency),
            "autodiff_over_sympy_rk4": num(self.vs_sympy_rk4),
        })
    }
}

/// The whole combined run.
#[derive(Debug, Clone)]
pub struct Combined {
    /// Machine at the start.
    pub machine: MachineFacts,
    /// Load average at the end.
    pub loadavg_end: String,
    /// Per system, in run order.
    pub systems: Vec<SystemResult>,
    /// Threads of the Rust throughput column.
    pub threads: usize,
    /// RK4 steps of the Rust trajectory (10⁴ unless quick).
    pub rk4_steps: usize,
    /// The interpreter and its version when peers ran (`None`: peers off); `Err` text when it
    /// could not start.
    pub python: Option<(PathBuf, Result<String, String>)>,
    /// Peers requested.
    pub peers: Vec<String>,
    /// Wall time of the run, s.
    pub wall_s: f64,
}

/// Runs the cases (filtered by `options.filter`) one system at a time: the Rust methods, then,
/// with `peers`, each peer on the same states, back to back. `log` receives progress lines.
pub fn run_combined(
    cases: &[Case],
    options: &BenchOptions,
    peers: Option<&PeerConfig>,
    mut log: impl FnMut(&str),
) -> Combined {
    let machine = MachineFacts::now();
    let t0 = Instant::now();
    let python = peers.map(|cfg| (cfg.python.clone(), check_python(&cfg.python)));
    if let Some((p, Err(why))) = &python {
        log(&format!(
            "peers: {} does not start ({why}); peers reported missing",
            p.display()
        ));
    }
    let python_ok = matches!(&python, Some((_, Ok(_))));
    let mut systems = Vec::new();
    for case in cases.iter().filter(|c| c.system.contains(&options.filter)) {
        let loadavg_start = MachineFacts::now().loadavg;
        let t_rust = t0.elapsed().as_secs_f64();
        let rows = run_case(case, options, |r| {
            log(&format!(
                "{:>10} {:>15} {:>12.0} ns  ×{:.2} hand  {:.3e} states/s  RK4 {:.4} s",
                r.system, r.method, r.latency_ns, r.ratio_to_hand, r.throughput, r.rk4_seconds
            ))
        });
        let t_peers = t0.elapsed().as_secs_f64();
        let mut results = Vec::new();
        if let Some(cfg) = peers {
            if !peer_knows(&case.system) {
                log(&format!(
                    "{:>10} (no Python twin: peers skipped)",
                    case.system
                ));
            } else if !python_ok {
                let why = match &python {
                    Some((_, Err(w))) => w.clone(),
                    _ => "no python".into(),
                };
                for p in &cfg.peers {
                    results.push(PeerResult::missing(p, &case.system, why.clone()));
                }
            } else {
                let bytes = states_json(case);
                let hash = format!("{:016x}", fnv1a64(&bytes));
                let file = cfg.work_dir.join(format!("states-{}.json", case.system));
                let written = std::fs::create_dir_all(&cfg.work_dir)
                    .and_then(|_| std::fs::write(&file, &bytes));
                for p in &cfg.peers {
                    let r = match &written {
                        Ok(()) => run_peer(cfg, p, &case.system, &file, &hash),
                        Err(e) => PeerResult::missing(p, &case.system, format!("state file: {e}")),
                    };
                    log(&format!(
                        "{:>10} {:>15} {}  ({:.1} s)",
                        case.system,
                        format!("peer {p}"),
                        match (&r.missing, r.latency_ns()) {
                            (Some(w), _) => format!("missing: {w}"),
                            (None, Some(ns)) => format!("{ns:.0} ns"),
                            (None, None) => "no latency".into(),
                        },
                        r.wall_s
                    ));
                    results.push(r);
                }
            }
        }
        systems.push(SystemResult {
            system: case.system.clone(),
            n: case.n,
            rows,
            peers: results,
            loadavg_start,
            t_rust,
            t_peers,
            t_end: t0.elapsed().as_secs_f64(),
        });
    }
    Combined {
        machine,
        loadavg_end: MachineFacts::now().loadavg,
        systems,
        threads: options.thread_count(),
        rk4_steps: options.rk4_steps,
        python,
        peers: peers.map_or_else(Vec::new, |c| c.peers.clone()),
        wall_s: t0.elapsed().as_secs_f64(),
    }
}

fn fmt_or_dash(x: f64, f: impl Fn(f64) -> String) -> String {
    if x.is_finite() { f(x) } else { "—".into() }
}

/// About three significant digits, scientific outside [10⁻³, 10⁵).
fn sig3(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{x:.2e}")
    } else {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    }
}

/// Peer label in the tables.
fn peer_label(peer: &str) -> &str {
    match peer {
        "numpy" => "numpy hand (peer)",
        "sympy" => "SymPy lambdify (peer)",
        "jax" => "JAX jit (peer)",
        "jax-1thread" => "JAX jit, 1 XLA thread (peer)",
        "torch" => "torch.func (peer)",
        other => other,
    }
}

/// How a peer batches (the throughput column's "batched over").
fn peer_batching(peer: &str) -> &str {
    match peer {
        "numpy" | "sympy" => "vectorized numpy",
        "jax" | "jax-1thread" => "jit(vmap)",
        "torch" => "vmap",
        _ => "",
    }
}

impl Combined {
    /// Ratio rows, per system with peers.
    pub fn ratios(&self) -> Vec<(&SystemResult, Ratios)> {
        self.ratios_of("autodiff")
    }

    /// Ratio rows of Rust method `method`, per system with peers.
    pub fn ratios_of(&self, method: &str) -> Vec<(&SystemResult, Ratios)> {
        self.systems
            .iter()
            .filter(|s| !s.peers.is_empty())
            .map(|s| (s, s.ratios_of(method)))
            .collect()
    }

    /// The machine line of the report.
    pub fn machine_line(&self) -> String {
        let mut s = format!(
            "Machine: {}, nproc {}, {} memory; load average {} at start, {} at end; Rust throughput on {} threads; {} build (debug assertions {}); run took {:.0} s (unix time {}).",
            self.machine.cpu_model,
            self.machine.nproc,
            self.machine.mem_total,
            self.machine.loadavg,
            self.loadavg_end,
            self.threads,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "optimized"
            },
            if cfg!(debug_assertions) { "on" } else { "off" },
            self.wall_s,
            self.machine.unix_time,
        );
        if let Some((p, v)) = &self.python {
            match v {
                Ok(ver) => {
                    s += &format!(" Peers: Python {ver} ({})", p.display());
                    let versions: BTreeMap<String, String> = self
                        .systems
                        .iter()
                        .flat_map(|sys| &sys.peers)
                        .flat_map(|r| {
                            ["numpy", "sympy", "jax", "torch"]
                                .iter()
                                .filter_map(|k| {
                                    r.machine(&format!("{k}_version"))
                                        .map(|v| (k.to_string(), v))
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    if !versions.is_empty() {
                        let list: Vec<String> =
                            versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        s += &format!(", {}", list.join(", "));
                    }
                    s += ".";
                }
                Err(why) => s += &format!(" Peers unavailable: {why}."),
            }
        }
        s
    }

    /// The full report: machine line, the per-method table (Rust rows, then peer rows, per
    /// system), and the ratio table when peers ran.
    pub fn to_markdown(&self) -> String {
        let mut s = self.machine_line();
        s += "\n\n| system | n | method | latency (ns) | × hand | throughput (states/s) | batched over | RK4 10⁴ steps (s) | max rel. q̈ error | reference | energy drift | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
        for sys in &self.systems {
            for r in &sys.rows {
                let drift = if r.energy_drift.is_nan() {
                    "— (RK4 time extrapolated)".to_string()
                } else {
                    format!("{:.1e}", r.energy_drift)
                };
                s += &format!(
                    "| {} | {} | {} | {:.0} | {:.2} | {:.3e} | {} threads | {:.4} | {:.1e} | {} | {} | |\n",
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
            let hand = sys.row("hand").map_or(f64::NAN, |r| r.latency_ns);
            let reference = sys.rows.first().map_or("", |r| r.reference.as_str());
            for p in &sys.peers {
                let lat = p.latency_ns().unwrap_or(f64::NAN);
                let star = |m: &str| if p.capped(m) { "*" } else { "" };
                s += &format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | — | {} |\n",
                    sys.system,
                    sys.n,
                    peer_label(&p.peer),
                    fmt_or_dash(lat, |x| format!("{x:.0}")),
                    fmt_or_dash(lat / hand, |x| format!("{x:.2}")),
                    p.throughput().map_or("—".into(), |x| format!(
                        "{x:.3e}{}",
                        star("vmap_throughput").to_owned() + star("batch_throughput")
                    )),
                    if p.missing.is_some() {
                        ""
                    } else {
                        peer_batching(&p.peer)
                    },
                    p.rk4_seconds()
                        .map_or("—".into(), |x| format!("{x:.4}{}", star("rk4_10k"))),
                    p.max_rel_error().map_or("—".into(), |x| format!("{x:.1e}")),
                    if p.missing.is_some() { "" } else { reference },
                    p.note().replace('|', "/"),
                );
            }
        }
        s += &format!(
            "\nRust: latency = median ns per single-state call over the case's 16 states; throughput = all calls over wall time, each of {} threads cycling the states for ≥ the batch time (median of 3); RK4 = {} steps of dt = 1e-3 from state 0, time scaled to 10⁴ steps when fewer ran; energy drift over the steps run. Peers: the same 16 states (state file, hash-checked), latency on state 0, batch = the states tiled to 10⁴, RK4 from state 0; * = capped to the time box and extrapolated. Errors: max ‖q̈ − q̈_ref‖∞/‖q̈_ref‖∞ over the states, against the reference column.\n",
            self.threads, self.rk4_steps
        );
        for (method, what) in [
            (
                "autodiff",
                "the `EquationsOfMotion` evaluator, dual numbers",
            ),
            (
                "compiled",
                "`lagrange_jit::CompiledEquations`, symbolic + Cranelift",
            ),
        ] {
            let ratios = self.ratios_of(method);
            if ratios.is_empty() {
                continue;
            }
            s += &format!(
                "\n### Ratios, {method} (Rust, {what}) over each peer — same run\n\n| system | n | {method} (ns) | JAX (ns) | ÷ JAX latency | {method} RK4 (s) | JAX RK4 loop (s) | ÷ JAX RK4 | torch (ns) | ÷ torch latency | SymPy lambdify (ns) | ÷ SymPy latency | ÷ SymPy RK4 | measured (s after start) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            );
            let g = |x: f64| fmt_or_dash(x, sig3);
            let r3 = |x: f64| fmt_or_dash(x, |x| format!("{x:.3}"));
            for (sys, r) in ratios {
                s += &format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}–{:.0} |\n",
                    sys.system,
                    sys.n,
                    g(r.autodiff_ns),
                    g(r.jax_ns),
                    r3(r.vs_jax_latency),
                    g(r.autodiff_rk4_s),
                    g(r.jax_rk4_s),
                    r3(r.vs_jax_rk4),
                    g(r.torch_ns),
                    fmt_or_dash(r.vs_torch_latency, |x| format!("{x:.2e}")),
                    g(r.sympy_ns),
                    r3(r.vs_sympy_latency),
                    r3(r.vs_sympy_rk4),
                    sys.t_rust,
                    sys.t_end,
                );
            }
            s += "\nJAX = the faster of the JAX variants measured (default XLA threading and, if run, one XLA thread); its RK4 is a jitted `lax.fori_loop` (compile excluded). SymPy RK4 and torch RK4 are Python loops. A ratio < 1 means the Rust method is faster. — = peer missing or skipped (see the note column).\n";
        }
        s
    }

    /// The full report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "machine": {
                "nproc": self.machine.nproc,
                "cpu_model": self.machine.cpu_model,
                "mem_total": self.machine.mem_total,
                "loadavg_start": self.machine.loadavg,
                "loadavg_end": self.loadavg_end,
                "unix_time": self.machine.unix_time,
                "debug_assertions": cfg!(debug_assertions),
                "lagrange_version": env!("CARGO_PKG_VERSION"),
            },
            "threads": self.threads,
            "rk4_steps": self.rk4_steps,
            "wall_s": num(self.wall_s),
            "python": self.python.as_ref().map(|(p, v)| json!({
                "path": p.display().to_string(),
                "version": v.as_ref().ok(),
                "error": v.as_ref().err(),
            })),
            "peers": self.peers,
            "systems": self.systems.iter().map(|s| json!({
                "system": s.system,
                "n": s.n,
                "loadavg_start": s.loadavg_start,
                "t_rust_s": num(s.t_rust),
                "t_peers_s": num(s.t_peers),
                "t_end_s": num(s.t_end),
                "rows": s.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
                "peers": s.peers.iter().map(PeerResult::to_json).collect::<Vec<_>>(),
                "ratios": if s.peers.is_empty() { Value::Null } else { s.ratios().to_json() },
                "ratios_compiled": if s.peers.is_empty() { Value::Null } else { s.ratios_of("compiled").to_json() },
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"[
 {"peer": "jax", "system": "_machine", "metric": "nproc", "value": 2, "unit": "", "note": ""},
 {"peer": "jax", "system": "_machine", "metric": "states_fnv1a64", "value": "00000000deadbeef", "unit": "", "note": "file"},
 {"peer": "jax", "system": "dpend", "metric": "compile_eom", "value": 1.04, "unit": "s", "note": ""},
 {"peer": "jax", "system": "dpend", "metric": "eom_latency", "value": 16.2, "unit": "us", "note": "median"},
 {"peer": "jax", "system": "dpend", "metric": "vmap_throughput", "value": 1.5e6, "unit": "states/s", "note": ""},
 {"peer": "jax", "system": "dpend", "metric": "rk4_10k", "value": 0.05, "unit": "s", "note": "capped: ran 10 steps"},
 {"peer": "jax", "system": "dpend", "metric": "qdd_max_rel_err", "value": 6.9e-16, "unit": "", "note": ""}
]"#;

    #[test]
    fn parses_a_peer_output() {
        let r = parse_peer_output("jax", "dpend", SAMPLE, Some("00000000deadbeef"));
        assert_eq!(r.missing, None);
        assert!(r.states_verified);
        assert_eq!(r.latency_ns(), Some(16_200.0));
        assert_eq!(r.throughput(), Some(1.5e6));
        assert_eq!(r.rk4_seconds(), Some(0.05));
        assert!(r.capped("rk4_10k") && !r.capped("eom_latency"));
        assert_eq!(r.max_rel_error(), Some(6.9e-16));
        assert_eq!(r.machine("nproc").as_deref(), Some("2"));
        assert!(r.note().contains("compile 1.04 s"));
        // another system of the same output: no results
        let other = parse_peer_output("jax", "ho1", SAMPLE, Some("00000000deadbeef"));
        assert!(other.missing.unwrap().contains("no results"));
    }

    #[test]
    fn other_states_are_rejected() {
        let r = parse_peer_output("jax", "dpend", SAMPLE, Some("0123456789abcdef"));
        assert!(r.missing.as_deref().unwrap().contains("other states"));
        assert_eq!(r.latency_ns(), None);
    }

    #[test]
    fn skipped_and_failed_peers_are_missing() {
        let torch = r#"[{"peer": "torch", "system": "*", "metric": "skipped", "value": "torch not installed", "unit": "", "note": "..."}]"#;
        let r = parse_peer_output("torch", "dpend", torch, None);
        assert!(
            r.missing
                .as_deref()
                .unwrap()
                .contains("torch not installed")
        );
        let sympy = r#"[{"peer": "sympy", "system": "chain256", "metric": "setup_total", "value": "skipped", "unit": "s", "note": "skipped: set-up > 60 s"}]"#;
        let r = parse_peer_output("sympy", "chain256", sympy, None);
        assert_eq!(r.missing.as_deref(), Some("skipped: set-up > 60 s"));
        let r = parse_peer_output("numpy", "dpend", "not json", None);
        assert!(r.missing.unwrap().starts_with("unreadable"));
    }

    #[test]
    fn a_missing_interpreter_gives_missing_peers() {
        let dir = std::env::temp_dir().join(format!("lagrange-peer-test-{}", std::process::id()));
        let mut cfg = PeerConfig::new(dir.clone(), Some(dir.join("no-such-python")));
        cfg.work_dir = dir.join("work");
        cfg.echo = false;
        assert!(check_python(&cfg.python).is_err());
        let r = run_peer(&cfg, "jax", "dpend", &dir.join("states.json"), "0");
        assert!(r.missing.unwrap().contains("cannot run"));
        // the combined run reports every requested peer as missing and still measures Rust
        let cases: Vec<Case> = crate::all_cases(true)
            .into_iter()
            .filter(|c| c.system == "ho1")
            .collect();
        let options = BenchOptions {
            batch_seconds: 0.001,
            batches: 1,
            throughput_seconds: 0.001,
            threads: 2,
            rk4_steps: 10,
            ..Default::default()
        };
        let combined = run_combined(&cases, &options, Some(&cfg), |_| {});
        let sys = &combined.systems[0];
        assert!(!sys.rows.is_empty());
        assert_eq!(sys.peers.len(), DEFAULT_PEERS.len());
        assert!(sys.peers.iter().all(|p| p.missing.is_some()));
        assert!(sys.ratios().vs_jax_latency.is_nan());
        let md = combined.to_markdown();
        assert!(md.contains("JAX jit (peer)") && md.contains("Peers unavailable"));
        let json = combined.to_json();
        assert!(json["systems"][0]["peers"][0]["missing"].is_string());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn state_file_round_trips_and_names_match() {
        let case = crate::all_cases(true)
            .into_iter()
            .find(|c| c.system == "nbody8")
            .unwrap();
        let bytes = states_json(&case);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["states"].as_array().unwrap().len(), case.states.len());
        let q0: Vec<f64> = serde_json::from_value(v["states"][0]["q"].clone()).unwrap();
        assert_eq!(
            q0, case.states[0].0,
            "shortest round-trip floats parse back exactly"
        );
        assert_eq!(v["params"]["m1"], 1.0);
        assert!(peer_knows("nbody64") && peer_knows("chain1024") && !peer_knows("kepler"));
        assert!(!peer_knows("chain") && !peer_knows("chainx"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
