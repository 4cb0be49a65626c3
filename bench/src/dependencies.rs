//! Issue 28's two measurements, run and reported: the backfill of a
//! domain's index of dependencies, and a policy with `protectDependencies`
//! beside the same policy without it. The table is the bench's DynamoDB
//! stand-in at 1, 3 and 10 invocations at once (the headline figures), then
//! moto's DynamoDB once, at [`MOTO_CONCURRENCY`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Result;

use crate::backfill::{self, BackfillRun};
use crate::dynamodb::DEFAULT_LATENCY;
use crate::graph;
use crate::protected::{self, ProtectedRun};
use crate::quotas::LATENCY_MS;
use crate::runtime_api::Delivered;
use crate::table::Kind;
use crate::CONCURRENCY;

/// The invocations at once of the runs on moto.
pub const MOTO_CONCURRENCY: u32 = 1;

/// Which runs of the dependency workloads: `--at-once` (the stand-in's
/// invocations at once, 1, 3 and 10 unless told) and `--no-moto` (the run
/// on moto left out).
#[derive(Debug, Clone)]
pub struct Options {
    pub at_once: Vec<u32>,
    pub moto: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            at_once: CONCURRENCY.to_vec(),
            moto: true,
        }
    }
}

/// The runs on the stand-in, then the one on moto.
fn tables(o: &Options) -> Vec<(u32, Kind)> {
    let mut out: Vec<(u32, Kind)> = o.at_once.iter().map(|c| (*c, Kind::StandIn)).collect();
    if o.moto {
        out.push((MOTO_CONCURRENCY, Kind::Moto));
    }
    out
}

pub async fn backfills(o: &Options) -> Result<Vec<BackfillRun>> {
    let packages = backfill::packages();
    let w = backfill::workload(&packages);
    let expected = graph::expected(&packages);
    let mut out = Vec::new();
    for (concurrent, kind) in tables(o) {
        eprintln!(
            "{}: packprune, {concurrent} at once, {} ...",
            w.name,
            kind.label()
        );
        let (r, _) = backfill::run(&w, &expected, concurrent, kind).await?;
        r.say();
        out.push(r);
    }
    Ok(out)
}

/// The policy runs, and the backfill that made their index.
pub struct Protection {
    pub index: BackfillRun,
    pub index_items: usize,
    pub pinned: usize,
    pub runs: Vec<ProtectedRun>,
}

pub async fn protection(o: &Options) -> Result<Protection> {
    let packages = protected::packages();
    eprintln!("protected: indexing the scope's domain (the function's backfill, 10 at once, stand-in) ...");
    let (index, index_run) = protected::index(&packages).await?;
    index_run.say();
    let off = protected::workload(&packages, false);
    let on = protected::workload(&packages, true);
    let mut runs = Vec::new();
    for (concurrent, kind) in tables(o) {
        let mut variants = vec![(&off, Some(kind)), (&on, Some(kind))];
        if kind == Kind::StandIn {
            variants.insert(0, (&off, None));
        }
        for (w, table) in variants {
            let on_what = table.map_or("no table".to_owned(), Kind::label);
            eprintln!("{}: packprune, {concurrent} at once, {on_what} ...", w.name);
            let r = protected::run(w, concurrent, table, &index).await?;
            r.run.say();
            eprintln!("  DynamoDB: {:?}", r.dynamodb);
            runs.push(r);
        }
    }
    Ok(Protection {
        index: index_run,
        index_items: index.len(),
        pinned: protected::pinned().len(),
        runs,
    })
}

