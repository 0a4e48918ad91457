//! The OpenAPI document served at `GET /api/v1/openapi.json` (issue 2 › 7), generated from
//! the handlers' annotations so it cannot drift from the routes.

use crate::routes::{
    ErrorBody, ErrorDetail, auth, canned, conversations, desk, metrics, rooms, shifts, signals,
    supervision, system,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "fandesk", description = "Real-time chat operations for creator teams. \
        The WebSocket protocol and error codes are specified in PROTOCOL.md."),
    paths(
        system::healthz, system::metrics, system::openapi,
        auth::login, auth::logout, auth::me, auth::create_member, auth::list_members,
        auth::create_fan_session,
        conversations::open, conversations::list, conversations::get,
        conversations::resolve, conversations::reopen,
        conversations::send, conversations::list_messages,
        supervision::assign, supervision::unassign, supervision::escalate, supervision::monitor,
        supervision::takeover, supervision::handback, supervision::audit, supervision::review,
        metrics::summary, metrics::weekly,
        signals::alerts, signals::list_keyword_rules, signals::create_keyword_rule,
        signals::delete_keyword_rule, signals::list_restricted_rules,
        signals::create_restricted_rule, signals::delete_restricted_rule,
        rooms::create, rooms::list, rooms::get, rooms::open, rooms::close, rooms::send,
        rooms::list_messages, rooms::delete_message, rooms::time_out,
        desk::get_fan, desk::update_fan, desk::queue, desk::agents, desk::set_capacity,
        shifts::list, shifts::create, shifts::update, shifts::delete, shifts::clock_in,
        shifts::clock_out, shifts::coverage,
        canned::create, canned::list, canned::update, canned::delete, canned::render, canned::health,
        crate::ws::upgrade,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Team login, members and fan sessions"),
        (name = "conversations", description = "Fan ↔ team conversations"),
        (name = "messages", description = "Timeline messages"),
        (name = "supervision", description = "Monitor, take over, audit log, message review"),
        (name = "signals", description = "Alerts, keyword and restricted-word rules"),
        (name = "metrics", description = "Metric summaries and the weekly report"),
        (name = "rooms", description = "Live rooms: premiere and event chat, slow mode, moderation"),
        (name = "desk", description = "Fan profiles, the priority queue, agents' load and capacity"),
        (name = "shifts", description = "Shifts, clock-in, 24/7 coverage"),
        (name = "canned", description = "Canned responses, rendering, library health"),
        (name = "realtime", description = "WebSocket"),
        (name = "system", description = "Health, metrics, this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
