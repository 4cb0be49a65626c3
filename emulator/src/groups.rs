//! CodeArtifact's package groups: ListPackageGroups, ListAssociatedPackages
//! and GetAssociatedPackageGroup, answered from a domain's seeded
//! `packageGroups` and its root group `/*`, which "every domain in
//! CodeArtifact automatically contains" (the user guide's "Working with
//! package groups in CodeArtifact"). Groups belong to the domain, not to a
//! repository: a group's packages are the domain's, each counted once
//! whichever repositories hold it. Patterns and matching are in `pattern`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::names;
use crate::pattern::{Pattern, Strength, ROOT};
use crate::scope::domain;
use crate::state::{Domain, State};
use crate::wire::{self, int_in, one_of, optional, required, ApiError, Field, Req, Service};

const S: Service = Service::CodeArtifact;

wire::pattern!(GROUP_PATTERN_RE, r"[^\p{C}\s]+");
wire::pattern!(TEXT_RE, r"\P{C}*");
/// The model's `PackageGroupPattern` (its `\p{IsWhitespace}` is Unicode's
/// White_Space, as the regex crate's `\s`).
const PACKAGE_GROUP: Field = Field {
    name: "packageGroup",
    min: 2,
    max: 520,
    pattern: Some(&GROUP_PATTERN_RE),
};
/// ListPackageGroups' `prefix`, a `PackageGroupPatternPrefix`.
const PREFIX: Field = Field {
    name: "prefix",
    min: 0,
    max: 520,
    pattern: Some(&TEXT_RE),
};
const DESCRIPTION: Field = Field {
    name: "description",
    min: 0,
    max: 1000,
    pattern: Some(&TEXT_RE),
};
const CONTACT_INFO: Field = Field {
    name: "contactInfo",
    min: 0,
    max: 1000,
    pattern: Some(&TEXT_RE),
};

/// The page size when a request gives no `maxResults`.
// Undocumented: the API reference names no default; 50 is the emulator's
// other lists'.
const DEFAULT_PAGE_SIZE: i64 = 50;

/// A seeded package group: `{"pattern": "/npm/acme/*", "description":
/// "…", "contactInfo": "…", "createdTime": "2025-06-01T00:00:00Z"}`. Only
/// `pattern` is required. Origin controls are not seeded: every group
/// answers the defaults (`origin_configuration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageGroup {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    /// Epoch seconds (or RFC 3339 in a seed); by default the load time.
    #[serde(default, deserialize_with = "crate::state::timestamp")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<f64>,
}

/// A domain's seeded groups against the model: patterns that parse, each
/// once (a pattern is the group's identifier), texts within their limits.
pub fn check(groups: &[PackageGroup]) -> Result<(), String> {
    for (i, g) in groups.iter().enumerate() {
        wire::check(S, &PACKAGE_GROUP, &g.pattern).map_err(|e| e.message)?;
        Pattern::parse(&g.pattern)?;
        if groups[..i].iter().any(|h| h.pattern == g.pattern) {
            return Err(format!("package group {} is seeded twice", g.pattern));
        }
        for (field, text) in [
            (&DESCRIPTION, &g.description),
            (&CONTACT_INFO, &g.contact_info),
        ] {
            if let Some(t) = text {
                wire::check(S, field, t).map_err(|e| e.message)?;
            }
        }
    }
    Ok(())
}

/// A group as the operations see it: seeded, the implicit root, or (for a
/// preview) the pattern asked about.
struct Group<'a> {
    raw: &'a str,
    pattern: Pattern,
    seeded: Option<&'a PackageGroup>,
}

/// What a group's description needs of its domain.
struct Ctx<'a> {
    region: &'a str,
    domain: &'a str,
    owner: &'a str,
    /// The implicit root's `createdTime`.
    // Undocumented: the emulator's is the domain's oldest repository's (the
    // root is created with the domain, which predates its repositories).
    root_created: Option<f64>,
}

fn ctx<'a>(region: &'a str, name: &'a str, d: &'a Domain) -> Ctx<'a> {
    let oldest = d.repositories.values().filter_map(|r| r.created_time);
    Ctx {
        region,
        domain: name,
        owner: d.owner.as_deref().unwrap_or_default(),
        root_created: oldest.reduce(f64::min),
    }
}

