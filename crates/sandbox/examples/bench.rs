//! Sandbox start-up figures: how long a sandboxed process takes from spawn to exit, against
//! the same program started plainly. Prints p50/p99 in milliseconds per variant.
//!
//! `cargo run --release -p functiond-sandbox --example bench -- [runs] [node] [python]`
//! (defaults: 50 runs, `/usr/bin/node`, `/usr/bin/python3`). Needs root; variants are run
//! round-robin so that a busy moment of the machine hits all of them alike.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use functiond_sandbox::{Bind, Jail, Sandbox, SandboxConfig, Spec, run};

struct Variant {
    name: String,
    spec: Spec,
    times: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let index = (((sorted.len() - 1) as f64) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The installation directory of an interpreter outside /usr (e.g. a pyenv version).
fn installation(interpreter: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(interpreter).ok()?;
    let prefix = real.parent()?.parent()?.to_owned();
    (!prefix.starts_with("/usr")).then_some(prefix)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(50);
    let node = PathBuf::from(args.get(1).map_or("/usr/bin/node", String::as_str));
    let python = PathBuf::from(args.get(2).map_or("/usr/bin/python3", String::as_str));
    match Sandbox::favor_fast_cgroup_moves() {
        Ok(on) => eprintln!("favordynmods: {on}"),
        Err(error) => eprintln!("favordynmods: off ({error})"),
    }
    let sandbox = match Sandbox::new(SandboxConfig::default()) {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("SKIPPED: {error}");
            return;
        }
    };
    let jail = |program: &Path| {
        let mut jail = Jail::new(&sandbox);
        if let Some(prefix) = installation(program) {
            jail = jail.bind(Bind::read_only(prefix));
        }
        jail
    };
    let programs: [(&str, PathBuf, &[&str]); 3] = [
        ("true", PathBuf::from("/bin/true"), &[]),
        ("node -e 0", node, &["-e", "0"]),
        ("python -c 0", python, &["-I", "-c", "0"]),
    ];
    let mut variants = Vec::new();
    for (name, program, args) in &programs {
        let spec = Spec::new(program)
            .args(args.iter().copied())
            .env("PATH", "/usr/bin:/bin");
        variants.push(Variant {
            name: format!("{name} plain"),
            spec: spec.clone(),
            times: Vec::new(),
        });
        variants.push(Variant {
            name: format!("{name} sandboxed"),
            spec: spec.jail(jail(program)),
            times: Vec::new(),
        });
    }
    for round in 0..=runs {
        for variant in &mut variants {
            let started = Instant::now();
            let outcome = run(&variant.spec).expect("the program starts");
            let elapsed = started.elapsed();
            assert!(outcome.success(), "{}: {outcome:?}", variant.name);
            // The first round warms caches and is not counted.
            if round > 0 {
                variant.times.push(elapsed);
            }
        }
    }
    println!(
        "{:<24} {:>8} {:>8}   (ms, {runs} runs)",
        "variant", "p50", "p99"
    );
    for variant in &mut variants {
        variant.times.sort();
        println!(
            "{:<24} {:>8.2} {:>8.2}",
            variant.name,
            percentile(&variant.times, 0.5),
            percentile(&variant.times, 0.99)
        );
    }
}
