//! `protectDependencies`: keep what a present version of the domain needs.
//! Pure: the edges are read from the function's table by the executor
//! (`execute/dependencies.rs`) and each requirement is resolved by the
//! format's own rules ([`crate::resolve`]).

use std::collections::BTreeMap;

use super::{KeptVersion, Listed};
use crate::policy::KeepRule;
use crate::resolve::{needs, Needs, Offered};
use crate::service::{Format, Status};

/// One dependent's requirement on the package being cleaned: an edge of
/// the index, as the table holds it (names in stored forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    /// Who depends, for the detail: `@acme/ui@3.1.0 in apps`.
    pub(crate) dependent: String,
    /// The dependent's own version (Maven's `${project.version}`).
    pub(crate) dependent_version: String,
    /// `dependencyType` as ListPackageVersionDependencies returns it.
    pub(crate) dependency_type: Option<String>,
    /// `versionRequirement`, as written in the package's metadata.
    pub(crate) requirement: Option<String>,
}

/// What the table tells a policy run of who depends on one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dependents {
    /// The domain's index is complete: every present dependent's
    /// requirements on the package.
    Known(Vec<Edge>),
    /// Fail closed: why the dependents cannot be known (the index is not
    /// complete, or the table cannot be read), and what to run.
    Unknown(String),
}

/// `protectDependencies` as a planning rule, made once per package from
/// its listing: the versions some dependent needs, each with the first
/// requirement that needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DependencyGuard {
    /// Version → who requires it (`@acme/ui@3.1.0 in apps requires ^1.4.0`).
    needed: BTreeMap<String, String>,
    /// Keep every candidate: the first unreadable requirement, quoted, or
    /// why the index cannot be used.
    every: Option<(KeepRule, String)>,
    /// Requirements that could not be read (each keeps every candidate).
    pub(crate) unreadable: u32,
}

impl DependencyGuard {
    /// Resolves every edge against the listing of the package being
    /// cleaned (in `format`). Pure.
    pub(crate) fn of(dependents: &Dependents, listing: &[Listed], format: Format) -> Self {
        let edges = match dependents {
            Dependents::Unknown(why) => {
                return DependencyGuard {
                    every: Some((KeepRule::DependenciesUnknown, why.clone())),
                    ..DependencyGuard::default()
                }
            }
            Dependents::Known(edges) => edges,
        };
        let offered: Vec<Offered<'_>> = listing
            .iter()
            .map(|l| Offered {
                version: &l.name,
                published: l.status == Status::PUBLISHED,
                latest: l.display,
            })
            .collect();
        let mut guard = DependencyGuard::default();
        for e in edges {
            let requirement = e.requirement.as_deref();
            let quoted = format!(
                "{} requires {}",
                e.dependent,
                requirement.map_or("(no requirement)".to_owned(), |r| format!("{r:?}"))
            );
            let need = needs(
                format,
                e.dependency_type.as_deref(),
                requirement,
                &e.dependent_version,
                &offered,
            );
            match need {
                Needs::Nothing => {}
                Needs::Versions(vs) => {
                    for v in vs {
                        guard.needed.entry(v).or_insert_with(|| quoted.clone());
                    }
                }
                Needs::Unreadable(why) => {
                    guard.unreadable += 1;
                    guard.every.get_or_insert_with(|| {
                        let detail = format!(
                            "{quoted}, which cannot be read ({why}): every version is kept"
                        );
                        (KeepRule::DependedOn, detail)
                    });
                }
            }
        }
        guard
    }

    /// Why `version` must stay, if it must: a dependent needs it
    /// (`DEPENDED_ON`, naming the dependent and its requirement), a
    /// requirement cannot be read (`DEPENDED_ON`, quoting it), or the
    /// dependents cannot be known (`DEPENDENCIES_UNKNOWN`). Pure.
    pub(crate) fn keeps(&self, version: &str) -> Option<KeptVersion> {
        let (rule, detail) = match (self.needed.get(version), &self.every) {
            (Some(who), _) => (KeepRule::DependedOn, who.clone()),
            (None, Some((rule, why))) => (*rule, why.clone()),
            (None, None) => return None,
        };
        Some(KeptVersion {
            version: version.to_owned(),
            rule,
            detail: Some(detail),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(dependent: &str, ty: Option<&str>, req: &str) -> Edge {
        Edge {
            dependent: dependent.into(),
            dependent_version: dependent.rsplit('@').next().unwrap_or("").into(),
            dependency_type: ty.map(Into::into),
            requirement: Some(req.into()),
        }
    }

    fn core() -> Vec<Listed> {
        ["2.4.0", "2.3.0", "1.9.0", "1.4.0", "1.2.0", "1.0.0"]
            .iter()
            .enumerate()
            .map(|(i, v)| Listed::new(*v, i))
            .collect()
    }

    /// npm: a caret range keeps its newest satisfying version, an exact
    /// one its version, and a dev dependency nothing.
    #[test]
    fn each_requirement_keeps_what_npm_would_install() {
        let known = Dependents::Known(vec![
            edge("@acme/ui@3.1.0 in apps", Some("regular"), "^1.4.0"),
            edge("@acme/ui@3.0.0 in apps", Some("regular"), "1.2.0"),
            edge("@acme/tool@1.0.0 in apps", Some("dev"), "1.0.0"),
        ]);
        let g = DependencyGuard::of(&known, &core(), Format::Npm);
        let kept: Vec<&str> = ["2.4.0", "2.3.0", "1.9.0", "1.4.0", "1.2.0", "1.0.0"]
            .into_iter()
            .filter(|v| g.keeps(v).is_some())
            .collect();
        assert_eq!(kept, ["1.9.0", "1.2.0"]);
        let k = g.keeps("1.9.0").expect("kept");
        assert_eq!(k.rule, KeepRule::DependedOn);
        assert_eq!(
            k.detail.as_deref(),
            Some("@acme/ui@3.1.0 in apps requires \"^1.4.0\"")
        );
        assert_eq!(g.unreadable, 0);
    }

    /// An unreadable requirement keeps every candidate and is quoted; an
    /// index that cannot be used keeps every candidate, saying why.
    #[test]
    fn what_cannot_be_read_keeps_everything() {
        let known = Dependents::Known(vec![edge("@acme/ui@3.2.0 in apps", None, "next")]);
        let g = DependencyGuard::of(&known, &core(), Format::Npm);
        let k = g.keeps("1.0.0").expect("kept");
        assert_eq!(k.rule, KeepRule::DependedOn);
        assert!(
            k.detail.as_deref().is_some_and(|d| d.contains("\"next\"")),
            "{k:?}"
        );
        assert_eq!(g.unreadable, 1);

        let unknown = Dependents::Unknown("the index is not complete".into());
        let g = DependencyGuard::of(&unknown, &core(), Format::Npm);
        let k = g.keeps("2.4.0").expect("kept");
        assert_eq!(k.rule, KeepRule::DependenciesUnknown);
        assert_eq!(k.detail.as_deref(), Some("the index is not complete"));
    }

    /// No dependent: nothing is kept by this rule.
    #[test]
    fn no_dependent_keeps_nothing() {
        let g = DependencyGuard::of(&Dependents::Known(Vec::new()), &core(), Format::Npm);
        assert!(core().iter().all(|l| g.keeps(&l.name).is_none()));
    }
}
