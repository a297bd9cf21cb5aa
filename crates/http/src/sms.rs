//! Sending SMS codes. A real gateway is a deployment's choice: it implements [`SmsSender`] and is put in
//! [`crate::AppState::sms`]. The default, [`LogSender`], sends nothing: it writes the message to the
//! log, and the store keeps the code, so the demo and tests can read it back.

/// Delivers a text message to a phone.
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `phone`; an error says why it could not.
    fn send(&self, phone: &str, text: &str) -> Result<(), String>;
}

/// Logs messages instead of sending them (demo and test mode).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl SmsSender for LogSender {
    fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        tracing::info!(phone, text, "SMS not sent (log sender)");
        Ok(())
    }
}
