//! Scheduled messages (docs/api.md › Scheduled messages): an owner or supervisor writes a
//! message for a segment of fans, at an instant or at a wall-clock time in each fan's own
//! time zone (fans without one: the creator's), moved out of the quiet hours. Creating one
//! writes the message, one row per recipient with their own due time, and its first job
//! (`delivery.rs` sends them); reading shows the progress counted from the recipients'
//! rows; cancelling stops what is still pending. A preview answers the same question
//! without writing: how many fans, and when each time zone gets it.

use crate::app::error::{ServiceError, ServiceResult};
use crate::schedule::delivery::MessageJob;
use crate::{App, new_id};
use fandesk_domain::schedule::{
    QuietHours, Segment, Timing, due_at, parse_date, parse_wall_time, validate_timing,
};
use fandesk_domain::{Capability, Principal, Visibility, validate_body};
use fandesk_store::{
    NewScheduledDelivery, ScheduledDeliveryRow, ScheduledMessageRow, ScheduledProgress,
};
use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Recipients written per transaction while a message is prepared.
const PREPARE_CHUNK: usize = 5_000;
/// Messages listed at most.
const LIST_MAX: u32 = 200;
/// Recipients listed per page at most.
const DELIVERIES_MAX: u32 = 1_000;

/// A scheduled message as asked (the fields are checked by [`App::create_scheduled_message`]).
#[derive(Clone, Debug, Default)]
pub struct NewScheduledMessage {
    pub body: Option<String>,
    pub audience: Option<AudienceInput>,
    pub at: Option<Timestamp>,
    pub local: Option<LocalInput>,
    pub quiet_hours: Option<QuietInput>,
}

#[derive(Clone, Debug, Default)]
pub struct AudienceInput {
    pub fan_ids: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub vip: Option<bool>,
    pub all: Option<bool>,
}

#[derive(Clone, Debug, Default)]
pub struct LocalInput {
    pub date: Option<String>,
    pub time: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct QuietInput {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Who a message goes to, as asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AudienceView {
    pub fan_ids: Vec<String>,
    pub tags: Vec<String>,
    pub vip: bool,
    pub all: bool,
}

/// A wall-clock date and time in each fan's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LocalTimeView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub time: String,
}

/// Local hours `[start, end)` in which nothing is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuietHoursView {
    pub start: String,
    pub end: String,
}

/// A scheduled message and its progress.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ScheduledMessageView {
    pub id: String,
    /// `scheduled` (nothing sent yet), `sending` (some sent, some pending), `sent` (no
    /// recipient pending), `cancelled`, or `preparing` (its creation did not finish).
    pub status: String,
    pub body: String,
    pub audience: AudienceView,
    /// The instant, for a message scheduled at one.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// The local date and time, for a message scheduled in each fan's time zone.
    pub local: Option<LocalTimeView>,
    pub quiet_hours: Option<QuietHoursView>,
    /// The zone of recipients who gave none (the creator's).
    pub default_time_zone: String,
    /// Recipients in all.
    pub recipients: i64,
    pub sent: i64,
    pub pending: i64,
    pub cancelled: i64,
    /// Recipients who could not be sent to after several attempts.
    pub failed: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_due_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_due_at: Option<Timestamp>,
    /// Who scheduled it: the messages are theirs, marked automated.
    pub created_by: String,
    pub author_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
}

impl ScheduledMessageView {
    fn new(row: &ScheduledMessageRow, progress: ScheduledProgress) -> ScheduledMessageView {
        let status = match row.state.as_str() {
            "scheduled" if progress.pending == 0 => "sent",
            "scheduled" if progress.sent > 0 => "sending",
            other => other,
        };
        let local = match (&row.local_date, &row.local_time) {
            (Some(date), Some(time)) => Some(LocalTimeView {
                date: date.clone(),
                time: time.clone(),
            }),
            _ => None,
        };
        let quiet_hours = match (&row.quiet_start, &row.quiet_end) {
            (Some(start), Some(end)) => Some(QuietHoursView {
                start: start.clone(),
                end: end.clone(),
            }),
            _ => None,
        };
        ScheduledMessageView {
            id: row.id.clone(),
            status: status.to_owned(),
            body: row.body.clone(),
            audience: serde_json::from_str(&row.audience).unwrap_or_default(),
            at: row.at,
            local,
            quiet_hours,
            default_time_zone: row.default_time_zone.clone(),
            recipients: row.recipients,
            sent: progress.sent,
            pending: progress.pending,
            cancelled: progress.cancelled,
            failed: progress.failed,
            first_due_at: row.first_due_at,
            last_due_at: row.last_due_at,
            created_by: row.created_by.0.clone(),
            author_name: row.author_name.clone(),
            created_at: row.created_at,
            cancelled_at: row.cancelled_at,
        }
    }
}

