//! The operations port: `/metrics` (Prometheus text format), `/healthz` (alive) and
//! `/readyz` (200 when connected, assigned and not draining; 503 otherwise). Nothing else
//! is served: no configuration dump, no debug endpoints.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

#[derive(Clone)]
struct Ops {
    registry: Registry,
    metrics: Metrics,
}

async fn metrics_handler(State(ops): State<Arc<Ops>>) -> impl IntoResponse {
    let mut buf = Vec::with_capacity(16 * 1024);
    match TextEncoder::new().encode(&ops.registry.gather(), &mut buf) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
            buf,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(ops): State<Arc<Ops>>) -> (StatusCode, &'static str) {
    if ops.metrics.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

/// Binds the port (so callers learn the address, e.g. for port 0) and returns the address
/// and the server future, which ends when `shutdown` is cancelled.
pub async fn serve(
    listen: &str,
    registry: Registry,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("binding http.listen {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // Requests carry no body worth reading; refuse big ones outright, and bound how
        // many requests are served at once (scrapes and probes are few and small).
        .layer(axum::extract::DefaultBodyLimit::max(1024))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            MAX_CONCURRENT_REQUESTS,
        ))
        .with_state(Arc::new(Ops { registry, metrics }));
    let fut = async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(e) = server.await {
            tracing::error!(error = %e, "http server failed");
        }
    };
    Ok((addr, fut))
}

/// Requests served at the same time; more wait for a slot.
pub const MAX_CONCURRENT_REQUESTS: usize = 32;
