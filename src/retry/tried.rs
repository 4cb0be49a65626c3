//! [`Tried`]: a result and the calls it took, travelling together.

use crate::error::DeleteError;

/// What a call (or a run of calls) came to, and how many requests it sent
/// to the service to get there. Every retried call returns one; callers add
/// the calls up with [`Tried::after`] and [`Tried::and`] where a step
/// follows another.
#[derive(Debug)]
#[must_use]
pub struct Tried<T, E = DeleteError> {
    /// The call's result.
    pub result: Result<T, E>,
    /// Requests sent, retries included (a throttled request counts).
    pub calls: u32,
}

impl<T, E> Tried<T, E> {
    /// `result`, reached with `calls` requests.
    pub(crate) fn new(result: Result<T, E>, calls: u32) -> Self {
        Tried { result, calls }
    }

    /// A value reached without a call.
    pub(crate) fn free(value: T) -> Self {
        Tried::new(Ok(value), 0)
    }

    /// The same result, with `earlier` calls made before it counted in.
    pub(crate) fn after(mut self, earlier: u32) -> Self {
        self.calls += earlier;
        self
    }

    /// The value mapped; the calls kept.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Tried<U, E> {
        Tried::new(self.result.map(f), self.calls)
    }

    /// The error mapped; the calls kept.
    pub(crate) fn map_err<F>(self, f: impl FnOnce(E) -> F) -> Tried<T, F> {
        Tried::new(self.result.map_err(f), self.calls)
    }

    /// Runs `next` on the value, counting both calls; an error stops.
    pub(crate) async fn and<U, Fut>(self, next: impl FnOnce(T) -> Fut) -> Tried<U, E>
    where
        Fut: std::future::Future<Output = Tried<U, E>>,
    {
        match self.result {
            Ok(value) => next(value).await.after(self.calls),
            Err(e) => Tried::new(Err(e), self.calls),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_add_up_through_and_and_stop_at_an_error() {
        let first: Tried<u32, &str> = Tried::new(Ok(2), 3);
        let both = first
            .and(|v| async move { Tried::new(Ok(v * 10), 4) })
            .await;
        assert_eq!((both.result, both.calls), (Ok(20), 7));
        let failed: Tried<u32, &str> = Tried::new(Err("no"), 1);
        let stopped = failed.and(|_| async { Tried::new(Ok(0u32), 9) }).await;
        assert_eq!((stopped.result, stopped.calls), (Err("no"), 1));
        assert_eq!(Tried::<u8, ()>::free(1).after(2).map(u16::from).calls, 2);
    }
}
