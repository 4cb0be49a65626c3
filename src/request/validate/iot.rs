//! The IoT side of a request's validation: a package name or a prefix in
//! the software package catalog, and nothing of CodeArtifact's.

use super::IOT_NAME;
use crate::request::checker::Checker;
use crate::request::{InUseCheck, RawRequest, Scope, Target};

impl RawRequest {
    pub(super) fn validate_iot_scope(&self, c: &mut Checker) -> Option<Scope> {
        self.forbid_codeartifact_members(c);
        if let Some(p) = &self.package_prefix {
            c.check("packagePrefix", p, 1, 128, &IOT_NAME);
        }
        Some(Scope::Iot {
            prefix: self.package_prefix.clone(),
        })
    }

    pub(super) fn validate_iot(&self, c: &mut Checker, protect_in_use: bool) -> Option<Target> {
        let package = c.required("package", &self.package);
        self.forbid_codeartifact_members(c);
        if let Some(p) = package {
            c.check("package", p, 1, 128, &IOT_NAME);
        }
        Some(Target::Iot {
            package: package?.to_owned(),
            unset_default_version: self.unset_default(),
            in_use: InUseCheck::of(protect_in_use),
        })
    }
}
