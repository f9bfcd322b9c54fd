//! Criterion benchmark: autodiff EOM vs the hand-derived EOM (and finite differences) of the
//! same system, same states, one run. `cargo bench -p lagrange-bench`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lagrange_bench::all_cases;
use std::hint::black_box;

fn eom(c: &mut Criterion) {
    for case in all_cases(false).into_iter().filter(|c| c.n <= 128) {
        let mut group = c.benchmark_group(format!("eom/{}", case.system));
        for method in &case.methods {
            let mut eom = method.evaluator();
            let mut a = vec![0.0; case.n];
            let mut i = 0usize;
            group.bench_function(BenchmarkId::from_parameter(method.name), |b| {
                b.iter(|| {
                    let (q, v) = &case.states[i % case.states.len()];
                    i += 1;
                    let _ = eom(0.0, black_box(q), black_box(v), &mut a);
                    black_box(&a);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, eom);
criterion_main!(benches);
