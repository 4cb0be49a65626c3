//! A tiny IoT catalog behind SDK-level mocks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_iot::operation::delete_package::DeletePackageOutput as IotDeletePackageOutput;
use aws_sdk_iot::operation::delete_package_version::DeletePackageVersionOutput;
use aws_sdk_iot::operation::get_package::GetPackageOutput;
use aws_sdk_iot::operation::list_package_versions::ListPackageVersionsOutput;
use aws_sdk_iot::operation::list_packages::ListPackagesOutput;
use aws_sdk_iot::operation::update_package::UpdatePackageOutput;
use aws_sdk_iot::types::PackageVersionSummary;
use aws_smithy_mocks::{mock, MockResponse, Rule};
use serde_json::json;

use super::http_error;

/// A tiny IoT catalog: package → (default version, versions), with the
/// service's rules (no deleting the default; no deleting a package with
/// versions).
/// package → (default version, versions)
type Catalog = BTreeMap<String, (Option<String>, BTreeSet<String>)>;

#[derive(Clone, Default)]
pub struct IotWorld {
    pub packages: Arc<Mutex<Catalog>>,
    pub calls: Arc<Mutex<Vec<String>>>,
    pub tokens: Arc<Mutex<Vec<String>>>,
    /// Things reporting each (package, version) in `$package`.
    pub installed: Arc<Mutex<BTreeMap<(String, String), usize>>>,
    /// Unfinished jobs: id → package-version ARNs.
    pub jobs: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
    /// Fleet indexing does not index `$package`.
    pub unindexed: Arc<Mutex<bool>>,
}

impl IotWorld {
    pub fn with(packages: &[(&str, Option<&str>, &[&str])]) -> Self {
        let w = IotWorld::default();
        for (p, d, vs) in packages {
            w.packages.lock().unwrap().insert(
                p.to_string(),
                (
                    d.map(str::to_owned),
                    vs.iter().map(|v| v.to_string()).collect(),
                ),
            );
        }
        w
    }

    pub fn versions(&self, p: &str) -> Option<Vec<String>> {
        self.packages
            .lock()
            .unwrap()
            .get(p)
            .map(|(_, vs)| vs.iter().cloned().collect())
    }

    pub fn default_of(&self, p: &str) -> Option<String> {
        self.packages
            .lock()
            .unwrap()
            .get(p)
            .and_then(|(d, _)| d.clone())
    }

    pub fn rules(&self) -> Vec<Rule> {
        let not_found = || {
            http_error(
                404,
                "ResourceNotFoundException",
                json!({"message": "no such package"}),
                &[],
            )
        };
        let w = self.clone();
        let get = mock!(aws_sdk_iot::Client::get_package).then_compute_response(move |req| {
            w.calls.lock().unwrap().push("GetPackage".into());
            let p = req.package_name().unwrap();
            match w.packages.lock().unwrap().get(p) {
                Some((d, _)) => MockResponse::Output(
                    GetPackageOutput::builder()
                        .package_name(p)
                        .set_default_version_name(d.clone())
                        .build(),
                ),
                None => MockResponse::Http(not_found()),
            }
        });
        let w = self.clone();
        let list =
            mock!(aws_sdk_iot::Client::list_package_versions).then_compute_output(move |req| {
                w.calls.lock().unwrap().push("ListPackageVersions".into());
                let all = w.versions(req.package_name().unwrap()).unwrap_or_default();
                let start: usize = req.next_token().map_or(0, |t| t.parse().unwrap());
                let size = req.max_results().unwrap_or(25) as usize;
                let mut out = ListPackageVersionsOutput::builder();
                // Created 100 days apart, the last (by name) newest.
                let n = all.len();
                for (i, v) in all.iter().enumerate().skip(start).take(size) {
                    let created = std::time::SystemTime::now()
                        - Duration::from_secs(86_400 * 100 * (n - i) as u64);
                    out = out.package_version_summaries(
                        PackageVersionSummary::builder()
                            .version_name(v)
                            .creation_date(created.into())
                            .build(),
                    );
                }
                if start + size < all.len() {
                    out = out.next_token((start + size).to_string());
                }
                out.build()
            });
        let w = self.clone();
        let update = mock!(aws_sdk_iot::Client::update_package).then_compute_output(move |req| {
            w.calls.lock().unwrap().push("UpdatePackage".into());
            assert_eq!(req.unset_default_version(), Some(true));
            w.tokens
                .lock()
                .unwrap()
                .push(req.client_token().unwrap().to_owned());
            w.packages
                .lock()
                .unwrap()
                .get_mut(req.package_name().unwrap())
                .unwrap()
                .0 = None;
            UpdatePackageOutput::builder().build()
        });
        let w = self.clone();
        let delete_version = mock!(aws_sdk_iot::Client::delete_package_version)
            .then_compute_response(move |req| {
                let (p, v) = (req.package_name().unwrap(), req.version_name().unwrap());
                w.calls
                    .lock()
                    .unwrap()
                    .push(format!("DeletePackageVersion {v}"));
                w.tokens
                    .lock()
                    .unwrap()
                    .push(req.client_token().unwrap().to_owned());
                let mut packages = w.packages.lock().unwrap();
                let (d, vs) = packages.get_mut(p).unwrap();
                if d.as_deref() == Some(v) {
                    return MockResponse::Http(http_error(
                        400,
                        "ValidationException",
                        json!({"message": "default version"}),
                        &[],
                    ));
                }
                vs.remove(v);
                MockResponse::Output(DeletePackageVersionOutput::builder().build())
            });
        let w = self.clone();
        let delete_package =
            mock!(aws_sdk_iot::Client::delete_package).then_compute_response(move |req| {
                w.calls.lock().unwrap().push("DeletePackage".into());
                let mut packages = w.packages.lock().unwrap();
                let p = req.package_name().unwrap();
                if packages.get(p).is_some_and(|(_, vs)| !vs.is_empty()) {
                    return MockResponse::Http(http_error(
                        400,
                        "ValidationException",
                        json!({"message": "versions remain"}),
                        &[],
                    ));
                }
                packages.remove(p);
                MockResponse::Output(IotDeletePackageOutput::builder().build())
            });
        let w = self.clone();
        let list_packages =
            mock!(aws_sdk_iot::Client::list_packages).then_compute_output(move |_| {
                let mut out = ListPackagesOutput::builder();
                for (name, (default, _)) in w.packages.lock().unwrap().iter() {
                    out = out.package_summaries(
                        aws_sdk_iot::types::PackageSummary::builder()
                            .package_name(name)
                            .set_default_version_name(default.clone())
                            .build(),
                    );
                }
                out.build()
            });
        let w = self.clone();
        let get_version =
            mock!(aws_sdk_iot::Client::get_package_version).then_compute_response(move |req| {
                let (p, v) = (req.package_name().unwrap(), req.version_name().unwrap());
                w.calls.lock().unwrap().push(format!("GetPackageVersion {v}"));
                if w.versions(p).unwrap_or_default().iter().any(|x| x == v) {
                    MockResponse::Output(
                        aws_sdk_iot::operation::get_package_version::GetPackageVersionOutput::builder()
                            .package_name(p)
                            .version_name(v)
                            .build(),
                    )
                } else {
                    MockResponse::Http(not_found())
                }
            });
        let mut rules = vec![
            get,
            list,
            update,
            delete_version,
            delete_package,
            list_packages,
            get_version,
        ];
        rules.extend(self.in_use_rules());
        rules
    }

