//! Group commit for metric points. Log calls that carry only metrics are queued for one
//! writer task, which stores every call waiting at that moment in one transaction and then
//! reports to each caller. Under concurrent logging this turns several transactions, each
//! with its own round trips to the database, into one. A call returns only after the
//! transaction with its points has committed.

use tokio::sync::{mpsc, oneshot};

use super::tracking::{insert_metric_blocks, upsert_latest_metrics};
use super::Db;
use crate::tracking::MetricPoint;

/// Maximum number of calls stored in one transaction, which bounds the statement sizes.
const MAX_CALLS_PER_TRANSACTION: usize = 64;

/// One log call waiting for the writer.
pub(super) struct MetricWrite {
    run_id: i64,
    metrics: Vec<MetricPoint>,
    done: oneshot::Sender<Result<(), sqlx::Error>>,
}

/// Starts the writer task for `db` and returns the queue that feeds it. The task ends when
/// every sender is dropped.
pub(super) fn spawn(db: Db) -> mpsc::UnboundedSender<MetricWrite> {
    let (sender, mut queue) = mpsc::unbounded_channel::<MetricWrite>();
    tokio::spawn(async move {
        while let Some(first) = queue.recv().await {
            let mut calls = vec![first];
            while calls.len() < MAX_CALLS_PER_TRANSACTION {
                match queue.try_recv() {
                    Ok(call) => calls.push(call),
                    Err(_) => break,
                }
            }
            write_group(&db, calls).await;
        }
    });
    sender
}

/// Stores `calls` in one transaction. When that fails, each call is retried in its own
/// transaction, so that one failing call (a run deleted meanwhile, say) fails alone.
async fn write_group(db: &Db, calls: Vec<MetricWrite>) {
    if calls.len() > 1 {
        match write_together(db, &calls).await {
            Ok(()) => {
                for call in calls {
                    // The caller may have gone (its request was cancelled); its points are stored.
                    let _ = call.done.send(Ok(()));
                }
                return;
            }
            Err(error) => tracing::warn!(%error, calls = calls.len(), "a group of metric writes failed; retrying each alone"),
        }
    }
    for call in calls {
        let result = write_together(db, std::slice::from_ref(&call)).await;
        let _ = call.done.send(result);
    }
}

async fn write_together(db: &Db, calls: &[MetricWrite]) -> Result<(), sqlx::Error> {
    let points: Vec<(i64, &[MetricPoint])> = calls.iter().map(|call| (call.run_id, call.metrics.as_slice())).collect();
    let mut transaction = db.begin_write().await?;
    insert_metric_blocks(&mut transaction, &points).await?;
    upsert_latest_metrics(&mut transaction, &points).await?;
    transaction.commit().await
}

impl Db {
    /// Stores metric points of one run through the group-commit writer and returns once they
    /// are committed.
    pub(super) async fn write_metrics(&self, run_id: i64, metrics: Vec<MetricPoint>) -> Result<(), sqlx::Error> {
        let Some(queue) = &self.metric_writes else {
            let (done, _) = oneshot::channel();
            return write_together(self, &[MetricWrite { run_id, metrics, done }]).await;
        };
        let (done, outcome) = oneshot::channel();
        queue
            .send(MetricWrite { run_id, metrics, done })
            .map_err(|_| sqlx::Error::WorkerCrashed)?;
        outcome.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}