/// The domain's groups, the root among them, by pattern.
// Undocumented: the order; the emulator's is bytewise by pattern.
fn groups(d: &Domain) -> Vec<Group<'_>> {
    let mut all: Vec<Group<'_>> = d
        .package_groups
        .iter()
        .filter_map(|g| {
            let pattern = Pattern::parse(&g.pattern).ok()?;
            Some(Group {
                raw: &g.pattern,
                pattern,
                seeded: Some(g),
            })
        })
        .collect();
    if !all.iter().any(|g| g.raw == ROOT) {
        all.push(Group {
            raw: ROOT,
            pattern: Pattern::root(),
            seeded: None,
        });
    }
    all.sort_by(|a, b| a.raw.cmp(b.raw));
    all
}

/// The group a package is associated with: the most specific that matches
/// it (`Pattern::rank`), and how.
// Undocumented: between two equally specific groups that both match (two
// variations of one name, `/npm//AsyncStorage$` and `/npm//asyncstorage$`),
// the strong match wins, then the first pattern bytewise.
fn associated<'g, 'a>(
    all: &'g [Group<'a>],
    format: &str,
    namespace: Option<&str>,
    name: &str,
) -> Option<(&'g Group<'a>, Strength)> {
    all.iter()
        .filter_map(|g| Some((g, g.pattern.matches(format, namespace, name)?)))
        .max_by(|(a, sa), (b, sb)| {
            (a.pattern.rank(), sa)
                .cmp(&(b.pattern.rank(), sb))
                .then_with(|| b.raw.cmp(a.raw))
        })
}

/// The domain's packages, each once however many repositories hold it:
/// (format, namespace, name), stored (normalised).
// Undocumented: the order; the emulator's is bytewise by format, namespace
// (none first), name. A package whose versions are all deleted still
// counts, as it does in ListPackages.
fn domain_packages(d: &Domain) -> Vec<(&str, Option<&str>, &str)> {
    let mut all: Vec<_> = d
        .repositories
        .values()
        .flat_map(|r| &r.packages)
        .map(|p| {
            (
                p.format.as_str(),
                p.namespace.as_deref(),
                p.package.as_str(),
            )
        })
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// `arn:…:package-group/{domain}{encoded pattern}` (the Service
/// Authorization Reference's `${DomainName}${EncodedPackageGroupPattern}`).
// Undocumented: the encoding. The AWS CloudFormation resource provider's
// tests (software.amazon.codeartifact.packagegroup, ListHandlerTest) show
// `/npm/*` as `/npm/%2a`; the emulator percent-encodes every byte but
// letters, digits, `-._~` and `/`, in lowercase hex.
fn arn(c: &Ctx<'_>, pattern: &str) -> String {
    let encoded: String = pattern
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02x}"),
        })
        .collect();
    format!(
        "arn:aws:codeartifact:{}:{}:package-group/{}{encoded}",
        c.region, c.owner, c.domain
    )
}

fn reference(c: &Ctx<'_>, pattern: &str) -> Value {
    json!({"arn": arn(c, pattern), "pattern": pattern})
}

/// The root "allows package versions to enter repositories in the domain
/// from all origin types by default" (the guide's "Working with package
/// groups"). Origin controls are not seeded, so every group answers that.
// Undocumented: that another group's restrictions default to `INHERIT`, so
// that each takes the root's `ALLOW` (`inheritedFrom` the root).
fn origin_configuration(c: &Ctx<'_>, g: &Group<'_>) -> Value {
    let r = if g.raw == ROOT {
        json!({"mode": "ALLOW", "effectiveMode": "ALLOW"})
    } else {
        json!({"mode": "INHERIT", "effectiveMode": "ALLOW", "inheritedFrom": reference(c, ROOT)})
    };
    json!({"restrictions": {"EXTERNAL_UPSTREAM": r, "INTERNAL_UPSTREAM": r, "PUBLISH": r}})
}

/// A `PackageGroupDescription` (and `PackageGroupSummary`, which has the
/// same members). `parent`: the most specific other group covering it.
fn describe(c: &Ctx<'_>, g: &Group<'_>, all: &[Group<'_>]) -> Value {
    let mut d = json!({"arn": arn(c, g.raw), "pattern": g.raw, "domainName": c.domain,
        "domainOwner": c.owner, "originConfiguration": origin_configuration(c, g)});
    let created = g.seeded.and_then(|s| s.created_time);
    if let Some(t) = created.or(c.root_created.filter(|_| g.raw == ROOT)) {
        d["createdTime"] = json!(t);
    }
    for (k, v) in g
        .seeded
        .map(|s| {
            [
                ("description", &s.description),
                ("contactInfo", &s.contact_info),
            ]
        })
        .into_iter()
        .flatten()
    {
        if let Some(text) = v {
            d[k] = json!(text);
        }
    }
    let parent = all
        .iter()
        .filter(|o| o.raw != g.raw && o.pattern.covers(&g.pattern))
        .max_by_key(|o| o.pattern.rank());
    if let Some(p) = parent {
        d["parent"] = reference(c, p.raw);
    }
    d
}

/// ListAssociatedPackages' answer for a group that does not exist.
// Undocumented: the error's members. The model's `ResourceType` has no
// value for a package group, so the emulator names the pattern in
// `resourceId` and leaves `resourceType` out.
fn group_not_found(pattern: &str) -> ApiError {
    ApiError::new(
        404,
        "ResourceNotFoundException",
        format!("package group {pattern} not found"),
    )
    .member("resourceId", pattern)
}

/// A boolean query member, as botocore writes one.
// Undocumented: how another spelling is answered; the emulator refuses it.
fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(ApiError::validation(
            S,
            format!("Value '{v}' at '{name}' is not a boolean"),
        )),
    }
}

