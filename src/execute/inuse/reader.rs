//! The read-only IoT calls behind a usage check: GetIndexingConfiguration
//! and the jobs (each at most once per invocation, kept in [`UsageReads`]
//! and what outlives it in its [`super::Memory`]), and one SearchIndex per
//! version asked about.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iot::types::JobStatus;
use aws_sdk_iot::Client;
use futures::future::join_all;

use super::{
    indexing_of, installed_query, package_version_of, usage_of, Described, Indexing, JobIndex,
    JobRef, UsageReads,
};
use crate::error::DeleteError;
use crate::execute::{api_error, not_found, paginate, CallContext};
use crate::plan::Usage;
use crate::request::Service;
use crate::retry::QuotaClass;

/// The fleet index holding things.
const THINGS_INDEX: &str = "AWS_Things";
/// Things read per search: enough to say "in use"; more pages would only
/// sharpen the count.
const SEARCH_PAGE: i32 = 100;
/// ListJobs' largest page.
const JOBS_PAGE: i32 = 250;

/// Reads what is in use through an IoT client; what is read once per
/// invocation goes in the [`UsageReads`] each call is given.
#[derive(Clone, Copy, Debug)]
pub struct InUseReader<'c> {
    client: &'c Client,
}

impl<'c> InUseReader<'c> {
    pub fn new(client: &'c Client) -> Self {
        InUseReader { client }
    }

    /// The usage of each of `versions` of `package`. A failed read fails
    /// the whole answer: a protection that could not look is no protection.
    pub async fn usage(
        &self,
        package: &str,
        versions: &[String],
        reads: &UsageReads,
        cx: &CallContext<'_>,
    ) -> (Result<BTreeMap<String, Usage>, DeleteError>, u32) {
        let ((indexing, n1), (jobs, n2)) =
            tokio::join!(self.indexing(reads, cx), self.jobs(reads, cx));
        let mut calls = n1 + n2;
        let (indexing, jobs) = match (indexing, jobs) {
            (Ok(i), Ok(j)) => (i, j),
            (Err(e), _) | (_, Err(e)) => return (Err(e), calls),
        };
        let searched = join_all(versions.iter().map(|v| async {
            match (&indexing, installed_query(package, v)) {
                (Indexing::Missing(why), _) => (Ok(Err(why.clone())), 0),
                (_, Err(why)) => (Ok(Err(why)), 0),
                (Indexing::Package, Ok(q)) => {
                    let (found, n) = self.search(&q, cx).await;
                    (found.map(Ok), n)
                }
            }
        }))
        .await;
        let mut out = BTreeMap::new();
        for (v, (found, n)) in versions.iter().zip(searched) {
            calls += n;
            let things = match found {
                Ok(t) => t,
                Err(e) => return (Err(e), calls),
            };
            let jobs = jobs.get(&(package.to_owned(), v.clone()));
            out.insert(v.clone(), usage_of(things, jobs));
        }
        (Ok(out), calls)
    }

    /// Whether `$package` is indexed: read once per invocation, unless the
    /// execution environment read it less than [`super::INDEXING_TRUST`]
    /// ago.
    async fn indexing(
        &self,
        reads: &UsageReads,
        cx: &CallContext<'_>,
    ) -> (Result<Indexing, DeleteError>, u32) {
        let mut calls = 0;
        let read = reads
            .indexing
            .get_or_try_init(|| async {
                if let Some(known) = reads.memory.indexing() {
                    return Ok(known);
                }
                let (r, n) = cx
                    .retrier
                    .run(QuotaClass::IotSearch, || async {
                        self.client
                            .get_indexing_configuration()
                            .send()
                            .await
                            .map_err(|e| {
                                api_error(Service::Iot, "GetIndexingConfiguration", e, None)
                            })
                    })
                    .await;
                calls = n;
                let indexing = indexing_of(r?.thing_indexing_configuration());
                reads.memory.remember_indexing(&indexing);
                reads.learn(1);
                Ok(indexing)
            })
            .await;
        (read.cloned(), calls)
    }

    /// Every unfinished job's package versions, once per invocation: the
    /// jobs listed (or the listing kept less than
    /// [`super::LISTING_TRUST`] ago), described only if not seen before.
    async fn jobs(
        &self,
        reads: &UsageReads,
        cx: &CallContext<'_>,
    ) -> (Result<Arc<JobIndex>, DeleteError>, u32) {
        let mut calls = 0;
        let read = reads
            .jobs
            .get_or_try_init(|| async {
                let ids = match reads.memory.listing() {
                    Some(ids) => ids,
                    None => {
                        let mut ids = Vec::new();
                        for status in [JobStatus::InProgress, JobStatus::Scheduled] {
                            let (listed, n) = self.list_jobs(status, &mut ids, cx).await;
                            calls += n;
                            listed?;
                        }
                        let ids = Arc::new(ids);
                        reads.memory.remember_listing(ids.clone());
                        ids
                    }
                };
                let (known, n, learned) = reads
                    .memory
                    .destinations(
                        &ids,
                        reads.writes,
                        |id| async move { self.describe_job(&id, cx).await },
                        cx.retrier,
                    )
                    .await;
                calls += n;
                reads.learn(learned);
                let mut index = JobIndex::new();
                for (id, arns) in known? {
                    for pv in arns.iter().filter_map(|a| package_version_of(a)) {
                        index.entry(pv).or_default().insert(id.clone());
                    }
                }
                Ok::<_, DeleteError>(Arc::new(index))
            })
            .await;
        (read.cloned(), calls)
    }

    async fn list_jobs(
        &self,
        status: JobStatus,
        ids: &mut Vec<JobRef>,
        cx: &CallContext<'_>,
    ) -> (Result<(), DeleteError>, u32) {
        paginate(
            cx,
            QuotaClass::IotListJobs,
            |token| {
                let status = status.clone();
                async move {
                    self.client
                        .list_jobs()
                        .status(status)
                        .max_results(JOBS_PAGE)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| api_error(Service::Iot, "ListJobs", e, None))
                }
            },
            |page| {
                ids.extend(page.jobs().iter().filter_map(|j| {
                    let created = j.created_at().and_then(|t| t.to_millis().ok());
                    j.job_id().map(|id| JobRef::new(id, created))
                }));
                page.next_token().map(str::to_owned)
            },
        )
        .await
    }

    /// A job's `destinationPackageVersions`; `None` for a job deleted
    /// since it was listed (it names nothing, and is not kept).
    async fn describe_job(&self, id: &str, cx: &CallContext<'_>) -> Described {
        cx.retrier
            .run(QuotaClass::IotDescribeJob, || async move {
                match self.client.describe_job().job_id(id).send().await {
                    Ok(out) => Ok(Some(
                        out.job()
                            .map(|j| j.destination_package_versions().to_vec())
                            .unwrap_or_default(),
                    )),
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(api_error(Service::Iot, "DescribeJob", e, None)),
                }
            })
            .await
    }

    /// One page of things matching `query`: how many, and whether more.
    async fn search(
        &self,
        query: &str,
        cx: &CallContext<'_>,
    ) -> (Result<(usize, bool), DeleteError>, u32) {
        cx.retrier
            .run(QuotaClass::IotSearch, || async move {
                self.client
                    .search_index()
                    .index_name(THINGS_INDEX)
                    .query_string(query)
                    .max_results(SEARCH_PAGE)
                    .send()
                    .await
                    .map(|out| {
                        (
                            out.things().len(),
                            out.next_token().is_some_and(|t| !t.is_empty()),
                        )
                    })
                    .map_err(|e| api_error(Service::Iot, "SearchIndex", e, None))
            })
            .await
    }
}
