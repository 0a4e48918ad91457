//! Entry points for the fuzz targets in `fuzz/` and their corpus replay: the strict
//! decoders of client input (REST bodies and queries into every request type, WebSocket
//! client frames) fed arbitrary bytes. They return whatever the input; not an API.

use crate::extract::{decode_json, decode_query};
use crate::routes::{
    api_tokens, auth, canned, charter, conversations, desk, flows, inbox, metrics, rooms,
    scheduled, shifts, signals, supervision, webhooks,
};
use crate::ws::frames::ClientFrame;

/// `bytes` as the body of every route that takes one.
pub fn request_body(bytes: &[u8]) {
    let _ = decode_json::<auth::LoginRequest>(bytes);
    let _ = decode_json::<auth::CreateMemberRequest>(bytes);
    let _ = decode_json::<auth::UpdateMemberRequest>(bytes);
    let _ = decode_json::<auth::FanSessionRequest>(bytes);
    let _ = decode_json::<canned::CannedRequest>(bytes);
    let _ = decode_json::<canned::RenderRequest>(bytes);
    let _ = decode_json::<charter::SaveCharterRequest>(bytes);
    let _ = decode_json::<charter::ReviewRequest>(bytes);
    let _ = decode_json::<conversations::OpenConversationRequest>(bytes);
    let _ = decode_json::<conversations::SendMessageRequest>(bytes);
    let _ = decode_json::<conversations::SnoozeRequest>(bytes);
    let _ = decode_json::<desk::FanPatchRequest>(bytes);
    let _ = decode_json::<desk::CapacityRequest>(bytes);
    let _ = decode_json::<rooms::CreateRoomRequest>(bytes);
    let _ = decode_json::<rooms::SendRoomMessageRequest>(bytes);
    let _ = decode_json::<rooms::TimeoutRequest>(bytes);
    let _ = decode_json::<rooms::SlowModeRequest>(bytes);
    let _ = decode_json::<shifts::ShiftRequest>(bytes);
    let _ = decode_json::<shifts::ClockRequest>(bytes);
    let _ = decode_json::<signals::CreateKeywordRule>(bytes);
    let _ = decode_json::<signals::CreateRestrictedRule>(bytes);
    let _ = decode_json::<supervision::AssignRequest>(bytes);
    let _ = decode_json::<supervision::EscalateRequest>(bytes);
    let _ = decode_json::<webhooks::WebhookRequest>(bytes);
    let _ = decode_json::<api_tokens::ApiTokenRequest>(bytes);
    let _ = decode_json::<scheduled::ScheduleRequest>(bytes);
    let _ = decode_json::<flows::FlowRequest>(bytes);
    let _ = decode_json::<flows::FlowVersionRequest>(bytes);
    let _ = decode_json::<flows::ActivateRequest>(bytes);
    let _ = decode_json::<inbox::MarkReadRequest>(bytes);
}

/// `query` as the query string of every route that takes one.
pub fn query(query: &str) {
    let _ = decode_query::<conversations::ListConversationsQuery>(query);
    let _ = decode_query::<conversations::ListMessagesQuery>(query);
    let _ = decode_query::<desk::QueueQuery>(query);
    let _ = decode_query::<metrics::SummaryQuery>(query);
    let _ = decode_query::<metrics::WeeklyQuery>(query);
    let _ = decode_query::<rooms::ListRoomsQuery>(query);
    let _ = decode_query::<scheduled::ListScheduledQuery>(query);
    let _ = decode_query::<scheduled::DeliveriesQuery>(query);
    let _ = decode_query::<rooms::ListRoomMessagesQuery>(query);
    let _ = decode_query::<shifts::CoverageQuery>(query);
    let _ = decode_query::<signals::AlertsQuery>(query);
    let _ = decode_query::<supervision::AuditQuery>(query);
    let _ = decode_query::<supervision::ReviewQuery>(query);
    let _ = decode_query::<webhooks::DeliveriesQuery>(query);
    let _ = decode_query::<flows::FlowQuery>(query);
    let _ = decode_query::<inbox::SummariesQuery>(query);
    let _ = decode_query::<inbox::ListFansQuery>(query);
}

/// `bytes` as a client WebSocket frame.
pub fn client_frame(bytes: &[u8]) {
    let _ = ClientFrame::decode(bytes);
}
