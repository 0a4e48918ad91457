//! End-to-end tests: one test binary that drives the real server over
//! HTTP and real WebSockets. Every test gets its own server and database (SQLite, or a
//! PostgreSQL schema when `FANDESK_TEST_POSTGRES_URL` is set), so they run in parallel.

mod e2e {
    mod alert_handling;
    mod api_tokens;
    mod audit;
    mod auth;
    mod authz;
    mod backup_cli;
    mod bots;
    mod channel_live;
    mod channels;
    mod charter;
    mod charter_live;
    mod client_limits;
    mod cluster;
    mod connection_limits;
    mod conversations;
    mod crash;
    mod delivery;
    mod delivery_model;
    mod desk;
    mod desk_canned;
    mod desk_timers;
    mod escalation_alerts;
    mod event_metrics;
    mod event_questions;
    mod event_replay;
    mod events;
    mod export_api;
    mod export_cli;
    mod flows;
    mod inbox;
    mod isolation;
    mod members;
    mod messages;
    mod metrics;
    mod openapi;
    mod outbound;
    mod protocol_errors;
    mod reply_later;
    mod report_cli;
    mod report_delivery;
    mod rooms;
    mod scheduled;
    mod scheduled_crash;
    mod side_channels;
    mod snooze;
    mod supervision;
    mod support;
    mod system;
    mod validation;
    mod websocket;
    mod whisper;
    mod ws_pace;
}
