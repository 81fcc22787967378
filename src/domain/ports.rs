//! What the domain needs from storage: one narrow trait per concern (tenants, fields,
//! persons, organizations, pipelines, deals, activities, notes, summaries, followers), the
//! types they speak, and [`StoreError`].
//!
//! The domain owns these traits and `store/` implements them, so storage depends on the domain
//! and never the other way round. A store is deliberately dumb: it persists and reads what the
//! domain has already checked, scoping every query by company. The one promise it adds is
//! durability: a write returns only after it is committed to disk.

use std::sync::Arc;

use async_trait::async_trait;

use super::activity::types::{NewActivityType, TypeDraft};
use super::activity::{Activity, ActivityFilter, ActivityType, ActivityValues, NewActivity};
use super::deal::{Deal, DealChanges, DealFilter, NewDeal};
use super::fields::{FieldDef, FieldSettings, FieldType};
use super::followers::{Follower, FollowerChange, FollowerRef};
use super::note::{NewNote, Note, NoteFilter, NoteValues};
use super::organization::{NewOrganization, Organization, OrganizationChanges, OrganizationQuery};
use super::person::{NewPerson, Person, PersonChange, PersonChanges};
use super::pipeline::{
    NewPipeline, NewStage, Pipeline, PipelineChanges, Stage, StageChanges, StageFilter,
};
use super::query::{ListQuery, PersonQuery};
use super::summary::{Summary, SummaryParts};
use super::webhook::{Attempt, ChangeSource, NewWebhook, Stamp, StoredEvent, Webhook};
use super::{Clock, Company, DomainError, Kind, Session, Timestamp, User};

/// A change decided on an entity as it is inside the write's transaction (where engines that
/// run writes side by side have locked it): what a concurrent write did is built on, never
/// undone. An error refuses the change ([`StoreError::Refused`]). A write may be run again
/// (PostgreSQL retries a deadlock's victim), so the decision may be asked for again.
pub type Edit<T, C> = Arc<dyn Fn(&T) -> Result<C, DomainError> + Send + Sync>;

/// A merge decided on both persons (`from`, `into`) as they are inside the transaction.
pub type MergeEdit =
    Arc<dyn Fn(&Person, &Person) -> Result<PersonChanges, DomainError> + Send + Sync>;

/// What [`Store::version`] answers: opaque bytes the engine defines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataVersion(pub Box<[u8]>);

impl StoreError {
    /// A rule's refusal, carried through the store unchanged.
    pub fn refused(e: DomainError) -> Self {
        Self::Refused(Box::new(e))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: retryable, answered with 503.
    #[error("{0}")]
    Unavailable(String),
    /// The write breaks a uniqueness rule (an email already taken, say).
    #[error("{0}")]
    Conflict(String),
    /// A rule refused the change as things stand inside its transaction (an [`Edit`] failed,
    /// or what it refers to is gone): nothing was written; the domain's own error.
    #[error("{0}")]
    Refused(Box<DomainError>),
    /// The transaction lost a race the engine cannot serialize (a deadlock): nothing was
    /// written, and the same request may succeed if sent again.
    #[error("{0}")]
    Contended(String),
    /// Anything else: a bug or a corrupt database.
    #[error("{0}")]
    Internal(String),
}

/// A built-in field a company is created with: `(key, name, type)`.
pub type BuiltinField = (String, String, FieldType);

/// A company to create, with its first (admin) user.
#[derive(Debug, Clone)]
pub struct NewCompany {
    pub name: String,
    pub campaigns_enabled: bool,
    pub defaults: Defaults,
    pub add_time: Timestamp,
}

/// What a company starts with besides its admin (and gets back when it is reset): built-in
/// fields and labels here; the default pipeline and activity types come with them.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The built-in fields of each kind.
    pub fields: Vec<(Kind, Vec<BuiltinField>)>,
    /// Options each kind's label field starts with: `(label, color)`.
    pub labels: Vec<(Kind, Vec<(String, String)>)>,
}

/// A saved copy of a company's data (the admin API's snapshots).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    pub add_time: Timestamp,
    /// The size of the copy, in bytes of JSON.
    pub size_bytes: i64,
}

