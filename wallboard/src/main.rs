use aws_config::BehaviorVersion;
use connect_contact_state::logging;
use contact_state_wallboard::app::App;
use contact_state_wallboard::settings::{FromEnv, Settings};
use lambda_http::{Body, Error, Request, service_fn, tracing};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    logging::init_from_env();
    let settings =
        Settings::from_env().inspect_err(|error| tracing::error!("init failed: {error}"))?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let app = App::from_config(&aws, settings);
    lambda_http::run(service_fn(|request: Request| {
        let app = &app;
        async move {
            let answer = app
                .answer(
                    request.method().as_str(),
                    request.uri().path(),
                    request.uri().query(),
                )
                .await;
            Ok::<_, Error>(answer.into_response(Body::from)?)
        }
    }))
    .await
}
