//! Report section 1: autodiff against traditional differentiation (hand-derived equations,
//! finite differences, and the Python peers when they run), from the benchmark of
//! `lagrange bench` run here.

use super::{Context, Section, sci, table};
use anyhow::Result;

pub const TITLE: &str =
    "How accurate and how fast is autodiff against traditional differentiation?";

#[cfg(not(feature = "bench"))]
pub fn run(_ctx: &mut Context) -> Result<Section> {
    Ok(Section::not_measured(
        "autodiff",
        TITLE,
        "this lagrange was built without the `bench` feature, which runs the benchmark.",
    ))
}

#[cfg(feature = "bench")]
pub fn run(ctx: &mut Context) -> Result<Section> {
    use lagrange_bench::peers::PeerConfig;
    use lagrange_bench::{BenchOptions, all_cases, run_combined};
    let mut options = BenchOptions::default();
    if ctx.quick {
        options.batch_seconds = 0.005;
        options.batches = 3;
        options.throughput_seconds = 0.02;
        options.rk4_steps = 1_000;
    }
    let peers = ctx.peers.as_ref().map(|python| {
        PeerConfig::new(
            lagrange_bench::peers::default_peer_dir(),
            Some(python.clone()),
        )
    });
    let cases = all_cases(ctx.quick);
    let combined = run_combined(&cases, &options, peers.as_ref(), |line| ctx.log(line));
    if let Some(cfg) = &peers {
        let _ = std::fs::remove_dir_all(&cfg.work_dir);
    }

    // per system: autodiff and compiled latency over hand, q̈ errors of autodiff and of
    // finite differences
    let mut rows = Vec::new();
    let (mut ad_ratio, mut compiled_ratio) = (Vec::new(), Vec::new());
    let (mut ad_error, mut fd_error) = (Vec::new(), Vec::new());
    for system in &combined.systems {
        let row = |m: &str| system.rows.iter().find(|r| r.method == m);
        let (Some(hand), Some(ad)) = (row("hand"), row("autodiff")) else {
            continue;
        };
        let compiled = row("compiled");
        let fd = row("finite-diff");
        ad_ratio.push(ad.latency_ns / hand.latency_ns);
        ad_error.push(ad.max_rel_error);
        if let Some(c) = compiled {
            compiled_ratio.push(c.latency_ns / hand.latency_ns);
        }
        if let Some(f) = fd {
            fd_error.push(f.max_rel_error);
        }
        rows.push(vec![
            system.system.clone(),
            system.n.to_string(),
            format!("{:.0}", hand.latency_ns),
            format!(
                "{:.0} ({:.2}×)",
                ad.latency_ns,
                ad.latency_ns / hand.latency_ns
            ),
            compiled.map_or("–".into(), |c| {
                format!(
                    "{:.0} ({:.2}×)",
                    c.latency_ns,
                    c.latency_ns / hand.latency_ns
                )
            }),
            sci(ad.max_rel_error),
            fd.map_or("–".into(), |f| sci(f.max_rel_error)),
        ]);
    }
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0_f64, f64::max);
        (lo, hi)
    };
    let (ad_lo, ad_hi) = range(&ad_ratio);
    let (c_lo, c_hi) = range(&compiled_ratio);
    let (_, ad_err) = range(&ad_error);
    let (fd_lo, fd_hi) = range(&fd_error);
    let summary = format!(
        "autodiff q̈ matches the hand-derived equations to {} (max relative error; finite differences: {}–{}); it costs {:.1}–{:.1}× the hand-written code per evaluation, compiled {:.2}–{:.2}×",
        sci(ad_err),
        sci(fd_lo),
        sci(fd_hi),
        ad_lo,
        ad_hi,
        c_lo,
        c_hi
    );
    let answer = format!(
        "Autodiff is exact to rounding: its q̈ differs from hand-derived equations (or an \
         independent reference) by at most {} relative, against {}–{} for central finite \
         differences. Per evaluation, dual numbers cost {:.1}–{:.1}× the hand-written Rust \
         equations; the compiled equations (the same autodiff, traced and compiled once) cost \
         {:.2}–{:.2}×.",
        sci(ad_err),
        sci(fd_lo),
        sci(fd_hi),
        ad_lo,
        ad_hi,
        c_lo,
        c_hi
    );
    let mut body = String::from(
        "One state at a time, median of timed batches, all methods on the same states in one \
         run (`lagrange bench`). Latency in ns per q̈; in brackets, over the hand-derived \
         equations. Errors: max over the states of ‖q̈ − q̈_ref‖∞ / ‖q̈_ref‖∞.\n\n",
    );
    body.push_str(&table(
        &[
            "system",
            "n",
            "hand (ns)",
            "autodiff (ns)",
            "compiled (ns)",
            "autodiff error",
            "finite-diff error",
        ],
        &rows,
    ));
    let ratios = combined.ratios();
    let with_jax: Vec<Vec<String>> = ratios
        .iter()
        .filter(|(_, r)| r.jax_ns.is_finite())
        .map(|(s, r)| {
            vec![
                s.system.clone(),
                format!("{:.0}", r.autodiff_ns),
                format!("{:.0}", r.jax_ns),
                format!("{:.3}", r.vs_jax_latency),
                sci(r.vs_torch_latency),
                sci(r.vs_sympy_latency),
            ]
        })
        .collect();
    if with_jax.is_empty() {
        body.push_str(
            "\nThe Python peers (numpy, SymPy, JAX, PyTorch) did not run in this report (they \
             need `bench/peers/.venv`, made by `bash bench/peers/setup.sh`, and a full run); \
             their figures from `lagrange bench --peers` are in `bench/README.md`.\n",
        );
    } else {
        body.push_str("\nThe Python peers on the same states, in the same run (autodiff ÷ peer, per evaluation):\n\n");
        body.push_str(&table(
            &[
                "system",
                "autodiff (ns)",
                "JAX (ns)",
                "÷ JAX",
                "÷ torch",
                "÷ SymPy",
            ],
            &with_jax,
        ));
    }
    // the machine line names the peers' interpreter: keep the path relative to this checkout
    let mut machine = combined.machine_line();
    if let Ok(cwd) = std::env::current_dir() {
        machine = machine.replace(&format!("{}/", cwd.display()), "");
    }
    body.push_str(&format!("\n{machine}\n"));
    ctx.shared.timings.push(format!(
        "q̈ per state: autodiff {:.1}–{:.1}×, compiled {:.2}–{:.2}× the hand-written equations",
        ad_lo, ad_hi, c_lo, c_hi
    ));
    Ok(Section {
        id: "autodiff",
        title: TITLE,
        summary,
        answer,
        body,
        slide_figure: None,
    })
}