/// One policy run: "× without" against the same table's run without
/// protection, "× no table" against the run without the table.
fn protection_row(
    s: &mut String,
    p: &Protection,
    r: &ProtectedRun,
    ddb_ops: &[String],
) -> std::fmt::Result {
    let over = |base: Option<&ProtectedRun>| {
        base.map_or("-".to_owned(), |x| {
            format!("{:.2}", r.run.wall / x.run.wall)
        })
    };
    let same = |x: &&ProtectedRun| x.run.who == r.run.who && !x.protect;
    let without = (p.runs.iter())
        .find(|x| same(x) && x.table == r.table)
        .filter(|_| r.protect && r.table.is_some());
    let no_table = (p.runs.iter())
        .find(|x| same(x) && x.table.is_none())
        .filter(|_| r.table == Some(Kind::StandIn));
    let cells: Vec<String> = ddb_ops
        .iter()
        .map(|o| r.dynamodb.get(o).copied().unwrap_or(0).to_string())
        .collect();
    let total: u64 = r.dynamodb.values().sum();
    writeln!(s, "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {total} | {} |",
        r.run.who, r.variant(), r.run.versions, r.run.bound, r.run.wall, r.run.ratio(), over(without), over(no_table),
        r.run.calls as f64 / r.run.wall, r.run.throttles, r.run.left_behind, r.run.unrequested_deleted,
        r.run.invocations, r.run.redelivered, mib(r.run.peak_rss_kib), cells.join(" | "))
}

