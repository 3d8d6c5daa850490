//! Times one synthetic round in its own process and reports peak memory.
//!
//! ```text
//! match_bench --shape 100k|nrmp|1m [--seed N] [--repeat N]
//! match_bench --shape 100k --dump-instance in.json --dump-result out.json
//! ```
//! The first form prints one line of `key=value` fields (times in milliseconds):
//! `gen` generating the instance (not part of any solve time), `validate` checking the
//! CSR arrays (`Instance::from_csr`), `index` building the solver index
//! (`Prepared::from_instance`), `solve_min`/`solve_med` the deferred-acceptance run from
//! the index over `--repeat` runs, `total` = validate + index + the first (cold) solve,
//! and `peak_rss_mb` the process's high-water resident memory (VmHWM, the same as
//! getrusage's ru_maxrss) covering generation, index and solves. `index_cpu` and
//! `solve_cpu_min` are the same steps in CPU time of the thread (Linux schedstat), which
//! other processes on the machine inflate less than wall time.
//!
//! The second form writes the instance as `yui match solve` input, runs the JSON path
//! (`cli::solve_json`: parse, validate, index, solve, render) on it, writes that output,
//! and prints `json_solve` (ms) — used by `ops/bench/match.sh` to compare with PyPI.

use std::fmt::Write as _;
use std::time::Instant;

use yui_match::synth::{Shape, generate};
use yui_match::{Instance, Prepared, cli};

fn main() {
    if let Err(message) = run() {
        eprintln!("match_bench: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut shape_name = "100k".to_owned();
    let mut seed = 2024u64;
    let mut repeat = 5usize;
    let mut dump_instance = None;
    let mut dump_result = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--shape" => shape_name = value()?,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--repeat" => repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--dump-instance" => dump_instance = Some(value()?),
            "--dump-result" => dump_result = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let shape = match shape_name.as_str() {
        "100k" => Shape::REGIONAL_100K,
        "nrmp" => Shape::NRMP,
        "1m" => Shape::NATIONAL_1M,
        other => return Err(format!("unknown shape {other} (100k, nrmp, 1m)")),
    };

    let start = Instant::now();
    let instance = generate(&shape, seed);
    let gen_ms = ms(start);

    if let Some(path) = dump_instance {
        return dump(&instance, &path, dump_result.as_deref());
    }

    let (talent_start, talent_prefs, project_start, project_prefs, capacity) = instance.into_csr();
    let entries = talent_prefs.len();
    let start = Instant::now();
    let instance = Instance::from_csr(
        talent_start,
        talent_prefs,
        project_start,
        project_prefs,
        capacity,
    )
    .map_err(|e| e.to_string())?;
    let validate_ms = ms(start);

    let start = Instant::now();
    let cpu = cpu_ms();
    let prepared = Prepared::from_instance(instance);
    let index_ms = ms(start);
    let index_cpu = cpu_ms() - cpu;

    let mut solve_ms = Vec::with_capacity(repeat.max(1));
    let mut solve_cpu = Vec::with_capacity(repeat.max(1));
    let mut matching = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let cpu = cpu_ms();
        let m = prepared.solve();
        solve_ms.push(ms(start));
        solve_cpu.push(cpu_ms() - cpu);
        if let Some(previous) = &matching
            && previous != &m
        {
            return Err("two solves of the same index differ".to_owned());
        }
        matching = Some(m);
    }
    let first_solve = solve_ms[0];
    solve_ms.sort_by(f64::total_cmp);
    solve_cpu.sort_by(f64::total_cmp);
    let matching = matching.ok_or("no solve ran")?;
    let details = matching.details(prepared.capacities());

    println!(
        "shape={shape_name} talents={} prefs={} projects={} capacity={} entries={entries} \
         gen={gen_ms:.1} validate={validate_ms:.2} index={index_ms:.2} solve_min={:.2} \
         solve_med={:.2} total={:.2} index_cpu={index_cpu:.2} solve_cpu_min={:.2} \
         peak_rss_mb={:.1} matched={} unmatched={} first_choice={}",
        shape.talents,
        shape.prefs_per_talent,
        shape.projects,
        shape.capacity,
        solve_ms[0],
        solve_ms[solve_ms.len() / 2],
        validate_ms + index_ms + first_solve,
        solve_cpu[0],
        peak_rss_mb().unwrap_or(f64::NAN),
        details.matched,
        details.unmatched.len(),
        details.at_rank(1),
    );
    Ok(())
}

/// Writes the instance in the `yui match solve` format (ids `t<i>` and `p<j>`), and the
/// JSON path's output for it.
fn dump(instance: &Instance, path: &str, result: Option<&str>) -> Result<(), String> {
    let mut json = String::with_capacity(instance.num_entries().0 * 24);
    json.push_str("{\"talents\": [\n");
    for t in 0..instance.num_talents() as u32 {
        if t > 0 {
            json.push_str(",\n");
        }
        let _ = write!(json, "{{\"id\": \"t{t}\", \"prefs\": [");
        write_ids(&mut json, 'p', instance.talent_prefs(t));
        json.push_str("]}");
    }
    json.push_str("],\n\"projects\": [\n");
    for p in 0..instance.num_projects() as u32 {
        if p > 0 {
            json.push_str(",\n");
        }
        let cap = instance.capacities()[p as usize];
        let _ = write!(
            json,
            "{{\"id\": \"p{p}\", \"capacity\": {cap}, \"prefs\": ["
        );
        write_ids(&mut json, 't', instance.project_prefs(p));
        json.push_str("]}");
    }
    json.push_str("]}\n");
    std::fs::write(path, &json).map_err(|e| format!("{path}: {e}"))?;

    if let Some(result_path) = result {
        let start = Instant::now();
        let out = cli::solve_json(&json).map_err(|e| e.to_string())?;
        let json_ms = ms(start);
        std::fs::write(result_path, out).map_err(|e| format!("{result_path}: {e}"))?;
        println!("json_solve={json_ms:.1}");
    }
    Ok(())
}

fn write_ids(json: &mut String, prefix: char, ids: &[u32]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        let _ = write!(json, "\"{prefix}{id}\"");
    }
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// CPU time of this thread so far, in ms (Linux schedstat), to see through other load.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

/// Peak resident set size in MB (10⁶ bytes), from /proc/self/status (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}