/// One recipient of a scheduled message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScheduledDeliveryView {
    pub fan_id: String,
    /// The zone their due time was computed in.
    pub time_zone: String,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub status: String,
    /// The conversation it goes (or went) to, once chosen.
    pub conversation_id: Option<String>,
    /// The message, once sent.
    pub message_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
}

impl ScheduledDeliveryView {
    fn new(row: ScheduledDeliveryRow) -> ScheduledDeliveryView {
        ScheduledDeliveryView {
            fan_id: row.fan_id.0,
            time_zone: row.time_zone,
            due_at: row.due_at,
            status: row.status,
            conversation_id: row.conversation_id.map(|id| id.0),
            message_id: row.message_id.map(|id| id.0),
            sent_at: row.sent_at,
        }
    }
}

/// When one time zone's recipients get a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ZonePreview {
    pub time_zone: String,
    pub recipients: i64,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// The due time on that zone's wall clock, `YYYY-MM-DDTHH:MM`.
    pub local_due: String,
}

/// What creating a message would do: how many fans, and when each zone gets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SchedulePreview {
    pub recipients: i64,
    /// Earliest first.
    pub zones: Vec<ZonePreview>,
}

/// A message checked and its recipients resolved, ready to write or preview.
struct Plan {
    body: String,
    audience: AudienceView,
    timing: Timing,
    quiet: Option<QuietHours>,
    default_zone: String,
    deliveries: Vec<NewScheduledDelivery>,
}

fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_owned()
}

fn wall(text: Option<&str>, field: &str) -> ServiceResult<jiff::civil::Time> {
    let text = text.ok_or_else(|| ServiceError::invalid(field, "is required"))?;
    parse_wall_time(text).ok_or_else(|| ServiceError::invalid(field, "must be HH:MM, 00:00–23:59"))
}

/// The timing asked: exactly one of `at` and `local`.
fn timing_of(input: &NewScheduledMessage, now: Timestamp) -> ServiceResult<Timing> {
    let timing = match (&input.at, &input.local) {
        (Some(at), None) => Timing::At(*at),
        (None, Some(local)) => {
            let date = local
                .date
                .as_deref()
                .ok_or_else(|| ServiceError::invalid("local.date", "is required"))?;
            let date = parse_date(date)
                .ok_or_else(|| ServiceError::invalid("local.date", "must be a date YYYY-MM-DD"))?;
            let time = wall(local.time.as_deref(), "local.time")?;
            // Already past even where the day starts first (UTC+14): nowhere left to send.
            let earliest = TimeZone::fixed(Offset::constant(14));
            if due_at(Timing::Local { date, time }, &earliest, None) < now {
                return Err(ServiceError::invalid(
                    "local.date",
                    "this local time has already passed in every time zone",
                ));
            }
            Timing::Local { date, time }
        }
        (Some(_), Some(_)) => {
            return Err(ServiceError::invalid(
                "at",
                "give `at` or `local`, not both",
            ));
        }
        (None, None) => return Err(ServiceError::invalid("at", "give `at` or `local`")),
    };
    validate_timing(timing, now)?;
    Ok(timing)
}

