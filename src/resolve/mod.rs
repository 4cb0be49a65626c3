//! STUB until the resolver branch lands.
use crate::service::Format;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Offered<'a> {
    pub(crate) version: &'a str,
    pub(crate) published: bool,
    pub(crate) latest: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needs {
    Nothing,
    Versions(Vec<String>),
    Unreadable(String),
}

pub(crate) fn needs(
    _format: Format,
    dependency_type: Option<&str>,
    requirement: Option<&str>,
    _dependent_version: &str,
    offered: &[Offered<'_>],
) -> Needs {
    if dependency_type == Some("dev") {
        return Needs::Nothing;
    }
    let Some(r) = requirement else {
        return Needs::Unreadable("empty".into());
    };
    if let Some(o) = offered.iter().find(|o| o.version == r) {
        return Needs::Versions(vec![o.version.to_owned()]);
    }
    if let Some(base) = r.strip_prefix('^') {
        let major = base.split('.').next().unwrap_or("");
        if let Some(o) = offered
            .iter()
            .find(|o| o.published && o.version.split('.').next() == Some(major) && o.version >= base)
        {
            return Needs::Versions(vec![o.version.to_owned()]);
        }
        return Needs::Nothing;
    }
    Needs::Unreadable("stub".into())
}
