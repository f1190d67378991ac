//! Operations endpoints: `/healthz` and `/metrics`.

pub mod memory;
pub mod metrics;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// 200 `ok` when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let check = tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await;
    match check {
        Ok(Ok(())) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timeout\n").into_response(),
    }
}

/// Liveness: answers without touching the database (also the "bare route"
/// the benchmark compares every other route against).
pub async fn livez() -> &'static str {
    "ok\n"
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let (pool_size, pool_idle) = state.db.pool_stats();
    let letters_queued = crate::notices::store::count_queued(&state.db).await.ok();
    let body = state.metrics.render(&metrics::Gauges {
        pool_size,
        pool_idle,
        letters_queued,
        outbox_queued: crate::outbox::queue_depth(&state.db).await.ok(),
        webhooks_queued: crate::webhooks::store::queue_depth(&state.db).await.ok(),
        status_cache_entries: state.status_cache.len(),
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
