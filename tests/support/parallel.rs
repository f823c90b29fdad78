//! Oracle cases side by side: most of a case's time is a daemon or an interpreter
//! starting up and a probe waiting on it, so a few at a time finish sooner than one
//! at a time. Each case makes its own namespaces and scratch folders.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases run at once: `PASVLINT_ORACLE_JOBS`, else two per core.
pub fn jobs() -> usize {
    std::env::var("PASVLINT_ORACLE_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `check` of every case, a few cases at a time; the results in the cases' order,
/// so what a test reports does not depend on which case finished first.
pub fn map<T: Sync, R: Send>(cases: &[T], check: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = cases.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs().min(cases.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let result = check(case);
                    *results[i].lock().unwrap() = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every case ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_cases_order() {
        let cases: Vec<u64> = (0..40).collect();
        let out = super::map(&cases, |&n| {
            std::thread::sleep(std::time::Duration::from_millis(40 - n));
            n * 2
        });
        assert_eq!(out, cases.iter().map(|n| n * 2).collect::<Vec<_>>());
    }
}
