//! Webhooks: subscriptions to the changes of a company's objects, and the events those changes
//! write to the outbox (in the change's own transaction) for the dispatcher to deliver.
//!
//! The management rules are Pipedrive's (`/v1/webhooks`): a `version` of `"1.0"` speaks v1's
//! actions (`added`, `updated`, `merged`, `deleted`), `"2.0"` (the default since 2025-03-17)
//! v2's (`create`, `change`, `delete`); 40 webhooks per user; admins manage the company's,
//! other users their own. An event is delivered only to webhooks whose user may see the object.

use super::ports::Store;
use super::time::real_ms;
use super::{Clock, DomainError, Session, Timestamp};

/// How many webhooks one user may have (Pipedrive's limit).
pub const MAX_PER_USER: i64 = 40;

/// How many delivery attempts a webhook's log keeps.
pub const LOG_SIZE: i64 = 100;

/// The objects events are sent for, as `event_object` and v1's `meta.object` name them.
pub const OBJECTS: &[&str] = &[
    "activity",
    "activityType",
    "deal",
    "note",
    "organization",
    "person",
    "personField",
    "pipeline",
    "stage",
    "user",
];

/// Objects Pipedrive has and pipestack does not: accepted in a subscription, never sent.
const OBJECTS_ELSEWHERE: &[&str] = &["lead", "product"];

/// What happened to an object, in v1's words (v2's are derived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Added,
    Updated,
    Merged,
    Deleted,
}

impl Action {
    pub fn v1(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Updated => "updated",
            Self::Merged => "merged",
            Self::Deleted => "deleted",
        }
    }

    /// v2 has no merge: the kept object's merge is a `change`.
    pub fn v2(self) -> &'static str {
        match self {
            Self::Added => "create",
            Self::Updated | Self::Merged => "change",
            Self::Deleted => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "added" => Self::Added,
            "updated" => Self::Updated,
            "merged" => Self::Merged,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }
}

/// Where a change was made: Pipedrive's `change_source`, in a person's changelog (and in
/// webhooks' `meta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeSource {
    /// Through the REST API.
    #[default]
    Api,
    /// In the web app (`/app`).
    App,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::App => "app",
        }
    }

    /// A stored source; anything else was the API's.
    pub fn parse(s: &str) -> Self {
        if s == "app" { Self::App } else { Self::Api }
    }
}

/// Who made a change, when and where: what every write's event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub user_id: i64,
    pub time: Timestamp,
    pub source: ChangeSource,
    /// The same moment to the millisecond (webhooks' `timestamp`).
    pub time_ms: i64,
}

impl Stamp {
    /// Now by the company's clock, by the session's user.
    pub fn by(session: &Session) -> Self {
        Self {
            source: session.source,
            ..Self::at(session.user.id, session.company.clock.now_ms())
        }
    }

    /// Now in real time, by `user_id` (the store moves it to the company's clock when it
    /// records an event: [`Stamp::on`]).
    pub fn now(user_id: i64) -> Self {
        Self::at(user_id, real_ms())
    }

    pub fn at(user_id: i64, time_ms: i64) -> Self {
        Self {
            user_id,
            time: Timestamp::from_ms(time_ms),
            source: ChangeSource::Api,
            time_ms,
        }
    }

    /// The same change, made where `source` says.
    pub fn via(self, source: ChangeSource) -> Self {
        Self { source, ..self }
    }

    /// The same change stamped by `clock`, when the company's clock is not real time.
    pub fn on(self, clock: Clock) -> Self {
        if clock.is_real() {
            self
        } else {
            Self {
                source: self.source,
                ..Self::at(self.user_id, clock.now_ms())
            }
        }
    }
}

/// A change to one object, as the outbox keeps it: the object before and after, each as the
/// domain's own snapshot (JSON text), rendered into v1 or v2 payloads when delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub company_id: i64,
    pub object: &'static str,
    pub object_id: i64,
    pub action: Action,
    pub stamp: Stamp,
    pub previous: Option<String>,
    pub current: Option<String>,
    /// The other person of a merge: on the deleted one, the one kept (`merged_to_id`); on the
    /// kept one, the one deleted (`merged_from_id`).
    pub merged_id: Option<i64>,
}

