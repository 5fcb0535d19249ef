//! One attempt: signing and sending an event, and what its outcome means
//! for the message and the endpoint.

use std::time::Duration;

use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::clock::Millis;
use crate::events::{Event, EventType};
use crate::webhooks::Endpoint;
use crate::webhooks::delivery::{
    Attempt, DISABLE_AFTER, EndpointHealth, MAX_RETRY_AFTER, Message, NextStep, Recorded, SCHEDULE, SendOutcome,
};

pub(super) fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An outcome with no answer, for `why`.
pub(super) fn failed(why: &str) -> SendOutcome {
    SendOutcome {
        error: Some(why.to_owned()),
        ..SendOutcome::default()
    }
}

fn succeeded(outcome: &SendOutcome) -> bool {
    outcome.status.is_some_and(|s| (200..300).contains(&s))
}

/// What an attempt of `message` started at `started` comes to, given the
/// endpoint's failure streak so far (`failing_since`, moved on here).
/// `event` is `None` when it was purged before it could be delivered:
/// then there is nothing left to send, and the message is given up quietly.
pub(super) fn record(
    endpoint: &Endpoint,
    failing_since: &mut Option<Millis>,
    message: &Message,
    event: Option<&Event>,
    started: Millis,
    outcome: SendOutcome,
) -> Recorded {
    let attempt = Attempt {
        endpoint_id: endpoint.id.clone(),
        event_id: message.event_id.clone(),
        event_type: event.map_or_else(|| "unknown".to_owned(), |e| e.event_type.clone()),
        attempt: message.attempts + 1,
        attempted_at: started,
        status_code: outcome.status,
        error: outcome.error.clone(),
        latency_ms: outcome.latency_ms,
        response_snippet: outcome.snippet.clone(),
    };
    let Some(event) = event else {
        return Recorded {
            message: message.clone(),
            attempt,
            next: NextStep::GiveUp,
            health: None,
            audit: None,
        };
    };
    let next = next_step(&attempt, &outcome);
    let health = health_after(*failing_since, &outcome, started);
    let audit = consequences(endpoint, event, &outcome, next, &health);
    let changed = health.disable.is_some() || health.failing_since != *failing_since;
    *failing_since = health.failing_since;
    Recorded {
        message: message.clone(),
        attempt,
        next,
        health: changed.then_some(health),
        audit,
    }
}

/// Delivered, retried on the schedule counted from this attempt's start (or
/// later, as `Retry-After` asks), or given up after the last wait or a
/// `410 Gone`.
fn next_step(attempt: &Attempt, outcome: &SendOutcome) -> NextStep {
    if succeeded(outcome) {
        return NextStep::Delivered;
    }
    if outcome.status == Some(410) {
        return NextStep::GiveUp;
    }
    let Some(wait) = usize::try_from(attempt.attempt - 1).ok().and_then(|i| SCHEDULE.get(i)) else {
        return NextStep::GiveUp;
    };
    let asked = outcome.retry_after.filter(|_| matches!(outcome.status, Some(429 | 503)));
    let wait = asked.map_or(*wait, |a| a.min(MAX_RETRY_AFTER).max(*wait));
    NextStep::Retry(attempt.attempted_at + ms(wait))
}

/// The endpoint's failure streak after this outcome, and whether it is
/// disabled now: at once on `410 Gone`, or after failing for [`DISABLE_AFTER`].
fn health_after(failing_since: Option<Millis>, outcome: &SendOutcome, at: Millis) -> EndpointHealth {
    if succeeded(outcome) {
        return EndpointHealth {
            failing_since: None,
            disable: None,
        };
    }
    let since = failing_since.unwrap_or(at);
    let disable = if outcome.status == Some(410) {
        Some("gone")
    } else if at - since >= ms(DISABLE_AFTER) {
        Some("failing")
    } else {
        None
    };
    EndpointHealth {
        failing_since: Some(since),
        disable,
    }
}

/// The events an attempt causes: `endpoint.disabled` when it disables the
/// endpoint, `message.attempt.exhausted` when the message is given up. The
/// endpoint's owner sees both (a partner's, in its own feed).
fn consequences(endpoint: &Endpoint, event: &Event, outcome: &SendOutcome, next: NextStep, health: &EndpointHealth) -> Option<AuditEvent> {
    let exhausted = next == NextStep::GiveUp && !succeeded(outcome);
    if health.disable.is_none() && !exhausted {
        return None;
    }
    let actor = Actor::system("webhooks");
    let partner = endpoint.owner.partner_id();
    let mut audit = AuditEvent::new(
        &actor,
        &event.platform_id,
        Some(&event.environment),
        "webhook.delivery",
        endpoint.id.as_str(),
    );
    if let Some(reason) = health.disable {
        let data = json!({ "endpoint_id": endpoint.id, "reason": reason });
        audit = audit.emit(&endpoint.env_id, EventType::EndpointDisabled, partner, data);
    }
    if exhausted {
        let data = json!({ "endpoint_id": endpoint.id, "event_id": event.id });
        audit = audit.emit(&endpoint.env_id, EventType::MessageAttemptExhausted, partner, data);
    }
    Some(audit)
}
