//! Notifications: a worker delivers the outbox rows that ingest wrote in the same
//! transaction as the event: emails over SMTP and signed webhooks, retried with backoff.
//! Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so with
//! several collector processes each notification goes out once.

pub mod chat;
pub mod email;
pub mod facts;
mod message;
pub mod monitor;
pub mod outreach;
pub mod webhook;

pub use message::Message;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use crate::alerts::rule::{Action, EmailGroup, EmailTo};
use crate::config::Config;
use crate::outbound::Outbound;
use crate::store::{About, Channel, NotificationContext, Store, now_ms};
use email::Mailer;
use facts::Facts;

/// Attempts before a notification is marked failed.
pub const MAX_ATTEMPTS: i64 = 12;
/// How long a claim holds a row.
const LEASE_MS: i64 = 120_000;
/// Deliveries under way at once.
const CONCURRENT_DELIVERIES: usize = 16;
/// Most rows claimed at a time.
const CLAIM_BATCH: usize = 10;
/// The longest a webhook may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl Message for Facts {
    fn subject(&self) -> String {
        Facts::subject(self)
    }
    fn plain_text(&self) -> String {
        email::plain_text(self)
    }
    fn html_body(&self) -> String {
        email::html_body(self)
    }
    fn payload(&self) -> serde_json::Value {
        webhook::payload(self)
    }
}

/// Where one notification goes.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    /// One email to these recipients.
    Email(&'a [String]),
    /// A POST to this webhook.
    Webhook(&'a crate::store::entities::webhook::Model),
}

/// Sends notifications: the SMTP transport (when `MAYDAY_SMTP_URL` is set) and the
/// outbound HTTP client, for the outbox worker and the settings page's test buttons.
#[derive(Debug, Clone)]
pub struct Sender {
    mailer: Option<Mailer>,
    outbound: Outbound,
}

impl Sender {
    /// The sender `config` describes.
    pub fn new(config: &Config) -> Result<Self, email::EmailError> {
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::new(url, &config.email_from)?),
            None => None,
        };
        Ok(Sender {
            mailer,
            outbound: Outbound::new(config.target_policy(), WEBHOOK_TIMEOUT),
        })
    }

    /// Posts a chat or paging alert about `facts` as `action` says.
    pub async fn post_chat(&self, action: &Action, facts: &Facts) -> Result<u16, String> {
        chat::post(&self.outbound, action, facts).await
    }

    /// Sends `message` to `destination` now; returns the receiving server's answer
    /// (`250 2.0.0 Ok: queued`, `HTTP 200`), or what went wrong.
    pub async fn send(
        &self,
        message: &dyn Message,
        destination: Destination<'_>,
    ) -> Result<String, String> {
        match destination {
            Destination::Email(recipients) => {
                let mailer = self
                    .mailer
                    .as_ref()
                    .ok_or_else(|| "MAYDAY_SMTP_URL is not set".to_owned())?;
                if recipients.is_empty() {
                    return Err("the project has no recipients".into());
                }
                mailer
                    .send(message, recipients)
                    .await
                    .map_err(|e| e.to_string())
            }
            Destination::Webhook(hook) => {
                webhook::post(&self.outbound, &hook.url, &hook.secret, message)
                    .await
                    .map(|status| format!("HTTP {status}"))
            }
        }
    }
}

/// Delivers the outbox.
#[derive(Debug, Clone)]
pub struct OutboxWorker {
    store: Store,
    sender: Sender,
    /// Deliveries under way, at most [`CONCURRENT_DELIVERIES`].
    slots: Arc<Semaphore>,
    wake: Arc<Notify>,
    base_url: String,
    poll: Duration,
    retry_base_ms: i64,
}

impl OutboxWorker {
    /// A worker for `config`; `wake` is notified when ingest queues notifications.
    pub fn new(
        config: &Config,
        store: Store,
        wake: Arc<Notify>,
    ) -> Result<Self, email::EmailError> {
        Ok(OutboxWorker {
            store,
            sender: Sender::new(config)?,
            slots: Arc::new(Semaphore::new(CONCURRENT_DELIVERIES)),
            wake,
            base_url: config.base_url(),
            poll: Duration::from_millis(config.notify_poll_ms.max(10)),
            retry_base_ms: i64::try_from(config.notify_retry_base_ms)
                .unwrap_or(5000)
                .max(1),
        })
    }

