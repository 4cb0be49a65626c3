//! The inner parts that tests, benches and examples reach into, named in one
//! place. Each submodule mirrors a crate-private module and re-exports only
//! what those callers use. Not a stable interface: it changes with the code.

/// Accounting: outcomes → dispositions and the summary.
pub mod account {
    pub use crate::account::{
        account, Disposition, Entry, Line, Reason, RequestResult, Settings, Summary, UnitResult,
    };
}
/// `ALLOWED_TARGETS`.
pub mod allow {
    pub use crate::allow::AllowList;
}
/// Events → requests.
pub mod decode {
    pub use crate::decode::{decode, Accept, Decoded, Event, EventRules, Origin};
}
/// The function's table.
pub mod downloads {
    pub use crate::downloads::{now_ms, Claim, DeliveryTable, Finish};
}
/// Errors and their classes.
pub mod error {
    pub use crate::error::{DeleteError, ErrorClass};
}
/// Outcomes of the service calls.
pub mod execute {
    pub use crate::execute::{Done, ItemOutcome};
}
/// The handler's output.
pub mod handler {
    pub use crate::handler::{HandlerError, Processed};
}
/// Embedded-metric-format lines.
pub mod metrics {
    pub use crate::metrics::{check, names, MetricsConfig, COUNTS};
}
/// The planner.
pub mod plan {
    pub use crate::plan::{items, narrow, retention, Guards, Item, Listed, Package};
}
/// Retention policies.
pub mod policy {
    pub use crate::policy::{KeepRule, RawPolicy, Retention};
}
/// The request contract.
pub mod request {
    pub use crate::request::{Action, Format, Job, RawApply, RawRequest, Service, Target, Verb};
}
/// The retry layer.
pub mod retry {
    pub use crate::retry::{Pacers, Rates, Retrier, RetryPolicy, Tried};
}
/// The SDK configuration.
pub mod sdk {
    pub use crate::sdk::ValidatedOnce;
}
