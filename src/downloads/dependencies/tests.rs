//! The index's keys and items, pure.

use super::write::{grouped, requirement_item};
use super::*;
use crate::service::Format;

fn ui() -> Dependent {
    Dependent {
        key: PackageKey {
            domain_owner: "111122223333".into(),
            domain: "acme".into(),
            format: Format::Npm,
            namespace: Namespace::Named("acme".into()),
            package: "ui".into(),
        },
        repository: "apps".into(),
        version: "3.1.0".into(),
    }
}

/// A dependent's declarations group by the package depended on, in its
/// domain, and its label reads as npm writes it.
#[test]
fn edges_are_keyed_by_the_package_depended_on() {
    let d = |package: &str, ty: &str, req: &str| Declared {
        namespace: Some("acme".into()),
        package: package.into(),
        dependency_type: Some(ty.into()),
        requirement: Some(req.into()),
    };
    let declared = [
        d("core", "regular", "^1.4.0"),
        d("core", "peer", "^1.0.0"),
        d("icons", "dev", "2.0.0"),
    ];
    let g = grouped(&ui(), &declared);
    let keys: Vec<&str> = g.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "depends#111122223333/acme/npm/acme/core",
            "depends#111122223333/acme/npm/acme/icons"
        ]
    );
    assert_eq!(g["depends#111122223333/acme/npm/acme/core"].len(), 2);
    assert_eq!(ui().label(), "@acme/ui@3.1.0 in apps");
    assert_eq!(ui().edge_sort_key(), "apps/acme/ui/3.1.0");
}

/// An edge item reads back as one edge per requirement.
#[test]
fn an_edge_item_reads_back() {
    let item = HashMap::from([
        ("dependent".to_owned(), s("@acme/ui@3.1.0 in apps")),
        ("dependentVersion".to_owned(), s("3.1.0")),
        (
            "requirements".to_owned(),
            AttributeValue::L(vec![requirement_item(&Declared {
                namespace: None,
                package: "core".into(),
                dependency_type: None,
                requirement: Some("[1.1.0, 2.0.0)".into()),
            })]),
        ),
    ]);
    let edges = edges_of(&item).expect("an edge");
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].dependency_type, None);
    assert_eq!(edges[0].requirement.as_deref(), Some("[1.1.0, 2.0.0)"));
    assert_eq!(edges[0].dependent_version, "3.1.0");
}

/// An item that does not read as an edge is refused, so that the policy
/// fails closed rather than counting it as no dependent.
#[test]
fn a_malformed_edge_does_not_read() {
    let item = HashMap::from([("dependent".to_owned(), s("@acme/ui@3.1.0 in apps"))]);
    assert!(edges_of(&item).is_none());
}
