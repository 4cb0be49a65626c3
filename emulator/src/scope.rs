//! What every CodeArtifact package operation reads first: the query
//! members they share (`Scope`), and the domain, repository, package and
//! version those name, looked up as CodeArtifact reads names (`names`).

use crate::names;
use crate::state::{CaPackage, CaVersion, Domain, Repository, State};
use crate::wire::{self, one_of, optional, required, ApiError, Req, Service};

const S: Service = Service::CodeArtifact;

/// The query members every package operation shares.
pub(crate) struct Scope<'a> {
    pub domain: &'a str,
    pub owner: Option<&'a str>,
    pub repository: &'a str,
    pub format: Option<&'a str>,
    /// `namespace` and `package` as CodeArtifact reads them (`names`): what
    /// the request wrote, normalised where the format's page says so.
    pub namespace: Option<String>,
    pub package: Option<String>,
}

pub(crate) fn scope(req: &Req, package_required: bool) -> Result<Scope<'_>, ApiError> {
    let domain = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let repository = required(S, &wire::REPOSITORY, req.q("repository"))?;
    let format = one_of(S, "format", req.q("format"), &wire::FORMATS)?;
    // Undocumented: ListPackages matches `namespace` as a prefix; a Swift
    // one is lowercased like a whole namespace, and without a format none is.
    let namespace = optional(S, &wire::NAMESPACE, req.q("namespace"))?
        .map(|ns| format.map_or_else(|| ns.to_owned(), |f| names::namespace(f, ns)));
    let package = if package_required {
        let Some(format) = format else {
            return Err(ApiError::validation(S, "1 validation error detected: Value null at 'format' failed to satisfy constraint: Member must not be null".into()));
        };
        let given = required(S, &wire::PACKAGE, req.q("package"))?;
        Some(names::name_input(format, given))
    } else {
        None
    };
    Ok(Scope {
        domain,
        owner,
        repository,
        format,
        namespace,
        package,
    })
}

/// The domain a request names (`domain`, and `domain-owner` when given).
pub(crate) fn domain<'s>(
    state: &'s mut State,
    name: &str,
    owner: Option<&str>,
) -> Result<&'s mut Domain, ApiError> {
    state
        .codeartifact
        .domains
        .get_mut(name)
        .filter(|d| owner.is_none() || d.owner.as_deref() == owner)
        .ok_or_else(|| ApiError::ca_not_found("domain", name))
}

pub(crate) fn repository<'s>(
    state: &'s mut State,
    sc: &Scope<'_>,
) -> Result<&'s mut Repository, ApiError> {
    domain(state, sc.domain, sc.owner)?
        .repositories
        .get_mut(sc.repository)
        .ok_or_else(|| ApiError::ca_not_found("repository", sc.repository))
}

pub(crate) fn package_index(repo: &Repository, sc: &Scope<'_>) -> Result<usize, ApiError> {
    let (format, package) = (
        sc.format.unwrap_or_default(),
        sc.package.as_deref().unwrap_or_default(),
    );
    // Undocumented: the error's `resourceId` is the name as read (normalised).
    repo.packages
        .iter()
        .position(|p| p.is(format, sc.namespace.as_deref(), package))
        .ok_or_else(|| ApiError::ca_not_found("package", package))
}

/// The package version a request names (`version`, normalised as
/// `names::version` reads it), in the scope's package.
pub(crate) fn package_version<'s>(
    state: &'s mut State,
    sc: &Scope<'_>,
    req: &Req,
) -> Result<(&'s CaPackage, &'s CaVersion), ApiError> {
    let given = required(S, &wire::PACKAGE_VERSION, req.q("version"))?;
    let version = names::version(sc.format.unwrap_or_default(), given);
    let repo = repository(state, sc)?;
    let pkg = &repo.packages[package_index(repo, sc)?];
    let v = pkg
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| ApiError::ca_not_found("package-version", &version))?;
    Ok((pkg, v))
}
