//! The HTTP edge: the JSON API under `/api/v1`, health and metrics, and the staff UI under `/ui`. Handlers parse and
//! authorize; the use cases in `kundo-app` do the work.

mod admin;
pub mod auth;
mod campaigns;
mod customers;
mod history;
pub mod json;
mod loyalty;
mod metrics;
pub mod openapi;
mod plain_errors;
pub mod problem;
mod quality;
pub mod routes;
mod segments;
mod tasks;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use kundo_app::App;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::problem::Problem;

/// Request bodies above this size are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The body limit of `POST /api/v1/receipts`: a batch of up to
/// [`kundo_app::receipts::MAX_BATCH`] (5,000) receipts of about 3 KB each (some 20 lines); the
/// README's receipt is about 250 bytes, so a batch of 5,000 of those is about 1.3 MB.
pub const RECEIPTS_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<metrics::Metrics>,
}

pub fn router(app: App) -> Router {
    let state = AppState {
        app,
        metrics: Arc::default(),
    };
    let api = Router::new()
        .route("/health", get(admin::health))
        .route("/metrics", get(admin::metrics))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/session",
            post(admin::login).get(admin::whoami).delete(admin::logout),
        )
        .route(
            "/api/v1/customers",
            get(customers::list).post(customers::create),
        )
        .route(
            "/api/v1/customers/{customer_number}",
            get(customers::get_one).patch(customers::patch),
        )
        .route(
            "/api/v1/customers/{customer_number}/consents",
            post(customers::add_consents),
        )
        .route(
            "/api/v1/customers/{customer_number}/audit",
            get(customers::audit),
        )
        .route(
            "/api/v1/customers/{customer_number}/merge",
            post(quality::merge),
        )
        .route(
            "/api/v1/customers/{customer_number}/merge/preview",
            post(quality::merge_preview),
        )
        .route("/api/v1/duplicates", get(quality::pairs))
        .route("/api/v1/duplicates/check", post(quality::check))
        .route("/api/v1/duplicates/scan", post(quality::scan))
        .route("/api/v1/duplicates/{id}/dismiss", post(quality::dismiss))
        .route("/api/v1/postal-returns", post(quality::postal_returns))
        .route(
            "/api/v1/customers/{customer_number}/timeline",
            get(history::timeline),
        )
        .route(
            "/api/v1/customers/{customer_number}/activities",
            post(history::log_activity),
        )
        .route(
            "/api/v1/customers/{customer_number}/cases",
            get(history::customer_cases).post(history::create_case),
        )
        .route(
            "/api/v1/cases/{id}",
            get(history::get_case).patch(history::patch_case),
        )
        .route("/api/v1/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/v1/tasks/{id}",
            get(tasks::get_one).patch(tasks::patch),
        )
        .route(
            "/api/v1/tasks/{id}/comments",
            get(tasks::comments).post(tasks::add_comment),
        )
        .route("/api/v1/search", get(customers::search))
        .route("/api/v1/lookup", get(customers::lookup))
        .route(
            "/api/v1/attributes",
            get(admin::attributes).post(admin::define_attribute),
        )
        .route(
            "/api/v1/attributes/{name}",
            axum::routing::delete(admin::delete_attribute),
        )
        .route(
            "/api/v1/api-keys",
            get(admin::api_keys).post(admin::create_api_key),
        )
        .route(
            "/api/v1/api-keys/{id}",
            axum::routing::delete(admin::revoke_api_key),
        )
        .route("/api/v1/users", get(admin::users).post(admin::create_user))
        .route("/api/v1/audit", get(admin::audit_log))
        .route("/api/v1/events", get(admin::events))
        .route(
            "/api/v1/receipts",
            post(loyalty::post_receipts).layer(DefaultBodyLimit::max(RECEIPTS_BODY_LIMIT)),
        )
        .route(
            "/api/v1/receipts/{source}/{external_id}/returns",
            post(loyalty::post_return),
        )
        .route(
            "/api/v1/customers/{customer_number}/points",
            get(loyalty::points),
        )
        .route(
            "/api/v1/customers/{customer_number}/points/adjustments",
            post(loyalty::adjust),
        )
        .route(
            "/api/v1/customers/{customer_number}/figures",
            get(loyalty::figures),
        )
        .route(
            "/api/v1/customers/{customer_number}/vouchers",
            get(loyalty::customer_vouchers),
        )
        .route(
            "/api/v1/customers/{customer_number}/scores",
            get(loyalty::customer_scores),
        )
        .route("/api/v1/vouchers", post(loyalty::issue_voucher))
        .route("/api/v1/vouchers/{code}", get(loyalty::get_voucher))
        .route(
            "/api/v1/vouchers/{code}/validate",
            post(loyalty::validate_voucher),
        )
        .route(
            "/api/v1/vouchers/{code}/redeem",
            post(loyalty::redeem_voucher),
        )
        .route(
            "/api/v1/vouchers/{code}/reverse",
            post(loyalty::reverse_voucher),
        )
        .route(
            "/api/v1/vouchers/{code}/cancel",
            post(loyalty::cancel_voucher),
        )
        .route("/api/v1/runs/bonus", post(loyalty::run_bonus))
        .route("/api/v1/runs/birthday", post(loyalty::run_birthday))
        .route("/api/v1/runs/expiry", post(loyalty::run_expiry))
        .route("/api/v1/runs/scores", post(loyalty::run_scores))
        .route("/api/v1/runs", get(loyalty::list_runs))
        .route("/api/v1/runs/{id}", get(loyalty::get_run))
        .route("/api/v1/runs/{id}/lettershop.csv", get(loyalty::lettershop))
        .route(
            "/api/v1/stores",
            get(loyalty::stores).put(loyalty::put_stores),
        )
        .route(
            "/api/v1/points-rules",
            get(loyalty::rules).post(loyalty::set_rules),
        )
        .route(
            "/api/v1/webhooks",
            get(admin::webhooks).post(admin::create_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}",
            axum::routing::delete(admin::delete_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(admin::webhook_deliveries),
        )
        .route(
            "/api/v1/segments",
            get(segments::list).post(segments::create),
        )
        .route("/api/v1/segments/preview", post(segments::preview))
        .route(
            "/api/v1/segments/{id}",
            get(segments::get_one)
                .put(segments::put)
                .delete(segments::delete),
        )
        .route("/api/v1/segments/{id}/count", get(segments::count))
        .route("/api/v1/segments/{id}/members", get(segments::members))
        .route(
            "/api/v1/segments/{id}/members.csv",
            get(segments::members_csv),
        )
        .route("/api/v1/segments/{id}/snapshots", post(segments::snapshot))
        .route(
            "/api/v1/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/api/v1/campaigns/{id}", get(campaigns::get_one))
        .route("/api/v1/campaigns/{id}/start", post(campaigns::start))
        .route("/api/v1/campaigns/{id}/results", get(campaigns::results))
        .route("/api/v1/campaigns/{id}/members", get(campaigns::members))
        .route(
            "/api/v1/campaigns/{id}/lettershop.csv",
            get(campaigns::lettershop),
        )
        .route("/api/v1/campaigns/{id}/email.csv", get(campaigns::email))
        .route("/api/v1/campaigns/{id}/sync", post(campaigns::sync))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not-found", "No such route") })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ));
    api.merge(ui::router(state.clone()))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn(plain_errors::as_problems))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
