//! deploy/testdata/metrics.prom stands for a /metrics scrape in the deployment checks
//! (scripts/check-deploy.sh checks the dashboard's and the alerts' queries against it), so
//! it must list exactly the metric families newsflow registers.

use std::collections::BTreeSet;

#[test]
fn the_exposition_snapshot_lists_every_metric() {
    let r = prometheus::Registry::new();
    let m = newsflow::metrics::Metrics::new(&r).unwrap();
    m.set_consumer_lag("articles.raw", 0, 0); // a vec without series is not exposed
    let registered: BTreeSet<String> = r
        .gather()
        .iter()
        .map(|f| f.name().to_owned())
        .filter(|n| n.starts_with("newsflow_"))
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/testdata/metrics.prom");
    let snapshot: BTreeSet<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .filter(|n| n.starts_with("newsflow_"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        registered, snapshot,
        "update deploy/testdata/metrics.prom from a /metrics scrape"
    );
}
