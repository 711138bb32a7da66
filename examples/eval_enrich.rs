//! Prints the enrich stage's accuracy on the shipped labelled set (`eval/enrich/`), or on
//! the set files in the directory given as the first argument, followed by every miss.
//!
//! `cargo run --example eval_enrich [DIR]`

use newsflow::enrich::eval::{load_dir, run_eval, EvalCase};
use newsflow::enrich::{EnrichOptions, Enricher};

fn main() -> anyhow::Result<()> {
    let cases = match std::env::args_os().nth(1) {
        Some(dir) => load_dir(std::path::Path::new(&dir))?,
        None => EvalCase::shipped(),
    };
    let enricher = Enricher::new(EnrichOptions::default())?;
    let report = run_eval(&enricher, &cases);
    println!("{report}");
    if !report.misses().is_empty() {
        println!("\nmisses:");
        for m in report.misses() {
            println!("  {m}");
        }
    }
    if !report.meets_targets() {
        std::process::exit(1);
    }
    Ok(())
}
