//! Where queries run: a tokio runtime of their own, apart from the network
//! I/O of the endpoints, and a bounded number at a time.
//!
//! DataFusion's execution is CPU-bound. Run on the runtime that also
//! accepts connections and reads and writes the protocols, heavy queries
//! keep its workers busy and every connection stalls with them — logins,
//! `SET`s and small answers included. And with no bound, a flood of heavy
//! queries (64 connections each running an aggregation) holds all their
//! hash tables in memory at once and interleaves them batch by batch, so
//! each takes as long as all of them together.
//!
//! So queries execute on the [`Executor`]'s runtime (one worker per CPU
//! core), and only `running-queries` of them (policy `[limits]`, default
//! four per core) at a time; the others wait their turn in arrival order
//! (tokio's semaphore is fair). Four per core, not one: a query also waits
//! on reads, and with one per core the cores idled (measured with
//! benches/pg_load.py: at 32 clients one per core gave fewer queries per
//! second than no bound at all, four per core as many, with a shorter
//! tail). Waiting counts against the query's time limit, so an overloaded
//! server answers "busy" instead of letting queues grow without bound. A
//! query whose client goes away is aborted, not left running.

use crate::access::AccessError;
use crate::policy::Limits;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// The query runtime and its slots.
pub struct Executor {
    runtime: OnceLock<Runtime>,
    threads: usize,
    slots: Arc<Semaphore>,
    running: usize,
}

/// The number of CPU cores (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Executor {
    /// An executor with `threads` workers (0: one per core) running at most
    /// `running` queries at a time (0: four per core). The runtime is started on
    /// first use, so a `civhub sql --as-user` that never queries starts none.
    pub fn new(threads: usize, running: usize) -> Executor {
        let threads = if threads == 0 { cores() } else { threads };
        let running = if running == 0 { 4 * cores() } else { running };
        Executor {
            runtime: OnceLock::new(),
            threads,
            slots: Arc::new(Semaphore::new(running)),
            running,
        }
    }

    /// How many queries run at once.
    pub fn running(&self) -> usize {
        self.running
    }

    fn handle(&self) -> Result<Handle, AccessError> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt.handle().clone());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.threads)
            .thread_name("civhub-query")
            .enable_all()
            .build()
            .map_err(|e| AccessError::Busy(format!("cannot start the query runtime: {e}")))?;
        // Another caller may have won the race; theirs is kept, ours dropped
        // here (outside any runtime, where dropping one is allowed).
        if let Err(rt) = self.runtime.set(rt) {
            rt.shutdown_background();
        }
        self.runtime
            .get()
            .map(|rt| rt.handle().clone())
            .ok_or_else(|| AccessError::Busy("the query runtime did not start".into()))
    }

    /// Runs `work` on the query runtime once a slot is free, within the
    /// time limit of `limits` (waiting for the slot included).
    pub async fn run<T, F>(&self, limits: &Limits, work: F) -> Result<T, AccessError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, AccessError>> + Send + 'static,
    {
        let limit = Duration::from_secs(limits.timeout_seconds);
        let t0 = Instant::now();
        let permit = match tokio::time::timeout(limit, self.slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => {
                return Err(AccessError::Busy(
                    "the query runtime is shutting down".into(),
                ));
            }
            Err(_) => {
                return Err(AccessError::Busy(format!(
                    "the server is busy: the query waited {} s, its time limit (access/policy.toml [limits] timeout-seconds), for one of the {} query slots (running-queries); try again later",
                    limits.timeout_seconds, self.running
                )));
            }
        };
        let task = Abort(self.handle()?.spawn(async move {
            let _slot = permit;
            work.await
        }));
        let left = limit.saturating_sub(t0.elapsed());
        match tokio::time::timeout(left, task.wait()).await {
            Ok(r) => r,
            Err(_) => Err(AccessError::Limit(format!(
                "the query ran longer than {} s, the limit per query (access/policy.toml [limits] timeout-seconds)",
                limits.timeout_seconds
            ))),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime (the
        // hub may be dropped by a server task): let it wind down on its own.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A spawned query that is aborted when whoever waits for it goes away
/// (a timeout, a client that disconnected).
struct Abort<T>(JoinHandle<Result<T, AccessError>>);

impl<T> Abort<T> {
    async fn wait(mut self) -> Result<T, AccessError> {
        match (&mut self.0).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(AccessError::Busy(
                "the query failed inside the engine (a panic); it was logged".into(),
            )),
            Err(_) => Err(AccessError::Busy("the query was cancelled".into())),
        }
    }
}

impl<T> Drop for Abort<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_seconds: u64) -> Limits {
        Limits {
            timeout_seconds,
            ..Limits::default()
        }
    }

    #[test]
    fn runs_on_its_own_runtime_and_is_dropped_inside_another() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let ex = Executor::new(1, 1);
            let name = ex
                .run(&limits(5), async {
                    Ok(std::thread::current().name().map(str::to_string))
                })
                .await
                .unwrap();
            assert_eq!(name.as_deref(), Some("civhub-query"));
            drop(ex); // inside a runtime: must not panic
        });
    }

    #[test]
    fn waiting_for_a_slot_counts_against_the_time_limit() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let ex = Arc::new(Executor::new(1, 1));
            // The slow query says when it runs, i.e. holds the only slot.
            let (running, holds_slot) = tokio::sync::oneshot::channel();
            let busy = {
                let ex = ex.clone();
                tokio::spawn(async move {
                    ex.run(&limits(2), async move {
                        let _ = running.send(());
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        Ok(())
                    })
                    .await
                })
            };
            holds_slot.await.unwrap();
            let e = ex.run(&limits(1), async { Ok(()) }).await.unwrap_err();
            assert!(
                matches!(e, AccessError::Busy(ref m) if m.contains("busy")),
                "{e}"
            );
            let e = busy.await.unwrap().unwrap_err();
            assert!(
                matches!(e, AccessError::Limit(ref m) if m.contains("longer than")),
                "{e}"
            );
            // The slot is free again once the aborted query is gone.
            ex.run(&limits(2), async { Ok(()) }).await.unwrap();
        });
    }
}
