//! The accept loop every local stand-in shares: a free loopback port, and each connection
//! served over HTTP/1 by the stand-in's own `answer`, with its shared state. Nothing listens
//! beyond 127.0.0.1.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Listens on a free loopback port and serves every connection with `answer` until the runtime
/// ends; returns the address. A connection that breaks (a client that exits, or an answer's
/// error: the fault proxy closes connections on purpose) ends only that connection.
pub async fn serve<S, A, F, E>(shared: Arc<S>, answer: A) -> std::io::Result<SocketAddr>
where
    S: Send + Sync + 'static,
    A: Fn(Arc<S>, Request<Incoming>) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    serve_at(0, shared, answer).await
}

/// [`serve`] on a given loopback port (0: any free one).
pub async fn serve_at<S, A, F, E>(
    port: u16,
    shared: Arc<S>,
    answer: A,
) -> std::io::Result<SocketAddr>
where
    S: Send + Sync + 'static,
    A: Fn(Arc<S>, Request<Incoming>) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(Arc::clone(&shared), request));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}
