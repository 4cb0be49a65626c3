//! The quota classes: the groups of operations a service rate-limits
//! together, their names (as in `RATE_LIMITS` and the metrics) and default
//! quotas, and the configured [`Rates`] of every class.

use crate::request::Service;

/// A quota the service enforces on a group of operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuotaClass {
    /// DeletePackageVersions, DeletePackage, UpdatePackageVersionsStatus:
    /// CodeArtifact's "write requests per second, one account".
    CodeArtifactWrite,
    /// ListPackageVersions, ListPackages.
    CodeArtifactList,
    /// DescribePackageVersion, ListPackageVersionDependencies,
    /// ListRepositoriesInDomain, ListAssociatedPackages and
    /// GetAssociatedPackageGroup: "read requests per second, one account"
    /// (all but the first have no quota of their own).
    CodeArtifactRead,
    /// ListPackageVersionAssets (`measureStorage`): its own 200 a second
    /// (Service Quotas L-3072382D).
    CodeArtifactAssets,
    /// DeletePackageVersion, DeletePackage, UpdatePackage,
    /// UpdatePackageVersion: the software package catalog's writes.
    IotWrite,
    /// GetPackage, GetPackageVersion, ListPackageVersions, ListPackages:
    /// the software package catalog's reads.
    IotRead,
    /// Fleet indexing's SearchIndex (and the one GetIndexingConfiguration
    /// an invocation makes): 15 a second (Service Quotas L-908D0FBE).
    IotSearch,
    /// Jobs' ListJobs: 10 a second (L-145FD0E6).
    IotListJobs,
    /// Jobs' DescribeJob: 10 a second (L-609D00CE).
    IotDescribeJob,
    /// The downloads table's reads for `notDownloadedForDays` (DynamoDB
    /// Query and GetItem).
    DownloadsRead,
    /// The downloads table's writes from read events (DynamoDB UpdateItem).
    DownloadsWrite,
}

impl QuotaClass {
    pub(crate) const ALL: [QuotaClass; 11] = [
        QuotaClass::CodeArtifactWrite,
        QuotaClass::CodeArtifactList,
        QuotaClass::CodeArtifactRead,
        QuotaClass::CodeArtifactAssets,
        QuotaClass::IotWrite,
        QuotaClass::IotRead,
        QuotaClass::IotSearch,
        QuotaClass::IotListJobs,
        QuotaClass::IotDescribeJob,
        QuotaClass::DownloadsRead,
        QuotaClass::DownloadsWrite,
    ];

    pub(crate) fn service(self) -> Service {
        match self {
            // The downloads table serves CodeArtifact's retention.
            QuotaClass::CodeArtifactWrite
            | QuotaClass::CodeArtifactList
            | QuotaClass::CodeArtifactRead
            | QuotaClass::CodeArtifactAssets
            | QuotaClass::DownloadsRead
            | QuotaClass::DownloadsWrite => Service::CodeArtifact,
            QuotaClass::IotWrite
            | QuotaClass::IotRead
            | QuotaClass::IotSearch
            | QuotaClass::IotListJobs
            | QuotaClass::IotDescribeJob => Service::Iot,
        }
    }

    /// The function's own table (`DOWNLOADS_TABLE`), not the service's
    /// quota: its calls never wait on a starved service's turn, nor count
    /// toward its strain.
    pub(crate) fn is_table(self) -> bool {
        matches!(self, QuotaClass::DownloadsRead | QuotaClass::DownloadsWrite)
    }

    /// The class of the service's deletes and status changes.
    pub(crate) fn is_write(self) -> bool {
        matches!(self, QuotaClass::CodeArtifactWrite | QuotaClass::IotWrite)
    }

    /// The name used in `RATE_LIMITS` and in metrics.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            QuotaClass::CodeArtifactWrite => "codeartifact.write",
            QuotaClass::CodeArtifactList => "codeartifact.list",
            QuotaClass::CodeArtifactRead => "codeartifact.read",
            QuotaClass::CodeArtifactAssets => "codeartifact.assets",
            QuotaClass::IotWrite => "iot.write",
            QuotaClass::IotRead => "iot.read",
            QuotaClass::IotSearch => "iot.search",
            QuotaClass::IotListJobs => "iot.jobs.list",
            QuotaClass::IotDescribeJob => "iot.jobs.describe",
            QuotaClass::DownloadsRead => "downloads.read",
            QuotaClass::DownloadsWrite => "downloads.write",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<QuotaClass> {
        QuotaClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The default quota, calls per second per account: the published
    /// defaults. CodeArtifact: 100 writes, 200 list calls, 200 asset
    /// listings, 800 reads (user guide, "Quotas in AWS CodeArtifact"). IoT: SearchIndex 15, ListJobs
    /// 10, DescribeJob 10 (General Reference, "AWS IoT Device Management
    /// endpoints and quotas"). IoT publishes no rate for the software
    /// package catalog's APIs; 10 a second is a safe guess, to be raised in
    /// `RATE_LIMITS` where the account's Service Quotas say more. The
    /// downloads table is on-demand: DynamoDB's per-partition limits (3,000
    /// reads and 1,000 writes a second, "Service, account, and table quotas
    /// in Amazon DynamoDB") bound a package's key, so 1,000 a second each.
    pub(crate) fn default_rate(self) -> f64 {
        match self {
            QuotaClass::CodeArtifactWrite => 100.0,
            QuotaClass::CodeArtifactList | QuotaClass::CodeArtifactAssets => 200.0,
            QuotaClass::CodeArtifactRead => 800.0,
            QuotaClass::IotWrite | QuotaClass::IotRead => 10.0,
            QuotaClass::IotSearch => 15.0,
            QuotaClass::IotListJobs | QuotaClass::IotDescribeJob => 10.0,
            QuotaClass::DownloadsRead | QuotaClass::DownloadsWrite => 1000.0,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for QuotaClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The quotas (calls per second, per account) of every class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates([f64; QuotaClass::ALL.len()]);

impl Default for Rates {
    fn default() -> Self {
        Rates(QuotaClass::ALL.map(QuotaClass::default_rate))
    }
}

impl Rates {
    pub(crate) fn get(&self, class: QuotaClass) -> f64 {
        self.0[class.index()]
    }

    pub(crate) fn set(&mut self, class: QuotaClass, rate: f64) {
        self.0[class.index()] = rate;
    }
}
