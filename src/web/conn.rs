//! The HTTP/1 listener and the limits that hold before a request reaches a
//! handler, so a slow or oversized client costs little and never starves
//! anyone else:
//!
//! * the request line and headers must arrive in full within
//!   `header_read_timeout_secs` (a client dripping one byte a second —
//!   "slowloris" — is disconnected); the same timeout closes an idle
//!   keep-alive connection;
//! * at most [`MAX_HEADERS`] header fields and [`MAX_HEADER_BYTES`] bytes of
//!   request line plus headers (hyper answers `431` beyond that);
//! * a request body must arrive in full within `request_body_timeout_secs`
//!   of the request starting, else the visitor gets the plain-language
//!   "took too long" page (`408`) and the connection is closed;
//! * body sizes are capped by the router's limit layers.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

use super::AppState;
use crate::error::AppError;

/// Most header fields one request may carry.
pub const MAX_HEADERS: usize = 100;

/// Largest request line plus headers, in bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Serves `state`'s router on `listener` until `shutdown` resolves; then
/// stops accepting, lets requests in flight finish and closes idle
/// connections.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = Duration::from_secs(state.config.header_read_timeout_secs);
    let app = super::router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEADER_BYTES);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, never spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Middleware: the request body must be received within
/// `request_body_timeout_secs` of the request starting; a handler still
/// waiting for it then is answered with [`AppError::TimedOut`].
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let limit = Duration::from_secs(state.config.request_body_timeout_secs);
    let expired = Arc::new(AtomicBool::new(false));
    let flag = expired.clone();
    let req = req.map(|body| {
        Body::new(DeadlineBody {
            body,
            deadline: Box::pin(tokio::time::sleep(limit)),
            expired: flag,
        })
    });
    let resp = next.run(req).await;
    if expired.load(Ordering::Relaxed) {
        tracing::info!("request body not received in time");
        AppError::TimedOut.into_response()
    } else {
        resp
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
struct BodyTimedOut;

/// A body that fails once its deadline has passed, and says so in `expired`.
struct DeadlineBody {
    body: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Pin::new(&mut this.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
