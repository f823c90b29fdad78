//! The lint worker: one thread that runs lints (each using every core through
//! rayon) while the message loop goes on answering the client.

use super::workspace::Run;
use crate::{Overlay, Report};
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::path::PathBuf;

/// A run and the buffers as they were when it started.
pub struct Job {
    pub run: Run,
    pub overlay: Overlay,
    /// Each buffer's edit generation at the start: a file edited since has a
    /// newer one, and the run's findings for it are stale.
    pub generations: HashMap<PathBuf, u64>,
}

pub struct Done {
    pub job: Job,
    /// `None` when the lint panicked.
    pub report: Option<Report>,
}

/// Start the worker; it stops when the job sender is dropped.
pub fn spawn() -> std::io::Result<(Sender<Job>, Receiver<Done>)> {
    let (jobs, inbox) = crossbeam_channel::unbounded::<Job>();
    let (outbox, done) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("pasvlint-lint".into())
        .spawn(move || {
            for job in inbox {
                let report = job.run.execute(&job.overlay);
                if outbox.send(Done { job, report }).is_err() {
                    return;
                }
            }
        })?;
    Ok((jobs, done))
}
