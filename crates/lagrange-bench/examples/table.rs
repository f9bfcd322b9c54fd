//! Prints the Rust side of the benchmark table (same as `lagrange bench`).
//! `cargo run --release -p lagrange-bench --example table [filter]`

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let options = lagrange_bench::BenchOptions {
        filter,
        ..Default::default()
    };
    let rows = lagrange_bench::run(&lagrange_bench::all_cases(false), &options, |r| {
        eprintln!(
            "{:>10} {:>15} {:>10.0} ns  ×{:.2}",
            r.system, r.method, r.latency_ns, r.ratio_to_hand
        )
    });
    print!("{}", lagrange_bench::to_markdown(&rows));
}