fn page_of(req: &Req) -> Result<(usize, usize), ApiError> {
    let size = int_in(S, "maxResults", req.q("max-results"), 1, 1000)?.unwrap_or(DEFAULT_PAGE_SIZE);
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    Ok((wire::offset_of(S, token)?, size as usize))
}

/// `POST /v1/package-groups`: the domain's groups "with patterns that
/// match the prefix" (the model), the root among them.
// Undocumented: what matching the prefix means; the emulator's is a plain,
// case-sensitive string prefix of the pattern.
pub fn list(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let name = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let prefix = optional(S, &PREFIX, req.q("prefix"))?;
    let (offset, size) = page_of(req)?;
    let region = state.region.clone();
    let d = domain(state, name, owner)?;
    let (c, all) = (ctx(&region, name, d), groups(d));
    let matching: Vec<&Group<'_>> = all
        .iter()
        .filter(|g| prefix.is_none_or(|p| g.raw.starts_with(p)))
        .collect();
    let (page, next) = wire::page(&matching, offset, size);
    let items: Vec<Value> = page.iter().map(|g| describe(&c, g, &all)).collect();
    Ok(wire::with_token(json!({ "packageGroups": items }), next))
}

/// `GET /v1/list-associated-packages`: the domain's packages whose most
/// specific group is `packageGroup`; with `preview`, as if that group
/// existed.
pub fn list_associated(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let name = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let raw = required(S, &PACKAGE_GROUP, req.q("package-group"))?;
    let (offset, size) = page_of(req)?;
    let preview = flag("preview", req.q("preview"))?;
    let requested = Pattern::parse(raw).map_err(|e| ApiError::validation(S, e))?;
    let d = domain(state, name, owner)?;
    let mut all = groups(d);
    if !all.iter().any(|g| g.raw == raw) {
        if !preview {
            return Err(group_not_found(raw));
        }
        all.push(Group {
            raw,
            pattern: requested,
            seeded: None,
        });
    }
    let packages: Vec<Value> = domain_packages(d)
        .into_iter()
        .filter_map(|(format, ns, package)| {
            let (g, strength) = associated(&all, format, ns, package)?;
            (g.raw == raw).then(|| {
                let mut p = json!({"format": format, "package": package, "associationType": strength.as_str()});
                if let Some(ns) = ns {
                    p["namespace"] = json!(ns);
                }
                p
            })
        })
        .collect();
    let (items, next) = wire::page(&packages, offset, size);
    Ok(wire::with_token(json!({ "packages": items }), next))
}

/// `GET /v1/get-associated-package-group`: the group a package (which
/// "does not require that the package exist", the model) is associated
/// with, its name and namespace matched normalised as stored names are.
// Undocumented: a Python name given as published (`Requests_OAuthlib`) is
// normalised here, though the other operations look it up as written.
pub fn get_associated(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let name = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let format = one_of(S, "format", req.q("format"), &wire::FORMATS)?.ok_or_else(|| {
        ApiError::validation(S, "1 validation error detected: Value null at 'format' failed to satisfy constraint: Member must not be null".into())
    })?;
    let namespace =
        optional(S, &wire::NAMESPACE, req.q("namespace"))?.map(|n| names::namespace(format, n));
    let package = names::name(format, required(S, &wire::PACKAGE, req.q("package"))?);
    let region = state.region.clone();
    let d = domain(state, name, owner)?;
    let (c, all) = (ctx(&region, name, d), groups(d));
    let (g, strength) = associated(&all, format, namespace.as_deref(), &package)
        .expect("the root group matches every package");
    Ok(json!({"packageGroup": describe(&c, g, &all), "associationType": strength.as_str()}))
}

#[cfg(test)]
mod tests;
