//! The baseline: one axum route and nothing else, served exactly as torg serves (the default
//! multi-threaded tokio runtime, `axum::serve` with connect info), so that the ratio torg/bare measures
//! torg's own work rather than the machine.

use anyhow::Context;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A small JSON body, about as long as torg's smallest replies.
async fn hello() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json; charset=utf-8")], r#"{"success":true,"bare":"axum"}"#)
}

/// Serves `GET /`, and `GET /page` with `page`'s bytes, on `listen` until Ctrl-C or SIGTERM ends the
/// process.
pub async fn serve(listen: &str, page: Option<&std::path::Path>) -> anyhow::Result<()> {
    let body = match page {
        Some(p) => bytes::Bytes::from(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => bytes::Bytes::new(),
    };
    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    println!("bare listening on http://{}", listener.local_addr()?);
    let page = move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json; charset=utf-8")], body) }
    };
    let app = Router::new()
        .route("/", get(hello))
        .route("/page", get(page))
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
