//! What the adapters' unit tests share: a call context of their own.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{CallContext, IotReads, Memory};
use crate::retry::{Pacers, Rates, Retrier, RetryPolicy};

/// Runs `f` with a call context of its own: a minute to the cut-off, the
/// default quotas, nothing read yet.
pub(super) async fn with_cx<T>(f: impl AsyncFnOnce(&CallContext<'_>) -> T) -> T {
    let retrier = Retrier::new(
        RetryPolicy::default(),
        Instant::now() + Duration::from_secs(60),
        4,
        Arc::new(Pacers::new(&Rates::default(), 1)),
    );
    let reads = IotReads::new(Arc::new(Memory::default()), false);
    let cx = CallContext {
        retrier: &retrier,
        iot_reads: &reads,
        domain_reads: &super::DomainReads::default(),
        source: "m-1",
        account: None,
    };
    f(&cx).await
}