/// A stored event, as the dispatcher reads it from the outbox.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub event: Event,
}

/// A webhook as stored and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub user_id: i64,
    pub name: String,
    pub event_action: String,
    pub event_object: String,
    pub subscription_url: String,
    pub version: Version,
    pub http_auth_user: Option<String>,
    pub http_auth_password: Option<String>,
    pub add_time_ms: i64,
    pub remove_time: Option<Timestamp>,
    pub remove_reason: Option<String>,
    pub last_delivery_time: Option<Timestamp>,
    pub last_http_status: Option<i64>,
    pub last_success_time: Option<Timestamp>,
    /// The first failed attempt since the last success: three days on, the webhook goes.
    pub failing_since: Option<Timestamp>,
    pub ban_counter: i64,
    pub banned_until: Option<Timestamp>,
}

impl Webhook {
    /// Whether it still delivers (not removed; a ban only pauses it).
    pub fn is_active(&self) -> bool {
        self.remove_time.is_none()
    }

    pub fn is_banned(&self, now: Timestamp) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    /// Whether an event of `object` with `action` is one this webhook subscribed to. A v1
    /// webhook may be subscribed in v2's words too (the SDKs list only those).
    pub fn wants(&self, object: &str, action: Action) -> bool {
        wants(
            (&self.event_object, &self.event_action, self.version),
            object,
            action,
        )
    }
}

/// Whether webhooks of `version` are sent events of `object`: v2 has no activity types.
pub fn has_object(version: Version, object: &str) -> bool {
    !(version == Version::V2 && object == "activityType")
}

/// Whether a webhook subscribed to `(event_object, event_action, version)` wants an event of
/// `action` on `object`: the one rule, for the store's lookup and for [`Webhook::wants`].
pub fn wants(
    (subscribed_object, said, version): (&str, &str, Version),
    object: &str,
    action: Action,
) -> bool {
    let action_matches =
        said == "*" || said == action.v2() || (version == Version::V1 && said == action.v1());
    (subscribed_object == "*" || subscribed_object == object)
        && has_object(version, object)
        && action_matches
}

/// The payload format a webhook speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V2 => "2.0",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "1.0" | "1" => Some(Self::V1),
            "2.0" | "2" => Some(Self::V2),
            _ => None,
        }
    }

    /// The actions a webhook of this version may subscribe to: v2's words, and for v1 its own
    /// too (Pipedrive's SDKs list only v2's, so a v1 webhook made with them must work; a v2
    /// webhook with v1's words is refused, as a Pipedrive maintainer confirmed).
    fn actions(self) -> &'static [&'static str] {
        match self {
            Self::V1 => &[
                "added", "updated", "merged", "deleted", "create", "change", "delete", "*",
            ],
            Self::V2 => &["create", "change", "delete", "*"],
        }
    }
}

/// What a client asked for in `POST /v1/webhooks`, parsed but not checked.
#[derive(Debug, Clone, Default)]
pub struct WebhookDraft {
    pub subscription_url: Option<String>,
    pub event_action: Option<String>,
    pub event_object: Option<String>,
    pub user_id: Option<i64>,
    pub http_auth_user: Option<String>,
    pub http_auth_password: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
}

/// A webhook ready to be stored: every rule but the per-user limit applied (the store counts
/// inside its write).
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub company_id: i64,
    pub owner_id: i64,
    pub user_id: i64,
    pub name: String,
    pub event_action: String,
    pub event_object: String,
    pub subscription_url: String,
    pub version: Version,
    pub http_auth_user: Option<String>,
    pub http_auth_password: Option<String>,
    pub add_time_ms: i64,
}

