//! The read-only IoT calls behind a usage check: GetIndexingConfiguration
//! and the jobs (each at most once per invocation, kept in [`UsageReads`]
//! and what outlives it in its [`super::Memory`]), and SearchIndex: one
//! per twelve versions asked about, more only for versions in use.

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
use crate::retry::{nth, QuotaClass, Tried};

/// The fleet index holding things.
const THINGS_INDEX: &str = "AWS_Things";
/// Things read per search: enough to say "in use"; more pages would only
/// sharpen the count.
const SEARCH_PAGE: i32 = 100;
/// ListJobs' largest page.
const JOBS_PAGE: i32 = 250;
/// Terms one fleet-indexing query may hold (developer guide, "Query
/// syntax": "The maximum number of terms in a query is 12").
pub(crate) const MOST_TERMS: usize = 12;

/// What a search for one version found: how many things (at most a page),
/// and whether there were more; `Err(why)` when it could not be asked.
type Things = Result<(usize, bool), String>;

/// Reads what is in use through an IoT client; what is read once per
/// invocation goes in the [`UsageReads`] each call is given.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InUseReader<'c> {
    client: &'c Client,
}

impl<'c> InUseReader<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        InUseReader { client }
    }

    /// The usage of each of `versions` of `package`. A failed read fails
    /// the whole answer: a protection that could not look is no protection.
    pub(crate) async fn usage(
        &self,
        package: &str,
        versions: &[String],
        reads: &UsageReads,
        cx: &CallContext<'_>,
    ) -> Tried<BTreeMap<String, Usage>> {
        let (
            Tried {
                result: indexing,
                calls: n1,
            },
            Tried {
                result: jobs,
                calls: n2,
            },
        ) = tokio::join!(self.indexing(reads, cx), self.jobs(reads, cx));
        let mut calls = n1 + n2;
        let (indexing, jobs) = match (indexing, jobs) {
            (Ok(i), Ok(j)) => (i, j),
            (Err(e), _) | (_, Err(e)) => return Tried::new(Err(e), calls),
        };
        let Tried {
            result: searched,
            calls: n,
        } = match &indexing {
            Indexing::Missing(why) => {
                Tried::free(versions.iter().map(|_| Err(why.clone())).collect())
            }
            Indexing::Package => self.installed(package, versions, cx).await,
        };
        calls += n;
        let searched: Vec<_> = match searched {
            Ok(s) => s,
            Err(e) => return Tried::new(Err(e), calls),
        };
        let mut out = BTreeMap::new();
        for (v, things) in versions.iter().zip(searched) {
            let jobs = jobs.get(&(package.to_owned(), v.clone()));
            out.insert(v.clone(), usage_of(things, jobs));
        }
        Tried::new(Ok(out), calls)
    }

    /// The things running each of `versions`, in order: one SearchIndex
    /// per [`MOST_TERMS`] versions, their terms joined by `OR`. A search
    /// that finds nothing answers for every version in it (the usual case:
    /// versions a policy selects are old); one that finds things is asked
    /// again per version, to say which. `Err(why)` for a version no query
    /// can name.
    async fn installed(
        &self,
        package: &str,
        versions: &[String],
        cx: &CallContext<'_>,
    ) -> Tried<Vec<Things>> {
        let queries: Vec<Result<String, String>> = versions
            .iter()
            .map(|v| installed_query(package, v))
            .collect();
        let askable: Vec<usize> = (0..versions.len())
            .filter(|&i| queries[i].is_ok())
            .collect();
        let searched = join_all(askable.chunks(MOST_TERMS).enumerate().map(|(k, chunk)| {
            let query = |i: usize| queries[i].as_deref().unwrap_or_default();
            nth(k, async move {
                let joined: Vec<&str> = chunk.iter().map(|&i| query(i)).collect();
                let Tried {
                    result: found,
                    calls: n,
                } = self.search(&joined.join(" OR "), cx).await;
                match found {
                    Err(e) => (Err(e), n),
                    Ok((0, _)) => (Ok(chunk.iter().map(|&i| (i, (0, false))).collect()), n),
                    Ok(t) if chunk.len() == 1 => (Ok(vec![(chunk[0], t)]), n),
                    Ok(_) => {
                        let each = join_all(chunk.iter().map(|&i| async move {
                            let Tried {
                                result: f,
                                calls: n,
                            } = self.search(query(i), cx).await;
                            (f.map(|t| (i, t)), n)
                        }))
                        .await;
                        let n = n + each.iter().map(|(_, n)| n).sum::<u32>();
                        (each.into_iter().map(|(f, _)| f).collect(), n)
                    }
                }
            })
        }))
        .await;
        let mut calls = 0;
        // Every askable version is answered below; none is taken as unused
        // for want of an answer.
        let mut out: Vec<Things> = queries
            .into_iter()
            .map(|q| q.and(Err("not searched".to_owned())))
            .collect();
        for (found, n) in searched {
            calls += n;
            match found {
                Ok(found) => found.into_iter().for_each(|(i, t)| out[i] = Ok(t)),
                Err(e) => return Tried::new(Err(e), calls),
            }
        }
        Tried::new(Ok(out), calls)
    }

    /// Whether `$package` is indexed: read once per invocation, unless the
    /// execution environment read it less than [`super::memory::INDEXING_TRUST`]
    /// ago.
    async fn indexing(&self, reads: &UsageReads, cx: &CallContext<'_>) -> Tried<Indexing> {
        let mut calls = 0;
        let read = reads
            .indexing
            .get_or_try_init(|| async {
                if let Some(known) = reads.memory.indexing() {
                    return Ok(known);
                }
                let Tried {
                    result: r,
                    calls: n,
                } = cx
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
        Tried::new(read.cloned(), calls)
    }

    /// Every unfinished job's package versions, once per invocation: the
    /// jobs listed (or the listing kept less than
    /// [`super::memory::LISTING_TRUST`] ago), described only if not seen before.
    async fn jobs(&self, reads: &UsageReads, cx: &CallContext<'_>) -> Tried<Arc<JobIndex>> {
        let mut calls = 0;
        let read = reads
            .jobs
            .get_or_try_init(|| async {
                let ids = match reads.memory.listing() {
                    Some(ids) => ids,
                    None => {
                        let mut ids = Vec::new();
                        for status in [JobStatus::InProgress, JobStatus::Scheduled] {
                            let Tried {
                                result: listed,
                                calls: n,
                            } = self.list_jobs(status, &mut ids, cx).await;
                            calls += n;
                            listed?;
                        }
                        let ids = Arc::new(ids);
                        reads.memory.remember_listing(ids.clone());
                        ids
                    }
                };
                let (known, learned) = reads
                    .memory
                    .destinations(
                        &ids,
                        reads.writes,
                        |id| async move { self.describe_job(&id, cx).await },
                        cx.retrier,
                    )
                    .await;
                calls += known.calls;
                reads.learn(learned);
                let mut index = JobIndex::new();
                for (id, arns) in known.result? {
                    for pv in arns.iter().filter_map(|a| package_version_of(a)) {
                        index.entry(pv).or_default().insert(id.clone());
                    }
                }
                Ok::<_, DeleteError>(Arc::new(index))
            })
            .await;
        Tried::new(read.cloned(), calls)
    }

    async fn list_jobs(
        &self,
        status: JobStatus,
        ids: &mut Vec<JobRef>,
        cx: &CallContext<'_>,
    ) -> Tried<()> {
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
    async fn search(&self, query: &str, cx: &CallContext<'_>) -> Tried<(usize, bool)> {
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