    /// GetIndexingConfiguration, SearchIndex, ListJobs and DescribeJob.
    pub fn in_use_rules(&self) -> Vec<Rule> {
        use aws_sdk_iot::types::{
            IndexingFilter, JobStatus, JobSummary, NamedShadowIndexingMode, ThingDocument,
            ThingIndexingConfiguration, ThingIndexingMode,
        };
        let w = self.clone();
        let indexing = mock!(aws_sdk_iot::Client::get_indexing_configuration).then_compute_output(
            move |_| {
                w.calls.lock().unwrap().push("GetIndexingConfiguration".into());
                let names = if *w.unindexed.lock().unwrap() { "other" } else { "$package" };
                aws_sdk_iot::operation::get_indexing_configuration::GetIndexingConfigurationOutput::builder()
                    .thing_indexing_configuration(
                        ThingIndexingConfiguration::builder()
                            .thing_indexing_mode(ThingIndexingMode::RegistryAndShadow)
                            .named_shadow_indexing_mode(NamedShadowIndexingMode::On)
                            .filter(IndexingFilter::builder().named_shadow_names(names).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
            },
        );
        let w = self.clone();
        let search = mock!(aws_sdk_iot::Client::search_index).then_compute_output(move |req| {
            let q = req.query_string().unwrap();
            w.calls.lock().unwrap().push(format!("SearchIndex {q}"));
            // Terms joined by OR: the things running any of them.
            let n: usize = q
                .split(" OR ")
                .map(|term| {
                    let rest = term.strip_prefix("shadow.name.$package.reported.").unwrap();
                    let (package, version) = rest.split_once(".version:").unwrap();
                    let version = version.trim_matches('"');
                    w.installed
                        .lock()
                        .unwrap()
                        .get(&(package.to_owned(), version.to_owned()))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
            let mut out = aws_sdk_iot::operation::search_index::SearchIndexOutput::builder();
            for i in 0..n {
                out = out.things(
                    ThingDocument::builder()
                        .thing_name(format!("thing-{i}"))
                        .build(),
                );
            }
            out.build()
        });
        let w = self.clone();
        let list_jobs = mock!(aws_sdk_iot::Client::list_jobs).then_compute_output(move |req| {
            w.calls.lock().unwrap().push("ListJobs".into());
            let mut out = aws_sdk_iot::operation::list_jobs::ListJobsOutput::builder();
            if req.status() == Some(&JobStatus::InProgress) {
                for id in w.jobs.lock().unwrap().keys() {
                    out = out.jobs(JobSummary::builder().job_id(id).build());
                }
            }
            out.build()
        });
        let w = self.clone();
        let describe_job =
            mock!(aws_sdk_iot::Client::describe_job).then_compute_output(move |req| {
                let id = req.job_id().unwrap();
                w.calls.lock().unwrap().push(format!("DescribeJob {id}"));
                let arns = w.jobs.lock().unwrap().get(id).cloned().unwrap_or_default();
                aws_sdk_iot::operation::describe_job::DescribeJobOutput::builder()
                    .job(
                        aws_sdk_iot::types::Job::builder()
                            .job_id(id)
                            .set_destination_package_versions(Some(arns))
                            .build(),
                    )
                    .build()
            });
        vec![indexing, search, list_jobs, describe_job]
    }
}

/// The in-use reads of an account where nothing is installed and no job
/// runs, for tests that mock the other IoT calls themselves.
pub fn nothing_in_use() -> Vec<Rule> {
    IotWorld::default().in_use_rules()
}

pub fn refs(rules: &[Rule]) -> Vec<&Rule> {
    rules.iter().collect()
}
