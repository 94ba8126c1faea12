//! `make wallboard`: the wallboard's answers on a loopback port (WALLBOARD_PORT, 0 for any free
//! one), without a Lambda Runtime API or an authorizer; prints the board's URL. The same
//! settings and AWS variables as the function (DynamoDB Local, the Connect stand-in).

use std::convert::Infallible;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use bytes::Bytes;
use connect_contact_state::logging;
use contact_state_wallboard::app::App;
use contact_state_wallboard::settings::{FromEnv, Settings};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    logging::init_from_env();
    let settings = Settings::from_env()?;
    let port: u16 = match std::env::var("WALLBOARD_PORT") {
        Ok(port) if !port.trim().is_empty() => port.trim().parse()?,
        _ => 8080,
    };
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let app = Arc::new(App::from_config(&aws, settings));
    let address = loopback_http::serve_at(port, app, answer).await?;
    println!("wallboard at http://{address}/");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

async fn answer(
    app: Arc<App>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = app
        .answer(
            request.method().as_str(),
            request.uri().path(),
            request.uri().query(),
        )
        .await;
    Ok(answer
        .into_response(|body| Full::new(Bytes::from(body)))
        .unwrap_or_default())
}
