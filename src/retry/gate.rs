//! Progress before breadth: who goes first when calls wait.
//!
//! Every task of an invocation runs under a [`Priority`]: the delivery's
//! record, then its request, then the version, each an index (lower goes
//! first). A [`Gate`] lets waiters through in priority order (first come,
//! first served among equals), so the first versions of the first request
//! reach their deletes before later requests' reads take the quota, and
//! what the deadline leaves is the work that was never started.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::Notify;

/// Levels of a priority: record, request, version, and one spare.
const LEVELS: usize = 4;

/// Where a task stands: compared level by level, lower first. Levels not
/// set are 0, so a request's own calls (its reads) come before its
/// versions' calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Priority {
    levels: [u16; LEVELS],
    depth: u8,
}

impl Priority {
    /// After every other: a throttled call sent again queues behind the
    /// calls already waiting, as it would first come, first served, so
    /// that a call throttled over and over does not hold back the rest.
    pub(crate) const LAST: Priority = Priority {
        levels: [u16::MAX; LEVELS],
        depth: LEVELS as u8,
    };

    /// The priority of the `index`-th child of this one (indices past
    /// `u16::MAX` share the last).
    pub(crate) fn child(self, index: usize) -> Priority {
        let mut p = self;
        if let Some(level) = p.levels.get_mut(usize::from(p.depth)) {
            *level = u16::try_from(index).unwrap_or(u16::MAX);
            p.depth += 1;
        }
        p
    }

    /// The priority of the running task (the highest when none was set).
    pub(crate) fn current() -> Priority {
        PRIORITY.try_with(|p| *p).unwrap_or_default()
    }
}

tokio::task_local! {
    static PRIORITY: Priority;
}

/// Runs `fut` at [`Priority::LAST`].
pub(crate) async fn behind_all<F: Future>(fut: F) -> F::Output {
    PRIORITY.scope(Priority::LAST, fut).await
}

/// Runs `fut` as the `index`-th child of the running task's priority.
pub(crate) async fn nth<F: Future>(index: usize, fut: F) -> F::Output {
    PRIORITY.scope(Priority::current().child(index), fut).await
}

/// A counting gate whose waiters pass in [`Priority`] order.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    released: Notify,
    tickets: AtomicU64,
}

#[derive(Debug)]
struct GateState {
    free: usize,
    waiting: BTreeSet<(Priority, u64)>,
}

/// A place through a [`Gate`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Pass<'g> {
    gate: &'g Gate,
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.gate.lock().free += 1;
        self.gate.released.notify_waiters();
    }
}

/// A waiter that gave up (its future was dropped) leaves the queue.
struct Waiting<'g> {
    gate: &'g Gate,
    ticket: (Priority, u64),
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.gate.lock().waiting.remove(&self.ticket) {
            // The next in line may be free to go now.
            self.gate.released.notify_waiters();
        }
    }
}

impl Gate {
    /// A gate with `places` places (at least one).
    pub(crate) fn new(places: usize) -> Self {
        Gate {
            state: Mutex::new(GateState {
                free: places.max(1),
                waiting: BTreeSet::new(),
            }),
            released: Notify::new(),
            tickets: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().expect("gate lock")
    }

    /// Waits for a place: the first waiter in priority order takes the
    /// first free one.
    pub(crate) async fn pass(&self, priority: Priority) -> Pass<'_> {
        let ticket = (priority, self.tickets.fetch_add(1, Ordering::Relaxed));
        self.lock().waiting.insert(ticket);
        let mut waiting = Some(Waiting { gate: self, ticket });
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut s = self.lock();
                if s.free > 0 && s.waiting.first() == Some(&ticket) {
                    s.free -= 1;
                    s.waiting.remove(&ticket);
                    drop(s);
                    std::mem::forget(waiting.take());
                    // Another place may be free for the next in line.
                    self.released.notify_waiters();
                    return Pass { gate: self };
                }
            }
            released.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_request_comes_before_its_versions_and_before_later_requests() {
        let record = Priority::default().child(0);
        let first = record.child(0);
        let second = record.child(1);
        assert!(first < first.child(0));
        assert!(first.child(0) < first.child(1));
        assert!(first.child(7) < second);
        assert!(second < Priority::default().child(1));
    }

    #[tokio::test]
    async fn waiters_pass_in_priority_order_not_arrival_order() {
        let gate = Arc::new(Gate::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = gate.pass(Priority::default()).await;
        let mut tasks = Vec::new();
        // Arrive lowest priority first.
        for i in (0..5usize).rev() {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _pass = gate.pass(Priority::default().child(i)).await;
                order.lock().unwrap().push(i);
            }));
            tokio::task::yield_now().await;
        }
        // Every waiter is queued before the place comes free.
        while gate.lock().waiting.len() < 5 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let gate = Gate::new(1);
        let held = gate.pass(Priority::default()).await;
        let gave_up = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            gate.pass(Priority::default()),
        )
        .await;
        assert!(gave_up.is_err());
        assert!(gate.lock().waiting.is_empty());
        drop(held);
        // The place is free again for anyone.
        let _again = gate.pass(Priority::default().child(3)).await;
    }

    #[tokio::test]
    async fn a_task_runs_under_its_parents_priority_and_its_index() {
        let inner = nth(2, async { nth(5, async { Priority::current() }).await }).await;
        assert_eq!(inner, Priority::default().child(2).child(5));
        assert_eq!(Priority::current(), Priority::default());
    }
}
