//! CloudTrail `ReadFromRepository` records, as EventBridge delivers them to
//! a rule's target: what a package manager's download leaves behind.
//!
//! Built from the one example the CodeArtifact user guide shows ("Logging
//! CodeArtifact API calls with AWS CloudTrail": an unscoped npm tarball
//! download): `eventVersion`, `userIdentity`, `eventTime`, `eventSource`,
//! `eventName`, `awsRegion`, `sourceIPAddress`, `userAgent`,
//! `requestParameters` (`domainName`, `domainOwner`, `repositoryName`,
//! `packageName`, `packageFormat`, `packageVersion`), `responseElements`
//! (null), `additionalEventData` (`httpMethod`, `requestUri`),
//! `requestID`, `eventID`, `readOnly`, `eventType`, `recipientAccountId`;
//! wrapped in EventBridge's envelope with detail-type `AWS API Call via
//! CloudTrail` and source `aws.codeartifact` (EventBridge user guide,
//! "Events from AWS services delivered via CloudTrail").
//!
//! Undocumented, and so only produced when asked for: a namespace field
//! (the guide's example is unscoped), and what a metadata read (no version)
//! carries; here a metadata read simply has no `packageVersion`.

use serde_json::{json, Value};

/// One download, as a package manager makes it.
#[derive(Debug, Clone)]
pub struct Download<'a> {
    pub domain_owner: &'a str,
    pub domain: &'a str,
    pub repository: &'a str,
    pub format: &'a str,
    /// A namespace as the package manager writes it (npm: `@scope`); it goes
    /// into the request path, and into a `packageNamespace` field only when
    /// `namespace_field` is set (undocumented).
    pub namespace: Option<&'a str>,
    pub namespace_field: bool,
    pub package: &'a str,
    /// `None`: a metadata read (an npm packument).
    pub version: Option<&'a str>,
    /// RFC 3339, UTC.
    pub time: &'a str,
    /// Makes `eventID` and `requestID` unique.
    pub seq: u64,
}

/// The request path a package manager sends for this download.
fn request_uri(d: &Download) -> String {
    let name = match (d.format, d.namespace) {
        ("npm", Some(scope)) => format!("{}/{}", scope, d.package),
        (_, Some(ns)) => format!("{ns}/{}", d.package),
        _ => d.package.to_owned(),
    };
    match (d.format, d.version) {
        ("npm", Some(v)) => format!("/npm/{}/{name}/-/{}-{v}.tgz", d.repository, d.package),
        ("npm", None) => format!("/npm/{}/{name}", d.repository),
        (f, Some(v)) => format!("/{f}/{}/{name}/{v}", d.repository),
        (f, None) => format!("/{f}/{}/{name}", d.repository),
    }
}

/// The EventBridge event of one download.
pub fn read_event(d: &Download) -> Value {
    let mut params = json!({
        "domainName": d.domain,
        "domainOwner": d.domain_owner,
        "repositoryName": d.repository,
        "packageName": d.package,
        "packageFormat": d.format,
    });
    if let Some(v) = d.version {
        params["packageVersion"] = json!(v);
    }
    if let (true, Some(ns)) = (d.namespace_field, d.namespace) {
        params["packageNamespace"] = json!(ns);
    }
    let id = format!("{:08x}-0000-4000-8000-{:012x}", d.seq >> 16, d.seq);
    json!({
        "version": "0",
        "id": id,
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.codeartifact",
        "account": d.domain_owner,
        "time": d.time,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:build",
                "accountId": d.domain_owner
            },
            "eventTime": d.time,
            "eventSource": "codeartifact.amazonaws.com",
            "eventName": "ReadFromRepository",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "npm/10.8.2 node/v20.17.0 linux x64",
            "requestParameters": params,
            "responseElements": null,
            "additionalEventData": {
                "httpMethod": "GET",
                "requestUri": request_uri(d)
            },
            "requestID": id,
            "eventID": id,
            "readOnly": true,
            "eventType": "AwsApiCall",
            "recipientAccountId": d.domain_owner
        }
    })
}
