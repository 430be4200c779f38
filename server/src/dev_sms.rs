//! The development outbox's pages (SMS-2): `GET /dev/sms` (HTML, newest first) and
//! `GET /dev/sms.json`. The router adds them only while the outbox is the gateway; under any
//! other backend the paths fall through to the 404 page.
//!
//! The outbox holds every code sent, so it answers only a direct connection from this
//! machine (a loopback peer that is not a trusted proxy: whatever a proxy forwards may come
//! from anywhere) unless `NIDAN_DEV_OUTBOX=1` opens it to every client (SEC-9). Anyone else
//! gets a 404.

use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use app::server::sms::{SmsMessage, outbox};
use app::server::{AppState, ClientKey, SmsGateway};

#[derive(Serialize)]
struct MessageJson {
    to: String,
    body: String,
    sent_at: String,
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

async fn messages(state: &AppState, request: Request) -> Result<Vec<SmsMessage>, Response> {
    let SmsGateway::Outbox(db) = &state.sms else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    let proxies = &state.settings.trusted_proxies;
    let local = peer.is_some_and(|ip| ip.is_loopback() && !proxies.trusts(ip));
    if !state.settings.dev_outbox_open && !local {
        tracing::info!(peer = ?peer.map(ClientKey::of), "outbox refused to a client that is not on this machine");
        return Err(StatusCode::NOT_FOUND.into_response());
    }
    outbox::list(db).await.map_err(|e| {
        tracing::error!(error = %e, "reading the outbox failed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

async fn json(State(state): State<AppState>, request: Request) -> Response {
    match messages(&state, request).await {
        Ok(list) => Json(
            list.into_iter()
                .map(|m| MessageJson {
                    to: m.to_e164,
                    sent_at: rfc3339(m.sent_at.as_millis()),
                    body: m.body,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(res) => res,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn html(State(state): State<AppState>, request: Request) -> Response {
    let list = match messages(&state, request).await {
        Ok(list) => list,
        Err(res) => return res,
    };
    let rows: String = list
        .iter()
        .map(|m| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                escape(&rfc3339(m.sent_at.as_millis())),
                escape(&m.to_e164),
                escape(&m.body)
            )
        })
        .collect();
    let empty = if list.is_empty() {
        "<p>まだSMSはありません。</p>"
    } else {
        ""
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>開発用SMS受信箱 | Nidan</title></head><body><h1>開発用SMS受信箱</h1>\
         <p>開発用の送信先です。実際のSMSは送信されていません。新しい順に表示しています。</p>{empty}\
         <table><thead><tr><th>送信日時</th><th>宛先</th><th>本文</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    ))
    .into_response()
}

/// The outbox routes, when the outbox is the active gateway.
pub fn routes(state: &AppState) -> Option<Router<AppState>> {
    state.sms.is_outbox().then(|| {
        Router::new()
            .route("/dev/sms", get(html))
            .route("/dev/sms.json", get(json))
    })
}
