//! The service end to end against the in-process broker: records published and valid
//! against the schema, duplicates dropped, bad data dead-lettered byte for byte with
//! headers, offsets committed only past acknowledged output, graceful drain, metrics.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use common::*;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

#[test]
fn publishes_valid_records_drops_duplicates_and_dead_letters_bad_data() {
    let broker = Broker::start();
    let names = Names::new();
    broker.create_topics(&names, 3);
    let corpus = newsflow::demo::sample_corpus();
    let svc = Service::start(settings(&broker.bootstrap, &names, &[]));
    produce(&broker.bootstrap, &names.input, &corpus);
    svc.wait_for(30, "all consumed and finished", |m| {
        m.consumed() == corpus.len() as u64 && m.in_flight.get() == 0
    });

    let schema = schema();
    let out = read_all(&broker.bootstrap, &names.output, 7, Duration::from_secs(10));
    assert_eq!(out.len(), 7, "7 unique articles in the sample corpus");
    let mut ids = BTreeSet::new();
    for r in &out {
        let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        assert_valid(&schema, &v);
        assert_eq!(
            r.key.as_deref(),
            Some(v["id"].as_str().unwrap().as_bytes()),
            "keyed by id"
        );
        assert!(
            !v["body"].as_str().unwrap().contains('<'),
            "no markup in body"
        );
        ids.insert(v["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 7, "no id published twice");

    // Bad messages: byte for byte, with the reason and the source position.
    let dlq = read_all(&broker.bootstrap, &names.dlq, 3, Duration::from_secs(10));
    assert_eq!(dlq.len(), 3);
    let bad: Vec<&Vec<u8>> = corpus
        .iter()
        .filter(|m| dlq.iter().any(|d| &d.payload == *m))
        .collect();
    assert_eq!(
        bad.len(),
        3,
        "each dead letter is byte-identical to an input"
    );
    let mut reasons: Vec<&str> = dlq
        .iter()
        .map(|d| d.headers["newsflow-error"].as_str())
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        ["invalid_encoding", "invalid_json", "missing_body"]
    );
    for d in &dlq {
        assert_eq!(d.headers["newsflow-source-topic"], names.input);
        assert!(d.headers["newsflow-source-partition"]
            .parse::<i32>()
            .is_ok());
        assert!(d.headers["newsflow-source-offset"].parse::<i64>().is_ok());
        assert!(!d.headers["newsflow-error-detail"].is_empty());
    }

    // Metrics agree and are exposed over HTTP.
    assert_eq!(svc.metrics.published(), 7);
    assert_eq!(svc.metrics.duplicates(), 2);
    assert_eq!(svc.metrics.dead_letters(), 3);
    let (status, text) = svc.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        text.contains("newsflow_records_published_total 7"),
        "{text}"
    );
    assert!(text.contains("newsflow_dead_letters_total{reason=\"invalid_json\"} 1"));
    assert!(text.contains("newsflow_duplicates_total{kind=\"url\"} 1"));
    assert!(text.contains("newsflow_duplicates_total{kind=\"content\"} 1"));
    assert!(text.contains("newsflow_stage_duration_seconds_bucket{stage=\"normalize\""));
    assert_eq!(svc.get("/healthz").0, 200);
    svc.wait_for(10, "ready", |m| m.is_ready());
    assert_eq!(svc.get("/readyz").0, 200);
    assert_eq!(
        svc.get("/config").0,
        404,
        "nothing but metrics and health is served"
    );

    // Offsets committed past everything (auto-commit of stored offsets).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while committed_total(&broker.bootstrap, &names.group, &names.input, 3) < corpus.len() as i64 {
        assert!(
            std::time::Instant::now() < deadline,
            "offsets not committed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    svc.stop().unwrap();
}

#[test]
fn offsets_never_pass_unacknowledged_output_and_failed_deliveries_are_retried() {
    let n = 20;
    let (broker, names) = fed_with_articles(1, n);
    // From now on every produce request fails for a while; librdkafka gives up after
    // 300 ms, so the service's own retry loop has to bring the records through.
    let errors = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 60];
    broker
        .cluster
        .request_errors(RDKafkaApiKey::Produce, &errors);
    let svc = Service::start(settings(
        &broker.bootstrap,
        &names,
        &[
            ("kafka.producer_properties.message.timeout.ms", "300"),
            ("kafka.producer_properties.retry.backoff.ms", "20"),
        ],
    ));
    svc.wait_for(60, "all consumed", |m| m.consumed() == n as u64);
    let mut saw_retry_window = false;
    while svc.metrics.published() < n as u64 {
        let committed = committed_total(&broker.bootstrap, &names.group, &names.input, 1);
        let published = svc.metrics.published() as i64;
        assert!(
            committed <= published,
            "committed {committed} past published {published}"
        );
        saw_retry_window |= published < n as i64;
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(saw_retry_window);
    svc.wait_for(30, "all finished", |m| m.in_flight.get() == 0);
    let (_, text) = svc.get("/metrics");
    let retries: f64 = text
        .lines()
        .find(|l| l.starts_with("newsflow_publish_retries_total "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        retries > 0.0,
        "the service retried failed deliveries itself"
    );
    let out = read_all(&broker.bootstrap, &names.output, n, Duration::from_secs(10));
    let ids: BTreeSet<String> = out
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), n, "every article reached the output");
    svc.stop().unwrap();
    assert_eq!(
        committed_total(&broker.bootstrap, &names.group, &names.input, 1),
        n as i64
    );
}

#[test]
fn graceful_shutdown_drains_commits_and_a_restart_resumes_without_gap() {
    let n = 3000;
    let (broker, names) = fed_with_articles(3, n);
    let s = settings(&broker.bootstrap, &names, &[]);
    let svc = Service::start(s.clone());
    svc.wait_for(60, "some progress", |m| m.published() >= 300);
    let first_published = {
        svc.shutdown.cancel();
        let m = svc.metrics.clone();
        svc.stop().expect("graceful stop returns Ok");
        assert_eq!(m.in_flight.get(), 0, "drained");
        m.published()
    };
    let committed = committed_total(&broker.bootstrap, &names.group, &names.input, 3);
    assert_eq!(
        committed as u64, first_published,
        "commit covers exactly what was published"
    );

    let svc = Service::start(s);
    svc.wait_for(120, "the rest", |m| {
        m.published() + first_published >= n as u64 && m.in_flight.get() == 0
    });
    svc.stop().unwrap();
    let out = read_all(&broker.bootstrap, &names.output, n, Duration::from_secs(20));
    let mut count: HashMap<String, usize> = HashMap::new();
    for r in &out {
        let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        *count
            .entry(v["url"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(count.len(), n, "no gap: every article published");
    assert!(
        count.values().all(|c| *c == 1),
        "no article published twice after a graceful restart"
    );
    assert_eq!(
        committed_total(&broker.bootstrap, &names.group, &names.input, 3),
        n as i64
    );
}

/// A mock cluster with the topics made (`partitions` each) and `n` distinct articles fed.
fn fed_with_articles(partitions: i32, n: usize) -> (Broker, Names) {
    let broker = Broker::start();
    let names = Names::new();
    broker.create_topics(&names, partitions);
    produce(
        &broker.bootstrap,
        &names.input,
        &(0..n).map(article).collect::<Vec<_>>(),
    );
    (broker, names)
}

fn tracking_variant(i: usize) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&article(i)).unwrap();
    v["url"] =
        format!("https://news.example.com/local/item-{i}?fbclid=x{i}&utm_medium=social").into();
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn restart_rebuilds_the_dedup_index_from_the_output_topic() {
    let n = 50;
    let (broker, names) = fed_with_articles(2, n);
    let s = settings(&broker.bootstrap, &names, &[]);
    let svc = Service::start(s.clone());
    svc.wait_for(60, "published", |m| {
        m.published() == n as u64 && m.in_flight.get() == 0
    });
    svc.stop().unwrap();

    // A new process knows nothing in memory; the same stories arrive again.
    produce(
        &broker.bootstrap,
        &names.input,
        &(0..n).map(tracking_variant).collect::<Vec<_>>(),
    );
    let svc = Service::start(s);
    svc.wait_for(60, "re-sent copies handled", |m| {
        m.consumed() == n as u64 && m.in_flight.get() == 0
    });
    let (_, text) = svc.get("/metrics");
    assert!(
        text.contains(&format!("newsflow_dedup_rebuild_records_total {n}")),
        "{text}"
    );
    assert_eq!(
        svc.metrics.published(),
        0,
        "copies of published stories are not published again"
    );
    assert_eq!(svc.metrics.duplicates(), n as u64);
    svc.stop().unwrap();
}

#[test]
fn replicas_share_what_they_publish() {
    replicas_share_and_hand_over(&[]);
}

/// The same with the cooperative protocol, where newsflow's rebalance callback assigns and
/// revokes incrementally.
#[test]
fn replicas_share_what_they_publish_with_cooperative_rebalancing() {
    replicas_share_and_hand_over(&[(
        "kafka.consumer_properties.partition.assignment.strategy",
        "cooperative-sticky",
    )]);
}

/// Two replicas split four partitions and each knows what the other published; when one
/// stops, the other takes over its partitions and consumes what arrives there.
fn replicas_share_and_hand_over(extra: &[(&str, &str)]) {
    let broker = Broker::start();
    let names = Names::new();
    broker.create_topics(&names, 4);
    // After a member leaves, librdkafka's mock cluster completes the rebalance only after
    // the session timeout less 1 s (rdkafka_mock_cgrp.c; Kafka completes it once the
    // remaining members have rejoined), so the session is shortened from 45 s.
    let mut extra = extra.to_vec();
    extra.extend([
        ("kafka.consumer_properties.session.timeout.ms", "6000"),
        ("kafka.consumer_properties.heartbeat.interval.ms", "1000"),
    ]);
    let s = settings(&broker.bootstrap, &names, &extra);
    let a = Service::start(s.clone());
    let b = Service::start(s);
    let both = |f: &dyn Fn(&newsflow::metrics::Metrics) -> u64| f(&a.metrics) + f(&b.metrics);
    a.wait_for(120, "both assigned", |_| {
        a.metrics.assigned_partitions.get() > 0 && b.metrics.assigned_partitions.get() > 0
    });
    let n = 40;
    produce(
        &broker.bootstrap,
        &names.input,
        &(0..n).map(article).collect::<Vec<_>>(),
    );
    a.wait_for(120, "originals published", |_| {
        both(&|m| m.published()) == n as u64
    });
    assert!(
        a.metrics.published() > 0 && b.metrics.published() > 0,
        "work was spread over both replicas"
    );
    // Copies land on any partition, so on either replica: each must know the other's output.
    std::thread::sleep(Duration::from_secs(1));
    produce(
        &broker.bootstrap,
        &names.input,
        &(0..n).map(tracking_variant).collect::<Vec<_>>(),
    );
    a.wait_for(120, "copies handled", |_| {
        both(&|m| m.consumed()) == 2 * n as u64 && both(&|m| m.in_flight.get() as u64) == 0
    });
    assert_eq!(
        both(&|m| m.published()),
        n as u64,
        "no copy published by the replica that did not see the original"
    );
    assert_eq!(both(&|m| m.duplicates()), n as u64);
    let published_by_a = a.metrics.published();
    a.stop().unwrap();
    b.wait_for(120, "the remaining replica owns every partition", |m| {
        m.assigned_partitions.get() == 4
    });
    produce(
        &broker.bootstrap,
        &names.input,
        &(n..2 * n).map(article).collect::<Vec<_>>(),
    );
    b.wait_for(120, "new articles published after the hand-over", |m| {
        m.published() + published_by_a == 2 * n as u64
    });
    b.stop().unwrap();
}

#[test]
fn missing_topics_keep_the_service_unready_until_they_exist() {
    let broker = Broker::start();
    let names = Names::new();
    let svc = Service::start(settings(&broker.bootstrap, &names, &[]));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        svc.get("/readyz").0,
        503,
        "not ready while topics are missing"
    );
    assert_eq!(svc.get("/healthz").0, 200, "but alive");
    broker.create_topics(&names, 1);
    // The service checks again every 10 s.
    svc.wait_for(40, "ready once the topics exist", |m| m.is_ready());
    produce(&broker.bootstrap, &names.input, &[article(1)]);
    svc.wait_for(30, "published", |m| m.published() == 1);
    svc.stop().unwrap();
}

#[test]
fn the_changelog_reader_reports_how_far_it_has_read_each_partition() {
    use newsflow::changelog::{spawn, TailProgress};
    use std::sync::Arc;
    let broker = Broker::start();
    let names = Names::new();
    broker.create_topics(&names, 2);
    let records: Vec<Vec<u8>> = (0..7).map(article).collect();
    produce(&broker.bootstrap, &names.output, &records);
    let s = settings(&broker.bootstrap, &names, &[]);
    let registry = prometheus::Registry::new();
    let metrics = newsflow::metrics::Metrics::new(&registry).unwrap();
    let pipeline = Arc::new(
        newsflow::pipeline::Pipeline::new(newsflow::app::pipeline_options(&s), metrics.clone())
            .unwrap(),
    );
    let progress = Arc::new(TailProgress::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let (reader, rebuilt) = spawn(
        &s,
        &broker.bootstrap,
        pipeline,
        metrics,
        progress.clone(),
        stop.clone(),
    )
    .unwrap();
    assert!(
        rebuilt
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
            .complete
    );

    // The end offsets of both topics' partitions: 7 records over the output's two.
    let mut ends = progress.end_offsets(Duration::from_secs(10)).unwrap();
    ends.sort();
    let output: Vec<i64> = ends
        .iter()
        .filter(|(t, _, _)| *t == names.output)
        .map(|e| e.2)
        .collect();
    assert_eq!(output.len(), 2);
    assert_eq!(output.iter().sum::<i64>(), 7, "{ends:?}");
    assert!(ends
        .iter()
        .filter(|(t, _, _)| *t == names.dlq)
        .all(|e| e.2 == 0));
    let now = || std::time::Instant::now() + Duration::from_secs(10);
    assert_eq!(
        progress.wait_for(&ends, now()),
        0,
        "the rebuild read them all"
    );

    // A record published later is waited for until the reader has it.
    produce(&broker.bootstrap, &names.output, &[article(99)]);
    let later = progress.end_offsets(Duration::from_secs(10)).unwrap();
    assert_eq!(
        later
            .iter()
            .filter(|(t, _, _)| *t == names.output)
            .map(|e| e.2)
            .sum::<i64>(),
        8
    );
    assert_eq!(progress.wait_for(&later, now()), 0, "the tail read it");
    stop.cancel();
    reader.join().unwrap();
}