fn mib(k: Option<u64>) -> String {
    k.map_or("-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// Operations in the order of the runs' first calls, as columns.
fn ops<'a>(maps: impl Iterator<Item = &'a std::collections::BTreeMap<String, u64>>) -> Vec<String> {
    let set: BTreeSet<String> = maps.flat_map(|m| m.keys().cloned()).collect();
    set.into_iter().collect()
}

pub fn render_backfill(s: &mut String, runs: &[BackfillRun]) -> std::fmt::Result {
    let Some(first) = runs.first() else {
        return Ok(());
    };
    writeln!(s, "## Dependency backfill\n")?;
    writeln!(s, "`{{\"service\":\"codeartifact\",\"domain\":\"acme\",\"indexDependencies\":true}}` over a domain of {} npm packages (half in the scope `@acme`) of {} versions each (`1.0.0` to `1.1.9`), {} versions in all in `acme/releases`; each version declares 1 to 3 dependencies on other packages of the domain ({} in all, an edge each), as npm writes them (`^1.1.2`, `~1.0.4`, `1.1.3`, `>=1.1.0 <2.0.0`, `1.0.x`; `regular`, `dev`, `peer`, `optional`), seeded in the emulator. The function lists the domain (ListRepositoriesInDomain, ListPackages), records the parts' count and fans out one part per package to the work queue; each part lists its package (ListPackageVersions), reads each version's dependencies (ListPackageVersionDependencies), writes an edge per package depended on and the version's own item (one BatchWriteItem a version), then records itself done (a conditional PutItem of its own item, then GetItem of the count and a Query that counts the parts done); the last part writes the domain's marker (UpdateItem). Each SQS record is also claimed and finished in the table (two conditional UpdateItems).\n",
        backfill::PACKAGES, backfill::VERSIONS, first.versions, first.check.edges)?;
    writeln!(s, "- **Time** runs from the request on the queue to the domain's marker (`dependenciesIndexed`) in the table, polled every 5 ms (200 ms on moto); **drained** is the last acknowledgement. **Bound**: ListPackageVersionDependencies has no quota of its own: it is in the account's read quota with DescribePackageVersion and ListRepositoriesInDomain, `codeartifact.read` 800/s, which the emulator's bucket for that class covers (ListPackageVersions and ListPackages are `codeartifact.list`, 200/s: 1,001 calls, 5 s, under the read bound); the emulator adds {LATENCY_MS} ms to every call. The function's own quota class for both new reads is `codeartifact.read` (`src/execute/codeartifact/depends.rs`).")?;
    writeln!(s, "- **Calls per version**: the emulator's CodeArtifact calls (throttled ones included) and the table's DynamoDB calls, over the {} versions. The least is {:.2} CodeArtifact calls a version (a dependencies read each, a listing per package).", first.versions, (first.versions + 1000 + 2) as f64 / first.versions as f64)?;
    writeln!(s, "- **Index**: every item the function must write (an edge per dependent version and package depended on, with its requirements; each version's own item, listing its edges) is looked for in the table after the run, compared whole; **unexpected** counts index items nobody expected.")?;
    writeln!(s, "- **Table**: the bench's DynamoDB stand-in (`bench/src/dynamodb/`: in the bench process, DynamoDB's awsJson1_0 protocol, items in memory, {} ms a call, no Python), then moto's DynamoDB (Python) once, with {MOTO_CONCURRENCY} invocation, through a pass-through proxy that counts calls.\n", DEFAULT_LATENCY.as_millis())?;
    writeln!(s, "| run | table | bound (s) | bound by | marker written (s) | ratio | drained (s) | parts done | CodeArtifact calls per version | throttles | DynamoDB calls per version | index items found | missing | different | unexpected | invocations | redelivered | to work queue | dead-lettered | peak RSS (MiB) |")?;
    writeln!(
        s,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )?;
    for r in runs {
        backfill_row(s, r)?;
    }
    by_operation(s, runs)?;
    for r in runs.iter().filter(|r| r.table == Kind::Moto) {
        let rss = r.table_rss_kib.map_or("unknown".to_owned(), |k| {
            format!("{:.1} GiB", k as f64 / 1048576.0)
        });
        let how = match &r.marked {
            Ok(m) => format!("wrote the marker at {m:.1} s"),
            Err(e) => format!(
                "was {e}, with {} of {} parts done",
                r.parts_done,
                backfill::PACKAGES
            ),
        };
        writeln!(s, "On moto's DynamoDB the backfill ({}) {how}; moto's resident set was then {rss}. moto (Python, one process) answers a Query by walking every item of the table (moto/dynamodb/models/table.py, `for item in self.all_items()`), so each part's count of the parts done costs more than the last as the table fills; the bench stops a backfill on moto after {} s or past {} GiB.\n", r.who, backfill::MOTO_LIMIT.as_secs(), backfill::MOTO_RSS_LIMIT_KIB >> 20)?;
    }
    Ok(())
}

fn backfill_row(s: &mut String, r: &BackfillRun) -> std::fmt::Result {
    let v = r.versions as f64;
    // A stopped run's calls are not those of the whole backfill.
    let per_version = |n: f64| match r.marked.is_ok() {
        true => format!("{:.3}", n / v),
        false => "-".to_owned(),
    };
    let delivered = |f: fn(&Delivered) -> String| r.delivered.as_ref().map_or("-".to_owned(), f);
    writeln!(s, "| {} | {} | {:.1} | {} | {} | {} | {:.1} | {} of {} | {} | {} | {} | {} of {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        r.who, r.table.label(), r.bound, r.bound_by,
        r.marked.as_ref().map_or_else(|e| format!("**never**: {e}"), |m| format!("{m:.1}")),
        r.ratio().map_or("-".into(), |x| format!("{x:.2}")),
        r.drained, r.parts_done, backfill::PACKAGES,
        per_version(r.codeartifact_calls() as f64), r.throttles, per_version(r.dynamodb_calls() as f64),
        r.check.found, r.check.expected, r.check.missing, r.check.different, r.check.unexpected,
        delivered(|d| d.invocations.to_string()),
        delivered(|d| (d.redelivered + d.errors).to_string()),
        delivered(|d| d.sent_to_work_queue.to_string()),
        delivered(|d| d.dead_letters.len().to_string()),
        mib(r.peak_rss_kib))
}

/// The backfill runs' calls by operation: CodeArtifact's, then DynamoDB's.
fn by_operation(s: &mut String, runs: &[BackfillRun]) -> std::fmt::Result {
    let ca: Vec<std::collections::BTreeMap<String, u64>> = runs
        .iter()
        .map(|r| {
            r.codeartifact
                .iter()
                .map(|(k, v)| (k.clone(), *v as u64))
                .collect()
        })
        .collect();
    let ca_ops = ops(ca.iter());
    let ddb_ops = ops(runs.iter().map(|r| &r.dynamodb));
    writeln!(
        s,
        "\nCalls by operation (CodeArtifact's, throttled included; then DynamoDB's):\n"
    )?;
    writeln!(
        s,
        "| run | table | {} | {} |",
        ca_ops.join(" | "),
        ddb_ops.join(" | ")
    )?;
    writeln!(
        s,
        "|---|---|{}",
        "---|".repeat(ca_ops.len() + ddb_ops.len())
    )?;
    for (r, ca) in runs.iter().zip(&ca) {
        let cells: Vec<String> = (ca_ops.iter().map(|o| ca.get(o).copied().unwrap_or(0)))
            .chain(
                ddb_ops
                    .iter()
                    .map(|o| r.dynamodb.get(o).copied().unwrap_or(0)),
            )
            .map(|n| n.to_string())
            .collect();
        writeln!(
            s,
            "| {} | {} | {} |",
            r.who,
            r.table.label(),
            cells.join(" | ")
        )?;
    }
    writeln!(s)
}

pub fn render_protection(s: &mut String, p: &Protection) -> std::fmt::Result {
    writeln!(s, "## Dependency protection in a policy\n")?;
    writeln!(s, "The scope fan-out workload's policy (keep the latest 2 of each of 1,000 npm packages of 12 versions in `acme/releases`, fanned out one package a message) with `\"protectDependencies\": true`, beside the same policy without it. Every version declares 1 to 3 dependencies on other packages of the domain; in 250 packages the newest version pins an old version of another package (a `regular` dependency on an exact version), so the guard must keep {} versions the policy would otherwise delete; the other requirements (`^1.0.0`, or an exact version as a `dev` dependency) keep nothing beyond the latest 2. The domain is indexed first by the function's own backfill (10 invocations at once, on the stand-in, untimed: {:.1} s to the marker, {} of {} index items found, none unexpected), and its {} index items (edges, the versions' own items, the marker) are loaded into each run's table before the run. With protection, each package's run reads the domain's marker (once per execution environment) and Queries the package's edges beside its listing. With the table, each SQS record is claimed and finished in it, and the versions a run deletes have their edges removed (`remove_many`: a BatchGetItem of their own items, 100 a call, then BatchWriteItem deletes of the edges found and then of the own items, 25 a call), with or without protection.\n",
        p.pinned, p.index.marked.clone().unwrap_or(f64::NAN), p.index.check.found, p.index.check.expected, p.index_items)?;
    writeln!(s, "- **Time** as in the quota-bound runs (first message on the queue to the last acknowledgement); **bound** likewise (one DeletePackageVersions a package). **× without** is the run's time over that of the same policy without `protectDependencies`, on the same table with the same index, at the same invocations at once (issue 28's target: at most 1.2); **× no table** is its time over that of the same policy without `protectDependencies` and without the table (the scope fan-out workload above, with these seeds), for the cost of the table and its index together.")?;
    writeln!(s, "- **Left behind** counts versions that had to be deleted and remain; **unrequested** versions that had to stay (with protection, the {} pinned ones too) and are gone. **DynamoDB calls** are the table's, by operation.\n", p.pinned)?;
    let ddb_ops = ops(p.runs.iter().map(|r| &r.dynamodb));
    writeln!(s, "| run | policy, table | versions | bound (s) | wall (s) | ratio | × without | × no table | calls/s | throttles | left behind | unrequested | invocations | redelivered | peak RSS (MiB) | DynamoDB calls | {} |", ddb_ops.join(" | "))?;
    writeln!(
        s,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|{}",
        "---|".repeat(ddb_ops.len())
    )?;
    for r in &p.runs {
        protection_row(s, p, r, &ddb_ops)?;
    }
    writeln!(s)
}