/// What a snapshot could not be restored for.
#[derive(Debug, Clone, PartialEq)]
pub enum Restore {
    Done,
    NotFound,
    /// Taken at another schema version (before an upgrade).
    Stale {
        schema: i64,
    },
}

/// The admin API's store: a company's data reset, copied and restored, and its clock.
#[async_trait]
pub trait ToolkitStore: Send + Sync {
    /// Deletes every piece of the company's data but its users (their tokens and settings
    /// stay), with the webhooks' outbox and log, and puts back its defaults and real time, in
    /// one write.
    async fn reset_company(
        &self,
        company_id: i64,
        defaults: Defaults,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Saves the company's data under `name`, replacing a snapshot of that name.
    async fn save_snapshot(
        &self,
        company_id: i64,
        name: &str,
        at: Timestamp,
    ) -> Result<SnapshotInfo, StoreError>;
    async fn snapshots(&self, company_id: i64) -> Result<Vec<SnapshotInfo>, StoreError>;
    /// Puts the company's data back as the snapshot has it, in one write.
    async fn restore_snapshot(&self, company_id: i64, name: &str) -> Result<Restore, StoreError>;
    /// Whether there was one.
    async fn delete_snapshot(&self, company_id: i64, name: &str) -> Result<bool, StoreError>;
    /// Sets the company's clock; whether the company exists.
    async fn set_clock(&self, company_id: i64, clock: Clock) -> Result<bool, StoreError>;
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub company_id: i64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    /// The SHA-256 of the user's API token ([`super::user::token_digest`]).
    pub token_digest: String,
    pub add_time: Timestamp,
}

/// A custom field to create.
#[derive(Debug, Clone)]
pub struct NewField {
    pub company_id: i64,
    pub kind: Kind,
    pub key: String,
    pub name: String,
    pub field_type: FieldType,
    pub add_visible_flag: bool,
    pub settings: FieldSettings,
    pub options: Vec<String>,
    pub user_id: i64,
    pub now: Timestamp,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

/// Changes to a field, applied atomically: all or nothing.
#[derive(Debug, Clone, Default)]
pub struct FieldChanges {
    pub name: Option<String>,
    pub add_visible_flag: Option<bool>,
    pub settings: Option<FieldSettings>,
    pub add_options: Vec<String>,
    pub rename_options: Vec<(i64, String)>,
    pub delete_options: Vec<i64>,
}

impl FieldChanges {
    /// Checked again inside the store's transaction (the domain checked before, but a
    /// concurrent change may have removed an option since): a conflict naming the first
    /// renamed or deleted option the field no longer has.
    pub fn check_options_exist(&self, field: &FieldDef) -> Result<(), StoreError> {
        let is_option = |oid: i64| field.options.iter().any(|o| o.id == oid);
        match self
            .rename_options
            .iter()
            .map(|(oid, _)| *oid)
            .chain(self.delete_options.iter().copied())
            .find(|oid| !is_option(*oid))
        {
            Some(bad) => Err(StoreError::Conflict(format!(
                "options: {bad} is not an option of the field {}",
                field.key
            ))),
            None => Ok(()),
        }
    }
}

/// Companies, users and the sessions their tokens open.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// The session of the active user whose token has this digest.
    async fn session_by_digest(&self, digest: &str) -> Result<Option<Arc<Session>>, StoreError>;
    async fn companies(&self) -> Result<Vec<Company>, StoreError>;
    async fn company(&self, id: i64) -> Result<Option<Company>, StoreError>;
    /// Creates a company and its admin user in one transaction; the admin's `company_id` is
    /// filled in by the store.
    async fn add_company(
        &self,
        company: NewCompany,
        admin: NewUser,
    ) -> Result<(Company, User), StoreError>;
    async fn set_campaigns(&self, company_id: i64, enabled: bool) -> Result<bool, StoreError>;
    async fn add_user(&self, user: NewUser) -> Result<User, StoreError>;
    /// Activates or deactivates a user; a deactivated user's token stops working at once.
    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<bool, StoreError>;
    /// Gives a user a new token (by its digest): the old one stops working at once.
    async fn set_token_digest(&self, user_id: i64, digest: &str) -> Result<bool, StoreError>;
    /// Notes that the user's token opened a session at `at`.
    async fn record_login(
        &self,
        company_id: i64,
        user_id: i64,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Sets where a company is and what it does.
    async fn set_company_profile(
        &self,
        company_id: i64,
        country: &str,
        industry: &str,
    ) -> Result<bool, StoreError>;
    async fn users(&self, company_id: i64) -> Result<Arc<[User]>, StoreError>;
    async fn user(&self, company_id: i64, id: i64) -> Result<Option<User>, StoreError>;
}

/// Fields of every kind, with their options (the labels among them).
#[async_trait]
pub trait FieldStore: Send + Sync {
    /// The company's active fields of a kind, built-in first, each with its active options.
    async fn fields(&self, company_id: i64, kind: Kind) -> Result<Arc<[FieldDef]>, StoreError>;
    async fn insert_field(&self, field: NewField) -> Result<FieldDef, StoreError>;
    /// Changes an active field of the company as `edit` decides on it (with its options);
    /// `None` when there is none of that kind with that id.
    async fn update_field(
        &self,
        company_id: i64,
        kind: Kind,
        id: i64,
        edit: Edit<FieldDef, FieldChanges>,
        by: Stamp,
    ) -> Result<Option<FieldDef>, StoreError>;
    /// Marks custom fields deleted; returns the ids deleted now.
    async fn delete_fields(
        &self,
        company_id: i64,
        kind: Kind,
        ids: &[i64],
        by: Stamp,
    ) -> Result<Vec<i64>, StoreError>;
}

#[async_trait]
pub trait PersonStore: Send + Sync {
    /// Inserts a person; its organization, if it has one, must still be active then.
    async fn insert_person(&self, person: NewPerson) -> Result<Person, StoreError>;
    /// Inserts many persons in one transaction (the importer's batches); returns their ids.
    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError>;
    /// A person by id, deleted or not.
    async fn person(&self, company_id: i64, id: i64) -> Result<Option<Person>, StoreError>;
    /// Non-deleted persons in the query's order and page (up to `query.limit`).
    async fn list_persons(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<Person>, StoreError>;
    /// The ids of [`list_persons`](Self::list_persons)' persons, in its order.
    async fn list_person_ids(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<i64>, StoreError>;
    /// Changes a non-deleted person as `edit` decides on it; `None` when there is none with
    /// that id. Changes that change nothing write nothing (`update_time` stays); an
    /// organization the person joins must still be active.
    async fn update_person(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Person, PersonChanges>,
        by: Stamp,
    ) -> Result<Option<Person>, StoreError>;
    /// Soft-deletes the non-deleted persons among `ids`; returns those deleted.
    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        by: Stamp,
    ) -> Result<Vec<i64>, StoreError>;
    /// In one transaction: applies to `into` what `edit` decides on both persons as they are
    /// there, gives it `from`'s followers, and deletes `from`. `None` when either is missing
    /// or deleted.
    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        edit: MergeEdit,
        by: Stamp,
    ) -> Result<Option<Person>, StoreError>;
    /// A person's field changes, newest first: at most `limit`, older than the change
    /// `before` if given.
    async fn person_changes(
        &self,
        company_id: i64,
        person_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PersonChange>, StoreError>;
    /// Non-deleted persons with an email equal (case-insensitively) to `email`: an index
    /// lookup.
    async fn persons_by_email(
        &self,
        company_id: i64,
        email: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError>;
    /// Non-deleted persons whose search text (lower-cased name, emails, phones) contains
    /// `needle`: a superset of the matches, which the domain then ranks exactly.
    async fn search_candidates(
        &self,
        company_id: i64,
        needle: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError>;
}

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    async fn insert_organization(&self, org: NewOrganization) -> Result<Organization, StoreError>;
    /// An organization by id, deleted or not.
    async fn organization(
        &self,
        company_id: i64,
        id: i64,
    ) -> Result<Option<Organization>, StoreError>;
    async fn organizations_by_ids(
        &self,
        company_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Organization>, StoreError>;
    async fn list_organizations(
        &self,
        company_id: i64,
        query: OrganizationQuery,
    ) -> Result<Vec<Organization>, StoreError>;
    /// Changes an active organization as `edit` decides on it; `None` when there is none.
    async fn update_organization(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Organization, OrganizationChanges>,
        by: Stamp,
    ) -> Result<Option<Organization>, StoreError>;
    /// Soft-deletes an active organization and detaches its persons, in one transaction.
    async fn delete_organization(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<bool, StoreError>;
    /// Active organizations whose lower-cased name or address contains `needle`.
    async fn search_organization_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Organization>, StoreError>;
}

/// Pipelines and their stages. A stage belongs to an active pipeline: adding one to, or
/// moving one into, a pipeline that is not (checked inside the write) is refused; a stage that
/// moves takes its deals along.
#[async_trait]
pub trait PipelineStore: Send + Sync {
    /// Adds a pipeline after the company's last one.
    async fn insert_pipeline(&self, pipeline: NewPipeline) -> Result<Pipeline, StoreError>;
    /// A pipeline by id, deleted or not.
    async fn pipeline(&self, company_id: i64, id: i64) -> Result<Option<Pipeline>, StoreError>;
    /// Active pipelines in the query's order and page.
    async fn list_pipelines(
        &self,
        company_id: i64,
        query: ListQuery<()>,
    ) -> Result<Vec<Pipeline>, StoreError>;
    /// `None` when there is no active pipeline with that id.
    async fn update_pipeline(
        &self,
        company_id: i64,
        id: i64,
        changes: PipelineChanges,
        by: Stamp,
    ) -> Result<Option<Pipeline>, StoreError>;
    /// Soft-deletes an active pipeline and its stages, if `decide` allows it on the number of
    /// (non-deleted) deals in it, counted inside the write; whether it was active.
    async fn delete_pipeline(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        by: Stamp,
    ) -> Result<bool, StoreError>;
    /// Adds a stage after the last one of its pipeline.
    async fn insert_stage(&self, stage: NewStage) -> Result<Stage, StoreError>;
    /// A stage by id, deleted or not.
    async fn stage(&self, company_id: i64, id: i64) -> Result<Option<Stage>, StoreError>;
    /// Active stages in the query's order and page.
    async fn list_stages(
        &self,
        company_id: i64,
        query: ListQuery<StageFilter>,
    ) -> Result<Vec<Stage>, StoreError>;
    /// `None` when there is no active stage with that id.
    async fn update_stage(
        &self,
        company_id: i64,
        id: i64,
        changes: StageChanges,
        by: Stamp,
    ) -> Result<Option<Stage>, StoreError>;
    /// Soft-deletes an active stage, if `decide` allows it on the number of (non-deleted) deals
    /// in it, counted inside the write; whether it was active.
    async fn delete_stage(
        &self,
        company_id: i64,
        id: i64,
        decide: Edit<i64, ()>,
        by: Stamp,
    ) -> Result<bool, StoreError>;
}

/// Deals.
#[async_trait]
pub trait DealStore: Send + Sync {
    /// Inserts a deal where its placement says (resolved here, on the stages as they are), for
    /// a person and organization still active then; its owner follows it.
    async fn insert_deal(&self, deal: NewDeal) -> Result<Deal, StoreError>;
    /// Inserts many deals in one transaction (the importer's batches); returns their ids.
    async fn insert_deals(&self, deals: Vec<NewDeal>) -> Result<Vec<i64>, StoreError>;
    /// A deal by id, deleted or not.
    async fn deal(&self, company_id: i64, id: i64) -> Result<Option<Deal>, StoreError>;
    /// Deals in the query's order and page.
    async fn list_deals(
        &self,
        company_id: i64,
        query: ListQuery<DealFilter>,
    ) -> Result<Vec<Deal>, StoreError>;
    /// Changes a non-deleted deal as `edit` decides on it; `None` when there is none. A new
    /// placement is resolved as for an insert, and moves `stage_change_time` when the stage
    /// changes.
    async fn update_deal(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Deal, DealChanges>,
        by: Stamp,
    ) -> Result<Option<Deal>, StoreError>;
    /// Soft-deletes a non-deleted deal; whether it was one.
    async fn delete_deal(&self, company_id: i64, id: i64, by: Stamp) -> Result<bool, StoreError>;
    /// Non-deleted deals whose search text (lower-cased title and custom values) contains
    /// `needle`: a superset of the matches, which the domain then ranks.
    async fn search_deal_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Deal>, StoreError>;
}

/// Activity types and activities.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// The company's activity types, deleted ones too, by `order_nr`.
    async fn activity_types(&self, company_id: i64) -> Result<Vec<ActivityType>, StoreError>;
    /// Adds a type after the last, its `key_string` the first of `key_base`, `key_base_2`, …
    /// no type of the company has (decided inside the write).
    async fn insert_activity_type(&self, t: NewActivityType) -> Result<ActivityType, StoreError>;
    /// `None` when there is no active type with that id.
    async fn update_activity_type(
        &self,
        company_id: i64,
        id: i64,
        changes: TypeDraft,
        by: Stamp,
    ) -> Result<Option<ActivityType>, StoreError>;
    /// Marks an active type deleted; the type as deleted, `None` when there is none.
    async fn delete_activity_type(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<Option<ActivityType>, StoreError>;
    /// Inserts an activity, its type active and the persons, organization and deal it names
    /// still active then (held until it commits).
    async fn insert_activity(&self, activity: NewActivity) -> Result<Activity, StoreError>;
    /// Inserts many activities in one transaction (the importer's batches).
    async fn insert_activities(&self, activities: Vec<NewActivity>)
    -> Result<Vec<i64>, StoreError>;
    /// An activity by id, deleted or not, if `viewer` may see it (`None`: anyone may).
    async fn activity(
        &self,
        company_id: i64,
        id: i64,
        viewer: Option<i64>,
    ) -> Result<Option<Activity>, StoreError>;
    /// Non-deleted activities in the query's order and page.
    async fn list_activities(
        &self,
        company_id: i64,
        query: ListQuery<ActivityFilter>,
    ) -> Result<Vec<Activity>, StoreError>;
    /// Changes a non-deleted activity to what `edit` decides on it; what it names anew must
    /// be active (a type, persons, an organization, a deal). `None` when there is none.
    async fn update_activity(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Activity, ActivityValues>,
        by: Stamp,
    ) -> Result<Option<Activity>, StoreError>;
    /// Soft-deletes a non-deleted activity; whether it was one.
    async fn delete_activity(
        &self,
        company_id: i64,
        id: i64,
        by: Stamp,
    ) -> Result<bool, StoreError>;
}

/// What persons, organizations and deals show of what is attached to them.
#[async_trait]
pub trait SummaryStore: Send + Sync {
    /// The summaries ([`Summary`]) of persons, organizations or deals, by id, the parts
    /// `parts` asks for, read in one statement; items with nothing attached are left out.
    async fn summaries(
        &self,
        company_id: i64,
        kind: Kind,
        ids: &[i64],
        parts: SummaryParts,
    ) -> Result<Vec<(i64, Summary)>, StoreError>;
}

/// Notes.
#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Inserts a note, the items it is attached to still active then.
    async fn insert_note(&self, note: NewNote) -> Result<Note, StoreError>;
    async fn insert_notes(&self, notes: Vec<NewNote>) -> Result<Vec<i64>, StoreError>;
    /// A note by id, deleted or not, if `viewer` may see it (`None`: anyone may).
    async fn note(
        &self,
        company_id: i64,
        id: i64,
        viewer: Option<i64>,
    ) -> Result<Option<Note>, StoreError>;
    async fn list_notes(
        &self,
        company_id: i64,
        query: ListQuery<NoteFilter>,
    ) -> Result<Vec<Note>, StoreError>;
    /// Changes a non-deleted note to what `edit` decides on it; `None` when there is none.
    async fn update_note(
        &self,
        company_id: i64,
        id: i64,
        edit: Edit<Note, NoteValues>,
        by: Stamp,
    ) -> Result<Option<Note>, StoreError>;
    /// Non-deleted notes `viewer` may see (`None`: all), attached to an item of `kind`, whose
    /// lower-cased content contains `needle`: a superset of the matches (markup included),
    /// which the domain checks on their text.
    async fn notes_containing(
        &self,
        company_id: i64,
        kind: Kind,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Note>, StoreError>;
    /// Deletes a non-deleted note; whether it was one.
    async fn delete_note(&self, company_id: i64, id: i64, by: Stamp) -> Result<bool, StoreError>;
}

/// Who follows persons, organizations and deals, and the history of it.
#[async_trait]
pub trait FollowerStore: Send + Sync {
    async fn followers(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<Follower>, StoreError>;
    /// `None` when the user already follows the item.
    async fn add_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        user_id: i64,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError>;
    /// `None` when there is no such follower.
    async fn remove_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        which: FollowerRef,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError>;
    async fn follower_changes(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<FollowerChange>, StoreError>;
}

/// Webhooks as their users manage them.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a webhook unless its user already has [`webhook::MAX_PER_USER`] (counted inside
    /// the write).
    async fn insert_webhook(&self, w: NewWebhook) -> Result<Webhook, StoreError>;
    /// The company's webhooks, those removed for failing too (with their `remove_reason`).
    async fn webhooks(&self, company_id: i64) -> Result<Vec<Webhook>, StoreError>;
    async fn webhook(&self, company_id: i64, id: i64) -> Result<Option<Webhook>, StoreError>;
    /// Deletes a webhook, its pending deliveries and its log; whether there was one.
    async fn delete_webhook(&self, company_id: i64, id: i64) -> Result<bool, StoreError>;
    /// The webhook's last `limit` delivery attempts, newest first.
    async fn webhook_attempts(
        &self,
        company_id: i64,
        webhook_id: i64,
        limit: i64,
    ) -> Result<Vec<Attempt>, StoreError>;
}

/// A delivery claimed for sending: its event and its webhook.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    pub event: StoredEvent,
    pub webhook: Webhook,
}

/// How a delivery went, and what follows it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery_id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    /// The attempt made; `None` when none was (the webhook's user may no longer see the
    /// object): the delivery is dropped.
    pub attempt: Option<Attempt>,
    /// When to try again; `None` when the delivery is done (delivered, or given up).
    pub retry_at_ms: Option<i64>,
}

/// The outbox, as the dispatcher works it: events written by changes in their own
/// transactions with a delivery for each webhook that wants them, and the attempts to send
/// those.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Makes up to `limit` of the oldest events into one delivery per webhook they name; how
    /// many events.
    async fn expand_events(&self, limit: i64) -> Result<usize, StoreError>;
    /// Leases up to `limit` deliveries due at `now_ms` until `lease_until_ms`, each the
    /// oldest left for its webhook and object (so one object's events arrive in order), of
    /// webhooks not removed. A lease that ran out (its instance died) is taken again.
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Records an attempt: the log, the webhook's delivery state as the ban and removal
    /// rules decide on it inside the write, and the delivery done or due again; an event whose
    /// last delivery is done is deleted.
    async fn finish_delivery(&self, outcome: Outcome) -> Result<(), StoreError>;
    /// Notified when a write stored an event.
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify>;
}

/// Everything the domain stores, behind one object for call sites that need several concerns.
#[async_trait]
pub trait Store:
    TenantStore
    + FieldStore
    + PersonStore
    + OrganizationStore
    + PipelineStore
    + DealStore
    + ActivityStore
    + NoteStore
    + SummaryStore
    + FollowerStore
    + WebhookStore
    + OutboxStore
    + ToolkitStore
    + 'static
{
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The identity of the data a read begun now would see, whoever wrote it, and of this
    /// process's caches of it: two equal versions mean identical data. `None` when the engine
    /// cannot tell cheaply.
    async fn version(&self) -> Result<Option<DataVersion>, StoreError> {
        Ok(None)
    }

    /// The store's own metrics in Prometheus' text format (none by default).
    fn render_metrics(&self, _out: &mut String) {}
}
