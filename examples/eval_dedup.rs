//! Prints the dedup evaluation:
//! `cargo run --release --example eval_dedup [EVENTS [SEED [NEAR_THRESHOLD]]]`.

use newsflow::dedup::{eval, DedupOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let events = args
        .next()
        .map_or(5000, |a| a.parse().expect("EVENTS is a number"));
    let seed = args
        .next()
        .map_or(1, |a| a.parse().expect("SEED is a number"));
    let mut options = DedupOptions::default();
    if let Some(t) = args.next() {
        options.near_threshold = t.parse().expect("NEAR_THRESHOLD is a number");
    }
    println!("{}", eval::run_eval_with(events, seed, options, 1_000_000));
}
