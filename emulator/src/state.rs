//! The emulator's state: CodeArtifact domains, repositories, packages and
//! versions; IoT packages and versions; and the fault configuration. The
//! same JSON shape seeds the emulator, and the admin endpoint returns it.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

pub const DEFAULT_ACCOUNT: &str = "111122223333";
pub const DEFAULT_REGION: &str = "us-east-1";

fn default_account() -> String {
    DEFAULT_ACCOUNT.into()
}
fn default_region() -> String {
    DEFAULT_REGION.into()
}
fn published() -> String {
    "Published".into()
}
fn internal() -> String {
    "INTERNAL".into()
}
fn iot_published() -> String {
    "PUBLISHED".into()
}
fn yes() -> bool {
    true
}

/// Seconds since the epoch, now.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// A timestamp given as epoch seconds or as an RFC 3339 string.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ts {
        Seconds(f64),
        Text(String),
    }
    match Option::<Ts>::deserialize(d)? {
        None => Ok(None),
        Some(Ts::Seconds(s)) => Ok(Some(s)),
        Some(Ts::Text(t)) => {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                .map(|dt| Some(dt.unix_timestamp_nanos() as f64 / 1e9))
                .map_err(|e| {
                    serde::de::Error::custom(format!("{t:?} is not an RFC 3339 time: {e}"))
                })
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct State {
    #[serde(default = "default_account")]
    pub account_id: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub codeartifact: CodeArtifactState,
    #[serde(default)]
    pub iot: IotState,
    /// Fault injection, keyed `service:Operation`, `service:*` or `*`.
    #[serde(default)]
    pub faults: BTreeMap<String, Fault>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeArtifactState {
    #[serde(default)]
    pub domains: BTreeMap<String, Domain>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Domain {
    /// The owning account; defaults to the state's account.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub repositories: BTreeMap<String, Repository>,
    /// The domain's package groups (`groups::PackageGroup`), beside the
    /// root group `/*` every domain has, seeded or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_groups: Vec<crate::groups::PackageGroup>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Repository {
    /// ListRepositoriesInDomain's `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The account that administers it; defaults to the domain's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrator_account: Option<String>,
    /// `createdTime` (epoch seconds, or RFC 3339 in a seed); by default
    /// when its first seeded version was published, else the load time.
    #[serde(default, deserialize_with = "timestamp")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<f64>,
    /// DescribeRepository's `upstreams`: repositories of the same domain,
    /// in the order CodeArtifact searches them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<String>,
    /// DescribeRepository's `externalConnections`, by name
    /// (`public:npmjs`); at most one (`repositories::EXTERNAL_CONNECTIONS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_connections: Vec<String>,
    #[serde(default)]
    pub packages: Vec<CaPackage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaPackage {
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    /// DescribePackageVersion's `displayName`: the name as first published
    /// (seeded); `package` holds the normalised name (`names`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What ListPackageVersions reports as `defaultDisplayVersion` (npm's
    /// `latest` dist-tag); by default the most recently published version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_display_version: Option<String>,
    #[serde(default)]
    pub versions: Vec<CaVersion>,
}

impl CaPackage {
    pub fn is(&self, format: &str, namespace: Option<&str>, package: &str) -> bool {
        self.format == format && self.namespace.as_deref() == namespace && self.package == package
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaVersion {
    pub version: String,
    #[serde(default = "published")]
    pub status: String,
    #[serde(default)]
    pub revision: Option<String>,
    /// Epoch seconds (or RFC 3339 in a seed).
    #[serde(default, deserialize_with = "timestamp")]
    pub published_time: Option<f64>,
    /// Seed convenience: published this many days before the emulator starts.
    #[serde(default, skip_serializing)]
    pub published_days_ago: Option<f64>,
    #[serde(default = "internal")]
    pub origin_type: String,
    /// When false, DeletePackageVersions answers NOT_ALLOWED for this
    /// version (an emulator switch for testing permanent failures).
    #[serde(default = "yes")]
    pub delete_allowed: bool,
    /// What ListPackageVersionDependencies answers, as its metadata
    /// declares them (`dependencies::Dependency`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<crate::dependencies::Dependency>,
    /// What ListPackageVersionAssets answers (`assets::Asset`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<crate::assets::Asset>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IotState {
    #[serde(default)]
    pub packages: BTreeMap<String, IotPackage>,
    /// Fleet indexing's configuration. The emulator starts with `$package`
    /// indexed (a real account starts with indexing off): seed
    /// `{"thingIndexingMode": "OFF"}` to test without it.
    #[serde(default)]
    pub indexing: Indexing,
    /// Things, by name, with what their reserved named shadow `$package`
    /// reports: package name → version.
    #[serde(default)]
    pub things: BTreeMap<String, BTreeMap<String, String>>,
    /// Jobs, by id.
    #[serde(default)]
    pub jobs: BTreeMap<String, IotJob>,
}

fn registry_and_shadow() -> String {
    "REGISTRY_AND_SHADOW".into()
}
fn on() -> String {
    "ON".into()
}
fn package_shadow() -> Vec<String> {
    vec!["$package".into()]
}

/// GetIndexingConfiguration's `thingIndexingConfiguration`, the members
/// packprune reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Indexing {
    #[serde(default = "registry_and_shadow")]
    pub thing_indexing_mode: String,
    #[serde(default = "on")]
    pub named_shadow_indexing_mode: String,
    #[serde(default = "package_shadow")]
    pub named_shadow_names: Vec<String>,
}

impl Default for Indexing {
    fn default() -> Self {
        Indexing {
            thing_indexing_mode: registry_and_shadow(),
            named_shadow_indexing_mode: on(),
            named_shadow_names: package_shadow(),
        }
    }
}

impl Indexing {
    /// Whether searches see the `$package` shadow.
    pub fn indexes_packages(&self) -> bool {
        self.thing_indexing_mode != "OFF"
            && self.named_shadow_indexing_mode == "ON"
            && self.named_shadow_names.iter().any(|n| n == "$package")
    }
}

fn in_progress() -> String {
    "IN_PROGRESS".into()
}

/// A job: its status and the package versions it deploys (ARNs, as
/// DescribeJob's `destinationPackageVersions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IotJob {
    #[serde(default = "in_progress")]
    pub status: String,
    #[serde(default)]
    pub destination_package_versions: Vec<String>,
    /// `createdAt` (seconds since the epoch); the seed's load time when the
    /// seed leaves it out. A job id can be reused once its job is deleted
    /// (DeleteJob), so a job is the id and this.
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IotPackage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version: Option<String>,
    #[serde(default, deserialize_with = "timestamp")]
    pub creation_date: Option<f64>,
    #[serde(default, deserialize_with = "timestamp")]
    pub last_modified_date: Option<f64>,
    #[serde(default)]
    pub versions: BTreeMap<String, IotVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IotVersion {
    #[serde(default = "iot_published")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "timestamp")]
    pub creation_date: Option<f64>,
    /// Seed convenience: created this many days before the emulator starts.
    #[serde(default, skip_serializing)]
    pub created_days_ago: Option<f64>,
    #[serde(default, deserialize_with = "timestamp")]
    pub last_modified_date: Option<f64>,
}

/// Faults for one operation (or a service, or everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Token-bucket throttling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// Fraction of calls answered with a 500 InternalServerException.
    #[serde(default)]
    pub error_rate: f64,
    /// Added latency per call.
    #[serde(default)]
    pub latency_ms: u64,
    /// Up to this many milliseconds more, uniformly at random.
    #[serde(default)]
    pub latency_jitter_ms: u64,
    /// Fraction of calls whose connection is dropped without a response,
    /// before the work.
    #[serde(default)]
    pub drop_rate: f64,
    /// Fraction of calls whose connection is dropped after the work is
    /// done: the caller sees a failure, but the service acted.
    #[serde(default)]
    pub drop_after_rate: f64,
    /// Fraction of calls throttled whatever the rate (CodeArtifact with a
    /// `Retry-After` of 1 s, IoT without a hint), beside `throttle`.
    #[serde(default)]
    pub throttle_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Throttle {
    /// Tokens added per second.
    pub rate_per_second: f64,
    /// Bucket size (and the tokens it starts with).
    pub burst: f64,
    /// The `Retry-After` CodeArtifact sends; by default the seconds until a
    /// token is back, rounded up. IoT sends no hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// The bucket's name: faults that name the same bucket share its tokens,
    /// as operations share a quota ("write requests per second"). By
    /// default each fault key has a bucket of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
}

impl State {
    /// Reads a seed, resolving relative times against now and filling
    /// revisions and dates the seed left out.
    pub fn from_seed(json: &str) -> Result<State, serde_json::Error> {
        let mut s: State = serde_json::from_str(json)?;
        s.check()
            .map_err(<serde_json::Error as serde::de::Error>::custom)?;
        s.normalize(now());
        Ok(s)
    }

    /// What the types cannot say of a seed: the model's constraints on
    /// assets and package groups, and upstreams and external connections
    /// that exist.
    pub fn check(&self) -> Result<(), String> {
        for (name, d) in &self.codeartifact.domains {
            let at = |e: String| format!("domain {name}: {e}");
            crate::groups::check(&d.package_groups).map_err(at)?;
            for (r, repo) in &d.repositories {
                crate::repositories::check(d, r, repo).map_err(at)?;
                let versions = repo.packages.iter().flat_map(|p| &p.versions);
                for a in versions.flat_map(|v| &v.assets) {
                    crate::assets::check(a).map_err(at)?;
                }
            }
        }
        Ok(())
    }

    pub fn normalize(&mut self, now: f64) {
        const DAY: f64 = 86_400.0;
        let account = self.account_id.clone();
        for job in self.iot.jobs.values_mut() {
            job.created_at.get_or_insert(now);
        }
        for domain in self.codeartifact.domains.values_mut() {
            let owner = domain.owner.get_or_insert_with(|| account.clone()).clone();
            // Undocumented: a seeded group's `createdTime`, by default the
            // seed's load time.
            for g in &mut domain.package_groups {
                g.created_time.get_or_insert(now);
            }
            for repo in domain.repositories.values_mut() {
                repo.administrator_account
                    .get_or_insert_with(|| owner.clone());
                for pkg in &mut repo.packages {
                    let n = pkg.versions.len();
                    for (i, v) in pkg.versions.iter_mut().enumerate() {
                        if v.published_time.is_none() {
                            // Listed oldest first: one day apart, ending now.
                            let days = v.published_days_ago.unwrap_or((n - 1 - i) as f64);
                            v.published_time = Some(now - days * DAY);
                        }
                        v.published_days_ago = None;
                    }
                }
                let versions = repo.packages.iter().flat_map(|p| &p.versions);
                let first = versions
                    .filter_map(|v| v.published_time)
                    .fold(now, f64::min);
                repo.created_time.get_or_insert(first);
                // Stored as CodeArtifact stores them, before the revisions.
                crate::names::normalize_packages(&mut repo.packages);
                for pkg in &mut repo.packages {
                    for v in &mut pkg.versions {
                        v.revision
                            .get_or_insert_with(|| revision(&pkg.package, &v.version));
                    }
                }
            }
        }
        for pkg in self.iot.packages.values_mut() {
            let mut oldest = now;
            for v in pkg.versions.values_mut() {
                if v.creation_date.is_none() {
                    v.creation_date = Some(now - v.created_days_ago.unwrap_or(0.0) * DAY);
                }
                v.created_days_ago = None;
                v.last_modified_date
                    .get_or_insert(v.creation_date.unwrap_or(now));
                oldest = oldest.min(v.creation_date.unwrap_or(now));
            }
            pkg.creation_date.get_or_insert(oldest);
            pkg.last_modified_date.get_or_insert(now);
        }
    }
}

/// A stable, opaque revision for a version.
pub fn revision(package: &str, version: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in package.bytes().chain([0]).chain(version.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("REV{h:016X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_resolves_relative_times_and_fills_revisions() {
        let s = State::from_seed(
            r#"{"codeartifact":{"domains":{"acme":{"repositories":{"releases":{"packages":[
                {"format":"npm","package":"web","versions":[{"version":"1.0.0","publishedDaysAgo":10},{"version":"1.0.1","publishedTime":"2026-01-01T00:00:00Z"}]}]}}}}},
               "iot":{"packages":{"fw":{"defaultVersion":"1","versions":{"1":{"createdDaysAgo":2}}}}}}"#,
        )
        .unwrap();
        let d = &s.codeartifact.domains["acme"];
        assert_eq!(d.owner.as_deref(), Some(DEFAULT_ACCOUNT));
        let v = &d.repositories["releases"].packages[0].versions;
        assert!((now() - v[0].published_time.unwrap() - 864_000.0).abs() < 5.0);
        assert_eq!(v[1].published_time, Some(1_767_225_600.0));
        assert!(v[0].revision.is_some());
        assert!(s.iot.packages["fw"].creation_date.is_some());
    }

    #[test]
    fn unknown_seed_fields_are_refused() {
        assert!(State::from_seed(r#"{"codeartifact":{"domain":{}}}"#).is_err());
    }
}
