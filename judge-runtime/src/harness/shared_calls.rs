//! Shared verdicts: while a verdict for a cache key is being fetched, another request for the
//! same key (two evals judging the same output by the same rubric and judge) waits for it and
//! shares it instead of calling the judge again.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The calls in flight, by key, whose results are shared with identical calls.
#[derive(Debug)]
pub(crate) struct SharedCalls<K, V> {
    calls: Mutex<HashMap<K, Arc<AsyncMutex<Option<V>>>>>,
}

impl<K, V> Default for SharedCalls<K, V> {
    fn default() -> Self {
        Self { calls: Mutex::default() }
    }
}

/// Who fetches the value.
pub(crate) enum Call<'a, K: Eq + Hash + Clone, V> {
    /// Nobody was fetching it: the caller does, and hands the result to [`Leader::finish`].
    Lead(Leader<'a, K, V>),
    /// Another caller fetched it meanwhile and shares it.
    Shared(V),
}

/// The one caller fetching a key. Dropping it without `finish` (a failure, or a cancelled eval)
/// lets a waiting caller take the lead.
pub(crate) struct Leader<'a, K: Eq + Hash + Clone, V> {
    calls: &'a SharedCalls<K, V>,
    key: K,
    slot: OwnedMutexGuard<Option<V>>,
}

impl<K: Eq + Hash + Clone, V: Clone> SharedCalls<K, V> {
    /// Leads the call for `key`, or waits for the caller leading it and takes its value.
    pub async fn join(&self, key: &K) -> Call<'_, K, V> {
        loop {
            let cell = {
                let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
                match calls.get(key) {
                    Some(cell) => Arc::clone(cell),
                    None => {
                        let cell = Arc::new(AsyncMutex::new(None));
                        let slot = Arc::clone(&cell).try_lock_owned().expect("a new mutex is unlocked");
                        calls.insert(key.clone(), cell);
                        return Call::Lead(Leader { calls: self, key: key.clone(), slot });
                    }
                }
            };
            if let Some(value) = cell.lock().await.clone() {
                return Call::Shared(value);
            }
            // The leader gave up; the next one to get here leads.
        }
    }
}

impl<K: Eq + Hash + Clone, V> Leader<'_, K, V> {
    /// Hands `value` to the callers waiting for it.
    pub fn finish(mut self, value: V) {
        *self.slot = Some(value);
    }
}

impl<K: Eq + Hash + Clone, V> Drop for Leader<'_, K, V> {
    fn drop(&mut self) {
        // Removed before the slot unlocks (fields drop after this), so a caller that finds the
        // slot empty and loops cannot find this cell again.
        self.calls.calls.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    async fn fetch(shared: &SharedCalls<&'static str, u32>, key: &'static str, calls: &AtomicU32, fail: bool) -> u32 {
        loop {
            match shared.join(&key).await {
                Call::Shared(value) => return value,
                Call::Lead(leader) => {
                    let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if fail && n == 1 {
                        drop(leader);
                        continue;
                    }
                    leader.finish(n);
                    return n;
                }
            }
        }
    }

    #[tokio::test]
    async fn concurrent_calls_for_one_key_make_one_call() {
        let shared = SharedCalls::default();
        let calls = AtomicU32::new(0);
        let results = futures::future::join_all((0..8).map(|_| fetch(&shared, "k", &calls, false))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|&r| r == 1));
        // Another key is another call; a later call for the same key is a new call.
        fetch(&shared, "other", &calls, false).await;
        fetch(&shared, "k", &calls, false).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_leader_hands_the_lead_on() {
        let shared = SharedCalls::default();
        let calls = AtomicU32::new(0);
        let results = futures::future::join_all((0..4).map(|_| fetch(&shared, "k", &calls, true))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the failed call, then one more");
        assert!(results.iter().all(|&r| r == 2), "{results:?}");
    }
}
