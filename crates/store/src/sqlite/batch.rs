//! Group commit for synchronous executions. Under load many requests finish at once, each
//! with one row to insert; sending each row to the database thread on its own is what the
//! server spends its time on (every statement is a hand-off between threads). A single task
//! takes the rows waiting at that moment and writes them with one multi-row `INSERT`, then
//! answers every caller. Alone, a row is written at once: nothing waits for company.

use functiond_types::execution::Execution;
use functiond_types::id::ProjectId;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::conflict_as;
use super::executions::{COLUMNS, push_values};
use crate::{Result, StoreError};

/// Rows per statement: 15 parameters each, far below SQLite's limit of 32,766.
const MAX_ROWS: usize = 64;

type Request = (ProjectId, Execution, oneshot::Sender<Result<()>>);

#[derive(Debug, Clone)]
pub(super) struct ExecutionBatcher {
    requests: mpsc::UnboundedSender<Request>,
}

impl ExecutionBatcher {
    /// Starts the task that writes through `writer`; it ends when the last batcher is dropped.
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (requests, mut incoming) = mpsc::unbounded_channel::<Request>();
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_ROWS {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                write(&writer, batch).await;
            }
        });
        Self { requests }
    }

    pub(super) async fn insert(&self, project: &ProjectId, execution: &Execution) -> Result<()> {
        let (answer, answered) = oneshot::channel();
        self.requests
            .send((project.clone(), execution.clone(), answer))
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Corrupt {
        message: "the execution writer stopped".to_owned(),
    }
}

async fn write(writer: &SqlitePool, batch: Vec<Request>) {
    if batch.len() > 1 && insert_rows(writer, &batch).await.is_ok() {
        for (_, _, answer) in batch {
            let _ = answer.send(Ok(()));
        }
        return;
    }
    // One row, or a batch that failed: each row on its own, so each caller gets its own answer
    // (a conflict is one row's business).
    for (project, execution, answer) in batch {
        let row = [(project, execution, ())];
        let _ = answer.send(insert_rows(writer, &row).await);
    }
}

async fn insert_rows<T>(writer: &SqlitePool, rows: &[(ProjectId, Execution, T)]) -> Result<()> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("INSERT INTO executions ({COLUMNS}) "));
    sql.push_values(rows, |mut row, (project, execution, _)| {
        push_values(&mut row, project, execution);
    });
    sql.build()
        .execute(writer)
        .await
        .map_err(conflict_as("execution"))?;
    Ok(())
}
