//! Criterion benchmarks of the engine on the synthetic shapes of `ops/bench/match.sh`.
//!
//! `index/*` builds the solver index from an instance (`Prepared::from_instance`),
//! `solve/*` runs deferred acceptance from a built index, `json/*` is the whole
//! `yui match solve` path (parse, validate, index, solve, render). Instances come from
//! `yui_match::synth` with seed 2024, as in the script.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use yui_match::synth::{Shape, generate};
use yui_match::{Instance, Prepared, cli};

const SEED: u64 = 2024;

fn to_json(instance: &Instance) -> String {
    let mut json = String::from(r#"{"talents":["#);
    for t in 0..instance.num_talents() as u32 {
        let prefs: Vec<String> = instance
            .talent_prefs(t)
            .iter()
            .map(|p| format!("\"p{p}\""))
            .collect();
        let sep = if t > 0 { "," } else { "" };
        let _ = write!(
            json,
            r#"{sep}{{"id":"t{t}","prefs":[{}]}}"#,
            prefs.join(",")
        );
    }
    json.push_str(r#"],"projects":["#);
    for p in 0..instance.num_projects() as u32 {
        let prefs: Vec<String> = instance
            .project_prefs(p)
            .iter()
            .map(|t| format!("\"t{t}\""))
            .collect();
        let cap = instance.capacities()[p as usize];
        let sep = if p > 0 { "," } else { "" };
        let _ = write!(
            json,
            r#"{sep}{{"id":"p{p}","capacity":{cap},"prefs":[{}]}}"#,
            prefs.join(",")
        );
    }
    json.push_str("]}");
    json
}

fn shapes(c: &mut Criterion) {
    for (name, shape) in [
        ("100k", Shape::REGIONAL_100K),
        ("nrmp", Shape::NRMP),
        ("1m", Shape::NATIONAL_1M),
    ] {
        let instance = generate(&shape, SEED);
        let mut group = c.benchmark_group(name);
        if name == "1m" {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(8));
        }
        group.bench_function("index", |b| {
            b.iter_batched(
                || instance.clone(),
                |inst| black_box(Prepared::from_instance(inst)),
                BatchSize::LargeInput,
            )
        });
        let prepared = Prepared::new(&instance);
        group.bench_function("solve", |b| b.iter(|| black_box(prepared.solve())));
        drop(prepared);
        if name != "1m" {
            let json = to_json(&instance);
            group.bench_function("json", |b| b.iter(|| black_box(cli::solve_json(&json))));
        }
        group.finish();
    }
}

criterion_group!(benches, shapes);
criterion_main!(benches);
