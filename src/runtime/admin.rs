//! The admin HTTP server: `/livez`, `/readyz` (ready once every controller's watches have done
//! their initial list) and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::metrics::Metrics;

/// Readiness, flipped by the controllers once their caches are synced.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: Arc<Metrics>,
    readiness: Readiness,
}

pub fn router(metrics: Arc<Metrics>, readiness: Readiness) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_handler))
        .with_state(AdminState { metrics, readiness })
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    if state.readiness.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "waiting for the initial sync of the watches",
        )
    }
}

async fn metrics_handler(State(state): State<AdminState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "admin server listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The admin server's socket. Taken before anything starts, so that an address already in use
/// stops the operator with a message instead of leaving it without health and metrics.
pub async fn bind(address: SocketAddr) -> crate::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| crate::Error::Admin(format!("cannot listen on {address}: {e}")))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_liveness_readiness_after_sync_and_metrics() {
        let metrics = Arc::new(Metrics::default());
        metrics.ecs_call("DescribeServices", "success");
        let readiness = Readiness::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = router(metrics, readiness.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        assert!(get(address, "/livez").await.starts_with("HTTP/1.1 200"));
        let not_yet = get(address, "/readyz").await;
        assert!(not_yet.starts_with("HTTP/1.1 503"), "{not_yet}");
        readiness.set_ready();
        assert!(get(address, "/readyz").await.starts_with("HTTP/1.1 200"));
        let scrape = get(address, "/metrics").await;
        assert!(scrape.starts_with("HTTP/1.1 200"));
        assert!(scrape.contains(r#"ecs_operator_ecs_api_calls_total{operation="DescribeServices",outcome="success"} 1"#), "{scrape}");
    }
}