/// One delivery attempt, as a webhook's log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub id: i64,
    pub event: String,
    pub object_id: i64,
    /// 1 for the first try, up to 4.
    pub attempt: i64,
    pub time_ms: i64,
    pub http_status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.http_status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The refusal of the 41st webhook of a user (Pipedrive's 422), as the store reports it.
pub fn too_many() -> DomainError {
    DomainError::LimitReached("subscription_url: Webhooks limit reached".into())
}

/// Checks a subscription URL's form: an absolute `http` or `https` URL with a host. Whether the
/// server may call its address is the dispatcher's policy (`--webhook-allow`).
pub fn check_url(url: &str) -> Result<(), DomainError> {
    let invalid = || DomainError::invalid("subscription_url", "invalid or non-reachable URL");
    // Parsed as the sender will parse it (the WHATWG rules `reqwest` follows), so that what is
    // checked is what is called.
    let parsed = url::Url::parse(url).map_err(|_| invalid())?;
    let http = matches!(parsed.scheme(), "http" | "https");
    if !http || parsed.host_str().is_none_or(str::is_empty) || url.len() > 2048 {
        return Err(invalid());
    }
    Ok(())
}

/// Applies the rules to a draft: what `POST /v1/webhooks` stores, or why not.
pub async fn prepare(
    store: &dyn Store,
    session: &Session,
    draft: WebhookDraft,
) -> Result<NewWebhook, DomainError> {
    let url = draft
        .subscription_url
        .ok_or_else(|| DomainError::Required("subscription_url".into()))?;
    check_url(&url)?;
    let version = match draft.version.as_deref() {
        None => Version::V2,
        Some(v) => Version::parse(v)
            .ok_or_else(|| DomainError::invalid("version", "must be \"1.0\" or \"2.0\""))?,
    };
    let action = draft
        .event_action
        .ok_or_else(|| DomainError::Required("event_action".into()))?;
    if !version.actions().contains(&action.as_str()) {
        return Err(DomainError::invalid(
            "event_action",
            format!(
                "must be one of {} for version {}",
                version.actions().join(", "),
                version.as_str()
            ),
        ));
    }
    let object = draft
        .event_object
        .ok_or_else(|| DomainError::Required("event_object".into()))?;
    let known = object == "*"
        || OBJECTS.contains(&object.as_str())
        || OBJECTS_ELSEWHERE.contains(&object.as_str());
    if !known || !has_object(version, &object) {
        return Err(DomainError::invalid(
            "event_object",
            format!(
                "{object} is not an object webhooks of version {} are sent for",
                version.as_str()
            ),
        ));
    }
    let user_id = match draft.user_id {
        None => session.user.id,
        Some(id) if id == session.user.id => id,
        Some(id) => {
            if !session.user.is_admin {
                return Err(DomainError::Forbidden(
                    "Only admins may create webhooks for other users.".into(),
                ));
            }
            let user = store.user(session.company.id, id).await?;
            if !user.is_some_and(|u| u.active) {
                return Err(DomainError::invalid(
                    "user_id",
                    format!("{id} is not an active user of the company"),
                ));
            }
            id
        }
    };
    let name = draft
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{action}.{object}"));
    if name.chars().count() > 255 {
        return Err(DomainError::invalid(
            "name",
            "is longer than 255 characters",
        ));
    }
    Ok(NewWebhook {
        company_id: session.company.id,
        owner_id: session.user.id,
        user_id,
        name,
        event_action: action,
        event_object: object,
        subscription_url: url,
        version,
        http_auth_user: draft.http_auth_user,
        http_auth_password: draft.http_auth_password,
        add_time_ms: Stamp::by(session).time_ms,
    })
}

/// Whether the session's user manages this webhook: admins every one of the company, other
/// users those they own or receive.
pub fn manages(session: &Session, w: &Webhook) -> bool {
    session.user.is_admin || w.owner_id == session.user.id || w.user_id == session.user.id
}

/// The webhooks the session's user manages.
pub async fn list(store: &dyn Store, session: &Session) -> Result<Vec<Webhook>, DomainError> {
    Ok(store
        .webhooks(session.company.id)
        .await?
        .into_iter()
        .filter(|w| manages(session, w))
        .collect())
}

pub async fn add(
    store: &dyn Store,
    session: &Session,
    draft: WebhookDraft,
) -> Result<Webhook, DomainError> {
    let new = prepare(store, session, draft).await?;
    Ok(store.insert_webhook(new).await?)
}

/// A webhook the session's user manages: 404 when the company has none with that id, 403
/// when it is another user's.
pub async fn find(store: &dyn Store, session: &Session, id: i64) -> Result<Webhook, DomainError> {
    let w = store
        .webhook(session.company.id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound("Webhook not found".into()))?;
    if !manages(session, &w) {
        return Err(DomainError::Forbidden("Forbidden".into()));
    }
    Ok(w)
}

pub async fn delete(store: &dyn Store, session: &Session, id: i64) -> Result<(), DomainError> {
    let w = find(store, session, id).await?;
    store.delete_webhook(session.company.id, w.id).await?;
    Ok(())
}

/// The last attempts to deliver the webhook's events, newest first.
pub async fn deliveries(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<(Webhook, Vec<Attempt>), DomainError> {
    let w = find(store, session, id).await?;
    let attempts = store
        .webhook_attempts(session.company.id, w.id, LOG_SIZE)
        .await?;
    Ok((w, attempts))
}

/// First-attempt failures that ban a webhook (Pipedrive's ban counter).
pub const BAN_AFTER: i64 = 10;
/// How long a ban lasts; events meanwhile are not sent to the webhook.
pub const BAN_SECONDS: i64 = 30 * 60;
/// A webhook with no successful delivery for this long is removed.
pub const REMOVE_AFTER_SECONDS: i64 = 3 * 24 * 60 * 60;
/// Why such a webhook was removed (`remove_reason`).
pub const REMOVED_FAILING: &str = "no successful delivery in 3 days";

/// What a webhook shows of its deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryState {
    pub last_delivery_time: Option<Timestamp>,
    pub last_http_status: Option<i64>,
    pub last_success_time: Option<Timestamp>,
    pub failing_since: Option<Timestamp>,
    pub ban_counter: i64,
    pub banned_until: Option<Timestamp>,
    pub remove_time: Option<Timestamp>,
    pub remove_reason: Option<String>,
}

/// The webhook's state after an attempt: Pipedrive's policy. A failed first attempt counts
/// towards a ban (retries do not); the tenth bans the webhook for 30 minutes and starts the
/// count again; a failure three days after the first failure with no success since removes
/// it (a webhook that was quiet for days is not removed by its first failure).
pub fn after_attempt(w: &Webhook, a: &Attempt) -> DeliveryState {
    let now = Timestamp(a.time_ms.div_euclid(1000));
    let mut state = DeliveryState {
        last_delivery_time: Some(now),
        last_http_status: a.http_status,
        last_success_time: w.last_success_time,
        failing_since: w.failing_since,
        ban_counter: w.ban_counter,
        banned_until: w.banned_until,
        remove_time: w.remove_time,
        remove_reason: w.remove_reason.clone(),
    };
    if a.succeeded() {
        state.last_success_time = Some(now);
        state.failing_since = None;
        return state;
    }
    let since = *state.failing_since.get_or_insert(now);
    if a.attempt == 1 {
        state.ban_counter += 1;
        if state.ban_counter >= BAN_AFTER {
            state.ban_counter = 0;
            state.banned_until = Some(Timestamp(now.0 + BAN_SECONDS));
        }
    }
    if state.remove_time.is_none() && now.0 - since.0 >= REMOVE_AFTER_SECONDS {
        state.remove_time = Some(now);
        state.remove_reason = Some(REMOVED_FAILING.into());
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(add_time: i64) -> Webhook {
        Webhook {
            id: 1,
            company_id: 1,
            owner_id: 1,
            user_id: 1,
            name: "*.*".into(),
            event_action: "*".into(),
            event_object: "*".into(),
            subscription_url: "http://127.0.0.1/h".into(),
            version: Version::V2,
            http_auth_user: None,
            http_auth_password: None,
            add_time_ms: add_time * 1000,
            remove_time: None,
            remove_reason: None,
            last_delivery_time: None,
            last_http_status: None,
            last_success_time: None,
            failing_since: None,
            ban_counter: 0,
            banned_until: None,
        }
    }

    fn attempt(at: i64, number: i64, status: Option<i64>) -> Attempt {
        Attempt {
            id: 0,
            event: "added.person".into(),
            object_id: 1,
            attempt: number,
            time_ms: at * 1000,
            http_status: status,
            latency_ms: 1,
            error: None,
        }
    }

    fn apply(w: &mut Webhook, a: &Attempt) {
        let s = after_attempt(w, a);
        w.ban_counter = s.ban_counter;
        w.banned_until = s.banned_until;
        w.last_success_time = s.last_success_time;
        w.failing_since = s.failing_since;
        w.remove_time = s.remove_time;
        w.remove_reason = s.remove_reason;
    }

    #[test]
    fn only_first_attempts_count_towards_a_ban_and_the_tenth_bans_for_30_minutes() {
        let mut w = webhook(1_000);
        for _ in 0..5 {
            apply(&mut w, &attempt(1_000, 2, Some(500)));
        }
        assert_eq!(w.ban_counter, 0, "retries do not count");
        for i in 0..9 {
            apply(&mut w, &attempt(1_000 + i, 1, None));
        }
        assert_eq!(w.ban_counter, 9);
        assert!(!w.is_banned(Timestamp(1_010)));
        apply(&mut w, &attempt(1_010, 1, Some(503)));
        assert_eq!(w.ban_counter, 0, "the count starts again");
        assert!(w.is_banned(Timestamp(1_010 + BAN_SECONDS - 1)));
        assert!(!w.is_banned(Timestamp(1_010 + BAN_SECONDS)));
    }

    #[test]
    fn three_days_of_failures_remove_a_webhook_and_a_success_restarts_the_days() {
        let day = 24 * 60 * 60;
        let mut w = webhook(0);
        // Quiet for four days, then a failure: not removed, the days start now.
        apply(&mut w, &attempt(4 * day, 1, Some(500)));
        assert!(w.is_active());
        assert_eq!(w.failing_since, Some(Timestamp(4 * day)));
        apply(&mut w, &attempt(6 * day, 1, None));
        assert!(w.is_active(), "two days of failures");
        apply(&mut w, &attempt(6 * day + 1, 1, Some(200)));
        assert_eq!(w.failing_since, None, "a success restarts the days");
        apply(&mut w, &attempt(8 * day, 1, Some(500)));
        apply(&mut w, &attempt(11 * day, 2, None));
        assert!(!w.is_active());
        assert_eq!(w.remove_time, Some(Timestamp(11 * day)));
        assert_eq!(w.remove_reason.as_deref(), Some(REMOVED_FAILING));
    }

    #[test]
    fn a_webhook_wants_its_action_and_object_in_its_versions_words() {
        let mut w = webhook(0);
        w.event_action = "change".into();
        w.event_object = "person".into();
        assert!(w.wants("person", Action::Updated));
        assert!(
            w.wants("person", Action::Merged),
            "v2 has no merge: it is a change"
        );
        assert!(!w.wants("person", Action::Added));
        assert!(!w.wants("deal", Action::Updated));
        w.version = Version::V1;
        w.event_action = "merged".into();
        w.event_object = "*".into();
        assert!(w.wants("organization", Action::Merged));
        assert!(!w.wants("person", Action::Updated));
        w.event_action = "change".into();
        assert!(
            w.wants("person", Action::Updated),
            "v2's words on a v1 webhook"
        );
        assert!(w.wants("person", Action::Merged));
        assert!(!w.wants("person", Action::Deleted));
    }

    #[test]
    fn subscription_urls_must_be_absolute_http_urls() {
        for good in [
            "http://127.0.0.1:9/h",
            "https://example.org/hook?x=1",
            "http://[::1]/h",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "example.org",
            "ftp://x/y",
            "http://",
            "http://a b/",
            "https://:80/",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
