use serde_json::json;

use super::*;
use crate::account::{Line, Reason, UnitAccount};
use crate::code::Code;
use crate::plan::Item;
use crate::policy::KeepRule;
use crate::retry::pace::PaceStats;
use crate::retry::QuotaClass;
use crate::service::Service;

fn line(service: Service, disposition: Disposition, code: Option<Reason>) -> Line {
    Line {
        written: None,
        service,
        package: "p".into(),
        item: Item::Version("1".into()),
        disposition,
        code,
        attempts: 1,
        detail: None,
        storage: None,
    }
}

fn stats(class: QuotaClass, calls: u64, throttles: u64, rate: f64) -> PaceStats {
    PaceStats {
        class,
        rate,
        calls,
        throttles,
    }
}

#[test]
fn one_valid_document_per_service_with_every_count() {
    let throttled = Some(Reason::Code(Code::Service("ThrottlingException".into())));
    let acc = UnitAccount {
        lines: vec![
            line(Service::Iot, Disposition::Deleted, None),
            line(
                Service::Iot,
                Disposition::Kept,
                Some(Reason::Rule(KeepRule::InUse)),
            ),
            line(Service::Iot, Disposition::HandedOn, throttled),
            line(Service::CodeArtifact, Disposition::Archived, None),
            line(
                Service::CodeArtifact,
                Disposition::DeadLettered,
                Some(Reason::Code(Code::InUse)),
            ),
        ],
        ..UnitAccount::default()
    };
    let before = [stats(QuotaClass::IotWrite, 10, 1, 5.0)];
    let after = [
        stats(QuotaClass::IotWrite, 14, 3, 4.0),
        stats(QuotaClass::IotRead, 2, 0, 10.0),
        stats(QuotaClass::CodeArtifactWrite, 1, 0, 100.0),
    ];
    let docs = documents(
        &MetricsConfig::default(),
        &[acc],
        (&before, &after),
        1_700_000_000_000,
    );
    assert_eq!(docs.len(), 2);
    for d in &docs {
        check(d).unwrap_or_else(|e| panic!("{e}: {d}"));
    }
    let ca = &docs[0];
    assert_eq!(ca["Service"], "codeartifact");
    assert_eq!(ca["Archived"], 1.0);
    assert_eq!(ca["DeadLettered.IN_USE"], 1.0);
    assert_eq!(ca["WriteRate"], 100.0);
    let iot = &docs[1];
    assert_eq!(iot["Requested"], 3.0);
    assert_eq!(iot["Kept.IN_USE"], 1.0);
    assert_eq!(iot["ThrottledAtDeadline"], 1.0);
    assert_eq!(
        iot["Calls"], 6.0,
        "the invocation's calls, not the pacer's total"
    );
    assert_eq!(iot["Throttles"], 2.0);
    assert_eq!(iot["WriteRate"], 4.0);
    assert_eq!(iot["Archived"], 0.0, "counts are written even when zero");
}

#[test]
fn a_service_not_touched_writes_nothing() {
    let idle = [stats(QuotaClass::IotWrite, 3, 0, 5.0)];
    assert!(documents(&MetricsConfig::default(), &[], (&idle, &idle), 1).is_empty());
}

#[test]
fn the_checker_refuses_what_the_specification_forbids() {
    let good = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "n",
        "Dimensions": [["Service"]], "Metrics": [{"Name": "Deleted", "Unit": "Count"}]}]},
        "Service": "iot", "Deleted": 1});
    check(&good).unwrap();
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut d = good.clone();
        edit(&mut d);
        d
    };
    let cases: Vec<Value> = vec![
        broken(&|d| d["_aws"]["Timestamp"] = json!("now")),
        broken(&|d| d["_aws"]["Extra"] = json!(1)),
        broken(&|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")),
        broken(&|d| d["Service"] = json!(3)),
        broken(&|d| d["Deleted"] = json!("one")),
        broken(&|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Versions")),
        broken(&|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] = json!(5)
        }),
        broken(&|d| {
            d.as_object_mut().unwrap().remove("_aws");
        }),
    ];
    for c in cases {
        assert!(check(&c).is_err(), "accepted {c}");
    }
}

#[test]
fn each_disposition_counts_toward_its_own_metric() {
    use crate::account::Disposition as D;
    let all = [
        D::Deleted,
        D::Archived,
        D::Unlisted,
        D::Deprecated,
        D::AlreadyAbsent,
        D::Kept,
        D::DeadLettered,
        D::HandedOn,
    ];
    for d in all {
        assert!(count_name(d).eq_ignore_ascii_case(d.as_str()), "{d:?}");
    }
}

#[test]
fn storage_and_the_index_are_written_where_they_happened() {
    use crate::plan::VersionBytes;
    let deleted = |bytes, shared| Line {
        storage: Some(VersionBytes { bytes, shared }),
        ..line(Service::CodeArtifact, Disposition::Deleted, None)
    };
    let planned = Line {
        storage: Some(VersionBytes {
            bytes: Some(7),
            shared: false,
        }),
        ..line(
            Service::CodeArtifact,
            Disposition::Kept,
            Some(Reason::Rule(KeepRule::DryRun)),
        )
    };
    let acc = UnitAccount {
        lines: vec![
            deleted(Some(1000), true),
            deleted(Some(4000), false),
            deleted(None, true),
            planned,
        ],
        dependents_indexed: 3,
        dependency_edges_written: 5,
        ..UnitAccount::default()
    };
    let docs = documents(&MetricsConfig::default(), &[acc], (&[], &[]), 1);
    let ca = &docs[0];
    check(ca).unwrap_or_else(|e| panic!("{e}: {ca}"));
    // A dry run's plan frees nothing; an unknown size adds nothing.
    assert_eq!(ca["BytesDeleted"], 5000.0);
    assert_eq!(ca["BytesShared"], 1000.0);
    assert_eq!(ca["DependentsIndexed"], 3.0);
    assert_eq!(ca["DependencyEdgesWritten"], 5.0);
    let units: Vec<&str> = ca["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Name"] == "BytesDeleted")
        .map(|m| m["Unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["Bytes"]);
}
