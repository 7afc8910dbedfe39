//! `tracing` events for recorded queries (feature `tracing`), under the target
//! `kysera::query`: `DEBUG` for a query, `WARN` for a slow or failed one. Fields: `sql`,
//! `binds` (after redaction), `duration_us`, `rows` (absent when unknown), `backend`,
//! `slow`, `error` (failed queries only).

use super::event::QueryRecord;

/// Emits the event of one record.
pub(super) fn emit(record: &QueryRecord) {
    let duration_us = record.duration_us();
    let backend = record.backend.to_string();
    match record.outcome.error() {
        Some(error) => tracing::warn!(
            target: "kysera::query",
            sql = %record.sql,
            binds = ?record.binds,
            duration_us,
            rows = record.rows,
            backend = %backend,
            slow = record.slow,
            error = %error,
            "query failed"
        ),
        None if record.slow => tracing::warn!(
            target: "kysera::query",
            sql = %record.sql,
            binds = ?record.binds,
            duration_us,
            rows = record.rows,
            backend = %backend,
            slow = true,
            "slow query"
        ),
        None => tracing::debug!(
            target: "kysera::query",
            sql = %record.sql,
            binds = ?record.binds,
            duration_us,
            rows = record.rows,
            backend = %backend,
            slow = false,
            "query"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use crate::instrument::{QueryMonitor, QueryRecord};
    use crate::BackendKind;

    /// Collects `level message field=value...` of every event.
    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<String>>>);

    struct Line(String);
    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={:?}", field.name(), value));
        }
    }

    impl Subscriber for Collect {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let meta = event.metadata();
            let mut line = Line(format!("{} {}", meta.level(), meta.target()));
            event.record(&mut line);
            self.0.lock().unwrap().push(line.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn events_carry_the_query() {
        let seen = Collect::default();
        let monitor = QueryMonitor::builder()
            .buffer(0)
            .profiler(false)
            .tracing(true)
            .slow_queries(Duration::from_millis(1), |_| {})
            .build()
            .unwrap();
        tracing::subscriber::with_default(seen.clone(), || {
            monitor.record(
                QueryRecord::new(BackendKind::Sqlite, "SELECT ?", Duration::from_micros(3))
                    .with_binds(vec!["7".into()])
                    .with_rows(1),
            );
            monitor.record(QueryRecord::new(
                BackendKind::Sqlite,
                "SELECT 2",
                Duration::from_millis(2),
            ));
            monitor.record(
                QueryRecord::new(BackendKind::Postgres, "SELEC", Duration::ZERO)
                    .with_error("syntax"),
            );
        });
        let lines = seen.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with(&format!("{} kysera::query", Level::DEBUG)),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("message=query sql=SELECT ? binds=[\"7\"]"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("rows=1 backend=sqlite slow=false"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("WARN") && lines[1].contains("slow query"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains("query failed") && lines[2].contains("error=syntax"),
            "{}",
            lines[2]
        );
        assert!(
            !lines[1].contains("rows="),
            "unknown rows are left out: {}",
            lines[1]
        );
    }
}
