//! A small time-bounded cache for what nearly every request reads and rarely changes: the
//! session a token opens, a company's users, a company's fields of each kind; and the one set of
//! rules for what each write makes stale.
//!
//! Writes made through this process invalidate the entries they change at once. Changes made
//! by another process on the same database (the `pipestack users …` commands while a server
//! runs, or another instance) are seen within [`TTL`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::{FieldDef, Kind, Session, User};

/// How long an entry may be served without being read again.
pub const TTL: Duration = Duration::from_secs(1);

/// The most entries a cache keeps before it drops the expired ones.
const MAX_ENTRIES: usize = 10_000;

pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Cache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (at, v) = entries.get(key)?;
        (at.elapsed() < TTL).then(|| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > MAX_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn forget(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// What a write changed, as far as the caches care.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A company's settings (seen through every session of it).
    Company,
    /// A company's users changed in what no session holds: one was added, or a login noted.
    Users { company_id: i64 },
    /// A user was activated, deactivated or given a new token.
    User,
    /// A company's fields (of any kind) or their options.
    Fields { company_id: i64 },
}

/// The caches of a store.
#[derive(Default)]
pub struct Caches {
    /// Sessions by token digest; only those that open one (a new token works at once).
    pub sessions: Cache<String, Arc<Session>>,
    pub users: Cache<i64, Arc<[User]>>,
    /// A company's fields, by kind.
    pub fields: Cache<(i64, Kind), Arc<[FieldDef]>>,
    /// Counts the invalidations: part of the store's data version, so that what was rendered
    /// from an entry before a write forgot it is never taken for what is rendered after.
    generation: AtomicU64,
}

impl Caches {
    /// How many invalidations there have been.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets what `change` made stale: the one set of invalidation rules.
    pub fn forget(&self, change: Change) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Change::Company => self.sessions.clear(),
            Change::Users { company_id } => self.users.forget(&company_id),
            Change::User => {
                self.sessions.clear();
                self.users.clear();
            }
            Change::Fields { company_id } => {
                for kind in Kind::ALL {
                    self.fields.forget(&(company_id, kind));
                }
            }
        }
    }
}
