use std::collections::HashMap;

use packprune_emulator::cloudtrail::{read_event, Download};
use proptest::prelude::*;
use serde_json::Value;

use super::*;

fn download<'a>(format: &'a str, package: &'a str, version: Option<&'a str>) -> Download<'a> {
    Download {
        domain_owner: "111122223333",
        domain: "acme",
        repository: "npm-store",
        format,
        namespace: None,
        namespace_field: false,
        package,
        version,
        time: "2026-11-27T10:00:00Z",
        seq: 1,
    }
}

fn detail(d: &Download) -> Value {
    read_event(d)["detail"].clone()
}

#[test]
fn the_documented_record_is_one_read_of_one_version() {
    let r = read(&detail(&download("npm", "lodash", Some("4.17.21"))))
        .unwrap()
        .unwrap();
    assert_eq!(
        r.key.partition(),
        "package#111122223333/acme/npm//lodash",
        "unscoped: the request path shows no scope"
    );
    assert_eq!(r.version.as_deref(), Some("4.17.21"));
    assert_eq!(r.repository, "npm-store");
    assert_eq!(rfc3339(r.at_ms), "2026-11-27T10:00:00Z");
    assert_eq!(r.key.domain_partition(), "domain#111122223333/acme");
}

#[test]
fn namespaces_come_from_a_field_the_name_or_the_path_else_are_unknown() {
    let mut d = download("npm", "web", Some("1.0.0"));
    d.namespace = Some("@acme");
    let r = read(&detail(&d)).unwrap().unwrap();
    assert_eq!(
        r.key.namespace,
        Namespace::Named("acme".into()),
        "from the path"
    );
    let scoped = download("npm", "@acme/web", Some("1.0.0"));
    let r = read(&detail(&scoped)).unwrap().unwrap();
    assert_eq!(
        (r.key.namespace, r.key.package.as_str()),
        (Namespace::Named("acme".into()), "web")
    );
    let mut maven = download("maven", "core", Some("1.0"));
    maven.namespace = Some("com.acme");
    let r = read(&detail(&maven)).unwrap().unwrap();
    assert_eq!(r.key.namespace, Namespace::Unknown, "no documented field");
    assert_eq!(r.key.partition(), "package#111122223333/acme/maven/*/core");
    maven.namespace_field = true;
    let r = read(&detail(&maven)).unwrap().unwrap();
    assert_eq!(r.key.namespace, Namespace::Named("com.acme".into()));
    let r = read(&detail(&download("pypi", "My_Lib", Some("1.0"))))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.key.namespace, r.key.package.as_str()),
        (Namespace::None, "my-lib")
    );
    let r = read(&detail(&download("nuget", "Acme.Logging", Some("2.01.0"))))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.key.package.as_str(), r.version.as_deref()),
        ("acme.logging", Some("2.1.0")),
        "names and versions as CodeArtifact stores them"
    );
}

#[test]
fn metadata_reads_and_broken_records() {
    let r = read(&detail(&download("npm", "web", None)))
        .unwrap()
        .unwrap();
    assert_eq!(r.version, None);
    let mut v = detail(&download("npm", "web", Some("1.0.0")));
    v["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("packageName");
    assert_eq!(read(&v).unwrap(), None, "names no package: counted only");
    let mut v = detail(&download("npm", "web", Some("1.0.0")));
    v["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("domainOwner");
    let e = read(&v).unwrap_err();
    let ReadEventError::Shape(inner) = &e else {
        panic!("{e}")
    };
    assert!(inner.to_string().contains("domainOwner"), "{inner}");
    let mut v = detail(&download("npm", "web", Some("1.0.0")));
    v["eventTime"] = "yesterday".into();
    assert!(matches!(read(&v), Err(ReadEventError::Time(_))));
    v["eventTime"] = "2026-11-27T10:00:00Z".into();
    v["requestParameters"]["packageFormat"] = "apt".into();
    assert!(matches!(read(&v), Err(ReadEventError::Format(_))));
}

fn at(version: &str, at_ms: i64, repo: &str) -> Read {
    Read {
        key: PackageKey {
            domain_owner: "111122223333".into(),
            domain: "acme".into(),
            format: Format::Npm,
            namespace: Namespace::None,
            package: "web".into(),
        },
        repository: repo.into(),
        version: Some(version.into()),
        at_ms,
    }
}

#[test]
fn a_batch_keeps_each_versions_latest_read_and_every_record_that_told_of_it() {
    let reads = [
        at("1.0", 5_000, "downstream"),
        at("1.0", 9_000, "upstream"),
        at("1.0", 7_000, "downstream"),
        at("2.0", 1_000, "downstream"),
    ];
    let b = Batch::of(reads.iter().enumerate());
    let one = &b.versions[&(reads[0].key.clone(), "1.0".to_owned())];
    assert_eq!((one.at_ms, one.repository.as_str()), (9_000, "upstream"));
    assert_eq!(
        one.records.iter().copied().collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    let domain = &b.domains["domain#111122223333/acme"];
    assert_eq!(domain.at_ms, 1_000, "recording since the earliest read");
    assert_eq!(domain.records.len(), 4);
}

proptest! {
    /// Duplicates and any order give the same latest read: the maximum.
    #[test]
    fn order_and_duplicates_never_change_the_latest_read(
        times in proptest::collection::vec(0i64..1_000_000, 1..40),
        seed in any::<u64>(),
    ) {
        let mut reads: Vec<Read> = times.iter().map(|&t| at("1.0", t, "r")).collect();
        reads.extend(reads.clone());
        let n = reads.len();
        reads.rotate_left((seed as usize) % n);
        let b = Batch::of(reads.iter().enumerate());
        let latest = &b.versions.values().next().unwrap();
        prop_assert_eq!(latest.at_ms, *times.iter().max().unwrap());
        prop_assert_eq!(latest.records.len(), n);
    }
}

const NOW: i64 = 1_000 * DAY_MS;

#[test]
fn recording_must_cover_the_window() {
    let reads = HashMap::from([("1.0".to_owned(), NOW - 3 * DAY_MS)]);
    let Downloads::Unknown(why) = assess(None, reads.clone(), NOW, 30 * DAY_MS) else {
        panic!("no marker")
    };
    assert!(why.contains("no download of this domain"), "{why}");
    let Downloads::Unknown(why) = assess(Some(NOW - 10 * DAY_MS), reads.clone(), NOW, 30 * DAY_MS)
    else {
        panic!("recording younger than the window")
    };
    assert!(why.contains("10.0 days") && why.contains("(30)"), "{why}");
    assert_eq!(
        assess(Some(NOW - 31 * DAY_MS), reads.clone(), NOW, 30 * DAY_MS),
        Downloads::Known(reads)
    );
}

#[test]
fn a_first_batch_of_old_events_cannot_backdate_recording() {
    let now = 1_000 * DAY_MS;
    assert_eq!(recording_since(now - 30 * DAY_MS, now), now - MARKER_LAG_MS);
    assert_eq!(
        recording_since(now - 60_000, now),
        now - 60_000,
        "minutes-old reads are taken"
    );
}

#[test]
fn empty_names_are_refused() {
    for field in ["domainName", "domainOwner", "repositoryName"] {
        let mut v = detail(&download("npm", "web", Some("1.0.0")));
        v["requestParameters"][field] = "".into();
        let e = read(&v).unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
    }
}