impl App {
    /// The member behind `actor` when they may schedule messages.
    fn message_scheduler<'a>(&self, actor: &'a Principal) -> ServiceResult<&'a Principal> {
        actor.require(Capability::ScheduleMessages)?;
        match actor {
            Principal::Member { .. } => Ok(actor),
            Principal::Fan { .. } => Err(ServiceError::Forbidden(
                "only owners and supervisors schedule messages".into(),
            )),
        }
    }

    /// Checks `input` and resolves its recipients and their due times.
    async fn plan_scheduled(
        &self,
        actor: &Principal,
        input: &NewScheduledMessage,
    ) -> ServiceResult<Plan> {
        let now = self.now();
        let body = validate_body(
            input
                .body
                .as_deref()
                .ok_or_else(|| ServiceError::invalid("body", "is required"))?,
        )?;
        // A message the restricted words block is refused now rather than at its time.
        self.post_extras(actor, Visibility::Public, &body, None)
            .await?;
        let asked = input
            .audience
            .clone()
            .ok_or_else(|| ServiceError::invalid("audience", "is required"))?;
        let segment = Segment::new(
            asked.fan_ids.unwrap_or_default(),
            asked.tags.unwrap_or_default(),
            asked.vip.unwrap_or(false),
            asked.all.unwrap_or(false),
        )?;
        let timing = timing_of(input, now)?;
        let quiet = match &input.quiet_hours {
            None => None,
            Some(quiet) => Some(QuietHours::new(
                wall(quiet.start.as_deref(), "quiet_hours.start")?,
                wall(quiet.end.as_deref(), "quiet_hours.end")?,
            )?),
        };
        let fans = self
            .store()
            .list_segment_fans(&segment.fan_ids, &segment.tags_matched(), segment.all)
            .await?;
        if let Some(unknown) = segment
            .fan_ids
            .iter()
            .find(|id| fans.binary_search_by(|fan| fan.fan_id.cmp(*id)).is_err())
        {
            return Err(ServiceError::invalid(
                "audience.fan_ids",
                format!("no fan has the id {}", unknown.as_str()),
            ));
        }
        if fans.is_empty() {
            return Err(ServiceError::invalid(
                "audience",
                "no fan matches this audience",
            ));
        }
        let default = self.inner.config.desk.creator_timezone.clone();
        let mut zones: BTreeMap<Option<String>, (String, Timestamp)> = BTreeMap::new();
        let mut deliveries = Vec::with_capacity(fans.len());
        for fan in fans {
            let (time_zone, due) = zones
                .entry(fan.timezone.clone())
                .or_insert_with(|| {
                    let zone = fan
                        .timezone
                        .as_deref()
                        .and_then(|name| TimeZone::get(name).ok())
                        .unwrap_or_else(|| default.clone());
                    (zone_name(&zone), due_at(timing, &zone, quiet).max(now))
                })
                .clone();
            deliveries.push(NewScheduledDelivery {
                fan_id: fan.fan_id,
                time_zone,
                due_at: due,
            });
        }
        Ok(Plan {
            body,
            audience: AudienceView {
                fan_ids: segment.fan_ids.iter().map(|id| id.0.clone()).collect(),
                tags: segment.tags.clone(),
                vip: segment.vip,
                all: segment.all,
            },
            timing,
            quiet,
            default_zone: zone_name(&default),
            deliveries,
        })
    }

    /// Schedules a message (docs/api.md › Scheduled messages): its recipients and their
    /// due times are fixed now, and the first job is written with them.
    pub async fn create_scheduled_message(
        &self,
        actor: &Principal,
        input: NewScheduledMessage,
    ) -> ServiceResult<ScheduledMessageView> {
        let Principal::Member { id, role, name } = self.message_scheduler(actor)? else {
            return Err(ServiceError::Forbidden("only team members schedule".into()));
        };
        let plan = self.plan_scheduled(actor, &input).await?;
        let now = self.now();
        let first = plan.deliveries.iter().map(|d| d.due_at).min();
        let last = plan.deliveries.iter().map(|d| d.due_at).max();
        let (at, local_date, local_time) = match plan.timing {
            Timing::At(at) => (Some(at), None, None),
            Timing::Local { date, time } => (
                None,
                Some(date.to_string()),
                Some(time.strftime("%H:%M").to_string()),
            ),
        };
        let hhmm = |time: jiff::civil::Time| time.strftime("%H:%M").to_string();
        let row = ScheduledMessageRow {
            id: new_id("smsg"),
            body: plan.body,
            audience: serde_json::to_string(&plan.audience)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            at,
            local_date,
            local_time,
            quiet_start: plan.quiet.map(|quiet| hhmm(quiet.start)),
            quiet_end: plan.quiet.map(|quiet| hhmm(quiet.end)),
            default_time_zone: plan.default_zone,
            recipients: plan.deliveries.len() as i64,
            state: "preparing".into(),
            created_by: id.clone(),
            author_name: name.clone(),
            author_role: *role,
            first_due_at: first,
            last_due_at: last,
            created_at: now,
            cancelled_at: None,
        };
        self.store().insert_scheduled_message(&row).await?;
        for chunk in plan.deliveries.chunks(PREPARE_CHUNK) {
            self.store()
                .insert_scheduled_deliveries(&row.id, chunk)
                .await?;
        }
        let first = first.unwrap_or(now);
        let job = MessageJob::new_job(&row.id, 0, first)?;
        self.store()
            .activate_scheduled_message(&row.id, &job, now)
            .await?;
        if first <= now {
            self.inner.jobs.wake();
        }
        self.scheduled_message_view(&row.id).await
    }

    /// What creating `input` would do, without writing anything.
    pub async fn preview_scheduled_message(
        &self,
        actor: &Principal,
        input: NewScheduledMessage,
    ) -> ServiceResult<SchedulePreview> {
        self.message_scheduler(actor)?;
        let plan = self.plan_scheduled(actor, &input).await?;
        let mut zones: BTreeMap<(Timestamp, String), i64> = BTreeMap::new();
        for delivery in &plan.deliveries {
            *zones
                .entry((delivery.due_at, delivery.time_zone.clone()))
                .or_default() += 1;
        }
        let zones = zones
            .into_iter()
            .map(|((due_at, time_zone), recipients)| {
                let zone = TimeZone::get(&time_zone).unwrap_or(TimeZone::UTC);
                ZonePreview {
                    local_due: zone
                        .to_datetime(due_at)
                        .strftime("%Y-%m-%dT%H:%M")
                        .to_string(),
                    time_zone,
                    recipients,
                    due_at,
                }
            })
            .collect();
        Ok(SchedulePreview {
            recipients: plan.deliveries.len() as i64,
            zones,
        })
    }

    async fn scheduled_message_view(&self, id: &str) -> ServiceResult<ScheduledMessageView> {
        let row = self
            .store()
            .find_scheduled_message(id)
            .await?
            .ok_or(ServiceError::NotFound("scheduled message"))?;
        let progress = self.store().scheduled_progress(&[id]).await?;
        Ok(ScheduledMessageView::new(
            &row,
            progress.get(id).copied().unwrap_or_default(),
        ))
    }

    /// One scheduled message and its progress.
    pub async fn get_scheduled_message(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ScheduledMessageView> {
        self.message_scheduler(actor)?;
        self.scheduled_message_view(id).await
    }

    /// The latest scheduled messages, newest first, with their progress.
    pub async fn list_scheduled_messages(
        &self,
        actor: &Principal,
        limit: u32,
    ) -> ServiceResult<Vec<ScheduledMessageView>> {
        self.message_scheduler(actor)?;
        let rows = self
            .store()
            .list_scheduled_messages(limit.clamp(1, LIST_MAX))
            .await?;
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        let progress = self.store().scheduled_progress(&ids).await?;
        Ok(rows
            .iter()
            .map(|row| {
                ScheduledMessageView::new(row, progress.get(&row.id).copied().unwrap_or_default())
            })
            .collect())
    }

    /// A page of a message's recipients by fan id, after `after` when given.
    pub async fn list_scheduled_deliveries(
        &self,
        actor: &Principal,
        id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> ServiceResult<Vec<ScheduledDeliveryView>> {
        self.message_scheduler(actor)?;
        if self.store().find_scheduled_message(id).await?.is_none() {
            return Err(ServiceError::NotFound("scheduled message"));
        }
        let rows = self
            .store()
            .list_scheduled_deliveries(id, after, limit.clamp(1, DELIVERIES_MAX))
            .await?;
        Ok(rows.into_iter().map(ScheduledDeliveryView::new).collect())
    }

    /// Cancels what is still pending of a message (a recipient whose message is being
    /// committed at this moment still gets it, and counts as sent). Cancelling again
    /// changes nothing.
    pub async fn cancel_scheduled_message(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ScheduledMessageView> {
        self.message_scheduler(actor)?;
        if self.store().find_scheduled_message(id).await?.is_none() {
            return Err(ServiceError::NotFound("scheduled message"));
        }
        self.store()
            .cancel_scheduled_message(id, self.now())
            .await?;
        self.scheduled_message_view(id).await
    }
}