    /// Runs forever: claims due rows, delivers them, sleeps until woken or the poll
    /// interval passes.
    pub async fn run(self) {
        loop {
            let delivered = match self.run_once().await {
                Ok(count) => count,
                Err(error) => {
                    tracing::warn!(%error, "notification worker: storage error");
                    0
                }
            };
            if delivered == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.poll) => {}
                }
            }
        }
    }

    /// Claims due rows and starts delivering them, each in its own task (a slow
    /// webhook holds up only its own row, not other projects' notifications); returns
    /// how many rows it claimed. At most [`CONCURRENT_DELIVERIES`] are under way.
    pub async fn run_once(&self) -> Result<usize, crate::store::StoreError> {
        // Every slot busy: wait for one before claiming more.
        drop(self.slots.acquire().await);
        let free = self.slots.available_permits().clamp(1, CLAIM_BATCH);
        let rows = self
            .store
            .claim_notifications(free as u64, LEASE_MS)
            .await?;
        let count = rows.len();
        for row in rows {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let worker = self.clone();
            tokio::spawn(async move {
                if let Err(error) = worker.handle(row).await {
                    tracing::warn!(%error, "notification worker: storage error");
                }
                drop(slot);
            });
        }
        Ok(count)
    }

    /// Delivers one claimed row and records the outcome.
    async fn handle(
        &self,
        row: crate::store::entities::outbox::Model,
    ) -> Result<(), crate::store::StoreError> {
        let id = row.id;
        let attempts = row.attempts;
        let result = match self.store.notification_context(row).await {
            Ok(context) => self.deliver(&context).await,
            Err(error) => Err(error.to_string()),
        };
        match result {
            Ok(()) => self.store.mark_sent(id).await,
            Err(error) => {
                let retry_at =
                    (attempts < MAX_ATTEMPTS).then(|| now_ms() + self.backoff_ms(attempts));
                tracing::warn!(id, attempts, %error, "notification not delivered");
                self.store.mark_attempt_failed(id, &error, retry_at).await
            }
        }
    }

    fn backoff_ms(&self, attempts: i64) -> i64 {
        let exponent = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
        (self.retry_base_ms.saturating_mul(1 << exponent)).min(600_000)
    }

    async fn deliver(&self, context: &NotificationContext) -> Result<(), String> {
        let action: Option<Action> = match context.row.action.as_deref() {
            Some(json) => Some(
                serde_json::from_str(json)
                    .map_err(|e| format!("the alert rule's action no longer reads: {e}"))?,
            ),
            None => None,
        };
        if let Some(action) = action
            .as_ref()
            .filter(|a| !matches!(a, Action::Email { .. } | Action::Webhook))
        {
            let About::Issue { issue, event } = &context.about else {
                return Err("a chat alert must be about an issue".into());
            };
            let facts = Facts::gather(context, issue, event, &self.base_url);
            return self.sender.post_chat(action, &facts).await.map(|_| ());
        }
        let message: Box<dyn Message> = match &context.about {
            About::Issue { issue, event } => {
                Box::new(Facts::gather(context, issue, event, &self.base_url))
            }
            About::Outreach { message } => Box::new(outreach::Letter::new(
                &context.project,
                message,
                &self.base_url,
            )),
            About::Monitor { monitor, detail } => Box::new(monitor::MonitorFacts::gather(
                context,
                monitor.as_deref(),
                detail,
                &self.base_url,
            )?),
        };
        let assignee: Vec<String> = context.assignee.iter().cloned().collect();
        let destination = match (context.row.channel, &action) {
            // The assignee, else (an issue nobody is assigned to) the recipients.
            (
                Channel::Email,
                Some(Action::Email {
                    to: EmailTo::Group(EmailGroup::Assignee),
                }),
            ) if !assignee.is_empty() => Destination::Email(&assignee),
            (
                Channel::Email,
                Some(Action::Email {
                    to: EmailTo::List(list),
                }),
            ) => Destination::Email(list),
            (Channel::Email, _) => Destination::Email(&context.recipients),
            (Channel::Webhook, _) => Destination::Webhook(
                context
                    .webhook
                    .as_ref()
                    .ok_or_else(|| "the webhook was removed".to_owned())?,
            ),
            (channel, _) => {
                return Err(format!(
                    "a {} alert without its action",
                    crate::alerts::rule::channel_name(channel)
                ));
            }
        };
        self.sender
            .send(message.as_ref(), destination)
            .await
            .map(|_| ())
    }
}
