//! `deploy/grafana-dashboard.json` queries only series the relay's `/metrics` really has, with
//! labels those series really carry.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    time::Duration,
};

use relay_tests::{Reply, StandIn, TestRelay};
use serde_json::Value;

/// Every `expr` of every panel target.
fn dashboard_queries() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().expect("panels");
    let queries: Vec<String> = panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .map(|target| target["expr"].as_str().expect("expr").to_owned())
        .collect();
    assert!(queries.len() >= 10, "{queries:?}");
    queries
}

/// Each `kick_relay_…` series an expression names, with the label keys its matchers and
/// `by (…)` clauses use (Prometheus' own `instance` left out).
fn series_in(expr: &str) -> BTreeMap<String, BTreeSet<String>> {
    let by_labels: BTreeSet<String> = expr
        .match_indices("by (")
        .flat_map(|(at, _)| {
            let rest = &expr[at + 4..];
            rest[..rest.find(')').unwrap()]
                .split(',')
                .map(|l| l.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut found = BTreeMap::new();
    for (at, _) in expr.match_indices("kick_relay_") {
        let rest = &expr[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        let mut labels = by_labels.clone();
        if let Some(matchers) = rest[end..].strip_prefix('{') {
            for matcher in matchers[..matchers.find('}').unwrap()].split(',') {
                let key = matcher.split(['=', '!']).next().unwrap().trim();
                labels.insert(key.to_owned());
            }
        }
        labels.remove("instance");
        found.insert(name, labels);
    }
    found
}

/// Series name → label keys seen on it in a `/metrics` text.
fn exposed(metrics: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut series: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        let entry = series.entry(line[..end].to_owned()).or_default();
        if let Some(labels) = line[end..].strip_prefix('{') {
            for pair in labels[..labels.find('}').unwrap()].split(',') {
                entry.insert(pair.split('=').next().unwrap().to_owned());
            }
        }
    }
    series
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_the_dashboard_queries_is_in_metrics() {
    // One output that delivers (attempts, latency, breaker state), one that is gone (disabled).
    let ok = StandIn::always(Reply::status(200)).await;
    let gone = StandIn::always(Reply::status(404)).await;
    let relay = TestRelay::start(&format!(
        "[[output]]\nname = \"ok\"\ntype = \"raw\"\nurl = \"{}\"\n\
         [[output]]\nname = \"gone\"\ntype = \"raw\"\nurl = \"{}\"\n",
        ok.url("/ok"),
        gone.url("/gone")
    ))
    .await;
    let body = br#"{"raid":{"viewers":3}}"#;
    assert_eq!(
        relay
            .post("01JDASHBOARD00000000000001", "channel.raid.started", body)
            .await
            .0,
        200
    );
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"ok\",status=\"delivered\"} 1",
            Duration::from_secs(20),
        )
        .await;
    relay
        .wait_for_metric(
            "kick_relay_output_disabled{output=\"gone\"} 1",
            Duration::from_secs(20),
        )
        .await;

    let metrics = exposed(&relay.metrics().await);
    let mut missing = Vec::new();
    for expr in dashboard_queries() {
        for (name, labels) in series_in(&expr) {
            match metrics.get(&name) {
                None => missing.push(format!("{name} (in {expr})")),
                Some(has) => {
                    for label in labels.difference(has) {
                        missing.push(format!("label {label} on {name} (in {expr})"));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the dashboard queries what /metrics does not have:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_query_reader_sees_names_and_labels() {
    let got = series_in(
        "sum by (output) (rate(kick_relay_attempts_total{instance=~\"$i\",outcome=\"x\"}[5m]))",
    );
    assert_eq!(
        got["kick_relay_attempts_total"],
        BTreeSet::from(["output".to_owned(), "outcome".to_owned()])
    );
    let exposed = exposed("# HELP a b\nkick_relay_inbox_rows 3\nkick_relay_x{output=\"a\"} 1\n");
    assert!(exposed["kick_relay_inbox_rows"].is_empty());
    assert!(exposed["kick_relay_x"].contains("output"));
}
